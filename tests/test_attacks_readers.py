"""Issue 12, readers: damaged and implausible input files, reproduced as the issue describes them.

Each file is supplied the way a user supplies one, through a source folder
(``ICSRESEARCH_SOURCE_DIR``, what ``--source-dir`` sets) holding a file with the published name,
so it is read without the registry's hash check. One test per case of the issue:

1. decimal commas; 2. files cut inside the last value or at a row boundary; 3. infinities and
implausible values (and every numeric column documents its plausible range); 4. gzip and Excel
files where a CSV is expected; 5. a 100 KB cell echoed in an error.
"""

from __future__ import annotations

import gzip
import importlib
import io
import pkgutil
import warnings
from pathlib import Path

import pandas as pd
import pytest

import icsresearch.sources as sources_pkg
from icsresearch.data.store import SOURCE_DIR_ENV
from icsresearch.errors import DataFileError
from icsresearch.panel import columns as panel_columns
from icsresearch.schemas import Column, Schema
from icsresearch.sources import _base
from icsresearch.sources.ae import read_ae_annual
from icsresearch.sources.beds import read_beds
from icsresearch.sources.workforce import read_managers_fte

AE_HEADER = "YEAR,ORG_CODE,AE_SCORE\n"
MANAGERS_HEADER = "YEAR,ORG_CODE,SIMPLE_MANAGERS_FTE\n"


@pytest.fixture
def user_dir(tmp_path, monkeypatch) -> Path:
    """A source folder the readers take files from (no hash check), as ``--source-dir`` does."""
    folder = tmp_path / "my-downloads"
    folder.mkdir()
    monkeypatch.setenv(SOURCE_DIR_ENV, str(folder))
    return folder


def _put(folder: Path, name: str, content: str | bytes) -> Path:
    path = folder / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def _refused(reader, path: Path) -> str:
    """The one error a reader raises for ``path``: names the file and says how to fix it."""
    with pytest.raises(DataFileError) as info:
        reader()
    message = str(info.value)
    assert str(path) in message and "\n  Fix: " in message, message
    return message


def _content_warnings(record) -> list[str]:
    return [str(w.message) for w in record if issubclass(w.category, UserWarning)]


# --- case 1 ----------------------------------------------------------------------------------


def test_case1_decimal_commas_are_refused_and_thousands_still_read(user_dir):
    # "12,3" FTE: read as a thousands separator it would be 123 managers
    path = _put(user_dir, "managers_simple_def.csv", MANAGERS_HEADER + '2015,RA2,"12,3"\n')
    message = _refused(read_managers_fte, path)
    assert "decimal comma" in message and "'12,3'" in message and "row 2" in message
    assert "123" not in message.replace("12,3", "")

    # "0,93" in a share column: a decimal comma, not "percentages, divide by 100"
    path = _put(user_dir, "AE.csv", AE_HEADER + '2015,RA2,"0,93"\n2015,RA3,0.95\n')
    message = _refused(read_ae_annual, path)
    assert "decimal comma" in message and "'0,93'" in message
    assert "divide" not in message and "above 1" not in message

    # real thousands separators are still read as such
    _put(user_dir, "managers_simple_def.csv", MANAGERS_HEADER + '2015,RA2,"1,234"\n2015,RA3,40\n')
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a hand-made file is much smaller than the release
        df = read_managers_fte()
    assert df.set_index("trust_code")["managers_fte"].to_dict() == {"RA2": 1234.0, "RA3": 40.0}

    # the rule itself: groups of exactly three digits are thousands, anything else is refused
    src = _base.resolve("hm_managers", path)
    assert _base.numbers(pd.Series(["12,345,678.5", "-1,000"]), src, "x").tolist() == [
        12345678.5,
        -1000.0,
    ]
    for decimal_comma in ["12,3", "0,93", "1,2345", "1.234,5", "12,34"]:
        with pytest.raises(DataFileError, match="decimal comma"):
            _base.numbers(pd.Series([decimal_comma]), src, "x")

    # the SitRep workbooks' own cell parser follows the same rule for cells stored as text
    from icsresearch.sources import sitrep

    cells = [["1,234", "12,3", 7]]
    with pytest.raises(DataFileError, match=r"'12,3' \(decimal comma\?\)"):
        sitrep._values(cells, src, "Table 1", [0], [0, 1, 2], ["RA2"])
    assert sitrep._values([["1,234", 7]], src, "Table 1", [0], [0, 1], ["RA2"]).tolist() == [
        [1234.0, 7.0]
    ]


# --- case 2 ----------------------------------------------------------------------------------


def _ae_rows(n: int) -> str:
    trusts = ["RA2", "RA3", "RA4", "RA7", "RA9", "RAE", "RAJ", "RAL", "RAN", "RAP", "RAS", "RAX"]
    return "".join(f"2015,{trusts[i]},0.{90 + i % 10:02d}\n" for i in range(n))


def test_case2_a_file_cut_inside_its_last_value_is_refused(user_dir):
    # every line ends with a line end except the last, cut inside 0.95: read, RVW would be 0.0%
    cut = AE_HEADER + _ae_rows(8) + "2015,RVW,0"
    path = _put(user_dir, "AE.csv", cut)
    message = _refused(read_ae_annual, path)
    assert "looks truncated" in message and "'0'" in message

    # cut after the decimal point, or right after the comma: refused too
    for tail in ("2015,RVW,0.", "2015,RVW,0.9", "2015,RVW,"):
        _put(user_dir, "AE.csv", AE_HEADER + _ae_rows(8) + tail)
        assert "looks truncated" in _refused(read_ae_annual, path)

    # the complete value without a final line end (as the published AE.csv ends) is fine
    _put(user_dir, "AE.csv", AE_HEADER + _ae_rows(8) + "2015,RVW,0.95")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert read_ae_annual().set_index("trust_code").at["RVW", "ae_4hr_pct"] == 95.0


@pytest.mark.realdata
def test_case2_a_real_file_cut_inside_its_last_value_or_at_a_row_boundary(mirror, user_dir):
    published = (mirror / "hospital_management/data/csv/AE.csv").read_bytes()
    whole = read_ae_annual()  # from the mirror: the source folder holds no AE.csv yet

    # cut one character into the last value ("2018,NNF18,1.00" -> "...,1")
    path = _put(user_dir, "AE.csv", published[: published.rindex(b",") + 2])
    assert "looks truncated" in _refused(read_ae_annual, path)

    # cut at a row boundary, half the rows: it parses, so the console warns, naming the file
    lines = published.splitlines(keepends=True)
    _put(user_dir, "AE.csv", b"".join(lines[: len(lines) // 2]))
    with pytest.warns(UserWarning, match=r"AE\.csv: looks short") as record:
        half = read_ae_annual()
    assert str(path) in str(record[0].message)
    # what is there is read right: the rows present equal the complete file's
    merged = half.merge(whole, on=["trust_code", "year"], suffixes=("", "_whole"))
    assert len(merged) == len(half) < len(whole)
    assert merged["ae_4hr_pct"].equals(merged["ae_4hr_pct_whole"])


def test_case2_a_last_value_that_may_be_cut_warns_and_traces_of_cuts_inside_warn(tmp_path):
    def read(name: str, text: str):
        path = tmp_path / name
        path.write_text(text)
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            df = read_managers_fte(path)
        return df, _content_warnings(record)

    # mixed decimals (as the published managers file has): "331" may be "331.31495" cut short
    rows = "2015,RA2,55.38533\n2015,RA3,40.6\n2015,RA4,120\n"
    df, shown = read("no_line_end.csv", MANAGERS_HEADER + rows + "2015,RA7,331")
    assert len(shown) == 1 and "cannot be ruled out" in shown[0] and "'331'" in shown[0]
    assert "no_line_end.csv" in shown[0] and "add a line end" in shown[0]
    # with its line end the same file is complete: no warning
    assert read("line_end.csv", MANAGERS_HEADER + rows + "2015,RA7,331\n")[1] == []

    # "213." is "213.4" with its last digit lost, anywhere in the file
    path = tmp_path / "point.csv"
    path.write_text(MANAGERS_HEADER + "2015,RA2,213.\n2015,RA3,40.6\n")
    with pytest.raises(DataFileError, match=r"not numbers \(row 2: '213\.'\)"):
        read_managers_fte(path)

    # a line end written over a last digit leaves a blank line and a short value: both warn
    ae = "".join(f"2015,{t},0.9{i}\n" for i, t in enumerate(["RA2", "RA3", "RA4", "RA7", "RA9"]))
    damaged = ae.replace("0.92\n", "0.9\n\n")
    path = tmp_path / "ae_damaged.csv"
    path.write_text(AE_HEADER + damaged)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        df = read_ae_annual(path)
    shown = _content_warnings(record)
    assert any("1 blank line(s) between rows (line 5)" in m for m in shown), shown
    assert any(
        "row 4 holds '0.9', with 1 decimal(s) where every other row has 2" in m for m in shown
    )
    assert df.set_index("trust_code").at["RA4", "ae_4hr_pct"] == 90.0  # kept, and said so

    # fullwidth digits are not read as numbers
    path.write_text(AE_HEADER + "2015,RA2,0.\uff19\uff15\n")
    with pytest.raises(DataFileError, match="digits 0-9"):
        read_ae_annual(path)


def test_case2_a_file_that_stops_part_way_through_its_last_year_warns(tmp_path):
    trusts = ["RA2", "RA3", "RA4", "RA7", "RA9", "RAE"]
    rows = [f"{y},{t},{50 + i}.5" for y in (2014, 2015, 2016) for i, t in enumerate(trusts)]
    complete = tmp_path / "managers_2014_2016.csv"  # not the published name: no size rule
    complete.write_text(MANAGERS_HEADER + "\n".join(rows) + "\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a complete file of another name: no warning at all
        assert len(read_managers_fte(complete)) == 18

    stopped = tmp_path / "managers_cut.csv"
    stopped.write_text(MANAGERS_HEADER + "\n".join(rows[:14]) + "\n")  # 2 of 6 trusts in 2016
    with pytest.warns(UserWarning, match=r"managers_cut\.csv: looks short.*last year \(2016\)"):
        read_managers_fte(stopped)


# --- case 3 ----------------------------------------------------------------------------------


def test_case3_infinite_and_impossible_values_are_refused_unusual_ones_warn(user_dir):
    name = "managers_simple_def.csv"
    path = _put(user_dir, name, MANAGERS_HEADER + "2015,RA2,1e400\n2015,RA3,40\n")
    message = _refused(read_managers_fte, path)
    assert "infinity" in message and "'1e400'" in message

    for infinite in ("inf", "-Infinity", "nan"):
        _put(user_dir, name, MANAGERS_HEADER + f"2015,RA2,{infinite}\n2015,RA3,40\n")
        assert "row 2" in _refused(read_managers_fte, path)

    _put(user_dir, name, MANAGERS_HEADER + "2015,RA2,1e12\n2015,RA3,40\n")
    message = _refused(read_managers_fte, path)
    assert "outside the possible range 0 to 100,000" in message
    assert "trust_code='RA2', year=2015: 1e+12" in message

    # possible but unusual: kept, with a warning naming the file, column and row
    _put(user_dir, name, MANAGERS_HEADER + "2015,RA2,9000\n2015,RA3,40\n")
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        df = read_managers_fte()
    assert df.set_index("trust_code").at["RA2", "managers_fte"] == 9000.0
    unusual = [m for m in _content_warnings(record) if "outside the usual range" in m]
    assert len(unusual) == 1 and str(path) in unusual[0] and "managers_fte" in unusual[0]
    assert "trust_code='RA2', year=2015: 9000" in unusual[0]

    # shares too: an occupancy of 0.95 is read, -0.5 is refused by its 0-1 range
    _put(user_dir, "beds.csv", "YEAR,ORG_CODE,BEDS,BEDS_OCCUPIED_PERCENT\n2015,RA2,400,-0.5\n")
    assert "BEDS_OCCUPIED_PERCENT" in _refused(read_beds, user_dir / "beds.csv")
    # "0.95%" in a column of fractions says 0.0095: refused, never read as 0.95
    path = _put(user_dir, "AE.csv", AE_HEADER + "2015,RA2,0.95%\n2015,RA3,0.90\n")
    assert "percent sign" in _refused(read_ae_annual, path)


def _reader_schemas() -> list[Schema]:
    found: list[Schema] = []
    for module in pkgutil.iter_modules(sources_pkg.__path__):
        mod = importlib.import_module(f"{sources_pkg.__name__}.{module.name}")
        found += [v for v in vars(mod).values() if isinstance(v, Schema) and v not in found]
    return found


#: Units of columns that hold text, codes, dates or flags: every other unit is a number.
TEXT_UNITS = {
    "",
    "date",
    "bool",
    "mm:ss",
    "lon/lat (WGS84)",
    "U/S/M/X",
    "CQC ID",
    "YDF code",
    "RUC2021 code",
}


def _is_text_unit(unit: str) -> bool:
    return unit in TEXT_UNITS or unit.startswith(("ODS ", "ONS "))


def test_case3_every_numeric_column_documents_its_plausible_range():
    schemas = _reader_schemas()
    assert len(schemas) >= 60  # the walk found the readers (70 schemas when written)
    unbounded = [
        f"{s.dataset}.{c.name} ({c.unit})"
        for s in schemas
        for c in s.columns
        if not _is_text_unit(c.unit) and c.limits is None
    ]
    assert unbounded == []
    # a typical range always lies inside the hard one (Column checks it when built)
    with pytest.raises(ValueError, match="outside bounds"):
        Column("x", "X", "count", bounds=(0, 10), typical=(0, 20))

    # panel columns: every column that is not text is numeric, and each states its range
    for cols in (panel_columns.TRUST_YEAR_COLUMNS, panel_columns.ICS_YEAR_COLUMNS):
        missing = [
            c.name for c in cols if c.name not in panel_columns.TEXT_COLUMNS and c.limits is None
        ]
        assert missing == []
    docs = panel_columns.docs(panel_columns.ICS_YEAR_COLUMNS).set_index("column")
    assert docs.at["ae_4hr_pct", "bounds"] == (0.0, 100.0)


def test_case3_panels_refuse_impossible_values_and_warn_about_unusual_ones():
    from icsresearch.errors import IcsResearchError

    cols = panel_columns.TRUST_YEAR_COLUMNS
    base = {"trust_code": ["RA2", "RA3"], "year": [2015, 2015]}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ok = panel_columns.conform(pd.DataFrame({**base, "managers_fte": [120.5, 40.0]}), cols)
    assert ok["managers_fte"].tolist() == [120.5, 40.0]

    for bad, shown in ((1e12, "1e+12"), (float("inf"), "inf"), (-3.0, "-3")):
        frame = pd.DataFrame({**base, "managers_fte": [bad, 40.0]})
        with pytest.raises(IcsResearchError) as info:
            panel_columns.conform(frame, cols)
        message = str(info.value)
        assert "'managers_fte'" in message and "range 0 to 1,000,000" in message
        assert "trust_code='RA2'" in message and f"year=2015: {shown}" in message
        assert "\n  Fix: " in message

    with pytest.warns(UserWarning, match=r"'managers_fte'.*usual range 0 to 20,000"):
        panel_columns.conform(pd.DataFrame({**base, "managers_fte": [25_000.0, 40.0]}), cols)
    # documentation carries the ranges, as lists (they read back the same from JSON)
    attrs = panel_columns.attrs_for(cols)
    assert attrs["managers_fte"]["bounds"] == [0.0, 1_000_000.0]
    assert attrs["managers_fte"]["typical"] == [0.0, 20_000.0]
    assert "bounds" not in attrs["trust_code"]


def test_case3_a_numeric_column_without_bounds_cannot_be_read(tmp_path):
    # "so a new column cannot skip them": a reader whose schema forgets the range fails at once
    schema = Schema(
        dataset="hm_ae", columns=(Column("n", "Count", "widgets", "no range stated"),), key=()
    )
    with pytest.raises(AssertionError, match="'n' states no bounds"):
        _base.check_values(pd.DataFrame({"n": [1.0]}), schema, tmp_path / "x.csv")
    # an all-missing column (e.g. a text column with nothing in it) is not a number
    _base.check_values(pd.DataFrame({"n": [float("nan")]}), schema, tmp_path / "x.csv")


#: Quick registry files of the readers the issue exercises; read as published, nothing may warn.
REAL_FILES = [
    "hm_ae",
    "hm_managers",
    "hm_consultants",
    "hm_all_staff",
    "hm_beds",
    "hm_rtt",
    "hm_finance",
    "hm_shmi",
    "hm_admissions",
    "hm_staff_survey",
    "nhs_wellbeing",
    "ae_trust_monthly",
    "health_index_icb",
    "imd2025_icb",
]


@pytest.mark.realdata
@pytest.mark.parametrize("name", REAL_FILES)
def test_case3_real_published_files_pass_the_bounds_without_warnings(mirror, name):
    from icsresearch.sources import read

    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # no "unusual value" flood on real data
        df = read(name)
    assert len(df) > 0 and df.attrs["verified"] is True


# --- case 4 ----------------------------------------------------------------------------------


def _xlsx_bytes() -> bytes:
    buffer = io.BytesIO()
    pd.DataFrame({"YEAR": [2015], "ORG_CODE": ["RA2"], "AE_SCORE": [0.95]}).to_excel(
        buffer, index=False
    )
    return buffer.getvalue()


@pytest.mark.parametrize(
    "content, named, fix",
    [
        (gzip.compress((AE_HEADER + "2015,RA2,0.95\n").encode()), "gzip-compressed", "gunzip"),
        (_xlsx_bytes(), "Excel .xlsx workbook", "CSV UTF-8"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504), "Excel .xls workbook", "CSV UTF-8"),
    ],
    ids=["gzip", "xlsx", "xls"],
)
def test_case4_gzip_and_excel_files_are_named_as_what_they_are(user_dir, content, named, fix):
    path = _put(user_dir, "AE.csv", content)
    message = _refused(read_ae_annual, path)
    assert named in message and "not a CSV text file" in message and fix in message
    assert "UTF-8 text" not in message and "not valid utf-8" not in message


# --- case 5 ----------------------------------------------------------------------------------


def test_case5_a_100kb_cell_is_cut_short_in_the_error(user_dir):
    huge = "R" * 100_000
    path = _put(user_dir, "AE.csv", AE_HEADER + f"2015,RA2,0.95\n2015,{huge},0.90\n")
    message = _refused(read_ae_annual, path)
    assert len(message) < 1_000
    assert "not organisation codes" in message and "100,000 characters" in message

    # the same in a number column and in a header
    _put(user_dir, "AE.csv", AE_HEADER + f"2015,RA2,{'9' * 50_000}x\n")
    assert len(_refused(read_ae_annual, path)) < 1_000
    _put(user_dir, "AE.csv", f"YEAR,ORG_CODE,{'A' * 100_000}\n2015,RA2,0.95\n")
    message = _refused(read_ae_annual, path)
    assert "missing column" in message and len(message) < 1_000
