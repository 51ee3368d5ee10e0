"""Checks of outcome and exposure values, shared by the in-memory and the streamed paths.

Both paths read the values as ``float64`` (NaN where missing) and hand them here with ``where``
(how to name the data: ``""`` for a data frame, ``" in file '...'"`` for a Parquet file) and
``rows`` (how to name the offending rows: index labels, or positions in the file), so one bad
value gives the same message whichever way the data came.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from ...errors import InvalidParameterError

#: Names the rows where a boolean mask is true, for messages (``"'a', 'b'"`` or ``"3, 17"``).
RowNamer = Callable[[np.ndarray], str]


def check_outcome(y: np.ndarray, name: str, family: str, *, where: str, rows: RowNamer) -> None:
    """Refuse infinite outcomes, non-binary ones for logit and negative counts for Poisson.

    Parameters
    ----------
    y
        The outcome as ``float64`` (NaN where missing: those rows are dropped, not refused).
    name
        The outcome column.
    family
        ``"logit"`` or ``"poisson"``.
    where
        Appended to the column's name in messages (``" in file 'a.parquet'"``), or ``""``.
    rows
        Names the rows of a mask for messages.

    Raises
    ------
    InvalidParameterError
        Naming the column, the number of bad rows, examples and the fix.
    """
    infinite = np.isinf(y)
    if infinite.any():
        raise InvalidParameterError(
            f"Outcome {name!r}{where} has {int(infinite.sum()):,} infinite values "
            f"(rows {rows(infinite)}). Fix: correct or drop those rows."
        )
    finite = np.isfinite(y)
    if family == "logit":
        bad = finite & (y != 0.0) & (y != 1.0)
        if bad.any():
            values = pd.unique(y[bad])[:5]
            raise InvalidParameterError(
                f"Outcome {name!r}{where} must be binary (0/1 or True/False) for family='logit', "
                f"but {int(bad.sum()):,} rows have other values, e.g. "
                f"{', '.join(f'{v:g}' for v in values)} (rows {rows(bad)}). Fix: recode it to "
                "0/1, or use family='poisson' for counts."
            )
    else:
        bad = finite & (y < 0)
        if bad.any():
            raise InvalidParameterError(
                f"Outcome {name!r}{where} must be a non-negative count for family='poisson', but "
                f"{int(bad.sum()):,} rows are negative (min {y[bad].min():g}; rows "
                f"{rows(bad)}). Fix: correct or drop those rows."
            )


def exposure_and_offset(
    values: np.ndarray, *, is_exposure: bool, name: str, where: str, rows: RowNamer
) -> tuple[np.ndarray, np.ndarray]:
    """``exp(offset)`` and the offset per row from an exposure or offset column, checked.

    Parameters
    ----------
    values
        The column as ``float64`` (NaN where missing: those rows are dropped).
    is_exposure
        ``True`` for an exposure column (its log is the offset), ``False`` for an offset.
    name
        The column.
    where, rows
        As for :func:`check_outcome`.

    Returns
    -------
    exposure, offset
        ``float64`` arrays (NaN where missing).

    Raises
    ------
    InvalidParameterError
        An exposure that is zero, negative or infinite, or an infinite offset.
    """
    if is_exposure:
        bad = ~np.isnan(values) & ~(np.isfinite(values) & (values > 0))
        if bad.any():
            raise InvalidParameterError(
                f"exposure column {name!r}{where} must be positive and finite, but "
                f"{int(bad.sum()):,} rows are not (rows {rows(bad)}). Fix: drop rows with zero "
                "exposure (they carry no information) or correct them."
            )
        return values, np.log(values)
    bad = np.isinf(values)
    if bad.any():
        raise InvalidParameterError(
            f"offset column {name!r}{where} has {int(bad.sum()):,} infinite values (rows "
            f"{rows(bad)}): log of a zero exposure? Fix: drop those rows."
        )
    return np.exp(values), values
