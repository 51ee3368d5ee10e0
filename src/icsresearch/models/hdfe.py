"""High-dimensional fixed effects (HDFE) and instrumental variables with fixed effects, via pyfixest.

:func:`fit_hdfe` takes pyfixest's formula syntax and returns the project's
:class:`~icsresearch.models.results.RegressionResult`::

    fit_hdfe(df, "ae_4hr_pct ~ management_score | trust_code + year", cluster="trust_code")
    fit_hdfe(df, "y ~ x | trust_code + year | d ~ z", cluster="icb_code")        # 2SLS

What it adds to calling pyfixest directly:

* the input is checked first, with errors that name the column and the fix (missing columns,
  non-numeric outcomes, infinite values, non-positive weights, missing cluster values);
* rows with missing values are dropped *before* the fit (pyfixest refuses missing cluster
  values) and counted, separately from singleton fixed-effect levels;
* a regressor that is perfectly collinear with the fixed effects is an error by default
  (``collinear="raise"``) naming the fixed effect it does not vary within, instead of a silently
  dropped coefficient; an endogenous variable or instrument that is collinear is always an
  error (pyfixest would otherwise return a meaningless 2SLS estimate);
* singletons (fixed-effect levels with one observation, which carry no information about the
  slopes but inflate the small-sample correction) are dropped as in fixest, counted, or
  refused with ``singletons="raise"``;
* the fixed effects, cluster counts, small-sample convention, first-stage F statistics and
  provenance are recorded in the result.

Inference (the words of :mod:`icsresearch.options`, as every estimator)
----------------------------------------------------------------------
``vcov`` ``"iid"``, ``"hetero"`` (HC1), ``"CRV1"`` (one- or two-way) or ``"CRV3"``; ``cluster``
one or two columns; ``convention`` ``"stata"`` only (pyfixest's and fixest's rules; for plm's
use :func:`icsresearch.models.fit`); ``small_sample``:

``"default"``
    pyfixest's and R fixest's ``ssc()`` default: ``(N-1)/(N-K)`` (``N/(N-K)`` for ``hetero``)
    times ``G/(G-1)`` for clustered errors, with ``K`` the slopes plus the fixed effects *not*
    nested in the clusters plus one per fixed-effect dimension that is nested. t-tests use
    ``G - 1`` degrees of freedom when clustered (the smallest ``G`` for two-way clustering),
    ``N - K`` otherwise. This is :func:`icsresearch.models.fit` with ``convention="stata"``.
    With two-way clustering a fixed effect nested in *either* cluster variable counts as nested
    (pyfixest's rule; e.g. trust effects with trust-or-ICS and year clusters count once).
    (``"fixest"`` is its deprecated spelling.)
``"full"``
    every fixed-effect parameter counted in ``K``: what OLS with dummy variables gives
    (statsmodels ``cov_type="cluster"``/``"HC1"``, Stata ``regress`` with ``i.`` dummies).
``"none"``
    no factor at all (HC0 / CR0).

CRV3 is the leave-one-cluster-out jackknife ``sum_g (b_(g) - b)(b_(g) - b)'`` multiplied by the
same ``G/(G-1) (N-1)/(N-K)`` factor as CRV1 (pyfixest's choice); the textbook CR3 and
``fit(vcov="CRV3")`` multiply it by ``(G-1)/G`` instead.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..errors import InvalidParameterError
from ..options import Convention, SmallSample, Vcov, check, check_alpha
from . import _pyfixest as pfx
from . import core
from .inference.wild import WildData
from .results import RegressionResult

#: The inference :func:`fit_hdfe` (and so :func:`~icsresearch.models.did_2x2` and
#: :func:`~icsresearch.models.event_study`) supports.
CAPABILITIES = core.Capabilities(
    estimator="fit_hdfe",
    vcov=("iid", "hetero", "CRV1", "CRV3"),
    max_clusters=2,
    conventions=("stata",),
    small_sample=("default", "full", "none"),
    why="pyfixest follows fixest's small-sample rules; Driscoll-Kraay and plm's convention are "
    "icsresearch.models.fit's",
)
#: ``fit_hdfe``'s old ``small_sample`` spelling.
SMALL_SAMPLE_WORDS = {"fixest": "default"}
#: pyfixest ``ssc()`` settings of each ``small_sample`` value.
SSC = {
    "default": {"k_adj": True, "k_fixef": "nonnested", "G_adj": True, "G_df": "min"},
    "full": {"k_adj": True, "k_fixef": "full", "G_adj": True, "G_df": "min"},
    "none": {"k_adj": False, "k_fixef": "none", "G_adj": False, "G_df": "min"},
}
Singletons = Literal["drop", "keep", "raise"]
Collinear = Literal["raise", "drop"]
#: Fewer clusters than this gets a warning (as :func:`icsresearch.models.fit`).
FEW_CLUSTERS = 50
#: First-stage (effective) F below this gets a weak-instrument warning (Staiger-Stock).
WEAK_IV_F = 10.0
#: Demeaning tolerance: tight enough for coefficients to agree with dummy-variable OLS to 1e-10.
FIXEF_TOL = 1e-12


# --- input checks ----------------------------------------------------------------------------


def _check_weights(data: pd.DataFrame, name: str) -> None:
    s = data[name]
    if not pd.api.types.is_numeric_dtype(s):
        raise InvalidParameterError(f"weights column {name!r} is not numeric (dtype {s.dtype})")
    v = s.to_numpy(dtype=float, na_value=np.nan)
    bad = np.isfinite(v) & (v <= 0) | np.isinf(v)
    if bad.any():
        raise InvalidParameterError(
            f"weights column {name!r} of {core.data_label(data)} has {int(bad.sum())} "
            f"non-positive or infinite value(s) (rows {core.row_examples(data.index, bad)})\n"
            "  Fix: weights must be positive; drop those rows or set their weight to NaN (they "
            "are then dropped)"
        )


# --- the fit ---------------------------------------------------------------------------------


def _level_codes(frame: pd.DataFrame, fe: str) -> np.ndarray:
    cols = [c.strip() for c in fe.split("^")]
    if len(cols) == 1:
        return pd.factorize(frame[cols[0]])[0]
    return frame[cols].groupby(cols, sort=False, dropna=False).ngroup().to_numpy()


def _singleton_levels(frame: pd.DataFrame, fes: Sequence[str]) -> dict[str, list]:
    """Fixed-effect levels with a single observation (first pass of fixest's iterative rule)."""
    out = {}
    for fe in fes:
        codes = _level_codes(frame, fe)
        counts = np.bincount(codes)
        single = np.flatnonzero(counts == 1)
        if single.size:
            rows = np.isin(codes, single)
            cols = [c.strip() for c in fe.split("^")]
            labels = frame.loc[rows, cols].astype(str).agg("^".join, axis=1)
            out[fe] = list(labels)
    return out


def _not_varying_within(frame: pd.DataFrame, var: str, fe_cols: Sequence[str]) -> list[str]:
    """Fixed-effect columns within whose levels ``var`` is constant."""
    if var not in frame.columns or not pd.api.types.is_numeric_dtype(frame[var]):
        return []
    out = []
    for fe in fe_cols:
        spread = frame.groupby(fe, sort=False, observed=True)[var].agg(lambda s: s.max() - s.min())
        if (spread.abs() <= 1e-12 * max(1.0, float(frame[var].abs().max()))).all():
            out.append(fe)
    return out


def fit_hdfe(
    data: pd.DataFrame,
    formula: str,
    *,
    vcov: Vcov | None = None,
    cluster: str | Sequence[str] | None = None,
    convention: Convention | None = None,
    small_sample: SmallSample = "default",
    weights: str | None = None,
    singletons: Singletons = "drop",
    collinear: Collinear = "raise",
    alpha: float = 0.05,
) -> RegressionResult:
    """OLS or 2SLS with any number of absorbed fixed effects (pyfixest ``feols``).

    Parameters
    ----------
    data
        A DataFrame with the model's columns; its provenance record (``attrs``) is carried into
        ``result.provenance``.
    formula
        pyfixest syntax: ``"y ~ x1 + x2 | fe1 + fe2"`` for OLS with absorbed fixed effects (none:
        ``"y ~ x"``), ``"y ~ x | fe1 + fe2 | d ~ z1 + z2"`` for 2SLS with endogenous ``d`` and
        instruments ``z``. ``fe1^fe2`` absorbs the interaction; ``C(x)``, ``np.log(x)``,
        ``x1:x2`` and ``i(year, treated, ref=2016)`` work on the right-hand side.
    vcov
        ``"iid"``, ``"hetero"`` (heteroskedasticity-robust, HC1), ``"CRV1"`` (cluster-robust,
        one- or two-way) or ``"CRV3"`` (cluster jackknife, one-way). Default: ``"CRV1"`` when
        ``cluster`` is given, else ``"iid"``.
    cluster
        One or two cluster columns.
    convention
        ``"stata"`` (the only one: fixest's rules; default) -- plm's is
        :func:`icsresearch.models.fit`'s.
    small_sample
        ``"default"`` (fixest's ``ssc()``), ``"full"`` (every fixed effect counted in ``K``) or
        ``"none"``; see the module docstring and ``docs/inference.md``.
    weights
        Column of positive analytic weights (WLS / weighted 2SLS).
    singletons
        ``"drop"`` (default, as fixest and reghdfe): rows alone in a fixed-effect level are
        dropped, repeatedly, and counted in ``extra["n_singletons"]``; ``"keep"``; ``"raise"``:
        an error naming them.
    collinear
        ``"raise"`` (default): an exogenous regressor collinear with the fixed effects or other
        regressors is an error; ``"drop"``: it is dropped with a warning. Endogenous variables
        and instruments that are collinear are always an error.
    alpha
        Default level of the confidence intervals (``1 - alpha``).

    Returns
    -------
    RegressionResult
        ``params``/``cov`` of the slopes (the fixed effects are absorbed and not reported);
        ``fixed_effects`` names them; ``n_groups`` counts the levels of each fixed effect and
        ``"clusters: <name>"``; ``rsquared`` has ``r2``, ``adj_r2``, ``within``, ``adj_within``;
        ``df_resid`` is the t-test df (``G - 1`` when clustered); ``extra`` holds ``vcov``,
        ``cluster``, ``small_sample`` and its factor and ``K``, ``n_missing``,
        ``n_singletons``, ``dropped_collinear``, and for IV ``endogenous``, ``instruments`` and
        ``first_stage`` (F statistic and Olea-Pflueger effective F per endogenous variable).

    Raises
    ------
    InvalidParameterError
        Bad options, unknown columns, non-numeric outcome, infinite values, non-positive
        weights, collinear regressors (``collinear="raise"``), collinear endogenous variables or
        instruments, singletons (``singletons="raise"``), no rows left.

    Examples
    --------
    >>> from icsresearch.panel import trust_year_panel
    >>> p = trust_year_panel("demo")
    >>> res = fit_hdfe(p, "ae_4hr_pct ~ management_score | trust_code + year",
    ...                cluster="trust_code")
    """
    core.check_dataframe(data)
    small_sample = core.legacy_small_sample(small_sample, SMALL_SAMPLE_WORDS)
    inference = core.resolve_inference(
        CAPABILITIES,
        vcov=vcov,
        cluster=cluster,
        convention=convention,
        small_sample=small_sample,
        alpha=alpha,
    )
    singletons = check("singletons", singletons, Singletons)
    collinear = check("collinear", collinear, Collinear)
    if weights is not None and not isinstance(weights, str):
        raise InvalidParameterError(f"weights={weights!r} must be a column name")
    clusters = list(inference.cluster)

    f = core.parse_formula(formula, estimator="fit_hdfe", iv=True, one_column_outcome=True)
    if len(f.endogenous) > 1:
        raise InvalidParameterError(
            f"formula={formula!r} has {len(f.endogenous)} endogenous variables; pyfixest "
            "supports one\n  Fix: instrument one variable per model, or use linearmodels' "
            "IV2SLS with the fixed effects as dummies"
        )
    rhs_text = " ".join([f.rhs, *f.endogenous, *f.instruments])
    rhs_cols = core.formula_columns(rhs_text, data.columns)
    core.check_columns(
        data,
        {
            "outcome": [f.outcome],
            "fixed-effect": f.fe_columns(),
            "endogenous": [e for e in f.endogenous if core.IDENTIFIER.fullmatch(e)],
            "instrument": [z for z in f.instruments if core.IDENTIFIER.fullmatch(z)],
            "cluster": clusters,
            "weights": [weights] if weights else [],
        },
    )
    if f.outcome in rhs_cols or f.outcome in f.fe_columns():
        raise InvalidParameterError(
            f"the outcome {f.outcome!r} also appears on the right-hand side"
        )
    core.check_types(
        data, estimator="fit_hdfe", outcome=[f.outcome], regressors=rhs_cols, formula=formula
    )
    if weights:
        _check_weights(data, weights)
    used = list(dict.fromkeys([f.outcome, *rhs_cols, *f.fe_columns(), *clusters]))
    if weights:
        used.append(weights)
    core.check_numeric(data, [f.outcome, *rhs_cols])

    complete = data[used].notna().all(axis=1).to_numpy()
    n_missing = int((~complete).sum())
    frame = data.loc[complete, used].reset_index(drop=True)
    original_index = data.index[complete]
    if len(frame) == 0:
        raise InvalidParameterError(
            f"no complete rows: every row of {core.data_label(data)} misses one of {used}"
        )

    singles = _singleton_levels(frame, f.fixed_effects) if f.fixed_effects else {}
    if singles and singletons == "raise":
        listing = "; ".join(
            f"{fe}: {', '.join(map(str, lv[:8]))}{' ...' if len(lv) > 8 else ''} ({len(lv)})"
            for fe, lv in singles.items()
        )
        raise InvalidParameterError(
            f"fixed-effect levels with a single observation (singletons): {listing}\n  Fix: "
            "use singletons='drop' (fixest's default: they carry no information on the slopes), "
            "or drop those rows"
        )

    # an endogenous variable or instrument absorbed by a fixed effect leaves 2SLS unidentified;
    # pyfixest either fails with "singular matrix" or returns a meaningless estimate
    for role, names in (("endogenous variable", f.endogenous), ("instrument", f.instruments)):
        for v in names:
            within = _not_varying_within(frame, v, f.fe_columns())
            if within:
                raise InvalidParameterError(
                    f"{f.to_pyfixest()}: the {role} {v!r} does not vary within "
                    f"{' or '.join(map(repr, within))}, which leaves the IV model unidentified\n"
                    "  Fix: remove it, or the fixed effect it does not vary within"
                )

    model, messages = pfx.feols(
        f.to_pyfixest(),
        frame,
        vcov=inference.vcov,
        clusters=clusters,
        ssc=SSC[inference.small_sample],
        drop_singletons=singletons == "drop",
        weights=weights,
        collin_tol=1e-9,
        fixef_tol=FIXEF_TOL,
    )
    fitted = pfx.read_linear(model)

    warnings: list[str] = []
    notes: list[str] = []
    if n_missing:
        notes.append(f"{n_missing:,} rows with missing values were dropped.")
    dropped = fitted.collinear
    if dropped:
        bad_iv = [v for v in dropped if v in f.endogenous or v in f.instruments]
        why = []
        for v in dropped:
            within = _not_varying_within(frame, v, f.fe_columns())
            why.append(
                f"{v!r} does not vary within {' or '.join(map(repr, within))}"
                if within
                else f"{v!r} is collinear with the fixed effects and/or other regressors"
            )
        if bad_iv:
            raise InvalidParameterError(
                f"{f.to_pyfixest()}: {'; '.join(why)}. An endogenous variable or instrument "
                "that is collinear leaves the IV model unidentified\n  Fix: remove it, or the "
                "fixed effect it does not vary within"
            )
        if collinear == "raise":
            raise InvalidParameterError(
                f"{f.to_pyfixest()}: {'; '.join(why)}, so its coefficient cannot be estimated\n"
                "  Fix: remove it (or the fixed effect), or pass collinear='drop' to drop it with "
                "a warning"
            )
        warnings.append(f"Dropped as collinear: {'; '.join(why)}.")

    result = _result(model, fitted, alpha=inference.alpha)
    kept_pos = np.asarray(fitted.data.index, dtype=np.intp)
    n_singletons = len(frame) - fitted.nobs
    if n_singletons:
        notes.append(
            f"{n_singletons:,} observations in singleton fixed-effect levels were dropped "
            "(as fixest/reghdfe)."
        )
    for m in messages:
        if "singleton" in m or "multicollinearity" in m or "inplace" in m:
            continue  # reported above in our own words
        warnings.append(f"pyfixest: {m}")

    # few clusters and weak instruments
    for name, G in result.extra["n_clusters"].items():
        if G < FEW_CLUSTERS:
            warnings.append(
                f"Only {G} clusters ({name}): cluster-robust tests over-reject with few "
                "clusters; consider vcov='CRV3' or the wild cluster bootstrap, "
                "res.wild_bootstrap(term)."
            )
    first_stage = result.extra.get("first_stage") or {}
    for name, fs in first_stage.items():
        F = fs.get("effective_F", fs.get("F"))
        if F is not None and np.isfinite(F) and F < WEAK_IV_F:
            warnings.append(
                f"Weak instrument(s) for {name}: first-stage F = {F:.2f} < {WEAK_IV_F:g}; 2SLS is "
                "biased towards OLS and its tests are unreliable."
            )
    for w in warnings:
        core.warn(w)

    spec = core.ModelSpec(
        function="fit_hdfe",
        formula=formula,
        inference=inference,
        weights=weights,
        options={
            "fixed_effects": list(f.fixed_effects),
            "singletons": singletons,
            "collinear": collinear,
        },
    )
    result.extra.update(
        {
            "n_missing": n_missing,
            "n_singletons": n_singletons,
            "singleton_levels": {k: v[:20] for k, v in singles.items()},
            "dropped_collinear": dropped,
            "small_sample": inference.small_sample,
        }
    )
    return dataclasses.replace(
        result,
        sample=original_index[kept_pos],
        warnings=[*notes, *warnings],
        formula=formula,
        **core.result_fields(data, spec),
    )


# --- conversion ------------------------------------------------------------------------------


def _vcov_label(fitted: pfx.LinearFit) -> str:
    detail = fitted.vcov_detail
    if fitted.vcov_type == "CRV":
        what = " and ".join(fitted.clusters)
        kind = "two-way " if len(fitted.clusters) > 1 else ""
        return f"clustered by {what} ({kind}{detail})"
    if detail in ("hetero", "HC1"):
        return "heteroskedasticity-robust (HC1)"
    if detail in ("HC2", "HC3"):
        return f"heteroskedasticity-robust ({detail})"
    if detail == "iid":
        return "conventional (iid)"
    return detail


def from_pyfixest(model, *, alpha: float = 0.05) -> RegressionResult:
    """A :class:`RegressionResult` from a fitted pyfixest ``Feols``/``Feiv`` model.

    Parameters
    ----------
    model
        The object ``pyfixest.feols`` returns (one model, not a ``FixestMulti``).
    alpha
        Default level of the confidence intervals.

    Returns
    -------
    RegressionResult
        As :func:`fit_hdfe`, without its input checks, row counts, ``spec`` and provenance
        (the data pyfixest was given is not known: provenance is unknown).
    """
    if not pfx.is_fitted_model(model):
        raise InvalidParameterError(
            f"expected one fitted pyfixest Feols/Feiv model, got {type(model).__name__}\n"
            "  Fix: for several models (FixestMulti) convert each of .all_fitted_models"
        )
    return _result(model, pfx.read_linear(model), alpha=check_alpha(alpha))


def _result(model, fitted: pfx.LinearFit, *, alpha: float) -> RegressionResult:
    """The result of a fitted pyfixest model (without row counts, spec or provenance)."""
    names = fitted.names
    params = pd.Series(fitted.params, index=names, name="estimate")
    cov = pd.DataFrame(fitted.cov, index=names, columns=names)
    fes = fitted.fixed_effects
    frame = fitted.data
    n_groups: dict[str, int] = {}
    for fe in fes:
        cols = [c.strip() for c in fe.split("^")]
        if all(c in frame.columns for c in cols):
            n_groups[fe] = int(len(np.unique(_level_codes(frame, fe))))
    n_clusters = {}
    for i, c in enumerate(fitted.clusters):
        if c in frame.columns:
            G = int(frame[c].nunique())
        else:
            G = fitted.n_clusters[i] if i < len(fitted.n_clusters) else 0
        n_clusters[c] = G
        n_groups[f"clusters: {c}"] = G
    rsq = {"r2": fitted.r2, "adj_r2": fitted.adj_r2}
    if fes:
        rsq["within"] = fitted.r2_within
        rsq["adj_within"] = fitted.adj_r2_within
    extra: dict[str, Any] = {
        "estimator": "2SLS" if fitted.is_iv else "OLS",
        "vcov": fitted.vcov_detail,
        "cluster": list(fitted.clusters),
        "n_clusters": n_clusters,
        "ssc": fitted.ssc,
        "small_sample_factor": fitted.ssc_factor,
        "k_small_sample": fitted.df_k,
        "rmse": fitted.rmse,
        "weights": fitted.weights,
    }
    what = "2SLS" if fitted.is_iv else "OLS"
    if fitted.is_iv:
        endog = fitted.endogenous
        instr = [z for z in fitted.instrument_columns if z not in names]
        extra["endogenous"] = endog
        extra["instruments"] = instr
        extra["first_stage"] = _first_stage(model, endog)
        what += f" (endogenous: {', '.join(endog)}; instruments: {', '.join(instr)})"
    wild = None
    if fitted.is_iv:
        extra["wild_bootstrap_unavailable"] = "2SLS needs the wild restricted efficient bootstrap"
    else:
        wild = _wild_data(model, fitted, names)
        if wild is None:
            extra["wild_bootstrap_unavailable"] = "a fixed effect's columns are not in the data"
    fe_label = f" with fixed effects {' + '.join(fes)}" if fes else ""
    wlabel = ", weighted" if fitted.weights else ""
    return RegressionResult(
        params=params,
        cov=cov,
        nobs=fitted.nobs,
        df_resid=fitted.df_t,
        model=f"{what}{fe_label}{wlabel} (pyfixest feols)",
        cov_type=_vcov_label(fitted),
        dependent=fitted.outcome,
        formula=fitted.formula,
        n_groups=n_groups,
        rsquared=rsq,
        dist="t",
        sample=None,
        fixed_effects=fes,
        extra=extra,
        warnings=[],
        alpha=alpha,
        _wild_data=wild,
    )


def _model_array(model, name: str) -> np.ndarray:
    return np.asarray(pfx.attribute(model, name), dtype=float)


def _wild_data(model, fitted: pfx.LinearFit, names: list[str]) -> WildData | None:
    """What the wild cluster bootstrap re-runs: the demeaned (and weighted) regression."""
    X = _model_array(model, "_X")
    y = _model_array(model, "_Y").ravel()
    X = X.reshape(len(y), len(names))
    sw = None
    if fitted.weights:
        w = _model_array(model, "_weights")
        sw = np.sqrt(w.ravel())
    frame = fitted.data
    if not all(c.strip() in frame.columns for fe in fitted.fixed_effects for c in fe.split("^")):
        return None
    fe_codes = {
        fe: np.asarray(_level_codes(frame, fe), dtype=np.intp) for fe in fitted.fixed_effects
    }
    clustered = fitted.vcov_type == "CRV" and fitted.vcov_detail == "CRV1"
    return WildData(
        X=X,
        y=y,
        rows=frame.reset_index(drop=True),
        fixed_effects=fe_codes,
        sqrt_weights=sw,
        cluster=tuple(fitted.clusters),
        n_absorbed=max(int(fitted.df_k) - len(names), 0),
        small_sample_factor=fitted.ssc_factor if clustered else None,
    )


def _first_stage(model, endog: list[str]) -> dict[str, dict[str, float]]:
    """First-stage F (and Olea-Pflueger effective F) per endogenous variable."""
    F, effF = pfx.first_stage(model)
    out: dict[str, dict[str, float]] = {}
    for e in endog:
        rec: dict[str, float] = {}
        if F is not None and len(endog) == 1:
            rec["F"] = F
            if effF is not None:
                rec["effective_F"] = effF
        out[e] = rec
    return out
