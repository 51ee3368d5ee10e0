"""LSOA (2011) -> sub-ICB -> ICB (2022) -> local authority lookup."""

from __future__ import annotations

import openpyxl
import pandas as pd
import pyreadr
import pytest

from icsresearch.errors import DataFileError
from icsresearch.sources.lsoa import read_lsoa_icb_lookup

PUBLISHED = [
    "lsoa11_name",
    "lsoa11_code",
    "sicbl22_name",
    "sicbl22_code",
    "sicbl22_code_h",
    "icb22_name",
    "icb22_code",
    "icb22_code_h",
    "ltla22_name",
    "ltla22_code",
]


@pytest.fixture(scope="module")
def lookup(mirror):
    return read_lsoa_icb_lookup()


@pytest.mark.realdata
def test_lookup_matches_the_raw_file(mirror, lookup):
    # The raw table as stored (pyreadr without any of the reader's cleaning or checks).
    raw = pyreadr.read_r(str(mirror / "geographr/data/lookup_lsoa11_sicbl22_icb22_ltla22.rda"))[
        "lookup_lsoa11_sicbl22_icb22_ltla22"
    ]
    assert len(lookup) == len(raw) == 32844 and lookup.attrs["verified"] is True
    assert set(lookup.attrs["columns"]) == set(lookup.columns)
    assert lookup["lsoa11_code"].is_unique
    assert lookup["icb_code"].nunique() == lookup["icb_ons_code"].nunique() == 42
    assert lookup["sub_icb_code"].nunique() == 106 and lookup["ltla_code"].nunique() == 309
    rows = list(zip(*(raw[c] for c in PUBLISHED), strict=True))
    by_code = lookup.set_index("lsoa11_code")
    for r in rows[::1500]:
        rec = dict(zip(PUBLISHED, r, strict=True))
        got = by_code.loc[rec["lsoa11_code"]]
        assert got["icb_code"] == rec["icb22_code_h"] and got["icb_ons_code"] == rec["icb22_code"]
        assert (
            got["sub_icb_code"] == rec["sicbl22_code_h"] and got["ltla_code"] == rec["ltla22_code"]
        )
        assert got["lsoa11_name"] == rec["lsoa11_name"]
    halton = by_code.loc["E01012367"]
    assert (halton["icb_code"], halton["icb_ons_code"], halton["sub_icb_code"]) == (
        "QYG",
        "E54000008",
        "01F",
    )
    # The 2022 ONS codes of Surrey Heartlands and Sussex.
    pairs = dict(zip(lookup.icb_code, lookup.icb_ons_code, strict=True))
    assert pairs["QXU"] == "E54000052" and pairs["QNX"] == "E54000053"
    # Local authorities that straddle two ICBs (so aggregate LSOAs, not authorities).
    assert (lookup.groupby("ltla_code").icb_code.nunique() > 1).sum() == 12


@pytest.mark.realdata
def test_icb_codes_agree_with_two_independent_files(mirror, lookup):
    pairs = set(zip(lookup.icb_code, lookup.icb_ons_code, strict=True))
    wb = openpyxl.load_workbook(
        mirror / "QW-ICS-analysis-2023/Trust_to_ICS_mapping.xlsx", read_only=True, data_only=True
    )
    weights = {
        (r[4], r[3])
        for r in wb["Trust_ICS_weights_suppressed"].iter_rows(min_row=2, values_only=True)
    }
    wb.close()
    assert weights == pairs  # the same 42 Q-code / E54 pairs
    wb = openpyxl.load_workbook(
        mirror / "open-nhs-hospital-use-data/data/CCG_STP_RefFile_Apr20.xlsx", read_only=True
    )
    stps = {r[2] for r in wb["Post-Apr 2020"].iter_rows(min_row=2, values_only=True) if r[2]}
    wb.close()
    assert stps == {q for q, _ in pairs}  # the 42 STPs of April 2020 kept their Q-codes as ICBs


def _lookup_file(tmp_path, **changes):
    rows = {
        "lsoa11_name": ["Halton 007A", "Halton 003A"],
        "lsoa11_code": ["E01012367", "E01012368"],
        "sicbl22_name": ["NHS Cheshire and Merseyside ICB - 01F"] * 2,
        "sicbl22_code": ["E38000068"] * 2,
        "sicbl22_code_h": ["01F"] * 2,
        "icb22_name": ["NHS Cheshire and Merseyside Integrated Care Board"] * 2,
        "icb22_code": ["E54000008"] * 2,
        "icb22_code_h": ["QYG"] * 2,
        "ltla22_name": ["Halton"] * 2,
        "ltla22_code": ["E06000006"] * 2,
    }
    rows.update(changes)
    path = tmp_path / "lookup_lsoa11_sicbl22_icb22_ltla22.rda"
    pyreadr.write_rdata(str(path), pd.DataFrame(rows), df_name="lookup_lsoa11_sicbl22_icb22_ltla22")
    return path


def test_hand_made_lookup(tmp_path):
    df = read_lsoa_icb_lookup(
        _lookup_file(
            tmp_path, sicbl22_code_h=["01f ", "X2C4Y"], sicbl22_code=["E38000068", "E38000225"]
        )
    )
    assert df["sub_icb_code"].tolist() == ["01F", "X2C4Y"] and df.attrs["verified"] is False


def test_bad_lookups_are_refused(tmp_path):
    with pytest.raises(DataFileError, match=r"repeat the key \['lsoa11_code'\]"):
        read_lsoa_icb_lookup(_lookup_file(tmp_path, lsoa11_code=["E01012367"] * 2))
    with pytest.raises(
        DataFileError, match=r"'lsoa11_code'.*English 2011 LSOA.*row 2: 'W01000001'"
    ):
        read_lsoa_icb_lookup(_lookup_file(tmp_path, lsoa11_code=["E01012367", "W01000001"]))
    with pytest.raises(DataFileError, match=r"icb_ons_code E54000008 goes with several icb_code"):
        read_lsoa_icb_lookup(_lookup_file(tmp_path, icb22_code_h=["QYG", "QE1"]))
    with pytest.raises(DataFileError, match=r"'icb22_code_h'.*Q-codes.*row 1: 'E54000008'"):
        read_lsoa_icb_lookup(_lookup_file(tmp_path, icb22_code_h=["E54000008"] * 2))
    path = tmp_path / "lookup_lsoa11_sicbl22_icb22_ltla22.rda"
    pyreadr.write_rdata(
        str(path),
        pd.DataFrame({"lsoa11_code": ["E01012367"]}),
        df_name="lookup_lsoa11_sicbl22_icb22_ltla22",
    )
    with pytest.raises(DataFileError, match=r"missing column\(s\).*'lsoa11_name'"):
        read_lsoa_icb_lookup(path)
    path.write_bytes(b"")
    with pytest.raises(DataFileError, match="is empty"):
        read_lsoa_icb_lookup(path)
