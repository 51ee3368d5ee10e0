"""Econometric models: linear panel regressions (:mod:`.panel`), fixed-effect GLMs (:mod:`.glm`),
high-dimensional fixed effects and IV (:mod:`.hdfe`), difference-in-differences and event studies
(:mod:`.did`), staggered adoption without a never-treated group (Callaway-Sant'Anna, the
imputation estimator: :mod:`.staggered`) and Rambachan-Roth sensitivity (:mod:`.sensitivity`),
random-intercept mixed models (:mod:`.mixed`), few-cluster inference (wild and
score bootstraps, randomization inference, cluster diagnostics, the inference audit:
:mod:`.inference`), regression tables (:mod:`.tables`)
and the shared :class:`~icsresearch.models.results.RegressionResult`. What they share -- input
checks, the one formula parser, the inference options (``vcov``, ``cluster``, ``convention``,
``small_sample``, ``alpha``: the words of :mod:`icsresearch.options`), the model specification
(``result.spec``) and the result's provenance -- is in :mod:`.core`; every call into pyfixest's
internals is in :mod:`._pyfixest`. See ``docs/models.md`` and ``docs/inference.md``.

Everything loads on first use, so ``import icsresearch.models`` stays cheap::

    from icsresearch.models import fit          # linear panel models (plm parity)
    res = fit(df, "shmi ~ managers_fte", entity="trust_code", time="year",
              model="within", effects="twoways", vcov="CRV1", cluster="trust_code")
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
    "fit_glm": (".glm", "fit_glm"),
    "results": (".results", None),
    "fit_hdfe": (".hdfe", "fit_hdfe"),
    "from_pyfixest": (".hdfe", "from_pyfixest"),
    "did_2x2": (".did", "did_2x2"),
    "event_study": (".did", "event_study"),
    "EventStudyResult": (".did", "EventStudyResult"),
    "fit_mixed": (".mixed", "fit_mixed"),
    "regression_table": (".tables", "regression_table"),
    "RegressionTable": (".tables", "RegressionTable"),
    "hdfe": (".hdfe", None),
    "did": (".did", None),
    "mixed": (".mixed", None),
    "tables": (".tables", None),
    "core": (".core", None),
    "ModelSpec": (".core", "ModelSpec"),
    "inference": (".inference", None),
    "inference_audit": (".inference.audit", "inference_audit"),
    "randomization_inference": (".inference.randomization", "randomization_inference"),
    "cluster_diagnostics": (".inference.diagnostics", "cluster_diagnostics"),
    "callaway_santanna": (".staggered", "callaway_santanna"),
    "imputation_did": (".staggered", "imputation_did"),
    "EventTimeResult": (".staggered", "EventTimeResult"),
    "staggered": (".staggered", None),
    "honest_did": (".sensitivity", "honest_did"),
    "SensitivityResult": (".sensitivity", "SensitivityResult"),
    "sensitivity": (".sensitivity", None),
}

__all__ = sorted(_LAZY)

if TYPE_CHECKING:  # pragma: no cover
    from . import (  # noqa: F401  # noqa: F401
        core,
        did,
        glm,
        hdfe,
        inference,
        mixed,
        panel,
        results,
        sensitivity,
        staggered,
        tables,
    )
    from .core import ModelSpec  # noqa: F401
    from .did import EventStudyResult, did_2x2, event_study  # noqa: F401
    from .glm import fit_glm  # noqa: F401
    from .hdfe import fit_hdfe, from_pyfixest  # noqa: F401
    from .inference.audit import inference_audit  # noqa: F401
    from .inference.diagnostics import cluster_diagnostics  # noqa: F401
    from .inference.randomization import randomization_inference  # noqa: F401
    from .mixed import fit_mixed  # noqa: F401
    from .panel.model import PanelResult, fit  # noqa: F401
    from .results import RegressionResult  # noqa: F401
    from .sensitivity import SensitivityResult, honest_did  # noqa: F401
    from .staggered import EventTimeResult, callaway_santanna, imputation_did  # noqa: F401
    from .tables import RegressionTable, regression_table  # noqa: F401


def __getattr__(name: str) -> Any:
    try:
        module, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'icsresearch.models' has no attribute {name!r}") from None
    mod = importlib.import_module(module, __name__)
    return mod if attr is None else getattr(mod, attr)


def __dir__() -> list[str]:
    return __all__
