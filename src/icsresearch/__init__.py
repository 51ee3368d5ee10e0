"""icsresearch: a research workbench for England's Integrated Care Systems and NHS trusts.

Submodules load on first use so that ``import icsresearch`` stays fast (every report kernel pays
it): ``icsresearch.sources`` (readers), ``icsresearch.data`` (registry and fetching), and the
analysis modules added alongside them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__version__ = "0.1.0"

_SUBMODULES = {
    "config",
    "data",
    "errors",
    "geography",
    "models",
    "panel",
    "plots",
    "provenance",
    "replications",
    "sources",
}

__all__ = sorted(_SUBMODULES | {"__version__"})

if TYPE_CHECKING:  # pragma: no cover
    from . import config, data, errors, sources  # noqa: F401


def __getattr__(name: str):
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'icsresearch' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
