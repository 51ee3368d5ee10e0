r"""Randomization inference for few treated clusters: permute the treatment across systems.

With a handful of treated ICSs the cluster-robust t-test and even the wild cluster bootstrap can be
badly sized (MacKinnon & Webb 2017, 2020): every method that leans on the treated clusters'
residuals has only a few of them to lean on. Randomization inference (RI) asks instead: had the
treatment been given to *other* systems, with the same timing, how often would the estimate look as
extreme as the one observed? Under the sharp null of no effect anywhere, and if the assignment
was as good as random across systems, the answer is an exact p-value.

What is permuted
----------------
Each permutation unit (by default the result's cluster variable, e.g. the ICS; else the entity)
has one **assignment**: its adoption period (``inf`` for never treated) or, for
:func:`~icsresearch.models.did_2x2`, its treated flag. The assignments are permuted *across
units*, so the number of treated units and the set of adoption dates (the cohorts and their
sizes) are kept: a staggered design stays staggered with the same calendar, a 2x2 design keeps
its number of treated units. The model is then re-estimated exactly as the result was (same
estimator, formula, fixed effects, covariance).

* ``fit`` and ``fit_hdfe``: ``treatment=`` names a 0/1 regressor that switches on at adoption and
  stays on (``treated x post``, or a staggered policy indicator); the adoption period of each unit
  is its first treated period.
* ``did_2x2``: the ``treated`` column is permuted across units (the term is ``treated:post``).
* ``event_study``: the ``cohort`` column (or the adoption period implied by ``treatment``) is
  permuted across units.

When the number of distinct assignments, :math:`G! / \prod_c n_c!` (``choose(12, 3) = 220`` for
3 treated of 12), is at most ``max_enumerate`` every assignment is used once (exact RI);
otherwise ``reps`` seeded random permutations are drawn.

Statistic and p-value
---------------------
Two statistics are computed for every assignment: the coefficient and its t statistic under the
result's own covariance. The default, ``statistic="t"``, is **studentized** RI, which is
asymptotically valid even when the sharp null fails but the average effect is zero, and is
better behaved with heterogeneous clusters (Young 2019, *QJE* 134:557-598; MacKinnon & Webb
2020, *J. Econometrics* 218:435-450; Wu & Ding 2021). The two-sided p-value includes the
observed assignment:

* exact enumeration: :math:`p = \#\{a : |S_a| \ge |S_{obs}|\} / A` over all :math:`A`
  assignments (the observed one among them), so the smallest possible p-value is :math:`1/A`;
* random draws: :math:`p = (1 + \#\{b : |S_b| \ge |S_{obs}|\}) / (1 + B)` over :math:`B` draws.

Assignments under which the term is not identified (e.g. an event-study period no permuted
cohort reaches) are left out of both counts (their statistics are NaN in ``null_tstats``).
Comparisons allow a relative tolerance of 1e-10 so that assignments giving the same estimate up
to rounding count as ties. With few assignments the p-value is coarse: with 6 clusters and 3
treated there are 20 assignments (and, in a balanced 2x2 design, pairs of mirror images), so
p < 0.05 may be impossible; ``min_p_value`` says what can be reached.

For :func:`~icsresearch.models.fit` results of ``within`` or ``pooled`` models (any covariance but
CR2) permutations reuse the fitted regression: only the treatment column is re-transformed and
the covariance recomputed with the package's own estimator, so thousands of permutations take
seconds. Everything else is refitted through the estimator.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from ...errors import InvalidParameterError
from ..core import check_columns, check_dataframe

Statistic = Literal["t", "coef"]

#: Relative tolerance for ties between a permuted and the observed statistic.
TIE_TOLERANCE = 1e-10


@dataclass
class RandomizationResult:
    """Outcome of randomization inference for one coefficient.

    Attributes
    ----------
    term, estimate, t_statistic
        The coefficient tested, its estimate and its t statistic under the result's covariance.
    statistic
        Which statistic ``p_value`` is based on: ``"t"`` (studentized, default) or ``"coef"``.
    p_value
        Two-sided RI p-value of ``statistic`` (definition in the module docstring).
    p_value_t, p_value_coef
        Both p-values.
    enumerated
        True when every distinct assignment was used (exact RI).
    n_assignments
        The number of distinct assignments (``G! / prod n_c!``).
    draws
        Assignments evaluated (``n_assignments`` when enumerated, else ``reps``).
    min_p_value
        The smallest p-value the design can give (``1/A`` or ``1/(1+B)``).
    unit, n_units, n_treated_units, cohorts
        The permutation unit, how many there are, how many are treated, and the adoption
        periods (or treated flags) with their number of units.
    seed
        The seed used for random draws (None when enumerated or a Generator was passed).
    null_coefs, null_tstats
        The coefficient and t statistic under every evaluated assignment (the observed one
        first when enumerated).
    method
        ``"fast"`` (the fitted regression reused) or ``"refit"`` (the estimator re-run).
    """

    term: str
    estimate: float
    t_statistic: float
    statistic: str
    p_value: float
    p_value_t: float
    p_value_coef: float
    enumerated: bool
    n_assignments: int
    draws: int
    min_p_value: float
    unit: str
    n_units: int
    n_treated_units: int
    cohorts: dict[Any, int]
    seed: int | None
    null_coefs: np.ndarray = field(repr=False)
    null_tstats: np.ndarray = field(repr=False)
    method: str = "refit"

    def __repr__(self) -> str:
        how = (
            f"all {self.n_assignments} assignments (exact)"
            if self.enumerated
            else f"{self.draws} random permutations of {self.n_assignments:.3g} possible"
        )
        kind = "studentized (t)" if self.statistic == "t" else "coefficient"
        return (
            f"Randomization inference ({kind}; {how}; {self.n_treated_units} treated of "
            f"{self.n_units} units of {self.unit!r})\n"
            f"  {self.term}: estimate {self.estimate:.6g}, t = {self.t_statistic:.4f}, "
            f"p = {self.p_value:.4f} (t: {self.p_value_t:.4f}, coefficient: "
            f"{self.p_value_coef:.4f}; smallest possible {self.min_p_value:.4f})"
        )


# --- assignments -------------------------------------------------------------------------------


def count_assignments(counts: list[int]) -> int:
    """The number of distinct assignments of a multiset: ``G! / prod(n_c!)``.

    Parameters
    ----------
    counts
        How many units share each assignment value (e.g. ``[9, 3]``: 9 never, 3 treated).

    Returns
    -------
    int
    """
    total, out = 0, 1
    for c in counts:
        total += c
        out *= math.comb(total, c)
    return out


def enumerate_assignments(codes: np.ndarray) -> Iterator[np.ndarray]:
    """Every distinct permutation of the multiset ``codes``, the given order first.

    Parameters
    ----------
    codes
        One integer code per unit (its assignment value).

    Returns
    -------
    iterator of numpy.ndarray
        Arrays of the same length as ``codes``.
    """
    values, counts = np.unique(codes, return_counts=True)
    G = len(codes)

    def fill(free: tuple[int, ...], level: int, current: np.ndarray) -> Iterator[np.ndarray]:
        if level == len(values) - 1:
            out = current.copy()
            out[list(free)] = values[level]
            yield out
            return
        for chosen in itertools.combinations(free, int(counts[level])):
            current[list(chosen)] = values[level]
            rest = tuple(i for i in free if i not in set(chosen))
            yield from fill(rest, level + 1, current)

    observed = np.asarray(codes).copy()
    yield observed
    for a in fill(tuple(range(G)), 0, np.empty(G, dtype=observed.dtype)):
        if not np.array_equal(a, observed):
            yield a


# --- the treatment definition ------------------------------------------------------------------


@dataclass
class _Design:
    """How to rebuild the treatment for an assignment of values to units."""

    unit: str
    units: np.ndarray  # unit labels, sorted
    values: np.ndarray  # the observed assignment value per unit (adoption period, flag, cohort)
    kind: str  # "indicator" (0/1 from time >= adoption), "value" (the value itself)
    column: str  # the column rewritten
    time: str | None


def _per_unit(frame: pd.DataFrame, unit: str, values: pd.Series, what: str) -> pd.Series:
    """The one value of ``values`` in each unit, or an error naming a unit where it varies."""
    keyed = pd.DataFrame({"u": frame[unit].to_numpy(), "v": values.to_numpy()})
    # NaN (never treated) is a value like any other here
    keyed["v"] = keyed["v"].astype(float).fillna(np.inf)
    n_distinct = keyed.groupby("u", sort=True)["v"].nunique()
    varying = n_distinct[n_distinct > 1]
    if len(varying):
        raise InvalidParameterError(
            f"{what} varies within {unit!r} (e.g. {unit}={varying.index[0]!r}), so it cannot be "
            f"permuted across {unit!r}\n  Fix: pass unit= a column within which the treatment "
            "timing is constant (the system the policy was assigned to)"
        )
    return keyed.groupby("u", sort=True)["v"].first()


def _adoption(frame: pd.DataFrame, unit: str, time: str, treatment: str) -> pd.Series:
    """Each unit's adoption period (first treated period; inf for never treated)."""
    d = frame[treatment]
    if d.isna().any() or not d.isin([0, 1, True, False]).all():
        raise InvalidParameterError(
            f"treatment column {treatment!r} must be 0/1 in the estimation sample\n  Fix: pass "
            "the 0/1 indicator of being treated (e.g. treated x post)"
        )
    t = pd.to_numeric(frame[time], errors="coerce")
    if t.isna().any():
        raise InvalidParameterError(
            f"time column {time!r} must be numeric to order adoption\n  Fix: use an integer "
            "period (year, or a running month number)"
        )
    start = t.where(d.astype(int) == 1).groupby(frame[unit].to_numpy()).min().fillna(np.inf)
    rebuilt = (t.to_numpy() >= start.loc[frame[unit].to_numpy()].to_numpy()).astype(int)
    if not np.array_equal(rebuilt, d.astype(int).to_numpy()):
        raise InvalidParameterError(
            f"treatment column {treatment!r} switches off again (or is not the same across "
            f"{unit!r} after adoption), so it has no adoption period to permute\n  Fix: use an "
            "absorbing 0/1 treatment (on from adoption onwards), or pass unit= the level at "
            "which it was assigned"
        )
    return start.sort_index()


def _default_unit(result: Any) -> str:
    spec = result.spec
    if spec.inference.cluster and len(spec.inference.cluster) == 1:
        return spec.inference.cluster[0]
    if spec.entity:
        return spec.entity
    raise InvalidParameterError(
        "there is no cluster or entity to permute the treatment across\n  Fix: pass unit= (the "
        "column of the systems the treatment was assigned to)"
    )


def _sample(result: Any, data: pd.DataFrame) -> pd.DataFrame:
    sample = getattr(result, "sample", None)
    if sample is None:
        return data
    if not data.index.is_unique or not pd.Index(sample).isin(data.index).all():
        raise InvalidParameterError(
            "data= does not hold the rows the result was fitted on (index labels differ)\n  Fix: "
            "pass the same DataFrame, unchanged, that was given to the estimator"
        )
    return data.loc[sample]


def _treatment_design(
    result: Any, data: pd.DataFrame, treatment: str | None, unit: str | None, time: str | None
) -> tuple[_Design, str | None]:
    """The assignment per unit, and the default term, for each estimator."""
    spec = result.spec
    function = spec.function
    opts = spec.options
    unit = unit or _default_unit(result)
    check_columns(data, {"unit": [unit]})
    frame = _sample(result, data)
    if frame[unit].isna().any():
        raise InvalidParameterError(
            f"unit column {unit!r} is missing for some rows of the sample\n  Fix: fill it in, "
            "or pass another unit="
        )
    if function == "did_2x2":
        if treatment not in (None, opts["treated"]):
            raise InvalidParameterError(
                f"did_2x2 permutes its treated column {opts['treated']!r}; got treatment="
                f"{treatment!r}\n  Fix: drop treatment="
            )
        col = opts["treated"]
        values = _per_unit(frame, unit, frame[col].astype(float), f"treated column {col!r}")
        term = result.extra.get("att_term", f"{col}:{opts['post']}")
        return _Design(unit, values.index.to_numpy(), values.to_numpy(), "value", col, None), term
    if function == "event_study":
        time = spec.time
        if opts.get("cohort") is not None:
            col = opts["cohort"]
            values = _per_unit(frame, unit, frame[col], f"cohort column {col!r}")
            return (
                _Design(unit, values.index.to_numpy(), values.to_numpy(), "value", col, None),
                None,
            )
        col = opts["treatment"]
        values = _adoption(frame, unit, time, col)
        return _Design(
            unit, values.index.to_numpy(), values.to_numpy(), "indicator", col, time
        ), None
    if function in ("fit", "fit_hdfe"):
        if treatment is None:
            raise InvalidParameterError(
                f"{function}: randomization inference needs treatment= (the 0/1 column to "
                "permute)\n  Fix: pass treatment='<column>', e.g. the treated x post indicator"
            )
        time = time or spec.time
        if time is None:
            raise InvalidParameterError(
                f"{function}: randomization inference needs time= to order adoption\n  Fix: "
                "pass time='<period column>'"
            )
        check_columns(data, {"treatment": [treatment], "time": [time]})
        values = _adoption(frame, unit, time, treatment)
        design = _Design(
            unit, values.index.to_numpy(), values.to_numpy(), "indicator", treatment, time
        )
        return design, treatment
    raise InvalidParameterError(
        f"randomization inference supports results of fit, fit_hdfe, did_2x2 and event_study, "
        f"not {function}\n  Fix: fit the model with one of those"
    )


def _rebuilt(frame: pd.DataFrame, design: _Design, assigned: np.ndarray) -> pd.Series:
    """The treatment column of ``frame`` under an assignment (one value per unit)."""
    per_row = pd.Series(assigned, index=design.units).reindex(frame[design.unit].to_numpy())
    per_row = per_row.to_numpy()
    if design.kind == "indicator":
        t = pd.to_numeric(frame[design.time]).to_numpy()
        return pd.Series((t >= per_row).astype(int), index=frame.index)
    original = frame[design.column]
    out = per_row.astype(float)
    if np.isinf(out).any() and not np.isinf(original.to_numpy(dtype=float)).any():
        out[np.isinf(out)] = np.nan  # never treated was NaN in the data
    if pd.api.types.is_bool_dtype(original):
        return pd.Series(out == 1, index=frame.index)
    return pd.Series(out, index=frame.index)


# --- evaluating an assignment ------------------------------------------------------------------


def refit(result: Any, data: pd.DataFrame) -> Any:
    """Re-run the estimator that made ``result`` on ``data``, with the same specification.

    Parameters
    ----------
    result
        A result of ``fit``, ``fit_hdfe``, ``did_2x2`` or ``event_study``.
    data
        The data to fit (e.g. with a permuted treatment, or without one cluster).

    Returns
    -------
    RegressionResult
    """
    from .. import did, hdfe
    from ..panel import model as panel_model

    spec = result.spec
    inf = spec.inference
    common = {
        "vcov": inf.vcov,
        "cluster": list(inf.cluster) or None,
        "small_sample": inf.small_sample,
        "weights": spec.weights,
        "alpha": inf.alpha,
    }
    opts = spec.options
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the few-clusters warning, once per refit
        if spec.function == "fit":
            return panel_model.fit(
                data,
                spec.formula,
                entity=spec.entity,
                time=spec.time,
                model=opts["model"],
                effects=opts["effects"],
                re_method=opts.get("re_method") or "swamy-arora",
                lags=opts.get("lags") or 1,
                convention=inf.convention or "plm",
                bandwidth=inf.bandwidth,
                **common,
            )
        if spec.function == "fit_hdfe":
            return hdfe.fit_hdfe(
                data,
                spec.formula,
                convention=inf.convention,
                singletons=opts.get("singletons", "drop"),
                collinear=opts.get("collinear", "raise"),
                **common,
            )
        if spec.function == "did_2x2":
            return did.did_2x2(
                data,
                opts["outcome"],
                treated=opts["treated"],
                post=opts["post"],
                entity=spec.entity,
                covariates=opts.get("covariates") or None,
                convention=inf.convention,
                **common,
            )
        if spec.function == "event_study":
            window = opts.get("window")
            return did.event_study(
                data,
                opts["outcome"],
                entity=spec.entity,
                time=spec.time,
                cohort=opts.get("cohort"),
                treatment=opts.get("treatment"),
                estimator=opts["estimator"],
                window=tuple(window) if window is not None else None,
                reference=opts["reference"],
                endpoints=opts["endpoints"],
                control=opts.get("control"),
                covariates=opts.get("covariates") or None,
                convention=inf.convention,
                **common,
            )
    raise InvalidParameterError(
        f"cannot re-run {spec.function}\n  Fix: use a result of fit, fit_hdfe, did_2x2 or "
        "event_study"
    )


def _refit_evaluator(
    result: Any, data: pd.DataFrame, design: _Design, term: str
) -> Callable[[np.ndarray], tuple[float, float]]:
    sample = getattr(result, "sample", None)
    rows = data.index if sample is None else pd.Index(sample)
    base = data.copy()
    base[design.column] = base[design.column].astype(float)
    in_sample = base.loc[rows]

    def evaluate(assigned: np.ndarray) -> tuple[float, float]:
        frame = base.copy()
        frame.loc[rows, design.column] = _rebuilt(in_sample, design, assigned).to_numpy()
        res = refit(result, frame)
        if term not in res.params.index:
            return np.nan, np.nan  # the permuted design does not identify the term
        b, se = float(res.params[term]), float(np.sqrt(res.cov.loc[term, term]))
        return b, b / se if se > 0 else np.nan

    return evaluate


def _fast_evaluator(
    result: Any, design: _Design, term: str
) -> Callable[[np.ndarray], tuple[float, float]] | None:
    """Permutations on the fitted regression of a within or pooled ``fit`` (None: not possible)."""
    from ..panel import covariance as cv
    from ..panel import transform as tf

    spec = result.spec
    reg, d = getattr(result, "regression", None), getattr(result, "design", None)
    if (
        spec.function != "fit"
        or reg is None
        or d is None
        or spec.options.get("model") not in ("within", "pooled")
        or spec.inference.vcov == "CR2"
        or design.kind != "indicator"
        or design.time != spec.time
    ):
        return None
    k = list(result.params.index).index(term)
    time_values = pd.to_numeric(pd.Series(d.time_labels[reg.time])).to_numpy(dtype=float)
    if design.unit == spec.entity:
        unit_pos = pd.Index(design.units).get_indexer(d.entity_labels[reg.entity])
    elif design.unit in reg.clusters and int(reg.clusters[design.unit].max()) + 1 == len(
        design.units
    ):
        # cluster codes are the sorted labels' positions, as design.units are sorted
        unit_pos = np.asarray(reg.clusters[design.unit])
    else:
        return None
    if (unit_pos < 0).any():
        return None
    # the observed assignment must rebuild the fitted treatment column exactly, else refit
    raw_observed = reg.X[:, k] if reg.raw_X is None else reg.raw_X[:, k]
    if reg.sw is not None:
        raw_observed = raw_observed / reg.sw
    observed = (time_values >= design.values[unit_pos]).astype(float)
    if not np.allclose(observed, raw_observed, rtol=0, atol=1e-9):
        return None
    sw = reg.sw
    fes = reg.fixed_effects
    inf = spec.inference

    def evaluate(assigned: np.ndarray) -> tuple[float, float]:
        raw = (time_values >= assigned[unit_pos]).astype(float)
        if sw is not None:
            raw = raw * sw
        if len(fes) == 1:
            col = tf.demean(raw[:, None], fes[0].codes, fes[0].n_levels, sw)[:, 0]
        elif len(fes) == 2:
            a, b = fes
            col = tf.demean_twoways(raw[:, None], a.codes, a.n_levels, b.codes, b.n_levels, sw)[0]
            col = col[:, 0]
        else:
            col = raw
        X = reg.X.copy()
        X[:, k] = col
        XtX = X.T @ X
        try:
            bread = np.linalg.inv(XtX)
        except np.linalg.LinAlgError:
            return np.nan, np.nan
        params = bread @ (X.T @ reg.y)
        raw_X = None
        if reg.raw_X is not None:
            raw_X = reg.raw_X.copy()
            raw_X[:, k] = raw
        new = dataclasses.replace(
            reg, X=X, params=params, resid=reg.y - X @ params, bread=bread, raw_X=raw_X
        )
        cov = cv.compute(
            new,
            inf.vcov,
            convention=inf.convention or "plm",
            small_sample=inf.small_sample,
            cluster=list(inf.cluster) or None,
            bandwidth=inf.bandwidth,
        )
        se = float(np.sqrt(cov.cov[k, k]))
        return float(params[k]), float(params[k]) / se if se > 0 else np.nan

    return evaluate


# --- the public function -----------------------------------------------------------------------


def _p_value(null: np.ndarray, observed: float, enumerated: bool) -> float:
    null = null[np.isfinite(null)]
    extreme = np.abs(null) >= abs(observed) - TIE_TOLERANCE * max(abs(observed), 1.0)
    if enumerated:  # the observed assignment is among the null draws
        return float(extreme.mean())
    return float((1 + extreme.sum()) / (1 + len(null)))


def randomization_inference(
    result: Any,
    term: str | None = None,
    *,
    data: pd.DataFrame,
    treatment: str | None = None,
    unit: str | None = None,
    time: str | None = None,
    statistic: Statistic = "t",
    reps: int = 999,
    max_enumerate: int | None = None,
    seed: int | np.random.Generator | None = None,
    method: Literal["auto", "refit"] = "auto",
) -> RandomizationResult:
    """Randomization inference p-value for one coefficient, permuting treatment across units.

    See the module docstring for what is permuted and how the p-value is defined. Studentized RI
    (``statistic="t"``, the default) follows Young (2019) and MacKinnon & Webb (2020).

    Parameters
    ----------
    result
        A result of :func:`~icsresearch.models.fit`, :func:`~icsresearch.models.fit_hdfe`,
        :func:`~icsresearch.models.did_2x2` or :func:`~icsresearch.models.event_study`.
    term
        The coefficient (default: the ``treatment`` regressor, or ``did_2x2``'s interaction;
        required for ``event_study``).
    data
        The DataFrame the result was fitted on, unchanged.
    treatment
        ``fit``/``fit_hdfe``: the 0/1 absorbing treatment column to permute (must be a
        regressor of the model). Not used by ``did_2x2`` and ``event_study``, which permute their
        own treatment columns.
    unit
        The column whose units receive the treatment (default: the result's cluster variable,
        else its entity). The treatment timing must be constant within a unit.
    time
        The period column (``fit_hdfe`` only; the others know theirs).
    statistic
        ``"t"`` (studentized, default) or ``"coef"``: which p-value is ``p_value``.
    reps
        Random permutations when the assignments are too many to enumerate.
    max_enumerate
        Enumerate every assignment when there are at most this many (default: ``reps``).
    seed
        Seed or generator for the random permutations.
    method
        ``"auto"`` (reuse the fitted regression where possible) or ``"refit"`` (always re-run
        the estimator; slower, for checks).

    Returns
    -------
    RandomizationResult

    Raises
    ------
    InvalidParameterError
        A result without a specification; a treatment that is not 0/1, switches off, or varies
        within a unit; fewer than two units or no variation in assignment; bad ``reps``.

    Examples
    --------
    >>> res = did_2x2(df, "y", treated="treated", post="post", entity="ics")
    >>> randomization_inference(res, data=df, seed=1).p_value
    """
    spec = getattr(result, "spec", None)
    if spec is None:
        raise InvalidParameterError(
            "this result has no specification (spec), so it cannot be re-estimated\n  Fix: use "
            "a result of fit, fit_hdfe, did_2x2 or event_study"
        )
    check_dataframe(data)
    if statistic not in ("t", "coef"):
        raise InvalidParameterError(
            f"statistic={statistic!r} is not allowed; choose 't' or 'coef'\n  Fix: use 't' "
            "(studentized, recommended)"
        )
    if method not in ("auto", "refit"):
        raise InvalidParameterError(f"method={method!r} is not 'auto' or 'refit'\n  Fix: 'auto'")
    if isinstance(reps, bool) or not isinstance(reps, int | np.integer) or reps < 19:
        raise InvalidParameterError(
            f"reps must be an integer >= 19, got {reps!r}\n  Fix: use 999 or more for a p-value"
        )
    limit = int(reps) if max_enumerate is None else int(max_enumerate)
    design, default_term = _treatment_design(result, data, treatment, unit, time)
    term = term or default_term
    names = list(result.params.index)
    if term is None or term not in names:
        raise InvalidParameterError(
            f"term {term!r} is not a coefficient of the result\n  Fix: choose one of {names[:12]}"
        )
    if treatment is not None and spec.function in ("fit", "fit_hdfe") and term != treatment:
        # the term may be a function of the treatment only through the refit
        method = "refit"
    G = len(design.units)
    codes, uniques = pd.factorize(pd.Series(design.values), sort=True)
    counts = np.bincount(codes).tolist()
    if G < 2 or len(counts) < 2:
        raise InvalidParameterError(
            f"the treatment does not vary across the {G} unit(s) of {design.unit!r}, so there is "
            "nothing to permute\n  Fix: check treatment= and unit="
        )
    total = count_assignments(counts)
    evaluate = _fast_evaluator(result, design, term) if method == "auto" else None
    used = "fast" if evaluate is not None else "refit"
    if evaluate is None:
        evaluate = _refit_evaluator(result, data, design, term)
    values = np.asarray(uniques, dtype=float)
    enumerated = total <= limit
    if enumerated:
        assignments: Iterator[np.ndarray] = (values[a] for a in enumerate_assignments(codes))
        n = total
    else:
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        observed_values = values[codes]
        assignments = (rng.permutation(observed_values) for _ in range(int(reps)))
        n = int(reps)
    coefs, tstats = np.empty(n), np.empty(n)
    for i, assigned in enumerate(assignments):
        coefs[i], tstats[i] = evaluate(assigned)
    beta = float(result.params[term])
    t_obs = beta / float(np.sqrt(result.cov.loc[term, term]))
    p_t = _p_value(tstats, t_obs, enumerated)
    p_b = _p_value(coefs, beta, enumerated)
    cohorts = {
        (float(v) if np.isfinite(v) else "never"): int(c)
        for v, c in zip(values, counts, strict=True)
    }
    untreated = {0.0, "never"} if design.kind == "value" else {"never"}
    n_treated = sum(c for v, c in cohorts.items() if v not in untreated and v == v)
    return RandomizationResult(
        term=term,
        estimate=beta,
        t_statistic=t_obs,
        statistic=statistic,
        p_value=p_t if statistic == "t" else p_b,
        p_value_t=p_t,
        p_value_coef=p_b,
        enumerated=enumerated,
        n_assignments=total,
        draws=n,
        min_p_value=1 / total if enumerated else 1 / (1 + n),
        unit=design.unit,
        n_units=G,
        n_treated_units=int(n_treated),
        cohorts=cohorts,
        seed=seed if isinstance(seed, int) and not enumerated else None,
        null_coefs=coefs,
        null_tstats=tstats,
        method=used,
    )
