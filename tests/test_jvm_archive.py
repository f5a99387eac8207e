"""The driver's class-data-sharing archive: recorded once, installed only when written whole, then mapped.

Runs the real ``java`` (``-version``: a JVM start and exit, a fraction of a second) with the
options the module gives, as Spark's launcher would pass them.
"""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

import pytest

from lakehouse import jvm_archive
from lakehouse.spark import spark_conf
from tests.conftest import make_settings


def _java(options: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["java", *shlex.split(options), *extra, "-version"], capture_output=True, text=True)


@pytest.fixture
def paths(tmp_path: Path) -> jvm_archive.ArchivePaths:
    return jvm_archive.archive_paths(make_settings(tmp_path, cache_dir=tmp_path / "cache"), ["spark-home", "a.jar"])


def _dead_pid() -> int:
    done = subprocess.Popen(["true"])
    done.wait()
    return done.pid


def test_the_first_start_records_the_archive_and_the_next_maps_it(paths: jvm_archive.ArchivePaths) -> None:
    recording = jvm_archive.driver_java_options(paths)
    assert f"-XX:ArchiveClassesAtExit={paths.recording}" in recording
    assert paths.claim.read_text() != ""
    assert _java(recording).returncode == 0
    assert jvm_archive.WRITTEN_MARK in paths.log.read_text()

    mapping = jvm_archive.driver_java_options(paths)
    assert mapping == f" -XX:SharedArchiveFile={paths.archive} {jvm_archive.QUIET}"
    assert paths.archive.stat().st_size > 0
    assert not paths.recording.exists() and not paths.log.exists() and not paths.claim.exists()
    # -Xshare:on makes the JVM refuse to start unless it can map the archive.
    assert _java(mapping, "-Xshare:on").returncode == 0


def test_a_recording_cut_short_is_thrown_away_never_mapped(paths: jvm_archive.ArchivePaths) -> None:
    paths.archive.parent.mkdir(parents=True)
    paths.claim.write_text(str(_dead_pid()))  # the recording JVM died while writing
    paths.recording.write_bytes(b"half an archive")
    paths.log.write_text("[info][cds,dynamic] Archiving hidden ...\n")

    options = jvm_archive.driver_java_options(paths)

    assert not paths.archive.exists()
    assert not paths.recording.exists()
    assert f"-XX:ArchiveClassesAtExit={paths.recording}" in options  # this start records it anew


def test_while_another_process_records_a_start_neither_maps_nor_records(paths: jvm_archive.ArchivePaths) -> None:
    paths.archive.parent.mkdir(parents=True)
    with subprocess.Popen(["sleep", "30"]) as recorder:
        try:
            paths.claim.write_text(str(recorder.pid))
            assert jvm_archive.driver_java_options(paths) == ""
            jvm_archive.note_recorder(paths, 1)  # not this process's claim: left as it is
            assert paths.claim.read_text() == str(recorder.pid)
        finally:
            recorder.kill()


def test_another_jar_set_gets_another_archive(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, cache_dir=tmp_path / "cache")
    one = jvm_archive.archive_paths(settings, ["spark-home", "delta.jar"])
    assert jvm_archive.archive_paths(settings, ["spark-home", "delta.jar"]) == one
    assert jvm_archive.archive_paths(settings, ["spark-home", "delta.jar", "kafka.jar"]).archive != one.archive


def test_the_driver_collector_follows_the_setting(tmp_path: Path) -> None:
    default = spark_conf(make_settings(tmp_path))["spark.driver.extraJavaOptions"]
    assert "-XX:+UseParallelGC" in default and "G1" not in default
    g1 = spark_conf(make_settings(tmp_path, spark_gc="g1"))["spark.driver.extraJavaOptions"]
    assert "-XX:+UseG1GC" in g1 and "Parallel" not in g1
