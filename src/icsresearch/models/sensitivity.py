r"""How robust is an event study to violations of parallel trends? Rambachan & Roth (2023).

An event study estimates ``beta = tau + delta``: the effects ``tau`` (zero before adoption) plus
the difference in trends ``delta`` that parallel trends assumes away after adoption. Rambachan &
Roth replace "``delta_post = 0``" by "``delta`` lies in a set ``Delta`` informed by the
pre-period estimates" and give confidence intervals for ``theta = l' tau_post`` (one post-period
effect, or an average) valid for every ``delta`` in ``Delta``. Reporting them over a grid of the
set's size shows how large a violation the conclusion survives (the *breakdown value*).

Implemented here: **smoothness**, ``Delta^SD(M)``: the slope of the difference in trends changes
by at most ``M`` between consecutive periods,
``|(delta_{t+1} - delta_t) - (delta_t - delta_{t-1})| <= M`` (``delta = 0`` in the reference
period). ``M = 0`` allows exactly linear trends extrapolated from the pre-periods. The interval
is the optimal **fixed-length confidence interval** (FLCI) of Armstrong & Kolesar, used by
Rambachan & Roth for ``Delta^SD``: among affine estimators ``v' beta_hat`` with
``v_post = l``, choose ``v_pre`` to minimise the half-length
``sigma_v * cv_alpha(b(v) / sigma_v)``, where ``b(v)`` is the worst-case bias over
``Delta^SD(M)`` and ``cv_alpha(t)`` the ``1 - alpha`` quantile of ``|N(t, 1)|``.

How it is computed (our derivation, not a port): with ``D`` the second-difference operator on
``delta`` (the reference entry removed), every ``delta`` is a linear trend plus ``D^+ (D delta)``.
The bias ``v' delta`` is bounded only if ``v`` annihilates linear trends
(``sum_t t v_t = 0``), and then ``b(v) = M ||(D^+)' v||_1`` exactly. For a bias budget ``B`` the
least-variance ``v`` solves a small quadratic programme (SLSQP); the half-length is then
minimised over ``B`` (bounded scalar search between the least-bias and the least-variance
estimators).

**Relative magnitudes**, ``Delta^RM(Mbar)``: every post-period change in the difference in
trends is at most ``Mbar`` times the largest pre-period change (between consecutive periods).
The set is a union over which pre-period change is the largest (``s``) and its sign; for each,
``A delta <= 0`` is a polyhedron and ``theta`` is tested with Andrews, Roth & Pakes's
conditional / least-favourable hybrid test ("C-LF"; first stage of size ``alpha / 10``), using
the post-period moments only and the other post-period effects as nuisance parameters, inverted
over HonestDiD's grid (1000 values over +-20 standard errors around zero). Our implementation
(not a port) writes the test statistic ``eta = min_xi max_j (y - X xi)_j / sd_j`` as the maximum
over the vertices of its dual feasible set, enumerated once, so every grid value and every
simulated draw of the least-favourable critical value costs one matrix product; the conditional
critical value truncates the normal at the bounds of the event "this vertex is the maximiser"
(polyhedral lemma) and at the least-favourable value. The least-favourable value is simulated
(1000 draws, ``seed``), as in HonestDiD, with NumPy's generator instead of R's.

Checked against published numbers (``tests/test_models_sensitivity.py``): the HonestDiD README's
Medicaid example -- the FLCI ends for ``M = 0, ..., 0.05`` within half a printed digit plus
0.15% of the half-length (HonestDiD simulates the folded-normal critical value; ours is exact),
and the relative-magnitudes ends for ``Mbar = 0.5, ..., 2`` (all 8 agree to the printed digits;
the test allows one grid step for simulation noise); the Stata port's README for the average
effect; the Python port ``honestdid`` 0.1.1 for the FLCI; brute-force optima.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import optimize, stats

from ..errors import InvalidParameterError
from ..options import check_alpha as _check_alpha


def _alpha_or_error(alpha: object) -> float:
    """``options.check_alpha`` with the package's "Fix:" line."""
    try:
        return _check_alpha(alpha)
    except InvalidParameterError as err:
        raise InvalidParameterError(f"{err}\n  Fix: e.g. alpha=0.05 for 95% intervals") from None


Restriction = Literal["smoothness", "relative_magnitudes"]


@dataclass
class SensitivityResult:
    """Robust confidence intervals over a grid of the size of the allowed violation.

    Attributes
    ----------
    table
        One row per grid value: ``M, lb, ub, method, restriction``.
    original
        The usual interval under parallel trends: ``estimate, se, lb, ub``.
    breakdown
        Smallest ``M`` at which the robust interval includes zero (root of the interval's
        near end, to 1e-7 of the original standard error), NaN if the original interval includes zero, ``inf`` if
        no ``M`` does (cannot happen for ``Delta^SD``).
    l_vec
        Weights of the target ``theta = l' tau_post``.
    alpha
        Intervals have level ``1 - alpha``.
    restriction, method
        ``"smoothness"`` and ``"FLCI"``.
    extra
        ``num_pre``, ``num_post``, ``rel_times`` (event times of ``beta`` when known).
    """

    table: pd.DataFrame
    original: dict[str, float]
    breakdown: float
    l_vec: np.ndarray
    alpha: float
    restriction: str
    method: str
    extra: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        o = self.original
        lines = [
            f"Rambachan-Roth sensitivity ({self.restriction}, {self.method}, "
            f"{100 * (1 - self.alpha):g}% intervals)",
            f"  original: [{o['lb']:.6g}, {o['ub']:.6g}]",
        ]
        for _, r in self.table.iterrows():
            lines.append(f"  M = {r['M']:<8g} [{r['lb']:.6g}, {r['ub']:.6g}]")
        if np.isnan(self.breakdown):
            verdict = "none: the original interval already includes 0"
        elif np.isinf(self.breakdown):
            verdict = "none found: no M tried makes the interval include 0"
        else:
            verdict = f"{self.breakdown:.6g}"
        lines.append(f"  breakdown M (interval first includes 0): {verdict}")
        return "\n".join(lines)


# --- inputs ----------------------------------------------------------------------------------


def _from_result(result: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """beta, sigma and event times from an EventTimeResult or an EventStudyResult."""
    if hasattr(result, "event_vector") and hasattr(result, "estimator"):
        if result.estimator == "callaway-santanna":
            if result.extra.get("base_period") != "universal":
                raise InvalidParameterError(
                    "Rambachan-Roth sensitivity needs pre-period estimates relative to one base "
                    "period; this Callaway-Sant'Anna result used base_period='varying'"
                    "\n  Fix: refit with callaway_santanna(..., base_period='universal')"
                )
        elif result.estimator == "imputation":
            raise InvalidParameterError(
                "the imputation estimator has no pre-period event-time estimates to bound the "
                "violation of parallel trends with\n  Fix: use callaway_santanna(..., "
                "base_period='universal') or event_study(...), or pass beta and sigma"
            )
        return result.event_vector()
    if hasattr(result, "event_table") and hasattr(result, "cov"):
        table = result.event_table()
        if table["binned"].any():
            raise InvalidParameterError(
                "the event study bins its endpoints, so its end coefficients are not single "
                "periods\n  Fix: refit with endpoints='drop' (or pass beta and sigma yourself)"
            )
        est = table[~table["reference"]]
        terms = list(est["term"])
        sigma = result.cov.loc[terms, terms].to_numpy(dtype=float)
        return est["estimate"].to_numpy(dtype=float), sigma, est["rel_time"].to_numpy()
    raise InvalidParameterError(
        f"cannot read event-study estimates from a {type(result).__name__}"
        "\n  Fix: pass an EventTimeResult, an EventStudyResult, or beta and sigma arrays"
    )


def _inputs(
    estimates: Any, sigma: Any, num_pre: Any, num_post: Any
) -> tuple[np.ndarray, np.ndarray, int, int, np.ndarray | None]:
    if sigma is None:
        beta, sig, times = _from_result(estimates)
        times = np.asarray(times, dtype=int)
        pre, post = times[times < 0], times[times >= 0]
        want_pre = np.arange(-len(pre) - 1, -1)
        if len(pre) == 0 or not np.array_equal(pre, want_pre):
            raise InvalidParameterError(
                f"need pre-periods -2, -3, ... contiguous before the reference period -1; got "
                f"event times {times.tolist()}\n  Fix: estimate with the reference period -1 and "
                "at least one earlier period"
            )
        if len(post) == 0 or not np.array_equal(post, np.arange(len(post))):
            raise InvalidParameterError(
                f"need post-periods 0, 1, ... contiguous; got event times {times.tolist()}"
                "\n  Fix: estimate every period from adoption on"
            )
        return beta, sig, len(pre), len(post), times
    beta = np.asarray(estimates, dtype=float).ravel()
    sig = np.asarray(sigma, dtype=float)
    if num_pre is None or num_post is None:
        raise InvalidParameterError(
            "with beta and sigma arrays, say how many are pre-periods\n  Fix: pass num_pre= "
            "and num_post= (beta: pre-periods first, the reference period left out)"
        )
    for name, value in (("num_pre", num_pre), ("num_post", num_post)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
            raise InvalidParameterError(
                f"{name}={value!r} must be an integer >= 1\n  Fix: count them"
            )
    if beta.size != num_pre + num_post or sig.shape != (beta.size, beta.size):
        raise InvalidParameterError(
            f"beta has {beta.size} entries and sigma shape {sig.shape}; expected "
            f"{num_pre + num_post} and ({num_pre + num_post}, {num_pre + num_post})"
            "\n  Fix: pass the pre- and post-period coefficients (reference left out) and "
            "their covariance"
        )
    if not (np.all(np.isfinite(beta)) and np.all(np.isfinite(sig))):
        raise InvalidParameterError(
            "beta or sigma has missing or infinite values\n  Fix: drop the reference period"
        )
    if not np.allclose(sig, sig.T, atol=1e-12 * max(1.0, np.abs(sig).max())):
        raise InvalidParameterError("sigma is not symmetric\n  Fix: pass a covariance matrix")
    if np.linalg.eigvalsh((sig + sig.T) / 2).min() < -1e-10 * np.abs(sig).max():
        raise InvalidParameterError(
            "sigma is not positive semi-definite\n  Fix: pass a covariance matrix"
        )
    return beta, (sig + sig.T) / 2, int(num_pre), int(num_post), None


# --- the FLCI for Delta^SD -------------------------------------------------------------------


def folded_normal_quantile(alpha: float, t: float) -> float:
    """The ``1 - alpha`` quantile of ``|N(t, 1)|``.

    Parameters
    ----------
    alpha
        One minus the probability.
    t
        Mean of the normal (its absolute value is used).

    Returns
    -------
    float
    """
    t = abs(float(t))

    def excess(c: float) -> float:
        return stats.norm.cdf(c - t) - stats.norm.cdf(-c - t) - (1 - alpha)

    return float(optimize.brentq(excess, 0.0, t + 10.0, xtol=1e-14, rtol=1e-15))


@dataclass
class _SmoothnessProblem:
    sigma: np.ndarray
    l_vec: np.ndarray
    num_pre: int
    num_post: int
    K: np.ndarray = field(init=False)  # b(v) = M * ||K v||_1 for trend-free v
    trend: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        p, q = self.num_pre, self.num_post
        times = np.r_[np.arange(-p, 0), np.arange(1, q + 1)]  # reference 0 left out
        full = np.arange(-p, q + 1)
        rows = []
        for c in range(-p + 1, q):
            r = np.zeros(full.size)
            r[c - 1 + p], r[c + p], r[c + 1 + p] = 1.0, -2.0, 1.0
            rows.append(np.delete(r, p))
        D = np.array(rows).reshape(-1, p + q)
        self.K = np.linalg.pinv(D).T
        self.trend = times.astype(float)

    def full(self, v_pre: np.ndarray) -> np.ndarray:
        return np.r_[v_pre, self.l_vec]

    def sd(self, v_pre: np.ndarray) -> float:
        b = self.full(v_pre)
        return float(np.sqrt(max(b @ self.sigma @ b, 0.0)))

    def bias(self, v_pre: np.ndarray) -> float:
        return float(np.abs(self.K @ self.full(v_pre)).sum())  # per unit of M

    def _eq(self) -> tuple[np.ndarray, float]:
        p = self.num_pre
        return self.trend[:p], -float(self.trend[p:] @ self.l_vec)

    def least_variance(self) -> np.ndarray:
        """v_pre minimising the variance subject to annihilating linear trends."""
        p = self.num_pre
        S = self.sigma
        a, rhs = self._eq()
        # min (v, l)' S (v, l) s.t. a'v = rhs: KKT system
        kkt = np.block([[2 * S[:p, :p], a[:, None]], [a[None, :], np.zeros((1, 1))]])
        r = np.r_[-2 * S[:p, p:] @ self.l_vec, rhs]
        sol = np.linalg.lstsq(kkt, r, rcond=None)[0]
        return sol[:p]

    def least_bias(self) -> np.ndarray:
        """v_pre minimising the worst-case bias (an LP in v and |K v|)."""
        p, r = self.num_pre, self.K.shape[0]
        a, rhs = self._eq()
        Kp, Kl = self.K[:, :p], self.K[:, p:] @ self.l_vec
        c = np.r_[np.zeros(p), np.ones(r)]
        A_ub = np.block([[Kp, -np.eye(r)], [-Kp, -np.eye(r)]])
        b_ub = np.r_[-Kl, Kl]
        A_eq = np.r_[a, np.zeros(r)][None, :]
        res = optimize.linprog(
            c,
            A_ub=A_ub,
            b_ub=b_ub,
            A_eq=A_eq,
            b_eq=[rhs],
            bounds=[(None, None)] * (p + r),
            method="highs",
        )
        return res.x[:p]

    def least_variance_given_bias(self, budget: float, start: np.ndarray) -> np.ndarray:
        """v_pre minimising the variance with worst-case bias (per unit M) <= budget."""
        p, r = self.num_pre, self.K.shape[0]
        a, rhs = self._eq()
        Kp, Kl = self.K[:, :p], self.K[:, p:] @ self.l_vec
        S = self.sigma
        Spp, Spl = S[:p, :p], S[:p, p:] @ self.l_vec
        scale = float(np.trace(Spp)) / p or 1.0

        def var(x: np.ndarray) -> float:
            v = x[:p]
            return float(v @ Spp @ v + 2 * v @ Spl) / scale

        def grad(x: np.ndarray) -> np.ndarray:
            v = x[:p]
            return np.r_[2 * (Spp @ v + Spl), np.zeros(r)] / scale

        u0 = np.abs(Kp @ start + Kl) + 1e-12
        cons = [
            {
                "type": "eq",
                "fun": lambda x: np.array([a @ x[:p] - rhs]),
                "jac": lambda x: np.r_[a, np.zeros(r)][None, :],
            },
            {
                "type": "ineq",
                "fun": lambda x: x[p:] - (Kp @ x[:p] + Kl),
                "jac": lambda x: np.hstack([-Kp, np.eye(r)]),
            },
            {
                "type": "ineq",
                "fun": lambda x: x[p:] + (Kp @ x[:p] + Kl),
                "jac": lambda x: np.hstack([Kp, np.eye(r)]),
            },
            {
                "type": "ineq",
                "fun": lambda x: np.array([budget - x[p:].sum()]),
                "jac": lambda x: np.r_[np.zeros(p), -np.ones(r)][None, :],
            },
        ]
        res = optimize.minimize(
            var,
            np.r_[start, u0],
            jac=grad,
            constraints=cons,
            method="SLSQP",
            options={"ftol": 1e-15, "maxiter": 1000},
        )
        return res.x[:p]


def flci_smoothness(
    beta: Sequence[float] | np.ndarray,
    sigma: np.ndarray,
    *,
    num_pre: int,
    num_post: int,
    M: float,
    l_vec: Sequence[float] | None = None,
    alpha: float = 0.05,
) -> dict[str, Any]:
    """Optimal fixed-length confidence interval for ``theta = l' tau_post`` under ``Delta^SD(M)``.

    Parameters
    ----------
    beta
        Event-study coefficients: ``num_pre`` pre-periods (earliest first), then ``num_post``
        post-periods; the reference period (just before adoption) left out.
    sigma
        Their covariance.
    num_pre, num_post
        How many of each.
    M
        Largest change in the slope of the difference in trends between consecutive periods.
    l_vec
        Weights of the target over the post-periods (default: the first post-period).
    alpha
        Level ``1 - alpha``.

    Returns
    -------
    dict
        ``lb, ub, estimate`` (``v' beta``), ``half_length, sd, max_bias, v`` (the estimator's
        weights on ``beta``).
    """
    beta, sig, p, q, _ = _inputs(beta, sigma, num_pre, num_post)
    alpha = _alpha_or_error(alpha)
    lv = _l_vec(l_vec, q)
    if isinstance(M, bool) or not isinstance(M, int | float | np.floating) or not M >= 0:
        raise InvalidParameterError(f"M={M!r} must be a number >= 0\n  Fix: e.g. M=0.01")
    return _flci(beta, sig, p, q, float(M), lv, alpha)


def _flci(
    beta: np.ndarray, sig: np.ndarray, p: int, q: int, M: float, lv: np.ndarray, alpha: float
) -> dict[str, Any]:
    prob = _SmoothnessProblem(sig, lv, p, q)
    v_var = prob.least_variance()
    if M == 0:
        v_best = v_var
        bias = 0.0
        sd = prob.sd(v_best)
        half = stats.norm.ppf(1 - alpha / 2) * sd
    else:
        v_bias = prob.least_bias()
        lo, hi = prob.bias(v_bias), prob.bias(v_var)
        cache: dict[float, np.ndarray] = {}

        def at(budget: float) -> np.ndarray:
            if budget not in cache:
                start = v_var if budget >= hi else v_bias
                cache[budget] = (
                    v_var if budget >= hi else prob.least_variance_given_bias(budget, start)
                )
            return cache[budget]

        def half_length(budget: float) -> float:
            v = at(budget)
            sd_v = prob.sd(v)
            b = M * prob.bias(v)
            return sd_v * folded_normal_quantile(alpha, b / sd_v) if sd_v > 0 else b

        if hi - lo <= 1e-12 * max(1.0, hi):
            best = hi
        else:
            # coarse grid, then a bounded search around the best grid point
            grid = np.linspace(lo, hi, 11)
            vals = [half_length(b) for b in grid]
            k = int(np.argmin(vals))
            a_, b_ = grid[max(k - 1, 0)], grid[min(k + 1, grid.size - 1)]
            res = optimize.minimize_scalar(
                half_length,
                bounds=(a_, b_),
                method="bounded",
                options={"xatol": 1e-9 * max(hi, 1e-300)},
            )
            best = res.x if res.fun <= vals[k] else grid[k]
        v_best = at(best)
        sd = prob.sd(v_best)
        bias = M * prob.bias(v_best)
        half = sd * folded_normal_quantile(alpha, bias / sd) if sd > 0 else bias
    v = prob.full(v_best)
    est = float(v @ beta)
    return {
        "lb": est - half,
        "ub": est + half,
        "estimate": est,
        "half_length": float(half),
        "sd": float(sd),
        "max_bias": float(bias),
        "v": v,
    }


def _l_vec(l_vec: Any, q: int) -> np.ndarray:
    if l_vec is None:
        out = np.zeros(q)
        out[0] = 1.0
        return out
    out = np.asarray(l_vec, dtype=float).ravel()
    if out.size != q or not np.all(np.isfinite(out)) or not np.any(out != 0):
        raise InvalidParameterError(
            f"l_vec={list(out)!r} must have one finite weight per post-period ({q}), not all zero"
            "\n  Fix: e.g. l_vec=[1, 0, ...] for the first post-period, or equal weights for "
            "the average"
        )
    return out


# --- relative magnitudes: Delta^RM(Mbar) with the conditional / least-favourable hybrid test ---


def _rm_constraints(p: int, q: int, Mbar: float, s: int, positive: bool) -> np.ndarray:
    """Rows of ``A delta <= 0`` for Delta^RM(Mbar) when the largest pre-period change is at s.

    Periods ``-p..q`` with the reference 0 in the middle; ``s`` in ``-(p-1)..0`` indexes the
    pre-period change ``delta_s - delta_{s-1}`` taken as the largest (with sign ``positive``):
    every pre-period change is at most it in absolute value, every post-period change at most
    ``Mbar`` times it.
    """
    T = p + q
    diff = np.zeros((T, T + 1))  # consecutive changes over periods -p..q
    diff[np.arange(T), np.arange(T)] = -1.0
    diff[np.arange(T), np.arange(T) + 1] = 1.0
    largest = np.zeros(T + 1)
    largest[p + s - 1], largest[p + s] = -1.0, 1.0
    if not positive:
        largest = -largest
    bound = np.vstack([np.tile(largest, (p, 1)), np.tile(Mbar * largest, (q, 1))])
    A = np.vstack([diff - bound, -diff - bound])
    A = A[np.sum(A**2, axis=1) > 1e-10]
    return np.delete(A, p, axis=1)  # the reference period's delta is 0


def _dual_vertices(sd: np.ndarray, X: np.ndarray) -> np.ndarray:
    """Vertices of {g >= 0, g' sd = 1, g' X = 0}: eta(y) = max over them of g' y."""
    k, m = X.shape
    eq = np.column_stack([sd, X]).T  # (1 + m) x k
    rhs = np.r_[1.0, np.zeros(m)]
    out = []
    for size in range(1, m + 2):
        for rows in itertools.combinations(range(k), size):
            sub = eq[:, rows]
            if np.linalg.matrix_rank(sub) < size:
                continue
            g_sub = np.linalg.lstsq(sub, rhs, rcond=None)[0]
            if np.max(np.abs(sub @ g_sub - rhs)) > 1e-10 or np.any(g_sub < -1e-12):
                continue
            g = np.zeros(k)
            g[list(rows)] = np.maximum(g_sub, 0.0)
            out.append(g)
    if not out:
        raise InvalidParameterError(  # the nuisance parameters make eta unbounded below
            "the relative-magnitudes moments cannot be tested (no dual vertex)"
            "\n  Fix: check beta and sigma"
        )
    return np.unique(np.round(np.array(out), 14), axis=0)


def _rm_accept(
    beta: np.ndarray,
    sig: np.ndarray,
    p: int,
    q: int,
    lv: np.ndarray,
    Mbar: float,
    s: int,
    positive: bool,
    thetas: np.ndarray,
    alpha: float,
    kappa: float,
    draws: np.ndarray,
) -> np.ndarray:
    """Which grid values of theta the LF-hybrid test accepts for one (s, sign)."""
    A = _rm_constraints(p, q, Mbar, s, positive)
    rows = np.flatnonzero(np.any(A[:, p:] != 0, axis=1))  # post-period moments only
    A = A[rows]
    # theta and nuisance coordinates of tau_post: rows of Gamma are l' and unit vectors
    Gamma = np.vstack([lv, np.delete(np.eye(q), int(np.flatnonzero(lv != 0)[0]), axis=0)])
    AG = A[:, p:] @ np.linalg.inv(Gamma)
    a_theta, X = AG[:, 0], AG[:, 1:]
    Y = A @ beta
    SY = A @ sig @ A.T
    sd = np.sqrt(np.diag(SY))
    V = _dual_vertices(sd, X)
    # least-favourable critical value: eta of simulated N(0, SY) moments
    L = np.linalg.cholesky(SY + 1e-14 * np.eye(len(sd)) * np.max(np.diag(SY)))
    sims = draws[:, : len(sd)] @ L.T
    lf_cv = float(np.quantile((sims @ V.T).max(axis=1), 1 - kappa))
    mod_size = (alpha - kappa) / (1 - kappa)
    accept = np.zeros(thetas.size, dtype=bool)
    for i, theta in enumerate(thetas):
        y = Y - a_theta * theta
        vals = V @ y
        j = int(np.argmax(vals))
        eta = vals[j]
        if eta > lf_cv:
            continue
        g = V[j]
        var_g = float(g @ SY @ g)
        if var_g <= np.finfo(float).eps:
            accept[i] = eta <= 0
            continue
        # truncation of g'y given the other directions (polyhedral lemma): the event that
        # vertex j stays optimal is {(V_k - g)' y <= 0}
        c = SY @ g / var_g
        z = y - c * (g @ y)
        diffs = V - g
        slope = diffs @ c
        level = diffs @ z
        with np.errstate(divide="ignore", invalid="ignore"):
            cut = -level / slope
        pos, neg = slope > 1e-14, slope < -1e-14
        vup = float(np.min(cut[pos])) if pos.any() else np.inf
        vlo = float(np.max(cut[neg])) if neg.any() else -np.inf
        sd_g = np.sqrt(var_g)
        zlo, zup = vlo / sd_g, min(vup, lf_cv) / sd_g
        stat = eta / sd_g
        if not zlo <= stat <= zup:
            accept[i] = True
            continue
        cval = max(0.0, float(stats.truncnorm.ppf(1 - mod_size, zlo, zup)))
        accept[i] = stat <= cval
    return accept


# --- the public entry point ------------------------------------------------------------------


def relative_magnitudes_ci(
    beta: Sequence[float] | np.ndarray,
    sigma: np.ndarray,
    *,
    num_pre: int,
    num_post: int,
    Mbar: float,
    l_vec: Sequence[float] | None = None,
    alpha: float = 0.05,
    grid_points: int = 1000,
    sims: int = 1000,
    seed: int = 0,
) -> dict[str, Any]:
    """Confidence set for ``theta = l' tau_post`` under ``Delta^RM(Mbar)`` (C-LF hybrid test).

    Parameters
    ----------
    beta, sigma, num_pre, num_post
        As :func:`flci_smoothness`.
    Mbar
        Post-period changes in the difference in trends are at most ``Mbar`` times the largest
        pre-period change.
    l_vec
        Weights of the target over the post-periods (default: the first post-period).
    alpha
        Level ``1 - alpha``; the least-favourable first stage has size ``alpha / 10``.
    grid_points
        Values of ``theta`` tested, evenly spaced over ``+-20`` standard errors of the original
        estimate around zero (HonestDiD's grid).
    sims, seed
        Draws and seed of the simulated least-favourable critical value.

    Returns
    -------
    dict
        ``lb, ub`` (smallest and largest accepted grid value; NaN if none), ``grid`` and
        ``accept`` (the test's decision at each grid value), ``open`` (True if an end of the
        grid is accepted: the set may extend beyond it).
    """
    beta, sig, p, q, _ = _inputs(beta, sigma, num_pre, num_post)
    alpha = _alpha_or_error(alpha)
    lv = _l_vec(l_vec, q)
    if isinstance(Mbar, bool) or not isinstance(Mbar, int | float | np.floating) or not Mbar >= 0:
        raise InvalidParameterError(f"Mbar={Mbar!r} must be a number >= 0\n  Fix: e.g. Mbar=1")
    for name, value, low in (("grid_points", grid_points, 3), ("sims", sims, 100)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
            raise InvalidParameterError(
                f"{name}={value!r} must be an integer >= {low}\n  Fix: e.g. {name}=1000"
            )
    return _rm_set(beta, sig, p, q, float(Mbar), lv, alpha, int(grid_points), int(sims), seed)


def _rm_set(
    beta: np.ndarray,
    sig: np.ndarray,
    p: int,
    q: int,
    Mbar: float,
    lv: np.ndarray,
    alpha: float,
    grid_points: int,
    sims: int,
    seed: int,
) -> dict[str, Any]:
    sd_theta = float(np.sqrt(lv @ sig[p:, p:] @ lv))
    thetas = np.linspace(-20 * sd_theta, 20 * sd_theta, grid_points)
    # the same standard normal draws for every (s, sign), as HonestDiD re-seeds for each
    draws = np.random.default_rng(seed).standard_normal((sims, 2 * (p + q)))
    accept = np.zeros(grid_points, dtype=bool)
    for s_ in range(-(p - 1), 1):
        for positive in (True, False):
            accept |= _rm_accept(
                beta, sig, p, q, lv, Mbar, s_, positive, thetas, alpha, alpha / 10, draws
            )
    is_open = bool(accept[0] or accept[-1])
    if is_open:
        warnings.warn(
            f"the relative-magnitudes set for Mbar={Mbar:g} reaches the end of the grid "
            "(+-20 standard errors); its bound there is the grid's, not the set's",
            UserWarning,
            stacklevel=3,
        )
    ok = thetas[accept]
    return {
        "lb": float(ok.min()) if ok.size else float("nan"),
        "ub": float(ok.max()) if ok.size else float("nan"),
        "grid": thetas,
        "accept": accept,
        "open": is_open,
    }


def honest_did(
    estimates: Any,
    sigma: np.ndarray | None = None,
    *,
    num_pre: int | None = None,
    num_post: int | None = None,
    restriction: Restriction = "smoothness",
    grid: Sequence[float] | None = None,
    l_vec: Sequence[float] | None = None,
    alpha: float = 0.05,
    breakdown: bool = True,
    grid_points: int = 1000,
    seed: int = 0,
) -> SensitivityResult:
    """Rambachan & Roth robust confidence intervals over a grid of ``M``, and the breakdown value.

    Parameters
    ----------
    estimates
        An :class:`~icsresearch.models.staggered.EventTimeResult` (Callaway & Sant'Anna with
        ``base_period="universal"``), an ``EventStudyResult`` (reference period -1, no binned
        endpoints), or an array ``beta`` (pre-periods first, reference left out).
    sigma
        Covariance of ``beta`` when ``estimates`` is an array.
    num_pre, num_post
        Numbers of pre- and post-period coefficients when ``estimates`` is an array.
    restriction
        ``"smoothness"`` (``Delta^SD(M)``, FLCI) or ``"relative_magnitudes"``
        (``Delta^RM(Mbar)``, conditional/least-favourable hybrid test inverted over a grid).
    grid
        Values of ``M`` (``Mbar``); default 0 to twice the breakdown value, 11 points
        (relative magnitudes: 0, 0.5, ..., 2).
    l_vec
        Weights of the target over the post-periods (default: the first post-period, i.e.
        event time 0).
    alpha
        Level ``1 - alpha`` of the intervals.
    breakdown
        Compute the breakdown value (a root search: a dozen intervals); False leaves it NaN.
    grid_points, seed
        Relative magnitudes only: ``theta`` grid size and seed of the simulated
        least-favourable critical value (see :func:`relative_magnitudes_ci`).

    Returns
    -------
    SensitivityResult
    """
    if restriction not in ("smoothness", "relative_magnitudes"):
        raise InvalidParameterError(
            f"restriction={restriction!r} is not 'smoothness' or 'relative_magnitudes'"
            "\n  Fix: restriction='smoothness' or 'relative_magnitudes'"
        )
    beta, sig, p, q, times = _inputs(estimates, sigma, num_pre, num_post)
    alpha = _alpha_or_error(alpha)
    lv = _l_vec(l_vec, q)
    post = sig[p:, p:]
    est0 = float(lv @ beta[p:])
    se0 = float(np.sqrt(lv @ post @ lv))
    z = stats.norm.ppf(1 - alpha / 2)
    original = {"estimate": est0, "se": se0, "lb": est0 - z * se0, "ub": est0 + z * se0}
    if grid is not None:
        Ms = np.asarray(list(grid), dtype=float)
        if Ms.size == 0 or not np.all(np.isfinite(Ms)) or np.any(Ms < 0):
            raise InvalidParameterError(
                f"grid={list(grid)!r} must be finite values of M >= 0\n  Fix: e.g. "
                "grid=[0, 0.01, 0.02]"
            )
    elif restriction == "relative_magnitudes":
        Ms = np.arange(0.0, 2.01, 0.5)
    elif not breakdown:
        raise InvalidParameterError(
            "the default grid runs to twice the breakdown value\n  Fix: pass grid=[...] or "
            "breakdown=True"
        )
    if restriction == "relative_magnitudes":
        for name, value, low in (("grid_points", grid_points, 3),):
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
                raise InvalidParameterError(
                    f"{name}={value!r} must be an integer >= {low}\n  Fix: e.g. {name}=1000"
                )

        def interval(M: float) -> tuple[float, float]:
            r = _rm_set(beta, sig, p, q, M, lv, alpha, int(grid_points), 1000, seed)
            return r["lb"], r["ub"]

        value = _rm_breakdown(interval) if breakdown else float("nan")
        method, label = "C-LF", "DeltaRM"
    else:

        def interval(M: float) -> tuple[float, float]:
            r = _flci(beta, sig, p, q, M, lv, alpha)
            return r["lb"], r["ub"]

        value = _breakdown(beta, sig, p, q, lv, alpha, se0) if breakdown else float("nan")
        method, label = "FLCI", "DeltaSD"
    if grid is None and restriction == "smoothness":
        top = 2 * value if np.isfinite(value) and value > 0 else 2 * se0
        Ms = np.linspace(0.0, top, 11)
    rows = []
    for M in Ms:
        lb, ub = interval(float(M))
        rows.append({"M": float(M), "lb": lb, "ub": ub})
    table = pd.DataFrame(rows)
    table["method"] = method
    table["restriction"] = label
    return SensitivityResult(
        table=table,
        original=original,
        breakdown=value,
        l_vec=lv,
        alpha=alpha,
        restriction=restriction,
        method=method,
        extra={
            "num_pre": p,
            "num_post": q,
            "rel_times": None if times is None else times.tolist(),
        },
    )


def _breakdown(
    beta: np.ndarray, sig: np.ndarray, p: int, q: int, lv: np.ndarray, alpha: float, se0: float
) -> float:
    """Smallest M whose FLCI includes zero: the root of the FLCI's near end (monotone in M)."""

    def near_end(M: float) -> float:
        r = _flci(beta, sig, p, q, M, lv, alpha)
        return r["lb"] if r["estimate"] > 0 else -r["ub"]

    if near_end(0.0) <= 0:
        return float("nan")
    hi = max(se0, 1e-12)
    for _ in range(60):
        if near_end(hi) <= 0:
            break
        hi *= 2
    else:
        return float("inf")
    return float(optimize.brentq(near_end, 0.0, hi, xtol=1e-7 * se0))


def _rm_breakdown(interval) -> float:
    """Smallest Mbar whose set includes zero, by bisection to 0.005 (each step is a grid test)."""

    def covers(M: float) -> bool:
        lb, ub = interval(M)
        return bool(np.isnan(lb) or lb <= 0 <= ub)

    if covers(0.0):
        return float("nan")
    hi = 1.0
    while not covers(hi):
        hi *= 2
        if hi > 1e3:
            return float("inf")
    lo = 0.0 if hi == 1.0 else hi / 2
    while hi - lo > 0.005:
        mid = (lo + hi) / 2
        if covers(mid):
            hi = mid
        else:
            lo = mid
    return float(hi)


__all__ = [
    "SensitivityResult",
    "flci_smoothness",
    "folded_normal_quantile",
    "honest_did",
    "relative_magnitudes_ci",
]
