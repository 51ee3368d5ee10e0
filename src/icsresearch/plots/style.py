"""The house style shared by every chart: colours, fonts, footer, synthetic-data stamp, results.

Colours
-------
Categorical series use the **Okabe-Ito** palette (Okabe & Ito 2008, "Color Universal Design"),
which stays distinguishable under protanopia, deuteranopia and tritanopia. The NHS identity
palette is kept for *single-colour* roles (NHS Blue ``#005EB8`` for the system a report is about,
NHS Dark Grey for England), because its blues (NHS Blue, Bright Blue, Light Blue, Aqua Blue) are
not distinguishable from each other under colour-vision deficiency and cannot carry several
categories. SPC charts keep the Making Data Count meaning (blue improvement, orange concern, grey
common cause, purple "neither") using the Okabe-Ito blue and orange: blue-orange is the contrast
that every common colour-vision deficiency preserves. Continuous maps use a single-hue sequential
scale from pale grey to NHS Dark Blue (luminance falls monotonically, so the order reads in grey
scale too). Colour is never the only carrier of meaning: series also differ in line style and
marker, highlighted units are labelled, and SPC/funnel flags are in the returned data as text.

Every figure carries a footer ``Source: ... | Produced <date> | <provenance note>`` and, when made
from demo data, the words "synthetic demo data" (in the footer, a badge and a watermark). Both come
from the provenance record of what the figure draws (:func:`provenance_of`), tables and model
results alike.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import io
import json
import math
import textwrap
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..errors import InvalidParameterError
from ..options import check_bool, renamed
from ..provenance import Provenance, of

# --- colours --------------------------------------------------------------------------------

#: NHS identity colours (NHS England brand guidelines).
NHS_COLOURS = {
    "nhs_blue": "#005EB8",
    "dark_blue": "#003087",
    "bright_blue": "#0072CE",
    "light_blue": "#41B6E6",
    "aqua_blue": "#00A9CE",
    "black": "#231F20",
    "dark_grey": "#425563",
    "mid_grey": "#768692",
    "pale_grey": "#E8EDEE",
    "warm_yellow": "#FFB81C",
    "orange": "#ED8B00",
    "dark_green": "#006747",
    "purple": "#330072",
    "dark_red": "#8A1538",
}

#: Okabe-Ito colour-blind-safe palette.
OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}

#: Order for categorical series (yellow last: it is too light for lines on white).
SERIES_COLOURS = (
    OKABE_ITO["blue"],
    OKABE_ITO["orange"],
    OKABE_ITO["bluish_green"],
    OKABE_ITO["vermillion"],
    OKABE_ITO["reddish_purple"],
    OKABE_ITO["sky_blue"],
    OKABE_ITO["black"],
    OKABE_ITO["yellow"],
)
#: Line styles and markers that go with SERIES_COLOURS, so series never differ by colour alone.
SERIES_LINESTYLES = ("-", "--", "-.", ":", (0, (5, 1, 1, 1)), (0, (1, 1)), "-", "--")
SERIES_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")

#: The unit or system a chart is about.
HIGHLIGHT_COLOUR = NHS_COLOURS["nhs_blue"]
#: England and other reference series.
REFERENCE_COLOUR = NHS_COLOURS["dark_grey"]
#: Context points (all other trusts on a funnel plot).
CONTEXT_COLOUR = "#A6AEB4"
#: Missing data (drawn white with grey hatching).
MISSING_COLOUR = "#FFFFFF"

#: Making Data Count point colours (meaning per NHS England MDC; hues from Okabe-Ito).
SPC_COLOURS = {
    "common_cause": "#A6A6A6",
    "special_cause_improvement": OKABE_ITO["blue"],
    "special_cause_concern": OKABE_ITO["orange"],
    "special_cause_neither": "#490092",
    "mean": "#231F20",
    "limits": "#7F7F7F",
    "target": "#C8102E",
}

#: Stamp written on every figure made from demo data.
SYNTHETIC_TEXT = "synthetic demo data"

_FOOTER_GID = "icsresearch-footer"
_BADGE_GID = "icsresearch-synthetic-badge"
_WATERMARK_GID = "icsresearch-synthetic-watermark"

#: Default figure size (inches): fits an A4 page width at readable font sizes.
FIGSIZE = (8.0, 5.0)
BASE_FONT_SIZE = 10.0
FOOTER_FONT_SIZE = 7.5


def _font_family() -> list[str]:
    """Arial (the NHS web font fallback) when installed, else DejaVu Sans, without warnings."""
    from matplotlib import font_manager

    available = {f.name for f in font_manager.fontManager.ttflist}
    wanted = [f for f in ("Arial", "Liberation Sans", "Helvetica") if f in available]
    return [*wanted, "DejaVu Sans"]


def rc_params() -> dict[str, Any]:
    """The matplotlib settings of the house style (font sizes in points)."""
    return {
        "font.family": "sans-serif",
        "font.sans-serif": _font_family(),
        "font.size": BASE_FONT_SIZE,
        "axes.titlesize": 12,
        "axes.titleweight": "bold",
        "axes.titlelocation": "left",
        "axes.labelsize": BASE_FONT_SIZE,
        "axes.labelcolor": NHS_COLOURS["black"],
        "axes.edgecolor": "#5F6B73",
        "axes.linewidth": 0.8,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": True,
        "axes.grid.axis": "y",
        "axes.axisbelow": True,
        "axes.prop_cycle": matplotlib.cycler(color=list(SERIES_COLOURS)),
        "grid.color": "#DDE2E5",
        "grid.linewidth": 0.7,
        "xtick.labelsize": 9,
        "ytick.labelsize": 9,
        "xtick.color": "#3B454C",
        "ytick.color": "#3B454C",
        "legend.fontsize": 8.5,
        "legend.frameon": False,
        "figure.dpi": 100,
        "savefig.dpi": 150,
        "savefig.facecolor": "white",
        "figure.facecolor": "white",
        "lines.linewidth": 1.8,
        "lines.markersize": 5,
    }


@contextlib.contextmanager
def house_style() -> Iterator[None]:
    """Context manager applying the house style to figures and artists created inside it.

    Examples
    --------
    >>> from icsresearch.plots.style import house_style
    >>> with house_style():
    ...     pass  # create figures here
    """
    with matplotlib.rc_context(rc_params()):
        yield


def new_figure(ax=None, figsize: tuple[float, float] | None = None):
    """A new constrained-layout figure and axes in the house style, or ``ax``'s figure.

    Returns
    -------
    tuple
        ``(fig, ax)``.
    """
    if ax is not None:
        return ax.figure, ax
    fig = Figure(figsize=figsize or FIGSIZE, layout="constrained")
    ax = fig.add_subplot()
    return fig, ax


# --- footer, provenance and the synthetic stamp ---------------------------------------------


def provenance_of(*objs: Any) -> Provenance:
    """The provenance record of what a figure draws: tables and model results, combined.

    Each object's record is read with :func:`icsresearch.provenance.of` (a table's
    ``attrs["provenance"]``, a result's ``.provenance``); several are combined (synthetic if any
    is). Nothing given, or nothing documented, is *unknown*.

    Parameters
    ----------
    objs
        The data frames and results drawn (``None`` entries are skipped).
    """
    records = [of(o) for o in objs if o is not None]
    if not records:
        return Provenance.unknown()
    return records[0] if len(records) == 1 else records[0].combine(*records[1:])


def is_synthetic(*objs: Any) -> bool:
    """Whether any of the inputs is the synthetic demo data, by its provenance record."""
    return provenance_of(*objs).synthetic is True


def source_note_renamed(source_note: str | None, source: str | None) -> str | None:
    """``source=`` is the old name of ``source_note=``: accepted for one release, with a warning.

    Parameters
    ----------
    source_note
        The value given for the new name.
    source
        The value given for the old name (``None`` when not given).
    """
    if source is None:
        return source_note
    if source_note is not None:
        raise InvalidParameterError(
            "give the footer's source once, as source_note=...; source= is its old name."
        )
    # user -> chart function -> this helper -> renamed -> warnings.warn
    return renamed("source", source, "source_note", source, stacklevel=4)


def _stamp(synthetic: bool | None, record: Provenance) -> bool:
    """Whether to stamp: the data's record decides; ``synthetic=True`` adds a stamp."""
    if synthetic is None:
        return record.synthetic is True
    check_bool("synthetic", synthetic)
    if record.synthetic is True and not synthetic:
        raise InvalidParameterError(
            "synthetic=False, but the data drawn are the synthetic demo data (their provenance "
            "says so), and every figure of demo data carries the stamp. Leave synthetic unset."
        )
    return synthetic


def source_from_attrs(df: Any) -> str | None:
    """A ``Source:`` text from a reader's table (publisher and description from the registry)."""
    attrs = getattr(df, "attrs", None) or {}
    name = attrs.get("source")
    if not name:
        return None
    try:
        from ..data.registry import get

        entry = get(name)
    except Exception:  # an unknown name still identifies the table
        return str(name)
    return f"{entry.publisher}, {entry.description} ({entry.years}; registry '{name}')"


def provenance_note(df: Any) -> str | None:
    """A short provenance note from a reader's table: file, sha256 prefix and whether verified."""
    attrs = getattr(df, "attrs", None) or {}
    sha = attrs.get("sha256")
    path = attrs.get("path")
    if not sha and not path:
        return None
    parts = []
    if path:
        parts.append(Path(str(path)).name)
    if sha:
        state = "verified" if attrs.get("verified") else "not registry-verified"
        parts.append(f"sha256 {str(sha)[:12]} ({state})")
    return " ".join(parts)


def footer_text(
    source_note: str | None,
    note: str | None = None,
    produced: _dt.date | str | None = None,
    synthetic: bool = False,
) -> str:
    """The footer line: ``Source: ... | Produced <date> | <note>``."""
    if produced is None:
        produced = _dt.date.today()
    if isinstance(produced, _dt.date):
        produced = produced.isoformat()
    src = source_note or ("icsresearch " + SYNTHETIC_TEXT if synthetic else "not stated")
    parts = [f"Source: {src}", f"Produced {produced}"]
    notes = [n for n in (note,) if n]
    if synthetic and SYNTHETIC_TEXT not in " ".join([src, *notes]).lower():
        notes.append(SYNTHETIC_TEXT + ": not real NHS figures")
    parts.extend(notes)
    return " | ".join(parts)


def add_footer(
    fig,
    source_note: str | None = None,
    *,
    note: str | None = None,
    produced: _dt.date | str | None = None,
    synthetic: bool | None = None,
    data: Any = None,
    source: str | None = None,
):
    """Write the footer on ``fig`` (replacing an earlier one) and, for demo data, the stamp.

    Parameters
    ----------
    fig
        A matplotlib Figure.
    source_note
        Who published the data, e.g. ``"NHS England, A&E Attendances and Emergency Admissions"``
        (default: what ``data``'s provenance says, ``"source unknown"`` without one).
    note
        Provenance: file, sha256, method notes...
    produced
        Date produced (default today).
    synthetic
        Stamp "synthetic demo data" visibly on the figure (footer, badge and watermark). By
        default the provenance of ``data`` decides; ``False`` for demo data is an error.
    data
        What the figure draws (a table, a model result, or a list of them): its provenance
        gives the default source and the stamp, so a figure of demo data is always stamped.
    source
        Deprecated name of ``source_note``.

    Returns
    -------
    matplotlib.text.Text
        The footer text artist.
    """
    source_note = source_note_renamed(source_note, source)
    objs = data if isinstance(data, (list, tuple)) else (data,)
    record = provenance_of(*objs)
    stamped = _stamp(synthetic, record)
    if source_note is None and data is not None:
        source_note = record.source_note
    return _draw_footer(fig, footer_text(source_note, note, produced, stamped), stamped)


def _draw_footer(fig, text: str, synthetic: bool):
    for t in list(fig.texts):
        if t.get_gid() in (_FOOTER_GID, _BADGE_GID):
            t.remove()
    width_in = fig.get_figwidth()
    badge_in = 1.6 if synthetic else 0.0
    # DejaVu Sans averages ~0.55 em per character; 0.6 leaves room for wide runs (digits, capitals)
    max_chars = max(40, int((width_in - badge_in - 0.2) * 72 / (FOOTER_FONT_SIZE * 0.6)))
    wrapped = "\n".join(textwrap.wrap(text, max_chars, break_on_hyphens=False)) or text
    n_lines = wrapped.count("\n") + 1
    footer = fig.text(
        0.01,
        0.008,
        wrapped,
        ha="left",
        va="bottom",
        fontsize=FOOTER_FONT_SIZE,
        color="#4A555C",
        gid=_FOOTER_GID,
        linespacing=1.25,
    )
    if synthetic:
        fig.text(
            0.99,
            0.008,
            SYNTHETIC_TEXT.upper(),
            ha="right",
            va="bottom",
            fontsize=FOOTER_FONT_SIZE + 0.5,
            fontweight="bold",
            color="white",
            gid=_BADGE_GID,
            bbox={"boxstyle": "round,pad=0.3", "fc": OKABE_ITO["vermillion"], "ec": "none"},
        )
        _watermark(fig)
    # Reserve room at the bottom so the footer never overlaps tick labels.
    footer_h = (n_lines * FOOTER_FONT_SIZE * 1.3 + 8) / 72 / fig.get_figheight()
    engine = fig.get_layout_engine()
    if (
        engine is not None
        and hasattr(engine, "set")
        and "constrained" in type(engine).__name__.lower()
    ):
        engine.set(rect=(0, footer_h, 1, 1 - footer_h))
    return footer


def _watermark(fig) -> None:
    """A light diagonal "synthetic demo data" across each data axes (not colour bars)."""
    for ax in fig.axes:
        if ax.get_label() == "<colorbar>" or any(t.get_gid() == _WATERMARK_GID for t in ax.texts):
            continue
        ax.text(
            0.5,
            0.5,
            SYNTHETIC_TEXT,
            transform=ax.transAxes,
            ha="center",
            va="center",
            rotation=20,
            fontsize=26,
            fontweight="bold",
            color=OKABE_ITO["vermillion"],
            alpha=0.13,
            zorder=0.5,
            gid=_WATERMARK_GID,
        ).set_in_layout(False)


def figure_text(fig) -> str:
    """All text on a figure (titles, labels, ticks, annotations, footer), one item a line.

    Useful to check that a figure carries its footer, units and the synthetic stamp.
    """
    from matplotlib.text import Text

    fig.draw_without_rendering()
    out = [t.get_text() for t in fig.findobj(Text)]
    return "\n".join(s for s in out if s)


def is_stamped(fig) -> bool:
    """Whether the figure carries the "synthetic demo data" stamp.

    Reads the text artists as they are, without laying the figure out (:func:`figure_text`
    draws the figure to include tick labels; the stamp is never a tick label, and a chart
    function asking this would otherwise pay for a full draw before it is saved).
    """
    from matplotlib.axis import Axis
    from matplotlib.text import Text

    # walks the artists as findobj would, but not into the axes' Axis objects: their ticks are
    # most of a figure's artists (0.03 s per SPC chart through findobj)
    stack = [fig]
    while stack:
        artist = stack.pop()
        if isinstance(artist, Text) and SYNTHETIC_TEXT in artist.get_text().lower():
            return True
        if not isinstance(artist, Axis):
            stack.extend(artist.get_children())
    return False


def finish_figure(
    fig,
    *,
    source_note: str | None = None,
    note: str | None = None,
    synthetic: bool | None = None,
    data: Any = None,
    produced: _dt.date | str | None = None,
    source: str | None = None,
) -> None:
    """The footer of a chart, with its source, note and stamp read from what it draws.

    Parameters
    ----------
    fig
        The figure.
    source_note
        The ``Source:`` text; by default a reader's registry entry (publisher, description,
        years), else the provenance record's note (published files, the synthetic demo data, or
        ``"source unknown"``).
    note
        Provenance or method note; by default a reader's file and sha256.
    synthetic
        Stamp the figure; by default when ``data``'s provenance is synthetic (``False`` for demo
        data is an error).
    data
        The table(s) or model result(s) drawn (one object, or a list of them).
    produced
        Date produced (default today).
    source
        Deprecated name of ``source_note``.
    """
    source_note = source_note_renamed(source_note, source)
    text, stamped = footer_parts(
        source_note=source_note, note=note, synthetic=synthetic, data=data, produced=produced
    )
    _draw_footer(fig, text, stamped)


def footer_parts(
    *,
    source_note: str | None = None,
    note: str | None = None,
    synthetic: bool | None = None,
    data: Any = None,
    produced: _dt.date | str | None = None,
) -> tuple[str, bool]:
    """The footer text :func:`finish_figure` draws and whether it stamps the figure.

    Parameters are those of :func:`finish_figure`. A chart that shares its base layer
    (:mod:`icsresearch.plots.layers`) names the base by this text, which holds the date.
    """
    objs = data if isinstance(data, (list, tuple)) else (data,)
    record = provenance_of(*objs)
    if source_note is None:
        named = [s for s in (source_from_attrs(o) for o in objs) if s]
        source_note = (
            "; ".join(named) if named else (record.source_note if data is not None else None)
        )
    if note is None:
        notes = [n for n in (provenance_note(o) for o in objs) if n]
        note = "; ".join(notes) or None
    stamped = _stamp(synthetic, record)
    return footer_text(source_note, note, produced, stamped), stamped


# --- labels and formats ---------------------------------------------------------------------


def format_financial_year(year: int) -> str:
    """``2012`` -> ``"2012/13"`` (the financial year starting 1 April ``year``).

    Parameters
    ----------
    year
        Financial-year start, a whole number.

    Examples
    --------
    >>> format_financial_year(2012)
    '2012/13'
    >>> format_financial_year(1999)
    '1999/00'
    """
    if isinstance(year, bool) or not float(year).is_integer():
        raise InvalidParameterError(
            f"financial year start must be a whole year such as 2012 (for 2012/13); got {year!r}"
        )
    y = int(year)
    return f"{y}/{(y + 1) % 100:02d}"


def axis_label(label: str | None, units: str | None) -> str:
    """``"A&E 4-hour share"`` + ``"%"`` -> ``"A&E 4-hour share (%)"``."""
    label = label or ""
    if units and f"({units})" not in label:
        return f"{label} ({units})".strip()
    return label


def column_doc(df: Any, column: str) -> tuple[str | None, str | None]:
    """``(label, unit)`` documented by a reader for ``column`` in ``df.attrs``, if any."""
    attrs = getattr(df, "attrs", None) or {}
    doc = (attrs.get("columns") or {}).get(column) or {}
    return doc.get("label") or None, doc.get("unit") or None


def text_colour_for(background) -> str:
    """Black or white, whichever contrasts more with ``background`` (WCAG relative luminance)."""
    from matplotlib.colors import to_rgb

    def lin(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (lin(c) for c in to_rgb(background))
    lum = 0.2126 * r + 0.7152 * g + 0.0722 * b
    # contrast with black = (L+0.05)/0.05, with white = 1.05/(L+0.05)
    return "black" if (lum + 0.05) / 0.05 >= 1.05 / (lum + 0.05) else "white"


def place_labels(
    ax,
    xs: Sequence[float],
    ys: Sequence[float],
    texts: Sequence[str],
    *,
    fontsize: float = 8.0,
    color: str = NHS_COLOURS["black"],
    fontweight: str = "normal",
    zorder: float = 6,
) -> list:
    """Label points without overlaps: a greedy search over offsets around each point.

    The figure's layout is run first so the data-to-pixel transform is final; label sizes are
    estimated from the character count. Labels that had to move away from their point get a
    thin leader line.

    Returns
    -------
    list of matplotlib.text.Annotation
    """
    xs = np.asarray(xs, dtype=float)
    ys = np.asarray(ys, dtype=float)
    texts = [str(t) for t in texts]
    if len(texts) == 0:
        return []
    fig = ax.figure
    final_positions(fig)
    px_per_pt = fig.dpi / 72.0
    pts = ax.transData.transform(np.column_stack([xs, ys]))
    ax_box = ax.get_window_extent()
    # every labelled point is an obstacle, so labels do not cover other points
    r = 3.5 * px_per_pt
    placed: list[tuple[float, float, float, float]] = [
        (px - r, py - r, px + r, py + r) for px, py in pts
    ]
    candidates = []
    for radius in (5, 12, 20, 30):
        candidates += [
            (radius, radius * 0.4, "left", "bottom"),
            (radius, -radius * 0.4, "left", "top"),
            (-radius, radius * 0.4, "right", "bottom"),
            (-radius, -radius * 0.4, "right", "top"),
            (0, radius, "center", "bottom"),
            (0, -radius, "center", "top"),
        ]
    out = []
    order = np.argsort(-pts[:, 1])  # top to bottom
    for i in order:
        px, py = pts[i]
        text = str(texts[i])
        w = 0.6 * fontsize * len(text) * px_per_pt + 2
        h = 1.25 * fontsize * px_per_pt
        best = None
        for dx, dy, ha, va in candidates:
            ox, oy = px + dx * px_per_pt, py + dy * px_per_pt
            x0 = ox if ha == "left" else ox - w if ha == "right" else ox - w / 2
            y0 = oy if va == "bottom" else oy - h
            box = (x0, y0, x0 + w, y0 + h)
            inside = (
                box[0] >= ax_box.x0
                and box[2] <= ax_box.x1
                and box[1] >= ax_box.y0
                and box[3] <= ax_box.y1
            )
            clash = any(_overlap(box, p) for p in placed)
            if inside and not clash:
                best = (dx, dy, ha, va, box)
                break
        if best is None:  # nowhere free: the nearest position, may overlap
            dx, dy, ha, va = candidates[0]
            best = (dx, dy, ha, va, None)
        dx, dy, ha, va, box = best
        if box is not None:
            placed.append(box)
        far = math.hypot(dx, dy) > 14
        ann = ax.annotate(
            text,
            (xs[i], ys[i]),
            xytext=(dx, dy),
            textcoords="offset points",
            ha=ha,
            va=va,
            fontsize=fontsize,
            color=color,
            fontweight=fontweight,
            arrowprops={
                "arrowstyle": "-",
                "color": "#6B767D",
                "lw": 0.6,
                "shrinkA": 0,
                "shrinkB": 3,
            }
            if far
            else None,
            zorder=zorder,
        )
        ann.set_in_layout(False)
        out.append(ann)
    return out


def final_positions(fig) -> None:
    """Put every axes of ``fig`` where it will be drawn, without drawing anything.

    Runs the figure's layout engine (constrained layout) and settles each axes' limits and
    aspect, so ``transData`` maps data to the pixels a save will use. A full draw (what
    ``draw_without_rendering`` does) would also render every text and line once more.
    """
    engine = fig.get_layout_engine()
    if engine is not None and hasattr(engine, "execute"):
        engine.execute(fig)
    for ax in fig.axes:
        ax.get_xlim()  # applies pending autoscaling
        ax.apply_aspect()


def outside_legend(ax, **kwargs):
    """A legend to the right of the axes, so it never covers data."""
    kwargs.setdefault("loc", "upper left")
    kwargs.setdefault("bbox_to_anchor", (1.01, 1.0))
    kwargs.setdefault("fontsize", 8.5)
    kwargs.setdefault("borderaxespad", 0.0)
    return ax.legend(**kwargs)


def _overlap(a, b) -> bool:
    return not (a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1])


# --- results --------------------------------------------------------------------------------


@dataclass
class PlotResult:
    """A chart and the data behind it.

    Attributes
    ----------
    fig
        The matplotlib Figure.
    data
        The main table behind the chart (one row per point, unit, tile or term).
    summary
        Scalars and labels: targets, limits, over-dispersion estimates, SPC variation and
        assurance labels, warnings...
    tables
        Further tables behind the chart (e.g. the funnel's control-limit curves).
    kind
        Which chart made it (``"funnel"``, ``"spc"``, ``"tile_map"``...).
    """

    fig: Figure
    data: pd.DataFrame
    summary: dict[str, Any] = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    kind: str = ""

    @property
    def ax(self):
        """The main axes."""
        return self.fig.axes[0]

    def save(self, path: str | Path, *, dpi: int = 150, formats: Sequence[str] = ("png",)):
        """Save the figure and its data: ``<path>.png``, ``<path>.csv``, ``<path>.json``...

        Parameters
        ----------
        path
            Output path without (or with) a suffix; folders are created.
        dpi
            Resolution of raster formats.
        formats
            Figure formats, e.g. ``("png", "svg")``.

        Returns
        -------
        dict
            ``{"png": Path, "csv": Path, "json": Path, "<table>": Path, ...}``.
        """
        path = Path(path)
        stem = path.with_suffix("") if path.suffix.lower() in {".png", ".svg", ".pdf"} else path
        stem.parent.mkdir(parents=True, exist_ok=True)
        written: dict[str, Path] = {}
        for fmt in formats:
            out = stem.with_name(stem.name + f".{fmt}")
            self._write_figure(out, fmt, dpi)
            written[fmt] = out
        csv = stem.with_name(stem.name + ".csv")
        self.data.to_csv(csv, index=False)
        written["csv"] = csv
        js = stem.with_name(stem.name + ".json")
        js.write_text(json.dumps(self.summary, indent=2, default=_json_default) + "\n")
        written["json"] = js
        for name, table in self.tables.items():
            p = stem.with_name(f"{stem.name}_{name}.csv")
            table.to_csv(p, index=False)
            written[name] = p
        return written

    def close(self) -> None:
        """Release the figure's memory (matters in loops over many systems)."""
        _release(self.fig)

    def size_inches(self) -> tuple[float, float]:
        """The figure's width and height in inches."""
        w, h = self.fig.get_size_inches()
        return float(w), float(h)

    def png(self, dpi: float = 100) -> bytes:
        """The chart as PNG bytes at ``dpi`` (:func:`encode_png` of the rendered pixels)."""
        from ._agg import rendering

        buf = io.BytesIO()
        with rendering(self.fig):  # Agg, with the text layout's font look-ups cached
            self.fig.savefig(buf, format="rgba", dpi=dpi)
        raw = buf.getvalue()
        width = int(self.fig.get_figwidth() * dpi)  # as the Agg renderer sizes its canvas
        height = len(raw) // (4 * width)
        pixels = np.frombuffer(raw, dtype=np.uint8).reshape(height, width, 4)
        return encode_png(pixels, dpi)

    def _write_figure(self, path: Path, fmt: str, dpi: float) -> None:
        if fmt == "png":
            path.write_bytes(self.png(dpi))
        else:
            self.fig.savefig(path, dpi=dpi)

    def _repr_png_(self) -> bytes:
        return self.png(100)


def encode_png(pixels: np.ndarray, dpi: float) -> bytes:
    """PNG bytes of an ``(height, width, 4)`` RGBA image as the charts write it.

    An opaque image (every chart: the figure background is white) is written as RGB. The rows
    are stored unfiltered (PNG filter type 0) and deflated by zlib at level 1. Written here
    rather than by Pillow because Pillow's encoder always chooses a filter per row, which costs
    more than the compression itself: on a demo report's six-panel trend grid Pillow at level 1
    took 40 ms for 247 kB, this 15 ms for 207 kB (charts are mostly runs of identical pixels,
    which deflate finds without filtering). Pillow (and every browser) reads the files back;
    tests/test_plots_style.py decodes them with Pillow and compares every pixel.
    """
    import struct
    import zlib

    if pixels.ndim != 3 or pixels.shape[2] != 4 or pixels.dtype != np.uint8:
        raise InvalidParameterError(
            f"encode_png: expected a (height, width, 4) uint8 RGBA image, got {pixels.dtype} "
            f"{pixels.shape}"
        )
    height, width = pixels.shape[:2]
    opaque = bool((pixels[..., 3] == 255).all())
    channels = 3 if opaque else 4
    rows = np.zeros((height, 1 + width * channels), dtype=np.uint8)  # column 0: filter type 0
    rows[:, 1:] = (pixels[..., :3] if opaque else pixels).reshape(height, width * channels)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    per_metre = int(dpi / 0.0254 + 0.5)  # as Pillow writes a dpi
    software = f"icsresearch with Matplotlib {matplotlib.__version__}"
    return b"".join(
        (
            b"\x89PNG\r\n\x1a\n",
            # width, height, bit depth 8, colour type 2 (RGB) or 6 (RGBA), deflate, no
            # filter method choice, no interlace
            chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2 if opaque else 6, 0, 0, 0)),
            chunk(b"pHYs", struct.pack(">IIB", per_metre, per_metre, 1)),
            chunk(b"tEXt", b"Software\x00" + software.encode("latin-1")),
            chunk(b"IDAT", zlib.compress(rows.tobytes(), 1)),
            chunk(b"IEND", b""),
        )
    )


class LayeredPlotResult(PlotResult):
    """A chart drawn as a shared base plus its own highlight (:mod:`icsresearch.plots.layers`).

    The same as :class:`PlotResult` to its user: ``fig`` is a complete figure of its own, built
    the first time it is asked for. Until then, :meth:`png` (and so :meth:`save` and the
    notebook display) draws only the highlight over the base pixels shared by every chart with
    the same base.
    """

    def __init__(
        self,
        layers,
        data: pd.DataFrame,
        summary: dict[str, Any] | None = None,
        tables: dict[str, pd.DataFrame] | None = None,
        kind: str = "",
        size: tuple[float, float] = (8.0, 5.0),
    ):
        self.layers = layers
        self.data = data
        self.summary = summary if summary is not None else {}
        self.tables = tables if tables is not None else {}
        self.kind = kind
        self._size = (float(size[0]), float(size[1]))
        self._fig: Figure | None = None

    @property
    def fig(self) -> Figure:
        """The whole chart as a figure of its own (built on first use)."""
        if self._fig is None:
            from . import layers

            self._fig = layers.full_figure(self.layers)
        return self._fig

    def size_inches(self) -> tuple[float, float]:
        """The figure's width and height in inches (without building the figure)."""
        return self._size

    def png(self, dpi: float = 100) -> bytes:
        """The chart as PNG bytes: the shared base plus the highlight, until ``fig`` is used."""
        if self._fig is not None:
            return super().png(dpi)
        from . import layers

        return layers.render_png(self.layers, dpi)

    def close(self) -> None:
        """Release the figure's memory (nothing to release when only the PNG was drawn)."""
        if self._fig is not None:
            _release(self._fig)

    def __repr__(self) -> str:
        return f"LayeredPlotResult(kind={self.kind!r}, data={len(self.data)} rows)"


def _release(fig) -> None:
    """Empty ``fig`` for the garbage collector.

    The axes are detached before ``Figure.clear``, which would otherwise reset each one (new
    ticks, spines and patches) only to drop it: 0.03 s per trend grid for nothing.
    """
    for ax in list(fig.axes):
        fig.delaxes(ax)
    fig.clear()


def _json_default(obj: Any):
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, (pd.Timestamp, _dt.date)):
        return obj.isoformat()
    if isinstance(obj, pd.DataFrame):
        return obj.to_dict("records")
    return str(obj)


# --- validation helpers shared by the chart modules -----------------------------------------


def require_columns(df: Any, columns: Sequence[str], what: str) -> pd.DataFrame:
    """``df`` as a DataFrame holding ``columns``, or an error naming what is missing."""
    if not isinstance(df, pd.DataFrame):
        raise InvalidParameterError(f"{what}: expected a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise InvalidParameterError(
            f"{what}: column(s) {missing} not found; the table has {list(df.columns)}. "
            "Pass the right column names (e.g. numerator=..., denominator=...)."
        )
    return df


def numeric_column(df: pd.DataFrame, column: str, what: str) -> np.ndarray:
    """A column as float, or an error naming the first values that are not numbers."""
    s = df[column]
    out = pd.to_numeric(s, errors="coerce")
    bad = out.isna() & s.notna()
    if bad.any():
        examples = s[bad].astype(str).unique()[:3].tolist()
        raise InvalidParameterError(
            f"{what}: column {column!r} holds values that are not numbers, e.g. {examples}. "
            "Convert or drop them first (suppressed cells such as '*' should stay missing)."
        )
    return out.to_numpy(dtype=float, na_value=np.nan)
