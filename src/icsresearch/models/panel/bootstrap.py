r"""Wild cluster restricted (WCR) bootstrap for one coefficient: p-value and confidence interval.

A thin wrapper: the engine is :mod:`icsresearch.models.inference.wild` (one- and two-way
clustering, WCR and WCU, joint tests, every linear estimator); this module keeps the original
entry point for :func:`icsresearch.models.fit` results, with the same numbers.

With few clusters (42 ICSs, or a few dozen trusts in a region) cluster-robust t-tests over-reject.
The WCR bootstrap (Cameron, Gelbach & Miller 2008; MacKinnon & Webb 2017; Roodman et al. 2019,
Stata's ``boottest``, R's ``fwildclusterboot``) is the standard remedy:

1. estimate the model with the null imposed, :math:`\beta_k = r`, giving restricted residuals
   :math:`\tilde u`;
2. for each replication ``b`` draw one weight :math:`v_g` per cluster (Rademacher :math:`\pm 1`, or
   Webb's six-point :math:`\pm\sqrt{1/2}, \pm 1, \pm\sqrt{3/2}`, better with fewer than about 12
   clusters) and build :math:`y^* = X\tilde\beta + \tilde u \cdot v_{g(i)}`;
3. re-estimate and compute the cluster-robust t-statistic :math:`t^*_b` for :math:`\beta_k = r`;
4. the symmetric p-value is the share of :math:`|t^*_b| \ge |t|`.

The model's own regression is bootstrapped: the demeaned data for ``within`` (fixed effects
partialled out, as ``boottest`` after ``areg``/``reghdfe``), the quasi-demeaned data with the
variance components held fixed for ``random``. The t-statistics use the CR1 variance; its constant
small-sample factor cancels between :math:`t` and :math:`t^*`, so the p-value does not depend on
the plm/Stata convention.

Computation follows Roodman et al. (2019): :math:`t^*` for every replication and every null
value ``r`` comes from a few ``G x G`` and ``G x B`` matrix products, without refitting. With
Rademacher weights and :math:`2^G \le` ``reps`` all :math:`2^G` sign vectors are enumerated (the
exact bootstrap distribution).

Confidence interval (test inversion): the interval is the set of ``r`` whose bootstrap p-value is
at least ``alpha``. Because the same weights are used for every ``r``, ``p(r)`` is a step function;
its two crossings of ``alpha`` either side of the estimate are found by bisection (to 1e-7 of a
standard error), starting from a bracket grown outward from the Wald interval.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np

from ...errors import InvalidParameterError
from ..inference.wild import WEBB, WildBootstrapResult, draw_weights, wild_bootstrap

if TYPE_CHECKING:  # pragma: no cover
    from .model import PanelResult

__all__ = ["WEBB", "WildBootstrapResult", "wild_cluster_bootstrap"]

_weights = draw_weights  # the former private name


def wild_cluster_bootstrap(
    result: PanelResult,
    term: str,
    *,
    reps: int = 9999,
    seed: int | np.random.Generator | None = None,
    weights: Literal["webb", "rademacher"] = "webb",
    cluster: str | None = None,
    alpha: float = 0.05,
    null: float = 0.0,
    restricted: bool = True,
    pvalue: Literal["symmetric", "equal-tailed", "lower", "upper"] = "symmetric",
) -> WildBootstrapResult:
    """WCR bootstrap p-value and test-inversion confidence interval for one coefficient.

    Parameters
    ----------
    result
        A result of :func:`icsresearch.models.panel.fit`.
    term
        Coefficient name (as in ``result.params``).
    reps
        Bootstrap replications (9,999 is customary; fewer for quick checks).
    seed
        Seed or generator, for reproducible results.
    weights
        ``"webb"`` (six-point, default) or ``"rademacher"``.
    cluster
        Column to cluster on (or two, for two-way); default the result's cluster variable(s),
        else the entity.
    alpha
        Confidence level ``1 - alpha`` of the interval.
    null
        Null value for the p-value (``H0: coef = null``).
    restricted
        True (WCR, default) or False (WCU).
    pvalue
        ``"symmetric"`` (default), ``"equal-tailed"``, ``"lower"`` or ``"upper"``.

    Returns
    -------
    WildBootstrapResult
    """
    if (
        getattr(result, "regression", None) is None
        or getattr(result, "design", None) is None
        or getattr(result, "spec", None) is None
    ):
        raise InvalidParameterError(
            "this result does not carry its regression\n  Fix: use a result of "
            "icsresearch.models.fit(...)"
        )
    if not isinstance(term, str):
        raise InvalidParameterError(
            f"term must be one coefficient name, got {term!r}\n  Fix: for a joint test use "
            "icsresearch.models.inference.wild_bootstrap(result, [...])"
        )
    return wild_bootstrap(
        result, term, reps=reps, seed=seed, weights=weights, cluster=cluster, alpha=alpha,
        null=null, restricted=restricted, pvalue=pvalue,
    )  # fmt: skip
