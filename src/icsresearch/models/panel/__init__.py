"""Linear panel regression with R plm parity: pooled, between, within, random, first differences
and lagged-outcome models; conventional, robust, clustered (plm or Stata conventions), CR2 with
Satterthwaite degrees of freedom and the HTZ Wald test (R clubSandwich), CR3 and Driscoll-Kraay
inference (``vcov="iid"``, ``"hetero"``, ``"CRV1"``, ``"CR2"``, ``"CRV3"``, ``"DK"``: the words
every estimator of :mod:`icsresearch.models` uses); wild cluster bootstrap; Breusch-Pagan,
Hausman and F specification tests.

>>> from icsresearch.models.panel import fit
>>> res = fit(df, "shmi ~ managers_fte", entity="trust_code", time="year",
...           model="within", effects="twoways", vcov="CRV1", cluster="trust_code")

Submodules: :mod:`.model` (estimators, :func:`fit`), :mod:`.covariance` (inference and the two
small-sample conventions), :mod:`.cr2` (bias-reduced linearization, Satterthwaite df, HTZ),
:mod:`.tests` (specification tests), :mod:`.bootstrap` (wild cluster
bootstrap), :mod:`.design` (data checks, lags and differences), :mod:`.transform` (demeaning),
:mod:`.linalg` (least squares and sums over rows without BLAS threads).
"""

from __future__ import annotations

from .bootstrap import WildBootstrapResult, wild_cluster_bootstrap
from .cr2 import HTZResult
from .model import PanelResult, fit
from .tests import SpecTestResult, breusch_pagan, f_test_effects, hausman

__all__ = [
    "HTZResult",
    "PanelResult",
    "SpecTestResult",
    "WildBootstrapResult",
    "breusch_pagan",
    "f_test_effects",
    "fit",
    "hausman",
    "wild_cluster_bootstrap",
]
