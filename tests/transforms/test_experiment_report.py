"""transforms.experiment_report: decision tables from daily sums, checked against statsmodels on the raw users.

One seeded experiment: 3 days of users, control and treatment, a pre-period covariate
correlated with the outcome, and a planted lift on revenue. The daily sums are made in pandas
exactly as gold.experiment_daily sums them, and every figure of the report is compared with the
same statistic computed from the user-level arrays.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

from transforms.experiment_metrics import METRICS, USER_COLUMNS
from transforms.experiment_report import METRIC_COLUMNS, SEQUENTIAL_COLUMNS, experiment_analysis

DAYS = [dt.date(2026, 10, 1) + dt.timedelta(days=i) for i in range(3)]


def _users(seed: int = 7, n: int = 900) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    variant = rng.choice(["control", "treatment"], size=n)
    treated = variant == "treatment"
    intent = rng.gamma(2.0, 1.0, size=n)  # shared by before and after: the CUPED correlation
    orders = rng.poisson(0.3 * intent)
    orders_pre = rng.poisson(0.3 * intent)
    revenue = orders * rng.normal(50, 10, size=n).clip(1) + treated * orders * 15.0
    revenue_pre = orders_pre * rng.normal(50, 10, size=n).clip(1)
    sessions = 1 + rng.poisson(1.0, size=n)
    return pd.DataFrame(
        {
            "variant": variant,
            "date": rng.choice(DAYS, size=n),
            "converted": (orders > 0).astype(float),
            "orders": orders.astype(float),
            "revenue": revenue.round(2),
            "page_views": sessions * 3 + rng.poisson(1.0, size=n),
            "sessions": sessions.astype(float),
            "converted_pre": (orders_pre > 0).astype(float),
            "orders_pre": orders_pre.astype(float),
            "revenue_pre": revenue_pre.round(2),
        }
    )


def _daily(users: pd.DataFrame) -> pd.DataFrame:
    """What gold.experiment_daily holds for these users (pandas version of ``daily_sums``)."""
    frames = []
    for m in METRICS:
        y = users[m.numerator].astype(float)
        parts = {"n": 1.0, "sum_y": y, "sum_y2": y * y}
        if m.denominator:
            d = users[m.denominator].astype(float)
            parts.update(sum_d=d, sum_d2=d * d, sum_yd=y * d)
        if m.covariate:
            x = users[m.covariate].astype(float)
            parts.update(sum_x=x, sum_x2=x * x, sum_xy=x * y)
        frame = users[["variant", "date"]].assign(**parts)
        sums = frame.groupby(["variant", "date"], as_index=False).sum()
        frames.append(sums.assign(experiment_id="exp", metric=m.name))
    return pd.concat(frames, ignore_index=True)


@pytest.fixture(scope="module")
def report() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    users = _users()
    assert set(USER_COLUMNS) <= set(users.columns)
    experiments = pd.DataFrame(
        [
            {
                "experiment_id": "exp",
                "variants": ["control", "treatment"],
                "allocation": {"control": 0.5, "treatment": 0.5},
            }
        ]
    )
    metrics, sequential = experiment_analysis(_daily(users), experiments)
    return users, metrics.set_index("metric"), sequential


def test_fixed_horizon_figures_equal_statsmodels_on_the_users(report) -> None:
    users, metrics, _ = report
    control, treated = users[users.variant == "control"], users[users.variant == "treatment"]
    for name, column in (("conversion", "converted"), ("revenue_per_user", "revenue"), ("orders_per_user", "orders")):
        row = metrics.loc[name]
        compare = CompareMeans(DescrStatsW(treated[column]), DescrStatsW(control[column]))
        _z, p = compare.ztest_ind(usevar="unequal")
        low, high = compare.zconfint_diff(usevar="unequal")
        assert row.users == len(treated) and row.control_users == len(control)
        assert row.value == pytest.approx(treated[column].mean(), rel=1e-12)
        assert row.difference == pytest.approx(treated[column].mean() - control[column].mean(), rel=1e-9)
        assert row.p_value == pytest.approx(p, rel=1e-9)
        assert (row.ci_low, row.ci_high) == (pytest.approx(low, rel=1e-9), pytest.approx(high, rel=1e-9))


def test_holm_across_goal_and_secondary_metrics(report) -> None:
    _, metrics, _ = report
    tested = metrics[metrics.role.isin(["goal", "secondary"])]
    _, expected, _, _ = multipletests(tested.p_value.to_numpy(), method="holm")
    assert tested.adjusted_p_value.to_numpy() == pytest.approx(expected, rel=1e-12)
    assert (
        metrics.loc["page_views_per_session"].adjusted_p_value != metrics.loc["page_views_per_session"].adjusted_p_value
    )


def test_cuped_equals_ols_with_the_pre_period_covariate_and_narrows_the_ci(report) -> None:
    users, metrics, _ = report
    row = metrics.loc["revenue_per_user"]
    design = pd.DataFrame(
        {
            "const": 1.0,
            "treatment": (users.variant == "treatment").astype(float),
            "x": users.revenue_pre - users.revenue_pre.mean(),
        }
    )
    fit = sm.OLS(users.revenue, design).fit()
    assert row.cuped_difference == pytest.approx(fit.params["treatment"], rel=1e-9)
    plain, adjusted = row.ci_high - row.ci_low, row.cuped_ci_high - row.cuped_ci_low
    assert 0.05 < row.variance_reduction < 1
    assert adjusted == pytest.approx(plain * np.sqrt(1 - row.variance_reduction), rel=0.02)
    assert adjusted < plain


def test_sequential_path_ends_at_the_reported_look(report) -> None:
    _, metrics, sequential = report
    assert list(sequential.columns) == list(SEQUENTIAL_COLUMNS)
    path = sequential[sequential.metric == "revenue_per_user"].sort_values("date")
    assert list(path.date) == DAYS and list(path.users) == sorted(path.users)
    assert path.always_valid_p_value.is_monotonic_decreasing
    last = path.iloc[-1]
    row = metrics.loc["revenue_per_user"]
    assert last.estimate == pytest.approx(row.difference, rel=1e-12)
    assert (last.cs_low, last.cs_high, last.always_valid_p_value) == (row.cs_low, row.cs_high, row.always_valid_p_value)
    # The confidence sequence pays for peeking: it is wider than the fixed-horizon CI.
    assert last.cs_high - last.cs_low > last.ci_high - last.ci_low


def test_ratio_metrics_guardrail_and_verdict(report) -> None:
    users, metrics, _ = report
    aov = metrics.loc["aov"]
    treated, control = users[users.variant == "treatment"], users[users.variant == "control"]
    assert aov.value == pytest.approx(treated.revenue.sum() / treated.orders.sum(), rel=1e-12)
    assert aov.control_value == pytest.approx(control.revenue.sum() / control.orders.sum(), rel=1e-12)
    assert np.isnan(aov.variance_reduction)
    guardrail = metrics.loc["page_views_per_session"]
    assert guardrail.role == "guardrail" and guardrail.margin == 0.25
    assert bool(guardrail.guardrail_ok) is bool(guardrail.ci_low >= -0.25)
    assert sorted(metrics.reset_index().columns) == sorted(METRIC_COLUMNS)
    assert metrics.verdict.nunique() == 1
    verdict = metrics.verdict.iloc[0]
    assert verdict.startswith(("ship:", "no decision:", "do not ship:")), verdict


def test_sample_ratio_mismatch_withholds_the_verdict() -> None:
    users = _users()
    skewed = pd.concat([users, users[users.variant == "control"]], ignore_index=True)
    experiments = pd.DataFrame(
        [
            {
                "experiment_id": "exp",
                "variants": ["control", "treatment"],
                "allocation": [("control", 0.5), ("treatment", 0.5)],
            }
        ]
    )
    metrics, _ = experiment_analysis(_daily(skewed), experiments)
    assert metrics.srm_p_value.iloc[0] < 0.001
    assert set(metrics.verdict) == {f"withheld: sample ratio mismatch (p={metrics.srm_p_value.iloc[0]:.2g})"}
