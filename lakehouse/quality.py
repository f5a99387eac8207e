"""Quality gates: run a table's Great Expectations suite on the data about to be published.

The gate runs before the write, so a failed critical check leaves the table and
everything downstream untouched. Warnings are reported, never blocking.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from typing import Any, Literal

from pyspark.sql import DataFrame

Severity = Literal["critical", "warn"]

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")


@dataclass(frozen=True)
class Check:
    """One expectation with the severity that decides what a failure does."""

    expectation: Any  # a great_expectations.expectations.Expectation
    severity: Severity = "critical"


def critical(expectation: Any) -> Check:
    return Check(expectation, "critical")


def warn(expectation: Any) -> Check:
    return Check(expectation, "warn")


@dataclass(frozen=True)
class CheckResult:
    table: str
    expectation: str
    column: str | None
    severity: Severity
    success: bool
    unexpected_count: int | None
    observed: str | None

    def describe(self) -> str:
        target = f" on {self.column}" if self.column else ""
        count = f"{self.unexpected_count} failing rows" if self.unexpected_count is not None else "failed"
        observed = f", observed {self.observed}" if self.observed and self.unexpected_count is None else ""
        return f"{self.table}: {self.expectation}{target}: {count}{observed}"


class GateFailed(RuntimeError):
    """A critical check failed; nothing downstream of ``table`` was written."""

    def __init__(self, table: str, failures: list[CheckResult]) -> None:
        self.table = table
        self.failures = failures
        super().__init__("quality gate failed: " + "; ".join(f.describe() for f in failures))


def _quiet_gx() -> None:
    for name in (
        "great_expectations",
        "great_expectations.core",
        "great_expectations.data_context",
        "great_expectations.data_context.types.base",  # "Created temporary directory ... docs site"
    ):
        logging.getLogger(name).setLevel(logging.ERROR)
    # GX draws a tqdm bar per validation; keep logs readable.
    os.environ.setdefault("TQDM_DISABLE", "1")


class QualityGate:
    """One ephemeral GX context per process, reused for every table's validation."""

    def __init__(self) -> None:
        _quiet_gx()
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        self._gx = gx
        self._context = gx.get_context(mode="ephemeral")
        self._context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
        # Any: the Spark and pandas datasources both have add_dataframe_asset, but GX's common base does not.
        self._sources: dict[str, Any] = {
            # The runner caches the frame it gates and writes; GX persisting it again would copy it twice.
            "spark": self._context.data_sources.add_spark(name="lakehouse-spark", persist=False),
            "pandas": self._context.data_sources.add_pandas(name="lakehouse-pandas"),
        }
        self._assets: dict[tuple[str, str], Any] = {}
        # The GX context (suites, assets) is not thread-safe; tables validate one at a time.
        self._lock = threading.Lock()
        # The GX result of each table's latest validation, kept so Data Docs can be built from the
        # very results that gated the write (validating again after the write would cost a second pass).
        self.last_validations: dict[str, Any] = {}

    def _batch_definition(self, engine: str, table: str) -> Any:
        if (engine, table) not in self._assets:
            asset = self._sources[engine].add_dataframe_asset(name=table)
            self._assets[engine, table] = asset.add_batch_definition_whole_dataframe(f"{table}-batch")
        return self._assets[engine, table]

    def validate(
        self, table: str, df: DataFrame, checks: list[Check], rows: int | None = None, pandas_max_rows: int = 0
    ) -> list[CheckResult]:
        """Validate ``df`` against ``checks``; return one result per check (raises nothing).

        GX issues one Spark job per metric, seconds each even on a cached frame; a batch
        of at most ``pandas_max_rows`` rows is validated in pandas instead, where the
        same suite takes a fraction of that. Larger batches stay distributed.
        """
        if not checks:
            return []
        # The Spark work on this table's own frame (the count that fills its cache, the pandas copy
        # of a small batch) runs before taking the lock: only the GX context needs one caller at a
        # time, and another table's gate need not wait while this frame is computed.
        if rows is None and pandas_max_rows > 0:
            rows = df.count()
        small = rows is not None and rows <= pandas_max_rows
        engine, data = ("pandas", df.toPandas()) if small else ("spark", df)
        with self._lock:
            return self._validate(table, engine, data, checks)

    def _validate(self, table: str, engine: str, data: Any, checks: list[Check]) -> list[CheckResult]:
        suite_name = suite_name_of(table)
        existing = {suite.name for suite in self._context.suites.all()}
        if suite_name in existing:
            self._context.suites.delete(suite_name)
        suite = self._context.suites.add(self._gx.ExpectationSuite(name=suite_name))
        for check in checks:
            suite.add_expectation(check.expectation)
        batch = self._batch_definition(engine, table).get_batch(batch_parameters={"dataframe": data})
        validation = batch.validate(suite, result_format=COUNTS_ONLY)
        failed = [outcome for outcome in validation.results if not outcome.success]
        if failed:
            self._add_samples(batch, validation, failed)
        self.last_validations[table] = validation
        # GX groups results by column, not in suite order: pair each result with its check by
        # expectation id, or a warn check's failure could be reported (and raised) as critical.
        position = {check.expectation.id: index for index, check in enumerate(checks)}
        outcomes = sorted(validation.results, key=lambda o: position.get(o.expectation_config.id, len(checks)))
        results = []
        for check, outcome in zip(checks, outcomes, strict=True):
            detail = outcome.result or {}
            kwargs = outcome.expectation_config.kwargs
            observed = detail.get("observed_value")
            results.append(
                CheckResult(
                    table=table,
                    expectation=outcome.expectation_config.type,
                    column=kwargs.get("column") or (",".join(kwargs.get("column_list", [])) or None),
                    severity=check.severity,
                    success=bool(outcome.success),
                    unexpected_count=detail.get("unexpected_count"),
                    observed=None if observed is None else str(observed),
                )
            )
        return results

    @staticmethod
    def _add_samples(batch: Any, validation: Any, failed: list[Any]) -> None:
        """Validate the failed expectations again with samples of failing values, for reports and Data Docs.

        Only what failed pays for the sample jobs; the results replace the counts-only ones.
        """
        by_id = {}
        for outcome in failed:
            expectation = outcome.expectation_config.to_domain_obj()
            by_id[outcome.expectation_config.id] = batch.validate(expectation, result_format=WITH_SAMPLES)
        validation.results = [by_id.get(o.expectation_config.id, o) for o in validation.results]


# Counts of failing rows without sample values: GX then bundles a table's checks into a few
# aggregate jobs (a sample of 0 values needs no Spark job: Spark optimises LIMIT 0 away).
COUNTS_ONLY = {"result_format": "BASIC", "partial_unexpected_count": 0}
WITH_SAMPLES = {"result_format": "SUMMARY", "partial_unexpected_count": 20}


def suite_name_of(table: str) -> str:
    """The GX suite name of a table's checks (also the name of its Data Docs page)."""
    return f"{table}-suite"


def raise_on_critical(table: str, results: list[CheckResult]) -> None:
    failures = [r for r in results if r.severity == "critical" and not r.success]
    if failures:
        raise GateFailed(table, failures)
