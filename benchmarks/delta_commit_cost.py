"""What one Delta commit of a tiny table costs, and which Spark jobs it runs.

Every table of a run ends in a commit, and on small data that fixed cost is a large share of
the table's time. This overwrites a 60-row table ``--writes`` times and prints each write's
seconds and the median of the warm ones (the first two are left out: the JVM compiles then).
``--conf key=value`` repeats the measurement with a Spark SQL conf set, to try a lever against
the same table. ``--jobs`` turns the Spark UI on and lists the Spark jobs of three more writes
from its REST API; the UI's bookkeeping makes each tiny write slower (about 1.1 s instead of
0.7 s here), so take the seconds from a run without it::

    .venv/bin/python benchmarks/delta_commit_cost.py --conf spark.databricks.delta.snapshotPartitions=1
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import statistics
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from pyspark.sql import DataFrame, SparkSession

from lakehouse.settings import Settings
from lakehouse.spark import create_spark_session

WARM_UP_WRITES = 2


def _overwrite_times(df: DataFrame, path: Path, writes: int) -> list[float]:
    seconds = []
    for _ in range(writes):
        started = time.perf_counter()
        df.write.format("delta").mode("overwrite").option("userMetadata", '{"inputs": {}}').save(str(path))
        seconds.append(time.perf_counter() - started)
    return seconds


def _report(label: str, seconds: list[float]) -> None:
    warm = seconds[WARM_UP_WRITES:]
    print(
        f"{label:<60} median {statistics.median(warm):.3f} s, min {min(warm):.3f} s; "
        f"each: {', '.join(f'{s:.2f}' for s in seconds)}"
    )


def _jobs(spark: SparkSession) -> list[dict[str, Any]]:
    context = spark.sparkContext
    with urllib.request.urlopen(f"{context.uiWebUrl}/api/v1/applications/{context.applicationId}/jobs") as reply:
        jobs: list[dict[str, Any]] = json.load(reply)
    return jobs


def _at(job: dict[str, Any], key: str) -> float:
    return dt.datetime.strptime(job[key], "%Y-%m-%dT%H:%M:%S.%fGMT").replace(tzinfo=dt.UTC).timestamp()


def _print_jobs(spark: SparkSession, df: DataFrame, path: Path) -> None:
    """The jobs of three more overwrites, each with its start (from the write's start) and its seconds."""
    windows = []
    for _ in range(3):
        started = time.time()
        _overwrite_times(df, path, 1)
        windows.append((started, time.time()))
    jobs = _jobs(spark)
    for started, ended in windows:
        mine = sorted((j for j in jobs if started <= _at(j, "submissionTime") < ended), key=lambda j: j["jobId"])
        print(f"\none overwrite: {ended - started:.3f} s, {len(mine)} Spark jobs")
        for job in mine:
            took = _at(job, "completionTime") - _at(job, "submissionTime") if "completionTime" in job else float("nan")
            what = job.get("description") or job["name"]
            print(f"  +{_at(job, 'submissionTime') - started:.2f} s  {took:.3f} s  {what}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writes", type=int, default=12, help="Overwrites per measurement (default 12).")
    parser.add_argument("--conf", action="append", default=[], help="A Spark SQL conf key=value to try; repeatable.")
    parser.add_argument("--jobs", action="store_true", help="List each write's Spark jobs (turns the Spark UI on).")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="delta-commit-"))
    try:
        settings = Settings(_env_file=None, root=str(work / "lakehouse"), shuffle_partitions=1, spark_ui=args.jobs)  # type: ignore[call-arg]
        spark = create_spark_session(settings)
        df = spark.range(60).selectExpr("id", "cast(id as string) as name", "id * 1.5 as price").persist()
        df.count()
        _report("baseline", _overwrite_times(df, work / "baseline", args.writes))
        for index, assignment in enumerate(args.conf):
            key, value = assignment.split("=", 1)
            spark.conf.set(key, value)
            _report(assignment, _overwrite_times(df, work / f"conf-{index}", args.writes))
            spark.conf.unset(key)
        _report("baseline again", _overwrite_times(df, work / "baseline-again", args.writes))
        if args.jobs:
            _print_jobs(spark, df, work / "baseline-again")
        spark.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
