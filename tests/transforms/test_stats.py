"""transforms.stats against scipy and statsmodels run on the raw per-user data.

The module sees only per-variant counts and moments; the references below see every user,
so agreement to 1e-9 checks both the formulas and that the summary carries enough.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

from transforms.stats import experiment_statistics, proportion_difference, srm_p_value, welch_p_value

TOL = 1e-9


def _summary(experiment_id: str, variants: list[tuple[str, float, np.ndarray, np.ndarray]]) -> pd.DataFrame:
    """Summary rows from raw per-user arrays: (variant, share, converted flags, revenue per user)."""
    rows = []
    for index, (variant, share, converted, revenue) in enumerate(variants):
        n = len(converted)
        rows.append(
            {
                "experiment_id": experiment_id,
                "variant_index": index,
                "variant": variant,
                "allocation_share": share,
                "users": n,
                "converters": int(converted.sum()),
                "conversion_rate": converted.mean() if n else None,
                "revenue": Decimal(str(round(revenue.sum(), 6))),
                "revenue_per_user": Decimal(str(round(revenue.mean(), 6))) if n else None,
                "revenue_mean": float(revenue.mean()) if n else None,
                "revenue_std": float(revenue.std(ddof=1)) if n > 1 else None,
            }
        )
    return pd.DataFrame(rows)


def _users(rng: np.random.Generator, n: int, rate: float) -> tuple[np.ndarray, np.ndarray]:
    converted = rng.random(n) < rate
    revenue = np.where(converted, np.round(rng.gamma(2.0, 40.0, n), 2), 0.0)
    return converted, revenue


def test_two_variants_match_statsmodels_and_scipy() -> None:
    rng = np.random.default_rng(7)
    control, treatment = _users(rng, 480, 0.20), _users(rng, 520, 0.26)
    result = experiment_statistics(_summary("exp", [("control", 0.5, *control), ("treatment", 0.5, *treatment)]))
    ctrl, treat = result.iloc[0], result.iloc[1]

    n_c, n_t = len(control[0]), len(treatment[0])
    x_c, x_t = int(control[0].sum()), int(treatment[0].sum())
    _z, p_value = proportions_ztest([x_t, x_c], [n_t, n_c])
    ci_low, ci_high = confint_proportions_2indep(x_t, n_t, x_c, n_c, method="wald", compare="diff", alpha=0.05)
    srm = stats.chisquare([n_c, n_t], [500, 500]).pvalue
    welch = stats.ttest_ind(treatment[1], control[1], equal_var=False).pvalue

    assert treat["abs_lift"] == pytest.approx(x_t / n_t - x_c / n_c, abs=TOL)
    assert treat["rel_lift"] == pytest.approx((x_t / n_t - x_c / n_c) / (x_c / n_c), abs=TOL)
    assert treat["p_value"] == pytest.approx(p_value, abs=TOL)
    assert treat["ci_low"] == pytest.approx(ci_low, abs=TOL)
    assert treat["ci_high"] == pytest.approx(ci_high, abs=TOL)
    assert treat["revenue_p_value"] == pytest.approx(welch, abs=TOL)
    assert treat["significant"] is bool(p_value < 0.05)
    assert ctrl["srm_p_value"] == treat["srm_p_value"] == pytest.approx(srm, abs=TOL)
    # The control row carries no comparison.
    assert all(
        ctrl[c] is None
        for c in ("abs_lift", "rel_lift", "ci_low", "ci_high", "p_value", "significant", "revenue_p_value")
    )
    # Summary columns pass through untouched.
    assert (ctrl["users"], treat["users"], ctrl["converters"]) == (n_c, n_t, x_c)


def test_sample_ratio_mismatch_and_unnormalised_shares() -> None:
    rng = np.random.default_rng(3)
    # Planned 34/33/33 (sums to 1.00) but control got far fewer users: a broken assignment.
    variants = [
        ("control", 34.0, *_users(rng, 150, 0.2)),
        ("grid", 33.0, *_users(rng, 260, 0.2)),
        ("carousel", 33.0, *_users(rng, 255, 0.2)),
    ]
    result = experiment_statistics(_summary("layout", variants))
    expected = stats.chisquare([150, 260, 255], [665 * 0.34, 665 * 0.33, 665 * 0.33]).pvalue
    assert result["srm_p_value"].tolist() == pytest.approx([expected] * 3, abs=TOL)
    assert expected < 1e-6
    for row in result.iloc[1:].itertuples():
        x_c, x_v = int(variants[0][2].sum()), int(variants[row.variant_index][2].sum())
        assert row.p_value == pytest.approx(
            proportions_ztest([x_v, x_c], [len(variants[row.variant_index][2]), 150])[1], abs=TOL
        )


def test_undefined_statistics_are_none() -> None:
    nobody = (np.array([], dtype=bool), np.array([]))
    one = (np.array([True]), np.array([12.0]))
    zeros = (np.zeros(3, dtype=bool), np.zeros(3))
    result = experiment_statistics(
        pd.DataFrame(
            [
                *_summary("empty_control", [("control", 0.5, *nobody), ("treatment", 0.5, *one)]).to_dict("records"),
                *_summary("no_conversions", [("control", 0.5, *zeros), ("treatment", 0.5, *zeros)]).to_dict("records"),
            ]
        )
    )
    empty = result[result.experiment_id == "empty_control"].iloc[1]
    assert all(
        empty[c] is None for c in ("abs_lift", "rel_lift", "ci_low", "p_value", "significant", "revenue_p_value")
    )
    assert empty["srm_p_value"] == pytest.approx(stats.chisquare([0, 1], [0.5, 0.5]).pvalue, abs=TOL)
    flat = result[result.experiment_id == "no_conversions"].iloc[1]
    # Both rates 0: the difference is 0 with a zero-width CI, but no z-test and no relative lift exist.
    assert (flat["abs_lift"], flat["ci_low"], flat["ci_high"]) == (0.0, 0.0, 0.0)
    assert flat["rel_lift"] is None and flat["p_value"] is None and flat["significant"] is None
    assert flat["revenue_p_value"] is None  # both standard deviations are 0


def test_building_blocks() -> None:
    assert srm_p_value([10], [1.0]) is None
    assert srm_p_value([0, 0], [0.5, 0.5]) is None
    assert srm_p_value([5, 5, 0], [0.5, 0.5, 0.0]) == pytest.approx(1.0)
    assert srm_p_value([5, 5, 1], [0.5, 0.5, 0.0]) == 0.0
    assert srm_p_value([5, 5], [0.5, None]) is None
    assert proportion_difference(1, 0, 1, 10)["p_value"] is None
    assert welch_p_value(1.0, 0.5, 1, 2.0, 0.5, 10) is None
    a, b = np.array([1.0, 2.0, 4.0, 8.0]), np.array([3.0, 3.5, 9.0])
    assert welch_p_value(a.mean(), a.std(ddof=1), 4, b.mean(), b.std(ddof=1), 3) == pytest.approx(
        stats.ttest_ind(a, b, equal_var=False).pvalue, abs=TOL
    )
