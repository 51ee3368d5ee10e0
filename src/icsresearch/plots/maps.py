"""ICS maps: a tile map that needs no geodata, and a choropleth from ICB boundary polygons.

Tile map
--------
One square per Integrated Care System in a rough geographic arrangement, committed as
``icsresearch/tables/ics_tile_layout.csv``: ``icb_code`` (ODS Q-code, or the new ODS code for
the April 2026 systems), ``short_name`` (tile label), ``col`` (0 = west), ``row`` (0 = north),
``region`` (NHS England region), ``footprint`` (``2022``: the 42 ICBs of July 2022; ``2026``:
the 36 systems after the 1 April 2026 mergers), ``icb_name``, ``icb_ons_code`` (ONS E54 code of
July 2022; 2022 rows only), ``predecessors`` (2026 rows: the 2022 ICBs it was formed from,
"(part)" where only part of one moved) and ``successors`` (2022 rows: the 2026 system(s) its
area went to).

Choropleth
----------
Polygons come as a DataFrame with ``icb_code`` and/or ``icb_ons_code`` and ``geometry``: per
system a list of polygons, each a list of ``(n, 2)`` arrays of lon/lat rings (first ring outer,
others holes), the layout ``read_icb_boundaries`` produces from the geographr sf file. They are
drawn as matplotlib paths (outer rings anticlockwise, holes clockwise, so holes stay empty under
any fill rule) on equal-aspect axes with the equirectangular correction: one degree of longitude
is drawn ``cos(mid-latitude)`` as wide as one degree of latitude.
"""

from __future__ import annotations

import functools
import math
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataFileError, InvalidParameterError
from ..options import Footprint, check
from . import layers, style

LAYOUT_FILE = Path(__file__).resolve().parent.parent / "tables" / "ics_tile_layout.csv"

#: ONS codes issued on 1 April 2023 after the Surrey Heartlands / Sussex boundary change.
ONS_CODES_2023 = {"E54000063": "QXU", "E54000064": "QNX"}

#: Sequential scale from pale blue to NHS Dark Blue (luminance falls monotonically; the
#: palest step stays distinguishable from the white, hatched "no data").
SEQUENTIAL = ("#DCEAF6", "#A3CBEA", "#5FA7DC", "#2A7FC8", "#005EB8", "#003087")


@functools.cache
def _layout_all() -> pd.DataFrame:
    try:
        df = pd.read_csv(
            LAYOUT_FILE, dtype={"footprint": str, "icb_ons_code": str}, keep_default_na=False
        )
    except FileNotFoundError as e:
        raise DataFileError(
            LAYOUT_FILE, "the ICS tile layout table is missing", "Reinstall icsresearch."
        ) from e
    need = {"icb_code", "short_name", "col", "row", "region", "footprint"}
    if not need <= set(df.columns):
        raise DataFileError(
            LAYOUT_FILE,
            f"lacks columns {sorted(need - set(df.columns))}",
            "Restore the file from the repository.",
        )
    return df


def tile_layout(footprint: Footprint = 2022) -> pd.DataFrame:
    """The tile layout of the 42 ICBs (``"2022"``) or the 36 systems from April 2026 (``"2026"``).

    Parameters
    ----------
    footprint
        2022 or 2026 (``"2022"`` is read as 2022).

    Returns
    -------
    pandas.DataFrame
        ``icb_code, short_name, col, row, region, footprint, icb_name, icb_ons_code,
        predecessors, successors``.

    Examples
    --------
    >>> len(tile_layout("2022")), len(tile_layout("2026"))
    (42, 36)
    """
    fp = str(check("footprint", footprint, Footprint))  # the layout file keys footprints as text
    df = _layout_all()
    return df[df["footprint"] == fp].reset_index(drop=True).copy()


def ics_lineage() -> pd.DataFrame:
    """How the 42 ICBs of 2022 map to the 36 systems of April 2026.

    Returns
    -------
    pandas.DataFrame
        ``icb_code_2022, icb_code_2026, part`` (``part`` True where only part of the 2022 ICB's
        area moved to that 2026 system), one row per pair.
    """
    rows = []
    for _, r in tile_layout("2022").iterrows():
        for item in str(r["successors"]).split(";"):
            item = item.strip()
            if not item:
                continue
            part = item.endswith("(part)")
            rows.append((r["icb_code"], item.replace("(part)", "").strip(), part))
    return pd.DataFrame(rows, columns=["icb_code_2022", "icb_code_2026", "part"])


def _code_map(footprint: str) -> dict[str, str]:
    """Every accepted code (Q-code, ONS code) -> the layout's icb_code."""
    lay = tile_layout(footprint)
    out = {c: c for c in lay["icb_code"]}
    if footprint == "2022":
        out.update({o: q for o, q in zip(lay["icb_ons_code"], lay["icb_code"], strict=True) if o})
        out.update(ONS_CODES_2023)
    return out


def _normalise_codes(codes: pd.Series, footprint: str, what: str) -> pd.Series:
    mapping = _code_map(footprint)
    clean = codes.astype(str).str.strip()
    out = clean.map(mapping)
    unknown = clean[out.isna()].unique().tolist()
    if unknown:
        other = "2026" if footprint == "2022" else "2022"
        hint = (
            f" They look like {other} codes: pass footprint={other}."
            if all(u in _code_map(other) for u in unknown)
            else " Use ODS Q-codes (e.g. 'QYG') or ONS E54 codes."
        )
        raise InvalidParameterError(
            f"{what}: codes not in the {footprint} ICS layout: {unknown[:6]}.{hint}"
        )
    return out


def _prepare_values(
    data: pd.DataFrame | None,
    value: str | None,
    code: str,
    footprint: str,
    what: str,
) -> pd.Series:
    """The indicator indexed by layout icb_code (empty Series when no data)."""
    if data is None:
        return pd.Series(dtype=float)
    if value is None:
        raise InvalidParameterError(f"{what}: pass value= (the column to colour by)")
    style.require_columns(data, [code, value], what)
    keys = _normalise_codes(data[code], footprint, what)
    dup = keys[keys.duplicated()].unique().tolist()
    if dup:
        raise InvalidParameterError(
            f"{what}: more than one row for {dup[:5]}; give one value per system"
        )
    return pd.Series(data[value].array, index=keys.to_numpy(), name=value)


def _colours(values: pd.Series, categorical: bool | None, cmap, vmin, vmax):
    """(colour per key, mapper for the legend/colour bar, is_categorical)."""
    import matplotlib.colors as mcolors

    if categorical is None:
        categorical = not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(
            values
        )
    present = values.dropna()
    if categorical:
        if isinstance(values.dtype, pd.CategoricalDtype):
            cats = [c for c in values.cat.categories if c in set(present)]
        else:
            cats = sorted(present.unique().tolist(), key=str)
        palette = [c for c in style.SERIES_COLOURS if c != style.OKABE_ITO["black"]]
        if len(cats) > len(palette):
            raise InvalidParameterError(
                f"{len(cats)} categories is more than a map can show distinguishably "
                f"({len(palette)}); group them first"
            )
        lookup = dict(zip(cats, palette, strict=False))
        colours = {
            k: (lookup[v] if pd.notna(v) else style.MISSING_COLOUR) for k, v in values.items()
        }
        return colours, lookup, True
    numeric = pd.to_numeric(values, errors="coerce")
    if isinstance(cmap, str) or cmap is None:
        from matplotlib import colormaps

        cmap = (
            mcolors.LinearSegmentedColormap.from_list("nhs_blues", SEQUENTIAL)
            if cmap is None
            else colormaps[cmap]
        )
    lo = float(numeric.min()) if vmin is None else vmin
    hi = float(numeric.max()) if vmax is None else vmax
    if not (np.isfinite(lo) and np.isfinite(hi)):
        lo, hi = 0.0, 1.0
    if hi == lo:
        hi = lo + 1.0
    norm = mcolors.Normalize(lo, hi)
    colours = {
        k: (mcolors.to_hex(cmap(norm(v))) if pd.notna(v) else style.MISSING_COLOUR)
        for k, v in numeric.items()
    }
    return colours, (cmap, norm), False


def _format_value(v, fmt: str | None) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
        return "no data"
    if fmt:
        return format(v, fmt)
    if isinstance(v, (int, np.integer)):
        return f"{v:,}"
    if isinstance(v, (float, np.floating)):
        return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}"
    return str(v)


def _legend_or_colourbar(fig, ax, mapper, categorical, legend_label, has_missing):
    from matplotlib.cm import ScalarMappable
    from matplotlib.patches import Patch

    if categorical:
        handles = [Patch(facecolor=c, edgecolor="#5F6B73", label=str(k)) for k, c in mapper.items()]
        if has_missing:
            handles.append(
                Patch(
                    facecolor=style.MISSING_COLOUR,
                    edgecolor="#9AA5AD",
                    hatch="///",
                    label="No data",
                )
            )
        ax.legend(
            handles=handles,
            title=legend_label or None,
            loc="upper left",
            bbox_to_anchor=(1.0, 1.0),
            fontsize=8.5,
            title_fontsize=9,
        )
    else:
        cmap, norm = mapper
        sm = ScalarMappable(norm=norm, cmap=cmap)
        cb = fig.colorbar(sm, ax=ax, shrink=0.55, pad=0.02, aspect=22)
        cb.set_label(legend_label or "", fontsize=9)
        cb.ax.tick_params(labelsize=8)
        if has_missing:
            # top right of the axes is empty sea/space in both tile layouts and in England
            ax.legend(handles=[_no_data_patch()], loc="upper right", fontsize=8)


def _no_data_patch():
    from matplotlib.patches import Patch

    return Patch(facecolor=style.MISSING_COLOUR, edgecolor="#8A959C", hatch="///", label="No data")


def _wrap_label(text: str, width: int = 11) -> str:
    return "\n".join(textwrap.wrap(text, width, break_long_words=False)[:2])


def tile_map(
    data: pd.DataFrame | None = None,
    *,
    value: str | None = None,
    code: str = "icb_code",
    footprint: Footprint = 2022,
    highlight: str | None = None,
    categorical: bool | None = None,
    cmap=None,
    vmin: float | None = None,
    vmax: float | None = None,
    units: str | None = None,
    legend_label: str | None = None,
    value_format: str | None = None,
    show_values: bool = True,
    title: str | None = None,
    source_note: str | None = None,
    note: str | None = None,
    synthetic: bool | None = None,
    ax=None,
    source: str | None = None,
    tile_labels: dict[str, str] | None = None,
) -> style.PlotResult:
    """A tile map of the ICSs coloured by an indicator, one system outlined.

    Parameters
    ----------
    data
        One row per system with ``code`` and ``value`` columns (``None`` draws the plain
        layout, coloured by region).
    value
        Column to colour by: numbers (continuous scale with a colour bar) or categories.
    code
        Column of system codes: ODS Q-codes, or (2022) ONS E54 codes, including the 2023
        codes E54000063/64 for Surrey Heartlands/Sussex.
    footprint
        2022 (42 ICBs) or 2026 (36 systems); ``"2026"`` is read as 2026.
    highlight
        A system code to outline (thick border, bold label).
    categorical
        Force categorical (True) or continuous (False) colouring; default from the dtype.
    cmap, vmin, vmax
        Continuous colour scale (default: pale grey to NHS Dark Blue).
    units
        Units of the indicator, shown on the colour bar (e.g. ``"%"``).
    legend_label
        Colour bar / legend title (default: the value column and units).
    value_format
        Format spec for values printed on tiles, e.g. ``".1f"``.
    show_values
        Print each value under the tile label.
    title, source_note, note, synthetic, ax
        As the other charts (footer and stamp by default from ``data``'s provenance).
    source
        Deprecated name of ``source_note``.
    tile_labels
        ``code -> text`` written as given on the tiles instead of the systems' short names
        (wrapped to two lines): the demo data's fictional systems sit on real tiles.

    Returns
    -------
    PlotResult
        ``.data``: one row per tile (layout columns, ``value``, ``colour``, ``highlighted``).
    """
    source_note = style.source_note_renamed(source_note, source)
    fp = str(check("footprint", footprint, Footprint))
    lay = tile_layout(fp)
    what = "tile map data"
    if data is None and value is None:
        values = lay.set_index("icb_code")["region"].rename("region")
        categorical = True
        legend_label = legend_label or "NHS region"
    else:
        values = _prepare_values(data, value, code, fp, what)
    hl = None
    if highlight is not None:
        hl = _normalise_codes(pd.Series([highlight]), fp, "highlight").iloc[0]
    values = values.reindex(lay["icb_code"])
    colours, mapper, is_cat = _colours(values, categorical, cmap, vmin, vmax)
    if legend_label is None:
        doc_label, doc_unit = style.column_doc(data, value) if value else (None, None)
        legend_label = style.axis_label(doc_label or value, units or doc_unit)

    out = lay.copy()
    out["value"] = values.to_numpy()
    out["colour"] = out["icb_code"].map(colours)
    out["highlighted"] = out["icb_code"] == hl

    if tile_labels is not None:  # written as given
        out["label"] = out["icb_code"].map(tile_labels).fillna("")
    else:
        out["label"] = [_wrap_label(str(n)) for n in out["short_name"]]
    with_values = show_values and data is not None
    layout_note = f"tile layout: icsresearch ics_tile_layout.csv ({fp})"
    note = f"{note}; {layout_note}" if note else layout_note
    title = title or f"Integrated care systems ({fp} footprint, {len(lay)} systems)"
    size = (7.6, 8.2)

    def draw_base(ax) -> None:
        _draw_tiles(ax, out, with_values, value_format)
        ax.set_aspect("equal")
        ax.set_xlim(out["col"].min() - 0.6, out["col"].max() + 0.6)
        ax.set_ylim(-out["row"].max() - 0.6, -out["row"].min() + 0.6)
        ax.axis("off")
        fig = ax.figure
        _legend_or_colourbar(fig, ax, mapper, is_cat, legend_label, out["value"].isna().any())
        ax.set_title(title)
        style.finish_figure(fig, source_note=source_note, note=note, synthetic=synthetic, data=data)

    def draw_highlight(ax) -> list:
        return _draw_tile_highlight(ax, out[out["highlighted"]], with_values, value_format)

    if ax is None and layers.enabled():
        # every report draws the same map of every system; only the outline differs
        footer, _ = style.footer_parts(
            source_note=source_note, note=note, synthetic=synthetic, data=data
        )
        key = layers.digest(
            "tile_map",
            out.drop(columns=["highlighted"]),
            (fp, with_values, value_format, legend_label, is_cat, title, footer, repr(cmap)),
            (vmin, vmax),
        )
        result = layers.layered_result(
            key, draw_base, draw_highlight, out.drop(columns=["label"]), {},
            kind="tile_map", size=size,
        )  # fmt: skip
    else:
        with style.house_style():
            fig, ax = style.new_figure(ax, figsize=size)
            draw_base(ax)
            draw_highlight(ax)
        result = style.PlotResult(fig, out.drop(columns=["label"]), kind="tile_map")
    summary = {
        "footprint": int(fp),
        "n_systems": len(lay),
        "n_with_data": int(out["value"].notna().sum()),
        "missing": out.loc[out["value"].isna(), "icb_code"].tolist(),
        "highlight": hl,
        "categorical": is_cat,
        "title": title,
    }
    if not is_cat:
        _, norm = mapper
        summary.update({"vmin": float(norm.vmin), "vmax": float(norm.vmax)})
    result.summary = summary
    return result


#: Side of a tile (1 is the grid step).
TILE_SIZE = 0.94


def _draw_tiles(ax, tiles: pd.DataFrame, show_values: bool, value_format: str | None) -> None:
    """Every tile, plain (the outlined system is drawn over its tile by the highlight)."""
    for _, t in tiles.iterrows():
        _draw_tile(ax, t, show_values, value_format, bold=False, zorder=1)


def _draw_tile(ax, t, show_values: bool, value_format: str | None, *, bold: bool, zorder: float):
    """One tile: its square, label and value; returns the artists."""
    from matplotlib.patches import Rectangle

    size = TILE_SIZE
    x, y = t["col"], -t["row"]
    missing = pd.isna(t["value"])
    drawn = [
        ax.add_patch(
            Rectangle(
                (x - size / 2, y - size / 2),
                size,
                size,
                facecolor=t["colour"],
                edgecolor="#9AA5AD" if missing else "white",
                hatch="///" if missing else None,
                lw=0.8,
                zorder=zorder,
            )
        )
    ]
    ink = style.text_colour_for(t["colour"])
    weight = "bold" if bold else "normal"
    label = str(t["label"])
    if show_values:
        drawn.append(
            ax.text(
                x,
                y + 0.1,
                label,
                ha="center",
                va="center",
                fontsize=6.6,
                color=ink,
                fontweight=weight,
                linespacing=1.0,
                zorder=zorder + 2,
            )
        )
        drawn.append(
            ax.text(
                x,
                y - 0.3,
                _format_value(t["value"], value_format),
                ha="center",
                va="center",
                fontsize=6.6,
                color=ink,
                fontweight="bold",
                zorder=zorder + 2,
            )
        )
    else:
        drawn.append(
            ax.text(
                x,
                y,
                label,
                ha="center",
                va="center",
                fontsize=6.8,
                color=ink,
                fontweight=weight,
                linespacing=1.0,
                zorder=zorder + 2,
            )
        )
    return drawn


def _draw_tile_highlight(
    ax, tiles: pd.DataFrame, show_values: bool, value_format: str | None
) -> list:
    """The outlined system: its tile again with a bold label, and a thick black border."""
    from matplotlib.patches import Rectangle

    drawn = []
    size = TILE_SIZE
    for _, t in tiles.iterrows():
        drawn += _draw_tile(
            ax, t, show_values, value_format, bold=True, zorder=layers.HIGHLIGHT_ZORDER
        )
        drawn.append(
            ax.add_patch(
                Rectangle(
                    (t["col"] - size / 2, -t["row"] - size / 2),
                    size,
                    size,
                    fill=False,
                    edgecolor=style.NHS_COLOURS["black"],
                    lw=3.0,
                    zorder=layers.HIGHLIGHT_ZORDER + 3,
                )
            )
        )
    return drawn


# --- choropleth -----------------------------------------------------------------------------


def _signed_area(ring: np.ndarray) -> float:
    x, y = ring[:, 0], ring[:, 1]
    return 0.5 * float(np.sum(x[:-1] * y[1:] - x[1:] * y[:-1]) + (x[-1] * y[0] - x[0] * y[-1]))


def _as_polygons(geom: Any, key: str) -> list[list[np.ndarray]]:
    """Validate one system's geometry: a list of polygons, each a list of (n, 2) rings."""
    what = f"geometry of {key!r}"
    if isinstance(geom, np.ndarray) and geom.ndim == 2:
        geom = [[geom]]  # a single ring
    if not isinstance(geom, (list, tuple)) or len(geom) == 0:
        raise InvalidParameterError(
            f"{what}: expected a list of polygons (each a list of (n, 2) lon/lat rings), "
            f"got {type(geom).__name__}"
        )
    first = geom[0]
    if isinstance(first, np.ndarray) and np.asarray(first).ndim == 2:
        geom = [geom]  # a single polygon given as its list of rings
    polys = []
    for p, poly in enumerate(geom):
        if not isinstance(poly, (list, tuple)) or len(poly) == 0:
            raise InvalidParameterError(f"{what}: polygon {p} is not a list of rings")
        rings = []
        for r, ring in enumerate(poly):
            arr = np.asarray(ring, dtype=float)
            if arr.ndim != 2 or arr.shape[1] != 2 or len(arr) < 3:
                raise InvalidParameterError(
                    f"{what}: polygon {p} ring {r} has shape {arr.shape}; need (n >= 3, 2) lon/lat"
                )
            if not np.isfinite(arr).all():
                raise InvalidParameterError(f"{what}: polygon {p} ring {r} has missing coordinates")
            if np.allclose(arr[0], arr[-1]):
                arr = arr[:-1]
            rings.append(arr)
        polys.append(rings)
    return polys


def _compound_path(polys: list[list[np.ndarray]]):
    """One Path for a system: outer rings anticlockwise, holes clockwise."""
    from matplotlib.path import Path as MPath

    verts, codes = [], []
    for rings in polys:
        for i, ring in enumerate(rings):
            ccw = _signed_area(ring) > 0
            if (i == 0) != ccw:  # outer must be CCW, holes CW
                ring = ring[::-1]
            verts.append(np.vstack([ring, ring[:1]]))
            codes += [MPath.MOVETO] + [MPath.LINETO] * (len(ring) - 1) + [MPath.CLOSEPOLY]
    return MPath(np.vstack(verts), codes)


def _label_point(polys: list[list[np.ndarray]]) -> tuple[float, float]:
    """Centroid of the largest outer ring (a readable label anchor for multi-part systems)."""
    best = max((rings[0] for rings in polys), key=lambda r: abs(_signed_area(r)))
    x, y = best[:, 0], best[:, 1]
    x1, y1 = np.roll(x, -1), np.roll(y, -1)
    cross = x * y1 - x1 * y
    a = cross.sum() / 2
    if abs(a) < 1e-15:
        return float(x.mean()), float(y.mean())
    return float(((x + x1) * cross).sum() / (6 * a)), float(((y + y1) * cross).sum() / (6 * a))


def choropleth(
    polygons: pd.DataFrame,
    data: pd.DataFrame | None = None,
    *,
    value: str | None = None,
    code: str = "icb_code",
    polygon_code: str | None = None,
    highlight: str | None = None,
    highlight_label: str | None = None,
    categorical: bool | None = None,
    cmap=None,
    vmin: float | None = None,
    vmax: float | None = None,
    units: str | None = None,
    legend_label: str | None = None,
    title: str | None = None,
    source_note: str | None = None,
    note: str | None = None,
    synthetic: bool | None = None,
    ax=None,
    source: str | None = None,
) -> style.PlotResult:
    """A choropleth of ICB boundary polygons, one system outlined.

    Parameters
    ----------
    polygons
        ``icb_code`` and/or ``icb_ons_code`` (or ``polygon_code``) and ``geometry`` (per row a
        list of polygons, each a list of ``(n, 2)`` lon/lat rings, outer ring first).
    data
        One row per system with ``code`` and ``value``; ``None`` draws outlines only.
    value, code
        Indicator column and the code column in ``data``. Q-codes and ONS E54 codes are matched
        to each other through the tile-layout table (2022 footprint, 2023 ONS codes included).
    polygon_code
        Code column of ``polygons`` (default ``icb_code`` if present, else ``icb_ons_code``).
    highlight, highlight_label
        A system to outline and label (label default: its name in the layout table or code).
    categorical, cmap, vmin, vmax, units, legend_label
        Colouring as :func:`tile_map`.
    title, source_note, note, synthetic, ax
        As the other charts (footer and stamp by default from the provenance of ``data`` and
        ``polygons``).
    source
        Deprecated name of ``source_note``.

    Returns
    -------
    PlotResult
        ``.data``: one row per polygon system (``key``, ``icb_code``, ``value``, ``colour``,
        ``highlighted``, ``n_polygons``, ``label_lon``, ``label_lat``); ``.summary`` notes the
        coordinate handling.
    """
    from matplotlib.collections import PatchCollection
    from matplotlib.patches import PathPatch

    source_note = style.source_note_renamed(source_note, source)
    what = "choropleth polygons"
    if not isinstance(polygons, pd.DataFrame):
        raise InvalidParameterError(f"{what}: expected a DataFrame, got {type(polygons).__name__}")
    if polygon_code is None:
        polygon_code = next(
            (c for c in ("icb_code", "icb_ons_code", code) if c in polygons.columns), None
        )
    if polygon_code is None or "geometry" not in polygons.columns:
        raise InvalidParameterError(
            f"{what}: need a code column (icb_code or icb_ons_code) and 'geometry'; "
            f"the table has {list(polygons.columns)}"
        )
    keys = polygons[polygon_code].astype(str).str.strip()
    if keys.duplicated().any():
        raise InvalidParameterError(
            f"{what}: repeated codes {keys[keys.duplicated()].unique()[:5].tolist()}; "
            "one row (a multipolygon) per system"
        )
    known = _code_map("2022") | _code_map("2026")
    norm_keys = keys.map(lambda k: known.get(k, k))
    shapes = [_as_polygons(g, k) for k, g in zip(keys, polygons["geometry"], strict=True)]

    if data is not None:
        if value is None:
            raise InvalidParameterError("choropleth data: pass value= (the column to colour by)")
        style.require_columns(data, [code, value], "choropleth data")
        dkeys = data[code].astype(str).str.strip().map(lambda k: known.get(k, k))
        unmatched = sorted(set(dkeys) - set(norm_keys))
        if unmatched:
            raise InvalidParameterError(
                f"choropleth data: codes {unmatched[:6]} have no polygon (polygon codes are in "
                f"{polygon_code!r}, e.g. {keys.iloc[:3].tolist()})"
            )
        if dkeys.duplicated().any():
            raise InvalidParameterError(
                f"choropleth data: more than one row for {dkeys[dkeys.duplicated()].unique()[:5].tolist()}"
            )
        values = pd.Series(data[value].array, index=dkeys.to_numpy()).reindex(norm_keys)
    else:
        values = pd.Series(np.nan, index=norm_keys, dtype=float)
    colours, mapper, is_cat = _colours(values, categorical, cmap, vmin, vmax)
    hl = None
    if highlight is not None:
        hl = known.get(str(highlight).strip(), str(highlight).strip())
        if hl not in set(norm_keys):
            raise InvalidParameterError(f"highlight {highlight!r} is not among the polygons")

    all_xy = np.vstack([ring for polys in shapes for rings in polys for ring in rings])
    lonlat = bool(np.all(np.abs(all_xy[:, 0]) <= 180) and np.all(np.abs(all_xy[:, 1]) <= 90))
    lat0 = float((all_xy[:, 1].min() + all_xy[:, 1].max()) / 2) if lonlat else None

    if legend_label is None and value:
        doc_label, doc_unit = style.column_doc(data, value)
        legend_label = style.axis_label(doc_label or value, units or doc_unit)

    patches, face = [], []
    for k, polys in zip(norm_keys, shapes, strict=True):
        patches.append(PathPatch(_compound_path(polys)))
        face.append(colours[k] if data is not None else "#DDE5E8")
    with style.house_style():
        fig, ax = style.new_figure(ax, figsize=(7.0, 8.0))
        coll = PatchCollection(
            patches, facecolors=face, edgecolors="white", linewidths=0.5, zorder=1
        )
        ax.add_collection(coll)
        if data is not None:
            for k, polys in zip(norm_keys, shapes, strict=True):
                if pd.isna(values.get(k)):
                    ax.add_patch(
                        PathPatch(
                            _compound_path(polys),
                            facecolor=style.MISSING_COLOUR,
                            edgecolor="#8A959C",
                            hatch="///",
                            lw=0.5,
                            zorder=2,
                        )
                    )
        if hl is not None:
            i = list(norm_keys).index(hl)
            ax.add_patch(
                PathPatch(
                    _compound_path(shapes[i]),
                    fill=False,
                    edgecolor=style.NHS_COLOURS["black"],
                    lw=2.4,
                    zorder=3,
                )
            )
            lx, ly = _label_point(shapes[i])
            lay = _layout_all()
            name = highlight_label or next(iter(lay.loc[lay["icb_code"] == hl, "icb_name"]), hl)
            import matplotlib.patheffects as pe

            ax.annotate(
                name,
                (lx, ly),
                xytext=(18, 18),
                textcoords="offset points",
                fontsize=9,
                fontweight="bold",
                zorder=5,
                arrowprops={"arrowstyle": "-", "lw": 0.8, "color": "#231F20"},
                path_effects=[pe.withStroke(linewidth=3, foreground="white")],
            )
        pad_x = (all_xy[:, 0].max() - all_xy[:, 0].min()) * 0.03
        pad_y = (all_xy[:, 1].max() - all_xy[:, 1].min()) * 0.03
        ax.set_xlim(all_xy[:, 0].min() - pad_x, all_xy[:, 0].max() + pad_x)
        ax.set_ylim(all_xy[:, 1].min() - pad_y, all_xy[:, 1].max() + pad_y)
        # equirectangular: a degree of longitude is cos(lat0) of a degree of latitude
        ax.set_aspect(1 / math.cos(math.radians(lat0)) if lonlat else "equal")
        ax.axis("off")
        if data is not None:
            _legend_or_colourbar(fig, ax, mapper, is_cat, legend_label, values.isna().any())
        if title:
            ax.set_title(title)
        # footer: the indicator's source and the boundaries' source
        style.finish_figure(
            fig,
            source_note=source_note,
            note=note,
            synthetic=synthetic,
            data=[data, polygons],
        )

    anchors = [_label_point(p) for p in shapes]
    out = pd.DataFrame(
        {
            "key": keys.to_numpy(),
            "icb_code": norm_keys.to_numpy(),
            "value": values.to_numpy(),
            "colour": [colours.get(k) if data is not None else None for k in norm_keys],
            "highlighted": (norm_keys == hl).to_numpy(),
            "n_polygons": [len(p) for p in shapes],
            "label_lon": [a[0] for a in anchors],
            "label_lat": [a[1] for a in anchors],
        }
    )
    summary = {
        "n_systems": len(out),
        "coordinates": "lon/lat (equirectangular, cos(lat0) correction)"
        if lonlat
        else "projected (drawn with equal axes)",
        "lat0": lat0,
        "aspect": (1 / math.cos(math.radians(lat0))) if lonlat else 1.0,
        "highlight": hl,
        "missing": out.loc[out["value"].isna(), "icb_code"].tolist() if data is not None else [],
        "categorical": is_cat,
    }
    return style.PlotResult(fig, out, summary, kind="choropleth")
