"""Pipeline benchmark: a full run, an incremental run and a DuckDB reference of the whole pipeline.

Usage::

    python benchmarks/pipeline_benchmark.py [--events 1000000] [--days 14] [--incremental-days 1]
                                            [--workdir /tmp/lakehouse-bench] [--skip-generate]

Steps:

1. **Workload.** ``devtools.generate`` writes ``days + incremental_days`` days of landing data
   with enough users that the first ``days`` days hold about ``--events`` events; the files of the
   last ``incremental_days`` days (events, orders, an inventory workbook when one falls on them) are
   held back. The workload is cached in ``WORKDIR/workload-e<events>-d<days>-i<inc>-s<seed>`` and
   reused when its manifest matches (same size, seed and generator source).
2. **Full run** of every table (``Pipeline(...).run()``) on a fresh lakehouse root.
3. **Incremental run** after copying the held-back files into the landing zone.
4. **DuckDB reference** (``benchmarks/duckdb_reference.py``) of landing -> silver -> every gold table
   of METRICS.md, once on the full run's files and once on all files (two ingestion batches). Each
   gold table is compared with the Spark Delta version of that run (read with ``deltalake``, no
   Spark): matched on the table's key, money within 1e-6, rates within 1e-9, everything else exact;
   plus the former ``gold.daily_kpis`` check and the silver/quarantine row totals.

Reported per table: build / gate / write seconds, rows, rows/s, CPU seconds and CPU utilisation;
per phase: wall time, CPU seconds of this process tree and of everything else on the machine
(other users' tests), CPU utilisation (CPU s of the tree / (wall s x cores)), the 1-minute load
average, peak RSS of the Spark JVM (sampled from ``/proc``, plus its ``VmHWM``) and of this Python
process; the Parquet files under the lakehouse root per layer; the same-hop ratio (Spark's 5 tables
of landing -> daily_kpis vs DuckDB's steps for them) and the whole-pipeline ratio (Spark's whole run
vs DuckDB's whole reference), wall and CPU; per DuckDB step its seconds and CPU seconds; per gold
table equal/different with the largest money and rate difference. Results are printed as Markdown
and written as JSON (and Markdown) under ``WORKDIR/results``. Exit status 1 when any comparison differs.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import gzip
import hashlib
import json
import logging
import math
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from decimal import Decimal
from multiprocessing import get_context
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
for _path in (str(REPO), str(HERE)):
    if _path not in sys.path:
        sys.path.insert(0, _path)

import duckdb_reference  # noqa: E402

# Measured on the generator: ~32.7 events (incl. duplicates and planted faults) per user, spread
# uniformly over the generated days, whatever their number.
EVENTS_PER_USER = 32.7
START = dt.date(2026, 10, 1)
LAYERS = ("bronze", "silver", "gold", "quarantine", "ops")
KPI_COUNTS = ("orders", "active_users", "sessions", "new_customers")
MONEY_TOLERANCE = Decimal("0.000001")
RATE_TOLERANCE = 1e-9
# The Spark tables that do what the DuckDB reference does (landing -> silver events/order lines -> daily_kpis).
SAME_HOP = ("bronze.events", "bronze.orders", "silver.events", "silver.order_lines", "gold.daily_kpis")
# Every gold table of METRICS.md: its key, and which columns are money (within 1e-6) and rates (within 1e-9);
# every other column (counts, units, dates, instants, names, flags) must be equal exactly.
GOLD_SPECS: dict[str, dict[str, tuple[str, ...]]] = {
    "daily_kpis": {"keys": ("date",), "money": ("revenue", "aov"), "rates": ("session_conversion_rate",)},
    "product_daily": {"keys": ("product_id", "date"), "money": ("revenue",), "rates": ("view_to_purchase_rate",)},
    "category_daily": {"keys": ("date", "category"), "money": ("revenue",), "rates": ()},
    "fct_user": {"keys": ("user_id",), "money": ("revenue",), "rates": ()},
    "retention_cohorts": {"keys": ("cohort_month", "month_offset"), "money": (), "rates": ("retention_rate",)},
    "funnel_daily": {
        "keys": ("session_date", "device", "step"),
        "money": (),
        "rates": ("step_conversion", "overall_conversion"),
    },
    "experiment_results": {
        "keys": ("experiment_id", "variant"),
        "money": ("revenue", "revenue_per_user"),
        "rates": (
            "allocation_share",
            "conversion_rate",
            "srm_p_value",
            "abs_lift",
            "rel_lift",
            "ci_low",
            "ci_high",
            "p_value",
            "revenue_p_value",
        ),
    },
}
# The DuckDB steps that do what SAME_HOP does (read, the two silver tables, daily_kpis, and their writes).
DUCK_SAME_HOP = (
    "read_events",
    "read_orders",
    "silver_events",
    "silver_order_lines",
    "gold_daily_kpis",
    "write_silver_events",
    "write_silver_order_lines",
    "write_daily_kpis",
)
_DATED = re.compile(r"_(\d{4}-\d{2}-\d{2})\.")
CLK_TCK = os.sysconf("SC_CLK_TCK")
CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
PAGE_KB = os.sysconf("SC_PAGE_SIZE") / 1024

log = logging.getLogger("pipeline_benchmark")


# ---------------------------------------------------------------------------------------------
# /proc sampling: memory, CPU and load of this process tree and of the machine


def _read(path: str) -> str | None:
    try:
        with open(path) as handle:
            return handle.read()
    except OSError:
        return None


def _stat_fields(pid: int) -> list[str] | None:
    text = _read(f"/proc/{pid}/stat")
    if text is None:
        return None
    # comm may hold spaces and parentheses: the fields after it start after the last ')'.
    return text.rsplit(")", 1)[1].split()


def _descendants(root: int) -> dict[int, str]:
    """pid -> comm of every live descendant of ``root`` (the Spark JVM and anything it runs)."""
    parents: dict[int, int] = {}
    names: dict[int, str] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        text = _read(f"/proc/{entry}/stat")
        if text is None:
            continue
        head, _, tail = text.rpartition(")")
        fields = tail.split()
        parents[int(entry)] = int(fields[1])
        names[int(entry)] = head.split("(", 1)[1] if "(" in head else "?"
    found: dict[int, str] = {}
    frontier = [root]
    while frontier:
        parent = frontier.pop()
        for pid, ppid in parents.items():
            if ppid == parent and pid not in found:
                found[pid] = names[pid]
                frontier.append(pid)
    return found


def _rss_mb(pid: int, key: str = "VmRSS") -> float:
    text = _read(f"/proc/{pid}/status") or ""
    for line in text.splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def _cpu_seconds(pid: int) -> float:
    fields = _stat_fields(pid)
    if fields is None:
        return 0.0
    # After ')': state(0) ppid(1) ... utime(11) stime(12).
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def _machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, from /proc/stat."""
    line = (_read("/proc/stat") or "cpu 0 0 0 0").splitlines()[0].split()[1:]
    values = [int(v) for v in line[:8]]
    total = sum(values)
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return (total - idle) / CLK_TCK, total / CLK_TCK


def _own_cpu() -> float:
    times = os.times()
    return times.user + times.system


def cpu_util(cpu_seconds: float | None, wall_seconds: float | None, cores: int = CORES) -> float | None:
    """CPU seconds / (wall seconds x cores), as a percentage (100 = every core busy all the time)."""
    if cpu_seconds is None or not wall_seconds or wall_seconds < 0.1:
        return None  # below 0.1 s the clock-tick granularity of CPU time makes the ratio noise
    return round(100 * cpu_seconds / (wall_seconds * cores), 1)


@dataclass
class Phase:
    name: str
    seconds: float = 0.0
    cpu_ours_s: float = 0.0
    cpu_others_s: float = 0.0
    cpu_util_pct: float | None = None  # CPU s of this process tree / (wall s x cores); None below 0.1 s
    machine_busy_pct: float = 0.0
    load_start: float = 0.0
    load_mean: float = 0.0
    load_max: float = 0.0
    load_end: float = 0.0
    jvm_peak_rss_mb: float = 0.0
    python_peak_rss_mb: float = 0.0
    tree_peak_rss_mb: float = 0.0


class Monitor:
    """Samples RSS and load every ``interval`` s in a thread; :meth:`phase` measures one block."""

    def __init__(self, interval: float = 0.25) -> None:
        self.interval = interval
        self.pid = os.getpid()
        self.children: dict[int, str] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._current: Phase | None = None
        self._loads: list[float] = []
        self.phases: list[Phase] = []
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        scan = 0
        while not self._stop.wait(self.interval):
            if scan % 8 == 0:  # the process tree changes rarely; rescan every 2 s
                self.children = _descendants(self.pid)
            scan += 1
            self._sample()

    def _sample(self) -> None:
        jvm = sum(_rss_mb(pid) for pid, name in self.children.items() if name == "java")
        tree = sum(_rss_mb(pid) for pid in self.children)
        python = _rss_mb(self.pid)
        load = os.getloadavg()[0]
        with self._lock:
            phase = self._current
            if phase is None:
                return
            phase.jvm_peak_rss_mb = max(phase.jvm_peak_rss_mb, jvm)
            phase.python_peak_rss_mb = max(phase.python_peak_rss_mb, python)
            phase.tree_peak_rss_mb = max(phase.tree_peak_rss_mb, python + tree)
            phase.load_max = max(phase.load_max, load)
            self._loads.append(load)

    def tree_cpu(self) -> float:
        return _own_cpu() + sum(_cpu_seconds(pid) for pid in _descendants(self.pid))

    @contextlib.contextmanager
    def phase(self, name: str):
        phase = Phase(name, load_start=round(os.getloadavg()[0], 2))
        busy0, total0 = _machine_cpu()
        ours0 = self.tree_cpu()
        started = time.perf_counter()
        with self._lock:
            self._current, self._loads = phase, []
        self._sample()
        try:
            yield phase
        finally:
            self._sample()
            with self._lock:
                self._current = None
                loads = self._loads or [phase.load_start]
            phase.seconds = round(time.perf_counter() - started, 3)
            busy1, total1 = _machine_cpu()
            ours = self.tree_cpu() - ours0
            phase.cpu_ours_s = round(ours, 1)
            phase.cpu_others_s = round(max(0.0, (busy1 - busy0) - ours), 1)
            phase.cpu_util_pct = cpu_util(ours, phase.seconds)
            phase.machine_busy_pct = round(100 * (busy1 - busy0) / max(total1 - total0, 1e-9), 1)
            phase.load_mean = round(sum(loads) / len(loads), 2)
            phase.load_max = round(max(phase.load_max, *loads), 2)
            phase.load_end = round(os.getloadavg()[0], 2)
            for key in ("jvm_peak_rss_mb", "python_peak_rss_mb", "tree_peak_rss_mb"):
                setattr(phase, key, round(getattr(phase, key)))
            self.phases.append(phase)
            log.info("phase %s: %.1f s", name, phase.seconds)

    def jvm_hwm_mb(self) -> float:
        """Kernel-recorded peak RSS (VmHWM) of the live Spark JVM(s)."""
        return round(sum(_rss_mb(pid, "VmHWM") for pid, name in _descendants(self.pid).items() if name == "java"))

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)


# ---------------------------------------------------------------------------------------------
# workload: generate once, cache, hold back the incremental days


def _generator_digest() -> str:
    return hashlib.sha256((REPO / "devtools" / "generate.py").read_bytes()).hexdigest()[:16]


def _count_lines(path: Path) -> int:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as handle:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 22), b""))


def users_for(events: int, days: int, incremental_days: int) -> int:
    """Users whose events over ``days + incremental_days`` put ~``events`` in the first ``days`` days."""
    return max(1, math.ceil(events * (days + incremental_days) / days / EVENTS_PER_USER))


def _generate(folder: str, days: int, users: int, seed: int) -> dict[str, Any]:
    """Run in a child process, so the generator's memory never counts as the benchmark's."""
    from devtools.generate import generate_landing

    summary = generate_landing(Path(folder), days=days, users=users, seed=seed, start=START)
    return {"events": summary.events, "order_lines": summary.order_lines, "faults": len(summary.faults)}


def _workload_files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


_JSON_ID = re.compile(r'"(event_id|user_id|session_id|order_id)": "([^"]+)"')
_CSV_IDS = re.compile(r"^([^,\n]+),([^,\n]*),([^,\n]*),([^,\n]+),")


def _replicate(generated: Path, copies: int) -> None:
    """Add ``copies - 1`` copies of the event and order files whose ids carry a suffix ``r<k>``.

    A cheap way to scale a generated workload past what the in-memory generator handles: the
    copies are more users with the same behaviour, on the same dates (so each day holds
    ``copies`` times the events). Products, stock and experiments stay single. Planted faults
    are copied too (a missing id stays missing).
    """
    for path in sorted(generated.rglob("*")):
        if not path.is_file() or path.parent.name not in ("events", "orders"):
            continue
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8", newline="") as handle:
            lines = handle.readlines()
        prefix, rest = path.name.split("_", 1)
        for copy in range(1, copies):
            suffix = f"r{copy}"
            if path.parent.name == "events":
                body = [_JSON_ID.sub(lambda m, s=suffix: f'"{m[1]}": "{m[2]}{s}"', line) for line in lines]
            else:
                body = lines[:1] + [
                    _CSV_IDS.sub(lambda m, s=suffix: f"{m[1]}{s},{m[2]},{m[3]},{m[4]}{s},", line) for line in lines[1:]
                ]
            target = path.with_name(f"{prefix}_{suffix}_{rest}")
            with opener(
                target, "wt", encoding="utf-8", newline="", **({"compresslevel": 1} if opener is gzip.open else {})
            ) as out:
                out.writelines(body)


def prepare_workload(args: argparse.Namespace) -> tuple[Path, dict[str, Any]]:
    """The cached workload folder (``base/`` = full-run landing, ``extra/`` = held-back files) and its manifest."""
    key = f"workload-e{args.events}-d{args.days}-i{args.incremental_days}-s{args.seed}"
    if args.replicate > 1:
        key += f"-x{args.replicate}"
    folder = args.workdir / key
    manifest_path = folder / "manifest.json"
    wanted = {
        "events_target": args.events,
        "days": args.days,
        "incremental_days": args.incremental_days,
        "seed": args.seed,
        "start": START.isoformat(),
        "generator": _generator_digest(),
        "replicate": args.replicate,
    }
    if manifest_path.exists():
        manifest = json.loads(manifest_path.read_text())
        if args.skip_generate or all(manifest.get(k) == v for k, v in wanted.items()):
            print(f"workload: reusing {folder} ({manifest['base_events']:,} + {manifest['extra_events']:,} events)")
            return folder, manifest
    if args.skip_generate:
        raise SystemExit(f"--skip-generate: no workload at {manifest_path}")
    if folder.exists():
        shutil.rmtree(folder)
    users = users_for(math.ceil(args.events / args.replicate), args.days, args.incremental_days)
    total_days = args.days + args.incremental_days
    generated = folder / "generated"
    print(f"workload: generating {total_days} days for {users:,} users into {folder} ...", flush=True)
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        summary = pool.submit(_generate, str(generated), total_days, users, args.seed).result()
    if args.replicate > 1:
        print(f"workload: replicating event and order files {args.replicate} times ...", flush=True)
        _replicate(generated, args.replicate)
    seconds = time.perf_counter() - started
    # The generator keeps the whole simulated world in memory: its peak grows linearly with --events.
    generator_peak_mb = round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
    first_extra = START + dt.timedelta(days=args.days)
    base, extra = folder / "base", folder / "extra"
    for rel in _workload_files(generated):
        match = _DATED.search(rel)
        held_back = match is not None and dt.date.fromisoformat(match.group(1)) >= first_extra
        target = (extra if held_back else base) / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        (generated / rel).rename(target)
    shutil.rmtree(generated)
    base_events = sum(_count_lines(p) for p in sorted((base / "events").glob("*.jsonl*")))
    extra_events = sum(_count_lines(p) for p in sorted((extra / "events").glob("*.jsonl*")))
    base_orders = sum(_count_lines(p) - 1 for p in sorted((base / "orders").glob("*.csv")))
    extra_orders = sum(_count_lines(p) - 1 for p in sorted((extra / "orders").glob("*.csv")))
    manifest = {
        **wanted,
        "users": users,
        "generated_events": summary["events"],
        "generated_order_lines": summary["order_lines"],
        "planted_faults": summary["faults"],
        "base_events": base_events,
        "extra_events": extra_events,
        "base_order_lines": base_orders,
        "extra_order_lines": extra_orders,
        "base_files": _workload_files(base),
        "extra_files": _workload_files(extra),
        "base_bytes": sum(p.stat().st_size for p in base.rglob("*") if p.is_file()),
        "extra_bytes": sum(p.stat().st_size for p in extra.rglob("*") if p.is_file()),
        "generation_seconds": round(seconds, 1),
        "generation_peak_rss_mb": generator_peak_mb,
    }
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
    print(
        f"workload: {base_events:,} events in the full-run files, {extra_events:,} held back "
        f"({seconds:.0f} s to generate, peak RSS {generator_peak_mb} MB)"
    )
    return folder, manifest


def _link_tree(source: Path, target: Path) -> None:
    """Hard-link (or copy, across devices) every file of ``source`` under ``target``."""
    for path in source.rglob("*"):
        if path.is_file():
            dest = target / path.relative_to(source)
            dest.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(path, dest)
            except OSError:
                shutil.copy2(path, dest)


# ---------------------------------------------------------------------------------------------
# lakehouse measurements


def files_by_layer(root: Path) -> dict[str, dict[str, int]]:
    """Parquet data files on disk (written, live or not) and live in the latest Delta snapshots, per layer."""
    from deltalake import DeltaTable

    out: dict[str, dict[str, int]] = {}
    for layer in LAYERS:
        base = root / layer
        on_disk = [p for p in base.rglob("*.parquet") if "_delta_log" not in p.parts] if base.exists() else []
        live = live_rows = 0
        for log_dir in sorted(base.glob("*/_delta_log")) if base.exists() else []:
            actions = DeltaTable(str(log_dir.parent)).get_add_actions(flatten=True)
            live += actions.num_rows
            live_rows += sum(v for v in actions.column("num_records").to_pylist() if v is not None)
        out[layer] = {
            "files_on_disk": len(on_disk),
            "bytes_on_disk": sum(p.stat().st_size for p in on_disk),
            "live_files": live,
            "live_rows": live_rows,
        }
    return out


def table_rows(root: Path, layer: str, name: str, version: int | None = None) -> int:
    from deltalake import DeltaTable

    path = root / layer / name
    if not (path / "_delta_log").exists():
        return 0
    table = DeltaTable(str(path), version=version)
    return int(sum(v for v in table.get_add_actions(flatten=True).column("num_records").to_pylist() if v))


def table_report(report: Any, cost: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    rows = []
    cost = cost or {}
    for result in report.results:
        seconds = {k: float(result.seconds.get(k, 0.0)) for k in ("build", "gate", "write")}
        total = sum(seconds.values())
        rows.append(
            {
                "table": result.table,
                "layer": result.layer,
                "status": result.status,
                **seconds,
                "total": round(total, 3),
                "rows": result.rows_written,
                "rows_per_s": round(result.rows_written / total) if result.rows_written and total > 0 else None,
                "table_wall": cost.get(result.table, {}).get("wall"),
                "cpu": cost.get(result.table, {}).get("cpu"),
                "cpu_util_pct": cpu_util(cost.get(result.table, {}).get("cpu"), cost.get(result.table, {}).get("wall")),
                "quarantined": result.quarantined,
                "deduplicated": result.deduplicated,
                "delta_version": result.delta_version,
                "message": result.message,
            }
        )
    return rows


class CountOnlyGate:
    """Ablation (``--gate count``): run the gate's first action (materialise the frame), validate nothing.

    Spark is lazy: the GX gate's first job is what computes a bronze or gold table's (cached) frame.
    Timing this gate instead of GX separates that computation from the cost of validation itself.
    """

    def __init__(self) -> None:
        self.last_validations: dict[str, Any] = {}  # what the runner's reports read from a real gate

    def validate(
        self, table: str, df: Any, checks: list[Any], rows: int | None = None, pandas_max_rows: int = 0
    ) -> list[Any]:
        df.count()
        return []


def run_pipeline(
    settings: Any, spark: Any, label: str, monitor: Monitor, gate: str = "gx", runner: str = "serial"
) -> tuple[Any, float, dict[str, Any]]:
    """One pipeline run, then the ops records.

    ``serial`` drives the tables one after another, so per-table figures add up: the wall and CPU
    seconds of this process tree around each ``run_table`` (CPU is what the table cost whatever the
    other users' load). ``dag`` runs ``Pipeline.run()`` as ``lakehouse run`` does (independent tables
    at once): per-table figures are then walls that overlap, and CPU is only known for the whole run.
    """
    from lakehouse.model import RunReport
    from lakehouse.runner import Pipeline

    pipeline = Pipeline(settings, spark, gate=CountOnlyGate() if gate == "count" else None)  # type: ignore[arg-type]
    started = time.perf_counter()
    if runner == "dag":
        return _run_dag(pipeline, label, monitor, started)
    cost: dict[str, Any] = {}
    for table in pipeline.catalog:
        print(f"  [{label} {time.perf_counter() - started:7.1f} s] {table.id}", flush=True)
        wall0, cpu0 = time.perf_counter(), monitor.tree_cpu()
        try:
            pipeline.run_table(table.id)
        except Exception as exc:
            pipeline.finish()
            raise SystemExit(f"{label} run failed at {table.id}: {exc}") from exc
        cost[table.id] = {"wall": round(time.perf_counter() - wall0, 3), "cpu": round(monitor.tree_cpu() - cpu0, 1)}
    wall0, cpu0 = time.perf_counter(), monitor.tree_cpu()
    pipeline.finish()
    cost["ops records (finish)"] = {
        "wall": round(time.perf_counter() - wall0, 3),
        "cpu": round(monitor.tree_cpu() - cpu0, 1),
    }
    report = RunReport(pipeline.run_id, list(pipeline.results), None)
    return report, time.perf_counter() - started, cost


def _run_dag(pipeline: Any, label: str, monitor: Monitor, started: float) -> tuple[Any, float, dict[str, Any]]:
    """``Pipeline.run()`` with each table's wall from its start to its recorded result."""
    begun: dict[str, float] = {}
    cost: dict[str, Any] = {}

    def on_table(table: Any) -> None:
        begun[table.id] = time.perf_counter()
        print(f"  [{label} {begun[table.id] - started:7.1f} s] {table.id}", flush=True)

    def on_result(result: Any) -> None:
        if result.table in begun:
            cost[result.table] = {"wall": round(time.perf_counter() - begun[result.table], 3), "cpu": None}

    pipeline.on_result = on_result
    cpu0 = monitor.tree_cpu()
    report = pipeline.run(on_table=on_table)
    if report.failed is not None:
        raise SystemExit(f"{label} run failed: {report.failed}")
    wall = time.perf_counter() - started
    cost["ops records (finish)"] = {"wall": 0.0, "cpu": 0.0, "run_cpu": round(monitor.tree_cpu() - cpu0, 1)}
    return report, wall, cost


def spark_daily_kpis(root: Path, version: int | None) -> list[dict[str, Any]]:
    from deltalake import DeltaTable

    table = DeltaTable(str(root / "gold" / "daily_kpis"), version=version).to_pyarrow_table()
    return sorted(table.to_pylist(), key=lambda r: r["date"])


def _as_decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def compare_kpis(spark_rows: list[dict[str, Any]], duck_rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Spark gold.daily_kpis vs DuckDB: same dates, money within 1e-6, counts exact, rates within 1e-9."""
    spark_by, duck_by = {r["date"]: r for r in spark_rows}, {r["date"]: r for r in duck_rows}
    mismatches: list[str] = []
    for day in sorted(set(spark_by) ^ set(duck_by)):
        mismatches.append(f"{day}: only in {'Spark' if day in spark_by else 'DuckDB'}")
    max_money = Decimal(0)
    for day in sorted(set(spark_by) & set(duck_by)):
        s, d = spark_by[day], duck_by[day]
        for key in ("revenue", "aov"):
            a, b = _as_decimal(s[key]), _as_decimal(d[key])
            if (a is None) != (b is None) or (a is not None and b is not None and abs(a - b) > MONEY_TOLERANCE):
                mismatches.append(f"{day} {key}: Spark {a} vs DuckDB {b}")
            elif a is not None and b is not None:
                max_money = max(max_money, abs(a - b))
        for key in KPI_COUNTS:
            if int(s[key]) != int(d[key]):
                mismatches.append(f"{day} {key}: Spark {s[key]} vs DuckDB {d[key]} (diff {int(s[key]) - int(d[key])})")
        if _as_decimal(s["units"]) != _as_decimal(d["units"]):
            mismatches.append(f"{day} units: Spark {s['units']} vs DuckDB {d['units']}")
        a, b = s["session_conversion_rate"], d["session_conversion_rate"]
        if (a is None) != (b is None) or (a is not None and b is not None and abs(a - b) > RATE_TOLERANCE):
            mismatches.append(f"{day} session_conversion_rate: Spark {a} vs DuckDB {b}")
    return {
        "dates_spark": len(spark_by),
        "dates_duckdb": len(duck_by),
        "equal": not mismatches,
        "max_abs_money_diff": str(max_money),
        "mismatches": mismatches,
    }


def spark_gold(root: Path, table: str, version: int | None) -> list[dict[str, Any]]:
    """A Spark gold table (a given Delta version, or the latest) as rows, read with deltalake (no Spark)."""
    from deltalake import DeltaTable

    return DeltaTable(str(root / "gold" / table), version=version).to_pyarrow_table().to_pylist()


def _plain(value: Any) -> Any:
    """One comparable form per value: aware instants as naive UTC, numpy/pandas scalars as Python."""
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.UTC).replace(tzinfo=None)
    if hasattr(value, "item") and not isinstance(value, Decimal):
        return value.item()
    return value


def compare_gold(
    table: str, spark_rows: list[dict[str, Any]], duck_rows: list[dict[str, Any]], limit: int = 20
) -> dict[str, Any]:
    """One Spark gold table vs DuckDB, matched on the table's key.

    Money columns must agree within 1e-6, rate columns within 1e-9 (nulls on both sides), every
    other column exactly (decimals as numbers: 2.0000 == 2.000000).
    """
    spec = GOLD_SPECS[table]
    keys = spec["keys"]
    mismatches: list[str] = []
    spark_columns = set(spark_rows[0]) if spark_rows else set()
    duck_columns = set(duck_rows[0]) if duck_rows else set()
    if spark_rows and duck_rows and spark_columns != duck_columns:
        for name in sorted(spark_columns - duck_columns):
            mismatches.append(f"column {name}: only in Spark")
        for name in sorted(duck_columns - spark_columns):
            mismatches.append(f"column {name}: only in DuckDB")
    columns = sorted((spark_columns or duck_columns) & (duck_columns or spark_columns))

    def index(rows: list[dict[str, Any]], side: str) -> dict[tuple, dict[str, Any]]:
        out: dict[tuple, dict[str, Any]] = {}
        for row in rows:
            key = tuple(_plain(row[k]) for k in keys)
            if key in out:
                mismatches.append(f"{key}: key repeated in {side}")
            out[key] = row
        return out

    spark_by, duck_by = index(spark_rows, "Spark"), index(duck_rows, "DuckDB")
    only = sorted(set(spark_by) ^ set(duck_by), key=str)
    for key in only:
        mismatches.append(f"{key}: only in {'Spark' if key in spark_by else 'DuckDB'}")
    max_money, max_rate = Decimal(0), 0.0
    cells = 0
    for key in sorted(set(spark_by) & set(duck_by), key=str):
        s, d = spark_by[key], duck_by[key]
        for name in columns:
            if name in keys:
                continue
            a, b = _plain(s.get(name)), _plain(d.get(name))
            cells += 1
            if a is None or b is None:
                if (a is None) != (b is None):
                    mismatches.append(f"{key} {name}: Spark {a} vs DuckDB {b}")
                continue
            if name in spec["money"]:
                diff = abs(Decimal(str(a)) - Decimal(str(b)))
                max_money = max(max_money, diff)
                if diff > MONEY_TOLERANCE:
                    mismatches.append(f"{key} {name}: Spark {a} vs DuckDB {b} (diff {diff})")
            elif name in spec["rates"]:
                diff_f = abs(float(a) - float(b))
                max_rate = max(max_rate, diff_f)
                if not diff_f <= RATE_TOLERANCE:
                    mismatches.append(f"{key} {name}: Spark {a} vs DuckDB {b} (diff {diff_f:.3g})")
            elif isinstance(a, Decimal | int | float) and not isinstance(a, bool):
                if isinstance(b, bool) or Decimal(str(a)) != Decimal(str(b)):
                    mismatches.append(f"{key} {name}: Spark {a} vs DuckDB {b}")
            elif a != b:
                mismatches.append(f"{key} {name}: Spark {a!r} vs DuckDB {b!r}")
    return {
        "rows_spark": len(spark_rows),
        "rows_duckdb": len(duck_rows),
        "keys_only_in_one": len(only),
        "cells_compared": cells,
        "equal": not mismatches,
        "mismatch_count": len(mismatches),
        "max_abs_money_diff": str(max_money),
        "max_abs_rate_diff": max_rate,
        "mismatches": mismatches[:limit],
    }


def compare_all_gold(root: Path, versions: dict[str, int | None], gold: dict[str, list[dict[str, Any]]]) -> dict:
    """Every gold table of GOLD_SPECS: Spark (at ``versions[table]``, default the latest) vs DuckDB."""
    return {
        table: compare_gold(table, spark_gold(root, table, versions.get(table)), gold.get(table, []))
        for table in GOLD_SPECS
    }


def compare_silver(root: Path, counts: dict[str, Any]) -> dict[str, Any]:
    """Row totals of the Spark silver and quarantine tables vs the DuckDB reference's."""
    pairs = {
        "silver.events rows": (table_rows(root, "silver", "events"), counts["silver_events"]),
        "quarantine.events rows": (table_rows(root, "quarantine", "events"), counts["events_quarantined"]),
        "silver.order_lines rows": (table_rows(root, "silver", "order_lines"), counts["silver_order_lines"]),
        "quarantine.order_lines rows": (
            table_rows(root, "quarantine", "order_lines"),
            counts["order_lines_quarantined"],
        ),
    }
    return {name: {"spark": a, "duckdb": b, "equal": a == b} for name, (a, b) in pairs.items()}


# ---------------------------------------------------------------------------------------------
# reporting


def _md_table(headers: list[str], rows: list[list[Any]]) -> str:
    def cell(value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, float):
            return f"{value:,.1f}" if abs(value) >= 100 else f"{value:.2f}"
        if isinstance(value, int):
            return f"{value:,}"
        return str(value)

    rule = "|" + "|".join("---:" if i else "---" for i in range(len(headers))) + "|"
    lines = ["| " + " | ".join(headers) + " |", rule]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _stage_rows(tables: list[dict[str, Any]]) -> list[list[Any]]:
    rows = [
        [
            t["table"],
            t["status"],
            t["build"],
            t["gate"],
            t["write"],
            t["total"],
            t["rows"],
            t["rows_per_s"],
            t.get("cpu"),
            _pct(t.get("cpu_util_pct")),
        ]
        for t in tables
    ]
    sums = {k: round(sum(t.get(k) or 0 for t in tables), 3) for k in ("build", "gate", "write", "total", "cpu")}
    rows.append(
        [
            "**sum of tables**",
            "",
            sums["build"],
            sums["gate"],
            sums["write"],
            sums["total"],
            None,
            None,
            round(sums["cpu"], 1),
            None,
        ]
    )
    return rows


def _layer_rows(run: dict[str, Any]) -> list[list[Any]]:
    tables, wall = run["tables"], run["wall_seconds"]
    rows = []
    for layer in ("bronze", "silver", "gold"):
        chosen = [t for t in tables if t["layer"] == layer]
        total = sum(t["total"] for t in chosen)
        rows.append(
            [
                layer,
                round(sum(t["build"] for t in chosen), 1),
                round(sum(t["gate"] for t in chosen), 1),
                round(sum(t["write"] for t in chosen), 1),
                round(total, 1),
                f"{100 * total / wall:.0f}%",
                round(sum(t.get("cpu") or 0 for t in chosen), 1),
            ]
        )
    other = wall - sum(t["total"] for t in tables)
    rows.append(
        [
            "runner: watermarks, skips, ops records",
            None,
            None,
            None,
            round(other, 1),
            f"{100 * other / wall:.0f}%",
            None,
        ]
    )
    return rows


def _pct(value: float | None) -> str | None:
    return None if value is None else f"{value:.0f}%"


def _cores(result: dict[str, Any]) -> int:
    return int(result.get("machine", {}).get("cores") or result.get("machine", {}).get("cpus") or 1)


def _phase(result: dict[str, Any], name: str) -> dict[str, Any] | None:
    return next((p for p in result["phases"] if p["name"] == name), None)


def _duck_same_hop(ref: dict[str, Any], phase: dict[str, Any] | None) -> tuple[float, float | None]:
    """DuckDB seconds and CPU s of the same hop as SAME_HOP (older results: the whole reference run)."""
    seconds, cpu = ref["seconds"], ref.get("cpu_seconds")
    if "write_daily_kpis" in seconds:
        return (
            round(sum(seconds.get(k, 0.0) for k in DUCK_SAME_HOP), 3),
            round(sum(cpu.get(k, 0.0) for k in DUCK_SAME_HOP), 2) if cpu else None,
        )
    return seconds["total"], phase["cpu_ours_s"] if phase else None


def render(result: dict[str, Any]) -> str:
    out: list[str] = []
    w = result["workload"]
    out.append(
        f"## Pipeline benchmark: {w['base_events']:,} events ({w['days']} days) + "
        f"{w['extra_events']:,} events ({w['incremental_days']} day) incremental"
    )
    out.append("")
    if result.get("settings", {}).get("gate") == "count":
        out.append(
            "**Ablation `--gate count`: no expectations were validated; the gate only materialised each "
            "table's frame.**"
        )
        out.append("")
    if result.get("settings", {}).get("runner") == "dag":
        out.append(
            "**`--runner dag`: tables ran as `lakehouse run` runs them, independent ones at once; per-table "
            "seconds overlap and do not add up to the run's wall.**"
        )
        out.append("")
    out.append(
        f"Machine: {result['machine']['cpus']} CPUs, {result['machine']['memory_gb']} GB RAM, "
        f"{result['machine']['platform']}; load average at start {result['machine']['loadavg_start']}."
    )
    out.append("")
    for run in ("full", "incremental"):
        r = result["runs"][run]
        out.append(f"### {run.capitalize()} run: {r['wall_seconds']:.1f} s")
        out.append("")
        out.append(
            _md_table(
                ["table", "status", "build s", "gate s", "write s", "total s", "rows", "rows/s", "CPU s", "CPU util"],
                _stage_rows(r["tables"]),
            )
        )
        out.append("")
        finish = r.get("finish", {"wall": 0.0, "cpu": 0.0})
        out.append(
            f"Ops records (finish): {finish['wall']:.1f} s wall, {finish['cpu']:.1f} CPU s. "
            "CPU s = CPU seconds of the benchmark's process tree (Spark JVM + Python) while the table ran; "
            f"CPU util = CPU s / (table wall s x {_cores(result)} cores)."
        )
        out.append("")
        out.append(
            _md_table(["layer", "build s", "gate s", "write s", "total s", "share of run", "CPU s"], _layer_rows(r))
        )
        out.append("")
    out.append("### Phases (wall, CPU, load, memory)")
    out.append("")
    out.append(
        _md_table(
            [
                "phase",
                "wall s",
                "CPU s (ours)",
                "CPU s (others)",
                "CPU util (ours)",
                "machine busy",
                "load 1m start/mean/max",
                "JVM peak RSS MB",
                "Python peak RSS MB",
            ],
            [
                [
                    p["name"],
                    p["seconds"],
                    p["cpu_ours_s"],
                    p["cpu_others_s"],
                    _pct(cpu_util(p["cpu_ours_s"], p["seconds"], _cores(result))),
                    f"{p['machine_busy_pct']:.0f}%",
                    f"{p['load_start']:.2f} / {p['load_mean']:.2f} / {p['load_max']:.2f}",
                    p["jvm_peak_rss_mb"] or None,
                    p["python_peak_rss_mb"],
                ]
                for p in result["phases"]
            ],
        )
    )
    out.append("")
    out.append(
        f"CPU util (ours) = CPU s of this process tree / (wall s x {_cores(result)} cores): 100% = every core "
        "busy for the whole phase."
    )
    out.append("")
    out.append(
        f"JVM VmHWM (kernel peak RSS over the whole session): {result['memory']['jvm_vmhwm_mb']} MB; "
        f"Python ru_maxrss: {result['memory']['python_maxrss_mb']} MB."
    )
    out.append("")
    out.append("### Parquet files under the lakehouse root")
    out.append("")
    rows = []
    for layer in LAYERS:
        a, b = result["files"]["after_full"][layer], result["files"]["after_incremental"][layer]
        rows.append(
            [
                layer,
                a["files_on_disk"],
                b["files_on_disk"],
                b["live_files"],
                round(b["bytes_on_disk"] / 2**20, 1),
                b["live_rows"],
            ]
        )
    out.append(
        _md_table(
            [
                "layer",
                "files after full",
                "files after incr.",
                "live files (latest snapshots)",
                "MB on disk",
                "live rows",
            ],
            rows,
        )
    )
    out.append("")
    out.append("### Same hop: Spark vs DuckDB (landing -> silver events/order lines -> gold.daily_kpis)")
    out.append("")
    d = result["duckdb"]
    rows = []
    for run in ("full", "incremental"):
        ref = d[run]
        spark_wall = result["runs"][run]["wall_seconds"]
        same = sum(t["total"] for t in result["runs"][run]["tables"] if t["table"] in SAME_HOP)
        same_cpu = sum(t.get("cpu") or 0 for t in result["runs"][run]["tables"] if t["table"] in SAME_HOP)
        duck_s, duck_cpu = _duck_same_hop(ref, _phase(result, f"duckdb_{run}"))
        rows.append(
            [
                run,
                spark_wall,
                round(same, 1),
                round(same_cpu, 1),
                duck_s,
                duck_cpu,
                f"{same / duck_s:.0f}x" if duck_s else None,
                f"{same_cpu / duck_cpu:.0f}x" if duck_cpu and same_cpu else None,
                "equal" if ref["kpis"]["equal"] else f"{len(ref['kpis']['mismatches'])} mismatches",
                ref["kpis"]["max_abs_money_diff"],
                "equal" if all(v["equal"] for v in ref["silver"].values()) else "differ",
            ]
        )
    n_tables = len(result["runs"]["full"]["tables"])
    out.append(
        _md_table(
            [
                "state",
                f"Spark run s ({n_tables} tables)",
                "Spark s, same 5 tables",
                "Spark CPU s, same 5",
                "DuckDB s, same hop",
                "DuckDB CPU s, same hop",
                "wall ratio",
                "CPU ratio",
                "daily_kpis",
                "max money diff",
                "silver/quarantine rows",
            ],
            rows,
        )
    )
    out.append("")
    out.append(
        "Same hop = " + ", ".join(SAME_HOP) + " (build + gate + write). DuckDB recomputes from the "
        "landing files each time (for the incremental state: all files, as two ingestion batches); its "
        "same-hop figures are its steps " + ", ".join(DUCK_SAME_HOP) + " (older results: its whole run)."
    )
    out.append("")
    if all("gold" in d[run] for run in ("full", "incremental")):
        out.extend(_whole_pipeline(result))
    out.append("DuckDB steps:")
    out.append("")
    steps = list(dict.fromkeys([*d["full"]["seconds"], *d["incremental"]["seconds"]]))
    out.append(
        _md_table(
            ["DuckDB step", "full s", "full CPU s", "incremental s", "incremental CPU s"],
            [
                [
                    step,
                    d["full"]["seconds"].get(step),
                    d["full"].get("cpu_seconds", {}).get(step),
                    d["incremental"]["seconds"].get(step),
                    d["incremental"].get("cpu_seconds", {}).get(step),
                ]
                for step in steps
            ],
        )
    )
    out.append("")
    for run in ("full", "incremental"):
        ref = d[run]
        for name, pair in ref["silver"].items():
            if not pair["equal"]:
                out.append(f"- {run}: {name}: Spark {pair['spark']:,} vs DuckDB {pair['duckdb']:,}")
        for line in ref["kpis"]["mismatches"][:40]:
            out.append(f"- {run}: {line}")
        for table, check in ref.get("gold", {}).items():
            for line in check["mismatches"][:20]:
                out.append(f"- {run}: gold.{table}: {line}")
    out.append("")
    out.append(f"Total benchmark wall time: {result['total_seconds']:.0f} s.")
    return "\n".join(out)


def _whole_pipeline(result: dict[str, Any]) -> list[str]:
    """Spark's whole run (every table) vs DuckDB's whole reference (every gold table), and gold equality."""
    d, cores = result["duckdb"], _cores(result)
    out = ["### Whole pipeline: Spark (every table) vs DuckDB (landing -> every gold table)", ""]
    rows = []
    for run, phase_name in (("full", "full_run"), ("incremental", "incremental_run")):
        ref, spark_phase, duck_phase = d[run], _phase(result, phase_name), _phase(result, f"duckdb_{run}")
        spark_wall = result["runs"][run]["wall_seconds"]
        # CPU over the same span as the run's wall: every table plus the ops records (the phase also
        # holds the Pipeline set-up before the run's clock starts).
        tables = result["runs"][run]["tables"]
        if all(t.get("cpu") is not None for t in tables):
            spark_cpu = round(sum(t["cpu"] for t in tables) + result["runs"][run].get("finish", {}).get("cpu", 0), 1)
        else:
            spark_cpu = spark_phase["cpu_ours_s"] if spark_phase else None
        duck_s = ref["seconds"]["total"]
        duck_cpu = duck_phase["cpu_ours_s"] if duck_phase else ref.get("cpu_seconds", {}).get("total")
        equal = sum(1 for g in ref["gold"].values() if g["equal"])
        rows.append(
            [
                run,
                spark_wall,
                spark_cpu,
                _pct(cpu_util(spark_cpu, spark_wall, cores)),
                duck_s,
                duck_cpu,
                _pct(cpu_util(duck_cpu, duck_s, cores)),
                f"{spark_wall / duck_s:.0f}x" if duck_s else None,
                f"{spark_cpu / duck_cpu:.0f}x" if duck_cpu and spark_cpu else None,
                f"{equal}/{len(ref['gold'])} equal",
            ]
        )
    n_tables = len(result["runs"]["full"]["tables"])
    out.append(
        _md_table(
            [
                "state",
                f"Spark run s ({n_tables} tables)",
                "Spark CPU s",
                "Spark CPU util",
                f"DuckDB s ({len(d['full']['gold'])} gold tables)",
                "DuckDB CPU s",
                "DuckDB CPU util",
                "wall ratio",
                "CPU ratio",
                "gold tables",
            ],
            rows,
        )
    )
    out.append("")
    out.append(
        "Spark run = every table of the catalog plus the ops records (the run's wall; CPU = the tables' and the "
        "ops records' CPU s); DuckDB = "
        "read every landing source, build silver events, order lines, products, experiments and exposures and "
        "every gold table, and write them all as Parquet. Gold tables are compared with the Spark Delta "
        "versions of the same run: counts and other columns exact, money within 1e-6, rates within 1e-9."
    )
    out.append("")
    rows = []
    for table in d["full"]["gold"]:
        row: list[Any] = [f"gold.{table}"]
        for run in ("full", "incremental"):
            g = d[run]["gold"][table]
            row += [
                f"{g['rows_spark']:,} / {g['rows_duckdb']:,}",
                "equal" if g["equal"] else f"different ({g['mismatch_count']})",
                g["max_abs_money_diff"],
                f"{g['max_abs_rate_diff']:.1e}",
            ]
        rows.append(row)
    out.append(
        _md_table(
            [
                "gold table",
                "full: rows Spark / DuckDB",
                "full",
                "full: max money diff",
                "full: max rate diff",
                "incr.: rows Spark / DuckDB",
                "incremental",
                "incr.: max money diff",
                "incr.: max rate diff",
            ],
            rows,
        )
    )
    out.append("")
    return out


# ---------------------------------------------------------------------------------------------


def _git_state() -> dict[str, Any]:
    """HEAD and the modified tracked files when the benchmark starts (the code it imports)."""

    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=False).stdout
        except OSError:
            return ""

    return {
        "commit": git("rev-parse", "--short", "HEAD").strip(),
        "dirty_files": [line[3:] for line in git("status", "--porcelain").splitlines() if line[:2] != "??"],
    }


def _machine() -> dict[str, Any]:
    meminfo = _read("/proc/meminfo") or ""
    total_kb = next((int(line.split()[1]) for line in meminfo.splitlines() if line.startswith("MemTotal:")), 0)
    cpu_model = next(
        (
            line.split(":", 1)[1].strip()
            for line in (_read("/proc/cpuinfo") or "").splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return {
        "cpus": os.cpu_count(),
        "cores": CORES,  # usable by this process: the denominator of CPU utilisation
        "cpu_model": cpu_model,
        "memory_gb": round(total_kb / 2**20, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "loadavg_start": [round(x, 2) for x in os.getloadavg()],
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="events in the full run's landing files")
    parser.add_argument("--days", type=int, default=14, help="days of landing data in the full run")
    parser.add_argument("--incremental-days", type=int, default=1, help="days added before the incremental run")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--workdir",
        type=Path,
        default=Path("/tmp/lakehouse-bench"),
        help="workload cache, lakehouse root and results (default /tmp/lakehouse-bench)",
    )
    parser.add_argument(
        "--skip-generate",
        action="store_true",
        help="never generate: use the workload already in --workdir for these parameters",
    )
    parser.add_argument(
        "--replicate",
        type=int,
        default=1,
        help="generate events/N and copy event and order files N times with suffixed ids (for 1e7: 10)",
    )
    parser.add_argument("--shuffle-partitions", type=int, default=None, help="default: the settings' value")
    parser.add_argument("--driver-memory", default=None, help="spark.driver.memory (default: the settings' value)")
    parser.add_argument(
        "--gate",
        choices=("gx", "count"),
        default="gx",
        help="gx: the real quality gates; count: ablation that only materialises each table",
    )
    parser.add_argument(
        "--runner",
        choices=("serial", "dag"),
        default="serial",
        help="serial: one table after another (per-table figures add up); "
        "dag: Pipeline.run() as `lakehouse run` does, independent tables at once",
    )
    parser.add_argument("--duckdb-threads", type=int, default=None, help="default: all cores")
    parser.add_argument("--output", type=Path, default=None, help="JSON result file (default under WORKDIR/results)")
    parser.add_argument(
        "--render",
        type=Path,
        default=None,
        metavar="JSON",
        help="only print the Markdown report of a saved result file",
    )
    args = parser.parse_args(argv)
    if args.events < 1 or args.days < 1 or args.incremental_days < 1:
        parser.error("--events, --days and --incremental-days must be positive")
    args.workdir = args.workdir.resolve()
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.render:
        print(render(json.loads(args.render.read_text())))
        return 0
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s %(message)s")
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("TQDM_DISABLE", "1")
    began = time.perf_counter()
    machine = _machine()
    git_state = _git_state()
    monitor = Monitor()
    try:
        with monitor.phase("workload"):
            workload_dir, manifest = prepare_workload(args)

        run_dir = args.workdir / "run"
        if run_dir.exists():
            shutil.rmtree(run_dir)
        landing, root = run_dir / "landing", run_dir / "lakehouse"
        _link_tree(workload_dir / "base", landing)

        from lakehouse.settings import load_settings
        from lakehouse.spark import create_spark_session

        overrides: dict[str, Any] = {
            "root": str(root),
            "landing": str(landing),
            "kafka_enabled": False,
            "sources_file": None,
        }
        if args.shuffle_partitions:
            overrides["shuffle_partitions"] = args.shuffle_partitions
        if args.driver_memory:
            overrides["spark_driver_memory"] = args.driver_memory
        settings = load_settings(**overrides)

        with monitor.phase("spark_start"):
            spark = create_spark_session(settings)
            spark.range(1).count()  # the first action pays for the JVM's class loading

        full_ingest = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        print("full run ...", flush=True)
        with monitor.phase("full_run"):
            full_report, full_wall, full_cost = run_pipeline(settings, spark, "full", monitor, args.gate, args.runner)
        files_full = files_by_layer(root)
        # Saved at once: a later failure must not lose a 20-minute run.
        partial = args.workdir / "results" / f"pipeline-e{args.events}-{args.gate}-full-run-partial.json"
        partial.parent.mkdir(parents=True, exist_ok=True)
        partial.write_text(
            json.dumps(
                {
                    "git": git_state,
                    "machine": machine,
                    "wall_seconds": full_wall,
                    "tables": table_report(full_report, full_cost),
                    "phases": [asdict(p) for p in monitor.phases],
                    "files": files_full,
                },
                indent=2,
                default=str,
            )
            + "\n"
        )
        kpi_version_full = next(r.delta_version for r in full_report.results if r.table == "gold.daily_kpis")
        gold_versions = {
            r.table.split(".", 1)[1]: r.delta_version for r in full_report.results if r.table.startswith("gold.")
        }

        with monitor.phase("add_incremental_files"):
            _link_tree(workload_dir / "extra", landing)
        incr_ingest = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        print("incremental run ...", flush=True)
        with monitor.phase("incremental_run"):
            incr_report, incr_wall, incr_cost = run_pipeline(settings, spark, "incr", monitor, args.gate, args.runner)
        files_incr = files_by_layer(root)
        jvm_hwm = monitor.jvm_hwm_mb()
        spark.stop()

        # The DuckDB reference runs after Spark stopped, on the same 2 cores.
        base_batch = duckdb_reference.Batch(tuple(duckdb_reference.landing_files(workload_dir / "base")), full_ingest)
        extra_batch = duckdb_reference.Batch(
            tuple(f for f in duckdb_reference.landing_files(landing) if f not in set(base_batch.files)), incr_ingest
        )
        duck: dict[str, Any] = {}
        for run, batches, version in (
            ("full", [base_batch], kpi_version_full),
            ("incremental", [base_batch, extra_batch], None),
        ):
            print(f"DuckDB reference ({run}) ...", flush=True)
            with monitor.phase(f"duckdb_{run}"):
                ref = duckdb_reference.run_reference(
                    landing, batches, threads=args.duckdb_threads, write_dir=run_dir / f"duckdb-{run}"
                )
            kpis = compare_kpis(spark_daily_kpis(root, version), ref.daily_kpis)
            gold = compare_all_gold(root, gold_versions if run == "full" else {}, ref.gold)
            duck[run] = {
                "seconds": ref.seconds,
                "cpu_seconds": ref.cpu_seconds,
                "counts": ref.counts,
                "kpis": kpis,
                "gold": gold,
                "daily_kpis": ref.daily_kpis,
            }
        # Silver totals can only be compared for the final state (Spark's tables moved on).
        duck["incremental"]["silver"] = compare_silver(root, duck["incremental"]["counts"])
        full_counts = duck["full"]["counts"]
        silver_full = {t["table"]: t for t in table_report(full_report)}
        duck["full"]["silver"] = {
            "silver.events rows": {
                "spark": silver_full["silver.events"]["rows"],
                "duckdb": full_counts["silver_events"],
            },
            "quarantine.events rows": {
                "spark": silver_full["silver.events"]["quarantined"],
                "duckdb": full_counts["events_quarantined"],
            },
            "silver.order_lines rows": {
                "spark": silver_full["silver.order_lines"]["rows"],
                "duckdb": full_counts["silver_order_lines"],
            },
            "quarantine.order_lines rows": {
                "spark": silver_full["silver.order_lines"]["quarantined"],
                "duckdb": full_counts["order_lines_quarantined"],
            },
        }
        for pair in duck["full"]["silver"].values():
            pair["equal"] = pair["spark"] == pair["duckdb"]
    finally:
        monitor.close()

    result: dict[str, Any] = {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine,
        "git": git_state,
        "settings": {
            "spark_master": settings.spark_master,
            "shuffle_partitions": settings.shuffle_partitions,
            "driver_memory": settings.spark_driver_memory,
            "gate_pandas_max_rows": settings.gate_pandas_max_rows,
            "gate": args.gate,
            "runner": args.runner,
        },
        "workload": {k: v for k, v in manifest.items() if not k.endswith("_files")},
        "runs": {
            "full": {
                "wall_seconds": round(full_wall, 3),
                "tables": table_report(full_report, full_cost),
                "finish": full_cost["ops records (finish)"],
            },
            "incremental": {
                "wall_seconds": round(incr_wall, 3),
                "tables": table_report(incr_report, incr_cost),
                "finish": incr_cost["ops records (finish)"],
            },
        },
        "phases": [asdict(p) for p in monitor.phases],
        "memory": {
            "jvm_vmhwm_mb": jvm_hwm,
            "python_maxrss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        },
        "files": {"after_full": files_full, "after_incremental": files_incr},
        "duckdb": duck,
        "total_seconds": round(time.perf_counter() - began, 1),
    }
    results_dir = args.workdir / "results"
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
    output = args.output or results_dir / f"pipeline-e{args.events}-{stamp}.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, indent=2, default=str) + "\n")  # before rendering: never lose a run
    markdown = render(result)
    print()
    print(markdown)
    output.with_suffix(".md").write_text(markdown + "\n")
    print(f"\nresults: {output} (and {output.with_suffix('.md').name})")
    equal = all(
        duck[r]["kpis"]["equal"]
        and all(p["equal"] for p in duck[r]["silver"].values())
        and all(g["equal"] for g in duck[r]["gold"].values())
        for r in ("full", "incremental")
    )
    for r in ("full", "incremental"):
        print(
            f"Spark vs DuckDB gold ({r}):",
            ", ".join(f"{t} {'equal' if g['equal'] else 'DIFFERENT'}" for t, g in duck[r]["gold"].items()),
        )
    print("Spark gold tables vs DuckDB:", "EQUAL" if equal else "MISMATCH (see above)")
    return 0 if equal else 1


if __name__ == "__main__":
    sys.exit(main())
