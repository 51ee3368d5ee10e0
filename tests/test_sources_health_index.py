"""ONS Health Index by ICB (healthyr compilation), read against an independent pyreadr read."""

from __future__ import annotations

import pandas as pd
import pyreadr
import pytest

from icsresearch.errors import DataFileError
from icsresearch.sources.health_index import read_health_index_icb

pytestmark = pytest.mark.realdata

PATH = "healthyr/data/england_health_index_ics.rda"
OBJECT = "england_health_index_ics"
SCORES = {
    "overall_score": "overall_score",
    "healthy_people_domain": "healthy_people",
    "healthy_lives_domain": "healthy_lives",
    "healthy_places_domain": "healthy_places",
}


@pytest.fixture(scope="module")
def raw(mirror):
    (frame,) = pyreadr.read_r(str(mirror / PATH)).values()
    return frame


def test_matches_the_raw_file(raw):
    df = read_health_index_icb()
    assert len(df) == len(raw) == 294 == 42 * 7
    assert list(df.columns) == [
        "icb_ons_code",
        "icb_name",
        "calendar_year",
        "overall_score",
        "healthy_people",
        "healthy_lives",
        "healthy_places",
    ]
    assert "year" not in df.columns  # a calendar-year index has no financial year
    assert df.attrs["verified"] is True and set(df.attrs["columns"]) == set(df.columns)
    assert "CALENDAR year" in df.attrs["columns"]["calendar_year"]["description"]
    assert sorted(df["calendar_year"].unique()) == list(range(2015, 2022))
    assert df.groupby("icb_ons_code").size().eq(7).all() and df["icb_ons_code"].nunique() == 42
    merged = raw.rename(columns={"overall_score": "published_overall"}).merge(
        df,
        left_on=["icb22_code", "year"],
        right_on=["icb_ons_code", "calendar_year"],
    )
    assert len(merged) == 294
    for published, ours in SCORES.items():
        column = "published_overall" if published == "overall_score" else published
        assert (merged[column] == merged[ours]).all()
        assert df[ours].sum() == pytest.approx(raw[published].sum())
    assert (merged["icb22_name"] == merged["icb_name"]).all()
    cm = df[(df.icb_ons_code == "E54000008")].set_index("calendar_year")
    assert cm.at[2015, "overall_score"] == 96.3 and cm.at[2021, "healthy_places"] == 108.4
    assert cm.at[2020, "healthy_people"] == 88.9
    bc = df[(df.icb_ons_code == "E54000062") & (df.calendar_year == 2021)].iloc[0]
    assert (bc.overall_score, bc.icb_name) == (89.5, "NHS Black Country Integrated Care Board")


def test_scale_and_the_overall_score(raw):
    df = read_health_index_icb()
    # England 2015 = 100: the ICB scores of 2015 centre on 100.
    assert df.loc[df.calendar_year == 2015, "overall_score"].mean() == pytest.approx(101.1, abs=0.1)
    assert df[list(SCORES.values())].min().min() == 83.7
    assert df[list(SCORES.values())].max().max() == 118.3
    mean_domains = df[["healthy_people", "healthy_lives", "healthy_places"]].mean(axis=1)
    gap = df["overall_score"] - mean_domains
    assert gap.min() == pytest.approx(-2.2667, abs=1e-3) and gap.max() == pytest.approx(
        2.5667, abs=1e-3
    )


def test_completeness():
    c = read_health_index_icb().attrs["completeness"]
    assert (c["first"], c["last"], c["periods_present"], c["missing_periods"]) == (
        "2015-01-01",
        "2021-01-01",
        7,
        [],
    )
    assert (c["units"], c["units_per_period_min"], c["units_per_period_max"]) == (42, 42, 42)
    assert set(c["share_missing"].values()) == {0.0}


def _frame(**overrides) -> pd.DataFrame:
    df = pd.DataFrame(
        {
            "icb22_code": ["E54000008", "E54000008", "E54000062"],
            "icb22_name": [
                "NHS Cheshire and Merseyside ICB",
                "NHS Cheshire and Merseyside ICB",
                "X",
            ],
            "year": [2015, 2016, 2015],
            "overall_score": [96.3, 96.5, 90.0],
            "healthy_people_domain": [91.3, 91.6, 92.0],
            "healthy_lives_domain": [95.0, 95.9, 85.0],
            "healthy_places_domain": [104.4, 103.7, 95.0],
        }
    )
    for k, v in overrides.items():
        df[k] = v
    return df


def _file(tmp_path, df, name=OBJECT):
    path = tmp_path / "health_index.rda"
    pyreadr.write_rdata(str(path), df, df_name=name)
    return path


def test_user_file_and_missing_scores_stay_missing(tmp_path):
    out = read_health_index_icb(_file(tmp_path, _frame(healthy_lives_domain=[95.0, None, 85.0])))
    assert out.attrs["verified"] is False and out["healthy_lives"].isna().tolist() == [
        False,
        True,
        False,
    ]
    assert out.attrs["completeness"]["share_missing"]["healthy_lives"] == pytest.approx(
        1 / 3, abs=1e-6
    )


def test_bad_inputs(tmp_path, mirror):
    with pytest.raises(DataFileError, match="no R object 'england_health_index_ics'"):
        read_health_index_icb(_file(tmp_path, _frame(), name="health_index"))
    with pytest.raises(DataFileError, match=r"missing column\(s\) \['healthy_places_domain'\]"):
        read_health_index_icb(_file(tmp_path, _frame().drop(columns="healthy_places_domain")))
    with pytest.raises(DataFileError) as info:
        read_health_index_icb(_file(tmp_path, _frame(overall_score=["96.3", "high", "90"])))
    assert "'overall_score'" in str(info.value) and "row 2: 'high'" in str(info.value)
    with pytest.raises(DataFileError) as info:
        read_health_index_icb(_file(tmp_path, _frame(overall_score=[0.963, 0.965, 0.9])))
    msg = str(info.value)
    assert "health_index.rda" in msg and "outside 40-160" in msg and "row 1: 0.963" in msg
    assert "England 2015 = 100" in msg and "Fix:" in msg
    with pytest.raises(DataFileError, match="outside 2015-2100"):
        read_health_index_icb(_file(tmp_path, _frame(year=[2015, 2016, 2014])))
    with pytest.raises(DataFileError, match="row 1: 'QYG'"):
        read_health_index_icb(_file(tmp_path, _frame(icb22_code=["QYG", "E54000008", "E54000062"])))
    with pytest.raises(DataFileError, match=r"repeat the key \['icb_ons_code', 'calendar_year'\]"):
        read_health_index_icb(_file(tmp_path, _frame(year=[2015, 2015, 2015])))
    data = (mirror / PATH).read_bytes()
    cut = tmp_path / "cut.rda"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataFileError, match="not a readable R data file"):
        read_health_index_icb(cut)
