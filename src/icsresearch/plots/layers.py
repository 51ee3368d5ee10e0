"""Shared figure layers: draw what many charts have in common once, then only each highlight.

A report batch draws the same funnel of every trust in England, the same scatter of trusts and
the same map of every system for each of 42 systems; only the highlighted units differ. A chart
that can share its drawing describes itself as a :class:`Layers`: a *base* (everything but the
highlight, built by ``build_base``) named by a digest of everything it depends on, and a
*highlight* (``add_highlight``) drawn on top. The base is laid out and rendered once per
process and its pixels kept (:func:`render_png`); each chart after that restores those pixels
and draws only its highlight artists (matplotlib's blitting), then writes the PNG with the
encoder every chart uses (:func:`icsresearch.plots.style.encode_png`).

Why the pixels are the same as drawing the whole figure: the highlight artists take no part in
the layout (``set_in_layout(False)``) and are drawn after every base artist, as their z-order
is above the base's (checked: a highlight artist below a base artist is an error), so the full
draw paints the same base pixels and then the same highlight on top. The test
``tests/test_plots_layers.py`` compares both paths pixel by pixel for every shared chart.

The figure a user gets (``result.fig``) is still a complete figure of its own, built the first
time it is asked for; once a user has it, saving and displaying draw that figure, so nothing a
user adds to it is lost. Its layout is fixed as laid out (as in the shared pixels); a user who
adds a colour bar or resizes it calls ``fig.set_layout_engine("constrained")`` first. Set ``ICSRESEARCH_SHARED_LAYERS=0`` to draw every chart in full.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

#: Z-order of every highlight artist (points, labels, outlines): above every artist of a base
#: layer, as :func:`render_png` draws the highlight after the base.
HIGHLIGHT_ZORDER = 10

#: How many bases one process keeps (a report has about 7 shareable charts; a batch worker
#: draws one report at a time).
MAX_BASES = 24

_BASES: OrderedDict[tuple[str, float], _Base] = OrderedDict()
_LOCK = threading.Lock()


def enabled() -> bool:
    """Whether charts share their base layers (``ICSRESEARCH_SHARED_LAYERS=0`` turns it off)."""
    return os.environ.get("ICSRESEARCH_SHARED_LAYERS", "1").strip() not in ("0", "false", "no")


@dataclass(frozen=True)
class Layers:
    """A chart as a shared base and its own highlight.

    Attributes
    ----------
    key
        Digest of everything the base depends on (data, options, style, the date in the
        footer): two charts with the same key have the same base pixels.
    build_base
        Draws the base into a new figure and returns it (house style applied inside).
    add_highlight
        Adds the highlight's artists to a figure holding the base and returns them; called on
        a laid-out figure, so label placement can read the final positions.
    """

    key: str
    build_base: Callable[[], Any]
    add_highlight: Callable[[Any], list]


def layered_result(
    key: str,
    draw_base: Callable[[Any], None],
    draw_highlight: Callable[[Any], list],
    data,
    summary: dict[str, Any],
    *,
    kind: str,
    size: tuple[float, float],
    tables: dict | None = None,
):
    """A chart whose base is ``draw_base(ax)`` on a new house-style figure of ``size`` inches
    and whose highlight is ``draw_highlight(ax)`` (returning its artists) on the same axes.

    Returns
    -------
    LayeredPlotResult
    """
    from . import style

    def build_base():
        with style.house_style():
            fig, ax = style.new_figure(figsize=size)
            draw_base(ax)
        return fig

    def add_highlight(fig) -> list:
        with style.house_style():
            return draw_highlight(fig.axes[0])

    return style.LayeredPlotResult(
        Layers(key, build_base, add_highlight), data, summary, tables, kind=kind, size=size
    )


def _settle(fig) -> None:
    """Lay the base out for good: run the layout once, then fix it and every "best" legend.

    The highlight takes no part in the layout, so it is never run again; a legend placed at
    ``loc="best"`` would otherwise move away from the highlight's points in a full draw but
    not in the shared pixels.
    """
    fig.draw_without_rendering()
    fig.set_layout_engine("none")
    for ax in fig.axes:
        legend = ax.get_legend()
        if legend is not None and legend._loc == 0:  # "best", resolved by the draw above
            box = legend._legend_box.get_window_extent()
            legend.set_loc(tuple(ax.transAxes.inverted().transform((box.x0, box.y0))))


class _Base:
    """A laid-out, rendered base figure and its pixels."""

    def __init__(self, fig, dpi: float):
        from ._agg import CachedFontCanvas

        fig.set_dpi(dpi)
        self.fig = fig
        self.dpi = dpi
        self.canvas = CachedFontCanvas(fig)
        _settle(fig)
        self.canvas.draw()
        self.top_zorder = max((a.get_zorder() for a in _drawn_artists(fig)), default=0.0)
        self.background = self.canvas.copy_from_bbox(fig.bbox)
        self.lock = threading.Lock()


def _drawn_artists(fig) -> list:
    out = []
    for ax in fig.axes:
        out += [a for a in ax.get_children() if a.get_visible()]
    return out


def _base(layers: Layers, dpi: float) -> _Base:
    key = (layers.key, float(dpi))
    with _LOCK:
        found = _BASES.get(key)
        if found is not None:
            _BASES.move_to_end(key)
            return found
    built = _Base(layers.build_base(), dpi)  # outside the lock: other charts need not wait
    with _LOCK:
        found = _BASES.setdefault(key, built)
        _BASES.move_to_end(key)
        while len(_BASES) > MAX_BASES:
            _BASES.popitem(last=False)
    return found


def digest(*parts: Any) -> str:
    """A sha256 naming a base: tables by their values, everything else by its ``repr``.

    The house style and matplotlib's version are always part of it, so a base drawn under
    other settings is never reused.
    """
    import hashlib

    import matplotlib as mpl
    import pandas as pd

    from .style import rc_params

    h = hashlib.sha256()
    for part in (mpl.__version__, sorted(rc_params().items()), *parts):
        if isinstance(part, pd.DataFrame | pd.Series):
            h.update(
                repr(list(part.columns) if isinstance(part, pd.DataFrame) else part.name).encode()
            )
            h.update(pd.util.hash_pandas_object(part, index=True).to_numpy().tobytes())
        elif isinstance(part, np.ndarray):
            h.update(repr((part.dtype, part.shape)).encode())
            h.update(np.ascontiguousarray(part).tobytes())
        else:
            h.update(repr(part).encode())
        h.update(b"\x00")
    return h.hexdigest()


def clear() -> None:
    """Forget every kept base (tests; a report kernel's reset keeps them: they hold no state
    of a report, only pixels named by their inputs' digest)."""
    with _LOCK:
        _BASES.clear()


def full_figure(layers: Layers):
    """The whole chart as one figure of its own: the base, laid out, then the highlight."""
    fig = layers.build_base()
    _settle(fig)
    for artist in layers.add_highlight(fig):
        artist.set_in_layout(False)
    return fig


def render_png(layers: Layers, dpi: float) -> bytes:
    """The chart's PNG from the shared base pixels plus its highlight, drawn now.

    Parameters
    ----------
    layers
        The chart.
    dpi
        Resolution; a base is kept per resolution.
    """
    base = _base(layers, dpi)
    with base.lock:
        base.canvas.restore_region(base.background)
        artists = layers.add_highlight(base.fig)
        try:
            for artist in artists:
                artist.set_in_layout(False)
                if artist.get_zorder() <= base.top_zorder:
                    raise RuntimeError(
                        f"highlight artist {artist!r} has z-order {artist.get_zorder()}, not above "
                        f"the base's {base.top_zorder}: drawing it last would not match a full draw"
                    )
            renderer = base.canvas.get_renderer()
            for artist in sorted(artists, key=lambda a: a.get_zorder()):
                artist.draw(renderer)
            pixels = np.asarray(base.canvas.buffer_rgba()).copy()
        finally:
            for artist in artists:
                artist.remove()
    from .style import encode_png

    return encode_png(pixels, dpi)
