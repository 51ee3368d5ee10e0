"""Discharge Delays (Acute) SitRep: the monthly NHS England workbooks and the national series.

Publisher: NHS England, Discharge Delays (Acute) situation report (unvalidated management
information, OGL v3), via HFAnalyticsLab/Intermediate-care-open-data-clean at a pinned commit.

Each monthly workbook holds five tables, each laid out as blocks of rows (the ENGLAND row and
the seven regions; then the 42 ICBs under a 'Region | ICB Code | ICB Name' header; then the
acute trusts under a 'Region | Org Code | Org Name' header) and blocks of columns (one block of
measures per day, per week or for the month, with the date in the row above the measure names).
The reader finds every header, block and section by its text, never by a fixed row or column,
maps each published heading to a stable measure name through the reviewable dicts below (an
unknown heading is an error, so a new layout is caught rather than silently dropped) and returns
one tidy long table.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DataFileError, InvalidParameterError
from ._base import (
    _THOUSANDS,
    MISSING_TOKENS,
    Column,
    Schema,
    _raw_bytes,
    _refetch_hint,
    clip,
    codes,
    completeness,
    finish,
    show,
    source,
)

#: Registry names of the 22 monthly workbooks, April 2022 - January 2024, in date order.
FAMILY = tuple(
    f"discharge_sitrep_{y}_{m:02d}"
    for y, m in [(2022, m) for m in range(4, 13)] + [(2023, m) for m in range(1, 13)] + [(2024, 1)]
)

# --- published heading -> measure, one dict per table ---------------------------------------
# Keys are the headings as published; matching ignores case, line breaks and repeated or
# trailing spaces. A heading that is in none of these is refused with an error naming it.

TABLE1_MEASURES = {
    "Missing organisations (Acute Trust with Type 1)": "organisations_not_submitted",
}

TABLE2_MEASURES = {
    "Number of patients who no longer meet the criteria to reside": "not_meeting_criteria",
    "Number of patients discharged": "discharged",
    "Number of patients remaining in hospital who no longer meet the criteria to reside": "remaining",
}

TABLE3_MEASURES = {
    "Number of additional bed days, patients with length of stay of 7+ days": "extra_bed_days_los7",
    "Number of additional bed days, patients with length of stay of 14+ days": "extra_bed_days_los14",
    "Number of additional bed days, patients with length of stay of 21+ days": "extra_bed_days_los21",
}

TABLE4_MEASURES = {
    "P0 - Domestic home without reablement support": "p0_domestic_home_without_reablement",
    "P0 - Other without reablement support": "p0_other_without_reablement",
    "P1 - Domestic home with reablement support": "p1_domestic_home_with_reablement",
    "P1 - Other with reablement support": "p1_other_with_reablement",
    "P1 - Hotel with reablement support": "p1_hotel_with_reablement",
    "P2 - Care Home (short term 24hr support)": "p2_care_home_short_term",
    "P2 - Designated Setting (isolation before moving to care home)": "p2_designated_setting",
    "P2 - Hospice (short term 24hr support)": "p2_hospice",
    "P2 - Community Rehab Setting (short term 24hr support)": "p2_community_rehab_setting",
    "P3 - Care Home (new admission, likely permanent)": "p3_care_home_new_admission",
    "P3b - Care Home (existing resident discharged back)": "p3b_care_home_existing_resident",
    "P3 - Designated Setting (isolation before moving to care home as new admission)": "p3_designated_setting",
}

TABLE5_MEASURES = {
    "Awaiting a medical decision/intervention including writing the discharge summary": "reason_awaiting_medical_decision",
    "Awaiting community equipment and adaptations to housing": "reason_awaiting_equipment_or_housing_adaptation",
    "Awaiting confirmation from community hub/single point of access that referral received and actioned": "reason_awaiting_community_hub_confirmation",
    "Awaiting Diagnostic test": "reason_awaiting_diagnostic_test",
    "Awaiting medicines to take home": "reason_awaiting_medicines",
    "Awaiting referral to community single point of access": "reason_awaiting_referral_to_community_spa",
    "Awaiting therapy decision to discharge": "reason_awaiting_therapy_decision",
    "Awaiting transport": "reason_awaiting_transport",
    "Declared as not meeting the criteria to reside at morning board round and then later in day meets the criteria to reside so discharge stopped": "reason_discharge_stopped_meets_criteria_later",
    # the wording of the publisher's own lookup sheet (Lkp - Discharges, Aug-Oct 2023)
    "Declared as not meeting the criteria to reside at morning ward round and then later in day meets the criteria to reside so discharge stopped": "reason_discharge_stopped_meets_criteria_later",
    "Homeless/no right of recourse to public funds/no place to discharge to": "reason_homeless_or_no_place_to_discharge",
    "Individual/family not in agreement with discharge plans": "reason_individual_or_family_disagree",
    "No Plan": "reason_no_plan",
    "Pathway 1: awaiting availability of resource for assessment and start of care at home": "reason_p1_awaiting_care_at_home",
    "Pathway 2: awaiting availability of rehabilitation bed in community hospital or other bedded setting": "reason_p2_awaiting_rehabilitation_bed",
    "Pathway 3: awaiting availability of a bed in a residential or nursing home that is likely to be a permanent placement": "reason_p3_awaiting_care_home_bed",
    "Remains in hospital to avoid spread of (non-Covid 19) infectious disease and because there is no other suitable location to discharge to": "reason_infection_control",
    "Repatriation/Transfer to another acute trust for specialist treatment or ongoing treatment": "reason_repatriation_or_transfer",
    "Safeguarding concern preventing discharge or Court of protection": "reason_safeguarding_or_court_of_protection",
}

#: Table -> {published heading: measure}.
HEADINGS = {
    "table1": TABLE1_MEASURES,
    "table2": TABLE2_MEASURES,
    "table3": TABLE3_MEASURES,
    "table4": TABLE4_MEASURES,
    "table5": TABLE5_MEASURES,
}

_SHEETS = {
    "table1": "Table 1",
    "table2": "Table 2",
    "table3": "Table 3",
    "table4": "Table 4",
    "table5": "Table 5",
}

#: Table -> (what a value is, unit).
TABLE_UNITS = {
    "table1": ("trusts that submitted no data that day", "organisations"),
    "table2": ("patients on the day", "patients"),
    "table3": ("additional bed days at the weekly snapshot", "bed days"),
    "table4": ("patients discharged in the month, by intended destination", "patients"),
    "table5": (
        "average per day over the month's weekly snapshots of patients with a length of stay of "
        "14+ days not meeting the criteria to reside and not discharged, by main delay reason",
        "patients per day",
    ),
}

_ICB_CODE = re.compile(r"^Q[A-Z0-9]{2}$")
_WC = re.compile(r"w\s*/\s*c\.?\s*(\d{1,2})/(\d{1,2})/(\d{4})", re.IGNORECASE)
_DMY = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_MONTH_TEXT = re.compile(r"^\s*([A-Za-z]+)\s+(\d{4})\b")
_SCOPE = re.compile(r"in scope\s*=\s*(\d+)", re.IGNORECASE)

_LAYOUT_FIX = (
    "The reader expects the published layout of the Discharge Delays (Acute) SitRep workbook: "
    "sheets 'Table 1'-'Table 5', each with an ENGLAND row, a 'Region | ICB Code | ICB Name' and a "
    "'Region | Org Code | Org Name' section, and measure names under a date row. Re-download it "
    "or omit the path to use the registry copy."
)

SCHEMA = Schema(
    dataset=FAMILY[0],
    family=FAMILY,
    columns=(
        Column(
            "month",
            "Workbook month",
            "date",
            "First day of the calendar month the workbook reports (from the dates of Table 2).",
        ),
        Column(
            "table",
            "Table",
            "",
            "'table1' trusts not submitting per day; 'table2' daily patients not meeting the "
            "criteria to reside, discharged and remaining; 'table3' additional bed days at the "
            "weekly snapshot by length of stay; 'table4' month total discharges by intended "
            "destination (pathway); 'table5' month average of the weekly snapshots of patients "
            "with a length of stay of 14+ days not discharged, by delay reason.",
        ),
        Column(
            "level",
            "Level",
            "",
            "'england' (Type 1 acute trusts), 'region' (7 NHS England regions), 'icb' (42 ICBs), "
            "'trust' (acute trusts with a type 1 A&E, 119-121 a month). Table 1 is England only.",
        ),
        Column(
            "region_name",
            "NHS England region",
            "",
            "Region of the ICB or trust as published (upper case); the region itself for region "
            "rows; missing for England rows.",
        ),
        Column(
            "org_code",
            "Organisation code",
            "ODS code",
            "Trust ODS code (e.g. RAJ) or ICB ODS code (Q-code, e.g. QUE); 'ENG' for England; for "
            "regions the region name upper case (the workbooks give no region code).",
        ),
        Column(
            "org_name",
            "Organisation name",
            "",
            "Name as published ('ENGLAND (Type 1 Trusts)' for England).",
        ),
        Column(
            "date",
            "Date",
            "date",
            "Table 1-2: the day. Table 3: the week-commencing date of the weekly snapshot as "
            "published ('w/c 01/04/2022 (daily snapshot)'; it can fall up to 6 days before the "
            "month). Tables 4-5: the first day of the month (month total / month average).",
        ),
        Column(
            "measure",
            "Measure",
            "",
            "Stable snake_case name of the published column heading (see sitrep.HEADINGS and "
            "attrs['measures']): table2 not_meeting_criteria, discharged, remaining; table3 "
            "extra_bed_days_los7/_los14/_los21; table4 one per pathway/destination (p0_..., "
            "p1_..., p2_..., p3_...); table5 one per delay reason (reason_...).",
        ),
        Column(
            "value",
            "Value",
            "count",
            "The published number: patients (tables 2, 4), bed days (table 3), patients per day "
            "(table 5, averages, not whole), organisations (table 1). Missing where the trust did "
            "not submit ('-' in tables 2-3), where the value is withheld for disclosure ('-' at "
            "ICB/trust level for hospice discharges in table 4 and for the homeless and "
            "safeguarding reasons in table 5), where the cell is blank, and for ENGLAND/region/ICB "
            "rows on a day on which no trust submitted (published as 0).",
            bounds=(0, 100_000_000),
            typical=(0, 2_000_000),
        ),
    ),
    year_convention=(
        "Calendar months (month = first day); Table 2 daily, Table 3 weekly snapshots dated by "
        "week commencing (Fridays until 17 June 2022, Mondays from 27 June 2022), Tables 4-5 the "
        "month. No financial-year column: the financial year of `month` is April-March."
    ),
    notes=(
        "Unvalidated management information. Trust and ICB figures exclude patients discharged "
        "to a hospice (disclosure), so ICB sums of 'discharged' fall short of the region and "
        "England rows by exactly Table 4's England p2_hospice, and the same patients are counted "
        "in ICB/trust 'remaining'; regions sum exactly to England in Table 2. Table 5 ICB/trust "
        "figures exclude the homeless and safeguarding reasons. 19 June 2022 was not collected "
        "(reporting change): every trust shows '-', Table 1 says 'NO DATA SUBMITTED', and the "
        "published 0s of the ENGLAND/region/ICB rows are read as missing. The June 2022 workbook "
        "dates a weekly snapshot 'w/c 17/06/2022' that the national series dates 20/06/2022. "
        "In Aug 2023 Table 1 counts 3 non-submitting trusts on 28-31 August where Table 2 shows 2. "
        "Table 4's England total equals Table 2's England discharges summed over the month in "
        "every workbook but October 2023 (3 more in Table 4)."
    ),
    key=("table", "level", "org_code", "date", "measure"),
)

SERIES = Schema(
    dataset="discharge_sitrep_series",
    columns=(
        Column(
            "frequency",
            "Frequency",
            "",
            "'daily' (sheet 'Daily Series') or 'weekly' (sheet 'Weekly Series', weekly snapshots).",
        ),
        Column(
            "date",
            "Date",
            "date",
            "The day (daily) or the week-commencing date of the snapshot (weekly: Fridays until "
            "10 June 2022, Mondays from 20 June 2022).",
        ),
        Column(
            "measure",
            "Measure",
            "",
            "Daily: not_meeting_criteria, discharged, remaining and the 12 discharge "
            "destinations (p0_... to p3_..., patients discharged that day). Weekly: "
            "extra_bed_days_los7/_los14/_los21 and the 18 delay reasons (reason_..., patients with "
            "a length of stay of 14+ days at the snapshot: counts, not Table 5's month averages). "
            "Same names as read_discharge_sitrep.",
        ),
        Column(
            "value",
            "Value",
            "count",
            "England total (Type 1 acute trusts). Missing on 19 June 2022 (not collected), for "
            "the destinations on days before 11 May 2021 (published as 0: 'not collected prior "
            "to 12/05/2021') and for extra_bed_days_los7 before 11 February 2022 (published as 0 "
            "although the 14+ day cohort, a subset, is positive).",
            bounds=(0, 100_000_000),
            typical=(0, 2_000_000),
        ),
    ),
    year_convention="Days and weeks from April 2021 (weekly from w/c 26 March 2021) to January 2024.",
    notes=(
        "Agrees exactly with the ENGLAND rows of the monthly workbooks (Table 2 for every day "
        "April 2022 - January 2024; Table 3 for every week, the June 2022 week labelled 17/06 in "
        "the workbook being 20/06 here); the daily destinations summed over a month equal Table "
        "4's England totals."
    ),
    key=("frequency", "date", "measure"),
)


# --- measure documentation -------------------------------------------------------------------


def _measure_docs() -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for table, mapping in HEADINGS.items():
        what, unit = TABLE_UNITS[table]
        for heading, measure in mapping.items():
            out.setdefault(
                measure,
                {"table": table, "heading": heading, "unit": unit, "description": what},
            )
    return out


#: measure -> {table, heading (as published), unit, description}; stored in attrs["measures"].
MEASURES = _measure_docs()


def _norm(text: object) -> str:
    return " ".join(str(text).split()).casefold()


_LOOKUP = {table: {_norm(k): v for k, v in mapping.items()} for table, mapping in HEADINGS.items()}


# --- reading the workbook ----------------------------------------------------------------------


def _col_letter(c: int) -> str:
    letters = ""
    c += 1
    while c:
        c, r = divmod(c - 1, 26)
        letters = chr(65 + r) + letters
    return letters


def _ref(sheet: str, r: int, c: int) -> str:
    """Excel reference of grid cell (r, c), both 0-based from A1: ``'Table 2'!D5``."""
    return f"'{sheet}'!{_col_letter(c)}{r + 1}"


def _open(src):
    from python_calamine import CalamineWorkbook

    _raw_bytes(src, "xlsx")
    try:
        return CalamineWorkbook.from_path(str(src.path))
    except Exception as exc:  # calamine raises its own error types for zip/xml problems
        raise DataFileError(
            src.path,
            f"is not a readable .xlsx workbook (truncated or damaged?): {clip(str(exc), 200)}",
            _refetch_hint(src),
        ) from None


def _sheet(wb, src, wanted: str) -> list[list]:
    """The grid of sheet ``wanted`` from A1 (name matched ignoring case and spaces)."""
    names = {_norm(n): n for n in wb.sheet_names}
    name = names.get(_norm(wanted))
    if name is None:
        raise DataFileError(
            src.path, f"has no sheet {wanted!r}; sheets: {wb.sheet_names}", _LAYOUT_FIX
        )
    try:
        grid = wb.get_sheet_by_name(name).to_python(skip_empty_area=False)
    except Exception as exc:
        raise DataFileError(
            src.path, f"sheet {wanted!r} cannot be read: {exc}", _refetch_hint(src)
        ) from None
    if not any(_filled(v) for row in grid for v in row):
        raise DataFileError(src.path, f"sheet {wanted!r} is empty", _LAYOUT_FIX)
    return grid


def _filled(v: object) -> bool:
    return not (v is None or (isinstance(v, str) and not v.strip()))


def _cell(grid: list[list], r: int, c: int) -> object:
    row = grid[r]
    return row[c] if c < len(row) else ""


def _as_day(v: object) -> pd.Timestamp | None:
    """A date cell (date, datetime, 'dd/mm/yyyy', ISO text or an Excel serial) as a Timestamp."""
    if isinstance(v, dt.datetime):
        return pd.Timestamp(v.date())
    if isinstance(v, dt.date):
        return pd.Timestamp(v)
    if isinstance(v, str):
        text = v.strip()
        m = _DMY.match(text)
        try:
            if m:
                return pd.Timestamp(int(m[3]), int(m[2]), int(m[1]))
            if re.match(r"^\d{4}-\d{2}-\d{2}", text):
                return pd.Timestamp(text[:10])
        except ValueError:
            return None
        return None
    if isinstance(v, (int, float)) and not isinstance(v, bool) and 20000 < v < 80000:
        return pd.Timestamp("1899-12-30") + pd.Timedelta(days=int(v))  # Excel serial date
    return None


def _values(
    cells: list[list], src, sheet: str, rows: list[int], cols: list[int], labels: list[str]
) -> np.ndarray:
    """Parse a block of cells to floats: numbers stay, '-'/blank -> NaN, anything else an error."""
    out = np.full((len(rows), len(cols)), np.nan)
    bad: list[str] = []
    for i, r in enumerate(rows):
        row = cells[r]
        for j, c in enumerate(cols):
            v = row[c] if c < len(row) else ""
            kind = type(v)
            if kind is float or kind is int:
                out[i, j] = v
            elif kind is str:
                text = v.strip()
                if text in MISSING_TOKENS:
                    continue
                if "," in text and not _THOUSANDS.fullmatch(text):
                    # '12,3' is a decimal comma, never 123: only groups of three are thousands
                    bad.append(f"{_ref(sheet, r, c)} ({labels[i]}): {show(v)} (decimal comma?)")
                    continue
                try:
                    out[i, j] = number = float(text.replace(",", ""))
                    if not np.isfinite(number):  # 'nan', 'inf' are not published numbers
                        raise ValueError(text)
                except ValueError:
                    bad.append(f"{_ref(sheet, r, c)} ({labels[i]}): {show(v)}")
            elif v is None:
                continue
            else:
                bad.append(f"{_ref(sheet, r, c)} ({labels[i]}): {show(v)}")
    if bad:
        raise DataFileError(
            src.path,
            f"has {len(bad)} value(s) that are not numbers: {'; '.join(bad[:3])}",
            "Values are counts; '-' or a blank marks a trust that did not submit. Is this the "
            "published layout?",
        )
    return out


class _Sections:
    """Where the blocks of one table sheet are: found by their text."""

    def __init__(self, grid: list[list], src, sheet: str):
        self.grid, self.src, self.sheet = grid, src, sheet
        england = [
            (r, c)
            for r, row in enumerate(grid)
            for c, v in enumerate(row[:12])
            if isinstance(v, str) and v.strip().upper().startswith("ENGLAND")
        ]
        if not england:
            raise DataFileError(
                src.path, f"sheet {sheet!r} has no ENGLAND row (the national total)", _LAYOUT_FIX
            )
        if len(england) > 1:
            refs = ", ".join(_ref(sheet, r, c) for r, c in england)
            raise DataFileError(
                src.path, f"sheet {sheet!r} has {len(england)} ENGLAND rows ({refs})", _LAYOUT_FIX
            )
        self.england_row, self.name_col = england[0]
        self.icb_header, self.icb_cols = self._header("icb code", "icb name", "ICB")
        self.trust_header, self.trust_cols = self._header("org code", "org name", "trust")
        if not self.england_row < self.icb_header < self.trust_header:
            raise DataFileError(
                src.path,
                f"sheet {sheet!r}: the ENGLAND row, the ICB section and the trust section are not "
                f"in that order (rows {self.england_row + 1}, {self.icb_header + 1}, "
                f"{self.trust_header + 1})",
                _LAYOUT_FIX,
            )
        if self.icb_cols != self.trust_cols:
            raise DataFileError(
                src.path,
                f"sheet {sheet!r}: the ICB and trust sections put Region/Code/Name in different "
                f"columns ({self.icb_cols} and {self.trust_cols})",
                _LAYOUT_FIX,
            )
        self.region_col, self.code_col, name_col = self.icb_cols
        if name_col != self.name_col:
            raise DataFileError(
                src.path,
                f"sheet {sheet!r}: the ENGLAND label ({_ref(sheet, self.england_row, self.name_col)}) "
                f"is not in the name column of the ICB section ({_col_letter(name_col)})",
                _LAYOUT_FIX,
            )
        self.first_value_col = max(self.icb_cols) + 1

    def _header(self, code: str, name: str, what: str) -> tuple[int, tuple[int, int, int]]:
        found = []
        for r, row in enumerate(self.grid):
            texts = [_norm(v) if isinstance(v, str) else "" for v in row[:12]]
            if code in texts and name in texts and "region" in texts:
                found.append((r, (texts.index("region"), texts.index(code), texts.index(name))))
        if len(found) != 1:
            raise DataFileError(
                self.src.path,
                f"sheet {self.sheet!r} has {len(found)} rows reading 'Region', "
                f"'{code.title().replace('Icb', 'ICB')}', '{name.title().replace('Icb', 'ICB')}' "
                f"(the {what} section header); expected one",
                _LAYOUT_FIX,
            )
        return found[0]

    def filled_row(self, r: int) -> bool:
        return any(_filled(v) for v in self.grid[r][self.first_value_col :])

    def rows_above_england(self) -> list[int]:
        """Rows above ENGLAND with text in the value columns, nearest first."""
        return [r for r in range(self.england_row - 1, -1, -1) if self.filled_row(r)]

    def block(self, start: int, key_col: int, stop: int) -> list[int]:
        """Rows from ``start`` while ``key_col`` is filled; anything more before ``stop`` is an error."""
        rows = []
        r = start
        while r < stop and _filled(_cell(self.grid, r, key_col)):
            rows.append(r)
            r += 1
        for extra in range(r, stop):
            row = self.grid[extra]
            if any(
                isinstance(v, (int, float)) and not isinstance(v, bool)
                for v in row[self.first_value_col :]
            ) or _filled(_cell(self.grid, extra, key_col)):
                raise DataFileError(
                    self.src.path,
                    f"sheet {self.sheet!r} row {extra + 1} holds data after a blank row that ends "
                    f"a section (section from row {start + 1}); rows after a gap would be dropped",
                    _LAYOUT_FIX,
                )
        return rows


def _parse_table(
    grid: list[list], table: str, src, month: pd.Timestamp | None
) -> tuple[pd.DataFrame, dict]:
    """One table sheet (2-5) as long rows, plus facts for the completeness report."""
    sheet = _SHEETS[table]
    s = _Sections(grid, src, sheet)
    above = s.rows_above_england()
    if not above:
        raise DataFileError(
            src.path, f"sheet {sheet!r} has no measure names above the ENGLAND row", _LAYOUT_FIX
        )
    head_row = above[0]
    date_row = above[1] if len(above) > 1 else None

    # measure columns: every column right of the names with a heading
    width = max(len(row) for row in grid)
    cols = [c for c in range(s.first_value_col, width) if _filled(_cell(grid, head_row, c))]
    lookup = _LOOKUP[table]
    measures = []
    for c in cols:
        heading = _cell(grid, head_row, c)
        measure = lookup.get(_norm(heading)) if isinstance(heading, str) else None
        if measure is None:
            raise DataFileError(
                src.path,
                f"sheet {sheet!r} has an unknown measure heading {heading!r} at "
                f"{_ref(sheet, head_row, c)}",
                f"A new or changed heading: add it to icsresearch.sources.sitrep.{table.upper()}_MEASURES "
                "(published heading -> measure) once you have checked what it counts.",
            )
        measures.append(measure)

    # the date (day, week or month) of each measure column: the row above, carried rightwards
    dates = _column_dates(grid, s, table, date_row, cols, month)

    # sections
    agg_rows = s.block(s.england_row, s.name_col, s.icb_header)
    icb_rows = s.block(s.icb_header + 1, s.code_col, s.trust_header)
    trust_rows = s.block(s.trust_header + 1, s.code_col, len(grid))
    if not icb_rows or not trust_rows:
        raise DataFileError(
            src.path,
            f"sheet {sheet!r} has {len(icb_rows)} ICB and {len(trust_rows)} trust rows",
            _LAYOUT_FIX,
        )
    for c in range(s.first_value_col, width):  # numbers under no heading would be dropped
        if c in cols:
            continue
        for r in agg_rows + icb_rows + trust_rows:
            v = _cell(grid, r, c)
            if _filled(v):
                raise DataFileError(
                    src.path,
                    f"sheet {sheet!r} cell {_ref(sheet, r, c)} holds {show(v)} under no measure heading",
                    _LAYOUT_FIX,
                )

    regions = [str(_cell(grid, r, s.name_col)).strip() for r in agg_rows[1:]]
    region_set = {x.upper() for x in regions}
    level, region, code, name = (
        ["england"],
        [None],
        ["ENG"],
        [str(_cell(grid, agg_rows[0], s.name_col)).strip()],
    )
    for x in regions:
        level.append("region")
        region.append(x.upper())
        code.append(x.upper())
        name.append(x)
    for lvl, rows, pattern in (("icb", icb_rows, _ICB_CODE), ("trust", trust_rows, None)):
        raw_codes = pd.Series(
            [_cell(grid, r, s.code_col) for r in rows],
            index=[r - 1 for r in rows],  # codes() reports "row {index + 2}": the Excel row
            dtype=object,
        ).astype(str)
        kw = {"pattern": pattern} if pattern is not None else {}
        clean = codes(raw_codes, src, f"{sheet} {lvl.upper()} code", **kw).tolist()
        for r, cd in zip(rows, clean, strict=True):
            reg = str(_cell(grid, r, s.region_col)).strip().upper()
            if reg not in region_set:
                raise DataFileError(
                    src.path,
                    f"sheet {sheet!r} {_ref(sheet, r, s.region_col)}: region {reg!r} of {cd} is "
                    f"not one of the region rows under ENGLAND ({sorted(region_set)})",
                    _LAYOUT_FIX,
                )
            level.append(lvl)
            region.append(reg)
            code.append(cd)
            name.append(str(_cell(grid, r, s.name_col)).strip())

    all_rows = agg_rows + icb_rows + trust_rows
    vals = _values(grid, src, sheet, all_rows, cols, code)
    n_agg, n_icb = len(agg_rows), len(icb_rows)
    is_trust = np.arange(len(all_rows)) >= n_agg + n_icb

    facts: dict = {"blanked": []}
    if table in ("table2", "table3"):
        # '-' marks non-submission here: a column with no trust value at all was not collected,
        # and the published 0s of the rows above it are not counts.
        none = np.isnan(vals[is_trust]).all(axis=0)
        if none.any():
            vals[np.ix_(~is_trust, none)] = np.nan
            facts["blanked"] = sorted({dates[j].date().isoformat() for j in np.flatnonzero(none)})
    _check_values(
        vals, src, sheet, all_rows, cols, code, measures, [d.date().isoformat() for d in dates]
    )

    n, m = vals.shape
    df = pd.DataFrame(
        {
            "table": table,
            "level": np.repeat(np.array(level, dtype=object), m),
            "region_name": np.repeat(np.array(region, dtype=object), m),
            "org_code": np.repeat(np.array(code, dtype=object), m),
            "org_name": np.repeat(np.array(name, dtype=object), m),
            "date": np.tile(np.array(dates, dtype="datetime64[ns]"), n),
            "measure": np.tile(np.array(measures, dtype=object), n),
            "value": vals.ravel(),
        }
    )
    facts.update(
        trust_values=vals[is_trust],
        dates=dates,
        regions=len(regions),
        icbs=n_icb,
        trusts=len(trust_rows),
    )
    return df, facts


def _column_dates(grid, s: _Sections, table: str, date_row, cols, month) -> list[pd.Timestamp]:
    src, sheet = s.src, s.sheet
    if table in ("table4", "table5"):
        # one month: 'April 2022 - Total number of patients discharged'
        found = None
        if date_row is not None:
            for c in cols:
                v = _cell(grid, date_row, c)
                if isinstance(v, str) and (m := _MONTH_TEXT.match(v)):
                    try:
                        found = pd.Timestamp(f"1 {m[1]} {m[2]}")
                    except ValueError:
                        found = None
                    if found is not None and found != month:
                        raise DataFileError(
                            src.path,
                            f"sheet {sheet!r} {_ref(sheet, date_row, c)} is headed {show(v)}, but "
                            f"Table 2 covers {month:%B %Y}",
                            _LAYOUT_FIX,
                        )
        return [month] * len(cols)
    if date_row is None:
        raise DataFileError(
            src.path, f"sheet {sheet!r} has no date row above the measure names", _LAYOUT_FIX
        )
    out: list[pd.Timestamp] = []
    current = None
    for c in range(s.first_value_col, max(cols) + 1):
        v = _cell(grid, date_row, c)
        if _filled(v):
            if table == "table3":
                m = _WC.search(v) if isinstance(v, str) else None
                current = None
                if m:
                    try:
                        current = pd.Timestamp(int(m[3]), int(m[2]), int(m[1]))
                    except ValueError:
                        current = None
                elif not isinstance(v, str):
                    current = _as_day(v)
            else:
                current = _as_day(v)
            if current is None:
                raise DataFileError(
                    src.path,
                    f"sheet {sheet!r} {_ref(sheet, date_row, c)} holds {show(v)}, which is not a "
                    + ("week ('w/c dd/mm/yyyy ...')" if table == "table3" else "date"),
                    _LAYOUT_FIX,
                )
        if c in cols:
            if current is None:
                raise DataFileError(
                    src.path,
                    f"sheet {sheet!r} has no date above {_ref(sheet, date_row, c)}",
                    _LAYOUT_FIX,
                )
            out.append(current)
    return out


def _check_values(vals, src, sheet, rows, cols, labels, measures, col_dates) -> None:
    """Refuse values that cannot be right: negative counts, parts larger than their whole.

    ``labels`` name the rows (organisation codes, or dates in the series); ``col_dates`` the
    date of each column (text; empty in the series, where each row is a date).
    """
    neg = np.argwhere(vals < 0)
    if len(neg):
        i, j = neg[0]
        when = f", {col_dates[j]}" if col_dates[j] else ""
        raise DataFileError(
            src.path,
            f"has {len(neg)} negative value(s), e.g. {_ref(sheet, rows[i], cols[j])} "
            f"({labels[i]}, {measures[j]}{when}): {vals[i, j]:g}",
            "Counts, bed days and averages are never negative; is this the published file?",
        )
    # parts of a whole, per date: (part, whole) measure pairs
    pairs = [
        ("discharged", "not_meeting_criteria"),
        ("remaining", "not_meeting_criteria"),
        ("extra_bed_days_los14", "extra_bed_days_los7"),
        ("extra_bed_days_los21", "extra_bed_days_los14"),
    ]
    where: dict[tuple, int] = {
        (d, m): j for j, (d, m) in enumerate(zip(col_dates, measures, strict=True))
    }
    for part, whole in pairs:
        for (d, m), j in where.items():
            if m != part or (d, whole) not in where:
                continue
            k = where[(d, whole)]
            over = np.flatnonzero(vals[:, j] > vals[:, k])
            if len(over):
                i = over[0]
                raise DataFileError(
                    src.path,
                    f"{_ref(sheet, rows[i], cols[j])} ({' '.join(filter(None, (labels[i], d)))}): {part} "
                    f"{vals[i, j]:g} exceeds {whole} {vals[i, k]:g} "
                    f"({len(over)} such row(s) that day)",
                    f"{part} is part of {whole}; check the columns are in the published order "
                    "under the right headings.",
                )


def _parse_table1(grid: list[list], src) -> tuple[pd.DataFrame, dict]:
    sheet = _SHEETS["table1"]
    header = None
    for r, row in enumerate(grid):
        texts = [_norm(v) if isinstance(v, str) else "" for v in row]
        if "date" in texts:
            c = texts.index("date")
            if any(_norm(t) in _LOOKUP["table1"] for t in texts[c + 1 : c + 2]):
                header = (r, c)
                break
    if header is None:
        raise DataFileError(
            src.path,
            f"sheet {sheet!r} has no header row reading 'Date', {next(iter(TABLE1_MEASURES))!r}",
            _LAYOUT_FIX,
        )
    hr, dc = header
    scope = None
    for row in grid[:hr]:
        for v in row:
            if isinstance(v, str) and (m := _SCOPE.search(v)):
                scope = int(m[1])
    grid = [list(row) for row in grid]  # a copy: the 'no data' notes are blanked below
    days, rows, not_collected = [], [], []
    r = hr + 1
    while r < len(grid) and _filled(_cell(grid, r, dc)):
        d = _as_day(_cell(grid, r, dc))
        if d is None:
            raise DataFileError(
                src.path,
                f"sheet {sheet!r} {_ref(sheet, r, dc)} holds {_cell(grid, r, dc)!r}, which is not a date",
                _LAYOUT_FIX,
            )
        v = _cell(grid, r, dc + 1)
        if isinstance(v, str) and "no data" in v.casefold():
            not_collected.append(
                d.date().isoformat()
            )  # 'NO DATA SUBMITTED DUE TO REPORTING CHANGES'
            grid[r][dc + 1] = ""
        days.append(d)
        rows.append(r)
        r += 1
    if not rows:
        raise DataFileError(src.path, f"sheet {sheet!r} has a header but no days", _LAYOUT_FIX)
    labels = [d.date().isoformat() for d in days]
    vals = _values(grid, src, sheet, rows, [dc + 1], labels).ravel()
    if (vals < 0).any() or (scope is not None and (vals > scope).any()):
        i = int(np.flatnonzero((vals < 0) | (vals > (scope or np.inf)))[0])
        raise DataFileError(
            src.path,
            f"sheet {sheet!r} {_ref(sheet, hr + 1 + i, dc + 1)}: {vals[i]:g} organisations not "
            f"submitted, outside 0-{scope} (the organisations in scope)",
            _LAYOUT_FIX,
        )
    df = pd.DataFrame(
        {
            "table": "table1",
            "level": "england",
            "region_name": None,
            "org_code": "ENG",
            "org_name": "ENGLAND (Type 1 Trusts)",
            "date": pd.to_datetime(days),
            "measure": "organisations_not_submitted",
            "value": vals,
        }
    )
    return df, {"scope": scope, "not_collected": not_collected, "total": float(np.nansum(vals))}


def _cover(wb) -> dict:
    """Published/revised dates and status from the cover sheet, when there is one."""
    names = {_norm(n): n for n in wb.sheet_names}
    try:
        grid = wb.get_sheet_by_name(names["cover sheet"]).to_python()
    except Exception:  # no cover sheet (some releases have none), or an unreadable one
        return {}
    out: dict = {}
    for row in grid or []:
        if len(row) > 1 and isinstance(row[0], str):
            key = _norm(row[0]).rstrip(":")
            if key in ("published", "revised", "status"):
                v = row[1]
                out[key] = v.isoformat() if isinstance(v, dt.date) else str(v).strip()
            elif key == "period" and isinstance(row[1], dt.date):
                out["period_start"] = row[1].isoformat()
    return out


def read_discharge_sitrep(
    path: str | Path | None = None, *, dataset: str = FAMILY[0]
) -> pd.DataFrame:
    """One monthly Discharge Delays (Acute) SitRep workbook as a tidy long table.

    Parameters
    ----------
    path
        A workbook in the published layout (e.g. ``april2022.xlsx``, read without the hash
        check); by default the registry copy of ``dataset``.
    dataset
        Registry name of the month, ``discharge_sitrep_2022_04`` ... ``discharge_sitrep_2024_01``
        (``sources.read(name)`` passes it).

    Returns
    -------
    pandas.DataFrame
        Columns ``month, table, level, region_name, org_code, org_name, date, measure, value``,
        one row per (table, level, org_code, date, measure). ``attrs["completeness"]`` reports
        the days present, trust-days not submitted and the share missing by table;
        ``attrs["measures"]`` documents every measure; ``attrs["cover"]`` the cover sheet.

    Raises
    ------
    DataFileError
        For an empty, truncated or non-xlsx file, a missing table sheet or section, an unknown
        measure heading, a value that is not a number, negative values, a part larger than its
        whole, dates outside the month, or repeated keys.

    Examples
    --------
    >>> from icsresearch.sources.sitrep import read_discharge_sitrep
    >>> df = read_discharge_sitrep(dataset="discharge_sitrep_2023_01")  # doctest: +SKIP
    >>> df.query("table == 'table2' and level == 'england' and measure == 'remaining'")  # doctest: +SKIP
    """
    if dataset not in FAMILY:
        raise InvalidParameterError(
            f"dataset {dataset!r} is not a monthly SitRep workbook; use one of {FAMILY[0]} ... "
            f"{FAMILY[-1]} (or read_discharge_sitrep_series for the national series)."
        )
    src = source(dataset, path)
    wb = _open(src)
    grids = {
        t: _sheet(wb, src, _SHEETS[t]) for t in ("table2", "table1", "table3", "table4", "table5")
    }

    # the month: from the days of Table 2, which must all fall in it
    t2, f2 = _parse_table(grids["table2"], "table2", src, None)
    days = pd.DatetimeIndex(sorted(set(f2["dates"])))
    month = days[0].to_period("M").to_timestamp()
    outside = [d.date().isoformat() for d in days if d.to_period("M") != month.to_period("M")]
    if outside:
        raise DataFileError(
            src.path,
            f"sheet 'Table 2' has dates outside {month:%B %Y} (the month of its first date): {outside[:5]}",
            "A monthly workbook covers one calendar month; is this a concatenation of workbooks?",
        )
    cover = _cover(wb)
    if "period_start" in cover and pd.Timestamp(cover["period_start"]).to_period(
        "M"
    ) != month.to_period("M"):
        raise DataFileError(
            src.path,
            f"the cover sheet's period starts {cover['period_start']} but Table 2 covers {month:%B %Y}",
            _LAYOUT_FIX,
        )
    t1, f1 = _parse_table1(grids["table1"], src)
    t3, f3 = _parse_table(grids["table3"], "table3", src, month)
    t4, _ = _parse_table(grids["table4"], "table4", src, month)
    t5, _ = _parse_table(grids["table5"], "table5", src, month)

    month_end = month + pd.offsets.MonthEnd(0)
    for name, frame, lo in (("Table 1", t1, month), ("Table 3", t3, month - pd.Timedelta(days=6))):
        bad = frame.loc[(frame["date"] < lo) | (frame["date"] > month_end), "date"]
        if len(bad):
            raise DataFileError(
                src.path,
                f"sheet {name!r} has dates outside {month:%B %Y}"
                + (" (a week may start up to 6 days before it)" if name == "Table 3" else "")
                + f": {sorted({d.date().isoformat() for d in bad})[:5]}",
                _LAYOUT_FIX,
            )

    df = pd.concat([t1, t2, t3, t4, t5], ignore_index=True)
    df.insert(0, "month", pd.Series(month, index=df.index, dtype="datetime64[ns]"))
    df["value"] = df["value"].astype(float)

    coverage = _coverage(t2, f1, f2, f3, df, month)
    out = finish(df, SCHEMA, src, coverage=coverage)
    out.attrs["measures"] = {m: MEASURES[m] for m in dict.fromkeys(out["measure"])}
    out.attrs["cover"] = cover
    return out


def _coverage(t2: pd.DataFrame, f1: dict, f2: dict, f3: dict, df: pd.DataFrame, month) -> dict:
    trusts = t2[t2["level"] == "trust"]
    cov = completeness(trusts, counts=["value"], period="date", freq="D", units="org_code")
    tv = f2["trust_values"]  # trusts x (days x 3 measures)
    dates = np.array(f2["dates"])
    day_list = sorted(set(f2["dates"]))
    # a trust-day is not submitted when all its Table 2 values are missing
    missing_day = np.column_stack(
        [np.isnan(tv[:, dates == d]).all(axis=1) for d in day_list]
    )  # trusts x days
    submitting = (~missing_day).sum(axis=0)
    n_trust_days = int(missing_day.size)
    cov.update(
        month=month.date().isoformat(),
        days=len(day_list),
        days_in_month=calendar.monthrange(month.year, month.month)[1],
        regions=f2["regions"],
        icbs=f2["icbs"],
        trusts=f2["trusts"],
        organisations_in_scope=f1["scope"],
        trust_days=n_trust_days,
        trust_days_not_submitted=int(missing_day.sum()),
        share_trust_days_not_submitted=round(float(missing_day.mean()), 6) if n_trust_days else 0.0,
        trusts_submitting_per_day_min=int(submitting.min()),
        trusts_submitting_per_day_max=int(submitting.max()),
        table1_not_submitted_total=f1["total"],
        days_not_collected=sorted(set(f1["not_collected"]) | set(f2["blanked"])),
        weeks=[d.date().isoformat() for d in sorted(set(f3["dates"]))],
        weeks_not_collected=f3["blanked"],
        share_missing_by_table={
            t: round(float(g["value"].isna().mean()), 6) for t, g in df.groupby("table")
        },
    )
    return cov


# --- the national time series --------------------------------------------------------------

_SERIES_SHEETS = {
    "daily": ("Daily Series", "date", ("table2", "table4")),
    "weekly": ("Weekly Series", "week commencing", ("table3", "table5")),
}


def read_discharge_sitrep_series(path: str | Path | None = None) -> pd.DataFrame:
    """The national daily and weekly Discharge SitRep series (England totals) as a tidy table.

    Parameters
    ----------
    path
        A workbook in the published layout of ``latest_time_series.xlsx`` (sheets 'Daily
        Series' and 'Weekly Series'), read without the hash check; by default the registry copy.

    Returns
    -------
    pandas.DataFrame
        Columns ``frequency, date, measure, value``, one row per (frequency, date, measure);
        measure names as in :func:`read_discharge_sitrep`. ``attrs["completeness"]`` reports
        the days and weeks present, gaps, and the published zeros read as not collected.

    Raises
    ------
    DataFileError
        For an empty, truncated or non-xlsx file, a missing sheet or header row, an unknown
        heading, a value that is not a number, a negative value, or a repeated date.

    Examples
    --------
    >>> from icsresearch.sources.sitrep import read_discharge_sitrep_series
    >>> s = read_discharge_sitrep_series()  # doctest: +SKIP
    >>> s.query("frequency == 'daily' and measure == 'remaining'").plot(x="date", y="value")  # doctest: +SKIP
    """
    src = source(SERIES.dataset, path)
    wb = _open(src)
    frames, cov = [], {}
    for freq, (sheet, first, tables) in _SERIES_SHEETS.items():
        grid = _sheet(wb, src, sheet)
        lookup = {k: v for t in tables for k, v in _LOOKUP[t].items()}
        frame, facts = _parse_series(grid, src, sheet, first, lookup, tables)
        frame.insert(0, "frequency", freq)
        frames.append(frame)
        cov[freq] = facts
    df = pd.concat(frames, ignore_index=True)
    daily = df[df["frequency"] == "daily"]
    cov["daily"].update(completeness(daily, counts=["value"], period="date", freq="D"))
    weekly = df[df["frequency"] == "weekly"]
    wdates = pd.DatetimeIndex(sorted(weekly["date"].unique()))
    gaps = [
        f"{a.date().isoformat()} -> {b.date().isoformat()}"
        for a, b in zip(wdates[:-1], wdates[1:], strict=True)
        if (b - a).days != 7
    ]
    cov["weekly"].update(
        rows=int(len(weekly)),
        first=wdates[0].date().isoformat(),
        last=wdates[-1].date().isoformat(),
        weeks=int(len(wdates)),
        gaps_not_7_days=gaps,
        share_missing={"value": round(float(weekly["value"].isna().mean()), 6)},
    )
    out = finish(df, SERIES, src, coverage=cov)
    out.attrs["measures"] = {m: MEASURES[m] for m in dict.fromkeys(out["measure"])}
    return out


def _parse_series(grid, src, sheet, first, lookup, tables) -> tuple[pd.DataFrame, dict]:
    header = None
    for r, row in enumerate(grid):
        texts = [_norm(v) if isinstance(v, str) else "" for v in row]
        if first in texts:
            c = texts.index(first)
            rest = [t for t in texts[c + 1 :] if t]
            if rest:
                header = (r, c)
                break
    if header is None:
        raise DataFileError(
            src.path,
            f"sheet {sheet!r} has no header row starting {first.capitalize()!r}",
            _LAYOUT_FIX,
        )
    hr, dc = header
    width = max(len(row) for row in grid)
    cols = [c for c in range(dc + 1, width) if _filled(_cell(grid, hr, c))]
    measures = []
    for c in cols:
        heading = _cell(grid, hr, c)
        measure = lookup.get(_norm(heading))
        if measure is None:
            raise DataFileError(
                src.path,
                f"sheet {sheet!r} has an unknown measure heading {heading!r} at {_ref(sheet, hr, c)}",
                "A new or changed heading: add it to the heading dicts of "
                f"icsresearch.sources.sitrep ({', '.join(t.upper() + '_MEASURES' for t in tables)}).",
            )
        measures.append(measure)
    rows, dates = [], []
    r = hr + 1
    while r < len(grid) and _filled(_cell(grid, r, dc)):
        d = _as_day(_cell(grid, r, dc))
        if d is None:
            raise DataFileError(
                src.path,
                f"sheet {sheet!r} {_ref(sheet, r, dc)} holds {_cell(grid, r, dc)!r}, which is not a date",
                _LAYOUT_FIX,
            )
        rows.append(r)
        dates.append(d)
        r += 1
    if not rows:
        raise DataFileError(src.path, f"sheet {sheet!r} has a header but no rows", _LAYOUT_FIX)
    for extra in range(r, len(grid)):
        if _filled(_cell(grid, extra, dc)):
            raise DataFileError(
                src.path,
                f"sheet {sheet!r} row {extra + 1} holds data after a blank row; rows after a gap "
                "would be dropped",
                _LAYOUT_FIX,
            )
    labels = [d.date().isoformat() for d in dates]
    vals = _values(grid, src, sheet, rows, cols, labels)

    # published zeros that mean "not collected": set missing, and count them
    not_collected: dict[str, int] = {}
    idx = {m: j for j, m in enumerate(measures)}
    dest = [j for j, m in enumerate(measures) if m in TABLE4_MEASURES.values()]
    if dest and "discharged" in idx:
        none = (vals[:, dest] == 0).all(axis=1) & (vals[:, idx["discharged"]] > 0)
        if none.any():
            vals[np.ix_(none, dest)] = np.nan
            not_collected["destinations_days"] = int(none.sum())
            not_collected["destinations_last_day"] = labels[int(np.flatnonzero(none)[-1])]
    if "extra_bed_days_los7" in idx and "extra_bed_days_los14" in idx:
        j7, j14 = idx["extra_bed_days_los7"], idx["extra_bed_days_los14"]
        gap = (vals[:, j7] == 0) & (vals[:, j14] > 0)  # the 7+ cohort contains the 14+ cohort
        if gap.any():
            vals[gap, j7] = np.nan
            not_collected["extra_bed_days_los7_weeks"] = int(gap.sum())
            not_collected["extra_bed_days_los7_last_week"] = labels[int(np.flatnonzero(gap)[-1])]
    _check_values(vals, src, sheet, rows, cols, labels, measures, [""] * len(cols))
    n, m = vals.shape
    frame = pd.DataFrame(
        {
            "date": np.repeat(np.array(dates, dtype="datetime64[ns]"), m),
            "measure": np.tile(np.array(measures, dtype=object), n),
            "value": vals.ravel(),
        }
    )
    blank = [labels[i] for i in np.flatnonzero(np.isnan(vals).all(axis=1))]
    return frame, {"not_collected_set_missing": not_collected, "dates_all_missing": blank}
