"""One writer per lakehouse: the lease on a local root, the CLI's refusal, and two real runs at once.

The unit tests use :class:`Lease` instances directly where two holders are needed: within one
process :func:`hold_lease` is re-entrant (the CLI's hold and its flow's are one), so only
separate instances (or processes) exclude each other. TTLs are fractions of a second so
expiry, takeover and the heartbeat are exercised in real time without slowing the suite.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import re
import subprocess
import threading
import time
from pathlib import Path

import pytest
from deltalake import DeltaTable
from pyspark.sql import SparkSession
from typer.testing import CliRunner

from cli.main import EXIT_LEASE_HELD, app
from devtools.generate import generate_landing
from lakehouse.lease import (
    LEASE_NAME,
    Lease,
    LeaseHeld,
    LeaseLost,
    LeaseRecord,
    LocalLeaseStore,
    hold_lease,
)
from lakehouse.runner import Pipeline
from lakehouse.settings import Settings
from lakehouse.storage import reader_uri, table_path
from tests.conftest import make_settings
from tests.services.lakehouse_runs import LAKEHOUSE_BIN, child_env

TTL = 0.4  # seconds; the heartbeat renews every TTL / 3


def _lease(settings: Settings, purpose: str, ttl: float = TTL) -> Lease:
    return Lease(LocalLeaseStore(settings.root), purpose, ttl)


def _document(settings: Settings) -> dict:
    return json.loads((Path(settings.root) / LEASE_NAME).read_text())


def test_acquire_writes_the_holder_and_a_second_holder_is_refused_in_one_line(settings: Settings) -> None:
    with hold_lease(settings, purpose="run") as held:
        doc = _document(settings)
        assert (doc["purpose"], doc["pid"], doc["released"]) == ("run", os.getpid(), False)
        assert doc["expires_at"] > doc["started_at"]

        with pytest.raises(LeaseHeld) as refused:
            _lease(settings, "backfill").acquire()

    message = str(refused.value)
    assert "\n" not in message
    assert message.startswith(f"lakehouse {Path(settings.root).resolve()} is in use by run (pid {os.getpid()} on ")
    assert re.search(r" since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$", message), message
    assert refused.value.holder.token == held.token


def test_release_frees_the_lease_at_once(settings: Settings) -> None:
    with hold_lease(settings, purpose="vacuum"):
        pass
    assert _document(settings)["released"] is True
    other = _lease(settings, "run")
    assert other.try_acquire() is None  # no waiting for the TTL
    other.release()


def test_nested_holds_in_one_process_share_the_lease(settings: Settings) -> None:
    with hold_lease(settings, purpose="run") as outer:
        with hold_lease(settings, purpose="medallion_pipeline", wait=True) as inner:
            assert inner is outer
        assert _document(settings)["released"] is False  # the inner exit did not release it
    assert _document(settings)["released"] is True


def test_a_crashed_holders_lease_expires_and_is_taken_over(settings: Settings) -> None:
    crashed = _lease(settings, "run")
    assert crashed.try_acquire() is None  # held, but no heartbeat: a process that died
    taker = _lease(settings, "backfill")
    assert taker.try_acquire() is not None  # still within its TTL

    time.sleep(TTL * 1.2)
    assert taker.try_acquire() is None
    assert _document(settings)["purpose"] == "backfill"

    assert crashed.renew() is False and crashed.lost  # it finds someone else's version
    with pytest.raises(LeaseLost):
        crashed.release()
    assert _document(settings)["token"] == taker.token  # the loser's release did not free the new holder
    taker.release()


def _race(start: threading.Barrier, lease: Lease, outcomes: dict[int, LeaseRecord | None], index: int) -> None:
    start.wait()  # all racers read the expired lease, then write, as close together as threads get
    outcomes[index] = lease.try_acquire()


def test_racing_for_an_expired_lease_exactly_one_wins(settings: Settings) -> None:
    for _round in range(3):
        crashed = _lease(settings, "run")
        assert crashed.try_acquire() is None
        time.sleep(TTL * 1.2)
        racers = [_lease(settings, f"racer-{i}") for i in range(6)]
        start = threading.Barrier(len(racers))
        outcomes: dict[int, LeaseRecord | None] = {}
        threads = [threading.Thread(target=_race, args=(start, lease, outcomes, i)) for i, lease in enumerate(racers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        winners = [i for i, holder in outcomes.items() if holder is None]
        assert len(winners) == 1, outcomes
        assert _document(settings)["token"] == racers[winners[0]].token
        assert all(holder.token == racers[winners[0]].token for holder in outcomes.values() if holder)
        racers[winners[0]].release()


def test_the_heartbeat_keeps_a_held_lease_alive_past_its_ttl(settings: Settings) -> None:
    holder = _lease(settings, "run")
    holder.acquire()
    try:
        time.sleep(TTL * 3)
        assert _lease(settings, "backfill").try_acquire() is not None
        assert _document(settings)["seq"] >= 3  # renewed about every TTL / 3
    finally:
        holder.release()
    assert not holder.lost


def test_wait_polls_until_the_holder_releases(settings: Settings) -> None:
    holder = _lease(settings, "optimize", ttl=5.0)
    holder.acquire()
    threading.Timer(0.5, holder.release).start()
    waited = time.monotonic()
    with hold_lease(settings, purpose="run", wait=True, timeout=10):
        assert _document(settings)["purpose"] == "run"
    assert 0.4 < time.monotonic() - waited < 5


def test_wait_gives_up_after_its_timeout_naming_the_holder(settings: Settings) -> None:
    holder = _lease(settings, "optimize", ttl=5.0)
    holder.acquire()
    try:
        with (
            pytest.raises(LeaseHeld, match=r"in use by optimize .*\(waited \d+ s\)$"),
            hold_lease(settings, purpose="run", wait=True, timeout=0.3),
        ):
            pass
    finally:
        holder.release()


def test_a_waiter_trusts_its_own_clock_over_a_crashed_holders_clock(settings: Settings) -> None:
    """A holder whose clock ran an hour ahead wrote an expiry an hour away; one TTL of silence frees it."""
    ahead = Lease(LocalLeaseStore(settings.root), "run", TTL, clock=lambda: time.time() + 3600)
    assert ahead.try_acquire() is None  # and then it crashed
    started = time.monotonic()
    with hold_lease(settings.model_copy(update={"lease_ttl_seconds": TTL}), purpose="backfill", wait=True, timeout=5):
        assert _document(settings)["purpose"] == "backfill"
    assert time.monotonic() - started < 3


@pytest.mark.parametrize(
    "args",
    [["run"], ["demo"], ["backfill", "--from", "2026-10-01", "--to", "2026-10-02"], ["optimize"], ["vacuum"]],
    ids=lambda args: args[0],
)
def test_every_writing_command_refuses_a_held_lakehouse_with_one_line(tmp_path: Path, args: list[str]) -> None:
    settings = make_settings(tmp_path)
    holder = _lease(settings, "maintenance", ttl=30.0)
    holder.acquire()
    env = {"LAKEHOUSE_ROOT": settings.root, "LAKEHOUSE_ENV_FILE": str(tmp_path / "no.env")}
    try:
        result = CliRunner().invoke(app, args, env=env)
    finally:
        holder.release()
    assert result.exit_code == EXIT_LEASE_HELD, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: lakehouse ") and "is in use by maintenance (pid" in lines[0]
    assert lines[0].endswith("; rerun with --wait to wait for it")


# --- real `lakehouse run` processes on one root -------------------------------------------------------------------

RUN_ARGS = ["run", "--no-prefect", "--table", "bronze.orders"]  # one small bronze table: the doubling risk, fast
RUN_TIMEOUT = 600


def _csv_rows(files: list[Path]) -> int:
    total = 0
    for path in files:
        with path.open(newline="") as handle:
            total += sum(1 for _ in csv.reader(handle)) - 1  # minus the header
    return total


def _bronze_orders(settings: Settings) -> int:
    return DeltaTable(reader_uri(table_path(settings, "bronze", "orders"))).to_pyarrow_dataset().count_rows()


def _ingested_files(settings: Settings) -> list[str]:
    log = DeltaTable(reader_uri(table_path(settings, "ops", "ingest_log"))).to_pyarrow_table().to_pylist()
    return sorted(row["file"] for row in log)


class _Run:
    """One ``lakehouse`` child with its output in files (no pipes to fill up)."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], cwd: Path) -> None:
        self.out, self.err = cwd / f"{name}.out", cwd / f"{name}.err"
        with self.out.open("wb") as out, self.err.open("wb") as err:
            self.proc = subprocess.Popen(
                [str(LAKEHOUSE_BIN), *args], env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=out, stderr=err
            )

    def finish(self) -> int:
        try:
            return self.proc.wait(timeout=RUN_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()

    @property
    def stdout(self) -> str:
        return self.out.read_text(errors="replace")

    @property
    def stderr(self) -> str:
        return self.err.read_text(errors="replace")

    def __str__(self) -> str:
        return f"pid {self.proc.pid} exit {self.proc.returncode}\n{self.stdout[-1500:]}\n{self.stderr[-3000:]}"


def _wait_for_holder(settings: Settings, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            doc = _document(settings)
        except (FileNotFoundError, ValueError):  # not written yet
            doc = None
        if doc and not doc["released"]:
            return doc
        time.sleep(0.1)
    raise AssertionError(f"no run took the lease within {timeout} s")


def test_two_runs_at_once_one_runs_the_other_exits_75_and_bronze_is_not_doubled(
    spark: SparkSession, tmp_path: Path
) -> None:
    """The issue's scenario: a new day landed, two ``lakehouse run`` start together on one root.

    Then, while the winner still works on that day, two ``run --wait`` start: without the lease
    they would ingest the same file again; with it they wait, find nothing new and succeed.
    """
    settings = make_settings(tmp_path)
    landing = Path(settings.landing)
    generate_landing(landing, days=2, users=10, seed=1, gzip_every=0)
    day_one, day_two = sorted((landing / "orders").glob("*.csv"))
    held_back = tmp_path / day_two.name
    day_two.rename(held_back)
    # The small lakehouse, built in-process on the shared session (no run records or reports: not needed here).
    assert Pipeline(settings, spark).run_table("bronze.orders").status == "written"
    assert _bronze_orders(settings) == _csv_rows([day_one])
    env = child_env(tmp_path, {"LAKEHOUSE_ROOT": settings.root, "LAKEHOUSE_LANDING": settings.landing})
    env["LAKEHOUSE_LANDING_SETTLE_SECONDS"] = "0"  # a file landed a moment ago counts at once

    held_back.rename(day_two)  # land one new day
    racers = [_Run(f"run{i}", RUN_ARGS, env, tmp_path) for i in range(2)]
    holder = _wait_for_holder(settings)
    waiters = [_Run(f"wait{i}", [*RUN_ARGS, "--wait"], env, tmp_path) for i in range(2)]
    codes = [run.finish() for run in racers]
    waited = [run.finish() for run in waiters]
    details = "\n".join(str(run) for run in [*racers, *waiters])

    assert sorted(codes) == [0, EXIT_LEASE_HELD], details
    winner = racers[codes.index(0)]
    refused = racers[codes.index(EXIT_LEASE_HELD)]
    assert holder["pid"] == winner.proc.pid
    assert "Traceback" not in refused.stderr
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1, details
    assert re.fullmatch(
        rf"error: lakehouse \S+ is in use by run \(pid {winner.proc.pid} on \S+\) since [\d-]+ [\d:]+ UTC"
        "; rerun with --wait to wait for it",
        lines[0],
    ), lines[0]

    assert waited == [0, 0], details
    for run in waiters:  # each started while the winner held the lease, waited, then had nothing to do
        assert run.stderr.startswith("waiting: lakehouse "), details
        assert "nothing new" in run.stdout, details

    assert _bronze_orders(settings) == _csv_rows([day_one, day_two])  # what one clean run ingests
    ingested = _ingested_files(settings)
    assert ingested == sorted({f"orders/{day_one.name}", f"orders/{day_two.name}"}), ingested


def test_the_backfill_flow_takes_the_lease_itself(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """A backfill a Prefect worker starts (no CLI around it) waits for the holder, then gives up."""
    from flows.backfill import backfill

    monkeypatch.setenv("LAKEHOUSE_ROOT", settings.root)
    monkeypatch.setenv("LAKEHOUSE_LEASE_WAIT_TIMEOUT_SECONDS", "1")
    other = _lease(settings, "run", ttl=60)
    other.acquire()
    try:
        with pytest.raises(LeaseHeld, match="is in use by run"):
            backfill.fn(dt.date(2026, 10, 1), dt.date(2026, 10, 2))
    finally:
        other.release()
    assert not (Path(settings.root) / "silver").exists()  # nothing was built
