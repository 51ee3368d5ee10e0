"""NHS Workforce Statistics: HCHS staff FTE by staff group and organisation, monthly.

Publisher: NHS England (formerly NHS Digital), NHS Workforce Statistics (OGL v3). Each month's
publication page has a workbook "NHS Workforce Statistics, <Month> <YYYY> England and
Organisation.xlsx" whose organisation table (sheet "3. NHSE, Org & SG - FTE" in the files seen)
has one row per organisation and one column per staff group: ``Total`` (or ``All staff
groups``), ``HCHS doctors``, its grades (``Consultant`` ...), ``Nurses & health visitors``,
``Midwives``, ``Scientific, therapeutic & technical staff``, ``Support to doctors, nurses &
midwives``, ``Senior managers``, ``Managers`` ..., under merged group cells
(``Professionally qualified clinical staff``, ``Support to clinical staff``, ``NHS
infrastructure support``). A headcount table of the same shape sits beside it.

Reported drift, none of it confirmed here on a real file: the organisation name and code columns
have no header text in some years; blank spacer columns sit between the staff groups in some
years; ICS code and name columns were inserted before the organisation's in 2023; group
subtotals repeat the text ``All staff groups``; in 2026 the workbook was renamed "... Trusts and
core organisations - data tables", its sheet to "2", with ``Data month`` and ``Data type`` (FTE
or headcount rows) columns added. So the reader finds the sheet, its header row and every column
by text, takes the organisation code column by its content where it has no header, and keeps the
FTE rows when a ``Data type`` column says which. ``-`` (not applicable) stays missing.

Built from the documented layouts and tested on hand-made fixtures only.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DataFileError
from ..schemas import YEAR_CONVENTION, Column, Schema, fy_start
from ..sources._base import codes, numbers
from . import _read
from .lockfile import Lock

_FTE = {"bounds": (0, 100_000), "typical": (0, 30_000)}

#: Staff-group columns: reader column -> (header patterns on normalised text, label).
GROUPS = {
    "all_staff_fte": ((r"^(total|all staff groups)$",), "All staff groups"),
    "doctors_fte": ((r"^hchs doctors\b",), "HCHS doctors (all grades)"),
    "consultants_fte": ((r"^consultants?\b(?!.*associate)",), "Consultants"),
    "nurses_fte": ((r"^nurses (&|and) health visitors$",), "Nurses & health visitors"),
    "midwives_fte": ((r"^midwives$",), "Midwives"),
    "scientific_fte": (
        (r"^scientific,? therapeutic (&|and) technical staff$",),
        "Scientific, therapeutic & technical staff",
    ),
    "support_fte": (
        (r"^support to doctors,? nurses (&|and) midwives$",),
        "Support to doctors, nurses & midwives",
    ),
    "managers_fte": ((r"^managers$", r"^senior managers$"), "Managers + Senior managers"),
}

SCHEMA = Schema(
    dataset="workforce",
    columns=(
        *_read.month_columns("First day of the month of the ESR snapshot."),
        Column("org_code", "Organisation", "ODS code", "NHS trust or other core organisation."),
        Column("org_name", "Organisation name", "", "As published."),
        *(
            Column(col, label, "FTE", f"Staff group(s) '{label}', full-time equivalent.", **_FTE)
            for col, (_, label) in GROUPS.items()
        ),
    ),
    year_convention=(
        "Monthly snapshots (the last day of the month); `period` is the first of the month and "
        "`year` its financial year. The trust-year panel takes the September snapshot, the "
        "census month of the 2009-2018 compilation. " + YEAR_CONVENTION
    ),
    notes=(
        "HCHS staff in NHS trusts and other core organisations; '-' is missing, not 0. Built "
        "from the documented layouts and tested on hand-made fixtures only."
    ),
    key=("period", "org_code"),
)

#: Sheet names tried in order (normalised): the FTE organisation table, then any other.
_SHEETS = (r"org.*(sg|staff group).*fte", r"^2$", r"fte", r".")


def _code_column(src, sheet: _read.Sheet, before: int) -> int:
    """The organisation code column: by its header, else the codes nearest left of the total."""
    i = _read.column(src, sheet.headers, r"^(organisation|org) code$", what="code", required=False)
    if i is not None:
        return i
    for j in range(before - 1, -1, -1):
        cells = sheet.body[j].astype("string").str.strip().str.upper().dropna()
        cells = cells[cells != ""]
        if len(cells) and cells.str.fullmatch(_read.ODS.pattern).mean() >= 0.5:
            return j
    raise DataFileError(
        src.path,
        f"sheet {sheet.name!r} has no organisation code column (no header 'Organisation code', "
        "and no column of ODS codes left of the total)",
        "The reader finds the columns by their text; check the sheet is the organisation table.",
    )


def _parse(src, expect: str | None) -> pd.DataFrame:
    name, data = _read.payload(src, lambda n: n.lower().endswith((".xlsx", ".xls")))
    sheet = _read.sheet_table(
        src, name, data, _SHEETS, [r"^nurses (&|and) health visitors$", r"^hchs doctors\b"]
    )
    if "headcount" in sheet.name.lower() or sheet.name.lower().endswith(" hc"):
        raise DataFileError(
            src.path,
            f"{name}: the staff-group table found is the headcount one ({sheet.name!r})",
            "The reader wants the FTE table; check the workbook's sheets.",
        )
    h, body = sheet.headers, sheet.body

    def find(pattern: str, what: str, required: bool = True) -> int | None:
        return _read.column(src, h, pattern, what=what, required=required)

    total = find(GROUPS["all_staff_fte"][0][0], "all staff groups ('Total')")
    c_code = _code_column(src, sheet, total)
    c_name = find(r"^(organisation|org) name$", "the name", required=False)
    if c_name is None:
        c_name = c_code - 1 if c_code > 0 else c_code
    rows = pd.Series(True, index=body.index)
    c_type = find(r"^data type$", "the data type", required=False)
    if c_type is not None:
        kind = body[c_type].map(_read.norm)
        rows &= kind.isin({"fte", "full time equivalent"}) | ~kind.isin(
            {"headcount", "hc", "fte", "full time equivalent"}
        )
    c_month = find(r"^data month$", "the data month", required=False)
    group_cols = [i for i, _ in enumerate(h) if i not in (c_code, c_name)]
    keep = rows & _read.provider_rows(src, body[c_code], body[c_name], body[group_cols])
    codes_raw = body[c_code].astype("string").str.strip().str.upper()
    keep &= ~codes_raw.str.fullmatch(r"Q[A-Z0-9]{2}").fillna(False)  # ICB subtotal rows
    labels = (
        body[c_month][keep] if c_month is not None else [p for p in sheet.preamble if p] + [name]
    )
    period = _read.one_month(src, name, labels, expect)
    doctors = find(GROUPS["doctors_fte"][0][0], "HCHS doctors")
    out = pd.DataFrame(
        {
            "org_code": codes(body[c_code][keep].reset_index(drop=True), src, "Organisation code"),
            "org_name": body[c_name][keep].astype("string").str.strip().reset_index(drop=True),
        }
    )
    for col, (patterns, label) in GROUPS.items():
        parts = []
        for p in patterns:
            # consultants are a grade of HCHS doctors: looked for after the doctors' column
            start = doctors + 1 if col == "consultants_fte" else 0
            i = _read.column(src, h[start:], p, what=label, required=col != "consultants_fte")
            if i is not None:
                parts.append(numbers(body[start + i][keep].reset_index(drop=True), src, label))
        out[col] = pd.concat(parts, axis=1).sum(axis=1, min_count=1) if parts else pd.Series(np.nan)
    named = ["doctors_fte", "nurses_fte", "midwives_fte", "scientific_fte", "support_fte"]
    over = out[named].sum(axis=1) > out["all_staff_fte"] * 1.001 + 1
    if over.any():
        i = over[over].index[0]
        warnings.warn(
            f"{src.path}: {name}: {int(over.sum())} organisation(s) whose staff groups add up to "
            f"more than their total (e.g. {out.at[i, 'org_code']}); check the columns read.",
            UserWarning,
            stacklevel=3,
        )
    out["period"] = pd.Timestamp(f"{period}-01")
    out["year"] = fy_start(out["period"])
    return out


@_read.documented(
    periods="Months to read (``YYYY-MM``); default every locked month.",
    path='One "England and Organisation" workbook to read instead, without a hash check.',
)
def read_workforce(
    lock: str | Path | Lock | None = None,
    *,
    periods: list[str] | None = None,
    path: str | Path | None = None,
) -> pd.DataFrame:
    """HCHS staff FTE by staff group and organisation, from the locked monthly workbooks.

    Returns
    -------
    pandas.DataFrame
        One row per month and organisation (:data:`SCHEMA`): all staff, doctors, consultants,
        nurses, midwives, scientific & technical, support to clinical staff and managers FTE;
        provenance in ``attrs``.

    Raises
    ------
    DataFileError
        No FTE staff-group table, a staff group missing, another month than locked.
    """
    df, used = _read.parse_all("workforce", lock, periods, path, _parse)
    return _read.finish(df, SCHEMA, used, sort=["period", "org_code"])


#: The trust-year panel's workforce columns (all of :data:`GROUPS` the panel has).
PANEL_COLUMNS = (
    "managers_fte",
    "consultants_fte",
    "all_staff_fte",
    "nurses_fte",
    "doctors_fte",
    "support_fte",
)


@_read.documented()
def workforce_trust_year(lock: str | Path | Lock | None = None) -> pd.DataFrame:
    """The trust-year panel's workforce columns from the locked September snapshots.

    September is the census month of the 2009-2018 compilation: September 2024's file gives
    2024/25 (``year`` 2024).

    Returns
    -------
    pandas.DataFrame
        ``trust_code``, ``year``, :data:`PANEL_COLUMNS` and ``snapshot_period``; empty (same
        columns) when no September file is locked.
    """
    cols = ["trust_code", "year", *PANEL_COLUMNS, "snapshot_period"]
    book, september = _read.locked_periods("workforce", lock, "09")
    if not september:
        return _read.empty(cols)
    wf = read_workforce(book, periods=september)
    out = wf.rename(columns={"org_code": "trust_code"})
    out["snapshot_period"] = out["period"].dt.strftime("%Y-%m")
    out = out[cols].reset_index(drop=True)
    out.attrs = dict(wf.attrs)
    return out
