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

Small-sample conventions (``small_sample=``)
-------------------------------------------
``"fixest"`` (default)
    pyfixest's and R fixest's ``ssc()`` default: ``(N-1)/(N-K)`` (``N/(N-K)`` for ``hetero``)
    times ``G/(G-1)`` for clustered errors, with ``K`` the slopes plus the fixed effects *not*
    nested in the clusters plus one per fixed-effect dimension that is nested. t-tests use
    ``G - 1`` degrees of freedom when clustered (the smallest ``G`` for two-way clustering),
    ``N - K`` otherwise. This is :func:`icsresearch.models.fit` with ``convention="stata"``.
    With two-way clustering a fixed effect nested in *either* cluster variable counts as nested
    (pyfixest's rule; e.g. trust effects with trust-or-ICS and year clusters count once).
``"full"``
    every fixed-effect parameter counted in ``K``: what OLS with dummy variables gives
    (statsmodels ``cov_type="cluster"``/``"HC1"``, Stata ``regress`` with ``i.`` dummies).
``"none"``
    no factor at all (HC0 / CR0).

CRV3 is the leave-one-cluster-out jackknife ``sum_g (b_(g) - b)(b_(g) - b)'`` multiplied by the
same ``G/(G-1) (N-1)/(N-K)`` factor as CRV1 (pyfixest's choice); the textbook CR3 and
``fit(cov_type="cr3")`` multiply it by ``(G-1)/G`` instead.
"""

from __future__ import annotations

import copy
import datetime as _dt
import difflib
import functools
import re
import warnings as _warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..errors import InvalidParameterError
from .results import RegressionResult

Vcov = Literal["iid", "hetero", "CRV1", "CRV3"]
SmallSample = Literal["fixest", "full", "none"]

VCOVS = ("iid", "hetero", "CRV1", "CRV3")
SMALL_SAMPLE = {
    "fixest": {"k_adj": True, "k_fixef": "nonnested", "G_adj": True, "G_df": "min"},
    "full": {"k_adj": True, "k_fixef": "full", "G_adj": True, "G_df": "min"},
    "none": {"k_adj": False, "k_fixef": "none", "G_adj": False, "G_df": "min"},
}
#: Fewer clusters than this gets a warning (as :func:`icsresearch.models.fit`).
FEW_CLUSTERS = 50
#: First-stage (effective) F below this gets a weak-instrument warning (Staiger-Stock).
WEAK_IV_F = 10.0
#: Demeaning tolerance: tight enough for coefficients to agree with dummy-variable OLS to 1e-10.
FIXEF_TOL = 1e-12

_IDENT = re.compile(r"`([^`]+)`|([A-Za-z_][A-Za-z0-9_.]*)")


# --- formula ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class HDFEFormula:
    """A pyfixest formula split into its parts.

    Attributes
    ----------
    outcome
        The left-hand side (one outcome).
    rhs
        Exogenous regressors as written (``"1"`` when there are none).
    fixed_effects
        Fixed-effect terms (``"trust_code"``, ``"icb_code^year"``).
    endogenous, instruments
        The IV part ``endog ~ instr``, empty lists for OLS.
    """

    outcome: str
    rhs: str
    fixed_effects: tuple[str, ...]
    endogenous: tuple[str, ...]
    instruments: tuple[str, ...]

    @property
    def is_iv(self) -> bool:
        return bool(self.endogenous)

    def fe_columns(self) -> list[str]:
        """Columns behind the fixed-effect terms (``a^b`` uses ``a`` and ``b``)."""
        cols = [c.strip() for fe in self.fixed_effects for c in fe.split("^")]
        return list(dict.fromkeys(cols))

    def to_pyfixest(self) -> str:
        out = f"{self.outcome} ~ {self.rhs}"
        if self.fixed_effects:
            out += " | " + " + ".join(self.fixed_effects)
        if self.endogenous:
            out += f" | {' + '.join(self.endogenous)} ~ {' + '.join(self.instruments)}"
        return out


def _split_plus(text: str) -> list[str]:
    return [t.strip() for t in text.split("+") if t.strip()]


def parse_formula(formula: str) -> HDFEFormula:
    """Split ``"y ~ x1 + x2 | fe1 + fe2 | endog ~ instr"`` into its parts.

    Raises
    ------
    InvalidParameterError
        When the formula is not a string of that form, or asks for several outcomes.
    """
    if not isinstance(formula, str) or "~" not in formula:
        raise InvalidParameterError(
            f"formula={formula!r} must be a string like 'y ~ x | fe1 + fe2' or "
            "'y ~ x | fe1 | endog ~ instrument'"
        )
    parts = [p.strip() for p in formula.split("|")]
    if len(parts) > 3:
        raise InvalidParameterError(
            f"formula={formula!r} has {len(parts) - 1} '|': at most two are allowed "
            "('y ~ x | fixed effects | endogenous ~ instruments')"
        )
    main = parts[0]
    if main.count("~") != 1:
        raise InvalidParameterError(f"formula={formula!r}: the first part needs exactly one '~'")
    lhs, rhs = (s.strip() for s in main.split("~"))
    fe_part, iv_part = "", ""
    for p in parts[1:]:
        if "~" in p:
            if iv_part:
                raise InvalidParameterError(f"formula={formula!r} has two IV parts")
            iv_part = p
        else:
            if iv_part:
                raise InvalidParameterError(
                    f"formula={formula!r}: the fixed effects must come before the IV part"
                )
            fe_part = p
    if not lhs or "+" in lhs or "(" in lhs:
        raise InvalidParameterError(
            f"formula={formula!r}: give one outcome column on the left-hand side (multiple "
            "estimation syntax such as 'y1 + y2 ~ x' or 'csw()' is not supported; fit the "
            "models one by one and put them in regression_table)"
        )
    fes = tuple(f for f in _split_plus(fe_part) if f != "0")
    endog: tuple[str, ...] = ()
    instr: tuple[str, ...] = ()
    if iv_part:
        if iv_part.count("~") != 1:
            raise InvalidParameterError(f"formula={formula!r}: the IV part must be 'endog ~ z'")
        e, z = (s.strip() for s in iv_part.split("~"))
        endog, instr = tuple(_split_plus(e)), tuple(_split_plus(z))
        if not endog or not instr:
            raise InvalidParameterError(
                f"formula={formula!r}: the IV part needs endogenous variables and instruments"
            )
        if len(instr) < len(endog):
            raise InvalidParameterError(
                f"formula={formula!r}: {len(endog)} endogenous variable(s) but only "
                f"{len(instr)} instrument(s): the model is not identified\n  Fix: add "
                "instruments or remove endogenous variables"
            )
    return HDFEFormula(lhs, rhs or "1", fes, endog, instr)


# --- input checks ----------------------------------------------------------------------------


def data_label(data: pd.DataFrame) -> str:
    """How to name the data in messages: its source file when a reader recorded one."""
    path = data.attrs.get("path") or data.attrs.get("source")
    return f"the data ({path})" if path else "the data frame"


def check_columns(data: pd.DataFrame, roles: dict[str, Sequence[str]]) -> None:
    """Raise a helpful error for any column that is not in ``data``."""
    missing = [(r, c) for r, cols in roles.items() for c in cols if c not in data.columns]
    if not missing:
        return
    names = [str(c) for c in data.columns]
    lines = []
    for role, col in missing:
        close = difflib.get_close_matches(str(col), names, n=3)
        hint = f" (did you mean {', '.join(map(repr, close))}?)" if close else ""
        lines.append(f"{role} column {col!r} is not in {data_label(data)}{hint}")
    shown = ", ".join(names[:25]) + (" ..." if len(names) > 25 else "")
    raise InvalidParameterError("\n".join(lines) + f"\n  Fix: use one of the columns: {shown}")


def formula_columns(text: str, columns: pd.Index) -> list[str]:
    """Columns named in a formula fragment, in order of appearance."""
    found = []
    for token in _IDENT.findall(text):
        name = token[0] or token[1]
        if name in columns:
            found.append(name)
    return list(dict.fromkeys(found))


def _examples(index: pd.Index, mask: np.ndarray, k: int = 3) -> str:
    labels = list(index[np.flatnonzero(mask)[:k]])
    return ", ".join(map(repr, labels)) + (" ..." if mask.sum() > k else "")


def check_numeric(data: pd.DataFrame, columns: Sequence[str], role: str = "model") -> None:
    """Numeric (or boolean) columns must not hold infinite values."""
    for c in columns:
        s = data[c]
        if pd.api.types.is_bool_dtype(s) or not pd.api.types.is_numeric_dtype(s):
            continue
        v = s.to_numpy(dtype=float, na_value=np.nan)
        bad = np.isinf(v)
        if bad.any():
            raise InvalidParameterError(
                f"{role} column {c!r} of {data_label(data)} has {int(bad.sum())} infinite "
                f"value(s) (rows {_examples(data.index, bad)})\n  Fix: replace them with NaN "
                "(they are then dropped) or correct the transformation that produced them "
                "(e.g. log of 0)"
            )


def _check_outcome(data: pd.DataFrame, name: str) -> None:
    s = data[name]
    if not (pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s)):
        raise InvalidParameterError(
            f"the outcome {name!r} of {data_label(data)} is not numeric (dtype {s.dtype})\n"
            "  Fix: convert it with pd.to_numeric(..., errors='coerce')"
        )


def _check_weights(data: pd.DataFrame, name: str) -> None:
    s = data[name]
    if not pd.api.types.is_numeric_dtype(s):
        raise InvalidParameterError(f"weights column {name!r} is not numeric (dtype {s.dtype})")
    v = s.to_numpy(dtype=float, na_value=np.nan)
    bad = np.isfinite(v) & (v <= 0) | np.isinf(v)
    if bad.any():
        raise InvalidParameterError(
            f"weights column {name!r} of {data_label(data)} has {int(bad.sum())} non-positive "
            f"or infinite value(s) (rows {_examples(data.index, bad)})\n  Fix: weights must be "
            "positive; drop those rows or set their weight to NaN (they are then dropped)"
        )


def _choice(name: str, value: Any, allowed: Sequence[str]) -> None:
    if value not in allowed:
        raise InvalidParameterError(
            f"{name}={value!r} is not one of {list(allowed)}\n  Fix: pass one of those values"
        )


def _alpha(alpha: Any) -> float:
    if isinstance(alpha, bool) or not (isinstance(alpha, float | int) and 0 < alpha < 1):
        raise InvalidParameterError(f"alpha must be between 0 and 1, got {alpha!r}")
    return float(alpha)


def cluster_list(cluster: str | Sequence[str] | None) -> list[str]:
    """One or two cluster column names as a list (empty for none)."""
    if cluster is None:
        return []
    names = [cluster] if isinstance(cluster, str) else list(cluster)
    if not 1 <= len(names) <= 2 or not all(isinstance(n, str) for n in names):
        raise InvalidParameterError(f"cluster= takes one or two column names, got {cluster!r}")
    return names


# --- provenance ------------------------------------------------------------------------------


@functools.cache
def _manifest_template() -> dict[str, Any]:
    from ..provenance import manifest

    return manifest()


def provenance(data: pd.DataFrame, parameters: dict[str, Any]) -> dict[str, Any]:
    """A manifest of the inputs (``data.attrs``), parameters, environment and time.

    The environment part (package metadata, git) is read once per process: simulations fit
    many models.
    """
    record = copy.deepcopy(_manifest_template())
    record["created_utc"] = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
    record["parameters"] = dict(parameters)
    attrs = getattr(data, "attrs", {}) or {}
    inputs = []
    if attrs.get("source") or attrs.get("path"):
        from ..provenance import input_record

        inputs.append(input_record(attrs))
    if attrs.get("synthetic"):
        inputs.append({"source": "synthetic demo data"})
    record["inputs"] = inputs
    return record


def warn(message: str) -> None:
    """Emit a caveat as a Python ``UserWarning`` (it is also kept in ``result.warnings``)."""
    _warnings.warn(message, UserWarning, stacklevel=3)


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


def _run_pyfixest(fml: str, frame: pd.DataFrame, kwargs: dict[str, Any]):
    """pyfixest feols with its warnings captured (pandas deprecation chatter is dropped)."""
    import pyfixest as pf

    with _warnings.catch_warnings(record=True) as caught:
        _warnings.simplefilter("always")
        try:
            model = pf.feols(fml, data=frame, **kwargs)
        except ValueError as exc:
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


def fit_hdfe(
    data: pd.DataFrame,
    formula: str,
    *,
    vcov: Vcov | None = None,
    cluster: str | Sequence[str] | None = None,
    weights: str | None = None,
    small_sample: SmallSample = "fixest",
    singletons: Literal["drop", "keep", "raise"] = "drop",
    collinear: Literal["raise", "drop"] = "raise",
    alpha: float = 0.05,
) -> RegressionResult:
    """OLS or 2SLS with any number of absorbed fixed effects (pyfixest ``feols``).

    Parameters
    ----------
    data
        A DataFrame with the model's columns; ``data.attrs`` (``source``, ``path``) go into the
        provenance.
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
    weights
        Column of positive analytic weights (WLS / weighted 2SLS).
    small_sample
        ``"fixest"`` (default), ``"full"`` or ``"none"``: how the fixed effects enter the
        small-sample factor; see the module docstring.
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
    if not isinstance(data, pd.DataFrame):
        raise InvalidParameterError(f"data must be a pandas DataFrame, not {type(data).__name__}")
    alpha = _alpha(alpha)
    clusters = cluster_list(cluster)
    if vcov is None:
        vcov = "CRV1" if clusters else "iid"
    _choice("vcov", vcov, VCOVS)
    _choice("small_sample", small_sample, tuple(SMALL_SAMPLE))
    _choice("singletons", singletons, ("drop", "keep", "raise"))
    _choice("collinear", collinear, ("raise", "drop"))
    if vcov in ("CRV1", "CRV3") and not clusters:
        raise InvalidParameterError(
            f"vcov={vcov!r} needs cluster='<column>' (e.g. cluster='trust_code')"
        )
    if clusters and vcov not in ("CRV1", "CRV3"):
        raise InvalidParameterError(
            f"cluster={cluster!r} was given but vcov={vcov!r}\n  Fix: use vcov='CRV1' (or "
            "'CRV3'), or drop cluster="
        )
    if vcov == "CRV3" and len(clusters) > 1:
        raise InvalidParameterError("vcov='CRV3' supports one cluster variable only")

    f = parse_formula(formula)
    if len(f.endogenous) > 1:
        raise InvalidParameterError(
            f"formula={formula!r} has {len(f.endogenous)} endogenous variables; pyfixest "
            "supports one\n  Fix: instrument one variable per model, or use linearmodels' "
            "IV2SLS with the fixed effects as dummies"
        )
    rhs_text = " ".join([f.rhs, *f.endogenous, *f.instruments])
    rhs_cols = formula_columns(rhs_text, data.columns)
    check_columns(
        data,
        {
            "outcome": [f.outcome],
            "fixed-effect": f.fe_columns(),
            "endogenous": [e for e in f.endogenous if _IDENT.fullmatch(e)],
            "instrument": [z for z in f.instruments if _IDENT.fullmatch(z)],
            "cluster": clusters,
            "weights": [weights] if weights else [],
        },
    )
    if f.outcome in rhs_cols or f.outcome in f.fe_columns():
        raise InvalidParameterError(
            f"the outcome {f.outcome!r} also appears on the right-hand side"
        )
    _check_outcome(data, f.outcome)
    if weights:
        _check_weights(data, weights)
    used = list(dict.fromkeys([f.outcome, *rhs_cols, *f.fe_columns(), *clusters]))
    if weights:
        used.append(weights)
    check_numeric(data, [f.outcome, *rhs_cols])

    complete = data[used].notna().all(axis=1).to_numpy()
    n_missing = int((~complete).sum())
    frame = data.loc[complete, used].reset_index(drop=True)
    original_index = data.index[complete]
    if len(frame) == 0:
        raise InvalidParameterError(
            f"no complete rows: every row of {data_label(data)} misses one of {used}"
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

    kwargs: dict[str, Any] = {
        "vcov": {vcov: "+".join(clusters)} if clusters else vcov,
        "ssc": dict(SMALL_SAMPLE[small_sample]),
        "fixef_rm": "singleton" if singletons == "drop" else "none",
        "collin_tol": 1e-9,
        "fixef_tol": FIXEF_TOL,
    }
    if weights:
        kwargs["weights"] = weights
    model, messages = _run_pyfixest(f.to_pyfixest(), frame, kwargs)

    warnings: list[str] = []
    notes: list[str] = []
    if n_missing:
        notes.append(f"{n_missing:,} rows with missing values were dropped.")
    dropped = [str(v) for v in getattr(model, "_collin_vars", []) or []]
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

    result = from_pyfixest(model, alpha=alpha)
    kept_pos = np.asarray(model._data.index, dtype=np.intp)
    n_singletons = len(frame) - int(model._N)
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
                "clusters; consider vcov='CRV3' or a wild cluster bootstrap."
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
        warn(w)

    parameters = {
        "formula": formula,
        "vcov": vcov,
        "cluster": clusters or None,
        "weights": weights,
        "small_sample": small_sample,
        "singletons": singletons,
        "collinear": collinear,
        "alpha": alpha,
    }
    result.extra.update(
        {
            "n_missing": n_missing,
            "n_singletons": n_singletons,
            "singleton_levels": {k: v[:20] for k, v in singles.items()},
            "dropped_collinear": dropped,
            "small_sample": small_sample,
        }
    )
    result.sample = original_index[kept_pos]
    result.warnings = [*notes, *warnings]
    result.formula = formula
    result.provenance = provenance(data, parameters)
    return result


# --- conversion ------------------------------------------------------------------------------


def _vcov_label(model) -> tuple[str, list[str]]:
    detail = str(getattr(model, "_vcov_type_detail", model._vcov_type))
    clusters = [str(c) for c in (getattr(model, "_clustervar", None) or [])]
    if model._vcov_type == "CRV":
        what = " and ".join(clusters)
        kind = "two-way " if len(clusters) > 1 else ""
        return f"clustered by {what} ({kind}{detail})", clusters
    if detail in ("hetero", "HC1"):
        return "heteroskedasticity-robust (HC1)", []
    if detail in ("HC2", "HC3"):
        return f"heteroskedasticity-robust ({detail})", []
    if detail == "iid":
        return "conventional (iid)", []
    return detail, clusters


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
        As :func:`fit_hdfe` (without its input checks, row counts and provenance).
    """
    if not hasattr(model, "_beta_hat") or not hasattr(model, "_vcov"):
        raise InvalidParameterError(
            f"expected one fitted pyfixest Feols/Feiv model, got {type(model).__name__}\n"
            "  Fix: for several models (FixestMulti) convert each of .all_fitted_models"
        )
    names = [str(n) for n in model._coefnames]
    params = pd.Series(np.asarray(model._beta_hat, dtype=float), index=names, name="estimate")
    cov = pd.DataFrame(np.asarray(model._vcov, dtype=float), index=names, columns=names)
    label, clusters = _vcov_label(model)
    fes = tuple(f.strip() for f in (model._fixef or "").split("+") if f.strip() and f != "0")
    frame = model._data
    n_groups: dict[str, int] = {}
    for fe in fes:
        cols = [c.strip() for c in fe.split("^")]
        if all(c in frame.columns for c in cols):
            n_groups[fe] = int(len(np.unique(_level_codes(frame, fe))))
    Gs = list(np.atleast_1d(getattr(model, "_G", []) or []))
    n_clusters = {}
    for i, c in enumerate(clusters):
        G = int(frame[c].nunique()) if c in frame.columns else int(Gs[i]) if i < len(Gs) else 0
        n_clusters[c] = G
        n_groups[f"clusters: {c}"] = G
    rsq = {
        "r2": float(model._r2),
        "adj_r2": float(model._adj_r2),
    }
    if fes:
        rsq["within"] = float(model._r2_within)
        rsq["adj_within"] = float(model._adj_r2_within)
    is_iv = bool(getattr(model, "_is_iv", False))
    extra: dict[str, Any] = {
        "estimator": "2SLS" if is_iv else "OLS",
        "vcov": str(getattr(model, "_vcov_type_detail", model._vcov_type)),
        "cluster": clusters,
        "n_clusters": n_clusters,
        "ssc": dict(getattr(model, "_ssc_dict", {}) or {}),
        "small_sample_factor": float(np.ravel(model._ssc)[0]) if hasattr(model, "_ssc") else None,
        "k_small_sample": int(model._df_k),
        "rmse": float(model._rmse),
        "weights": getattr(model, "_weights_name", None),
    }
    what = "2SLS" if is_iv else "OLS"
    if is_iv:
        endog = _split_plus(str(getattr(model.FixestFormula, "endogenous", "")))
        instr = [str(z) for z in model._coefnames_z if z not in names]
        extra["endogenous"] = endog
        extra["instruments"] = instr
        extra["first_stage"] = _first_stage(model, endog)
        what += f" (endogenous: {', '.join(endog)}; instruments: {', '.join(instr)})"
    fe_label = f" with fixed effects {' + '.join(fes)}" if fes else ""
    wlabel = ", weighted" if extra["weights"] else ""
    return RegressionResult(
        params=params,
        cov=cov,
        nobs=int(model._N),
        df_resid=float(model._df_t),
        model=f"{what}{fe_label}{wlabel} (pyfixest feols)",
        cov_type=label,
        dependent=str(model._depvar),
        formula=str(getattr(model, "_fml", "")),
        n_groups=n_groups,
        rsquared=rsq,
        dist="t",
        sample=None,
        fixed_effects=fes,
        extra=extra,
        warnings=[],
        provenance={},
        alpha=_alpha(alpha),
    )


def _first_stage(model, endog: list[str]) -> dict[str, dict[str, float]]:
    """First-stage F (and Olea-Pflueger effective F) per endogenous variable."""
    out: dict[str, dict[str, float]] = {}
    with _warnings.catch_warnings():
        _warnings.simplefilter("ignore")
        try:
            model.IV_Diag()
        except Exception:  # diagnostics are optional: never fail the fit over them
            return {e: {} for e in endog}
    F = getattr(model, "_f_stat_1st_stage", None)
    effF = getattr(model, "_eff_F", None)
    for e in endog:
        rec: dict[str, float] = {}
        if F is not None and np.ndim(F) == 0 and len(endog) == 1:
            rec["F"] = float(F)
            if effF is not None and np.ndim(effF) == 0:
                rec["effective_F"] = float(effF)
        out[e] = rec
    return out
