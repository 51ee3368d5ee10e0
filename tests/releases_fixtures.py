"""Hand-made official releases for the tests of icsresearch.releases, and a loopback server.

Nothing here reaches NHS England. The files are generated in the layouts documented in
shared/data/OFFICIAL_RELEASES.md, with their quirks (random suffixes in file names, landing
pages with other links around, week bands that change between years, C_999 total rows,
Windows-1252 names, footnote rows, '-' for not applicable, merged group headers in workbooks),
and served from an http.server on 127.0.0.1 (port 0) in a thread, which counts the requests.
"""

from __future__ import annotations

import csv
import hashlib
import io
import threading
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from icsresearch import config
from icsresearch.releases import _net, catalogue
from icsresearch.releases.catalogue import MONTH_NAMES as MONTHS

# --- the server --------------------------------------------------------------------------------


class Server:
    """A loopback web server of fixed pages and files; ``hits`` counts requests per path."""

    def __init__(self) -> None:
        self.files: dict[str, tuple[bytes, str]] = {}
        self.hits: Counter[str] = Counter()
        self.fail: Counter[str] = Counter()  # path -> how many 503s to answer first
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                path = self.path.split("?", 1)[0]
                owner.hits[path] += 1
                if owner.fail[path] > 0:
                    owner.fail[path] -= 1
                    self.send_error(503)
                    return
                if path not in owner.files:
                    self.send_error(404)
                    return
                body, kind = owner.files[path]
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):  # keep the test output clean
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def put(self, path: str, body: bytes, kind: str = "application/octet-stream") -> str:
        """Serve ``body`` at ``path``; return its URL."""
        self.files[path] = (body, kind)
        return self.url + path

    def total_hits(self) -> int:
        return sum(self.hits.values())

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def isolate(tmp_path: Path, monkeypatch, server: Server) -> Path:
    """Give a test its own cache and work folder (made current), online, pages from ``server``.

    Retries wait 10 ms. Returns the work folder.
    """
    monkeypatch.setenv(config.CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.delenv(config.OFFLINE_ENV, raising=False)
    monkeypatch.delenv("ICSRESEARCH_LOCK", raising=False)
    monkeypatch.setenv(catalogue.BASE_URL_ENV, server.url)
    monkeypatch.setattr(_net, "BACKOFF_SECONDS", 0.01)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


@pytest.fixture(name="server")
def server_fixture():
    """A loopback server of its own for a test (import this fixture into a test module)."""
    s = Server()
    yield s
    s.stop()


@pytest.fixture(name="work")
def work_fixture(tmp_path, monkeypatch, server):
    """The test's own cache and work folder (made current), pages from its ``server``."""
    return isolate(tmp_path, monkeypatch, server)


@pytest.fixture(name="env")
def env_fixture(work, monkeypatch):
    """As ``work``, with no mirror: every locked file comes from the cache or the server."""
    monkeypatch.delenv(config.MIRROR_ENV, raising=False)
    return work


def write(folder: Path, name: str, data: bytes) -> Path:
    """Write ``data`` to ``folder/name`` (a published file to read with ``path=``)."""
    path = folder / name
    path.write_bytes(data)
    return path


def suffix(*parts: object) -> str:
    """A stable 'random' suffix, as the publishers add to file names."""
    return hashlib.sha256("/".join(map(str, parts)).encode()).hexdigest()[:5]


def month_parts(period: str) -> tuple[int, int, str, str, str]:
    y, m = map(int, period.split("-"))
    name = MONTHS[m - 1]
    return y, m, name, name[:3], f"{y % 100:02d}"


def fy_of(period: str) -> str:
    y, m = map(int, period.split("-"))
    start = y if m >= 4 else y - 1
    return f"{start}-{(start + 1) % 100:02d}"


def page(title: str, links: list[tuple[str, str]]) -> bytes:
    """A page like the publishers' (header, navigation, a list of file links, footer)."""
    items = "\n".join(f'  <li><p><a href="{h}">{t}</a></p></li>' for h, t in links)
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><title>"
        f"{title}</title></head><body>\n<nav><a href='/'>Home</a> <a href='/statistics/'>"
        "Statistics</a></nav>\n<main><h1>"
        f"{title}</h1>\n<ul>\n{items}\n</ul></main>\n"
        "<footer><a href='/privacy'>Privacy</a></footer></body></html>\n"
    ).encode()


# --- RTT -----------------------------------------------------------------------------------------

RTT_PROVIDERS = [
    # provider code, name (a Windows-1252 apostrophe in one), parent
    ("R0A", "MANCHESTER UNIVERSITY NHS FOUNDATION TRUST", "QOP"),
    ("RJ1", "GUY\u2019S AND ST THOMAS\u2019 NHS FOUNDATION TRUST", "QKK"),
    ("RYJ", "IMPERIAL COLLEGE HEALTHCARE NHS TRUST", "QRV"),
    ("NT4", "CIRCLE HEALTH GROUP", "QOP"),  # an independent provider (not an NHS trust)
]
RTT_COMMISSIONERS = [("14L", "NHS MANCHESTER", "QOP"), ("72Q", "NHS SOUTH EAST LONDON", "QKK")]
RTT_FUNCTIONS = [("C_100", "General Surgery"), ("C_110", "Trauma and Orthopaedic Service")]
RTT_PARTS = [
    ("Part_1A", "Completed Pathways For Admitted Patients"),
    ("Part_1B", "Completed Pathways For Non-Admitted Patients"),
    ("Part_2", "Incomplete Pathways"),
    ("Part_2A", "Incomplete Pathways with DTA"),
]
#: The month the fixtures extend the bands from 52 to 104 weeks (not a confirmed date).
RTT_LONG_BANDS_FROM = "2021-04"


def rtt_open_band(period: str) -> int:
    return 104 if period >= RTT_LONG_BANDS_FROM else 52


def rtt_bands(period: str, p: int, c: int, f: int, part: int) -> list[int]:
    """Counts per week band (the last is the open band) of one row: deterministic, checkable."""
    y, m = map(int, period.split("-"))
    top = rtt_open_band(period)
    scale = 3 + p + 2 * c + f + part + (m % 3) + (y - 2019)
    counts = [max(0, scale * 4 - w // 3) for w in range(top)]
    counts.append(p + c + 1)  # the open band: a few very long waits
    if p == 0 and c == 1 and f == 0:
        counts[5] = 0  # written as a blank cell below
    return counts


def rtt_csv(period: str, *, total_rows: bool = True) -> bytes:
    """The Full CSV data file of one month (Windows-1252, as older exports are)."""
    _, _, name, _, _ = month_parts(period)
    y = period[:4]
    top = rtt_open_band(period)
    bands = [f"Gt {w:02d} To {w + 1:02d} Weeks SUM 1" for w in range(top)]
    bands.append(f"Gt {top:02d} Weeks SUM 1")
    header = [
        "Period",
        "Provider Parent Org Code",
        "Provider Parent Name",
        "Provider Org Code",
        "Provider Org Name",
        "Commissioner Parent Org Code",
        "Commissioner Parent Name",
        "Commissioner Org Code",
        "Commissioner Org Name",
        "RTT Part Type",
        "RTT Part Description",
        "Treatment Function Code",
        "Treatment Function Name",
        *bands,
        "Total",
        "Patients with unknown clock start date",
        "Total All",
    ]
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(header)
    for p, (pc, pn, pp) in enumerate(RTT_PROVIDERS):
        for c, (cc, cn, cp) in enumerate(RTT_COMMISSIONERS):
            for part, (pt, pd_) in enumerate(RTT_PARTS):
                rows = []
                for f, (tc, tn) in enumerate(RTT_FUNCTIONS):
                    rows.append((tc, tn, rtt_bands(period, p, c, f, part)))
                if total_rows:
                    summed = [sum(x) for x in zip(*(r[2] for r in rows), strict=True)]
                    rows.append(("C_999", "Total", summed))
                for tc, tn, counts in rows:
                    unknown = (p + f) % 2 if pt == "Part_2" else ""
                    cells = ["" if (v == 0 and tc != "C_999") else str(v) for v in counts]
                    total = sum(counts)
                    total_all = total + (unknown or 0)
                    w.writerow(
                        [
                            f"RTT-{name}-{y}",
                            pp,
                            "NHS ENGLAND REGION",
                            pc,
                            pn,
                            cp,
                            "NHS ENGLAND REGION",
                            cc,
                            cn,
                            pt,
                            pd_,
                            tc,
                            tn,
                            *cells,
                            total,
                            unknown,
                            total_all,
                        ]
                    )
    return out.getvalue().encode("cp1252")


def rtt_expected(period: str) -> dict[str, dict[str, float]]:
    """Provider-level incomplete pathways computed straight from :func:`rtt_bands`."""
    out = {}
    part = 2  # Part_2
    for p, (pc, *_rest) in enumerate(RTT_PROVIDERS):
        total = within = over52 = over104 = 0
        for c in range(len(RTT_COMMISSIONERS)):
            for f in range(len(RTT_FUNCTIONS)):
                counts = rtt_bands(period, p, c, f, part)
                total += sum(counts)
                within += sum(counts[:18])
                over52 += sum(counts[52:])
                over104 += counts[-1] if rtt_open_band(period) == 104 else 0
        out[pc] = {
            "total": total,
            "within": within,
            "over52": over52,
            "over104": over104,
            "pct": round(100 * within / total, 1),
        }
    return out


def zipped(name: str, data: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(name, data)
    return buf.getvalue()


@dataclass
class Published:
    """What :func:`publish_rtt` put on the server: file path and bytes per period."""

    paths: dict[str, str] = field(default_factory=dict)
    data: dict[str, bytes] = field(default_factory=dict)


def rtt_landing_path(fy: str) -> str:
    return f"/statistics/statistical-work-areas/rtt-waiting-times/rtt-data-{fy}/"


def publish_rtt(server: Server, periods: list[str]) -> Published:
    """Put the Full CSV zips of ``periods`` and their yearly landing pages on the server."""
    pub = Published()
    by_fy: dict[str, list[tuple[str, str]]] = {}
    for period in periods:
        y, m, name, mon, yy = month_parts(period)
        # published the month after next, in the uploads folder of that month
        up_y, up_m = (y, m + 2) if m <= 10 else (y + 1, m - 10)
        fname = f"Full-CSV-data-file-{mon}{yy}-ZIP-{3000 + m}K-{suffix('rtt', period)}.zip"
        path = f"/statistics/wp-content/uploads/sites/2/{up_y}/{up_m:02d}/{fname}"
        data = zipped(f"{y}{m:02d}-RTT-{name}-{y}-full-extract.csv", rtt_csv(period))
        server.put(path, data, "application/zip")
        pub.paths[period], pub.data[period] = path, data
        links = by_fy.setdefault(fy_of(period), [])
        links += [
            (path, f"Full CSV data file {mon}{yy} (ZIP, {3000 + m}K)"),
            (
                path.replace("Full-CSV-data-file", "Incomplete-Provider").replace(".zip", ".xls"),
                f"Incomplete Provider {mon}{yy} (XLS, 1M)",
            ),
            (
                f"/statistics/wp-content/uploads/sites/2/{up_y}/{up_m:02d}/"
                f"RTT-statistical-press-notice-{mon}{yy}-PDF-{suffix('pn', period)}.pdf",
                f"Statistical Press Notice {mon}{yy} (PDF, 300K)",
            ),
        ]
    for fy, links in by_fy.items():
        server.put(rtt_landing_path(fy), page(f"RTT Data {fy}", links), "text/html")
    return pub


# --- A&E -----------------------------------------------------------------------------------------

AE_PROVIDERS = [
    # code, parent / region, name, has type 2 departments?
    ("R0A", "NHS ENGLAND NORTH WEST", "Manchester University NHS Foundation Trust", True),
    ("RJ1", "NHS ENGLAND LONDON", "Guy's and St Thomas' NHS Foundation Trust", False),
    ("RYJ", "NHS ENGLAND LONDON", "Imperial College Healthcare NHS Trust", False),
    ("NLO12", "NHS ENGLAND LONDON", "Urgent Care Centre (an independent provider)", False),
]


def ae_counts(period: str, i: int) -> dict[str, float | None]:
    """One provider's month: deterministic, checkable (None where it has no department)."""
    m = int(period[5:])
    base = 9000 + 1500 * i + 37 * m
    has_type1 = i < 3
    has_type2 = AE_PROVIDERS[i][3]
    c = {
        "att1": base if has_type1 else None,
        "att2": 410 + m if has_type2 else None,
        "att3": 2100 + 11 * i,
        "booked1": 35 + i if has_type1 else None,
        "booked2": 0 if has_type2 else None,
        "booked3": 120 + i,
        "over1": int(base * (0.30 + 0.02 * i)) if has_type1 else None,
        "over2": 12 if has_type2 else None,
        "over3": 40 + i,
        "over_booked1": 3 if has_type1 else None,
        "over_booked2": 0 if has_type2 else None,
        "over_booked3": 2,
        "dta_4_12": 700 + 9 * i if has_type1 else 0,
        "dta_12": 150 + 4 * i if has_type1 else 0,
        "adm1": 2600 + 20 * i if has_type1 else None,
        "adm2": 5 if has_type2 else None,
        "adm3": 0,
        "other_adm": 1900 + 7 * i,
    }
    return c


def ae_expected(period: str, i: int) -> dict[str, float]:
    """The reader's columns for one provider, computed straight from :func:`ae_counts`."""
    c = ae_counts(period, i)

    def s(*keys):
        vals = [c[k] for k in keys if c[k] is not None]
        return float(sum(vals)) if vals else float("nan")

    att = s("att1", "att2", "att3", "booked1", "booked2", "booked3")
    over = s("over1", "over2", "over3", "over_booked1", "over_booked2", "over_booked3")
    return {
        "attendances_type1": s("att1", "booked1"),
        "attendances_type2": s("att2", "booked2"),
        "attendances_total": att,
        "over_4hr_total": over,
        "within_4hr_pct": round(100 * (1 - over / att), 1),
        "dta_over_4hr": s("dta_4_12", "dta_12"),
        "dta_over_12hr": s("dta_12"),
        "emergency_admissions_ae": s("adm1", "adm2", "adm3"),
    }


def _cell(v) -> str:
    return "-" if v is None else str(v)


def ae_csv(period: str) -> bytes:
    """The monthly CSV (UTF-8 with a byte-order mark)."""
    _, _, name, _, _ = month_parts(period)
    header = [
        "Period",
        "Org Code",
        "Parent Org",
        "Org name",
        "A&E attendances Type 1",
        "A&E attendances Type 2",
        "A&E attendances Other A&E Department",
        "A&E attendances Booked Appointments Type 1",
        "A&E attendances Booked Appointments Type 2",
        "A&E attendances Booked Appointments Other Department",
        "Attendances over 4hrs Type 1",
        "Attendances over 4hrs Type 2",
        "Attendances over 4hrs Other Department",
        "Attendances over 4hrs Booked Appointments Type 1",
        "Attendances over 4hrs Booked Appointments Type 2",
        "Attendances over 4hrs Booked Appointments Other Department",
        "Patients who have waited 4-12 hs from DTA to admission",
        "Patients who have waited 12+ hrs from DTA to admission",
        "Emergency admissions via A&E - Type 1",
        "Emergency admissions via A&E - Type 2",
        "Emergency admissions via A&E - Other A&E department",
        "Other emergency admissions",
    ]
    keys = [
        "att1", "att2", "att3", "booked1", "booked2", "booked3", "over1", "over2", "over3",
        "over_booked1", "over_booked2", "over_booked3", "dta_4_12", "dta_12", "adm1", "adm2",
        "adm3", "other_adm",
    ]  # fmt: skip
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(header)
    for i, (code, parent, org, _) in enumerate(AE_PROVIDERS):
        c = ae_counts(period, i)
        w.writerow([f"MSitAE-{name.upper()}-{period[:4]}", code, parent, org]
                   + [_cell(c[k]) for k in keys])  # fmt: skip
    w.writerow([f"MSitAE-{name.upper()}-{period[:4]}", "TOTAL", "", "Total", *([""] * len(keys))])
    return b"\xef\xbb\xbf" + out.getvalue().encode("utf-8")


def as_xls(xlsx: bytes) -> bytes:
    """The same workbook as a genuine .xls (BIFF8, written by xlwt): every sheet, cell value and
    merged range of ``xlsx``, so a reader's .xls path is tested on the format NHS England still
    publishes (A&E provider and DM01 files)."""
    import xlwt
    from openpyxl import load_workbook

    source = load_workbook(io.BytesIO(xlsx))
    book = xlwt.Workbook()
    for ws in source.worksheets:
        sheet = book.add_sheet(ws.title)
        merged = {}
        for rng in ws.merged_cells.ranges:
            merged[(rng.min_row, rng.min_col)] = rng
        covered = {
            (r, c)
            for rng in ws.merged_cells.ranges
            for r in range(rng.min_row, rng.max_row + 1)
            for c in range(rng.min_col, rng.max_col + 1)
        }
        for row in ws.iter_rows():
            for cell in row:
                at = (cell.row, cell.column)
                if at in merged:
                    rng = merged[at]
                    sheet.write_merge(
                        rng.min_row - 1, rng.max_row - 1, rng.min_col - 1, rng.max_col - 1,
                        cell.value,
                    )  # fmt: skip
                elif cell.value is not None and at not in covered:
                    sheet.write(cell.row - 1, cell.column - 1, cell.value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def ae_workbook(period: str, *, top: int = 16, groups_row: bool = True) -> bytes:
    """The provider workbook: sheet 'Provider Level Data', title block, merged group headers.

    ``top`` is the header's row (16 as documented); ``groups_row=False`` leaves out the merged
    group cells above it.

    Written as .xlsx with openpyxl; :func:`as_xls` makes the .xls NHS England publishes.
    """
    from openpyxl import Workbook

    _, _, name, _, _ = month_parts(period)
    wb = Workbook()
    ws = wb.active
    ws.title = "Front page"
    ws["B2"] = "A&E Attendances and Emergency Admissions"
    ws = wb.create_sheet("Provider Level Data")
    ws["B2"] = "A&E Attendances and Emergency Admissions"
    for row, label, value in [
        (4, "Title:", "A&E Attendances and Emergency Admissions by provider"),
        (5, "Summary:", "Monthly A&E activity and performance"),
        (6, "Period:", f"{name} {period[:4]}"),
        (7, "Source:", "NHS England - A&E Attendances and Emergency Admissions"),
        (9, "Published:", "Thursday 12th"),
        (11, "Status:", "Published"),
        (13, "Contact:", "england.nhsdata@nhs.net"),
    ]:
        ws.cell(row, 2, label)
        ws.cell(row, 3, value)
    types = [
        "Type 1 Departments - Major A&E",
        "Type 2 Departments - Single Specialty",
        "Type 3 Departments - Other A&E/Minor Injury Unit",
    ]
    groups = [
        ("A&E attendances", [*types, "Total attendances"]),
        (
            "A&E attendances > 4 hours from arrival to admission, transfer or discharge",
            [*types, "Total Attendances > 4 hours"],
        ),
        (
            "Percentage in 4 hours or less",
            [
                "Percentage in 4 hours or less (type 1)",
                "Percentage in 4 hours or less (type 2)",
                "Percentage in 4 hours or less (type 3)",
                "Percentage in 4 hours or less (all)",
            ],
        ),
        (
            "Emergency Admissions",
            [
                "Emergency Admissions via Type 1 A&E",
                "Emergency Admissions via Type 2 A&E",
                "Emergency Admissions via Type 3 and 4 A&E",
                "Total Emergency Admissions via A&E",
                "Other Emergency admissions (i.e not via A&E)",
                "Total Emergency Admissions",
            ],
        ),
        (
            "",
            [
                "Number of patients spending >4 hours from decision to admit to admission",
                "Number of patients spending >12 hours from decision to admit to admission",
            ],
        ),
    ]
    col = 2
    ws.cell(top, col, "Code")
    ws.cell(top, col + 1, "Region")
    ws.cell(top, col + 2, "Name")
    col += 3
    for title, names in groups:
        if title and groups_row:
            ws.cell(top - 1, col, title)
            ws.merge_cells(
                start_row=top - 1,
                start_column=col,
                end_row=top - 1,
                end_column=col + len(names) - 1,
            )
        for k, n in enumerate(names):
            ws.cell(top, col + k, n)
        col += len(names)

    def row_values(c: dict) -> list:
        def s(*keys):
            vals = [c[k] for k in keys if c[k] is not None]
            return sum(vals) if vals else None

        a1, a2, a3 = s("att1", "booked1"), s("att2", "booked2"), s("att3", "booked3")
        o1, o2, o3 = (
            s("over1", "over_booked1"),
            s("over2", "over_booked2"),
            s("over3", "over_booked3"),
        )
        at, ot = (
            s("att1", "att2", "att3", "booked1", "booked2", "booked3"),
            s("over1", "over2", "over3", "over_booked1", "over_booked2", "over_booked3"),
        )

        def pct(o, a):
            return None if a in (None, 0) else round(1 - o / a, 4)  # a fraction shown as %

        adm = s("adm1", "adm2", "adm3")
        return [
            a1, a2, a3, at, o1, o2, o3, ot, pct(o1, a1), pct(o2, a2), pct(o3, a3), pct(ot, at),
            c["adm1"], c["adm2"], c["adm3"], adm, c["other_adm"], adm + c["other_adm"],
            c["dta_4_12"] + c["dta_12"], c["dta_12"],
        ]  # fmt: skip

    england = [
        sum(v or 0 for v in vals)
        for vals in zip(
            *(row_values(ae_counts(period, i)) for i in range(len(AE_PROVIDERS))), strict=True
        )
    ]
    r = top + 1
    ws.cell(r, 2, "-")
    ws.cell(r, 4, "England")
    for k, v in enumerate(england):
        ws.cell(r, 5 + k, v)
    r += 2  # a blank row after England
    for i, (code, region, org, _) in enumerate(AE_PROVIDERS):
        ws.cell(r, 2, code)
        ws.cell(r, 3, region)
        ws.cell(r, 4, org)
        for k, v in enumerate(row_values(ae_counts(period, i))):
            ws.cell(r, 5 + k, "-" if v is None else v)
        r += 1
    r += 1
    ws.cell(r, 2, "Notes:")
    ws.cell(r + 1, 2, "1. '-' denotes not applicable: the provider has no department of that type.")
    ws.cell(r + 2, 2, "2. Percentages are of all attendances, booked appointments included.")
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def ae_landing_path(fy: str) -> str:
    return (
        "/statistics/statistical-work-areas/ae-waiting-times-and-activity/"
        f"ae-attendances-and-emergency-admissions-{fy}/"
    )


def publish_ae(server: Server, periods: list[str]) -> dict[str, dict[str, bytes]]:
    """The monthly CSVs and provider workbooks of ``periods``, on their yearly landing pages."""
    out: dict[str, dict[str, bytes]] = {"ae": {}, "ae_provider": {}}
    by_fy: dict[str, list[tuple[str, str]]] = {}
    for period in periods:
        y, m, name, mon, yy = month_parts(period)
        up_y, up_m = (y, m + 1) if m < 12 else (y + 1, 1)
        folder = f"/statistics/wp-content/uploads/sites/2/{up_y}/{up_m:02d}"
        csv_path = f"{folder}/Monthly-AE-{name}-{y}-{suffix('aecsv', period)}.csv"
        xls_path = f"{folder}/{name}-{y}-AE-by-provider-{suffix('aexls', period)}.xls"
        out["ae"][period] = ae_csv(period)
        out["ae_provider"][period] = as_xls(ae_workbook(period))  # a genuine .xls, as published
        server.put(csv_path, out["ae"][period], "text/csv")
        server.put(xls_path, out["ae_provider"][period])
        by_fy.setdefault(fy_of(period), []).extend(
            [
                (xls_path, f"A&E Attendances and Emergency Admissions {name} {y} (XLS, 150K)"),
                (csv_path, f"Monthly A&E {name} {y} (CSV, 18K)"),
                (
                    f"{folder}/Statistical-commentary-{name}-{y}-{suffix('c', period)}.pdf",
                    f"Statistical commentary {name} {y} (PDF)",
                ),
            ]
        )
    for fy, links in by_fy.items():
        server.put(
            ae_landing_path(fy),
            page(f"A&E Attendances and Emergency Admissions {fy}", links),
            "text/html",
        )
    return out


# --- SHMI ----------------------------------------------------------------------------------------

SHMI_TRUSTS = [
    ("R0A", "MANCHESTER UNIVERSITY NHS FOUNDATION TRUST", 1480, 1310.5),
    ("RJ1", "GUY'S AND ST THOMAS' NHS FOUNDATION TRUST", 1690, 1905.25),
    ("RYJ", "IMPERIAL COLLEGE HEALTHCARE NHS TRUST", 1370, 1402.8),
]


def shmi_rows(period: str) -> list[tuple[str, str, float, int, int, int, float]]:
    """(code, name, shmi, banding, spells, observed, expected) of each trust in one window."""
    m = int(period[5:])
    out = []
    for i, (code, name, observed, expected) in enumerate(SHMI_TRUSTS):
        observed += 3 * m
        shmi = round(observed / expected, 4)
        banding = 1 if shmi > 1.1 else 3 if shmi < 0.9 else 2
        out.append((code, name, shmi, banding, 120_000 + 1000 * i, observed, expected))
    return out


def shmi_window(period: str) -> str:
    y, m = map(int, period.split("-"))
    sy, sm = (y, m - 11) if m == 12 else (y - 1, m + 1)
    return f"{MONTHS[sm - 1][:3]}{sy % 100:02d}-{MONTHS[m - 1][:3]}{y % 100:02d}"


def shmi_csv(period: str) -> bytes:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(
        ["PROVIDER_CODE", "PROVIDER_NAME", "SHMI_VALUE", "SHMI_BANDING", "SPELLS", "OBSERVED",
         "EXPECTED", "LOWER_CONTROL_LIMIT_95", "UPPER_CONTROL_LIMIT_95"]
    )  # fmt: skip
    for code, name, shmi, band, spells, obs, exp in shmi_rows(period):
        w.writerow([code, name, shmi, band, spells, obs, exp, 0.8951, 1.1172])
    return out.getvalue().encode("utf-8")


def shmi_workbook(period: str) -> bytes:
    """The trust-level workbook: sheet 'Data', a title block, text bandings, footnotes."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Data"
    ws["A1"] = "Summary Hospital-level Mortality Indicator (SHMI)"
    ws["A3"] = f"Reporting period: {shmi_window(period)}"
    ws["A5"] = "Copyright © 2024, NHS England"
    ws.append([])
    head = ["Provider code", "Provider name", "SHMI value", "SHMI banding", "Number of spells",
            "Observed deaths", "Expected deaths", "95% lower control limit"]  # fmt: skip
    for k, h in enumerate(head, start=1):
        ws.cell(11, k, h)
    words = {1: "Higher than expected", 2: "As expected", 3: "Lower than expected"}
    r = 12
    for code, name, shmi, band, spells, obs, exp in shmi_rows(period):
        for k, v in enumerate([code, name, shmi, words[band], spells, obs, exp, 0.8951], 1):
            ws.cell(r, k, v)
        r += 1
    ws.cell(r + 1, 1, "Notes: SHMI values are not published for specialist trusts.")
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def shmi_zip(period: str) -> bytes:
    window = shmi_window(period)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(f"SHMI data at trust level, {window} (csv).csv", shmi_csv(period))
        zf.writestr(f"SHMI data at trust level, {window} (xlsx).xlsx", shmi_workbook(period))
        zf.writestr(f"SHMI contextual indicators, {window} (csv).csv", b"PROVIDER_CODE,X\nR0A,1\n")
    return buf.getvalue()


SHMI_INDEX = "/data-and-information/publications/statistical/shmi"


def publish_shmi(server: Server, periods: list[str]) -> dict[str, bytes]:
    """The SHMI index page, one release page per window and its data zip."""
    out, index_links = {}, []
    for period in periods:
        y, m = map(int, period.split("-"))
        window = shmi_window(period)
        start = window.split("-")[0]
        sm = [x[:3] for x in MONTHS].index(start[:3]) + 1
        sy = 2000 + int(start[3:])
        pub_y, pub_m = (y, m + 5) if m <= 7 else (y + 1, m - 7)
        release = f"{SHMI_INDEX}/{pub_y}-{pub_m:02d}"
        zip_path = (
            f"/{suffix('a', period)[:2].upper()}/{suffix('b', period).upper()}/"
            f"SHMI%20data%20files%2C%20{window}.zip"
        )
        out[period] = shmi_zip(period)
        server.put(zip_path, out[period], "application/zip")
        server.put(
            release,
            page(
                "SHMI",
                [
                    (zip_path, "SHMI data files (zip)"),
                    (f"/{suffix('c', period)}/SHMI%20background%20quality%20report.pdf",
                     "Background quality report"),
                ],
            ),
            "text/html",
        )  # fmt: skip
        index_links.append(
            (
                release,
                "Summary Hospital-level Mortality Indicator (SHMI) - Deaths associated with "
                f"hospitalisation, England, {MONTHS[sm - 1]} {sy} - {MONTHS[m - 1]} {y}",
            )
        )
    server.put(SHMI_INDEX, page("SHMI", index_links), "text/html")
    return out
