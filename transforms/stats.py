"""Experiment statistics on the per-variant summary: pandas and scipy in, pandas out.

The Spark side (``transforms.experiments.variant_summary``) reduces exposures to one
row per experiment and variant; the tests here need only those counts and moments,
so they run on the driver with scipy's distributions, as METRICS.md asks:

- ``srm_p_value``: chi-square goodness of fit of observed users against the planned
  allocation normalised to sum 1 (same value on every row of the experiment).
- ``abs_lift``, ``rel_lift``: difference and relative difference of conversion rate, variant vs control.
- ``ci_low``/``ci_high``: 95% CI of that difference, unpooled normal approximation.
- ``p_value``: two-sided pooled two-proportion z-test; ``significant`` = p_value < 0.05.
- ``revenue_p_value``: Welch's t-test of per-user revenue from mean, sample std and n per variant.

Comparison statistics are missing (None) on the control row and wherever a test is undefined
(no users, a zero standard error, fewer than two users for a variance).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

SUMMARY_COLUMNS = (
    "experiment_id",
    "variant_index",
    "variant",
    "allocation_share",
    "users",
    "converters",
    "conversion_rate",
    "revenue",
    "revenue_per_user",
    "revenue_mean",
    "revenue_std",
)
STAT_COLUMNS = (
    "srm_p_value",
    "abs_lift",
    "rel_lift",
    "ci_low",
    "ci_high",
    "p_value",
    "significant",
    "revenue_p_value",
)
ALPHA = 0.05
Z_95 = float(stats.norm.ppf(0.975))


def _finite(value: float | None) -> float | None:
    return float(value) if value is not None and math.isfinite(value) else None


def srm_p_value(users: Sequence[float], shares: Sequence[float | None]) -> float | None:
    """Chi-square p-value of observed users per variant against ``shares`` normalised to sum 1.

    A variant planned at share 0 leaves the test when it got nobody; when it got someone the
    mismatch is certain (p = 0).
    """
    observed = np.asarray(users, dtype=float)
    planned = np.asarray([np.nan if s is None else s for s in shares], dtype=float)
    total = observed.sum()
    if len(observed) < 2 or total <= 0 or not np.isfinite(planned).all() or planned.sum() <= 0:
        return None
    expected = total * planned / planned.sum()
    tested = expected > 0
    if (observed[~tested] > 0).any():
        return 0.0
    if tested.sum() < 2:
        return None
    return _finite(stats.chisquare(observed[tested], expected[tested]).pvalue)


def proportion_difference(
    converters: int, users: int, control_converters: int, control_users: int
) -> dict[str, float | None]:
    """Lift, unpooled 95% CI of the rate difference and pooled two-sided z-test p-value, variant vs control."""
    empty: dict[str, float | None] = dict.fromkeys(("abs_lift", "rel_lift", "ci_low", "ci_high", "p_value"))
    if users <= 0 or control_users <= 0:
        return empty
    rate, control_rate = converters / users, control_converters / control_users
    diff = rate - control_rate
    unpooled_se = math.sqrt(rate * (1 - rate) / users + control_rate * (1 - control_rate) / control_users)
    pooled = (converters + control_converters) / (users + control_users)
    pooled_se = math.sqrt(pooled * (1 - pooled) * (1 / users + 1 / control_users))
    return {
        "abs_lift": diff,
        "rel_lift": diff / control_rate if control_rate > 0 else None,
        "ci_low": diff - Z_95 * unpooled_se,
        "ci_high": diff + Z_95 * unpooled_se,
        "p_value": _finite(2 * stats.norm.sf(abs(diff) / pooled_se)) if pooled_se > 0 else None,
    }


def welch_p_value(
    mean: float | None, std: float | None, n: int, control_mean: float | None, control_std: float | None, control_n: int
) -> float | None:
    """Two-sided Welch t-test p-value from per-variant mean, sample std (ddof=1) and size."""
    moments = (mean, std, control_mean, control_std)
    if n < 2 or control_n < 2 or any(v is None or not math.isfinite(v) for v in moments):
        return None
    result = stats.ttest_ind_from_stats(mean, std, n, control_mean, control_std, control_n, equal_var=False)
    return _finite(result.pvalue)


def _number(value: object) -> float | None:
    return None if value is None or pd.isna(value) else float(value)  # type: ignore[arg-type]


def _experiment_rows(variants: pd.DataFrame) -> list[dict[str, object]]:
    records = variants.sort_values("variant_index").to_dict("records")
    srm = srm_p_value([r["users"] for r in records], [_number(r["allocation_share"]) for r in records])
    control = records[0]
    rows = []
    for record in records:
        row: dict[str, object] = {name: record[name] for name in SUMMARY_COLUMNS}
        row.update(dict.fromkeys(STAT_COLUMNS))
        row["srm_p_value"] = srm
        if record is not control:
            comparison = proportion_difference(
                int(record["converters"]), int(record["users"]), int(control["converters"]), int(control["users"])
            )
            p_value = comparison["p_value"]
            row.update(comparison)
            row["significant"] = None if p_value is None else p_value < ALPHA
            row["revenue_p_value"] = welch_p_value(
                _number(record["revenue_mean"]),
                _number(record["revenue_std"]),
                int(record["users"]),
                _number(control["revenue_mean"]),
                _number(control["revenue_std"]),
                int(control["users"]),
            )
        rows.append(row)
    return rows


def experiment_statistics(summary: pd.DataFrame) -> pd.DataFrame:
    """``summary`` (SUMMARY_COLUMNS, one row per experiment and variant) plus STAT_COLUMNS.

    The control is the row with the lowest ``variant_index`` of its experiment. The result has
    object columns holding None where a value is missing, so handing it to Spark gives nulls,
    never NaN.
    """
    rows: list[dict[str, object]] = []
    for _, variants in summary.groupby("experiment_id", sort=True):
        rows.extend(_experiment_rows(variants))
    frame = pd.DataFrame(rows, columns=[*SUMMARY_COLUMNS, *STAT_COLUMNS], dtype=object)
    return frame.where(frame.notna(), None)
