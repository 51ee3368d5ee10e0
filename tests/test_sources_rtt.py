"""RTT reader: the real 31 March snapshots, and hand-made files in the published layout."""

from __future__ import annotations

import csv
from collections import Counter

import numpy as np
import pandas as pd
import pytest

from icsresearch.data.registry import get
from icsresearch.errors import DataFileError
from icsresearch.sources.rtt import SCHEMA, read_rtt

HEADER = "DATE,YEAR,ORG_CODE,N_TOTAL,N_18_WEEKS,RTT_SCORE"


@pytest.fixture(scope="module")
def rtt(mirror):
    return read_rtt()


@pytest.fixture(scope="module")
def raw(mirror):
    with open(mirror / get("hm_rtt").path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.realdata
def test_shape_years_and_documentation(rtt, raw):
    assert len(rtt) == len(raw) == 1331
    assert dict(Counter(rtt["year"])) == dict(Counter(int(r["YEAR"]) for r in raw))
    assert rtt.attrs["verified"] is True
    assert list(rtt.columns) == SCHEMA.names == list(rtt.attrs["columns"])
    assert not rtt.duplicated(["trust_code", "year"]).any()
    # Every snapshot is 31 March, in the calendar year after the financial-year start.
    assert (rtt["snapshot_date"].dt.strftime("%d/%m") == "31/03").all()
    assert (rtt["snapshot_date"].dt.year == rtt["year"] + 1).all()


@pytest.mark.realdata
def test_values_match_the_raw_file_row_by_row(rtt, raw):
    by_key = rtt.set_index(["trust_code", "year"])
    for r in raw:
        row = by_key.loc[(r["ORG_CODE"].strip(), int(r["YEAR"]))]
        assert row["incomplete_pathways_count"] == int(r["N_TOTAL"])
        assert row["within_18wk_count"] == int(r["N_18_WEEKS"])
        if int(r["N_TOTAL"]) > 0:
            assert row["rtt_18wk_share"] == float(r["RTT_SCORE"])
            assert row["rtt_18wk_pct"] == pytest.approx(round(float(r["RTT_SCORE"]) * 100, 1))
    assert rtt["incomplete_pathways_count"].sum() == sum(int(r["N_TOTAL"]) for r in raw)


@pytest.mark.realdata
def test_specific_values_traced_to_the_raw_file(rtt):
    # Raw line: 31/03/2019,2018,R0A,89819,77555,0.863458734
    r0a = rtt[(rtt.trust_code == "R0A") & (rtt.year == 2018)].iloc[0]
    assert r0a["snapshot_date"] == pd.Timestamp("2019-03-31")
    assert (r0a["incomplete_pathways_count"], r0a["within_18wk_count"]) == (89819, 77555)
    assert r0a["rtt_18wk_pct"] == 86.3
    assert r0a["rtt_18wk_share"] == pytest.approx(77555 / 89819, abs=5e-10)
    # Raw line: 31/03/2019,2018,RT2,0,0,0 - a share of nothing is missing, not 0%.
    rt2 = rtt[(rtt.trust_code == "RT2") & (rtt.year == 2018)].iloc[0]
    assert rt2["incomplete_pathways_count"] == 0 and np.isnan(rt2["rtt_18wk_share"])
    assert rtt["rtt_18wk_share"].isna().sum() == 1


# --- hand-made files ---------------------------------------------------------------------------


def _write(tmp_path, text: str | bytes, name: str = "RTT.csv"):
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


def _fails(path, *fragments: str) -> str:
    with pytest.raises(DataFileError) as info:
        read_rtt(path)
    message = str(info.value)
    assert path.name in message and "Fix:" in message, message
    for fragment in fragments:
        assert fragment in message, message
    return message


def test_bom_crlf_and_spaces_in_codes_are_handled(tmp_path):
    path = _write(
        tmp_path,
        "\ufeff"
        + HEADER
        + "\r\n31/03/2019,2018, RA2 ,1000,900,0.9\r\n31/03/2018,2017,RA2-X,800,600,0.75\r\n",
    )
    df = read_rtt(path)
    assert df["trust_code"].tolist() == ["RA2", "RA2"]
    assert df["year"].tolist() == [2017, 2018]
    assert df["rtt_18wk_pct"].tolist() == [75.0, 90.0]
    assert df.attrs["verified"] is False


def test_year_that_is_not_the_financial_year_ending_at_the_snapshot(tmp_path):
    # A calendar-year reading of the snapshot (31/03/2019 -> 2019) is the classic mistake.
    path = _write(tmp_path, HEADER + "\n31/03/2019,2019,RA2,1000,900,0.9\n")
    _fails(path, "not the financial year ending at DATE", "row 2", "expected 2018", "2018/19")


def test_month_first_dates_are_refused(tmp_path):
    path = _write(tmp_path, HEADER + "\n03/31/2019,2018,RA2,1000,900,0.9\n")
    _fails(path, "not dd/mm/yyyy", "'03/31/2019'")


def test_score_that_disagrees_with_the_counts(tmp_path):
    path = _write(tmp_path, HEADER + "\n31/03/2019,2018,RA2,1000,900,0.8\n")
    _fails(path, "RTT_SCORE disagrees with N_18_WEEKS / N_TOTAL", "900 / 1000")


def test_a_score_published_to_fewer_decimals_is_accepted_within_its_precision(tmp_path):
    path = _write(tmp_path, HEADER + "\n31/03/2019,2018,RA2,3,2,0.667\n")
    assert read_rtt(path)["rtt_18wk_pct"].tolist() == [66.7]


def test_score_given_as_a_percentage(tmp_path):
    path = _write(tmp_path, HEADER + "\n31/03/2019,2018,RA2,1000,900,90\n")
    _fails(path, "fraction between 0 and 1", "divide percentages by 100")


def test_more_within_18_weeks_than_in_total(tmp_path):
    path = _write(tmp_path, HEADER + "\n31/03/2019,2018,RA2,900,1000,1\n")
    _fails(path, "N_18_WEEKS 1000 > N_TOTAL 900")


@pytest.mark.parametrize("value", ["-5", "*", "", "12.5"])
def test_counts_must_be_whole_and_present(tmp_path, value):
    path = _write(tmp_path, HEADER + f"\n31/03/2019,2018,RA2,{value},0,0\n")
    _fails(path, "'N_TOTAL'", "not whole non-negative counts")


def test_missing_column(tmp_path):
    path = _write(tmp_path, "DATE,YEAR,ORG_CODE,N_TOTAL,RTT_SCORE\n31/03/2019,2018,RA2,1,1\n")
    _fails(path, "missing column(s) ['N_18_WEEKS']", "RTT.csv")


def test_bad_organisation_code(tmp_path):
    path = _write(tmp_path, HEADER + "\n31/03/2019,2018,R A2,10,9,0.9\n")
    _fails(path, "'ORG_CODE'", "not organisation codes")


def test_truncated_empty_and_non_utf8_files(tmp_path):
    _fails(_write(tmp_path, HEADER + "\n31/03/2019,2018,RA2,10", "a.csv"), "truncated")
    _fails(_write(tmp_path, "", "b.csv"), "is empty")
    latin1 = (HEADER + "\n31/03/2019,2018,RA2,10,9,0.9 \xa3\n").encode("latin-1")
    _fails(_write(tmp_path, latin1, "c.csv"), "not valid utf-8", "iconv")
    _fails(_write(tmp_path, HEADER + "\n", "d.csv"), "no rows")


def test_repeated_trust_year_is_refused(tmp_path):
    path = _write(
        tmp_path,
        HEADER + "\n31/03/2019,2018,RA2,10,9,0.9\n31/03/2019,2018,RA2-X,10,9,0.9\n",
    )
    _fails(path, "repeat the key")
