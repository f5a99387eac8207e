"""Experiment analysis a product team can decide on, from additive sufficient statistics.

Pure functions (numpy, pandas, scipy; no Spark, no I/O). Every input is a sum over users, so the
per-day rows of ``gold.experiment_daily`` add up to the sums of any date range, and the
functions below take those summed values.

Inputs, per experiment, variant and metric
------------------------------------------
- ``MeanSums`` (user-level metric y): ``n`` users, ``sum_y`` = Σy, ``sum_y2`` = Σy²; optionally
  the CUPED covariate x (the same metric in the 7 days before the user's first exposure):
  ``sum_x`` = Σx, ``sum_x2`` = Σx², ``sum_xy`` = Σxy.
- ``RatioSums`` (ratio metric mean(y)/mean(d), e.g. AOV = revenue / orders, y and d per user):
  ``n``, Σy, Σy², Σd, Σd², Σyd.

Moments (sample moments, ddof = 1, from the sums)::

    ȳ = Σy / n
    S_yy = Σy² - (Σy)² / n          Var(y) = S_yy / (n - 1)
    S_xy = Σxy - Σx·Σy / n          Cov(x, y) = S_xy / (n - 1)

(Float64 cancellation in Σy² - (Σy)²/n costs about log10(ȳ²/Var(y)) digits: harmless for
business metrics; a variance that rounds below 0 is clipped to 0.)

Formulas (treatment t vs control c; z_q the standard normal quantile; alpha = 0.05 by default)
-----------------------------------------------------------------------------------------
1. ``compare_means``: Δ = ȳ_t - ȳ_c, relative lift Δ / ȳ_c, unpooled (Welch) standard error
   SE = √(Var_t/n_t + Var_c/n_c), z = Δ/SE, p = 2·(1 - Φ(|z|)), CI = Δ ± z_{1-alpha/2}·SE.
   Also the Welch t-test: df = SE⁴ / ((Var_t/n_t)²/(n_t - 1) + (Var_c/n_c)²/(n_c - 1))
   (Welch-Satterthwaite) and p = 2·(1 - F_t(|z|; df)).
2. ``ratio_estimate`` / ``compare_ratios`` (delta method): R = μy/μd with μy = Σy/n, μd = Σd/n,
   Var(R) = (1/n)·(Var(y)/μd² - 2·μy·Cov(y, d)/μd³ + μy²·Var(d)/μd⁴)
   (= Var(y - R·d)/(n·μd²), the variance of the linearised mean); then Δ = R_t - R_c,
   SE = √(Var(R_t) + Var(R_c)), z-test and normal CI as in 1.
3. ``cuped_theta`` / ``compare_cuped`` (CUPED, one θ for all variants of the experiment).
   Default ``theta_method="within"``: the within-variant pooled slope
   θ = Σ_g S_xy,g / Σ_g S_xx,g. This is exactly the x coefficient of the OLS regression
   y ~ variant dummies + x, so the CUPED difference equals the OLS treatment coefficient
   (Frisch-Waugh-Lovell), and a treatment effect on y cannot leak into θ.
   ``theta_method="total"``: θ = S_xy/S_xx on the union of users (the sums of all variants
   added up); it differs from "within" only by the between-variant term, which is second order.
   Per variant: adjusted mean ȳ_g - θ·(x̄_g - x̄) with x̄ = Σ_g Σx / Σ_g n (all users),
   adjusted variance Var_adj,g = Var(y)_g - 2θ·Cov(x, y)_g + θ²·Var(x)_g; the comparison is 1.
   with those (Δ_adj = Δ - θ·(x̄_t - x̄_c), SE = √(Var_adj,t/n_t + Var_adj,c/n_c)), treating θ
   as known (its estimation error is O(1/n) in the SE). Variance reduction (pooled within
   variants) = 1 - Σ_g S_adj,g / Σ_g S_yy,g with S_adj = S_yy - 2θ·S_xy + θ²·S_xx, which is
   ρ² (the within-variant correlation of x and y, squared) when θ is "within".
4. ``mixture_sprt_log_lr`` / ``confidence_sequence`` / ``sequential_test``: always-valid
   inference with the mixture SPRT and a normal mixing distribution N(θ0, τ²) (Johari,
   Koomen, Pekelis & Walsh, "Always valid inference", 2017/2022). With the cumulative
   estimate Δ_k and its variance V_k = Var_t/n_t + Var_c/n_c at look k::

       Λ_k(θ0) = √(V_k/(V_k + τ²)) · exp(τ²·(Δ_k - θ0)² / (2·V_k·(V_k + τ²)))
       always-valid p_k = min(1, min_{j ≤ k} 1/Λ_j(0))          (running minimum)
       CS_k = Δ_k ± √( V_k·(V_k + τ²)/τ² · (2·ln(1/alpha) + ln((V_k + τ²)/V_k)) )

   and ``sequential_test`` reports the running intersection ∩_{j ≤ k} CS_j, so that
   p_k ≤ alpha exactly when 0 lies outside the reported CS. Variances are plug-in sample
   variances (asymptotically valid). Default τ² = (0.1·s)² with s² the within-variant
   pooled per-user variance at the last look: a mixing standard deviation of 0.1 standard
   deviations (Cohen's d 0.1), whose CS width is within a few per cent of the optimum
   (τ² ≈ 8·V) for anything from a few hundred to a few hundred thousand users per arm.
   Pass ``tau2`` explicitly to keep the mixture fixed across daily refreshes.
5. ``adjust_p_values``: Holm (step-down, adj_(i) = max_{j ≤ i} min(1, (m - j + 1)·p_(j))) or
   Benjamini-Hochberg (step-up, adj_(i) = min_{j ≥ i} min(1, m/j·p_(j))) over the m
   non-missing p-values; a missing p-value (None or NaN) stays None and does not count in m.
6. ``minimum_detectable_effect``: MDE = (z_{1-alpha/2} + z_{power})·√(Var_c/n_c + Var_t/n_t)
   (two-sided alpha, the far tail ignored); ``mde_from_sums`` uses the pre-period variance of x
   when the covariate sums are there, else the variance of y.
7. ``verdict``: one line per experiment. SRM p < 0.001 → "withheld"; a guardrail (non-inferiority
   margin m ≥ 0 on the difference, in the metric's units) is breached when its CI bound crosses
   the margin in the bad direction (lower bound < -m when higher is better, upper bound > +m
   when lower is better); goal metrics win or lose at adjusted p < alpha in the good / bad direction.

Every function returns None (or NaN in a DataFrame) where a statistic is undefined: fewer than
two users for a variance, a zero standard error, a zero denominator, missing covariate sums.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

ALPHA = 0.05
POWER = 0.8
SRM_THRESHOLD = 0.001
DEFAULT_TAU_EFFECT_SIZE = 0.1
SEQUENTIAL_SUM_COLUMNS = (
    "control_n",
    "control_sum_y",
    "control_sum_y2",
    "treatment_n",
    "treatment_sum_y",
    "treatment_sum_y2",
)
SEQUENTIAL_COLUMNS = ("estimate", "se", "cs_low", "cs_high", "always_valid_p")


def _finite(value: float | None) -> float | None:
    return float(value) if value is not None and math.isfinite(value) else None


def _float(value: object) -> float | None:
    """``value`` as a float, None when missing (None, NaN, pandas NA); Decimals from Spark are fine."""
    if value is None or value is pd.NA:
        return None
    number = float(value)  # type: ignore[arg-type]
    return None if math.isnan(number) else number


def _z(alpha: float) -> float:
    return float(stats.norm.ppf(1 - alpha / 2))


# --- inputs ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class MeanSums:
    """Sums of a user-level metric y (and optionally its pre-period covariate x) for one variant."""

    n: float
    sum_y: float
    sum_y2: float
    sum_x: float | None = None
    sum_x2: float | None = None
    sum_xy: float | None = None

    def __post_init__(self) -> None:
        for name in ("n", "sum_y", "sum_y2"):
            object.__setattr__(self, name, _float(getattr(self, name)) or 0.0)
        for name in ("sum_x", "sum_x2", "sum_xy"):
            object.__setattr__(self, name, _float(getattr(self, name)))

    @classmethod
    def from_arrays(cls, y: Sequence[float] | np.ndarray, x: Sequence[float] | np.ndarray | None = None) -> MeanSums:
        """The sums of per-user values (what the gold table computes, here for tests and notebooks)."""
        ys = np.asarray(y, dtype=float)
        if x is None:
            return cls(len(ys), ys.sum(), (ys * ys).sum())
        xs = np.asarray(x, dtype=float)
        return cls(len(ys), ys.sum(), (ys * ys).sum(), xs.sum(), (xs * xs).sum(), (xs * ys).sum())

    @property
    def has_covariate(self) -> bool:
        return self.sum_x is not None and self.sum_x2 is not None and self.sum_xy is not None

    @property
    def mean_y(self) -> float | None:
        return self.sum_y / self.n if self.n > 0 else None

    @property
    def mean_x(self) -> float | None:
        return self.sum_x / self.n if self.n > 0 and self.sum_x is not None else None

    def s_yy(self) -> float:
        """Centered sum of squares of y (0 without users)."""
        return max(self.sum_y2 - self.sum_y**2 / self.n, 0.0) if self.n > 0 else 0.0

    def s_xx(self) -> float | None:
        if not self.has_covariate:
            return None
        return max(self.sum_x2 - self.sum_x**2 / self.n, 0.0) if self.n > 0 else 0.0  # type: ignore[operator]

    def s_xy(self) -> float | None:
        if not self.has_covariate:
            return None
        return self.sum_xy - self.sum_x * self.sum_y / self.n if self.n > 0 else 0.0  # type: ignore[operator]

    @property
    def var_y(self) -> float | None:
        """Sample variance of y (ddof=1); None below two users."""
        return self.s_yy() / (self.n - 1) if self.n >= 2 else None

    @property
    def var_x(self) -> float | None:
        s_xx = self.s_xx()
        return s_xx / (self.n - 1) if self.n >= 2 and s_xx is not None else None

    @property
    def cov_xy(self) -> float | None:
        s_xy = self.s_xy()
        return s_xy / (self.n - 1) if self.n >= 2 and s_xy is not None else None


@dataclass(frozen=True)
class RatioSums:
    """Sums of a ratio metric's per-user numerator y and denominator d for one variant."""

    n: float
    sum_y: float
    sum_y2: float
    sum_d: float
    sum_d2: float
    sum_yd: float

    def __post_init__(self) -> None:
        for name in ("n", "sum_y", "sum_y2", "sum_d", "sum_d2", "sum_yd"):
            object.__setattr__(self, name, _float(getattr(self, name)) or 0.0)

    @classmethod
    def from_arrays(cls, y: Sequence[float] | np.ndarray, d: Sequence[float] | np.ndarray) -> RatioSums:
        ys, ds = np.asarray(y, dtype=float), np.asarray(d, dtype=float)
        return cls(len(ys), ys.sum(), (ys * ys).sum(), ds.sum(), (ds * ds).sum(), (ys * ds).sum())


# --- results --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    """Treatment vs control on one metric; None where undefined."""

    control_mean: float | None
    treatment_mean: float | None
    difference: float | None
    relative_lift: float | None
    se: float | None
    z: float | None
    p_value: float | None
    ci_low: float | None
    ci_high: float | None
    welch_df: float | None = None
    welch_p_value: float | None = None

    def as_dict(self) -> dict[str, float | None]:
        return asdict(self)


@dataclass(frozen=True)
class CupedAnalysis:
    """CUPED over all variants of an experiment: θ, variance reduction, adjusted means and comparisons.

    ``theta`` None means no adjustment was possible (covariate sums missing, or no pre-period
    variance): the adjusted means and comparisons are then the unadjusted ones.
    """

    theta: float | None
    pooled_mean_x: float | None
    variance_reduction: float | None
    adjusted_means: dict[str, float | None]
    comparisons: dict[str, Comparison]


def _compare(
    mean_c: float | None,
    var_mean_c: float | None,
    mean_t: float | None,
    var_mean_t: float | None,
    alpha: float,
    dfs: tuple[float, float] | None = None,
) -> Comparison:
    """Normal-approximation comparison from two means and the variances of those means.

    ``dfs`` (n_c - 1, n_t - 1) adds the Welch t-test on the same standard error.
    """
    difference = mean_t - mean_c if mean_t is not None and mean_c is not None else None
    relative = difference / mean_c if difference is not None and mean_c else None
    if difference is None or var_mean_c is None or var_mean_t is None:
        return Comparison(mean_c, mean_t, difference, _finite(relative), None, None, None, None, None)
    se = math.sqrt(var_mean_c + var_mean_t)
    if not se > 0 or not math.isfinite(se):
        return Comparison(mean_c, mean_t, difference, _finite(relative), None, None, None, None, None)
    z = difference / se
    half = _z(alpha) * se
    welch_df = welch_p = None
    if dfs is not None:
        denominator = (var_mean_c**2 / dfs[0] if var_mean_c else 0.0) + (var_mean_t**2 / dfs[1] if var_mean_t else 0.0)
        welch_df = se**4 / denominator
        welch_p = _finite(2 * stats.t.sf(abs(z), welch_df))
    return Comparison(
        control_mean=mean_c,
        treatment_mean=mean_t,
        difference=difference,
        relative_lift=_finite(relative),
        se=se,
        z=z,
        p_value=_finite(2 * stats.norm.sf(abs(z))),
        ci_low=difference - half,
        ci_high=difference + half,
        welch_df=_finite(welch_df),
        welch_p_value=welch_p,
    )


# --- 1. means -------------------------------------------------------------------------------


def compare_means(control: MeanSums, treatment: MeanSums, *, alpha: float = ALPHA) -> Comparison:
    """Difference of means (treatment - control) with unpooled z-test, normal CI and Welch t-test."""
    var_c, var_t = control.var_y, treatment.var_y
    return _compare(
        control.mean_y,
        var_c / control.n if var_c is not None else None,
        treatment.mean_y,
        var_t / treatment.n if var_t is not None else None,
        alpha,
        dfs=(control.n - 1, treatment.n - 1),
    )


# --- 2. ratio metrics (delta method) --------------------------------------------------------


def ratio_estimate(sums: RatioSums) -> tuple[float | None, float | None]:
    """(R = mean(y)/mean(d), delta-method variance of R); None where undefined (n < 2 for the variance, μd = 0)."""
    if sums.n <= 0 or sums.sum_d == 0:
        return None, None
    n = sums.n
    mu_y, mu_d = sums.sum_y / n, sums.sum_d / n
    ratio = mu_y / mu_d
    if n < 2:
        return ratio, None
    var_y = max(sums.sum_y2 - sums.sum_y**2 / n, 0.0) / (n - 1)
    var_d = max(sums.sum_d2 - sums.sum_d**2 / n, 0.0) / (n - 1)
    cov_yd = (sums.sum_yd - sums.sum_y * sums.sum_d / n) / (n - 1)
    variance = (var_y / mu_d**2 - 2 * mu_y * cov_yd / mu_d**3 + mu_y**2 * var_d / mu_d**4) / n
    return ratio, max(variance, 0.0)


def compare_ratios(control: RatioSums, treatment: RatioSums, *, alpha: float = ALPHA) -> Comparison:
    """Difference of ratio metrics (treatment - control), delta-method SE, z-test and normal CI."""
    ratio_c, var_c = ratio_estimate(control)
    ratio_t, var_t = ratio_estimate(treatment)
    return _compare(ratio_c, var_c, ratio_t, var_t, alpha)


# --- 3. CUPED -------------------------------------------------------------------------------


def cuped_theta(variants: Iterable[MeanSums], method: Literal["within", "total"] = "within") -> float | None:
    """θ pooled over all variants: within-variant Σ S_xy / Σ S_xx, or on the union of users ("total").

    None when a variant lacks covariate sums or the pooled Var(x) is 0.
    """
    sums = list(variants)
    if not sums or not all(s.has_covariate for s in sums):
        return None
    if method == "total":
        union = MeanSums(
            sum(s.n for s in sums),
            sum(s.sum_y for s in sums),
            sum(s.sum_y2 for s in sums),
            sum(s.sum_x for s in sums),  # type: ignore[misc]
            sum(s.sum_x2 for s in sums),  # type: ignore[misc]
            sum(s.sum_xy for s in sums),  # type: ignore[misc]
        )
        s_xx, s_xy = union.s_xx() or 0.0, union.s_xy() or 0.0
    elif method == "within":
        s_xx = sum(s.s_xx() or 0.0 for s in sums)
        s_xy = sum(s.s_xy() or 0.0 for s in sums)
    else:
        raise ValueError(f"theta method must be 'within' or 'total', not {method!r}")
    return _finite(s_xy / s_xx) if s_xx > 0 else None


def compare_cuped(
    variants: Mapping[str, MeanSums],
    control: str | None = None,
    *,
    alpha: float = ALPHA,
    theta_method: Literal["within", "total"] = "within",
) -> CupedAnalysis:
    """CUPED-adjusted means and comparisons vs ``control`` (default: the first variant) with one pooled θ."""
    names = list(variants)
    if not names:
        return CupedAnalysis(None, None, None, {}, {})
    control = names[0] if control is None else control
    if control not in variants:
        raise KeyError(f"control variant {control!r} is not among {names}")
    theta = cuped_theta(variants.values(), theta_method)
    if theta is None:
        return CupedAnalysis(
            None,
            None,
            None,
            {name: s.mean_y for name, s in variants.items()},
            {name: compare_means(variants[control], s, alpha=alpha) for name, s in variants.items() if name != control},
        )
    total_n = sum(s.n for s in variants.values())
    pooled_mean_x = sum(s.sum_x for s in variants.values()) / total_n  # type: ignore[misc]
    adjusted_means: dict[str, float | None] = {}
    variances_of_mean: dict[str, float | None] = {}
    s_yy_total = s_adj_total = 0.0
    for name, s in variants.items():
        mean_y, mean_x = s.mean_y, s.mean_x
        adjusted_means[name] = (
            mean_y - theta * (mean_x - pooled_mean_x) if mean_y is not None and mean_x is not None else mean_y
        )
        s_yy, s_xy, s_xx = s.s_yy(), s.s_xy() or 0.0, s.s_xx() or 0.0
        s_adj = max(s_yy - 2 * theta * s_xy + theta**2 * s_xx, 0.0)
        s_yy_total += s_yy
        s_adj_total += s_adj
        variances_of_mean[name] = s_adj / (s.n - 1) / s.n if s.n >= 2 else None
    comparisons = {
        name: _compare(
            adjusted_means[control],
            variances_of_mean[control],
            adjusted_means[name],
            variances_of_mean[name],
            alpha,
            dfs=(variants[control].n - 1, variants[name].n - 1),
        )
        for name in names
        if name != control
    }
    reduction = 1 - s_adj_total / s_yy_total if s_yy_total > 0 else None
    return CupedAnalysis(theta, pooled_mean_x, reduction, adjusted_means, comparisons)


# --- 4. sequential testing (mixture SPRT, normal mixing) ------------------------------------


def mixture_sprt_log_lr(estimate: float, variance: float, tau2: float, theta0: float = 0.0) -> float:
    """ln Λ: the normal-mixture likelihood ratio of an estimate with variance ``variance`` against θ0."""
    return 0.5 * math.log(variance / (variance + tau2)) + tau2 * (estimate - theta0) ** 2 / (
        2 * variance * (variance + tau2)
    )


def confidence_sequence(estimate: float, variance: float, tau2: float, alpha: float = ALPHA) -> tuple[float, float]:
    """The (1 - alpha) confidence sequence at one look: {θ0 : Λ(θ0) < 1/alpha}."""
    half = math.sqrt(variance * (variance + tau2) / tau2 * (2 * math.log(1 / alpha) + math.log1p(tau2 / variance)))
    return estimate - half, estimate + half


def default_tau2(control: MeanSums, treatment: MeanSums, effect_size: float = DEFAULT_TAU_EFFECT_SIZE) -> float | None:
    """τ² = (effect_size · s)², s² the within-variant pooled per-user variance of y."""
    dof = control.n + treatment.n - 2
    if control.n < 1 or treatment.n < 1 or dof <= 0:
        return None
    pooled = (control.s_yy() + treatment.s_yy()) / dof
    return effect_size**2 * pooled if pooled > 0 else None


def sequential_test(cumulative: pd.DataFrame, *, alpha: float = ALPHA, tau2: float | None = None) -> pd.DataFrame:
    """Always-valid p-values and confidence sequences for the difference of means, one row per look.

    ``cumulative`` holds, ordered by date, the *cumulative* sums to each date in the
    ``SEQUENTIAL_SUM_COLUMNS`` (``control_n``, ``control_sum_y``, ``control_sum_y2``, and the
    same with ``treatment_``); daily sums become cumulative with ``daily[cols].cumsum()``.
    The result keeps the other columns (the date) and adds ``estimate`` (treatment - control),
    ``se``, ``cs_low``/``cs_high`` (running intersection of the confidence sequences; when it
    would be empty, the current look's sequence, from which intersecting starts again) and
    ``always_valid_p`` (running minimum of 1/Λ(0)). A look where the estimate or its variance is
    undefined (fewer than two users, zero variance) gets NaN ``estimate``/``se``, does not enter the
    running minimum or intersection, and carries the earlier ones forward (NaN before any).
    """
    missing = [c for c in SEQUENTIAL_SUM_COLUMNS if c not in cumulative.columns]
    if missing:
        raise KeyError(f"missing columns {missing}")
    looks = [
        (
            MeanSums(row.control_n, row.control_sum_y, row.control_sum_y2),
            MeanSums(row.treatment_n, row.treatment_sum_y, row.treatment_sum_y2),
        )
        for row in cumulative[list(SEQUENTIAL_SUM_COLUMNS)].itertuples(index=False)
    ]
    if tau2 is None:
        tau2 = next((t for c, tr in reversed(looks) if (t := default_tau2(c, tr)) is not None), None)
    if tau2 is not None and not tau2 > 0:
        raise ValueError("tau2 must be positive")
    columns: dict[str, list[float]] = {name: [] for name in SEQUENTIAL_COLUMNS}
    p_min, low_max, high_min = 1.0, -math.inf, math.inf
    seen = False
    for control, treatment in looks:
        comparison = compare_means(control, treatment, alpha=alpha)
        estimate, se = comparison.difference, comparison.se
        if tau2 is None or estimate is None or se is None:
            p = low = high = math.nan
            if seen:
                p, low, high = p_min, low_max, high_min
            columns["estimate"].append(math.nan if estimate is None else estimate)
            columns["se"].append(math.nan if se is None else se)
        else:
            variance = se * se
            p_min = min(p_min, math.exp(-max(mixture_sprt_log_lr(estimate, variance, tau2), 0.0)))
            cs_low, cs_high = confidence_sequence(estimate, variance, tau2, alpha)
            low_max, high_min = max(low_max, cs_low), min(high_min, cs_high)
            if low_max > high_min:
                # An empty intersection: this look's sequence misses every earlier one, which the
                # model allows only with probability alpha, and which an effect that changes over
                # time (later cohorts with shorter outcome windows) makes common. Report this
                # look's own sequence rather than an empty interval, and intersect from here on.
                low_max, high_min = cs_low, cs_high
            seen = True
            p, low, high = p_min, low_max, high_min
            columns["estimate"].append(estimate)
            columns["se"].append(se)
        columns["cs_low"].append(low)
        columns["cs_high"].append(high)
        columns["always_valid_p"].append(p)
    result = cumulative.drop(columns=list(SEQUENTIAL_SUM_COLUMNS)).copy()
    for name in SEQUENTIAL_COLUMNS:
        result[name] = np.asarray(columns[name], dtype=float)
    return result


# --- 5. multiple comparisons ----------------------------------------------------------------


def adjust_p_values(p_values: Iterable[float | None], method: Literal["holm", "bh"] = "holm") -> list[float | None]:
    """Holm (family-wise error) or Benjamini-Hochberg (false discovery rate) adjusted p-values.

    Positions are kept; a missing p-value (None, NaN) stays None and does not count in m.
    """
    if method not in ("holm", "bh"):
        raise ValueError(f"method must be 'holm' or 'bh', not {method!r}")
    values = [_float(p) for p in p_values]
    present = [i for i, p in enumerate(values) if p is not None]
    adjusted: list[float | None] = [None] * len(values)
    m = len(present)
    if m == 0:
        return adjusted
    p = np.asarray([values[i] for i in present], dtype=float)
    order = np.argsort(p, kind="mergesort")
    ranked = p[order]
    rank = np.arange(1, m + 1)
    if method == "holm":
        steps = np.maximum.accumulate(np.minimum((m - rank + 1) * ranked, 1.0))
    else:
        steps = np.minimum.accumulate(np.minimum(m / rank * ranked, 1.0)[::-1])[::-1]
    for position, value in zip(order, steps, strict=True):
        adjusted[present[position]] = float(value)
    return adjusted


# --- 6. power / MDE -------------------------------------------------------------------------


def minimum_detectable_effect(
    var_control: float | None,
    n_control: float,
    var_treatment: float | None = None,
    n_treatment: float | None = None,
    *,
    alpha: float = ALPHA,
    power: float = POWER,
) -> float | None:
    """Smallest absolute difference detected with ``power`` by a two-sided level-``alpha`` z-test.

    ``var_treatment`` / ``n_treatment`` default to the control's.
    """
    var_t = var_control if var_treatment is None else var_treatment
    n_t = n_control if n_treatment is None else n_treatment
    if var_control is None or var_t is None or n_control <= 0 or n_t <= 0 or var_control < 0 or var_t < 0:
        return None
    return (_z(alpha) + float(stats.norm.ppf(power))) * math.sqrt(var_control / n_control + var_t / n_t)


def mde_from_sums(
    control: MeanSums,
    treatment: MeanSums,
    *,
    alpha: float = ALPHA,
    power: float = POWER,
    use_pre_period: bool = True,
) -> float | None:
    """MDE at the current sample sizes, from the pre-period variance of x when available, else of y."""
    if use_pre_period and control.has_covariate and treatment.has_covariate:
        var_c, var_t = control.var_x, treatment.var_x
    else:
        var_c, var_t = control.var_y, treatment.var_y
    if var_c is None or var_t is None:
        return None
    return minimum_detectable_effect(var_c, control.n, var_t, treatment.n, alpha=alpha, power=power)


# --- 7. verdict -----------------------------------------------------------------------------


@dataclass(frozen=True)
class GoalResult:
    """A goal metric of one variant vs control: the difference and its multiplicity-adjusted p-value.

    ``scale`` and ``unit`` only format the difference (a rate: ``scale=100, unit="pp"``).
    """

    variant: str
    metric: str
    difference: float | None
    adjusted_p: float | None
    higher_is_better: bool = True
    scale: float = 1.0
    unit: str = ""


@dataclass(frozen=True)
class GuardrailResult:
    """A guardrail metric of one variant vs control: the CI of the difference and the non-inferiority margin.

    ``margin`` (≥ 0, in the units of the difference) is how much worse the variant may be.
    """

    variant: str
    metric: str
    ci_low: float | None
    ci_high: float | None
    margin: float
    higher_is_better: bool = True
    scale: float = 1.0
    unit: str = ""


def guardrail_breached(guardrail: GuardrailResult) -> bool | None:
    """Whether the CI's bound crosses the margin in the bad direction; None when the bound is missing."""
    margin = abs(guardrail.margin)
    if guardrail.higher_is_better:
        low = _float(guardrail.ci_low)
        return None if low is None else low < -margin
    high = _float(guardrail.ci_high)
    return None if high is None else high > margin


def _amount(value: float, scale: float, unit: str) -> str:
    return f"{value * scale:+.3g}" + (f" {unit}" if unit else "")


def _goal_text(goal: GoalResult) -> str:
    return f"{goal.metric} ({_amount(goal.difference or 0.0, goal.scale, goal.unit)}, adjusted p={goal.adjusted_p:.2g})"


def _guardrail_text(guardrail: GuardrailResult) -> str:
    if guardrail.higher_is_better:
        bound, limit = f"CI low {_amount(guardrail.ci_low or 0.0, guardrail.scale, guardrail.unit)}", -guardrail.margin
    else:
        bound, limit = f"CI high {_amount(guardrail.ci_high or 0.0, guardrail.scale, guardrail.unit)}", guardrail.margin
    return f"{guardrail.variant}: {bound} vs margin {_amount(limit, guardrail.scale, guardrail.unit)}"


def verdict(
    srm_p: float | None,
    goals: Sequence[GoalResult],
    guardrails: Sequence[GuardrailResult] = (),
    *,
    alpha: float = ALPHA,
    srm_threshold: float = SRM_THRESHOLD,
    control: str = "control",
) -> str:
    """One line: "withheld: ...", "ship: ...", "do not ship: ..." or "no decision: ...".

    In order: a sample ratio mismatch (``srm_p`` < ``srm_threshold``) withholds the verdict
    (a missing SRM p-value does not). A variant ships when it beats control on a goal
    (adjusted p < alpha, good direction), is worse on none, and all its guardrails are
    evaluated and hold; among several, the one with the smallest adjusted p. Otherwise a
    breached guardrail, then a variant that wins on one goal and loses on another (no
    decision: a trade-off), then a variant significantly worse on a goal (do not ship), then a
    winner whose guardrails cannot be evaluated (no decision), else no decision.
    """
    srm = _float(srm_p)
    if srm is not None and srm < srm_threshold:
        return f"withheld: sample ratio mismatch (p={srm:.2g})"
    variants = list(dict.fromkeys([g.variant for g in goals] + [g.variant for g in guardrails]))
    wins: dict[str, list[GoalResult]] = {v: [] for v in variants}
    losses: dict[str, list[GoalResult]] = {v: [] for v in variants}
    for goal in goals:
        p, difference = _float(goal.adjusted_p), _float(goal.difference)
        if p is None or difference is None or p >= alpha or difference == 0:
            continue
        (wins if (difference > 0) == goal.higher_is_better else losses)[goal.variant].append(goal)
    breached = {v: [g for g in guardrails if g.variant == v and guardrail_breached(g)] for v in variants}
    unknown = {v: [g for g in guardrails if g.variant == v and guardrail_breached(g) is None] for v in variants}

    def best_p(goal_list: list[GoalResult]) -> float:
        return min(g.adjusted_p for g in goal_list if g.adjusted_p is not None)

    def beats(variant: str) -> str:
        ordered = sorted(wins[variant], key=lambda g: g.adjusted_p or 0.0)
        return f"{variant} beats {control} on " + " and ".join(_goal_text(g) for g in ordered)

    shippable = [v for v in variants if wins[v] and not losses[v] and not breached[v] and not unknown[v]]
    if shippable:
        winner = min(shippable, key=lambda v: best_p(wins[v]))
        tail = "guardrails hold" if any(g.variant == winner for g in guardrails) else "no guardrails set"
        return f"ship: {beats(winner)}; {tail}"
    all_breached = [g for v in variants for g in breached[v]]
    if all_breached:
        metrics = ", ".join(dict.fromkeys(g.metric for g in all_breached))
        plural = "s" if len({g.metric for g in all_breached}) > 1 else ""
        return f"do not ship: guardrail{plural} {metrics} breached ({_guardrail_text(all_breached[0])})"
    mixed = [v for v in variants if wins[v] and losses[v]]
    if mixed:
        v = mixed[0]
        return f"no decision: {beats(v)} but is worse on " + " and ".join(_goal_text(g) for g in losses[v])
    losing = [v for v in variants if losses[v]]
    if losing:
        v = min(losing, key=lambda name: best_p(losses[name]))
        return f"do not ship: {v} is worse than {control} on " + " and ".join(_goal_text(g) for g in losses[v])
    unevaluated = [v for v in variants if wins[v] and unknown[v]]
    if unevaluated:
        v = unevaluated[0]
        names = ", ".join(g.metric for g in unknown[v])
        return f"no decision: {beats(v)}, but guardrail {names} cannot be evaluated"
    tested = [g for g in goals if _float(g.adjusted_p) is not None]
    if not tested:
        return "no decision: no goal metric has a p-value yet"
    closest = min(tested, key=lambda g: g.adjusted_p or 0.0)
    return (
        f"no decision: no goal metric significant at adjusted p<{alpha:g}; "
        f"closest: {closest.variant} on {_goal_text(closest)}"
    )
