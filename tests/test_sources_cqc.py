"""CQC ratings: the compilation's CSV and CQC's 3 September 2018 export, checked against the raw
files, against each other, and for what links to ODS codes."""

from __future__ import annotations

import csv
import datetime as dt
import re
import zipfile
from collections import defaultdict
from pathlib import Path
from xml.etree import ElementTree as ET

import openpyxl
import pandas as pd
import pytest

from icsresearch.data import store
from icsresearch.data.registry import get
from icsresearch.errors import DataFileError
from icsresearch.sources import cqc

HM = "hospital_management/data/csv"
LABELS = {"Inadequate": 0, "Requires improvement": 1, "Good": 2, "Outstanding": 3}


def _csv_rows(path: Path, **kw) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh, **kw))


def _fy(day: dt.date) -> int:
    return day.year if day.month >= 4 else day.year - 1


_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_CELL = re.compile(r'<c r="([A-Z]+)(\d+)"([^>]*?)(?:/>|>(.*?)</c>)', re.S)


def _raw_providers_sheet(path: Path) -> list[dict[str, str]]:
    """The one sheet of the CQC export, parsed from its XML (independent of openpyxl)."""
    with zipfile.ZipFile(path) as z:
        strings = [
            "".join(si.itertext())
            for si in ET.fromstring(z.read("xl/sharedStrings.xml")).iter(f"{_MAIN}si")
        ]
        sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/sheet")]
        assert len(sheets) == 1
        xml = z.read(sheets[0]).decode("utf-8")
    cells: dict[int, dict[str, str]] = defaultdict(dict)
    for col, row, attrs, inner in _CELL.findall(xml):
        value = re.search(r"<v>([^<]*)</v>", inner or "")
        if value is not None:
            text = value.group(1)
            cells[int(row)][col] = strings[int(text)] if 't="s"' in attrs else text
    header = cells.pop(min(cells))
    return [{header[c]: v for c, v in cells[r].items()} for r in sorted(cells)]


@pytest.fixture(scope="module")
def ratings(mirror):
    return cqc.read_cqc_ratings()


@pytest.fixture(scope="module")
def latest(mirror):
    return cqc.read_cqc_latest_ratings()


@pytest.mark.realdata
def test_ratings_match_the_raw_csv(mirror, ratings):
    raw = _csv_rows(mirror / HM / "CQC_ratings.csv")
    lookup = {
        int(r["SCORE"]): r["RATING"] for r in _csv_rows(mirror / HM / "CQC_ratings_lookup.csv")
    }
    df = ratings
    assert df.attrs["verified"] is True and set(df.attrs["columns"]) == set(df.columns)
    assert len(df) == len(raw) == 8155
    expected = {}
    for r in raw:
        day = dt.datetime.strptime(r["DATE"], "%d/%m/%Y").date()
        key = (r["ORG_CODE"], r["POPULATION"], r["QUESTION"], pd.Timestamp(day))
        expected[key] = (int(r["RATING_SCORE"]), lookup[int(r["RATING_SCORE"])], _fy(day))
    got = {
        k: v
        for k, *v in zip(
            zip(
                df.cqc_provider_id,
                df.population_group,
                df.key_question,
                df.publication_date,
                strict=True,
            ),
            df.rating_score,
            df.rating,
            df.year,
            strict=True,
        )
    }
    assert {k: tuple(v) for k, v in got.items()} == expected
    # first data line: "1-102643363,10/02/2015,Overall,Safe,1" -> published in 2014/15
    first = df[(df.cqc_provider_id == "1-102643363") & (df.key_question == "Safe")].iloc[0]
    assert first.publication_date == pd.Timestamp("2015-02-10") and first.year == 2014
    assert first.rating == "Requires improvement" and first.rating_score == 1
    assert df.publication_date.min() == pd.Timestamp("2013-12-18")
    assert df.publication_date.max() == pd.Timestamp("2019-02-28")


@pytest.mark.realdata
def test_provider_ids_are_ods_codes_for_trusts_only(mirror, ratings):
    ids = set(ratings.cqc_provider_id)
    cqc_format = {i for i in ids if re.fullmatch(r"1-\d+", i)}
    assert len(ids) == 249 and len(cqc_format) == 23
    linked = ratings.dropna(subset=["trust_code"])
    assert (linked.trust_code == linked.cqc_provider_id).all()
    assert set(ratings.loc[ratings.trust_code.isna(), "cqc_provider_id"]) == cqc_format
    # every non-CQC-format ID is an organisation code of the same compilation's provider list
    providers = {
        r["ORG_CODE"].strip(): r["ORG_TYPE"] for r in _csv_rows(mirror / HM / "nhs_provider.csv")
    }
    assert ids - cqc_format <= set(providers)
    # ...and is a trust whose services fit its type: ambulance trusts have the ambulance services
    ambulance = {i for i in ids if providers.get(i) == "Ambulance"}
    services = set(ratings.loc[ratings.cqc_provider_id.isin(ambulance), "population_group"])
    assert "Emergency operations centre (EOC)" in services
    # ODS's own list of NHS trusts (Oct 2020) holds most of them too
    with open(mirror / get("ods_etr").path, encoding="utf-8", newline="") as fh:
        ods = {row[0].strip() for row in csv.reader(fh)}
    assert len((ids - cqc_format) & ods) == 220
    # no registry lookup maps the CQC-format IDs to anything
    lookups = [
        get(n).path for n in ("hm_providers", "ods_etr", "ods_etr_tidy", "ccg_stp_reference")
    ]
    for rel in lookups:
        data = (mirror / rel).read_bytes()
        if rel.endswith(".xlsx"):
            with zipfile.ZipFile(mirror / rel) as z:
                data = b"".join(z.read(n) for n in z.namelist())
        assert not any(i.encode() in data for i in cqc_format), rel


@pytest.mark.realdata
def test_latest_2018_matches_the_raw_workbook(mirror, latest):
    raw = _raw_providers_sheet(mirror / get("cqc_latest_ratings_2018").path)
    df = latest
    assert df.attrs["verified"] is True and set(df.attrs["columns"]) == set(df.columns)
    assert len(df) == len(raw) == 7930
    expected = {}
    for r in raw:
        day = dt.date(1899, 12, 30) + dt.timedelta(days=int(float(r["Publication Date"])))
        key = (
            r["Provider ID"],
            r["Service / Population Group"],
            r["Key Question"],
            pd.Timestamp(day),
        )
        expected[key] = (LABELS[r["Latest Rating"]], r["Latest Rating"], _fy(day), r["Report Type"])
    got = {
        k: (s, lab, y, t)
        for k, s, lab, y, t in zip(
            zip(
                df.cqc_provider_id,
                df.population_group,
                df.key_question,
                df.publication_date,
                strict=True,
            ),
            df.rating_score,
            df.rating,
            df.year,
            df.report_type,
            strict=True,
        )
    }
    assert got == expected
    assert df.publication_date.max() == pd.Timestamp("2018-08-31")
    assert df.report_type.value_counts().to_dict() == {"CoreService": 6393, "Provider": 1537}


@pytest.mark.realdata
def test_the_two_files_agree_where_they_overlap(ratings, latest):
    key = ["cqc_provider_id", "population_group", "key_question", "publication_date"]
    both = ratings.merge(latest, on=key, suffixes=("_csv", "_xlsx"))
    assert len(both) == 6607
    assert (both.rating_score_csv == both.rating_score_xlsx).all()
    assert (both.rating_csv == both.rating_xlsx).all()
    # most 2018-export rows missing from the CSV were superseded by a later rating there
    only_2018 = latest.merge(ratings[key], on=key, how="left", indicator=True)
    only_2018 = only_2018[only_2018._merge == "left_only"]
    newest_csv = ratings.groupby(key[:3]).publication_date.max().rename("csv_date")
    only_2018 = only_2018.join(newest_csv, on=key[:3])
    assert len(only_2018) == 1323
    assert (only_2018.csv_date > only_2018.publication_date).sum() == 1293
    # the CSV adds ratings published after the export
    only_csv = ratings.merge(latest[key], on=key, how="left", indicator=True)
    only_csv = only_csv[only_csv._merge == "left_only"]
    assert (only_csv.publication_date > pd.Timestamp("2018-09-03")).sum() == 1535
    # a provider can hold two ratings for one service and question (different dates)
    dup = ratings[ratings.duplicated(key[:3], keep=False)]
    assert set(dup.cqc_provider_id) == {"RXE"} and len(dup) == 24


# --- hand-made files ------------------------------------------------------------------------


@pytest.fixture
def lookup_dir(tmp_path):
    """The 0-3 rating scale as a user-supplied lookup file, so no registry copy is needed."""
    folder = tmp_path / "lookup"
    folder.mkdir()
    (folder / "CQC_ratings_lookup.csv").write_bytes(
        "\ufeffRATING,SCORE\r\nInadequate,0\r\nRequires improvement,1\r\nGood,2\r\nOutstanding,3\r\n".encode()
    )
    with store.use_source_dir(folder):
        yield folder


def _error(reader, path: Path) -> str:
    with pytest.raises(DataFileError) as info:
        reader(path)
    message = str(info.value)
    assert path.name in message and "Fix:" in message, message
    return message


HEADER = "\ufeffORG_CODE,DATE,POPULATION,QUESTION,RATING_SCORE\r\n"


def _ratings_csv(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "CQC_ratings.csv"
    path.write_bytes((HEADER + "".join(line + "\r\n" for line in lines)).encode("utf-8"))
    return path


def test_small_ratings_csv(tmp_path, lookup_dir):
    path = _ratings_csv(
        tmp_path,
        [
            "RXE ,12/01/2017,Overall,Well-led,2",
            "RXE,28/06/2018,Overall,Well-led,1",
            "1-102643363,01/04/2015,Overall,Overall,3",
        ],
    )
    df = cqc.read_cqc_ratings(path)
    assert df.attrs["verified"] is False
    rxe = df[df.cqc_provider_id == "RXE"].sort_values("publication_date")
    assert rxe.trust_code.tolist() == ["RXE", "RXE"] and rxe.year.tolist() == [2016, 2018]
    assert rxe.rating.tolist() == ["Good", "Requires improvement"]
    other = df[df.cqc_provider_id == "1-102643363"].iloc[0]
    assert pd.isna(other.trust_code) and other.year == 2015 and other.rating == "Outstanding"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("RXE,02/13/2017,Overall,Safe,2", "not dates dd/mm/yyyy"),
        ("RXE,2017-01-12,Overall,Safe,2", "not dates dd/mm/yyyy"),
        ("RXE,12/01/2107,Overall,Safe,2", "before 2013 or in the future"),
        ("RXE,12/01/2017,Overall,Safe,4", "outside 0-3"),
        ("RXE,12/01/2017,Overall,Safe,", "outside 0-3"),
        ("RXE,12/01/2017,Overall,Well led,2", "not CQC key questions: ['Well led']"),
        ("RX E,12/01/2017,Overall,Safe,2", "not CQC provider IDs"),
        ("RXE,12/01/2017,,Safe,2", "'POPULATION' has blank values"),
    ],
)
def test_bad_ratings_rows(tmp_path, lookup_dir, line, expected):
    message = _error(
        cqc.read_cqc_ratings, _ratings_csv(tmp_path, ["RXE,12/01/2016,Overall,Safe,2", line])
    )
    assert expected in message


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "is empty"),
        (b"ORG_CODE,DATE,POPULATION,QUESTION,RATING\nRXE,12/01/2017,Overall,Safe,Good\n", "missing column"),
        (HEADER.encode() + b"RXE,12/01/2017,Overall,Safe,2\nRXE,12/0", "looks truncated"),
        (HEADER.encode() + b"RXE,12/01/2017,Caf\xe9,Safe,2\n", "not valid utf-8"),
        (HEADER.encode() + b"RXE,12/01/2017,Overall,Safe,2\nRXE,12/01/2017,Overall,Safe,1\n", "repeat the key"),
    ],
)  # fmt: skip
def test_bad_ratings_files(tmp_path, lookup_dir, content, expected):
    path = tmp_path / "CQC_ratings.csv"
    path.write_bytes(content)
    assert expected in _error(cqc.read_cqc_ratings, path)


XLSX_HEADER = [
    "Provider ID",
    "Service / Population Group",
    "Key Question",
    "Latest Rating",
    "Publication Date",
    "Report Type",
]


def _latest_xlsx(tmp_path: Path, rows: list[list], sheet: str = "Providers") -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    ws.append(XLSX_HEADER)
    for row in rows:
        ws.append(row)
    path = tmp_path / get("cqc_latest_ratings_2018").filename
    wb.save(path)
    return path


GOOD_ROW = ["RXE", "Overall", "Safe", "Requires improvement", dt.datetime(2017, 1, 12), "Provider"]


def test_small_latest_workbook(tmp_path, lookup_dir):
    rows = [
        GOOD_ROW,
        ["1-102643363", "End of life care", "Caring", "Outstanding", "03/04/2018", "CoreService"],
    ]
    df = cqc.read_cqc_latest_ratings(_latest_xlsx(tmp_path, rows)).set_index("cqc_provider_id")
    assert df.loc["RXE", "rating_score"] == 1 and df.loc["RXE", "year"] == 2016
    assert df.loc["RXE", "trust_code"] == "RXE"
    # a text date is read day-first: 3 April 2018, financial year 2018
    assert df.loc["1-102643363", "publication_date"] == pd.Timestamp("2018-04-03")
    assert df.loc["1-102643363", "year"] == 2018 and pd.isna(df.loc["1-102643363", "trust_code"])


@pytest.mark.parametrize(
    ("index", "value", "expected"),
    [
        (3, "Excellent", "'Latest Rating' has labels that are not CQC ratings"),
        (3, None, "'Latest Rating' has labels that are not CQC ratings"),
        (4, "13/31/2018", "not dates dd/mm/yyyy"),
        (2, "Overall rating", "not CQC key questions"),
        (0, "1-ABC", "not CQC provider IDs"),
        (5, None, "'Report Type' has blank values"),
    ],
)
def test_bad_latest_cells(tmp_path, lookup_dir, index, value, expected):
    row = list(GOOD_ROW)
    row[index] = value
    path = _latest_xlsx(tmp_path, [GOOD_ROW[:2] + ["Caring"] + GOOD_ROW[3:], row])
    assert expected in _error(cqc.read_cqc_latest_ratings, path)


def test_latest_workbook_wrong_sheet_or_truncated(tmp_path, lookup_dir):
    path = _latest_xlsx(tmp_path, [GOOD_ROW], sheet="Locations")
    assert "has no sheet 'Providers'" in _error(cqc.read_cqc_latest_ratings, path)
    good = _latest_xlsx(tmp_path, [GOOD_ROW])
    good.write_bytes(good.read_bytes()[:500])
    assert "not a readable .xlsx workbook" in _error(cqc.read_cqc_latest_ratings, good)


def test_a_broken_rating_scale_is_refused(tmp_path, lookup_dir):
    (lookup_dir / "CQC_ratings_lookup.csv").write_text("RATING,SCORE\nGood,2\nOutstanding,3\n")
    path = _ratings_csv(tmp_path, ["RXE,12/01/2017,Overall,Safe,2"])
    with pytest.raises(
        DataFileError, match=r"CQC_ratings_lookup.csv: does not give one label for each score 0-3"
    ):
        cqc.read_cqc_ratings(path)
