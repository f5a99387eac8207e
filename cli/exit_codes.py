"""Exit codes of the ``lakehouse`` command, in one place so scripts and CI can rely on them.

Kept out of ``cli.main`` so the optional command modules (``cli.quality``...) can use
them without importing the main CLI module, which imports them.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """What a ``lakehouse`` process's exit status means."""

    OK = 0
    # Any error that is not one of the outcomes below: a bad setting, an unreachable service...
    ERROR = 1
    # A critical quality check failed: ``run`` wrote nothing downstream of it; ``quality`` reports one.
    GATE_FAILED = 2
    # The run succeeded, but landing files were rejected (not ingested); the summary lists them
    # and ``ops.rejected_files`` keeps them. Not an error: every other file and table is current.
    REJECTED_FILES = 3
    # Another run or maintenance command holds the lakehouse's writer lease (sysexits EX_TEMPFAIL:
    # try again later, or pass --wait).
    LEASE_HELD = 75
