"""A class-data-sharing archive for the driver JVM, so each Spark start maps its classes instead of loading them.

Starting Spark's JVM loads, parses and verifies some fifteen thousand classes from jars, about
two of the five seconds a local session takes to start here. The JDK can record the classes a
run loaded into an archive when its JVM exits (``-XX:ArchiveClassesAtExit``, dynamic
class-data sharing) and map that archive at later starts (``-XX:SharedArchiveFile``).

One archive per JDK, Spark installation and jar set lives in the cache folder. The first
session without one records it; only one process records at a time (a claim file), and the
recording becomes the archive only once the JVM's own log says it was written whole: a
truncated archive would crash the JVM that maps it. A JVM that cannot use an archive (another
class path, another JDK build) starts without it, as before.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from lakehouse.settings import Settings

# What the JVM logs (``-Xlog:cds+dynamic=info``) once it has written the archive and closed the file.
WRITTEN_MARK = "Written dynamic archive"
QUIET = "-Xlog:cds=off -Xlog:cds+dynamic=off"


@dataclass(frozen=True)
class ArchivePaths:
    archive: Path  # the finished archive later starts map
    recording: Path  # where the recording JVM writes it at exit
    log: Path  # the recording JVM's archive log (says when the recording is whole)
    claim: Path  # the pid of the process recording it


def archive_paths(settings: Settings, classpath: Sequence[str]) -> ArchivePaths:
    """The archive's files for this JDK and class path (Spark's home, the jars): another of either, another archive.

    The JDK is named by its ``java`` binary's real path, size and time, so an upgraded JDK
    records a new archive instead of silently rejecting the old one at every start.
    """
    java = os.path.realpath(shutil.which("java") or "java")
    with contextlib.suppress(OSError):
        stat = os.stat(java)
        java = f"{java} {stat.st_size} {stat.st_mtime_ns}"
    identity = "\n".join([java, *classpath])
    stem = settings.cache_dir / "jvm" / f"driver-{hashlib.sha256(identity.encode()).hexdigest()[:16]}"
    return ArchivePaths(
        archive=stem.with_suffix(".jsa"),
        recording=stem.with_suffix(".recording.jsa"),
        log=stem.with_suffix(".recording.log"),
        claim=stem.with_suffix(".claim"),
    )


def driver_java_options(paths: ArchivePaths) -> str:
    """The driver JVM's options: map the archive, or record it if nobody else is; empty when neither.

    Never raises for a file problem: the archive only saves start-up time, so without a
    writable cache folder Spark starts the way it always did.
    """
    try:
        paths.archive.parent.mkdir(parents=True, exist_ok=True)
        _finish_recording(paths)
        if paths.archive.is_file():
            return f" -XX:SharedArchiveFile={paths.archive} {QUIET}"
        if _claim(paths):
            return f" -XX:ArchiveClassesAtExit={paths.recording} -Xlog:cds=off -Xlog:cds+dynamic=info:file={paths.log}"
    except OSError:
        pass
    return ""


def note_recorder(paths: ArchivePaths, jvm_pid: int) -> None:
    """Name the JVM that records the archive in the claim: the recording ends when that JVM exits."""
    with contextlib.suppress(OSError):
        if _claimant(paths) == os.getpid():
            paths.claim.write_text(str(jvm_pid), encoding="utf-8")


def _finish_recording(paths: ArchivePaths) -> None:
    """Install a recording its JVM has written whole; clear one whose writer died before that."""
    if not paths.claim.exists():
        return
    if _written_whole(paths.log) and paths.recording.is_file():
        os.replace(paths.recording, paths.archive)
        _clear(paths)
        return
    claimant = _claimant(paths)
    if claimant is None or not _alive(claimant):
        _clear(paths)  # killed while starting or while writing: the partial file must never be mapped


def _claim(paths: ArchivePaths) -> bool:
    try:
        descriptor = os.open(paths.claim, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        return False
    with os.fdopen(descriptor, "w", encoding="utf-8") as claim:
        claim.write(str(os.getpid()))
    return True


def _claimant(paths: ArchivePaths) -> int | None:
    try:
        return int(paths.claim.read_text(encoding="utf-8").strip())
    except (OSError, ValueError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's live process
    return True


def _written_whole(log: Path) -> bool:
    try:
        with log.open(encoding="utf-8", errors="replace") as lines:
            return any(WRITTEN_MARK in line for line in lines)
    except OSError:
        return False


def _clear(paths: ArchivePaths) -> None:
    for path in (paths.recording, paths.log, paths.claim):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
