"""transforms.experiment_analysis against scipy and statsmodels run on the raw per-user arrays.

The module sees only sums; the references see every user. Tolerances:

- exact identities (the same estimator computed another way): relative 1e-9;
- CUPED with θ on the union of users vs the OLS treatment coefficient (OLS uses the within-variant
  slope): within 1% of a standard error; CUPED SE vs OLS SE (θ treated as known): relative 1%;
- MDE vs statsmodels' normal power (which also counts the far tail): relative 1e-5; vs the t-test
  power: relative 1e-3;
- simulations (seeded): bootstrap SE within 10%, CI width ratio within 0.03 of √(1 - ρ²),
  confidence sequence miss rate ≤ 0.08 at alpha 0.05.

Nothing here starts Spark.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Literal

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import integrate, stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import NormalIndPower, tt_ind_solve_power
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

from transforms.experiment_analysis import (
    SEQUENTIAL_SUM_COLUMNS,
    GoalResult,
    GuardrailResult,
    MeanSums,
    RatioSums,
    adjust_p_values,
    compare_cuped,
    compare_means,
    compare_ratios,
    confidence_sequence,
    cuped_theta,
    default_tau2,
    guardrail_breached,
    mde_from_sums,
    minimum_detectable_effect,
    mixture_sprt_log_lr,
    ratio_estimate,
    sequential_test,
    verdict,
)

REL = 1e-9
Z_95 = float(stats.norm.ppf(0.975))


def _close(value: float | None, expected: float, rel: float = REL) -> bool:
    return value is not None and value == pytest.approx(expected, rel=rel, abs=1e-12)


def _correlated(rng: np.random.Generator, n: int, rho: float, effect: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Pre-period x and in-experiment y with correlation ``rho`` (both sd 5, mean 10 + effect for y)."""
    x = rng.normal(10.0, 5.0, n)
    y = 10.0 + effect + rho * (x - 10.0) + math.sqrt(1 - rho**2) * rng.normal(0.0, 5.0, n)
    return x, y


# --- 1. means -------------------------------------------------------------------------------


def test_mean_comparison_matches_scipy_and_statsmodels() -> None:
    rng = np.random.default_rng(11)
    y_c, y_t = rng.gamma(2.0, 20.0, 900), rng.gamma(2.2, 20.0, 1100)  # skewed, unequal n and variance
    result = compare_means(MeanSums.from_arrays(y_c), MeanSums.from_arrays(y_t))

    welch = stats.ttest_ind(y_t, y_c, equal_var=False)
    means = CompareMeans(DescrStatsW(y_t), DescrStatsW(y_c))
    z, p_z = means.ztest_ind(usevar="unequal")
    ci_low, ci_high = means.zconfint_diff(alpha=0.05, usevar="unequal")
    _t, _p_t, df = means.ttest_ind(usevar="unequal")

    assert _close(result.difference, y_t.mean() - y_c.mean())
    assert _close(result.relative_lift, (y_t.mean() - y_c.mean()) / y_c.mean())
    assert _close(result.se, math.sqrt(y_t.var(ddof=1) / 1100 + y_c.var(ddof=1) / 900))
    assert _close(result.z, z)
    assert _close(result.p_value, p_z)
    assert _close(result.ci_low, ci_low) and _close(result.ci_high, ci_high)
    assert _close(result.welch_p_value, welch.pvalue)
    assert _close(result.welch_df, df)
    assert result.as_dict()["p_value"] == result.p_value


def test_planted_effect_is_found_and_a_null_is_not() -> None:
    rng = np.random.default_rng(5)
    control = MeanSums.from_arrays(rng.normal(10.0, 4.0, 3000))
    effect = compare_means(control, MeanSums.from_arrays(rng.normal(10.5, 4.0, 3000)))
    null = compare_means(control, MeanSums.from_arrays(rng.normal(10.0, 4.0, 3000)))
    assert effect.p_value is not None and effect.p_value < 1e-3
    assert effect.ci_low is not None and effect.ci_low > 0
    assert null.p_value is not None and null.p_value > 0.05
    assert null.ci_low is not None and null.ci_high is not None and null.ci_low < 0 < null.ci_high


# --- 2. ratio metrics -----------------------------------------------------------------------


def _orders(rng: np.random.Generator, n: int, aov: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-user revenue y and orders d ≥ 1 (so y/d exists for the WLS reference)."""
    d = 1.0 + rng.poisson(0.8, n)
    y = np.array([rng.gamma(3.0, aov / 3.0, int(k)).sum() for k in d])
    return y, d


def test_delta_method_matches_weighted_ols_and_bootstrap() -> None:
    rng = np.random.default_rng(21)
    y_c, d_c = _orders(rng, 1500, 40.0)
    y_t, d_t = _orders(rng, 1600, 43.0)
    control, treatment = RatioSums.from_arrays(y_c, d_c), RatioSums.from_arrays(y_t, d_t)

    # The ratio of means is the d-weighted mean of y/d; the HC1 sandwich SE of that WLS fit is
    # exactly the delta-method SE with ddof=1 moments (both are Var(y - R·d)/(n·μd²)).
    for (y, d), sums in (((y_c, d_c), control), ((y_t, d_t), treatment)):
        ratio, variance = ratio_estimate(sums)
        fit = sm.WLS(y / d, np.ones_like(y), weights=d).fit(cov_type="HC1")
        assert _close(ratio, y.sum() / d.sum()) and _close(ratio, fit.params[0])
        assert variance is not None and _close(math.sqrt(variance), fit.bse[0])
        linearised = (y - ratio * d) / d.mean()
        assert _close(variance, linearised.var(ddof=1) / len(y))

    # A large bootstrap of the ratio agrees with the delta-method SE (statistical tolerance 10%).
    _, variance_c = ratio_estimate(control)
    draws = rng.integers(0, len(y_c), size=(2000, len(y_c)))
    boot = y_c[draws].sum(axis=1) / d_c[draws].sum(axis=1)
    assert variance_c is not None and boot.std(ddof=1) == pytest.approx(math.sqrt(variance_c), rel=0.10)

    result = compare_ratios(control, treatment)
    expected = y_t.sum() / d_t.sum() - y_c.sum() / d_c.sum()
    _, var_t = ratio_estimate(treatment)
    assert var_t is not None
    se = math.sqrt(variance_c + var_t)
    assert _close(result.difference, expected) and _close(result.se, se)
    assert _close(result.p_value, 2 * stats.norm.sf(abs(expected) / se))
    assert _close(result.ci_low, expected - Z_95 * se) and _close(result.ci_high, expected + Z_95 * se)
    assert result.p_value is not None and result.p_value < 0.01  # planted AOV lift of 3 on 40
    assert result.welch_p_value is None


# --- 3. CUPED -------------------------------------------------------------------------------


def test_cuped_matches_ols_with_the_pre_period_covariate() -> None:
    rng = np.random.default_rng(31)
    arms = {
        "control": _correlated(rng, 2500, 0.7),
        "b": _correlated(rng, 2400, 0.7, effect=0.4),
        "c": _correlated(rng, 2600, 0.7, effect=-0.1),
    }
    sums = {name: MeanSums.from_arrays(y, x) for name, (x, y) in arms.items()}
    x = np.concatenate([a[0] for a in arms.values()])
    y = np.concatenate([a[1] for a in arms.values()])
    labels = np.concatenate([[name] * len(a[0]) for name, a in arms.items()])
    design = sm.add_constant(np.column_stack([labels == "b", labels == "c", x - x.mean()]).astype(float))
    ols = sm.OLS(y, design).fit()

    within = compare_cuped(sums)  # control = first variant
    assert _close(within.theta, ols.params[3])
    assert _close(within.pooled_mean_x, x.mean())
    for column, name in ((1, "b"), (2, "c")):
        comparison = within.comparisons[name]
        assert _close(comparison.difference, ols.params[column])  # Frisch-Waugh-Lovell: exact
        assert comparison.se == pytest.approx(ols.bse[column], rel=0.01)
    # The adjusted control mean is the OLS intercept (the control mean at the pooled mean of x).
    assert _close(within.adjusted_means["control"], ols.params[0])

    # θ on the union of users: the classic CUPED θ = Cov(x, y)/Var(x) over everyone.
    total = compare_cuped(sums, "control", theta_method="total")
    assert _close(total.theta, np.cov(x, y)[0, 1] / x.var(ddof=1))
    assert _close(cuped_theta(sums.values(), "total"), np.cov(x, y)[0, 1] / x.var(ddof=1))
    for column, name in ((1, "b"), (2, "c")):
        se = total.comparisons[name].se
        difference = total.comparisons[name].difference
        assert se is not None and difference is not None
        assert abs(difference - ols.params[column]) < 0.01 * se

    # The variance reduction is the squared within-variant correlation of x and y.
    centred_x = np.concatenate([a[0] - a[0].mean() for a in arms.values()])
    centred_y = np.concatenate([a[1] - a[1].mean() for a in arms.values()])
    assert _close(within.variance_reduction, np.corrcoef(centred_x, centred_y)[0, 1] ** 2)
    with pytest.raises(ValueError):
        cuped_theta(sums.values(), "median")  # type: ignore[arg-type]


def test_cuped_shrinks_the_confidence_interval_by_sqrt_one_minus_rho_squared() -> None:
    rng = np.random.default_rng(41)
    rho = 0.7
    x_c, y_c = _correlated(rng, 4000, rho)
    x_t, y_t = _correlated(rng, 4000, rho, effect=0.25)
    control, treatment = MeanSums.from_arrays(y_c, x_c), MeanSums.from_arrays(y_t, x_t)
    plain = compare_means(control, treatment)
    cuped = compare_cuped({"control": control, "treatment": treatment})
    adjusted = cuped.comparisons["treatment"]
    assert plain.ci_low is not None and plain.ci_high is not None
    assert adjusted.ci_low is not None and adjusted.ci_high is not None
    ratio = (adjusted.ci_high - adjusted.ci_low) / (plain.ci_high - plain.ci_low)
    assert ratio == pytest.approx(math.sqrt(1 - rho**2), abs=0.03)
    assert cuped.variance_reduction == pytest.approx(rho**2, abs=0.03)
    # Same planted effect, sharper test.
    assert adjusted.p_value is not None and plain.p_value is not None
    assert adjusted.p_value < plain.p_value and adjusted.p_value < 0.01
    assert adjusted.welch_p_value == pytest.approx(adjusted.p_value, rel=0.05)


# --- 4. sequential testing ------------------------------------------------------------------


def test_mixture_likelihood_ratio_and_confidence_sequence_formulas() -> None:
    estimate, variance, tau2, theta0 = 0.8, 0.09, 0.25, 0.1

    def integrand(theta: float) -> float:
        ratio = stats.norm.pdf(estimate, theta, math.sqrt(variance)) / stats.norm.pdf(
            estimate, theta0, math.sqrt(variance)
        )
        return float(ratio * stats.norm.pdf(theta, theta0, math.sqrt(tau2)))

    numeric, _ = integrate.quad(integrand, -10, 10)
    assert math.exp(mixture_sprt_log_lr(estimate, variance, tau2, theta0)) == pytest.approx(numeric, rel=1e-7)
    low, high = confidence_sequence(estimate, variance, tau2, alpha=0.05)
    # The CS bounds are exactly where Λ(θ0) = 1/alpha.
    for bound in (low, high):
        assert mixture_sprt_log_lr(estimate, variance, tau2, bound) == pytest.approx(math.log(20), rel=1e-9)
    assert low < estimate - Z_95 * math.sqrt(variance) and high > estimate + Z_95 * math.sqrt(variance)


def _cumulative(daily: dict[str, np.ndarray]) -> pd.DataFrame:
    frame = pd.DataFrame({"date": pd.date_range("2024-03-01", periods=len(daily["control_n"]), freq="D")})
    for column in SEQUENTIAL_SUM_COLUMNS:
        frame[column] = np.cumsum(daily[column])
    return frame


def _daily_streams(rng: np.random.Generator, streams: int, days: int, users: int, lift: float) -> list[pd.DataFrame]:
    """Cumulative sums of ``streams`` experiments: gamma revenue, control mean 10, treatment 10 + lift."""
    shape = 2.0
    control = rng.gamma(shape, 10.0 / shape, size=(streams, days, users))
    treatment = rng.gamma(shape, (10.0 + lift) / shape, size=(streams, days, users))
    frames = []
    for s in range(streams):
        daily = {
            "control_n": np.full(days, float(users)),
            "control_sum_y": control[s].sum(axis=1),
            "control_sum_y2": (control[s] ** 2).sum(axis=1),
            "treatment_n": np.full(days, float(users)),
            "treatment_sum_y": treatment[s].sum(axis=1),
            "treatment_sum_y2": (treatment[s] ** 2).sum(axis=1),
        }
        frames.append(_cumulative(daily))
    return frames


def test_sequential_series_is_monotone_and_consistent() -> None:
    rng = np.random.default_rng(51)
    (frame,) = _daily_streams(rng, 1, 20, 150, lift=1.5)
    result = sequential_test(frame)
    assert list(result.columns) == ["date", "estimate", "se", "cs_low", "cs_high", "always_valid_p"]
    assert (result["date"] == frame["date"]).all()
    p = result["always_valid_p"].to_numpy()
    assert (np.diff(p) <= 0).all() and (p <= 1).all()
    assert (np.diff(result["cs_low"]) >= 0).all() and (np.diff(result["cs_high"]) <= 0).all()
    # p ≤ alpha exactly when 0 is outside the (intersected) confidence sequence.
    outside = (result["cs_low"] > 0) | (result["cs_high"] < 0)
    assert ((p <= 0.05) == outside).all()
    assert p[-1] < 0.01  # planted lift of 1.5 on 10 is found
    last = frame.iloc[-1]
    control = MeanSums(last.control_n, last.control_sum_y, last.control_sum_y2)
    treatment = MeanSums(last.treatment_n, last.treatment_sum_y, last.treatment_sum_y2)
    assert _close(result["estimate"].iloc[-1], compare_means(control, treatment).difference or 0.0)
    # An explicit τ² gives the closed form at every look.
    explicit = sequential_test(frame, tau2=0.5)
    variance = explicit["se"].iloc[0] ** 2
    expected = math.exp(-mixture_sprt_log_lr(explicit["estimate"].iloc[0], variance, 0.5))
    assert _close(explicit["always_valid_p"].iloc[0], min(1.0, expected))
    assert default_tau2(control, treatment) == pytest.approx(
        0.01 * (control.s_yy() + treatment.s_yy()) / (control.n + treatment.n - 2)
    )


def test_an_effect_that_flips_restarts_the_sequence_instead_of_an_empty_interval() -> None:
    """A late look far from every earlier one: its own sequence is reported, never cs_low > cs_high.

    (Found at 1e7 events: exposure-date cohorts with shorter outcome windows drift the estimate.)
    """
    n = 10_000.0

    def look(control_mean: float, treatment_mean: float) -> dict[str, float]:
        # Unit variance in each arm: sum_y2 = n·(mean² + 1).
        return {
            "control_n": n,
            "control_sum_y": n * control_mean,
            "control_sum_y2": n * (control_mean**2 + 1),
            "treatment_n": n,
            "treatment_sum_y": n * treatment_mean,
            "treatment_sum_y2": n * (treatment_mean**2 + 1),
        }

    frame = pd.DataFrame([look(0.0, 0.5), look(0.0, 0.5), look(0.0, -0.5)]).assign(date=[1, 2, 3])
    result = sequential_test(frame, tau2=0.01)
    assert (result["cs_low"] <= result["cs_high"]).all()
    first, last = result.iloc[1], result.iloc[2]
    assert first["cs_low"] > 0 and last["cs_high"] < 0  # the third look's own sequence
    own_low, own_high = confidence_sequence(-0.5, 2 / (n - 1), 0.01)  # sample variances: n / (n - 1)
    assert (last["cs_low"], last["cs_high"]) == (pytest.approx(own_low), pytest.approx(own_high))


def test_confidence_sequence_covers_under_daily_peeking() -> None:
    rng = np.random.default_rng(2024)
    lift, alpha = 0.5, 0.05
    frames = _daily_streams(rng, 200, 20, 100, lift=lift)
    cs_misses = naive_misses = 0
    for frame in frames:
        result = sequential_test(frame, alpha=alpha)
        cs_misses += bool(((result["cs_low"] > lift) | (result["cs_high"] < lift)).any())
        naive_low = result["estimate"] - Z_95 * result["se"]
        naive_high = result["estimate"] + Z_95 * result["se"]
        naive_misses += bool(((naive_low > lift) | (naive_high < lift)).any())
    assert cs_misses / len(frames) <= alpha + 0.03
    # The fixed-horizon 95% CI, looked at every day, misses far more often than 5%.
    assert naive_misses / len(frames) > 0.10 and naive_misses > cs_misses


# --- 5. multiple comparisons ----------------------------------------------------------------


@pytest.mark.parametrize(("method", "reference"), [("holm", "holm"), ("bh", "fdr_bh")])
def test_adjusted_p_values_match_multipletests(method: Literal["holm", "bh"], reference: str) -> None:
    rng = np.random.default_rng(61)
    p = np.concatenate([rng.uniform(0, 0.05, 6), rng.uniform(0, 1, 10), [0.01, 0.01, 0.3]])  # ties too
    expected = multipletests(p, method=reference)[1]
    assert adjust_p_values(p.tolist(), method) == pytest.approx(expected.tolist(), rel=1e-12)

    with_gaps: list[float | None] = [None, *p.tolist()[:8], math.nan, *p.tolist()[8:], None]
    adjusted = adjust_p_values(with_gaps, method)
    assert adjusted[0] is None and adjusted[9] is None and adjusted[-1] is None
    present = [a for a in adjusted if a is not None]
    assert present == pytest.approx(expected.tolist(), rel=1e-12)


def test_adjusted_p_values_edge_cases() -> None:
    assert adjust_p_values([]) == []
    assert adjust_p_values([None, math.nan], "bh") == [None, None]
    assert adjust_p_values([0.03]) == [0.03]
    assert adjust_p_values(pd.Series([0.01, np.nan, 0.04]), "holm") == pytest.approx([0.02, None, 0.04])
    with pytest.raises(ValueError):
        adjust_p_values([0.1], "bonferroni")  # type: ignore[arg-type]


# --- 6. power / MDE -------------------------------------------------------------------------


def test_minimum_detectable_effect_matches_statsmodels_power() -> None:
    sigma, n_c, n_t = 3.0, 1000, 1500
    mde = minimum_detectable_effect(sigma**2, n_c, sigma**2, n_t)
    effect = NormalIndPower().solve_power(effect_size=None, nobs1=n_c, alpha=0.05, power=0.8, ratio=n_t / n_c)
    assert mde == pytest.approx(effect * sigma, rel=1e-5)
    t_effect = tt_ind_solve_power(effect_size=None, nobs1=n_c, alpha=0.05, power=0.8, ratio=n_t / n_c)
    assert mde == pytest.approx(t_effect * sigma, rel=1e-3)
    assert mde is not None
    assert NormalIndPower().power(mde / sigma, nobs1=n_c, alpha=0.05, ratio=n_t / n_c) == pytest.approx(0.8, abs=1e-5)
    # Unequal variances: the formula, and power 0.8 under the matching normal model.
    mde_unequal = minimum_detectable_effect(4.0, 800, 9.0, 1200, alpha=0.01, power=0.9)
    se = math.sqrt(4.0 / 800 + 9.0 / 1200)
    assert mde_unequal is not None and mde_unequal == pytest.approx((stats.norm.ppf(0.995) + stats.norm.ppf(0.9)) * se)
    assert minimum_detectable_effect(4.0, 500) == pytest.approx(2.8015852 * math.sqrt(8.0 / 500), rel=1e-6)


def test_mde_from_sums_prefers_the_pre_period_variance() -> None:
    rng = np.random.default_rng(71)
    x_c, y_c = _correlated(rng, 500, 0.5)
    x_t, y_t = _correlated(rng, 600, 0.5)
    with_pre = mde_from_sums(MeanSums.from_arrays(y_c, x_c), MeanSums.from_arrays(y_t, x_t))
    without = mde_from_sums(MeanSums.from_arrays(y_c), MeanSums.from_arrays(y_t))
    assert with_pre == pytest.approx(minimum_detectable_effect(x_c.var(ddof=1), 500, x_t.var(ddof=1), 600))
    assert without == pytest.approx(minimum_detectable_effect(y_c.var(ddof=1), 500, y_t.var(ddof=1), 600))


# --- 7. verdict -----------------------------------------------------------------------------


def _goal(p: float | None, difference: float = 0.012, variant: str = "b", metric: str = "conversion") -> GoalResult:
    return GoalResult(variant, metric, difference, p, scale=100, unit="pp")


def _refunds(ci_high: float | None, variant: str = "b") -> GuardrailResult:
    return GuardrailResult(
        variant, "refund_rate", -0.004, ci_high, margin=0.005, higher_is_better=False, scale=100, unit="pp"
    )


def test_verdicts() -> None:
    assert verdict(2e-5, [_goal(0.003)]) == "withheld: sample ratio mismatch (p=2e-05)"
    assert (
        verdict(0.4, [_goal(0.003)], [_refunds(0.002)])
        == "ship: b beats control on conversion (+1.2 pp, adjusted p=0.003); guardrails hold"
    )
    assert verdict(None, [_goal(0.003)]).endswith("; no guardrails set")
    breached = verdict(0.4, [_goal(0.003)], [_refunds(0.008)])
    assert breached.startswith("do not ship: guardrail refund_rate breached")
    assert "CI high +0.8 pp vs margin +0.5 pp" in breached
    assert verdict(0.4, [_goal(0.21)], [_refunds(0.002)]) == (
        "no decision: no goal metric significant at adjusted p<0.05; "
        "closest: b on conversion (+1.2 pp, adjusted p=0.21)"
    )
    assert verdict(0.4, [_goal(0.001, difference=-0.01)]) == (
        "do not ship: b is worse than control on conversion (-1 pp, adjusted p=0.001)"
    )
    mixed = verdict(0.4, [_goal(0.001), _goal(0.02, difference=-3.0, metric="aov")])
    assert mixed.startswith("no decision: b beats control on conversion") and "but is worse on aov" in mixed
    assert verdict(0.4, [_goal(0.001)], [_refunds(None)]).startswith("no decision: b beats control")
    assert verdict(0.4, [_goal(None)]) == "no decision: no goal metric has a p-value yet"
    # Two winners: the one with the smaller adjusted p ships, if its guardrails hold.
    two = [_goal(0.01, variant="b"), _goal(0.002, variant="c")]
    assert verdict(0.4, two, [_refunds(0.001, "b"), _refunds(0.001, "c")]).startswith("ship: c beats control")
    assert verdict(0.4, two, [_refunds(0.001, "b"), _refunds(0.009, "c")]).startswith("ship: b beats control")
    # A higher-is-better guardrail fails on its lower bound.
    aov = GuardrailResult("b", "aov", -2.5, 1.0, margin=2.0)
    assert guardrail_breached(aov) is True
    assert guardrail_breached(GuardrailResult("b", "aov", -1.5, 1.0, margin=2.0)) is False
    assert guardrail_breached(GuardrailResult("b", "aov", None, 1.0, margin=2.0)) is None


# --- edge cases -----------------------------------------------------------------------------


def test_undefined_statistics_are_none_not_exceptions() -> None:
    one, empty = MeanSums(1, 5.0, 25.0), MeanSums(0, 0.0, 0.0)
    normal = MeanSums.from_arrays([1.0, 2.0, 3.0, 4.0])
    for control, treatment in ((one, normal), (normal, one), (empty, normal)):
        result = compare_means(control, treatment)
        assert result.se is None and result.p_value is None and result.ci_low is None and result.welch_p_value is None
    flat = compare_means(MeanSums.from_arrays([2.0, 2.0, 2.0]), MeanSums.from_arrays([3.0, 3.0]))
    assert flat.difference == 1.0 and flat.relative_lift == 0.5 and flat.se is None and flat.p_value is None
    zero_mean = compare_means(MeanSums.from_arrays([0.0, 0.0]), MeanSums.from_arrays([1.0, 2.0]))
    assert zero_mean.relative_lift is None and zero_mean.p_value is not None
    # One variance zero: Welch df is the other side's n - 1.
    assert compare_means(MeanSums.from_arrays([2.0, 2.0, 2.0]), normal).welch_df == pytest.approx(3.0)

    # Ratio: zero denominators and single users.
    no_orders = RatioSums.from_arrays([0.0, 0.0, 0.0], [0.0, 0.0, 0.0])
    assert ratio_estimate(no_orders) == (None, None)
    assert ratio_estimate(RatioSums(1, 10.0, 100.0, 2.0, 4.0, 20.0)) == (5.0, None)
    assert ratio_estimate(RatioSums(0, 0, 0, 0, 0, 0)) == (None, None)
    assert compare_ratios(no_orders, RatioSums.from_arrays([5.0, 7.0], [1.0, 2.0])).p_value is None

    # CUPED: missing covariate sums or no pre-period variance -> unadjusted, θ None.
    no_covariate = {"control": MeanSums.from_arrays([1.0, 2.0, 4.0]), "b": MeanSums.from_arrays([2.0, 3.0, 7.0])}
    fallback = compare_cuped(no_covariate)
    assert fallback.theta is None and fallback.variance_reduction is None
    assert fallback.comparisons["b"] == compare_means(no_covariate["control"], no_covariate["b"])
    new_users = {name: MeanSums.from_arrays(np.array([1.0, 2.0, 4.0]), np.zeros(3)) for name in ("control", "b")}
    assert compare_cuped(new_users).theta is None
    assert compare_cuped({}).comparisons == {}
    with pytest.raises(KeyError):
        compare_cuped(no_covariate, "nobody")
    tiny = compare_cuped(
        {"control": MeanSums(1, 1.0, 1.0, 1.0, 1.0, 1.0), "b": MeanSums.from_arrays([1, 2, 3], [1, 3, 2])}
    )
    assert tiny.theta is not None and tiny.comparisons["b"].p_value is None

    # Sums from Spark arrive as Decimal or with NaN covariates.
    decimal = MeanSums(Decimal(3), Decimal("6.000000"), Decimal("14.000000"), math.nan, None, None)  # type: ignore[arg-type]
    assert decimal.var_y == pytest.approx(1.0) and not decimal.has_covariate and decimal.var_x is None

    # MDE without a variance or users.
    assert minimum_detectable_effect(None, 100) is None
    assert minimum_detectable_effect(1.0, 0) is None
    assert mde_from_sums(one, normal) is None

    # Sequential: leading looks with too few users are NaN, later looks are defined.
    frame = _cumulative(
        {
            "control_n": np.array([1.0, 0.0, 50.0]),
            "control_sum_y": np.array([3.0, 0.0, 160.0]),
            "control_sum_y2": np.array([9.0, 0.0, 700.0]),
            "treatment_n": np.array([0.0, 2.0, 50.0]),
            "treatment_sum_y": np.array([0.0, 7.0, 170.0]),
            "treatment_sum_y2": np.array([0.0, 25.0, 760.0]),
        }
    )
    result = sequential_test(frame)
    assert result["always_valid_p"].iloc[:2].isna().all() and result["estimate"].iloc[:1].isna().all()
    assert not result.iloc[2][["estimate", "se", "cs_low", "cs_high", "always_valid_p"]].isna().any()
    nothing = sequential_test(frame.iloc[:1])
    assert nothing[["estimate", "always_valid_p"]].isna().all().all()
    with pytest.raises(KeyError):
        sequential_test(frame.drop(columns=["control_n"]))
    with pytest.raises(ValueError):
        sequential_test(frame, tau2=0.0)
