"""Ambulance response times (AmbSYS): the monthly workbook and the time-series CSV.

Publisher: NHS England, Ambulance Quality Indicators, Ambulance Systems Indicators (AmbSYS) (OGL
v3). Two files, two collections:

* ``ambsys``: the month's workbook, sheet "Response Times": one row per ambulance service (and
  England), and a block of columns per category (C1, C1T, C2, C3, C4) under merged group cells,
  each with the count of incidents, the total response time (hours), the mean and the 90th
  centile (as times ``h:mm:ss``). The reader tells the blocks apart by the group cells.
* ``ambsys_series``: ``AmbSYS-to-<Mon><YY>.csv``, every month since August 2017 by England,
  region and service, one column per AmbSYS indicator code (``Year, Month, Region, Org Code, Org
  Name, A0, A1, ...``), ``.`` for not available. Its period is the last month it holds. The
  codes read are :data:`SERIES_CODES`: ``A25`` as the C1 mean in seconds was seen in a public
  script; the rest follow the AmbSYS specification's pattern and are **not confirmed**: check
  them against the specification before relying on them.

Both give the same table: one row per month, service and category. Built from the documented
layouts and tested on hand-made fixtures only.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DataFileError
from ..schemas import YEAR_CONVENTION, Column, Schema, fy_start
from ..sources._base import codes, numbers
from . import _read
from .lockfile import Lock

#: Response categories, as the workbook's group cells name them (normalised text patterns).
CATEGORIES = {
    "C1T": r"^(c|category) ?1 ?t\b|category 1 transport",
    "C1": r"^(c|category) ?1\b",
    "C2": r"^(c|category) ?2\b",
    "C3": r"^(c|category) ?3\b",
    "C4": r"^(c|category) ?4\b",
}
#: The time-series CSV's indicator codes per category: count, total (seconds), mean, 90th
#: centile (seconds). Only A25 (C1 mean) was seen in use; the others are NOT confirmed.
SERIES_CODES = {
    "C1": ("A8", "A24", "A25", "A26"),
    "C1T": ("A9", "A27", "A28", "A29"),
    "C2": ("A10", "A30", "A31", "A32"),
    "C3": ("A11", "A33", "A34", "A35"),
    "C4": ("A12", "A36", "A37", "A38"),
}
_SECONDS = {"bounds": (0, 86_400 * 2), "typical": (0, 36_000)}

SCHEMA = Schema(
    dataset="ambsys",
    columns=(
        *_read.month_columns(),
        Column("org_code", "Ambulance service", "ODS code", "Org Code."),
        Column("org_name", "Service name", "", "As published."),
        Column("category", "Category", "", "C1, C1T (C1 transported), C2, C3 or C4."),
        Column(
            "incidents",
            "Incidents with a response",
            "count",
            "Count of incidents.",
            bounds=(0, 1_000_000),
            typical=(0, 100_000),
        ),
        Column(
            "total_hours",
            "Total response time",
            "hours",
            "Sum of response times.",
            bounds=(0, 10_000_000),
        ),
        Column("mean_seconds", "Mean response time", "seconds", "As published.", **_SECONDS),
        Column("p90_seconds", "90th centile", "seconds", "As published.", **_SECONDS),
    ),
    year_convention="Calendar months (period = first of month). " + YEAR_CONVENTION,
    notes=(
        "Ambulance services only (England and regions dropped). Built from the documented "
        "layouts and tested on hand-made fixtures only; the time-series CSV's indicator codes "
        "other than A25 are not confirmed."
    ),
    key=("period", "org_code", "category"),
)


def _category(group: str) -> str | None:
    return next((c for c, rx in CATEGORIES.items() if re.search(rx, group)), None)


def _measure(header: str) -> str | None:
    if re.search(r"\bcount\b|incidents", header):
        return "incidents"
    if "total" in header:
        return "total_hours"
    if "mean" in header or "average" in header:
        return "mean_seconds"
    if re.search(r"90(th)? ?(centile|percentile)", header):
        return "p90_seconds"
    return None


def _check_means(src, name: str, df: pd.DataFrame) -> None:
    implied = 3600 * df["total_hours"] / df["incidents"].where(df["incidents"] > 0)
    off = (implied - df["mean_seconds"]).abs() > 1.5
    if off.any():
        i = off[off].index[0]
        warnings.warn(
            f"{src.path}: {name}: {int(off.sum())} row(s) whose mean is not total / count "
            f"(e.g. {df.at[i, 'org_code']} {df.at[i, 'category']}); the published mean is kept.",
            UserWarning,
            stacklevel=4,
        )


def _parse_workbook(src, expect: str | None) -> pd.DataFrame:
    name, data = _read.payload(src, lambda n: n.lower().endswith((".xlsx", ".xls")))
    sheet = _read.sheet_table(src, name, data, "Response Times", [r"code$", r"mean"])
    h, body = sheet.headers, sheet.body
    c_code = _read.column(src, h, r"^(org )?code$", what="the organisation code")
    c_name = _read.column(src, h, r"^(org )?name$", what="the organisation name")
    cols: dict[str, dict[str, int]] = {}
    for i, head in enumerate(h):
        cat, what = _category(sheet.groups[i]), _measure(head)
        if cat and what:
            cols.setdefault(cat, {}).setdefault(what, i)
    if "C1" not in cols or len(cols["C1"]) < 4:
        raise DataFileError(
            src.path,
            f"{name}: sheet 'Response Times' has no C1 block (count, total, mean, 90th centile "
            f"under a 'C1' group cell); blocks found: {sorted(cols)}",
            "The reader tells the categories apart by their group cells; check the sheet.",
        )
    used = [i for c in cols.values() for i in c.values()]
    keep = _read.provider_rows(src, body[c_code], body[c_name], body[used])
    labels = [p for p in sheet.preamble if "period" in p.lower()] or [*sheet.preamble, name]
    period = _read.one_month(src, name, labels, expect)
    rows = body[keep].reset_index(drop=True)
    parts = []
    for cat, got in cols.items():
        part = pd.DataFrame(
            {
                "org_code": codes(rows[c_code], src, "Org Code"),
                "org_name": rows[c_name].astype("string").str.strip(),
                "category": cat,
            }
        )
        for what in ("incidents", "total_hours", "mean_seconds", "p90_seconds"):
            i = got.get(what)
            if i is None:
                part[what] = np.nan
            elif what == "incidents":
                part[what] = _read.counts(rows[i], src, h[i])
            elif what == "total_hours":
                part[what] = numbers(rows[i], src, h[i])
            else:
                part[what] = _read.seconds(rows[i], src, h[i])
        parts.append(part)
    out = pd.concat(parts, ignore_index=True)
    _check_means(src, name, out)
    out["period"] = pd.Timestamp(f"{period}-01")
    out["year"] = fy_start(out["period"])
    return out


def _parse_series(src, expect: str | None) -> pd.DataFrame:
    name, data = _read.payload(src, lambda n: n.lower().endswith(".csv"))
    raw = _read.csv_table(src, name, data)
    h = [_read.norm(c) for c in raw.columns]

    def col(pattern: str, what: str) -> pd.Series:
        return raw.iloc[:, _read.column(src, h, pattern, what=what)]

    year = numbers(col(r"^year$", "the year"), src, "Year")
    month = numbers(col(r"^month$", "the month"), src, "Month")
    code, org = col(r"^org code$", "the org code"), col(r"^org name$", "the org name")
    keep = _read.provider_rows(src, code, org, raw.iloc[:, 5:])
    keep &= year.notna() & month.notna()
    periods = pd.to_datetime({"year": year[keep], "month": month[keep], "day": 1}, errors="coerce")
    last = periods.max().strftime("%Y-%m") if len(periods) else None
    if expect is not None and last != expect:
        raise DataFileError(
            src.path,
            f"{name} runs to {last}, but it is locked as {expect}",
            "The lockfile's period and the file disagree: re-add it with --update.",
        )
    rows = raw[keep].reset_index(drop=True)
    parts = []
    for cat, (n, total, mean, p90) in SERIES_CODES.items():
        got = {}
        for what, c in (("incidents", n), ("total", total), ("mean", mean), ("p90", p90)):
            i = _read.column(src, h, rf"^{c.lower()}$", what=f"{cat} {what} ({c})", required=False)
            got[what] = numbers(rows.iloc[:, i], src, c) if i is not None else np.nan
        parts.append(
            pd.DataFrame(
                {
                    "period": periods.reset_index(drop=True),
                    "org_code": codes(rows.iloc[:, h.index("org code")], src, "Org Code"),
                    "org_name": rows.iloc[:, h.index("org name")].str.strip(),
                    "category": cat,
                    "incidents": got["incidents"],
                    "total_hours": got["total"] / 3600,
                    "mean_seconds": got["mean"],
                    "p90_seconds": got["p90"],
                }
            )
        )
    out = pd.concat(parts, ignore_index=True)
    out = out.dropna(subset=["incidents", "mean_seconds", "p90_seconds"], how="all")
    _check_means(src, name, out)
    out["year"] = fy_start(out["period"])
    return out


def _read_files(collection: str, parser, lock, periods, path) -> pd.DataFrame:
    df, used = _read.parse_all(collection, lock, periods, path, parser)
    if collection == "ambsys_series":  # each file repeats the months before it: the latest wins
        df = df.drop_duplicates(["period", "org_code", "category"], keep="last")
    return _read.finish(df, SCHEMA, used, sort=["period", "org_code", "category"])


@_read.documented(
    periods="Months to read (``YYYY-MM``); default every locked month.",
    path="One monthly AmbSYS workbook to read instead, without a hash check.",
)
def read_ambsys(
    lock: str | Path | Lock | None = None,
    *,
    periods: list[str] | None = None,
    path: str | Path | None = None,
) -> pd.DataFrame:
    """Ambulance response times by service and category, from the locked monthly workbooks.

    Returns
    -------
    pandas.DataFrame
        One row per month, service and category (:data:`SCHEMA`); provenance in ``attrs``.

    Raises
    ------
    DataFileError
        No sheet "Response Times", no C1 block, a duration that is not one.
    """
    return _read_files("ambsys", _parse_workbook, lock, periods, path)


@_read.documented(
    periods="Files to read, by their last month; default every locked one.",
    path="One ``AmbSYS-to-...csv`` to read instead, without a hash check.",
)
def read_ambsys_series(
    lock: str | Path | Lock | None = None,
    *,
    periods: list[str] | None = None,
    path: str | Path | None = None,
) -> pd.DataFrame:
    """Ambulance response times by service, category and month, from the time-series CSV.

    Each locked file (named by its last month) holds every month before it too; where several
    are read, the latest one's figures are kept for the months they share.

    Returns
    -------
    pandas.DataFrame
        The same columns as :func:`read_ambsys`.

    Raises
    ------
    DataFileError
        A column missing, a file ending in another month than locked.
    """
    return _read_files("ambsys_series", _parse_series, lock, periods, path)
