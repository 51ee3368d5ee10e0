"""NHS Talking Therapies (formerly IAPT) monthly measures by sub-ICB location, July 2022 - May 2023.

Publisher: NHS England (NHS Digital), NHS Talking Therapies for anxiety and depression, monthly
statistics (OGL v3), as compiled by the healthyr package (``england_sicb_iapt``) from the
2022/23 monthly CSV (``MEASURE_NAME``, ``MEASURE_VALUE`` of the 'SubICB' rows).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from ..errors import DataFileError
from ._base import (
    YEAR_CONVENTION,
    Column,
    Schema,
    codes,
    completeness,
    finish,
    flagged_rows,
    fy_start,
    month_periods,
    numbers,
    read_rda_table,
    show,
    source,
)

_SICBL_ONS = re.compile(r"^E38\d{6}$")
#: Measure name prefix -> unit.
UNITS = {"Count": "count", "Percentage": "%"}
#: What each published measure counts (NHS Talking Therapies monthly statistics definitions).
MEASURES = {
    "Count_ReferralsReceived": "Referrals received in the month.",
    "Count_AccessingServices": "Referrals that entered treatment (first treatment appointment) "
    "in the month.",
    "Count_EndedReferrals": "Referrals that ended in the month, for any reason.",
    "Count_FinishedCourseTreatment": "Referrals that ended in the month having finished a "
    "course of treatment (at least two treatment contacts).",
    "Count_Deterioration": "Of those finishing a course of treatment, referrals showing "
    "reliable deterioration.",
    "Percentage_AccessingServices6WeeksFinishedCourseTreatment": "Of referrals finishing a "
    "course of treatment in the month, % that waited 6 weeks or less from referral to first "
    "treatment.",
    "Percentage_AccessingServices18WeeksFinishedCourseTreatment": "As the 6-week measure, "
    "waiting 18 weeks or less.",
    "Percentage_Improvement": "% of referrals finishing a course of treatment that showed "
    "reliable improvement.",
    "Percentage_Deterioration": "% of referrals finishing a course of treatment that showed "
    "reliable deterioration.",
    "Percentage_Recovery": "% of referrals finishing a course of treatment at caseness at the "
    "start that moved to recovery.",
    "Percentage_ReliableRecovery": "% of referrals finishing a course of treatment at caseness "
    "at the start that showed reliable recovery (recovered and reliably improved).",
}

SCHEMA = Schema(
    dataset="talking_therapies_sicb",
    columns=(
        Column(
            "sicbl_ons_code",
            "Sub-ICB location",
            "ONS E38 code",
            "Sub-ICB location, 2022 ONS code (sicbl22_code): the commissioner of the "
            "referrals (the former CCG area), not the provider.",
        ),
        Column("period", "Month", "date", "First day of the calendar month reported."),
        Column(
            "year",
            "Financial year",
            "FY start",
            "Financial year start of the month (April-March; 2022 = 2022/23).",
        ),
        Column(
            "measure",
            "Measure",
            "",
            "Published measure name (MEASURE_NAME), e.g. 'Count_ReferralsReceived'; "
            "definitions in icsresearch.sources.talking_therapies.MEASURES.",
        ),
        Column(
            "value",
            "Value",
            "count or %",
            "The published value as a number (the file stores text). Counts are rounded by NHS "
            "England to the nearest 5; percentages are computed from unrounded counts and "
            "rounded to whole numbers, so they are kept as published rather than recomputed "
            "from the rounded counts. Suppressed values ('*', small numbers) are missing.",
            bounds=(0, 10_000_000),
            typical=(0, 100_000),
        ),
        Column(
            "unit",
            "Unit",
            "",
            "'count' for measures named Count_..., '%' (0-100) for Percentage_....",
        ),
    ),
    year_convention="Calendar months, published as text ('July 2022') and parsed to `period`; "
    "`year` is the financial-year start of the month. " + YEAR_CONVENTION,
    notes=(
        "July 2022 - May 2023 (11 months), 106 sub-ICB locations, 11 measures, each present "
        "every month: 12,826 rows. 79 values are suppressed (healthyr turned the published '*' "
        "into NA): Count_Deterioration and Percentage_Deterioration 36 each (small numbers; "
        "the same sub-ICB-months for both), and for E38000119 in April 2023 every measure "
        "except referrals received and accessing services (9 values, 2 of them counted "
        "above). A "
        "user file that still has '*' (or '-', blank) reads the same way. All counts are "
        "multiples of 5 and all percentages whole numbers. The 6- and 18-week percentages "
        "have finished courses of treatment as their denominator, not referrals entering "
        "treatment. Sub-ICB codes are the July 2022 ONS codes (healthyr mapped the published "
        "ODS codes through the July 2022 lookup)."
    ),
    key=("sicbl_ons_code", "period", "measure"),
)


def read_talking_therapies(path: str | Path | None = None) -> pd.DataFrame:
    """NHS Talking Therapies referrals, waits and outcomes by sub-ICB location and month.

    Parameters
    ----------
    path
        An ``.rda`` file holding an ``england_sicb_iapt`` table in the healthyr layout (skips the
        registry hash check); by default the registry copy.

    Returns
    -------
    pandas.DataFrame
        Long: one row per sub-ICB location, month and measure, with sicbl_ons_code, period,
        year, measure, value, unit. ``attrs["completeness"]`` reports the months present, the
        share of values missing and the missing values per measure.

    Raises
    ------
    DataFileError
        For an unreadable or truncated file, a wrong R object, missing columns, codes that are
        not ONS sub-ICB codes, bad month labels, a measure not named Count_/Percentage_, a value
        that is not a number, a negative count, a percentage outside 0-100, or a repeated key.

    Examples
    --------
    >>> from icsresearch.sources.talking_therapies import read_talking_therapies
    >>> tt = read_talking_therapies()  # doctest: +SKIP
    >>> tt.query("measure == 'Percentage_Recovery'").groupby("period").value.median()  # doctest: +SKIP
    """
    src = source(SCHEMA.dataset, path)
    raw = read_rda_table(src, "england_sicb_iapt", ["sicbl22_code", "date", "name", "value"])
    measure = raw["name"].astype("string").str.strip()
    prefix = measure.str.extract(r"^([A-Za-z]+)_", expand=False)
    unit = prefix.map(UNITS)
    bad = unit.isna()
    if bad.any():
        raise DataFileError(
            src.path,
            f"column 'name' has {int(bad.sum())} measure name(s) that start with neither "
            f"'Count_' nor 'Percentage_' ({flagged_rows(raw['name'], bad)})",
            "Measure names are the published MEASURE_NAME, e.g. 'Count_ReferralsReceived' or "
            "'Percentage_Recovery'.",
        )
    period, _ = month_periods(raw["date"], src, "date")
    value = numbers(raw["value"].astype(object), src, "value")
    counts = unit == "count"
    wrong = (counts & (value < 0)) | (~counts & ((value < 0) | (value > 100)))
    if wrong.any():
        shown = ", ".join(
            f"row {i + 2}: {measure[i]} = {show(raw['value'][i])}" for i in raw.index[wrong][:5]
        )
        raise DataFileError(
            src.path,
            f"column 'value' has {int(wrong.sum())} negative count(s) or percentage(s) outside "
            f"0-100 ({shown})",
            "Counts are >= 0 and percentages 0-100; suppressed values should be '*' or NA.",
        )
    df = pd.DataFrame(
        {
            "sicbl_ons_code": codes(raw["sicbl22_code"], src, "sicbl22_code", pattern=_SICBL_ONS),
            "period": period,
            "measure": measure.astype(str),
            "value": value,
            "unit": unit.astype(str),
        }
    )
    df["year"] = fy_start(df["period"])
    df = df.sort_values(["sicbl_ons_code", "period", "measure"], kind="stable")
    coverage = completeness(df, counts=["value"], period="period", units="sicbl_ons_code")
    missing = df[df["value"].isna()].groupby("measure").size()
    coverage["missing_by_measure"] = {k: int(v) for k, v in missing.items()}
    coverage["measures"] = int(df["measure"].nunique())
    return finish(df, SCHEMA, src, coverage=coverage)
