"""NHS workforce: managers, consultants and all-staff FTE by trust, staff stability, and staff
by staff group from two NHS Digital extracts (September 2017 and June 2018).

Publisher: NHS Digital, NHS Hospital & Community Health Services (HCHS) workforce statistics
(OGL v3). The ``hm_*`` files are the trust-year compilation of Asaria, McGuire & Street (2022);
``non_medical_staff_2017`` is the NHS Digital non-medical extract that compilation started from;
``hchs_staff_groups`` is the published NHS Digital workbook of staff by group and nationality.

Year convention. The compilation's ``YEAR`` is the calendar year of a 30 September workforce
census, which falls in the financial year starting that April, so ``year`` = ``YEAR`` =
financial-year start. Checked: the
``hm_managers`` 2017 values equal the Managers + Senior managers FTE of the NHS Digital
30 September 2017 workbook for all 426 organisations (and do not match June 2018). The
extracts' own dates are kept as ``census_date``; June 2018 falls in 2018/19, so ``year`` = 2018.

:func:`staff_by_group` turns either extract into one row per organisation with the staff groups
used to replicate Griffiths et al. (2016, BMJ Open 6:e008751): registered nurses, midwives,
doctors, support workers and managers.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from ..errors import DataFileError, InvalidParameterError
from ._base import (
    YEAR_CONVENTION,
    Column,
    Schema,
    codes,
    derived,
    finish,
    fy_start,
    integers_in,
    numbers,
    read_csv_text,
    read_xlsx,
    show,
    source,
)

_CENSUS_YEAR = (
    "YEAR is the calendar year of NHS Digital's 30 September workforce census, which is also the "
    "financial-year start (Sep 2017 is in 2017/18): `year` = YEAR; `census_date` = 30 September "
    "of that year. Verified on the managers file (its 2017 values are the NHS Digital 30 September "
    "2017 census); the consultants and all-staff files come from the same compilation. "
)

_TRUST = Column(
    "trust_code",
    "Organisation",
    "ODS code",
    "ODS code of the employing organisation as published (NHS trusts; before April 2013 also "
    "PCTs; a few 5-character 'T' codes are other NHS bodies).",
)
_YEAR = Column(
    "year", "Financial year", "FY start", "Financial year start (2017 = 2017/18) of the census."
)
_CENSUS = Column(
    "census_date", "Census date", "date", "30 September of `year`: the workforce census date."
)

#: No organisation employs 100,000 FTE (the largest trust about 35,000; the NHS in England 1.2m).
_FTE_BOUNDS = (0, 100_000)

_HM_NOTES = (
    "Organisation code '50' (2009-2012 only, when PCTs existed) is not an ODS code: it looks like "
    "a PCT code such as '5E1' read as a number in scientific notation (5E1 = 50). It is kept as "
    "published and will not link to other tables. "
)


# --- the Asaria, McGuire & Street trust-year files -------------------------------------------

MANAGERS = Schema(
    dataset="hm_managers",
    columns=(
        _TRUST,
        _YEAR,
        _CENSUS,
        Column(
            "managers_fte",
            "Managers",
            "FTE",
            "Full-time equivalent staff in the NHS Digital staff groups 'Manager' and 'Senior "
            "manager' (SIMPLE_MANAGERS_FTE, the compilation's basic definition).",
            bounds=_FTE_BOUNDS,
            typical=(0, 5_000),
        ),
    ),
    year_convention=_CENSUS_YEAR + YEAR_CONVENTION,
    notes=_HM_NOTES
    + "2017 omits RM2 and RW3 (merged into R0A on 1 October 2017), which the September 2017 "
    "census still lists.",
    key=("trust_code", "year"),
)

CONSULTANTS = Schema(
    dataset="hm_consultants",
    columns=(
        _TRUST,
        _YEAR,
        _CENSUS,
        Column(
            "consultants_fte",
            "Consultants",
            "FTE",
            "Full-time equivalent consultants (SIMPLE_CONSULTANTS_FTE).",
            bounds=_FTE_BOUNDS,
            typical=(0, 3_000),
        ),
    ),
    year_convention=_CENSUS_YEAR + YEAR_CONVENTION,
    notes=_HM_NOTES
    + "Coverage falls from about 380 organisations a year to about 270 in 2013, when PCTs were "
    "abolished.",
    key=("trust_code", "year"),
)

ALL_STAFF = Schema(
    dataset="hm_all_staff",
    columns=(
        _TRUST,
        _YEAR,
        _CENSUS,
        Column(
            "all_staff_fte",
            "All staff",
            "FTE",
            "Full-time equivalent HCHS staff of all groups (SIMPLE_ALL_STAFF_FTE).",
            bounds=_FTE_BOUNDS,
            typical=(0, 60_000),
        ),
    ),
    year_convention=_CENSUS_YEAR + YEAR_CONVENTION,
    notes="Covers 2009-2015 only, and the same 221 organisations every year (a balanced panel), "
    "so trusts that opened, closed or merged in the period are absent.",
    key=("trust_code", "year"),
)

STABILITY = Schema(
    dataset="hm_stability",
    columns=(
        _TRUST,
        Column(
            "year",
            "Year",
            "FY start",
            "YEAR as published (2017 only): the 12-month period of 2017/18 over which stability is measured.",
        ),
        Column(
            "stability_pct",
            "Staff stability index",
            "%",
            "Share of staff in post at the start of the period still employed by the organisation at "
            "its end (0-100). Missing where the published value is 0 (see notes).",
        ),
        Column(
            "stability_pct_published",
            "Stability index as published",
            "%",
            "STABILITY as in the file, zeros included.",
        ),
    ),
    year_convention="YEAR is given as 2017 for every row. All 21 organisations published with "
    "0 had no staff in June 2018 (absent from the NHS Digital June 2018 workbook and the 2018 "
    "managers file), including organisations dissolved on 1 April 2018, so the period ends after "
    "that date: it is read as 2017/18. " + YEAR_CONVENTION,
    notes="A published 0 means the organisation no longer employed anyone at the end of the period "
    "(e.g. RW3 and RM2 merged into R0A in October 2017, RR1 into RRK in April 2018, and 18 CCGs "
    "merged in April 2018): the index is undefined there, so stability_pct is missing and the "
    "published 0 is kept in stability_pct_published. CCGs with very few staff can show 100 "
    "(00D, 00J). Organisations include CCGs as well as trusts.",
    key=("trust_code", "year"),
)


def _read_simple_fte(schema: Schema, value_col: str, path: str | Path | None) -> pd.DataFrame:
    """The three SIMPLE_*_FTE files share one layout: YEAR, ORG_CODE and one FTE column."""
    src = source(schema.dataset, path)
    raw = read_csv_text(src, required=["YEAR", "ORG_CODE", value_col])
    fte = numbers(raw[value_col], src, value_col)
    _check_not_negative(fte, src, value_col)
    year = integers_in(raw["YEAR"], src, "YEAR", 2000, 2100)
    out_col = schema.columns[-1].name
    df = pd.DataFrame(
        {
            "trust_code": codes(raw["ORG_CODE"], src, "ORG_CODE"),
            "year": year,
            "census_date": _september_census(year),
            out_col: fte,
        }
    )
    df = df.sort_values(["year", "trust_code"])
    return finish(df, schema, src)


def read_managers_fte(path: str | Path | None = None) -> pd.DataFrame:
    """Managers FTE (staff groups Manager + Senior manager) by organisation and census year.

    Parameters
    ----------
    path
        A file in the published layout of ``managers_simple_def.csv`` (YEAR, ORG_CODE,
        SIMPLE_MANAGERS_FTE), read without the registry hash check; by default the registry copy.

    Returns
    -------
    pandas.DataFrame
        ``trust_code``, ``year``, ``census_date``, ``managers_fte``; one row per organisation and
        year, 2009-2018. Column documentation is in ``df.attrs["columns"]``.
    """
    return _read_simple_fte(MANAGERS, "SIMPLE_MANAGERS_FTE", path)


def read_consultants_fte(path: str | Path | None = None) -> pd.DataFrame:
    """Consultants FTE by organisation and census year (2009-2018).

    Parameters
    ----------
    path
        A file in the published layout of ``consultants_simple_def.csv``; by default the registry
        copy.

    Returns
    -------
    pandas.DataFrame
        ``trust_code``, ``year``, ``census_date``, ``consultants_fte``.
    """
    return _read_simple_fte(CONSULTANTS, "SIMPLE_CONSULTANTS_FTE", path)


def read_all_staff_fte(path: str | Path | None = None) -> pd.DataFrame:
    """All-staff FTE by organisation and census year (2009-2015, 221 organisations).

    Parameters
    ----------
    path
        A file in the published layout of ``all_staff_simple_def.csv``; by default the registry
        copy.

    Returns
    -------
    pandas.DataFrame
        ``trust_code``, ``year``, ``census_date``, ``all_staff_fte``.
    """
    return _read_simple_fte(ALL_STAFF, "SIMPLE_ALL_STAFF_FTE", path)


def read_stability(path: str | Path | None = None) -> pd.DataFrame:
    """NHS Digital staff stability index by organisation, 2017/18.

    Published zeros (organisations with no staff left at the end of the period) become missing
    in ``stability_pct``; the published value stays in ``stability_pct_published``.

    Parameters
    ----------
    path
        A file in the published layout of ``stability.csv`` (YEAR, ORG_CODE, STABILITY); by
        default the registry copy.

    Returns
    -------
    pandas.DataFrame
        ``trust_code``, ``year``, ``stability_pct``, ``stability_pct_published``.
    """
    src = source(STABILITY.dataset, path)
    raw = read_csv_text(src, required=["YEAR", "ORG_CODE", "STABILITY"])
    published = numbers(raw["STABILITY"], src, "STABILITY")
    out_of_range = (published < 0) | (published > 100)
    if out_of_range.any():
        rows = ", ".join(
            f"row {i + 2}: {show(raw['STABILITY'][i])}" for i in published[out_of_range].index[:5]
        )
        raise DataFileError(
            src.path,
            f"column 'STABILITY' has values outside 0-100 ({rows})",
            "The stability index is a percentage 0-100; if your file gives a fraction, multiply by 100.",
        )
    if published.notna().any() and published.max() <= 1:
        raise DataFileError(
            src.path,
            "column 'STABILITY' is at most 1 everywhere: it looks like a fraction 0-1",
            "The published layout gives a percentage 0-100; multiply the column by 100.",
        )
    df = pd.DataFrame(
        {
            "trust_code": codes(raw["ORG_CODE"], src, "ORG_CODE"),
            "year": integers_in(raw["YEAR"], src, "YEAR", 2000, 2100),
            "stability_pct": published.where(published != 0),
            "stability_pct_published": published,
        }
    )
    df = df.sort_values(["year", "trust_code"])
    return finish(df, STABILITY, src)


# --- NHS Digital non-medical extract, 30 September 2017 ----------------------------------------

_LOOKUPS = {
    # data column -> (lookup sheet, its code column, its name column, output name column)
    "MAIN_STAFF_GROUP_CODE": (
        "main_staff_group",
        "MAIN_STAFF_GROUP_CODE",
        "MAIN_STAFF_GROUP_NAME",
        "main_staff_group",
    ),
    "STAFF_GROUP_1_CODE": (
        "staff_group_1",
        "STAFF_GROUP_1_CODE",
        "STAFF_GROUP_1_NAME",
        "staff_group_1",
    ),
    "STAFF_GROUP_2_CODE": (
        "staff_group_2",
        "STAFF_GROUP_2_CODE",
        "STAFF_GROUP_2_NAME",
        "staff_group_2",
    ),
}

AFC_BANDS = (
    *(f"Band {b}" for b in ("1", "2", "3", "4", "5", "6", "7", "8a", "8b", "8c", "8d", "9")),
    "Very Senior Manager",
    "Non AfC Grade",
)

NON_MEDICAL = Schema(
    dataset="non_medical_staff_2017",
    columns=(
        Column("census_date", "Census date", "date", "DATE in the file: 30 September 2017."),
        Column("year", "Financial year", "FY start", "Financial year start of census_date (2017)."),
        Column("trust_code", "Organisation", "ODS code", "ODS code of the employing trust or CCG."),
        Column(
            "main_staff_group_code",
            "Main staff group code",
            "",
            "NHS Digital main staff group (published as '001').",
            bounds=(0, 999),
        ),
        Column(
            "main_staff_group",
            "Main staff group",
            "",
            "Name from the workbook's sheet main_staff_group.",
        ),
        Column(
            "staff_group_1_code",
            "Staff group code",
            "",
            "NHS Digital staff group (level 1, published as '005').",
            bounds=(0, 999),
        ),
        Column(
            "staff_group_1",
            "Staff group",
            "",
            "Name from sheet staff_group_1, e.g. 'Nurses & health visitors', 'Midwives', "
            "'Support to doctors, nurses & midwives', 'Managers', 'Senior managers'.",
        ),
        Column(
            "staff_group_2_code",
            "Staff group (detail) code",
            "",
            "NHS Digital staff group (level 2, published as '024').",
            bounds=(0, 999),
        ),
        Column(
            "staff_group_2",
            "Staff group (detail)",
            "",
            "Name from sheet staff_group_2, e.g. 'Nurses - adult', 'Nursing support staff'.",
        ),
        Column(
            "area",
            "Area of work",
            "",
            "AREA without its ordering prefix ('001_Central functions' -> 'Central functions').",
        ),
        Column(
            "level",
            "Level",
            "",
            "LEVEL without its ordering prefix ('004_Nurse Manager' -> 'Nurse Manager').",
        ),
        Column(
            "afc_band",
            "Agenda for Change band",
            "",
            "'Band 1'...'Band 9', 'Very Senior Manager' or 'Non AfC Grade'.",
        ),
        Column(
            "fte",
            "Staff",
            "FTE",
            "Full-time equivalent staff in the cell.",
            bounds=_FTE_BOUNDS,
            typical=(0, 20_000),
        ),
    ),
    year_convention="Census date 30 September 2017, in financial year 2017/18 (year = 2017). "
    + YEAR_CONVENTION,
    notes="Non-medical staff only: doctors are not in this extract. Only non-empty cells are "
    "listed (no zero rows). The numeric prefixes of AREA and LEVEL ('004_') order the categories "
    "within a staff group and repeat across groups, so they are dropped; names stay unique "
    "within the key. Staff-group codes are mapped to names through the workbook's own lookup "
    "sheets. Organisation totals by staff group equal those of the NHS Digital workbook "
    "hchs_staff_groups for September 2017.",
    key=(
        "census_date",
        "trust_code",
        "main_staff_group_code",
        "staff_group_1_code",
        "staff_group_2_code",
        "area",
        "level",
        "afc_band",
    ),
)


def read_non_medical_staff(path: str | Path | None = None) -> pd.DataFrame:
    """Non-medical HCHS staff FTE by organisation, staff group, area, level and AfC band, Sep 2017.

    Staff-group codes (``'001'``, ``'017'``...) are mapped to names through the workbook's own
    lookup sheets ``main_staff_group``, ``staff_group_1`` and ``staff_group_2``; a code missing
    from its lookup sheet is an error rather than a silent blank.

    Parameters
    ----------
    path
        An .xlsx workbook in the published layout of ``non_medical_staff.xlsx`` (sheet
        ``non_medical_staff`` plus the three lookup sheets); by default the registry copy.

    Returns
    -------
    pandas.DataFrame
        One row per organisation x staff group x area x level x band: ``census_date``, ``year``,
        ``trust_code``, the three staff-group codes and names, ``area``, ``level``,
        ``afc_band``, ``fte``.
    """
    src = source(NON_MEDICAL.dataset, path)
    raw = read_xlsx(
        src,
        "non_medical_staff",
        required=["DATE", "ORG_CODE", *_LOOKUPS, "AREA", "LEVEL", "AFC_BAND", "FTE"],
    )
    census = _dates(raw["DATE"], src, "DATE")
    fte = numbers(raw["FTE"], src, "FTE")
    _check_not_negative(fte, src, "FTE")
    df = pd.DataFrame(
        {
            "census_date": census,
            "year": fy_start(census),
            "trust_code": codes(raw["ORG_CODE"], src, "ORG_CODE"),
        }
    )
    for data_col, (sheet, code_col, name_col, out_col) in _LOOKUPS.items():
        lookup = _code_lookup(src, sheet, code_col, name_col)
        code = integers_in(raw[data_col], src, data_col, 0, 999)
        unknown = sorted(set(code) - set(lookup))
        if unknown:
            raise DataFileError(
                src.path,
                f"column {data_col!r} has codes that are not in sheet {sheet!r}: {unknown[:10]}",
                f"Add the codes to sheet {sheet!r} ({code_col}, {name_col}), or check the column.",
            )
        df[f"{out_col}_code"] = code
        df[out_col] = code.map(lookup).astype("str")
    df["area"] = _drop_prefix(raw["AREA"], src, "AREA")
    df["level"] = _drop_prefix(raw["LEVEL"], src, "LEVEL")
    band = raw["AFC_BAND"].astype("string").str.strip()
    bad_band = ~band.isin(AFC_BANDS).fillna(False)
    if bad_band.any():
        raise DataFileError(
            src.path,
            f"column 'AFC_BAND' has unknown values {sorted(set(band[bad_band].fillna('<blank>')))[:5]}",
            f"Bands are written as in the published file: {', '.join(AFC_BANDS)}.",
        )
    df["afc_band"] = band.astype("str")
    df["fte"] = fte
    df = df.sort_values(["trust_code", "staff_group_1_code", "staff_group_2_code", "area", "level"])
    return finish(df, NON_MEDICAL, src)


def _code_lookup(src, sheet: str, code_col: str, name_col: str) -> dict[int, str]:
    table = read_xlsx(src, sheet, required=[code_col, name_col])
    code = integers_in(table[code_col], src, f"{sheet}.{code_col}", 0, 999)
    name = table[name_col].astype("string").str.strip()
    if name.isna().any() or (name == "").any():
        raise DataFileError(
            src.path,
            f"sheet {sheet!r} has codes without a name in {name_col!r}",
            "Every staff-group code in a lookup sheet needs its name.",
        )
    if code.duplicated().any():
        raise DataFileError(
            src.path,
            f"sheet {sheet!r} lists code(s) {sorted(set(code[code.duplicated()]))} more than once",
            "Each staff-group code should appear once in its lookup sheet.",
        )
    return dict(zip(code.tolist(), name.tolist(), strict=True))


_PREFIX = re.compile(r"^\d+_")


def _drop_prefix(values: pd.Series, src, column: str) -> pd.Series:
    s = values.astype("string").str.strip()
    if s.isna().any() or (s == "").any():
        rows = ", ".join(f"row {i + 2}" for i in s[s.isna() | (s == "")].index[:5])
        raise DataFileError(
            src.path,
            f"column {column!r} has blank values ({rows})",
            "Every row needs its area of work and level.",
        )
    return s.str.replace(_PREFIX.pattern, "", regex=True).astype("str")


# --- NHS Digital workbook: HCHS staff by staff group, nationality and organisation --------------

HCHS_STAFF_GROUPS = (
    "HCHS doctors",
    "Nurses & health visitors",
    "Midwives",
    "Ambulance staff",
    "Scientific, therapeutic & technical staff",
    "Support to doctors, nurses & midwives",
    "Support to ambulance staff",
    "Support to ST&T staff",
    "Senior managers",
    "Managers",
    "Central functions",
    "Hotel, property & estates",
    "Unknown",
)

HCHS = Schema(
    dataset="hchs_staff_groups",
    columns=(
        Column(
            "census_date",
            "Census date",
            "date",
            "Last day of the published Month ('2017-SEP' -> 2017-09-30, '2018-JUN' -> 2018-06-30).",
        ),
        Column(
            "year",
            "Financial year",
            "FY start",
            "Financial year start of census_date: Sep 2017 -> 2017 (2017/18), Jun 2018 -> 2018 (2018/19).",
        ),
        Column(
            "trust_code",
            "Organisation",
            "ODS code",
            "Organisation code: NHS trusts and CCGs in England.",
        ),
        Column("org_name", "Organisation name", "", "Organisation name as published."),
        Column(
            "staff_group",
            "Staff group",
            "",
            "One of the 13 NHS Digital HCHS staff groups, e.g. 'HCHS doctors', 'Nurses & health "
            "visitors', 'Midwives', 'Support to doctors, nurses & midwives', 'Managers', 'Senior managers'.",
        ),
        Column(
            "nationality",
            "Nationality",
            "",
            "Self-reported nationality; 'Unknown' if not recorded.",
        ),
        Column(
            "fte",
            "Staff",
            "FTE",
            "Full-time equivalent staff.",
            bounds=_FTE_BOUNDS,
            typical=(0, 20_000),
        ),
    ),
    year_convention="Censuses at 30 September 2017 and 30 June 2018 (sheet Notes). "
    + YEAR_CONVENTION,
    notes="The Notes sheet says figures were adjusted to prevent disclosure and rounded to the "
    "nearest whole number, but the Data sheet holds unrounded FTE (e.g. 0.1, 0.21334). Only "
    "non-empty cells are listed (no zero rows). Organisations include CCGs; 431 organisations "
    "in September 2017 and 414 in June 2018.",
    key=("census_date", "trust_code", "staff_group", "nationality"),
)


def read_hchs_staff_groups(path: str | Path | None = None) -> pd.DataFrame:
    """HCHS staff FTE by organisation, staff group and nationality, Sep 2017 and Jun 2018.

    Parameters
    ----------
    path
        An .xlsx workbook in the published layout of NHS Digital's "HCHS staff by staff group,
        nationality and organisation" (sheet ``Data``: Month, Organisation code, Organisation
        name, Staff group, Nationality, FTE); by default the registry copy.

    Returns
    -------
    pandas.DataFrame
        ``census_date``, ``year``, ``trust_code``, ``org_name``, ``staff_group``,
        ``nationality``, ``fte``.
    """
    src = source(HCHS.dataset, path)
    raw = read_xlsx(
        src,
        "Data",
        required=[
            "Month",
            "Organisation code",
            "Organisation name",
            "Staff group",
            "Nationality",
            "FTE",
        ],
    )
    census = _month_end(raw["Month"], src)
    group = raw["Staff group"].astype("string").str.strip()
    unknown = sorted(set(group[~group.isin(HCHS_STAFF_GROUPS).fillna(False)].fillna("<blank>")))
    if unknown:
        raise DataFileError(
            src.path,
            f"column 'Staff group' has unknown groups {unknown[:5]}",
            f"The published staff groups are: {'; '.join(HCHS_STAFF_GROUPS)}.",
        )
    nationality = raw["Nationality"].astype("string").str.strip()
    if nationality.isna().any() or (nationality == "").any():
        raise DataFileError(
            src.path,
            "column 'Nationality' has blank values",
            "Unrecorded nationality is published as 'Unknown'.",
        )
    fte = numbers(raw["FTE"], src, "FTE")
    _check_not_negative(fte, src, "FTE")
    df = pd.DataFrame(
        {
            "census_date": census,
            "year": fy_start(census),
            "trust_code": codes(raw["Organisation code"], src, "Organisation code"),
            "org_name": raw["Organisation name"].astype("string").str.strip().astype("str"),
            "staff_group": group.astype("str"),
            "nationality": nationality.astype("str"),
            "fte": fte,
        }
    )
    df = df.sort_values(["census_date", "trust_code", "staff_group", "nationality"])
    return finish(df, HCHS, src)


def _month_end(values: pd.Series, src) -> pd.Series:
    """'2017-SEP' -> 2017-09-30 (the census is taken on the last day of the month)."""
    text = values.astype("string").str.strip()
    parsed = pd.to_datetime(text, format="%Y-%b", errors="coerce")
    bad = parsed.isna()
    if bad.any():
        rows = ", ".join(f"row {i + 2}: {show(v)}" for i, v in values[bad].head(5).items())
        raise DataFileError(
            src.path,
            f"column 'Month' has values that are not months like '2017-SEP' ({rows})",
            "Months are written YYYY-MON, e.g. 2017-SEP or 2018-JUN.",
        )
    return (parsed + pd.offsets.MonthEnd(0)).astype("datetime64[ns]")


# --- one row per organisation, for staffing ratios ---------------------------------------------

STAFF_BY_GROUP = Schema(
    dataset="staff_by_group",
    columns=(
        Column("trust_code", "Organisation", "ODS code", "Employing NHS trust or CCG."),
        Column(
            "org_name",
            "Organisation name",
            "",
            "As published (HCHS workbook); missing for the non-medical extract, which has no names.",
        ),
        Column("census_date", "Census date", "date", "Date of the workforce census."),
        Column("year", "Financial year", "FY start", "Financial year start of census_date."),
        Column(
            "nurses_fte",
            "Registered nurses",
            "FTE",
            "Staff group 'Nurses & health visitors' (all nurses and health visitors on the NMC "
            "register employed by the organisation). Midwives are NOT included: see midwives_fte.",
            bounds=_FTE_BOUNDS,
            typical=(0, 20_000),
        ),
        Column(
            "midwives_fte",
            "Midwives",
            "FTE",
            "Staff group 'Midwives'.",
            bounds=_FTE_BOUNDS,
            typical=(0, 2_000),
        ),
        Column(
            "doctors_fte",
            "Doctors",
            "FTE",
            "Staff group 'HCHS doctors' (all grades). Missing for the non-medical extract, which "
            "has no doctors.",
            bounds=_FTE_BOUNDS,
            typical=(0, 8_000),
        ),
        Column(
            "support_fte",
            "Support to doctors, nurses & midwives",
            "FTE",
            "Staff group 'Support to doctors, nurses & midwives'. Nationally in Sep 2017 it was "
            "61% nursing support staff (healthcare assistants) and 38% clerical and "
            "administrative staff of clinical teams; see nursing_support_fte.",
            bounds=_FTE_BOUNDS,
            typical=(0, 15_000),
        ),
        Column(
            "nursing_support_fte",
            "Nursing support staff",
            "FTE",
            "Detailed staff group 'Nursing support staff' (healthcare assistants and nursing "
            "auxiliaries) within support_fte. Only in the non-medical extract; missing for HCHS.",
            bounds=_FTE_BOUNDS,
            typical=(0, 10_000),
        ),
        Column(
            "managers_fte",
            "Managers",
            "FTE",
            "Staff groups 'Managers' + 'Senior managers' (the hm_managers definition).",
            bounds=_FTE_BOUNDS,
            typical=(0, 5_000),
        ),
        Column(
            "non_medical_fte",
            "Non-medical staff",
            "FTE",
            "All staff groups except HCHS doctors.",
            bounds=_FTE_BOUNDS,
            typical=(0, 50_000),
        ),
        Column(
            "all_staff_fte",
            "All staff",
            "FTE",
            "All staff groups including doctors. Missing for the non-medical extract.",
            bounds=_FTE_BOUNDS,
            typical=(0, 60_000),
        ),
    ),
    year_convention=YEAR_CONVENTION,
    notes="Sums over nationality (HCHS) or over area, level and band (non-medical). A staff group "
    "with no rows for an organisation present in the census counts as 0 FTE (the extracts list "
    "only non-empty cells); a missing (suppressed) value in any cell makes that organisation's "
    "total missing rather than understated. For September 2017 the two sources give identical "
    "nurses, midwives, support and managers FTE for every organisation.",
    key=("trust_code",),
)

_GROUPS = {
    "nurses_fte": ("Nurses & health visitors",),
    "midwives_fte": ("Midwives",),
    "support_fte": ("Support to doctors, nurses & midwives",),
    "managers_fte": ("Managers", "Senior managers"),
}
_DOCTORS = "HCHS doctors"
_NURSING_SUPPORT = "Nursing support staff"


def staff_by_group(
    source: Literal["hchs", "non_medical"] = "hchs",
    census: str = "2017-09",
    path: str | Path | None = None,
    *,
    staff: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """FTE of nurses, midwives, doctors, support workers and managers, one row per organisation.

    Built for staffing ratios such as occupied beds per registered nurse, per doctor and per
    support worker (Griffiths et al. 2016). ``nurses_fte`` is the staff group "Nurses & health
    visitors" and excludes midwives, who are a separate registered profession and staff group
    working in maternity (whose beds KH03 counts apart from general and acute beds); add
    ``midwives_fte`` if your definition includes them.

    Parameters
    ----------
    source
        ``"hchs"``: the NHS Digital workbook by staff group and nationality (Sep 2017 and
        Jun 2018; has doctors). ``"non_medical"``: the Sep 2017 non-medical extract (no doctors,
        but separates nursing support staff from the clinical teams' admin staff).
    census
        ``"YYYY-MM"`` of the census: ``"2017-09"`` (both sources) or ``"2018-06"`` (HCHS).
    path
        The source workbook in its published layout; by default the registry copy.
    staff
        The table already returned by :func:`read_hchs_staff_groups` or
        :func:`read_non_medical_staff`, to avoid reading the workbook again (``path`` is then
        ignored).

    Returns
    -------
    pandas.DataFrame
        ``trust_code``, ``org_name``, ``census_date``, ``year``, ``nurses_fte``,
        ``midwives_fte``, ``doctors_fte``, ``support_fte``, ``nursing_support_fte``,
        ``managers_fte``, ``non_medical_fte``, ``all_staff_fte``.

    Raises
    ------
    InvalidParameterError
        Unknown ``source``, a badly written ``census``, or a census the source does not hold.
    """
    if source not in ("hchs", "non_medical"):
        raise InvalidParameterError(
            f"source={source!r} is not known; use 'hchs' (NHS Digital staff by group and "
            "nationality, Sep 2017 and Jun 2018) or 'non_medical' (Sep 2017, no doctors)."
        )
    month = _census_month(census)
    # The `source` parameter shadows the module's source() helper only in this function.
    if staff is None:
        staff = read_hchs_staff_groups(path) if source == "hchs" else read_non_medical_staff(path)
    group_col = "staff_group" if source == "hchs" else "staff_group_1"
    needed = {"trust_code", "census_date", "fte", group_col}
    needed.add("org_name" if source == "hchs" else "staff_group_2")
    if not needed <= set(staff.columns):
        raise InvalidParameterError(
            f"staff= lacks column(s) {sorted(needed - set(staff.columns))}: pass the table returned "
            f"by {'read_hchs_staff_groups' if source == 'hchs' else 'read_non_medical_staff'}()."
        )
    dates = pd.to_datetime(staff["census_date"])
    in_census = dates.dt.to_period("M") == month
    if not in_census.any():
        available = sorted({str(p) for p in dates.dt.to_period("M").unique()})
        raise InvalidParameterError(
            f"census={census!r} is not in the {source!r} source; it holds {available}."
        )
    rows = staff.loc[in_census]
    path_read = Path(staff.attrs.get("path", "staff table"))
    groups_present = set(rows[group_col])
    for col, names in _GROUPS.items():
        if not groups_present & set(names):
            raise DataFileError(
                path_read,
                f"has no rows for staff group(s) {list(names)} at census {census}: {col} cannot be computed",
                "Check the file is the published layout with its staff-group names unchanged.",
            )

    orgs = pd.Index(sorted(rows["trust_code"].unique()), name="trust_code")
    out = pd.DataFrame(index=orgs)
    for col, names in _GROUPS.items():
        out[col] = _org_total(rows[rows[group_col].isin(names)], orgs)
    if source == "hchs":
        out["doctors_fte"] = _org_total(rows[rows[group_col] == _DOCTORS], orgs)
        out["nursing_support_fte"] = np.nan
        out["non_medical_fte"] = _org_total(rows[rows[group_col] != _DOCTORS], orgs)
        out["all_staff_fte"] = _org_total(rows, orgs)
        names = rows.groupby("trust_code")["org_name"].first()
        out["org_name"] = names.reindex(orgs).astype("str")
    else:
        out["doctors_fte"] = np.nan
        out["nursing_support_fte"] = _org_total(
            rows[rows["staff_group_2"] == _NURSING_SUPPORT], orgs
        )
        out["non_medical_fte"] = _org_total(rows, orgs)
        out["all_staff_fte"] = np.nan
        out["org_name"] = pd.Series(pd.NA, index=orgs, dtype="str")
    out["census_date"] = rows["census_date"].iloc[0]
    out["year"] = int(fy_start(pd.Series([out["census_date"].iloc[0]])).iloc[0])
    out = out.reset_index()
    return derived(out, STAFF_BY_GROUP, staff.attrs, f"staff_by_group({source!r}, {census!r})")


def _census_month(census: str) -> pd.Period:
    if not isinstance(census, str) or not re.fullmatch(r"\d{4}-\d{2}", census.strip()):
        raise InvalidParameterError(
            f"census={census!r} is not written 'YYYY-MM'; use e.g. '2017-09' or '2018-06'."
        )
    return pd.Period(census.strip(), freq="M")


def _org_total(rows: pd.DataFrame, orgs: pd.Index) -> pd.Series:
    """Sum FTE by organisation; 0 where an organisation has no rows, missing if any cell is."""
    total = rows.groupby("trust_code")["fte"].sum()
    has_missing = rows["fte"].isna().groupby(rows["trust_code"]).any()
    total = total.where(~has_missing.reindex(total.index, fill_value=False))
    return total.reindex(orgs, fill_value=0.0).astype(float)


# --- shared small helpers ------------------------------------------------------------------------


def _september_census(year: pd.Series) -> pd.Series:
    return pd.to_datetime(year.astype(str) + "-09-30").astype("datetime64[ns]")


def _dates(values: pd.Series, src, column: str) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(values):
        parsed = values
    else:
        parsed = pd.to_datetime(values, errors="coerce", dayfirst=True)
    bad = parsed.isna()
    if bad.any():
        rows = ", ".join(f"row {i + 2}: {show(v)}" for i, v in values[bad].head(5).items())
        raise DataFileError(
            src.path,
            f"column {column!r} has values that are not dates ({rows})",
            "Dates should be Excel dates or dd/mm/yyyy text.",
        )
    return parsed.astype("datetime64[ns]")


def _check_not_negative(values: pd.Series, src, column: str) -> None:
    negative = values < 0
    if negative.any():
        rows = ", ".join(f"row {i + 2}: {v:g}" for i, v in values[negative].head(5).items())
        raise DataFileError(
            src.path,
            f"column {column!r} has negative staff numbers ({rows})",
            "FTE cannot be negative: check the column is FTE and not a change or a difference.",
        )
