"""Linear mixed models with random intercepts (by trust, by ICS, or trusts nested in ICSs).

:func:`fit_mixed` fits ``y = X b + u_group + e`` (or ``u_ics + v_trust(ics) + e``) by REML (default)
or ML, as R's ``lme4::lmer(y ~ x + (1 | trust))`` and ``lmer(y ~ x + (1 | ics / trust))``.

How the estimates are obtained, and why
---------------------------------------
1. statsmodels ``MixedLM`` is fitted first (optimisers tried in turn: BFGS, L-BFGS, Powell,
   Nelder-Mead, until one converges to a finite log-likelihood: near a zero variance L-BFGS can
   stop with a singular-matrix error, or "converge" to a zero variance with an infinite
   log-likelihood and the intercept set to 0). Its estimates are kept in
   ``extra["statsmodels"]``.
2. The variance ratios ``theta = sigma2_group / sigma2_resid`` are then refined by maximising the
   exact profiled (RE)ML log-likelihood (L-BFGS-B with its analytic gradient from statsmodels'
   solution and a few other starts, then Newton steps), with the fixed
   effects and residual variance profiled out in closed form (Sherman-Morrison for the nested
   intercepts, so the cost is linear in the rows). statsmodels' optimisers stop around 1e-5
   relative in the variance parameters; after the refinement the estimates agree with lme4
   1.1-31 to about 1e-9 (``tests/test_models_mixed.py``).
3. The fixed effects are the GLS estimates at the variance estimates, with lme4's covariance
   ``sigma2 (X' V^-1 X)^-1`` (statsmodels instead reports the inverse observed Hessian, which
   differs slightly in finite samples). Inference is normal (z), as statsmodels and Stata;
   lme4 gives no p-values.

A variance component that is (near) zero -- a *singular fit* -- is flagged in ``warnings``:
statsmodels can then silently return the coefficients of group-level regressors (and the
intercept) as exactly 0 while reporting convergence (statsmodels issue #10239). When a
component is below ``zero_tol`` of the total variance the result is checked explicitly against
OLS (pooled, for one level; the model without that level, for nested ones): the estimates must
agree, and ``extra["zero_variance_check"]`` shows by how much (in standard errors). Any
disagreement between statsmodels' fixed effects and the GLS estimates is also reported.
"""

from __future__ import annotations

import warnings as _warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InvalidParameterError
from ..options import Convention, SmallSample, Vcov, check_bool
from . import core
from .core import check_columns, check_types, data_label, formula_columns
from .results import RegressionResult

#: The inference :func:`fit_mixed` supports: lme4's model-based covariance only.
CAPABILITIES = core.Capabilities(
    estimator="fit_mixed",
    vcov=("iid",),
    max_clusters=0,
    conventions=(),
    small_sample=("default", "none"),
    why="a mixed model has model-based standard errors only, sigma2 (X'V^-1 X)^-1 as lme4; "
    "for cluster-robust inference use fit(..., model='random') or fit_hdfe",
)

#: statsmodels optimisers, tried in this order until one converges.
SM_METHODS = ("bfgs", "lbfgs", "powell", "nm")
#: statsmodels' fixed effects further than this (in standard errors) from GLS are reported.
SM_DISAGREEMENT_SE = 1e-3


# --- the exact random-intercept likelihood -------------------------------------------------


@dataclass
class _Design:
    """Rows sorted by outer group, with group codes for the Sherman-Morrison sums."""

    y: np.ndarray
    X: np.ndarray
    outer: np.ndarray  # outer block code per row (0..n_outer-1)
    inner: np.ndarray  # inner group code per row (0..n_inner-1), nested in outer
    inner_outer: np.ndarray  # outer code of each inner group
    n_outer: int
    n_inner: int
    m_inner: np.ndarray  # rows per inner group
    has_outer: bool  # outer intercept estimated (nested model)


def _sums(v: np.ndarray, codes: np.ndarray, n: int) -> np.ndarray:
    """Column sums of ``v`` (n_rows x k) by group code."""
    return np.column_stack(
        [np.bincount(codes, weights=v[:, j], minlength=n) for j in range(v.shape[1])]
    )


class _Profile:
    """Profiled (RE)ML log-likelihood of a one- or two-level random-intercept model.

    With ``V = I + t_in Z_in Z_in' + t_out Z_out Z_out'`` (in units of the residual variance),
    each outer block's inverse is ``A^-1 - t_out a a' / (1 + t_out s)`` where ``A = I + t_in
    Z_in Z_in'`` has the closed-form inverse ``I - sum_h c_h 1_h 1_h'``, ``c_h = t_in / (1 +
    m_h t_in)``, ``a = A^-1 1`` (``1 / (1 + m_h t_in)`` on group ``h``) and ``s = 1' A^-1 1``.
    """

    def __init__(self, d: _Design, reml: bool):
        self.d = d
        self.reml = reml
        W = np.column_stack([d.X, d.y])
        self.W = W
        self.WtW = W.T @ W
        self.S_in = _sums(W, d.inner, d.n_inner)  # inner-group sums of [X, y]
        self.n, self.p = d.X.shape

    def _gram(self, theta: np.ndarray) -> tuple[np.ndarray, float]:
        """``W' V^-1 W`` and ``log det V`` for ``theta = (t_out, t_in)``."""
        d = self.d
        t_out, t_in = float(theta[0]), float(theta[1])
        m = d.m_inner
        c = t_in / (1.0 + m * t_in)
        G = self.WtW - (self.S_in * c[:, None]).T @ self.S_in
        logdet = float(np.log1p(m * t_in).sum())
        if d.has_outer and t_out > 0:
            a_in = 1.0 / (1.0 + m * t_in)  # a on each inner group
            Sa = _sums(self.S_in * a_in[:, None], d.inner_outer, d.n_outer)  # a' W per block
            s = np.bincount(d.inner_outer, weights=m * a_in, minlength=d.n_outer)
            f = t_out / (1.0 + t_out * s)
            G = G - (Sa * f[:, None]).T @ Sa
            logdet += float(np.log1p(t_out * s).sum())
        return G, logdet

    def solve(self, theta: np.ndarray) -> dict[str, Any]:
        """Profiled log-likelihood and the GLS fit at ``theta``."""
        G, logdet = self._gram(theta)
        p, n = self.p, self.n
        M = G[:p, :p]
        Xty = G[:p, p]
        yty = G[p, p]
        L = np.linalg.cholesky(M)
        beta = np.linalg.solve(L.T, np.linalg.solve(L, Xty))
        rss = float(yty - beta @ Xty)
        dof = n - p if self.reml else n
        sigma2 = rss / dof
        ll = -0.5 * (dof * (np.log(2 * np.pi * sigma2) + 1.0) + logdet)
        if self.reml:
            ll -= float(np.log(np.diag(L)).sum())  # 0.5 log det (X' V^-1 X)
        Minv = np.linalg.inv(M)
        return {"loglik": float(ll), "beta": beta, "sigma2": sigma2, "Minv": Minv}

    def _vinv(self, U: np.ndarray, theta: np.ndarray) -> np.ndarray:
        """``V^-1 U`` by the closed forms (``U`` is n x k)."""
        d = self.d
        t_out, t_in = float(theta[0]), float(theta[1])
        m = d.m_inner
        S = _sums(U, d.inner, d.n_inner)
        c = t_in / (1.0 + m * t_in)
        out = U - (c[:, None] * S)[d.inner]
        if d.has_outer and t_out > 0:
            a_in = 1.0 / (1.0 + m * t_in)
            Sa = _sums(S * a_in[:, None], d.inner_outer, d.n_outer)
            s = np.bincount(d.inner_outer, weights=m * a_in, minlength=d.n_outer)
            f = t_out / (1.0 + t_out * s)
            out = out - a_in[d.inner][:, None] * (f[:, None] * Sa)[d.outer]
        return out

    def gradient(self, theta: np.ndarray) -> np.ndarray:
        """Analytic gradient of the profiled log-likelihood in ``theta = (t_out, t_in)``.

        ``dl/dt_j = -1/2 [tr(V^-1 Z_j Z_j') - |Z_j' V^-1 r|^2 / sigma2 - (REML)
        |L^-1 X' V^-1 Z_j|_F^2]`` with ``r`` the GLS residuals (envelope theorem) and ``L`` the
        Cholesky factor of ``X' V^-1 X``.
        """
        d = self.d
        sol = self.solve(theta)
        r = d.y - d.X @ sol["beta"]
        VU = self._vinv(np.column_stack([d.X, r]), theta)
        L = np.linalg.cholesky(np.linalg.inv(sol["Minv"]))
        t_out, t_in = float(theta[0]), float(theta[1])
        m = d.m_inner
        a_in = 1.0 / (1.0 + m * t_in)
        s = np.bincount(d.inner_outer, weights=m * a_in, minlength=d.n_outer)
        f = t_out / (1.0 + t_out * s) if d.has_outer else np.zeros(d.n_outer)
        grad = np.zeros(2)
        levels = [(1, d.inner, d.n_inner)]
        if d.has_outer:
            levels.append((0, d.outer, d.n_outer))
        for j, codes, n in levels:
            ZV = _sums(VU, codes, n)  # Z_j' V^-1 [X, r]
            if j == 1:  # 1_h' V^-1 1_h on each inner group
                tr = float((m * a_in - f[d.inner_outer] * (m * a_in) ** 2).sum())
            else:  # 1_g' V^-1 1_g on each outer block
                tr = float((s / (1.0 + t_out * s)).sum())
            g = tr - float(ZV[:, -1] @ ZV[:, -1]) / sol["sigma2"]
            if self.reml:
                B = np.linalg.solve(L, ZV[:, :-1].T)
                g -= float((B * B).sum())
            grad[j] = -0.5 * g
        return grad

    def maximise(self, start: np.ndarray, free: np.ndarray) -> np.ndarray:
        """Variance ratios maximising the profiled likelihood (``theta >= 0``).

        L-BFGS-B with the analytic gradient from statsmodels' solution and a few other starts
        (the optimum can be on the boundary), then Newton steps on the gradient: the function
        value is flat to rounding near the optimum, the gradient is not.
        """
        from scipy import optimize

        def full(z: np.ndarray) -> np.ndarray:
            th = np.zeros(2)
            th[free] = z
            return th

        def fun(z: np.ndarray):
            th = full(np.maximum(z, 0.0))
            return -self.solve(th)["loglik"], -self.gradient(th)[free]

        z0 = np.maximum(start[free], 0.0)
        best = None
        for z in (z0, np.zeros_like(z0), np.maximum(z0, 0.1), np.ones_like(z0)):
            res = optimize.minimize(
                fun,
                z,
                jac=True,
                method="L-BFGS-B",
                bounds=[(0.0, None)] * z.size,
                options={"ftol": 1e-15, "gtol": 1e-12, "maxiter": 2000},
            )
            if best is None or res.fun < best.fun - 1e-10:
                best = res
        assert best is not None
        z = np.maximum(best.x, 0.0)
        # Newton polish of the interior coordinates (finite-difference Hessian of the gradient)
        for _ in range(5):
            inner = z > 1e-10
            if not inner.any():
                break
            g = -fun(z)[1]
            h = 1e-5 * np.maximum(z, 1e-3)
            H = np.zeros((z.size, z.size))
            for i in range(z.size):
                e = np.zeros(z.size)
                e[i] = h[i]
                H[:, i] = (-fun(z + e)[1] + fun(np.maximum(z - e, 0.0))[1]) / (2 * h[i])
            idx = np.flatnonzero(inner)
            try:
                step = np.linalg.solve(H[np.ix_(idx, idx)], g[idx])
            except np.linalg.LinAlgError:
                break
            z_new = z.copy()
            z_new[idx] = np.maximum(z[idx] - step, 0.0)
            if fun(z_new)[0] > fun(z)[0] + 1e-9:
                break
            z = z_new
            if np.all(np.abs(step) <= 1e-14 * np.maximum(z[idx], 1e-8)):
                break
        return full(z)


# --- statsmodels ---------------------------------------------------------------------------


def _statsmodels_fit(d: _Design, reml: bool, methods: Sequence[str]) -> dict[str, Any]:
    """statsmodels MixedLM on the same design; its problems are returned, never raised."""
    from statsmodels.regression.mixed_linear_model import MixedLM

    with _warnings.catch_warnings():
        _warnings.simplefilter("ignore")  # the dict form of exog_vc is "deprecated" chatter
        if d.has_outer:
            exog_vc: dict[str, dict[int, np.ndarray]] = {"inner": {}}
            for g in range(d.n_outer):
                rows = np.flatnonzero(d.outer == g)
                levels, pos = np.unique(d.inner[rows], return_inverse=True)
                Z = np.zeros((rows.size, levels.size))
                Z[np.arange(rows.size), pos] = 1.0
                exog_vc["inner"][g] = Z
            model = MixedLM(
                d.y, d.X, groups=d.outer, exog_re=np.ones((d.y.size, 1)), exog_vc=exog_vc
            )
        else:
            model = MixedLM(d.y, d.X, groups=d.inner)
    problems: list[str] = []
    for method in methods:
        with _warnings.catch_warnings(record=True) as caught:
            _warnings.simplefilter("always")
            try:
                res = model.fit(reml=reml, method=method)
            except Exception as exc:  # LinAlgError and friends near a zero variance
                problems.append(f"{method}: {type(exc).__name__}: {exc}")
                continue
        msgs = [" ".join(str(w.message).split()) for w in caught]
        msgs = [m for m in msgs if "inplace" not in m]
        if not res.converged:
            problems.append(f"{method}: did not converge")
            continue
        if not np.isfinite(res.llf):
            problems.append(f"{method}: non-finite log-likelihood ({res.llf})")
            continue
        s2 = float(res.scale)
        if d.has_outer:
            t_out = float(np.asarray(res.cov_re)[0, 0]) / s2
            t_in = float(np.asarray(res.vcomp)[0]) / s2
        else:
            t_out, t_in = 0.0, float(np.asarray(res.cov_re)[0, 0]) / s2
        return {
            "ok": True,
            "method": method,
            "theta": np.array([t_out, t_in]),
            "params": np.asarray(res.fe_params, dtype=float),
            "bse": np.asarray(res.bse_fe, dtype=float),
            "loglik": float(res.llf),
            "converged": bool(res.converged),
            "messages": msgs,
            "problems": problems,
        }
    return {"ok": False, "problems": problems}


# --- the entry point -----------------------------------------------------------------------


def _group_list(group: str | Sequence[str]) -> list[str]:
    names = [group] if isinstance(group, str) else list(group)
    if not 1 <= len(names) <= 2 or not all(isinstance(n, str) for n in names):
        raise InvalidParameterError(
            f"group= takes one column (random intercept) or two [outer, inner] (nested random "
            f"intercepts, e.g. ['icb_code', 'trust_code']), got {group!r}"
        )
    if len(names) == 2 and names[0] == names[1]:
        raise InvalidParameterError("group=: the outer and inner columns must differ")
    return names


def _moment_start(d: _Design) -> np.ndarray:
    """Crude ANOVA-type start when statsmodels fails: between/within variance of OLS residuals."""
    beta, *_ = np.linalg.lstsq(d.X, d.y, rcond=None)
    r = d.y - d.X @ beta
    gm = _sums(r[:, None], d.inner, d.n_inner)[:, 0] / d.m_inner
    within = float(((r - gm[d.inner]) ** 2).sum()) / max(d.y.size - d.n_inner, 1)
    between = max(float(np.var(gm)) - within / float(np.mean(d.m_inner)), 0.0)
    t = between / within if within > 0 else 0.1
    return np.array([t / 2 if d.has_outer else 0.0, t])


def fit_mixed(
    data: pd.DataFrame,
    formula: str,
    *,
    group: str | Sequence[str],
    reml: bool = True,
    zero_tol: float = 1e-4,
    methods: Sequence[str] = SM_METHODS,
    vcov: Vcov | None = None,
    cluster: str | Sequence[str] | None = None,
    convention: Convention | None = None,
    small_sample: SmallSample = "default",
    alpha: float = 0.05,
) -> RegressionResult:
    """Random-intercept linear mixed model (REML or ML), as ``lme4::lmer``.

    Parameters
    ----------
    data
        One row per observation (e.g. trust-year).
    formula
        ``"outcome ~ x1 + x2"`` (formulaic syntax: ``C(year)`` for year dummies, ``np.log(x)``).
    group
        ``"trust_code"`` for a random intercept per trust, or ``["icb_code", "trust_code"]`` for
        ICS intercepts and trust-within-ICS intercepts (``(1 | icb_code / trust_code)``); the
        inner column must be nested in the outer one. Not a panel identifier (``entity``): the
        levels of random intercepts, which may be nested.
    reml
        Restricted maximum likelihood (default, lme4's default) or ML (needed to compare
        models with different fixed effects by likelihood-ratio tests).
    zero_tol
        A variance component below this share of the total variance is flagged as ~0 (a
        singular fit) and the estimates are checked against the model without it.
    methods
        statsmodels optimisers to try, in order.
    vcov, cluster, convention, small_sample
        The shared inference options (``docs/inference.md``): ``fit_mixed`` has lme4's
        model-based covariance only, ``vcov="iid"`` (the default), with no cluster, no
        convention and no small-sample factor (``"default"`` and ``"none"`` are the same here).
        Anything else is an error that says so.
    alpha
        Confidence level ``1 - alpha``.

    Returns
    -------
    RegressionResult
        Fixed effects with lme4's covariance; ``dist="normal"``. ``extra`` holds
        ``variance_components`` (``{group: variance, ..., "residual": variance}``), ``icc``
        (each group's share of the total variance), ``theta`` (variance ratios),
        ``loglik``, ``reml``, ``singular`` (components flagged as ~0), ``zero_variance_check``
        (when a component is ~0), ``random_effects`` (predicted intercepts, one-level models),
        and ``statsmodels`` (its own estimates, optimiser, convergence messages).
        ``rsquared`` has Nakagawa's ``marginal`` and ``conditional`` R-squared.

    Raises
    ------
    InvalidParameterError
        Unknown columns, a non-numeric outcome, an inner group not nested in the outer one,
        fewer than two groups, a rank-deficient design.

    Examples
    --------
    >>> from icsresearch.panel import trust_year_panel
    >>> p = trust_year_panel("demo")
    >>> res = fit_mixed(p, "ae_4hr_pct ~ management_score + C(year)", group="trust_code")
    >>> res.extra["variance_components"]
    """
    core.check_dataframe(data)
    inference = core.resolve_inference(
        CAPABILITIES,
        vcov=vcov,
        cluster=cluster,
        convention=convention,
        small_sample=small_sample,
        alpha=alpha,
    )
    alpha = inference.alpha
    groups = _group_list(group)
    reml = check_bool("reml", reml)
    if isinstance(zero_tol, bool) or not (isinstance(zero_tol, float | int) and 0 <= zero_tol < 1):
        raise InvalidParameterError(f"zero_tol must be in [0, 1), got {zero_tol!r}")
    bad_methods = [m for m in methods if m not in SM_METHODS]
    if bad_methods or not methods:
        raise InvalidParameterError(
            f"methods={list(methods)!r}: each must be one of {list(SM_METHODS)}"
        )
    f = core.parse_formula(
        formula,
        estimator="fit_mixed",
        fixed_effects="the random intercepts are given by group=, not in the formula; fixed "
        "effects are regressors such as C(year)",
    )
    lhs, rhs = f.outcome, f.rhs
    check_columns(data, {"outcome": [lhs], "group": groups})
    rhs_cols = formula_columns(rhs, data.columns)
    check_types(data, estimator="fit_mixed", outcome=[lhs], regressors=rhs_cols, formula=formula)
    used = list(dict.fromkeys([lhs, *rhs_cols, *groups]))
    complete = data[used].notna().all(axis=1).to_numpy()
    frame = data.loc[complete, used]
    n_missing = int((~complete).sum())
    if len(frame) == 0:
        raise InvalidParameterError(f"no complete rows for {used} in {data_label(data)}")

    from formulaic import Formula

    try:
        mm = Formula(rhs).get_model_matrix(frame, na_action="raise")
    except Exception as exc:
        raise InvalidParameterError(
            f"cannot build the design of {rhs!r}: {type(exc).__name__}: {exc}"
        ) from None
    names = [str(c) for c in mm.columns]
    X = np.asarray(mm, dtype=float)
    y = frame[lhs].to_numpy(dtype=float)
    if not np.isfinite(X).all() or not np.isfinite(y).all():
        raise InvalidParameterError(
            f"{formula!r} gives infinite values in {data_label(data)} (e.g. log of 0)\n  Fix: "
            "drop or correct those rows"
        )
    if np.linalg.matrix_rank(X) < X.shape[1]:
        raise InvalidParameterError(
            f"the fixed-effects design of {rhs!r} is rank deficient (collinear regressors)\n"
            "  Fix: remove redundant regressors"
        )

    # group codes: rows ordered as in data; inner groups nested in outer ones
    if len(groups) == 2:
        outer_lab, inner_lab = frame[groups[0]], frame[groups[1]]
        n_out_per_inner = frame.groupby(groups[1], observed=True)[groups[0]].nunique()
        if (n_out_per_inner > 1).any():
            bad = list(n_out_per_inner[n_out_per_inner > 1].index[:5])
            raise InvalidParameterError(
                f"{groups[1]!r} is not nested in {groups[0]!r}: {bad} belong to several "
                f"{groups[0]} values\n  Fix: fix the mapping, or fit one level only"
            )
        outer = pd.factorize(outer_lab, sort=True)[0]
        inner = pd.factorize(inner_lab, sort=True)[0]
    else:
        inner = pd.factorize(frame[groups[0]], sort=True)[0]
        outer = inner
    n_inner = int(inner.max()) + 1
    n_outer = int(outer.max()) + 1
    if n_inner < 2 or (len(groups) == 2 and n_outer < 2):
        raise InvalidParameterError(
            f"fewer than two groups in {groups}: a random intercept needs several groups"
        )
    inner_outer = np.zeros(n_inner, dtype=np.intp)
    inner_outer[inner] = outer
    m_inner = np.bincount(inner, minlength=n_inner).astype(float)
    d = _Design(y, X, outer, inner, inner_outer, n_outer, n_inner, m_inner, len(groups) == 2)
    prof = _Profile(d, reml)
    free = np.array([d.has_outer, True])

    warnings: list[str] = []
    notes: list[str] = []
    if n_missing:
        notes.append(f"{n_missing:,} rows with missing values were dropped.")
    sm = _statsmodels_fit(d, reml, methods)
    if sm["ok"]:
        start = sm["theta"]
        if sm["problems"]:
            notes.append(
                f"statsmodels MixedLM failed with {'; '.join(sm['problems'])}; "
                f"{sm['method']} converged."
            )
    else:
        start = _moment_start(d)
        warnings.append(
            "statsmodels MixedLM failed with every optimiser ("
            + "; ".join(sm["problems"])
            + "); the estimates come from the profiled likelihood alone."
        )
    theta = prof.maximise(start, free)
    sol = prof.solve(theta)
    beta, sigma2, Minv = sol["beta"], sol["sigma2"], sol["Minv"]
    cov = sigma2 * Minv
    se = np.sqrt(np.diag(cov))

    # variance components and flags
    comp_names = [*groups] if d.has_outer else [groups[0]]
    comps = (
        {groups[0]: theta[0] * sigma2, groups[1]: theta[1] * sigma2}
        if d.has_outer
        else {groups[0]: theta[1] * sigma2}
    )
    total = sigma2 + sum(comps.values())
    icc = {k: v / total for k, v in comps.items()}
    singular = [k for k in comp_names if icc[k] < zero_tol]
    zero_check = None
    if singular:
        for k in singular:
            warnings.append(
                f"The {k} variance component is ~0 (estimate {comps[k]:.3g}, {icc[k]:.2%} of the "
                f"total variance, below zero_tol={zero_tol:g}): a singular fit. The {k} random "
                "intercept is not supported by the data; the fixed effects equal those of the "
                "model without it (checked in extra['zero_variance_check'])."
            )
        # the model without the ~0 component(s): pooled OLS (by least squares, independently of
        # the likelihood code), or the other level alone for a nested model
        th0 = theta.copy()
        for k in singular:
            th0[0 if (d.has_outer and k == groups[0]) else 1] = 0.0
        keep_free = free & (th0 > 0)
        if keep_free.any():
            ref = {"beta": prof.solve(prof.maximise(th0, keep_free))["beta"]}
            ref_label = "other level only"
        else:
            ref = {"beta": np.linalg.lstsq(X, y, rcond=None)[0]}
            ref_label = "OLS"
        diff = np.abs(beta - ref["beta"]) / np.where(se > 0, se, 1.0)
        zero_check = pd.DataFrame(
            {
                "term": names,
                "mixed": beta,
                "without_zero_components": ref["beta"],
                "difference_in_se": diff,
                "statsmodels": sm["params"] if sm["ok"] else np.nan,
            }
        )
        zero_check.attrs["reference_model"] = ref_label
        if float(diff.max()) > 1e-3:
            warnings.append(
                f"The fixed effects differ from the model without the ~0 variance component by "
                f"up to {float(diff.max()):.2g} standard errors: the optimum is not on the "
                "boundary; read the variance components with care."
            )
    if sm["ok"]:
        gap = np.abs(sm["params"] - beta) / np.where(se > 0, se, 1.0)
        zero_sm = [
            n for n, b, s in zip(names, beta, sm["params"], strict=True) if s == 0 and b != 0
        ]
        if zero_sm:
            warnings.append(
                f"statsmodels MixedLM returned {zero_sm} as exactly 0 (its known failure when a "
                "random-effect variance is ~0, statsmodels issue #10239); the GLS estimates "
                "reported here are correct."
            )
        elif float(gap.max()) > SM_DISAGREEMENT_SE:
            warnings.append(
                f"statsmodels MixedLM's fixed effects differ from the exact GLS estimates by up "
                f"to {float(gap.max()):.2g} standard errors ({sm['method']}); the GLS estimates "
                "are reported."
            )
        if sm["loglik"] > sol["loglik"] + 1e-6 * max(1.0, abs(sol["loglik"])):
            warnings.append(
                f"statsmodels found a higher log-likelihood ({sm['loglik']:.6f}) than the "
                f"refined optimum ({sol['loglik']:.6f}): check the fit."
            )

    # Nakagawa & Schielzeth R-squared
    xb = X @ beta
    var_f = float(np.var(xb))
    rsq = {
        "marginal": var_f / (var_f + total),
        "conditional": (var_f + sum(comps.values())) / (var_f + total),
    }
    random_effects = None
    if not d.has_outer:
        r = y - xb
        rs = _sums(r[:, None], inner, n_inner)[:, 0]
        blup = theta[1] / (1.0 + m_inner * theta[1]) * rs
        labels = pd.factorize(frame[groups[0]], sort=True)[1]
        random_effects = pd.Series(blup, index=pd.Index(labels, name=groups[0]), name="intercept")

    for w in warnings:
        core.warn(w)
    n_groups = {groups[0]: n_outer if d.has_outer else n_inner}
    if d.has_outer:
        n_groups[groups[1]] = n_inner
    level = " / ".join(groups)
    spec = core.ModelSpec(
        function="fit_mixed",
        formula=formula,
        inference=inference,
        options={"group": groups, "reml": reml, "zero_tol": zero_tol, "methods": list(methods)},
    )
    extra: dict[str, Any] = {
        "estimator": "mixed",
        "variance_components": {**comps, "residual": sigma2},
        "icc": icc,
        "theta": dict(zip(comp_names, theta[free], strict=True)),
        "loglik": sol["loglik"],
        "reml": reml,
        "singular": singular,
        "zero_variance_check": zero_check,
        "random_effects": random_effects,
        "n_missing": n_missing,
        "statsmodels": {
            k: (pd.Series(v, index=names) if k in ("params", "bse") else v)
            for k, v in sm.items()
            if k != "ok"
        },
    }
    return RegressionResult(
        params=pd.Series(beta, index=names, name="estimate"),
        cov=pd.DataFrame(cov, index=names, columns=names),
        nobs=int(y.size),
        df_resid=None,
        model=f"linear mixed model, random intercepts: {level} ({'REML' if reml else 'ML'})",
        cov_type="model-based (as lme4)",
        dependent=lhs,
        formula=formula,
        n_groups=n_groups,
        rsquared=rsq,
        dist="normal",
        sample=frame.index,
        fixed_effects=(),
        extra=extra,
        warnings=[*notes, *warnings],
        **core.result_fields(data, spec),
    )
