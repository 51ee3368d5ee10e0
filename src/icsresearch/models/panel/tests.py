r"""Specification tests for panel models, computed as R plm computes them.

- :func:`breusch_pagan`: Lagrange-multiplier test for random effects against pooled OLS
  (plm ``plmtest(type = "bp")``), in the unbalanced form of Baltagi & Li (1990):
  :math:`LM = \frac{N}{\sqrt{2(\sum_i T_i^2 - N)}}\left(\frac{\sum_i(\sum_t e_{it})^2}{\sum e^2} - 1\right)`,
  statistic :math:`LM^2 \sim \chi^2_1` (two-way: :math:`LM_1^2 + LM_2^2 \sim \chi^2_2`), with
  :math:`e` the pooled OLS residuals.
- :func:`hausman`: ``method="chisq"`` is the classic test (plm ``phtest(fe, re)``):
  :math:`(b_{FE}-b_{RE})'(V_{FE}-V_{RE})^{-1}(b_{FE}-b_{RE})` with the conventional covariances;
  ``method="aux"`` is the regression-based, optionally cluster-robust, version (Wooldridge 2010,
  10.7.3; plm ``phtest(..., method = "aux", vcov = ...)``): regress the quasi-demeaned outcome on
  an intercept, the quasi-demeaned regressors and the within-demeaned regressors, and Wald-test
  the within-demeaned block with the chosen covariance. As in plm, the intercept of the auxiliary
  regression is a plain constant (in unbalanced panels Wooldridge's quasi-demeaned constant
  differs slightly).
- :func:`f_test_effects`: F test that all fixed effects are zero (plm ``pFtest``):
  :math:`F = \frac{(SSR_{pooled} - SSR_{within})/df_1}{SSR_{within}/df_2}`, ``df1`` the difference in
  residual degrees of freedom, ``df2`` those of the within model.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

from ...errors import InvalidParameterError
from ...options import Convention, SmallSample, Vcov, check
from .. import core
from . import covariance as cv
from . import linalg
from . import transform as tf
from .design import INTERCEPT

if TYPE_CHECKING:  # pragma: no cover
    from .model import PanelResult


@dataclass
class SpecTestResult:
    """A test statistic, its degrees of freedom and p-value.

    Attributes
    ----------
    statistic
        The test statistic.
    df
        Degrees of freedom (a pair for F tests).
    p_value
        Upper-tail p-value.
    label
        What was tested, e.g. ``"Hausman test (chi-squared)"``.
    distribution
        ``"chi2"`` or ``"F"``.
    alternative
        The alternative hypothesis, in words.
    """

    statistic: float
    df: float | tuple[float, float]
    p_value: float
    label: str
    distribution: str
    alternative: str

    def __repr__(self) -> str:
        df = f"{self.df[0]:g}, {self.df[1]:g}" if isinstance(self.df, tuple) else f"{self.df:g}"
        return (
            f"{self.label}: {self.distribution}({df}) = {self.statistic:.4f}, "
            f"p = {self.p_value:.4g} (alternative: {self.alternative})"
        )


def _parts(result: PanelResult):
    reg, design = getattr(result, "regression", None), getattr(result, "design", None)
    if reg is None or design is None:
        raise InvalidParameterError(
            "this result does not carry its regression\n  Fix: use a result of "
            "icsresearch.models.fit(...)"
        )
    return reg, design


def _estimator(result: PanelResult) -> str:
    return result.extra.get("estimator", "")


def _pooled_ols(design) -> tuple[np.ndarray, int]:
    X, _, _ = tf.drop_aliased(design.X, design.names)
    resid = linalg.least_squares(X, design.y)[3]
    return resid, X.shape[1]


def _levels_design(result: PanelResult, what: str):
    reg, design = _parts(result)
    if _estimator(result) not in ("pooled", "within", "random"):
        raise InvalidParameterError(
            f"{what} needs a pooled, within or random model on the data in levels, not "
            f"{_estimator(result)!r}"
        )
    if design.weights is not None:
        raise InvalidParameterError(f"{what} is not available for weighted regressions")
    return reg, design


def breusch_pagan(
    result: PanelResult, effects: Literal["entity", "time", "twoways"] | None = None
) -> SpecTestResult:
    """Breusch-Pagan LM test for random effects (plm ``plmtest(type = "bp")``).

    Parameters
    ----------
    result
        A pooled, within or random result: its sample and formula are used for pooled OLS.
    effects
        ``"entity"``, ``"time"`` or ``"twoways"`` (default: the result's effects).

    Returns
    -------
    SpecTestResult
    """
    _, d = _levels_design(result, "The Breusch-Pagan test")
    effects = effects or result.extra.get("effects", "entity")
    if effects not in ("entity", "time", "twoways"):
        raise InvalidParameterError(f"effects={effects!r} is not 'entity', 'time' or 'twoways'")
    e, _ = _pooled_ols(d)
    N = d.nobs
    ee = linalg.dot(e, e)

    def lm(codes, n):
        sums = np.bincount(codes, weights=e, minlength=n)
        counts = np.bincount(codes, minlength=n).astype(float)
        return N / np.sqrt(2 * ((counts**2).sum() - N)) * ((sums @ sums) / ee - 1)

    from scipy import stats

    if effects == "twoways":
        stat, df = lm(d.entity, d.n_entities) ** 2 + lm(d.time, d.n_periods) ** 2, 2
    elif effects == "time":
        stat, df = lm(d.time, d.n_periods) ** 2, 1
    else:
        stat, df = lm(d.entity, d.n_entities) ** 2, 1
    return SpecTestResult(
        float(stat),
        float(df),
        float(stats.chi2.sf(stat, df)),
        f"Breusch-Pagan LM test for {effects} effects (unbalanced, Baltagi-Li)",
        "chi2",
        f"significant {effects} effects (random effects preferred to pooled OLS)",
    )


def hausman(
    within: PanelResult,
    random: PanelResult,
    *,
    method: Literal["chisq", "aux"] = "chisq",
    vcov: Vcov | None = None,
    cluster: str | list[str] | None = None,
    convention: Convention = "plm",
    small_sample: SmallSample = "default",
    terms: list[str] | None = None,
    cov_type: str | None = None,
) -> SpecTestResult:
    """Hausman test of fixed against random effects.

    Parameters
    ----------
    within, random
        Results of ``fit(..., model="within")`` and ``fit(..., model="random")`` on the same data,
        formula and effects.
    method
        ``"chisq"``: classic test with the conventional covariances (plm ``phtest(fe, re)``);
        ``"aux"``: auxiliary-regression test with the covariance below (plm ``phtest(...,
        method = "aux", vcov = ...)``; robust to heteroskedasticity and serial correlation when
        clustered).
    vcov, cluster, convention, small_sample
        Covariance of the auxiliary regression (``method="aux"`` only), in the words of
        :func:`~icsresearch.models.fit`. Default: ``"CRV1"`` by entity with plm's small-sample
        factor (``vcovHC(type = "sss")``).
    terms
        ``method="aux"`` only: test just these regressors' within-transformed columns (e.g. the
        exposure of interest, leaving out year dummies). Default: every within column.
    cov_type
        Deprecated old name of ``vcov``, with its old words.

    Notes
    -----
    In the auxiliary regression, within-transformed columns that are linear combinations of the
    other columns (for example year dummies when both models include time effects) are dropped, as
    R's ``lm`` drops aliased coefficients, and the degrees of freedom count only the columns kept.

    Returns
    -------
    SpecTestResult
    """
    from scipy import stats

    from .model import CAPABILITIES, SMALL_SAMPLE_WORDS

    method = check("method", method, Literal["chisq", "aux"])
    vcov = core.legacy_vcov(vcov, cov_type)
    small_sample = core.legacy_small_sample(small_sample, SMALL_SAMPLE_WORDS)
    rw, dw = _parts(within)
    rr, dr = _parts(random)
    # checked whatever the method, though only the auxiliary regression uses them
    inference = core.resolve_inference(
        dataclasses.replace(CAPABILITIES, estimator="hausman"),
        vcov=vcov,
        cluster=cluster,
        convention=convention,
        small_sample=small_sample,
        alpha=within.alpha,
        default_cluster=dr.entity_name,
        default_vcov="CRV1",
    )
    if _estimator(within) != "within" or _estimator(random) != "random":
        raise InvalidParameterError(
            "hausman(within, random) takes a within result and a random-effects result, in "
            "that order"
        )
    if not within.sample.equals(random.sample):
        raise InvalidParameterError(
            "the within and random results use different samples\n  Fix: fit both on the same "
            "data and formula"
        )
    common = [n for n in random.params.index if n in within.params.index and n != INTERCEPT]
    if not common:
        raise InvalidParameterError("the two models have no slope coefficient in common")

    if method == "chisq":
        iw = [list(within.params.index).index(n) for n in common]
        ir = [list(random.params.index).index(n) for n in common]
        d = rw.params[iw] - rr.params[ir]
        Vw = cv.conventional(rw)[np.ix_(iw, iw)]
        Vr = cv.conventional(rr)[np.ix_(ir, ir)]
        stat = float(abs(d @ np.linalg.solve(Vw - Vr, d)))
        df = len(common)
        return SpecTestResult(
            stat,
            float(df),
            float(stats.chi2.sf(stat, df)),
            "Hausman test (chi-squared, conventional covariances)",
            "chi2",
            "one model is inconsistent (fixed effects preferred)",
        )
    if within.extra.get("effects") != random.extra.get("effects"):
        raise InvalidParameterError("the within and random models must have the same effects")
    names_r = list(random.params.index)
    re_cols = [j for j, n in enumerate(names_r) if n != INTERCEPT]
    names_w = list(within.params.index)
    if terms is not None:
        unknown = [t for t in terms if t not in names_w]
        if unknown:
            raise InvalidParameterError(
                f"terms {unknown} are not regressors of the within model ({names_w})"
            )
    feX = rw.X
    names = [INTERCEPT, *(names_r[j] for j in re_cols), *(f"within:{n}" for n in names_w)]
    X_all = np.column_stack([np.ones(rr.nobs), rr.X[:, re_cols], feX])
    protect = tuple(names[: 1 + len(re_cols)])
    X, kept, _dropped = tf.drop_aliased(X_all, names, protect=protect)
    params, bread, _, resid = linalg.least_squares(X, rr.y)
    cluster_names = list(inference.cluster)
    clusters = dict(rr.clusters)
    for c in cluster_names:
        if c not in clusters:
            if c == dr.entity_name:
                clusters[c] = dr.entity
            elif c == dr.time_name:
                clusters[c] = dr.time
            else:
                raise InvalidParameterError(
                    f"cluster variable {c!r} is not available\n  Fix: fit the random model with "
                    f"vcov='CRV1', cluster={c!r}"
                )
    aux = cv.Regression(
        X, rr.y, params, resid, bread, X.shape[0] - X.shape[1], dr.entity, dr.time, clusters
    )
    V = cv.compute(
        aux,
        inference.vcov,
        convention=inference.convention or "plm",
        small_sample=inference.small_sample,
        cluster=cluster_names or None,
        bandwidth=inference.bandwidth,
    ).cov
    wanted = {f"within:{t}" for t in (terms if terms is not None else names_w)}
    block = [j for j, n in enumerate(kept) if n in wanted]
    if not block:
        raise InvalidParameterError(
            "no within-transformed column is left to test (all are aliased with the random-effects "
            "regressors)"
        )
    b = params[block]
    stat = float(b @ np.linalg.solve(V[np.ix_(block, block)], b))
    if stat < 0:  # only possible with a covariance that is not positive definite
        raise InvalidParameterError(
            "the auxiliary covariance is not positive definite for the tested columns; test "
            "fewer terms (terms=[...])"
        )
    df = len(block)
    return SpecTestResult(
        stat,
        float(df),
        float(stats.chi2.sf(stat, df)),
        f"Regression-based Hausman test (auxiliary regression, {inference.vcov} covariance)",
        "chi2",
        "one model is inconsistent (fixed effects preferred)",
    )


def f_test_effects(within: PanelResult) -> SpecTestResult:
    """F test for fixed effects against pooled OLS (plm ``pFtest(within, pooling)``).

    Parameters
    ----------
    within
        A within result; pooled OLS is refitted on its sample and formula.

    Returns
    -------
    SpecTestResult
    """
    from scipy import stats

    rw, d = _levels_design(within, "The F test for fixed effects")
    if _estimator(within) != "within":
        raise InvalidParameterError("f_test_effects takes a result of model='within'")
    e, kp = _pooled_ols(d)
    df_p = d.nobs - kp
    df_w = rw.df_resid
    df1 = df_p - df_w
    ssr_p, ssr_w = linalg.dot(e, e), linalg.dot(rw.resid, rw.resid)
    F = (ssr_p - ssr_w) / ssr_w / df1 * df_w
    eff = within.extra.get("effects", "entity")
    return SpecTestResult(
        float(F),
        (float(df1), float(df_w)),
        float(stats.f.sf(F, df1, df_w)),
        f"F test for {eff} fixed effects",
        "F",
        f"significant {eff} effects (fixed effects preferred to pooled OLS)",
    )
