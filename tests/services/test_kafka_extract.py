"""The Kafka clickstream extract against a real broker: bounded, incremental, exactly once, loud on loss.

Every test uses its own topic and lakehouse folder on the session's broker (``kafka_broker``)
and the shared in-process Spark session, which carries the Kafka source. The crash test runs
the extract in a child process and SIGKILLs it while Spark is writing, because only a real
kill shows that nothing between reading and the Delta commit leaves a trace.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from deltalake import DeltaTable
from pyspark.sql import SparkSession
from typer.testing import CliRunner

from devtools.generate import iter_clickstream
from devtools.services import ServiceStatus
from ingestion import kafka
from ingestion.kafka import ExtractPlan, KafkaSourceError, OffsetsLostError, PartitionRange
from lakehouse import delta_io
from lakehouse.model import TableResult
from lakehouse.runner import Pipeline
from lakehouse.settings import Settings
from lakehouse.storage import table_path
from tests.conftest import make_settings

TABLE = "bronze.clickstream"
EVENTS = list(iter_clickstream(days=1, users=10, seed=3))  # 314 events


def _topic() -> str:
    return f"clickstream-test-{uuid.uuid4().hex[:8]}"


def _settings(tmp_path: Path, broker: ServiceStatus, topic: str) -> Settings:
    return make_settings(tmp_path, kafka_enabled=True, kafka_topic=topic, kafka_bootstrap=broker.url)


def _extract(spark: SparkSession, settings: Settings) -> TableResult:
    return Pipeline(settings, spark).run_table(TABLE)


def _bronze_path(settings: Settings) -> str:
    return table_path(settings, "bronze", "clickstream")


def _offsets(spark: SparkSession, settings: Settings) -> list[tuple[int, int]]:
    rows = spark.read.format("delta").load(_bronze_path(settings)).select("_kafka_partition", "_kafka_offset")
    return sorted((r[0], r[1]) for r in rows.collect())


def _expected_offsets(settings: Settings) -> list[tuple[int, int]]:
    """Every offset the topic holds now, per partition."""
    watermarks = kafka.fetch_watermarks(settings, settings.kafka_topic)
    return sorted((p, o) for p, (low, high) in watermarks.items() for o in range(low, high))


# --------------------------------------------------------------------------- planning (no broker)


def test_plan_starts_at_the_committed_offset_or_the_earliest_available() -> None:
    plan = kafka.plan_extract("t", {0: 5}, {0: (0, 9), 1: (3, 7)})
    assert plan.ranges == (PartitionRange(0, 5, 9), PartitionRange(1, 3, 7))
    # The idempotent-write version comes from where the range starts: the offsets the last commit recorded.
    assert plan.messages == 8 and plan.txn_version == 5 + 3
    assert kafka.offsets_metadata({"other": {"0": 4}}, plan) == {
        "kafka_offsets": {"other": {"0": 4}, "t": {"0": 9, "1": 7}}
    }
    assert ExtractPlan("t", (PartitionRange(0, 9, 9),)).pending == ()


def test_plan_refuses_lost_and_rewound_offsets() -> None:
    with pytest.raises(OffsetsLostError, match=r"partition 1: offsets 2\.\.5 \(4 messages\)"):
        kafka.plan_extract("t", {0: 3, 1: 2}, {0: (0, 9), 1: (6, 9)})
    with pytest.raises(KafkaSourceError, match="re-created"):
        kafka.plan_extract("t", {0: 30}, {0: (0, 9)})


# --------------------------------------------------------------------------- real broker


@pytest.mark.services
def test_extract_is_bounded_incremental_and_idempotent(
    kafka_broker: ServiceStatus, spark: SparkSession, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    topic = _topic()
    settings = _settings(tmp_path, kafka_broker, topic)
    path = _bronze_path(settings)
    assert kafka.ensure_topic(settings, topic, partitions=3)
    n, m = 200, len(EVENTS) - 200

    kafka.publish_messages(settings, topic, kafka.event_messages(EVENTS[:n]))
    first = _extract(spark, settings)
    assert first.status == "written" and first.delta_version == 0
    assert _offsets(spark, settings) == _expected_offsets(settings)
    assert len(_offsets(spark, settings)) == n

    kafka.publish_messages(settings, topic, kafka.event_messages(EVENTS[n:]))
    second = _extract(spark, settings)
    assert second.status == "written" and second.delta_version == 1
    offsets = _offsets(spark, settings)
    assert len(offsets) == n + m == len(set(offsets))
    assert offsets == _expected_offsets(settings)

    # Offsets and the idempotent-write id live in the very commit that added the rows.
    ends = {p: high for p, (_low, high) in kafka.fetch_watermarks(settings, topic).items()}
    metadata = json.loads(DeltaTable(path).history(1)[0]["userMetadata"])
    assert metadata["kafka_offsets"] == {topic: {str(p): end for p, end in ends.items()}}
    # The second extract started at the first one's ends: n offsets in all.
    assert DeltaTable(path).transaction_version(kafka.txn_app_id(topic)) == n

    again = _extract(spark, settings)
    assert again.status == "skipped" and again.delta_version == 1

    # A second writer planned from the same offsets (a retry, or a concurrent run) commits nothing.
    stale = kafka.all_committed_offsets(settings, TABLE)
    kafka.publish_messages(settings, topic, [("u-late", json.dumps({**EVENTS[0], "event_id": "e-late"}))])
    assert _extract(spark, settings).delta_version == 2
    with _planned_from(monkeypatch, stale):
        _extract(spark, settings)  # the runner's own build and write path
    assert delta_io.table_version(settings, path) == 2
    assert len(_offsets(spark, settings)) == n + m + 1


@contextlib.contextmanager
def _planned_from(monkeypatch: pytest.MonkeyPatch, offsets: dict[str, dict[str, int]]) -> Iterator[None]:
    """Extracts plan from ``offsets``, as a retried task or a run that read the table earlier would."""
    with monkeypatch.context() as patch:
        patch.setattr(kafka, "all_committed_offsets", lambda *_args: offsets)
        yield


def _is_concurrent_conflict(exc: BaseException) -> bool:
    return "ConcurrentTransaction" in f"{type(exc).__name__} {exc}"


@pytest.mark.services
def test_overlapping_and_concurrent_extracts_write_each_offset_once(
    kafka_broker: ServiceStatus, spark: SparkSession, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    topic = _topic()
    settings = _settings(tmp_path, kafka_broker, topic)
    path = _bronze_path(settings)
    kafka.ensure_topic(settings, topic, partitions=2)
    kafka.publish_messages(settings, topic, kafka.event_messages(EVENTS[:100]))
    assert _extract(spark, settings).delta_version == 0
    before = kafka.all_committed_offsets(settings, TABLE)
    kafka.publish_messages(settings, topic, kafka.event_messages(EVENTS[100:200]))
    assert _extract(spark, settings).delta_version == 1

    # A retry of that extract, planned from the offsets before it committed, sees 50 more messages:
    # its range overlaps the committed one and goes further. It must not write the shared range again
    # (a version from the end offsets would have let it commit 100..249, doubling 100..199).
    kafka.publish_messages(settings, topic, kafka.event_messages(EVENTS[200:250]))
    with _planned_from(monkeypatch, before):
        _extract(spark, settings)
    assert delta_io.table_version(settings, path) == 1
    assert len(_offsets(spark, settings)) == 200

    # Two extracts at once from the same committed offsets, the second seeing more messages than the first.
    kafka.publish_messages(settings, topic, kafka.event_messages(EVENTS[250:280]))
    real_fetch = kafka.fetch_watermarks
    first_planned, both_planned = threading.Event(), threading.Barrier(2, timeout=120)
    order: list[int] = []
    lock = threading.Lock()

    def planned_together(*args: object, **kwargs: object) -> dict[int, tuple[int, int]]:
        with lock:
            index = len(order)
            order.append(index)
        if index == 0:
            marks = real_fetch(*args, **kwargs)  # type: ignore[arg-type]
            first_planned.set()
        else:
            assert first_planned.wait(120)
            kafka.publish_messages(settings, topic, kafka.event_messages(EVENTS[280:]))
            marks = real_fetch(*args, **kwargs)  # type: ignore[arg-type]
        both_planned.wait()  # both read the committed offsets before either writes
        return marks

    outcomes: list[TableResult | BaseException] = []

    def extract_in_thread() -> None:
        try:
            outcomes.append(_extract(spark, settings))
        except Exception as exc:  # the loser of a concurrent commit raises; checked below
            outcomes.append(exc)

    with monkeypatch.context() as patch:
        patch.setattr(kafka, "fetch_watermarks", planned_together)
        threads = [threading.Thread(target=extract_in_thread) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)
    assert len(outcomes) == 2, outcomes
    errors = [o for o in outcomes if isinstance(o, BaseException)]
    assert all(_is_concurrent_conflict(e) for e in errors), errors
    assert delta_io.table_version(settings, path) == 2, "exactly one of the two extracts commits"

    # Whatever the loser had seen beyond the winner's range, the next extract picks it up, once.
    _extract(spark, settings)
    offsets = _offsets(spark, settings)
    assert len(offsets) == len(EVENTS) == len(set(offsets))
    assert offsets == _expected_offsets(settings)


CRASHING_EXTRACT = textwrap.dedent(
    """
    # Runs the bronze.clickstream extract, stalling inside Spark's write job so the parent can kill it there.
    import os
    import sys
    import time
    from pathlib import Path

    from lakehouse import delta_io
    from lakehouse.runner import Pipeline
    from lakehouse.settings import load_settings
    from lakehouse.spark import create_spark_session

    marker = Path(sys.argv[1])
    real_append = delta_io.append


    def stalled_append(df, path, **kwargs):
        def stall(batches):
            marker.write_text(str(os.getpid()))
            time.sleep(600)
            yield from batches

        return real_append(df.mapInArrow(stall, df.schema), path, **kwargs)


    delta_io.append = stalled_append
    settings = load_settings()
    Pipeline(settings, create_spark_session(settings)).run_table("bronze.clickstream")
    print("committed: the kill came too late")
    """
)


def _child_env(tmp_path: Path, settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LAKEHOUSE_", "SPARK_"))}
    return env | {
        "LAKEHOUSE_ENV_FILE": str(tmp_path / "no.env"),
        "LAKEHOUSE_ROOT": settings.root,
        "LAKEHOUSE_LANDING": settings.landing,
        "LAKEHOUSE_CACHE_DIR": str(settings.cache_dir),
        "LAKEHOUSE_KAFKA_ENABLED": "true",
        "LAKEHOUSE_KAFKA_TOPIC": settings.kafka_topic,
        "LAKEHOUSE_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "LAKEHOUSE_SHUFFLE_PARTITIONS": "1",
        "LAKEHOUSE_SPARK_DRIVER_MEMORY": "1g",
        "GX_ANALYTICS_ENABLED": "false",
        "PYTHONUNBUFFERED": "1",
    }


@pytest.mark.services
def test_an_extract_killed_before_its_commit_is_redone_exactly_once(
    kafka_broker: ServiceStatus, spark: SparkSession, tmp_path: Path
) -> None:
    topic = _topic()
    settings = _settings(tmp_path, kafka_broker, topic)
    path = _bronze_path(settings)
    kafka.ensure_topic(settings, topic, partitions=2)
    n = 150
    kafka.publish_messages(settings, topic, kafka.event_messages(EVENTS[:n]))
    assert _extract(spark, settings).delta_version == 0
    kafka.publish_messages(settings, topic, kafka.event_messages(EVENTS[n:]))

    # A script file, not `python -c`: pyspark's Connect import exits a process whose __main__ has no file.
    # Its own folder, because the script's folder goes first on sys.path and tmp_path/lakehouse (the data)
    # would shadow the lakehouse package.
    child_dir = tmp_path / "child"
    child_dir.mkdir()
    script = child_dir / "crashing_extract.py"
    script.write_text(CRASHING_EXTRACT)
    marker = child_dir / "write-job-started"
    log = child_dir / "child.log"
    with log.open("wb") as out:
        child = subprocess.Popen(
            [sys.executable, str(script), str(marker)],
            env=_child_env(tmp_path, settings),
            cwd=child_dir,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the kill takes the JVM and Python workers too
        )
    try:
        deadline = time.monotonic() + 300
        while not marker.exists():
            assert child.poll() is None, f"the extract exited before its write job:\n{log.read_text()[-3000:]}"
            assert time.monotonic() < deadline, f"the write job never started:\n{log.read_text()[-3000:]}"
            time.sleep(0.2)
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
        child.wait(timeout=60)
    assert child.returncode == -signal.SIGKILL
    assert delta_io.table_version(settings, path) == 0, "the killed extract must not have committed"
    assert len(_offsets(spark, settings)) == n

    rerun = _extract(spark, settings)
    assert rerun.status == "written" and rerun.delta_version == 1
    offsets = _offsets(spark, settings)
    assert len(offsets) == len(EVENTS) == len(set(offsets))
    assert offsets == _expected_offsets(settings)


@pytest.mark.services
def test_a_message_that_is_not_json_ends_in_quarantine(
    kafka_broker: ServiceStatus, spark: SparkSession, tmp_path: Path
) -> None:
    topic = _topic()
    settings = _settings(tmp_path, kafka_broker, topic)
    # Events 0..9 land as a file, 5..29 arrive on Kafka: 5..9 come both ways and must collapse.
    events_dir = Path(settings.landing) / "events"
    events_dir.mkdir(parents=True)
    (events_dir / "2026-10-01.jsonl").write_text("".join(json.dumps(e) + "\n" for e in EVENTS[:10]))
    kafka.ensure_topic(settings, topic)
    kafka.publish_messages(
        settings,
        topic,
        [*kafka.event_messages(EVENTS[5:30]), ("u-bad", b"this is not json {"), ("u-empty", b"")],
    )

    report = Pipeline(settings, spark).run(["bronze.events", TABLE, "silver.events"])
    assert report.ok, report.failed
    silver = spark.read.format("delta").load(table_path(settings, "silver", "events"))
    assert sorted(r.event_id for r in silver.select("event_id").collect()) == sorted(e["event_id"] for e in EVENTS[:30])
    quarantine = spark.read.format("delta").load(table_path(settings, "quarantine", "events")).collect()
    assert sorted((r._rule, r._ingest_file, r._ingest_seq) for r in quarantine) == [
        ("malformed_json", f"kafka://{topic}/0", 25),
        ("malformed_json", f"kafka://{topic}/0", 26),
    ]
    assert "this is not json {" in next(r._record for r in quarantine if r._ingest_seq == 25)


@pytest.mark.services
def test_offsets_lost_to_retention_fail_with_one_clear_line(
    kafka_broker: ServiceStatus, spark: SparkSession, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from confluent_kafka import TopicPartition
    from confluent_kafka.admin import AdminClient

    topic = _topic()
    settings = _settings(tmp_path, kafka_broker, topic)
    kafka.ensure_topic(settings, topic)
    kafka.publish_messages(settings, topic, kafka.event_messages(EVENTS[:10]))
    assert _extract(spark, settings).delta_version == 0
    kafka.publish_messages(settings, topic, kafka.event_messages(EVENTS[10:20]))
    # What retention does, made deterministic: delete everything before offset 15.
    admin = AdminClient({"bootstrap.servers": settings.kafka_bootstrap})
    for future in admin.delete_records([TopicPartition(topic, 0, 15)]).values():
        future.result(timeout=30)

    with pytest.raises(OffsetsLostError, match=r"partition 0: offsets 10\.\.14 \(5 messages\)"):
        _extract(spark, settings)
    assert delta_io.table_version(settings, _bronze_path(settings)) == 0

    from cli.main import app

    for key, value in _child_env(tmp_path, settings).items():
        if key.startswith("LAKEHOUSE_"):
            monkeypatch.setenv(key, value)
    result = CliRunner().invoke(app, ["run", "--no-prefect", "--table", TABLE])
    assert result.exit_code == 1, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "deleted messages before they were extracted" in errors[0], result.output
    assert "Traceback" not in result.output

    # Accepting the gap is an explicit, recorded decision; extracts then resume after it.
    skipped = CliRunner().invoke(app, ["kafka-skip-lost", "--yes"])
    assert skipped.exit_code == 0, skipped.output
    assert "partition 0 offsets 10..14" in skipped.output
    metadata = json.loads(DeltaTable(_bronze_path(settings)).history(1)[0]["userMetadata"])
    assert metadata["skipped_lost_offsets"] == {topic: {"0": [10, 15]}}
    assert _extract(spark, settings).status == "written"
    assert _offsets(spark, settings) == [(0, o) for o in [*range(10), *range(15, 20)]]


@pytest.mark.services
def test_produce_publishes_the_generated_clickstream(
    kafka_broker: ServiceStatus, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cli.main import app

    topic = _topic()
    settings = _settings(tmp_path, kafka_broker, topic)
    monkeypatch.setenv("LAKEHOUSE_ENV_FILE", str(tmp_path / "no.env"))
    monkeypatch.setenv("LAKEHOUSE_KAFKA_BOOTSTRAP", settings.kafka_bootstrap)
    args = ["produce", "--days", "1", "--users", "10", "--seed", "3", "--topic", topic, "--partitions", "2"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert f"published {len(EVENTS):,} events to new topic {topic!r}" in result.output
    watermarks = kafka.fetch_watermarks(settings, topic)
    assert len(watermarks) == 2
    assert sum(high for _low, high in watermarks.values()) == len(EVENTS)
