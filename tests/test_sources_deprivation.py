"""IMD 2019 by LSOA and IMD 2025 ICB summaries."""

from __future__ import annotations

import math

import pandas as pd
import pyreadr
import pytest

from icsresearch.errors import DataFileError
from icsresearch.sources.deprivation import (
    DOMAINS_2019,
    IMD2025_ICB,
    read_imd2019_lsoa,
    read_imd2025_icb,
)

IMD_DIR = "IMD/data"


@pytest.fixture(scope="module")
def imd2019(mirror):
    return read_imd2019_lsoa()


@pytest.mark.realdata
def test_imd2019_matches_the_raw_file(mirror, imd2019):
    # The raw table as stored (pyreadr, without the reader's renaming or checks).
    raw = pyreadr.read_r(str(mirror / IMD_DIR / "imd2019_england_lsoa11.rda"))[
        "imd2019_england_lsoa11"
    ]
    df = imd2019
    assert len(df) == len(raw) == 32844 and df.attrs["verified"] is True
    assert set(df.attrs["columns"]) == set(df.columns) and df["lsoa11_code"].is_unique
    assert len(df.columns) == 1 + 2 * len(DOMAINS_2019)
    first = df.set_index("lsoa11_code").loc["E01000001"]  # City of London 001A
    assert (first["imd_rank"], first["imd_decile"]) == (29199, 9)
    assert (first["housing_rank"], first["environment_decile"]) == (7319, 3)
    for published, short, _ in DOMAINS_2019:
        assert df[f"{short}_rank"].tolist() == raw[f"{published}_rank"].astype(int).tolist()
        assert df[f"{short}_rank"].between(1, 32844).all()
    # Deciles follow from ranks (rank 1 = most deprived): an independent formula.
    for _, short, _ in DOMAINS_2019:
        expected = [math.ceil(r * 10 / 32844) for r in df[f"{short}_rank"]]
        assert df[f"{short}_decile"].tolist() == expected
    # Tied scores share a rank: 26 IMD ranks are used twice.
    assert (df["imd_rank"].value_counts() == 2).sum() == 26


@pytest.mark.realdata
def test_imd2019_covers_the_lsoas_of_the_icb_lookup(imd2019):
    from icsresearch.sources.lsoa import read_lsoa_icb_lookup

    assert set(imd2019.lsoa11_code) == set(read_lsoa_icb_lookup().lsoa11_code)


@pytest.mark.realdata
def test_imd2025_icb_matches_the_raw_file(mirror):
    raw = pyreadr.read_r(str(mirror / IMD_DIR / "imd2025_england_icb24.rda"))[
        "imd2025_england_icb24"
    ]
    df = read_imd2025_icb()
    assert df.shape == (42, 58) and len(raw) == 42 and df.attrs["verified"] is True
    assert set(df.attrs["columns"]) == set(df.columns) == set(IMD2025_ICB.names)
    assert df["icb_ons_code"].tolist() == raw["icb24_code"].tolist()
    # 2024 codes: Surrey Heartlands and Sussex are the 2023 recodes.
    assert {"E54000063", "E54000064"} <= set(df.icb_ons_code)
    assert not {"E54000052", "E54000053"} & set(df.icb_ons_code)
    cm = df.set_index("icb_ons_code").loc["E54000008"]  # Cheshire and Merseyside
    assert cm["imd_avg_score"] == pytest.approx(25.531)
    assert cm["imd_most_deprived_10pct_share"] == pytest.approx(0.2011)
    assert cm["income_scale_count"] == pytest.approx(630194)
    assert cm["health_rank_of_avg_score"] == 5
    # The published ranks say 1 = most deprived: ordered by rank, the (rounded) values never rise.
    for short in (
        "imd",
        "income",
        "employment",
        "education",
        "health",
        "crime",
        "housing",
        "environment",
    ):
        for value, rank in (
            ("avg_score", "rank_of_avg_score"),
            ("avg_rank", "rank_of_avg_rank"),
            ("most_deprived_10pct_share", "rank_of_most_deprived_10pct"),
        ):
            ordered = df.sort_values(f"{short}_{rank}")[f"{short}_{value}"]
            assert ordered.is_monotonic_decreasing, (short, value)
    assert df.sort_values("imd_rank_of_extent")["imd_extent_share"].is_monotonic_decreasing
    assert df[[c for c in df.columns if c.endswith("_share")]].stack().between(0, 1).all()


def _imd2019_file(tmp_path, **changes):
    row = {"lsoa11_code": ["E01000001", "E01000002"]}
    for published, _, _ in DOMAINS_2019:
        row[f"{published}_decile"] = [9.0, 10.0]
        row[f"{published}_rank"] = [29199.0, 30379.0]
    row.update(changes)
    path = tmp_path / "imd2019_england_lsoa11.rda"
    pyreadr.write_rdata(str(path), pd.DataFrame(row), df_name="imd2019_england_lsoa11")
    return path


def test_imd2019_hand_made_and_bad_values(tmp_path):
    df = read_imd2019_lsoa(_imd2019_file(tmp_path))
    assert df["imd_rank"].tolist() == [29199, 30379] and df["imd_rank"].dtype == "int64"
    with pytest.raises(DataFileError, match=r"'IMD_rank'.*whole numbers 1-32844.*row 2: 40000"):
        read_imd2019_lsoa(_imd2019_file(tmp_path, IMD_rank=[1.0, 40000.0]))
    with pytest.raises(DataFileError, match=r"'Crime_decile'.*1-10.*row 1: 0"):
        read_imd2019_lsoa(_imd2019_file(tmp_path, Crime_decile=[0.0, 1.0]))
    with pytest.raises(DataFileError, match=r"'Income_rank'.*row 2: nan"):
        read_imd2019_lsoa(_imd2019_file(tmp_path, Income_rank=[1.0, None]))
    with pytest.raises(DataFileError, match=r"'lsoa11_code'.*row 2: 'E02000002'"):
        read_imd2019_lsoa(_imd2019_file(tmp_path, lsoa11_code=["E01000001", "E02000002"]))
    path = tmp_path / "imd2019_england_lsoa11.rda"
    pyreadr.write_rdata(
        str(path),
        pd.DataFrame({"lsoa11_code": ["E01000001"], "IMD_rank": [1.0]}),
        df_name="imd2019_england_lsoa11",
    )
    with pytest.raises(DataFileError, match=r"missing column\(s\) \['IMD_decile'"):
        read_imd2019_lsoa(path)


def _value(column) -> list[float]:
    """Two plausible values of a measure, most deprived first (rates 0-1, standardised scores)."""
    if column.name in ("income_avg_score", "employment_avg_score"):
        return [0.255, 0.12]
    if column.name in ("health_avg_score", "crime_avg_score"):
        return [2.55, 1.2]
    return [25.5, 12.0]


def _imd2025_file(tmp_path, **changes):
    from icsresearch.sources.deprivation import _MEASURES

    row = {"icb24_code": ["E54000008", "E54000063"], "icb24_name": ["A", "B"]}
    for published, column, kind in _MEASURES:
        row[published] = {"rank": [1.0, 2.0], "share": [0.2, 0.1], "value": _value(column)}[kind]
    row.update(changes)
    path = tmp_path / "imd2025_england_icb24.rda"
    pyreadr.write_rdata(str(path), pd.DataFrame(row), df_name="imd2025_england_icb24")
    return path


def test_imd2025_hand_made_and_bad_values(tmp_path):
    df = read_imd2025_icb(_imd2025_file(tmp_path))
    assert df["imd_rank_of_avg_score"].tolist() == [1, 2] and df.attrs["verified"] is False
    share = "imd_proportion_of_lso_as_in_most_deprived_10_percent_nationally"
    with pytest.raises(
        DataFileError, match=r"outside 0-1 \(max 20\).*\n.*divide the column by 100"
    ):
        read_imd2025_icb(_imd2025_file(tmp_path, **{share: [20.0, 10.0]}))
    with pytest.raises(DataFileError, match=r"'imd_rank_of_average_score'.*1-2.*row 2: 3"):
        read_imd2025_icb(_imd2025_file(tmp_path, imd_rank_of_average_score=[1.0, 3.0]))
    with pytest.raises(DataFileError, match=r"'crime_average_score' has 1 missing"):
        read_imd2025_icb(_imd2025_file(tmp_path, crime_average_score=[0.1, None]))
    with pytest.raises(DataFileError, match=r"'icb24_code'.*row 2: 'QXU'"):
        read_imd2025_icb(_imd2025_file(tmp_path, icb24_code=["E54000008", "QXU"]))
