"""Small code tables from the hospital_management compilation (Asaria, McGuire & Street, 2022).

CQC rating scores, Agenda for Change pay scales, Health Education England (HEE) regions, NHS
Digital staff-group codes and the compilation's variable definitions. Each is tiny, but each is read
through the same checks as the large files so that a re-saved or edited copy fails loudly.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DataFileError
from ._base import (
    Column,
    Schema,
    codes,
    finish,
    integers_in,
    numbers,
    read_csv_text,
    source,
)

#: The 13 Health Education England local education and training boards (LETBs) and their codes,
#: as published in ``hee_region.csv`` (facts, kept here so other readers can check HEE codes).
HEE_REGIONS: dict[str, str] = {
    "YDF21": "Health Education East Midlands",
    "YDF22": "Health Education East of England",
    "YDF23": "Health Education Yorkshire and the Humber",
    "YDF24": "Health Education Wessex",
    "YDF25": "Health Education Thames Valley",
    "YDF26": "Health Education North West London",
    "YDF27": "Health Education South London",
    "YDF28": "Health Education North Central and East London",
    "YDF29": "Health Education Kent, Surrey and Sussex",
    "YDF30": "Health Education North East",
    "YDF31": "Health Education North West",
    "YDF32": "Health Education West Midlands",
    "YDF33": "Health Education South West",
}

_NO_YEAR = "No year: a code table."


# --- CQC rating scores -----------------------------------------------------------------------

CQC_RATING_SCORES = Schema(
    dataset="hm_cqc_rating_scores",
    columns=(
        Column("rating", "CQC rating", "", "CQC rating word (Inadequate ... Outstanding)."),
        Column(
            "rating_score",
            "Rating score",
            "0-3",
            "Score used by Asaria et al.: Inadequate 0, Requires improvement 1, Good 2, "
            "Outstanding 3.",
        ),
    ),
    year_convention=_NO_YEAR,
    notes="An ordinal scale: the distance between ratings is a modelling choice, not a CQC fact.",
    key=("rating",),
)


def read_cqc_rating_scores(path: str | Path | None = None) -> pd.DataFrame:
    """The CQC rating -> score lookup (Inadequate 0 ... Outstanding 3).

    Parameters
    ----------
    path
        A file in the published layout of ``CQC_ratings_lookup.csv``; by default the registry copy.

    Returns
    -------
    pandas.DataFrame
        Columns ``rating`` and ``rating_score``.
    """
    src = source(CQC_RATING_SCORES.dataset, path)
    raw = read_csv_text(src, required=["RATING", "SCORE"], line_end=True)
    _require_text(raw["RATING"], src, "RATING")
    df = pd.DataFrame(
        {
            "rating": raw["RATING"],
            "rating_score": integers_in(raw["SCORE"], src, "SCORE", 0, 3),
        }
    )
    return finish(df, CQC_RATING_SCORES, src)


# --- Agenda for Change pay scales ------------------------------------------------------------

AFC_PAY_SCALES = Schema(
    dataset="hm_afc_pay_scales",
    columns=(
        Column(
            "year",
            "Pay year",
            "FY start",
            "Financial year the pay scale applies to (AfC pay years start on 1 April).",
        ),
        Column("afc_band", "Agenda for Change band", "", "Band 1 ... Band 9 (with 8a-8d)."),
        Column(
            "pay_bottom_gbp",
            "Bottom of band",
            "GBP per year",
            "Lowest pay point, full time.",
            bounds=(0, 1_000_000),
            typical=(10_000, 250_000),
        ),
        Column(
            "pay_average_gbp",
            "Average of band",
            "GBP per year",
            "AVERAGE as compiled: the mean of the band's pay points (not the midpoint of bottom "
            "and top).",
            bounds=(0, 1_000_000),
            typical=(10_000, 250_000),
        ),
        Column(
            "pay_top_gbp",
            "Top of band",
            "GBP per year",
            "Highest pay point, full time.",
            bounds=(0, 1_000_000),
            typical=(10_000, 250_000),
        ),
    ),
    year_convention=(
        "YEAR 2017 is the 2017/18 pay scale (from 1 April 2017), i.e. already the financial-year "
        "start."
    ),
    notes=(
        "Basic annual pay for a full-time post, before high-cost-area supplements. Asaria et al. "
        "cost managers at the TOP of their band and add 'Very Senior Manager' and 'Non AfC Grade' "
        "at GBP 142,500, which are not in this file."
    ),
    key=("year", "afc_band"),
)


def read_afc_pay_scales(path: str | Path | None = None) -> pd.DataFrame:
    """Agenda for Change pay scales: bottom, average and top of each band.

    Parameters
    ----------
    path
        A file in the published layout of ``agenda for change pay scales.csv``; by default the
        registry copy.

    Returns
    -------
    pandas.DataFrame
        Columns ``year``, ``afc_band``, ``pay_bottom_gbp``, ``pay_average_gbp``, ``pay_top_gbp``.

    Raises
    ------
    DataFileError
        If a band's bottom, average and top are not in increasing order, or pay is not positive.
    """
    src = source(AFC_PAY_SCALES.dataset, path)
    raw = read_csv_text(src, required=["YEAR", "AFC_BAND", "BOTTOM", "AVERAGE", "TOP"])
    _require_text(raw["AFC_BAND"], src, "AFC_BAND")
    pay = {c: numbers(raw[c], src, c) for c in ("BOTTOM", "AVERAGE", "TOP")}
    bad = (
        pay["BOTTOM"].isna()
        | pay["AVERAGE"].isna()
        | pay["TOP"].isna()
        | (pay["BOTTOM"] <= 0)
        | (pay["BOTTOM"] > pay["AVERAGE"])
        | (pay["AVERAGE"] > pay["TOP"])
    )
    if bad.any():
        i = bad[bad].index[0]
        raise DataFileError(
            src.path,
            f"has {int(bad.sum())} band(s) whose pay is missing, not positive or not ordered "
            f"BOTTOM <= AVERAGE <= TOP (row {i + 2}: {raw.at[i, 'AFC_BAND']} "
            f"{raw.at[i, 'BOTTOM']}, {raw.at[i, 'AVERAGE']}, {raw.at[i, 'TOP']})",
            "Give annual full-time pay in pounds for each band, lowest pay point first.",
        )
    df = pd.DataFrame(
        {
            "year": integers_in(raw["YEAR"], src, "YEAR", 2000, 2100),
            "afc_band": raw["AFC_BAND"],
            "pay_bottom_gbp": pay["BOTTOM"],
            "pay_average_gbp": pay["AVERAGE"],
            "pay_top_gbp": pay["TOP"],
        }
    )
    return finish(df, AFC_PAY_SCALES, src)


# --- HEE regions -----------------------------------------------------------------------------

HEE_REGIONS_SCHEMA = Schema(
    dataset="hm_hee_regions",
    columns=(
        Column(
            "hee_region_code",
            "HEE region code",
            "ODS code",
            "Code of the Health Education England local office (YDF21-YDF33).",
        ),
        Column("hee_region_name", "HEE region", "", "Name of the HEE local office."),
    ),
    year_convention=_NO_YEAR + " The 13 HEE local education and training boards (LETBs).",
    notes=(
        "Used by the compilation to group trusts; the NHS-wellbeing compilation carries wrong "
        "codes for 41 trusts (see icsresearch.sources.shmi.read_shmi_wellbeing)."
    ),
    key=("hee_region_code",),
)


def read_hee_regions(path: str | Path | None = None) -> pd.DataFrame:
    """Health Education England region codes and names.

    Parameters
    ----------
    path
        A file in the published layout of ``hee_region.csv``; by default the registry copy.

    Returns
    -------
    pandas.DataFrame
        Columns ``hee_region_code`` and ``hee_region_name``.
    """
    src = source(HEE_REGIONS_SCHEMA.dataset, path)
    raw = read_csv_text(src, required=["HEE_REGION_CODE", "HEE_REGION_NAME"])
    _require_text(raw["HEE_REGION_NAME"], src, "HEE_REGION_NAME")
    df = pd.DataFrame(
        {
            "hee_region_code": codes(raw["HEE_REGION_CODE"], src, "HEE_REGION_CODE"),
            "hee_region_name": raw["HEE_REGION_NAME"],
        }
    )
    return finish(df, HEE_REGIONS_SCHEMA, src)


# --- staff groups ----------------------------------------------------------------------------


def _staff_group_schema(dataset: str, prefix: str, label: str, notes: str) -> Schema:
    return Schema(
        dataset=dataset,
        columns=(
            Column(
                f"{prefix}_code",
                f"{label} code",
                "integer",
                f"NHS Digital {label.lower()} code.",
                bounds=(0, 999),
            ),
            Column(f"{prefix}_name", label, "", f"NHS Digital {label.lower()} name."),
        ),
        year_convention=_NO_YEAR + " NHS Digital workforce statistics groupings (2017).",
        notes=notes,
        key=(f"{prefix}_code",),
    )


MAIN_STAFF_GROUPS = _staff_group_schema(
    "hm_main_staff_groups",
    "main_staff_group",
    "Main staff group",
    "Top level of NHS Digital's non-medical staff hierarchy (main group > group 1 > group 2).",
)
STAFF_GROUP_1 = _staff_group_schema(
    "hm_staff_group_1",
    "staff_group_1",
    "Staff group 1",
    "Middle level of the hierarchy; 'Managers' (41) and 'Senior managers' (39) are the groups "
    "the compilation counts as managers.",
)
STAFF_GROUP_2 = _staff_group_schema(
    "hm_staff_group_2",
    "staff_group_2",
    "Staff group 2",
    "Lowest level. Names repeat under different parents: 'Clerical & administrative' is codes "
    "25, 30, 36, 44 and 47 and 'Estates (maintenance & works)' 26, 31, 37 and 48, one per staff "
    "group 1 (NHS Digital numbers each group 2 after its group 1), so join on the code, never "
    "the name.",
)


def read_main_staff_groups(path: str | Path | None = None) -> pd.DataFrame:
    """NHS Digital main staff group codes and names.

    Parameters
    ----------
    path
        A file in the published layout of ``main_staff_group.csv``; by default the registry copy.

    Returns
    -------
    pandas.DataFrame
        Columns ``main_staff_group_code`` and ``main_staff_group_name``.
    """
    return _read_staff_groups(MAIN_STAFF_GROUPS, "MAIN_STAFF_GROUP", path)


def read_staff_group_1(path: str | Path | None = None) -> pd.DataFrame:
    """NHS Digital staff group 1 codes and names.

    Parameters
    ----------
    path
        A file in the published layout of ``staff_group_1.csv``; by default the registry copy.

    Returns
    -------
    pandas.DataFrame
        Columns ``staff_group_1_code`` and ``staff_group_1_name``.
    """
    return _read_staff_groups(STAFF_GROUP_1, "STAFF_GROUP_1", path)


def read_staff_group_2(path: str | Path | None = None) -> pd.DataFrame:
    """NHS Digital staff group 2 codes and names (names repeat; codes are unique).

    Parameters
    ----------
    path
        A file in the published layout of ``staff_group_2.csv``; by default the registry copy.

    Returns
    -------
    pandas.DataFrame
        Columns ``staff_group_2_code`` and ``staff_group_2_name``.
    """
    return _read_staff_groups(STAFF_GROUP_2, "STAFF_GROUP_2", path)


def _read_staff_groups(schema: Schema, prefix: str, path: str | Path | None) -> pd.DataFrame:
    src = source(schema.dataset, path)
    code_col, name_col = f"{prefix}_CODE", f"{prefix}_NAME"
    raw = read_csv_text(src, required=[code_col, name_col])
    _require_text(raw[name_col], src, name_col)
    out_prefix = prefix.lower()
    df = pd.DataFrame(
        {
            f"{out_prefix}_code": integers_in(raw[code_col], src, code_col, 1, 999),
            f"{out_prefix}_name": raw[name_col],
        }
    )
    return finish(df, schema, src)


# --- variable definitions --------------------------------------------------------------------

VARIABLE_DEFINITIONS = Schema(
    dataset="hm_variable_definitions",
    columns=(
        Column("code", "Short code", "", "Short name used in the compilation's app (e.g. 'ae')."),
        Column("variable", "Variable", "", "Upper-case variable name (e.g. 'AE_SCORE')."),
        Column("label", "Label", "", "Human-readable label, with the unit in brackets."),
    ),
    year_convention=_NO_YEAR,
    notes=(
        "Labels are those of the compilation: e.g. AE_SCORE is labelled '(%)' although AE.csv "
        "stores a 0-1 fraction, and 'Total inpatient admissions' is TOTAL_EPISODES (episodes) "
        "in the app. Use the reader schemas for units."
    ),
    key=("code",),
)


def read_variable_definitions(path: str | Path | None = None) -> pd.DataFrame:
    """Variable codes, names and labels used by the hospital_management compilation.

    Parameters
    ----------
    path
        A file in the published layout of ``variable_definitions.csv``; by default the registry
        copy.

    Returns
    -------
    pandas.DataFrame
        Columns ``code``, ``variable`` and ``label``.
    """
    src = source(VARIABLE_DEFINITIONS.dataset, path)
    raw = read_csv_text(src, required=["code", "variable", "label"])
    for column in ("code", "variable", "label"):
        _require_text(raw[column], src, column)
    df = pd.DataFrame({"code": raw["code"], "variable": raw["variable"], "label": raw["label"]})
    return finish(df, VARIABLE_DEFINITIONS, src)


def _require_text(values: pd.Series, src, column: str) -> None:
    """Every row of a name column must hold some text."""
    blank = values.isna() | (values.astype("string").str.strip() == "")
    if blank.any():
        rows = ", ".join(f"row {i + 2}" for i in np.flatnonzero(blank.to_numpy())[:5])
        raise DataFileError(
            src.path,
            f"column {column!r} is blank in {int(blank.sum())} row(s) ({rows})",
            "Every code needs its name; fill the blanks or use the published file.",
        )
