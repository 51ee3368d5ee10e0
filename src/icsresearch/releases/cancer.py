"""Cancer waiting times: the annual-to-date provider extract.

Publisher: NHS England, Cancer Waiting Times (OGL v3). Each month a tidy workbook
"Cancer-Waiting-Times-Apr-<Mon>-<YYYY>-Data-Extract-Provider.xlsx" holds every month of the
financial year so far, one row per month, provider, standard, cancer type, referral route and
treatment modality, with ``TOTAL TREATED``, ``WITHIN STANDARD`` and ``BREACHES`` (headers written
in capitals or with underscores, columns added or renamed between years: found by text). The
standards changed on 1 October 2023: the two-week waits (2WW, 2WW Breast) were retired, and
the 28-day Faster Diagnosis Standard (published since 2021), the 31-day and the 62-day standards
were consolidated. :data:`STANDARDS` maps every published name to one of ``fds_28``,
``31_day``, ``62_day``, ``2ww``, ``2ww_breast`` (or ``other``: screening and upgrade routes
before the consolidation), and ``standard_label`` keeps the text as published.

A period is the extract's last month: ``2024-03`` is April 2023 - March 2024. Several locked
extracts of one year repeat its months: the latest extract's figures are kept (the publisher
revises earlier months). Built from the documented layout and tested on hand-made fixtures only.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DataFileError
from ..schemas import YEAR_CONVENTION, Column, Schema, fy_start
from ..sources._base import codes, numbers
from . import _read
from .lockfile import Lock

#: Published standard names (normalised, searched in order) -> the reader's standard.
STANDARDS = (
    (r"2 ?ww.*breast|two week.*breast|breast symptom", "2ww_breast"),
    (r"2 ?ww|two week", "2ww"),
    (r"28.?day|faster diagnosis|\bfds\b", "fds_28"),
    (r"31.?day", "31_day"),
    (r"62.?day", "62_day"),
)
_COUNT = {"bounds": (0, 1_000_000), "typical": (0, 50_000)}

SCHEMA = Schema(
    dataset="cancer",
    columns=(
        *_read.month_columns("First day of the month the patients were treated."),
        Column("org_code", "Provider", "ODS code", "ORG CODE."),
        Column("standard", "Standard", "", "fds_28, 31_day, 62_day, 2ww, 2ww_breast or other."),
        Column("standard_label", "Standard as published", "", "The STANDARD text."),
        Column(
            "total",
            "Patients",
            "count",
            "TOTAL TREATED (seen, told or treated), summed over cancer types and routes.",
            **_COUNT,
        ),
        Column("within_standard", "Within the standard", "count", "WITHIN STANDARD.", **_COUNT),
        Column("breaches", "Breaches", "count", "BREACHES.", **_COUNT),
        Column(
            "within_pct",
            "Within the standard (%)",
            "%",
            "100 x within_standard / total.",
        ),
    ),
    year_convention=(
        "Calendar months (period = first of month); each extract is financial-year-to-date. "
        + YEAR_CONVENTION
    ),
    notes=(
        "Standards changed on 1 October 2023 (2WW retired; 28-day FDS, 31-day, 62-day). Built "
        "from the documented layout and tested on hand-made fixtures only."
    ),
    key=("period", "org_code", "standard_label"),
)


def _standard(label: object) -> str:
    text = _read.norm(label)
    return next((s for rx, s in STANDARDS if re.search(rx, text)), "other")


def _months(src, table: pd.DataFrame, h: list[str]) -> pd.Series:
    """The month of each row: a date in PERIOD, or MONTH placed by PERIOD's (financial) year."""
    period = table.iloc[:, _read.column(src, h, r"^period$", what="the period")]
    i_month = _read.column(src, h, r"^month$", what="the month", required=False)
    month = table.iloc[:, i_month] if i_month is not None else pd.Series(None, index=table.index)
    pairs = list(zip(period, month, strict=True))
    seen = {pair: _read.month_of(*pair) for pair in dict.fromkeys(map(_hashable, pairs))}
    found = pd.Series([seen[_hashable(p)] for p in pairs], index=table.index, dtype=object)
    if found.isna().any():
        bad = period[found.isna()].iloc[0]
        raise DataFileError(
            src.path,
            f"has {int(found.isna().sum())} row(s) whose PERIOD/MONTH names no month (e.g. "
            f"{_read.show(bad)})",
            "Periods read like a date (2023-04-01), a month name with its year, or a financial "
            "year (2023-24) with a MONTH column.",
        )
    return pd.to_datetime(found + "-01")


def _hashable(pair: tuple) -> tuple:
    return tuple(v if isinstance(v, (str, int, float, type(None))) else str(v) for v in pair)


def _parse(src, expect: str | None) -> pd.DataFrame:
    name, data = _read.payload(src, lambda n: n.lower().endswith((".xlsx", ".xls", ".csv")))
    if name.lower().endswith(".csv"):
        table = _read.csv_table(src, name, data)
        h = [_read.norm(c) for c in table.columns]
    else:
        sheet = _read.sheet_table(
            src, name, data, (r".",), [r"^org code$", r"^standard$"], within=20
        )
        h, table = sheet.headers, sheet.body
    table = table[table.iloc[:, h.index("org code")].notna()]
    table = table[table.iloc[:, h.index("org code")].astype(str).str.strip() != ""]

    def count(pattern: str, what: str) -> pd.Series:
        i = _read.column(src, h, pattern, what=what)
        return numbers(table.iloc[:, i].reset_index(drop=True), src, what)

    month = _months(src, table, h).reset_index(drop=True)
    if expect is not None and month.max().strftime("%Y-%m") != expect:
        raise DataFileError(
            src.path,
            f"{name} runs to {month.max():%Y-%m}, but it is locked as {expect}",
            "The lockfile's period and the file disagree: re-add it with --update.",
        )
    label = table.iloc[:, h.index("standard")].astype("string").str.strip().reset_index(drop=True)
    df = pd.DataFrame(
        {
            "period": month,
            "org_code": codes(
                table.iloc[:, h.index("org code")].reset_index(drop=True), src, "ORG CODE"
            ),
            "standard_label": label,
            "total": count(r"^total( treated| seen)?$", "TOTAL TREATED"),
            "within_standard": count(r"^within standard$", "WITHIN STANDARD"),
            "breaches": count(r"^breach(es)?$", "BREACHES"),
        }
    )
    df = df.groupby(["period", "org_code", "standard_label"], as_index=False, sort=False).sum(
        min_count=1
    )
    df["standard"] = df["standard_label"].map(_standard)
    df["_extract"] = expect or month.max().strftime("%Y-%m")
    return df


@_read.documented(
    periods='Extracts to read, each named by its last month (``"2024-03"``: April 2023 - March 2024); default every locked one.',
    path="One provider extract (.xlsx or .csv) to read instead, without a hash check.",
)
def read_cancer(
    lock: str | Path | Lock | None = None,
    *,
    periods: list[str] | None = None,
    path: str | Path | None = None,
) -> pd.DataFrame:
    """Cancer waiting times by month, provider and standard, from the locked extracts.

    Returns
    -------
    pandas.DataFrame
        One row per month, provider and published standard (:data:`SCHEMA`), summed over
        cancer types, routes and modalities; months that several extracts hold come from the
        latest; provenance in ``attrs``.

    Raises
    ------
    DataFileError
        No ORG CODE / STANDARD header, a count column missing, rows without a month, an extract
        that ends in another month than locked.
    """
    df, used = _read.parse_all("cancer", lock, periods, path, _parse)
    df = df.sort_values("_extract", kind="stable")
    df = df.drop_duplicates(["period", "org_code", "standard_label"], keep="last")
    df["year"] = fy_start(df["period"])
    total = df["total"].where(df["total"] > 0)
    df["within_pct"] = (100 * df["within_standard"] / total).round(1)
    df["total"] = df["total"].astype(float)
    df["within_pct"] = df["within_pct"].astype(float).fillna(np.nan)
    return _read.finish(df, SCHEMA, used, sort=["period", "org_code", "standard_label"])
