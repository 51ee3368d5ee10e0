"""Funnel plots for proportions and ratios, with exact or normal limits and over-dispersion.

Methods
-------
Spiegelhalter DJ (2005) "Funnel plots for comparing institutional performance", *Statistics in
Medicine* 24:1185-1202 (limits), and Spiegelhalter DJ (2005) "Handling over-dispersion of
performance indicators", *Quality and Safety in Health Care* 14:347-351 (over-dispersion).

Each unit ``i`` has a numerator ``O_i`` and a denominator ``n_i``:

* ``kind="proportion"`` (e.g. A&E attendances within 4 hours / attendances): ``O_i ~
  Binomial(n_i, p0)`` under the null, with target ``p0``.
* ``kind="ratio"`` (e.g. SHMI observed / expected deaths, or admissions / population):
  ``O_i ~ Poisson(theta0 * n_i)`` under the null, with target ``theta0`` (1 for an O/E ratio
  such as SHMI; the pooled rate for a rate).

The target is the pooled mean ``sum(O) / sum(n)`` unless given.

**Exact limits** (default without over-dispersion) use the interpolated quantile of the
binomial/Poisson null (Spiegelhalter 2005, Stat Med, appendix A.1.1): for tail probability ``p``
let ``r_p`` be the smallest count with ``F(r_p) >= p``; then
``alpha = (F(r_p) - p) / (F(r_p) - F(r_p - 1))`` and the limit is ``(r_p - alpha) / n``.

**Normal limits** are ``g^-1(g(target) +/- z_p * s(n))`` on the analysis scale ``g``:

===========  ==========  ======================  =========================
kind         scale       g(y)                    s(n) under the null
===========  ==========  ======================  =========================
proportion   identity    y                       sqrt(p0 (1 - p0) / n)
proportion   arcsine     asin(sqrt(y))           1 / (2 sqrt(n))
ratio        identity    y                       sqrt(theta0 / n)
ratio        sqrt        sqrt(y)                 1 / (2 sqrt(n))   (default)
ratio        log         log(y)                  1 / sqrt(theta0 n)
===========  ==========  ======================  =========================

z-scores are ``z_i = (g(y_i) - g(target)) / s(n_i)``.

**Over-dispersion** (Spiegelhalter 2005, QSHC): the z-scores are *winsorised* (those below the
10th percentile set to it, those above the 90th set to it; ``winsor=0.1``, percentiles with linear
interpolation as R's default), then ``phi = mean(z_w^2)``.

* ``"multiplicative"``: limits ``g^-1(g(t) +/- z_p sqrt(phi) s(n))``, adjusted z ``z / sqrt(phi)``.
  An estimated phi below 1 is not applied (limits are never narrowed below the null).
* ``"additive"`` (random effects; the approach NHS Digital uses for SHMI banding): with
  ``w_i = 1 / s_i^2``, DerSimonian-Laird ``tau^2 = (I phi - (I - 1)) / (sum w - sum w^2 / sum w)``
  when ``I phi > I - 1`` else 0; limits ``g^-1(g(t) +/- z_p sqrt(s(n)^2 + tau^2))``, adjusted
  z ``(g(y) - g(t)) / sqrt(s^2 + tau^2)``.

**Many units (FDR).** With ``fdr=q`` each unit gets the two-sided p-value of its adjusted
z-score under the (over-dispersed) null, ``p = 2 (1 - Phi(|z_adjusted|))`` (the normal
approximation on the analysis scale, also for exact limits), and the Benjamini-Hochberg
procedure flags the units with ``p_(i) <= i q / m`` up to the largest such rank
(``fdr_flag``; ``q_value`` is the BH-adjusted p-value), so that about ``q`` of the flagged
units are expected to be false alarms (Spiegelhalter 2005, Stat Med, section 6; Jones,
Ohlssen & Spiegelhalter 2008).

**Impossible limits.** A proportion's limits are cut at 0% and 100% only where the formula would
go beyond them (small denominators, or additive over-dispersion on the identity scale); as in
FunnelPlotR the rest of the curve is drawn as computed. ``summary["clipped_limits"]`` says where
they were cut and the plot draws the 0%/100% bound so a reader sees it.

Note: NHS Digital's published SHMI banding works on the log scale and *trims* (excludes) the
10% most extreme z-scores at each end when estimating phi; here they are winsorised (retained at
the percentile), as in Spiegelhalter (2005). Use ``scale="log"`` to match the SHMI scale.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..errors import InvalidParameterError
from . import layers, style

Kind = Literal["proportion", "ratio"]

_SCALES = {"proportion": ("identity", "arcsine"), "ratio": ("identity", "sqrt", "log")}
_DEFAULT_SCALE = {"proportion": "identity", "ratio": "sqrt"}


def _level_tag(level: float) -> str:
    """0.95 -> '95', 0.998 -> '998' (column suffixes)."""
    return f"{level * 100:.10g}".replace(".", "")


def _level_pct(level: float) -> str:
    """0.95 -> '95%', 0.998 -> '99.8%'."""
    return f"{level * 100:.10g}%"


@dataclass
class FunnelAnalysis:
    """The numbers behind a funnel plot.

    Attributes
    ----------
    data
        One row per unit: ``unit``, ``label``, ``numerator``, ``denominator``, ``value`` (in
        display units, e.g. %), ``z``, ``z_adjusted``, ``lower_<L>``/``upper_<L>`` for each
        level (e.g. ``lower_95``, ``upper_998``), ``flag``, ``winsorised``, ``highlighted``.
    limits
        The control-limit curves over a grid of denominators (display units).
    summary
        Target, method, scale, phi, tau2, levels, exclusions and the method note.
    """

    data: pd.DataFrame
    limits: pd.DataFrame
    summary: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class _Null:
    """The null model and over-dispersion: everything needed to draw limits at any n."""

    kind: str
    target: float
    scale: str
    method: str
    inflation: str | None  # None, "multiplicative" or "additive"
    phi: float = 1.0
    tau2: float = 0.0

    # analysis scale
    def g(self, y):
        y = np.asarray(y, float)
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.scale == "identity":
                return y
            if self.scale == "sqrt":
                return np.sqrt(y)
            if self.scale == "log":
                return np.log(y)
            return np.arcsin(np.sqrt(y))  # arcsine

    def g_inv(self, v):
        v = np.asarray(v, float)
        if self.scale == "identity":
            out = v
        elif self.scale == "sqrt":
            out = np.clip(v, 0, None) ** 2
        elif self.scale == "log":
            out = np.exp(v)
        else:
            out = np.sin(np.clip(v, 0, np.pi / 2)) ** 2
        return np.clip(out, 0, 1) if self.kind == "proportion" else np.clip(out, 0, None)

    def s(self, n):
        n = np.asarray(n, float)
        with np.errstate(divide="ignore"):
            if self.scale == "identity":
                if self.kind == "proportion":
                    return np.sqrt(self.target * (1 - self.target) / n)
                return np.sqrt(self.target / n)
            if self.scale == "log":
                return 1 / np.sqrt(self.target * n)
            return 1 / (2 * np.sqrt(n))  # sqrt and arcsine

    def sd(self, n):
        """The standard deviation used for limits, including over-dispersion."""
        s = self.s(n)
        if self.inflation == "multiplicative":
            return s * np.sqrt(self.phi)
        if self.inflation == "additive":
            return np.sqrt(s**2 + self.tau2)
        return s

    def limits(self, n, level: float) -> tuple[np.ndarray, np.ndarray]:
        """(lower, upper) limits on the natural scale at denominators ``n``."""
        from scipy import stats

        p_lo, p_hi = (1 - level) / 2, 1 - (1 - level) / 2
        n = np.asarray(n, float)
        if self.method == "exact":
            return _exact(self.kind, n, self.target, p_lo), _exact(self.kind, n, self.target, p_hi)
        z = stats.norm.ppf(p_hi)
        centre, sd = self.g(self.target), self.sd(n)
        return self.g_inv(centre - z * sd), self.g_inv(centre + z * sd)


def _exact(kind: str, n: np.ndarray, target: float, p: float) -> np.ndarray:
    """Spiegelhalter's interpolated exact limit at tail probability ``p``."""
    from scipy import stats

    dist = stats.binom(np.round(n), target) if kind == "proportion" else stats.poisson(target * n)
    r = dist.ppf(p)
    f_r, f_below = dist.cdf(r), dist.cdf(r - 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        alpha = (f_r - p) / (f_r - f_below)
        out = (r - alpha) / n
    return np.clip(out, 0, 1) if kind == "proportion" else np.clip(out, 0, None)


def _winsorise(z: np.ndarray, q: float) -> tuple[np.ndarray, np.ndarray]:
    lo, hi = np.quantile(z, [q, 1 - q])
    clipped = (z < lo) | (z > hi)
    return np.clip(z, lo, hi), clipped


def funnel_data(
    data: pd.DataFrame,
    *,
    numerator: str,
    denominator: str,
    unit: str,
    kind: Kind = "proportion",
    target: float | None = None,
    levels: Sequence[float] = (0.95, 0.998),
    method: Literal["exact", "normal"] | None = None,
    scale: str | None = None,
    overdispersion: Literal["multiplicative", "additive"] | None = None,
    phi: float | None = None,
    tau2: float | None = None,
    winsor: float = 0.1,
    multiplier: float | None = None,
    label: str | None = None,
    highlight: Sequence[str] | None = None,
    fdr: float | None = None,
    unit_name: str = "acute trusts",
) -> FunnelAnalysis:
    """Funnel-plot numbers: per-unit values, z-scores, limits and flags.

    Parameters
    ----------
    data
        One row per unit (trust, ICS...).
    numerator, denominator, unit
        Column names. For proportions the numerator counts successes out of the denominator;
        for ratios the denominator is the expected count (O/E) or the exposure (rates).
    kind
        ``"proportion"`` (binomial) or ``"ratio"`` (Poisson).
    target
        The centre line on the natural scale (0-1 for proportions; 1 for SHMI). Default: the
        pooled mean ``sum(numerator) / sum(denominator)``.
    levels
        Control-limit coverage, default 95% and 99.8%.
    method
        ``"exact"`` (binomial/Poisson, the default without over-dispersion) or ``"normal"``
        (the only choice with over-dispersion).
    scale
        Analysis scale for z-scores and normal limits: proportion ``"identity"`` (default) or
        ``"arcsine"``; ratio ``"sqrt"`` (default), ``"log"`` or ``"identity"``.
    overdispersion
        ``None``, ``"multiplicative"`` (phi) or ``"additive"`` (random effects tau^2).
    phi, tau2
        Use these instead of estimating them (``phi=1`` or ``tau2=0`` gives the plain limits).
    winsor
        Fraction winsorised at each end before estimating phi (default 0.1: 10th/90th centile).
    multiplier
        Display multiplier for ``value`` and limits (default 100 for proportions, i.e. %, and 1
        for ratios).
    label
        Column with display names (default: the unit codes).
    highlight
        Units to mark (e.g. the trusts of one ICS).
    fdr
        Also flag units by the Benjamini-Hochberg false discovery rate at this level (e.g.
        ``0.05``): ``p_value``, ``q_value`` and ``fdr_flag`` columns. ``None`` (default) adds
        ``p_value`` and ``q_value`` only.
    unit_name
        What the units are, in words for the summary (default ``"acute trusts"``).

    Returns
    -------
    FunnelAnalysis

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"trust": ["A", "B", "C"], "seen": [900, 1700, 2500],
    ...                    "attended": [1000, 2000, 2600]})
    >>> fa = funnel_data(df, numerator="seen", denominator="attended", unit="trust")
    >>> round(fa.summary["target"], 2)
    91.07
    """
    what = "funnel plot data"
    style.require_columns(data, [unit, numerator, denominator] + ([label] if label else []), what)
    if kind not in _SCALES:
        raise InvalidParameterError(f"kind must be 'proportion' or 'ratio', got {kind!r}")
    scale = scale or _DEFAULT_SCALE[kind]
    if scale not in _SCALES[kind]:
        raise InvalidParameterError(
            f"scale {scale!r} is not available for kind={kind!r}; choose one of {_SCALES[kind]}"
        )
    if overdispersion not in (None, "multiplicative", "additive"):
        raise InvalidParameterError(
            f"overdispersion must be None, 'multiplicative' or 'additive', got {overdispersion!r}"
        )
    if method is None:
        method = "normal" if overdispersion else "exact"
    if method not in ("exact", "normal"):
        raise InvalidParameterError(f"method must be 'exact' or 'normal', got {method!r}")
    if method == "exact" and overdispersion:
        raise InvalidParameterError(
            "over-dispersed limits are defined on the normal approximation: use method='normal' "
            "(or leave method unset) with overdispersion=..."
        )
    if phi is not None and overdispersion != "multiplicative":
        raise InvalidParameterError("phi= applies only with overdispersion='multiplicative'")
    if tau2 is not None and overdispersion != "additive":
        raise InvalidParameterError("tau2= applies only with overdispersion='additive'")
    if phi is not None and not (np.isfinite(phi) and phi > 0):
        raise InvalidParameterError(f"phi must be a positive number, got {phi!r}")
    if tau2 is not None and not (np.isfinite(tau2) and tau2 >= 0):
        raise InvalidParameterError(f"tau2 must be a number >= 0, got {tau2!r}")
    levels = sorted(float(x) for x in levels)
    if not levels or any(not 0 < x < 1 for x in levels):
        raise InvalidParameterError(f"levels must be coverages between 0 and 1, got {levels}")
    if not 0 <= winsor < 0.5:
        raise InvalidParameterError(f"winsor must be in [0, 0.5), got {winsor!r}")
    if fdr is not None and (
        isinstance(fdr, bool) or not isinstance(fdr, (int, float)) or not 0 < fdr < 1
    ):
        raise InvalidParameterError(
            f"fdr must be a false discovery rate between 0 and 1, got {fdr!r}. "
            "Fix: pass fdr=0.05 (5%) or leave it unset."
        )
    if multiplier is None:
        multiplier = 100.0 if kind == "proportion" else 1.0

    units = data[unit]
    if units.isna().any():
        raise InvalidParameterError(f"{what}: column {unit!r} has missing unit codes")
    dup = units[units.duplicated()]
    if len(dup):
        raise InvalidParameterError(
            f"{what}: units appear more than once in {unit!r}, e.g. {dup.astype(str).unique()[:3].tolist()}; "
            "aggregate to one row per unit first"
        )
    num = style.numeric_column(data, numerator, what)
    den = style.numeric_column(data, denominator, what)

    excluded_reason = np.full(len(data), "", dtype=object)
    excluded_reason[np.isnan(num)] = f"missing {numerator}"
    excluded_reason[np.isnan(den)] = f"missing {denominator}"
    excluded_reason[~np.isnan(den) & (den <= 0)] = f"{denominator} <= 0"
    keep = excluded_reason == ""
    if keep.sum() < 2:
        raise InvalidParameterError(
            f"{what}: need at least 2 units with a positive {denominator!r} and a {numerator!r}; "
            f"found {int(keep.sum())}"
        )
    neg = keep & (num < 0)
    if neg.any():
        raise InvalidParameterError(
            f"{what}: negative {numerator!r} for units {units[neg].astype(str).tolist()[:5]}"
        )
    if kind == "proportion":
        over = keep & (num > den)
        if over.any():
            raise InvalidParameterError(
                f"{what}: {numerator!r} exceeds {denominator!r} for units "
                f"{units[over].astype(str).tolist()[:5]}; a proportion needs numerator <= denominator "
                "(for an observed/expected ratio use kind='ratio')"
            )
        if method == "exact" and not np.allclose(den[keep], np.round(den[keep])):
            raise InvalidParameterError(
                f"{what}: exact binomial limits need whole-number denominators; {denominator!r} "
                "has fractions. Use method='normal'."
            )

    pooled = float(num[keep].sum() / den[keep].sum())
    if target is None:
        target = pooled
        target_source = "pooled mean"
    else:
        target = float(target)
        target_source = "given"
    if kind == "proportion" and not 0 < target < 1:
        raise InvalidParameterError(
            f"{what}: the target proportion must be strictly between 0 and 1, got {target!r}"
            + (" (pass it as a fraction, e.g. 0.95 for 95%)" if target > 1 else "")
        )
    if kind == "ratio" and not target > 0:
        raise InvalidParameterError(f"{what}: the target ratio must be > 0, got {target!r}")
    if scale == "log" and (keep & (num == 0)).any():
        raise InvalidParameterError(
            f"{what}: units with {numerator!r} = 0 have no log ratio: "
            f"{units[keep & (num == 0)].astype(str).tolist()[:5]}; use scale='sqrt'"
        )

    from scipy import stats

    null = _Null(kind, target, scale, method, None)
    with np.errstate(divide="ignore", invalid="ignore"):
        value_nat = np.where(keep, num / den, np.nan)
        z = np.where(keep, (null.g(value_nat) - null.g(target)) / null.s(den), np.nan)

    phi_hat = tau2_hat = None
    winsorised = np.zeros(len(data), dtype=bool)
    phi_applied, tau2_applied = 1.0, 0.0
    if overdispersion:
        zw, clipped = _winsorise(z[keep], winsor)
        winsorised[np.flatnonzero(keep)] = clipped
        n_units = int(keep.sum())
        phi_hat = float(np.mean(zw**2))
        if overdispersion == "multiplicative":
            phi_applied = float(phi) if phi is not None else max(phi_hat, 1.0)
        else:
            w = 1 / null.s(den[keep]) ** 2
            if n_units * phi_hat > n_units - 1:
                tau2_hat = float(
                    (n_units * phi_hat - (n_units - 1)) / (w.sum() - (w**2).sum() / w.sum())
                )
            else:
                tau2_hat = 0.0
            tau2_applied = float(tau2) if tau2 is not None else tau2_hat
        null = _Null(kind, target, scale, method, overdispersion, phi_applied, tau2_applied)

    with np.errstate(divide="ignore", invalid="ignore"):
        z_adj = np.where(
            keep, (null.g(value_nat) - null.g(target)) / null.sd(np.where(keep, den, 1.0)), np.nan
        )

    out = pd.DataFrame(
        {
            "unit": units.to_numpy(),
            "label": (data[label] if label else units).astype(str).to_numpy(),
            "numerator": num,
            "denominator": den,
            "value": value_nat * multiplier,
            "z": z,
            "z_adjusted": z_adj,
        }
    )
    flag = np.where(keep, "within", "excluded").astype(object)
    for level in levels:
        lo, hi = null.limits(np.where(keep, den, 1.0), level)
        tag = _level_tag(level)
        out[f"lower_{tag}"] = np.where(keep, lo * multiplier, np.nan)
        out[f"upper_{tag}"] = np.where(keep, hi * multiplier, np.nan)
        # levels ascend, so a later (wider) level overwrites a narrower one
        flag = np.where(keep & (value_nat > hi), f"above {_level_pct(level)}", flag)
        flag = np.where(keep & (value_nat < lo), f"below {_level_pct(level)}", flag)
    out["flag"] = flag
    p_value = np.where(keep, 2 * stats.norm.sf(np.abs(np.where(keep, z_adj, 0.0))), np.nan)
    q_value = np.full(len(out), np.nan)
    q_value[keep] = benjamini_hochberg(p_value[keep])
    out["p_value"] = p_value
    out["q_value"] = q_value
    if fdr is not None:
        hit = keep & (q_value <= fdr)
        out["fdr_flag"] = np.where(
            ~keep,
            "excluded",
            np.where(hit & (z_adj > 0), "above", np.where(hit, "below", "within")),
        )
    out["excluded_reason"] = excluded_reason
    out["winsorised"] = winsorised

    highlight = list(highlight or [])
    known = set(units.astype(str))
    unknown = [h for h in highlight if str(h) not in known]
    if unknown:
        raise InvalidParameterError(
            f"{what}: highlight units {unknown[:5]} are not in column {unit!r}"
        )
    out["highlighted"] = units.astype(str).isin([str(h) for h in highlight]).to_numpy()

    # limit curves for drawing: dense where the funnel bends (small n)
    d_in = den[keep]
    lo_n = max(d_in.min() * 0.6, 1e-9 if kind == "ratio" else 1.0)
    grid = np.geomspace(lo_n, d_in.max() * 1.08, 300)
    if kind == "proportion" and method == "exact":
        grid = np.unique(np.round(grid).clip(1))
    curves = pd.DataFrame({"denominator": grid, "target": target * multiplier})
    for level in levels:
        lo, hi = null.limits(grid, level)
        tag = _level_tag(level)
        curves[f"lower_{tag}"] = lo * multiplier
        curves[f"upper_{tag}"] = hi * multiplier

    clipped = _clipped_limits(curves, levels, kind, multiplier)
    counts = out.loc[keep, "flag"].value_counts().to_dict()
    summary = {
        "kind": kind,
        "target": target * multiplier,
        "target_natural": target,
        "target_source": target_source,
        "pooled_mean": pooled * multiplier,
        "multiplier": multiplier,
        "levels": levels,
        "method": method,
        "scale": scale,
        "overdispersion": overdispersion,
        "phi_estimated": phi_hat,
        "phi": phi_applied if overdispersion == "multiplicative" else None,
        "tau2_estimated": tau2_hat,
        "tau2": tau2_applied if overdispersion == "additive" else None,
        "winsor": winsor if overdispersion else None,
        "n_units": int(keep.sum()),
        "excluded": dict(zip(units[~keep].astype(str), excluded_reason[~keep], strict=True)),
        "flag_counts": {str(k): int(v) for k, v in counts.items()},
        "method_note": _method_note(kind, method, scale, overdispersion, phi_applied, tau2_applied),
        "unit_name": unit_name,
        "clipped_limits": clipped,
        "fdr": None,
        "overdispersion_note": None,
    }
    if fdr is not None:
        n_hit = int((out["fdr_flag"].isin(["above", "below"])).sum())
        summary["fdr"] = {
            "level": float(fdr),
            "n_flagged": n_hit,
            "above": int((out["fdr_flag"] == "above").sum()),
            "below": int((out["fdr_flag"] == "below").sum()),
            "note": (
                f"{n_hit} of {int(keep.sum())} {unit_name} flagged at a false discovery rate of "
                f"{fdr:.0%} (Benjamini-Hochberg on two-sided p-values under the "
                f"{'over-dispersed ' if overdispersion else ''}null): about {fdr:.0%} of the "
                "flagged are expected to be false alarms"
            ),
        }
    if overdispersion == "additive":
        summary["overdispersion_note"] = _additive_note(null, den[keep], tau2_applied, unit_name)
    return FunnelAnalysis(out, curves, summary)


def benjamini_hochberg(p_values) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q-values) for a set of p-values.

    Parameters
    ----------
    p_values
        P-values, one per unit (no missing values).

    Returns
    -------
    numpy.ndarray
        ``q_i = min over p_j >= p_i of m p_j / rank_j``, capped at 1; a unit is flagged at false
        discovery rate ``q`` when ``q_i <= q``.

    Examples
    --------
    >>> benjamini_hochberg([0.01, 0.04, 0.03]).round(3).tolist()
    [0.03, 0.04, 0.04]
    """
    p = np.asarray(p_values, dtype=float)
    m = len(p)
    if m == 0:
        return p.copy()
    order = np.argsort(p, kind="stable")
    scaled = p[order] * m / np.arange(1, m + 1)
    # step-up: the running minimum from the largest p-value down
    q_sorted = np.minimum.accumulate(scaled[::-1])[::-1].clip(max=1.0)
    q = np.empty(m)
    q[order] = q_sorted
    return q


def _clipped_limits(curves: pd.DataFrame, levels, kind: str, multiplier: float) -> list[dict]:
    """Where a proportion's limits were cut at 0 or 100% (impossible values)."""
    if kind != "proportion":
        return []
    out = []
    for level in levels:
        tag = _level_tag(level)
        for side, bound in (("upper", 1.0), ("lower", 0.0)):
            col = curves[f"{side}_{tag}"].to_numpy()
            at = np.isclose(col, bound * multiplier, rtol=0, atol=1e-12 * multiplier)
            if at.any():
                n_at = curves["denominator"].to_numpy()[at]
                out.append(
                    {
                        "level": level,
                        "side": side,
                        "bound": bound * multiplier,
                        "denominator_from": float(n_at.min()),
                        "denominator_to": float(n_at.max()),
                    }
                )
    return out


def _share(x: float) -> str:
    """0.996 -> 'over 99%' (never a rounded-up 100% for a part of a whole)."""
    return "over 99%" if x > 0.99 else f"{x:.0%}"


def _additive_note(null: _Null, den: np.ndarray, tau2: float, unit_name: str) -> str:
    """Why additive over-dispersion makes the funnel nearly flat, in plain English."""
    if tau2 <= 0:
        return (
            f"Additive over-dispersion: the {unit_name} vary no more than chance predicts "
            "(tau^2 = 0), so the limits are the usual funnel."
        )
    n_mid = float(np.median(den))
    s2 = float(null.s(n_mid) ** 2)
    share = tau2 / (s2 + tau2)
    return (
        f"Why the funnel is nearly flat: the {unit_name} differ far more than chance alone "
        f"would make them, so the limits add a between-unit variance (tau^2 = {tau2:.3g}, "
        "DerSimonian-Laird; Spiegelhalter 2005) to each unit's chance variance. Chance "
        "variance shrinks as the denominator grows but tau^2 does not; at the median "
        f"denominator ({n_mid:,.0f}) tau^2 is {_share(share)} of the total, so the limits hardly "
        "narrow with size and a large unit is not held to a much tighter band than a small one."
    )


def _method_note(kind, method, scale, overdispersion, phi, tau2) -> str:
    dist = "binomial" if kind == "proportion" else "Poisson"
    if method == "exact":
        note = f"exact {dist} limits"
    else:
        note = f"normal-approximation limits ({scale} scale)"
    if overdispersion == "multiplicative":
        note += f", multiplicative over-dispersion phi={phi:.3g}"
    elif overdispersion == "additive":
        note += f", additive random-effects over-dispersion tau2={tau2:.3g}"
    return note + " (Spiegelhalter 2005)"


def funnel_plot(
    data: pd.DataFrame,
    *,
    numerator: str,
    denominator: str,
    unit: str,
    kind: Kind = "proportion",
    target: float | None = None,
    levels: Sequence[float] = (0.95, 0.998),
    method: Literal["exact", "normal"] | None = None,
    scale: str | None = None,
    overdispersion: Literal["multiplicative", "additive"] | None = None,
    phi: float | None = None,
    tau2: float | None = None,
    winsor: float = 0.1,
    multiplier: float | None = None,
    label: str | None = None,
    highlight: Sequence[str] | None = None,
    highlight_name: str = "Highlighted",
    target_name: str | None = None,
    unit_name: str = "Acute trusts",
    fdr: float | None = None,
    units: str | None = None,
    ylabel: str | None = None,
    xlabel: str | None = None,
    title: str | None = None,
    source_note: str | None = None,
    note: str | None = None,
    synthetic: bool | None = None,
    ax=None,
    source: str | None = None,
) -> style.PlotResult:
    """Draw a funnel plot (see :func:`funnel_data` for the statistics).

    Parameters
    ----------
    data, numerator, denominator, unit, kind, target, levels, method, scale, overdispersion, phi, tau2, winsor, multiplier, label, highlight
        As :func:`funnel_data`.
    highlight_name
        Legend text for the highlighted units, e.g. ``"Cheshire and Merseyside trusts"``.
    target_name
        Legend text for the target line, e.g. ``"England average"`` when the units are every
        trust in England (default: ``"pooled mean"`` or ``"given"``).
    unit_name
        What the points are, for the legend, summary and alt text, e.g. ``"NHS trusts with
        A&E"`` (default ``"Acute trusts"``).
    fdr
        As :func:`funnel_data`: units flagged by the Benjamini-Hochberg false discovery rate
        at this level are ringed in black.
    units
        Units of the y axis (default ``"%"`` for proportions, ``"ratio"`` for ratios, or
        ``"per 1,000"`` etc. with a multiplier).
    ylabel, xlabel, title
        Axis labels and title (the x label defaults to the denominator's documented label).
    source_note, note
        Footer text (default: from ``data``'s provenance: a reader's registry entry and file,
        a panel's record, or "source unknown").
    synthetic
        Stamp "synthetic demo data" (default: when ``data``'s provenance is synthetic; ``False``
        for demo data is an error).
    ax
        Draw into this axes instead of a new figure.
    source
        Deprecated name of ``source_note``.

    Returns
    -------
    PlotResult
        ``.data`` per unit (see :class:`FunnelAnalysis`), ``.tables["limits"]`` the limit
        curves, ``.summary`` the target, phi/tau2, flag counts, the over-dispersion note and
        ``alt_text`` (the chart in words).
    """
    source_note = style.source_note_renamed(source_note, source)
    fa = funnel_data(
        data,
        numerator=numerator,
        denominator=denominator,
        unit=unit,
        kind=kind,
        target=target,
        levels=levels,
        method=method,
        scale=scale,
        overdispersion=overdispersion,
        phi=phi,
        tau2=tau2,
        winsor=winsor,
        multiplier=multiplier,
        label=label,
        highlight=highlight,
        fdr=fdr,
        unit_name=_in_sentence(unit_name),
    )
    if units is None:
        mult = fa.summary["multiplier"]
        if kind == "proportion":
            units = "%" if mult == 100 else ("fraction" if mult == 1 else f"per {mult:,.0f}")
        else:
            units = "ratio" if mult == 1 else f"per {mult:,.0f}"
    if xlabel is None:
        doc_label, doc_unit = style.column_doc(data, denominator)
        xlabel = style.axis_label(doc_label or denominator, doc_unit)
    if ylabel is None:
        ylabel = f"{numerator} / {denominator}"
    ylabel = style.axis_label(ylabel, units)
    method_note = fa.summary["method_note"]
    note = f"{note}; {method_note}" if note else _join(style.provenance_note(data), method_note)
    footer, stamped = style.footer_parts(
        source_note=source_note, note=note, synthetic=synthetic, data=data
    )
    hl = fa.data[fa.data["highlighted"] & (fa.data["flag"] != "excluded")]

    def draw_base(ax) -> None:
        _draw_funnel(ax, fa, highlight_name, target_name, unit_name, has_highlight=len(hl) > 0)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        if title:
            ax.set_title(title)
        style.finish_figure(
            ax.figure, source_note=source_note, note=note, synthetic=synthetic, data=data
        )

    def draw_highlight(ax) -> list:
        return _draw_highlight(ax, hl)

    summary = dict(fa.summary)
    summary["title"] = title
    summary["alt_text"] = _alt_text(
        fa,
        xlabel=xlabel,
        ylabel=ylabel,
        title=title,
        target_name=target_name,
        highlight_name=highlight_name,
        synthetic=stamped,
    )
    if ax is None and layers.enabled():
        # every report draws the same funnel of every trust: the base is drawn once per
        # process and only the system's trusts are drawn per report
        key = layers.digest(
            "funnel",
            fa.data.drop(columns=["highlighted", "label"]),
            fa.limits,
            {k: v for k, v in fa.summary.items() if k != "excluded"},
            (highlight_name, target_name, unit_name, xlabel, ylabel, title, footer, len(hl) > 0),
        )
        return layers.layered_result(
            key,
            draw_base,
            draw_highlight,
            fa.data,
            summary,
            tables={"limits": fa.limits},
            kind="funnel",
            size=style.FIGSIZE,
        )
    with style.house_style():
        fig, ax = style.new_figure(ax)
        draw_base(ax)
        draw_highlight(ax)
    return style.PlotResult(fig, fa.data, summary, {"limits": fa.limits}, kind="funnel")


def _in_sentence(name: str) -> str:
    """``"Acute trusts"`` -> ``"acute trusts"``; acronyms (``"NHS trusts"``) are kept."""
    if len(name) > 1 and name[0].isupper() and name[1].islower():
        return name[0].lower() + name[1:]
    return name


def _alt_text(fa: FunnelAnalysis, *, xlabel, ylabel, title, target_name, highlight_name, synthetic):
    """The funnel plot in words, for the report's image alt text."""
    sm = fa.summary
    d = fa.data[fa.data["flag"] != "excluded"]
    units = sm["unit_name"]
    levels = " and ".join(_level_pct(v) for v in sm["levels"])
    parts = [
        (f"{title}. " if title else "")
        + f"Funnel plot of {ylabel} against {xlabel} for {len(d)} {units}. Centre line: "
        f"{target_name or 'target'} {sm['target']:.3g}. {levels} control limits "
        f"({sm['method_note']})."
    ]
    outer = _level_pct(sm["levels"][-1])
    above = int((d["flag"] == f"above {outer}").sum())
    below = int((d["flag"] == f"below {outer}").sum())
    parts.append(f"{above} {units} lie above and {below} below the {outer} limits.")
    for c in sm["clipped_limits"]:
        parts.append(
            f"The {_level_pct(c['level'])} {c['side']} limit is cut at {c['bound']:g} (an "
            f"impossible value beyond it) for denominators {c['denominator_from']:,.0f} to "
            f"{c['denominator_to']:,.0f}."
        )
    if sm["fdr"]:
        note = sm["fdr"]["note"]
        parts.append(note[0].upper() + note[1:] + (" (ringed)." if sm["fdr"]["n_flagged"] else "."))
    hl = d[d["highlighted"]]
    if len(hl):
        parts.append(
            f"{highlight_name}: "
            + "; ".join(f"{r.label} {r.value:.3g} ({r.flag})" for r in hl.itertuples())
            + "."
        )
    if sm["overdispersion_note"]:
        parts.append(sm["overdispersion_note"])
    if synthetic:
        parts.append("Made from synthetic demo data.")
    return " ".join(parts)


def _join(*parts: str | None) -> str:
    return "; ".join(p for p in parts if p)


def _draw_funnel(
    ax,
    fa: FunnelAnalysis,
    highlight_name: str,
    target_name: str | None = None,
    unit_name: str = "Units",
    has_highlight: bool = False,
) -> None:
    """Everything but the highlighted units: target, limits, every unit, FDR rings, legend."""
    d = fa.data[fa.data["flag"] != "excluded"]
    curves = fa.limits
    x = curves["denominator"]
    levels = fa.summary["levels"]
    ax.axhline(
        fa.summary["target"],
        color=style.NHS_COLOURS["black"],
        lw=1.3,
        zorder=2,
        label=f"{target_name or 'Target'} {fa.summary['target']:.3g}"
        + ("" if target_name else f" ({fa.summary['target_source']})"),
    )
    for i, level in enumerate(levels):
        # the outermost limits solid and dark, inner ones dashed: readable without colour
        outer = i == len(levels) - 1 and len(levels) > 1
        ls = "-" if outer else "--"
        colour = style.NHS_COLOURS["dark_grey"] if outer else style.NHS_COLOURS["mid_grey"]
        tag = _level_tag(level)
        ax.plot(
            x,
            curves[f"lower_{tag}"],
            ls=ls,
            color=colour,
            lw=1.2,
            zorder=2,
            label=f"{_level_pct(level)} limits",
        )
        ax.plot(x, curves[f"upper_{tag}"], ls=ls, color=colour, lw=1.2, zorder=2)
    # every unit grey, the highlighted ones too: the system's points are drawn over them
    # (:func:`_draw_highlight`), so this layer is the same for every system
    ax.scatter(
        d["denominator"],
        d["value"],
        s=22,
        color=style.CONTEXT_COLOUR,
        edgecolor="#6F7A81",
        linewidth=0.5,
        zorder=3,
        label=f"{unit_name} ({len(d)})",
    )
    if has_highlight:  # the legend entry of the points :func:`_draw_highlight` draws
        ax.scatter([], [], label=highlight_name, **HIGHLIGHT_MARKER)
    if "fdr_flag" in d:
        hit = d[d["fdr_flag"].isin(["above", "below"])]
        ax.scatter(
            hit["denominator"],
            hit["value"],
            s=120,
            facecolor="none",
            edgecolor=style.NHS_COLOURS["black"],
            linewidth=1.2,
            zorder=6,
            label=f"Flagged at {fa.summary['fdr']['level']:.0%} false discovery rate ({len(hit)})",
        )
    # y range: the data and the limits where the data are, not the limits at tiny n
    widest = _level_tag(levels[-1])
    at_min = curves[curves["denominator"] >= d["denominator"].min()].iloc[0]
    lo = min(d["value"].min(), at_min[f"lower_{widest}"])
    hi = max(d["value"].max(), at_min[f"upper_{widest}"])
    pad = (hi - lo) * 0.08 or abs(hi) * 0.05 or 1
    lo, hi = lo - pad, hi + pad
    # a limit cut at 0% or 100% is shown against that bound, and the axis stops just past it
    for c in fa.summary["clipped_limits"]:
        bound = c["bound"]
        near = 0.015 * (hi - lo)  # a sliver past the bound, so its line is not the frame
        if bound >= hi - pad:
            hi = bound + near
        elif bound <= lo + pad:
            lo = bound - near
        else:
            continue
        if not any(ln.get_gid() == f"funnel-bound-{bound:g}" for ln in ax.get_lines()):
            ax.axhline(
                bound,
                color=style.NHS_COLOURS["dark_grey"],
                lw=0.8,
                ls=(0, (1, 2)),
                zorder=1,
                gid=f"funnel-bound-{bound:g}",
                label=f"{bound:g} (limits cut here: beyond is impossible)",
            )
    ax.set_ylim(lo, hi)
    ax.set_xlim(0, curves["denominator"].max())
    ax.xaxis.set_major_formatter(_thousands())
    style.outside_legend(ax)


#: How the highlighted units are drawn, the same in the legend (base layer) and on the chart.
HIGHLIGHT_MARKER = {
    "s": 46,
    "color": style.HIGHLIGHT_COLOUR,
    "edgecolor": style.NHS_COLOURS["dark_blue"],
    "linewidth": 0.9,
}


def _draw_highlight(ax, hl: pd.DataFrame) -> list:
    """The highlighted units in NHS Blue, labelled; returns the artists drawn."""
    if not len(hl):
        return []
    points = ax.scatter(
        hl["denominator"], hl["value"], zorder=layers.HIGHLIGHT_ZORDER, **HIGHLIGHT_MARKER
    )
    labels = style.place_labels(
        ax,
        hl["denominator"],
        hl["value"],
        hl["label"],
        fontsize=8,
        fontweight="bold",
        zorder=layers.HIGHLIGHT_ZORDER + 1,
    )
    return [points, *labels]


def _thousands():
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda v, _: f"{v:,.0f}" if abs(v) >= 10 else f"{v:g}")
