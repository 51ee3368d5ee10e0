"""The panel estimators and the :func:`fit` entry point.

Estimators (``model=``), with R plm's names:

``pooled``   OLS (WLS with ``weights``) on the rows as they are (plm ``"pooling"``).
``between``  OLS on the entity means (plm ``"between"``; ``effects="time"`` averages over periods).
``within``   fixed effects: entity, time or two-way (``effects=``) demeaning; two-way demeaning of
             unbalanced panels is exact (dummies projected out, see :mod:`.transform`). With
             ``weights`` the demeaning is weighted (Stata ``areg``/fixest/linearmodels); plm
             instead demeans without weights and weights afterwards, which is a different
             estimator.
``random``   random effects GLS (plm ``"random"``) with Swamy-Arora or Amemiya variance
             components computed exactly as plm's ``ercomp`` does, for balanced and unbalanced
             panels; ``effects`` ``"entity"`` or ``"time"``.
``fd``       first differences, with an intercept when the formula has one (as plm). Differences
             respect the time index: a row whose previous period is absent gives no difference
             (plm's own ``model = "fd"`` differences consecutive *rows*, so it differs from this
             on panels with gaps; ``plm(diff(y) ~ diff(x), model = "pooling")`` matches).
``lagged``   pooled OLS of ``y`` on ``y(t-1)`` (``lags=`` of them) and the regressors; the lag
             respects the time index (plm's ``lag()``): after a gap year the lag is missing.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from ...errors import InvalidParameterError
from ...options import Convention, SmallSample, Vcov, check
from .. import core
from ..results import RegressionResult
from . import covariance as cv
from . import linalg
from . import transform as tf
from .cr2 import HTZResult, WorkingModel, cr2_pieces, htz_test
from .design import INTERCEPT, PanelDesign, build_design, panel_names

ModelName = Literal["pooled", "between", "within", "random", "fd", "lagged"]
Effects = Literal["entity", "time", "twoways"]
REMethod = Literal["swamy-arora", "amemiya"]

#: The inference :func:`fit` supports, in the words of :mod:`icsresearch.options`.
CAPABILITIES = core.Capabilities(
    estimator="fit",
    vcov=("iid", "hetero", "CRV1", "CR2", "CRV3", "DK"),
    max_clusters=2,
    conventions=("plm", "stata"),
    small_sample=("default", "none"),
    why="every absorbed fixed-effect level counted in K is fit_hdfe(small_sample='full')",
)
#: ``fit``'s old ``small_sample`` bools.
SMALL_SAMPLE_WORDS = {True: "default", False: "none"}


# --- linear algebra ------------------------------------------------------------------------


@dataclass
class _Fitted:
    reg: cv.Regression
    names: list[str]
    label: str
    rsquared: dict[str, float]
    fixed_effects: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    normal: bool = False


def _drop_aliased(X, names, warnings, protect=()):
    X2, kept, dropped = tf.drop_aliased(X, names, protect=protect)
    if dropped:
        warnings.append(
            f"Dropped {dropped}: constant after the transformation or collinear with earlier "
            "columns (as plm/lm do for aliased coefficients)."
        )
    if not kept:
        raise InvalidParameterError(
            "no regressor is left to estimate (all are constant or collinear after the "
            "transformation)\n  Fix: a within model cannot estimate variables that do not vary "
            "within entities (or periods); use model='random' or 'pooled' for those"
        )
    return X2, kept, dropped


def _plm_r2(yt: np.ndarray, fitted: np.ndarray, df_resid: float, has_slopes: bool, resid) -> dict:
    """plm's ``summary()`` R-squared: ``cor(y, fitted)^2`` of the model's transformed data."""
    if has_slopes:
        r2 = linalg.squared_correlation(yt, fitted)
    else:  # intercept-only: plm switches to 1 - RSS/TSS
        tss = float(((yt - yt.mean()) ** 2).sum())
        r2 = 1 - linalg.dot(resid, resid) / tss if tss > 0 else float("nan")
    adj = 1 - (1 - r2) * (yt.shape[0] - 1) / df_resid if df_resid > 0 else float("nan")
    return {"r2": r2, "adj_r2": adj}


def _stata_r2(d: PanelDesign, xb: np.ndarray) -> dict[str, float]:
    """Stata ``xtreg``'s within/between/overall R-squared: squared correlations with ``x'b``."""
    if np.std(xb) == 0:
        return {}
    n = d.n_entities
    ybar = tf.group_means(d.y, d.entity, n)[:, 0]
    xbbar = tf.group_means(xb, d.entity, n)[:, 0]
    return {
        "within": linalg.squared_correlation(d.y - ybar[d.entity], xb - xbbar[d.entity]),
        "between": linalg.squared_correlation(ybar, xbbar),
        "overall": linalg.squared_correlation(d.y, xb),
    }


def _slope_xb(d: PanelDesign, names: list[str], params: np.ndarray) -> np.ndarray:
    cols = [d.names.index(n) for n in names if n != INTERCEPT]
    b = np.array([params[i] for i, n in enumerate(names) if n != INTERCEPT])
    return linalg.matvec(d.X, b, cols) if cols else np.zeros(d.nobs)


# --- estimators ----------------------------------------------------------------------------


def _ols_working(d: PanelDesign, kind: str = "ols") -> WorkingModel:
    """CR2's working model for a least-squares fit; weighted fits have none (refused clearly)."""
    if d.weights is None:
        return WorkingModel(kind)
    return WorkingModel(
        kind,
        refused="CR2 with analytic weights is not implemented (clubSandwich's working model for "
        "weighted plm fits differs from icsresearch's weighted estimator, so there is no "
        "reference to match)",
    )


def _fit_pooled(d: PanelDesign, kind: str, lags: int = 1) -> _Fitted:
    label = {
        "pooled": "pooled OLS",
        "lagged": f"pooled OLS with {lags} outcome lag(s)",
        "fd": "first differences (OLS)",
    }[kind]
    if d.weights is not None:
        label += ", weighted"
    warnings: list[str] = []
    sw = None if d.weights is None else np.sqrt(d.weights)
    X = d.X if sw is None else d.X * sw[:, None]
    y = d.y if sw is None else d.y * sw
    X, names, _ = _drop_aliased(X, d.names, warnings)
    params, bread, fitted, resid = linalg.least_squares(X, y)
    df = d.nobs - len(names)
    reg = cv.Regression(X, y, params, resid, bread, df, d.entity, d.time, dict(d.clusters), sw=sw)
    reg.working = _ols_working(d)
    has_slopes = any(n != INTERCEPT for n in names)
    if sw is None:
        r2 = _plm_r2(y, fitted, df, has_slopes, resid)
    else:  # plm's R-squared of a weighted model uses the unweighted outcome and fit
        cols = [d.names.index(n) for n in names]
        r2 = _plm_r2(d.y, linalg.matvec(d.X, params, cols), df, has_slopes, resid)
    if kind == "pooled":
        r2.update(_stata_r2(d, _slope_xb(d, names, params)))
    return _Fitted(reg, names, label, r2, warnings=warnings)


def _fit_between(d: PanelDesign, effects: str) -> _Fitted:
    if d.weights is not None:
        raise InvalidParameterError(
            "weights are not supported for the between model\n  Fix: drop weights=, or use "
            "model='pooled' on a table of group means with their weights"
        )
    warnings: list[str] = []
    codes, n = (d.time, d.n_periods) if effects == "time" else (d.entity, d.n_entities)
    Xm = tf.group_means(d.X, codes, n)
    ym = tf.group_means(d.y, codes, n)[:, 0]
    X, names, _ = _drop_aliased(Xm, d.names, warnings)
    if len(names) >= n:
        raise InvalidParameterError(
            f"the between model has {len(names)} coefficients but only {n} groups\n"
            "  Fix: use fewer regressors"
        )
    params, bread, fitted, resid = linalg.least_squares(X, ym)
    df = n - len(names)
    clusters = {name: _group_level(codes, n, c, name) for name, c in d.clusters.items()}
    reg = cv.Regression(X, ym, params, resid, bread, df, np.arange(n), None, clusters)
    reg.working = WorkingModel("ols")
    has_slopes = any(nm != INTERCEPT for nm in names)
    r2 = _plm_r2(ym, fitted, df, has_slopes, resid)
    if effects != "time":
        r2.update(_stata_r2(d, _slope_xb(d, names, params)))
    label = "between (period means)" if effects == "time" else "between (entity means)"
    return _Fitted(reg, names, label, r2, warnings=warnings)


def _group_level(groups: np.ndarray, n: int, cluster: np.ndarray, name: str) -> np.ndarray:
    """Cluster codes of the between model's rows (one per group); the cluster must nest groups."""
    if not cv.is_nested(groups, cluster):
        raise InvalidParameterError(
            f"cluster variable {name!r} varies within the groups the between model averages "
            "over\n  Fix: cluster on the entity, or on a variable constant within each entity "
            "(e.g. the ICS of a trust)"
        )
    per_group = np.empty(n, dtype=np.intp)
    per_group[groups] = cluster
    return per_group


def _within_transform(d: PanelDesign, M: np.ndarray, effects: str, sw):
    """Within-transformed ``M`` and the number of absorbed fixed-effect parameters."""
    if effects == "entity":
        return tf.demean(M, d.entity, d.n_entities, sw), d.n_entities
    if effects == "time":
        return tf.demean(M, d.time, d.n_periods, sw), d.n_periods
    return tf.demean_twoways(M, d.entity, d.n_entities, d.time, d.n_periods, sw)


def _fit_within(d: PanelDesign, effects: str) -> _Fitted:
    warnings: list[str] = []
    sw = None if d.weights is None else np.sqrt(d.weights)
    slope = [j for j, n in enumerate(d.names) if n != INTERCEPT]
    if not slope:
        raise InvalidParameterError(
            "the within model needs at least one regressor besides the intercept"
        )
    raw = np.empty((d.nobs, len(slope) + 1))  # the slopes and the outcome, copied once
    raw[:, :-1] = d.X[:, slope]
    raw[:, -1] = d.y
    if sw is not None:
        raw *= sw[:, None]
    T, n_absorbed = _within_transform(d, raw, effects, sw)
    del raw  # memory: one n x (k + 1) array fewer at the peak, in the collinearity check
    Xt, names, _ = _drop_aliased(T[:, :-1], [d.names[j] for j in slope], warnings)
    kept = [d.names.index(n) for n in names]
    yt = np.ascontiguousarray(T[:, -1])
    del T  # the demeaned columns live on as Xt and yt: the result need not keep T
    params, bread, fitted, resid = linalg.least_squares(Xt, yt)
    df = d.nobs - len(names) - n_absorbed
    if df <= 0:
        raise InvalidParameterError(
            f"no residual degrees of freedom ({d.nobs} rows, {len(names)} slopes, "
            f"{n_absorbed} fixed effects)\n  Fix: use more data or fewer regressors"
        )
    fes = []
    if effects in ("entity", "twoways"):
        fes.append(cv.FixedEffect(d.entity_name, d.entity, d.n_entities))
    if effects in ("time", "twoways"):
        fes.append(cv.FixedEffect(d.time_name, d.time, d.n_periods))
    raw_X = d.X[:, kept] if sw is None else d.X[:, kept] * sw[:, None]
    raw_y = d.y if sw is None else d.y * sw
    reg = cv.Regression(
        Xt, yt, params, resid, bread, df, d.entity, d.time, dict(d.clusters), fes, raw_X, raw_y, sw
    )
    reg.working = _ols_working(d, "within")
    r2 = _plm_r2(yt, fitted, df, True, resid)
    r2.update(_stata_r2(d, linalg.matvec(d.X, params, kept)))
    what = {"entity": d.entity_name, "time": d.time_name}.get(
        effects, f"{d.entity_name} + {d.time_name}"
    )
    label = f"within ({'two-way' if effects == 'twoways' else effects}: {what})"
    if d.weights is not None:
        label += ", weighted"
    extra = {"n_absorbed": int(n_absorbed)}
    return _Fitted(reg, names, label, r2, tuple(f.name for f in fes), extra, warnings)


def variance_components(d: PanelDesign, effects: str, method: str) -> dict[str, Any]:
    """Random-effects variance components and ``theta`` exactly as plm's ``ercomp``.

    Swamy-Arora (``random.method = "swar"``) uses the within residuals for the idiosyncratic
    variance and the "Between" regression (group means repeated for every row, i.e. weighted
    by group size) for the group variance; Amemiya (``"amemiya"``) uses the within residuals for
    both. For unbalanced panels plm solves the quadratic-form equations with its ``dfcor = 3``
    trace corrections; for balanced ones with ``dfcor = c(2, 2)`` (Swamy-Arora) or ``c(1, 1)``
    (Amemiya). A negative group variance is set to zero (theta = 0: pooled OLS).
    """
    codes, n = (d.time, d.n_periods) if effects == "time" else (d.entity, d.n_entities)
    n_obs = d.nobs
    Z = d.X
    K = Z.shape[1] - 1
    Ti = np.bincount(codes, minlength=n).astype(float)
    balanced = d.n_entities * d.n_periods == n_obs
    slope = [j for j, nm in enumerate(d.names) if nm != INTERCEPT]
    # within regression on the chosen dimension (non-constant columns only, as plm)
    W = tf.demean(np.column_stack([Z[:, slope], d.y]), codes, n)
    WX, wnames, _ = tf.drop_aliased(W[:, :-1], [d.names[j] for j in slope])
    bw, _ = linalg.ols(WX, W[:, -1])
    quad1 = float(((W[:, -1] - linalg.matvec(WX, bw)) ** 2).sum())
    KW = WX.shape[1]

    if method == "swamy-arora":
        if Z.shape[1] >= n:
            raise InvalidParameterError(
                f"Swamy-Arora needs more groups ({n}) than coefficients ({Z.shape[1]}) for its "
                "between regression\n  Fix: use re_method='amemiya' or fewer regressors"
            )
        zbar = tf.group_means(Z, codes, n)
        ybar = tf.group_means(d.y, codes, n)[:, 0]
        sq = np.sqrt(Ti)
        # plm's "Between" regression: group means repeated for every row (weights T_i); lm
        # drops aliased columns, e.g. year dummies whose group means are all 1/T
        ZB, bnames, aliased = tf.drop_aliased(zbar * sq[:, None], d.names)
        gb, _ = linalg.ols(ZB, ybar * sq)
        quad2 = float(((ybar * sq - linalg.matvec(ZB, gb)) ** 2).sum())
        m_w = n_obs - n - KW
        if balanced:
            k_between = len(bnames) - 1
            m_nu, m_eta = n - k_between - 1, (n_obs / n) * (n - k_between - 1)
        else:
            if aliased:
                raise InvalidParameterError(
                    f"Swamy-Arora variance components cannot be computed: the {n} group means "
                    f"of {aliased} are collinear with the other regressors (plm fails here too)"
                    "\n  Fix: use re_method='amemiya', or drop those regressors"
                )
            ZBZ = (zbar * Ti[:, None]).T @ zbar
            ZSZ = (zbar * (Ti**2)[:, None]).T @ zbar
            m_nu, m_eta = n - K - 1, n_obs - float(np.trace(np.linalg.solve(ZBZ, ZSZ)))
    else:
        xb_w = linalg.matvec(Z, bw, [d.names.index(nm) for nm in wnames])
        e = d.y - xb_w
        e = e - e.mean()  # plm adds the within model's overall intercept
        quad2 = float((Ti * tf.group_means(e, codes, n)[:, 0] ** 2).sum())
        if balanced:
            m_w, m_nu, m_eta = n_obs - n, n, (n_obs / n) * n
        else:
            Xs = Z[:, slope]
            xbar = tf.group_means(Xs, codes, n)
            xbar_c = xbar - (Ti @ xbar) / n_obs
            if len(slope) > KW:
                raise InvalidParameterError(
                    "Amemiya variance components need every regressor to vary within groups; "
                    f"{[d.names[j] for j in slope if d.names[j] not in wnames]} do not\n"
                    "  Fix: use re_method='swamy-arora'"
                )
            CPXB = (xbar_c * Ti[:, None]).T @ xbar_c
            CPXM = np.linalg.inv(WX.T @ WX)
            m_w = n_obs - n - KW
            m_nu = n - 1 + float(np.trace(CPXM @ CPXB))
            m_eta = n_obs - float((Ti**2).sum()) / n_obs
    s2_nu = quad1 / m_w
    s2_eta = (quad2 - m_nu * s2_nu) / m_eta
    negative = s2_eta < 0
    s2_eta = max(s2_eta, 0.0)
    theta_g = 1 - np.sqrt(s2_nu / (Ti * s2_eta + s2_nu))
    return {
        "sigma2_idios": s2_nu,
        "sigma2_effect": s2_eta,
        "theta": theta_g,
        "theta_rows": theta_g[codes],
        "negative_variance": bool(negative),
        "balanced": bool(balanced),
        "codes": codes,
        "n": n,
    }


def _fit_random(d: PanelDesign, effects: str, re_method: str) -> _Fitted:
    if effects == "twoways":
        raise InvalidParameterError(
            "two-way random effects are not implemented\n  Fix: use model='random' with "
            "effects='entity' and C(year) dummies in the formula, or model='within' with "
            "effects='twoways'"
        )
    if d.weights is not None:
        raise InvalidParameterError(
            "weights are not supported for random effects\n  Fix: drop weights=, or use "
            "model='pooled' or 'within' for weighted regressions"
        )
    if not d.intercept:
        raise InvalidParameterError(
            "random effects need an intercept in the formula\n  Fix: remove '- 1'/'+ 0'"
        )
    warnings: list[str] = []
    ec = variance_components(d, effects, re_method)
    codes, n, theta = ec["codes"], ec["n"], ec["theta_rows"]
    M = np.column_stack([d.X, d.y])
    T = M - theta[:, None] * tf.group_means(M, codes, n)[codes]
    X, names, _ = _drop_aliased(T[:, :-1], d.names, warnings, protect=(INTERCEPT,))
    y = T[:, -1]
    params, bread, fitted, resid = linalg.least_squares(X, y)
    df = d.nobs - len(names)
    reg = cv.Regression(X, y, params, resid, bread, df, d.entity, d.time, dict(d.clusters))
    # CR2's working model (clubSandwich): the untransformed design and residuals, with the
    # random-effects covariance I + (sigma2_effect / sigma2_idios) J within each group
    raw_X = d.X[:, [d.names.index(nm) for nm in names]]
    reg.working = WorkingModel(
        "random",
        X=raw_X,
        resid=d.y - linalg.matvec(raw_X, params),
        groups=codes,
        ratio=ec["sigma2_effect"] / ec["sigma2_idios"],
    )
    has_slopes = any(nm != INTERCEPT for nm in names)
    r2 = _plm_r2(y, fitted, df, has_slopes, resid)
    r2.update(_stata_r2(d, _slope_xb(d, names, params)))
    if ec["negative_variance"]:
        warnings.append(
            f"The estimated {effects} variance component is negative and was set to zero "
            "(theta = 0): random effects reduce to pooled OLS here."
        )
    method_label = "Swamy-Arora" if re_method == "swamy-arora" else "Amemiya"
    label = f"random effects GLS ({effects}, {method_label})"
    th = ec["theta"]
    extra = {
        "sigma2": {"idios": ec["sigma2_idios"], effects: ec["sigma2_effect"]},
        "theta": float(th[0]) if np.ptp(th) == 0 else pd.Series(th).describe().to_dict(),
        "theta_by_group": th,
        "balanced": ec["balanced"],
    }
    return _Fitted(reg, names, label, r2, (), extra, warnings, normal=True)


# --- result ---------------------------------------------------------------------------------


@dataclass(repr=False)
class PanelResult(RegressionResult):
    """A :class:`RegressionResult` that keeps its regression, for re-inference and bootstraps.

    Extra methods: :meth:`with_cov` (same estimates, other inference), :meth:`wild_bootstrap`
    and :meth:`wald_test` (HTZ, after ``vcov="CR2"``); the specification tests of
    :mod:`icsresearch.models.panel` read :attr:`regression` and :attr:`design` too.

    With ``vcov="CR2"`` every coefficient has its own Satterthwaite degrees of freedom
    (:attr:`df_terms`): p-values, confidence intervals and the ``df`` column of :meth:`tidy` use
    them, ``df_resid`` is ``None`` and ``dist`` is ``"t"`` (for random effects too, as
    clubSandwich's ``coef_test``).

    Attributes
    ----------
    df_terms
        Per-coefficient degrees of freedom of the t-tests (CR2's Satterthwaite df), or ``None``
        when all share ``df_resid``.
    regression
        The regression the model ran (transformed ``X``, ``y``, residuals, bread, cluster
        codes), as the covariance estimators need it.
    design
        The estimation sample as arrays (entity and time codes and labels, weights).
    """

    regression: cv.Regression | None = field(default=None, repr=False, compare=False)
    design: PanelDesign | None = field(default=None, repr=False, compare=False)
    df_terms: pd.Series | None = field(default=None, repr=False, compare=False)
    _base_warnings: list[str] = field(default_factory=list, repr=False, compare=False)
    # the estimator's own reference distribution ("normal" for random effects), which CR2's
    # per-coefficient t replaces while it is the inference
    _model_dist: str = field(default="t", repr=False, compare=False)

    def _ref_dist(self):
        if self.df_terms is None:
            return super()._ref_dist()
        from scipy import stats

        return stats.t(self.df_terms.to_numpy())

    def tidy(self, alpha: float | None = None, exponentiate: bool = False) -> pd.DataFrame:
        """One row per term, as :meth:`RegressionResult.tidy`; with CR2 also each term's ``df``.

        Parameters
        ----------
        alpha
            Level of the intervals (default: the result's ``alpha``).
        exponentiate
            Report ``exp()`` of the estimate and interval.

        Returns
        -------
        pandas.DataFrame
        """
        out = super().tidy(alpha, exponentiate)
        if self.df_terms is not None:
            out.insert(4, "df", self.df_terms.to_numpy())
        return out

    def wald_test(self, hypotheses: Any) -> HTZResult:
        """HTZ Wald test that coefficients (or linear combinations) are jointly zero.

        clubSandwich's ``Wald_test(test = "HTZ")``: Hotelling's T-squared with the degrees of
        freedom of Tipton & Pustejovsky (2015), on this result's CR2 covariance.

        Parameters
        ----------
        hypotheses
            Coefficient names (``["x1", "x2"]``: both are zero), or a constraint matrix ``C``
            with one row per hypothesis ``C @ params = 0`` and one column per coefficient (an
            array, or a DataFrame whose columns are coefficient names; missing columns are 0).

        Returns
        -------
        HTZResult
            ``statistic`` (F), ``df_num``, ``df_denom``, ``pvalue``, ``delta``, ``wald`` (Q).

        Raises
        ------
        InvalidParameterError
            When the result's inference is not CR2, a name is not a coefficient, or the
            constraints are empty, of the wrong shape or linearly dependent.

        Examples
        --------
        >>> res = fit(df, "y ~ x1 + x2", entity="entity", time="year", vcov="CR2", cluster="ics")
        >>> res.wald_test(["x1", "x2"]).pvalue
        """
        reg, spec = self.regression, self.spec
        if reg is None or spec is None or spec.inference.vcov != "CR2":
            raise InvalidParameterError(
                "wald_test() is the HTZ test, which needs the CR2 covariance; this result's "
                f"vcov is {spec.inference.vcov if spec else None!r}\n  Fix: "
                "res.with_cov('CR2', cluster=...).wald_test(...)"
            )
        names = list(self.params.index)
        C, labels = _constraints(hypotheses, names)
        pieces = cr2_pieces(reg, reg.clusters[spec.inference.cluster[0]])
        F, q, df2, pval, delta, Q = htz_test(pieces, reg.params, C)
        return HTZResult(float(F), int(q), float(df2), pval, float(delta), float(Q), labels)

    def with_cov(
        self,
        vcov: Vcov | None = None,
        *,
        cluster: str | list[str] | tuple[str, ...] | None = None,
        convention: Convention | None = None,
        small_sample: SmallSample | None = None,
        bandwidth: int | None = None,
        data: pd.DataFrame | None = None,
        cov_type: str | None = None,
    ) -> PanelResult:
        """The same estimates with another covariance (no re-estimation).

        Parameters
        ----------
        vcov, cluster, convention, small_sample, bandwidth
            As in :func:`fit`; ``convention`` and ``small_sample`` default to this result's
            (``spec.inference``).
        data
            The DataFrame that was fitted, needed only to cluster on a column that was not
            used in the fit (the entity and time are always available).
        cov_type
            Deprecated old name of ``vcov``, with its old words.

        Returns
        -------
        PanelResult
        """
        reg, design, spec = self.regression, self.design, self.spec
        if reg is None or design is None or spec is None:
            raise InvalidParameterError(
                "this result does not carry its regression\n  Fix: use a result of "
                "icsresearch.models.fit(...)"
            )
        vcov = core.legacy_vcov(vcov, cov_type)
        if small_sample is None:
            small_sample = spec.inference.small_sample
        else:
            small_sample = core.legacy_small_sample(small_sample, SMALL_SAMPLE_WORDS)
        inference = core.resolve_inference(
            CAPABILITIES,
            vcov=vcov,
            cluster=cluster,
            convention=spec.inference.convention if convention is None else convention,
            small_sample=small_sample,
            alpha=self.alpha,
            bandwidth=bandwidth,
            default_cluster=design.entity_name,
        )
        names = list(inference.cluster)
        clusters = dict(reg.clusters)
        between = spec.options.get("model") == "between"
        for n in names:
            if n in clusters:
                continue
            if n == design.entity_name:
                codes = design.entity
            elif n == design.time_name:
                codes = design.time
            else:
                if data is None or n not in getattr(data, "columns", ()):
                    raise InvalidParameterError(
                        f"cluster column {n!r} was not part of the fit\n  Fix: pass data= (the "
                        "DataFrame you fitted), or refit with cluster=" + repr(n)
                    )
                if not data.index.is_unique:
                    raise InvalidParameterError(
                        "data has duplicate index labels, so the sample rows cannot be found"
                        "\n  Fix: refit with cluster=" + repr(n)
                    )
                values = data.loc[self.sample, n]
                if values.isna().any():
                    raise InvalidParameterError(
                        f"cluster column {n!r} is missing for {int(values.isna().sum())} rows of "
                        f"the sample\n  Fix: refit with cluster={n!r} (rows are then dropped)"
                    )
                codes = np.asarray(pd.factorize(values, sort=True)[0], dtype=np.intp)
            if between:
                groups, ng = (
                    (design.time, design.n_periods)
                    if spec.options.get("effects") == "time"
                    else (design.entity, design.n_entities)
                )
                codes = _group_level(groups, ng, codes, n)
            clusters[n] = codes
        reg = dataclasses.replace(reg, clusters=clusters)
        cov = _covariance(reg, inference, normal=self._model_dist == "normal")
        for msg in cov.warnings:
            core.warn(msg)
        return _with_inference(self, reg, cov, spec.with_inference(inference))

    def _header(self) -> list[tuple[str, str]]:
        rows = super()._header()
        df = self.df_resid
        if self.df_terms is not None:
            rows.insert(3, ("Degrees of freedom", "Satterthwaite, per coefficient (column df)"))
        elif self.dist == "t" and df is not None:
            rows.insert(3, ("Degrees of freedom", f"{df:g}"))
        s2 = self.extra.get("sigma2")
        if s2:
            rows.append(("Variance components", ", ".join(f"{k} {v:.4g}" for k, v in s2.items())))
            th = self.extra.get("theta")
            if isinstance(th, float):
                rows.append(("Theta", f"{th:.4f}"))
            elif isinstance(th, dict):
                rows.append(
                    (
                        "Theta (min/median/max)",
                        f"{th['min']:.4f} / {th['50%']:.4f} / {th['max']:.4f}",
                    )
                )
        return rows


def _covariance(reg: cv.Regression, inference: core.Inference, *, normal: bool) -> cv.CovResult:
    return cv.compute(
        reg,
        inference.vcov,
        convention=inference.convention or "plm",
        small_sample=inference.small_sample,
        cluster=list(inference.cluster) or None,
        bandwidth=inference.bandwidth,
        normal=normal,
    )


def _with_inference(
    res: PanelResult, reg: cv.Regression, cov: cv.CovResult, spec: core.ModelSpec
) -> PanelResult:
    """``res`` with the covariance ``cov`` and everything that depends on it."""
    design = res.design
    names = list(res.params.index)
    n_groups = {design.entity_name: design.n_entities, design.time_name: design.n_periods}
    for name, G in cov.n_clusters.items():
        if name not in n_groups and name != "time":  # "time": Driscoll-Kraay's periods
            n_groups[f"clusters: {name}"] = G
    extra = dict(res.extra)
    extra.update(
        {
            "convention": spec.inference.convention,
            "k_small_sample": cov.k_used,
            "small_sample_factor": cov.factor,
            "n_clusters": cov.n_clusters,
        }
    )
    df_terms = None if cov.df_terms is None else pd.Series(cov.df_terms, index=names, name="df")
    if df_terms is not None:
        extra["df_satterthwaite"] = df_terms.to_dict()
    return dataclasses.replace(
        res,
        cov=pd.DataFrame(cov.cov, index=names, columns=names),
        df_resid=cov.df,
        df_terms=df_terms,
        dist="t" if df_terms is not None else res._model_dist,
        cov_type=cov.label,
        n_groups=n_groups,
        extra=extra,
        warnings=[*res._base_warnings, *cov.warnings],
        provenance=dataclasses.replace(res.provenance, parameters=spec.parameters()),
        spec=spec,
        regression=reg,
    )


def _constraints(hypotheses: Any, names: list[str]) -> tuple[np.ndarray, list[str]]:
    """The constraint matrix (q x p) and one label per row, from names or a matrix."""
    if isinstance(hypotheses, str):
        hypotheses = [hypotheses]
    if isinstance(hypotheses, pd.DataFrame):
        unknown = [c for c in hypotheses.columns if c not in names]
        if unknown:
            raise InvalidParameterError(
                f"constraint columns {unknown} are not coefficients of the model ({names})"
            )
        hypotheses = hypotheses.reindex(columns=names, fill_value=0.0).to_numpy(dtype=float)
    if isinstance(hypotheses, list | tuple) and all(isinstance(h, str) for h in hypotheses):
        unknown = [h for h in hypotheses if h not in names]
        if unknown or not hypotheses or len(set(hypotheses)) != len(hypotheses):
            raise InvalidParameterError(
                f"wald_test({list(hypotheses)!r}): give distinct coefficient names of the model "
                f"({names}); {unknown or 'none given or repeated'} is the problem\n  Fix: use "
                "names from res.params.index"
            )
        C = np.eye(len(names))[[names.index(h) for h in hypotheses]]
    else:
        try:
            C = np.atleast_2d(np.asarray(hypotheses, dtype=float))
        except (TypeError, ValueError):
            C = np.empty((0, 0))
        if C.ndim != 2 or C.shape[0] == 0 or C.shape[1] != len(names) or not np.isfinite(C).all():
            raise InvalidParameterError(
                f"wald_test(): the constraint matrix must have one row per hypothesis and "
                f"{len(names)} finite columns ({names}); got shape {C.shape}\n  Fix: pass "
                "coefficient names, or a q x p matrix"
            )
    if np.linalg.matrix_rank(C) < C.shape[0]:
        raise InvalidParameterError(
            "wald_test(): the constraints are linearly dependent (one of them is implied by the "
            "others)\n  Fix: drop the redundant rows"
        )
    labels = []
    for row in C:
        terms = [
            n if v == 1 else f"-{n}" if v == -1 else f"{v:g}*{n}"
            for v, n in zip(row, names, strict=True)
            if v != 0
        ]
        labels.append(" + ".join(terms).replace("+ -", "- ") + " = 0")
    return C, labels


# --- entry point ----------------------------------------------------------------------------


def fit(
    data: pd.DataFrame,
    formula: str,
    *,
    entity: str | None = None,
    time: str | None = None,
    model: ModelName = "within",
    effects: Effects = "entity",
    re_method: REMethod = "swamy-arora",
    vcov: Vcov | None = None,
    cluster: str | list[str] | tuple[str, ...] | None = None,
    convention: Convention = "plm",
    small_sample: SmallSample = "default",
    bandwidth: int | None = None,
    weights: str | None = None,
    lags: int = 1,
    alpha: float = 0.05,
    cov_type: str | None = None,
) -> PanelResult:
    """Fit a linear panel model, with R plm's (or Stata's) numbers.

    Parameters
    ----------
    data
        One row per entity-period; entity and time as columns (or an (entity, time) MultiIndex).
        Its provenance record (``attrs``) is carried into ``result.provenance``.
    formula
        ``"outcome ~ x1 + x2"`` (formulaic syntax; ``C(year)`` for year dummies, ``np.log(x)``).
        Fixed effects come from ``model="within"`` and ``effects=``, not from a ``| fe`` part
        (that is :func:`~icsresearch.models.fit_hdfe`'s syntax).
    entity, time
        Column names of the panel unit (trust, ICS...) and period: the same names as
        :func:`~icsresearch.models.did_2x2` and :func:`~icsresearch.models.event_study` use.
    model
        ``"pooled"``, ``"between"``, ``"within"`` (fixed effects), ``"random"``, ``"fd"`` (first
        differences) or ``"lagged"`` (pooled with ``y(t-1)``). See the module docstring.
    effects
        ``"entity"``, ``"time"`` or ``"twoways"`` (within); ``"entity"``/``"time"`` for random and
        between.
    re_method
        Random-effects variance components: ``"swamy-arora"`` or ``"amemiya"`` (as plm's
        ``random.method = "swar"``/``"amemiya"``).
    vcov
        ``"iid"`` (conventional), ``"hetero"`` (heteroskedasticity-robust), ``"CRV1"``
        (clustered, one- or two-way), ``"CR2"`` (Bell-McCaffrey, one-way, with Satterthwaite df
        per coefficient, as R clubSandwich: pooled, between, within, random, fd, lagged; not
        with ``weights``), ``"CRV3"`` (jackknife, MacKinnon-Nielsen-Webb) or ``"DK"``
        (Driscoll-Kraay). Default: ``"CRV1"`` when ``cluster`` is given, else ``"iid"``. See
        ``docs/inference.md``.
    cluster
        One or two column names; clustered ``vcov`` without it clusters on the entity.
    convention
        Small-sample convention for robust/clustered inference: ``"plm"`` (plm ``vcovHC(type =
        "sss")``: within models count only the slopes in ``K``; t-tests use the model's residual
        df) or ``"stata"`` (Stata/fixest/pyfixest CR1: fixed effects not nested in the clusters
        are counted; clustered t-tests use ``G - 1`` df). See :mod:`.covariance`.
    small_sample
        ``"default"``: the convention's finite-sample factor; ``"none"``: HC0/CR0 sandwiches
        (plm's ``type = "HC0"``). ``CRV3`` always carries ``(G-1)/G``. (``True``/``False`` are
        the deprecated spellings.)
    bandwidth
        Driscoll-Kraay maximum lag (default ``floor(max(T_i)^(1/4))``, plm's); ``vcov="DK"`` only.
    weights
        Column of positive analytic weights: weighted least squares (pooled, within, fd, lagged).
    lags
        Number of outcome lags for ``model="lagged"``.
    alpha
        Level for confidence intervals (``1 - alpha``).
    cov_type
        Deprecated: the old name of ``vcov``, with the old words ``"conventional"``,
        ``"robust"``, ``"clustered"``, ``"cr3"``, ``"driscoll-kraay"``.

    Returns
    -------
    PanelResult
        A :class:`~icsresearch.models.results.RegressionResult` (coefficients, covariance,
        R-squared variants, sample, warnings, ``spec``, ``provenance``) with
        :meth:`PanelResult.with_cov`, :meth:`PanelResult.wild_bootstrap` and
        :meth:`PanelResult.wald_test`.

    Examples
    --------
    >>> res = fit(df, "shmi ~ managers_fte", entity="trust_code", time="year",
    ...           model="within", effects="twoways", vcov="CRV1", cluster="trust_code")
    """
    vcov = core.legacy_vcov(vcov, cov_type)
    small_sample = core.legacy_small_sample(small_sample, SMALL_SAMPLE_WORDS)
    model = check("model", model, ModelName)
    effects = check("effects", effects, Effects)
    re_method = check("re_method", re_method, REMethod)
    if isinstance(lags, bool) or not isinstance(lags, int | np.integer) or lags < 1:
        raise InvalidParameterError(f"lags={lags!r} must be a positive integer\n  Fix: use lags=1")
    if weights is not None and not isinstance(weights, str):
        raise InvalidParameterError(f"weights={weights!r} must be a column name")
    core.check_dataframe(data)
    parts = core.parse_formula(
        formula,
        estimator="fit",
        fixed_effects="use model='within' with effects='entity', 'time' or 'twoways', or "
        "fit_hdfe for absorbed fixed effects written after '|'",
    )
    core.check_types(
        data,
        estimator="fit",
        outcome=core.formula_columns(parts.outcome, data.columns),
        regressors=core.formula_columns(parts.rhs, data.columns),
        formula=formula,
    )
    entity_name, time_name = panel_names(data, entity, time)
    inference = core.resolve_inference(
        CAPABILITIES,
        vcov=vcov,
        cluster=cluster,
        convention=convention,
        small_sample=small_sample,
        alpha=alpha,
        bandwidth=bandwidth,
        default_cluster=entity_name,
    )
    if model in ("pooled", "lagged", "fd", "between") and effects == "twoways":
        raise InvalidParameterError(f"effects='twoways' does not apply to model={model!r}")
    if weights is not None and model in ("between", "random"):
        raise InvalidParameterError(
            f"weights are not supported for model={model!r}\n  Fix: drop weights=, or use "
            "model='pooled', 'within', 'fd' or 'lagged'"
        )

    design = build_design(
        data,
        formula,
        entity=entity,
        time=time,
        model=model,
        weights=weights,
        cluster=list(inference.cluster) or None,
        lags=lags,
    )
    if model in ("pooled", "lagged", "fd"):
        fitted = _fit_pooled(design, model, lags)
    elif model == "between":
        fitted = _fit_between(design, effects)
    elif model == "within":
        fitted = _fit_within(design, effects)
    else:
        fitted = _fit_random(design, effects, re_method)

    reg = fitted.reg
    if reg.df_resid <= 0:
        raise InvalidParameterError(
            f"no residual degrees of freedom: {reg.nobs} observations for {reg.k} coefficients"
            "\n  Fix: use more data or fewer regressors"
        )
    cov = _covariance(reg, inference, normal=fitted.normal)
    # notes about dropped rows are information; estimator and inference caveats are warnings
    for msg in [*fitted.warnings, *cov.warnings]:
        core.warn(msg)

    spec = core.ModelSpec(
        function="fit",
        formula=formula,
        inference=inference,
        entity=design.entity_name,
        time=design.time_name,
        weights=weights,
        options={
            "model": model,
            "effects": effects,
            "re_method": re_method if model == "random" else None,
            "lags": int(lags) if model == "lagged" else None,
        },
    )
    extra = dict(fitted.extra)
    extra.update(
        {
            "estimator": model,
            "effects": effects,
            "n_missing": design.n_missing,
            "n_lost": design.n_lost,
            "df_model_resid": reg.df_resid,
        }
    )
    skeleton = PanelResult(
        params=pd.Series(reg.params, index=fitted.names, name="estimate"),
        cov=pd.DataFrame(),
        nobs=design.nobs,
        df_resid=None,
        model=fitted.label,
        cov_type="",
        dependent=design.dependent,
        formula=formula,
        rsquared=fitted.rsquared,
        dist="normal" if fitted.normal else "t",
        sample=design.index,
        fixed_effects=fitted.fixed_effects,
        extra=extra,
        regression=reg,
        design=design,
        _base_warnings=[*design.notes, *fitted.warnings],
        _model_dist="normal" if fitted.normal else "t",
        **core.result_fields(data, spec),
    )
    return _with_inference(skeleton, reg, cov, spec)
