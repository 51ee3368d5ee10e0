"""Coefficient plots: estimates with confidence intervals from one or several models, dodged.

Accepts tidy tables (``term, estimate, ci_low, ci_high`` and optionally ``model``), anything with
a ``.tidy()`` method (the project's ``RegressionResult``, pyfixest models), or a dict/list of
them. pyfixest's column names (``Estimate``, ``2.5%``, ``97.5%``, index ``Coefficient``) and
broom's (``conf.low``, ``conf.high``) are recognised.

The footer and the "synthetic demo data" stamp come from the provenance of every input: a
result's record (the data it was fitted on) or a table's, so a model fitted on the demo data is
always stamped.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InvalidParameterError
from . import style

_ALIASES = {
    "term": ("term", "Coefficient", "coef_name", "variable", "name"),
    "estimate": ("estimate", "Estimate", "coef", "Coef."),
    "ci_low": ("ci_low", "conf.low", "conf_low", "2.5%", "[0.025", "lower"),
    "ci_high": ("ci_high", "conf.high", "conf_high", "97.5%", "0.975]", "upper"),
}
_INTERCEPTS = {"Intercept", "(Intercept)", "const", "_cons", "intercept"}


def _standardise(df: pd.DataFrame, where: str) -> pd.DataFrame:
    df = df.copy()
    if not any(c in df.columns for c in _ALIASES["term"]):
        df = df.reset_index().rename(columns={"index": "term"})
    out = {}
    for std, names in _ALIASES.items():
        col = next((c for c in names if c in df.columns), None)
        if col is None:
            raise InvalidParameterError(
                f"coefficient table {where}: no {std!r} column (looked for {list(names)}); "
                f"it has {list(df.columns)}"
            )
        out[std] = df[col]
    res = pd.DataFrame(out)
    res["term"] = res["term"].astype(str)
    for c in ("estimate", "ci_low", "ci_high"):
        res[c] = style.numeric_column(res, c, f"coefficient table {where}")
    if "model" in df.columns:
        res["model"] = df["model"].astype(str).to_numpy()
    res.attrs = dict(df.attrs)
    return res


def _from_object(obj: Any, alpha: float, exponentiate: bool, where: str) -> pd.DataFrame:
    if isinstance(obj, pd.DataFrame):
        return _standardise(obj, where)
    if hasattr(obj, "tidy") and callable(obj.tidy):
        params = inspect.signature(obj.tidy).parameters
        kwargs = {}
        if "alpha" in params:
            kwargs["alpha"] = alpha
        if "exponentiate" in params:
            kwargs["exponentiate"] = exponentiate
        tidy = obj.tidy(**kwargs)
        df = _standardise(tidy, where)
        df.attrs.setdefault("alpha", alpha if "alpha" in params else None)
        if exponentiate and "exponentiate" not in params:
            for c in ("estimate", "ci_low", "ci_high"):
                df[c] = np.exp(df[c])
        if exponentiate:
            df.attrs["exponentiated"] = True
        if not df.attrs.get("model") and isinstance(getattr(obj, "model", None), str):
            df.attrs["model"] = obj.model
        return df
    raise InvalidParameterError(
        f"coefficient input {where}: expected a DataFrame with term/estimate/ci_low/ci_high or "
        f"an object with .tidy(), got {type(obj).__name__}"
    )


def _collect(results, alpha: float, exponentiate: bool) -> tuple[pd.DataFrame, list[Any]]:
    if isinstance(results, pd.DataFrame) or hasattr(results, "tidy"):
        items: list[tuple[str | None, Any]] = [(None, results)]
    elif isinstance(results, Mapping):
        items = [(str(k), v) for k, v in results.items()]
    elif isinstance(results, Sequence) and not isinstance(results, str):
        items = [(None, v) for v in results]
    else:
        raise InvalidParameterError(
            f"coef_plot: expected a tidy DataFrame, a result with .tidy(), or a dict/list of "
            f"them; got {type(results).__name__}"
        )
    if not items:
        raise InvalidParameterError("coef_plot: no results given")
    frames = []
    exp_flags = []
    sources = [obj for _, obj in items]
    for i, (name, obj) in enumerate(items, start=1):
        df = _from_object(obj, alpha, exponentiate, f"#{i}" if name is None else repr(name))
        if "model" not in df.columns:
            label = name or df.attrs.get("model") or (f"Model {i}" if len(items) > 1 else "Model")
            df["model"] = str(label)
        elif name is not None:
            df["model"] = name
        # tables are used as given: only their attrs say they are on the ratio scale
        exp_flags.append(bool(df.attrs.get("exponentiated")))
        frames.append(df)
    if len(set(exp_flags)) > 1:
        raise InvalidParameterError(
            "coef_plot: some inputs are on the ratio (exponentiated) scale and some are not; "
            "plot them separately or exponentiate all"
        )
    # the same model label in two inputs would merge their points: number them
    counts: dict[str, int] = {}
    for df in frames:
        for m in df["model"].unique():
            counts[m] = counts.get(m, 0) + 1
    for i, df in enumerate(frames):
        if any(counts[m] > 1 for m in df["model"].unique()):
            frames[i] = df.assign(model=df["model"] + f" ({i + 1})")
    for df in frames:
        df["_alpha"] = df.attrs.get("alpha")
    out = pd.concat(frames, ignore_index=True)
    out.attrs["exponentiated"] = exp_flags[0]
    return out, sources


def coef_plot(
    results,
    *,
    terms: Sequence[str] | None = None,
    term_labels: Mapping[str, str] | None = None,
    drop_intercept: bool = True,
    exponentiate: bool = False,
    alpha: float = 0.05,
    reference: float | None = None,
    log_scale: bool | None = None,
    xlabel: str | None = None,
    title: str | None = None,
    source_note: str | None = None,
    note: str | None = None,
    synthetic: bool | None = None,
    ax=None,
    source: str | None = None,
) -> style.PlotResult:
    """Point estimates and confidence intervals, terms down the side, models dodged.

    Parameters
    ----------
    results
        A tidy DataFrame (``term, estimate, ci_low, ci_high`` [, ``model``]), an object with
        ``.tidy()``, or a dict ``{model name: either}`` / list of them.
    terms
        Terms to show, in this order (default: all, in order of first appearance).
    term_labels
        Display names for terms, e.g. ``{"managers_per_bed": "Managers per bed"}``.
    drop_intercept
        Leave out intercepts (``Intercept``, ``(Intercept)``, ``const``) unless named in ``terms``.
    exponentiate
        Ask ``.tidy()`` for exp() of estimates and CIs (odds/rate ratios).
    alpha
        CI level passed to ``.tidy()`` (tables are used as given).
    reference
        Vertical reference line (default 1 on the ratio scale, else 0).
    log_scale
        Log x axis (default: on for ratios).
    xlabel, title, source_note, note, ax
        As the other charts; the footer's source defaults to the inputs' provenance.
    synthetic
        Stamp "synthetic demo data" (default: when any input's provenance is synthetic, a
        result's being that of the data it was fitted on; ``False`` for demo data is an error).
    source
        Deprecated name of ``source_note``.

    Returns
    -------
    PlotResult
        ``.data``: ``model, term, label, estimate, ci_low, ci_high, y`` (plot position).
    """
    source_note = style.source_note_renamed(source_note, source)
    data, inputs = _collect(results, alpha, exponentiate)
    ratio = bool(data.attrs.get("exponentiated"))
    bad = data[
        (data["ci_low"] > data["estimate"] + 1e-12) | (data["ci_high"] < data["estimate"] - 1e-12)
    ]
    if len(bad):
        ex = bad[["model", "term"]].head(3).to_dict("records")
        raise InvalidParameterError(
            f"coef_plot: estimates outside their own confidence interval for {ex}; check that "
            "ci_low/ci_high are the interval bounds (not standard errors)"
        )
    dropped = data[~np.isfinite(data["estimate"])][["model", "term"]].to_dict("records")
    data = data[np.isfinite(data["estimate"])]
    if terms is not None:
        unknown = [t for t in terms if t not in set(data["term"])]
        if unknown:
            raise InvalidParameterError(
                f"coef_plot: terms {unknown} not in the results (terms: {sorted(set(data['term']))[:10]})"
            )
        order = list(terms)
    else:
        order = [
            t for t in dict.fromkeys(data["term"]) if not (drop_intercept and t in _INTERCEPTS)
        ]
    data = data[data["term"].isin(order)].copy()
    if data.empty:
        raise InvalidParameterError("coef_plot: nothing to plot after selecting terms")
    if log_scale is None:
        log_scale = ratio
    if log_scale and (data[["estimate", "ci_low", "ci_high"]] <= 0).to_numpy().any():
        raise InvalidParameterError(
            "coef_plot: a log axis needs positive estimates and CIs; pass log_scale=False or "
            "exponentiate the estimates"
        )
    if reference is None:
        reference = 1.0 if ratio else 0.0

    models = list(dict.fromkeys(data["model"]))
    k = len(models)
    width = 0.7
    offsets = {m: (j - (k - 1) / 2) * (width / max(k, 1)) for j, m in enumerate(models)}
    pos = {t: len(order) - 1 - i for i, t in enumerate(order)}  # first term at the top
    data["y"] = [pos[t] - offsets[m] for t, m in zip(data["term"], data["model"], strict=True)]
    labels = dict(term_labels or {})
    data["label"] = [labels.get(t, t) for t in data["term"]]
    alphas = {a for a in data["_alpha"] if a is not None and pd.notna(a)}
    ci_text = f"{(1 - alphas.pop()) * 100:g}% CI" if len(alphas) == 1 else "CI"
    with style.house_style():
        height = min(11.0, 1.6 + 0.42 * len(order) * max(1.0, k * 0.6))
        fig, ax = style.new_figure(ax, figsize=(7.5, height))
        ax.grid(axis="x", color="#DDE2E5", lw=0.7)
        ax.grid(axis="y", visible=False)
        ax.axvline(reference, color=style.NHS_COLOURS["dark_grey"], lw=1.1, ls="--", zorder=1)
        for j, m in enumerate(models):
            d = data[data["model"] == m]
            colour = style.HIGHLIGHT_COLOUR if k == 1 else style.SERIES_COLOURS[j % 7]
            ax.errorbar(
                d["estimate"],
                d["y"],
                xerr=[d["estimate"] - d["ci_low"], d["ci_high"] - d["estimate"]],
                fmt=style.SERIES_MARKERS[j % len(style.SERIES_MARKERS)],
                color=colour,
                ecolor=colour,
                elinewidth=1.6,
                capsize=0,
                ms=6,
                label=m,
                zorder=3,
            )
        ax.set_yticks([pos[t] for t in order])
        ax.set_yticklabels([labels.get(t, t) for t in order])
        ax.set_ylim(-0.6, len(order) - 0.4)
        if log_scale:
            ax.set_xscale("log")
            _plain_log_ticks(ax)
        if xlabel is None:
            xlabel = (
                f"Ratio ({ci_text}, log scale)"
                if ratio and log_scale
                else f"Ratio ({ci_text})"
                if ratio
                else f"Estimate ({ci_text})"
            )
        ax.set_xlabel(xlabel)
        if title:
            ax.set_title(title)
        if k > 1:
            style.outside_legend(ax, title="Model")
        style.finish_figure(
            fig, source_note=source_note, note=note, synthetic=synthetic, data=inputs
        )
    out = data[["model", "term", "label", "estimate", "ci_low", "ci_high", "y"]].reset_index(
        drop=True
    )
    summary = {
        "models": models,
        "terms": order,
        "reference": reference,
        "ratio_scale": ratio,
        "log_scale": bool(log_scale),
        "dropped_non_finite": dropped,
        "alt_text": _alt_text(out, title, ci_text, ratio, reference),
    }
    return style.PlotResult(fig, out, summary, kind="coefplot")


#: Estimates named in a coefficient plot's alt text; a longer list is cut with "and N more".
_ALT_ESTIMATES = 12


def _alt_text(out: pd.DataFrame, title, ci_text: str, ratio: bool, reference) -> str:
    """The chart in words: what is plotted, and the first estimates with their intervals."""
    models = list(dict.fromkeys(out["model"]))
    what = "ratios" if ratio else "estimates"
    head = f"Coefficient plot{': ' + title if title else ''}. {len(out)} {what} with {ci_text}"
    if len(models) > 1:
        head += f" from {len(models)} models ({', '.join(map(str, models))})"
    head += f"; reference line at {reference:g}." if reference is not None else "."
    items = [
        f"{row.label}{' (' + str(row.model) + ')' if len(models) > 1 else ''}: "
        f"{row.estimate:.3g} ({row.ci_low:.3g} to {row.ci_high:.3g})"
        for row in out.head(_ALT_ESTIMATES).itertuples()
    ]
    rest = len(out) - len(items)
    return head + " " + "; ".join(items) + (f"; and {rest} more." if rest > 0 else ".")


_RATIO_TICKS = (
    0.1,
    0.2,
    0.3,
    0.5,
    0.6,
    0.7,
    0.8,
    0.85,
    0.9,
    0.95,
    1.0,
    1.05,
    1.1,
    1.25,
    1.5,
    2.0,
    3.0,
    5.0,
    10.0,
)


def _plain_log_ticks(ax) -> None:
    """Label a log ratio axis with plain numbers (0.9, 1, 1.25), not ``9 x 10^-1``."""
    from matplotlib.ticker import FixedLocator, FormatStrFormatter, NullLocator

    lo, hi = ax.get_xlim()
    shown = [t for t in _RATIO_TICKS if lo <= t <= hi]
    if len(shown) > 8:  # a wide range: keep every other tick, always including 1
        shown = sorted(set(shown[::2]) | ({1.0} & set(shown)))
    if len(shown) >= 2:
        ax.xaxis.set_major_locator(FixedLocator(shown))
        ax.xaxis.set_minor_locator(NullLocator())
        ax.xaxis.set_major_formatter(FormatStrFormatter("%g"))
