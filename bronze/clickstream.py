"""bronze.clickstream: the Kafka topic's messages, one row per message, appended by bounded extracts.

Declared only when ``kafka_enabled``. Each run extracts from the offsets the table's last
commit recorded to the end offsets fetched before reading (see :mod:`ingestion.kafka`);
the new end offsets and Delta's idempotent-write id (its version derived from the start
offsets) go into the same commit as the rows, so a crash anywhere before the commit re-reads
the same range next time, and a retried or concurrent extract planned from the same offsets
commits nothing: each offset lands exactly once.
"""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from expectations import bronze_suites
from ingestion import kafka
from ingestion.readers import bronze_schema
from ingestion.sources import Source
from lakehouse import delta_io, ops
from lakehouse.model import TableOutput
from lakehouse.runner import BuildContext
from lakehouse.settings import Settings
from lakehouse.storage import table_path

NAME = "clickstream"
TABLE_ID = f"bronze.{NAME}"


def extract(context: BuildContext) -> TableOutput:
    """Plan the range, read it with Spark's Kafka source and hand the rows and offsets to the runner."""
    settings = context.settings
    topic = settings.kafka_topic
    path = context.path(TABLE_ID)
    # Offsets first, from the table itself: what bronze holds is the only truth of what was extracted.
    previous = kafka.all_committed_offsets(settings, TABLE_ID)
    committed = kafka.topic_offsets(previous, topic)
    plan = kafka.plan_extract(topic, committed, kafka.fetch_watermarks(settings, topic))
    exists = delta_io.table_version(settings, path) is not None
    if not plan.pending and exists:
        return TableOutput(data=None, note=f"no new Kafka messages on {topic!r}")
    source = kafka.clickstream_source(topic)
    # An empty topic still creates the table on the first run, so silver.events need not wait for it.
    batch = kafka.read_range(context.spark, settings, plan, source) if plan.pending else _empty_batch(context, source)
    batch = batch.select(
        "*",
        F.lit(source.name).alias("_source"),
        F.lit(context.started_at).cast("timestamp").alias("_ingest_ts"),
        F.lit(context.run_id).alias("_ingest_batch_id"),
    )
    records = [
        # ingest_log speaks in files: one "file" per partition range; size = offsets in the range.
        ops.IngestRecord(
            source.name,
            NAME,
            f"kafka://{topic}/{r.partition}",
            r.messages,
            f"offsets:{r.start}-{r.end}",
            context.run_id,
            context.run_id,
            context.started_at,
        )
        for r in plan.pending
    ]
    return TableOutput(
        data=context.cache(batch),
        ingest_records=records,
        note=f"Kafka {topic!r} offsets {plan.describe()}",
        commit_metadata=kafka.offsets_metadata(previous, plan),
        # The empty batch that creates the table carries no id: its version (the start offsets) is
        # the one the first real extract, starting at the same offsets, needs.
        txn=(kafka.txn_app_id(topic), plan.txn_version) if plan.pending else None,
    )


def lost_messages(settings: Settings) -> dict[int, tuple[int, int]]:
    """Offsets ``[from, to)`` per partition that Kafka deleted before bronze.clickstream extracted them."""
    committed = kafka.topic_offsets(kafka.all_committed_offsets(settings, TABLE_ID), settings.kafka_topic)
    return kafka.lost_ranges(committed, kafka.fetch_watermarks(settings, settings.kafka_topic))


def skip_lost_messages(spark: SparkSession, settings: Settings) -> dict[int, tuple[int, int]]:
    """Accept that unextracted messages are gone: move each affected partition to its earliest available offset.

    Without this an extract that found a gap fails forever, since Kafka will never return
    those offsets. The move is a commit without data to bronze.clickstream (a table property
    naming the gap) whose user metadata holds the new offsets and the skipped ranges, so the
    decision is recorded where the offsets live. Returns the skipped ``[from, to)`` per partition.
    """
    topic = settings.kafka_topic
    path = table_path(settings, "bronze", NAME)
    previous = kafka.all_committed_offsets(settings, TABLE_ID)
    committed = kafka.topic_offsets(previous, topic)
    lost = kafka.lost_ranges(committed, kafka.fetch_watermarks(settings, topic))
    if not lost:
        return {}
    moved = {**committed, **{p: end for p, (_start, end) in lost.items()}}
    metadata = {
        kafka.OFFSETS_KEY: {**previous, topic: {str(p): o for p, o in moved.items()}},
        "skipped_lost_offsets": {topic: {str(p): list(r) for p, r in lost.items()}},
    }
    skipped = ", ".join(f"{p}:{start}-{end}" for p, (start, end) in lost.items())
    delta_io.set_properties(spark, path, {f"lakehouse.kafka.{topic}.skipped": skipped}, user_metadata=metadata)
    version = delta_io.table_version(settings, path)
    if version is not None:  # mirrored like every commit's state, so log cleanup cannot lose the move
        record = ops.state_record(TABLE_ID, version, metadata, f"kafka-skip-lost-{version}")
        ops.append_records(spark, settings, "table_state", [record])
    return lost


def _empty_batch(context: BuildContext, source: Source) -> DataFrame:
    """A zero-row frame with exactly the columns :func:`ingestion.kafka.read_range` returns."""
    kafka_fields = [
        T.StructField("_kafka_topic", T.StringType()),
        T.StructField("_kafka_partition", T.IntegerType()),
        T.StructField("_kafka_offset", T.LongType()),
        T.StructField("_kafka_key", T.BinaryType()),
        T.StructField("_kafka_timestamp", T.TimestampType()),
        T.StructField("_kafka_value", T.BinaryType()),
    ]
    schema = T.StructType([*bronze_schema(source).fields, *kafka_fields])
    return context.spark.createDataFrame([], schema)


def suite() -> list:
    """The structure checks of bronze.clickstream: the event contract's columns plus Kafka's own."""
    return bronze_suites.structure([*kafka.CLICKSTREAM_COLUMNS, *kafka.KAFKA_COLUMNS])
