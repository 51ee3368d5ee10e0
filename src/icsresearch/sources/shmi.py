"""Summary Hospital-level Mortality Indicator (SHMI), from two independent compilations.

Publisher: NHS Digital, SHMI (OGL v3); NHS England, NHS Staff Survey (OGL v3).

* ``hm_shmi`` (:func:`read_shmi`): Asaria, McGuire & Street (2022), 2012/13-2018/19.
* ``nhs_wellbeing`` (:func:`read_shmi_wellbeing`): the ebmgt/NHS-wellbeing compilation, 2012-2019,
  which adds Staff Survey indices for the same acute trusts.

SHMI is the ratio of observed to expected deaths in hospital or within 30 days of discharge over a
rolling 12-month window; it is published only for non-specialist acute trusts, so specialist,
mental-health, community and ambulance trusts never have a value.

How the two compilations relate (registry copies): at the same year label they share 951
trust-years, with correlation 0.962, mean absolute difference 0.019 and only 2 identical values, so
they are not the same publication. The second compilation's value for label ``y`` correlates less
with the first's ``y-1`` (0.909) and ``y+1`` (0.829), but slightly more with the average of the
first's ``y-1`` and ``y`` (0.971 against 0.965 for ``y`` alone, on the 664 trust-years where all
exist): its 12-month window most likely ends some months before the end of the financial year
``y``/``y+1`` used by the first compilation. Both are centred on 1 in every year (yearly mean
difference within +-0.002). Do not mix the two in one panel; use the second mainly for 2019 or as a
robustness check.
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
    show,
    source,
)
from .reference import HEE_REGIONS

_SHMI_RANGE = (0.2, 3.0)  # a ratio near 1; published trust values run from about 0.5 to 1.3
_SHMI_TYPICAL = (0.4, 1.6)

SHMI = Schema(
    dataset="hm_shmi",
    columns=(
        Column("trust_code", "Trust", "ODS code", "Provider ODS code (ORG_CODE, cleaned)."),
        Column("year", "Financial year", "FY start", "Financial year start (2012 = 2012/13)."),
        Column(
            "shmi",
            "SHMI",
            "ratio",
            "Observed / expected deaths in hospital or within 30 days of discharge (1 = as "
            "expected for the trust's case mix).",
            bounds=_SHMI_RANGE,
            typical=_SHMI_TYPICAL,
        ),
    ),
    year_convention="YEAR is already the financial-year start. " + YEAR_CONVENTION,
    notes=(
        "Non-specialist acute trusts only (130-142 a year). Values run from 0.54 (RKE, "
        "Whittington Health, 2013) to 1.23. See the module docstring for how this compares with "
        "the NHS-wellbeing compilation (read_shmi_wellbeing)."
    ),
    key=("trust_code", "year"),
)


def read_shmi(path: str | Path | None = None) -> pd.DataFrame:
    """SHMI by trust and financial year (the hospital_management compilation).

    Parameters
    ----------
    path
        A file in the published layout of ``shmi.csv``; by default the registry copy.

    Returns
    -------
    pandas.DataFrame
        Columns ``trust_code``, ``year``, ``shmi``.

    Raises
    ------
    DataFileError
        If columns are missing, a SHMI value is not a plausible ratio (e.g. a value multiplied
        by 100), or a trust-year repeats. Blank or '-' values are kept missing.
    """
    src = source(SHMI.dataset, path)
    raw = read_csv_text(src, required=["YEAR", "ORG_CODE", "SHMI"])
    df = pd.DataFrame(
        {
            "trust_code": codes(raw["ORG_CODE"], src, "ORG_CODE", strip_suffix=True),
            "year": integers_in(raw["YEAR"], src, "YEAR", 2000, 2100),
            "shmi": _shmi(raw["SHMI"], src, "SHMI"),
        }
    )
    df = df.sort_values(["trust_code", "year"], kind="stable")
    return finish(df, SHMI, src)


def _shmi(values: pd.Series, src, column: str) -> pd.Series:
    """SHMI ratios; blank/'-'/NA stay missing, anything outside a plausible ratio is an error."""
    num = numbers(values, src, column)
    lo, hi = _SHMI_RANGE
    bad = (num < lo) | (num > hi)
    if bad.any():
        rows = ", ".join(f"row {i + 2}: {show(v)}" for i, v in values[bad].head(5).items())
        raise DataFileError(
            src.path,
            f"column {column!r} has {int(bad.sum())} value(s) that are not SHMI ratios between "
            f"{lo} and {hi} ({rows})",
            "SHMI is observed/expected deaths, a ratio near 1: do not multiply it by 100.",
        )
    return num


# --- the NHS-wellbeing compilation -----------------------------------------------------------

_WB_REQUIRED = [
    "Code",
    "Year.Index",
    "SHMI.before",
    "SHMI.Index",
    "HEE.region.code",
    "HEE.region.name",
    "Name",
    "North",
    "Responses",
    "Survey.clinical.proportion",
    "Engagement.Index",
    "Engagement.Index.dichot",
    "RecommendWork.Index",
    "RecommendWork.Index.dichot",
    "RecommendCare.Index",
    "RecommendCare.Index.dichot",
    "WorkStress.Index",
    "FreedomSpeak.Index",
    "Openness.Index",
]

# Staff Survey columns: (published, output, label, unit, (lo, hi), description)
_SURVEY = (
    (
        "Survey.clinical.proportion",
        "survey_clinical_share",
        "Clinical respondents",
        "0-1",
        (0.0, 1.0),
        "Share of survey respondents in clinical staff groups.",
    ),
    (
        "Engagement.Index",
        "engagement_index",
        "Staff engagement",
        "score 1-5",
        (1.0, 5.0),
        "NHS Staff Survey staff engagement score: mean of its items on a 1 (worst) to 5 (best) "
        "scale, as compiled.",
    ),
    (
        "Engagement.Index.dichot",
        "engagement_positive_share",
        "Staff engagement, positive",
        "0-1",
        (0.0, 1.0),
        "Share of positive (agree / strongly agree) answers to the engagement items.",
    ),
    (
        "RecommendWork.Index",
        "recommend_work_index",
        "Recommend as a place to work",
        "score 1-5",
        (1.0, 5.0),
        "Mean answer to 'I would recommend my organisation as a place to work' (1-5).",
    ),
    (
        "RecommendWork.Index.dichot",
        "recommend_work_positive_share",
        "Recommend as a place to work, positive",
        "0-1",
        (0.0, 1.0),
        "Share agreeing or strongly agreeing that they would recommend it as a place to work.",
    ),
    (
        "RecommendCare.Index",
        "recommend_care_index",
        "Recommend care to friends or family",
        "score 1-5",
        (1.0, 5.0),
        "Mean answer to 'If a friend or relative needed treatment I would be happy with the "
        "standard of care provided by this organisation' (1-5).",
    ),
    (
        "RecommendCare.Index.dichot",
        "recommend_care_positive_share",
        "Recommend care, positive",
        "0-1",
        (0.0, 1.0),
        "Share agreeing or strongly agreeing that they would be happy with the standard of care.",
    ),
    (
        "WorkStress.Index",
        "work_stress_share",
        "Work-related stress",
        "0-1",
        (0.0, 1.0),
        "Share of staff reporting feeling unwell as a result of work-related stress in the last "
        "12 months (0.24-0.49 in the registry copy).",
    ),
    (
        "FreedomSpeak.Index",
        "freedom_speak_index",
        "Freedom to speak up",
        "as compiled",
        (0.0, 5.0),
        "Freedom-to-speak-up index. Every value in the registry copy is 0 (a placeholder), so "
        "the reader sets it missing; only a file with real values yields numbers.",
    ),
    (
        "Openness.Index",
        "openness_index",
        "Openness",
        "as compiled",
        (0.0, 5.0),
        "Openness index. Every value in the registry copy is 0 (a placeholder), so the reader "
        "sets it missing; only a file with real values yields numbers.",
    ),
)

WELLBEING = Schema(
    dataset="nhs_wellbeing",
    columns=(
        Column("trust_code", "Trust", "ODS code", "Trust ODS code (Code, cleaned)."),
        Column(
            "year",
            "Year",
            "FY start",
            "Year.Index as published, read as the financial-year start (see year convention).",
        ),
        Column("survey_year", "Year label", "", "Year.Index as published.", bounds=(2000, 2100)),
        Column(
            "shmi",
            "SHMI",
            "ratio",
            "SHMI.Index: observed / expected deaths for the year (this compilation's window).",
            bounds=_SHMI_RANGE,
            typical=_SHMI_TYPICAL,
        ),
        Column(
            "shmi_previous",
            "SHMI, previous year",
            "ratio",
            "SHMI.before: this compilation's SHMI for year - 1 (equal to the previous row's shmi "
            "for all 938 trust-years where both exist; the only source of 2011 values).",
            bounds=_SHMI_RANGE,
            typical=_SHMI_TYPICAL,
        ),
        Column("trust_name", "Trust name", "", "Name as compiled; missing for 18 rows."),
        Column(
            "hee_region_code",
            "HEE region code",
            "ODS code",
            "Health Education England region, derived from the region NAME (the published code "
            "column is wrong for 41 trusts).",
        ),
        Column("hee_region_name", "HEE region", "", "HEE.region.name without '(North)'/'(South)'."),
        Column(
            "hee_region_code_published",
            "HEE region code as published",
            "",
            "HEE.region.code exactly as in the file: unreliable, kept for traceability.",
        ),
        Column("north", "North of England", "bool", "North = 1 in the file (North.v.South)."),
        Column(
            "survey_responses_count",
            "Staff Survey responses",
            "count",
            "Number of NHS Staff Survey respondents at the trust.",
            bounds=(0, 1_000_000),
            typical=(0, 30_000),  # largest 7,513 here, 13,177 in the 2021-2024 surveys
        ),
        *(
            Column(out, label, unit, desc, bounds=limits)
            for _, out, label, unit, limits, desc in _SURVEY
        ),
    ),
    year_convention=(
        "Year.Index is a plain year label. The Staff Survey runs in the autumn of that year "
        "(inside financial year label/label+1), and the SHMI matches the first compilation best "
        "at the same label, so `year` = Year.Index is read as the financial-year start; "
        "`survey_year` keeps the label. " + YEAR_CONVENTION
    ),
    notes=(
        "Acute trusts only, 2012-2019 (128-142 a year). HEE region: the name agrees with the "
        "hospital_management provider list for all 136 trusts matched, the published code for "
        "only 95 (41 trusts in East Midlands, East of England, Wessex and Yorkshire and the "
        "Humber carry another region's or a non-existent code such as YDF46), so "
        "hee_region_code is derived from the name. The staff-survey columns are missing for 11 "
        "rows. FreedomSpeak.Index and Openness.Index are 0 in all 1,073 non-missing rows: "
        "placeholders, returned as missing. Column X is empty and dropped. See the module "
        "docstring for how this SHMI compares with read_shmi."
    ),
    key=("trust_code", "year"),
)

_NAME_TO_HEE = {name.casefold(): code for code, name in HEE_REGIONS.items()}


def read_shmi_wellbeing(path: str | Path | None = None) -> pd.DataFrame:
    """SHMI and NHS Staff Survey indices for acute trusts, 2012-2019 (NHS-wellbeing compilation).

    Parameters
    ----------
    path
        A file in the published layout of ``data.NHS.2012_2019.csv``; by default the registry
        copy.

    Returns
    -------
    pandas.DataFrame
        One row per trust and year; SHMI, trust name, HEE region and the Staff Survey indices
        (columns documented in ``df.attrs["columns"]``).

    Raises
    ------
    DataFileError
        If columns are missing, a value is outside its scale (indices 1-5, shares 0-1, SHMI a
        ratio), an HEE region name is not one of the 13 HEE regions, or a trust-year repeats.
    """
    src = source(WELLBEING.dataset, path)
    # the published file ends its last line with a line end: one missing means a cut
    raw = read_csv_text(src, required=_WB_REQUIRED, line_end=True)
    year = integers_in(raw["Year.Index"], src, "Year.Index", 2000, 2100)
    region_name = raw["HEE.region.name"].str.replace(r"\s*\((North|South)\)$", "", regex=True)
    region_name = region_name.where(~raw["HEE.region.name"].isin(["NA", ""]))
    df = pd.DataFrame(
        {
            "trust_code": codes(raw["Code"], src, "Code", strip_suffix=True),
            "year": year,
            "survey_year": year,
            "shmi": _shmi(raw["SHMI.Index"], src, "SHMI.Index"),
            "shmi_previous": _shmi(raw["SHMI.before"], src, "SHMI.before"),
            "trust_name": _text(raw["Name"]),
            "hee_region_code": _hee_codes(region_name, src),
            "hee_region_name": region_name,
            "hee_region_code_published": _text(raw["HEE.region.code"]),
            "north": _flag(raw["North"], src, "North"),
            "survey_responses_count": _count(raw["Responses"], src, "Responses"),
        }
    )
    for published, out, _, _, (lo, hi), _ in _SURVEY:
        values = numbers(raw[published], src, published)
        bad = (values < lo) | (values > hi)
        if bad.any():
            rows = ", ".join(
                f"row {i + 2}: {show(v)}" for i, v in raw[published][bad].head(5).items()
            )
            raise DataFileError(
                src.path,
                f"column {published!r} has {int(bad.sum())} value(s) outside {lo:g}-{hi:g} ({rows})",
                "Indices are mean scores on the 1-5 answer scale and shares are 0-1 fractions; "
                "percentages must be divided by 100.",
            )
        if published in ("FreedomSpeak.Index", "Openness.Index") and (values.fillna(0) == 0).all():
            values = values * np.nan  # an all-zero column is a placeholder, not a measurement
        df[out] = values
    df = df.sort_values(["trust_code", "year"], kind="stable")
    return finish(df, WELLBEING, src)


def _text(values: pd.Series) -> pd.Series:
    return values.where(~values.isin(["NA", ""]))


def _hee_codes(names: pd.Series, src) -> pd.Series:
    known = names.isna() | names.str.casefold().isin(list(_NAME_TO_HEE))
    if not known.all():
        unknown = sorted(set(names[~known]))
        raise DataFileError(
            src.path,
            f"column 'HEE.region.name' has names that are not Health Education England regions: "
            f"{unknown[:5]}",
            "Use the 13 HEE region names of hee_region.csv (optionally followed by '(North)' or "
            "'(South)'); the region code is derived from the name.",
        )
    return names.str.casefold().map(_NAME_TO_HEE)


def _flag(values: pd.Series, src, column: str) -> pd.Series:
    mapping = {"1": True, "0": False, "TRUE": True, "FALSE": False}
    text = values.str.upper()
    missing = text.isin(["NA", ""])
    bad = ~missing & ~text.isin(list(mapping))
    if bad.any():
        rows = ", ".join(f"row {i + 2}: {show(v)}" for i, v in values[bad].head(5).items())
        raise DataFileError(
            src.path,
            f"column {column!r} must be 1, 0 or NA ({rows})",
            "North is 1 for trusts in the North of England and 0 otherwise.",
        )
    return text.map(mapping).astype("boolean").where(~missing)


def _count(values: pd.Series, src, column: str) -> pd.Series:
    num = numbers(values, src, column)
    bad = num.notna() & ((num < 0) | (num != np.floor(num)))
    if bad.any():
        rows = ", ".join(f"row {i + 2}: {show(v)}" for i, v in values[bad].head(5).items())
        raise DataFileError(
            src.path,
            f"column {column!r} has values that are not whole non-negative counts ({rows})",
            "Survey responses are counts of respondents.",
        )
    return num.astype("Int64")
