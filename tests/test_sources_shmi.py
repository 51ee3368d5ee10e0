"""SHMI readers: both compilations on the real files, how they relate, and hand-made edge cases."""

from __future__ import annotations

import csv
from collections import Counter

import numpy as np
import pandas as pd
import pytest

from icsresearch.data.registry import get
from icsresearch.errors import DataFileError
from icsresearch.sources.shmi import SHMI, WELLBEING, read_shmi, read_shmi_wellbeing


def _csv(mirror, name):
    with open(mirror / get(name).path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def shmi(mirror):
    return read_shmi()


@pytest.fixture(scope="module")
def wellbeing(mirror):
    return read_shmi_wellbeing()


@pytest.fixture(scope="module")
def raw_shmi(mirror):
    return _csv(mirror, "hm_shmi")


@pytest.fixture(scope="module")
def raw_wb(mirror):
    return _csv(mirror, "nhs_wellbeing")


# --- first compilation -------------------------------------------------------------------------


@pytest.mark.realdata
def test_shmi_matches_the_raw_file(shmi, raw_shmi):
    assert len(shmi) == len(raw_shmi) == 952
    assert dict(Counter(shmi["year"])) == dict(Counter(int(r["YEAR"]) for r in raw_shmi))
    assert sorted(shmi["year"].unique()) == list(range(2012, 2019))
    expected = {(r["ORG_CODE"].strip(), int(r["YEAR"])): float(r["SHMI"]) for r in raw_shmi}
    got = dict(zip(zip(shmi.trust_code, shmi.year, strict=True), shmi.shmi, strict=True))
    assert got == expected
    assert shmi.attrs["verified"] is True and list(shmi.attrs["columns"]) == SHMI.names
    assert not shmi.duplicated(["trust_code", "year"]).any()


@pytest.mark.realdata
def test_shmi_specific_values(shmi):
    # Raw lines "2012,R1F,1.123" and "2013,RKE,0.539" (the lowest value, Whittington Health).
    assert shmi.query("trust_code == 'R1F' and year == 2012").shmi.item() == 1.123
    assert shmi.query("trust_code == 'RKE' and year == 2013").shmi.item() == 0.539
    assert shmi.shmi.min() == 0.539


# --- second compilation ------------------------------------------------------------------------


@pytest.mark.realdata
def test_wellbeing_matches_the_raw_file(wellbeing, raw_wb):
    assert len(wellbeing) == len(raw_wb) == 1084
    assert sorted(wellbeing["year"].unique()) == list(range(2012, 2020))
    assert (wellbeing["year"] == wellbeing["survey_year"]).all()
    by_key = wellbeing.set_index(["trust_code", "year"])
    for r in raw_wb:
        row = by_key.loc[(r["Code"], int(r["Year.Index"]))]
        assert row["shmi"] == float(r["SHMI.Index"])
        for published, column in [
            ("Engagement.Index", "engagement_index"),
            ("RecommendCare.Index.dichot", "recommend_care_positive_share"),
            ("WorkStress.Index", "work_stress_share"),
            ("Responses", "survey_responses_count"),
            ("SHMI.before", "shmi_previous"),
        ]:
            if r[published] == "NA":
                assert pd.isna(row[column])
            else:
                assert row[column] == float(r[published])
    assert wellbeing.attrs["verified"] is True and list(wellbeing.columns) == WELLBEING.names
    assert set(wellbeing.attrs["columns"]) == set(wellbeing.columns)


@pytest.mark.realdata
def test_wellbeing_specific_values(wellbeing):
    # Raw line: "R1F",2013,1.0769,1.099,"YDF27","Health Education Wessex (South)",
    # "Isle of Wight NHS Trust",0,"South",...
    row = wellbeing.query("trust_code == 'R1F' and year == 2013").iloc[0]
    assert (row["shmi"], row["shmi_previous"]) == (1.099, 1.0769)
    assert row["trust_name"] == "Isle of Wight NHS Trust"
    assert row["hee_region_code_published"] == "YDF27"  # South London's code...
    assert row["hee_region_name"] == "Health Education Wessex"
    assert row["hee_region_code"] == "YDF24"  # ...but the trust is in Wessex
    assert not bool(row["north"])


@pytest.mark.realdata
def test_freedom_speak_and_openness_are_placeholders(wellbeing, raw_wb):
    for published, column in [
        ("FreedomSpeak.Index", "freedom_speak_index"),
        ("Openness.Index", "openness_index"),
    ]:
        assert {r[published] for r in raw_wb} == {"0", "NA"}
        assert sum(r[published] == "0" for r in raw_wb) == 1073
        assert wellbeing[column].isna().all()


@pytest.mark.realdata
def test_hee_region_from_the_name_agrees_with_the_provider_list(wellbeing, mirror):
    providers = {r["ORG_CODE"].strip(): r["HEE_REGION_CODE"] for r in _csv(mirror, "hm_providers")}
    trusts = wellbeing.dropna(subset=["hee_region_code"]).drop_duplicates("trust_code")
    matched = trusts[trusts.trust_code.isin(list(providers))]
    reference = matched.trust_code.map(providers)
    assert len(matched) == 136
    assert (matched.hee_region_code == reference).all()
    # The published code column disagrees for 41 of those trusts: documented and not used.
    assert int((matched.hee_region_code_published != reference).sum()) == 41
    assert "41 trusts" in WELLBEING.notes


@pytest.mark.realdata
def test_survey_indices_are_on_their_documented_scales(wellbeing):
    for column in WELLBEING.columns:
        values = wellbeing[column.name]
        if column.unit == "score 1-5":
            assert values.dropna().between(1, 5).all(), column.name
        elif column.unit == "0-1":
            assert values.dropna().between(0, 1).all(), column.name
    assert wellbeing["engagement_index"].isna().sum() == 11


@pytest.mark.realdata
def test_shmi_previous_is_the_previous_years_value(wellbeing):
    lagged = wellbeing[["trust_code", "year", "shmi"]].assign(year=lambda d: d.year + 1)
    joined = wellbeing.merge(lagged, on=["trust_code", "year"], suffixes=("", "_lag"))
    joined = joined.dropna(subset=["shmi_previous"])
    assert len(joined) == 938 and (joined.shmi_previous == joined.shmi_lag).all()


@pytest.mark.realdata
def test_how_the_two_compilations_relate(raw_shmi, raw_wb):
    """The documented comparison, recomputed from the raw files with the csv module."""
    first = {(r["ORG_CODE"], int(r["YEAR"])): float(r["SHMI"]) for r in raw_shmi}
    second = {(r["Code"], int(r["Year.Index"])): float(r["SHMI.Index"]) for r in raw_wb}

    def paired(lag):
        return np.array(
            [(v, second[(c, y + lag)]) for (c, y), v in first.items() if (c, y + lag) in second]
        )

    same = paired(0)
    assert len(same) == 951
    assert round(np.corrcoef(same.T)[0, 1], 3) == 0.962
    assert round(np.abs(same[:, 0] - same[:, 1]).mean(), 3) == 0.019
    assert int((same[:, 0] == same[:, 1]).sum()) == 2
    # The second's label y fits the first's y-1 (0.909) better than its y+1 (0.829) ...
    before, after = paired(1), paired(-1)  # (first y, second y+1) and (first y, second y-1)
    assert round(np.corrcoef(before.T)[0, 1], 3) == 0.909
    assert round(np.corrcoef(after.T)[0, 1], 3) == 0.829
    # ... and the average of the first's y-1 and y better than its y alone: an earlier window.
    keys = [
        (c, y)
        for (c, y) in first
        if (c, y) in second and (c, y - 1) in first and (c, y + 1) in first
    ]
    alone = np.array([(second[k], first[k]) for k in keys])
    average = np.array([(second[(c, y)], (first[(c, y - 1)] + first[(c, y)]) / 2) for c, y in keys])
    assert len(keys) == 664
    assert round(np.corrcoef(alone.T)[0, 1], 3) == 0.965
    assert round(np.corrcoef(average.T)[0, 1], 3) == 0.971


@pytest.mark.realdata
def test_shmi_readers_agree_with_the_documented_comparison(shmi, wellbeing):
    joined = shmi.merge(wellbeing, on=["trust_code", "year"], suffixes=("_first", "_second"))
    assert len(joined) == 951
    assert np.corrcoef(joined.shmi_first, joined.shmi_second)[0, 1] == pytest.approx(
        0.962, abs=5e-4
    )


# --- hand-made files ---------------------------------------------------------------------------

WB_HEADER = (
    '"Code","Year.Index","SHMI.before","SHMI.Index","HEE.region.code","HEE.region.name","Name",'
    '"North","North.v.South","X","Responses","Survey.clinical.proportion","Engagement.Index",'
    '"Engagement.Index.dichot","RecommendWork.Index","RecommendWork.Index.dichot",'
    '"RecommendCare.Index","RecommendCare.Index.dichot","WorkStress.Index","FreedomSpeak.Index",'
    '"Openness.Index"'
)


def _wb_row(
    code="RA2", year=2015, region="Health Education Wessex (South)", engagement="3.9", freedom="0"
):
    return (
        f'"{code}",{year},NA,1.01,"YDF27","{region}","A Trust",0,"South",NA,500,0.7,{engagement},'
        f"0.7,3.6,0.6,3.7,0.7,0.37,{freedom},0"
    )


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


def test_shmi_bom_spaces_and_missing_values(tmp_path):
    path = _write(
        tmp_path, "shmi.csv", "\ufeffYEAR,ORG_CODE,SHMI\r\n2018, RA2 ,0.98\r\n2018,RA3,-\r\n"
    )
    df = read_shmi(path)
    assert df.trust_code.tolist() == ["RA2", "RA3"]
    assert df.shmi.iloc[0] == 0.98 and np.isnan(df.shmi.iloc[1])


def test_shmi_multiplied_by_100_is_refused(tmp_path):
    path = _write(tmp_path, "shmi.csv", "YEAR,ORG_CODE,SHMI\n2018,RA2,98.2\n")
    _fails(read_shmi, path, "not SHMI ratios", "'98.2'", "do not multiply it by 100")


def test_shmi_wrong_columns_and_repeats(tmp_path):
    _fails(read_shmi, _write(tmp_path, "a.csv", "YEAR,CODE,SHMI\n2018,RA2,1\n"), "['ORG_CODE']")
    repeated = "YEAR,ORG_CODE,SHMI\n2018,RA2,1.0\n2018,RA2,1.1\n"
    _fails(read_shmi, _write(tmp_path, "b.csv", repeated), "repeat the key")
    _fails(read_shmi, _write(tmp_path, "c.csv", "YEAR,ORG_CODE,SHMI\n18,RA2,1.0\n"), "'YEAR'")


def test_wellbeing_region_code_comes_from_the_name(tmp_path):
    path = _write(tmp_path, "wb.csv", WB_HEADER + "\n" + _wb_row() + "\n")
    row = read_shmi_wellbeing(path).iloc[0]
    assert row["hee_region_code"] == "YDF24" and row["hee_region_code_published"] == "YDF27"
    assert row["hee_region_name"] == "Health Education Wessex"
    assert np.isnan(row["shmi_previous"]) and np.isnan(row["freedom_speak_index"])


def test_wellbeing_real_freedom_to_speak_values_are_kept(tmp_path):
    text = WB_HEADER + "\n" + _wb_row(freedom="3.5") + "\n" + _wb_row("RA3", freedom="0") + "\n"
    df = read_shmi_wellbeing(_write(tmp_path, "wb.csv", text))
    assert df.freedom_speak_index.tolist() == [3.5, 0.0]
    assert df.openness_index.isna().all()  # still all zero: a placeholder


def test_wellbeing_unknown_region_name(tmp_path):
    path = _write(
        tmp_path, "wb.csv", WB_HEADER + "\n" + _wb_row(region="Health Education Mars") + "\n"
    )
    _fails(read_shmi_wellbeing, path, "Health Education Mars", "13 HEE region names")


def test_wellbeing_index_off_its_scale(tmp_path):
    path = _write(tmp_path, "wb.csv", WB_HEADER + "\n" + _wb_row(engagement="78") + "\n")
    _fails(read_shmi_wellbeing, path, "'Engagement.Index'", "outside 1-5")


def test_wellbeing_missing_column(tmp_path):
    header = WB_HEADER.replace(',"WorkStress.Index"', "")
    row = _wb_row().replace(",0.37,", ",")
    _fails(
        read_shmi_wellbeing,
        _write(tmp_path, "wb.csv", header + "\n" + row + "\n"),
        "WorkStress.Index",
    )
