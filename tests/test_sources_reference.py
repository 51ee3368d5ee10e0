"""Small code tables: each read from the real file and checked against it, plus edge cases."""

from __future__ import annotations

import csv

import pytest

from icsresearch.data.registry import get
from icsresearch.errors import DataFileError
from icsresearch.sources import read as read_by_name
from icsresearch.sources import reference as ref

READERS = {
    "hm_cqc_rating_scores": ref.read_cqc_rating_scores,
    "hm_afc_pay_scales": ref.read_afc_pay_scales,
    "hm_hee_regions": ref.read_hee_regions,
    "hm_main_staff_groups": ref.read_main_staff_groups,
    "hm_staff_group_1": ref.read_staff_group_1,
    "hm_staff_group_2": ref.read_staff_group_2,
    "hm_variable_definitions": ref.read_variable_definitions,
}


def _raw(mirror, name):
    with open(mirror / get(name).path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.reader(fh))


@pytest.mark.realdata
@pytest.mark.parametrize("name", list(READERS))
def test_every_table_matches_its_raw_file(name, mirror):
    raw = _raw(mirror, name)
    df = READERS[name]()
    assert len(df) == len(raw) - 1
    assert df.attrs["verified"] is True and df.attrs["source"] == name
    assert set(df.attrs["columns"]) == set(df.columns)
    assert all(c == c.lower() and " " not in c for c in df.columns)
    # Cell by cell, in file order: the reader keeps every value (numbers parsed).
    for row, out in zip(raw[1:], df.itertuples(index=False), strict=True):
        for value, got in zip(row, out, strict=True):
            if isinstance(got, str):
                assert got == value.strip()
            else:
                assert got == float(value)
    # Dispatch by registry name reaches the same reader.
    assert read_by_name(name).equals(df)


@pytest.mark.realdata
def test_specific_values(mirror):
    scores = ref.read_cqc_rating_scores().set_index("rating").rating_score.to_dict()
    assert scores == {"Inadequate": 0, "Requires improvement": 1, "Good": 2, "Outstanding": 3}
    pay = ref.read_afc_pay_scales().set_index("afc_band")
    assert pay.loc["Band 5"].tolist() == [2017, 22128, 25182, 28746]
    assert len(pay) == 12 and (pay.pay_bottom_gbp <= pay.pay_top_gbp).all()
    hee = ref.read_hee_regions()
    assert dict(zip(hee.hee_region_code, hee.hee_region_name, strict=True)) == ref.HEE_REGIONS
    sg1 = ref.read_staff_group_1().set_index("staff_group_1_code").staff_group_1_name
    assert sg1[41] == "Managers" and sg1[39] == "Senior managers" and len(sg1) == 12
    sg2 = ref.read_staff_group_2()
    clerical = sg2[sg2.staff_group_2_name == "Clerical & administrative"].staff_group_2_code
    assert clerical.tolist() == [25, 30, 36, 44, 47]  # names repeat; codes do not
    defs = ref.read_variable_definitions().set_index("code")
    assert defs.loc["shmi", "variable"] == "SHMI" and defs.loc["fin_pos", "label"].endswith(
        "(£ million)"
    )
    assert len(defs) == 100


# --- hand-made files ---------------------------------------------------------------------------


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _fails(reader, path, *fragments):
    with pytest.raises(DataFileError) as info:
        reader(path)
    message = str(info.value)
    assert path.name in message and "Fix:" in message, message
    for fragment in fragments:
        assert fragment in message, message


def test_bom_and_missing_final_newline_are_fine(tmp_path):
    # The published code tables start with a BOM and end without a newline.
    path = _write(
        tmp_path, "hee_region.csv", '\ufeffHEE_REGION_CODE,HEE_REGION_NAME\r\nYDF29,"Kent, Surrey"'
    )
    assert ref.read_hee_regions(path).iloc[0].tolist() == ["YDF29", "Kent, Surrey"]


def test_rating_score_out_of_range(tmp_path):
    path = _write(tmp_path, "CQC_ratings_lookup.csv", "RATING,SCORE\nGood,2\nExcellent,4\n")
    _fails(ref.read_cqc_rating_scores, path, "'SCORE'", "outside 0-3", "row 3")


def test_pay_bands_must_be_ordered(tmp_path):
    text = "YEAR,AFC_BAND,BOTTOM,AVERAGE,TOP\n2017,Band 5,28746,25182,22128\n"
    _fails(
        ref.read_afc_pay_scales,
        _write(tmp_path, "afc.csv", text),
        "BOTTOM <= AVERAGE <= TOP",
        "Band 5",
    )
    quoted = 'YEAR,AFC_BAND,BOTTOM,AVERAGE,TOP\n2017,Band 5,"22,128","25,182","28,746"\n'
    assert ref.read_afc_pay_scales(_write(tmp_path, "b.csv", quoted)).pay_top_gbp.item() == 28746


def test_blank_names_and_bad_codes(tmp_path):
    _fails(
        ref.read_staff_group_1,
        _write(tmp_path, "a.csv", "STAFF_GROUP_1_CODE,STAFF_GROUP_1_NAME\n5,\n"),
        "blank",
    )
    bad_code = "STAFF_GROUP_2_CODE,STAFF_GROUP_2_NAME\nsix,Nurses - adult\n"
    _fails(ref.read_staff_group_2, _write(tmp_path, "b.csv", bad_code), "'STAFF_GROUP_2_CODE'")
    hee = "HEE_REGION_CODE,HEE_REGION_NAME\nYDF-21,East Midlands\n"
    _fails(ref.read_hee_regions, _write(tmp_path, "c.csv", hee), "not organisation codes")


def test_repeated_codes_and_wrong_columns(tmp_path):
    text = "MAIN_STAFF_GROUP_CODE,MAIN_STAFF_GROUP_NAME\n1,A\n1,B\n"
    _fails(ref.read_main_staff_groups, _write(tmp_path, "a.csv", text), "repeat the key")
    _fails(
        ref.read_variable_definitions,
        _write(tmp_path, "b.csv", "code,label\nae,A&E\n"),
        "['variable']",
    )
    _fails(ref.read_cqc_rating_scores, _write(tmp_path, "c.csv", ""), "is empty")
