"""Kafka: bounded batch extracts of a topic into bronze, and a publisher for the demo and tests.

An extract reads each partition from the offset the last bronze commit recorded up to the
end offset fetched (with confluent-kafka) *before* Spark reads anything. Fixing the range
first makes a run bounded and deterministic: a retry, a cache eviction or a re-run of the
same plan reads exactly the same messages, however fast producers keep writing.

Exactly once, without a second store: the end offsets are written into the user metadata
of the very Delta commit that appends the rows, so data and position can never disagree
(a crash before the commit leaves both unchanged; after it, both moved). On top, the write
carries Delta's idempotent-write id: ``txnAppId`` names the topic and ``txnVersion`` is the
sum of the range's *start* offsets. Every extract starts where the last commit ended, so the
versions of successive commits strictly grow, and Delta skips a write whose version is not
above the table's. Two extracts planned from the same committed offsets (a retried task, or
a concurrent run) therefore carry the same version whatever their end offsets: the second
one to commit is a no-op, or, if both transactions are open at once, loses with Delta's
``ConcurrentTransactionException``. An extract planned from offsets that another commit has
moved past carries a lower version and is skipped too; the messages after that commit are
read by the next extract, from the new offsets. (A version from the *end* offsets would let
a second, overlapping extract that saw more messages commit the shared range again.)

Messages deleted by retention before they were extracted cannot be recovered from Kafka;
the extract stops with :class:`OffsetsLostError` instead of silently skipping them.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from pyspark.errors import AnalysisException
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from ingestion.readers import CORRUPT, INGEST_FILE, INGEST_SEQ, conform, parse_json_lines
from ingestion.sources import Source
from lakehouse import ops
from lakehouse.contract import EVENT_COLUMNS
from lakehouse.settings import Settings

log = logging.getLogger(__name__)

OFFSETS_KEY = "kafka_offsets"
# The events contract of METRICS.md: a message value is one event, as one line of events/*.jsonl.
CLICKSTREAM_COLUMNS = EVENT_COLUMNS
# Where each message came from, kept byte for byte next to the parsed columns (key and value stay binary:
# casting would lose bytes that are not UTF-8).
KAFKA_COLUMNS = ("_kafka_topic", "_kafka_partition", "_kafka_offset", "_kafka_key", "_kafka_timestamp", "_kafka_value")
METADATA_TIMEOUT = 15.0


class KafkaSourceError(RuntimeError):
    """Kafka could not be read or written (unreachable broker, missing topic, undelivered messages)."""


class OffsetsLostError(KafkaSourceError):
    """Messages the lakehouse has not extracted yet were deleted by the topic's retention."""


@dataclass(frozen=True)
class PartitionRange:
    """Offsets ``[start, end)`` of one partition that an extract reads."""

    partition: int
    start: int
    end: int

    @property
    def messages(self) -> int:
        return self.end - self.start


@dataclass(frozen=True)
class ExtractPlan:
    """The bounded range of one extract, for every partition of the topic (empty ranges included)."""

    topic: str
    ranges: tuple[PartitionRange, ...]

    @property
    def end_offsets(self) -> dict[int, int]:
        return {r.partition: r.end for r in self.ranges}

    @property
    def pending(self) -> tuple[PartitionRange, ...]:
        """Partitions with something to read."""
        return tuple(r for r in self.ranges if r.messages > 0)

    @property
    def messages(self) -> int:
        """Offsets in the range (messages, minus any gaps compaction or transaction markers leave)."""
        return sum(r.messages for r in self.ranges)

    @property
    def start_offsets(self) -> dict[int, int]:
        return {r.partition: r.start for r in self.ranges}

    @property
    def txn_version(self) -> int:
        """Delta ``txnVersion``: the sum of the start offsets, i.e. of the offsets the last commit recorded.

        Derived from where the range starts, not where it ends, so every extract planned from the
        same committed offsets gets the same version and only the first commits. It strictly grows
        from one committed extract to the next, since each starts at the previous one's ends and a
        committed range holds at least one message.
        """
        return sum(self.start_offsets.values())

    def describe(self) -> str:
        return ", ".join(f"{r.partition}:{r.start}-{r.end}" for r in self.pending) or "nothing new"


# --------------------------------------------------------------------------- offsets


def _reason(exc: Exception) -> str:
    """The human part of a confluent-kafka exception (its first argument is a KafkaError)."""
    error = exc.args[0] if exc.args else exc
    return error.str() if hasattr(error, "str") else str(error)


def _client_config(settings: Settings) -> dict[str, Any]:
    """Client settings shared by the consumer, producer and admin client."""
    client_log = logging.getLogger(f"{__name__}.client")
    # librdkafka logs every failed connection attempt, dozens while a broker is down; the caller reports the
    # failure in one message, so its lines only show when the root logger is verbose (`lakehouse --debug`).
    client_log.setLevel(logging.NOTSET if logging.getLogger().isEnabledFor(logging.INFO) else logging.CRITICAL)
    return {"bootstrap.servers": settings.kafka_bootstrap, "logger": client_log}


def fetch_watermarks(settings: Settings, topic: str, timeout: float = METADATA_TIMEOUT) -> dict[int, tuple[int, int]]:
    """(earliest available, end) offsets of every partition of ``topic``, asked of the broker now."""
    from confluent_kafka import Consumer, KafkaException, TopicPartition

    consumer = Consumer(
        {
            **_client_config(settings),
            # Only metadata and watermarks are asked: no subscription, nothing is ever committed.
            "group.id": "lakehouse-offsets",
            "enable.auto.commit": False,
        }
    )
    try:
        try:
            metadata = consumer.list_topics(topic, timeout=timeout)
        except KafkaException as exc:
            raise KafkaSourceError(
                f"cannot reach Kafka at {settings.kafka_bootstrap} ({_reason(exc)}); start it (`lakehouse up`) "
                "or fix LAKEHOUSE_KAFKA_BOOTSTRAP"
            ) from exc
        described = metadata.topics.get(topic)
        if described is None or described.error is not None or not described.partitions:
            raise KafkaSourceError(
                f"Kafka topic {topic!r} does not exist on {settings.kafka_bootstrap}; publish to it "
                "(`lakehouse produce`) or fix LAKEHOUSE_KAFKA_TOPIC"
            )
        watermarks = {}
        for partition in sorted(described.partitions):
            try:
                low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=timeout)
            except KafkaException as exc:
                raise KafkaSourceError(
                    f"cannot read the offsets of Kafka topic {topic!r} partition {partition} "
                    f"at {settings.kafka_bootstrap}: {_reason(exc)}"
                ) from exc
            watermarks[partition] = (int(low), int(high))
        return watermarks
    finally:
        consumer.close()


def all_committed_offsets(settings: Settings, table_id: str) -> dict[str, dict[str, int]]:
    """Every topic's end offsets recorded by the newest commit of the bronze table (empty before the first).

    All topics, so a commit for one topic carries the others forward. When log cleanup has
    removed every commit holding them, the table's state mirror (``ops.table_state``) has them.
    """
    recorded = ops.committed_state(settings, table_id, OFFSETS_KEY) or {}
    return dict(recorded.get(OFFSETS_KEY, {}))


def topic_offsets(recorded: Mapping[str, Mapping[str, int]], topic: str) -> dict[int, int]:
    """One topic's recorded offsets by partition number."""
    return {int(p): int(o) for p, o in recorded.get(topic, {}).items()}


def lost_ranges(committed: Mapping[int, int], watermarks: Mapping[int, tuple[int, int]]) -> dict[int, tuple[int, int]]:
    """Per partition, the offsets ``[committed, earliest available)`` that were deleted before being extracted."""
    return {
        p: (committed[p], low)
        for p, (low, _high) in sorted(watermarks.items())
        if p in committed and committed[p] < low
    }


def plan_extract(topic: str, committed: Mapping[int, int], watermarks: Mapping[int, tuple[int, int]]) -> ExtractPlan:
    """The range to read: from the committed offset (or the earliest available) to the end offset.

    Raises :class:`OffsetsLostError` when retention deleted messages past the committed
    offset, and :class:`KafkaSourceError` when the topic is behind what was committed
    (it was deleted and re-created, or points at another cluster).
    """
    lost = lost_ranges(committed, watermarks)
    if lost:
        detail = "; ".join(f"partition {p}: offsets {c}..{e - 1} ({e - c} messages)" for p, (c, e) in lost.items())
        raise OffsetsLostError(
            f"Kafka topic {topic!r} deleted messages before they were extracted ({detail}), by retention or "
            "a records deletion; Kafka cannot return them. Nothing was written. Re-publish them if another "
            "copy exists, then accept the gap with `lakehouse kafka-skip-lost`; extract more often than the "
            "topic's retention.ms"
        )
    behind = [
        (p, committed[p], high)
        for p, (_low, high) in sorted(watermarks.items())
        if p in committed and committed[p] > high
    ]
    missing = sorted(set(committed) - set(watermarks))
    if behind or missing:
        detail = "; ".join(f"partition {p}: committed {c}, end {h}" for p, c, h in behind)
        if missing:
            detail += f"{'; ' if detail else ''}partitions {missing} are gone"
        raise KafkaSourceError(
            f"Kafka topic {topic!r} is behind the offsets bronze already holds ({detail}): was it deleted and "
            "re-created? Nothing was written; point LAKEHOUSE_KAFKA_TOPIC at the right topic"
        )
    ranges = tuple(PartitionRange(p, committed.get(p, low), high) for p, (low, high) in sorted(watermarks.items()))
    return ExtractPlan(topic, ranges)


def offsets_metadata(previous: Mapping[str, Mapping[str, int]], plan: ExtractPlan) -> dict[str, Any]:
    """User metadata of the extract's commit: every topic's offsets, this topic's moved to the plan's end."""
    offsets = {topic: dict(values) for topic, values in previous.items()}
    offsets[plan.topic] = {str(p): end for p, end in plan.end_offsets.items()}
    return {OFFSETS_KEY: offsets}


def txn_app_id(topic: str) -> str:
    """Delta ``txnAppId`` of the extracts of ``topic``.

    Not ``kafka:<topic>``: that id carried the sum of *end* offsets, which equals the next
    extract's start sum and would make it look already written in a table committed before.
    """
    return f"kafka-from:{topic}"


# --------------------------------------------------------------------------- reading


def clickstream_source(topic: str) -> Source:
    """The clickstream as a source: the events contract's columns, JSON values, no mapping."""
    return Source(
        name=f"kafka:{topic}",
        table="clickstream",
        format="jsonl",
        glob=f"kafka://{topic}",
        columns=list(CLICKSTREAM_COLUMNS),
    )


def read_range(spark: SparkSession, settings: Settings, plan: ExtractPlan, source: Source) -> DataFrame:
    """Spark's Kafka source over exactly ``plan.pending``, parsed into the source's bronze columns.

    Nothing is dropped: a value that is not a JSON object, and an empty or null value,
    keeps its text in ``_corrupt_record`` (silver quarantines it as ``malformed_json``).
    """
    pending = plan.pending
    if not pending:
        raise ValueError("read_range needs a plan with messages to read")
    topic = plan.topic
    try:
        frame = (
            spark.read.format("kafka")
            .option("kafka.bootstrap.servers", settings.kafka_bootstrap)
            # Only the partitions with new messages; each is read in [start, end), never past the plan.
            .option("assign", json.dumps({topic: [r.partition for r in pending]}))
            .option("startingOffsets", json.dumps({topic: {str(r.partition): r.start for r in pending}}))
            .option("endingOffsets", json.dumps({topic: {str(r.partition): r.end for r in pending}}))
            # A message deleted between planning and reading must fail the run, not vanish.
            .option("failOnDataLoss", "true")
            .load()
        )
    except AnalysisException as exc:
        if "kafka" in str(exc).lower() and "data source" in str(exc).lower():
            raise KafkaSourceError(
                "this Spark session has no Kafka source: start it with LAKEHOUSE_KAFKA_ENABLED=true or "
                "create_spark_session(settings, with_kafka=True) (a process's first session decides its jars)"
            ) from exc
        raise
    text = "_kafka_value_text"
    raw = frame.select(
        F.col("topic").alias("_kafka_topic"),
        F.col("partition").alias("_kafka_partition"),
        F.col("offset").alias("_kafka_offset"),
        F.col("key").alias("_kafka_key"),
        F.col("timestamp").alias("_kafka_timestamp"),
        F.col("value").alias("_kafka_value"),
        F.col("value").cast("string").alias(text),
        F.concat(F.lit(f"kafka://{topic}/"), F.col("partition").cast("string")).alias(INGEST_FILE),
        F.col("offset").alias(INGEST_SEQ),
    )
    parsed = parse_json_lines(raw, text, source.read_columns, keep=(INGEST_FILE, INGEST_SEQ, *KAFKA_COLUMNS, text))
    # The file reader skips blank lines; a message is a record of its own, so a blank one is kept as corrupt.
    blank = F.coalesce(F.trim(F.col(text)), F.lit("")) == ""
    parsed = parsed.withColumn(CORRUPT, F.when(blank, F.coalesce(F.col(text), F.lit(""))).otherwise(F.col(CORRUPT)))
    return conform(parsed, source, keep=KAFKA_COLUMNS)


# --------------------------------------------------------------------------- publishing


def _as_bytes(value: bytes | str | None) -> bytes | None:
    return value.encode("utf-8") if isinstance(value, str) else value


def ensure_topic(settings: Settings, topic: str, partitions: int = 1, config: Mapping[str, str] | None = None) -> bool:
    """Create ``topic`` unless it exists; True when it was created (replication 1: a local broker)."""
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient(_client_config(settings))
    try:
        if topic in admin.list_topics(timeout=METADATA_TIMEOUT).topics:
            return False
        new = NewTopic(topic, num_partitions=partitions, replication_factor=1, config=dict(config or {}))
        admin.create_topics([new])[topic].result(timeout=METADATA_TIMEOUT)
    except KafkaException as exc:
        raise KafkaSourceError(
            f"cannot create Kafka topic {topic!r} at {settings.kafka_bootstrap}: {_reason(exc)}"
        ) from exc
    return True


def publish_messages(
    settings: Settings,
    topic: str,
    messages: Iterable[tuple[bytes | str | None, bytes | str | None]],
    timeout: float = 60.0,
) -> int:
    """Publish (key, value) pairs as they are, with an idempotent producer; returns how many were delivered.

    Raw on purpose: tests publish values that are not JSON to prove they end in quarantine.
    """
    from confluent_kafka import KafkaError, Producer

    failures: list[KafkaError] = []

    def delivered(err: KafkaError | None, _msg: object) -> None:
        if err is not None:
            failures.append(err)

    producer = Producer(
        {
            **_client_config(settings),
            # Retries cannot duplicate or reorder messages within a partition.
            "enable.idempotence": True,
            "acks": "all",
            "linger.ms": 20,
            "message.timeout.ms": int(timeout * 1000),
        }
    )
    count = 0
    for key, value in messages:
        while True:
            try:
                producer.produce(topic, key=_as_bytes(key), value=_as_bytes(value), on_delivery=delivered)
                break
            except BufferError:  # local queue full: let deliveries drain, then retry this message
                producer.poll(0.5)
        count += 1
        producer.poll(0)
    undelivered = producer.flush(timeout + 5)
    if failures or undelivered:
        first = f": {failures[0].str()}" if failures else ""
        raise KafkaSourceError(
            f"{len(failures) + undelivered} of {count} messages were not delivered to Kafka topic {topic!r} "
            f"at {settings.kafka_bootstrap}{first}"
        )
    return count


def event_messages(events: Iterable[dict[str, Any]]) -> Iterator[tuple[str | None, str]]:
    """Clickstream events as (key, value): keyed by user_id so a user's events stay ordered in one partition."""
    for event in events:
        user = event.get("user_id")
        # The same serialisation as the landing JSON Lines files, so both paths carry identical text.
        yield (None if user is None else str(user)), json.dumps(event, ensure_ascii=False)
