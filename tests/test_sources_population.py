"""Mid-2019 population by LSOA and single year of age; age bands."""

from __future__ import annotations

import pandas as pd
import pyreadr
import pytest

from icsresearch.errors import DataFileError, InvalidParameterError
from icsresearch.sources.population import (
    AGE_COLUMNS,
    population_by_age_band,
    read_population_lsoa,
)

PUBLISHED_AGES = [str(a) for a in range(90)] + ["90+"]


@pytest.fixture(scope="module")
def population(mirror):
    return read_population_lsoa()


@pytest.mark.realdata
def test_population_matches_the_raw_file(mirror, population):
    # The raw table as stored (pyreadr, without the reader's renaming or checks).
    raw = pyreadr.read_r(str(mirror / "demographr/data/population19_lsoa11.rda"))[
        "population19_lsoa11"
    ]
    df = population
    assert len(df) == len(raw) == 34753 and df.attrs["verified"] is True
    assert set(df.attrs["columns"]) == set(df.columns) and df["lsoa11_code"].is_unique
    assert df["country"].value_counts().to_dict() == {"England": 32844, "Wales": 1909}
    assert (raw["lsoa11_code"].str[:3].value_counts().to_dict()) == {"E01": 32844, "W01": 1909}
    # Published ONS mid-2019 estimates: England 56,286,961; Wales 3,152,879.
    totals = df.groupby("country")["total_population"].sum()
    assert totals["England"] == 56_286_961 and totals["Wales"] == 3_152_879
    assert int(raw["total_population"].sum()) == 56_286_961 + 3_152_879
    assert (df[AGE_COLUMNS].sum(axis=1) == df["total_population"]).all()
    hartlepool = df.set_index("lsoa11_code").loc["E01011949"]
    raw_row = raw.set_index("lsoa11_code").loc["E01011949"]
    assert hartlepool["total_population"] == raw_row["total_population"] == 1954
    assert [hartlepool[c] for c in AGE_COLUMNS] == [int(raw_row[a]) for a in PUBLISHED_AGES]
    assert df["age_90_plus"].sum() == int(raw["90+"].sum())


@pytest.mark.realdata
def test_english_lsoas_are_those_of_the_icb_lookup(population):
    from icsresearch.sources.lsoa import read_lsoa_icb_lookup

    england = set(population.loc[population.country == "England", "lsoa11_code"])
    assert england == set(read_lsoa_icb_lookup().lsoa11_code)


@pytest.mark.realdata
def test_age_bands_on_the_real_data(population):
    bands = population_by_age_band(population)
    band_columns = [c for c in bands.columns if c.startswith("age_")]
    assert band_columns[:2] == ["age_0_4", "age_5_9"] and band_columns[-2:] == [
        "age_85_89",
        "age_90_plus",
    ]
    assert len(band_columns) == 19
    assert (bands[band_columns].sum(axis=1) == population["total_population"]).all()
    broad = population_by_age_band(population, (0, 18, 65, 75, 85))
    assert [c for c in broad.columns if c.startswith("age_")] == [
        "age_0_17",
        "age_18_64",
        "age_65_74",
        "age_75_84",
        "age_85_plus",
    ]
    over85 = population[[f"age_{a}" for a in range(85, 90)]].sum(axis=1) + population["age_90_plus"]
    assert (broad["age_85_plus"] == over85).all()
    assert set(broad.attrs["columns"]) == set(broad.columns)


def _population_file(tmp_path, ages=None, total=None, codes=("E01011949", "W01000001")):
    ages = ages if ages is not None else {a: [1.0, 2.0] for a in PUBLISHED_AGES}
    sums = [sum(v[i] for v in ages.values()) for i in range(len(codes))]
    frame = pd.DataFrame(
        {
            "lsoa11_name": ["Hartlepool 009A", "Isle of Anglesey 007A"][: len(codes)],
            "lsoa11_code": list(codes),
            "total_population": total if total is not None else sums,
            **ages,
        }
    )
    path = tmp_path / "population19_lsoa11.rda"
    pyreadr.write_rdata(str(path), frame, df_name="population19_lsoa11")
    return path


def test_hand_made_population(tmp_path):
    df = read_population_lsoa(_population_file(tmp_path))
    assert df["total_population"].tolist() == [91, 182] and df["country"].tolist() == [
        "England",
        "Wales",
    ]
    assert df.attrs["verified"] is False


def test_bad_population_files(tmp_path):
    with pytest.raises(
        DataFileError,
        match=r"do not add up to total_population for 1 LSOA.*W01000001 \(ages add to 182, total 180\)",
    ):
        read_population_lsoa(_population_file(tmp_path, total=[91.0, 180.0]))
    ages = {a: [1.0, 2.0] for a in PUBLISHED_AGES}
    ages["45"] = [1.0, -2.0]
    with pytest.raises(DataFileError, match=r"column '45'.*whole numbers of people \(row 2: -2\)"):
        read_population_lsoa(_population_file(tmp_path, ages=ages))
    ages["45"] = [1.5, 2.0]
    with pytest.raises(DataFileError, match=r"column '45'.*row 1: 1.5"):
        read_population_lsoa(_population_file(tmp_path, ages=ages, total=[91.0, 182.0]))
    with pytest.raises(DataFileError, match=r"'lsoa11_code'.*England or Wales.*row 2: 'S01006506'"):
        read_population_lsoa(_population_file(tmp_path, codes=("E01011949", "S01006506")))
    no_90 = {a: [1.0, 2.0] for a in PUBLISHED_AGES[:-1]}
    with pytest.raises(DataFileError, match=r"missing column\(s\) \['90\+'\]"):
        read_population_lsoa(_population_file(tmp_path, ages=no_90))


def test_age_band_parameters(tmp_path):
    df = read_population_lsoa(_population_file(tmp_path))
    # 25 single years 65-89 plus 90+, at 1 and 2 people each.
    assert population_by_age_band(df, (65,))["age_65_plus"].tolist() == [26, 52]
    assert population_by_age_band(df, (0, 90))["age_0_89"].tolist() == [90, 180]
    for bad in [(18, 0), (0, 95), (), (0, 17.5), (-1, 5)]:
        with pytest.raises(InvalidParameterError, match="bands="):
            population_by_age_band(df, bad)
    with pytest.raises(InvalidParameterError, match="age_0 ... age_90_plus"):
        population_by_age_band(df.drop(columns=["age_3"]))
