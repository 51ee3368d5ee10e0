"""Econometric models: linear panel regressions (:mod:`.panel`), fixed-effect GLMs (:mod:`.glm`)
and the shared :class:`~icsresearch.models.results.RegressionResult`.

Everything loads on first use, so ``import icsresearch.models`` stays cheap::

    from icsresearch.models import fit          # linear panel models (plm parity)
    res = fit(df, "shmi ~ managers_fte", entity="trust_code", time="year",
              model="within", effects="twoways", cov_type="clustered", cluster="trust_code")
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# name -> (submodule, attribute or None for the submodule itself)
_LAZY: dict[str, tuple[str, str | None]] = {
    "fit": (".panel.model", "fit"),
    "PanelResult": (".panel.model", "PanelResult"),
    "RegressionResult": (".results", "RegressionResult"),
    "panel": (".panel", None),
    "glm": (".glm", None),
    "results": (".results", None),
}

__all__ = sorted(_LAZY)

if TYPE_CHECKING:  # pragma: no cover
    from . import glm, panel, results  # noqa: F401
    from .panel.model import PanelResult, fit  # noqa: F401
    from .results import RegressionResult  # noqa: F401


def __getattr__(name: str) -> Any:
    try:
        module, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'icsresearch.models' has no attribute {name!r}") from None
    mod = importlib.import_module(module, __name__)
    return mod if attr is None else getattr(mod, attr)


def __dir__() -> list[str]:
    return __all__
