"""ERIC 2019/20 site reader: the real file, its encodings, and hand-made files in its layout."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter

import numpy as np
import pytest

from icsresearch.data.registry import get
from icsresearch.errors import DataFileError
from icsresearch.sources.eric import PUBLISHED_LAYOUT, SCHEMA, read_eric_sites

# Header unit -> the suffix the output name must carry (the project naming rule, restated here).
UNIT_SUFFIX = {
    "(£)": ("_gbp", "_gbp_per_hour"),
    "(m²)": ("_m2",),
    "(m³)": ("_m3",),
    "(%)": ("_pct",),
    "(Hectares)": ("_hectares",),
    "(No.)": ("_count",),
    "(kWh)": ("_kwh",),
    "(Tonnes)": ("_tonnes",),
    "(WTE)": ("_fte",),
    "(watts)": ("_watts",),
}
ADDED = {"year", "site_code_published"}


@pytest.fixture(scope="module")
def raw_bytes(mirror):
    return (mirror / get("eric_sites_2019").path).read_bytes()


@pytest.fixture(scope="module")
def raw(raw_bytes):
    return list(csv.reader(io.StringIO(raw_bytes.decode("utf-8"), newline="")))


@pytest.fixture(scope="module")
def eric(mirror):
    return read_eric_sites()


@pytest.mark.realdata
def test_shape_and_one_documented_column_per_header(eric, raw):
    header, rows = raw[0], raw[1:]
    assert len(header) == 165 and len(rows) == 1261
    assert eric.shape == (1261, 165 + len(ADDED))
    assert eric.attrs["verified"] is True and list(eric.attrs["columns"]) == list(eric.columns)
    labels = [eric.attrs["columns"][c]["label"] for c in eric.columns if c not in ADDED]
    assert sorted(labels) == sorted(header)  # label = the original header, every one used once
    for column in eric.columns:
        doc = eric.attrs["columns"][column]
        assert doc["description"], column
        assert re.fullmatch(r"[a-z0-9_]+", column), column
    assert (eric["year"] == 2019).all() and eric["site_code"].is_unique
    assert eric["trust_code"].nunique() == len({r[0] for r in rows}) == 224


@pytest.mark.realdata
def test_units_are_explicit_in_the_names(eric):
    for column, doc in eric.attrs["columns"].items():
        for unit, suffixes in UNIT_SUFFIX.items():
            if doc["label"].endswith(unit):
                assert column.endswith(suffixes), (column, doc["label"])
                assert doc["unit"], column
    # The nine repeated PFI headers became distinct, service-prefixed columns.
    pfi = [
        c
        for c, d in eric.attrs["columns"].items()
        if d["label"] == "PFI Contractor (SPV) costs (£)"
    ]
    assert len(pfi) == 9 and len(set(pfi)) == 9
    assert {c.split("_pfi_")[0] for c in pfi} == {
        "fm",
        "energy",
        "water",
        "waste",
        "parking",
        "cleaning",
        "food",
        "laundry",
        "portering",
    }


@pytest.mark.realdata
def test_numbers_and_missing_values_match_the_raw_file(eric, raw):
    header, rows = raw[0], raw[1:]
    by_label = {d["label"]: c for c, d in eric.attrs["columns"].items() if c not in ADDED}
    # Columns are positional: walk the header (duplicated labels map in file order).
    names = [name for _, name in PUBLISHED_LAYOUT]
    assert [eric.attrs["columns"][c]["label"] for c in names] == header
    numeric = [i for i, c in enumerate(names) if eric[c].dtype == float]
    assert len(numeric) == 150
    for i in numeric:
        column = eric[names[i]].to_numpy()
        cells = [r[i] for r in rows]
        not_applicable = np.array([c == "Not Applicable" for c in cells])
        assert (np.isnan(column) == not_applicable).all(), names[i]
        expected = np.array(
            [
                float(c.replace(",", ""))
                for c, na in zip(cells, not_applicable, strict=True)
                if not na
            ]
        )
        np.testing.assert_array_equal(column[~not_applicable], expected, names[i])
    assert by_label["Rates (£)"] == "rates_gbp"
    assert Counter(eric["fm_pfi_contractor_costs_gbp"].isna())[True] == 1120


@pytest.mark.realdata
def test_specific_values_traced_to_the_raw_file(eric):
    # First data row: R0A, ISLAND SITE (R0A01), Depreciation "8,524,748", floor area "292,119",
    # Other waste costs "507,182.00", Cleaning staff (WTE) "232.61", Leased blank.
    site = eric.set_index("site_code").loc["R0A01"]
    assert site["trust_code"] == "R0A" and site["site_name"] == "ISLAND SITE"
    assert site["depreciation_gbp"] == 8524748 and site["gross_internal_floor_area_m2"] == 292119
    assert site["other_waste_cost_gbp"] == 507182 and site["cleaning_staff_fte"] == 232.61
    assert site["laundry_linen_service"] == "1. Contracted – Full service"  # en dash decoded
    assert np.isnan(site["indirect_accommodation_subsidies_gbp"])  # "Not Applicable"
    assert site["leased"] != site["leased"]  # blank -> missing (NaN)


@pytest.mark.realdata
def test_the_corrupted_site_code(eric, raw):
    published = [r[4] for r in raw[1:] if r[0] == "RWF"]
    assert "RWF\xa03" in published  # a no-break space where ODS has a zero
    row = eric[eric.site_code_published == "RWF\xa03"].iloc[0]
    assert row["site_code"] == "RWF03" and row["site_name"] == "MAIDSTONE GENERAL HOSPITAL"
    assert (eric.site_code == eric.site_code_published).sum() == 1260


@pytest.mark.realdata
def test_latin1_and_double_encoded_copies_read_the_same(eric, raw_bytes, tmp_path):
    text = raw_bytes.decode("utf-8")
    assert raw_bytes.count("£".encode()) == 64  # the registry copy is UTF-8, not latin-1
    latin = tmp_path / "latin1.csv"
    latin.write_bytes(text.encode("cp1252"))
    mojibake = tmp_path / "mojibake.csv"
    mojibake.write_bytes(raw_bytes.decode("cp1252").encode("utf-8"))  # "£" -> "Â£"
    assert "Rates (Â£)" in mojibake.read_text(encoding="utf-8")
    for path in (latin, mojibake):
        other = read_eric_sites(path)
        assert other.attrs["verified"] is False
        assert other.equals(eric), path.name


@pytest.mark.realdata
def test_other_encodings_are_refused(raw_bytes, tmp_path):
    utf16 = tmp_path / "utf16.csv"
    utf16.write_bytes(raw_bytes.decode("utf-8").encode("utf-16"))
    _fails(utf16, "UTF-16", "CSV UTF-8")


# --- hand-made files ---------------------------------------------------------------------------


def _header() -> list[str]:
    return [header for header, _ in PUBLISHED_LAYOUT]


UNITS = {c.name: c.unit for c in SCHEMA.columns}
TEXT = {
    "trust_code": "RA2",
    "trust_name": "A TRUST",
    "site_code": "RA201",
    "site_name": "A HOSPITAL",
    "postcode": "GU2 7XX",
}


def _row(**values) -> list[str]:
    cells = []
    for _, name in PUBLISHED_LAYOUT:
        if name in values:
            cells.append(values[name])
        elif name in TEXT:
            cells.append(TEXT[name])
        elif UNITS[name]:
            cells.append("0")
        else:
            cells.append("Not Applicable")
    return cells


def _write(
    tmp_path, rows, header=None, name="ERIC_201920_SiteData_for_R.csv", encoding="utf-8", end="\r\n"
):
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=end)
    writer.writerow(header or _header())
    writer.writerows(rows)
    path = tmp_path / name
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def _fails(path, *fragments):
    with pytest.raises(DataFileError) as info:
        read_eric_sites(path)
    message = str(info.value)
    assert path.name in message and "Fix:" in message, message
    for fragment in fragments:
        assert fragment in message, message


def test_hand_made_file_thousands_missing_and_padding(tmp_path):
    rows = [
        _row(trust_code=" ra2 ", depreciation_gbp="1,234,567", rates_gbp="-", tenure=""),
        _row(
            site_code="RA2 02",
            cleaning_staff_fte="12.5",
            other_waste_cost_gbp="1,000.50",
            fm_pfi_contractor_costs_gbp="Not Applicable",
        ),
    ]
    df = read_eric_sites(_write(tmp_path, rows, encoding="cp1252")).set_index("site_code")
    assert df.loc["RA201", "trust_code"] == "RA2"
    assert df.loc["RA201", "depreciation_gbp"] == 1234567 and np.isnan(df.loc["RA201", "rates_gbp"])
    assert df.loc["RA201", "tenure"] != df.loc["RA201", "tenure"]  # blank -> NaN
    assert df.loc["RA202", "site_code_published"] == "RA2 02"
    assert (
        df.loc["RA202", "other_waste_cost_gbp"] == 1000.5
        and df.loc["RA202", "cleaning_staff_fte"] == 12.5
    )
    assert np.isnan(df.loc["RA202", "fm_pfi_contractor_costs_gbp"])  # "Not Applicable"


def test_a_missing_or_extra_field_is_refused(tmp_path):
    short = _row()[:-1]
    _fails(
        _write(tmp_path, [_row(), short, _row(site_code="RA203")]),
        "line 3 has 164 fields",
        "has 165",
    )


def test_truncated_file(tmp_path):
    path = _write(tmp_path, [_row(), _row(site_code="RA202")[:40]], end="\n")
    path.write_bytes(path.read_bytes().rstrip(b"\n"))
    _fails(path, "looks truncated", "line 3 has 40 fields")


def test_renamed_or_reordered_header(tmp_path):
    header = _header()
    header[13] = "Rates (GBP)"
    _fails(
        _write(tmp_path, [_row()], header=header),
        "column 14 is 'Rates (GBP)'",
        "expected 'Rates (£)'",
    )
    _fails(
        _write(tmp_path, [r[:100] for r in [_row()]], header=_header()[:100], name="b.csv"),
        "has 100 columns",
    )


def test_header_case_and_spacing_may_differ(tmp_path):
    header = [h.upper().replace(" ", "  ") for h in _header()]
    assert read_eric_sites(_write(tmp_path, [_row()], header=header)).shape[0] == 1


def test_bad_values(tmp_path):
    _fails(_write(tmp_path, [_row(rates_gbp="12k")], name="a.csv"), "'Rates (£)'", "'12k'")
    _fails(_write(tmp_path, [_row(empty_floor_area_pct="250")], name="b.csv"), "outside 0-100")
    _fails(_write(tmp_path, [_row(trust_code="R-A2")], name="c.csv"), "'Trust Code'")
    _fails(_write(tmp_path, [_row(), _row()], name="d.csv"), "repeat the key ['site_code']")


def test_undecodable_empty_and_header_only_files(tmp_path):
    path = _write(tmp_path, [_row(site_name="CAF\x81")], encoding="latin-1", name="a.csv")
    _fails(path, "neither UTF-8 nor latin-1", "0x81", "line 2")
    empty = tmp_path / "b.csv"
    empty.write_bytes(b"")
    _fails(empty, "is empty")
    _fails(_write(tmp_path, [], name="c.csv"), "header but no rows")
