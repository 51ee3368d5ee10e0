"""Column schemas and the financial-year convention: the leaf that every layer shares.

Readers (:mod:`icsresearch.sources`), the demo generator (:mod:`icsresearch.demo`) and the panels
(:mod:`icsresearch.panel`) all date their rows the same way and document their columns the same
way; both live here, in a module that imports nothing from the package, so that none of those
layers has to import another to agree on them.

Year convention
---------------
``year`` is the **financial year start**: 2012 means 2012/13 (1 April 2012 - 31 March 2013).
:func:`fy_start` maps dates to it and :func:`fy_label` writes it as ``"2012/13"``. Each table keeps
the source's own date or year column beside ``year``.

Plausible values
----------------
Every numeric column states the values it can hold. ``bounds=(lo, hi)`` are hard limits: a
share is 0-100, a count is never negative, one trust never employs 100,000 FTE; a value outside
them is a damaged or misread file, and the reader refuses it. ``typical=(lo, hi)`` is the range
every published release so far falls in, with headroom: a value outside it is possible but
unusual, and the reader warns (naming the file, column and rows) and keeps it. Units that fix
their own range (``%``, ``0-1``, ``decile 1-10``, ``rank 1-42`` ...) give the hard limits when a
column states none (:func:`unit_bounds`); infinities are never values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

#: The convention every reader states in ``attrs["year_convention"]``.
YEAR_CONVENTION = (
    "`year` is the financial year start: 2012 means 2012/13 (1 April 2012 - 31 March 2013). "
    "Each table keeps the source's own date or year column alongside."
)
#: The same convention, as the panels' column documentation states it.
FY_START = "financial year start (2012 = 2012/13)"


def fy_start(dates: Any) -> Any:
    """Financial year start (April-March) of each date: 2019-03-31 -> 2018.

    Parameters
    ----------
    dates
        A Series of dates (or strings pandas reads as dates), or any array of them.

    Returns
    -------
    pandas.Series or numpy.ndarray
        int64 years: a Series (same index) for a Series, an array otherwise.

    Examples
    --------
    >>> import pandas as pd
    >>> fy_start(pd.Series(["2019-03-31", "2019-04-01"])).tolist()
    [2018, 2019]
    """
    if isinstance(dates, pd.Series):
        d = pd.to_datetime(dates)
        return (d.dt.year - (d.dt.month < 4).astype(int)).astype("int64")
    d = pd.DatetimeIndex(dates)
    return np.asarray(d.year - (d.month < 4), dtype="int64")


def fy_label(year: int) -> str:
    """``2012`` -> ``"2012/13"``.

    Parameters
    ----------
    year
        Financial year start.
    """
    return f"{year}/{(year + 1) % 100:02d}"


#: Hard limits implied by a unit alone (see :func:`unit_bounds`).
UNIT_BOUNDS: dict[str, tuple[float, float]] = {
    "%": (0.0, 100.0),
    "0-1": (0.0, 1.0),
    "0-3": (0.0, 3.0),
    "0-100": (0.0, 100.0),
    "1-5": (1.0, 5.0),
    "score 1-5": (1.0, 5.0),
    "decile 1-10": (1.0, 10.0),
    # years: the readers refuse years outside 2000-2100 (calendar years from 1990)
    "FY start": (2000.0, 2100.0),
    "year": (1990.0, 2100.0),
}
_RANK = re.compile(r"^rank 1-([\d,]+)$")


def unit_bounds(unit: str) -> tuple[float, float] | None:
    """Hard limits that a unit fixes by itself, or ``None`` for units with no natural range.

    Parameters
    ----------
    unit
        A column's unit, e.g. ``"%"``, ``"0-1"``, ``"rank 1-42"`` or ``"count"``.

    Returns
    -------
    tuple of float or None
        ``(lo, hi)``; ``None`` for scale-dependent units (counts, FTE, money), whose columns
        state their own bounds.

    Examples
    --------
    >>> unit_bounds("rank 1-32,844")
    (1.0, 32844.0)
    >>> unit_bounds("count") is None
    True
    """
    if unit in UNIT_BOUNDS:
        return UNIT_BOUNDS[unit]
    rank = _RANK.match(unit)
    if rank:
        return (1.0, float(rank.group(1).replace(",", "")))
    return None


@dataclass(frozen=True)
class Column:
    """Documentation of one output column of a reader.

    Attributes
    ----------
    name, label, unit, description
        What the column is called and holds.
    bounds
        Hard limits ``(lo, hi)`` of a numeric column: a value outside them is refused on read.
        ``None`` takes them from the unit (:func:`unit_bounds`).
    typical
        The usual range ``(lo, hi)``: a value outside it (but within ``bounds``) is read with a
        warning. ``None``: no warning range.
    """

    name: str
    label: str
    unit: str = ""
    description: str = ""
    bounds: tuple[float, float] | None = None
    typical: tuple[float, float] | None = None

    def __post_init__(self):
        for what, pair in (("bounds", self.bounds), ("typical", self.typical)):
            if pair is not None and not (len(pair) == 2 and pair[0] <= pair[1]):
                raise ValueError(f"column {self.name!r}: {what} must be (lo, hi) with lo <= hi")
        # A mistake in a schema is caught when its module is imported.
        outer, typical = self.limits, self.typical
        if outer and typical and not (outer[0] <= typical[0] <= typical[1] <= outer[1]):
            raise ValueError(f"column {self.name!r}: typical {typical} is outside bounds {outer}")

    @property
    def limits(self) -> tuple[float, float] | None:
        """The hard limits: ``bounds``, or those of the unit when ``bounds`` is ``None``."""
        return self.bounds if self.bounds is not None else unit_bounds(self.unit)


@dataclass(frozen=True)
class Schema:
    """What a reader returns for one registry file.

    Attributes
    ----------
    dataset
        Registry name.
    columns
        Output columns, in order.
    year_convention
        How the source dates its values and how ``year`` was derived from them.
    notes
        Quirks a researcher should know.
    key
        Columns that identify a row (checked unique by the reader).
    family
        Further registry names read by the same reader into the same columns (e.g. one SitRep
        workbook per month); ``dataset`` is then the first of them.
    """

    dataset: str
    columns: tuple[Column, ...]
    year_convention: str = ""
    notes: str = ""
    key: tuple[str, ...] = field(default=())
    family: tuple[str, ...] = field(default=())

    @property
    def names(self) -> list[str]:
        """The column names, in order."""
        return [c.name for c in self.columns]

    def covers(self, name: str) -> bool:
        """True if this schema documents registry file ``name``.

        Parameters
        ----------
        name
            Registry name.
        """
        return name == self.dataset or name in self.family

    def doc(self) -> pd.DataFrame:
        """The column documentation as a table (name, label, unit, description, bounds, typical)."""
        return pd.DataFrame(
            [(c.name, c.label, c.unit, c.description, c.limits, c.typical) for c in self.columns],
            columns=["column", "label", "unit", "description", "bounds", "typical"],
        )


def column_docs(schema: Schema) -> dict[str, dict[str, Any]]:
    """``{column: {label, unit, description[, bounds, typical]}}``, as in ``attrs["columns"]``.

    Parameters
    ----------
    schema
        A reader's schema.

    Returns
    -------
    dict
        One entry per column; numeric columns also carry their hard ``bounds`` and, where
        stated, their ``typical`` range, as ``[lo, hi]`` lists.
    """
    docs: dict[str, dict[str, Any]] = {}
    for c in schema.columns:
        entry: dict[str, Any] = {"label": c.label, "unit": c.unit, "description": c.description}
        if c.limits is not None:
            entry["bounds"] = list(c.limits)
        if c.typical is not None:
            entry["typical"] = list(c.typical)
        docs[c.name] = entry
    return docs
