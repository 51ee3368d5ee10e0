"""HES admissions reader and the Asaria et al. case-mix shares."""

from __future__ import annotations

import csv
import math
import shutil
import subprocess
from collections import Counter

import numpy as np
import pandas as pd
import pytest

from icsresearch.data.registry import get
from icsresearch.errors import DataFileError, InvalidParameterError
from icsresearch.sources.admissions import SCHEMA, casemix_shares, read_admissions

BANDS = ["0-14", "15-29", "30-44", "45-59", "60-74", "75-89", "90+"]
HEADER = "YEAR,ORG_CODE,TOTAL_EPISODES,ADMISSIONS,MALE_ADMISSIONS,FEMALE_ADMISSIONS," + ",".join(
    BANDS
)


@pytest.fixture(scope="module")
def admissions(mirror):
    return read_admissions()


@pytest.fixture(scope="module")
def raw(mirror):
    with open(mirror / get("hm_admissions").path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.realdata
def test_shape_coverage_and_documentation(admissions, raw):
    assert len(admissions) == len(raw) == 3245
    assert dict(Counter(admissions["year"])) == dict(Counter(int(r["YEAR"]) for r in raw))
    assert sorted(admissions["year"].unique()) == list(range(2012, 2019))
    assert admissions.attrs["verified"] is True
    assert list(admissions.attrs["columns"]) == SCHEMA.names == list(admissions.columns)
    assert not admissions.duplicated(["trust_code", "year"]).any()


@pytest.mark.realdata
def test_suffixed_and_padded_codes(admissions, raw):
    suffixed = [r for r in raw if "-" in r["ORG_CODE"]]
    assert len(suffixed) == 96
    assert {r["ORG_CODE"].strip()[-2:] for r in suffixed} == {"-X"}
    assert sum(r["ORG_CODE"].endswith("-X ") for r in raw) == 20  # "-X " with the padding
    assert admissions["trust_code_published"].str.endswith("-X").sum() == 96
    assert admissions["trust_code"].str.fullmatch(r"[A-Z0-9]{3,5}").all()
    padded_years = {r["YEAR"] for r in raw if r["ORG_CODE"] != r["ORG_CODE"].strip()}
    assert padded_years == {"2013", "2018"}
    # RQQ-X (2012) became RQQ; no plain RQQ row exists for the same year, so nothing collides.
    rqq = admissions.query("trust_code == 'RQQ'")
    assert set(rqq.trust_code_published) <= {"RQQ", "RQQ-X"} and rqq.year.is_unique


@pytest.mark.realdata
def test_counts_match_the_raw_file(admissions, raw):
    columns = {
        "TOTAL_EPISODES": "total_episodes",
        "ADMISSIONS": "admissions",
        "MALE_ADMISSIONS": "male_admissions",
        "FEMALE_ADMISSIONS": "female_admissions",
        "90+": "admissions_age_90_plus",
        "0-14": "admissions_age_0_14",
    }
    for published, column in columns.items():
        assert int(admissions[column].sum()) == sum(int(r[published]) for r in raw), column
    # Raw line "2012,RFS,84259,70994,36124,48135,8735,10125,10449,12323,18850,19974,3672".
    rfs = admissions.query("trust_code == 'RFS' and year == 2012").iloc[0]
    assert rfs.total_episodes == 84259 and rfs.admissions == 70994
    assert (rfs.male_admissions, rfs.female_admissions) == (36124, 48135)
    assert rfs.admissions_age_75_89 == 19974 and rfs.admissions_age_90_plus == 3672


@pytest.mark.realdata
def test_documented_quirks_hold(raw):
    def n(r, c):
        return int(r[c])

    by_sex = Counter(
        "eq"
        if n(r, "MALE_ADMISSIONS") + n(r, "FEMALE_ADMISSIONS") == n(r, "TOTAL_EPISODES")
        else "ne"
        for r in raw
    )
    assert by_sex["eq"] == 1741 and str(f"{by_sex['eq']:,}") in SCHEMA.notes
    # From 2016 every positive count is a multiple of 5.
    late = [int(r[c]) for r in raw if int(r["YEAR"]) >= 2016 for c in BANDS if int(r[c]) > 0]
    assert late and all(v % 5 == 0 for v in late)
    early = [int(r[c]) for r in raw if int(r["YEAR"]) < 2016 for c in BANDS if int(r[c]) > 0]
    assert sum(v % 5 == 0 for v in early) / len(early) < 0.25


# --- case-mix shares ---------------------------------------------------------------------------


def _table(rows):
    """Minimal read_admissions()-like table: (female, episodes, seven bands) per row."""
    data = []
    for i, (female, episodes, bands) in enumerate(rows):
        data.append(
            {
                "trust_code": f"R{i:02d}",
                "year": 2016,
                "total_episodes": episodes,
                "female_admissions": female,
                **{
                    f"admissions_age_{s}": b
                    for s, b in zip(
                        ["0_14", "15_29", "30_44", "45_59", "60_74", "75_89", "90_plus"],
                        bands,
                        strict=True,
                    )
                },
            }
        )
    return pd.DataFrame(data)


def test_casemix_follows_r_rounding_exactly():
    # Reference values from R 4.2.2: round(c(1/40, 1495/2600, 350/2000, 3/40), 2) * 100
    # gives 3 58 17 7 (numpy.round gives 2 57 18 8 and Python's round 3 57 17 7), and
    # round(c(39/40, 1105/2600, 1650/2000, 37/40), 2) * 100 gives 98 42 82 92.
    rows = [
        (1, 40, [1, 39, 0, 0, 0, 0, 0]),
        (1495, 2600, [1495, 1105, 0, 0, 0, 0, 0]),
        (350, 2000, [350, 1650, 0, 0, 0, 0, 0]),
        (3, 40, [3, 37, 0, 0, 0, 0, 0]),
    ]
    shares = casemix_shares(_table(rows))
    assert shares["female_pct"].tolist() == [3.0, 58.0, 17.0, 7.0]
    assert shares["age_0_14_pct"].tolist() == [3.0, 58.0, 17.0, 7.0]
    assert shares["age_15_29_pct"].tolist() == [98.0, 42.0, 82.0, 92.0]


def test_casemix_denominators_and_missing_values():
    rows = [
        (5, 0, [0, 0, 0, 0, 0, 0, 0]),  # no episodes, no ages: shares undefined
        (
            60,
            100,
            [10, 20, 30, 40, 0, 0, 0],
        ),  # age shares are of the band total (100), not episodes
    ]
    table = _table(rows)
    table.loc[1, "total_episodes"] = 200
    shares = casemix_shares(table)
    assert shares.iloc[0].drop(["trust_code", "year"]).isna().all()
    assert shares.loc[1, "female_pct"] == 30.0  # 60 / 200 episodes
    assert shares.loc[1, ["age_0_14_pct", "age_45_59_pct"]].tolist() == [10.0, 40.0]
    # A suppressed band makes every age share unknown, not a share of the other bands.
    table["admissions_age_90_plus"] = pd.array([pd.NA, 3], dtype="Int64")
    again = casemix_shares(table)
    assert np.isnan(again.loc[0, "age_90_plus_pct"]) and again.loc[1, "age_90_plus_pct"] == 3.0
    assert set(again.attrs["columns"]) == set(again.columns) - {"trust_code", "year"}


def test_casemix_needs_the_reader_columns():
    with pytest.raises(InvalidParameterError, match="admissions_age_90_plus"):
        casemix_shares(pd.DataFrame({"trust_code": ["RA2"], "year": [2016]}))


@pytest.mark.realdata
def test_casemix_on_the_real_file_matches_a_plain_computation_away_from_ties(admissions, raw):
    """Any sane rounding agrees unless the ratio is within 1e-9 of a half-percent tie."""
    shares = casemix_shares(admissions)
    female = dict(
        zip(zip(shares.trust_code, shares.year, strict=True), shares.female_pct, strict=True)
    )
    checked = 0
    for r in raw:
        key = (r["ORG_CODE"].strip().removesuffix("-X"), int(r["YEAR"]))
        total = int(r["TOTAL_EPISODES"])
        if total == 0:
            assert math.isnan(female[key])
            continue
        x = int(r["FEMALE_ADMISSIONS"]) / total * 100
        if abs(x - math.floor(x) - 0.5) > 1e-9:
            assert female[key] == math.floor(x + 0.5), key
            checked += 1
    assert checked > 3100


@pytest.mark.realdata
@pytest.mark.skipif(shutil.which("Rscript") is None, reason="R is not installed")
def test_casemix_equals_r_on_the_real_file(admissions, mirror, tmp_path):
    out = tmp_path / "r.csv"
    script = f"""
    d <- read.csv("{mirror / get("hm_admissions").path}", check.names=FALSE,
                  fileEncoding="UTF-8-BOM", strip.white=TRUE)
    a <- d$`0-14`+d$`15-29`+d$`30-44`+d$`45-59`+d$`60-74`+d$`75-89`+d$`90+`
    write.csv(data.frame(trust_code=sub("-X$", "", d$ORG_CODE), year=d$YEAR,
      female_pct=round(d$FEMALE_ADMISSIONS/d$TOTAL_EPISODES,2)*100,
      age_60_74_pct=round(d$`60-74`/a,2)*100, age_90_plus_pct=round(d$`90+`/a,2)*100),
      "{out}", row.names=FALSE)
    """
    subprocess.run(["Rscript", "-e", script], check=True, capture_output=True, timeout=120)
    r = pd.read_csv(out, dtype={"trust_code": str})
    ours = casemix_shares(admissions)
    joined = ours.merge(r, on=["trust_code", "year"], suffixes=("", "_r"))
    assert len(joined) == len(admissions)
    for column in ["female_pct", "age_60_74_pct", "age_90_plus_pct"]:
        np.testing.assert_array_equal(joined[column], joined[f"{column}_r"].round(9), column)


# --- hand-made files ---------------------------------------------------------------------------


def _write(tmp_path, text, name="inpatient_data.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _fails(path, *fragments):
    with pytest.raises(DataFileError) as info:
        read_admissions(path)
    message = str(info.value)
    assert path.name in message and "Fix:" in message, message
    for fragment in fragments:
        assert fragment in message, message


def test_bom_padding_suffix_and_suppressed_counts(tmp_path):
    text = (
        "\ufeff"
        + HEADER
        + "\r\n2016, RA2-X ,100,90,40,60,0,10,20,30,20,15,5\r\n2016,NT427,10,10,*,*,0,0,5,5,0,0,0\r\n"
    )
    df = read_admissions(_write(tmp_path, text)).set_index("trust_code")
    assert df.loc["RA2", "trust_code_published"] == "RA2-X"
    assert df.loc["RA2", "admissions_age_90_plus"] == 5
    assert df.loc["NT427", "female_admissions"] is pd.NA  # suppressed, never back-calculated
    assert str(df["female_admissions"].dtype) == "Int64"
    shares = casemix_shares(df.reset_index()).set_index("trust_code")
    assert np.isnan(shares.loc["NT427", "female_pct"]) and shares.loc["RA2", "female_pct"] == 60.0


def test_suffixed_and_plain_code_in_the_same_year(tmp_path):
    text = HEADER + "\n2016,RA2,1,1,0,1,0,0,0,0,0,1,0\n2016,RA2-X,2,2,1,1,0,0,0,0,1,1,0\n"
    _fails(_write(tmp_path, text), "same provider and year", "'RA2-X'", "'RA2'")


def test_bad_counts_and_layout(tmp_path):
    _fails(
        _write(tmp_path, HEADER + "\n2016,RA2,-1,1,0,1,0,0,0,0,0,1,0\n", "a.csv"),
        "'TOTAL_EPISODES'",
    )
    _fails(_write(tmp_path, HEADER + "\n2016,RA2,1.5,1,0,1,0,0,0,0,0,1,0\n", "b.csv"), "whole")
    no_band = HEADER.replace(",90+", "")
    _fails(_write(tmp_path, no_band + "\n2016,RA2,1,1,0,1,0,0,0,0,0,1\n", "c.csv"), "['90+']")
    _fails(_write(tmp_path, HEADER + "\n2016,RA2,1,1,0,1,0,0", "d.csv"), "truncated")
    _fails(
        _write(tmp_path, HEADER + "\n2016,RA 2,1,1,0,1,0,0,0,0,0,1,0\n", "e.csv"),
        "not organisation codes",
    )
