"""Available and occupied beds (KH03), by trust and financial year.

Publisher: NHS England, Bed Availability and Occupancy (KH03) (OGL v3), as compiled by Asaria,
McGuire & Street (2022).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DataFileError
from ._base import (
    YEAR_CONVENTION,
    Column,
    Schema,
    codes,
    finish,
    integers_in,
    numbers,
    read_csv_text,
    source,
)

SCHEMA = Schema(
    dataset="hm_beds",
    columns=(
        Column("trust_code", "Trust", "ODS code", "Provider ODS code (ORG_CODE, cleaned)."),
        Column("year", "Financial year", "FY start", "Financial year start (2012 = 2012/13)."),
        Column(
            "beds_available",
            "Available beds",
            "beds",
            "BEDS: average daily number of available overnight beds (KH03), as compiled.",
        ),
        Column(
            "occupancy_pct",
            "Bed occupancy",
            "%",
            "100 x BEDS_OCCUPIED_PERCENT (published as a 0-1 fraction to 2 decimal places, so "
            "this moves in steps of 1 point); missing when the trust reported no beds.",
        ),
        Column(
            "occupied_beds",
            "Occupied beds",
            "beds",
            "beds_available x occupancy: average daily occupied overnight beds, accurate to "
            "+-0.5% of beds_available because occupancy is rounded; missing with no beds.",
        ),
    ),
    year_convention=(
        "YEAR is the financial-year start. KH03 is a quarterly return (average daily beds per "
        "quarter); the compilation gives one value per financial year without saying which "
        "quarter or average it used. BEDS is always a whole number, so it is not a plain mean of "
        "four quarterly averages unless rounded. " + YEAR_CONVENTION
    ),
    notes=(
        "BEDS_OCCUPIED_PERCENT is a 0-1 fraction despite its name. 12 rows have BEDS = 0 and "
        "occupancy 0.00: a trust with no overnight beds has no occupancy, so occupancy_pct and "
        "occupied_beds are missing there rather than 0. ORG_CODE has surrounding spaces in all "
        "259 rows for 2011 (stripped). 4 rows report exactly 100% occupancy. Covers all trust types "
        "with beds (acute, mental health, community, learning disability), 209-290 a year."
    ),
    key=("trust_code", "year"),
)


def read_beds(path: str | Path | None = None) -> pd.DataFrame:
    """Available beds and bed occupancy by trust and financial year (KH03, overnight beds).

    Parameters
    ----------
    path
        A file in the published layout of ``beds.csv``; by default the registry copy.

    Returns
    -------
    pandas.DataFrame
        Columns ``trust_code``, ``year``, ``beds_available``, ``occupancy_pct``,
        ``occupied_beds``.

    Raises
    ------
    DataFileError
        If columns are missing, beds are negative, or occupancy is not a 0-1 fraction
        (a file giving percentages, e.g. 85 for 85%, is refused rather than divided silently).
    """
    src = source(SCHEMA.dataset, path)
    raw = read_csv_text(src, required=["YEAR", "ORG_CODE", "BEDS", "BEDS_OCCUPIED_PERCENT"])
    beds = numbers(raw["BEDS"], src, "BEDS")
    bad = beds < 0
    if bad.any():
        rows = ", ".join(f"row {i + 2}: {v!r}" for i, v in raw["BEDS"][bad].head(5).items())
        raise DataFileError(
            src.path,
            f"column 'BEDS' has {int(bad.sum())} negative value(s) ({rows})",
            "BEDS is the average number of available beds, a number >= 0 (or blank/'-' when "
            "not reported).",
        )
    occupancy = numbers(raw["BEDS_OCCUPIED_PERCENT"], src, "BEDS_OCCUPIED_PERCENT")
    if (occupancy > 1).any() or (occupancy < 0).any():
        raise DataFileError(
            src.path,
            f"column 'BEDS_OCCUPIED_PERCENT' holds values outside 0-1 (from {occupancy.min():g} "
            f"to {occupancy.max():g}); despite its name the published layout gives a 0-1 fraction",
            "If your file gives percentages (e.g. 85 for 85%), divide the column by 100 first.",
        )
    occupancy = occupancy.where(beds > 0)  # no beds: occupancy is undefined, not 0%
    df = pd.DataFrame(
        {
            "trust_code": codes(raw["ORG_CODE"], src, "ORG_CODE", strip_suffix=True),
            "year": integers_in(raw["YEAR"], src, "YEAR", 2000, 2100),
            "beds_available": beds,
            "occupancy_pct": np.round(occupancy * 100, 6),  # 0.83 * 100 -> 83.0, not 83.00000001
            "occupied_beds": beds * occupancy,
        }
    )
    df = df.sort_values(["trust_code", "year"], kind="stable")
    return finish(df, SCHEMA, src)
