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
"""

from __future__ import annotations

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


@dataclass(frozen=True)
class Column:
    """Documentation of one output column of a reader."""

    name: str
    label: str
    unit: str = ""
    description: str = ""


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
        """The column documentation as a table (name, label, unit, description)."""
        return pd.DataFrame(
            [(c.name, c.label, c.unit, c.description) for c in self.columns],
            columns=["column", "label", "unit", "description"],
        )


def column_docs(schema: Schema) -> dict[str, dict[str, str]]:
    """``{column: {label, unit, description}}``, the form stored in ``DataFrame.attrs["columns"]``.

    Parameters
    ----------
    schema
        A reader's schema.
    """
    return {
        c.name: {"label": c.label, "unit": c.unit, "description": c.description}
        for c in schema.columns
    }
