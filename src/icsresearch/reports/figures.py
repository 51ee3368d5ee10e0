"""Report figures the chart library does not draw itself: a highlighted scatter, the tile map of
the fictional demo systems, and saving a figure once for both the notebook and ``figures/``.

All figures use the house style of :mod:`icsresearch.plots.style` (footer, units on axes,
"synthetic demo data" stamp) and return a :class:`~icsresearch.plots.style.PlotResult`.
"""

from __future__ import annotations

import base64
import html
import math
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InvalidParameterError
from ..options import Footprint


def scatter_highlight(
    data: pd.DataFrame,
    *,
    x: str,
    y: str,
    highlight: str,
    label: str,
    xlabel: str,
    ylabel: str,
    title: str | None = None,
    highlight_name: str = "This system's trusts",
    source_note: str | None = None,
    note: str | None = None,
    synthetic: bool = False,
    ax=None,
    source: str | None = None,
):
    """A scatter of every unit with the highlighted ones in NHS Blue and labelled.

    Other units are grey; the least-squares line over all units and Pearson's r are drawn.

    Parameters
    ----------
    data
        One row per unit.
    x, y
        Numeric columns.
    highlight
        Boolean column marking the units to highlight.
    label
        Column with the labels of highlighted points.
    xlabel, ylabel
        Axis labels with units, e.g. ``"Managers per 100 beds (FTE)"``.
    title, highlight_name, source_note, note, synthetic, ax
        As the other charts (:mod:`icsresearch.plots`).
    source
        Deprecated name of ``source_note``.

    Returns
    -------
    PlotResult
        ``.data``: the units drawn (``x``, ``y``, ``highlighted``, ``label``); ``.summary``:
        ``n``, ``n_missing``, ``pearson_r``, ``slope``, ``intercept``.
    """
    from ..plots import layers, style

    source_note = style.source_note_renamed(source_note, source)
    style.require_columns(data, [x, y, highlight, label], "scatter data")
    xs = pd.to_numeric(data[x], errors="coerce")
    ys = pd.to_numeric(data[y], errors="coerce")
    ok = xs.notna() & ys.notna() & np.isfinite(xs) & np.isfinite(ys)
    drawn = pd.DataFrame(
        {
            "x": xs[ok].to_numpy(float),
            "y": ys[ok].to_numpy(float),
            "highlighted": data.loc[ok, highlight].astype(bool).to_numpy(),
            "label": data.loc[ok, label].astype(str).to_numpy(),
        }
    )
    summary: dict[str, Any] = {"n": int(ok.sum()), "n_missing": int((~ok).sum())}
    if len(drawn) >= 3 and drawn["x"].std() > 0 and drawn["y"].std() > 0:
        slope, intercept = np.polyfit(drawn["x"], drawn["y"], 1)
        summary.update(
            pearson_r=float(np.corrcoef(drawn["x"], drawn["y"])[0, 1]),
            slope=float(slope),
            intercept=float(intercept),
        )
    hl = drawn[drawn["highlighted"]]
    size = (8.0, 5.2)
    footer, _ = style.footer_parts(source_note=source_note, note=note, synthetic=synthetic)

    def draw_base(ax) -> None:
        # every trust grey, the highlighted ones too: they are drawn over in NHS Blue, so this
        # layer is the same for every system
        ax.scatter(
            drawn["x"],
            drawn["y"],
            s=22,
            color=style.CONTEXT_COLOUR,
            edgecolor="white",
            linewidth=0.4,
            label=f"Trusts in England (n={len(drawn)})",
            zorder=2,
        )
        if len(hl):  # the legend entry of the points draw_highlight draws
            ax.scatter(
                [], [], color=style.HIGHLIGHT_COLOUR, label=highlight_name, **HIGHLIGHT_MARKER
            )
        if "slope" in summary:
            grid = np.linspace(drawn["x"].min(), drawn["x"].max(), 50)
            ax.plot(
                grid,
                summary["intercept"] + summary["slope"] * grid,
                color=style.REFERENCE_COLOUR,
                ls="--",
                lw=1.2,
                label=f"Least-squares line, all trusts (r = {summary['pearson_r']:.2f})",
                zorder=3,
            )
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        if title:
            ax.set_title(title)
        ax.legend(loc="best", fontsize=8)
        style.finish_figure(ax.figure, source_note=source_note, note=note, synthetic=synthetic)

    def draw_highlight(ax) -> list:
        if not len(hl):
            return []
        points = ax.scatter(
            hl["x"], hl["y"], color=style.HIGHLIGHT_COLOUR, zorder=layers.HIGHLIGHT_ZORDER,
            **HIGHLIGHT_MARKER,
        )  # fmt: skip
        labels = label_points(
            ax, hl["x"].to_numpy(), hl["y"].to_numpy(), hl["label"].tolist(),
            zorder=layers.HIGHLIGHT_ZORDER + 1,
        )  # fmt: skip
        return [points, *labels]

    summary["alt_text"] = _scatter_alt(drawn, summary, title, xlabel, ylabel, highlight_name)
    summary["title"] = title
    if ax is None and layers.enabled():
        key = layers.digest(
            "scatter",
            drawn.drop(columns=["highlighted", "label"]),
            (xlabel, ylabel, title, highlight_name, footer, len(hl) > 0),
        )
        return layers.layered_result(
            key, draw_base, draw_highlight, drawn, summary, kind="scatter", size=size
        )
    with style.house_style():
        fig, ax = style.new_figure(ax, figsize=size)
        draw_base(ax)
        draw_highlight(ax)
    return style.PlotResult(fig, drawn, summary, kind="scatter")


def _scatter_alt(drawn, summary, title, xlabel, ylabel, highlight_name) -> str:
    """Alt text of :func:`scatter_highlight`: what is plotted and where the system's units are."""
    hl = drawn[drawn["highlighted"]]
    text = f"Scatter plot{': ' + title if title else ''}. {len(drawn)} trusts, {ylabel} against "
    text += f"{xlabel}."
    if "pearson_r" in summary:
        text += f" Across all trusts r = {summary['pearson_r']:.2f}."
    if len(hl):
        points = "; ".join(
            f"{r.label}: {r.x:.3g} and {r.y:.3g}" for r in hl.itertuples(index=False)
        )
        text += f" {highlight_name}: {points}."
    else:
        text += f" None of {highlight_name.lower()} has both values."
    return text


#: How a scatter's highlighted units are drawn, the same in the legend and on the chart.
HIGHLIGHT_MARKER = {"s": 48, "marker": "D", "edgecolor": "black", "linewidth": 0.6}


def label_points(ax, xs, ys, labels, *, fontsize: float = 7.5, zorder: float = 6) -> list:
    """Label points without a layout pass: a greedy search over offsets in axes fractions.

    :func:`icsresearch.plots.style.place_labels` measures text after laying the figure out,
    which costs a full draw per call; short labels (trust codes) are estimated well enough from
    their length, so this places them from the axes limits alone.

    Parameters
    ----------
    ax
        The axes (limits already set by the plotted data).
    xs, ys
        Point coordinates in data units.
    labels
        One text per point.
    fontsize
        Label size in points.
    zorder
        Z-order of the labels.

    Returns
    -------
    list of matplotlib.text.Annotation
    """
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    w_in, h_in = ax.figure.get_size_inches()
    # axes fraction of one character and one line (axes about 80% of the figure)
    char_w = fontsize * 0.62 / 72 / (0.8 * w_in)
    line_h = fontsize * 1.3 / 72 / (0.75 * h_in)
    fx = (np.asarray(xs, float) - x0) / ((x1 - x0) or 1.0)
    fy = (np.asarray(ys, float) - y0) / ((y1 - y0) or 1.0)
    taken = [(x - 0.006, y - 0.01, x + 0.006, y + 0.01) for x, y in zip(fx, fy, strict=True)]
    offsets = [(4, 3), (4, -9), (-4, 3), (-4, -9), (0, 8), (0, -13), (10, 10), (-10, -16)]
    out = []
    for i in np.argsort(-fy):
        width = char_w * len(str(labels[i]))
        chosen = offsets[0]
        for dx, dy in offsets:
            bx = fx[i] + dx / 72 / (0.8 * w_in) - (width if dx < 0 else 0)
            by = fy[i] + dy / 72 / (0.75 * h_in)
            box = (bx, by, bx + width, by + line_h)
            inside = box[0] >= 0 and box[2] <= 1 and box[1] >= 0 and box[3] <= 1
            if inside and not any(_overlaps(box, t) for t in taken):
                chosen = (dx, dy)
                taken.append(box)
                break
        dx, dy = chosen
        ann = ax.annotate(
            str(labels[i]),
            (xs[i], ys[i]),
            xytext=(dx, dy),
            textcoords="offset points",
            ha="right" if dx < 0 else ("center" if dx == 0 else "left"),
            va="bottom",
            fontsize=fontsize,
            zorder=zorder,
        )
        ann.set_in_layout(False)
        out.append(ann)
    return out


def _overlaps(a, b) -> bool:
    return not (a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1])


# --- trends ----------------------------------------------------------------------------------


#: Characters a trend panel's y-axis label may have on one line (a 3.4-inch panel holds about 40
#: at 10 pt); a longer label is split over two lines.
TREND_YLABEL_WIDTH = 38


def trend_grid(
    panels: Sequence[dict[str, Any]],
    *,
    ics_name: str,
    region_name: str,
    title: str | None = None,
    source_note: str | None = None,
    note: str | None = None,
    synthetic: bool = False,
    ncols: int = 2,
    source: str | None = None,
):
    """Small multiples of :func:`~icsresearch.plots.ics_vs_england`, one legend for all.

    Parameters
    ----------
    panels
        One dict per indicator: ``series`` (``{"ics", "region", "england"}`` -> ``year, value``
        tables), ``label``, ``units``.
    ics_name, region_name
        Legend names of the system and its region (England is ``"England"``).
    title, source_note, note, synthetic
        As the other charts.
    ncols
        Columns of the grid.
    source
        Deprecated name of ``source_note``.

    Returns
    -------
    PlotResult
        ``.data``: the long table of every panel (``indicator, series, year, financial_year,
        value, role``); ``.summary``: per-indicator gap years.
    """
    from matplotlib.figure import Figure

    from ..plots import ics_vs_england, style

    source_note = style.source_note_renamed(source_note, source)
    if not panels:
        raise InvalidParameterError("trend_grid: no indicators to draw")
    nrows = -(-len(panels) // ncols)
    with style.house_style():
        fig = Figure(figsize=(10.0, 3.4 * nrows + 0.9), layout="constrained")
        axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False).ravel())
        tables, summary = [], {}
        for ax, panel in zip(axes, panels, strict=False):
            s = panel["series"]
            res = ics_vs_england(
                s["ics"],
                s["england"],
                s.get("region"),
                value="value",
                ics_name=ics_name,
                region_name=region_name,
                units=panel.get("units"),
                ylabel=panel["label"],
                title=panel["label"],
                source_note=source_note,
                note=note,
                synthetic=synthetic,
                ax=ax,
            )
            ax.set_xlabel("")
            # a long axis label (label + units) would run past its panel into the one below
            ylabel = ax.get_ylabel()
            if len(ylabel) > TREND_YLABEL_WIDTH:  # two balanced lines
                ylabel = "\n".join(textwrap.wrap(ylabel, math.ceil(len(ylabel) / 2) + 4))
            ax.set_ylabel(ylabel)
            legend = ax.get_legend()
            if legend is not None:
                legend.remove()
            tables.append(res.data.assign(indicator=panel["label"]))
            summary[panel["label"]] = res.summary["gap_years"]
        for ax in axes[len(panels) :]:
            ax.set_visible(False)
        handles, labels = axes[0].get_legend_handles_labels()
        # one legend above the panels, carrying the title (a separate suptitle would collide
        # with an "outside" legend under constrained layout)
        fig.legend(
            handles,
            labels,
            loc="outside upper center",
            ncols=len(labels),
            fontsize=9,
            title=title,
            title_fontproperties={"weight": "bold", "size": 12},
        )
        # the last call's footer carries its own note: rewrite it once for the whole grid
        style.finish_figure(fig, source_note=source_note, note=note, synthetic=synthetic)
    data = pd.concat(tables, ignore_index=True)
    return style.PlotResult(
        fig,
        data,
        {"gap_years": summary, "title": title, "alt_text": _trend_alt(data, title, ics_name)},
        kind="trend_grid",
    )


def _trend_alt(data: pd.DataFrame, title: str | None, ics_name: str) -> str:
    """Alt text of :func:`trend_grid`: each indicator's years and the latest values of its lines."""
    parts = [f"Line charts{': ' + title if title else ''}."]
    for indicator, rows in data.groupby("indicator", sort=False):
        rows = rows.dropna(subset=["value"])
        if rows.empty:
            parts.append(f"{indicator}: no data.")
            continue
        last = rows["year"].max()
        latest = rows[rows["year"] == last]
        values = ", ".join(f"{r.series} {r.value:.3g}" for r in latest.itertuples(index=False))
        first = rows["year"].min()
        parts.append(
            f"{indicator}, {first}/{(first + 1) % 100:02d} to {last}/{(last + 1) % 100:02d}; "
            f"in {last}/{(last + 1) % 100:02d}: {values}."
        )
    return " ".join(parts)


# --- tile map --------------------------------------------------------------------------------


def _layout_region(region_name: str) -> str:
    """The real NHS region whose tiles a demo region borrows (same number of systems)."""
    from ..demo.generate import REGIONS

    for _code, name, real in REGIONS:
        if name == region_name:
            return real
    raise InvalidParameterError(f"demo region {region_name!r} is not one of the demo regions")


def demo_tile_positions(icbs: pd.DataFrame, footprint: Footprint) -> pd.DataFrame:
    """Place the fictional demo systems on the tiles of the real layout.

    Each demo region copies the number of systems of one real NHS region (both footprints), so
    the k-th demo system of a region (by code) takes the k-th tile of that real region (by row,
    then column). The tiles show the demo names; the geography is as fictional as the systems.

    Parameters
    ----------
    icbs
        The demo systems (``geography.icbs(footprint, "demo")``).
    footprint
        2022 or 2026.

    Returns
    -------
    pandas.DataFrame
        ``icb_code`` (demo), ``layout_code`` (the real tile it occupies), ``short_name``.
    """
    from ..plots import tile_layout

    lay = tile_layout(footprint).sort_values(["row", "col"])
    rows = []
    for region, grp in icbs.groupby("region_name", sort=True):
        tiles = lay[lay["region"] == _layout_region(str(region))]["icb_code"].tolist()
        codes = sorted(grp["icb_code"])
        if len(tiles) != len(codes):
            raise InvalidParameterError(
                f"demo region {region!r} has {len(codes)} systems but its layout region has "
                f"{len(tiles)} tiles in the {footprint} footprint"
            )
        short = grp.set_index("icb_code")["short_name"]
        rows += [(c, t, short[c]) for c, t in zip(codes, tiles, strict=True)]
    return pd.DataFrame(rows, columns=["icb_code", "layout_code", "short_name"])


def _wrap(text: str) -> str:
    return textwrap.fill(str(text), 11, break_long_words=False)


def ics_tile_map(
    values: pd.DataFrame,
    *,
    footprint: Footprint,
    highlight: str,
    synthetic: bool,
    icbs: pd.DataFrame | None = None,
    **kwargs,
):
    """:func:`icsresearch.plots.tile_map` for real or demo systems.

    Real codes go straight to the chart library. Demo codes (ZQ01...) are first placed on real
    tiles (:func:`demo_tile_positions`) and the tile labels then show the demo names, so no real
    system's name appears on demo data.

    Parameters
    ----------
    values
        ``icb_code, value``: one row per system.
    footprint
        2022 or 2026.
    highlight
        The system to outline.
    synthetic
        Demo data (stamped, and placed with :func:`demo_tile_positions`).
    icbs
        The demo systems (``geography.icbs(footprint, "demo")``); required for demo data.
    **kwargs
        Passed to :func:`~icsresearch.plots.tile_map` (``units``, ``title``, ``value_format``...).

    Returns
    -------
    PlotResult
    """
    from ..plots import tile_map

    if not synthetic:
        res = tile_map(values, value="value", footprint=footprint, highlight=highlight, **kwargs)
        return _with_map_alt(res, values, highlight, kwargs)
    if icbs is None:
        raise InvalidParameterError("ics_tile_map: pass icbs= (the demo systems) for demo data")
    pos = demo_tile_positions(icbs, footprint)
    to_tile = dict(zip(pos["icb_code"], pos["layout_code"], strict=True))
    placed = values.assign(icb_code=values["icb_code"].map(to_tile))
    demo_of = dict(zip(pos["layout_code"], pos["short_name"], strict=True))
    res = tile_map(
        placed,
        value="value",
        footprint=footprint,
        highlight=to_tile[highlight],
        synthetic=True,
        tile_labels={code: _wrap(name) for code, name in demo_of.items()},
        **kwargs,
    )
    layout_to_demo = dict(zip(pos["layout_code"], pos["icb_code"], strict=True))
    data = res.data.copy()
    data["layout_code"] = data["icb_code"]
    data["icb_code"] = data["layout_code"].map(layout_to_demo)
    data["short_name"] = data["layout_code"].map(demo_of)
    data["icb_name"] = data["icb_code"].map(icbs.set_index("icb_code")["icb_name"])
    data = data.drop(
        columns=[c for c in ("icb_ons_code", "predecessors", "successors") if c in data]
    )
    res.data = data
    res.summary["highlight"] = highlight
    res.summary["missing"] = [layout_to_demo.get(c, c) for c in res.summary.get("missing", [])]
    return _with_map_alt(res, values, highlight, kwargs)


def _with_map_alt(res, values: pd.DataFrame, highlight: str, kwargs: dict[str, Any]):
    """Add the alt text of a tile map: the highlighted system's value and rank among all."""
    label = kwargs.get("legend_label") or "value"
    title = kwargs.get("title")
    v = values.dropna(subset=["value"])
    parts = [f"Tile map of England's systems{': ' + title if title else ''}, one tile each."]
    mine = v[v["icb_code"] == highlight]
    if mine.empty:
        parts.append(f"{highlight} (outlined) has no value.")
    else:
        value = float(mine["value"].iloc[0])
        rank = int((v["value"] > value).sum()) + 1
        parts.append(
            f"{highlight} (outlined): {label} {value:.1f}, {rank} of {len(v)} from the highest; "
            f"range {v['value'].min():.1f} to {v['value'].max():.1f}."
        )
    res.summary["alt_text"] = " ".join(parts)
    return res


# --- saving -------------------------------------------------------------------------------------


#: Body text size of the HTML report in CSS pixels (:data:`icsresearch.reports.display.REPORT_CSS`).
BODY_FONT_PX = 14.0


def display_width(result) -> int:
    """The width (CSS pixels) at which a chart's base text is at least the report's body size.

    A chart's text is :data:`~icsresearch.plots.style.BASE_FONT_SIZE` points on a figure of
    ``width`` inches; shown ``w`` pixels wide, a point is ``w / (72 * width)`` pixels, so the
    base text is :data:`BODY_FONT_PX` pixels at ``w = BODY_FONT_PX * 72 * width / BASE``. On a
    narrower screen the image shrinks to the column (``max-width: 100%``).

    Parameters
    ----------
    result
        A chart (:class:`~icsresearch.plots.style.PlotResult`).
    """
    from ..plots.style import BASE_FONT_SIZE

    width = result.size_inches()[0] if hasattr(result, "size_inches") else result.fig.get_figwidth()
    return int(math.ceil(BODY_FONT_PX * 72 * width / BASE_FONT_SIZE))


def chart_title(result) -> str:
    """The title drawn on a chart (figure title, else the main axes' title), or ``""``.

    Parameters
    ----------
    result
        A chart (:class:`~icsresearch.plots.style.PlotResult`).
    """
    given = (result.summary or {}).get("title")
    if isinstance(given, str) and given.strip():
        return " ".join(given.split())
    suptitle = getattr(result.fig, "_suptitle", None)
    if suptitle is not None and suptitle.get_text().strip():
        return " ".join(suptitle.get_text().split())
    for ax in result.fig.axes:
        for loc in ("left", "center", "right"):
            text = ax.get_title(loc=loc).strip()
            if text:
                return " ".join(text.split())
    return ""


def alt_text(result, title: str | None = None) -> str:
    """What a chart shows, in words, for the ``alt`` of its image.

    The chart's own ``summary["alt_text"]`` (what the plotting function says this chart shows
    for this system) when it has one; otherwise the chart's kind and title and the facts in its
    summary a reader needs (SPC labels, funnel flags), never an empty or generic text.

    Parameters
    ----------
    result
        A chart (:class:`~icsresearch.plots.style.PlotResult`).
    title
        The chart's title (default: :func:`chart_title`).
    """
    summary = result.summary or {}
    given = summary.get("alt_text")
    if isinstance(given, str) and given.strip():
        return " ".join(given.split())
    title = title if title is not None else chart_title(result)
    kinds = {
        "funnel": "Funnel plot",
        "spc": "Statistical process control chart",
        "tile_map": "Tile map",
        "choropleth": "Map",
        "trend_grid": "Line charts",
        "scatter": "Scatter plot",
    }
    kind = kinds.get(result.kind, "Chart")
    parts = [f"{kind}: {title}." if title else f"{kind}."]
    if summary.get("variation_label"):
        parts.append(f"Latest month: {summary['variation_label']}.")
    if summary.get("assurance_label"):
        parts.append(f"Against the target: {summary['assurance_label']}.")
    flags = summary.get("flag_counts")
    if isinstance(flags, dict) and flags:
        parts.append(
            "Trusts by position against the limits: "
            + ", ".join(f"{k} {v}" for k, v in flags.items())
            + "."
        )
    return " ".join(parts)


def show(
    result,
    name: str,
    figures_dir: str | Path | None,
    *,
    number: int | None = None,
    caption: str | None = None,
    highlighted: str | None = None,
    dpi: int = 100,
):
    """Save a chart under ``figures_dir`` (PNG + its data) and display it as a numbered figure.

    The PNG is rendered once. The notebook output carries the PNG (for notebook viewers) and an
    HTML ``<figure>`` (what the HTML report shows): the image with alt text saying what the
    chart shows (:func:`alt_text`), at a width where its text is at least body size
    (:func:`display_width`, shrinking to the page on a phone), a caption "Figure N. title" and a
    link to the CSV of the data behind it. Without ``figures_dir`` the chart is displayed the
    same way and nothing is written (no download link).

    Parameters
    ----------
    result
        A chart (:class:`~icsresearch.plots.style.PlotResult`); its figure is closed afterwards.
    name
        File name without suffix, e.g. ``"funnel_ae"``.
    figures_dir
        Folder for the files; ``""`` or ``None`` writes nothing. A relative folder is also the
        link from the HTML report (the batch runs the notebook in the report's folder).
    number
        The figure's number in the report ("Figure 3."); ``None`` for no number.
    caption
        The caption (default: the chart's title).
    highlighted
        What the chart highlights, added to the caption and the alt text, e.g.
        ``"Juniperham & Yewmere's trusts in blue, labelled by code"`` (a chart drawn over a
        shared base says only "this system" itself).
    dpi
        Resolution of the PNG.

    Returns
    -------
    dict
        ``{"png": path, ...}`` as :meth:`PlotResult.save`, or ``{}`` when nothing was saved.
    """
    from IPython.display import display

    title = chart_title(result)
    alt = alt_text(result, title)
    if highlighted:
        alt = f"{alt.rstrip('. ')}. {highlighted}."
    width_px = display_width(result)
    csv_href = None
    if figures_dir:
        written = result.save(Path(figures_dir) / name, dpi=dpi)
        png = Path(written["png"]).read_bytes()
        if not Path(figures_dir).is_absolute():
            csv_href = (Path(figures_dir) / f"{name}.csv").as_posix()
    else:
        written = {}
        png = result.png(dpi)
    result.close()
    encoded = base64.b64encode(png).decode("ascii")
    label = f"<b>Figure {number}.</b> " if number is not None else ""
    text = (caption if caption is not None else title or name).rstrip(". ")
    text = html.escape(f"{text}; {highlighted}" if highlighted else text)
    link = (
        f' <a class="icsr-data" href="{html.escape(csv_href, quote=True)}" download>'
        "Download the data behind this chart (CSV)</a>"
        if csv_href
        else ""
    )
    anchor = f' id="figure-{number}"' if number is not None else ""
    figure = (
        f'<figure class="icsr-figure"{anchor}>'
        f'<img src="data:image/png;base64,{encoded}" alt="{html.escape(alt, quote=True)}" '
        f'width="{width_px}">'
        f"<figcaption>{label}{text}.{link}</figcaption></figure>"
    )
    display(
        {"text/html": figure, "image/png": encoded, "text/plain": alt},
        raw=True,
        metadata={"image/png": {"width": width_px}},
    )
    return {k: str(v) for k, v in written.items()}
