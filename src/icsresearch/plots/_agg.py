"""The canvas the charts are rendered on: Matplotlib's Agg canvas, with font height metrics cached.

Why: Matplotlib 3.11 lays out every text it measures or draws (each tick label, each of the two
draw passes of a constrained-layout figure) by finding the font file of its properties and reading
two of the font's tables again: about a sixth of the time of rendering a report's trend grid
(0.40 -> 0.34 s per render, measured on a demo system's six-panel grid). ``Text._get_layout`` asks
the renderer first, through ``_get_font_height_metrics`` (a hook Matplotlib added for its PDF/PS
backends); this canvas's renderer answers it from a cache, with the values computed by the very
code path Matplotlib uses (the same font tables, the same arithmetic), so the pixels are
identical: ``tests/test_plots_style.py`` renders charts on both canvases and compares them bit
for bit.

This module is the one place that relies on that part of Matplotlib's internals. If a later
Matplotlib stops asking the hook, the cache is simply never used (the speed is lost, nothing
else); :data:`HOOK_USED` says whether this Matplotlib asks it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.font_manager import fontManager, get_font
from matplotlib.text import Text

#: Whether this Matplotlib's text layout asks the renderer for font height metrics.
HOOK_USED = "_get_font_height_metrics" in Text._get_layout.__code__.co_names

#: The rcParams that decide which font file a FontProperties resolves to.
_FONT_SETTINGS = tuple(
    k
    for k in (
        "font.family",
        "font.serif",
        "font.sans-serif",
        "font.monospace",
        "font.cursive",
        "font.fantasy",
        "font.fallback_to_default",
    )
    if k in matplotlib.rcParams
)

#: (font settings, dpi) -> {font properties hash: (ascent, descent, line gap)}
_CACHES: dict[tuple, dict[int, tuple]] = {}


def _settings() -> tuple:
    """What decides the font file of a FontProperties: the font rcParams and the known fonts."""
    rc = matplotlib.rcParams
    values = tuple(tuple(v) if isinstance(v, list) else v for v in (rc[k] for k in _FONT_SETTINGS))
    return (*values, id(fontManager), len(fontManager.ttflist))


def _height_metrics(prop, dpi: float) -> tuple:
    """As ``Text._get_layout`` computes them from the font's OS/2 or hhea table."""
    font = get_font(fontManager._find_fonts_by_props(prop))
    possible = [
        ("OS/2", "sTypoLineGap", "sTypoAscender", "sTypoDescender"),
        ("hhea", "lineGap", "ascent", "descent"),
    ]
    for table_name, linegap_key, ascent_key, descent_key in possible:
        table = font.get_sfnt_table(table_name)
        if table is None:
            continue
        fontsize = prop.get_size_in_points()
        units_per_em = font.get_sfnt_table("head")["unitsPerEm"]
        scale = 1 / units_per_em * fontsize * dpi / 72
        return table[ascent_key] * scale, -table[descent_key] * scale, table[linegap_key] * scale
    return None, None, None  # Matplotlib then measures "lp", as without the hook


class _CachedMetrics:
    """The renderer's ``_get_font_height_metrics``: one font look-up per properties and dpi."""

    __slots__ = ("cache", "dpi")

    def __init__(self, dpi: float):
        self.dpi = dpi
        # the font settings are read once per draw (get_renderer), not once per text
        self.cache = _CACHES.setdefault((_settings(), dpi), {})

    def __call__(self, prop) -> tuple:
        key = hash(prop)
        hit = self.cache.get(key)
        if hit is None:
            hit = self.cache[key] = _height_metrics(prop, self.dpi)
        return hit


class CachedFontCanvas(FigureCanvasAgg):
    """Matplotlib's Agg canvas whose renderer answers font height metrics from a cache."""

    def get_renderer(self):
        """The Agg renderer (reused while size and dpi stay), with the cached metrics hook."""
        renderer = super().get_renderer()
        if HOOK_USED:
            renderer._get_font_height_metrics = _CachedMetrics(renderer.dpi)
        return renderer


@contextlib.contextmanager
def rendering(fig) -> Iterator[None]:
    """Render ``fig`` on a :class:`CachedFontCanvas` inside the block, then give back its canvas.

    ``fig.savefig(..., format="png"/"rgba")`` inside the block uses the cached canvas (savefig
    keeps a canvas that supports the format); the figure's own canvas (pyplot's, a widget's)
    is restored afterwards, so an interactive figure stays interactive.
    """
    original = fig.canvas
    # a new canvas resets the figure's base dpi, which a hi-dpi screen canvas scales from
    original_dpi = getattr(fig, "_original_dpi", None)
    CachedFontCanvas(fig)
    try:
        yield
    finally:
        fig.set_canvas(original)
        if original_dpi is not None:
            fig._original_dpi = original_dpi
