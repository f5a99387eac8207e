"""Quality reports of a run: Great Expectations Data Docs, the summary behind ``lakehouse quality``,
and the markdown of the run's Prefect artifact.

Data Docs are built from the very validation results that gated the writes. :class:`QualityGate`
keeps each table's GX result object; after the run they are stored in a GX *file* context and the
site is rebuilt with ``build_data_docs`` (what a checkpoint's ``UpdateDataDocsAction`` calls). The
alternative, validating again through a checkpoint over the written tables, would read big tables a
second time; running every gate through a file-context checkpoint would write suites and validation
definitions to disk on the hot path of every table. Storing the results afterwards costs neither.

Where things go:

* the GX project (suites and the validation-result store the site is rendered from) lives with the
  lakehouse it describes: ``<root>/_gx`` for a local root, ``<cache_dir>/gx/<bucket>/<prefix>`` for an
  object-storage root (GX's file stores are local; its S3 backend would need boto3);
* the site goes to ``data_docs_dir``; by default ``data_docs`` beside a local root, or for an
  object-storage root it is rendered under ``cache_dir`` and uploaded to ``s3://<bucket>/data_docs/``
  with the ``minio`` SDK (only changed files, stale pages removed).

Results of the last ``data_docs_keep_runs`` runs are kept, so the site shows recent history while its
rebuild time and size stay bounded. Every table with a suite gets a suite page, validated in this run
or not. Nothing here raises into the run: a report that cannot be built is logged.

The mirror deletes every object under its prefix that the local site lacks, so a prefix pointing at
the lakehouse or the landing zone would delete tables or unread files. :func:`check_docs_location`
refuses a site location that equals, contains or lies inside the root or the landing zone, before
anything is rendered, listed or deleted.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import logging
import mimetypes
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from lakehouse import alerts, delta_log, monitors
from lakehouse.hooks import RunCommitted, RunHooks, TableFailure
from lakehouse.ops import read_ops
from lakehouse.quality import Check, suite_name_of
from lakehouse.settings import Settings, is_object_path
from lakehouse.storage import ObjectLocation, quarantine_id, split_table_id, table_id_path

if TYPE_CHECKING:
    from lakehouse.catalog import Catalog
    from lakehouse.model import TableResult

log = logging.getLogger(__name__)

SITE_NAME = "lakehouse"
GX_FOLDER = "_gx"
REMOTE_DOCS_PREFIX = "data_docs"
SEVERITY_NOTES = {
    "critical": "severity: critical (a failure blocks the hop: nothing downstream is written)",
    "warn": "severity: warn (a failure is reported, never blocking)",
}
CHECK_COLUMNS = ["table", "expectation", "column", "severity", "success", "unexpected_count", "observed"]


# --------------------------------------------------------------------------- where Data Docs live


class DocsLocationError(ValueError):
    """The Data Docs site would overlap the lakehouse root or the landing zone."""


@dataclass(frozen=True)
class DocsTarget:
    """Where the site is rendered, where readers find it, and where it is uploaded (object storage)."""

    build_dir: Path
    location: str
    upload_to: ObjectLocation | None = None

    @property
    def index(self) -> Path:
        return self.build_dir / "index.html"


def _slug(*parts: str) -> str:
    return "-".join(p.strip("/").replace("/", "-") for p in parts if p.strip("/")) or "root"


def docs_target(settings: Settings) -> DocsTarget:
    """The Data Docs site of these settings (see the module docstring for the defaults)."""
    configured = settings.data_docs_dir
    remote: ObjectLocation | None = None
    if configured and is_object_path(configured):
        remote = ObjectLocation.parse(configured)
    elif configured:
        build = Path(configured).resolve()
        return DocsTarget(build, str(build / "index.html"))
    elif is_object_path(settings.root):
        remote = ObjectLocation(ObjectLocation.parse(settings.root).bucket, REMOTE_DOCS_PREFIX)
    else:
        build = Path(settings.root).resolve().parent / "data_docs"
        return DocsTarget(build, str(build / "index.html"))
    key = f"{remote.prefix}/index.html" if remote.prefix else "index.html"
    return DocsTarget(
        settings.cache_dir / "data_docs" / _slug(remote.bucket, remote.prefix), remote.uri(key, scheme="s3"), remote
    )


def _overlaps(a: str, b: str) -> bool:
    """Whether two ``/``-separated prefixes are equal or one lies inside the other ('' is everything)."""
    a, b = a.strip("/"), b.strip("/")
    return not a or not b or a == b or a.startswith(b + "/") or b.startswith(a + "/")


def _site_overlap(site: str, other: str) -> bool:
    """Whether a site location (local folder or object URI) overlaps ``other`` (root or landing)."""
    if is_object_path(site) != is_object_path(other):
        return False
    if is_object_path(site):
        ours, theirs = ObjectLocation.parse(site), ObjectLocation.parse(other)
        return ours.bucket == theirs.bucket and _overlaps(ours.prefix, theirs.prefix)
    return _overlaps(Path(site).resolve().as_posix(), Path(other).resolve().as_posix())


def check_docs_location(settings: Settings, target: DocsTarget) -> None:
    """Refuse a site that equals, contains or lies inside the lakehouse root or the landing zone.

    The upload removes every object under its prefix that the local site lacks (and GX prunes pages
    in a local site), so an overlapping location would delete tables or landing files. Pure string
    and path logic: it runs before any client is created or anything is listed.
    """
    remote = target.upload_to
    site = remote.uri(remote.prefix, scheme="s3") if remote is not None else str(target.build_dir)
    for name, location in (
        ("lakehouse root (LAKEHOUSE_ROOT)", settings.root),
        ("landing zone (LAKEHOUSE_LANDING)", settings.landing),
    ):
        if _site_overlap(site, location):
            raise DocsLocationError(
                f"Data Docs location {site} overlaps the {name} {location}: syncing the site deletes what "
                "the site lacks there. Set LAKEHOUSE_DATA_DOCS_DIR to a folder or s3://bucket/prefix outside both"
            )


def gx_project_dir(settings: Settings) -> Path:
    """The GX file-context project holding suites and validation results of this lakehouse."""
    if is_object_path(settings.root):
        location = ObjectLocation.parse(settings.root)
        return settings.cache_dir / "gx" / _slug(location.bucket, location.prefix)
    return Path(settings.root).resolve() / GX_FOLDER


# --------------------------------------------------------------------------- building Data Docs


def _file_context(settings: Settings, target: DocsTarget) -> Any:
    import great_expectations as gx

    # GX reports its temporary folders at INFO; a run's output is the CLI's summary.
    logging.getLogger("great_expectations").setLevel(logging.ERROR)

    project = gx_project_dir(settings)
    project.mkdir(parents=True, exist_ok=True)
    context = gx.get_context(mode="file", project_root_dir=project)
    site = {
        "class_name": "SiteBuilder",
        "show_how_to_buttons": False,
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(target.build_dir)},
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
    }
    if context.variables.data_docs_sites != {SITE_NAME: site}:
        # Only our site: GX's default local_site would render a second copy inside the project.
        context.variables.data_docs_sites = {SITE_NAME: site}
        context.variables.save()
    return context


def _put_suites(context: Any, suites: Mapping[str, list[Check]]) -> list[Any]:
    import great_expectations as gx
    from great_expectations.data_context.types.resource_identifiers import ExpectationSuiteIdentifier

    for table, checks in suites.items():
        expectations = []
        for check in checks:
            # A copy: an expectation object belongs to at most one suite, and this one may be in the gate's.
            expectation = copy.copy(check.expectation)
            # The severity is the lakehouse's, not GX's: say it on the suite page, next to each expectation.
            expectation.meta = {**(expectation.meta or {}), "severity": check.severity}
            expectation.notes = expectation.notes or SEVERITY_NOTES[check.severity]
            expectations.append(expectation)
        context.suites.add_or_update(gx.ExpectationSuite(name=suite_name_of(table), expectations=expectations))
    return [ExpectationSuiteIdentifier(name=suite_name_of(table)) for table in suites]


def _store_validations(context: Any, run_id: str, run_time: dt.datetime, validations: Mapping[str, Any]) -> list[Any]:
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    run = RunIdentifier(run_name=run_id, run_time=run_time)
    keys = []
    for table, result in validations.items():
        # The lakehouse run id names the run on every page, so Data Docs and ops.quality_results agree.
        result.meta["run_id"] = run
        result.meta["validation_time"] = run_time
        key = ValidationResultIdentifier(ExpectationSuiteIdentifier(name=suite_name_of(table)), run, table)
        context.validation_results_store.set(key, result)
        keys.append(key)
    return keys


def _prune(context: Any, keep_runs: int) -> int:
    """Drop validation results of all but the newest ``keep_runs`` runs; the index build removes their pages."""
    store = context.validation_results_store
    keys = list(store.list_keys())
    runs = sorted({(k.run_id.run_time, k.run_id.run_name) for k in keys}, reverse=True)
    old = set(runs[keep_runs:])
    stale = [k for k in keys if (k.run_id.run_time, k.run_id.run_name) in old]
    for key in stale:
        store.remove_key(key)
    return len(stale)


def _remove_empty_dirs(folder: Path) -> None:
    """GX removes pruned results and pages file by file; drop the run folders they leave empty."""
    if not folder.is_dir():
        return
    for path in sorted((p for p in folder.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
        if not any(path.iterdir()):
            path.rmdir()


def build_data_docs(
    settings: Settings,
    run_id: str,
    run_time: dt.datetime,
    validations: Mapping[str, Any],
    suites: Mapping[str, list[Check]],
) -> str:
    """Store this run's GX validation results and rebuild the site; return where its index is.

    ``validations`` maps table ids to the GX results their gates produced, ``suites`` maps every
    table with a suite to its checks (each gets a page). Only the pages of this run's results and
    of the suites are rendered; the index is rebuilt over everything kept.
    """
    target = docs_target(settings)
    check_docs_location(settings, target)
    context = _file_context(settings, target)
    run_time = run_time.replace(tzinfo=dt.UTC) if run_time.tzinfo is None else run_time
    changed = [*_put_suites(context, suites), *_store_validations(context, run_id, run_time, validations)]
    pruned = _prune(context, settings.data_docs_keep_runs)
    context.build_data_docs(site_names=[SITE_NAME], resource_identifiers=changed)
    if pruned:
        _remove_empty_dirs(Path(context.root_directory) / "uncommitted" / "validations")
        _remove_empty_dirs(target.build_dir / "validations")
    if target.upload_to is not None:
        upload_site(settings, target.build_dir, target.upload_to)
    return target.location


def _minio_client(settings: Settings) -> Any:
    from minio import Minio

    endpoint = settings.s3_endpoint
    return Minio(
        endpoint.split("://", 1)[-1],
        access_key=settings.s3_access_key_value(),
        secret_key=settings.s3_secret_key_value(),
        secure=endpoint.startswith("https://"),
        region=settings.s3_region,
    )


def upload_site(settings: Settings, build_dir: Path, remote: ObjectLocation) -> int:
    """Mirror ``build_dir`` to ``remote``: upload new or changed files, delete objects gone locally.

    Returns how many files were uploaded. Unchanged files are recognised by their MD5, which is
    the ETag of an object uploaded in one part (every Data Docs file is far below the part size).
    Raises :class:`DocsLocationError`, before any request, when ``remote`` overlaps root or landing.
    """
    check_docs_location(settings, DocsTarget(build_dir, remote.uri(remote.prefix, scheme="s3"), remote))
    client = _minio_client(settings)
    prefix = f"{remote.prefix}/" if remote.prefix else ""
    existing = {
        obj.object_name: (obj.etag or "").strip('"')
        for obj in client.list_objects(remote.bucket, prefix=prefix, recursive=True)
    }
    uploaded = 0
    local_names = set()
    for path in sorted(p for p in build_dir.rglob("*") if p.is_file()):
        name = prefix + path.relative_to(build_dir).as_posix()
        local_names.add(name)
        if existing.get(name) == hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest():
            continue
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        client.fput_object(remote.bucket, name, str(path), content_type=content_type)
        uploaded += 1
    for name in sorted(set(existing) - local_names):
        client.remove_object(remote.bucket, name)
    return uploaded


# --------------------------------------------------------------------------- after a run


def run_hooks(settings: Settings) -> RunHooks:
    """The hooks ``lakehouse run`` and the flows register: alerts on failures, reports after the commit."""

    def alert_failure(event: TableFailure) -> None:
        if event.gate is not None:
            alerts.gate_failed(settings, event.run_id, event.gate)
        else:
            body = f"Run {event.run_id}: {event.table} failed and was not written: {event.message}"
            alerts.send(settings, f"lakehouse: {event.table} failed", body, "failure")

    def publish(event: RunCommitted) -> None:
        publish_run(settings, event.run_id, event.started_at, event.catalog, event.results, event.validations)

    return RunHooks(table_failed=[alert_failure], run_committed=[publish])


def publish_run(
    settings: Settings,
    run_id: str,
    started_at: dt.datetime,
    catalog: Catalog,
    results: Iterable[TableResult],
    validations: Mapping[str, Any],
) -> str | None:
    """The runner's hook once a run's ops records are committed: Data Docs, then the sales-spike alert.

    ``validations`` may hold results of tables validated by an earlier run sharing the gate; only
    tables validated in *this* run (they have checks in ``results``) are published. Returns the
    Data Docs location, or None when they could not be built. Never raises.
    """
    results = list(results)
    validated = {r.table for r in results if r.checks}
    mine = {table: result for table, result in validations.items() if table in validated}
    location = None
    try:
        if mine or not docs_target(settings).index.exists():
            started = time.perf_counter()
            suites = {t.id: t.checks() for t in catalog if t.suite is not None}
            location = build_data_docs(settings, run_id, started_at, mine, suites)
            log.info(
                "Data Docs of run %s (%d validations, %d suites) at %s in %.1f s",
                run_id,
                len(mine),
                len(suites),
                location,
                time.perf_counter() - started,
            )
    except Exception as exc:  # a report must not fail the run it reports on
        log.warning("Data Docs were not built for run %s: %s", run_id, exc)
    try:
        alerts.sales_spikes(settings, run_id, results)
    except Exception as exc:
        log.warning("the sales-spike alert of run %s failed: %s", run_id, exc)
    return location


# --------------------------------------------------------------------------- reading a run back


@dataclass(frozen=True)
class QuarantineCount:
    table: str
    rule: str
    rows: int


@dataclass(frozen=True)
class RunQuality:
    """What ``lakehouse quality`` and the run artifact show about one run."""

    run_id: str
    checks: pd.DataFrame  # CHECK_COLUMNS, gates first (in run order) then monitors
    quarantine: list[QuarantineCount]
    docs_location: str
    docs_built: bool

    @property
    def gate_checks(self) -> pd.DataFrame:
        return self.checks[~self.checks["expectation"].isin(monitors.MONITORS)]

    @property
    def monitor_checks(self) -> pd.DataFrame:
        return self.checks[self.checks["expectation"].isin(monitors.MONITORS)]

    @property
    def failed(self) -> pd.DataFrame:
        return self.checks[~self.checks["success"].astype(bool)]

    @property
    def critical_failed(self) -> bool:
        failed = self.failed
        return bool((failed["severity"] == "critical").any())


def latest_run_id(settings: Settings) -> str | None:
    """The run that started last, from ``ops.pipeline_runs`` (or ``ops.quality_results`` if that is empty)."""
    runs = read_ops(settings, "pipeline_runs")
    if not runs.empty:
        return str(runs.sort_values(["started_at", "run_id"]).iloc[-1]["run_id"])
    checks = read_ops(settings, "quality_results")
    if not checks.empty:
        return str(checks.sort_values(["checked_at", "run_id"]).iloc[-1]["run_id"])
    return None


def _quarantine_counts(settings: Settings, runs: pd.DataFrame) -> list[QuarantineCount]:
    """Rows each table of the run quarantined, by rule, from the quarantine tables' ``_run_id`` / ``_rule``."""
    import pyarrow.dataset as ds

    counts: list[QuarantineCount] = []
    quarantined = runs[runs["quarantined"].fillna(0).astype(int) > 0]
    for row in quarantined.itertuples(index=False):
        run_id, table, total = str(row.run_id), str(row.table), int(row.quarantined)
        reader = delta_log.open_reader(settings, table_id_path(settings, quarantine_id(split_table_id(table)[1])))
        names = reader.schema().to_arrow().names if reader is not None else []
        if reader is None or "_run_id" not in names or "_rule" not in names:
            counts.append(QuarantineCount(table, "(all rules)", total))
            continue
        rows = reader.to_pyarrow_dataset().to_table(columns=["_rule"], filter=ds.field("_run_id") == run_id)
        by_rule = rows.column("_rule").value_counts().to_pylist() if rows.num_rows else []
        counts.extend(
            QuarantineCount(table, str(item["values"]), int(item["counts"]))
            for item in sorted(by_rule, key=lambda item: str(item["values"]))
        )
        if not by_rule:
            counts.append(QuarantineCount(table, "(all rules)", total))
    return counts


def run_quality(settings: Settings, run_id: str | None = None) -> RunQuality | None:
    """The checks, monitors and quarantine counts of ``run_id`` (default: the latest run); None if no run."""
    run_id = run_id or latest_run_id(settings)
    if run_id is None:
        return None
    checks = read_ops(settings, "quality_results")
    checks = checks[checks["run_id"] == run_id].reset_index(drop=True)
    runs = read_ops(settings, "pipeline_runs")
    runs = runs[runs["run_id"] == run_id]
    if checks.empty and runs.empty:
        return None
    is_monitor = checks["expectation"].isin(monitors.MONITORS)
    # Gates in the order the run checked them, then the monitors (they run once, at the end).
    ordered = checks.assign(_monitor=is_monitor, _order=range(len(checks)))
    ordered = ordered.sort_values(["_monitor", "checked_at", "_order"], kind="stable")[CHECK_COLUMNS]
    target = docs_target(settings)
    built = target.upload_to is not None or target.index.exists()
    return RunQuality(
        run_id, ordered.reset_index(drop=True), _quarantine_counts(settings, runs), target.location, built
    )


def _count(value: Any) -> str:
    return "-" if value is None or pd.isna(value) else str(int(value))


def _cell(value: Any) -> str:
    return "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)


def format_text(report: RunQuality) -> str:
    """The plain-text report ``lakehouse quality`` prints."""
    failed = report.failed
    lines = [
        f"run {report.run_id}: {len(report.checks)} checks, {len(failed)} failed "
        f"({int((failed['severity'] == 'critical').sum())} critical, {int((failed['severity'] == 'warn').sum())} warn)",
        "",
    ]
    rows = [["table", "expectation", "column", "severity", "result", "failing"]]
    for r in report.checks.itertuples(index=False):
        result = "ok" if r.success else "FAILED"
        rows.append([r.table, r.expectation, _cell(r.column), r.severity, result, _count(r.unexpected_count)])
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines += ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
    observed = [r for r in report.checks.itertuples(index=False) if not r.success and _cell(r.observed)]
    if observed:
        lines += ["", "observed on failed checks:"]
        lines += [
            f"  {r.table}: {r.expectation}{f' on {r.column}' if _cell(r.column) else ''}: {r.observed}"
            for r in observed
        ]
    lines += ["", "quarantine (rows by rule):"]
    lines += [f"  {q.table}  {q.rule}  {q.rows}" for q in report.quarantine] or ["  none"]
    lines += ["", f"Data Docs: {report.docs_location}{'' if report.docs_built else ' (not built yet)'}"]
    return "\n".join(lines)


def _md(value: Any) -> str:
    return _cell(value).replace("|", "\\|").replace("\n", " ")


def run_markdown(settings: Settings, run_id: str) -> str:
    """Markdown for the run's Prefect artifact: checks per table, failed checks, monitors, quarantine, Data Docs."""
    report = run_quality(settings, run_id)
    if report is None:
        return f"# Quality of run `{run_id}`\n\nNo checks or table runs were recorded for this run."
    gates, failed = report.gate_checks, report.failed
    critical = int((failed["severity"] == "critical").sum())
    verdict = "**critical check failed**" if critical else "no critical failure"
    out = [
        f"# Quality of run `{run_id}`",
        "",
        f"{len(report.checks)} checks, {len(failed)} failed ({critical} critical, {len(failed) - critical} warn): "
        f"{verdict}.",
        "",
        "## Checks per table",
        "",
        "| table | checks | passed | failed critical | failed warn |",
        "|---|---:|---:|---:|---:|",
    ]
    for table, group in gates.groupby("table", sort=False):
        bad = group[~group["success"].astype(bool)]
        out.append(
            f"| {_md(table)} | {len(group)} | {len(group) - len(bad)} | "
            f"{int((bad['severity'] == 'critical').sum())} | {int((bad['severity'] == 'warn').sum())} |"
        )
    if failed.empty:
        out += ["", "All checks passed."]
    else:
        out += [
            "",
            "## Failed checks",
            "",
            "| table | expectation | column | severity | failing rows | observed |",
            "|---|---|---|---|---:|---|",
        ]
        out += [
            f"| {_md(r.table)} | {_md(r.expectation)} | {_md(r.column)} | {r.severity} | "
            f"{_count(r.unexpected_count)} | {_md(r.observed)} |"
            for r in failed.itertuples(index=False)
        ]
    monitor_rows = report.monitor_checks
    if not monitor_rows.empty:
        out += ["", "## Monitors", "", "| table | freshness | volume |", "|---|---|---|"]
        by_table: dict[str, dict[str, str]] = {}
        for r in monitor_rows.itertuples(index=False):
            by_table.setdefault(r.table, {})[r.expectation] = f"{'ok' if r.success else '**WARN**'}: {_md(r.observed)}"
        out += [
            f"| {_md(table)} | {cells.get(monitors.FRESHNESS, '-')} | {cells.get(monitors.VOLUME, '-')} |"
            for table, cells in by_table.items()
        ]
    out += ["", "## Quarantine", ""]
    if report.quarantine:
        out += ["| table | rule | rows |", "|---|---|---:|"]
        out += [f"| {_md(q.table)} | {_md(q.rule)} | {q.rows} |" for q in report.quarantine]
    else:
        out.append("No rows quarantined.")
    out += ["", "## Data Docs", "", f"`{report.docs_location}`" + ("" if report.docs_built else " (not built yet)")]
    return "\n".join(out) + "\n"
