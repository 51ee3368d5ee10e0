"""Monthly G&A and critical-care beds (healthyr compilation of the UEC daily SitRep beds files).

The R file is read independently with pyreadr; bad inputs are hand-made R data files in the
published layout.
"""

from __future__ import annotations

import pandas as pd
import pyreadr
import pytest

from icsresearch.errors import DataFileError
from icsresearch.sources.beds import BED_TYPES, read_beds_monthly

pytestmark = pytest.mark.realdata

BEDS = "healthyr/data/england_critical_general_acute_beds.rda"
OBJECT = "england_critical_general_acute_beds"
REPEATED = pd.to_datetime(["2022-07-01", "2022-08-01"])


@pytest.fixture(scope="module")
def raw(mirror):
    (frame,) = pyreadr.read_r(str(mirror / BEDS)).values()
    frame = frame.copy()
    frame["period"] = pd.to_datetime(frame["date"], format="%B %Y")
    return frame


@pytest.fixture(scope="module")
def beds(mirror):
    return read_beds_monthly()


def test_long_table_matches_the_raw_file(raw, beds):
    assert len(raw) == 5557 and len(beds) == 5557 * 6
    assert list(beds.columns) == [
        "trust_code",
        "period",
        "year",
        "bed_type",
        "beds_available",
        "beds_occupied",
        "occupancy_pct",
        "month_label",
    ]
    assert (
        set(beds["bed_type"])
        == set(BED_TYPES)
        == {
            "general_acute",
            "adult_general_acute",
            "paediatric_general_acute",
            "adult_critical_care",
            "paediatric_intensive_care",
            "neonatal_intensive_care",
        }
    )
    assert beds.attrs["verified"] is True and set(beds.attrs["columns"]) == set(beds.columns)
    kept = ~raw["period"].isin(REPEATED)
    for bed_type, (available, occupied, rate) in BED_TYPES.items():
        ours = beds[beds.bed_type == bed_type].merge(
            raw[kept], left_on=["trust_code", "period"], right_on=["nhs_trust22_code", "period"]
        )
        assert len(ours) == kept.sum()
        for mine, theirs in (("beds_available", available), ("beds_occupied", occupied)):
            a, b = ours[mine], ours[theirs]
            assert ((a == b) | (a.isna() & b.isna())).all(), (bed_type, mine)
            assert a.sum() == pytest.approx(b.sum())
        usable = ours[rate].notna() & (ours[available] > 0)
        assert ours.loc[usable, "occupancy_pct"].to_numpy() == pytest.approx(
            100 * ours.loc[usable, rate].to_numpy()
        )
        assert ours.loc[~usable, "occupancy_pct"].isna().all()
    one = beds[(beds.trust_code == "R0A") & (beds.period == "2022-04-01")].set_index("bed_type")
    assert one.loc["general_acute", ["beds_available", "beds_occupied"]].tolist() == [2286, 2031]
    assert one.at["general_acute", "occupancy_pct"] == pytest.approx(88.9)
    assert one.at["neonatal_intensive_care", "beds_available"] == 63
    assert (one["month_label"] == "April 2022").all()


def test_periods_years_and_completeness(beds):
    months = beds.drop_duplicates("period").set_index("period")["year"]
    assert months.index.min() == pd.Timestamp("2022-04-01")
    assert months.index.max() == pd.Timestamp("2025-08-01")
    assert len(months) == 41
    assert months[pd.Timestamp("2023-03-01")] == 2022 and months[pd.Timestamp("2023-04-01")] == 2023
    c = beds.attrs["completeness"]
    assert (c["periods_present"], c["periods_expected"], c["missing_periods"]) == (41, 41, [])
    assert (c["units"], c["units_per_period_min"], c["units_per_period_max"]) == (137, 134, 137)
    assert c["repeated_months"] == [
        {"month": "2022-08-01", "repeats": "2022-07-01", "blanked": ["2022-07-01", "2022-08-01"]}
    ]
    assert c["share_missing"]["beds_available"] == pytest.approx(
        beds["beds_available"].isna().mean(), abs=1e-6
    )


def test_july_and_august_2022_are_one_workbook_read_twice(raw, beds):
    values = [c for c in raw.columns if c not in ("nhs_trust22_code", "date", "period")]
    jul = raw[raw.period == REPEATED[0]].set_index("nhs_trust22_code")[values].sort_index()
    aug = raw[raw.period == REPEATED[1]].set_index("nhs_trust22_code")[values].sort_index()
    assert len(jul) == 137 and jul.index.equals(aug.index)
    assert jul.fillna(-1).equals(aug.fillna(-1))
    # No other pair of months agrees even on G&A beds available for every trust.
    ga = raw.pivot(index="nhs_trust22_code", columns="period", values=values[0])
    same = [
        (a, b)
        for i, a in enumerate(ga.columns)
        for b in ga.columns[i + 1 :]
        if ga[a].fillna(-1).equals(ga[b].fillna(-1))
    ]
    assert same == [tuple(REPEATED)]
    blank = beds[beds.period.isin(REPEATED)]
    assert len(blank) == 137 * 2 * 6
    assert blank[["beds_available", "beds_occupied", "occupancy_pct"]].isna().all().all()
    assert blank["month_label"].isin(["July 2022", "August 2022"]).all()


def test_general_acute_is_adult_plus_paediatric(raw):
    g, go = raw["general_acute_beds_available"], raw["general_acute_beds_occupied"]
    s = raw["adult_general_acute_beds_available"] + raw["paediatric_general_acute_beds_available"]
    so = raw["adult_general_acute_beds_occupied"] + raw["paediatric_general_acute_beds_occupied"]
    both = s.notna() & so.notna()
    assert both.sum() == 5259
    assert ((g == s) & (go == so))[both].sum() == 3585
    assert ((g - s).abs() <= 1)[both].sum() == 5258
    assert ((go - so).abs() <= 1)[both].sum() == 5213
    off = both & ((go - so).abs() > 1)
    assert (raw.loc[off, "period"] == pd.Timestamp("2025-03-01")).sum() == 36
    # Without paediatric G&A the total is the adult figure (the part is missing, not 0).
    paed_missing = raw["paediatric_general_acute_beds_available"].isna()
    assert paed_missing.sum() == 267
    assert (raw.loc[paed_missing, "adult_general_acute_beds_available"] == g[paed_missing]).all()


def test_published_rates_come_from_unrounded_beds(raw, beds):
    summary = {}
    for bed_type, (available, occupied, rate) in BED_TYPES.items():
        a, o, r = raw[available], raw[occupied], raw[rate]
        ok = r.notna() & (a > 0)
        lo = (o - 0.5).clip(lower=0) / (a + 0.5)
        hi = (o + 0.5) / (a - 0.5)
        assert ((r >= lo - 0.0005) & (r <= hi + 0.0005))[ok].all(), bed_type
        recomputed = 100 * o / a
        summary[bed_type] = (int(ok.sum()), int(((recomputed - 100 * r).abs() > 1)[ok].sum()))
        assert (a % 1 == 0)[a.notna()].all() and (o % 1 == 0)[o.notna()].all()
    assert summary["general_acute"] == (5553, 48)
    assert summary["neonatal_intensive_care"] == (4308, 2762)
    dropped = sum(int((raw[r].notna() & (raw[a] == 0)).sum()) for a, _, r in BED_TYPES.values())
    assert dropped == 61


def test_occupied_above_available(raw, beds):
    over = beds[beds.beds_occupied > beds.beds_available]
    assert len(over) == 3
    assert set(over["trust_code"]) == {"RN3"} and set(over["bed_type"]) == {"adult_general_acute"}
    assert over["occupancy_pct"].round(1).tolist() == [102.3, 102.4, 101.9]
    assert beds["occupancy_pct"].max() == pytest.approx(102.4)
    assert (beds[["beds_available", "beds_occupied"]].min() >= 0).all()


# --- hand-made bad inputs ------------------------------------------------------------------


def _frame(**overrides) -> pd.DataFrame:
    data = {
        "nhs_trust22_code": ["RA2", "RA2", "RJ1"],
        "date": ["April 2022", "May 2022", "April 2022"],
    }
    for available, occupied, rate in BED_TYPES.values():
        data[available] = [400.0, 410.0, 900.0]
        data[occupied] = [380.0, 400.0, 850.0]
        data[rate] = [0.951, 0.975, 0.944]
    df = pd.DataFrame(data)
    for k, v in overrides.items():
        df[k] = v
    return df


def _file(tmp_path, df: pd.DataFrame, name: str = OBJECT):
    path = tmp_path / "beds.rda"
    pyreadr.write_rdata(str(path), df, df_name=name)
    return path


def test_a_user_file_reads_and_accepts_the_old_spelling(tmp_path):
    df = _frame().rename(
        columns={"neonatal_intensive_care_bed_available": "neonatal_intensive_care_bed_avaialble"}
    )
    out = read_beds_monthly(_file(tmp_path, df))
    assert len(out) == 18 and out.attrs["verified"] is False
    assert out["occupancy_pct"].iloc[0] == pytest.approx(95.1)
    nicu = out[out.bed_type == "neonatal_intensive_care"]
    assert nicu["beds_available"].tolist() == [400.0, 410.0, 900.0]


def test_wrong_object_missing_column_and_non_numeric(tmp_path):
    with pytest.raises(DataFileError, match="no R object 'england_critical_general_acute_beds'"):
        read_beds_monthly(_file(tmp_path, _frame(), name="beds"))
    with pytest.raises(DataFileError) as info:
        read_beds_monthly(
            _file(tmp_path, _frame().drop(columns="adult_critical_care_beds_occupied"))
        )
    assert "missing column(s) ['adult_critical_care_beds_occupied']" in str(info.value)
    with pytest.raises(DataFileError) as info:
        read_beds_monthly(_file(tmp_path, _frame(general_acute_beds_available=["400", "?", "9"])))
    assert "'general_acute_beds_available'" in str(info.value) and "row 2: '?'" in str(info.value)


def test_negative_beds(tmp_path):
    with pytest.raises(DataFileError) as info:
        read_beds_monthly(
            _file(tmp_path, _frame(adult_critical_care_beds_available=[4.0, -2.0, 9.0]))
        )
    msg = str(info.value)
    assert "beds.rda" in msg and "'adult_critical_care_beds_available'" in msg
    assert "negative" in msg and "row 2: -2.0" in msg and "Fix:" in msg


def test_far_more_occupied_than_available(tmp_path):
    # RN3's published 506 of 495 is accepted; 600 of 400 is refused.
    ok = read_beds_monthly(
        _file(
            tmp_path,
            _frame(
                adult_general_acute_beds_available=[495.0, 410.0, 900.0],
                adult_general_acute_beds_occupied=[506.0, 400.0, 850.0],
                adult_general_acute_beds_occupancy_rate=[1.023, 0.975, 0.944],
            ),
        )
    )
    assert ok["occupancy_pct"].max() == pytest.approx(102.3)
    with pytest.raises(DataFileError) as info:
        read_beds_monthly(
            _file(
                tmp_path,
                _frame(
                    general_acute_beds_occupied=[600.0, 400.0, 850.0],
                    general_acute_beds_occupancy_rate=[1.5, 0.975, 0.944],
                ),
            )
        )
    msg = str(info.value)
    assert "far more general_acute beds occupied than available" in msg
    assert "row 1: 600 occupied of 400" in msg and "Fix:" in msg


def test_rates_given_as_percentages_or_not_matching_the_beds(tmp_path):
    with pytest.raises(DataFileError, match="divide the column by 100"):
        read_beds_monthly(
            _file(tmp_path, _frame(general_acute_beds_occupancy_rate=[95.1, 97.5, 94.4]))
        )
    with pytest.raises(DataFileError) as info:
        read_beds_monthly(
            _file(tmp_path, _frame(neonatal_intensive_care_occupancy_rate=[0.951, 0.5, 0.944]))
        )
    msg = str(info.value)
    assert "'neonatal_intensive_care_occupancy_rate' disagrees with the beds" in msg
    assert "row 2: 0.5 for 400/410" in msg


def test_duplicate_trust_month_and_truncated_file(tmp_path, mirror):
    with pytest.raises(DataFileError, match="repeat the key"):
        read_beds_monthly(_file(tmp_path, _frame(date=["April 2022", "April 2022", "May 2022"])))
    data = (mirror / BEDS).read_bytes()
    cut = tmp_path / "cut.rda"
    cut.write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(DataFileError, match="not a readable R data file"):
        read_beds_monthly(cut)
    with pytest.raises(DataFileError, match="'date'.*row 3: 'Q1 2022'"):
        read_beds_monthly(_file(tmp_path, _frame(date=["April 2022", "May 2022", "Q1 2022"])))
