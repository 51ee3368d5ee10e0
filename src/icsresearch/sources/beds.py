"""Available and occupied beds: KH03 by trust and financial year, and monthly UEC SitRep beds.

Publisher: NHS England, Bed Availability and Occupancy (KH03) (OGL v3), as compiled by Asaria,
McGuire & Street (2022); and (:func:`read_beds_monthly`) NHS England's monthly critical care and
general & acute beds from the urgent and emergency care daily situation reports, April 2022 -
August 2025, as compiled by the healthyr package.
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
    blank_repeated_months,
    codes,
    completeness,
    finish,
    flagged_rows,
    integers_in,
    month_periods,
    numbers,
    read_csv_text,
    read_rda_table,
    require_columns,
    show,
    source,
)

#: Bounds of one trust's beds: the largest has about 2,700; 20,000 is impossible.
_BEDS = {"bounds": (0, 20_000), "typical": (0, 5_000)}

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
            **_BEDS,
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
            **_BEDS,
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
        rows = ", ".join(f"row {i + 2}: {show(v)}" for i, v in raw["BEDS"][bad].head(5).items())
        raise DataFileError(
            src.path,
            f"column 'BEDS' has {int(bad.sum())} negative value(s) ({rows})",
            "BEDS is the average number of available beds, a number >= 0 (or blank/'-' when "
            "not reported).",
        )
    occupancy = numbers(raw["BEDS_OCCUPIED_PERCENT"], src, "BEDS_OCCUPIED_PERCENT", fraction=True)
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


# --- ICS era: monthly G&A and critical-care beds from the UEC daily situation reports ---------

#: bed_type -> (available, occupied, rate) columns of england_critical_general_acute_beds.
BED_TYPES: dict[str, tuple[str, str, str]] = {
    "general_acute": (
        "general_acute_beds_available",
        "general_acute_beds_occupied",
        "general_acute_beds_occupancy_rate",
    ),
    "adult_general_acute": (
        "adult_general_acute_beds_available",
        "adult_general_acute_beds_occupied",
        "adult_general_acute_beds_occupancy_rate",
    ),
    "paediatric_general_acute": (
        "paediatric_general_acute_beds_available",
        "paediatric_general_acute_beds_occupied",
        "paediatric_general_acute_beds_occupancy_rate",
    ),
    "adult_critical_care": (
        "adult_critical_care_beds_available",
        "adult_critical_care_beds_occupied",
        "adult_critical_care_occupancy_rate",
    ),
    "paediatric_intensive_care": (
        "paediatric_intensive_cared_beds_available",
        "paediatric_intensive_cared_beds_occupied",
        "paediatric_intensive_cared_occupancy_rate",
    ),
    "neonatal_intensive_care": (
        "neonatal_intensive_care_bed_available",
        "neonatal_intensive_care_bed_occupied",
        "neonatal_intensive_care_occupancy_rate",
    ),
}
#: Spelling of one column in earlier healthyr releases.
_ALIASES = {"neonatal_intensive_care_bed_avaialble": "neonatal_intensive_care_bed_available"}
#: Occupied beds may exceed available beds a little (beds used beyond those reported open:
#: RN3 adult G&A, 506 of 495); more than 10% + 1 bed is refused as a misaligned column.
_OVER_OCCUPANCY_LIMIT = 1.10

MONTHLY_SCHEMA = Schema(
    dataset="beds_trust_monthly",
    columns=(
        Column(
            "trust_code",
            "Trust",
            "ODS code",
            "Acute trust ODS code (nhs_trust22_code): the trusts of NHS England's UEC daily "
            "situation report, 134-137 a month. Trusts that merged stop (Yeovil RA4 after July "
            "2023, Southport and Ormskirk RVY after August 2023, North Middlesex RAP after "
            "October 2024); Dartford and Gravesham (RPA) is absent in October 2023.",
        ),
        Column("period", "Month", "date", "First day of the calendar month."),
        Column(
            "year",
            "Financial year",
            "FY start",
            "Financial year start of the month (April-March; 2022 = 2022/23).",
        ),
        Column(
            "bed_type",
            "Bed type",
            "",
            "general_acute (G&A: adult + paediatric general and acute beds), "
            "adult_general_acute, paediatric_general_acute, adult_critical_care, "
            "paediatric_intensive_care, neonatal_intensive_care.",
        ),
        Column(
            "beds_available",
            "Beds available",
            "beds",
            "Average over the month of the daily number of available (open) beds of the type, "
            "as published rounded to a whole bed. Missing where the trust did not report the "
            "type.",
            **_BEDS,
        ),
        Column(
            "beds_occupied",
            "Beds occupied",
            "beds",
            "Average over the month of the daily number of occupied beds of the type, rounded to "
            "a whole bed. It can exceed beds_available slightly (3 rows, RN3 adult G&A).",
            **_BEDS,
        ),
        Column(
            "occupancy_pct",
            "Bed occupancy",
            "%",
            "100 x NHS England's occupancy rate (published as a 0-1 fraction to 3 decimals), "
            "computed by NHS England from the unrounded monthly averages, so more precise than "
            "100 x beds_occupied / beds_available: that ratio of the rounded averages differs by "
            "more than 1 point in 48 of 5,553 G&A rows but in 2,762 of 4,308 neonatal rows "
            "(small units); the reader checks that every rate lies within the rounding of the "
            "counts. Missing where beds_available is 0 or missing (61 published rates of units "
            "averaging under half a bed are dropped) or the rate is not published.",
            bounds=(0, 200),
            typical=(0, 110),
        ),
        Column("month_label", "Month as published", "", "e.g. 'April 2022'."),
    ),
    year_convention=(
        "Monthly averages of daily counts, published per calendar month ('April 2022'); "
        "`period` is the first day of the month and `year` its financial-year start. "
        + YEAR_CONVENTION
    ),
    notes=(
        "April 2022 - August 2025, 41 months, 137 trusts (134-137 a month; 5,557 trust-months x "
        "6 bed types = 33,342 rows). Source: NHS England's 'Critical care and General & Acute "
        "beds' monthly files from the urgent and emergency care daily situation reports, as "
        "compiled by healthyr. July and August 2022 are identical for all 137 trusts in all 18 "
        "columns: the compilation read one workbook twice and nothing shows which month it "
        "was, so the reader sets the beds and rates of both months to missing (rows kept; "
        "attrs['completeness']['repeated_months']). general_acute equals adult + paediatric G&A "
        "exactly for available and occupied beds in 3,585 of 5,259 trust-months with both parts "
        "(within 1 bed of rounding: 5,258 available, 5,213 occupied); the 46 occupied sums off "
        "by more than a bed are mostly March 2025 (36 trusts). Trusts without paediatric G&A "
        "report it as missing, not 0 (267 trust-months; RBQ, RBV, REN, REP, RGM, RHQ, RLT, RP6, "
        "RVJ), and Great Ormond Street (RP4) has no adult G&A. The rows per month up to July "
        "2023 equal the compilation's fixed cell range (137): a trust cut off at the end of a "
        "sheet would go unnoticed, though the trusts that leave are all known mergers."
    ),
    key=("trust_code", "period", "bed_type"),
)


def read_beds_monthly(path: str | Path | None = None) -> pd.DataFrame:
    """Monthly G&A and critical-care beds available, occupied and occupancy by trust, 2022-2025.

    Parameters
    ----------
    path
        An ``.rda`` file holding an ``england_critical_general_acute_beds`` table in the healthyr
        layout (skips the registry hash check); by default the registry copy.

    Returns
    -------
    pandas.DataFrame
        Long: one row per trust, month and bed type, with trust_code, period, year, bed_type,
        beds_available, beds_occupied, occupancy_pct, month_label. ``attrs["completeness"]``
        reports the months present, the share of beds missing and the repeated months blanked.

    Raises
    ------
    DataFileError
        For an unreadable or truncated file, a wrong R object, missing columns, bad month
        labels, negative or non-numeric beds, occupied beds above 110% of available beds + 1,
        an occupancy rate outside 0-1.5 (a percentage?) or inconsistent with the beds, or a
        trust repeated within a month.

    Examples
    --------
    >>> from icsresearch.sources.beds import read_beds_monthly
    >>> beds = read_beds_monthly()  # doctest: +SKIP
    >>> beds.query("bed_type == 'general_acute'").groupby("period").occupancy_pct.median()  # doctest: +SKIP
    """
    src = source(MONTHLY_SCHEMA.dataset, path)
    published = [c for cols in BED_TYPES.values() for c in cols]
    raw = read_rda_table(src, "england_critical_general_acute_beds", ["nhs_trust22_code", "date"])
    raw = raw.rename(columns={k: v for k, v in _ALIASES.items() if v not in raw.columns})
    require_columns(raw, published, src)
    trust = codes(raw["nhs_trust22_code"], src, "nhs_trust22_code")
    period, label = month_periods(raw["date"], src, "date")
    parts = []
    for bed_type, (available, occupied, rate) in BED_TYPES.items():
        beds = numbers(raw[available], src, available)
        occ = numbers(raw[occupied], src, occupied)
        share = numbers(raw[rate], src, rate)
        for column, values in ((available, beds), (occupied, occ)):
            bad = values < 0
            if bad.any():
                raise DataFileError(
                    src.path,
                    f"column {column!r} has {int(bad.sum())} negative value(s) "
                    f"({flagged_rows(raw[column], bad)})",
                    "Beds are monthly averages of daily counts, >= 0 (NA when not reported).",
                )
        over = occ > _OVER_OCCUPANCY_LIMIT * beds + 1
        if over.any():
            shown = ", ".join(
                f"row {i + 2}: {occ[i]:g} occupied of {beds[i]:g}" for i in raw.index[over][:5]
            )
            raise DataFileError(
                src.path,
                f"{int(over.sum())} row(s) have far more {bed_type} beds occupied than available "
                f"({occupied} > 110% of {available} + 1; {shown})",
                "Occupied beds are a subset of available beds (published exceptions are a few "
                "percent at most); check that the columns are not shifted or swapped.",
            )
        if (share < 0).any() or (share > 1.5).any():
            raise DataFileError(
                src.path,
                f"column {rate!r} holds values outside 0-1.5 (from {share.min():g} to "
                f"{share.max():g}); the published layout gives a 0-1 fraction",
                "If your file gives percentages (e.g. 92.3 for 92.3%), divide the column by 100.",
            )
        # The rate comes from unrounded averages: it must lie within the rounding of the beds.
        lo = (occ - 0.5).clip(lower=0) / (beds + 0.5)
        hi = (occ + 0.5) / (beds - 0.5)
        off = share.notna() & (beds >= 1) & ((share < lo - 0.0005) | (share > hi + 0.0005))
        if off.any():
            shown = ", ".join(
                f"row {i + 2}: {share[i]:g} for {occ[i]:g}/{beds[i]:g}" for i in raw.index[off][:5]
            )
            raise DataFileError(
                src.path,
                f"column {rate!r} disagrees with the beds in {int(off.sum())} row(s) beyond "
                f"their rounding ({shown})",
                f"{rate} should be {occupied} / {available} (of the unrounded averages); check "
                "that the columns belong together.",
            )
        parts.append(
            pd.DataFrame(
                {
                    "trust_code": trust,
                    "period": period,
                    "month_label": label,
                    "bed_type": bed_type,
                    "beds_available": beds,
                    "beds_occupied": occ,
                    "occupancy_pct": np.round(100 * share.where(beds > 0), 6),
                }
            )
        )
    df = pd.concat(parts)
    df["year"] = (df["period"].dt.year - (df["period"].dt.month < 4)).astype(int)
    # A repeated month is found on the wide table's published values: all types at once.
    wide = df.pivot_table(
        index=["trust_code", "period"],
        columns="bed_type",
        values=["beds_available", "beds_occupied", "occupancy_pct"],
        dropna=False,
        aggfunc="first",
    )
    wide.columns = [f"{a}:{b}" for a, b in wide.columns]
    wide = wide.reset_index()
    _, repeats = blank_repeated_months(wide, "trust_code", [c for c in wide.columns if ":" in c])
    blanked = pd.to_datetime([m for r in repeats for m in r["blanked"]])
    df.loc[df["period"].isin(blanked), ["beds_available", "beds_occupied", "occupancy_pct"]] = (
        np.nan
    )
    df["order"] = df["bed_type"].map({t: i for i, t in enumerate(BED_TYPES)})
    df = df.sort_values(["trust_code", "period", "order"], kind="stable")
    coverage = completeness(
        df, counts=["beds_available", "beds_occupied"], period="period", units="trust_code"
    )
    coverage["repeated_months"] = repeats
    return finish(df, MONTHLY_SCHEMA, src, coverage=coverage)
