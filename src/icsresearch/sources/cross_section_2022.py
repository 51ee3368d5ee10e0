"""One-month 2022 trust cross-sections: RTT, A&E, cancer, diagnostics, beds, referrals, ambulance.

Publisher: NHS England (OGL v3), as compiled by the TamTobiRalph fork of the healthyr R package
(``data/england_nhs_*.rda``). The compiler downloaded one NHS England provider file per topic and
left-joined it onto the 212 NHS trusts open in 2022 (``geographr::points_nhs_trusts22``), so each
table lists every open trust, with empty rows for trusts absent from the source. Those rows are
dropped here and counted in ``attrs["completeness"]`` (``trusts_without_data``). Independent-sector
providers are not in these files.

Which month each file holds was checked against independent published figures where possible
(see each schema's ``year_convention``): A&E May 2022, ambulance June 2022, cancer April 2022, RTT
May 2022 (April excluded), beds January-March 2022 (KH03 Q4 2021/22); diagnostics and referrals
are one month of spring 2022 whose exact month is unverified (``period`` is missing).

The ambulance file has a trap: its response times were formatted as ``mm:ss``, so every time of an
hour or more lost its hours. :func:`read_ambulance_2022` restores the hours of the mean from the
incident count and total hours, and refuses to guess the hours of the 90th centile (see its
schema's notes).
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DataFileError
from ._base import (
    YEAR_CONVENTION,
    Column,
    Schema,
    codes,
    completeness,
    finish,
    numbers,
    read_rda,
    source,
)

_COMPILED = (
    "Compiled by the TamTobiRalph fork of healthyr from an NHS England provider file and joined "
    "onto the 212 NHS trusts open in 2022; trusts with no values at all are dropped here and "
    "listed in attrs['completeness']['trusts_without_data_codes']. Independent-sector providers "
    "are not included, so sums are trust totals, not England totals."
)
_TRUST = Column(
    "trust_code",
    "Trust",
    "ODS code",
    "NHS trust ODS code (the 2022 trust list used by the compiler).",
)
_TRUST_NAME = Column(
    "trust_name",
    "Trust name",
    "",
    "Trust name as in the file (title-cased by the compiler, e.g. 'Isle Of Wight NHS Trust').",
)


def _period(month: str, evidence: str) -> Column:
    return Column("period", "Month", "date", f"First day of the month covered: {month}. {evidence}")


_YEAR = Column(
    "year", "Financial year", "FY start", "Financial year start of the period (2022 = 2022/23)."
)


# --- shared helpers ---------------------------------------------------------------------------

_REFETCH = "Re-download the published file, or omit the path to use the registry copy."


def _load(name: str, path: str | Path | None, obj: str, required: list[str]):
    """Read the R table; rows keep their position in it (0-based index) for error messages."""
    src = source(name, path)
    raw = read_rda(src, obj, required=["Trust Code", "Trust Name", *required])
    if raw.empty:
        raise DataFileError(src.path, f"R object {obj!r} has no rows", _REFETCH)
    return src, raw.reset_index(drop=True)


def _rows(raw: pd.DataFrame, mask: pd.Series, cols: list[str], n: int = 3) -> str:
    """``trust RRU (row 130): 'Incident Count'=-5.0`` for the first rows where ``mask`` holds."""
    out = []
    for i in raw.index[np.asarray(mask, dtype=bool)][:n]:
        vals = ", ".join(f"{c!r}={raw.at[i, c]!r}" for c in cols)
        out.append(f"trust {raw.at[i, 'Trust Code']} (row {i + 1}): {vals}")
    return "; ".join(out)


def _count(raw: pd.DataFrame, col: str, src, *, step: float | None = 1.0) -> pd.Series:
    """Parse a count column: numbers, never negative, whole (or multiples of ``step``)."""
    x = numbers(raw[col], src, col)
    bad = x < 0
    if bad.any():
        raise DataFileError(
            src.path,
            f"column {col!r} has {int(bad.sum())} negative value(s) ({_rows(raw, bad, [col])})",
            f"{col!r} is a count, never below 0; missing values should be NA, not negative codes.",
        )
    if step is not None:
        k = x / step
        bad = x.notna() & ((k - k.round()).abs() > 1e-6)
        if bad.any():
            unit = "whole numbers" if step == 1 else f"multiples of {step:g}"
            raise DataFileError(
                src.path,
                f"column {col!r} has {int(bad.sum())} value(s) that are not {unit} "
                f"({_rows(raw, bad, [col])})",
                f"{col!r} counts patients or events; a fractional value means the file was "
                "altered (averaged or rescaled). Use the published file.",
            )
    return x


def _share(raw: pd.DataFrame, col: str, src, *, hi: float = 1.0) -> pd.Series:
    """Parse a published 0-1 share; refuse values that cannot be a share (e.g. percentages)."""
    x = numbers(raw[col], src, col)
    bad = (x < 0) | (x > hi)
    if bad.any():
        raise DataFileError(
            src.path,
            f"column {col!r} has {int(bad.sum())} value(s) outside 0-{hi:g} "
            f"({_rows(raw, bad, [col])}); the published layout gives a 0-1 fraction",
            "If your file gives percentages (e.g. 85 for 85%), divide the column by 100 first.",
        )
    return x


def _order_error(raw, src, mask, small: str, big: str, why: str) -> DataFileError:
    return DataFileError(
        src.path,
        f"has {int(np.sum(mask))} row(s) where {small!r} exceeds {big!r} "
        f"({_rows(raw, mask, [small, big])})",
        f"{why} Check the columns were not swapped and that the file is the published one.",
    )


def _trusts(raw: pd.DataFrame, src) -> tuple[pd.Series, pd.Series]:
    code = codes(raw["Trust Code"].astype(str), src, "Trust Code")
    name = raw["Trust Name"].astype("string").str.strip().astype(object)
    return code, name


def _with_data(raw: pd.DataFrame, value_cols: list[str]) -> pd.Series:
    """False for rows whose every value column is missing (trusts absent from the source)."""
    return raw[value_cols].notna().any(axis=1)


def _coverage(
    df: pd.DataFrame,
    *,
    counts: list[str],
    listed: pd.Series,
    period: bool = True,
    freq: str = "MS",
    **extra,
) -> dict:
    """completeness() plus which of the file's trusts had no data at all (rows dropped)."""
    cov = completeness(
        df, counts=counts, period="period" if period else None, freq=freq, units="trust_code"
    )
    without = sorted(set(listed) - set(df["trust_code"]))
    cov.update(
        trusts_listed=int(listed.nunique()),
        trusts_with_data=int(df["trust_code"].nunique()),
        trusts_without_data=len(without),
        trusts_without_data_codes=without,
        **extra,
    )
    return cov


def _spring(candidates: str) -> str:
    return (
        f"One month of spring 2022, exact month unverified ({candidates}). `period` is therefore "
        "missing (NaT); `year` is 2022 because the candidate months lie in 2022/23."
    )


# --- RTT ----------------------------------------------------------------------------------------

_RTT_PATHWAYS = {
    "Incomplete Pathways": "incomplete",
    "Incomplete Pathways with DTA": "incomplete_with_dta",
    "Completed Pathways For Admitted Patients": "admitted",
    "Completed Pathways For Non-Admitted Patients": "non_admitted",
    "New RTT Periods - All Patients": "new_periods",
}

RTT = Schema(
    dataset="rtt_2022",
    columns=(
        _TRUST,
        _TRUST_NAME,
        _period(
            "May 2022 (2022-05-01)",
            "Incomplete pathways are a snapshot at the end of the month; completed pathways and "
            "new periods are counts during it.",
        ),
        _YEAR,
        Column(
            "pathway",
            "RTT pathway type",
            "",
            "'incomplete' (patients waiting to start treatment at month end: the waiting list), "
            "'incomplete_with_dta' (those of them with a decision to admit), 'admitted' and "
            "'non_admitted' (pathways completed in the month by admission / otherwise), "
            "'new_periods' (clock starts in the month). From 'Referral Treatment Type'.",
        ),
        Column(
            "waiting_total",
            "Pathways",
            "count",
            "'Total Waiting List': Total All of the RTT CSV summed over commissioners (treatment "
            "function 'Total'), i.e. patients waiting (incomplete), pathways completed (admitted, "
            "non_admitted) or clock starts (new_periods); includes unknown clock start dates.",
            bounds=(0, 10_000_000),
            typical=(0, 500_000),
        ),
        Column(
            "waiting_18wk_plus",
            "Over 18 weeks",
            "count",
            "Pathways with a wait of more than 18 weeks (weekly bands >18 up to 104+, summed by "
            "the compiler). Missing for new_periods, which have no wait bands (the file's 0 there "
            "is an artefact of summing empty bands, not a count).",
            bounds=(0, 10_000_000),
            typical=(0, 500_000),
        ),
        Column(
            "waiting_52wk_plus",
            "Over 52 weeks",
            "count",
            "Pathways with a wait of more than 52 weeks (bands >52 up to 104+). Missing for "
            "new_periods.",
            bounds=(0, 10_000_000),
            typical=(0, 500_000),
        ),
        Column(
            "over_18wk_pct",
            "Share over 18 weeks",
            "%",
            "100 x waiting_18wk_plus / waiting_total, recomputed from the counts (equals the "
            "file's '% Waiting 18+ Weeks' x 100). The denominator includes unknown clock starts.",
        ),
        Column(
            "over_52wk_pct",
            "Share over 52 weeks",
            "%",
            "100 x waiting_52wk_plus / waiting_total, recomputed from the counts.",
        ),
    ),
    year_convention=(
        "Single month, May 2022 (financial year 2022). Evidence: not April, because the published "
        "end-of-April 2022 figures for Bolton (33,598 waiting, 1,660 over 52 weeks) and Rotherham "
        "(22,244; 73) differ from this file's (33,625; 1,626 and 22,228; 79), and not March "
        "(Bolton 32,659); May is the month of the CSV named in the compiler's later download "
        "table (Full-CSV-data-file-May22). No published May figure was found to match exactly. "
        + YEAR_CONVENTION
    ),
    notes=(
        _COMPILED + " Of 212 trusts, 167 have RTT data; not every trust has every pathway "
        "(admitted 141, incomplete_with_dta 137): an absent pathway is absent, not zero. "
        "The England waiting list published for May 2022 (6.61 million) includes independent-"
        "sector providers; the trusts here sum to 6.21 million."
    ),
    key=("trust_code", "pathway"),
)


def read_rtt_2022(path: str | Path | None = None) -> pd.DataFrame:
    """Referral-to-treatment waiting list by trust and pathway type, May 2022.

    Parameters
    ----------
    path
        An ``.rda`` file holding an ``england_nhs_referral_treatment_waiting_times`` table in the
        layout of the TamTobiRalph/healthyr fork (read without the hash check); by default the
        registry copy.

    Returns
    -------
    pandas.DataFrame
        One row per trust and pathway; columns as documented in :data:`RTT`.

    Raises
    ------
    DataFileError
        For a wrong or damaged file, an unknown pathway label, negative or fractional counts,
        more waits over 52 than over 18 weeks (or over 18 weeks than in total), or more pathways
        with a decision to admit than incomplete pathways.

    Examples
    --------
    >>> from icsresearch.sources.cross_section_2022 import read_rtt_2022
    >>> rtt = read_rtt_2022()  # doctest: +SKIP
    >>> rtt.query("pathway == 'incomplete'").over_52wk_pct.describe()  # doctest: +SKIP
    """
    cols = [
        "Referral Treatment Type",
        "Waiting 52+ Weeks",
        "Waiting 18+ Weeks",
        "Total Waiting List",
    ]
    src, raw = _load(RTT.dataset, path, "england_nhs_referral_treatment_waiting_times", cols)
    listed, _ = _trusts(raw, src)
    raw = raw[_with_data(raw, cols)]
    code, name = _trusts(raw, src)
    label = raw["Referral Treatment Type"].astype("string").str.strip()
    unknown = label.isna() | ~label.isin(list(_RTT_PATHWAYS)).fillna(False)
    if unknown.any():
        found = sorted({str(v) for v in label[unknown]})
        raise DataFileError(
            src.path,
            f"column 'Referral Treatment Type' has unknown or missing pathway(s) {found} "
            f"({_rows(raw, unknown, ['Referral Treatment Type'])})",
            f"The published layout uses {sorted(_RTT_PATHWAYS)}.",
        )
    total = _count(raw, "Total Waiting List", src)
    w18 = _count(raw, "Waiting 18+ Weeks", src)
    w52 = _count(raw, "Waiting 52+ Weeks", src)
    if (w52 > w18).any():
        raise _order_error(
            raw,
            src,
            w52 > w18,
            "Waiting 52+ Weeks",
            "Waiting 18+ Weeks",
            "Everyone waiting over 52 weeks is also waiting over 18 weeks.",
        )
    if (w18 > total).any():
        raise _order_error(
            raw,
            src,
            w18 > total,
            "Waiting 18+ Weeks",
            "Total Waiting List",
            "Those waiting over 18 weeks are part of the total.",
        )
    pathway = label.map(_RTT_PATHWAYS).astype(object)
    new = (pathway == "new_periods").to_numpy()
    df = pd.DataFrame(
        {
            "trust_code": code.to_numpy(),
            "trust_name": name.to_numpy(),
            "pathway": pathway.to_numpy(),
            "waiting_total": total.to_numpy(),
            "waiting_18wk_plus": np.where(new, np.nan, w18),
            "waiting_52wk_plus": np.where(new, np.nan, w52),
        }
    )
    dup = df.duplicated(["trust_code", "pathway"], keep=False)
    if not dup.any():  # (duplicates are reported by finish() with the key)
        wide = df.pivot(index="trust_code", columns="pathway", values="waiting_total")
        if {"incomplete", "incomplete_with_dta"} <= set(wide.columns):
            over = wide["incomplete_with_dta"] > wide["incomplete"]
            if over.any():
                raise DataFileError(
                    src.path,
                    f"trust(s) {list(over[over].index[:3])} have more incomplete pathways with a "
                    "decision to admit than incomplete pathways in total",
                    "Pathways with a decision to admit are a subset of the waiting list; check "
                    "the 'Referral Treatment Type' labels were not swapped.",
                )
    denom = df["waiting_total"].where(df["waiting_total"] > 0)
    df["over_18wk_pct"] = 100 * df["waiting_18wk_plus"] / denom
    df["over_52wk_pct"] = 100 * df["waiting_52wk_plus"] / denom
    df["period"] = pd.Timestamp("2022-05-01")
    df["year"] = 2022
    order = list(_RTT_PATHWAYS.values())
    df = df.iloc[np.lexsort((df["pathway"].map(order.index), df["trust_code"]))]
    cov = _coverage(
        df,
        counts=["waiting_total", "waiting_18wk_plus", "waiting_52wk_plus"],
        listed=listed,
        pathway_rows={p: int((df["pathway"] == p).sum()) for p in order},
    )
    return finish(df, RTT, src, coverage=cov)


# --- A&E ----------------------------------------------------------------------------------------

_AE_TYPES = {
    "1": ("No. Type 1 Attendance", "% Type 1 <= 4 hours"),
    "2": ("No. Type 2 Attendance", "% Type 2 <= 4 hours"),
    "3": ("No. Type 3 Attendance", "% Type 3 <= 4 hours"),
    "all": ("No. Attendance Total", "% Total <= 4 hours"),
}
# The compiler's column names, typo included.
_DTA4 = "No. patients >= 4h from decisiion to admit to admission"
_DTA12 = "No. patients >= 12h from decisiion to admit to admission"

AE = Schema(
    dataset="ae_2022",
    columns=(
        _TRUST,
        _TRUST_NAME,
        _period(
            "May 2022 (2022-05-01)",
            "Attendances during the calendar month.",
        ),
        _YEAR,
        Column(
            "department_type",
            "A&E department type",
            "",
            "'1' major emergency departments, '2' single-specialty departments, '3' other A&E, "
            "minor injury units and walk-in centres, 'all' the trust total (= 1 + 2 + 3).",
        ),
        Column(
            "attendances",
            "Attendances",
            "count",
            "A&E attendances in the month at this department type (0 where the trust runs none).",
            bounds=(0, 1_000_000),
            typical=(0, 100_000),
        ),
        Column(
            "within_4hr",
            "Within 4 hours",
            "count",
            "Attendances admitted, transferred or discharged within 4 hours of arrival: "
            "attendances x the published share, which is an exact fraction (the product is a "
            "whole number to 1e-6 in every row, checked). Missing where the share is missing.",
            bounds=(0, 1_000_000),
            typical=(0, 100_000),
        ),
        Column(
            "within_4hr_pct",
            "Seen within 4 hours",
            "%",
            "100 x within_4hr / attendances (the published unrounded share x 100). Missing where "
            "there were no attendances, and for the 14 trusts testing the new urgent-care "
            "standards (Clinical Review of Standards field-test sites), which did not report it.",
        ),
        Column(
            "dta_4hr_plus",
            "Waits over 4 h from decision to admit",
            "count",
            "Emergency admissions via A&E that waited more than 4 hours from the decision to "
            "admit to admission ('trolley waits'). Trust level: given on the 'all' rows only, "
            "missing on the type rows.",
            bounds=(0, 1_000_000),
            typical=(0, 100_000),
        ),
        Column(
            "dta_12hr_plus",
            "Waits over 12 h from decision to admit",
            "count",
            "Those of dta_4hr_plus that waited more than 12 hours. 'all' rows only.",
            bounds=(0, 1_000_000),
            typical=(0, 100_000),
        ),
    ),
    year_convention=(
        "Single month, May 2022 (financial year 2022): the trust totals equal those of the "
        "healthyr monthly trust file (ae_trust_monthly) for May 2022 for 149 of 152 trusts, and "
        "for no other month. " + YEAR_CONVENTION
    ),
    notes=(
        _COMPILED + " 152 trusts have A&E data. The decision-to-admit counts are a trust total in "
        "the published file, so they are not split by department type. The compiler's columns "
        "spell 'decisiion'."
    ),
    key=("trust_code", "department_type"),
)


def read_ae_2022(path: str | Path | None = None) -> pd.DataFrame:
    """A&E attendances and the 4-hour share by trust and department type, May 2022.

    Parameters
    ----------
    path
        An ``.rda`` file holding an ``england_nhs_ae`` table in the layout of the
        TamTobiRalph/healthyr fork (read without the hash check); by default the registry copy.

    Returns
    -------
    pandas.DataFrame
        One row per trust and department type ('1', '2', '3', 'all'); the decision-to-admit
        waits are on the 'all' rows. Columns as documented in :data:`AE`.

    Raises
    ------
    DataFileError
        For a wrong or damaged file, negative or fractional counts, shares outside 0-1, a share
        where there were no attendances, a total that is not the sum of the types, a share that
        does not give a whole number of patients, or more 12-hour than 4-hour waits.

    Examples
    --------
    >>> from icsresearch.sources.cross_section_2022 import read_ae_2022
    >>> ae = read_ae_2022()  # doctest: +SKIP
    >>> ae.query("department_type == 'all'").within_4hr_pct.median()  # doctest: +SKIP
    """
    value_cols = [c for pair in _AE_TYPES.values() for c in pair] + [_DTA4, _DTA12]
    src, raw = _load(AE.dataset, path, "england_nhs_ae", value_cols)
    listed, _ = _trusts(raw, src)
    raw = raw[_with_data(raw, value_cols)]
    code, name = _trusts(raw, src)
    att = {t: _count(raw, a, src) for t, (a, _) in _AE_TYPES.items()}
    share = {t: _share(raw, s, src) for t, (_, s) in _AE_TYPES.items()}
    parts = att["1"] + att["2"] + att["3"]
    bad = att["all"].notna() & parts.notna() & ((parts - att["all"]).abs() > 1e-6)
    if bad.any():
        cols = [a for a, _ in _AE_TYPES.values()]
        raise DataFileError(
            src.path,
            f"has {int(bad.sum())} row(s) where 'No. Attendance Total' is not the sum of the "
            f"type 1, 2 and 3 attendances ({_rows(raw, bad, cols)})",
            "The total is the sum of the three department types in the published file.",
        )
    dta4 = _count(raw, _DTA4, src)
    dta12 = _count(raw, _DTA12, src)
    if (dta12 > dta4).any():
        raise _order_error(
            raw,
            src,
            dta12 > dta4,
            _DTA12,
            _DTA4,
            "Every 12-hour wait is also a 4-hour wait.",
        )
    frames = []
    for t, (a_col, s_col) in _AE_TYPES.items():
        a, s = att[t], share[t]
        orphan = s.notna() & ~(a > 0)
        if orphan.any():
            raise DataFileError(
                src.path,
                f"column {s_col!r} has a share where there were no attendances "
                f"({_rows(raw, orphan, [a_col, s_col])})",
                "A share needs attendances; the published file leaves it blank ('-') for 0.",
            )
        within = a * s
        bad = within.notna() & ((within - within.round()).abs() > 1e-6)
        if bad.any():
            raise DataFileError(
                src.path,
                f"column {s_col!r} has share(s) that do not give a whole number of attendances "
                f"within 4 hours ({_rows(raw, bad, [a_col, s_col])})",
                "The published shares are exact fractions (within / attendances); a rounded "
                "share (e.g. 0.49) is not the published layout.",
            )
        frames.append(
            pd.DataFrame(
                {
                    "trust_code": code.to_numpy(),
                    "trust_name": name.to_numpy(),
                    "department_type": t,
                    "attendances": a.to_numpy(),
                    "within_4hr": within.round().to_numpy(),
                    "within_4hr_pct": (100 * s).to_numpy(),
                    "dta_4hr_plus": dta4.to_numpy() if t == "all" else np.nan,
                    "dta_12hr_plus": dta12.to_numpy() if t == "all" else np.nan,
                }
            )
        )
    df = pd.concat(frames, ignore_index=True)
    df = df.sort_values(["trust_code", "department_type"], kind="stable")
    df["period"] = pd.Timestamp("2022-05-01")
    df["year"] = 2022
    total = df[df["department_type"] == "all"]
    no_share = total.loc[(total["attendances"] > 0) & total["within_4hr_pct"].isna(), "trust_code"]
    cov = _coverage(
        df,
        counts=["attendances", "within_4hr_pct", "dta_4hr_plus"],
        listed=listed,
        trusts_without_4hr_share=int(len(no_share)),
        trusts_without_4hr_share_codes=sorted(no_share),
    )
    return finish(df, AE, src, coverage=cov)


# --- cancer -------------------------------------------------------------------------------------

_CANCER_STANDARDS = {
    "2 Week Wait": "2ww",
    "2 Week Wait Breast": "2ww_breast",
    "28 Days FDS": "fds_28d",
    "28 Days FDS (By Route)": "fds_28d_by_route",
    "31 Days": "31d",
    "31 Days Sub (Drugs)": "31d_sub_drugs",
    "31 Days Sub (Radio)": "31d_sub_radio",
    "31 Days Sub (Surgery)": "31d_sub_surgery",
    "62 Days": "62d",
    "62 Days (Screening)": "62d_screening",
    "62 Days (Upgrade)": "62d_upgrade",
}

CANCER = Schema(
    dataset="cancer_2022",
    columns=(
        _TRUST,
        _TRUST_NAME,
        _period("April 2022 (2022-04-01)", "Patients seen or treated during the month."),
        _YEAR,
        Column(
            "standard",
            "Cancer waiting-time standard",
            "",
            "Stable code for the published 'Standard': '2ww' (seen within 2 weeks of an urgent "
            "GP referral), '2ww_breast' (breast symptoms), 'fds_28d' (Faster Diagnosis Standard: "
            "told the diagnosis within 28 days), 'fds_28d_by_route' (the same patients by "
            "referral route: do not add it to fds_28d), '31d' (first treatment within 31 days of "
            "the decision to treat), '31d_sub_drugs'/'31d_sub_radio'/'31d_sub_surgery' "
            "(subsequent treatments), '62d' (first treatment within 62 days of urgent referral), "
            "'62d_screening', '62d_upgrade'.",
        ),
        Column(
            "treated",
            "Patients",
            "count",
            "'Total Treated': patients seen, told or treated under the standard. Can end in .5: "
            "a patient shared between two trusts counts half to each (kept as published).",
            bounds=(0, 1_000_000),
            typical=(0, 50_000),
        ),
        Column(
            "within_standard",
            "Within standard",
            "count",
            "Patients seen/treated within the standard's time (halves as above).",
            bounds=(0, 1_000_000),
            typical=(0, 50_000),
        ),
        Column(
            "breaches",
            "Breaches",
            "count",
            "Patients seen/treated after the standard's time; treated = within_standard + breaches "
            "(checked).",
            bounds=(0, 1_000_000),
            typical=(0, 50_000),
        ),
        Column(
            "within_standard_pct",
            "Within standard",
            "%",
            "100 x within_standard / treated, recomputed from the counts; missing if treated is 0.",
        ),
    ),
    year_convention=(
        "Single month, April 2022 (financial year 2022): the compiler kept the latest period of "
        "the Apr-Apr 2022 provider extract, and the trust sums reproduce the published April 2022 "
        "England results (2-week wait 79.0% seen in time, i.e. 21% not; 62-day 65.1%, i.e. 35% "
        "not); Manchester University FT's published May 2022 62-day figure (31.36%) differs from "
        "this file's (48.4%). " + YEAR_CONVENTION
    ),
    notes=(
        _COMPILED + " 139 trusts have cancer data (acute trusts); a trust lists only the "
        "standards it reported. Compiler's values were summed over cancer types/routes and "
        "rounded to 1 decimal; all are whole or half numbers."
    ),
    key=("trust_code", "standard"),
)


def read_cancer_2022(path: str | Path | None = None) -> pd.DataFrame:
    """Cancer waiting times by trust and standard, April 2022.

    Parameters
    ----------
    path
        An ``.rda`` file holding an ``england_nhs_cancer_wait_times`` table in the layout of the
        TamTobiRalph/healthyr fork (read without the hash check); by default the registry copy.

    Returns
    -------
    pandas.DataFrame
        One row per trust and standard; columns as documented in :data:`CANCER`.

    Raises
    ------
    DataFileError
        For a wrong or damaged file, an unknown standard, negative counts or counts that are not
        whole or half numbers, more patients within the standard than treated, or
        treated != within + breaches.

    Examples
    --------
    >>> from icsresearch.sources.cross_section_2022 import read_cancer_2022
    >>> cwt = read_cancer_2022()  # doctest: +SKIP
    >>> cwt.query("standard == '62d'").within_standard_pct.median()  # doctest: +SKIP
    """
    cols = ["Standard", "Total Treated", "Within Standard", "Breaches"]
    src, raw = _load(CANCER.dataset, path, "england_nhs_cancer_wait_times", cols)
    listed, _ = _trusts(raw, src)
    raw = raw[_with_data(raw, cols)]
    code, name = _trusts(raw, src)
    label = raw["Standard"].astype("string").str.strip()
    unknown = label.isna() | ~label.isin(list(_CANCER_STANDARDS)).fillna(False)
    if unknown.any():
        found = sorted({str(v) for v in label[unknown]})
        raise DataFileError(
            src.path,
            f"column 'Standard' has unknown or missing standard(s) {found} "
            f"({_rows(raw, unknown, ['Standard'])})",
            f"The published layout uses {sorted(_CANCER_STANDARDS)}.",
        )
    treated = _count(raw, "Total Treated", src, step=0.5)
    within = _count(raw, "Within Standard", src, step=0.5)
    breaches = _count(raw, "Breaches", src, step=0.5)
    if (within > treated).any():
        raise _order_error(
            raw,
            src,
            within > treated,
            "Within Standard",
            "Total Treated",
            "Patients within the standard are part of those treated.",
        )
    bad = (treated - within - breaches).abs() > 1e-6
    if bad.any():
        raise DataFileError(
            src.path,
            f"has {int(bad.sum())} row(s) where 'Total Treated' is not 'Within Standard' + "
            f"'Breaches' ({_rows(raw, bad, cols[1:])})",
            "Every patient is either within the standard or a breach; use the published file.",
        )
    df = pd.DataFrame(
        {
            "trust_code": code.to_numpy(),
            "trust_name": name.to_numpy(),
            "standard": label.map(_CANCER_STANDARDS).astype(object).to_numpy(),
            "treated": treated.to_numpy(),
            "within_standard": within.to_numpy(),
            "breaches": breaches.to_numpy(),
        }
    )
    df["within_standard_pct"] = 100 * df["within_standard"] / df["treated"].where(df["treated"] > 0)
    df["period"] = pd.Timestamp("2022-04-01")
    df["year"] = 2022
    order = list(_CANCER_STANDARDS.values())
    df = df.iloc[np.lexsort((df["standard"].map(order.index), df["trust_code"]))]
    cov = _coverage(df, counts=["treated", "within_standard", "breaches"], listed=listed)
    return finish(df, CANCER, src, coverage=cov)


# --- diagnostics --------------------------------------------------------------------------------

DIAGNOSTICS = Schema(
    dataset="diagnostics_2022",
    columns=(
        _TRUST,
        _TRUST_NAME,
        Column(
            "period",
            "Month",
            "date",
            "Missing (NaT): one month of spring 2022 (April or May 2022), exact month unverified.",
        ),
        _YEAR,
        Column(
            "waiting_total",
            "Waiting for a test",
            "count",
            "Patients waiting at the end of the month for one of the key diagnostic tests (DM01 "
            "'Total Waiting List'). 0 for a trust reporting an empty list.",
            bounds=(0, 10_000_000),
            typical=(0, 500_000),
        ),
        Column(
            "waiting_6wk_plus",
            "Waiting 6+ weeks",
            "count",
            "Of them, patients waiting 6 weeks or more since the request ('Number waiting 6+ "
            "Weeks').",
            bounds=(0, 10_000_000),
            typical=(0, 500_000),
        ),
        Column(
            "waiting_13wk_plus",
            "Waiting 13+ weeks",
            "count",
            "Of them, patients waiting 13 weeks or more (a subset of waiting_6wk_plus).",
            bounds=(0, 10_000_000),
            typical=(0, 500_000),
        ),
        Column(
            "over_6wk_pct",
            "Share waiting 6+ weeks",
            "%",
            "100 x waiting_6wk_plus / waiting_total, recomputed from the counts; missing when "
            "nobody was waiting.",
        ),
        Column(
            "over_13wk_pct",
            "Share waiting 13+ weeks",
            "%",
            "100 x waiting_13wk_plus / waiting_total, recomputed from the counts.",
        ),
    ),
    year_convention=_spring(
        "the compiler's first download script names the April 2022 provider file "
        "(Monthly-Diagnostics-Web-File-Provider-April-2022), its later download table the May "
        "2022 one, and no published trust figure was found to tell them apart"
    )
    + " "
    + YEAR_CONVENTION,
    notes=(
        _COMPILED + " 159 trusts have DM01 data. The trust sums (1.45 million waiting, 29.5% "
        "for 6+ weeks) exclude independent-sector and community providers in the England total."
    ),
    key=("trust_code",),
)


def read_diagnostics_2022(path: str | Path | None = None) -> pd.DataFrame:
    """Diagnostic waiting list (DM01) by trust: total, 6+ and 13+ weeks, one month of spring 2022.

    Parameters
    ----------
    path
        An ``.rda`` file holding an ``england_nhs_diagnostic_wait_times`` table in the layout of
        the TamTobiRalph/healthyr fork (read without the hash check); by default the registry copy.

    Returns
    -------
    pandas.DataFrame
        One row per trust; columns as documented in :data:`DIAGNOSTICS`. ``period`` is missing
        because the exact month could not be verified (April or May 2022).

    Raises
    ------
    DataFileError
        For a wrong or damaged file, negative or fractional counts, or more patients waiting
        13+ weeks than 6+ weeks (or 6+ weeks than in total).

    Examples
    --------
    >>> from icsresearch.sources.cross_section_2022 import read_diagnostics_2022
    >>> dm01 = read_diagnostics_2022()  # doctest: +SKIP
    >>> dm01.over_6wk_pct.describe()  # doctest: +SKIP
    """
    cols = ["Waiting List Total", "Waiting 6+ weeks", "Waiting 13+ weeks"]
    src, raw = _load(DIAGNOSTICS.dataset, path, "england_nhs_diagnostic_wait_times", cols)
    listed, _ = _trusts(raw, src)
    raw = raw[_with_data(raw, cols)]
    code, name = _trusts(raw, src)
    total, w6, w13 = (_count(raw, c, src) for c in cols)
    if (w13 > w6).any():
        raise _order_error(
            raw, src, w13 > w6, cols[2], cols[1], "Everyone waiting 13+ weeks is also waiting 6+."
        )
    if (w6 > total).any():
        raise _order_error(
            raw, src, w6 > total, cols[1], cols[0], "Those waiting 6+ weeks are in the total."
        )
    denom = total.where(total > 0)
    df = pd.DataFrame(
        {
            "trust_code": code.to_numpy(),
            "trust_name": name.to_numpy(),
            "period": pd.NaT,
            "year": 2022,
            "waiting_total": total.to_numpy(),
            "waiting_6wk_plus": w6.to_numpy(),
            "waiting_13wk_plus": w13.to_numpy(),
            "over_6wk_pct": (100 * w6 / denom).to_numpy(),
            "over_13wk_pct": (100 * w13 / denom).to_numpy(),
        }
    )
    df["period"] = pd.to_datetime(df["period"])
    df = df.sort_values("trust_code", kind="stable")
    cov = _coverage(
        df,
        counts=["waiting_total", "waiting_6wk_plus", "waiting_13wk_plus"],
        listed=listed,
        period=False,
        month="unverified: April or May 2022",
    )
    return finish(df, DIAGNOSTICS, src, coverage=cov)


# --- beds (KH03) --------------------------------------------------------------------------------

_BED_SECTORS = {
    "total": "Total",
    "general_acute": "General Acute",
    "learning_disabilities": "Learning Disabilities",
    "maternity": "Maternity",
    "mental_illness": "Mental Illness",
}
_SHIFTS = {"day": "Day", "night": "Night"}

BEDS = Schema(
    dataset="bed_occupancy_2022",
    columns=(
        _TRUST,
        _TRUST_NAME,
        Column(
            "period",
            "Quarter",
            "date",
            "First day of the quarter covered: 2022-01-01 (January-March 2022, KH03 Q4 2021/22).",
        ),
        Column(
            "year",
            "Financial year",
            "FY start",
            "2021: January-March 2022 is the last quarter of 2021/22.",
        ),
        Column(
            "shift",
            "Bed type",
            "",
            "'night': beds open overnight (the usual KH03 measure); 'day': day-only beds.",
        ),
        Column(
            "sector",
            "Sector",
            "",
            "'total' (= the sum of the four sectors, checked), 'general_acute', "
            "'learning_disabilities', 'maternity', 'mental_illness'.",
        ),
        Column(
            "beds_occupied",
            "Occupied beds",
            "beds",
            "Average number of beds occupied per day over the quarter's 90 days (KH03). 0 where "
            "the trust has no beds of this sector and shift.",
            bounds=(0, 20_000),
            typical=(0, 5_000),
        ),
        Column(
            "beds_available",
            "Available beds",
            "beds",
            "Average number of beds available per day: beds_occupied / published occupied share. "
            "Verified: x 90 it is a whole number of bed-days in every row. Missing where the "
            "share is not published (no beds in the sector, or occupied beds without available "
            "ones) or is 0.",
            bounds=(0, 20_000),
            typical=(0, 5_000),
        ),
        Column(
            "occupancy_pct",
            "Bed occupancy",
            "%",
            "100 x the published occupied share (unrounded) = 100 x beds_occupied / "
            "beds_available. Missing where no beds are available. Can exceed 100 as published "
            "(see attrs['completeness']['occupancy_above_100']).",
            bounds=(0, 200),
            typical=(0, 150),
        ),
    ),
    year_convention=(
        "Single quarter: January-March 2022 (KH03 Q4 2021/22, financial year 2021), not 2022/23. "
        "The compiler's download table names the Q4 2021-22 files, and the data confirm it: "
        "every average x 90 (the days of January-March 2022) is a whole number of bed-days, "
        "which is not so for 91 or 92 days (the other quarters). " + YEAR_CONVENTION
    ),
    notes=(
        _COMPILED + " 187 trusts have KH03 data. One published row reports occupied beds above "
        "available beds (Northamptonshire Healthcare RP1, mental illness overnight: 189.3 of 139 "
        "beds, 136%): kept as published and listed in attrs['completeness']. Two rows report "
        "occupied beds with no share (RN5 learning disabilities, RVJ mental illness, overnight): "
        "beds_available and occupancy_pct are missing there."
    ),
    key=("trust_code", "shift", "sector"),
)


def read_bed_occupancy_2022(path: str | Path | None = None) -> pd.DataFrame:
    """Day-only and overnight beds occupied and occupancy by trust and sector, January-March 2022.

    Parameters
    ----------
    path
        An ``.rda`` file holding an ``england_nhs_bed_occupancy`` table in the layout of the
        TamTobiRalph/healthyr fork (read without the hash check); by default the registry copy.

    Returns
    -------
    pandas.DataFrame
        One row per trust, shift ('day', 'night') and sector; columns as documented in
        :data:`BEDS`.

    Raises
    ------
    DataFileError
        For a wrong or damaged file, negative beds, a share outside 0-2 (percentages instead of a
        0-1 fraction), a share without occupied beds, or a total that is not the sum of the
        sectors.

    Examples
    --------
    >>> from icsresearch.sources.cross_section_2022 import read_bed_occupancy_2022
    >>> beds = read_bed_occupancy_2022()  # doctest: +SKIP
    >>> ga = beds.query("shift == 'night' and sector == 'general_acute'")  # doctest: +SKIP
    >>> ga.occupancy_pct.median()  # doctest: +SKIP
    """
    occ_col = {
        (s, k): f"{v} {w} Beds Occupied"
        for s, w in _SHIFTS.items()
        for k, v in _BED_SECTORS.items()
    }
    cols = [c for o in occ_col.values() for c in (o, f"% {o}")]
    src, raw = _load(BEDS.dataset, path, "england_nhs_bed_occupancy", cols)
    listed, _ = _trusts(raw, src)
    raw = raw[_with_data(raw, cols)]
    code, name = _trusts(raw, src)
    frames, above = [], []
    for shift in _SHIFTS:
        occ = {k: _count(raw, occ_col[(shift, k)], src, step=None) for k in _BED_SECTORS}
        parts = sum(occ[k] for k in _BED_SECTORS if k != "total")
        bad = occ["total"].notna() & ((parts - occ["total"]).abs() > 1e-6)
        if bad.any():
            c = [occ_col[(shift, k)] for k in _BED_SECTORS]
            raise DataFileError(
                src.path,
                f"has {int(bad.sum())} row(s) where {c[0]!r} is not the sum of the four sectors "
                f"({_rows(raw, bad, c)})",
                "The total is the sum of the sectors in the published KH03 file.",
            )
        for k in _BED_SECTORS:
            o_col = occ_col[(shift, k)]
            o = occ[k]
            # Above 1 is possible as published (RP1: 1.36); above 2 means percentages.
            s = _share(raw, f"% {o_col}", src, hi=2.0)
            orphan = s.notna() & o.isna()
            if orphan.any():
                raise DataFileError(
                    src.path,
                    f"column {'% ' + o_col!r} has a share without occupied beds "
                    f"({_rows(raw, orphan, [o_col, '% ' + o_col])})",
                    "Use the published file, which gives occupied beds wherever it gives a share.",
                )
            over = s > 1
            above += [f"{c} {shift} {k}" for c in code[over]]
            frames.append(
                pd.DataFrame(
                    {
                        "trust_code": code.to_numpy(),
                        "trust_name": name.to_numpy(),
                        "shift": shift,
                        "sector": k,
                        "beds_occupied": o.to_numpy(),
                        "beds_available": (o / s.where(s > 0)).to_numpy(),
                        "occupancy_pct": (100 * s).to_numpy(),
                    }
                )
            )
    df = pd.concat(frames, ignore_index=True)
    order = list(_BED_SECTORS)
    df = df.iloc[
        np.lexsort(
            (df["sector"].map(order.index), df["shift"].map(list(_SHIFTS).index), df["trust_code"])
        )
    ]
    df["period"] = pd.Timestamp("2022-01-01")
    df["year"] = 2021
    no_share = df["beds_occupied"].gt(0) & df["occupancy_pct"].isna()
    cov = _coverage(
        df,
        counts=["beds_occupied", "beds_available", "occupancy_pct"],
        listed=listed,
        freq="QS",
        occupancy_above_100=sorted(above),
        occupied_without_share=sorted(
            f"{r.trust_code} {r.shift} {r.sector}" for r in df[no_share].itertuples()
        ),
    )
    return finish(df, BEDS, src, coverage=cov)


# --- outpatient referrals (MRR) -----------------------------------------------------------------

_REFERRALS = {
    "gp_referrals_all": "GP Referrals Made (All)",
    "other_referrals_all": "Other Referrals Made (All)",
    "gp_referrals_specific_acute": "GP Referrals Made (Specific Acute)",
    "other_referrals_specific_acute": "Other Referrals Made (Specific Acute)",
}

REFERRALS = Schema(
    dataset="referrals_2022",
    columns=(
        _TRUST,
        _TRUST_NAME,
        Column(
            "period",
            "Month",
            "date",
            "Missing (NaT): one month of spring 2022 (April 2022 by the compiler's download "
            "table), exact month unverified.",
        ),
        _YEAR,
        Column(
            "gp_referrals_all",
            "GP referrals, all specialties",
            "count",
            "GP referrals made in the month for a first consultant-led outpatient appointment, "
            "all treatment functions (Monthly Referral Return).",
            bounds=(0, 1_000_000),
            typical=(0, 200_000),
        ),
        Column(
            "other_referrals_all",
            "Other referrals, all specialties",
            "count",
            "Referrals from all other sources (consultants, A&E, dentists, self...) for a first "
            "consultant-led outpatient appointment, all treatment functions.",
            bounds=(0, 1_000_000),
            typical=(0, 200_000),
        ),
        Column(
            "gp_referrals_specific_acute",
            "GP referrals, specific acute",
            "count",
            "GP referrals to the specific acute treatment functions (general and acute "
            "specialties; a subset of gp_referrals_all, checked).",
            bounds=(0, 1_000_000),
            typical=(0, 200_000),
        ),
        Column(
            "other_referrals_specific_acute",
            "Other referrals, specific acute",
            "count",
            "Other referrals to the specific acute treatment functions (a subset of "
            "other_referrals_all, checked).",
            bounds=(0, 1_000_000),
            typical=(0, 200_000),
        ),
    ),
    year_convention=_spring(
        "both versions of the compiler's download table name the April 2022 provider file "
        "MRR_Prov-Web-file-April-22, but no published figure was found to confirm it, and the "
        "compiler's scripts name a different month from the data for another file (ambulance)"
    )
    + " "
    + YEAR_CONVENTION,
    notes=_COMPILED + " 168 trusts have MRR data.",
    key=("trust_code",),
)


def read_referrals_2022(path: str | Path | None = None) -> pd.DataFrame:
    """GP and other outpatient referrals by trust, one month of spring 2022.

    Parameters
    ----------
    path
        An ``.rda`` file holding an ``england_nhs_outpatient_referrals`` table in the layout of
        the TamTobiRalph/healthyr fork (read without the hash check); by default the registry copy.

    Returns
    -------
    pandas.DataFrame
        One row per trust; columns as documented in :data:`REFERRALS`. ``period`` is missing
        because the exact month could not be verified.

    Raises
    ------
    DataFileError
        For a wrong or damaged file, negative or fractional counts, or more specific-acute
        referrals than referrals to all specialties.

    Examples
    --------
    >>> from icsresearch.sources.cross_section_2022 import read_referrals_2022
    >>> mrr = read_referrals_2022()  # doctest: +SKIP
    >>> mrr.gp_referrals_all.sum()  # doctest: +SKIP
    """
    cols = list(_REFERRALS.values())
    src, raw = _load(REFERRALS.dataset, path, "england_nhs_outpatient_referrals", cols)
    listed, _ = _trusts(raw, src)
    raw = raw[_with_data(raw, cols)]
    code, name = _trusts(raw, src)
    x = {k: _count(raw, c, src) for k, c in _REFERRALS.items()}
    for who in ("gp", "other"):
        part, whole = x[f"{who}_referrals_specific_acute"], x[f"{who}_referrals_all"]
        if (part > whole).any():
            raise _order_error(
                raw,
                src,
                part > whole,
                _REFERRALS[f"{who}_referrals_specific_acute"],
                _REFERRALS[f"{who}_referrals_all"],
                "Specific acute referrals are a subset of referrals to all specialties.",
            )
    df = pd.DataFrame({"trust_code": code.to_numpy(), "trust_name": name.to_numpy()})
    for k, v in x.items():
        df[k] = v.to_numpy()
    df["period"] = pd.to_datetime(pd.Series(pd.NaT, index=df.index))
    df["year"] = 2022
    df = df.sort_values("trust_code", kind="stable")
    cov = _coverage(
        df,
        counts=list(_REFERRALS),
        listed=listed,
        period=False,
        month="unverified: April 2022 by the compiler's download table",
    )
    return finish(df, REFERRALS, src, coverage=cov)


# --- ambulance (AmbSYS) -------------------------------------------------------------------------

_CATEGORIES = {"cat1": "C1", "cat1t": "C1T", "cat2": "C2", "cat3": "C3", "cat4": "C4"}
_MEAN = "Mean Response Time (min:sec)"
_P90 = "90th Centile Response Time (min:sec)"
_MMSS = re.compile(r"^([0-5]?\d):([0-5]\d)$")

#: Largest plausible ratio of a 90th centile response time to the mean. Observed: 1.66-2.19 on
#: the 23 rows of this file whose 90th centile is unambiguous, and 2.0-2.4 nationally (England
#: AmbSYS C2: April 2023 mean 28 min, 90th centile 1 h; December 2022 1:32:54 and 3:41; South
#: West April 2023 35 min and 1:11). 3.5 leaves a wide margin above all of them.
P90_MEAN_RATIO_MAX = 3.5
#: Tolerance on the published seconds (they are whole seconds, truncated or rounded).
_SECOND = 1 / 60

AMBULANCE = Schema(
    dataset="ambulance_2022",
    columns=(
        _TRUST,
        _TRUST_NAME,
        _period("June 2022 (2022-06-01)", "Incidents during the calendar month."),
        _YEAR,
        Column("service", "Ambulance service", "", "AmbSYS name of the ambulance service."),
        Column(
            "category",
            "Call category",
            "",
            "'C1' life-threatening, 'C1T' C1 incidents where patients were transported, "
            "'C2' emergency (e.g. stroke, chest pain), 'C3' urgent, 'C4' less urgent.",
        ),
        Column(
            "incidents",
            "Incidents",
            "count",
            "Incidents with a response in the month.",
            bounds=(0, 10_000_000),
            typical=(0, 500_000),
        ),
        Column(
            "total_hours",
            "Total response time",
            "hours",
            "Sum of all response times, rounded to the whole hour by the compiler.",
            bounds=(0, 10_000_000),
            typical=(0, 1_000_000),
        ),
        Column(
            "mean_min",
            "Mean response time",
            "minutes",
            "Published mean with its dropped hours restored (see mean_status); missing when the "
            "hours cannot be restored consistently.",
            bounds=(0, 10_000),
            typical=(0, 600),
        ),
        Column(
            "p90_min",
            "90th centile response time",
            "minutes",
            "Published 90th centile, kept only where it cannot have lost hours (see p90_status); "
            "otherwise missing.",
            bounds=(0, 10_000),
            typical=(0, 600),
        ),
        Column(
            "mean_published",
            "Mean as published",
            "mm:ss",
            "The file's 'Mean Response Time (min:sec)' string: minutes and seconds only, any "
            "hours dropped by the compiler.",
        ),
        Column(
            "p90_published",
            "90th centile as published",
            "mm:ss",
            "The file's '90th Centile Response Time (min:sec)' string (hours dropped likewise).",
        ),
        Column(
            "mean_status",
            "How mean_min was obtained",
            "",
            "'as published' (no hour lost), 'hours restored' (h x 60 added), 'inconsistent' (no "
            "whole number of hours fits total_hours / incidents: NaN), 'ambiguous' (several fit: "
            "NaN), 'unverifiable' (no incidents or total: NaN), 'not published'.",
        ),
        Column(
            "p90_status",
            "How p90_min was obtained",
            "",
            "'as published' (adding an hour would make it implausible), 'truncated' (the mean is "
            "1 hour or more, or the published value is below the mean: hours were lost, NaN), "
            "'ambiguous' (right or off by whole hours: NaN), 'unverifiable' (no usable mean: "
            "NaN), 'not published'.",
        ),
    ),
    year_convention=(
        "Single month, June 2022 (financial year 2022), not May as the compiler's first script "
        "says: the England C2 mean implied by the file's 11 services (320,440 h / 372,327 "
        "incidents = 51:38) is the published June 2022 figure (May 2022: 39:58), and Yorkshire's "
        "C1 9:30, C2 43 min, C3 2:17 and C4 2:41 match its published June 2022 times; the "
        "compiler's later download table names AmbSYS-2022-June.xlsx. " + YEAR_CONVENTION
    ),
    notes=(
        _COMPILED + " 11 ambulance services x 5 categories = 55 rows. The compiler formatted "
        "response times with R's '%M:%S', which drops hours: London C2's mean '55:44' is right "
        "(48,890 h x 60 / 52,640 = 55.7 min) but South Central C3's '04:24' is 3:04:24. Means: "
        "the dropped hours h are the whole number that puts h x 60 + mm:ss within the range "
        "(total_hours +- 0.5) x 60 / incidents (+- 1 s); exactly one always fits in this file "
        "(31 as published, 24 restored). 90th centiles cannot be restored from the file: a 90th "
        "centile of right-skewed response times is above the mean, so it is certainly truncated "
        "when the mean is 1 hour or more (24 rows) or when the published value is below the mean "
        "(8 rows: C2 of London, North East, North West, Yorkshire, West Midlands, East of "
        "England, South East Coast, South Central); otherwise it is kept only if adding an hour "
        "would make it more than 3.5 x the mean (P90_MEAN_RATIO_MAX; observed ratios 1.7-2.4), "
        "else 'ambiguous'. In this file 23 90th centiles are kept (all C1, C1T and Isle of Wight "
        "C2) and 32 are missing."
    ),
    key=("trust_code", "category"),
)


def _minutes(raw: pd.DataFrame, col: str, src) -> pd.Series:
    """Parse ``mm:ss`` strings (hours dropped) into minutes; refuse anything else."""
    text = raw[col].astype("string").str.strip()
    parts = text.str.extract(_MMSS)
    bad = text.notna() & parts[0].isna()
    if bad.any():
        raise DataFileError(
            src.path,
            f"column {col!r} has {int(bad.sum())} value(s) that are not mm:ss times "
            f"({_rows(raw, bad, [col])})",
            "Response times are published as minutes:seconds, each 00-59 (e.g. '07:33').",
        )
    return parts[0].astype(float) + parts[1].astype(float) / 60


def _restore_mean(published: float, incidents: float, total_hours: float) -> tuple[float, str]:
    """The published mean with its dropped hours restored, and how it was obtained."""
    if math.isnan(published):
        return math.nan, "not published"
    if not (incidents > 0) or math.isnan(total_hours):
        return math.nan, "unverifiable"
    lo = (total_hours - 0.5) * 60 / incidents - _SECOND
    hi = (total_hours + 0.5) * 60 / incidents + _SECOND
    first = max(0, math.ceil((lo - published) / 60))
    fits = [h for h in range(first, math.floor((hi - published) / 60) + 1)]
    if not fits:
        return math.nan, "inconsistent"
    if len(fits) > 1:
        return math.nan, "ambiguous"
    h = fits[0]
    return h * 60 + published, ("as published" if h == 0 else "hours restored")


def _judge_p90(published: float, mean: float) -> tuple[float, str]:
    """Keep the published 90th centile only where it cannot have lost hours."""
    if math.isnan(published):
        return math.nan, "not published"
    if math.isnan(mean) or mean <= 0:
        return math.nan, "unverifiable"
    if mean >= 60 or published < mean:
        return math.nan, "truncated"
    if (published + 60) / mean > P90_MEAN_RATIO_MAX:
        return published, "as published"
    return math.nan, "ambiguous"


def read_ambulance_2022(path: str | Path | None = None) -> pd.DataFrame:
    """Ambulance response times by service and call category, June 2022, with lost hours handled.

    The file's ``mm:ss`` strings dropped the hours of every time of an hour or more. Means are
    restored from the incident count and total hours; 90th centiles are kept only where they
    cannot have lost hours, and are missing otherwise (``p90_status`` says why).

    Parameters
    ----------
    path
        An ``.rda`` file holding an ``england_nhs_ambulance_quality_indicators`` table in the
        layout of the TamTobiRalph/healthyr fork (read without the hash check); by default the
        registry copy.

    Returns
    -------
    pandas.DataFrame
        One row per ambulance service (its trust) and category; columns as documented in
        :data:`AMBULANCE`. ``attrs["completeness"]`` counts the rows in each status.

    Raises
    ------
    DataFileError
        For a wrong or damaged file, an unknown category, negative or fractional incident counts,
        negative hours, or a response time that is not ``mm:ss``.

    Examples
    --------
    >>> from icsresearch.sources.cross_section_2022 import read_ambulance_2022
    >>> amb = read_ambulance_2022()  # doctest: +SKIP
    >>> amb.query("category == 'C2'")[["service", "mean_min", "mean_status"]]  # doctest: +SKIP
    """
    cols = [
        "Ambulance Service",
        "Incident Count",
        "Total Response Time (h)",
        _MEAN,
        _P90,
        "Category",
    ]
    src, raw = _load(AMBULANCE.dataset, path, "england_nhs_ambulance_quality_indicators", cols)
    listed, _ = _trusts(raw, src)
    raw = raw[_with_data(raw, cols)]
    code, name = _trusts(raw, src)
    cat = raw["Category"].astype("string").str.strip()
    unknown = cat.isna() | ~cat.isin(list(_CATEGORIES)).fillna(False)
    if unknown.any():
        found = sorted({str(v) for v in cat[unknown]})
        raise DataFileError(
            src.path,
            f"column 'Category' has unknown or missing category(ies) {found} "
            f"({_rows(raw, unknown, ['Category'])})",
            f"The published layout uses {sorted(_CATEGORIES)}.",
        )
    incidents = _count(raw, "Incident Count", src)
    hours = _count(raw, "Total Response Time (h)", src, step=None)
    mean_pub = _minutes(raw, _MEAN, src)
    p90_pub = _minutes(raw, _P90, src)
    mean = [_restore_mean(*v) for v in zip(mean_pub, incidents, hours, strict=True)]
    mean_min = [m for m, _ in mean]
    p90 = [_judge_p90(p, m) for p, m in zip(p90_pub, mean_min, strict=True)]
    df = pd.DataFrame(
        {
            "trust_code": code.to_numpy(),
            "trust_name": name.to_numpy(),
            "service": raw["Ambulance Service"].astype("string").str.strip().to_numpy(object),
            "category": cat.map(_CATEGORIES).astype(object).to_numpy(),
            "incidents": incidents.to_numpy(),
            "total_hours": hours.to_numpy(),
            "mean_min": mean_min,
            "p90_min": [p for p, _ in p90],
            "mean_published": raw[_MEAN].astype("string").str.strip().to_numpy(object),
            "p90_published": raw[_P90].astype("string").str.strip().to_numpy(object),
            "mean_status": [s for _, s in mean],
            "p90_status": [s for _, s in p90],
        }
    )
    df["period"] = pd.Timestamp("2022-06-01")
    df["year"] = 2022
    order = list(_CATEGORIES.values())
    df = df.iloc[np.lexsort((df["category"].map(order.index), df["trust_code"]))]
    cov = _coverage(
        df,
        counts=["incidents", "total_hours", "mean_min", "p90_min"],
        listed=listed,
        mean_status=df["mean_status"].value_counts().sort_index().to_dict(),
        p90_status=df["p90_status"].value_counts().sort_index().to_dict(),
    )
    return finish(df, AMBULANCE, src, coverage=cov)
