"""R's arithmetic, for replications that must reproduce numbers computed by authors' R code.

A replication follows the authors' own processing first (see :mod:`icsresearch.replications`).
Where the authors rounded or averaged in R, the last bit of a double can decide a published value:
a score of exactly 62.25 at one decimal, or a mean that lands a hair either side of a tie. These
functions compute what R computes, not what pandas or Python's ``round`` would:

* :func:`r_round` is R's ``round(x, digits)`` (R >= 4.0.0): of the two candidates
  ``floor(x * 10^d) / 10^d`` and ``ceil(x * 10^d) / 10^d``, the one nearer to ``x`` in double
  arithmetic; on an exact tie, the candidate whose last digit is even.
* :func:`r_row_means` is R's ``rowMeans(m, na.rm = TRUE)``: each row summed left to right in
  x87 extended precision (R's ``LDOUBLE``), divided by the count of values present, then stored
  as a double.

Both are checked against R itself on edge cases and on every management score of the real staff
survey file (``tests/reference/r_round_reference.json``, made by
``tests/reference/make_r_round_reference.R``).
"""

from __future__ import annotations

import numpy as np

#: R's ``DBL_DIG``: beyond this many significant digits ``round`` returns ``x`` unchanged.
_DBL_DIG = 15
_LOG10_2 = float(np.log10(2.0))


def r_round(x, digits: int = 0):
    """R's ``round(x, digits)`` (R >= 4.0.0) for a number or an array of numbers.

    Parameters
    ----------
    x
        A float or an array-like of floats (NaN stays NaN).
    digits
        Decimal places (a whole number; negative rounds to tens, hundreds...).

    Returns
    -------
    float or numpy.ndarray
        The rounded values, as R returns them.

    Examples
    --------
    >>> from icsresearch.rcompat import r_round
    >>> r_round(62.25, 1), r_round(0.15, 1), r_round(2.5)
    (62.2, 0.1, 2.0)
    """
    scalar = np.ndim(x) == 0
    values = np.atleast_1d(np.asarray(x, dtype=float))
    dig = int(np.floor(digits + 0.5))
    if dig == 0:
        out = np.rint(values)  # round half to even, as R's private_rint
        return float(out[0]) if scalar else out
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        sign = np.where(values < 0, -1.0, 1.0)
        a = np.abs(values)
        # R: if (dig + (logb(x) + 0.5) * log10(2) > DBL_DIG) return x
        exponent = np.frexp(np.where(a > 0, a, 1.0))[1] - 1  # logb for finite non-zero x
        keep = ~np.isfinite(values) | (values == 0) | (dig + (exponent + 0.5) * _LOG10_2 > _DBL_DIG)
        if dig > 0:
            pow10 = 10.0**dig
            x10 = pow10 * a
            i10 = np.floor(x10)
            xd, xu = i10 / pow10, np.ceil(x10) / pow10
        else:  # R divides by 10^-dig instead of multiplying by a fraction
            p = 10.0 ** (-dig)
            x10 = a / p
            i10 = np.floor(x10)
            xd, xu = i10 * p, np.ceil(x10) * p
        du, dd = xu - a, a - xd
        up = (du < dd) | ((du == dd) & (np.fmod(i10, 2.0) == 1.0))
        rounded = sign * np.where(up, xu, xd)
    out = np.where(keep, values, rounded)
    return float(out[0]) if scalar else out


def r_row_means(matrix) -> np.ndarray:
    """R's ``rowMeans(matrix, na.rm = TRUE)``: extended-precision row sums over present values.

    Parameters
    ----------
    matrix
        A 2-D array-like of floats, columns in the order R sees them (NaN = ``NA``).

    Returns
    -------
    numpy.ndarray
        One mean per row; NaN where a row has no value (R gives ``NaN`` there too).
    """
    m = np.asarray(matrix, dtype=float)
    if m.ndim != 2:
        raise ValueError(f"r_row_means needs a 2-D array, got {m.ndim} dimension(s)")
    total = np.zeros(m.shape[0], dtype=np.longdouble)
    count = np.zeros(m.shape[0], dtype=np.longdouble)
    for j in range(m.shape[1]):  # left to right, one column at a time, as R's loop
        column = m[:, j]
        present = ~np.isnan(column)
        total += np.where(present, column, 0.0).astype(np.longdouble)
        count += present
    with np.errstate(invalid="ignore", divide="ignore"):
        return (total / count).astype(float)
