"""NHS Staff Survey 2021-2024 well-being rates (NHS-Gender compilation), checked against the raw
CSV read independently, and hand-made files in the published layout."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pandas as pd
import pytest

from icsresearch.errors import DataFileError, InvalidParameterError
from icsresearch.sources import staff_survey as ss

RAW = "NHS-Gender/Data files/data_trusts_well-being - organisational results.csv"
NAME = "data_trusts_well-being - organisational results.csv"


def _raw_rows(mirror: Path) -> list[dict[str, str]]:
    with open(mirror / RAW, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def raw_rows(mirror):
    return _raw_rows(mirror)


@pytest.fixture(scope="module")
def long(mirror):
    return ss.read_staff_survey_wellbeing()


@pytest.mark.realdata
def test_every_rate_and_base_matches_the_raw_csv(raw_rows, long):
    assert long.attrs["verified"] is True and long.attrs["source"] == "staff_survey_2021_2024"
    assert set(long.attrs["columns"]) == set(long.columns)
    assert all(long.attrs["columns"][c]["description"] for c in long.columns)
    assert len(raw_rows) == 1075 and len(long) == 1075 * 38 == 40850
    got = long.set_index(["org_code", "year", "measure"])
    stems = {
        c[: -len("_rate")]
        for c in raw_rows[0]
        if c.endswith("_rate") and not c.endswith("_response_rate")
    }
    assert len(stems) == 38 and set(got.index.levels[2]) == {s.lower() for s in stems}
    for r in raw_rows[::7]:
        for stem in stems:
            one = got.loc[(r["ODS code"], int(r["Year"]), stem.lower())]
            assert one.rate_pct == float(r[f"{stem}_rate"])
            base = "Mastery" if stem == "Mastery_meaning" else stem
            base = "Religion" if stem.startswith("Religion_") else base
            base = base.replace("_sometimes", "").replace("_ever", "")
            assert one.base == int(r[f"{base}_base"])
            assert one.org_name == r["Organisation name"]
    # Sums over the whole file, straight from the text.
    for stem, measure in (("Burned_out", "burned_out"), ("Stress", "stress")):
        for year in (2021, 2024):
            raw_sum = sum(int(r[f"{stem}_base"]) for r in raw_rows if r["Year"] == str(year))
            part = long[(long.measure == measure) & (long.year == year)]
            assert part.base.sum() == raw_sum
            assert part.rate_pct.sum() == pytest.approx(
                sum(float(r[f"{stem}_rate"]) for r in raw_rows if r["Year"] == str(year))
            )
    # Percentages 0-100, not fractions: every organisation has rates above 1.
    assert long.groupby(["org_code", "year"]).rate_pct.max().min() > 1
    assert long.rate_pct.between(0, 100).all()


@pytest.mark.realdata
def test_organisations_years_icbs_and_trusts(long):
    orgs = long.drop_duplicates(["org_code", "year"])
    assert orgs.groupby("year").size().to_dict() == {2021: 280, 2022: 264, 2023: 268, 2024: 263}
    icbs = orgs[orgs.benchmarking_group == "ICBs"]
    assert icbs.groupby("year").size().to_dict() == {2022: 37, 2023: 41, 2024: 41}
    assert icbs.org_code.str.fullmatch(r"Q[A-Z0-9]{2}").all()
    # ...and every Q-code row is an ICB
    assert (orgs[orgs.org_code.str.startswith("Q")].benchmarking_group == "ICBs").all()
    assert set(icbs[icbs.year == 2024].org_code) - set(icbs[icbs.year == 2023].org_code) == {"QOQ"}
    assert "QE1" not in set(icbs[icbs.year == 2024].org_code)
    assert (orgs[orgs.benchmarking_group == "CCGs"].year == 2021).all()
    trusts = orgs[orgs.benchmarking_group.str.contains("Trusts")]
    assert trusts.groupby("year").size().to_dict() == {2021: 217, 2022: 215, 2023: 213, 2024: 210}
    distinct = trusts.assign(trust=trusts.org_code.str[:3]).groupby("year").trust.nunique()
    assert distinct.to_dict() == {2021: 214, 2022: 212, 2023: 210, 2024: 209}
    # weighting follows the organisation type
    assert (icbs.weighting == "Unweighted").all()
    assert (trusts.weighting == "Occupation Group").all()
    # every measure in every year
    assert (long.groupby("year").measure.nunique() == 38).all()


@pytest.mark.realdata
def test_region_and_ics_from_the_drifting_columns(raw_rows, long):
    one = long[long.measure == "stress"].set_index(["org_code", "year"])
    # 2021: STP in 'Region', region in 'ICS/STP'
    assert one.loc[("RCU", 2021), ["region", "ics"]].tolist() == [
        "North East and Yorkshire",
        "South Yorkshire and Bassetlaw",
    ]
    # 2022: region in 'Region', ICS in 'ICS/STP'; 2023-2024: ICS in 'ICS'
    assert one.loc[("REM", 2022), ["region", "ics"]].tolist() == [
        "North West",
        "Cheshire and Merseyside",
    ]
    assert one.loc[("RHQ", 2023), "ics"] == "South Yorkshire"
    assert one.loc[("REF", 2024), ["region", "ics"]].tolist() == [
        "South West",
        "Cornwall and the Isles of Scilly",
    ]
    assert pd.isna(one.loc[("QF7", 2024), "region"]) and pd.isna(one.loc[("QF7", 2024), "ics"])
    regions = {"London", "South West", "South East", "Midlands", "East of England"}
    regions |= {"North West", "North East and Yorkshire"}
    assert set(one.region.dropna()) == regions
    trusts = one[one.benchmarking_group.str.contains("Trusts")]
    assert trusts.region.notna().all()
    assert (
        one[one.region.isna()]
        .benchmarking_group.isin(
            ["CCGs", "ICBs", "CSUs", "Community Surgical Services"]
            + ["Social Enterprises - Community", "Social Enterprises - Mental Health"]
        )
        .all()
    )
    # region name counts by year agree with a count from the raw text
    for year, col in ((2021, "ICS/STP"), (2023, "Region")):
        raw_london = sum(1 for r in raw_rows if r["Year"] == str(year) and r[col] == "London")
        assert (one.xs(year, level="year").region == "London").sum() == raw_london


@pytest.mark.realdata
def test_rates_of_unweighted_organisations_are_shares_of_the_base(long):
    # Unweighted organisations (ICBs...): rate x base / 100 is a whole number of staff, which
    # shows the base is the rate's denominator.
    unweighted = long[long.weighting == "Unweighted"]
    assert len(unweighted) == 133 * 38
    staff = unweighted.rate_pct * unweighted.base.astype(float) / 100
    assert ((staff - staff.round()).abs() < 1e-6).all()


@pytest.mark.realdata
def test_respondents_and_completeness(raw_rows, long):
    orgs = long.drop_duplicates(["org_code", "year"]).set_index(["org_code", "year"])
    missing = orgs[orgs.respondents.isna()]
    assert len(missing) == 16
    by_key = {(r["ODS code"], int(r["Year"])): r for r in raw_rows}
    for key in missing.index:  # compiled as 100 while every base is below 100
        r = by_key[key]
        assert r["Respondents"] == "100"
        assert max(int(v) for c, v in r.items() if c.endswith("_base")) < 100
    kept = orgs[orgs.respondents.notna()]
    assert all(int(by_key[k]["Respondents"]) == v for k, v in kept.respondents.items())
    bases = long.groupby(["org_code", "year"]).base.max()
    assert (kept.respondents >= bases.reindex(kept.index)).all()
    cov = long.attrs["completeness"]
    assert cov["rows"] == 40850 and cov["first"] == "2021-04-01" and cov["last"] == "2024-04-01"
    assert cov["periods_present"] == cov["periods_expected"] == 4 and cov["missing_periods"] == []
    assert (cov["units"], cov["units_per_period_min"], cov["units_per_period_max"]) == (
        325,
        263,
        280,
    )
    assert cov["share_missing"] == {
        "rate_pct": 0.0,
        "base": 0.0,
        "respondents": round(16 / 1075, 6),
    }


@pytest.mark.realdata
def test_nested_burnout_thresholds(long):
    wide = long.pivot_table(index=["org_code", "year"], columns="measure", values="rate_pct")
    assert (wide.burned_out <= wide.burned_out_sometimes).all()
    assert (wide.burned_out_sometimes <= wide.burned_out_ever).all()
    religion = [c for c in wide.columns if c.startswith("religion_")]
    assert len(religion) == 9 and ((wide[religion].sum(axis=1) - 100).abs() < 1e-6).all()


@pytest.mark.realdata
def test_wellbeing_wide(raw_rows, long):
    wide = ss.wellbeing_wide(long)
    assert list(wide.columns) == [
        "org_code",
        "year",
        "burnout_pct",
        "stress_pct",
        "enough_staff_pct",
        "burnout_base",
        "stress_base",
        "enough_staff_base",
        "respondents",
    ]
    assert len(wide) == 1075 and set(wide.attrs["columns"]) == set(wide.columns)
    assert wide.attrs["sha256"] == long.attrs["sha256"]
    got = wide.set_index(["org_code", "year"])
    for r in raw_rows:
        row = got.loc[(r["ODS code"], int(r["Year"]))]
        assert math.isclose(row.burnout_pct, float(r["Burned_out_rate"]), rel_tol=1e-15)
        assert math.isclose(row.stress_pct, float(r["Stress_rate"]), rel_tol=1e-15)
        assert math.isclose(row.enough_staff_pct, float(r["Enough_staff_rate"]), rel_tol=1e-15)
        assert row.enough_staff_base == int(r["Enough_staff_base"])
        assert row.burnout_base == int(r["Burned_out_base"])
    assert wide.respondents.isna().sum() == 16
    with pytest.raises(InvalidParameterError, match="rate_pct"):
        ss.wellbeing_wide(long.drop(columns="rate_pct"))


# --- hand-made files ------------------------------------------------------------------------

IDS = ["ODS code", "Year", "Organisation name", "Benchmarking group", "Region", "ICS/STP"]
IDS += ["Weighting"]


def _defaults() -> dict[str, str]:
    """A plausible organisation: every rate and base of the published layout."""
    values: dict[str, str] = {}
    for rate, base in ss.WELLBEING_MEASURES.values():
        values[rate] = "50"
        values[base] = "200"
    for stem in ("Burned_out", "Emotionally_exhausting", "Frustration"):
        values[f"{stem}_rate"], values[f"{stem}_sometimes_rate"] = "30", "60"
        values[f"{stem}_ever_rate"] = "90"
    for stem in ("None", "Christian"):
        values[f"Religion_{stem}_rate"] = "40" if stem == "None" else "46"
    for stem in ("Buddhist", "Hindu", "Jewish", "Muslim", "Sikh", "Any_other", "Decline_answer"):
        values[f"Religion_{stem}_rate"] = "2"
    values["Respondents"] = "210"
    return values


def _row(code="RA2", year="2023", region="South West", ics_stp="NA", ics="Somerset", **changes):
    row = {
        "ODS code": code,
        "Year": year,
        "Organisation name": f"Org {code}",
        "Benchmarking group": "Acute and Acute & Community Trusts",
        "Region": region,
        "ICS/STP": ics_stp,
        "ICS": ics,
        "Weighting": "Occupation Group",
        **_defaults(),
    }
    row.update(changes)
    return row


def _file(tmp_path: Path, rows: list[dict], *, bom: bool = False) -> Path:
    header = list(rows[0])
    path = tmp_path / NAME
    lines = [",".join(f'"{h}"' if "," in h else h for h in header)]
    for r in rows:
        lines.append(",".join(f'"{r[h]}"' if "," in str(r[h]) else str(r[h]) for h in header))
    path.write_bytes((("\ufeff" if bom else "") + "\n".join(lines) + "\n").encode("utf-8"))
    return path


def _error(tmp_path: Path, rows: list[dict]) -> str:
    path = _file(tmp_path, rows)
    with pytest.raises(DataFileError) as info:
        ss.read_staff_survey_wellbeing(path)
    message = str(info.value)
    assert NAME in message and "Fix:" in message, message
    return message


def test_hand_made_file_in_both_column_layouts(tmp_path):
    rows = [
        # 2021 layout: STP in Region, region in ICS/STP
        _row("RA2 ", "2021", region="Bristol, North Somerset and South Gloucestershire",
             ics_stp="South West", ics="NA"),
        _row("QOX", "2023", region="-", ics_stp="NA", ics="<NA>",
             **{"Benchmarking group": "ICBs", "Weighting": "Unweighted"}),
    ]  # fmt: skip
    df = ss.read_staff_survey_wellbeing(_file(tmp_path, rows, bom=True))
    assert df.attrs["verified"] is False and len(df) == 2 * 38
    one = df[df.measure == "burned_out"].set_index("org_code")
    assert one.loc["RA2", "region"] == "South West"
    assert one.loc["RA2", "ics"] == "Bristol, North Somerset and South Gloucestershire"
    assert pd.isna(one.loc["QOX", "region"]) and pd.isna(one.loc["QOX", "ics"])
    assert one.loc["RA2", "rate_pct"] == 30.0 and one.loc["RA2", "base"] == 200
    assert one.loc["QOX", "weighting"] == "Unweighted" and one.loc["RA2", "year"] == 2021


def test_missing_values_stay_missing(tmp_path):
    df = ss.read_staff_survey_wellbeing(_file(tmp_path, [_row(Stress_rate="NA", Stress_base="")]))
    stress = df[df.measure == "stress"].iloc[0]
    assert pd.isna(stress.rate_pct) and pd.isna(stress.base)
    assert df.attrs["completeness"]["share_missing"]["rate_pct"] == round(1 / 38, 6)


def test_fractions_throughout_are_scaled_and_a_mixture_is_refused(tmp_path):
    fraction = {k: str(float(v) / 100) for k, v in _defaults().items() if k.endswith("_rate")}
    df = ss.read_staff_survey_wellbeing(_file(tmp_path, [_row(**fraction)]))
    assert df.set_index("measure").loc["burned_out", "rate_pct"] == pytest.approx(30.0)
    message = _error(tmp_path, [_row("RA2"), _row("RA3", **fraction)])
    assert "mixes percentages with 0-1 fractions" in message and "line 3 (RA3 2023)" in message


def test_bad_values_are_refused(tmp_path):
    message = _error(tmp_path, [_row(), _row("RA3", Stress_rate="140")])
    assert "'Stress_rate'" in message and "outside 0-100" in message and "line 3" in message
    assert "not numbers" in _error(tmp_path, [_row(Autonomy_rate="high")])
    message = _error(tmp_path, [_row(Enough_staff_base="-5")])
    assert "'Enough_staff_base'" in message and "whole numbers >= 0" in message
    message = _error(tmp_path, [_row(Burned_out_rate="70")])
    assert "burned_out_rate > burned_out_sometimes_rate" in message
    assert "do not sum to 100" in _error(tmp_path, [_row(Religion_None_rate="60")])
    message = _error(tmp_path, [_row(Respondents="150")])
    assert "fewer Respondents than staff answering" in message
    assert "Stress_base = 0" in _error(tmp_path, [_row(Stress_base="0")])
    message = _error(tmp_path, [_row(Year="2019")])
    assert "'Year'" in message and "2021-2100" in message
    message = _error(tmp_path, [_row(), _row()])
    assert "repeat the key ['org_code', 'year', 'measure']" in message
    message = _error(tmp_path, [_row(region="London", ics_stp="South West")])
    assert "region in both" in message
    message = _error(tmp_path, [_row(region="North Easte", ics_stp="Somerset", ics="NA")])
    assert "two different ICS/STPs" in message


def test_respondents_compiled_as_a_percentage_become_missing(tmp_path):
    small = {k: "40" for k in _defaults() if k.endswith("_base")}
    df = ss.read_staff_survey_wellbeing(_file(tmp_path, [_row(Respondents="100", **small)]))
    assert df.respondents.isna().all() and (df.base == 40).all()


def test_wrong_layout_empty_and_truncated_files(tmp_path, mirror):
    row = _row()
    del row["Stress_base"]
    message = _error(tmp_path, [row])
    assert "missing column(s) ['Stress_base']" in message
    path = tmp_path / NAME
    path.write_bytes(b"")
    with pytest.raises(DataFileError, match=r"is empty[\s\S]*Fix:"):
        ss.read_staff_survey_wellbeing(path)
    data = (mirror / RAW).read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataFileError, match=r"looks truncated: its last line[\s\S]*Fix:"):
        ss.read_staff_survey_wellbeing(path)
