"""Event-time plots: effects and confidence intervals against periods since adoption.

Works on the staggered estimators' :class:`~icsresearch.models.staggered.EventTimeResult`
(Callaway & Sant'Anna, Borusyak-Jaravel-Spiess imputation), on ``event_study`` results, on a
table with ``rel_time, estimate, ci_low, ci_high`` (optionally ``reference``), or on a dict
``{label: any of those}`` to compare estimators side by side (dodged).

The chart: a horizontal line at zero, a dashed vertical line at event time -1 (the base period:
the last period before adoption), the post-adoption periods shaded, reference periods drawn
hollow at zero. The footer and the "synthetic demo data" stamp come from the inputs'
provenance, as every chart of the package; ``summary["alt_text"]`` describes the chart in words
for screen readers and reports.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InvalidParameterError
from . import style

_NEEDED = ("rel_time", "estimate", "ci_low", "ci_high")


def _table(obj: Any, alpha: float | None, where: str) -> pd.DataFrame:
    if isinstance(obj, pd.DataFrame):
        df = style.require_columns(obj, _NEEDED, f"event-time table {where}").copy()
    elif hasattr(obj, "event_table") and callable(obj.event_table):
        df = obj.event_table(alpha)
    else:
        raise InvalidParameterError(
            f"event-time input {where}: expected an EventTimeResult, an event_study result or a "
            f"table with {list(_NEEDED)}; got {type(obj).__name__}\n  Fix: pass one of those"
        )
    out = pd.DataFrame(
        {c: style.numeric_column(df, c, f"event-time table {where}") for c in _NEEDED}
    )
    out["reference"] = (
        df["reference"].astype(bool).to_numpy() if "reference" in df.columns else False
    )
    if not np.all(out["rel_time"] == np.round(out["rel_time"])):
        raise InvalidParameterError(
            f"event-time table {where}: rel_time must be whole periods\n  Fix: round or recode it"
        )
    est = out[~out["reference"]]
    bad = est[
        (est["ci_low"] > est["estimate"] + 1e-12) | (est["ci_high"] < est["estimate"] - 1e-12)
    ]
    if len(bad):
        raise InvalidParameterError(
            f"event-time table {where}: estimates outside their own interval at rel_time "
            f"{bad['rel_time'].astype(int).tolist()[:5]}\n  Fix: ci_low/ci_high must be interval "
            "bounds, not standard errors"
        )
    return out.sort_values("rel_time", kind="stable").reset_index(drop=True)


def _label_of(obj: Any) -> str:
    names = {"callaway-santanna": "Callaway & Sant'Anna", "imputation": "Imputation (BJS)"}
    est = getattr(obj, "estimator", None)
    if isinstance(est, str):
        return names.get(est, est)
    extra = getattr(obj, "extra", None)
    if isinstance(extra, Mapping) and extra.get("estimator"):
        return str(extra["estimator"])
    return "Estimate"


def event_time_plot(
    results: Any,
    *,
    alpha: float | None = None,
    base_period: int | None = -1,
    title: str | None = None,
    ylabel: str | None = None,
    xlabel: str = "Periods since adoption",
    source_note: str | None = None,
    note: str | None = None,
    synthetic: bool | None = None,
    ax=None,
) -> style.PlotResult:
    """Estimates and confidence intervals against event time, pre and post periods marked.

    Parameters
    ----------
    results
        An ``EventTimeResult``, an ``event_study`` result, a table (``rel_time, estimate,
        ci_low, ci_high`` [, ``reference``]), or a dict ``{label: any of those}``.
    alpha
        Interval level ``1 - alpha`` for results (default each result's own); tables are used
        as given.
    base_period
        Event time of the dashed base-period line (None: no line).
    title, ylabel, xlabel
        Labels (``ylabel`` defaults to "Effect (95% CI)").
    source_note, note
        Footer text; by default the inputs' provenance.
    synthetic
        Stamp "synthetic demo data" (default: when any input is synthetic; ``False`` for demo
        data is an error).
    ax
        Axes to draw on (default a new figure).

    Returns
    -------
    PlotResult
        ``.data``: ``series, rel_time, estimate, ci_low, ci_high, reference, x``; ``.summary``:
        ``series``, ``rel_times``, ``base_period``, ``alt_text``.
    """
    if isinstance(results, Mapping):
        items = [(str(k), v) for k, v in results.items()]
    else:
        items = [(None, results)]
    if not items:
        raise InvalidParameterError("event_time_plot: no results given\n  Fix: pass at least one")
    frames, inputs = [], []
    for i, (name, obj) in enumerate(items, start=1):
        df = _table(obj, alpha, f"#{i}" if name is None else repr(name))
        df.insert(0, "series", name or _label_of(obj))
        frames.append(df)
        inputs.append(obj)
    data = pd.concat(frames, ignore_index=True)
    series = list(dict.fromkeys(data["series"]))
    if len(series) < len(items):
        raise InvalidParameterError(
            "event_time_plot: two inputs have the same label\n  Fix: pass a dict with distinct "
            "labels"
        )
    k = len(series)
    width = 0.5
    offsets = {s: (j - (k - 1) / 2) * (width / k) for j, s in enumerate(series)}
    data["x"] = data["rel_time"] + data["series"].map(offsets)
    level = None
    if alpha is not None:
        level = alpha
    else:
        alphas = {getattr(o, "alpha", None) for o in inputs} - {None}
        level = alphas.pop() if len(alphas) == 1 else None
    ci_text = f"{(1 - level) * 100:g}% CI" if level is not None else "CI"
    times = data["rel_time"].to_numpy()
    lo, hi = float(times.min()), float(times.max())
    with style.house_style():
        fig, ax = style.new_figure(ax, figsize=(8.0, 4.8))
        ax.grid(axis="y", color="#DDE2E5", lw=0.7)
        ax.grid(axis="x", visible=False)
        if hi >= 0:
            ax.axvspan(
                -0.5, hi + 0.6, color=style.NHS_COLOURS["pale_grey"], alpha=0.5, zorder=0, lw=0
            )
        ax.axhline(0.0, color=style.NHS_COLOURS["dark_grey"], lw=1.0, zorder=1)
        if base_period is not None:
            ax.axvline(base_period, color=style.NHS_COLOURS["dark_grey"], lw=1.0, ls="--", zorder=1)
        for j, s in enumerate(series):
            d = data[(data["series"] == s) & ~data["reference"]]
            r = data[(data["series"] == s) & data["reference"]]
            colour = style.HIGHLIGHT_COLOUR if k == 1 else style.SERIES_COLOURS[j % 7]
            marker = style.SERIES_MARKERS[j % len(style.SERIES_MARKERS)]
            ax.errorbar(
                d["x"],
                d["estimate"],
                yerr=[d["estimate"] - d["ci_low"], d["ci_high"] - d["estimate"]],
                fmt=marker,
                color=colour,
                ecolor=colour,
                elinewidth=1.6,
                capsize=0,
                ms=6,
                label=s,
                zorder=3,
            )
            if len(r):
                ax.plot(r["x"], np.zeros(len(r)), marker, mfc="white", mec=colour, ms=6, zorder=3)
        ax.set_xlim(lo - 0.6, hi + 0.6)
        ticks = np.arange(int(lo), int(hi) + 1)
        step = max(1, int(np.ceil(len(ticks) / 16)))
        ax.set_xticks(ticks[::step])
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel or f"Effect ({ci_text})")
        if hi >= 0:
            ax.text(
                0.99,
                0.98,
                "after adoption",
                transform=ax.transAxes,
                ha="right",
                va="top",
                fontsize=8,
                color=style.NHS_COLOURS["dark_grey"],
            )
        if title:
            ax.set_title(title)
        if k > 1:
            style.outside_legend(ax, title="Estimator")
        style.finish_figure(
            fig, source_note=source_note, note=note, synthetic=synthetic, data=inputs
        )
    alt = _alt_text(data, series, ci_text, base_period)
    summary = {
        "series": series,
        "rel_times": sorted({int(t) for t in times}),
        "base_period": base_period,
        "alt_text": alt,
    }
    out = data[["series", "rel_time", "estimate", "ci_low", "ci_high", "reference", "x"]]
    return style.PlotResult(fig, out.reset_index(drop=True), summary, kind="event_time")


def _alt_text(data: pd.DataFrame, series: list[str], ci_text: str, base: int | None) -> str:
    parts = [
        f"Event-time chart of {len(series)} estimate series ({', '.join(series)}) with {ci_text}, "
        f"from {int(data['rel_time'].min())} to {int(data['rel_time'].max())} periods since "
        "adoption"
        + (f"; the dashed line marks the base period {base}" if base is not None else "")
        + "."
    ]
    for s in series:
        d = data[(data["series"] == s) & ~data["reference"]]
        pre, post = d[d["rel_time"] < 0], d[d["rel_time"] >= 0]
        if len(pre):
            excl = int(((pre["ci_low"] > 0) | (pre["ci_high"] < 0)).sum())
            parts.append(f"{s}: {excl} of {len(pre)} pre-adoption intervals exclude zero")
        if len(post):
            parts.append(
                f"{s}: post-adoption estimates range from {post['estimate'].min():.3g} to "
                f"{post['estimate'].max():.3g}"
            )
    return " ".join(p if p.endswith(".") else p + "." for p in parts)


__all__ = ["event_time_plot"]
