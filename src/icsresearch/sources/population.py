"""Population by small area and single year of age: ONS mid-2019 estimates by LSOA (2011).

Publisher: Office for National Statistics (OGL v3), via the humaniverse demographr R package.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import pairwise
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DataFileError, InvalidParameterError
from ._base import Column, Schema, _refetch_hint, finish, numbers, read_rda, source
from .deprivation import _shown
from .ods import checked_codes, published_names

#: ONS codes of LSOAs (2011) in England (E01) and Wales (W01).
LSOA11_ENGLAND_WALES = re.compile(r"^[EW]01\d{6}$")
#: Published ONS mid-2019 totals (persons), for checks: England and Wales.
MID2019_ENGLAND = 56_286_961
MID2019_WALES = 3_152_879

AGE_COLUMNS = [f"age_{a}" for a in range(90)] + ["age_90_plus"]
_PUBLISHED_AGES = [str(a) for a in range(90)] + ["90+"]

#: Five-year bands to 90+ (the European Standard Population 2013 bands), as lower bounds.
FIVE_YEAR_BANDS = tuple(range(0, 95, 5))

POPULATION = Schema(
    dataset="population_lsoa",
    columns=(
        Column("lsoa11_code", "LSOA", "ONS code", "LSOA (2011): E01 England, W01 Wales."),
        Column("lsoa11_name", "LSOA name", "", "e.g. 'Hartlepool 009A'."),
        Column("country", "Country", "", "'England' (E01 codes) or 'Wales' (W01 codes)."),
        Column(
            "total_population",
            "Population",
            "persons",
            "Mid-2019 (30 June) resident population, all ages.",
            # LSOAs hold about 1,500 people (largest 16,004, a student area)
            bounds=(0, 1_000_000),
            typical=(0, 50_000),
        ),
        *(
            Column(
                name,
                f"Aged {label}",
                "persons",
                f"Residents aged {label} at mid-2019.",
                bounds=(0, 1_000_000),
                typical=(0, 10_000),  # largest 1,992 (aged 19, a student area)
            )
            for name, label in zip(
                AGE_COLUMNS, [str(a) for a in range(90)] + ["90 and over"], strict=True
            )
        ),
    ),
    year_convention="No year column: ONS mid-year estimates for 30 June 2019 (which falls in "
    "financial year 2019/20).",
    notes="34,753 LSOAs: the 32,844 in England (E01) and 1,909 in Wales (W01) - ONS publishes "
    "England and Wales together. England totals 56,286,961 and Wales 3,152,879 (the published "
    "ONS mid-2019 figures). Filter country == 'England' before joining to English NHS "
    "geography. Single years of age 0-89 and 90+; they add up exactly to total_population.",
    key=("lsoa11_code",),
)


def read_population_lsoa(path: str | Path | None = None) -> pd.DataFrame:
    """Mid-2019 population by LSOA (2011) and single year of age, England and Wales.

    Parameters
    ----------
    path
        An ``.rda`` file with a ``population19_lsoa11`` table in the demographr layout
        (lsoa11_name, lsoa11_code, total_population, 0..89, 90+); by default the registry copy.

    Returns
    -------
    pandas.DataFrame
        lsoa11_code, lsoa11_name, country, total_population, age_0 ... age_89, age_90_plus.
        Use :func:`population_by_age_band` for age bands.

    Examples
    --------
    >>> from icsresearch.sources.population import read_population_lsoa
    >>> pop = read_population_lsoa()  # doctest: +SKIP
    >>> pop.groupby("country").total_population.sum()  # doctest: +SKIP
    """
    src = source(POPULATION.dataset, path)
    table = "population19_lsoa11"
    raw = read_rda(
        src, table, required=["lsoa11_code", "lsoa11_name", "total_population", *_PUBLISHED_AGES]
    )
    if raw.empty:
        raise DataFileError(src.path, f"has no rows in {table}", _refetch_hint(src))
    code = checked_codes(
        raw["lsoa11_code"],
        src,
        "lsoa11_code",
        LSOA11_ENGLAND_WALES,
        "LSOA 2011 codes of England or Wales (E01011949, W01000001)",
        first_row=1,
    )
    counts = {"total_population": _counts(raw["total_population"], src, "total_population")}
    for name, pub in zip(AGE_COLUMNS, _PUBLISHED_AGES, strict=True):
        counts[name] = _counts(raw[pub], src, pub)
    df = pd.DataFrame(
        {
            "lsoa11_code": code,
            "lsoa11_name": published_names(raw["lsoa11_name"]),
            "country": pd.Series(
                np.where(code.str.startswith("E"), "England", "Wales"),
                index=code.index,
                dtype="str",
            ),
            **counts,
        }
    )
    gap = df[AGE_COLUMNS].sum(axis=1) - df["total_population"]
    if (gap != 0).any():
        rows = np.flatnonzero(gap.to_numpy() != 0)
        shown = ", ".join(
            f"{df['lsoa11_code'].iloc[i]} (ages add to "
            f"{df['total_population'].iloc[i] + gap.iloc[i]:g}, total "
            f"{df['total_population'].iloc[i]:g})"
            for i in rows[:3]
        )
        raise DataFileError(
            src.path,
            f"the single years of age do not add up to total_population for {len(rows)} "
            f"LSOA(s): {shown}",
            "Check no age column is missing or shifted; the published ages 0-89 and 90+ add up "
            "exactly to the total.",
        )
    return finish(df, POPULATION, src)


def _counts(values: pd.Series, src, column: str) -> pd.Series:
    """Whole, non-negative numbers of people, none missing."""
    num = numbers(values, src, column)
    bad = num.isna() | (num < 0) | (num != np.floor(num))
    if bad.any():
        shown = ", ".join(
            f"row {i + 1}: {_shown(values.iloc[i])}" for i in np.flatnonzero(bad.to_numpy())[:5]
        )
        raise DataFileError(
            src.path,
            f"column {column!r} has {int(bad.sum())} value(s) that are not whole numbers of "
            f"people ({shown})",
            "Population counts are whole numbers of people, never missing or negative.",
        )
    return num.astype("int64")


def population_by_age_band(
    df: pd.DataFrame, bands: Sequence[int] = FIVE_YEAR_BANDS
) -> pd.DataFrame:
    """Add up single years of age into age bands.

    Parameters
    ----------
    df
        Output of :func:`read_population_lsoa` (or a subset or aggregate of it that keeps the
        ``age_*`` columns).
    bands
        Lower bounds of the bands, increasing, between 0 and 90: each band runs to the next
        bound minus one and the last is open-ended. The default, 0, 5, ..., 90, gives the
        European Standard Population bands 0-4 ... 85-89 and 90+. ``(0, 18, 65, 75, 85)`` gives
        0-17, 18-64, 65-74, 75-84 and 85+. Ages below the first bound are left out.

    Returns
    -------
    pandas.DataFrame
        The non-age columns of ``df`` followed by one column per band, named ``age_<lo>_<hi>``
        (e.g. ``age_0_4``) or ``age_<lo>_plus`` for the last.

    Examples
    --------
    >>> bands = population_by_age_band(read_population_lsoa(), (0, 18, 65))  # doctest: +SKIP
    >>> list(bands.columns[-3:])  # doctest: +SKIP
    ['age_0_17', 'age_18_64', 'age_65_plus']
    """
    bounds = list(bands)
    if not bounds or not all(isinstance(b, int | np.integer) for b in bounds):
        raise InvalidParameterError(
            f"bands={bands!r}: give whole-number lower bounds, e.g. (0, 18, 65)."
        )
    if any(b < 0 or b > 90 for b in bounds) or any(a >= b for a, b in pairwise(bounds)):
        raise InvalidParameterError(
            f"bands={bands!r}: lower bounds must increase strictly and lie between 0 and 90 "
            "(single years stop at 90+, so no band can start above 90)."
        )
    missing = [c for c in AGE_COLUMNS if c not in df.columns]
    if missing:
        raise InvalidParameterError(
            f"population_by_age_band needs the single-year columns age_0 ... age_90_plus from "
            f"read_population_lsoa(); {len(missing)} are missing (e.g. {missing[:3]})."
        )
    keep = [c for c in df.columns if c not in AGE_COLUMNS]
    out = df[keep].copy()
    docs = dict(df.attrs.get("columns", {}))
    for c in AGE_COLUMNS:
        docs.pop(c, None)
    for lo, hi in zip(bounds, [*bounds[1:], None], strict=True):
        if hi is None:  # the last band is open-ended and includes 90+
            ages = [f"age_{a}" for a in range(lo, 90)] + ["age_90_plus"]
            name, label = f"age_{lo}_plus", f"{lo} and over"
        else:
            ages = [f"age_{a}" for a in range(lo, hi)]
            name, label = f"age_{lo}_{hi - 1}", f"{lo}-{hi - 1}"
        out[name] = df[ages].sum(axis=1)
        docs[name] = {
            "label": f"Aged {label}",
            "unit": "persons",
            "description": f"Sum of {ages[0]} ... {ages[-1]}.",
        }
    out.attrs = {**df.attrs, "columns": docs}
    return out
