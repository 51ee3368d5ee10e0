"""Specification curves: one estimate per analytic specification, sorted, with its choices below.

After Simonsohn, Simmons & Nelson (2020, *Nature Human Behaviour* 4:1208-14). The upper panel
draws every specification's estimate with its confidence interval, sorted by the estimate, and a
reference line at the no-effect value; the lower panel marks, for each specification (column),
the value each choice takes (rows), so a reader sees which choices sit behind the large and
small estimates. Points and marks are coloured by whether the claim's verdict holds (is the one
of the published specification), and the published specification is drawn as a diamond.

Input: a table with one row per specification, ``estimate``, ``ci_low``, ``ci_high``, the
choice columns and optionally ``holds`` (bool), ``published`` (bool), ``null`` (0 or 1) and
``estimate_of`` (the y-axis label) - the rows of one claim of
:attr:`icsresearch.replications.multiverse.MultiverseResult.table`. The footer and the
"synthetic demo data" stamp come from the table's provenance, as every chart of the package.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ..errors import InvalidParameterError
from . import style

_HOLDS = style.HIGHLIGHT_COLOUR
_CHANGES = style.OKABE_ITO["vermillion"]


def spec_curve(
    table: pd.DataFrame,
    *,
    choices: Sequence[str],
    choice_labels: Mapping[str, str] | None = None,
    title: str | None = None,
    ylabel: str | None = None,
    log_scale: bool | None = None,
    source_note: str | None = None,
    note: str | None = None,
    synthetic: bool | None = None,
) -> style.PlotResult:
    """Draw a specification curve.

    Parameters
    ----------
    table
        One row per specification (see the module docstring).
    choices
        The choice columns to show in the lower panel, top to bottom; a choice with one value
        in the table is left out (it does not vary).
    choice_labels
        Display names of the choices, e.g. ``{"harmonise_to": "Trust codes"}``.
    title
        Chart title (default: the table's ``claim``).
    ylabel
        Upper panel's axis label (default: the table's ``estimate_of``).
    log_scale
        Log y axis (default: when the reference value ``null`` is 1 and every value is positive).
    source_note, note, synthetic
        As the other charts; the footer's source defaults to the table's provenance.

    Returns
    -------
    PlotResult
        ``.data``: the table sorted as drawn, with ``rank`` (x position); ``.summary``:
        ``specs``, ``share_holds``, ``published_rank``, ``choices``, ``alt_text``.
    """
    data = style.require_columns(table, ["estimate", "ci_low", "ci_high"], "spec_curve table")
    missing = [c for c in choices if c not in data.columns]
    if missing:
        raise InvalidParameterError(
            f"spec_curve: choice columns {missing} are not in the table (columns: "
            f"{list(data.columns)})\n  Fix: pass choices= that name columns of the table"
        )
    data = data.copy()
    for c in ("estimate", "ci_low", "ci_high"):
        data[c] = style.numeric_column(data, c, "spec_curve table")
    data = data[np.isfinite(data["estimate"])]
    if data.empty:
        raise InvalidParameterError(
            "spec_curve: no specification has a finite estimate\n"
            "  Fix: pass the rows of a claim whose analysis returns estimates"
        )
    holds = data["holds"].astype(bool) if "holds" in data else pd.Series(True, index=data.index)
    published = (
        data["published"].astype(bool)
        if "published" in data
        else pd.Series(False, index=data.index)
    )
    data["holds"], data["published"] = holds, published
    labels = dict(choice_labels or {})
    # rows in the order the values first appear in the table (the grid's order), "n/a" last
    shown = [c for c in choices if data[c].astype(str).nunique() > 1]
    rows: list[tuple[str, object]] = [(c, v) for c in shown for v in _ordered(data[c])]
    data = data.sort_values(["estimate", "ci_low"], kind="stable").reset_index(drop=True)
    data["rank"] = np.arange(1, len(data) + 1)
    nulls = data["null"].dropna().unique() if "null" in data else np.array([0.0])
    reference = float(nulls[0]) if len(nulls) else 0.0
    if log_scale is None:
        log_scale = reference == 1.0 and bool((data[["ci_low", "estimate"]] > 0).all().all())
    n = len(data)
    colours = np.where(data["holds"], _HOLDS, _CHANGES)
    size = 22 if n <= 60 else 12
    with style.house_style():
        from matplotlib.figure import Figure

        lower_h = 0.24 * max(len(rows), 1) + 0.5
        fig = Figure(figsize=(8.5, 3.4 + lower_h), layout="constrained")
        top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3.4, lower_h]})
        top.axhline(reference, color=style.REFERENCE_COLOUR, lw=1.0, ls="--", zorder=1)
        top.vlines(
            data["rank"],
            data["ci_low"],
            data["ci_high"],
            colors=colours,
            lw=1.0,
            alpha=0.55,
            zorder=2,
        )
        top.scatter(data["rank"], data["estimate"], c=colours, s=size, zorder=3, linewidths=0)
        pub = data[data["published"]]
        if len(pub):
            top.scatter(
                pub["rank"], pub["estimate"], marker="D", s=70, facecolors="none",
                edgecolors=style.NHS_COLOURS["black"], linewidths=1.4, zorder=4,
            )  # fmt: skip
        if log_scale:
            top.set_yscale("log")
            _plain_log_ticks(top)
        top.set_ylabel(
            ylabel or ("Ratio (95% CI, log scale)" if log_scale else "Estimate (95% CI)")
        )
        top.grid(axis="x", visible=False)
        title = title if title is not None else _first(data, "claim")
        what = _first(data, "estimate_of")
        if title:
            top.set_title(title, loc="left", pad=16 if what else None)
        if what:  # what the estimate is, small, between the title and the panel
            top.text(
                0, 1.015, what, transform=top.transAxes, va="bottom", ha="left",
                fontsize=8, color=style.REFERENCE_COLOUR,
            )  # fmt: skip
        from matplotlib.lines import Line2D

        handles = [
            Line2D([], [], marker="o", ls="", color=_HOLDS, label="verdict as published"),
            Line2D([], [], marker="o", ls="", color=_CHANGES, label="verdict changes"),
        ]
        if len(pub):
            handles.append(
                Line2D([], [], marker="D", ls="", mfc="none", mec=style.NHS_COLOURS["black"],
                       label="published specification")
            )  # fmt: skip
        style.outside_legend(top, handles=handles, frameon=False, fontsize=8)
        # lower panel: one row per choice value, a mark where the specification takes it
        ypos = {r: len(rows) - 1 - i for i, r in enumerate(rows)}
        for i, c in enumerate(shown):
            block = [ypos[r] for r in rows if r[0] == c]
            if i % 2 == 0:
                bottom.axhspan(
                    min(block) - 0.5,
                    max(block) + 0.5,
                    color=style.NHS_COLOURS["pale_grey"],
                    zorder=0,
                )
        for (c, v), y in ypos.items():
            on = data[c].astype(str) == str(v)
            bottom.scatter(
                data.loc[on, "rank"],
                np.full(on.sum(), y),
                c=colours[on.to_numpy()],
                s=max(size * 0.6, 6),
                marker="s",
                linewidths=0,
                zorder=2,
            )
        bottom.set_yticks(list(ypos.values()))
        bottom.set_yticklabels([f"{labels.get(c, c)}: {v}" for c, v in ypos])
        bottom.set_ylim(-0.6, len(rows) - 0.4)
        bottom.set_xlim(0.3, n + 0.7)
        bottom.grid(False)
        bottom.tick_params(axis="y", labelsize=8)
        bottom.set_xlabel(f"Specifications, sorted by estimate ({n})")
        style.finish_figure(
            fig, source_note=source_note, note=note, synthetic=synthetic, data=table
        )
    share = float(data["holds"].mean())
    published_rank = int(pub["rank"].iloc[0]) if len(pub) else None
    alt = (
        f"Specification curve{' of ' + title if title else ''}, {n} specifications: estimates from {data['estimate'].min():.3g} "
        f"to {data['estimate'].max():.3g}; the verdict is the published one in {share:.0%} of them"
        + (
            f"; the published specification ranks {published_rank} of {n}."
            if published_rank
            else "."
        )
    )
    summary = {
        "specs": n,
        "share_holds": share,
        "published_rank": published_rank,
        "choices": shown,
        "reference": reference,
        "log_scale": bool(log_scale),
        "alt_text": alt,
    }
    return style.PlotResult(fig, data, summary, kind="spec_curve")


def _ordered(values: pd.Series) -> list[object]:
    """A choice's values in order of first appearance, ``"n/a"`` last."""
    seen = list(dict.fromkeys(values))
    return [v for v in seen if v != "n/a"] + [v for v in seen if v == "n/a"]


def _first(data: pd.DataFrame, column: str) -> str | None:
    if column not in data.columns:
        return None
    vals = [v for v in data[column].dropna().unique() if str(v)]
    return str(vals[0]) if len(vals) == 1 else None


def _plain_log_ticks(ax) -> None:
    """Label a log ratio axis with plain numbers (0.9, 1, 1.25), as the coefficient plot does."""
    from matplotlib.ticker import FixedLocator, FormatStrFormatter, NullLocator

    from .coefplot import _RATIO_TICKS

    lo, hi = ax.get_ylim()
    shown = [t for t in _RATIO_TICKS if lo <= t <= hi]
    if len(shown) > 8:  # a wide range: every other tick, always including 1
        shown = sorted(set(shown[::2]) | ({1.0} & set(shown)))
    if len(shown) < 3:  # a narrow range: evenly spaced plain ticks
        shown = [float(f"{t:.3g}") for t in np.geomspace(lo, hi, 5)[1:-1]]
    ax.yaxis.set_major_locator(FixedLocator(shown))
    ax.yaxis.set_minor_locator(NullLocator())
    ax.yaxis.set_major_formatter(FormatStrFormatter("%g"))
