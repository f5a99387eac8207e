"""Build function shared by every file-fed bronze table: ingest landing files not seen before.

A file counts as seen when ``ops.ingest_log`` holds its path with the same
checksum; a changed file is ingested again as a new version of itself.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from ingestion.landing import landing_store
from ingestion.readers import bronze_schema, read_source
from ingestion.sources import Source
from lakehouse import ops
from lakehouse.delta_io import table_exists
from lakehouse.runner import BuildContext, TableOutput
from lakehouse.settings import Settings


def has_new_files(settings: Settings, table_id: str, sources: list[Source]) -> bool:
    """Whether a landing file of ``sources`` is not in the ingest log yet, or the table does not exist.

    Listing and the ingest log need no Spark: a rerun with nothing new is decided before a JVM starts.
    """
    if not table_exists(settings, table_id):
        return True
    store = landing_store(settings)
    for source in sources:
        seen = ops.ingested_files(settings, source.name)
        if any((f.path, f.checksum) not in seen for f in store.list(source.glob)):
            return True
    return False


def ingest_new_files(context: BuildContext, sources: list[Source]) -> TableOutput:
    store = landing_store(context.settings)
    frames: list[DataFrame] = []
    records: list[ops.IngestRecord] = []
    for source in sources:
        seen = ops.ingested_files(context.settings, source.name)
        new_files = [f for f in store.list(source.glob) if (f.path, f.checksum) not in seen]
        if not new_files:
            continue
        frame = read_source(context.spark, source, new_files, store).withColumn("_source", F.lit(source.name))
        frames.append(frame)
        records.extend(
            ops.IngestRecord(
                source.name,
                context.table.name,
                f.path,
                f.size,
                f.checksum,
                context.run_id,
                context.run_id,
                context.started_at,
            )
            for f in new_files
        )
    if not frames:
        if context.exists(context.table.id):
            return TableOutput(data=None, note="no new landing files")
        # No file has landed yet: create the table empty, so downstream tables build (with
        # zeros) instead of waiting for a source this deployment may never have.
        batch = context.spark.createDataFrame([], bronze_schema(sources[0])).select(
            "*",
            F.lit(None).cast("string").alias("_source"),
            F.lit(None).cast("timestamp").alias("_ingest_ts"),
            F.lit(None).cast("string").alias("_ingest_batch_id"),
        )
        return TableOutput(data=batch, note="no landing files yet: created empty")
    batch = frames[0]
    for frame in frames[1:]:
        batch = batch.unionByName(frame)
    batch = batch.withColumn("_ingest_ts", F.lit(context.started_at).cast("timestamp")).withColumn(
        "_ingest_batch_id", F.lit(context.run_id)
    )
    return TableOutput(data=context.cache(batch), ingest_records=records, note=f"{len(records)} new file(s)")
