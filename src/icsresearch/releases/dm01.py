"""Diagnostics waiting times and activity (DM01): the monthly provider workbook.

Publisher: NHS England, Monthly Diagnostics Waiting Times and Activity (OGL v3). Each month's
"Monthly-Diagnostics-Web-File-Provider-<Month>-<YYYY>-<suffix>.xls" has a sheet "Provider": a
title block (the header near row 14, "skip 13"), then England and a blank row, then one row per
provider: ``Provider Code, Provider Name, Total Waiting List, Number waiting 6+ Weeks, Number
waiting 13+ Weeks``, a percentage and activity columns. The reader finds the header row and the
columns by text (case ignored), drops England, blank and footnote rows, and keeps ``-`` missing.
The 6-week standard (1% waiting 6 weeks or more) is checked by ``waiting_6wk_pct``.

Built from the documented layout and tested on hand-made fixtures only (genuine .xls, BIFF8
written by xlwt, and .xlsx), not yet on a published file.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..schemas import YEAR_CONVENTION, Column, Schema, fy_start
from ..sources._base import codes
from . import _read
from .lockfile import Lock

_COUNT = {"bounds": (0, 1_000_000), "typical": (0, 100_000)}

SCHEMA = Schema(
    dataset="dm01",
    columns=(
        *_read.month_columns("First day of the month (waiting list at its end)."),
        Column("org_code", "Provider", "ODS code", "Provider Code."),
        Column("org_name", "Provider name", "", "As published."),
        Column(
            "waiting_list",
            "Waiting for a diagnostic test",
            "count",
            "Total Waiting List (the 15 key tests).",
            **_COUNT,
        ),
        Column(
            "waiting_6wk", "Waiting 6 weeks or more", "count", "Number waiting 6+ Weeks.", **_COUNT
        ),
        Column(
            "waiting_13wk",
            "Waiting 13 weeks or more",
            "count",
            "Number waiting 13+ Weeks (missing when the file has no such column).",
            **_COUNT,
        ),
        Column(
            "waiting_6wk_pct",
            "Waiting 6 weeks or more (%)",
            "%",
            "100 x waiting_6wk / waiting_list (the standard is under 1%).",
        ),
        Column(
            "activity",
            "Tests done in the month",
            "count",
            "Total activity, when the file has it.",
            **_COUNT,
        ),
    ),
    year_convention="Calendar months (period = first of month). " + YEAR_CONVENTION,
    notes="Built from the documented layout and tested on hand-made fixtures only.",
    key=("period", "org_code"),
)


def _parse(src, expect: str | None) -> pd.DataFrame:
    name, data = _read.payload(src, lambda n: n.lower().endswith((".xlsx", ".xls")))
    sheet = _read.sheet_table(src, name, data, "Provider", [r"^provider code$"])
    h, body = sheet.headers, sheet.body

    def find(pattern: str, what: str, required: bool = True) -> int | None:
        return _read.column(src, h, pattern, what=what, required=required)

    c_code = find(r"^provider code$", "the provider code")
    c_name = find(r"^provider name$", "the provider name")
    got = {
        "waiting_list": find(r"^total waiting list$", "the total waiting list"),
        "waiting_6wk": find(r"^number waiting 6\+ ?weeks$", "the number waiting 6+ weeks"),
        "waiting_13wk": find(r"^number waiting 13\+ ?weeks$", "waiting 13+ weeks", False),
        "activity": find(r"^total activity$", "total activity", False),
    }
    counted = [i for i in got.values() if i is not None]
    keep = _read.provider_rows(src, body[c_code], body[c_name], body[counted])
    labels = [p for p in sheet.preamble if "period" in p.lower()] or [*sheet.preamble, name]
    period = _read.one_month(src, name, labels, expect)
    rows = body[keep].reset_index(drop=True)
    out = pd.DataFrame(
        {
            "org_code": codes(rows[c_code], src, "Provider Code"),
            "org_name": rows[c_name].astype("string").str.strip(),
        }
    )
    for k, i in got.items():
        out[k] = _read.counts(rows[i], src, h[i]) if i is not None else float("nan")
    total = out["waiting_list"].where(out["waiting_list"] > 0)
    out["waiting_6wk_pct"] = (100 * out["waiting_6wk"] / total).round(2)
    out["period"] = pd.Timestamp(f"{period}-01")
    out["year"] = fy_start(out["period"])
    return out


@_read.documented(
    periods="Months to read (``YYYY-MM``); default every locked month.",
    path="One provider workbook (.xls or .xlsx) to read instead, without a hash check.",
)
def read_dm01(
    lock: str | Path | Lock | None = None,
    *,
    periods: list[str] | None = None,
    path: str | Path | None = None,
) -> pd.DataFrame:
    """Diagnostic waiting lists and 6-week waits by provider, from the locked monthly workbooks.

    Returns
    -------
    pandas.DataFrame
        One row per month and provider (:data:`SCHEMA`); provenance in ``attrs``.

    Raises
    ------
    DataFileError
        No sheet "Provider", no header row with Provider Code, a documented column missing,
        another month than locked.
    """
    df, used = _read.parse_all("dm01", lock, periods, path, _parse)
    return _read.finish(df, SCHEMA, used, sort=["period", "org_code"])
