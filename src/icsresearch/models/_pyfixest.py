"""The one module that calls pyfixest and reads its fitted models' internal attributes.

pyfixest's public API gives coefficients, standard errors and p-values, but not everything the
workbench reports (the small-sample factor and its ``K``, the degrees of freedom of t-tests, the
rows kept after singletons, collinear variables, first-stage F statistics, fitted means of a GLM).
Those live in private attributes that may change between minor versions. Every such read goes
through this module, against the lists below, so that:

* a pyfixest that lacks one fails with :class:`PyfixestInternalsError` naming the attribute and the
  versions this module was tested with, never with a bare ``AttributeError`` deep in a fit;
* ``tests/test_models_pyfixest_adapter.py`` fits one model of each kind and checks every listed
  attribute, so an upgrade shows at once what moved.

pyfixest's errors are translated here too: it raises plain ``ValueError`` for a collinear or
singular design, distinguished only by its message, so this is the one place that reads message
text, and it turns them into :class:`~icsresearch.errors.InvalidParameterError`.
"""

from __future__ import annotations

import warnings as _warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import IcsResearchError, InvalidParameterError

#: pyfixest release series whose internals this module was checked against (0.60.0, ``pip show
#: pyfixest``); ``pyproject.toml`` pins the same series.
TESTED_SERIES = ("0.60",)

#: Attributes read from every fitted ``Feols``/``Feiv``/``Feglm``/``Fepois`` model, and why.
MODEL_ATTRIBUTES = {
    "_coefnames": "coefficient names",
    "_beta_hat": "coefficients",
    "_vcov": "the covariance matrix (pyfixest has no public accessor for it)",
    "_vcov_type": "the kind of covariance ('iid', 'hetero', 'CRV')",
    "_vcov_type_detail": "its detail ('CRV1', 'CRV3', 'HC1'...)",
    "_clustervar": "cluster variables",
    "_fixef": "the absorbed fixed effects",
    "_N": "observations used (after singletons and missing values)",
    "_data": "the rows used, indexed by their position in the input",
    "_collin_vars": "variables dropped as collinear",
    "_depvar": "the outcome's name",
    "_fml": "the formula",
}
#: Further attributes read from linear models (``Feols``/``Feiv``).
OLS_ATTRIBUTES = {
    "_r2": "R-squared",
    "_adj_r2": "adjusted R-squared",
    "_r2_within": "within R-squared",
    "_adj_r2_within": "adjusted within R-squared",
    "_is_iv": "whether the model is 2SLS",
    "_ssc_dict": "the small-sample settings used",
    "_ssc": "the small-sample factor applied",
    "_df_k": "K of the small-sample factor",
    "_df_t": "degrees of freedom of t-tests",
    "_rmse": "root mean squared error",
    "_weights_name": "the weights column",
    "_X": "the demeaned (and weighted) design, for the wild bootstrap",
    "_Y": "the demeaned (and weighted) outcome, for the wild bootstrap",
    "_weights": "the regression weights, for the wild bootstrap",
    "_G": "number of clusters per cluster variable",
    "FixestFormula": "the parsed formula (its endogenous part)",
    "_coefnames_z": "names of the instruments' design columns",
}
#: Attributes of a 2SLS model after ``IV_Diag()``.
IV_DIAG_ATTRIBUTES = {
    "_f_stat_1st_stage": "first-stage F statistic",
    "_eff_F": "Olea-Pflueger effective F",
}
#: Attributes of ``Feglm``/``Fepois`` models.
GLM_ATTRIBUTES = {
    "_Y_hat_response": "fitted means, for the log-likelihood",
    "_Xbeta": "the linear predictor, for quasi-separation",
    "convergence": "whether the IRLS converged",
}


class PyfixestInternalsError(IcsResearchError, AttributeError):
    """The installed pyfixest lacks an internal attribute the workbench reads.

    Parameters
    ----------
    name
        The attribute.
    purpose
        What it is read for.
    obj
        The pyfixest object that lacks it.
    """

    def __init__(self, name: str, purpose: str, obj: Any):
        self.name = name
        super().__init__(
            f"pyfixest {version()} has no attribute {name!r} on {type(obj).__name__} ({purpose}); "
            "icsresearch reads it and was tested with pyfixest "
            f"{', '.join(s + '.x' for s in TESTED_SERIES)}.\n"
            f"  Fix: pip install 'pyfixest=={TESTED_SERIES[-1]}.*', or update "
            "icsresearch/models/_pyfixest.py for the new version"
        )


def version() -> str:
    """The installed pyfixest version."""
    from importlib import metadata

    return metadata.version("pyfixest")


def is_tested_version(installed: str | None = None) -> bool:
    """Whether a pyfixest version (default: the installed one) is of a tested release series.

    Parameters
    ----------
    installed
        A version string such as ``"0.60.1"``.
    """
    major_minor = ".".join((installed or version()).split(".")[:2])
    return major_minor in TESTED_SERIES


def attribute(model: Any, name: str) -> Any:
    """``model.<name>`` for a listed internal attribute, or a :class:`PyfixestInternalsError`.

    Parameters
    ----------
    model
        A fitted pyfixest model.
    name
        A key of one of the attribute lists of this module.
    """
    for table in (MODEL_ATTRIBUTES, OLS_ATTRIBUTES, IV_DIAG_ATTRIBUTES, GLM_ATTRIBUTES):
        if name in table:
            purpose = table[name]
            break
    else:  # a bug in this package: every read is listed, so the adapter test covers it
        raise KeyError(f"{name!r} is not a listed pyfixest attribute")
    try:
        return getattr(model, name)
    except AttributeError:
        raise PyfixestInternalsError(name, purpose, model) from None


def is_fitted_model(obj: Any) -> bool:
    """Whether ``obj`` looks like one fitted pyfixest model (not a ``FixestMulti``)."""
    return hasattr(obj, "_beta_hat") and hasattr(obj, "_vcov") and hasattr(obj, "_coefnames")


# --- fitting -----------------------------------------------------------------------------------


def _fit(call, fml: str, **kwargs) -> tuple[Any, list[str]]:
    """Run a pyfixest fit with its warnings captured and its errors translated."""
    with _warnings.catch_warnings(record=True) as caught:
        _warnings.simplefilter("always")
        try:
            model = call(fml, **kwargs)
        except ValueError as exc:
            # pyfixest signals a degenerate design with a plain ValueError; its message is the
            # only thing that tells the two cases apart
            msg = " ".join(str(exc).split())
            if "collinear" in msg.lower():
                raise InvalidParameterError(
                    f"{fml}: every regressor is collinear with the fixed effects (or constant)\n"
                    "  Fix: a regressor that does not vary within a fixed effect's levels cannot "
                    "be estimated with that fixed effect; remove one or the other"
                ) from None
            if "singular" in msg.lower():
                raise InvalidParameterError(
                    f"pyfixest could not fit {fml!r}: {msg}\n  Fix: a regressor, endogenous "
                    "variable or instrument is (nearly) collinear with the fixed effects or the "
                    "other variables; remove it"
                ) from None
            raise InvalidParameterError(f"pyfixest could not fit {fml!r}: {msg}") from None
        except Exception as exc:  # formula/parse errors from formulaic or pyfixest
            msg = " ".join(str(exc).split())
            raise InvalidParameterError(
                f"pyfixest could not fit {fml!r}: {type(exc).__name__}: {msg}\n  Fix: check the "
                "formula's variable names and syntax ('y ~ x | fe1 + fe2 | endog ~ instr')"
            ) from None
    messages = [
        " ".join(str(w.message).split())
        for w in caught
        if not issubclass(w.category, DeprecationWarning | FutureWarning)
        and "inplace" not in str(w.message)
    ]
    return model, messages


def feols(
    fml: str,
    data: pd.DataFrame,
    *,
    vcov: str,
    clusters: list[str],
    ssc: dict[str, Any],
    drop_singletons: bool,
    weights: str | None,
    collin_tol: float,
    fixef_tol: float,
) -> tuple[Any, list[str]]:
    """pyfixest ``feols`` with the workbench's options; returns the model and its warnings.

    Parameters
    ----------
    fml
        pyfixest formula.
    data
        The rows to fit (no missing values).
    vcov
        ``"iid"``, ``"hetero"``, ``"CRV1"`` or ``"CRV3"``.
    clusters
        Cluster columns (for ``CRV1``/``CRV3``).
    ssc
        pyfixest small-sample settings (``k_adj``, ``k_fixef``, ``G_adj``, ``G_df``).
    drop_singletons
        Drop singleton fixed-effect levels (fixest's ``fixef_rm = "singleton"``).
    weights
        Weights column or None.
    collin_tol, fixef_tol
        Collinearity and demeaning tolerances.
    """
    import pyfixest as pf

    kwargs: dict[str, Any] = {
        "data": data,
        "vcov": {vcov: "+".join(clusters)} if clusters else vcov,
        "ssc": dict(ssc),
        "fixef_rm": "singleton" if drop_singletons else "none",
        "collin_tol": collin_tol,
        "fixef_tol": fixef_tol,
    }
    if weights:
        kwargs["weights"] = weights
    return _fit(pf.feols, fml, **kwargs)


def feglm_raw(
    fml: str,
    data: pd.DataFrame,
    *,
    family: str,
    vcov: str,
    cluster: str | None,
    offset: str | None,
) -> Any:
    """pyfixest ``feglm`` (logit) or ``fepois`` with no small-sample factor, singletons kept.

    The covariance is the raw sandwich (the caller applies its own factor); separated levels must
    have been removed by the caller. Demeaning and IRLS tolerances are tight so the absorbed fit
    agrees with a dummy-variable fit to about 1e-9.

    Parameters
    ----------
    fml
        pyfixest formula.
    data
        The rows to fit.
    family
        ``"logit"`` or ``"poisson"``.
    vcov
        ``"iid"``, ``"hetero"`` or ``"CRV1"``.
    cluster
        Cluster column for ``CRV1``.
    offset
        Offset column (Poisson).
    """
    import pyfixest as pf

    common: dict[str, Any] = {
        "vcov": {"CRV1": cluster} if vcov == "CRV1" else vcov,
        "ssc": pf.ssc(k_adj=False, G_adj=False),
        "fixef_rm": "none",
        "iwls_tol": 1e-12,
        "iwls_maxiter": 200,
        "demeaner": pf.MapDemeaner(fixef_tol=1e-12),
        "separation_check": [],
    }
    with _warnings.catch_warnings():
        # pyfixest's own use of deprecated pandas and numpy features is not the user's concern
        _warnings.simplefilter("ignore", DeprecationWarning)
        _warnings.simplefilter("ignore", FutureWarning)
        if family == "logit":
            return pf.feglm(fml, data, family="logit", **common)
        return pf.fepois(fml, data, offset=offset, **common)


# --- reading fitted models -----------------------------------------------------------------------


@dataclass(frozen=True)
class LinearFit:
    """What the workbench reads from a fitted pyfixest ``Feols``/``Feiv`` model.

    Attributes
    ----------
    names
        Coefficient names.
    params, cov
        Coefficients and their covariance.
    vcov_type, vcov_detail
        pyfixest's kind of covariance (``"iid"``, ``"hetero"``, ``"CRV"``) and its detail.
    clusters
        Cluster variables.
    fixed_effects
        Absorbed fixed-effect terms.
    n_clusters
        pyfixest's cluster counts (one per cluster variable, in order).
    nobs, df_t, df_k
        Observations, t-test degrees of freedom, ``K`` of the small-sample factor.
    ssc, ssc_factor
        Small-sample settings and the factor applied.
    r2, adj_r2, r2_within, adj_r2_within, rmse
        Fit statistics.
    is_iv, endogenous, instrument_columns
        2SLS: the endogenous variables and the instruments' design columns.
    weights
        Weights column or None.
    outcome, formula
        The outcome's name and the formula.
    data
        The rows used (index: their position in the data handed to pyfixest).
    collinear
        Variables pyfixest dropped as collinear.
    """

    names: list[str]
    params: np.ndarray
    cov: np.ndarray
    vcov_type: str
    vcov_detail: str
    clusters: list[str]
    fixed_effects: tuple[str, ...]
    n_clusters: list[int]
    nobs: int
    df_t: float
    df_k: int
    ssc: dict[str, Any]
    ssc_factor: float | None
    r2: float
    adj_r2: float
    r2_within: float
    adj_r2_within: float
    rmse: float
    is_iv: bool
    endogenous: list[str]
    instrument_columns: list[str]
    weights: str | None
    outcome: str
    formula: str
    data: pd.DataFrame
    collinear: list[str]


def read_linear(model: Any) -> LinearFit:
    """Everything :class:`LinearFit` lists, read from a fitted ``Feols``/``Feiv``.

    Parameters
    ----------
    model
        The object ``pyfixest.feols`` returns (one model).
    """
    a = attribute
    vcov_type = str(a(model, "_vcov_type"))
    detail = a(model, "_vcov_type_detail")
    fixef = a(model, "_fixef") or ""
    is_iv = bool(a(model, "_is_iv"))
    endog = str(getattr(a(model, "FixestFormula"), "endogenous", "") or "") if is_iv else ""
    ssc = a(model, "_ssc")
    return LinearFit(
        names=[str(n) for n in a(model, "_coefnames")],
        params=np.asarray(a(model, "_beta_hat"), dtype=float),
        cov=np.asarray(a(model, "_vcov"), dtype=float),
        vcov_type=vcov_type,
        vcov_detail=str(detail if detail is not None else vcov_type),
        clusters=[str(c) for c in (a(model, "_clustervar") or [])],
        fixed_effects=tuple(f.strip() for f in fixef.split("+") if f.strip() and f != "0"),
        n_clusters=[int(g) for g in np.atleast_1d(a(model, "_G") or [])],
        nobs=int(a(model, "_N")),
        df_t=float(a(model, "_df_t")),
        df_k=int(a(model, "_df_k")),
        ssc=dict(a(model, "_ssc_dict") or {}),
        ssc_factor=None if ssc is None else float(np.ravel(ssc)[0]),
        r2=float(a(model, "_r2")),
        adj_r2=float(a(model, "_adj_r2")),
        r2_within=float(a(model, "_r2_within")),
        adj_r2_within=float(a(model, "_adj_r2_within")),
        rmse=float(a(model, "_rmse")),
        is_iv=is_iv,
        endogenous=[e.strip() for e in endog.split("+") if e.strip()],
        instrument_columns=[str(z) for z in a(model, "_coefnames_z")] if is_iv else [],
        weights=a(model, "_weights_name"),
        outcome=str(a(model, "_depvar")),
        formula=str(a(model, "_fml") or ""),
        data=a(model, "_data"),
        collinear=[str(v) for v in (a(model, "_collin_vars") or [])],
    )


def first_stage(model: Any) -> tuple[float | None, float | None]:
    """First-stage F and Olea-Pflueger effective F of a one-endogenous 2SLS (None if unavailable).

    Parameters
    ----------
    model
        A fitted ``Feiv``.
    """
    with _warnings.catch_warnings():
        _warnings.simplefilter("ignore")
        try:
            model.IV_Diag()
        except Exception:  # diagnostics are optional: never fail the fit over them
            return None, None
    F, eff = (attribute(model, n) for n in IV_DIAG_ATTRIBUTES)
    return (
        float(F) if F is not None and np.ndim(F) == 0 else None,
        float(eff) if eff is not None and np.ndim(eff) == 0 else None,
    )


@dataclass(frozen=True)
class GlmFit:
    """What the workbench reads from a fitted pyfixest ``Feglm``/``Fepois``.

    Attributes
    ----------
    params
        Coefficients (index: pyfixest's names).
    cov
        Their raw covariance (no small-sample factor).
    nobs
        Observations used.
    collinear
        Variables dropped as collinear.
    mu
        Fitted means per row.
    xbeta
        Linear predictor per row.
    converged
        Whether the IRLS converged.
    """

    params: pd.Series
    cov: np.ndarray
    nobs: int
    collinear: list[str]
    mu: np.ndarray
    xbeta: np.ndarray
    converged: bool


def read_glm(model: Any) -> GlmFit:
    """Everything :class:`GlmFit` lists, read from a fitted ``Feglm``/``Fepois``.

    Parameters
    ----------
    model
        The fitted model.
    """
    a = attribute
    return GlmFit(
        params=model.coef(),
        cov=np.asarray(a(model, "_vcov"), dtype=np.float64),
        nobs=int(a(model, "_N")),
        collinear=[str(v) for v in (a(model, "_collin_vars") or [])],
        mu=np.asarray(a(model, "_Y_hat_response"), dtype=np.float64).ravel(),
        xbeta=np.asarray(a(model, "_Xbeta"), dtype=np.float64).ravel(),
        converged=bool(a(model, "convergence")),
    )
