"""Dashboard latency: page render time (Streamlit AppTest) and loader query latency, p50/p95.

Usage::

    python benchmarks/dashboard_latency.py --root data/lakehouse [--runs 20] [--pages overview funnels]

Three numbers per page and loader, because they answer different questions:

* ``first``: the first call in a fresh process (imports, Delta log reads, empty caches)
  is what the first visitor after a restart waits for;
* ``uncached``: every later call with the result cache cleared before it, i.e. what a
  visitor waits for once per ``dashboard_cache_seconds`` when nothing was committed since:
  pages keep what a server keeps across the TTL (table handles, brought up to date with the
  Delta log before each read, and results per Delta version), so a run costs a log check per
  table plus Streamlit and Plotly. ``--cold`` clears those too before each page run: every
  log and data file read afresh, what the first visitor after a pipeline commit waits for.
  The loader rows always clear everything (bare read cost);
* ``cached``: a repeat within the cache TTL.

Page times are server-side script runs (AppTest), without the browser's rendering.
Every timed run is a new ``AppTest`` (a new session, as a new visitor gets), sharing one
custom-component registry the way all sessions of a server share the one it builds at
start: a fresh ``AppTest`` otherwise rescans the metadata of every installed package for
component manifests (about 100-600 ms here, growing with the venv), a cost no page visit
pays. ``--fresh-harness`` times the old way (registry rebuilt per run); the cost of one
scan is printed above the page table either way.
Numbers depend on the machine and the lakehouse; run it against the same root you
describe in the docs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
PAGES = {
    "overview": "app.py",
    "products": "pages/1_Products_and_categories.py",
    "funnels": "pages/2_Funnels.py",
    "experiments": "pages/3_Experiments.py",
    "cohorts": "pages/4_Cohorts.py",
    "health": "pages/5_Data_health.py",
    "lineage": "pages/6_Lineage.py",
}
TABLES = (
    "gold.daily_kpis",
    "gold.product_daily",
    "gold.category_daily",
    "gold.funnel_daily",
    "gold.experiment_results",
    "gold.retention_cohorts",
    "ops.pipeline_runs",
    "ops.quality_results",
)


def percentile(samples: list[float], share: float) -> float:
    """Nearest-rank percentile (no interpolation: with 20 runs p95 is the 19th slowest)."""
    ordered = sorted(samples)
    index = max(0, min(len(ordered) - 1, round(share * len(ordered) + 0.5) - 1))
    return ordered[index]


def timed(call: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = call()
    return (time.perf_counter() - start) * 1000, result


def measure(call: Callable[[], Any], runs: int, clear: Callable[[], None]) -> dict[str, Any]:
    """first / uncached / cached timings (ms) of ``call``; ``clear`` empties the result cache."""
    first, result = timed(call)
    uncached: list[float] = []
    cached: list[float] = []
    for _ in range(runs):
        clear()
        uncached.append(timed(call)[0])
        cached.append(timed(call)[0])
    return {"first": first, "uncached": uncached, "cached": cached, "result": result}


def row(name: str, size: str, timing: dict[str, Any]) -> str:
    u, c = timing["uncached"], timing["cached"]
    return (
        f"| {name:<34} | {size:>8} | {timing['first']:>9.1f} | {percentile(u, 0.5):>8.1f} | {percentile(u, 0.95):>8.1f}"
        f" | {percentile(c, 0.5):>8.1f} | {percentile(c, 0.95):>8.1f} |"
    )


HEADER = (
    f"| {'what':<34} | {'rows':>8} | {'first ms':>9} | {'unc p50':>8} | {'unc p95':>8}"
    f" | {'hit p50':>8} | {'hit p95':>8} |\n"
    f"|{'-' * 36}|{'-' * 10}|{'-' * 11}|{'-' * 10}|{'-' * 10}|{'-' * 10}|{'-' * 10}|"
)


def component_registry() -> Any:
    """One custom-component registry, built the way a server builds it at start; prints what the scan cost."""
    from streamlit.components.v2.component_manager import BidiComponentManager

    manager = BidiComponentManager()
    took, _ = timed(lambda: manager.discover_and_register_components(start_file_watching=False))
    print(
        f"AppTest harness: component registry scan {took:.0f} ms (once per server start; shared by the runs below, "
        "--fresh-harness to pay it per run)\n"
    )
    return manager


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", required=True, help="lakehouse root to read (folder or s3a://bucket/prefix)")
    parser.add_argument("--runs", type=int, default=20, help="timed repetitions per measurement (default 20)")
    parser.add_argument("--pages", nargs="*", default=list(PAGES), choices=list(PAGES), help="pages to render")
    parser.add_argument("--skip-pages", action="store_true", help="only time the loaders")
    parser.add_argument(
        "--cold",
        action="store_true",
        help="page runs also drop table handles and per-version results (every Delta log and file read afresh)",
    )
    parser.add_argument(
        "--fresh-harness",
        action="store_true",
        help="rebuild AppTest's component registry on every run (adds the package scan to each page time)",
    )
    args = parser.parse_args(argv)

    # the app reads its settings from the environment, like every entry point
    os.environ["LAKEHOUSE_ROOT"] = args.root if "://" in args.root else str(Path(args.root).resolve())
    sys.path.insert(0, str(REPO))

    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from dashboard import data
    from lakehouse.settings import load_settings

    # outside a server every cached call warns "No runtime found" (and AppTest resets log levels)
    for noisy in (
        "streamlit.runtime.caching.cache_data_api",
        "streamlit.runtime.scriptrunner_utils.script_run_context",
    ):
        logging.getLogger(noisy).disabled = True
    settings = load_settings()
    bounds = data.date_bounds(settings)
    end = bounds[1] if bounds else dt.date.today()
    start = max(bounds[0], end - dt.timedelta(days=29)) if bounds else end - dt.timedelta(days=29)
    one_device = data.devices(settings)[:1]
    data.clear_cache()  # the pages' first run starts from empty caches
    print(f"lakehouse {settings.root}; date range {start} to {end}; {args.runs} runs each; times in ms\n")

    if not args.skip_pages:
        registry = None if args.fresh_harness else component_registry()
        print(f"Pages (AppTest script run, no browser; uncached = {'cold' if args.cold else 'result cache cleared'})")
        print(HEADER)
        for page in args.pages:
            script = str(REPO / "dashboard" / PAGES[page])

            def render(script: str = script) -> Any:
                at = AppTest.from_file(script, default_timeout=300)
                if registry is not None:
                    at._bidi_component_manager = registry  # what the server's Runtime holds for all sessions
                at.run()
                if at.exception:
                    raise RuntimeError(f"{script} raised: {at.exception[0].message}")
                return at

            timing = measure(render, args.runs, data.clear_cache if args.cold else st.cache_data.clear)
            print(row(page, "-", timing), flush=True)
        print()

    loaders: list[tuple[str, Callable[[], Any]]] = []
    for table_id in TABLES:
        loaders.append((f"load {table_id}", lambda t=table_id: data.load_table(settings, t)))
    loaders += [
        ("load gold.daily_kpis (30 days)", lambda: data.load_table(settings, "gold.daily_kpis", start, end)),
        (
            "load funnel_daily (30 d, 1 device)",
            lambda: data.load_table(settings, "gold.funnel_daily", start, end, one_device),
        ),
        ("duckdb top_products (30 days)", lambda: data.top_products(settings, start, end)),
        ("duckdb stock_cover", lambda: data.stock_cover(settings, end)),
        ("delta log table_info(daily_kpis)", lambda: data.table_info(settings, "gold.daily_kpis")),
        ("date_bounds (3 tables)", lambda: data.date_bounds(settings)),
    ]
    print("Loaders")
    print(HEADER)
    for name, call in loaders:
        timing = measure(call, args.runs, data.clear_cache)
        result = timing["result"]
        size = str(len(result)) if hasattr(result, "__len__") and not isinstance(result, tuple) else "-"
        print(row(name, size, timing), flush=True)

    return 0


if __name__ == "__main__":
    raise SystemExit(main())
