"""NHS-style charts: funnel plots, SPC (Making Data Count), ICS maps, trends and coefficient plots.

Every plotting function draws in one accessible house style (:mod:`.style`), writes a footer
("Source: ... | Produced <date> | <provenance>") on the figure, stamps figures made from demo data
with "synthetic demo data", and returns a :class:`~icsresearch.plots.style.PlotResult` holding
the matplotlib ``Figure`` **and** the data behind it (``.fig``, ``.data``, ``.summary``,
``.tables``), so a report can save both (``result.save("out/funnel")``).

The footer's source (``source_note=``; ``source=`` is its deprecated name) and the stamp come from
the provenance record of what is drawn (:func:`icsresearch.provenance.of`: a table's, or a model
result's, which is that of the data it was fitted on): a figure of demo data, directly or through
a model, is always stamped, and data without a record say "source unknown", never an NHS source.

Submodules are imported on first use: ``import icsresearch.plots`` is cheap, and matplotlib is
imported only when a chart function (or :mod:`.style`) is used.

=====================  ===========================================================
Function               What it draws
=====================  ===========================================================
``funnel_plot``        funnel plot for proportions or ratios (O/E, rates), with
                       exact or normal limits and optional over-dispersion
``funnel_data``        the same numbers without drawing
``spc_chart``          XmR chart with Making Data Count rules, icons as text
``spc_analysis``       the same numbers without drawing
``tile_map``           one tile per ICS (42 in 2022, 36 from April 2026)
``tile_layout``        the committed tile layout table
``choropleth``         ICB boundary polygons coloured by an indicator
``trend_plot``         series by financial year ("2012/13"), gaps shown as gaps
``ics_vs_england``     an ICS's series against England (and its region)
``coef_plot``          estimates and CIs from one or several models, dodged
``spec_curve``         a specification curve: estimates across a multiverse of choices
=====================  ===========================================================
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

_EXPORTS = {
    "funnel_plot": "funnel",
    "funnel_data": "funnel",
    "FunnelAnalysis": "funnel",
    "spc_chart": "spc",
    "spc_analysis": "spc",
    "SPCAnalysis": "spc",
    "tile_map": "maps",
    "tile_layout": "maps",
    "choropleth": "maps",
    "trend_plot": "trends",
    "ics_vs_england": "trends",
    "coef_plot": "coefplot",
    "event_time_plot": "event_time",
    "spec_curve": "speccurve",
    "PlotResult": "style",
    "add_footer": "style",
    "house_style": "style",
    "format_financial_year": "style",
}
_SUBMODULES = {"style", "funnel", "spc", "maps", "trends", "coefplot", "event_time", "speccurve"}

__all__ = sorted(set(_EXPORTS) | _SUBMODULES)

if TYPE_CHECKING:  # pragma: no cover
    from .coefplot import coef_plot  # noqa: F401
    from .event_time import event_time_plot  # noqa: F401
    from .funnel import FunnelAnalysis, funnel_data, funnel_plot  # noqa: F401
    from .maps import choropleth, tile_layout, tile_map  # noqa: F401
    from .spc import SPCAnalysis, spc_analysis, spc_chart  # noqa: F401
    from .speccurve import spec_curve  # noqa: F401
    from .style import PlotResult, add_footer, format_financial_year, house_style  # noqa: F401
    from .trends import ics_vs_england, trend_plot  # noqa: F401


def __getattr__(name: str):
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    if name in _EXPORTS:
        module = importlib.import_module(f"{__name__}.{_EXPORTS[name]}")
        return getattr(module, name)
    raise AttributeError(f"module 'icsresearch.plots' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
