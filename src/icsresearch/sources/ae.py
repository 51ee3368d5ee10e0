"""A&E waiting times: the annual 4-hour share by trust, and monthly attendances by provider.

Publisher: NHS England, A&E Attendances and Emergency Admissions (OGL v3).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ._base import (
    YEAR_CONVENTION,
    Column,
    Schema,
    codes,
    finish,
    integers_in,
    numbers,
    read_csv_text,
    read_rda,
    source,
)

ANNUAL = Schema(
    dataset="hm_ae",
    columns=(
        Column(
            "trust_code",
            "Trust",
            "ODS code",
            "Provider ODS code, with the compilation's '-X' suffix removed.",
        ),
        Column("year", "Financial year", "FY start", "Financial year start (2012 = 2012/13)."),
        Column(
            "trust_code_published",
            "Code as published",
            "",
            "ORG_CODE as in the file (some carry a '-X' suffix).",
        ),
        Column(
            "ae_4hr_pct",
            "A&E 4-hour share",
            "%",
            "Share of A&E attendances seen within 4 hours, all types (published to 2 d.p. as a fraction, here x100).",
        ),
        Column(
            "ae_4hr_share", "A&E 4-hour share (fraction)", "0-1", "The published AE_SCORE value."
        ),
    ),
    year_convention="YEAR is already the financial-year start. " + YEAR_CONVENTION,
    notes="AE_SCORE is rounded to 2 decimal places in the compilation, so ae_4hr_pct moves in steps of 1 percentage point.",
    key=("trust_code", "year"),
)


def read_ae_annual(path: str | Path | None = None) -> pd.DataFrame:
    """Annual share of A&E attendances within 4 hours, by trust and financial year.

    Parameters
    ----------
    path
        A file in the published layout of ``AE.csv`` (skips the registry hash check); by default
        the registry copy.

    Examples
    --------
    >>> from icsresearch.sources.ae import read_ae_annual
    >>> ae = read_ae_annual()  # doctest: +SKIP
    >>> ae.query("trust_code == 'RA2'").ae_4hr_pct.round(0).tolist()  # doctest: +SKIP
    """
    src = source(ANNUAL.dataset, path)
    raw = read_csv_text(src, required=["YEAR", "ORG_CODE", "AE_SCORE"])
    share = numbers(raw["AE_SCORE"], src, "AE_SCORE")
    if (share > 1.0001).any():
        raise _fraction_error(src, "AE_SCORE", share)
    df = pd.DataFrame(
        {
            "trust_code": codes(raw["ORG_CODE"], src, "ORG_CODE", strip_suffix=True),
            "year": integers_in(raw["YEAR"], src, "YEAR", 2000, 2100),
            "trust_code_published": raw["ORG_CODE"],
            "ae_4hr_share": share,
            "ae_4hr_pct": (share * 100).round(1),
        }
    )
    return finish(df, ANNUAL, src)


def _fraction_error(src, column: str, values: pd.Series):
    from ..errors import DataFileError

    return DataFileError(
        src.path,
        f"column {column!r} holds values above 1 (max {values.max():g}); the published layout gives a fraction 0-1",
        "If your file gives percentages, divide the column by 100 before reading.",
    )


MONTHLY = Schema(
    dataset="ae_monthly",
    columns=(
        Column(
            "trust_code",
            "Provider",
            "ODS code",
            "Provider ODS code (trusts and some independent/minor-unit providers).",
        ),
        Column("period", "Month", "date", "First day of the calendar month reported."),
        Column(
            "year", "Financial year", "FY start", "Financial year start of the month (April-March)."
        ),
        Column(
            "department_type",
            "A&E department type",
            "",
            "'1' major emergency departments, '2' single-specialty, 'other' minor injury units and walk-in centres.",
        ),
        Column("attendances", "Attendances", "count", "A&E attendances in the month."),
        Column(
            "breaches",
            "4-hour breaches",
            "count",
            "Attendances that spent more than 4 hours from arrival to admission, transfer or discharge.",
        ),
        Column(
            "admissions",
            "Emergency admissions via A&E",
            "count",
            "Emergency admissions through this department type.",
        ),
        Column(
            "within_4hr_pct",
            "Seen within 4 hours",
            "%",
            "100 x (1 - breaches / attendances); missing when there were no attendances.",
        ),
    ),
    year_convention="Calendar months (period = first of month); `year` is the financial year start of the month. "
    + YEAR_CONVENTION,
    notes="Covers April 2016 - March 2019. Not every provider reports every type in every month.",
    key=("trust_code", "period", "department_type"),
)


def read_ae_monthly(path: str | Path | None = None) -> pd.DataFrame:
    """Monthly A&E attendances, 4-hour breaches and admissions by provider and department type.

    Parameters
    ----------
    path
        An ``.rda`` file holding an ``ae_attendances`` table in the NHSRdatasets layout; by
        default the registry copy.
    """
    src = source(MONTHLY.dataset, path)
    raw = read_rda(
        src,
        "ae_attendances",
        required=["period", "org_code", "type", "attendances", "breaches", "admissions"],
    )
    period = pd.to_datetime(raw["period"].astype(str), errors="coerce")
    if period.isna().any():
        from ..errors import DataFileError

        raise DataFileError(
            src.path,
            "column 'period' has values that are not dates",
            "Periods are the first day of each month (YYYY-MM-DD).",
        )
    df = pd.DataFrame(
        {
            "trust_code": codes(raw["org_code"].astype(str), src, "org_code"),
            "period": period,
            "department_type": raw["type"].astype(str),
            "attendances": numbers(raw["attendances"], src, "attendances"),
            "breaches": numbers(raw["breaches"], src, "breaches"),
            "admissions": numbers(raw["admissions"], src, "admissions"),
        }
    )
    df["year"] = (df["period"].dt.year - (df["period"].dt.month < 4)).astype(int)
    att = df["attendances"].where(df["attendances"] > 0)
    df["within_4hr_pct"] = 100 * (1 - df["breaches"] / att)
    df = df.sort_values(["trust_code", "period", "department_type"])
    return finish(df, MONTHLY, src)
