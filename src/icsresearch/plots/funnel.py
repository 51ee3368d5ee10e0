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
from . import style

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
    }
    return FunnelAnalysis(out, curves, summary)


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
    unit_name: str = "Units",
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
        What the points are, for the legend, e.g. ``"NHS trusts"`` (default ``"Units"``).
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
        curves, ``.summary`` the target, phi/tau2 and flag counts.
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
    with style.house_style():
        fig, ax = style.new_figure(ax)
        _draw_funnel(ax, fa, highlight_name, target_name, unit_name)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(style.axis_label(ylabel, units))
        if title:
            ax.set_title(title)
        method_note = fa.summary["method_note"]
        note = f"{note}; {method_note}" if note else _join(style.provenance_note(data), method_note)
        style.finish_figure(fig, source_note=source_note, note=note, synthetic=synthetic, data=data)
        hl = fa.data[fa.data["highlighted"] & (fa.data["flag"] != "excluded")]
        if len(hl):
            style.place_labels(
                ax, hl["denominator"], hl["value"], hl["label"], fontsize=8, fontweight="bold"
            )
    return style.PlotResult(fig, fa.data, fa.summary, {"limits": fa.limits}, kind="funnel")


def _join(*parts: str | None) -> str:
    return "; ".join(p for p in parts if p)


def _draw_funnel(
    ax,
    fa: FunnelAnalysis,
    highlight_name: str,
    target_name: str | None = None,
    unit_name: str = "Units",
) -> None:
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
    ctx = d[~d["highlighted"]]
    ax.scatter(
        ctx["denominator"],
        ctx["value"],
        s=22,
        color=style.CONTEXT_COLOUR,
        edgecolor="#6F7A81",
        linewidth=0.5,
        zorder=3,
        label=f"{unit_name} ({len(d)})",
    )
    hl = d[d["highlighted"]]
    if len(hl):
        ax.scatter(
            hl["denominator"],
            hl["value"],
            s=46,
            color=style.HIGHLIGHT_COLOUR,
            edgecolor=style.NHS_COLOURS["dark_blue"],
            linewidth=0.9,
            zorder=5,
            label=highlight_name,
        )
    # y range: the data and the limits where the data are, not the limits at tiny n
    widest = _level_tag(levels[-1])
    at_min = curves[curves["denominator"] >= d["denominator"].min()].iloc[0]
    lo = min(d["value"].min(), at_min[f"lower_{widest}"])
    hi = max(d["value"].max(), at_min[f"upper_{widest}"])
    pad = (hi - lo) * 0.08 or abs(hi) * 0.05 or 1
    ax.set_ylim(lo - pad, hi + pad)
    ax.set_xlim(0, curves["denominator"].max())
    ax.xaxis.set_major_formatter(_thousands())
    style.outside_legend(ax)


def _thousands():
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda v, _: f"{v:,.0f}" if abs(v) >= 10 else f"{v:g}")
