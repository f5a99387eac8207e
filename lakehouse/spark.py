"""The one Spark session factory.

Jars (Delta always; S3A only when the lakehouse is on object storage; Kafka only
when asked) resolve through Ivy into ``settings.ivy_dir`` on the first start, which
also records the jar files the resolution chose; later starts hand Spark that list
and skip Ivy (about 1.5 s of every start). Small-table settings are applied here because
most tables of a small team are small: few shuffle partitions and few snapshot
partitions make most of the difference on two cores.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pyspark
from pyspark.sql import SparkSession

from lakehouse import jvm_archive
from lakehouse.settings import Settings

DELTA_PACKAGE = "io.delta:delta-spark_4.2_2.13:4.4.0"
S3A_PACKAGE = "org.apache.hadoop:hadoop-aws:3.5.0"
KAFKA_PACKAGE = "org.apache.spark:spark-sql-kafka-0-10_2.13:4.2.0"
# Executor heap on a standalone/cluster master. The worker `lakehouse up --spark-cluster` starts offers
# 2g; Spark's default ask (1g) plus overhead must fit it, so the ask is explicit rather than inherited.
CLUSTER_EXECUTOR_MEMORY = "1g"


def spark_packages(settings: Settings, with_kafka: bool = False) -> list[str]:
    packages = [DELTA_PACKAGE]
    if settings.uses_object_storage:
        packages.append(S3A_PACKAGE)
    # A process's first session decides its jars, so a Kafka-enabled lakehouse always asks for the source.
    if with_kafka or settings.kafka_enabled:
        packages.append(KAFKA_PACKAGE)
    return packages


def _s3a_conf(settings: Settings) -> dict[str, str]:
    return {
        "spark.hadoop.fs.s3a.endpoint": settings.s3_endpoint,
        "spark.hadoop.fs.s3a.access.key": settings.s3_access_key_value(),
        "spark.hadoop.fs.s3a.secret.key": settings.s3_secret_key_value(),
        "spark.hadoop.fs.s3a.path.style.access": "true",
        "spark.hadoop.fs.s3a.connection.ssl.enabled": str(settings.s3_endpoint.startswith("https")).lower(),
        "spark.hadoop.fs.s3a.endpoint.region": settings.s3_region,
        "spark.hadoop.fs.s3a.impl": "org.apache.hadoop.fs.s3a.S3AFileSystem",
        "spark.hadoop.fs.s3a.aws.credentials.provider": ("org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider"),
    }


# The JVM's quick (C1) compiler only: a short run over small batches spends much of its time
# compiling Spark's code for the optimising compiler. C1 alone defaults to a 48 MB code cache,
# which Spark fills within a minute (the JVM then fails with "Out of space in CodeCache"), so
# the cache is sized as in the default tiered mode.
QUICK_JIT = " -XX:TieredStopAtLevel=1 -XX:ReservedCodeCacheSize=256m"
# The driver JVM's collector. A batch wants throughput, not short pauses: the parallel collector
# spends less of the run collecting than G1, the JVM's default (docs/benchmarks.md).
GARBAGE_COLLECTORS = {"parallel": " -XX:+UseParallelGC", "g1": " -XX:+UseG1GC"}


def spark_conf(settings: Settings, with_kafka: bool = False) -> dict[str, str]:
    """Every Spark setting the lakehouse relies on, as one dict (tests and benchmarks reuse it)."""
    conf = {
        "spark.master": settings.spark_master,
        "spark.app.name": "medallion-lakehouse",
        "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
        "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.shuffle.partitions": str(settings.initial_shuffle_partitions),
        "spark.default.parallelism": str(max(2, settings.initial_shuffle_partitions)),
        # Adaptive execution picks the final number of shuffle partitions from the bytes shuffled:
        # a 2-row table gets one partition, 10M events get as many 64 MB partitions as they need.
        # parallelismFirst=false makes it honour the advisory size (the Spark tuning guide's advice).
        "spark.sql.adaptive.enabled": "true",
        "spark.sql.adaptive.coalescePartitions.enabled": "true",
        "spark.sql.adaptive.coalescePartitions.parallelismFirst": "false",
        "spark.sql.adaptive.advisoryPartitionSizeInBytes": "64m",
        "spark.sql.adaptive.skewJoin.enabled": "true",
        # Let adaptive execution coalesce the partitions of a frame it caches too: without it a cached
        # 60-row table keeps the 8 initial shuffle partitions, and every gate job over it runs 8 tasks.
        "spark.sql.optimizer.canChangeCachedPlanOutputPartitioning": "true",
        # Independent tables run in driver threads at once; FAIR lets their jobs share the cores.
        "spark.scheduler.mode": "FAIR",
        "spark.databricks.delta.snapshotPartitions": "2",
        # Parallel file listing (Delta VACUUM, reads of many landing files) defaults to 10000 tasks even
        # for one folder: VACUUM of a one-file table took 50 s on 2 cores with it, 9 s with this.
        "spark.sql.sources.parallelPartitionDiscovery.parallelism": str(
            max(2, min(8, settings.initial_shuffle_partitions))
        ),
        "spark.databricks.delta.stats.collect": "true",
        "spark.databricks.delta.schema.autoMerge.enabled": "false",
        "spark.databricks.delta.retentionDurationCheck.enabled": "true",
        "spark.driver.memory": settings.spark_driver_memory,
        "spark.ui.enabled": str(settings.spark_ui).lower(),
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.sources.partitionOverwriteMode": "static",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        # lower()/upper() through ICU's case mappings first build ICU's title-case tables, a
        # one-off ~2 s of CPU per JVM inside the first task that lower-cases (profiled in the
        # demo's silver.events build). The JDK's case mapping gives the same result for the
        # contract's enums (event type, device, order status), which are ASCII words.
        "spark.sql.icu.caseMappings.enabled": "false",
        "spark.driver.extraJavaOptions": "-Duser.timezone=UTC"
        + (QUICK_JIT if settings.spark_quick_jit else "")
        + GARBAGE_COLLECTORS[settings.spark_gc],
        "spark.executor.extraJavaOptions": "-Duser.timezone=UTC",
        # Executors of a standalone worker start `python3` from the worker's PATH unless told
        # otherwise, which lacks this venv's packages (and may be another Python version).
        "spark.pyspark.python": sys.executable,
        "spark.pyspark.driver.python": sys.executable,
    }
    jars = resolved_jars(settings, with_kafka)
    if jars:
        conf["spark.jars"] = ",".join(jars)
    else:
        conf["spark.jars.packages"] = ",".join(spark_packages(settings, with_kafka))
        conf["spark.jars.ivy"] = str(settings.ivy_dir)
    if not settings.spark_master.startswith("local"):
        conf["spark.executor.memory"] = CLUSTER_EXECUTOR_MEMORY
    if settings.uses_object_storage:
        conf.update(_s3a_conf(settings))
    return conf


def create_spark_session(settings: Settings, with_kafka: bool = False) -> SparkSession:
    """Start (or reuse) the session for this process with the lakehouse's configuration.

    A running session is reused as is: Spark cannot add jars to a live JVM, so a
    caller that needs Kafka must ask for it on the first call of the process
    (``with_kafka=True``, or ``kafka_enabled`` in the settings).
    """
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    settings.ivy_dir.mkdir(parents=True, exist_ok=True)
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    conf = spark_conf(settings, with_kafka)
    archive = _class_archive(settings, conf)
    if archive is not None:
        conf["spark.driver.extraJavaOptions"] += jvm_archive.driver_java_options(archive)
    builder = SparkSession.builder
    for key, value in conf.items():
        builder = builder.config(key, value)
    missing = missing_jars(settings, with_kafka) if "spark.jars.packages" in conf else []
    if missing:
        print(
            f"resolving Spark jars into {settings.ivy_dir} (once; later starts use the cache): {', '.join(missing)}",
            file=sys.stderr,
            flush=True,
        )
    with _jvm_console_to(jvm_log_path(settings)):
        spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    if archive is not None:
        jvm_archive.note_recorder(archive, int(spark.sparkContext._jvm.java.lang.ProcessHandle.current().pid()))  # type: ignore[union-attr]
    if "spark.jars.packages" in conf:
        _record_resolved_jars(settings, with_kafka, spark.sparkContext.getConf().get("spark.jars") or "")
    return spark


def _class_archive(settings: Settings, conf: dict[str, str]) -> jvm_archive.ArchivePaths | None:
    """The driver's class-data-sharing archive for this Spark installation and jar set (see lakehouse.jvm_archive)."""
    if not settings.spark_class_archive:
        return None
    jars = conf.get("spark.jars") or conf.get("spark.jars.packages", "")
    return jvm_archive.archive_paths(settings, [os.path.dirname(pyspark.__file__), *jars.split(",")])


def _resolution_record(settings: Settings, with_kafka: bool) -> Path:
    """The file naming the jars Ivy resolved for this set of packages."""
    key = hashlib.sha256(",".join(sorted(spark_packages(settings, with_kafka))).encode()).hexdigest()[:16]
    return settings.ivy_dir / "resolved" / f"{key}.txt"


def resolved_jars(settings: Settings, with_kafka: bool = False) -> list[str]:
    """The jar files an earlier start resolved for these packages; empty if unknown or one is gone."""
    record = _resolution_record(settings, with_kafka)
    try:
        jars = record.read_text(encoding="utf-8").split()
    except OSError:  # not resolved yet (or unreadable): Ivy resolves again
        return []
    if not jars or not all(Path(urlparse(jar).path).is_file() for jar in jars):
        return []
    return jars


def _record_resolved_jars(settings: Settings, with_kafka: bool, jars: str) -> None:
    """Keep the jar list Ivy resolved (written whole, then renamed: a reader never sees half of it)."""
    listed = [jar for jar in jars.split(",") if jar]
    if not listed:
        return
    record = _resolution_record(settings, with_kafka)
    record.parent.mkdir(parents=True, exist_ok=True)
    partial = record.with_suffix(f".{os.getpid()}.tmp")
    partial.write_text("\n".join(listed) + "\n", encoding="utf-8")
    partial.replace(record)


def jvm_log_path(settings: Settings) -> Path:
    """Where the JVM's console output goes (Ivy resolution, JVM warnings): not the user's terminal."""
    return settings.cache_dir / "logs" / "spark-jvm.log"


def missing_jars(settings: Settings, with_kafka: bool = False) -> list[str]:
    """Packages whose jar is not in the Ivy cache yet (their first resolution downloads them)."""
    jars = settings.ivy_dir / "jars"
    missing = []
    for package in spark_packages(settings, with_kafka):
        group, artifact, version = package.split(":")
        if not (jars / f"{group}_{artifact}-{version}.jar").exists():
            missing.append(package)
    return missing


@contextlib.contextmanager
def _jvm_console_to(log: Path) -> Iterator[None]:
    """Point file descriptor 2 at ``log`` while the JVM starts, so the JVM inherits it for good.

    spark-submit prints Ivy's resolution report and JVM warnings to its stderr, which is this
    process's unless redirected at the descriptor level. Python's own stderr is restored after.
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real descriptor 2 (embedded interpreters): leave it alone
        yield
        return
    with log.open("ab") as target:
        os.dup2(target.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
