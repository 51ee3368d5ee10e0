"""Hospital discharge: patients no longer meeting the criteria to reside, discharges, delay reasons.

Publisher: NHS England, Acute discharge situation report (SitRep) / Discharge Delays (Acute)
(OGL v3), as compiled into R data by the healthyr package (humaniverse). The daily trust and ICB
series come from Table 2 of the monthly SitRep workbooks (April 2022 - May 2023 in their first,
unrevised release with the by-17:00 split; later months in the three-column layout); the delay
reasons come from the monthly "Daily discharge sitrep" CSV webfiles of June 2024 - May 2025.

Checked against the genuine SitRep workbooks of April 2022 - January 2024
(``Intermediate-care-open-data-clean``): the trust and ICB counts of patients not meeting the
criteria to reside and the discharges match Table 2 except where the compilation shows a
non-submission as 0, where NHS England later revised a figure, and (20 June 2022 - May 2023) where
the first release still counted discharges to a hospice. Each reader's ``notes`` give the numbers.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..data.registry import get as registry_get
from ..errors import DataFileError
from ._base import (
    YEAR_CONVENTION,
    Column,
    Schema,
    codes,
    completeness,
    finish,
    fy_start,
    numbers,
    read_rda,
    show,
    source,
)

#: The acute discharge SitRep began on 8 April 2020: no return can be dated earlier.
_SITREP_START = pd.Timestamp("2020-04-01")
#: From June 2023 NHS England dropped the by-17:00 split and shows a non-submission as '-'
#: (missing here); before it the compilation shows a non-submission as 0.
_LAYOUT_CHANGE = pd.Timestamp("2023-06-01")
#: Days without any collection: "Data was not submitted on 19/06/22 as reporting changes took
#: place" (NHS England, national time series). The compilation shows 0 for every trust and ICB.
_NO_COLLECTION = (pd.Timestamp("2022-06-19"),)
#: Two published values that healthyr judged data-entry errors (1,629 and 1,655 patients, about
#: ten times the days around them) and replaced with the previous day's value.
_HEALTHYR_FILLS = (("RH8", pd.Timestamp("2022-05-22")), ("RXQ", pd.Timestamp("2022-06-15")))

_ZEROS_NOTE = (
    "Zeros before June 2023 are mostly non-submissions, not zero patients: the compilation read "
    "the first release of each monthly workbook, where a trust that did not submit shows 0. "
    "Against the revised workbooks, of the 939 trust-days (April 2022 - May 2023, 19 June 2022 "
    "left out) with 0 patients not meeting the criteria to reside, 636 are '-' (not submitted), "
    "241 were submitted late (a positive revised figure) and 62 are 0 there too; 30 more are "
    "Yeovil (RA4) in April 2023, after its merger into Somerset FT. A trust-day with 0 not meeting "
    "the criteria (and 0 discharges) before June 2023 is therefore best treated as missing; the "
    "reader keeps the published 0 and counts such rows in attrs['completeness']. From June 2023 "
    "non-submissions are missing (NaN); the 255 zeros left are returns of 0 (the 15 up to "
    "January 2024 are 0 in the workbooks too). 19 June 2022 had "
    "no collection at all: its zeros are set to missing."
)

_TRUST_CODE = Column(
    "trust_code",
    "Trust",
    "ODS code",
    "Acute trust ODS code (nhs_trust22_code): the 121 type-1 acute trusts in the SitRep in April "
    "2022. Trusts that merged stop, with no successor code added: Yeovil (RA4) after 2023-04-30, "
    "Southport and Ormskirk (RVY) after 2023-06-30, North Middlesex (RAP) after 2024-12-31.",
)
_DATE = Column("date", "Day", "date", "Calendar day of the daily SitRep return.")
_YEAR = Column(
    "year", "Financial year", "FY start", "Financial year start of the day (2022 = 2022/23)."
)
_DAILY_CONVENTION = (
    "Daily returns; `date` is the day reported and `year` its financial-year start (April-March). "
    + YEAR_CONVENTION
)

CTR_TRUST = Schema(
    dataset="criteria_to_reside_trust",
    columns=(
        _TRUST_CODE,
        _DATE,
        _YEAR,
        Column(
            "not_meeting_criteria",
            "Patients not meeting the criteria to reside",
            "count",
            "Adult inpatients of the trust who no longer met the criteria to reside (were "
            "medically fit to leave) on the day, discharged or not (SitRep Table 2, 'Number of "
            "patients who no longer meet the criteria to reside'), as published. Missing for a "
            "non-submission from June 2023, on 19 June 2022 (no collection) and on the two days "
            "healthyr filled (RH8 2022-05-22, RXQ 2022-06-15). Before June 2023 a non-submission "
            "shows as 0: see notes.",
            bounds=(0, 100_000),
            typical=(0, 5_000),
        ),
    ),
    year_convention=_DAILY_CONVENTION,
    notes=(
        "April 2022 - August 2025, every day present. " + _ZEROS_NOTE + " healthyr replaced two "
        "published values it judged data-entry errors (RH8 2022-05-22: 1,629; RXQ 2022-06-15: "
        "1,655) with the previous day's value; the reader sets them back to missing rather than "
        "keep a carried-forward number. The file ends with 243 rows (2025-01-01 - 2025-08-31) "
        "that have neither a trust code nor a value (an artefact of the compilation after the "
        "North Middlesex merger): they are dropped. 33 more trust-days (April 2022 - May 2023) "
        "differ from a later NHS England revision and are kept as first published."
    ),
    key=("trust_code", "date"),
)

DISCHARGES_TRUST = Schema(
    dataset="discharges_trust_daily",
    columns=(
        _TRUST_CODE,
        _DATE,
        _YEAR,
        Column(
            "discharged_by_1700",
            "Discharged by 17:00",
            "count",
            "Patients no longer meeting the criteria to reside who were discharged by 17:00 that "
            "day. Published only to May 2023: missing from June 2023, when NHS England stopped "
            "the split.",
            bounds=(0, 100_000),
            typical=(0, 5_000),
        ),
        Column(
            "discharged_1701_2359",
            "Discharged 17:01-23:59",
            "count",
            "Patients no longer meeting the criteria to reside who were discharged between 17:01 "
            "and 23:59 that day (discharged_between_1701_2359). Published only to May 2023.",
            bounds=(0, 100_000),
            typical=(0, 5_000),
        ),
        Column(
            "discharged_total",
            "Discharged",
            "count",
            "Patients who no longer met the criteria to reside and were discharged that day "
            "(SitRep Table 2, 'Number of patients discharged'; the remaining count is "
            "not_meeting_criteria - discharged_total). To May 2023 the compilation's sum of the "
            "two parts; from June 2023 the published total. Trust figures exclude discharges to "
            "a hospice (disclosure control) except 20 June 2022 - May 2023: see notes. Missing "
            "for a non-submission from June 2023.",
            bounds=(0, 100_000),
            typical=(0, 5_000),
        ),
    ),
    year_convention=_DAILY_CONVENTION,
    notes=(
        "April 2022 - August 2025. discharged_total equals discharged_by_1700 + "
        "discharged_1701_2359 on all 51,515 trust-days that have the parts (April 2022 - May "
        "2023); the reader refuses a file where the parts exceed the total. Against the revised "
        "SitRep workbooks the totals match exactly for April - 19 June 2022 and June 2023 - "
        "January 2024; from 20 June 2022 to May 2023 they are 1-3 higher on 3,543 trust-days and "
        "their national sum equals the published England total including hospice discharges, "
        "which the revised trust figures leave out. " + _ZEROS_NOTE + " A total of 0 on a day "
        "with patients not meeting the criteria is a genuine zero: all 266 such trust-days before "
        "June 2023 are 0 in the revised workbooks too. From mid-June 2024 a total occasionally "
        "exceeds the same day's not_meeting_criteria (51 trust-days, 14 June 2024 - 15 August "
        "2025, 12 of them RGN), which the SitRep definition does not allow: kept as "
        "published. The file ends with 243 rows without a trust code or value (2025): they "
        "are dropped."
    ),
    key=("trust_code", "date"),
)

CTR_ICB = Schema(
    dataset="criteria_to_reside_icb",
    columns=(
        Column(
            "icb_ons_code",
            "ICB",
            "ONS code",
            "Integrated care board, 2022 ONS code (E54...; icb22_code), 42 boards.",
        ),
        _DATE,
        _YEAR,
        Column(
            "not_meeting_criteria",
            "Patients not meeting the criteria to reside",
            "count",
            "Patients in the board's acute trusts who no longer met the criteria to reside on the "
            "day (SitRep Table 2, ICB rows), as published. Sum of the trusts NHS England assigns "
            "to the board, not of the trusts whose headquarters lie in it: see notes. A board "
            "whose trusts did not submit shows 0, never missing; 19 June 2022 (no collection) is "
            "set to missing.",
            bounds=(0, 100_000),
            typical=(0, 5_000),
        ),
    ),
    year_convention=_DAILY_CONVENTION,
    notes=(
        "April 2022 - August 2025. Cambridgeshire and Peterborough (E54000056) is absent from "
        "1 September 2023 (731 board-days): the compilation read one row too few, although the "
        "workbooks still list it. Against the trusts of criteria_to_reside_trust mapped to the "
        "ICB of their headquarters, 50,044 of 51,727 board-days are equal. From 1 June 2023 "
        "Harrogate (RCD, headquarters in Humber and North Yorkshire E54000051) is counted in "
        "West Yorkshire (E54000054): the two boards differ from the headquarters sums by "
        "exactly RCD's figure on all 823 days. 35 board-days (Lincolnshire, Mid and South Essex, "
        "Frimley; 2024-2025) show 0 where every trust of the board is missing, i.e. did not "
        "submit. Two board-days keep the trust outliers that healthyr removed from the trust "
        "file: Devon (E54000037) 1,867 on 2022-05-22 and Buckinghamshire, Oxfordshire and "
        "Berkshire West (E54000044) 2,072 on 2022-06-15. Zeros before June 2023 are mostly "
        "non-submissions, as for the trusts."
    ),
    key=("icb_ons_code", "date"),
)

#: The five categories that prefix the 37 delay reasons of the 2024 collection.
_REASON_GROUPS = {
    "capacity": "Capacity",
    "care transfer hub process": "Care transfer hub process",
    "hospital process": "Hospital process",
    "interface process": "Interface process",
    "wellbeing concerns": "Wellbeing concerns",
}

DELAY_REASONS = Schema(
    dataset="discharge_delay_reasons",
    columns=(
        Column(
            "trust_code",
            "Trust",
            "ODS code",
            "Acute trust ODS code (Org Code), limited by the compilation to trusts of 2022.",
        ),
        Column(
            "trust_name",
            "Trust name",
            "",
            "Org Name as compiled (title case applied by healthyr, e.g. 'Mid And South Essex NHS "
            "Foundation Trust').",
        ),
        Column("period", "Month", "date", "First day of the calendar month reported."),
        Column(
            "year", "Financial year", "FY start", "Financial year start of the month (April-March)."
        ),
        Column(
            "delay_reason",
            "Reason for the delay",
            "",
            "One of the 37 delay codes of NHS England's 2024 discharge-delay collection, as "
            "published (typography included: see notes), e.g. 'Capacity – Residential/nursing "
            "home care not yet available (Pathway 3)'.",
        ),
        Column(
            "delay_reason_group",
            "Delay reason category",
            "",
            "The category that prefixes the reason: 'Capacity', 'Care transfer hub process', "
            "'Hospital process', 'Interface process' or 'Wellbeing concerns' (read from the "
            "label, so spelling variants of the dash or space fall in the same group); missing "
            "for a label without one of these prefixes.",
        ),
        Column(
            "delay_count",
            "Patients delayed for this reason",
            "patients",
            "People per day who no longer met the criteria to reside, were not discharged and "
            "were recorded with this reason: the month's value of the webfile's 'Delay reason' "
            "metric, a level (patients at a time), not a monthly total of delays or of days. "
            "Consistent with the measure of the 2022 - January 2024 SitRep Table 5 (weekly "
            "snapshot average of people per day with a length of stay of 14 days or more, by "
            "reason): summed over the reasons it is 0.67-0.73 of the month's average daily "
            "number remaining in hospital (not_meeting_criteria - discharged_total) nationally, "
            "as Table 5 was (0.64-0.70), so it is not all patients remaining. Unlike Table 5 "
            "(about half its values fractional, e.g. 58.4) it is published as whole numbers. "
            "Missing where the trust did not report.",
            bounds=(0, 100_000),
            typical=(0, 2_000),
        ),
    ),
    year_convention=(
        "Monthly; `period` is the first day of the month and `year` its financial-year start. "
        + YEAR_CONVENTION
    ),
    notes=(
        "Covers June 2024 - May 2025 only (12 months), not April 2022 - August 2025. 119 trusts "
        "(118 from January 2025, after the North Middlesex merger) x 37 reasons each month; all "
        "37 labels appear in every month with the same wording, so there is no change of "
        "wording over time to reconcile. The labels come from the 2024 collection and are not "
        "comparable with the 18 reasons of the 2022 - January 2024 SitRep Table 5 (e.g. "
        "'Awaiting transport', 'No Plan'); the two periods do not overlap, so the unit is "
        "inferred from scale (see delay_count), not matched value by value. Typography is as published: two labels "
        "use a hyphen instead of the en dash ('Hospital process - Awaiting medical review...', "
        "'Wellbeing concerns - Issues with...'), one has no space before it ('Care transfer hub "
        "process– Awaiting necessary referrals...'), seven start 'Interface' + non-breaking "
        "space, and two have a '?' where a character was lost ('...still underway?(Pathway 1 or "
        "3)', '...no recourse to public funds?'). Group by delay_reason_group for stable "
        "categories. 259 values (7 trust-months) are missing."
    ),
    key=("trust_code", "period", "delay_reason"),
)


# --- shared parsing -------------------------------------------------------------------------


def _r_rows(values: pd.Series) -> pd.Series:
    """Index ``values`` so that numbers()/codes() name R's 1-based row numbers.

    Those helpers report ``index + 2`` (a CSV's header line plus a 1-based row); an R data frame
    has no header line, so its row ``i + 1`` is reported by shifting the index down by one.
    """
    return values.set_axis(values.index - 1)


def _rows(raw: pd.DataFrame, mask: pd.Series, shown: pd.Series, keys: tuple[str, ...]) -> str:
    """'row 5 (RAJ, 2022-04-05): -3.0, ...' for the first five rows flagged in ``mask``."""
    out = []
    for i in raw.index[mask.to_numpy()][:5]:
        key = ", ".join(str(raw.at[i, k]) for k in keys)
        value = shown.at[i]
        value = value.item() if isinstance(value, np.generic) else value
        out.append(f"row {i + 1} ({key}): {show(value)}")
    return "; ".join(out)


def _dates(
    raw: pd.DataFrame,
    src,
    column: str,
    keys: tuple[str, ...],
    *,
    monthly: bool = False,
) -> pd.Series:
    """Parse an R Date (or ISO text) column into Timestamps, refusing non-dates and odd dates."""
    values = raw[column]
    try:
        when = pd.to_datetime(values, errors="coerce", format="ISO8601")
    except (TypeError, ValueError, OverflowError):  # e.g. numbers or mixed objects
        when = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    when = pd.Series(when, index=values.index).astype("datetime64[ns]")
    bad = when.isna()
    if bad.any():
        raise DataFileError(
            src.path,
            f"column {column!r} has {int(bad.sum())} value(s) that are not dates "
            f"({_rows(raw, bad, values, keys)})",
            "Dates are calendar days: an R Date, or text YYYY-MM-DD.",
        )
    partial = when != when.dt.normalize()
    if partial.any():
        raise DataFileError(
            src.path,
            f"column {column!r} has {int(partial.sum())} value(s) with a time of day "
            f"({_rows(raw, partial, values, keys)}); the published layout gives whole days",
            "Give the day only (YYYY-MM-DD).",
        )
    today = pd.Timestamp.today().normalize()
    out = (when < _SITREP_START) | (when > today)
    if out.any():
        raise DataFileError(
            src.path,
            f"column {column!r} has {int(out.sum())} date(s) outside April 2020 (when the acute "
            f"discharge SitRep began) - today ({_rows(raw, out, values, keys)})",
            "Check the dates were not shifted (e.g. day and month swapped, or a two-digit year).",
        )
    if monthly:
        mid = when.dt.day != 1
        if mid.any():
            raise DataFileError(
                src.path,
                f"column {column!r} has {int(mid.sum())} date(s) that are not the first day of a "
                f"month ({_rows(raw, mid, values, keys)}); each value covers a calendar month",
                "Date each month by its first day (YYYY-MM-01).",
            )
    return when


def _counts(
    raw: pd.DataFrame,
    src,
    column: str,
    keys: tuple[str, ...],
    *,
    whole: bool = True,
) -> pd.Series:
    """Parse a count column: missing stays missing; negative (or fractional) counts are refused."""
    num = numbers(_r_rows(raw[column]), src, column).set_axis(raw.index)
    negative = num < 0
    if negative.any():
        raise DataFileError(
            src.path,
            f"column {column!r} has {int(negative.sum())} negative value(s) "
            f"({_rows(raw, negative, num, keys)})",
            "These are counts of patients: 0 or more, or missing (NA) when not reported.",
        )
    if whole:
        known = num.dropna()
        fraction = (known != np.floor(known)).reindex(num.index, fill_value=False)
        if fraction.any():
            raise DataFileError(
                src.path,
                f"column {column!r} has {int(fraction.sum())} value(s) that are not whole numbers "
                f"({_rows(raw, fraction, num, keys)}); it counts patients on one day",
                "Check the column holds the daily count, not an average or a rate.",
            )
    return num


def _without_placeholders(
    raw: pd.DataFrame, code: str, values: list[str]
) -> tuple[pd.DataFrame, int]:
    """Drop rows with neither a code nor any value (compilation artefacts); count them.

    The index becomes the R row number - 1 (pyreadr may index by the R row names), which is
    what the error messages count from.
    """
    raw = raw.reset_index(drop=True)
    text = raw[code].astype("string").str.strip()
    empty = (text.isna() | (text == "")) & raw[values].isna().all(axis=1)
    return raw.loc[~empty.to_numpy()], int(empty.sum())


def _no_collection_to_missing(df: pd.DataFrame, when: str, columns: list[str]) -> int:
    """Zeros on days without any collection become missing; returns the rows changed."""
    day = df[when].isin(_NO_COLLECTION)
    changed = pd.Series(False, index=df.index)
    for c in columns:
        zero = day & (df[c] == 0)
        df.loc[zero, c] = np.nan
        changed |= zero
    return int(changed.sum())


def _zero_counts(df: pd.DataFrame, column: str) -> dict[str, int]:
    zero = df[column] == 0
    return {
        "zero_values": int(zero.sum()),
        "zero_values_before_june_2023": int((zero & (df["date"] < _LAYOUT_CHANGE)).sum()),
    }


def _trust_daily(
    src, object_name: str, values: dict[str, str]
) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """Read a daily trust file: codes, dates and counts checked; returns (df, raw, dropped)."""
    required = ["nhs_trust22_code", "date", *values]
    raw = read_rda(src, object_name, required=required)
    raw, dropped = _without_placeholders(raw, "nhs_trust22_code", list(values))
    if raw.empty:
        raise DataFileError(
            src.path,
            f"R object {object_name!r} has no rows with a trust code",
            f"Is this the right file? Expected the published {registry_get(src.name).filename!r}.",
        )
    keys = ("nhs_trust22_code", "date")
    df = pd.DataFrame(
        {
            "trust_code": codes(_r_rows(raw["nhs_trust22_code"]), src, "nhs_trust22_code").set_axis(
                raw.index
            ),
            "date": _dates(raw, src, "date", keys),
        }
    )
    for published, name in values.items():
        df[name] = _counts(raw, src, published, keys)
    df["year"] = fy_start(df["date"])
    return df, raw, dropped


# --- readers --------------------------------------------------------------------------------


def read_criteria_to_reside_trust(path: str | Path | None = None) -> pd.DataFrame:
    """Daily number of patients who no longer meet the criteria to reside, by acute trust.

    Parameters
    ----------
    path
        An ``.rda`` file holding an ``england_trust_criteria_to_reside`` table in the healthyr
        layout (skips the registry hash check); by default the registry copy.

    Returns
    -------
    pandas.DataFrame
        One row per trust and day: ``trust_code``, ``date``, ``year``, ``not_meeting_criteria``.
        ``attrs["completeness"]`` reports the days covered, the share missing, and how many
        zeros fall before June 2023 (mostly non-submissions: see the schema notes).

    Raises
    ------
    DataFileError
        If the file is empty, truncated or holds another object; a column is missing; a code is
        not an ODS code; a date is not a date or lies outside April 2020 - today; a count is
        negative or fractional; or a trust-day appears twice.

    Examples
    --------
    >>> from icsresearch.sources.discharge import read_criteria_to_reside_trust
    >>> ctr = read_criteria_to_reside_trust()  # doctest: +SKIP
    >>> ctr.query("trust_code == 'RAJ'").set_index("date").not_meeting_criteria.head()  # doctest: +SKIP
    """
    src = source(CTR_TRUST.dataset, path)
    df, _, dropped = _trust_daily(
        src,
        "england_trust_criteria_to_reside",
        {"do_not_meet_criteria_to_reside": "not_meeting_criteria"},
    )
    df = df.sort_values(["trust_code", "date"], kind="stable").reset_index(drop=True)
    col = "not_meeting_criteria"
    unfilled = 0
    for code, day in _HEALTHYR_FILLS:
        trust = df["trust_code"] == code
        here = trust & (df["date"] == day)
        before = trust & (df["date"] == day - pd.Timedelta(days=1))
        if here.sum() == 1 and before.sum() == 1:
            value, previous = df.loc[here, col].iloc[0], df.loc[before, col].iloc[0]
            if pd.notna(value) and value == previous:  # healthyr's carried-forward value
                df.loc[here, col] = np.nan
                unfilled += 1
    no_collection = _no_collection_to_missing(df, "date", [col])
    coverage = completeness(df, counts=[col], period="date", freq="D", units="trust_code")
    coverage.update(
        _zero_counts(df, col),
        placeholder_rows_dropped=dropped,
        no_collection_days_set_missing=no_collection,
        healthyr_fills_set_missing=unfilled,
    )
    return finish(df, CTR_TRUST, src, coverage=coverage)


def read_discharges_trust(path: str | Path | None = None) -> pd.DataFrame:
    """Daily discharges of patients no longer meeting the criteria to reside, by acute trust.

    Parameters
    ----------
    path
        An ``.rda`` file holding an ``england_trust_discharged_patients`` table in the healthyr
        layout (skips the registry hash check); by default the registry copy.

    Returns
    -------
    pandas.DataFrame
        One row per trust and day: ``trust_code``, ``date``, ``year``, ``discharged_by_1700``,
        ``discharged_1701_2359`` (both only to May 2023) and ``discharged_total``.
        ``attrs["completeness"]`` also counts the rows whose parts sum to the total.

    Raises
    ------
    DataFileError
        As :func:`read_criteria_to_reside_trust`, and if the discharges by 17:00 and after 17:00
        add up to more than the day's total (the rows are named).

    Examples
    --------
    >>> from icsresearch.sources.discharge import read_discharges_trust
    >>> dis = read_discharges_trust()  # doctest: +SKIP
    >>> dis.groupby("year").discharged_total.sum()  # doctest: +SKIP
    """
    src = source(DISCHARGES_TRUST.dataset, path)
    values = {
        "discharged_by_1700": "discharged_by_1700",
        "discharged_between_1701_2359": "discharged_1701_2359",
        "discharged_total": "discharged_total",
    }
    df, raw, dropped = _trust_daily(src, "england_trust_discharged_patients", values)
    by, late, total = df["discharged_by_1700"], df["discharged_1701_2359"], df["discharged_total"]
    split = by.notna() & late.notna() & total.notna()
    parts = by + late
    over = split & (parts > total)
    if over.any():
        shown = pd.Series("", index=df.index)
        shown[over] = [f"{p:g} > {t:g}" for p, t in zip(parts[over], total[over], strict=True)]
        raise DataFileError(
            src.path,
            f"has {int(over.sum())} row(s) where discharged_by_1700 + "
            f"discharged_between_1701_2359 exceed discharged_total "
            f"({_rows(raw, over, shown, ('nhs_trust22_code', 'date'))})",
            "The discharges by 17:00 and between 17:01 and 23:59 make up the day's total; check "
            "the columns are not shifted or mislabelled.",
        )
    df = df.sort_values(["trust_code", "date"], kind="stable").reset_index(drop=True)
    counts = list(values.values())
    no_collection = _no_collection_to_missing(df, "date", counts)
    split = df[counts].notna().all(axis=1)
    equal = split & (
        df["discharged_by_1700"] + df["discharged_1701_2359"] == df["discharged_total"]
    )
    coverage = completeness(df, counts=counts, period="date", freq="D", units="trust_code")
    coverage.update(
        _zero_counts(df, "discharged_total"),
        rows_with_split=int(split.sum()),
        split_sums_to_total=int(equal.sum()),
        placeholder_rows_dropped=dropped,
        no_collection_days_set_missing=no_collection,
    )
    return finish(df, DISCHARGES_TRUST, src, coverage=coverage)


def read_criteria_to_reside_icb(path: str | Path | None = None) -> pd.DataFrame:
    """Daily number of patients who no longer meet the criteria to reside, by integrated care board.

    Parameters
    ----------
    path
        An ``.rda`` file holding an ``england_icb_criteria_to_reside`` table in the healthyr
        layout (skips the registry hash check); by default the registry copy.

    Returns
    -------
    pandas.DataFrame
        One row per board and day: ``icb_ons_code``, ``date``, ``year``,
        ``not_meeting_criteria``.

    Raises
    ------
    DataFileError
        If the file is empty, truncated or holds another object; a column is missing; a code is
        not a 2022 ICB ONS code (E54 and six digits); a date is not a date or lies outside April
        2020 - today; a count is negative or fractional; or a board-day appears twice.

    Examples
    --------
    >>> from icsresearch.sources.discharge import read_criteria_to_reside_icb
    >>> icb = read_criteria_to_reside_icb()  # doctest: +SKIP
    >>> icb.attrs["completeness"]["units_per_period_min"]  # doctest: +SKIP
    41
    """
    import re

    src = source(CTR_ICB.dataset, path)
    raw = read_rda(
        src,
        "england_icb_criteria_to_reside",
        required=["icb22_code", "date", "do_not_meet_criteria_to_reside"],
    )
    raw, dropped = _without_placeholders(raw, "icb22_code", ["do_not_meet_criteria_to_reside"])
    keys = ("icb22_code", "date")
    ons = re.compile(r"^E54\d{6}$")
    try:
        icb = codes(_r_rows(raw["icb22_code"]), src, "icb22_code", pattern=ons)
    except DataFileError as exc:
        raise DataFileError(
            src.path,
            exc.problem.replace("organisation codes", "2022 ICB ONS codes (E54 and six digits)"),
            "ICBs are identified by their ONS code, e.g. E54000056; convert ODS codes (QUE) with "
            "icsresearch.geography.icbs(2022).",
        ) from None
    df = pd.DataFrame(
        {
            "icb_ons_code": icb.set_axis(raw.index),
            "date": _dates(raw, src, "date", keys),
            "not_meeting_criteria": _counts(raw, src, "do_not_meet_criteria_to_reside", keys),
        }
    )
    df["year"] = fy_start(df["date"])
    df = df.sort_values(["icb_ons_code", "date"], kind="stable").reset_index(drop=True)
    col = "not_meeting_criteria"
    no_collection = _no_collection_to_missing(df, "date", [col])
    coverage = completeness(df, counts=[col], period="date", freq="D", units="icb_ons_code")
    coverage.update(
        _zero_counts(df, col),
        placeholder_rows_dropped=dropped,
        no_collection_days_set_missing=no_collection,
    )
    return finish(df, CTR_ICB, src, coverage=coverage)


def read_delay_reasons(path: str | Path | None = None) -> pd.DataFrame:
    """Patients whose discharge is delayed, by acute trust, month and reason for the delay.

    Parameters
    ----------
    path
        An ``.rda`` file holding an ``england_delayed_discharge_reasons`` table in the healthyr
        layout (skips the registry hash check); by default the registry copy.

    Returns
    -------
    pandas.DataFrame
        One row per trust, month and reason: ``trust_code``, ``trust_name``, ``period``,
        ``year``, ``delay_reason``, ``delay_reason_group``, ``delay_count``.
        ``attrs["completeness"]`` also gives the number of distinct reasons and whether each
        appears in every month.

    Raises
    ------
    DataFileError
        If the file is empty, truncated or holds another object; a column is missing; a code is
        not an ODS code; a reason is blank; a date is not the first day of a month between
        April 2020 and today; a count is negative; or a trust, month and reason appears twice.

    Examples
    --------
    >>> from icsresearch.sources.discharge import read_delay_reasons
    >>> reasons = read_delay_reasons()  # doctest: +SKIP
    >>> reasons.groupby(["period", "delay_reason_group"]).delay_count.sum().unstack()  # doctest: +SKIP
    """
    src = source(DELAY_REASONS.dataset, path)
    raw = read_rda(
        src,
        "england_delayed_discharge_reasons",
        required=["nhs_trust22_name", "nhs_trust22_code", "date", "delay_reason", "delay_count"],
    ).reset_index(drop=True)  # R row number - 1, which the error messages count from
    keys = ("nhs_trust22_code", "date")
    reason = raw["delay_reason"].astype("string").str.strip()
    blank = reason.isna() | (reason == "")
    if blank.any():
        raise DataFileError(
            src.path,
            f"column 'delay_reason' has {int(blank.sum())} blank value(s) "
            f"({_rows(raw, blank, raw['delay_reason'], keys)})",
            "Every count belongs to a named delay reason.",
        )
    df = pd.DataFrame(
        {
            "trust_code": codes(_r_rows(raw["nhs_trust22_code"]), src, "nhs_trust22_code").set_axis(
                raw.index
            ),
            "trust_name": raw["nhs_trust22_name"].astype("string").str.strip().astype("str"),
            "period": _dates(raw, src, "date", keys, monthly=True),
            "delay_reason": reason.astype("str"),
            "delay_count": _counts(raw, src, "delay_count", keys, whole=False),
        }
    )
    labels = pd.Series(df["delay_reason"].unique())
    prefix = (
        labels.str.replace("\xa0", " ", regex=False)
        .str.extract(r"^\s*([^\u2013\u2014-]+?)\s*[\u2013\u2014-]", expand=False)
        .str.lower()
        .str.replace(r"\s+", " ", regex=True)
    )
    group = dict(zip(labels, prefix.map(_REASON_GROUPS), strict=True))
    df["delay_reason_group"] = df["delay_reason"].map(group).astype("str")
    df["year"] = fy_start(df["period"])
    df = df.sort_values(["trust_code", "period", "delay_reason"], kind="stable")
    coverage = completeness(
        df, counts=["delay_count"], period="period", freq="MS", units="trust_code"
    )
    per_period = df.groupby("period")["delay_reason"].nunique()
    n_reasons = int(df["delay_reason"].nunique())
    coverage.update(
        reasons=n_reasons,
        reasons_in_every_period=bool((per_period == n_reasons).all()),
        reasons_without_group=sorted(str(r) for r, g in group.items() if pd.isna(g)),
    )
    return finish(df, DELAY_REASONS, src, coverage=coverage)
