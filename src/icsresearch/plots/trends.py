"""Trend lines by financial year: an ICS against England (and its region), gaps shown as gaps.

Years are financial-year starts (2012 = 2012/13, the project's convention) and are labelled
"2012/13". Each series is laid on the full run of years from the first to the last, so a year
without a value breaks the line instead of being bridged; years with no value in any series are
shaded and marked "no data".
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..errors import InvalidParameterError
from . import style


def _years(df: pd.DataFrame, year: str, what: str) -> np.ndarray:
    y = style.numeric_column(df, year, what)
    if np.isnan(y).any():
        raise InvalidParameterError(f"{what}: column {year!r} has missing years")
    if not np.all(np.equal(np.mod(y, 1), 0)):
        bad = df.loc[np.mod(y, 1) != 0, year].head(3).tolist()
        raise InvalidParameterError(
            f"{what}: column {year!r} must hold financial-year starts as whole years "
            f"(2012 for 2012/13); found {bad}. Convert '2012/13' labels with int(label[:4])."
        )
    return y.astype(int)


def trend_plot(
    data: pd.DataFrame,
    *,
    value: str,
    year: str = "year",
    series: str = "series",
    focus: str | None = None,
    reference: str | None = "England",
    order: Sequence[str] | None = None,
    units: str | None = None,
    ylabel: str | None = None,
    title: str | None = None,
    zero_based: bool = False,
    source_note: str | None = None,
    note: str | None = None,
    synthetic: bool | None = None,
    ax=None,
    source: str | None = None,
) -> style.PlotResult:
    """Lines by financial year, one per series, with gap years shown as gaps.

    Parameters
    ----------
    data
        Long table: one row per series and year.
    value, year, series
        Column names (``year`` = financial-year start, 2012 for 2012/13).
    focus
        The series the chart is about (NHS Blue, thickest line), e.g. the ICS.
    reference
        The comparator drawn in dark grey (default ``"England"``, if present).
    order
        Order of series in the legend (default: focus, reference, then the rest as they come).
    units
        Units of the y axis (default from ``data.attrs`` when the table came from a reader).
    ylabel, title
        Labels.
    zero_based
        Start the y axis at 0.
    source_note, note, synthetic, ax
        As the other charts: the footer's source and note, the demo-data stamp (by default from
        ``data``'s provenance) and an axes to draw into.
    source
        Deprecated name of ``source_note``.

    Returns
    -------
    PlotResult
        ``.data``: ``series, year, financial_year, value, role`` over the full run of years
        (missing years present with ``value`` NaN); ``.summary``: years, gap years per series.
    """
    source_note = style.source_note_renamed(source_note, source)
    what = "trend data"
    style.require_columns(data, [value, year, series], what)
    years = _years(data, year, what)
    vals = style.numeric_column(data, value, what)
    names = data[series].astype(str).to_numpy()
    long = pd.DataFrame({"series": names, "year": years, "value": vals})
    dup = long.duplicated(["series", "year"])
    if dup.any():
        ex = long.loc[dup, ["series", "year"]].head(3).to_dict("records")
        raise InvalidParameterError(
            f"{what}: more than one value for the same series and year, e.g. {ex}; aggregate first"
        )
    present = list(dict.fromkeys(names))
    if focus is not None and focus not in present:
        raise InvalidParameterError(f"{what}: focus series {focus!r} not in {present}")
    if order is None:
        order = [s for s in (focus, reference) if s in present]
        order += [s for s in present if s not in order]
    else:
        missing = [s for s in order if s not in present]
        if missing:
            raise InvalidParameterError(f"{what}: order names unknown series {missing}")
        order = list(order) + [s for s in present if s not in order]

    all_years = np.arange(years.min(), years.max() + 1)
    grid = pd.MultiIndex.from_product([order, all_years], names=["series", "year"])
    full = long.set_index(["series", "year"]).reindex(grid).reset_index()
    full["financial_year"] = [style.format_financial_year(y) for y in full["year"]]
    full["role"] = np.where(
        full["series"] == focus,
        "focus",
        np.where(full["series"] == reference, "reference", "comparator"),
    )
    full = full[["series", "year", "financial_year", "value", "role"]]

    missing = full["value"].isna()
    # one grouped pass, not a filtered copy of the table per year (a trend grid draws 6 of these)
    no_data_years = [int(y) for y, none in missing.groupby(full["year"]).all().items() if none]
    missing_years = full.loc[missing, ["series", "year"]]
    gaps = {
        s: [int(y) for y in missing_years.loc[missing_years["series"] == s, "year"]] for s in order
    }
    doc_label, doc_unit = style.column_doc(data, value)
    units = units or doc_unit
    ylabel = ylabel or doc_label or value
    with style.house_style():
        fig, ax = style.new_figure(ax, figsize=(8.5, 4.8))
        others = iter(
            zip(
                [c for c in style.SERIES_COLOURS if c != style.OKABE_ITO["blue"]],
                style.SERIES_LINESTYLES[1:],
                style.SERIES_MARKERS[2:],
                strict=False,
            )
        )
        for name in order:
            s = full[full["series"] == name]
            if name == focus:
                kw = {
                    "color": style.HIGHLIGHT_COLOUR,
                    "lw": 2.6,
                    "marker": "o",
                    "ls": "-",
                    "zorder": 5,
                    "ms": 5.5,
                }
            elif name == reference:
                kw = {
                    "color": style.REFERENCE_COLOUR,
                    "lw": 2.0,
                    "marker": "s",
                    "ls": "-",
                    "zorder": 4,
                    "ms": 4.5,
                }
            else:
                colour, ls, marker = next(others, ("#555555", "--", "o"))
                kw = {
                    "color": colour,
                    "lw": 1.8,
                    "marker": marker,
                    "ls": ls,
                    "zorder": 3,
                    "ms": 4.5,
                }
            ax.plot(s["year"], s["value"], label=name, **kw)
        # one shaded band and one "no data" label per run of years without data (a label per
        # year cost a rotated text each: the slowest part of saving a grid of trends)
        for first, last in _runs(no_data_years):
            ax.axvspan(first - 0.5, last + 0.5, color="#F1F3F4", zorder=0, lw=0)
            single = first == last
            ax.text(
                (first + last) / 2,
                0.98,
                "no data",
                transform=ax.get_xaxis_transform(),
                ha="center",
                va="top",
                fontsize=7.5,
                color="#5F6B73",
                rotation=90 if single else 0,
            ).set_in_layout(False)
        step = 1 if len(all_years) <= 12 else 2
        ticks = all_years[::step]
        ax.set_xticks(ticks)
        ax.set_xticklabels(
            [style.format_financial_year(y) for y in ticks],
            rotation=45 if len(ticks) > 6 else 0,
            ha="right" if len(ticks) > 6 else "center",
        )
        ax.set_xlim(all_years.min() - 0.5, all_years.max() + 0.5)
        ax.set_xlabel("Financial year")
        ax.set_ylabel(style.axis_label(ylabel, units))
        if zero_based:
            ax.set_ylim(bottom=0)
        if title:
            ax.set_title(title)
        style.outside_legend(ax)
        style.finish_figure(fig, source_note=source_note, note=note, synthetic=synthetic, data=data)
    summary = {
        "series": order,
        "focus": focus,
        "reference": reference if reference in present else None,
        "first_year": int(all_years.min()),
        "last_year": int(all_years.max()),
        "no_data_years": no_data_years,
        "gap_years": gaps,
        "units": units,
    }
    return style.PlotResult(fig, full.reset_index(drop=True), summary, kind="trend")


def _as_long(obj, value: str, year: str, name: str, what: str) -> pd.DataFrame:
    if isinstance(obj, pd.Series):
        df = pd.DataFrame({year: obj.index, value: obj.to_numpy()})
    elif isinstance(obj, pd.DataFrame):
        style.require_columns(obj, [year, value], what)
        df = obj[[year, value]].copy()
        df.attrs = obj.attrs
    else:
        raise InvalidParameterError(
            f"{what}: expected a DataFrame (with {year!r} and {value!r}) or a Series indexed by "
            f"year, got {type(obj).__name__}"
        )
    df["series"] = name
    return df


def ics_vs_england(
    ics: pd.DataFrame | pd.Series,
    england: pd.DataFrame | pd.Series,
    region: pd.DataFrame | pd.Series | None = None,
    *,
    value: str = "value",
    year: str = "year",
    ics_name: str = "ICS",
    region_name: str = "Region",
    england_name: str = "England",
    **kwargs,
) -> style.PlotResult:
    """An ICS's series against England (and optionally its NHS region).

    Parameters
    ----------
    ics, england, region
        Tables with ``year`` and ``value`` columns, or Series indexed by financial-year start.
    value, year
        Column names.
    ics_name, region_name, england_name
        Legend names.
    **kwargs
        Passed to :func:`trend_plot` (``units``, ``ylabel``, ``title``, ``source_note``...).

    Returns
    -------
    PlotResult
    """
    parts = [
        _as_long(ics, value, year, ics_name, "ICS series"),
        _as_long(england, value, year, england_name, "England series"),
    ]
    if region is not None:
        parts.append(_as_long(region, value, year, region_name, "region series"))
    long = pd.concat(parts, ignore_index=True)
    first = ics if isinstance(ics, pd.DataFrame) else england
    long.attrs = dict(getattr(first, "attrs", {}) or {})
    # the figure's provenance is that of every part (synthetic if any part is)
    long.attrs["provenance"] = style.provenance_of(ics, england, region)
    return trend_plot(
        long,
        value=value,
        year=year,
        series="series",
        focus=ics_name,
        reference=england_name,
        **kwargs,
    )


def _runs(years) -> list[tuple[int, int]]:
    """Consecutive years as ``(first, last)`` runs: ``[2019, 2020, 2023]`` -> ``[(2019, 2020),
    (2023, 2023)]``."""
    out: list[tuple[int, int]] = []
    for y in sorted(int(v) for v in years):
        if out and y == out[-1][1] + 1:
            out[-1] = (out[-1][0], y)
        else:
            out.append((y, y))
    return out
