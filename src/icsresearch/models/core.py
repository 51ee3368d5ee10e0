"""What every estimator shares: input checks, the formula parser, the inference options, the model
specification and the result's provenance.

Read top-down:

1. **Input checks** -- :func:`check_dataframe`, :func:`check_columns` (unknown columns, with a
   "did you mean"), :func:`check_numeric` (infinite values), :func:`check_types` (a text
   outcome, numbers stored as text), :func:`formula_columns`, :func:`plain` (values in messages).
2. **One formula parser** -- :func:`parse_formula` splits ``"y ~ x1 + x2 | fe1 + fe2 | d ~ z"``
   into a :class:`Formula`; each estimator says which parts it accepts (``fit`` and ``fit_mixed``
   take no ``| fe`` part, only ``fit_hdfe`` takes an IV part).
3. **One inference vocabulary** -- the words are the ``Literal`` types of
   :mod:`icsresearch.options` (``vcov``, ``cluster``, ``convention``, ``small_sample``,
   ``alpha``); :class:`Capabilities` says which values an estimator supports and
   :func:`resolve_inference` checks a call against them, giving an :class:`Inference`. Old
   spellings go through :func:`legacy_vcov`, :func:`legacy_small_sample` and
   :func:`renamed_argument` with a ``DeprecationWarning``.
4. **The specification** -- :class:`ModelSpec` (estimator, formula, panel identifiers, inference,
   estimator options) is stored on every result as ``result.spec``; re-inference
   (``PanelResult.with_cov``, the wild bootstrap) reads it, never the provenance.
5. **Result assembly** -- :func:`result_fields` gives every result its ``spec``, ``alpha`` and
   :class:`~icsresearch.provenance.Provenance` (:func:`result_provenance`: the data's record read
   with :func:`icsresearch.provenance.of` -- inputs and the synthetic flag -- plus the
   specification's parameters).

Panel identifiers are spelled the same everywhere: ``entity`` (the panel unit: trust, ICS...)
and ``time`` (the period) in :func:`~icsresearch.models.fit`,
:func:`~icsresearch.models.did_2x2` and :func:`~icsresearch.models.event_study`. Absorbed fixed
effects are written after ``|`` in the formula (:func:`~icsresearch.models.fit_hdfe`,
:func:`~icsresearch.models.fit_glm`). ``group`` in :func:`~icsresearch.models.fit_mixed` is a
different concept -- the levels of random intercepts, possibly nested -- and keeps its own name.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import difflib
import functools
import re
import warnings as _warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..errors import InvalidParameterError
from ..options import (
    CLUSTERED_VCOVS,
    Convention,
    SmallSample,
    Vcov,
    allowed,
    check,
    check_alpha,
    renamed,
)

if TYPE_CHECKING:  # pragma: no cover
    from ..provenance import Provenance

#: A column name in a formula: an identifier, or any name in backquotes.
IDENTIFIER = re.compile(r"`([^`]+)`|([A-Za-z_][A-Za-z0-9_.]*)")


# --- 1. input checks ---------------------------------------------------------------------------


def check_dataframe(data: Any) -> pd.DataFrame:
    """Return ``data`` if it is a DataFrame, else raise.

    Parameters
    ----------
    data
        What the caller passed as data.
    """
    if not isinstance(data, pd.DataFrame):
        raise InvalidParameterError(
            f"data must be a pandas DataFrame, not {type(data).__name__}\n  Fix: pass a "
            "DataFrame with one row per observation (e.g. icsresearch.panel.trust_year_panel())"
        )
    return data


def data_label(data: pd.DataFrame) -> str:
    """How to name the data in messages: its source file when a reader recorded one.

    Parameters
    ----------
    data
        The table.
    """
    path = data.attrs.get("path") or data.attrs.get("source")
    return f"the data ({path})" if path else "the data frame"


def check_columns(data: pd.DataFrame, roles: Mapping[str, Sequence[str]]) -> None:
    """Raise one error naming every column of ``roles`` that is not in ``data``.

    Parameters
    ----------
    data
        The table.
    roles
        Role (``"outcome"``, ``"cluster"``...) -> column names, as the caller wrote them.
    """
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
    """Columns named in a formula fragment, in order of appearance.

    Parameters
    ----------
    text
        A formula or part of one.
    columns
        The data's columns.
    """
    found = []
    for token in IDENTIFIER.findall(text):
        name = token[0] or token[1]
        if name in columns:
            found.append(name)
    return list(dict.fromkeys(found))


def row_examples(index: pd.Index, mask: np.ndarray, k: int = 3) -> str:
    """The first ``k`` row labels where ``mask`` is true, for messages.

    Parameters
    ----------
    index
        Row labels.
    mask
        Rows at fault.
    k
        How many to show.
    """
    labels = [plain(v) for v in index[np.flatnonzero(mask)[:k]]]
    return ", ".join(map(repr, labels)) + (" ..." if mask.sum() > k else "")


def check_numeric(data: pd.DataFrame, columns: Sequence[str], role: str = "model") -> None:
    """Numeric columns must not hold infinite values (they are not missing: they are errors).

    Parameters
    ----------
    data
        The table.
    columns
        Columns to check (non-numeric ones are skipped).
    role
        How to name them in the message.
    """
    for c in columns:
        s = data[c]
        if pd.api.types.is_bool_dtype(s) or not pd.api.types.is_numeric_dtype(s):
            continue
        v = s.to_numpy(dtype=float, na_value=np.nan)
        bad = np.isinf(v)
        if bad.any():
            raise InvalidParameterError(
                f"{role} column {c!r} of {data_label(data)} has {int(bad.sum())} infinite "
                f"value(s) (rows {row_examples(data.index, bad)})\n  Fix: replace them with NaN "
                "(they are then dropped) or correct the transformation that produced them "
                "(e.g. log of 0)"
            )


def plain(value: Any) -> Any:
    """A numpy scalar as the Python value it holds, so messages print ``1``, not ``np.int64(1)``.

    Parameters
    ----------
    value
        Any value; numpy scalars are unwrapped, timestamps shown as dates, others returned as is.
    """
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pd.Timestamp) and value == value.normalize():
        return value.date().isoformat()
    return value


#: Share of a text column's values that must read as numbers for it to count as numbers stored
#: as text (a stray "n/a" or "*" should not hide a column of numbers).
NUMERIC_TEXT_SHARE = 0.9
_CATEGORICAL_TERM = re.compile(r"\bC\(\s*`?([A-Za-z_][A-Za-z0-9_.]*)`?")


def _quoted_examples(values: pd.Series, k: int = 3) -> str:
    shown = []
    for v in values.dropna().unique()[:k]:
        text = str(v)
        shown.append(repr(text if len(text) <= 20 else text[:20] + "..."))
    return ", ".join(shown)


def check_types(
    data: pd.DataFrame,
    *,
    estimator: str,
    outcome: Sequence[str],
    regressors: Sequence[str] = (),
    formula: str = "",
) -> None:
    """Refuse a text outcome; warn about a regressor that holds numbers stored as text.

    A text outcome would otherwise be expanded by the formula engine into one dummy per distinct
    value (an error message listing thousands of names); a number column read as text (a stray
    ``"*"`` in a CSV) would silently become hundreds of dummies instead of one slope.

    Parameters
    ----------
    data
        The table.
    estimator
        The function's name, for messages.
    outcome
        Outcome columns (must be numeric or boolean).
    regressors
        Regressor columns; text ones whose values read as numbers give a ``UserWarning`` unless
        the formula wraps them in ``C(...)`` (categorical on purpose).
    formula
        The formula as written (to see ``C(...)`` terms).

    Raises
    ------
    InvalidParameterError
        An outcome column is not numeric.
    """
    for c in outcome:
        s = data[c]
        if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
            continue
        raise InvalidParameterError(
            f"{estimator}: the outcome {c!r} of {data_label(data)} is not numeric (dtype "
            f"{s.dtype}; values such as {_quoted_examples(s)}): a regression needs a number\n"
            f"  Fix: convert it, e.g. data[{c!r}] = pd.to_numeric(data[{c!r}], errors='coerce') "
            "(text that is not a number becomes missing: check how many)"
        )
    categorical = set(_CATEGORICAL_TERM.findall(formula))
    for c in regressors:
        s = data[c]
        # a pandas Categorical is categorical on purpose (its levels were chosen), like C(x)
        if (
            c in categorical
            or isinstance(s.dtype, pd.CategoricalDtype)
            or not (pd.api.types.is_object_dtype(s) or pd.api.types.is_string_dtype(s))
        ):
            continue
        # judged on the distinct values weighted by their rows: parsing every row of a
        # patient-level column cost about 3 s per 5 million rows
        counts = s.value_counts(dropna=True)
        levels = len(counts)
        if levels <= 2:
            continue
        as_text = counts.index.astype(str).str.strip().str.replace(",", "", regex=False)
        parsed = np.asarray(pd.to_numeric(as_text, errors="coerce"), dtype=float)
        rows = counts.to_numpy()
        if rows[~np.isnan(parsed)].sum() / rows.sum() >= NUMERIC_TEXT_SHARE:
            warn(
                f"{estimator}: regressor {c!r} holds numbers stored as text (dtype {s.dtype}; "
                f"values such as {_quoted_examples(s)}): it enters the model as a categorical "
                f"variable, {levels - 1} dummy columns, not as one slope. Fix: convert it with "
                f"pd.to_numeric(data[{c!r}], errors='coerce') if it is a number, or write "
                f"C({c}) in the formula to keep it categorical on purpose.",
                stacklevel=4,
            )


def warn(message: str, stacklevel: int = 3) -> None:
    """Emit a caveat of a fit as a ``UserWarning`` (it is also kept in ``result.warnings``).

    Parameters
    ----------
    message
        The caveat.
    stacklevel
        Passed to :func:`warnings.warn`.
    """
    _warnings.warn(message, UserWarning, stacklevel=stacklevel)


# --- 2. the formula parser ---------------------------------------------------------------------


@dataclass(frozen=True)
class Formula:
    """A formula ``"y ~ x1 + x2 | fe1 + fe2 | endog ~ instr"`` split into its parts.

    Attributes
    ----------
    text
        The formula as written.
    outcome
        The left-hand side.
    rhs
        The regressors as written (``"1"`` when there are none).
    fixed_effects
        Absorbed fixed-effect terms (``"trust_code"``, ``"icb_code^year"``).
    endogenous, instruments
        The IV part ``endog ~ instr`` (empty for OLS).
    """

    text: str
    outcome: str
    rhs: str
    fixed_effects: tuple[str, ...] = ()
    endogenous: tuple[str, ...] = ()
    instruments: tuple[str, ...] = ()

    @property
    def main(self) -> str:
        """``"outcome ~ rhs"``: the part before any ``|``."""
        return f"{self.outcome} ~ {self.rhs}"

    def fe_columns(self) -> list[str]:
        """Columns behind the fixed-effect terms (``a^b`` uses ``a`` and ``b``)."""
        cols = [c.strip() for fe in self.fixed_effects for c in fe.split("^")]
        return list(dict.fromkeys(cols))

    def to_pyfixest(self) -> str:
        """The formula in pyfixest's syntax."""
        out = self.main
        if self.fixed_effects:
            out += " | " + " + ".join(self.fixed_effects)
        if self.endogenous:
            out += f" | {' + '.join(self.endogenous)} ~ {' + '.join(self.instruments)}"
        return out


def _split_plus(text: str) -> list[str]:
    return [t.strip() for t in text.split("+") if t.strip()]


def parse_formula(
    formula: Any,
    *,
    estimator: str,
    fixed_effects: str | None = None,
    iv: bool = False,
    one_column_outcome: bool = False,
) -> Formula:
    """Split a formula into outcome, regressors, fixed effects and IV part.

    Parameters
    ----------
    formula
        ``"y ~ x1 + x2"``, ``"y ~ x | fe1 + fe2"`` or ``"y ~ x | fe | endog ~ instr"``.
    estimator
        The function's name, for messages.
    fixed_effects
        ``None`` when the estimator absorbs fixed effects written after ``|``; otherwise what to
        do instead, said in the error (e.g. ``"use model='within'"``).
    iv
        Whether the estimator takes an IV part.
    one_column_outcome
        The outcome must be one column (no ``y1 + y2``, no transformation).

    Returns
    -------
    Formula

    Raises
    ------
    InvalidParameterError
        A formula that is not a string of that form, or has a part the estimator does not take.
    """
    example = "'y ~ x1 + x2'" + (" or 'y ~ x | fe1 + fe2'" if fixed_effects is None else "")
    if not isinstance(formula, str) or "~" not in formula:
        raise InvalidParameterError(
            f"{estimator}: formula must be a string like {example} (exactly one '~' between "
            f"the outcome and the regressors), got {formula!r}"
        )
    parts = [p.strip() for p in formula.split("|")]
    main = parts[0]
    if main.count("~") != 1:
        raise InvalidParameterError(
            f"{estimator}: formula {formula!r} needs exactly one '~' before any '|'"
        )
    if len(parts) > 3:
        raise InvalidParameterError(
            f"{estimator}: formula {formula!r} has {len(parts) - 1} '|': at most two are allowed "
            "('y ~ x | fixed effects | endogenous ~ instruments')"
        )
    lhs, rhs = (s.strip() for s in main.split("~"))
    if not lhs:
        raise InvalidParameterError(
            f"{estimator}: formula {formula!r} has no outcome: the left-hand side must name it"
        )
    fe_part, iv_part = "", ""
    for p in parts[1:]:
        if "~" in p:
            if iv_part:
                raise InvalidParameterError(f"{estimator}: formula {formula!r} has two IV parts")
            iv_part = p
        else:
            if iv_part:
                raise InvalidParameterError(
                    f"{estimator}: formula {formula!r}: the fixed effects must come before the "
                    "IV part"
                )
            if fe_part:
                raise InvalidParameterError(
                    f"{estimator}: formula {formula!r} has two fixed-effect parts: write them "
                    "once, joined by '+'"
                )
            fe_part = p
    if iv_part and not iv:
        raise InvalidParameterError(
            f"{estimator}: formula {formula!r} has an IV part ('endog ~ instruments'), which "
            f"{estimator} does not estimate\n  Fix: use fit_hdfe for instrumental variables"
        )
    if fe_part and fixed_effects is not None:
        raise InvalidParameterError(
            f"{estimator}: formula {formula!r} has fixed effects after '|', which {estimator} "
            f"does not absorb\n  Fix: {fixed_effects}"
        )
    if one_column_outcome and ("+" in lhs or "(" in lhs):
        raise InvalidParameterError(
            f"{estimator}: formula {formula!r}: give one outcome column on the left-hand side "
            "(multiple estimation syntax such as 'y1 + y2 ~ x' or 'csw()' is not supported; fit "
            "the models one by one and put them in regression_table)"
        )
    fes = tuple(f for f in _split_plus(fe_part) if f != "0")
    endog: tuple[str, ...] = ()
    instr: tuple[str, ...] = ()
    if iv_part:
        if iv_part.count("~") != 1:
            raise InvalidParameterError(
                f"{estimator}: formula {formula!r}: the IV part must be 'endog ~ z'"
            )
        e, z = (s.strip() for s in iv_part.split("~"))
        endog, instr = tuple(_split_plus(e)), tuple(_split_plus(z))
        if not endog or not instr:
            raise InvalidParameterError(
                f"{estimator}: formula {formula!r}: the IV part needs endogenous variables and "
                "instruments"
            )
        if len(instr) < len(endog):
            raise InvalidParameterError(
                f"{estimator}: formula {formula!r}: {len(endog)} endogenous variable(s) but only "
                f"{len(instr)} instrument(s): the model is not identified\n  Fix: add "
                "instruments or remove endogenous variables"
            )
    return Formula(formula, lhs, rhs or "1", fes, endog, instr)


# --- 3. the inference vocabulary ---------------------------------------------------------------


@dataclass(frozen=True)
class Capabilities:
    """Which inference options an estimator supports (the words are :mod:`icsresearch.options`).

    Attributes
    ----------
    estimator
        The function's name.
    vcov
        Supported ``vcov`` values.
    max_clusters
        Most cluster variables (0: no clustering).
    conventions
        Supported ``convention`` values, the default first (empty: none applies).
    small_sample
        Supported ``small_sample`` values.
    why
        A sentence saying why the others are not, quoted in errors.
    """

    estimator: str
    vcov: tuple[str, ...]
    max_clusters: int
    conventions: tuple[str, ...]
    small_sample: tuple[str, ...]
    why: str = ""

    def refuse(self, option: str, value: Any, supported: Sequence[Any]) -> InvalidParameterError:
        """The error for a valid option value this estimator cannot do.

        Parameters
        ----------
        option
            The option's name.
        value
            The value asked for.
        supported
            What this estimator supports instead.
        """
        what = ", ".join(f"{option}={v!r}" for v in supported) or f"no {option}"
        why = f" ({self.why})" if self.why else ""
        return InvalidParameterError(
            f"{self.estimator} does not support {option}={value!r}; it supports {what}{why}."
            "\n  Fix: choose one of those, or see docs/inference.md for which estimator does it"
        )


@dataclass(frozen=True)
class Inference:
    """The inference a result was computed with, in the words of :mod:`icsresearch.options`.

    Attributes
    ----------
    vcov
        ``"iid"``, ``"hetero"``, ``"CRV1"``, ``"CR2"``, ``"CRV3"`` or ``"DK"``.
    cluster
        Cluster columns (empty unless ``vcov`` clusters).
    convention
        ``"plm"``, ``"stata"`` or None (the estimator has no such choice).
    small_sample
        ``"default"``, ``"full"`` or ``"none"``.
    alpha
        Default level of confidence intervals (``1 - alpha``).
    bandwidth
        Driscoll-Kraay maximum lag (None: the default rule).
    """

    vcov: Vcov
    cluster: tuple[str, ...] = ()
    convention: Convention | None = None
    small_sample: SmallSample = "default"
    alpha: float = 0.05
    bandwidth: int | None = None


def cluster_list(cluster: Any) -> list[str]:
    """One or more cluster column names as a list (empty for None).

    Parameters
    ----------
    cluster
        A column name, a list of names, or None.
    """
    if cluster is None:
        return []
    names = [cluster] if isinstance(cluster, str) else cluster
    if not isinstance(names, list | tuple) or not all(isinstance(n, str) for n in names):
        raise InvalidParameterError(
            f"cluster={cluster!r} must be a column name or a list of column names"
        )
    if not names or len(set(names)) != len(names):
        raise InvalidParameterError(f"cluster={cluster!r} must name one or two different columns")
    return list(names)


def resolve_inference(
    caps: Capabilities,
    *,
    vcov: Any,
    cluster: Any,
    convention: Any,
    small_sample: Any,
    alpha: Any,
    bandwidth: Any = None,
    default_cluster: str | None = None,
    default_vcov: str = "iid",
) -> Inference:
    """Check a call's inference options against what the estimator supports.

    Parameters
    ----------
    caps
        What the estimator supports.
    vcov
        As given (``None``: ``"CRV1"`` when clustering, else ``default_vcov``).
    cluster
        As given (``None``: ``default_cluster`` for a clustered ``vcov``).
    convention
        As given (``None``: the estimator's default).
    small_sample
        As given (already translated from any old spelling).
    alpha
        As given.
    bandwidth
        Driscoll-Kraay maximum lag (``vcov="DK"`` only).
    default_cluster
        The column clustered on when ``vcov`` clusters and ``cluster`` is None (the panel
        entity), or None when the estimator has none.
    default_vcov
        ``vcov`` when none is given and nothing is clustered.

    Returns
    -------
    Inference
    """
    alpha = check_alpha(alpha)
    clusters = cluster_list(cluster)
    if vcov is None:
        vcov = "CRV1" if clusters else default_vcov
    vcov = check("vcov", vcov, Vcov)
    if vcov not in caps.vcov:
        raise caps.refuse("vcov", vcov, caps.vcov)
    if vcov in CLUSTERED_VCOVS:
        if not clusters:
            if default_cluster is None:
                raise InvalidParameterError(
                    f"{caps.estimator}: vcov={vcov!r} needs cluster='<column>' (e.g. "
                    "cluster='trust_code')"
                )
            clusters = [default_cluster]
    elif clusters:
        raise InvalidParameterError(
            f"{caps.estimator}: cluster={cluster!r} was given but vcov={vcov!r} does not "
            "cluster\n  Fix: use vcov='CRV1' (or 'CR2', 'CRV3') to cluster, or drop cluster="
        )
    limit = 1 if vcov == "CRV3" else caps.max_clusters
    if len(clusters) > limit:
        how_many = "one cluster variable" if limit == 1 else "one or two cluster variables"
        raise InvalidParameterError(
            f"{caps.estimator}: vcov={vcov!r} supports {how_many}, got cluster={clusters!r}\n"
            "  Fix: pass fewer names in cluster="
            + (", or use vcov='CRV1' for two-way clustering" if vcov == "CRV3" else "")
        )
    if convention is None:
        convention = caps.conventions[0] if caps.conventions else None
    else:
        convention = check("convention", convention, Convention)
        if convention not in caps.conventions:
            raise caps.refuse("convention", convention, caps.conventions)
    small_sample = check("small_sample", small_sample, SmallSample)
    if small_sample not in caps.small_sample:
        raise caps.refuse("small_sample", small_sample, caps.small_sample)
    if bandwidth is not None:
        if vcov != "DK":
            raise InvalidParameterError(
                f"{caps.estimator}: bandwidth={bandwidth!r} is the Driscoll-Kraay lag, but "
                f"vcov={vcov!r}\n  Fix: use vcov='DK', or drop bandwidth="
            )
        if isinstance(bandwidth, bool) or not isinstance(bandwidth, int | np.integer):
            raise InvalidParameterError(f"bandwidth={bandwidth!r} must be an integer >= 0")
        if bandwidth < 0:
            raise InvalidParameterError(f"bandwidth must be >= 0, got {bandwidth!r}")
        bandwidth = int(bandwidth)
    return Inference(vcov, tuple(clusters), convention, small_sample, alpha, bandwidth)


def renamed_argument(
    old_name: str, old_value: Any, new_name: str, new_value: Any, *, stacklevel: int = 4
) -> Any:
    """The value of an argument that has an old name (``cov_type=``, ``unit=``) and a new one.

    Parameters
    ----------
    old_name, old_value
        The deprecated argument and what was passed to it (None: not used).
    new_name, new_value
        The argument that replaces it and what was passed to it.
    stacklevel
        So the warning points at the user's call.

    Returns
    -------
    object
        ``new_value``, or ``old_value`` (with a ``DeprecationWarning``) when only the old name
        was used.
    """
    if old_value is None:
        return new_value
    if new_value is not None:
        raise InvalidParameterError(
            f"{old_name}= and {new_name}= were both given; {old_name}= is the old name of "
            f"{new_name}=\n  Fix: write {new_name}= only"
        )
    return renamed(old_name, old_value, new_name, old_value, stacklevel=stacklevel)


#: ``fit``'s old ``cov_type`` words, and what they are in the shared vocabulary.
COV_TYPE_WORDS = {
    "conventional": "iid",
    "robust": "hetero",
    "clustered": "CRV1",
    "cr3": "CRV3",
    "driscoll-kraay": "DK",
}


def legacy_vcov(
    vcov: Any,
    cov_type: Any = None,
    *,
    words: Mapping[str, str] = COV_TYPE_WORDS,
    stacklevel: int = 4,
) -> Any:
    """``vcov`` from an old ``cov_type=`` argument or an old value, with a DeprecationWarning.

    Parameters
    ----------
    vcov
        The ``vcov=`` argument (possibly an old word such as ``"clustered"``).
    cov_type
        The old ``cov_type=`` argument (None: not used).
    words
        Old word -> new word, for this estimator.
    stacklevel
        So the warning points at the user's call.

    Returns
    -------
    object
        The ``vcov`` value to check (still unchecked when it is not an old word).
    """
    if cov_type is not None:
        if vcov is not None:
            raise InvalidParameterError(
                "cov_type= and vcov= were both given; cov_type= is the old name of vcov=\n"
                "  Fix: write vcov= only"
            )
        if not isinstance(cov_type, str) or cov_type not in words:
            raise InvalidParameterError(
                f"cov_type={cov_type!r} is not allowed (cov_type= is deprecated: write vcov= "
                f"with one of {', '.join(map(repr, allowed(Vcov)))})."
            )
        return renamed("cov_type", cov_type, "vcov", words[cov_type], stacklevel=stacklevel)
    if isinstance(vcov, str) and vcov in words:
        return renamed("vcov", vcov, "vcov", words[vcov], stacklevel=stacklevel)
    return vcov


def legacy_small_sample(value: Any, words: Mapping[Any, str], *, stacklevel: int = 4) -> Any:
    """``small_sample`` from an old spelling of this estimator, with a DeprecationWarning.

    Parameters
    ----------
    value
        The ``small_sample=`` argument.
    words
        Old value -> new value: ``{True: "default", False: "none"}`` (``fit``'s bools),
        ``{"fixest": "default"}`` (``fit_hdfe``), ``{"stata": "default"}`` (``fit_glm``).
    stacklevel
        So the warning points at the user's call.

    Returns
    -------
    object
        The value to check (still unchecked when it is not an old spelling).
    """
    # a bool matches only a bool key (True == 1 in Python), a string only a string key
    for old, new in words.items():
        if type(value) is type(old) and value == old:
            return renamed("small_sample", value, "small_sample", new, stacklevel=stacklevel)
    return value


# --- 4. the specification ----------------------------------------------------------------------


@dataclass(frozen=True)
class ModelSpec:
    """How a result was made: enough to re-do its inference without reading its provenance.

    Attributes
    ----------
    function
        The function that made it (``"fit"``, ``"fit_hdfe"``, ``"fit_glm"``, ``"did_2x2"``,
        ``"event_study"``, ``"fit_mixed"``).
    formula
        The formula as given (``did_2x2`` and ``event_study``: the one they describe).
    inference
        The inference options (:class:`Inference`).
    entity, time
        Panel identifiers (None where the estimator has none).
    weights
        Weights column or None.
    options
        The estimator's own options (``model``, ``effects``, ``family``, ``group``...).
    """

    function: str
    formula: str
    inference: Inference
    entity: str | None = None
    time: str | None = None
    weights: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)

    def with_inference(self, inference: Inference) -> ModelSpec:
        """The same specification with other inference.

        Parameters
        ----------
        inference
            The new inference.
        """
        return dataclasses.replace(self, inference=inference)

    def parameters(self) -> dict[str, Any]:
        """A JSON-ready flat dict of everything above, for the provenance record."""
        inf = self.inference
        out: dict[str, Any] = {
            "function": self.function,
            "formula": self.formula,
            "entity": self.entity,
            "time": self.time,
            "weights": self.weights,
            "vcov": inf.vcov,
            "cluster": list(inf.cluster) or None,
            "convention": inf.convention,
            "small_sample": inf.small_sample,
            "alpha": inf.alpha,
            "bandwidth": inf.bandwidth,
        }
        clash = sorted(set(out) & set(self.options))
        if clash:  # a bug in an estimator: options must not shadow the shared keys
            raise ValueError(f"ModelSpec options {clash} shadow the specification's own keys")
        out.update(self.options)
        return out


# --- 5. result assembly ------------------------------------------------------------------------


@functools.cache
def _environment() -> dict[str, str]:
    # package metadata and git are read once per process: simulations fit thousands of models
    from ..provenance import describe_environment

    return describe_environment()


def result_provenance(data: Any, spec: ModelSpec) -> Provenance:
    """The provenance of a result: the data's inputs and synthetic flag, and the specification.

    The data's record is read with :func:`icsresearch.provenance.of`, so a result fitted on demo
    data says ``synthetic=True`` and one fitted on an undocumented frame says unknown (never
    published data).

    Parameters
    ----------
    data
        The table the estimator was given.
    spec
        The result's specification (its parameters are recorded).
    """
    from ..provenance import Provenance, of

    base = of(data)
    env = _environment()
    extra = {"data_parameters": dict(base.parameters)} if base.parameters else {}
    return Provenance(
        synthetic=base.synthetic,
        inputs=base.inputs,
        parameters=spec.parameters(),
        environment=env,
        git_revision=env["git_revision"],
        created_utc=_dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        extra=extra,
    )


def result_fields(data: Any, spec: ModelSpec) -> dict[str, Any]:
    """The fields every estimator's result gets from its data and specification.

    Parameters
    ----------
    data
        The table the estimator was given.
    spec
        The result's specification.

    Returns
    -------
    dict
        ``spec``, ``alpha`` (the specification's) and ``provenance``
        (:func:`result_provenance`), to pass to the result's constructor.
    """
    return {
        "spec": spec,
        "alpha": spec.inference.alpha,
        "provenance": result_provenance(data, spec),
    }
