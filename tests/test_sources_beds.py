"""Beds (KH03) reader: the real file, and hand-made files in the published layout."""

from __future__ import annotations

import csv
from collections import Counter

import numpy as np
import pytest

from icsresearch.data.registry import get
from icsresearch.errors import DataFileError
from icsresearch.sources.beds import SCHEMA, read_beds

HEADER = "YEAR,ORG_CODE,BEDS,BEDS_OCCUPIED_PERCENT"


@pytest.fixture(scope="module")
def beds(mirror):
    return read_beds()


@pytest.fixture(scope="module")
def raw(mirror):
    with open(mirror / get("hm_beds").path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.realdata
def test_shape_coverage_and_documentation(beds, raw):
    assert len(beds) == len(raw) == 2089
    assert dict(Counter(beds["year"])) == dict(Counter(int(r["YEAR"]) for r in raw))
    assert sorted(beds["year"].unique()) == list(range(2010, 2019))
    assert beds.attrs["verified"] is True and list(beds.attrs["columns"]) == SCHEMA.names
    assert not beds.duplicated(["trust_code", "year"]).any()
    assert beds["beds_available"].sum() == sum(float(r["BEDS"]) for r in raw)


@pytest.mark.realdata
def test_padded_2011_codes_are_cleaned(beds, raw):
    padded = [r for r in raw if r["ORG_CODE"] != r["ORG_CODE"].strip()]
    assert len(padded) == 259 and {r["YEAR"] for r in padded} == {"2011"}
    assert beds["trust_code"].str.fullmatch(r"[A-Z0-9]{3,5}").all()
    assert beds.query("year == 2011").trust_code.isin([r["ORG_CODE"].strip() for r in padded]).all()


@pytest.mark.realdata
def test_occupancy_is_the_fraction_times_100_and_missing_without_beds(beds, raw):
    by_key = beds.set_index(["trust_code", "year"])
    zero_beds = 0
    for r in raw:
        row = by_key.loc[(r["ORG_CODE"].strip(), int(r["YEAR"]))]
        if float(r["BEDS"]) == 0:
            zero_beds += 1
            assert np.isnan(row["occupancy_pct"]) and np.isnan(row["occupied_beds"])
        else:
            assert row["occupancy_pct"] == pytest.approx(float(r["BEDS_OCCUPIED_PERCENT"]) * 100)
            assert row["occupied_beds"] == pytest.approx(
                float(r["BEDS"]) * float(r["BEDS_OCCUPIED_PERCENT"])
            )
    assert zero_beds == 12 and beds["occupancy_pct"].isna().sum() == 12
    assert beds["occupancy_pct"].dropna().between(0, 100).all()


@pytest.mark.realdata
def test_specific_values_traced_to_the_raw_file(beds):
    # Raw lines "2018,RA2,491,0.79" and, with the padded code, "2011, RA2 ,499,0.80".
    ra2 = beds.query("trust_code == 'RA2'").set_index("year")
    assert ra2.loc[2018, "beds_available"] == 491 and ra2.loc[2018, "occupancy_pct"] == 79.0
    assert ra2.loc[2018, "occupied_beds"] == pytest.approx(387.89)
    assert ra2.loc[2011, "beds_available"] == 499 and ra2.loc[2011, "occupancy_pct"] == 80.0
    assert list(ra2.index) == list(range(2010, 2019))
    # Raw line "2012,RF4,1031,1.00": one of the four rows at exactly 100%.
    assert beds.query("trust_code == 'RF4' and year == 2012").occupancy_pct.item() == 100.0
    assert int((beds.occupancy_pct == 100).sum()) == 4


# --- hand-made files ---------------------------------------------------------------------------


def _write(tmp_path, text, name="beds.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _fails(path, *fragments):
    with pytest.raises(DataFileError) as info:
        read_beds(path)
    message = str(info.value)
    assert path.name in message and "Fix:" in message, message
    for fragment in fragments:
        assert fragment in message, message


def test_bom_padding_and_missing_tokens(tmp_path):
    text = "\ufeff" + HEADER + "\r\n2018, RA2 ,500,0.85\r\n2018,RA3,-,0.80\r\n2018,RA4,0,0.00\r\n"
    df = read_beds(_write(tmp_path, text)).set_index("trust_code")
    assert df.loc["RA2", "occupancy_pct"] == 85.0 and df.loc["RA2", "occupied_beds"] == 425.0
    assert np.isnan(df.loc["RA3", "beds_available"]) and np.isnan(df.loc["RA3", "occupied_beds"])
    assert df.loc["RA4", "beds_available"] == 0 and np.isnan(df.loc["RA4", "occupancy_pct"])


def test_occupancy_given_as_a_percentage_is_refused(tmp_path):
    _fails(
        _write(tmp_path, HEADER + "\n2018,RA2,500,85\n"), "outside 0-1", "divide the column by 100"
    )


def test_negative_beds(tmp_path):
    _fails(_write(tmp_path, HEADER + "\n2018,RA2,-5,0.85\n"), "'BEDS'", "negative")


def test_wrong_layout_and_bad_values(tmp_path):
    _fails(_write(tmp_path, "YEAR,ORG_CODE,BEDS\n2018,RA2,5\n", "a.csv"), "BEDS_OCCUPIED_PERCENT")
    _fails(_write(tmp_path, HEADER + "\n2018,RA2,five,0.8\n", "b.csv"), "not numbers", "'five'")
    _fails(_write(tmp_path, HEADER + "\n2018,R?2,5,0.8\n", "c.csv"), "not organisation codes")
    _fails(_write(tmp_path, HEADER + "\n2018,RA2,5", "d.csv"), "truncated")
