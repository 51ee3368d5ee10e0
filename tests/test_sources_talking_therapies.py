"""NHS Talking Therapies by sub-ICB location (healthyr compilation), against a pyreadr read."""

from __future__ import annotations

import pandas as pd
import pyreadr
import pytest

from icsresearch.errors import DataFileError
from icsresearch.sources.talking_therapies import MEASURES, read_talking_therapies

pytestmark = pytest.mark.realdata

PATH = "healthyr/data/england_sicb_iapt.rda"
OBJECT = "england_sicb_iapt"


@pytest.fixture(scope="module")
def raw(mirror):
    (frame,) = pyreadr.read_r(str(mirror / PATH)).values()
    frame = frame.copy()
    frame["period"] = pd.to_datetime(frame["date"], format="%B %Y")
    return frame


@pytest.fixture(scope="module")
def tt(mirror):
    return read_talking_therapies()


def test_matches_the_raw_file(raw, tt):
    assert len(tt) == len(raw) == 12826 == 106 * 11 * 11
    assert list(tt.columns) == ["sicbl_ons_code", "period", "year", "measure", "value", "unit"]
    assert tt.attrs["verified"] is True and set(tt.attrs["columns"]) == set(tt.columns)
    assert set(tt["measure"]) == set(MEASURES) and len(MEASURES) == 11
    merged = raw.merge(
        tt,
        left_on=["sicbl22_code", "period", "name"],
        right_on=["sicbl_ons_code", "period", "measure"],
    )
    assert len(merged) == 12826
    published = pd.to_numeric(merged["value_x"])
    assert ((published == merged["value_y"]) | (published.isna() & merged["value_y"].isna())).all()
    first = tt[(tt.sicbl_ons_code == "E38000130") & (tt.period == "2022-07-01")].set_index(
        "measure"
    )
    assert first.at["Count_ReferralsReceived", "value"] == 560
    assert first.at["Count_AccessingServices", "value"] == 455
    assert first.at["Percentage_AccessingServices6WeeksFinishedCourseTreatment", "value"] == 55
    assert first.at["Percentage_Improvement", "unit"] == "%"
    assert first.at["Count_EndedReferrals", "unit"] == "count"
    last = tt[(tt.sicbl_ons_code == "E38000254") & (tt.period == "2023-05-01")].set_index("measure")
    assert last.at["Percentage_ReliableRecovery", "value"] == 50
    referrals = tt[tt.measure == "Count_ReferralsReceived"]["value"].sum()
    assert referrals == raw.loc[raw.name == "Count_ReferralsReceived", "value"].astype(float).sum()
    assert (tt["unit"] == "count").sum() == 5 * 1166 and (tt["unit"] == "%").sum() == 6 * 1166


def test_months_years_units(tt):
    months = tt.drop_duplicates("period").set_index("period")["year"].sort_index()
    assert months.index.min() == pd.Timestamp("2022-07-01")
    assert months.index.max() == pd.Timestamp("2023-05-01")
    assert len(months) == 11
    assert months[pd.Timestamp("2023-03-01")] == 2022 and months[pd.Timestamp("2023-04-01")] == 2023
    assert tt.groupby("period")["sicbl_ons_code"].nunique().eq(106).all()
    assert tt["sicbl_ons_code"].str.fullmatch(r"E38\d{6}").all()
    counts = tt[tt.unit == "count"]["value"].dropna()
    assert (counts % 5 == 0).all() and counts.min() >= 0
    pct = tt[tt.unit == "%"]["value"].dropna()
    assert (pct % 1 == 0).all() and pct.between(0, 100).all()


def test_suppressed_values_stay_missing(raw, tt):
    assert raw["value"].isna().sum() == 79
    assert not raw["value"].isin(["*", "-", ""]).any()  # healthyr turned '*' into NA
    c = tt.attrs["completeness"]
    assert c["share_missing"]["value"] == pytest.approx(79 / 12826, abs=1e-6)
    assert c["missing_by_measure"]["Count_Deterioration"] == 36
    assert c["missing_by_measure"]["Percentage_Deterioration"] == 36
    assert sum(c["missing_by_measure"].values()) == 79
    assert (c["units"], c["periods_present"], c["missing_periods"]) == (106, 11, [])
    one = tt[(tt.sicbl_ons_code == "E38000119") & (tt.period == "2023-04-01")]
    assert one["value"].isna().sum() == 9
    assert set(one.loc[one.value.notna(), "measure"]) == {
        "Count_ReferralsReceived",
        "Count_AccessingServices",
    }
    # A suppressed deterioration count comes with a suppressed percentage, same rows.
    det = tt[tt.measure.str.endswith("Deterioration") & tt.value.isna()]
    assert det.groupby(["sicbl_ons_code", "period"]).size().eq(2).all()


def _frame(values=("560", "*", "55"), **overrides) -> pd.DataFrame:
    df = pd.DataFrame(
        {
            "sicbl22_code": ["E38000130"] * 3,
            "date": ["July 2022"] * 3,
            "name": [
                "Count_ReferralsReceived",
                "Count_Deterioration",
                "Percentage_AccessingServices6WeeksFinishedCourseTreatment",
            ],
            "value": list(values),
        }
    )
    for k, v in overrides.items():
        df[k] = v
    return df


def _file(tmp_path, df, name=OBJECT):
    path = tmp_path / "iapt.rda"
    pyreadr.write_rdata(str(path), df, df_name=name)
    return path


def test_a_user_file_with_star_suppression(tmp_path):
    out = read_talking_therapies(_file(tmp_path, _frame()))
    assert out.attrs["verified"] is False
    assert out.set_index("measure")["value"].isna().to_dict() == {
        "Count_Deterioration": True,
        "Count_ReferralsReceived": False,
        "Percentage_AccessingServices6WeeksFinishedCourseTreatment": False,
    }
    assert out.attrs["completeness"]["missing_by_measure"] == {"Count_Deterioration": 1}


def test_bad_inputs(tmp_path, mirror):
    with pytest.raises(DataFileError, match="no R object 'england_sicb_iapt'"):
        read_talking_therapies(_file(tmp_path, _frame(), name="iapt"))
    with pytest.raises(DataFileError, match=r"missing column\(s\) \['value'\]"):
        read_talking_therapies(_file(tmp_path, _frame().drop(columns="value")))
    with pytest.raises(DataFileError) as info:
        read_talking_therapies(_file(tmp_path, _frame(values=("560", "few", "55"))))
    assert "'value'" in str(info.value) and "row 2: 'few'" in str(info.value)
    with pytest.raises(DataFileError) as info:
        read_talking_therapies(_file(tmp_path, _frame(values=("-560", "5", "55"))))
    msg = str(info.value)
    assert "iapt.rda" in msg and "negative count" in msg
    assert "row 1: Count_ReferralsReceived = '-560'" in msg and "Fix:" in msg
    with pytest.raises(DataFileError, match="row 3: Percentage_AccessingServices6Weeks"):
        read_talking_therapies(_file(tmp_path, _frame(values=("560", "5", "155"))))
    with pytest.raises(DataFileError, match="neither 'Count_' nor 'Percentage_'.*row 2: 'Rate_X'"):
        read_talking_therapies(
            _file(tmp_path, _frame(name=["Count_ReferralsReceived", "Rate_X", "Count_A"]))
        )
    with pytest.raises(DataFileError, match="repeat the key"):
        read_talking_therapies(_file(tmp_path, _frame(name=["Count_A", "Count_A", "Count_B"])))
    with pytest.raises(DataFileError, match="row 1: '01F'"):
        read_talking_therapies(
            _file(tmp_path, _frame(sicbl22_code=["01F", "E38000130", "E38000130"]))
        )
    with pytest.raises(DataFileError, match="'date'.*'2022-07'"):
        read_talking_therapies(_file(tmp_path, _frame(date=["July 2022", "2022-07", "July 2022"])))
    data = (mirror / PATH).read_bytes()
    cut = tmp_path / "cut.rda"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataFileError, match="not a readable R data file"):
        read_talking_therapies(cut)
