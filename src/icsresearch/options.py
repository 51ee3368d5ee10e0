"""Every option of the package in one place: its allowed values, and one way to check them.

Each option is a ``Literal`` type; the allowed values are read from the type itself
(``typing.get_args``), so the documentation, the type checker and the run-time check can never
disagree (pyfixest's pattern). Every public function that takes one of these options checks it with
:func:`check`, which raises one :class:`~icsresearch.errors.InvalidParameterError` naming the
option, the value given and the values allowed; bools are checked as bools (``"none"`` is not
``False``).

Old spellings keep working for one release through :func:`renamed`, with a
``DeprecationWarning`` that names the new spelling.

Domain options
--------------
``Source``
    ``"demo"`` (the synthetic demo data, offline) or ``"real"`` (published files through the
    registry).
``Footprint``
    ``2022`` (42 ICBs, July 2022) or ``2026`` (36 ICBs, April 2026); ``"2022"`` is accepted and
    returned as the int.
``TrustIcsMethod``
    How a trust is attributed to systems: ``"headquarters"``, ``"catchment"``, ``"ae_activity"``.
``HarmoniseTo``
    ``"as_reported"`` trust codes, or ``"latest"`` (merged trusts recoded to their successor).
``Level``
    ``"trust"`` or ``"ics"`` rows.
``Department``
    A&E department types: ``"all"`` or ``"type1"``.
``Processing``
    How a replication prepares the published files: ``"authors"`` (the authors' own joins and
    rounding, the default) or ``"cleaned"`` (this package's readers' cleaning, a sensitivity
    analysis).
"""

from __future__ import annotations

import warnings
from typing import Any, Literal, TypeVar, get_args

from .errors import InvalidParameterError

Source = Literal["demo", "real"]
Footprint = Literal[2022, 2026]
TrustIcsMethod = Literal["headquarters", "catchment", "ae_activity"]
HarmoniseTo = Literal["as_reported", "latest"]
Level = Literal["trust", "ics"]
Department = Literal["all", "type1"]
Processing = Literal["authors", "cleaned"]

#: What each option is for, quoted in its error message.
_HELP = {
    "source": "'demo' is the synthetic demo data (offline); 'real' the published NHS files",
    "footprint": "2022 has 42 ICBs (July 2022), 2026 has 36 (April 2026)",
    "method": "how a trust is shared among systems (icsresearch.geography)",
    "harmonise_to": "'latest' recodes merged trusts to their successor",
    "level": "one row per trust, or per ICS",
    "department": "all A&E department types, or type 1 (major emergency departments) only",
    "processing": "'authors' follows the authors' own data processing; 'cleaned' this "
    "package's cleaning, as a sensitivity analysis",
}

T = TypeVar("T")


def allowed(kind: Any) -> tuple[Any, ...]:
    """The values a ``Literal`` option allows, in the order the type lists them.

    Parameters
    ----------
    kind
        A ``Literal[...]`` type, e.g. :data:`Source`.
    """
    values = get_args(kind)
    if not values:  # a bug in the package, not in the caller's input
        raise TypeError(f"{kind!r} is not a Literal type")
    return values


def check(name: str, value: Any, kind: Any) -> Any:
    """Return ``value`` if ``kind`` allows it, else raise one clear error.

    An int-valued option (:data:`Footprint`) also accepts its value as a string (``"2026"``,
    from a command line or a papermill parameter) and returns the int.

    Parameters
    ----------
    name
        The option's name as the caller wrote it (``"footprint"``), quoted in the error.
    value
        The value given.
    kind
        The option's ``Literal`` type.

    Returns
    -------
    object
        The value, normalised (``"2022"`` -> ``2022`` for an int option).

    Raises
    ------
    InvalidParameterError
        Naming the option, the value and every allowed value.

    Examples
    --------
    >>> from icsresearch.options import Footprint, check
    >>> check("footprint", "2026", Footprint)
    2026
    """
    choices = allowed(kind)
    if isinstance(value, bool):  # True == 1 in Python: never let a bool pass as a number
        candidate: Any = value
    elif all(isinstance(c, int) for c in choices) and isinstance(value, str):
        text = value.strip()
        candidate = int(text) if text.lstrip("-").isdigit() else value
    else:
        candidate = value
    if not isinstance(candidate, bool) and candidate in choices:
        return candidate
    what = _HELP.get(name)
    raise InvalidParameterError(
        f"{name}={value!r} is not allowed; choose one of "
        f"{', '.join(repr(c) for c in choices)}" + (f" ({what})." if what else ".")
    )


def check_bool(name: str, value: Any) -> bool:
    """Return ``value`` if it is a bool, else raise (``"none"`` or ``1`` are not bools).

    Parameters
    ----------
    name
        The option's name.
    value
        The value given.
    """
    if isinstance(value, bool):
        return value
    raise InvalidParameterError(f"{name}={value!r} must be True or False.")


def renamed(
    old_name: str, old_value: Any, new_name: str, new_value: Any, *, stacklevel: int = 3
) -> Any:
    """Accept an old spelling for one more release, warning with the new one.

    Parameters
    ----------
    old_name, old_value
        The option and value the caller wrote (e.g. ``"cov_type"``, ``"clustered"``).
    new_name, new_value
        What to write instead (e.g. ``"vcov"``, ``"CRV1"``).
    stacklevel
        Passed to :func:`warnings.warn` so the warning points at the caller's line.

    Returns
    -------
    object
        ``new_value``.
    """
    warnings.warn(
        f"{old_name}={old_value!r} is deprecated and will be removed in the next release; "
        f"write {new_name}={new_value!r}.",
        DeprecationWarning,
        stacklevel=stacklevel,
    )
    return new_value


# --- inference --------------------------------------------------------------------------------
#
# One vocabulary for every estimator (fit, fit_hdfe, fit_glm, did_2x2, event_study, fit_mixed);
# docs/inference.md says what each value does in each of them. An estimator that cannot do a value
# says which ones it supports (icsresearch.models.core.Capabilities).

#: The covariance of the estimates, in pyfixest's spelling: ``"iid"`` (conventional,
#: homoskedastic or model-based), ``"hetero"`` (heteroskedasticity-robust), ``"CRV1"``
#: (cluster-robust, one- or two-way), ``"CR2"`` (Bell-McCaffrey bias-reduced cluster-robust, one-way,
#: with Satterthwaite degrees of freedom per coefficient, as R clubSandwich;
#: :func:`~icsresearch.models.fit` only), ``"CRV3"`` (leave-one-cluster-out jackknife), ``"DK"``
#: (Driscoll-Kraay: robust to cross-sectional and serial correlation; :func:`~icsresearch.models.fit`
#: only).
Vcov = Literal["iid", "hetero", "CRV1", "CR2", "CRV3", "DK"]
#: Whose small-sample rules: ``"plm"`` (R plm's ``type = "sss"``) or ``"stata"`` (Stata, R fixest
#: and pyfixest).
Convention = Literal["plm", "stata"]
#: The finite-sample factor: ``"default"`` (the estimator's own convention), ``"full"`` (as
#: ``"default"``, but every absorbed fixed-effect level counts in ``K``), ``"none"`` (the plain
#: HC0/CR0 sandwich).
SmallSample = Literal["default", "full", "none"]

#: The covariances that cluster, and so need (or default to) a ``cluster=`` column.
CLUSTERED_VCOVS = ("CRV1", "CR2", "CRV3")

_HELP.update(
    {
        "vcov": "'iid' conventional, 'hetero' robust, 'CRV1'/'CR2'/'CRV3' clustered, "
        "'DK' Driscoll-Kraay",
        "convention": "'plm' is R plm's small-sample rule, 'stata' Stata's and fixest's",
        "small_sample": "'default' the estimator's factor, 'full' counts every fixed effect, "
        "'none' no factor",
    }
)


def check_alpha(alpha: Any) -> float:
    """Return ``alpha`` as a float if it is a number strictly between 0 and 1, else raise.

    Parameters
    ----------
    alpha
        The significance level of confidence intervals (``1 - alpha`` coverage).

    Returns
    -------
    float
    """
    if isinstance(alpha, bool) or not isinstance(alpha, int | float) or not 0 < alpha < 1:
        raise InvalidParameterError(
            f"alpha={alpha!r} must be a number between 0 and 1 (e.g. 0.05 for 95% intervals)."
        )
    return float(alpha)
