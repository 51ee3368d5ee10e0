"""IMD 2025 by LSOA (2021) and by district (2024), checked against the raw R tables and, independently,
against MHCLG's ICB and district summaries recomputed from the LSOA file and the lookups."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pyreadr
import pytest

from icsresearch.errors import DataFileError
from icsresearch.sources import deprivation as dep
from icsresearch.sources.lsoa import read_lsoa21_icb24_lookup, read_lsoa21_ward_ltla24_lookup

IMD_DIR = "IMD/data"
N = 33755
SHORT = ["imd", "income", "employment", "education", "health", "crime", "housing", "environment"]
PUBLISHED = ["IMD", "Income", "Employment", "Education", "Health", "Crime"]
PUBLISHED += ["Housing_and_Services", "Environment"]
#: prefixes of the published ICB and district summary columns
SUMMARY = ["imd", "income", "employment", "education_skills_and_training"]
SUMMARY += ["health_deprivation_and_disability", "crime", "barriers_to_housing_and_services"]
SUMMARY += ["living_environment"]
SHARE = "proportion_of_lso_as_in_most_deprived_10_percent_nationally"


def _raw(mirror, name: str) -> pd.DataFrame:
    return pyreadr.read_r(str(mirror / IMD_DIR / f"{name}.rda"))[name]


@pytest.fixture(scope="module")
def imd(mirror):
    return dep.read_imd2025_lsoa()


@pytest.fixture(scope="module")
def districts(mirror):
    return dep.read_imd2025_ltla()


@pytest.mark.realdata
def test_imd2025_lsoa_matches_the_raw_table(mirror, imd):
    raw = _raw(mirror, "imd2025_england_lsoa21")
    df = imd
    assert df.shape == (N, 25) and len(raw) == N and df.attrs["verified"] is True
    assert set(df.attrs["columns"]) == set(df.columns) == set(dep.IMD2025_LSOA.names)
    assert df.lsoa21_code.is_unique and df.lsoa21_code.tolist() == raw.lsoa21_code.tolist()
    for pub, short in zip(PUBLISHED, SHORT, strict=True):
        assert df[f"{short}_score"].tolist() == raw[f"{pub}_score"].tolist()
        assert df[f"{short}_rank"].tolist() == raw[f"{pub}_rank"].astype(int).tolist()
        assert df[f"{short}_decile"].tolist() == raw[f"{pub}_decile"].astype(int).tolist()
        assert df[f"{short}_rank"].dtype == "int64"
    first = df.set_index("lsoa21_code").loc["E01000001"]  # City of London 001A
    assert (first.imd_score, first.imd_rank, first.imd_decile) == (8.742, 26525, 8)
    assert (first.environment_rank, first.environment_decile) == (244, 1)
    assert df.attrs["completeness"] == {
        "rows": N,
        "units": N,
        "share_missing": {"imd_score": 0.0, "imd_rank": 0.0},
    }


@pytest.mark.realdata
def test_ranks_deciles_and_scores_are_consistent(imd):
    df = imd
    permutation = list(range(1, N + 1))
    for short in ("imd", "employment", "health", "crime", "environment"):
        assert sorted(df[f"{short}_rank"]) == permutation, short
    # tied scores share a rank (the next rank is skipped): 3 pairs in income, 1 in education
    # and in barriers to housing and services
    for short, pairs in (("income", 3), ("education", 1), ("housing", 1)):
        counts = df[f"{short}_rank"].value_counts()
        assert (counts == 2).sum() == pairs and counts.max() == 2
        for rank in counts[counts == 2].index:
            tied = df[df[f"{short}_rank"] == rank]
            assert tied[f"{short}_score"].nunique() == 1
            assert not (df[f"{short}_rank"] == rank + 1).any()
    for short in SHORT:
        expected = [math.ceil(r * 10 / N) for r in df[f"{short}_rank"]]
        assert df[f"{short}_decile"].tolist() == expected
        assert df[f"{short}_decile"].value_counts().sort_index().tolist() == [3375, 3376] * 5
        ordered = df.sort_values(f"{short}_rank")[f"{short}_score"]
        assert ordered.is_monotonic_decreasing, short
    assert df.income_score.between(0, 1).all() and df.employment_score.between(0, 1).all()
    assert df.imd_score.between(0, 100).all() and (df.health_score < 0).any()


@pytest.mark.realdata
def test_lsoas_are_those_of_the_2021_lookups(imd):
    assert set(imd.lsoa21_code) == set(read_lsoa21_icb24_lookup().lsoa21_code)


@pytest.mark.realdata
def test_published_icb_share_in_most_deprived_10pct_is_recomputed_exactly(imd):
    """MHCLG's ICB summaries (read_imd2025_icb) against LSOA deciles x the April 2024 lookup."""
    icb = dep.read_imd2025_icb().set_index("icb_ons_code")
    joined = imd.merge(read_lsoa21_icb24_lookup(), on="lsoa21_code", validate="1:1")
    assert len(joined) == N
    assert set(joined.icb_ons_code) == set(icb.index)  # same 42 ICBs, 2024 codes
    lsoas = joined.groupby("icb_ons_code").size()
    for short in SHORT:
        deprived = joined[joined[f"{short}_decile"] == 1].groupby("icb_ons_code").size()
        share = deprived.reindex(lsoas.index, fill_value=0) / lsoas
        published = icb[f"{short}_most_deprived_10pct_share"].reindex(share.index)
        # published to 4 decimals: exact for all 42 ICBs and all eight measures
        assert (share.round(4) == published).all(), short
        assert (share - published).abs().max() <= 0.00005
    cm = (joined[joined.icb_ons_code == "E54000008"].imd_decile == 1).mean()  # Cheshire & Mersey
    assert round(cm, 4) == 0.2011


@pytest.mark.realdata
def test_population_weighted_icb_scores_cannot_be_recomputed_without_populations(imd):
    icb = dep.read_imd2025_icb().set_index("icb_ons_code")
    joined = imd.merge(read_lsoa21_icb24_lookup(), on="lsoa21_code")
    unweighted = joined.groupby("icb_ons_code").imd_score.mean()
    gap = (unweighted - icb.imd_avg_score.reindex(unweighted.index)).abs()
    # the LSOA mean is not the published (population-weighted) score: up to ~1.1 points off
    assert gap.max() > 1 and (gap > 0.0005).sum() == 42
    reversed_rank = joined.assign(r=N + 1 - joined.imd_rank).groupby("icb_ons_code").r.mean()
    assert (reversed_rank - icb.imd_avg_rank.reindex(reversed_rank.index)).abs().max() > 100
    # ...but the ordering is nearly the same
    assert unweighted.rank().corr(icb.imd_avg_score.reindex(unweighted.index).rank()) > 0.99


@pytest.mark.realdata
def test_imd2025_ltla_matches_the_raw_table(mirror, districts):
    raw = _raw(mirror, "imd2025_england_ltla24")
    df = districts
    assert df.shape == (296, 58) and len(raw) == 296 and df.attrs["verified"] is True
    assert set(df.attrs["columns"]) == set(df.columns) == set(dep.IMD2025_LTLA.names)
    assert list(df.columns[2:]) == [c.name for _, c, _ in dep._MEASURES]  # the ICB names
    assert df.ltla_code.tolist() == raw.ltla24_code.tolist()
    for pub, column, _ in dep._DISTRICT_MEASURES:
        assert df[column.name].tolist() == raw[pub].tolist(), pub
    hartlepool = df.set_index("ltla_code").loc["E06000001"]
    assert hartlepool.imd_avg_score == 37.58 and hartlepool.imd_rank_of_avg_score == 6
    assert hartlepool.imd_extent_share == 0.5259 and hartlepool.imd_rank_of_extent == 8
    # 104 districts have no LSOA in the most deprived 10%: tied at rank 193
    none = df[df.imd_most_deprived_10pct_share == 0]
    assert len(none) == 104 and set(none.imd_rank_of_most_deprived_10pct) == {193}
    for short in SHORT:
        for value, rank in (
            ("avg_score", "rank_of_avg_score"),
            ("avg_rank", "rank_of_avg_rank"),
            ("most_deprived_10pct_share", "rank_of_most_deprived_10pct"),
        ):
            assert df.sort_values(f"{short}_{rank}")[f"{short}_{value}"].is_monotonic_decreasing
    docs = df.attrs["columns"]
    assert docs["imd_rank_of_avg_score"]["unit"] == "rank 1-296"
    assert "ICB" not in " ".join(d["description"] for d in docs.values())


@pytest.mark.realdata
def test_districts_are_those_of_the_2024_lookups(districts):
    from icsresearch.sources.lsoa import read_ltla24_region_lookup

    wards = read_lsoa21_ward_ltla24_lookup()
    english = wards[wards.ltla_code.str.startswith("E")].drop_duplicates("ltla_code")
    assert dict(zip(districts.ltla_code, districts.ltla_name, strict=True)) == dict(
        zip(english.ltla_code, english.ltla_name, strict=True)
    )
    assert set(districts.ltla_code) == set(read_ltla24_region_lookup().ltla_code)


@pytest.mark.realdata
def test_isles_of_scilly_single_lsoa_gives_its_own_values(imd, districts):
    """One LSOA, so the population weights drop out: average score = the LSOA's score and
    average rank = 33,756 - its rank (ranks reversed: highest = most deprived)."""
    wards = read_lsoa21_ward_ltla24_lookup()
    scilly = wards[wards.ltla_code == "E06000053"]
    assert scilly.lsoa21_code.tolist() == ["E01019077"]
    lsoa = imd.set_index("lsoa21_code").loc["E01019077"]
    la = districts.set_index("ltla_code").loc["E06000053"]
    for short in SHORT:
        assert la[f"{short}_avg_score"] == pytest.approx(lsoa[f"{short}_score"], abs=5e-4)
        assert la[f"{short}_avg_rank"] == pytest.approx(N + 1 - lsoa[f"{short}_rank"], abs=0.01)
    assert (la.imd_avg_score, la.imd_avg_rank) == (12.65, 11924.0)
    assert la.health_avg_rank == 1.0  # the least health-deprived LSOA in England


@pytest.mark.realdata
def test_published_district_shares_recomputed_from_the_ward_lookup(imd, districts):
    wards = read_lsoa21_ward_ltla24_lookup()
    joined = imd.merge(wards, on="lsoa21_code", validate="1:1")
    assert len(joined) == N
    published = districts.set_index("ltla_code")

    def shares(frame: pd.DataFrame, short: str) -> pd.Series:
        n = frame.groupby("ltla_code").size()
        k = frame[frame[f"{short}_decile"] == 1].groupby("ltla_code").size()
        return (k.reindex(n.index, fill_value=0) / n).round(4)

    cherwell, west_northants = "E07000177", "E06000062"
    for short in SHORT:
        pub = published[f"{short}_most_deprived_10pct_share"]
        got = shares(joined, short)
        differ = set(got.index[got != pub.reindex(got.index)])
        assert differ <= {cherwell, west_northants}, short
    # 294 of 296 districts agree on every measure as the lookup stands...
    any_differ = set()
    for short in SHORT:
        got = shares(joined, short)
        any_differ |= set(got.index[got != published[f"{short}_most_deprived_10pct_share"]])
    assert any_differ == {cherwell, west_northants}
    # ...and all 296 once E01027305 is counted in West Northamptonshire, as MHCLG does
    moved = joined.copy()
    moved.loc[moved.lsoa21_code == "E01027305", "ltla_code"] = west_northants
    for short in SHORT:
        got = shares(moved, short)
        assert (got == published[f"{short}_most_deprived_10pct_share"].reindex(got.index)).all()
    assert (moved.ltla_code == cherwell).sum() == 102
    assert (moved.ltla_code == west_northants).sum() == 238


# --- hand-made files ------------------------------------------------------------------------


def _lsoa_file(tmp_path, name="imd2025_england_lsoa21", **changes):
    # two LSOAs: E01000001 less deprived than E01000002 on every domain
    rows = {"lsoa21_code": ["E01000001", "E01000002"]}
    for pub in PUBLISHED:
        rows[f"{pub}_score"] = (
            [0.1, 0.3]
            if pub in ("Income", "Employment")
            else [1.0, 3.0]  # standardised scores (within -10 to 10)
            if pub.startswith(("Health", "Crime"))
            else [10.0, 30.0]
        )
        rows[f"{pub}_rank"] = [20000.0, 100.0]
        rows[f"{pub}_decile"] = [6.0, 1.0]
    rows.update(changes)
    path = tmp_path / "imd2025_england_lsoa21.rda"
    pyreadr.write_rdata(str(path), pd.DataFrame(rows), df_name=name)
    return path


def _error(reader, path) -> str:
    with pytest.raises(DataFileError) as info:
        reader(path)
    message = str(info.value)
    assert path.name in message and "Fix:" in message, message
    return message


def test_imd2025_lsoa_hand_made_and_bad(tmp_path):
    read = dep.read_imd2025_lsoa
    df = read(_lsoa_file(tmp_path))
    assert df.imd_rank.tolist() == [20000, 100] and df.attrs["verified"] is False
    message = _error(read, _lsoa_file(tmp_path, IMD_decile=[6.0, 2.0]))
    assert "'IMD_decile' disagrees with 'IMD_rank'" in message
    assert "row 2 (E01000002): rank 100 is decile 1, not 2" in message
    message = _error(read, _lsoa_file(tmp_path, Crime_rank=[20000.0, 40000.0]))
    assert "'Crime_rank'" in message and "1-33755" in message and "row 2: 40000" in message
    message = _error(read, _lsoa_file(tmp_path, Income_score=[10.0, 30.0]))
    assert "'Income_score' has values outside 0-1 (max 30)" in message
    assert "divide the column by 100" in message
    message = _error(read, _lsoa_file(tmp_path, Health_score=[0.5, -0.5]))
    assert "'Health_score' and 'Health_rank' disagree" in message
    assert "E01000002 (rank 100)" in message
    message = _error(read, _lsoa_file(tmp_path, IMD_score=[10.0, 130.0]))
    assert "'IMD_score' has values outside 0-100" in message
    message = _error(read, _lsoa_file(tmp_path, Education_score=[10.0, np.nan]))
    assert "'Education_score' has 1 missing value(s) (first at row 2)" in message
    message = _error(read, _lsoa_file(tmp_path, lsoa21_code=["E01000001", "E01000001"]))
    assert "repeat the key ['lsoa21_code']" in message
    message = _error(read, _lsoa_file(tmp_path, name="imd2019_england_lsoa11"))
    assert "has no R object 'imd2025_england_lsoa21'" in message


def test_truncated_imd_file(tmp_path, mirror):
    path = tmp_path / "imd2025_england_lsoa21.rda"
    data = (mirror / IMD_DIR / "imd2025_england_lsoa21.rda").read_bytes()
    path.write_bytes(data[: len(data) // 2])
    assert "is not a readable R data file" in _error(dep.read_imd2025_lsoa, path)


def _value(column) -> list[float]:
    """Two plausible values of a measure, most deprived first (rates 0-1, standardised scores)."""
    if column.name in ("income_avg_score", "employment_avg_score"):
        return [0.255, 0.12]
    if column.name in ("health_avg_score", "crime_avg_score"):
        return [2.55, 1.2]
    return [25.5, 12.0]


def _ltla_file(tmp_path, **changes):
    rows = {"ltla24_code": ["E06000001", "E06000002"], "ltla24_name": ["A", "B"]}
    for pub, column, kind in dep._DISTRICT_MEASURES:
        rows[pub] = {"rank": [1.0, 2.0], "share": [0.2, 0.1], "value": _value(column)}[kind]
    rows.update(changes)
    path = tmp_path / "imd2025_england_ltla24.rda"
    pyreadr.write_rdata(str(path), pd.DataFrame(rows), df_name="imd2025_england_ltla24")
    return path


def test_imd2025_ltla_hand_made_and_bad(tmp_path):
    read = dep.read_imd2025_ltla
    df = read(_ltla_file(tmp_path))
    assert df.imd_rank_of_avg_score.tolist() == [1, 2] and df.attrs["verified"] is False
    message = _error(read, _ltla_file(tmp_path, **{f"imd_{SHARE}": [20.0, 10.0]}))
    assert "outside 0-1 (max 20)" in message and "divide the column by 100" in message
    message = _error(read, _ltla_file(tmp_path, imd_rank_of_average_score=[1.0, 300.0]))
    assert "'imd_rank_of_average_score'" in message and "1-296" in message
    message = _error(read, _ltla_file(tmp_path, crime_rank_of_average_score=[2.0, 1.0]))
    assert "'crime_average_score' and 'crime_rank_of_average_score' disagree" in message
    message = _error(read, _ltla_file(tmp_path, imd25_extent=[0.3, np.nan]))
    assert "'imd25_extent' has 1 missing" in message
    message = _error(read, _ltla_file(tmp_path, ltla24_code=["E06000001", "W06000015"]))
    assert "Welsh authorities (W06000015)" in message
    message = _error(read, _ltla_file(tmp_path, ltla24_code=["E06000001", "E54000008"]))
    assert "'ltla24_code'" in message and "row 2: 'E54000008'" in message
