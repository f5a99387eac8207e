"""Build function shared by every file-fed bronze table: ingest landing files not seen before.

A file counts as seen when ``ops.ingest_log`` holds its path with the same checksum; a
changed file is ingested again as a new version of itself. A file that cannot be read as
its source declares is rejected alone (``ops.rejected_files``, with a reason) and the rest
of the batch is ingested; a rejected file counts as seen too, so the same bytes are not
tried again every run, while a corrected file (new checksum) is picked up by the next run.
"""

from __future__ import annotations

import datetime as dt
import logging

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from ingestion.landing import LandingFile, landing_store
from ingestion.readers import Rejection, bronze_schema, read_files
from ingestion.sources import Source
from lakehouse import ops
from lakehouse.delta_io import table_exists
from lakehouse.model import TableOutput
from lakehouse.runner import BuildContext
from lakehouse.settings import Settings

log = logging.getLogger(__name__)


def _seen(settings: Settings, source: Source) -> set[tuple[str, str]]:
    """(path, checksum) of the source's files already ingested or already rejected."""
    return ops.ingested_files(settings, source.name, source.table) | ops.rejected_files(settings, source.name)


def has_new_files(settings: Settings, table_id: str, sources: list[Source]) -> bool:
    """Whether a landing file of ``sources`` is neither ingested nor rejected yet, or the table does not exist.

    Listing and the ops tables need no Spark: a rerun with nothing new (an unchanged rejected
    file included) is decided before a JVM starts.
    """
    store = landing_store(settings)
    store.check()  # a missing landing folder fails here, before Spark starts
    if not table_exists(settings, table_id):
        return True
    for source in sources:
        seen = _seen(settings, source)
        if any((f.path, f.checksum) not in seen for f in store.list(source.glob)):
            return True
    return False


def _rejected_records(context: BuildContext, source: Source, rejected: list[Rejection]) -> list[ops.RejectedFileRecord]:
    at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    return [
        ops.RejectedFileRecord(
            source.name, r.file.path, r.file.size, r.file.checksum, r.reason, r.detail, context.run_id, at
        )
        for r in rejected
    ]


def _ingest_records(context: BuildContext, source: Source, files: list[LandingFile]) -> list[ops.IngestRecord]:
    return [
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
        for f in files
    ]


def _note(ingested: int, rejected: int, skipped: int) -> str:
    parts = [f"{ingested} new file(s)"]
    if rejected:
        parts.append(f"{rejected} rejected (ops.rejected_files)")
    if skipped:
        parts.append(f"{skipped} rejected before and unchanged: not retried")
    return ", ".join(parts)


def ingest_new_files(context: BuildContext, sources: list[Source]) -> TableOutput:
    """Read every source's new files into one bronze batch; record the files it rejected.

    Rejections are written to ``ops.rejected_files`` here, during the build, rather than handed
    to the runner with the ingest records: a rejection is a fact about a file's bytes, true
    whether or not this batch's data commit then succeeds, and writing it now needs no change
    to the runner. If the data write fails, the rejected files stay rejected (they would be
    again) and the accepted ones, absent from the ingest log, are read again next run.
    """
    store = landing_store(context.settings)
    frames: list[DataFrame] = []
    records: list[ops.IngestRecord] = []
    rejections: list[ops.RejectedFileRecord] = []
    previously_rejected = 0
    repairs = ops.unlogged_ingests(context.settings, context.table.name)
    if repairs:
        log.warning(
            "%s: %d ingested file(s) missing from ops.ingest_log (a run stopped early): logging them",
            context.table.id,
            len(repairs),
        )
        ops.append_records(context.spark, context.settings, "ingest_log", repairs)
    for source in sources:
        ingested = ops.ingested_files(context.settings, source.name, context.table.name)
        rejected_before = ops.rejected_files(context.settings, source.name)
        listed = [f for f in store.list(source.glob) if (f.path, f.checksum) not in ingested]
        new_files = [f for f in listed if (f.path, f.checksum) not in rejected_before]
        previously_rejected += len(listed) - len(new_files)
        if not new_files:
            continue
        read = read_files(
            context.spark, source, new_files, store, max_document_bytes=context.settings.max_document_bytes
        )
        for rejection in read.rejected:
            log.warning("%s: rejected %s: %s: %s", source.name, rejection.file.path, rejection.reason, rejection.detail)
        rejections.extend(_rejected_records(context, source, read.rejected))
        if read.frame is None:
            continue
        frames.append(read.frame.withColumn("_source", F.lit(source.name)))
        records.extend(_ingest_records(context, source, read.accepted))
    ops.append_records(context.spark, context.settings, "rejected_files", rejections)
    note = _note(len(records), len(rejections), previously_rejected)
    if not frames:
        if context.exists(context.table.id):
            if rejections:
                return TableOutput(data=None, note=note)
            return TableOutput(data=None, note="no new landing files")
        # No readable file has landed yet: create the table empty, so downstream tables build
        # (with zeros) instead of waiting for a source this deployment may never have.
        batch = context.spark.createDataFrame([], bronze_schema(sources[0])).select(
            "*",
            F.lit(None).cast("string").alias("_source"),
            F.lit(None).cast("timestamp").alias("_ingest_ts"),
            F.lit(None).cast("string").alias("_ingest_batch_id"),
        )
        empty = "no landing files yet" if not rejections else note
        return TableOutput(data=batch, note=f"{empty}: created empty")
    batch = frames[0]
    for frame in frames[1:]:
        batch = batch.unionByName(frame)
    batch = batch.withColumn("_ingest_ts", F.lit(context.started_at).cast("timestamp")).withColumn(
        "_ingest_batch_id", F.lit(context.run_id)
    )
    return TableOutput(data=context.cache(batch), ingest_records=records, note=note)
