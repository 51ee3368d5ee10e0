"""Rural-urban classification 2021 by LSOA (2021), checked against the raw R table."""

from __future__ import annotations

import pandas as pd
import pyreadr
import pytest

from icsresearch.errors import DataFileError
from icsresearch.sources.rural_urban import RUC21_CLASSES, read_rural_urban_2021

RAW = "geographr/data/ruc21_lsoa21.rda"


@pytest.fixture(scope="module")
def ruc(mirror):
    return read_rural_urban_2021()


@pytest.mark.realdata
def test_matches_the_raw_table(mirror, ruc):
    raw = pyreadr.read_r(str(mirror / RAW))["ruc21_lsoa21"]
    assert len(ruc) == len(raw) == 35672 and ruc.attrs["verified"] is True
    assert set(ruc.attrs["columns"]) == set(ruc.columns) and ruc.lsoa21_code.is_unique
    assert ruc.lsoa21_code.tolist() == raw.lsoa21_code.tolist()
    assert ruc.ruc21_code.tolist() == raw.ruc21_code.tolist()
    assert ruc.classification.tolist() == raw.classification.tolist()
    assert ruc.urban_rural.tolist() == raw.ruc.tolist()
    assert ruc.ruc21_code.value_counts().to_dict() == {
        "UN1": 27106,
        "UF1": 2451,
        "RLN1": 2127,
        "RSN1": 1735,
        "RSF1": 1232,
        "RLF1": 1021,
    }
    assert ruc.lsoa21_code.str[:3].value_counts().to_dict() == {"E01": 33755, "W01": 1917}
    assert ruc.attrs["completeness"] == {
        "rows": 35672,
        "units": 6,
        "share_missing": {"ruc21_code": 0.0},
    }


@pytest.mark.realdata
def test_covers_the_lsoas_of_the_2021_lookups(ruc):
    from icsresearch.sources.lsoa import read_lsoa21_icb24_lookup, read_lsoa21_ward_ltla24_lookup

    england = ruc[ruc.lsoa21_code.str.startswith("E")]
    assert set(england.lsoa21_code) == set(read_lsoa21_icb24_lookup().lsoa21_code)
    wards = read_lsoa21_ward_ltla24_lookup()
    assert set(ruc.lsoa21_code) == set(wards.lsoa21_code)
    # London boroughs are all urban; the Isles of Scilly LSOA is rural
    joined = ruc.merge(wards, on="lsoa21_code")
    assert (joined[joined.ltla_code.str.startswith("E09")].urban_rural == "Urban").all()
    assert joined.set_index("lsoa21_code").loc["E01019077", "urban_rural"] == "Rural"


def _file(tmp_path, name="ruc21_lsoa21", **changes):
    rows = {
        "lsoa21_code": ["E01000001", "W01000001"],
        "ruc21_code": ["UN1", "RSF1"],
        "classification": [RUC21_CLASSES["UN1"][0], RUC21_CLASSES["RSF1"][0]],
        "ruc": ["Urban", "Rural"],
    }
    rows.update(changes)
    path = tmp_path / "ruc21_lsoa21.rda"
    pyreadr.write_rdata(str(path), pd.DataFrame(rows), df_name=name)
    return path


def _error(path) -> str:
    with pytest.raises(DataFileError) as info:
        read_rural_urban_2021(path)
    message = str(info.value)
    assert path.name in message and "Fix:" in message, message
    return message


def test_hand_made_and_bad(tmp_path, mirror):
    df = read_rural_urban_2021(_file(tmp_path, ruc21_code=["un1 ", "RSF1"]))
    assert df.ruc21_code.tolist() == ["UN1", "RSF1"] and df.attrs["verified"] is False
    message = _error(_file(tmp_path, ruc21_code=["UN1", "E2"]))
    assert "'ruc21_code'" in message and "row 2: 'E2'" in message
    message = _error(_file(tmp_path, ruc=["Urban", "Urban"]))
    assert "column 'ruc' disagrees with ruc21_code" in message
    assert "row 2: RSF1 with 'Urban' (expected 'Rural')" in message
    message = _error(_file(tmp_path, classification=[RUC21_CLASSES["UF1"][0]] * 2))
    assert "column 'classification' disagrees with ruc21_code in 2 row(s)" in message
    message = _error(_file(tmp_path, lsoa21_code=["E01000001", "E01000001"]))
    assert "repeat the key ['lsoa21_code']" in message
    message = _error(_file(tmp_path, lsoa21_code=["E01000001", "E02000001"]))
    assert "'lsoa21_code'" in message and "row 2: 'E02000001'" in message
    assert "has no R object 'ruc21_lsoa21'" in _error(_file(tmp_path, name="ruc11_lsoa11"))
    path = tmp_path / "ruc21_lsoa21.rda"
    data = (mirror / RAW).read_bytes()
    path.write_bytes(data[: len(data) // 2])
    assert "is not a readable R data file" in _error(path)
    path.write_bytes(b"")
    assert "is empty" in _error(path)
