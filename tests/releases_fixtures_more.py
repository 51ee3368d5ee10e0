"""Hand-made releases of the other collections: workforce, KH03, DM01, AmbSYS, cancer, survey.

Like :mod:`releases_fixtures`, nothing here reaches a publisher: each file is generated in the
layout documented in shared/data/OFFICIAL_RELEASES.md (and the drift public scripts report),
with its quirks, and its landing page(s) are served by the loopback :class:`Server`. Every
number comes from a small deterministic function, so a test can compute what a reader must give.

Quirks built in, per collection:

* workforce: three workbook styles (2020: organisation code and name columns without header
  text, spacer columns, 'Total' and 'Professionally qualified clinical staff' subtotals, region
  sub-header rows; 2023: ICS columns, 'All staff groups' repeated under merged group cells;
  2026: sheet '2', 'Data month' and 'Data type' with FTE and headcount rows), a headcount sheet
  beside the FTE one, '-' for not applicable, England and footnote rows;
* KH03: title block, merged Available / Occupied / % Occupied cells over repeated sector names,
  England and blank rows, '-' for a sector a trust lacks, a renamed sector and a moved header;
* DM01: title block, England and blank rows, a commissioner sheet beside, header case drift;
* AmbSYS: category blocks under merged cells, Excel times and durations, '.' in the CSV;
* cancer: year-to-date extracts that revise earlier months, standards renamed in October 2023,
  headers with underscores, a financial-year PERIOD with a MONTH column or a date PERIOD;
* staff survey: a zip of three workbooks, a wide themes sheet (2018-2020) and a long People
  Promise sheet (2021 on), '-' for organisations with too few responses.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from urllib.parse import quote

from releases_fixtures import MONTHS, Server, as_xls, fy_of, month_parts, page, suffix


def _save(wb) -> bytes:
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _merge_over(ws, row: int, col: int, width: int, text: str) -> None:
    ws.cell(row, col, text)
    if width > 1:
        ws.merge_cells(start_row=row, start_column=col, end_row=row, end_column=col + width - 1)


def _upload_folder(period: str, later: int = 1) -> str:
    y, m = map(int, period.split("-"))
    n = y * 12 + m - 1 + later
    return f"/statistics/wp-content/uploads/sites/2/{n // 12}/{n % 12 + 1:02d}"


# --- NHS Workforce Statistics ----------------------------------------------------------------

WF_TRUSTS = [
    # code, name, region, ICS code, ICS name, has midwives
    ("R0A", "Manchester University NHS Foundation Trust", "North West", "QOP", "NHS GM", True),
    ("RJ1", "Guy's and St Thomas' NHS Foundation Trust", "London", "QKK", "NHS SEL", True),
    ("RYJ", "Imperial College Healthcare NHS Trust", "London", "QRV", "NHS NWL", False),
]
#: The doctors' grades in the fixtures (the first is Consultant).
WF_GRADES = (
    "Consultant",
    "Associate specialist",
    "Specialty Registrar",
    "Foundation Doctor Year 1",
)


def workforce_groups(period: str, i: int) -> dict[str, float | None]:
    """One trust's FTE by staff group and grade in one month (None: not applicable, '-')."""
    y, m = map(int, period.split("-"))
    t = (y - 2019) * 12 + m
    grades = [300 + 40 * i + t, 40 + i, 350 + 30 * i, 90 + 5 * i + 0.5]
    return {
        **{g: float(v) for g, v in zip(WF_GRADES, grades, strict=True)},
        "Nurses & health visitors": 2500.25 + 200 * i + 2 * t,
        "Midwives": 150.5 + 10 * i if WF_TRUSTS[i][5] else None,
        "Ambulance staff": None,
        "Scientific, therapeutic & technical staff": 900.0 + 50 * i,
        "Support to doctors, nurses & midwives": 1800.0 + 80 * i + t,
        "Support to ambulance staff": None,
        "Support to ST&T staff": 400.0 + 3 * i,
        "Central functions": 700.0 + 7 * i,
        "Hotel, property & estates": 500.0 + 5 * i,
        "Senior managers": 60.0 + i,
        "Managers": 300.0 + 20 * i + t / 2,
    }


def workforce_expected(period: str) -> dict[str, dict[str, float]]:
    """The reader's columns per trust, computed from :func:`workforce_groups`."""
    out = {}
    for i, (code, *_rest) in enumerate(WF_TRUSTS):
        g = workforce_groups(period, i)
        doctors = sum(g[x] for x in WF_GRADES)
        total = doctors + sum(v for k, v in g.items() if k not in WF_GRADES and v is not None)
        out[code] = {
            "all_staff_fte": total,
            "doctors_fte": doctors,
            "consultants_fte": g["Consultant"],
            "nurses_fte": g["Nurses & health visitors"],
            "midwives_fte": g["Midwives"] if g["Midwives"] is not None else float("nan"),
            "support_fte": g["Support to doctors, nurses & midwives"],
            "managers_fte": g["Senior managers"] + g["Managers"],
        }
    return out


def _wf_blocks(style: str) -> list[tuple[str, list[str]]]:
    """Column blocks: (group cell, headers); a block's first header is its subtotal."""
    doctors = "HCHS Doctors" if style == "2020" else "HCHS doctors"
    sub = "All staff groups"
    return [
        ("", ["Total" if style == "2020" else sub]),
        (
            "Professionally qualified clinical staff",
            [
                "Professionally qualified clinical staff" if style == "2020" else sub,
                doctors,
                *WF_GRADES,
                "Nurses & health visitors",
                "Midwives",
                "Ambulance staff",
                "Scientific, therapeutic & technical staff",
            ],
        ),
        (
            "Support to clinical staff",
            [
                "Support to clinical staff" if style == "2020" else sub,
                "Support to doctors, nurses & midwives",
                "Support to ambulance staff",
                "Support to ST&T staff",
            ],
        ),
        (
            "NHS infrastructure support",
            [
                "NHS infrastructure support" if style == "2020" else sub,
                "Central functions",
                "Hotel, property & estates",
                "Senior managers",
                "Managers",
            ],
        ),
    ]


def _wf_values(g: dict[str, float | None], style: str, scale: float = 1.0) -> list:
    """One row's cells under :func:`_wf_blocks` (a spacer after each block in 2020's style)."""
    doctors = sum(g[x] for x in WF_GRADES)
    value = {**g, "HCHS doctors": doctors, "HCHS Doctors": doctors}
    blocks = _wf_blocks(style)
    subtotals = [sum(value[h] or 0 for h in names[1:] if h not in WF_GRADES)
                 for _, names in blocks[1:]]  # fmt: skip
    out = []
    for k, (_, names) in enumerate(blocks):
        cells = [sum(subtotals)] if k == 0 else [subtotals[k - 1]] + [value[h] for h in names[1:]]
        out += ["-" if v is None else round(v * scale, 2) for v in cells]
        if style == "2020":
            out.append(None)
    return out


def workforce_workbook(period: str, style: str | None = None) -> bytes:
    """The "England and Organisation" workbook of one month, in the style of its years."""
    from openpyxl import Workbook

    style = style or ("2020" if period < "2022-04" else "2023" if period < "2026-01" else "2026")
    _, _, name, _, _ = month_parts(period)
    blocks = _wf_blocks(style)
    wb = Workbook()
    ws = wb.active
    ws.title = "Contents"
    ws["A1"] = f"NHS Workforce Statistics, {name} {period[:4]}"
    # a national table with the same staff-group headers but no organisations (never read)
    nat = wb.create_sheet("1" if style == "2026" else "1. England, SG - FTE")
    nat.append(["Month", "HCHS doctors", "Nurses & health visitors"])
    nat.append([f"{name} {period[:4]}", 1000, 2000])
    sheets = ["2"] if style == "2026" else ["3. NHSE, Org & SG - FTE", "4. NHSE, Org & SG - HC"]
    for sheet_name in sheets:
        ws = wb.create_sheet(sheet_name)
        headcount = sheet_name.endswith("HC")
        ws["A1"] = f"NHS Workforce Statistics, {name} {period[:4]}"
        ws["A2"] = "HCHS staff in NHS Trusts and core organisations, " + (
            "headcount" if headcount else "full time equivalent (FTE)"
        )
        ws["A3"] = "Copyright © NHS England"
        top = 6
        if style == "2020":
            lead = ["Region", "", ""]  # organisation name and code have no header text
        elif style == "2023":
            lead = ["NHS England region code", "NHS England region name", "ICS code", "ICS name",
                    "Organisation name", "Organisation code"]  # fmt: skip
        else:
            lead = ["Data month", "Data type", "NHS England region code", "NHS England region name",
                    "ICS code", "ICS name", "Organisation name", "Organisation code"]  # fmt: skip
        headers = list(lead)
        col = len(lead) + 1
        for group, names in blocks:
            if group and style != "2020":
                _merge_over(ws, top - 1, col, len(names), group)
            headers += names
            col += len(names)
            if style == "2020":
                headers.append("")  # a spacer column between the groups
                col += 1
        for k, h in enumerate(headers, start=1):
            ws.cell(top, k, h or None)
        r = top + 1
        kinds = (
            [("FTE", 1.0), ("Headcount", 1.2)]
            if style == "2026"
            else [(None, 1.2 if headcount else 1.0)]
        )
        for kind, scale in kinds:
            first = [kind and f"{name} {period[:4]}", kind] if style == "2026" else []
            england = {k: sum((workforce_groups(period, i)[k] or 0) for i in range(3))
                       for k in workforce_groups(period, 0)}  # fmt: skip
            row = (
                ["England", "England", ""]
                if style == "2020"
                else first + ["", "England", "", "", "England", ""]
            )
            for k, v in enumerate(row + _wf_values(england, style, scale), start=1):
                ws.cell(r, k, v if v != "" else None)
            r += 1
            region = None
            for i, (code, org, reg, ics, ics_name, _) in enumerate(WF_TRUSTS):
                if style == "2020" and reg != region:  # a region sub-header row
                    ws.cell(r, 1, reg)
                    r += 1
                    region = reg
                lead_cells = (
                    ["", org, code]
                    if style == "2020"
                    else first + ["Y6" + str(i), reg, ics, ics_name, org, code]
                )
                values = _wf_values(workforce_groups(period, i), style, scale)
                for k, v in enumerate(lead_cells + values, start=1):
                    ws.cell(r, k, v if v != "" else None)
                r += 1
        ws.cell(r + 1, 1, "Source: NHS Workforce Statistics (ESR).")
        ws.cell(r + 2, 1, "Notes: '-' denotes not applicable; figures are rounded to two decimals.")
    return _save(wb)


def workforce_landing_path(period: str) -> str:
    _, _, name, _, _ = month_parts(period)
    return (
        "/data-and-information/publications/statistical/nhs-workforce-statistics/"
        f"{name.lower()}-{period[:4]}"
    )


def publish_workforce(server: Server, periods: list[str]) -> dict[str, bytes]:
    """Each month's publication page with its organisation workbook and other files."""
    out = {}
    for period in periods:
        _, _, name, _, _ = month_parts(period)
        y = period[:4]
        folder = f"/{suffix('wf', period)[:2].upper()}/{suffix('wf2', period)[:6].upper()}"
        fname = (
            f"NHS HCHS Workforce Statistics, Trusts and core organisations - data tables {name} {y}.xlsx"
            if period >= "2026-01"
            else f"NHS Workforce Statistics, {name} {y} England and Organisation.xlsx"
        )
        path = f"{folder}/{quote(fname)}"
        out[period] = workforce_workbook(period)
        server.put(path, out[period])
        links = [
            (f"{folder}/{quote(f'NHS Workforce Statistics, {name} {y} England and Region.xlsx')}",
             f"NHS Workforce Statistics, {name} {y} England and Region"),
            (path, fname.removesuffix(".xlsx")),
            (f"{folder}/{quote(f'NHS Workforce Statistics, {name} {y} csv files.zip')}",
             f"NHS Workforce Statistics, {name} {y} csv files"),
        ]  # fmt: skip
        server.put(
            workforce_landing_path(period),
            page(f"NHS Workforce Statistics {name} {y}", links),
            "text/html",
        )
    return out


# --- KH03 ------------------------------------------------------------------------------------

KH03_TRUSTS = [
    ("R0A", "Manchester University NHS Foundation Trust", "Y62"),
    ("RJ1", "Guy's and St Thomas' NHS Foundation Trust", "Y56"),
    ("RYJ", "Imperial College Healthcare NHS Trust", "Y56"),
]
KH03_SECTORS = ("General & Acute", "Learning Disabilities", "Maternity", "Mental Illness")


def kh03_beds(period: str, i: int) -> dict[str, tuple[float, float] | None]:
    """(available, occupied) per sector of one trust in one quarter (None: no such beds)."""
    y, m = map(int, period.split("-"))
    q = (y - 2019) * 4 + m // 3
    ga = 1400.0 + 300 * i + 5 * q
    out = {
        "General & Acute": (ga, round(ga * (0.86 + 0.01 * i + 0.002 * (m % 6)), 1)),
        "Learning Disabilities": None,
        "Maternity": (120.0 + 10 * i, round((120.0 + 10 * i) * 0.6, 1)) if i != 2 else None,
        "Mental Illness": (30.0, 27.0) if i == 0 else None,
    }
    return out


def kh03_expected(period: str) -> dict[str, dict[str, float]]:
    out = {}
    for i, (code, *_r) in enumerate(KH03_TRUSTS):
        beds = [v for v in kh03_beds(period, i).values() if v is not None]
        avail, occ = sum(a for a, _ in beds), sum(o for _, o in beds)
        out[code] = {
            "available_total": avail,
            "occupied_total": occ,
            "available_general_acute": kh03_beds(period, i)["General & Acute"][0],
            "occupancy_pct": round(100 * occ / avail, 1),
        }
    return out


def kh03_workbook(period: str, *, top: int = 15, groups_row: bool = True) -> bytes:
    """The quarter's 'NHS Trust by Sector' sheet (and a specialty sheet beside it)."""
    from openpyxl import Workbook

    y, m = map(int, period.split("-"))
    fy = fy_of(period)
    start = MONTHS[(m - 3) % 12]
    wb = Workbook()
    ws = wb.active
    ws.title = "NHS Trust by Specialty"
    ws["B5"] = "Org Code"
    ws = wb.create_sheet("NHS Trust by Sector")
    for r, (label, value) in enumerate(
        [("Title:", "Bed Availability and Occupancy Data - Overnight"),
         ("Summary:", "Average daily number of available and occupied beds open overnight"),
         ("Period:", f"{start} - {MONTHS[m - 1]} {y}"),
         ("Source:", "KH03"), ("Basis:", "Provider"), ("Published:", "Thursday"),
         ("Revised:", "-"), ("Status:", "Published"), ("Contact:", "england.kh03@nhs.net")],
        start=2,
    ):  # fmt: skip
        ws.cell(r, 2, label)
        ws.cell(r, 3, value)
    # 2023-24 on: the sector renamed (a documented kind of drift, not a confirmed one)
    sectors = [("Learning Disability" if period >= "2023-06" and s.startswith("Learning") else s)
               for s in KH03_SECTORS]  # fmt: skip
    headers = ["Year", "Period End", "Region Code", "Org Code", "Org Name"]
    blocks = [("Available", ["Total", *sectors]), ("Occupied", ["Total", *sectors]),
              ("% Occupied", ["Total", *sectors])]  # fmt: skip
    col = len(headers) + 2
    for group, names in blocks:
        if groups_row:
            _merge_over(ws, top - 1, col, len(names), group)
        col += len(names)
        headers += names
    for k, h in enumerate(headers, start=2):
        ws.cell(top, k, h)

    def cells(beds: list) -> list:
        av = [b[0] if b else None for b in beds]
        oc = [b[1] if b else None for b in beds]
        ta, to = sum(a for a in av if a), sum(o for o in oc if o)
        pct = [None if not a else round(o / a, 4) for a, o in zip(av, oc, strict=True)]
        dash = lambda v: "-" if v is None else v  # noqa: E731
        return [ta, *map(dash, av), to, *map(dash, oc), round(to / ta, 4), *map(dash, pct)]

    r = top + 1
    all_beds = [[kh03_beds(period, i)[s] for s in KH03_SECTORS] for i in range(len(KH03_TRUSTS))]
    england = [tuple(map(sum, zip(*[b for b in col_ if b], strict=True))) if any(col_) else None
               for col_ in zip(*all_beds, strict=True)]  # fmt: skip
    for k, v in enumerate([fy, MONTHS[m - 1], "-", "-", "England", *cells(england)], start=2):
        ws.cell(r, k, v)
    r += 2  # England, then a blank row
    for i, (code, org, region) in enumerate(KH03_TRUSTS):
        for k, v in enumerate([fy, MONTHS[m - 1], region, code, org, *cells(all_beds[i])], start=2):
            ws.cell(r, k, v)
        r += 1
    ws.cell(r + 1, 2, "Notes:")
    ws.cell(r + 2, 2, "1. '-' means the trust has no beds of that sector.")
    return _save(wb)


KH03_LANDING = (
    "/statistics/statistical-work-areas/bed-availability-and-occupancy/bed-data-overnight/"
)


def publish_kh03(server: Server, periods: list[str]) -> dict[str, bytes]:
    """One page listing every quarter's workbook (file names without the quarter, as seen)."""
    out, links = {}, []
    for period in periods:
        y, m = map(int, period.split("-"))
        q = (m - 4) % 12 // 3 + 1
        fy = fy_of(period)
        out[period] = kh03_workbook(period, top=15 if period < "2023-06" else 17)
        path = f"{_upload_folder(period, 2)}/Beds-Open-Overnight-Web_File-Final-{suffix('kh', period)}.xlsx"
        server.put(path, out[period])
        links += [
            (path, f"Beds Open Overnight Web File Q{q} {fy} (XLSX, 150KB)"),
            (path.replace("Overnight", "Overnight-Timeseries"), f"Time series Q{q} {fy} (XLSX)"),
        ]
    links.append(
        ("/statistics/wp-content/uploads/sites/2/kh03-guidance.pdf", "KH03 guidance (PDF)")
    )
    server.put(
        KH03_LANDING, page("Bed Availability and Occupancy Data - Overnight", links), "text/html"
    )
    return out


# --- DM01 ------------------------------------------------------------------------------------

DM01_PROVIDERS = [
    ("R0A", "MANCHESTER UNIVERSITY NHS FOUNDATION TRUST"),
    ("RJ1", "GUY'S AND ST THOMAS' NHS FOUNDATION TRUST"),
    ("NT4", "CIRCLE HEALTH GROUP"),
]


def dm01_counts(period: str, i: int) -> tuple[int, int, int | None, int]:
    """(waiting list, 6+ weeks, 13+ weeks or None for '-', activity) of one provider."""
    m = int(period[5:])
    total = 9000 + 1500 * i + 40 * m
    six = 300 + 30 * i + m
    return total, six, (40 + i if i != 2 else None), 12000 + 100 * i


def dm01_workbook(period: str, *, top: int = 14, capitals: bool = True) -> bytes:
    from openpyxl import Workbook

    _, _, name, _, _ = month_parts(period)
    wb = Workbook()
    ws = wb.active
    ws.title = "Commissioner"
    ws["B14"] = "Commissioner Code"
    ws = wb.create_sheet("Provider")
    for r, (label, value) in enumerate(
        [("Title:", "Monthly Diagnostics Waiting Times and Activity"), ("Period:", f"{name} {period[:4]}"),
         ("Source:", "DM01"), ("Basis:", "Provider"), ("Published:", "Thursday")], start=3,
    ):  # fmt: skip
        ws.cell(r, 2, label)
        ws.cell(r, 3, value)
    weeks = "Weeks" if capitals else "weeks"
    headers = ["Region Code", "Provider Code", "Provider Name", "Total Waiting List",
               f"Number waiting 6+ {weeks}", f"Number waiting 13+ {weeks}",
               "Percentage waiting 6+ weeks", "Total Activity"]  # fmt: skip
    for k, h in enumerate(headers, start=2):
        ws.cell(top, k, h)
    rows = [dm01_counts(period, i) for i in range(len(DM01_PROVIDERS))]
    eng = [sum(r[0] for r in rows), sum(r[1] for r in rows), sum(r[2] or 0 for r in rows),
           sum(r[3] for r in rows)]  # fmt: skip
    for k, v in enumerate(
        ["-", "-", "ENGLAND", eng[0], eng[1], eng[2], eng[1] / eng[0], eng[3]], 2
    ):
        ws.cell(top + 1, k, v)
    r = top + 3
    for (code, org), (total, six, thirteen, act) in zip(DM01_PROVIDERS, rows, strict=True):
        values = ["Y62", code, org, total, six, "-" if thirteen is None else thirteen,
                  round(six / total, 4), act]  # fmt: skip
        for k, v in enumerate(values, start=2):
            ws.cell(r, k, v)
        r += 1
    ws.cell(r + 1, 2, "Note: the 6 week standard is that under 1% wait 6 weeks or more.")
    return _save(wb)


def dm01_landing_path(fy: str) -> str:
    return (
        "/statistics/statistical-work-areas/diagnostics-waiting-times-and-activity/"
        f"monthly-diagnostics-waiting-times-and-activity/monthly-diagnostics-data-{fy}/"
    )


def publish_yearly(server: Server, periods: list[str], one, landing_path, title: str) -> dict:
    """Serve ``one(period) -> (path, bytes, links)`` for each period, and its yearly pages."""
    out: dict[str, bytes] = {}
    by_fy: dict[str, list[tuple[str, str]]] = {}
    for period in periods:
        path, data, links = one(period)
        server.put(path, data)
        out[period] = data
        by_fy.setdefault(fy_of(period), []).extend(links)
    for fy, links in by_fy.items():
        server.put(landing_path(fy), page(f"{title} {fy}", links), "text/html")
    return out


def publish_dm01(server: Server, periods: list[str]) -> dict[str, bytes]:
    def one(period: str):
        _, _, name, _, _ = month_parts(period)
        y = period[:4]
        path = (f"{_upload_folder(period, 2)}/Monthly-Diagnostics-Web-File-Provider-{name}-{y}_"
                f"{suffix('dm', period)}.xls")  # fmt: skip
        later = period >= "2024-01"  # the header moved up and lost its capitals
        # a genuine .xls, as published
        data = as_xls(dm01_workbook(period, top=12 if later else 14, capitals=not later))
        links = [
            (path.replace("Web-File", "Revisions-Web-File"), f"Revisions {name} {y} (XLS)"),
            (path, f"Monthly Diagnostics Web File Provider {name} {y} (XLS, 300K)"),
            (path.replace("Provider", "Commissioner"), f"Commissioner {name} {y} (XLS)"),
        ]
        return path, data, links

    return publish_yearly(server, periods, one, dm01_landing_path, "Monthly Diagnostics Data")


# --- AmbSYS ----------------------------------------------------------------------------------

AMB_SERVICES = [
    ("RX9", "East Midlands Ambulance Service NHS Trust", "Y60"),
    ("RYA", "West Midlands Ambulance Service University NHS Foundation Trust", "Y60"),
    ("RRU", "London Ambulance Service NHS Trust", "Y56"),
]
AMB_CATEGORIES = ("C1", "C1T", "C2", "C3", "C4")


def ambsys_values(period: str, i: int, cat: str) -> tuple[int, float, int, int]:
    """(incidents, total hours, mean seconds, 90th centile seconds) of one service."""
    y, m = map(int, period.split("-"))
    k = AMB_CATEGORIES.index(cat)
    count = (6000, 4000, 40000, 15000, 1200)[k] + 500 * i + 10 * m
    mean = (430, 520, 1700, 4800, 9000)[k] + 20 * i + (y - 2020) * 5 + m
    p90 = int(mean * 1.9)
    return count, count * mean / 3600, mean, p90


def ambsys_workbook(period: str) -> bytes:
    """The month's workbook: sheet 'Response Times', a block per category."""
    from openpyxl import Workbook

    _, _, name, _, _ = month_parts(period)
    wb = Workbook()
    ws = wb.active
    ws.title = "Calls"
    ws["A5"] = "Org Code"
    ws = wb.create_sheet("Response Times")
    ws["A1"] = "Ambulance Quality Indicators: Systems Indicators"
    ws["A2"] = f"Period: {name} {period[:4]}"
    top = 6
    ws.cell(top, 1, "Org Code")
    ws.cell(top, 2, "Org Name")
    measures = ["Count of incidents", "Total (hours)", "Mean (hh:mm:ss)", "90th centile (hh:mm:ss)"]
    col = 3
    for cat in AMB_CATEGORIES:
        label = f"Category {cat[1:]}" if cat != "C1T" else "C1T (Category 1 transported)"
        _merge_over(ws, top - 1, col, 4, label)
        for k, mname in enumerate(measures):
            ws.cell(top, col + k, mname)
        col += 4

    def write(r: int, code: str, org: str, values: list) -> None:
        ws.cell(r, 1, code)
        ws.cell(r, 2, org)
        for k, (count, hours, mean, p90) in enumerate(values):
            c = 3 + 4 * k
            ws.cell(r, c, count)
            ws.cell(r, c + 1, round(hours, 3))
            t = ws.cell(r, c + 2, dt.time(mean // 3600, mean % 3600 // 60, mean % 60))
            t.number_format = "h:mm:ss"
            d = ws.cell(r, c + 3, dt.timedelta(seconds=p90))
            d.number_format = "[h]:mm:ss"

    per = [[ambsys_values(period, i, c) for c in AMB_CATEGORIES] for i in range(len(AMB_SERVICES))]
    eng = []
    for k in range(len(AMB_CATEGORIES)):
        n = sum(p[k][0] for p in per)
        h = sum(p[k][1] for p in per)
        eng.append((n, h, int(round(h * 3600 / n)), max(p[k][3] for p in per)))
    write(top + 1, "Eng", "England", eng)
    for i, (code, org, _) in enumerate(AMB_SERVICES):
        write(top + 2 + i, code, org, per[i])
    ws.cell(top + 6, 1, "Source: AmbSYS")
    return _save(wb)


def ambsys_series_csv(period: str) -> bytes:
    """AmbSYS-to-<Mon><YY>.csv: every month from August 2017 to ``period``."""
    from icsresearch.releases.ambsys import SERIES_CODES

    codes = ["A0", "A1", "A7"] + [c for cs in SERIES_CODES.values() for c in cs] + ["A53"]
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["Year", "Month", "Region", "Org Code", "Org Name", *codes])
    y, m = 2017, 8
    end = tuple(map(int, period.split("-")))
    while (y, m) <= end:
        p = f"{y}-{m:02d}"
        rows = [("Eng", "England", "Eng")] + [(c, n, r) for c, n, r in AMB_SERVICES]
        for idx, (code, org, region) in enumerate(rows):
            values = {}
            for cat, (n, total, mean, p90) in SERIES_CODES.items():
                if code == "Eng":
                    got = [ambsys_values(p, i, cat) for i in range(len(AMB_SERVICES))]
                    cnt = sum(g[0] for g in got)
                    secs = sum(g[1] for g in got) * 3600
                    vals = (cnt, secs, int(round(secs / cnt)), max(g[3] for g in got))
                else:
                    cnt, hours, mn, q = ambsys_values(p, idx - 1, cat)
                    vals = (cnt, hours * 3600, mn, q)
                if cat == "C1T" and p < "2018-01":
                    vals = (".", ".", ".", ".")  # not collected yet
                values.update(dict(zip((n, total, mean, p90), vals, strict=True)))
            w.writerow([y, m, region, code, org, 1000, 2000, 900,
                        *(values[c] for c in codes[3:-1]), "."])  # fmt: skip
        w.writerow([y, m, "Y60", "Y60", "Midlands", *(["."] * len(codes))])
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out.getvalue().encode()


AQI_HOME = "/statistics/statistical-work-areas/ambulance-quality-indicators/"


def ambsys_landing_path(fy: str) -> str:
    return f"{AQI_HOME}ambulance-quality-indicators-data-{fy}/"


def publish_ambsys(server: Server, periods: list[str]) -> dict[str, dict[str, bytes]]:
    """Monthly workbooks and time-series CSVs on the yearly pages; the latest CSV on the front."""
    out: dict[str, dict[str, bytes]] = {"ambsys": {}, "ambsys_series": {}}
    by_fy: dict[str, list[tuple[str, str]]] = {}
    front = []
    for n, period in enumerate(sorted(periods)):
        _, _, _, mon, yy = month_parts(period)
        folder = _upload_folder(period)
        book = f"{folder}/AmbSYS-{mon}{yy}-{suffix('amb', period)}.xlsx"
        series = f"{folder}/AmbSYS-to-{mon}{yy}.csv"
        out["ambsys"][period] = ambsys_workbook(period)
        out["ambsys_series"][period] = ambsys_series_csv(period)
        server.put(book, out["ambsys"][period])
        server.put(series, out["ambsys_series"][period], "text/csv")
        links = [(book, f"AmbSYS {mon}{yy} (XLSX)"), (f"{folder}/AmbCO-{mon}{yy}.xlsx", "AmbCO")]
        if n == len(periods) - 1:
            front.append((series, f"AmbSYS Time Series to {mon}{yy} (CSV, 1.1MB)"))
        else:
            links.append((series, f"AmbSYS Time Series to {mon}{yy} (CSV)"))
        by_fy.setdefault(fy_of(period), []).extend(links)
    for fy, links in by_fy.items():
        server.put(ambsys_landing_path(fy), page(f"AQI {fy}", links), "text/html")
    server.put(AQI_HOME, page("Ambulance Quality Indicators", front), "text/html")
    return out


# --- cancer waiting times --------------------------------------------------------------------

CWT_PROVIDERS = ["R0A", "RJ1", "RYJ"]
CWT_TYPES = ("Breast", "Lung", "Urological")


def cwt_standards(month: str) -> list[str]:
    """The standards published for a month, as written (changed on 1 October 2023)."""
    if month >= "2023-10":
        return ["28-day FDS", "31-day", "62-day"]
    return ["2WW", "2WW Breast", "28 Day FDS", "31 Days", "62 Days"]


def cwt_counts(month: str, i: int, s: int, t: int, extract: str) -> tuple[int, int]:
    """(total, within standard) of one row; an extract revises its months but the last by +1."""
    m = int(month[5:])
    total = 40 + 10 * i + 5 * s + 3 * t + m
    within = int(total * (0.7 + 0.05 * (s % 3)))
    revised = 1 if month < extract else 0
    return total + revised, within + revised


def cwt_months(extract: str) -> list[str]:
    y, m = map(int, extract.split("-"))
    fy = y if m >= 4 else y - 1
    out, yy, mm = [], fy, 4
    while (yy, mm) <= (y, m):
        out.append(f"{yy}-{mm:02d}")
        yy, mm = (yy + 1, 1) if mm == 12 else (yy, mm + 1)
    return out


def cwt_expected(extract: str) -> dict[tuple[str, str, str], tuple[int, int]]:
    """(month, org, standard as written) -> (total, within) summed over cancer types."""
    out = {}
    for month in cwt_months(extract):
        for i, org in enumerate(CWT_PROVIDERS):
            for s, std in enumerate(cwt_standards(month)):
                rows = [cwt_counts(month, i, s, t, extract) for t in range(len(CWT_TYPES))]
                out[(month, org, std)] = (sum(r[0] for r in rows), sum(r[1] for r in rows))
    return out


def cwt_workbook(extract: str) -> bytes:
    """The year-to-date provider extract (tidy, one sheet; underscores in later headers)."""
    from openpyxl import Workbook

    later = extract >= "2023-04"
    wb = Workbook()
    ws = wb.active
    ws.title = "CWT CRS Provider Extract"
    head = ["PERIOD", "MONTH", "ORG CODE", "STANDARD", "CANCER TYPE", "REFERRAL ROUTE/STAGE",
            "TREATMENT MODALITY", "TOTAL TREATED", "WITHIN STANDARD", "BREACHES"]  # fmt: skip
    if later:
        head = [h.replace(" ", "_") for h in head]
        head[5] = "STAGE_OR_ROUTE"
    ws.append(head)
    for month in cwt_months(extract):
        y, m = map(int, month.split("-"))
        fy = y if m >= 4 else y - 1
        period = f"{fy}-{(fy + 1) % 100:02d}" if later else dt.datetime(y, m, 1)
        mon = MONTHS[m - 1][:3].upper()
        for i, org in enumerate(CWT_PROVIDERS):
            for s, std in enumerate(cwt_standards(month)):
                for t, kind in enumerate(CWT_TYPES):
                    total, within = cwt_counts(month, i, s, t, extract)
                    ws.append([period, mon, org, std, kind, "Urgent Suspected Cancer", "ALL",
                               total, within, total - within])  # fmt: skip
    return _save(wb)


def cwt_landing_path(fy: str) -> str:
    return (
        "/statistics/statistical-work-areas/cancer-waiting-times/monthly-prov-cwt/"
        f"{fy}-monthly-provider-cancer-waiting-times-statistics/"
    )


def publish_cancer(server: Server, periods: list[str]) -> dict[str, bytes]:
    def one(period: str):
        _, _, _, mon, _ = month_parts(period)
        path = (f"{_upload_folder(period, 2)}/Cancer-Waiting-Times-Apr-{mon}-{period[:4]}"
                f"-Data-Extract-Provider.xlsx")  # fmt: skip
        links = [
            (path, f"Cancer Waiting Times Apr-{mon} {period[:4]} Data Extract (Provider)"),
            (path.replace("Provider", "Commissioner"), "Data Extract (Commissioner)"),
        ]
        return path, cwt_workbook(period), links

    return publish_yearly(server, periods, one, cwt_landing_path, "Provider CWT")


# --- NHS Staff Survey ------------------------------------------------------------------------

SURVEY_ORGS = [
    ("R0A", "Manchester University NHS Foundation Trust", 5200),
    ("RJ1", "Guy's and St Thomas' NHS Foundation Trust", 7100),
    ("RYJ", "Imperial College Healthcare NHS Trust", 40),  # too few answers in 2023: '-'
]
THEMES_2018 = ["Equality, diversity & inclusion", "Health & wellbeing", "Immediate managers",
               "Morale", "Quality of care", "Safe environment - Bullying & harassment",
               "Safe environment - Violence", "Safety culture", "Staff engagement", "Team working"]  # fmt: skip
PROMISE = ["We are compassionate and inclusive", "We are recognised and rewarded",
           "We each have a voice that counts", "We are safe and healthy",
           "We are always learning", "We work flexibly", "We are a team"]  # fmt: skip


def survey_score(year: int, i: int, theme: str) -> float | None:
    """One organisation's theme score (0-10) in one survey (None: suppressed, '-')."""
    if year >= 2023 and i == 2:
        return None
    return round(5.5 + 0.3 * i + 0.05 * (year - 2018) + 0.01 * (len(theme) % 17), 2)


def survey_workbook(year: int) -> bytes:
    """The organisation results: a wide themes sheet to 2020, a long one from 2021."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Notes"
    ws["A1"] = f"NHS Staff Survey {year}: organisation results"
    q = wb.create_sheet("Questions")
    q.append(["Org code", "Q2a" if year < 2021 else "Q3a", "Q2b" if year < 2021 else "Q3b"])
    if year <= 2020:
        ws = wb.create_sheet("Themes")
        ws["A1"] = f"NHS Staff Survey {year} - theme results (0-10)"
        ws.append([])
        ws.append(["Org code", "Organisation name", "Organisation type", *THEMES_2018,
                   "Number of responses"])  # fmt: skip
        for i, (code, name, n) in enumerate(SURVEY_ORGS):
            scores = [survey_score(year, i, t) for t in THEMES_2018]
            ws.append([code, name, "Acute", *("-" if s is None else s for s in scores), n])
    else:
        ws = wb.create_sheet("People Promise and Themes")
        ws["A1"] = f"NHS Staff Survey {year} - People Promise elements and themes (0-10)"
        ws.append([])
        ws.append(["Organisation code", "Organisation name", "Theme", "Score", "Responses"])
        for i, (code, name, n) in enumerate(SURVEY_ORGS):
            for t in [*PROMISE, "Staff Engagement", "Morale"]:
                s = survey_score(year, i, t)
                ws.append([code, name, t, "-" if s is None else s, n])
    ws.append([])
    ws.append(["Note: '-' where fewer than 50 staff responded."])
    return _save(wb)


def survey_zip(year: int) -> bytes:
    yy = f"{year % 100:02d}"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(f"NSS{yy} National results.xlsx", b"PK-not-read")
        zf.writestr(f"NSS{yy} Organisation type results.xlsx", b"PK-not-read")
        zf.writestr(f"NSS{yy} Organisation results.xlsx", survey_workbook(year))
    return buf.getvalue()


SURVEY_CURRENT = "/results/"
SURVEY_ARCHIVE = "/results/results-archive/"


def publish_staff_survey(server: Server, years: list[int]) -> dict[str, bytes]:
    """The latest year on /results/, the others in the archive, each with other links around."""
    out: dict[str, bytes] = {}
    latest = max(years)
    current, archive = [], []
    for year in years:
        path = f"/wp-content/uploads/{year + 1}/03/NSS{year % 100:02d}-detailed-spreadsheets.zip"
        out[f"{year}-09"] = survey_zip(year)
        server.put(path, out[f"{year}-09"], "application/zip")
        links = [
            (path.replace(".zip", "-benchmark.pdf"), f"{year} National benchmark reports"),
            (path, f"{year} Detailed spreadsheets (zip, 12MB)"),
        ]
        (current if year == latest else archive).extend(links)
    server.put(SURVEY_CURRENT, page("NHS Staff Survey results", current), "text/html")
    server.put(SURVEY_ARCHIVE, page("Results archive", archive), "text/html")
    return out
