"""A&E waiting times: the annual 4-hour share by trust, and monthly attendances by provider.

Publisher: NHS England, A&E Attendances and Emergency Admissions (OGL v3). The ICS-era readers
(:func:`read_ae_trust_monthly`, :func:`read_ae_icb_monthly`, :func:`read_ae_type3_attribution`)
read the healthyr package's R compilations of NHS England's monthly 'Provider Level Data' and
'System Level Data' workbooks (April 2021 - July 2025) and of its 2022/23 type-3 attribution.
"""

from __future__ import annotations

import re
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
    fy_start,
    integers_in,
    month_periods,
    numbers,
    over_limit,
    read_csv_text,
    read_rda,
    read_rda_table,
    source,
    whole_counts,
)

#: Bounds of one provider's monthly A&E counts: the largest trust sees about 47,000 attendances
#: a month; a million is impossible, over 100,000 unusual.
_PROVIDER_MONTH = {"bounds": (0, 1_000_000), "typical": (0, 100_000)}
#: The same for an ICB (largest about 150,000 a month).
_ICB_MONTH = {"bounds": (0, 10_000_000), "typical": (0, 500_000)}

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
            "The compilation's AE_SCORE x 100 ('A&E waiting time target met', published to 2 d.p. "
            "as a fraction). Not NHS England's all-department-types share from the monthly counts: "
            "it equals that share for under half of trust-years 2016/17-2018/19 and is lower for "
            "almost all the rest (icsresearch.indicators.AE_COMPILED_FINDING); the panels call it "
            "ae_4hr_pct_compiled.",
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
    share = numbers(raw["AE_SCORE"], src, "AE_SCORE", fraction=True)
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
        Column(
            "attendances",
            "Attendances",
            "count",
            "A&E attendances in the month.",
            **_PROVIDER_MONTH,
        ),
        Column(
            "breaches",
            "4-hour breaches",
            "count",
            "Attendances that spent more than 4 hours from arrival to admission, transfer or discharge.",
            **_PROVIDER_MONTH,
        ),
        Column(
            "admissions",
            "Emergency admissions via A&E",
            "count",
            "Emergency admissions through this department type.",
            **_PROVIDER_MONTH,
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


# --- ICS era: healthyr's monthly compilations of NHS England's A&E workbooks (2021-2025) --------

#: The 14 trusts that field-tested the clinical review of A&E standards and did not report
#: 4-hour performance from May 2019 until May 2023 (their attendances over 4 hours are missing).
FIELD_TEST_TRUSTS = (
    "R0D",
    "RC9",
    "RDU",
    "RFR",
    "RGR",
    "RGT",
    "RHU",
    "RK9",
    "RNQ",
    "RQM",
    "RVW",
    "RX1",
    "RXF",
    "RYJ",
)
#: The ICBs (2022 ONS codes) of those trusts. Until May 2023 NHS England's ICB rows count the
#: field-test trusts' attendances but not their attendances over 4 hours.
FIELD_TEST_ICBS = (
    "E54000023",  # Suffolk and North East Essex: RGR
    "E54000024",  # Bedfordshire, Luton and Milton Keynes: RC9
    "E54000027",  # North West London: RQM, RYJ
    "E54000034",  # Frimley: RDU
    "E54000037",  # Devon: RK9
    "E54000041",  # Dorset: R0D
    "E54000042",  # Hampshire and Isle of Wight: RHU
    "E54000050",  # North East and North Cumbria: RVW
    "E54000054",  # West Yorkshire: RXF
    "E54000056",  # Cambridgeshire and Peterborough: RGT
    "E54000059",  # Northamptonshire: RNQ
    "E54000060",  # Nottingham and Nottinghamshire: RX1
    "E54000061",  # South Yorkshire: RFR
)
#: Last month without 4-hour reporting by the field-test sites.
FIELD_TEST_LAST_MONTH = pd.Timestamp("2023-05-01")

_ICB_ONS = re.compile(r"^E54\d{6}$")
_AE_COUNTS = {
    "total_attendances": "attendances",
    "attendances_over_4hours": "over_4hr",
    "total_emergency_admissions": "emergency_admissions",
    "emergency_admissions_over_4hours": "admissions_over_4hr_from_decision",
}

_MONTH_LABEL = Column(
    "month_label", "Month as published", "", "The compilation's month text, e.g. 'April 2021'."
)
_PERIOD = Column("period", "Month", "date", "First day of the calendar month reported.")
_YEAR_FY = Column(
    "year",
    "Financial year",
    "FY start",
    "Financial year start of the month (April-March; 2022 = 2022/23).",
)
_MONTHLY_CONVENTION = (
    "Calendar months, published as text ('April 2021') and parsed to `period` (first day of the "
    "month); `year` is the financial-year start of the month. " + YEAR_CONVENTION
)
_REPEATS_NOTE = (
    "February and March 2025 repeat February and March 2024 exactly (every unit, every count): "
    "the compilation read the 2024 workbooks again. The 2024 months are genuine (the units "
    "present match 2024, e.g. North Middlesex RAP, which stops after December 2024, 'reappears' "
    "only in the copied months), so the reader keeps the February/March 2025 rows but sets their "
    "counts to missing, and lists them in attrs['completeness']['repeated_months']."
)


def _ae_columns(
    unit: Column, attendances_note: str, over_note: str, limits: dict
) -> tuple[Column, ...]:
    return (
        unit,
        _PERIOD,
        _YEAR_FY,
        Column(
            "attendances",
            "A&E attendances",
            "count",
            "Total attendances in the month at all A&E department types (type 1 major "
            "emergency departments, type 2 single-specialty, type 3/4 other A&E, minor injury "
            "units and urgent treatment centres), NHS England's 'Total attendances' "
            "(total_attendances). " + attendances_note,
            **limits,
        ),
        Column(
            "over_4hr",
            "Attendances over 4 hours",
            "count",
            "Attendances, all department types, that spent more than 4 hours from arrival to "
            "admission, transfer or discharge (attendances_over_4hours). " + over_note,
            **limits,
        ),
        Column(
            "within_4hr_pct",
            "Seen within 4 hours",
            "%",
            "100 x (1 - over_4hr / attendances), all department types, computed from the counts "
            "(the compilation's pct_attendance_over_4hours is rounded to 2 decimals of a "
            "fraction and is not used; it agrees with the counts to that rounding). Missing "
            "where over_4hr is missing or there were no attendances.",
        ),
        Column(
            "emergency_admissions",
            "Emergency admissions",
            "count",
            "Total emergency admissions in the month (total_emergency_admissions): admissions "
            "via A&E of any type plus other emergency admissions not via A&E (trusts without an "
            "A&E, e.g. The Christie RBV, report admissions but no attendances).",
            **limits,
        ),
        Column(
            "admissions_over_4hr_from_decision",
            "Waits over 4 hours from decision to admit",
            "count",
            "Patients admitted via A&E who waited more than 4 hours from the decision to admit "
            "to admission ('trolley waits'; NHS England 'Number of patients spending >4 hours "
            "from decision to admit to admission', emergency_admissions_over_4hours). Its "
            "denominator is admissions via A&E, which the file does not give: the compilation's "
            "pct_emergency_admissions_over_4hours divides by all emergency_admissions and so "
            "understates the share; it is not used.",
            **limits,
        ),
        _MONTH_LABEL,
    )


AE_TRUST = Schema(
    dataset="ae_trust_monthly",
    columns=_ae_columns(
        Column(
            "trust_code",
            "Trust",
            "ODS code",
            "NHS trust ODS code (nhs_trust22_code): NHS England's provider rows restricted by "
            "the compilation to the trusts of 2022 (independent and other non-NHS providers "
            "are left out).",
        ),
        "Trust-months with no A&E (458: specialist and community trusts such as RAN, RBQ, RBV, "
        "RET, RL1) have 0 attendances.",
        "Missing (not reported) for the 14 trusts field-testing new A&E standards "
        f"({', '.join(FIELD_TEST_TRUSTS)}) until May 2023.",
        _PROVIDER_MONTH,
    ),
    year_convention=_MONTHLY_CONVENTION,
    notes=(
        "April 2021 - July 2025, 52 months, 157 trusts, 149-155 a month (7,895 rows). "
        "NHS England 'Provider Level Data' workbooks as compiled by healthyr. Attendances over "
        "4 hours are missing for 354 trust-months (4.5%): the 14 field-test trusts "
        f"({', '.join(FIELD_TEST_TRUSTS)}) did not report 4-hour performance from May 2019 to "
        "May 2023 (12 of them April 2021 - May 2023, R0D and RK9 September 2021 - May 2023, "
        "being absent before). Trusts absent in some months: R0D, RA7 and RK9 April - August "
        "2021 and RA9 May - July 2021 (all South West, the last rows of the workbook: the "
        "compilation read a fixed cell range, which probably cut them off); RNU August - "
        "September 2022, RWX August 2022 and RYG August 2022 - March 2023 (the August 2022 "
        "cyber-attack on a supplier); trusts that merged stop (RTV after May 2021, RW6 after "
        "September 2021, RBZ after March 2022, RVY after June 2023, RY9 after October 2023, RAP "
        "after December 2024); RA4 appears only April 2022 - March 2023, RAT is absent March - "
        "December 2024 and RET in January and September 2024. healthyr set one "
        "decision-to-admit count to missing (RTQ July 2021: 29 waits > 4 hours against 9 "
        "emergency admissions). " + _REPEATS_NOTE + " Against the "
        "May 2022 cross-section of the TamTobiRalph fork (registry 'ae_2022'), attendances equal "
        "'No. Attendance Total' for 149 of 152 trusts and admissions_over_4hr_from_decision "
        "equals 'No. patients >= 4h from decision to admit to admission' for 148 of 152."
    ),
    key=("trust_code", "period"),
)

AE_ICB = Schema(
    dataset="ae_icb_monthly",
    columns=_ae_columns(
        Column(
            "icb_ons_code",
            "ICB",
            "ONS E54 code",
            "Integrated care board, 2022 ONS code (icb22_code), 42 boards. The figures are "
            "those of the providers NHS England assigns to the board ('System Level Data'), "
            "not of the board's residents; they include non-NHS providers.",
        ),
        "Includes independent-sector and other non-NHS providers (5.2-6.4% of England's "
        "attendances), which the trust file leaves out.",
        "Set to missing for the 13 boards of the field-test trusts until May 2023: NHS "
        "England's board rows then counted those trusts' attendances but not their attendances "
        "over 4 hours (e.g. Frimley E54000034 shows 0 over 4 hours April - September 2022).",
        _ICB_MONTH,
    ),
    year_convention=_MONTHLY_CONVENTION,
    notes=(
        "April 2022 - July 2025, 40 months x 42 ICBs (1,680 rows, none absent). Codes are the "
        "July 2022 ONS codes throughout: Surrey Heartlands and Sussex stay E54000052 and "
        "E54000053 after ONS recoded them E54000063/E54000064 (2023 boundary change; healthyr "
        "mapped NHS England's Q-codes through the 2022 lookup); E54000063/64 never appear. "
        "Against the trust file, England's monthly sums of emergency_admissions and "
        "admissions_over_4hr_from_decision agree to within 0.12%, while the trust file has "
        "5.2-6.4% fewer attendances (non-NHS providers) and 0.2-1.5% fewer over_4hr. In May "
        "2022 the admissions of 26 of the 42 boards equal exactly the sum of the NHS trusts "
        "whose largest catchment share (trust_icb_catchment) lies in the board, the rest "
        "differing by trusts that serve several boards: figures are by provider, not by "
        "commissioner or residence. Field-test boards: until May 2023 the over-4-hour counts of "
        f"{', '.join(FIELD_TEST_ICBS)} leave out their field-test trusts while attendances "
        "include them, so the published share within 4 hours is too high (Frimley 100% in "
        "April - September 2022); the 13 boards are exactly those whose share over 4 hours "
        "jumps in June 2023 (+2 to +33 points, all other boards -4 to +2). The reader sets "
        "their over_4hr (and within_4hr_pct) to missing for April 2022 - May 2023 (182 rows). "
        + _REPEATS_NOTE
    ),
    key=("icb_ons_code", "period"),
)


def read_ae_trust_monthly(path: str | Path | None = None) -> pd.DataFrame:
    """Monthly A&E attendances, 4-hour waits and emergency admissions by NHS trust, 2021-2025.

    Parameters
    ----------
    path
        An ``.rda`` file holding an ``england_trust_accidents_emergency`` table in the healthyr
        layout (skips the registry hash check); by default the registry copy.

    Returns
    -------
    pandas.DataFrame
        One row per trust and month: trust_code, period, year, attendances, over_4hr,
        within_4hr_pct, emergency_admissions, admissions_over_4hr_from_decision, month_label.
        ``attrs["completeness"]`` reports the months present and the share of counts missing.

    Raises
    ------
    DataFileError
        For an unreadable or truncated file, a wrong R object, missing columns, month labels
        that are not 'Month YYYY', counts that are negative, fractional or not numbers, more
        attendances over 4 hours than attendances, more waits from decision to admit than
        emergency admissions, or a trust repeated within a month.

    Examples
    --------
    >>> from icsresearch.sources.ae import read_ae_trust_monthly
    >>> ae = read_ae_trust_monthly()  # doctest: +SKIP
    >>> ae.query("trust_code == 'RA2'").set_index("period").within_4hr_pct  # doctest: +SKIP
    """
    src = source(AE_TRUST.dataset, path)
    raw = read_rda_table(
        src, "england_trust_accidents_emergency", ["nhs_trust22_code", *_AE_COUNTS, "date"]
    )
    df = _ae_frame(raw, src, codes(raw["nhs_trust22_code"], src, "nhs_trust22_code"), "trust_code")
    df, repeats = blank_repeated_months(df, "trust_code", list(_AE_COUNTS.values()))
    df = _with_within_4hr(df).sort_values(["trust_code", "period"], kind="stable")
    coverage = completeness(
        df, counts=["attendances", "over_4hr"], period="period", units="trust_code"
    )
    coverage["repeated_months"] = repeats
    return finish(df, AE_TRUST, src, coverage=coverage)


def read_ae_icb_monthly(path: str | Path | None = None) -> pd.DataFrame:
    """Monthly A&E attendances, 4-hour waits and emergency admissions by ICB, 2022-2025.

    Parameters
    ----------
    path
        An ``.rda`` file holding an ``england_icb_accidents_emergency`` table in the healthyr
        layout (skips the registry hash check); by default the registry copy.

    Returns
    -------
    pandas.DataFrame
        One row per ICB and month: icb_ons_code, period, year, attendances, over_4hr,
        within_4hr_pct, emergency_admissions, admissions_over_4hr_from_decision, month_label.
        The over-4-hour counts of the field-test boards are missing until May 2023 (see the
        schema notes); ``attrs["completeness"]`` counts them.

    Raises
    ------
    DataFileError
        As :func:`read_ae_trust_monthly`, and for codes that are not ONS ICB codes (E54...).

    Examples
    --------
    >>> from icsresearch.sources.ae import read_ae_icb_monthly
    >>> icb = read_ae_icb_monthly()  # doctest: +SKIP
    >>> icb.groupby("year")[["attendances", "over_4hr"]].sum()  # doctest: +SKIP
    """
    src = source(AE_ICB.dataset, path)
    raw = read_rda_table(
        src, "england_icb_accidents_emergency", ["icb22_code", *_AE_COUNTS, "date"]
    )
    icb = codes(raw["icb22_code"], src, "icb22_code", pattern=_ICB_ONS)
    df = _ae_frame(raw, src, icb, "icb_ons_code")
    field_test = df["icb_ons_code"].isin(FIELD_TEST_ICBS) & (df["period"] <= FIELD_TEST_LAST_MONTH)
    df.loc[field_test, "over_4hr"] = np.nan
    df, repeats = blank_repeated_months(df, "icb_ons_code", list(_AE_COUNTS.values()))
    df = _with_within_4hr(df).sort_values(["icb_ons_code", "period"], kind="stable")
    coverage = completeness(
        df, counts=["attendances", "over_4hr"], period="period", units="icb_ons_code"
    )
    coverage["repeated_months"] = repeats
    coverage["over_4hr_missing_field_test"] = int(field_test.sum())
    return finish(df, AE_ICB, src, coverage=coverage)


def _ae_frame(raw: pd.DataFrame, src, unit: pd.Series, unit_name: str) -> pd.DataFrame:
    """The counts of a healthyr A&E table, checked, under their tidy names."""
    period, label = month_periods(raw["date"], src, "date")
    df = pd.DataFrame({unit_name: unit, "period": period, "month_label": label})
    for published, name in _AE_COUNTS.items():
        df[name] = whole_counts(raw[published], src, published)
    over_limit(
        src,
        df,
        "over_4hr",
        "attendances",
        "attendances over 4 hours exceed the attendances",
        "attendances_over_4hours is part of total_attendances; check the columns are not swapped.",
    )
    over_limit(
        src,
        df,
        "admissions_over_4hr_from_decision",
        "emergency_admissions",
        "waits of more than 4 hours from decision to admit exceed the emergency admissions",
        "emergency_admissions_over_4hours counts admitted patients, so it cannot exceed "
        "total_emergency_admissions; set a value known to be wrong to NA.",
    )
    df["year"] = fy_start(df["period"])
    return df


def _with_within_4hr(df: pd.DataFrame) -> pd.DataFrame:
    attendances = df["attendances"].where(df["attendances"] > 0)
    df["within_4hr_pct"] = 100 * (1 - df["over_4hr"] / attendances)
    return df


ATTRIBUTION = Schema(
    dataset="ae_type3_attribution",
    columns=(
        Column(
            "trust_code",
            "A&E provider",
            "ODS code",
            "ODS code of the organisation reporting the A&E activity "
            "(nhs_trust22_code_all): an acute trust (mapped to itself), a community or mental "
            "health trust, or a non-NHS provider or GP practice running a type 3 unit (minor "
            "injury unit, urgent treatment centre, walk-in centre), e.g. RY4, Y02428, NNJ0H.",
        ),
        Column(
            "acute_trust_code",
            "Acute trust",
            "ODS code",
            "Acute trust the activity is attributed to (nhs_trust22_code_acute).",
        ),
        Column(
            "share",
            "Share attributed",
            "0-1",
            "Fraction of the provider's A&E attendances attributed to the acute trust "
            "(proportion_attendances_attributed_to_acute_trust); the shares of one provider "
            "sum to 1.",
        ),
    ),
    year_convention="No time column: NHS England's attribution for 2022/23 performance, trust "
    "codes as at 2022.",
    notes=(
        "NHS England's 'acute trust attribution' workbook (A&E Attendances and Emergency "
        "Admissions 2022-23, sheet 'Attribution'), used to report each acute trust's 4-hour "
        "performance including the type 3 activity of nearby units run by other organisations "
        "(to apportion attendances and attendances over 4 hours, multiply by share and sum by "
        "acute_trust_code). 215 rows: 197 providers attributed to 124 acute trusts; each acute "
        "trust maps to itself with share 1; 14 providers are split between 2 or 3 acute trusts "
        "(e.g. RW4 Mersey Care: REM 0.38, RBS 0.38, RBN 0.24); every provider's shares sum to 1 "
        "exactly. 15 trusts of ae_trust_monthly are not listed (RA4, RAN, RBQ, RBV, RBZ, RDY, "
        "RET, RJ8, RL1, RTV, RVY, RW6, RXG, RY9, RYG): most have no attendances or closed "
        "before 2022/23."
    ),
    key=("trust_code", "acute_trust_code"),
)


def read_ae_type3_attribution(path: str | Path | None = None) -> pd.DataFrame:
    """NHS England's attribution of A&E providers' attendances to acute trusts (2022/23).

    Parameters
    ----------
    path
        An ``.rda`` file holding an ``england_ae_acute_trust_attribution`` table in the healthyr
        layout (skips the registry hash check); by default the registry copy.

    Returns
    -------
    pandas.DataFrame
        One row per provider and acute trust: trust_code, acute_trust_code, share (0-1).

    Raises
    ------
    DataFileError
        For a missing or non-numeric share, a share outside 0-1 (e.g. a percentage), a
        provider whose shares do not sum to 1, or a repeated provider/acute-trust pair.

    Examples
    --------
    >>> from icsresearch.sources.ae import read_ae_trust_monthly, read_ae_type3_attribution
    >>> shares = read_ae_type3_attribution()  # doctest: +SKIP
    >>> ae = read_ae_trust_monthly().merge(shares, on="trust_code")  # doctest: +SKIP
    >>> ae.assign(att=ae.attendances * ae.share).groupby(["acute_trust_code", "period"]).att.sum()  # doctest: +SKIP
    """
    src = source(ATTRIBUTION.dataset, path)
    published = "proportion_attendances_attributed_to_acute_trust"
    raw = read_rda_table(
        src,
        "england_ae_acute_trust_attribution",
        ["nhs_trust22_code_all", "nhs_trust22_code_acute", published],
    )
    share = numbers(raw[published], src, published)
    bad = share.isna() | (share < 0) | (share > 1)
    if bad.any():
        raise DataFileError(
            src.path,
            f"column {published!r} has {int(bad.sum())} value(s) that are missing or outside "
            f"0-1 ({flagged_rows(raw[published], bad)})",
            "Each value is the fraction (0-1) of a provider's attendances attributed to an acute "
            "trust; if your file gives percentages, divide by 100.",
        )
    df = pd.DataFrame(
        {
            "trust_code": codes(raw["nhs_trust22_code_all"], src, "nhs_trust22_code_all"),
            "acute_trust_code": codes(raw["nhs_trust22_code_acute"], src, "nhs_trust22_code_acute"),
            "share": share,
        }
    )
    total = df.groupby("trust_code")["share"].sum()
    off = total[(total - 1).abs() > 0.001]
    if len(off):
        shown = ", ".join(f"{code}: {value:.4g}" for code, value in off.head(5).items())
        raise DataFileError(
            src.path,
            f"the shares of {len(off)} provider(s) do not sum to 1 ({shown})",
            "Every provider's attendances are attributed in full: its shares across acute "
            "trusts must add up to 1. Check for a missing or duplicated row.",
        )
    df = df.sort_values(["trust_code", "acute_trust_code"], kind="stable")
    coverage = completeness(df, counts=["share"], units="trust_code")
    return finish(df, ATTRIBUTION, src, coverage=coverage)
