"""Profile the demo's pipeline in-process: Spark start, each table's build/gate/write, the run's end.

Runs what ``lakehouse demo --no-prefect`` runs, on the demo landing zone (``data/landing``,
generated first if empty), into a fresh lakehouse root, and prints one line per table as it
finishes (seconds since the run started, then its phases) and the seconds of ``Pipeline.finish``
(the ops records and the run-committed hooks). For the JVM's side, run it under Java Flight
Recorder and read the samples with ``jfr``::

    JAVA_TOOL_OPTIONS="-XX:StartFlightRecording=filename=demo.jfr,settings=profile" \\
        .venv/bin/python benchmarks/demo_profile.py
    jfr print --json --stack-depth 200 --events jdk.ExecutionSample demo.jfr > samples.json

``--tables`` limits the run to some tables (with their inputs), ``--conf key=value`` sets a Spark
SQL conf after the session starts (to try a lever on the same data).
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

from cli.main import demo_settings
from devtools.generate import generate_landing
from lakehouse.model import TableResult
from lakehouse.runner import Pipeline
from lakehouse.settings import load_settings
from lakehouse.spark import create_spark_session


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tables", nargs="*", help="only these tables (default: every table)")
    parser.add_argument("--conf", nargs="*", default=[], help="Spark SQL confs to set, as key=value")
    args = parser.parse_args()

    started = time.perf_counter()
    settings = demo_settings(load_settings())
    landing = Path(settings.landing)
    if not landing.exists() or not any(landing.rglob("*")):
        generate_landing(landing, days=14, users=1500)
        time.sleep(settings.landing_settle_seconds)
    shutil.rmtree(settings.root, ignore_errors=True)
    spark = create_spark_session(settings)
    for pair in args.conf:
        key, _, value = pair.partition("=")
        spark.conf.set(key, value)
    ready = time.perf_counter()
    print(f"Spark session: {ready - started:.1f} s")

    pipeline = Pipeline(settings, spark)

    def on_result(result: TableResult) -> None:
        phases = " ".join(f"{phase}={seconds:.2f}" for phase, seconds in result.seconds.items())
        print(f"{time.perf_counter() - ready:6.1f} s  {result.table:<30} {result.status:<8} {phases}", flush=True)

    pipeline.on_result = on_result
    finish = pipeline.finish

    def timed_finish() -> None:
        begun = time.perf_counter()
        finish()
        print(f"finish (ops records, reports): {time.perf_counter() - begun:.1f} s")

    pipeline.finish = timed_finish  # type: ignore[method-assign]
    report = pipeline.run(args.tables)
    print(f"run: {time.perf_counter() - ready:.1f} s, {'ok' if report.ok else 'FAILED'}")


if __name__ == "__main__":
    main()
