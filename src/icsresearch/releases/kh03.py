"""KH03 bed availability and occupancy: overnight beds by NHS trust and sector, quarterly.

Publisher: NHS England, Bed Availability and Occupancy Data - Overnight (KH03) (OGL v3). Each
quarter's workbook ("Beds-Open-Overnight-Web_File-Final-Q4-2020-21-Final-THSDF.xlsx") has a
sheet "NHS Trust by Sector": a title block (the header near row 15, "skip 14"), then England and
a blank row, then one row per trust: ``Year, Period End, Region Code, Org Code, Org Name``, the
average daily available beds by sector (``Total, General & Acute, Learning Disabilities,
Maternity, Mental Illness``), the occupied beds by sector and the % occupied by sector: the same
sector names three times, under merged group cells. The reader tells the three blocks apart by
the group cells (or, without them, by their order), finds every column by text, and drops the
England, blank and footnote rows; ``-`` (no beds of a sector) stays missing.

A period is the quarter's last month: ``2024-03`` is Q4 2023/24 (January-March 2024). Built from
the documented layout and tested on hand-made fixtures only.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pandas as pd

from ..errors import DataFileError
from ..schemas import YEAR_CONVENTION, Column, Schema, fy_start
from ..sources._base import codes, numbers
from . import _read
from .lockfile import Lock, read

#: Sectors: reader name -> header pattern (normalised text).
SECTORS = {
    "total": r"^total$",
    "general_acute": r"^general (&|and) acute$",
    "learning_disabilities": r"^learning disabilit(y|ies)$",
    "maternity": r"^maternity$",
    "mental_illness": r"^mental illness$",
}
_BEDS = {"bounds": (0, 20_000), "typical": (0, 5_000)}

SCHEMA = Schema(
    dataset="kh03",
    columns=(
        Column("period", "Quarter", "date", "First day of the quarter's last month."),
        Column("year", "Financial year", "FY start", "Financial year start of the quarter."),
        Column("quarter", "Quarter of the financial year", "1-4", "1 = April-June.", bounds=(1, 4)),
        Column("org_code", "Trust", "ODS code", "Org Code."),
        Column("org_name", "Trust name", "", "As published."),
        *(
            Column(
                f"{kind}_{sector}",
                f"Beds {kind}, {sector.replace('_', ' ')}",
                "beds",
                f"Average daily overnight beds {kind} in the quarter.",
                **_BEDS,
            )
            for kind in ("available", "occupied")
            for sector in SECTORS
        ),
        Column(
            "occupancy_pct",
            "Occupancy, all sectors (%)",
            "%",
            "100 x occupied_total / available_total.",
            bounds=(0, 200),
        ),
    ),
    year_convention=(
        "Quarterly averages of daily counts; `period` is the first day of the quarter's last "
        "month (2024-03-01 for January-March 2024) and `year` its financial year. "
        + YEAR_CONVENTION
    ),
    notes=(
        "Overnight beds, NHS trusts. '-' is missing, not 0. Built from the documented layout "
        "and tested on hand-made fixtures only."
    ),
    key=("period", "org_code"),
)


def _blocks(src, sheet: _read.Sheet) -> dict[str, dict[str, int]]:
    """``{"available": {sector: column}, "occupied": {...}}`` from the group cells or by order."""
    out: dict[str, dict[str, int]] = {"available": {}, "occupied": {}}
    for sector, pattern in SECTORS.items():
        hits = [i for i, h in enumerate(sheet.headers) if re.search(pattern, h)]
        by_group = {
            kind: [i for i in hits if kind in sheet.groups[i] and "%" not in sheet.groups[i]]
            for kind in out
        }
        if all(by_group.values()):
            for kind in out:
                out[kind][sector] = by_group[kind][0]
        elif len(hits) >= 2:  # no group cells: available, then occupied, then % occupied
            out["available"][sector], out["occupied"][sector] = hits[0], hits[1]
        elif sector == "total":
            raise DataFileError(
                src.path,
                f"sheet {sheet.name!r} has no pair of 'Total' columns (available and occupied)",
                "The reader finds the columns by their text; check the sheet is 'NHS Trust by "
                "Sector'.",
            )
    return out


def _quarter_end(sheet: _read.Sheet, body: pd.DataFrame, src, name, expect) -> str:
    """The quarter's last month from the Year and Period End cells (or the title block)."""
    c_year = _read.column(src, sheet.headers, r"^year$", what="year", required=False)
    c_end = _read.column(src, sheet.headers, r"^period end$", what="period", required=False)
    labels: list[str] = []
    if c_year is not None and c_end is not None:
        labels = [m for m in map(_read.month_of, body[c_year], body[c_end]) if m]
    return _read.one_month(src, name, labels or [*sheet.preamble, name], expect)


def _parse(src, expect: str | None) -> pd.DataFrame:
    name, data = _read.payload(src, lambda n: n.lower().endswith((".xlsx", ".xls")))
    sheet = _read.sheet_table(src, name, data, "NHS Trust by Sector", [r"^org code$"])
    c_code = _read.column(src, sheet.headers, r"^org code$", what="the org code")
    c_name = _read.column(src, sheet.headers, r"^org name$", what="the org name")
    blocks = _blocks(src, sheet)
    body = sheet.body
    values = body[[i for b in blocks.values() for i in b.values()]]
    keep = _read.provider_rows(src, body[c_code], body[c_name], values)
    period = _quarter_end(sheet, body[keep], src, name, expect)
    rows = body[keep].reset_index(drop=True)
    out = pd.DataFrame(
        {
            "org_code": codes(rows[c_code], src, "Org Code"),
            "org_name": rows[c_name].astype("string").str.strip(),
        }
    )
    for kind, cols in blocks.items():
        for sector in SECTORS:
            i = cols.get(sector)
            label = f"{kind} {sector}"
            out[f"{kind}_{sector}"] = (
                numbers(rows[i], src, label) if i is not None else float("nan")
            )
    over = out["occupied_total"] > out["available_total"] * 1.05
    if over.any():
        warnings.warn(
            f"{src.path}: {name}: {int(over.sum())} trust(s) with more beds occupied than "
            f"available (e.g. {out.loc[over, 'org_code'].iloc[0]}); kept as published.",
            UserWarning,
            stacklevel=3,
        )
    avail = out["available_total"].where(out["available_total"] > 0)
    out["occupancy_pct"] = (100 * out["occupied_total"] / avail).round(1)
    out["period"] = pd.Timestamp(f"{period}-01")
    out["year"] = fy_start(out["period"])
    out["quarter"] = (out["period"].dt.month - 4) % 12 // 3 + 1
    return out


@_read.documented(
    periods='Quarters to read, each named by its last month (``"2024-03"`` = Q4 2023/24); default every locked quarter.',
    path="One quarter's workbook to read instead, without a hash check.",
)
def read_kh03(
    lock: str | Path | Lock | None = None,
    *,
    periods: list[str] | None = None,
    path: str | Path | None = None,
) -> pd.DataFrame:
    """Overnight beds available and occupied by trust and sector, from the locked quarters.

    Returns
    -------
    pandas.DataFrame
        One row per quarter and trust (:data:`SCHEMA`); provenance in ``attrs``.

    Raises
    ------
    DataFileError
        No sheet "NHS Trust by Sector", no Org Code header, no pair of Total columns, another
        quarter than locked.
    """
    df, used = _read.parse_all("kh03", lock, periods, path, _parse)
    return _read.finish(df, SCHEMA, used, sort=["period", "org_code"])


#: The trust-year panel's KH03 columns.
PANEL_COLUMNS = ("beds_available", "occupied_beds", "occupancy_pct")


def panel_periods(lock: str | Path | Lock | None = None) -> list[str]:
    """The locked quarters the trust-year panel reads: those of financial years with all four.

    Parameters
    ----------
    lock
        The lockfile (default ``icsresearch.lock`` in the current folder, or
        ``ICSRESEARCH_LOCK``).
    """
    _, locked = _read.locked_periods("kh03", lock)
    by_year: dict[int, list[str]] = {}
    for p in locked:
        y, m = int(p[:4]), int(p[5:])
        by_year.setdefault(y if m >= 4 else y - 1, []).append(p)
    return sorted(p for ps in by_year.values() if len(ps) == 4 for p in ps)


@_read.documented()
def kh03_trust_year(lock: str | Path | Lock | None = None) -> pd.DataFrame:
    """The trust-year panel's KH03 columns: means of the four quarters of each locked year.

    Only financial years whose four quarters are all locked count (a part year would tilt the
    mean by the season); a trust's mean is over the quarters it reports.

    Returns
    -------
    pandas.DataFrame
        ``trust_code``, ``year``, ``beds_available``, ``occupied_beds``, ``occupancy_pct``
        (all sectors) and ``quarters`` (how many the trust reported); empty (same columns) when
        no full year is locked.
    """
    cols = ["trust_code", "year", *PANEL_COLUMNS, "quarters"]
    book = lock if isinstance(lock, Lock) else read(lock)
    wanted = panel_periods(book)
    if not wanted:
        return _read.empty(cols)
    beds = read_kh03(book, periods=wanted)
    g = beds.groupby(["org_code", "year"], as_index=False)
    out = g.agg(
        beds_available=("available_total", "mean"),
        occupied_beds=("occupied_total", "mean"),
        quarters=("period", "nunique"),
    )
    avail = out["beds_available"].where(out["beds_available"] > 0)
    out["occupancy_pct"] = 100 * out["occupied_beds"] / avail
    out = out.rename(columns={"org_code": "trust_code"})[cols]
    out.attrs = dict(beds.attrs)
    return out
