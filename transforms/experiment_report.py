"""From ``gold.experiment_daily`` sums to the decision tables: pandas in, pandas out.

``experiment_metrics`` gives one row per (experiment, non-control variant, declared metric) at
the latest date: the fixed-horizon comparison, the multiplicity-adjusted p-value, the CUPED
comparison and the variance reduction it achieved, the always-valid p-value and confidence
sequence, the minimum detectable effect, the guardrail status, the experiment's SRM p-value and
its one-line verdict. ``experiment_sequential`` gives the sequential path of every mean metric:
one row per (experiment, variant, metric, date) with the cumulative estimate, the fixed-horizon
95% CI and the confidence sequence, so a team that looks every day sees what it may conclude.

Choices (docs/experiments.md has the formulas):
- Multiple comparisons: Holm (or Benjamini-Hochberg) across the goal and secondary metrics x
  treatment variants of one experiment; guardrails are judged on their own (non-inferiority).
- SRM: users per variant against the planned allocation (``transforms.stats.srm_p_value``);
  below 0.001 the verdict is withheld, the numbers are still shown.
- The mixing variance of the sequential test is fixed per (experiment, metric) from the pooled
  per-user variance at the latest date, so every look of one refresh uses the same mixture.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np
import pandas as pd

from transforms.experiment_analysis import (
    ALPHA,
    Comparison,
    GoalResult,
    GuardrailResult,
    MeanSums,
    RatioSums,
    adjust_p_values,
    compare_cuped,
    compare_means,
    compare_ratios,
    default_tau2,
    guardrail_breached,
    mde_from_sums,
    sequential_test,
    verdict,
)
from transforms.experiment_metrics import METRICS, ExperimentMetric
from transforms.stats import srm_p_value

# The decision table's numeric columns (doubles, null where undefined), in table order.
METRIC_NUMBERS = (
    "control_value",
    "value",
    "difference",
    "rel_lift",
    "ci_low",
    "ci_high",
    "p_value",
    "adjusted_p_value",
    "cuped_difference",
    "cuped_ci_low",
    "cuped_ci_high",
    "cuped_p_value",
    "variance_reduction",
    "always_valid_p_value",
    "cs_low",
    "cs_high",
    "mde",
    "margin",
)
METRIC_COLUMNS = (
    "experiment_id",
    "variant",
    "metric",
    "role",
    "kind",
    "higher_is_better",
    "control_users",
    "users",
    *METRIC_NUMBERS,
    "guardrail_ok",
    "srm_p_value",
    "verdict",
)
SEQUENTIAL_NUMBERS = ("estimate", "ci_low", "ci_high", "cs_low", "cs_high", "always_valid_p_value")
SEQUENTIAL_COLUMNS = ("experiment_id", "variant", "metric", "date", "users", *SEQUENTIAL_NUMBERS)
Correction = Literal["holm", "bh"]


def _float(value: object) -> float | None:
    if value is None:
        return None
    number = float(value)  # type: ignore[arg-type]
    return number if math.isfinite(number) else None


def _mean_sums(row: Mapping[str, object]) -> MeanSums:
    return MeanSums(
        n=float(row["n"]),  # type: ignore[arg-type]
        sum_y=float(row["sum_y"]),  # type: ignore[arg-type]
        sum_y2=float(row["sum_y2"]),  # type: ignore[arg-type]
        sum_x=_float(row.get("sum_x")),
        sum_x2=_float(row.get("sum_x2")),
        sum_xy=_float(row.get("sum_xy")),
    )


def _ratio_sums(row: Mapping[str, object]) -> RatioSums:
    return RatioSums(*(float(row[c]) for c in ("n", "sum_y", "sum_y2", "sum_d", "sum_d2", "sum_yd")))  # type: ignore[arg-type]


def _sequential(daily: pd.DataFrame, control: str, variant: str, tau2: float | None) -> pd.DataFrame:
    """Cumulative control vs ``variant`` per date and the sequential test over those looks."""
    sums = ["n", "sum_y", "sum_y2"]
    by_date = daily.pivot_table(index="date", columns="variant", values=sums, aggfunc="sum", fill_value=0.0)
    dates = by_date.index
    frame = pd.DataFrame({"date": dates})
    for side, name in (("control", control), ("treatment", variant)):
        for column in sums:
            values = by_date[(column, name)].to_numpy() if (column, name) in by_date.columns else np.zeros(len(dates))
            frame[f"{side}_{column}"] = np.cumsum(values)
    tested = sequential_test(frame, tau2=tau2)
    fixed = [
        compare_means(
            MeanSums(r.control_n, r.control_sum_y, r.control_sum_y2),
            MeanSums(r.treatment_n, r.treatment_sum_y, r.treatment_sum_y2),
        )
        for r in frame.itertuples()
    ]
    tested["ci_low"] = [c.ci_low for c in fixed]
    tested["ci_high"] = [c.ci_high for c in fixed]
    tested["users"] = (frame["control_n"] + frame["treatment_n"]).astype("int64")
    return tested


def _metric_rows(
    experiment_id: str,
    variants: Sequence[str],
    declared: ExperimentMetric,
    daily: pd.DataFrame,
) -> tuple[list[dict[str, object]], list[pd.DataFrame]]:
    totals = daily.groupby("variant").sum(numeric_only=True)
    present = [v for v in variants if v in totals.index]
    control = variants[0]
    rows: list[dict[str, object]] = []
    paths: list[pd.DataFrame] = []
    if control not in present:
        return rows, paths
    if declared.kind == "ratio":
        ratio_sums = {v: _ratio_sums(totals.loc[v]) for v in present}
        for variant in present[1:]:
            comparison = compare_ratios(ratio_sums[control], ratio_sums[variant])
            rows.append({"variant": variant, **_fixed(comparison, ratio_sums[control].n, ratio_sums[variant].n)})
        return rows, paths
    mean_sums = {v: _mean_sums(totals.loc[v]) for v in present}
    cuped = compare_cuped(mean_sums, control)
    for variant in present[1:]:
        comparison = compare_means(mean_sums[control], mean_sums[variant])
        adjusted = cuped.comparisons.get(variant)
        tau2 = default_tau2(mean_sums[control], mean_sums[variant])
        path = _sequential(daily, control, variant, tau2)
        last = path.dropna(subset=["always_valid_p"]).tail(1)
        rows.append(
            {
                "variant": variant,
                **_fixed(comparison, mean_sums[control].n, mean_sums[variant].n),
                "cuped_difference": adjusted.difference if adjusted and cuped.theta is not None else None,
                "cuped_ci_low": adjusted.ci_low if adjusted and cuped.theta is not None else None,
                "cuped_ci_high": adjusted.ci_high if adjusted and cuped.theta is not None else None,
                "cuped_p_value": adjusted.p_value if adjusted and cuped.theta is not None else None,
                "variance_reduction": cuped.variance_reduction,
                "always_valid_p_value": _float(last["always_valid_p"].iloc[0]) if len(last) else None,
                "cs_low": _float(last["cs_low"].iloc[0]) if len(last) else None,
                "cs_high": _float(last["cs_high"].iloc[0]) if len(last) else None,
                "mde": mde_from_sums(mean_sums[control], mean_sums[variant]),
            }
        )
        paths.append(
            path.assign(experiment_id=experiment_id, variant=variant, metric=declared.name).rename(
                columns={"always_valid_p": "always_valid_p_value"}
            )
        )
    return rows, paths


def _fixed(comparison: Comparison, control_users: float, users: float) -> dict[str, object]:
    """The fixed-horizon columns of one comparison."""
    return {
        "control_users": int(control_users),
        "users": int(users),
        "control_value": comparison.control_mean,
        "value": comparison.treatment_mean,
        "difference": comparison.difference,
        "rel_lift": comparison.relative_lift,
        "ci_low": comparison.ci_low,
        "ci_high": comparison.ci_high,
        "p_value": comparison.p_value,
    }


def experiment_analysis(
    daily: pd.DataFrame,
    experiments: pd.DataFrame,
    metrics: Sequence[ExperimentMetric] = METRICS,
    correction: Correction = "holm",
    alpha: float = ALPHA,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(experiment_metrics, experiment_sequential)`` from the daily sums and silver.experiments.

    ``experiments`` needs ``experiment_id``, ``variants`` (control first) and ``allocation``
    (variant -> share, as a mapping or a list of pairs).
    """
    # One row order whatever order the table was read in: float sums then come out bit-identical,
    # so an incremental run and a full refresh publish the same numbers.
    daily = daily.sort_values(["experiment_id", "metric", "variant", "date"], kind="stable", ignore_index=True)
    metric_rows: list[dict[str, object]] = []
    paths: list[pd.DataFrame] = []
    for experiment in experiments.sort_values("experiment_id").to_dict("records"):
        experiment_id = str(experiment["experiment_id"])
        variants = [str(v) for v in experiment["variants"]]
        allocation = dict(experiment["allocation"] or {})
        mine = daily[daily["experiment_id"] == experiment_id]
        users = mine[mine["metric"] == metrics[0].name].groupby("variant")["n"].sum()
        srm = srm_p_value([float(users.get(v, 0.0)) for v in variants], [allocation.get(v) for v in variants])
        rows: list[dict[str, object]] = []
        for declared in metrics:
            found, found_paths = _metric_rows(experiment_id, variants, declared, mine[mine["metric"] == declared.name])
            for row in found:
                guardrail_ok = None
                if declared.role == "guardrail" and declared.margin is not None:
                    breached = guardrail_breached(
                        GuardrailResult(
                            str(row["variant"]),
                            declared.name,
                            _float(row["ci_low"]),
                            _float(row["ci_high"]),
                            declared.margin,
                            declared.higher_is_better,
                        )
                    )
                    guardrail_ok = None if breached is None else not breached
                rows.append(
                    {
                        "experiment_id": experiment_id,
                        "metric": declared.name,
                        "role": declared.role,
                        "kind": declared.kind,
                        "higher_is_better": declared.higher_is_better,
                        "margin": declared.margin,
                        "guardrail_ok": guardrail_ok,
                        "srm_p_value": srm,
                        **row,
                    }
                )
            paths.extend(found_paths)
        tested = [i for i, r in enumerate(rows) if r["role"] in ("goal", "secondary")]
        adjusted = adjust_p_values([_float(rows[i]["p_value"]) for i in tested], method=correction)
        for i, p in zip(tested, adjusted, strict=True):
            rows[i]["adjusted_p_value"] = p
        by_name = {m.name: m for m in metrics}
        goals = [
            GoalResult(
                str(r["variant"]),
                str(r["metric"]),
                _float(r["difference"]),
                _float(r.get("adjusted_p_value")),
                bool(r["higher_is_better"]),
                by_name[str(r["metric"])].scale,
                by_name[str(r["metric"])].unit,
            )
            for r in rows
            if r["role"] == "goal"
        ]
        guardrails = [
            GuardrailResult(
                str(r["variant"]),
                str(r["metric"]),
                _float(r["ci_low"]),
                _float(r["ci_high"]),
                float(r["margin"]),  # type: ignore[arg-type]
                bool(r["higher_is_better"]),
                by_name[str(r["metric"])].scale,
                by_name[str(r["metric"])].unit,
            )
            for r in rows
            if r["role"] == "guardrail" and r["margin"] is not None
        ]
        line = verdict(srm, goals, guardrails, alpha=alpha, control=variants[0])
        for row in rows:
            row["verdict"] = line
        metric_rows.extend(rows)
    metrics_frame = pd.DataFrame(metric_rows, columns=list(METRIC_COLUMNS))
    sequential = (
        pd.concat(paths, ignore_index=True)[list(SEQUENTIAL_COLUMNS)]
        if paths
        else pd.DataFrame(columns=list(SEQUENTIAL_COLUMNS))
    )
    return metrics_frame, sequential
