"""A&E readers on the real published files."""

from __future__ import annotations

import csv

import pandas as pd
import pytest

from icsresearch.sources.ae import read_ae_annual, read_ae_monthly

pytestmark = pytest.mark.realdata


def test_annual_matches_the_raw_file(mirror):
    with open(mirror / "hospital_management/data/csv/AE.csv", encoding="utf-8-sig") as fh:
        raw = list(csv.DictReader(fh))
    df = read_ae_annual()
    assert len(df) == len(raw)
    assert df.attrs["verified"] is True and set(df.attrs["columns"]) == set(df.columns)
    assert sorted(df["year"].unique()) == sorted({int(r["YEAR"]) for r in raw})
    for r in raw[:: max(1, len(raw) // 25)]:
        code = r["ORG_CODE"].strip().removesuffix("-X")
        row = df[(df.trust_code == code) & (df.year == int(r["YEAR"]))]
        assert len(row) == 1
        assert row["ae_4hr_pct"].iloc[0] == pytest.approx(float(r["AE_SCORE"]) * 100)
    assert not df["trust_code"].str.contains("-").any()
    assert (df["trust_code_published"].str.endswith("-X")).sum() == sum(
        r["ORG_CODE"].endswith("-X") for r in raw
    )


def test_monthly_covers_april_2016_to_march_2019(mirror):
    import pyreadr

    raw = pyreadr.read_r(str(mirror / "NHSRdatasets/data/ae_attendances.rda"))["ae_attendances"]
    df = read_ae_monthly()
    assert len(df) == len(raw)
    assert df["period"].min() == pd.Timestamp("2016-04-01") and df["period"].max() == pd.Timestamp(
        "2019-03-01"
    )
    assert sorted(df["year"].unique()) == [2016, 2017, 2018]
    assert set(df["department_type"]) == {"1", "2", "other"}
    assert df["attendances"].sum() == pytest.approx(raw["attendances"].sum())
    # Financial year of each month: Jan-Mar belong to the year that started the previous April.
    jan17 = df[df.period == pd.Timestamp("2017-01-01")]
    assert (jan17["year"] == 2016).all()
    # 4-hour share is computed where there were attendances, and is a percentage.
    share = df["within_4hr_pct"].dropna()
    assert share.between(0, 100).all()
    one = df[
        (df.trust_code == "RF4")
        & (df.period == pd.Timestamp("2017-03-01"))
        & (df.department_type == "1")
    ].iloc[0]
    assert one["attendances"] == 21289 and one["breaches"] == 2879
    assert one["within_4hr_pct"] == pytest.approx(100 * (1 - 2879 / 21289))
