"""A&E attendances and emergency admissions: NHS England's monthly CSV and provider workbook.

Publisher: NHS England, A&E Attendances and Emergency Admissions (OGL v3). Two files a month,
read into the same table (one row per provider and month):

* the CSV (``Monthly-AE-<Month>-<YYYY>.csv``, collection ``ae``): attendances, over-4-hour
  attendances and emergency admissions by department type (Type 1, Type 2, Other A&E
  Department), booked appointments in their own columns (added to the type's totals here),
  decision-to-admit waits of 4-12 and 12+ hours;
* the workbook (``<Month>-<YYYY>-AE-by-provider-<suffix>.xls``, collection ``ae_provider``),
  sheet "Provider Level Data": a title block, merged group cells ("A&E attendances", "A&E
  attendances > 4 hours from arrival to admission, transfer or discharge", "Emergency
  Admissions") above the column names (which repeat between groups), then England and a blank
  row, the providers, and footnotes; '-' where a provider has no department of a type.

Headers and columns are found by their text, never by position. Built from the documented
layouts and tested on hand-made fixtures only (the workbook as a genuine .xls, BIFF8 written
by xlwt, and as .xlsx), not yet on a published file.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DataFileError
from ..schemas import YEAR_CONVENTION, Column, Schema, fy_start
from ..sources._base import codes
from . import _read
from .lockfile import Lock

_COUNT = {"bounds": (0, 1_000_000), "typical": (0, 100_000)}
TYPES = ("type1", "type2", "other")

SCHEMA = Schema(
    dataset="ae",
    columns=(
        Column("period", "Month", "date", "First day of the month reported."),
        Column("year", "Financial year", "FY start", "Financial year start of the month."),
        Column("org_code", "Provider", "ODS code", "Org Code (CSV) or Code (workbook)."),
        Column("org_name", "Provider name", "", "As published."),
        Column("parent_org", "Parent organisation", "", "Parent Org (CSV) or Region (workbook)."),
        *(
            Column(
                f"attendances_{t}",
                f"Attendances, {t.replace('type', 'type ')}",
                "count",
                "Attendances at this department type (booked appointments included).",
                **_COUNT,
            )
            for t in TYPES
        ),
        Column("attendances_total", "Attendances", "count", "All department types.", **_COUNT),
        *(
            Column(
                f"over_4hr_{t}",
                f"Over 4 hours, {t.replace('type', 'type ')}",
                "count",
                "Attendances over 4 hours from arrival to admission, transfer or discharge.",
                **_COUNT,
            )
            for t in TYPES
        ),
        Column("over_4hr_total", "Over 4 hours", "count", "All department types.", **_COUNT),
        Column(
            "within_4hr_pct",
            "Seen within 4 hours (%)",
            "%",
            "100 x (1 - over_4hr_total / attendances_total), all department types.",
        ),
        Column(
            "within_4hr_pct_type1",
            "Type 1 within 4 hours (%)",
            "%",
            "The same for type 1 (major) departments.",
        ),
        Column(
            "dta_over_4hr",
            "Over 4 hours from decision to admit",
            "count",
            "Patients waiting more than 4 hours from the decision to admit to admission.",
            **_COUNT,
        ),
        Column(
            "dta_over_12hr",
            "Over 12 hours from decision to admit",
            "count",
            "Patients waiting more than 12 hours from the decision to admit to admission.",
            **_COUNT,
        ),
        Column(
            "emergency_admissions_ae",
            "Emergency admissions via A&E",
            "count",
            "Emergency admissions through any A&E department type.",
            **_COUNT,
        ),
        Column(
            "other_emergency_admissions",
            "Other emergency admissions",
            "count",
            "Emergency admissions not through A&E.",
            **_COUNT,
        ),
    ),
    year_convention="Calendar months (period = first of month). " + YEAR_CONVENTION,
    notes=(
        "A provider with no department of a type has '-' there: missing, not 0. Built from "
        "the documented layouts and tested on hand-made fixtures only."
    ),
    key=("period", "org_code"),
)


def _total(parts: list[pd.Series]) -> pd.Series:
    """Row sums that stay missing only when every part is missing."""
    return pd.concat(parts, axis=1).sum(axis=1, min_count=1)


def _pct(over: pd.Series, attendances: pd.Series) -> pd.Series:
    return (100 * (1 - over / attendances.where(attendances > 0))).round(1)


def _frame(src, period: str, code: pd.Series, name, parent, got: dict[str, pd.Series]):
    df = pd.DataFrame(
        {
            "org_code": codes(code.reset_index(drop=True), src, "Org Code"),
            "org_name": name.reset_index(drop=True).astype("string").str.strip(),
            "parent_org": (
                parent.reset_index(drop=True).astype("string").str.strip()
                if parent is not None
                else pd.NA
            ),
        }
    )
    for k, v in got.items():
        df[k] = v.reset_index(drop=True)
    df["period"] = pd.Timestamp(f"{period}-01")
    df["year"] = fy_start(df["period"])
    df["within_4hr_pct"] = _pct(df["over_4hr_total"], df["attendances_total"])
    df["within_4hr_pct_type1"] = _pct(df["over_4hr_type1"], df["attendances_type1"])
    return df


def _parse_csv(src, name: str, data: bytes, expect: str | None) -> pd.DataFrame:
    raw = _read.csv_table(src, name, data)
    headers = [_read.norm(c) for c in raw.columns]

    def col(pattern: str, what: str, required: bool = True) -> pd.Series | None:
        i = _read.column(src, headers, pattern, what=what, required=required)
        return None if i is None else raw.iloc[:, i]

    def count(pattern: str, what: str, required: bool = True) -> pd.Series | None:
        c = col(pattern, what, required)
        return None if c is None else _read.counts(c, src, what)

    kinds = {"type1": "type 1", "type2": "type 2", "other": "other (a&e )?department"}
    got: dict[str, pd.Series] = {}
    for t, k in kinds.items():
        parts = [count(rf"^a&e attendances {k}$", f"A&E attendances {k}")]
        booked = count(rf"^a&e attendances booked appointments {k}$", "booked", False)
        got[f"attendances_{t}"] = _total(parts + ([booked] if booked is not None else []))
        parts = [count(rf"^attendances over 4 ?hrs {k}$", f"attendances over 4hrs {k}")]
        booked = count(rf"^attendances over 4 ?hrs booked appointments {k}$", "booked", False)
        got[f"over_4hr_{t}"] = _total(parts + ([booked] if booked is not None else []))
    got["attendances_total"] = _total([got[f"attendances_{t}"] for t in TYPES])
    got["over_4hr_total"] = _total([got[f"over_4hr_{t}"] for t in TYPES])
    dta_4_12 = count(r"4-12 ?hs? from dta", "waits of 4-12 hours from decision to admit")
    dta_12 = count(r"12\+ ?hrs? from dta", "waits of 12+ hours from decision to admit")
    got["dta_over_4hr"] = _total([dta_4_12, dta_12])
    got["dta_over_12hr"] = dta_12
    got["emergency_admissions_ae"] = _total(
        [
            count(rf"^emergency admissions via a&e - {k}$", f"emergency admissions {k}")
            for k in kinds.values()
        ]
    )
    got["other_emergency_admissions"] = count(r"^other emergency admissions", "other admissions")
    code, org_name = col(r"^org code$", "the org code"), col(r"^org name$", "the org name")
    values = pd.DataFrame({k: v for k, v in got.items()})
    keep = _read.provider_rows(src, code, org_name, raw.iloc[:, 4:])
    period = _read.one_month(src, name, col(r"^period$", "the period")[keep], expect)
    parent = col(r"^parent org$", "the parent org", False)
    return _frame(
        src,
        period,
        code[keep],
        org_name[keep],
        None if parent is None else parent[keep],
        {k: v[keep] for k, v in values.items()},
    )


def _type_columns(group: list[str], headers: list[str], n: str) -> tuple[int, int]:
    """The attendances and over-4-hour columns of department type ``n`` ("1", "2", "3")."""
    rx = re.compile(rf"^type {n}\b")
    hits = [i for i, h in enumerate(headers) if rx.search(h)]
    over = [i for i in hits if "4 hours" in group[i] or "4 hrs" in group[i]]
    plain = [i for i in hits if i not in over]
    if over and plain:
        return plain[0], over[0]
    if len(hits) >= 2:  # no group row to tell them apart: attendances come first
        return hits[0], hits[1]
    raise LookupError(f"type {n}")


def _parse_workbook(src, name: str, data: bytes, expect: str | None) -> pd.DataFrame:
    sheet = _read.sheet_table(src, name, data, "Provider Level Data", ["^code$", "^name$"])
    headers, group, body = sheet.headers, sheet.groups, sheet.body
    preamble = sheet.preamble
    labels = [p for p in preamble if "period" in p.lower()] or preamble
    period = _read.one_month(src, name, labels, expect)

    def at(i: int, what: str) -> pd.Series:
        return _read.counts(body[i], src, what)

    def find(pattern: str, what: str, required: bool = True) -> int | None:
        return _read.column(src, headers, pattern, what=what, required=required)

    got: dict[str, pd.Series] = {}
    for t, n in (("type1", "1"), ("type2", "2"), ("other", "3")):
        try:
            a, o = _type_columns(group, headers, n)
        except LookupError:
            raise DataFileError(
                src.path,
                f"{name}: sheet 'Provider Level Data' has no pair of 'Type {n} Departments' "
                "columns (attendances, and over 4 hours)",
                "The reader finds the columns by their text; check the sheet is the published "
                "provider table.",
            ) from None
        got[f"attendances_{t}"] = at(a, f"Type {n} attendances")
        got[f"over_4hr_{t}"] = at(o, f"Type {n} over 4 hours")
    got["attendances_total"] = at(find(r"^total attendances$", "total attendances"), "total")
    got["over_4hr_total"] = at(
        find(r"^total attendances ?> ?4 hours", "total attendances over 4 hours"), "total > 4h"
    )
    dta4 = find(r"(>|more than) ?4 hours from decision to admit", "DTA waits over 4 hours")
    dta12 = find(r"(>|more than) ?12 hours from decision to admit", "DTA waits over 12 hours")
    got["dta_over_4hr"] = at(dta4, "DTA > 4 hours")
    got["dta_over_12hr"] = at(dta12, "DTA > 12 hours")
    got["emergency_admissions_ae"] = at(
        find(r"^total emergency admissions via a&e$", "emergency admissions via A&E"), "adm"
    )
    got["other_emergency_admissions"] = at(
        find(r"^other emergency admissions", "other emergency admissions"), "other adm"
    )
    c_code = find(r"^code$", "the code")
    c_name = find(r"^name$", "the name")
    c_region = find(r"^region", "the region", required=False)
    keep = _read.provider_rows(src, body[c_code], body[c_name], body.drop(columns=[c_code, c_name]))
    df = _frame(
        src,
        period,
        body[c_code][keep],
        body[c_name][keep],
        None if c_region is None else body[c_region][keep],
        {k: v[keep] for k, v in got.items()},
    )
    published = find(r"^percentage in 4 hours or less \(all\)$", "the 4-hour share", False)
    if published is not None:
        share = _read.numbers(body[published][keep].reset_index(drop=True), src, "percentage")
        share = share * 100 if share.max() <= 1 else share  # a fraction formatted as %
        gap = (share - df["within_4hr_pct"]).abs()
        if (gap > 0.5).any():
            i = gap[gap > 0.5].index[0]
            warnings.warn(
                f"{src.path}: {name}: the published 4-hour share of {df.at[i, 'org_code']} "
                f"({share[i]:.1f}%) differs from its counts ({df.at[i, 'within_4hr_pct']:.1f}%); "
                "the share from the counts is kept.",
                UserWarning,
                stacklevel=3,
            )
    return df


def _read_files(collection, parser, member, lock, periods, path) -> pd.DataFrame:
    def parse(src, expect):
        return parser(src, *_read.payload(src, member), expect)

    df, used = _read.parse_all(collection, lock, periods, path, parse)
    for c in df.columns:
        if c.startswith(("attendances", "over_", "dta_", "emergency", "other_")):
            df[c] = df[c].astype(float)
    df["parent_org"] = df["parent_org"].astype(object).where(df["parent_org"].notna(), np.nan)
    return _read.finish(df, SCHEMA, used, sort=["period", "org_code"])


@_read.documented(
    periods="Months to read (``YYYY-MM``); default every locked month.",
    path="One monthly CSV to read instead, without a hash check.",
)
def read_ae(
    lock: str | Path | Lock | None = None,
    *,
    periods: list[str] | None = None,
    path: str | Path | None = None,
) -> pd.DataFrame:
    """Monthly A&E counts by provider from the locked monthly CSVs (collection ``ae``).

    Returns
    -------
    pandas.DataFrame
        One row per month and provider (:data:`SCHEMA`); provenance in ``attrs``.

    Raises
    ------
    DataFileError
        A column the layout documents is missing, or counts are not counts.
    """
    member = lambda n: n.lower().endswith(".csv")  # noqa: E731
    return _read_files("ae", _parse_csv, member, lock, periods, path)


@_read.documented(
    periods="Months to read (``YYYY-MM``); default every locked month.",
    path="One workbook (.xls or .xlsx) to read instead, without a hash check.",
)
def read_ae_provider(
    lock: str | Path | Lock | None = None,
    *,
    periods: list[str] | None = None,
    path: str | Path | None = None,
) -> pd.DataFrame:
    """Monthly A&E counts by provider from the locked provider workbooks (``ae_provider``).

    Returns
    -------
    pandas.DataFrame
        The same columns as :func:`read_ae`.

    Raises
    ------
    DataFileError
        No sheet "Provider Level Data", no header row with Code and Name, a documented column
        missing.
    """
    member = lambda n: n.lower().endswith((".xls", ".xlsx"))  # noqa: E731
    return _read_files("ae_provider", _parse_workbook, member, lock, periods, path)
