"""2021-based geography lookups: LSOA21 -> sub-ICB -> ICB (2024), LSOA11 -> LSOA21, LSOA21 ->
ward -> district (2024), district -> region; checked against the raw R tables and each other."""

from __future__ import annotations

import pandas as pd
import pyreadr
import pytest

from icsresearch.errors import DataFileError
from icsresearch.sources import lsoa

GEO = "geographr/data"


def _raw(mirror, name: str) -> pd.DataFrame:
    return pyreadr.read_r(str(mirror / GEO / f"{name}.rda"))[name]


@pytest.fixture(scope="module")
def icb24(mirror):
    return lsoa.read_lsoa21_icb24_lookup()


@pytest.fixture(scope="module")
def changes(mirror):
    return lsoa.read_lsoa11_lsoa21_lookup()


@pytest.fixture(scope="module")
def wards(mirror):
    return lsoa.read_lsoa21_ward_ltla24_lookup()


@pytest.mark.realdata
def test_lsoa21_icb24_matches_the_raw_table(mirror, icb24):
    raw = _raw(mirror, "lookup_lsoa21_icb24")
    df = icb24
    assert len(df) == len(raw) == 33755 and df.attrs["verified"] is True
    assert set(df.attrs["columns"]) == set(df.columns) and df.lsoa21_code.is_unique
    assert df.icb_code.nunique() == df.icb_ons_code.nunique() == df.icb_name.nunique() == 42
    assert df.sicbl_code.nunique() == df.sicbl_ons_code.nunique() == 106
    assert (df.drop_duplicates("sicbl_code").sicbl_code.str.len() == 5).sum() == 9
    assert df.groupby("icb_code").size().agg(["min", "max"]).tolist() == [313, 1889]
    by_code = df.set_index("lsoa21_code")
    for r in raw.iloc[::1500].itertuples():
        got = by_code.loc[r.lsoa21_code]
        assert (got.icb_code, got.icb_ons_code, got.sicbl_code, got.sicbl_ons_code) == (
            r.icb24_code_nhs,
            r.icb24_code,
            r.sicbl24_code_nhs,
            r.sicbl24_code,
        )
        assert (got.lsoa21_name, got.icb_name, got.sicbl_name) == (
            r.lsoa21_name,
            r.icb24_name,
            r.sicbl24_name,
        )
    pairs = dict(zip(df.icb_code, df.icb_ons_code, strict=True))
    assert pairs["QXU"] == "E54000063" and pairs["QNX"] == "E54000064"
    assert pairs["QYG"] == "E54000008"
    assert df.attrs["completeness"] == {
        "rows": 33755,
        "units": 42,
        "share_missing": {"lsoa21_name": 0.0, "sicbl_name": 0.0, "icb_name": 0.0},
    }


@pytest.mark.realdata
def test_icb24_agrees_with_the_2022_lookup_on_unchanged_lsoas(icb24, changes):
    old = lsoa.read_lsoa_icb_lookup()
    assert set(old.icb_code) == set(icb24.icb_code)  # the same 42 Q-codes
    assert set(old.sub_icb_code) == set(icb24.sicbl_code)
    unchanged = changes[changes.change_code == "U"]
    joined = unchanged.merge(old, on="lsoa11_code").merge(icb24, on="lsoa21_code")
    assert len(joined) == 31810  # English U rows
    moved = joined[joined.icb_code_x != joined.icb_code_y]
    # 2023 boundary change: four LSOAs from Surrey Heartlands (92A) to Sussex (70F)
    assert len(moved) == 4
    cols = ["sub_icb_code", "icb_code_x", "sicbl_code", "icb_code_y"]
    assert set(moved[cols].itertuples(index=False, name=None)) == {("92A", "QXU", "70F", "QNX")}
    assert (joined.sub_icb_code != joined.sicbl_code).sum() == 4


@pytest.mark.realdata
def test_lsoa11_lsoa21_matches_the_raw_table(mirror, changes, wards):
    raw = _raw(mirror, "lookup_lsoa11_lsoa21_ltla22")
    df = changes
    assert len(df) == len(raw) == 35795 and df.attrs["verified"] is True
    assert set(df.attrs["columns"]) == set(df.columns)
    assert not df.duplicated(["lsoa11_code", "lsoa21_code"]).any()
    assert df.change_code.value_counts().to_dict() == {"U": 33647, "S": 1900, "M": 239, "X": 9}
    england = df[df.lsoa11_code.str.startswith("E")]
    assert england.change_code.value_counts().to_dict() == {"U": 31810, "S": 1842, "M": 194, "X": 9}
    assert england.lsoa11_code.nunique() == 32844 and england.lsoa21_code.nunique() == 33755
    assert df.lsoa11_code.nunique() == 34753 and df.lsoa21_code.nunique() == 35672
    # the same 2011 and 2021 LSOA sets as the other lookups
    assert set(england.lsoa11_code) == set(lsoa.read_lsoa_icb_lookup().lsoa11_code)
    assert set(df.lsoa21_code) == set(wards.lsoa21_code)
    # U keeps the code; S: one 2011 LSOA to 2-9; M: 2 to one
    u = df[df.change_code == "U"]
    assert (u.lsoa11_code == u.lsoa21_code).all()
    splits = england[england.change_code == "S"].groupby("lsoa11_code").size()
    assert (len(splits), splits.min(), splits.max()) == (834, 2, 9)
    merges = england[england.change_code == "M"].groupby("lsoa21_code").size()
    assert (len(merges), merges.min(), merges.max()) == (97, 2, 2)
    assert df.ltla22_code.nunique() == 331  # 309 English + 22 Welsh
    rows = raw.iloc[::2000]
    got = df.set_index(["lsoa11_code", "lsoa21_code"])
    for r in rows.itertuples():
        one = got.loc[(r.lsoa11_code, r.lsoa21_code)]
        assert (one.change_code, one.ltla22_code, one.lsoa21_name) == (
            r.change_code,
            r.ltla22_code,
            r.lsoa21_name,
        )
    straddle = df.groupby("lsoa11_code").ltla22_code.nunique()
    assert sorted(straddle[straddle > 1].index) == ["E01008187", "E01023508", "E01023964"]


@pytest.mark.realdata
def test_ward_lookup_matches_the_raw_table(mirror, wards, icb24):
    raw = _raw(mirror, "lookup_lsoa21_ward24_ltla24")
    df = wards
    assert len(df) == len(raw) == 35672 and df.lsoa21_code.is_unique
    assert df.attrs["verified"] is True and set(df.attrs["columns"]) == set(df.columns)
    assert df.ward_code.nunique() == 7536 and df.ltla_code.nunique() == 318
    assert df[df.ltla_code.str.startswith("E")].ltla_code.nunique() == 296
    assert set(df[df.lsoa21_code.str.startswith("E")].lsoa21_code) == set(icb24.lsoa21_code)
    assert (df.lsoa21_code.tolist(), df.ward_code.tolist(), df.ltla_name.tolist()) == (
        raw.lsoa21_code.tolist(),
        raw.ward24_code.tolist(),
        raw.ltla24_name.tolist(),
    )
    cropredy = df.set_index("lsoa21_code").loc["E01027305"]
    assert (cropredy.lsoa21_name, cropredy.ltla_name) == ("West Northamptonshire 048E", "Cherwell")
    assert df.attrs["completeness"]["units"] == 318


@pytest.mark.realdata
def test_region_lookup(mirror, wards):
    raw = _raw(mirror, "lookup_ltla24_region24")
    df = lsoa.read_ltla24_region_lookup()
    assert len(df) == len(raw) == 296 and df.ltla_code.is_unique
    assert df.attrs["verified"] is True and set(df.attrs["columns"]) == set(df.columns)
    assert df.groupby("region_name").size().to_dict() == {
        "East Midlands": 35,
        "East of England": 45,
        "London": 33,
        "North East": 12,
        "North West": 35,
        "South East": 64,
        "South West": 27,
        "West Midlands": 30,
        "Yorkshire and The Humber": 15,
    }
    english = wards[wards.ltla_code.str.startswith("E")].drop_duplicates("ltla_code")
    assert dict(zip(english.ltla_code, english.ltla_name, strict=True)) == dict(
        zip(df.ltla_code, df.ltla_name, strict=True)
    )
    assert df.set_index("ltla_code").loc["E09000001", "region_name"] == "London"


# --- hand-made files ------------------------------------------------------------------------


def _write(tmp_path, name: str, rows: dict, object_name: str | None = None):
    path = tmp_path / f"{name}.rda"
    pyreadr.write_rdata(str(path), pd.DataFrame(rows), df_name=object_name or name)
    return path


def _error(reader, path) -> str:
    with pytest.raises(DataFileError) as info:
        reader(path)
    message = str(info.value)
    assert path.name in message and "Fix:" in message, message
    return message


def _icb_rows(**changes):
    rows = {
        "lsoa21_name": ["Halton 001A", "Halton 001B"],
        "lsoa21_code": ["E01012392", "E01012393"],
        "sicbl24_name": ["NHS Cheshire and Merseyside ICB - 01F"] * 2,
        "sicbl24_code": ["E38000068"] * 2,
        "sicbl24_code_nhs": ["01F"] * 2,
        "icb24_name": ["NHS Cheshire and Merseyside Integrated Care Board"] * 2,
        "icb24_code": ["E54000008"] * 2,
        "icb24_code_nhs": ["QYG"] * 2,
    }
    rows.update(changes)
    return rows


def test_icb24_hand_made_and_bad(tmp_path):
    name = "lookup_lsoa21_icb24"
    read = lsoa.read_lsoa21_icb24_lookup
    df = read(_write(tmp_path, name, _icb_rows(sicbl24_code_nhs=["01f ", "01F"])))
    assert df.sicbl_code.tolist() == ["01F", "01F"] and df.attrs["verified"] is False
    message = _error(read, _write(tmp_path, name, _icb_rows(lsoa21_code=["E01012392"] * 2)))
    assert "repeat the key ['lsoa21_code']" in message
    message = _error(
        read, _write(tmp_path, name, _icb_rows(lsoa21_code=["E01012392", "W01000001"]))
    )
    assert "'lsoa21_code'" in message and "row 2: 'W01000001'" in message
    message = _error(
        read,
        _write(
            tmp_path,
            name,
            _icb_rows(icb24_code=["E54000008", "E54000007"], icb24_code_nhs=["QYG", "QOP"]),
        ),
    )
    assert "sicbl_code 01F lies in several icb_code values: ['QOP', 'QYG']" in message
    message = _error(read, _write(tmp_path, name, _icb_rows(icb24_code_nhs=["QYG", "QE1"])))
    assert "icb_ons_code E54000008 goes with several icb_code" in message
    message = _error(read, _write(tmp_path, name, _icb_rows(), object_name="lookup_lsoa21_icb23"))
    assert "has no R object 'lookup_lsoa21_icb24'" in message
    rows = _icb_rows()
    del rows["icb24_code_nhs"]
    assert "missing column(s) ['icb24_code_nhs']" in _error(read, _write(tmp_path, name, rows))
    empty = {k: [] for k in _icb_rows()}
    assert "has no rows" in _error(read, _write(tmp_path, name, empty))


def test_truncated_and_empty_rda(tmp_path, mirror):
    path = tmp_path / "lookup_lsoa21_icb24.rda"
    data = (mirror / GEO / "lookup_lsoa21_icb24.rda").read_bytes()
    path.write_bytes(data[: len(data) // 3])
    assert "is not a readable R data file" in _error(lsoa.read_lsoa21_icb24_lookup, path)
    path.write_bytes(b"")
    assert "is empty" in _error(lsoa.read_lsoa21_icb24_lookup, path)


def _change_rows(**changes):
    rows = {
        "lsoa11_name": ["Hartlepool 009A", "Halton 002A", "Halton 002A"],
        "lsoa11_code": ["E01011949", "E01012370", "E01012370"],
        "change_code": ["U", "S", "S"],
        "lsoa21_name": ["Hartlepool 009A", "Halton 002E", "Halton 002F"],
        "lsoa21_code": ["E01011949", "E01033100", "E01033101"],
        "ltla22_name": ["Hartlepool", "Halton", "Halton"],
        "ltla22_code": ["E06000001", "E06000006", "E06000006"],
    }
    rows.update(changes)
    return rows


def test_lsoa11_lsoa21_hand_made_and_bad(tmp_path):
    name = "lookup_lsoa11_lsoa21_ltla22"
    read = lsoa.read_lsoa11_lsoa21_lookup
    df = read(_write(tmp_path, name, _change_rows()))
    assert df.change_code.tolist() == ["U", "S", "S"] and len(df) == 3
    message = _error(
        read,
        _write(tmp_path, name, _change_rows(lsoa21_code=["E01011948", "E01033100", "E01033101"])),
    )
    assert "U (unchanged) rows" in message and "row 1: E01011949 -> E01011948" in message
    message = _error(read, _write(tmp_path, name, _change_rows(change_code=["U", "M", "M"])))
    assert "M (merged) rows whose 2011 LSOA goes to several 2021 LSOAs" in message
    message = _error(read, _write(tmp_path, name, _change_rows(change_code=["U", "S", "Z"])))
    assert "'change_code'" in message and "row 3: 'Z'" in message
    message = _error(
        read,
        _write(tmp_path, name, _change_rows(ltla22_code=["E06000001", "W06000001", "E06000006"])),
    )
    assert "an English and a Welsh area" in message and "row 2" in message
    message = _error(
        read,
        _write(
            tmp_path,
            name,
            _change_rows(
                lsoa11_code=["E01011949", "E01012370", "E01012371"],
                change_code=["U", "M", "M"],
                lsoa21_code=["E01011949", "E01033100", "E01033100"],
                ltla22_code=["E06000001", "E06000006", "E06000007"],
            ),
        ),
    )
    assert "lsoa21_code E01033100 lies in several ltla22_code values" in message


def test_ward_and_region_hand_made_and_bad(tmp_path):
    name = "lookup_lsoa21_ward24_ltla24"
    read = lsoa.read_lsoa21_ward_ltla24_lookup
    rows = {
        "lsoa21_name": ["Middlesbrough 014A", "Cardiff 001A"],
        "lsoa21_code": ["E01012049", "W01001701"],
        "ward24_name": ["Ladgate", "Pentyrch"],
        "ward24_code": ["E05009861", "W05001043"],
        "ltla24_name": ["Middlesbrough", "Cardiff"],
        "ltla24_code": ["E06000002", "W06000015"],
    }
    assert read(_write(tmp_path, name, rows)).ltla_code.tolist() == ["E06000002", "W06000015"]
    bad = {**rows, "ward24_code": ["E05009861", "E05009862"]}
    assert "an English and a Welsh area" in _error(read, _write(tmp_path, name, bad))
    bad = {**rows, "ward24_code": ["E05009861"] * 2, "lsoa21_code": ["E01012049", "E01012050"]}
    bad["ltla24_code"] = ["E06000002", "E06000003"]
    message = _error(read, _write(tmp_path, name, bad))
    assert "ward_code E05009861 lies in several ltla_code values" in message
    bad = {**rows, "ward24_code": ["E05009861", "W0500104"]}
    assert "row 2: 'W0500104'" in _error(read, _write(tmp_path, name, bad))

    name = "lookup_ltla24_region24"
    read = lsoa.read_ltla24_region_lookup
    rows = {
        "ltla24_name": ["Hartlepool", "Middlesbrough"],
        "ltla24_code": ["E06000001", "E06000002"],
        "region24_name": ["North East", "North East"],
        "region24_code": ["E12000001", "E12000001"],
    }
    assert read(_write(tmp_path, name, rows)).region_code.tolist() == ["E12000001"] * 2
    bad = {**rows, "region24_name": ["North East", "North West"]}
    message = _error(read, _write(tmp_path, name, bad))
    assert "region_code E12000001 goes with several region_name" in message
    bad = {**rows, "ltla24_code": ["E06000001", "W06000015"]}
    assert "English local authority codes" in _error(read, _write(tmp_path, name, bad))
    bad = {**rows, "region24_code": ["E12000001", "Y56"]}
    assert "row 2: 'Y56'" in _error(read, _write(tmp_path, name, bad))
