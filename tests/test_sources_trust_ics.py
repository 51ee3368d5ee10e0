"""Trust -> ICS links: OHID catchment shares, Nuffield A&E weights and the trust-STP lookup."""

from __future__ import annotations

import warnings
from collections import defaultdict

import openpyxl
import pandas as pd
import pyreadr
import pytest

from icsresearch.errors import DataFileError
from icsresearch.sources.trust_ics import (
    read_ae_activity_weights,
    read_catchment_shares,
    read_trust_stp_lookup,
)

WEIGHTS_HEADER = [
    "Trust_code",
    "Trust_name",
    "Trust_ICS_N",
    "ICS_code1",
    "ICS_code2",
    "ICS_name",
    "Type1_ED_activity",
    "Weighting",
]


def _rdata(path):
    """Read an .rda with the rdata package: a different parser from the readers' pyreadr."""
    import rdata

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return rdata.read_rda(str(path))


# --- real data -------------------------------------------------------------------------------


@pytest.mark.realdata
def test_catchment_shares_match_the_raw_file(mirror):
    raw = _rdata(mirror / "geographr/data/lookup_nhs_trusts22_icb22.rda")[
        "lookup_nhs_trusts22_icb22"
    ]
    df = read_catchment_shares()
    assert len(df) == len(raw) == 1321 and df.attrs["verified"] is True
    assert set(df.attrs["columns"]) == set(df.columns)
    assert df["trust_code"].nunique() == 138 and df["icb_ons_code"].nunique() == 42
    totals = defaultdict(float)
    for trust, share in zip(
        raw["nhs_trust22_code"], raw["proportion_trust_came_from_icb"], strict=True
    ):
        totals[trust] += share
    assert max(abs(t - 1) for t in totals.values()) < 1e-12
    got = df.set_index(["trust_code", "icb_ons_code"])["catchment_share"]
    for trust, icb, share in list(
        zip(
            raw["nhs_trust22_code"],
            raw["icb22_code"],
            raw["proportion_trust_came_from_icb"],
            strict=True,
        )
    )[::97]:
        assert got[(trust, icb)] == pytest.approx(share, rel=1e-12)
    assert got[("R0A", "E54000008")] == pytest.approx(0.042787, abs=5e-7)
    # 2022 codes: Surrey Heartlands and Sussex before their 2023 recoding.
    assert {"E54000052", "E54000053"} <= set(df.icb_ons_code)
    assert not {"E54000063", "E54000064"} & set(df.icb_ons_code)


@pytest.fixture(scope="module")
def weights_raw(mirror):
    wb = openpyxl.load_workbook(
        mirror / "QW-ICS-analysis-2023/Trust_to_ICS_mapping.xlsx", read_only=True, data_only=True
    )
    rows = list(wb["Trust_ICS_weights_suppressed"].iter_rows(values_only=True))
    wb.close()
    return [dict(zip(rows[0], r, strict=True)) for r in rows[1:] if any(v is not None for v in r)]


@pytest.mark.realdata
def test_ae_weights_match_the_workbook(weights_raw):
    df = read_ae_activity_weights()
    assert len(df) == len(weights_raw) == 212 and df.attrs["verified"] is True
    assert set(df.attrs["columns"]) == set(df.columns)
    assert df["trust_code"].nunique() == 124 and df["icb_ons_code"].nunique() == 42
    activity = defaultdict(float)
    for r in weights_raw:
        activity[r["Trust_code"]] += r["Type1_ED_activity"]
    got = df.set_index(["trust_code", "icb_ons_code"])
    for r in weights_raw[::7]:
        row = got.loc[(r["Trust_code"], r["ICS_code1"])]
        assert row["rank"] == r["Trust_ICS_N"] and row["icb_code"] == r["ICS_code2"]
        assert row["type1_ed_attendances"] == r["Type1_ED_activity"]
        assert row["ae_weight"] == pytest.approx(r["Weighting"])
        # The published weight is the ICS's share of the trust's published attendances.
        assert row["ae_weight"] == pytest.approx(r["Type1_ED_activity"] / activity[r["Trust_code"]])
    r0d = df[df.trust_code == "R0D"].set_index("rank")
    assert r0d.loc[1, "icb_code"] == "QVV" and r0d.loc[2, "type1_ed_attendances"] == 4810
    # The 2023 analysis still uses the 2022 ONS codes.
    assert {"E54000052", "E54000053"} <= set(df.icb_ons_code)
    assert not {"E54000063", "E54000064"} & set(df.icb_ons_code)
    assert (df["type1_ed_attendances"] % 10 == 0).all()  # rounded to 10
    # Names are cut at 49 characters in the file: kept as published.
    assert df["icb_name"].str.len().max() == max(len(r["ICS_name"]) for r in weights_raw) == 49
    assert set(df["icb_name"]) == {r["ICS_name"] for r in weights_raw}
    assert (~df.drop_duplicates("icb_code")["icb_name"].str.endswith("Board")).sum() == 18


@pytest.mark.realdata
def test_ae_weights_and_catchments_agree_on_the_icb_codes(weights_raw):
    """Independent files, same 42 ONS codes."""
    assert {r["ICS_code1"] for r in weights_raw} == set(read_catchment_shares().icb_ons_code)


@pytest.mark.realdata
def test_trust_stp_lookup_matches_the_raw_file(mirror):
    raw = _rdata(mirror / "geographr/data/lookup_nhs_trusts22_stp21.rda")[
        "lookup_nhs_trusts22_stp21"
    ]
    df = read_trust_stp_lookup()
    assert len(df) == len(raw) == 209 and df.attrs["verified"] is True
    assert set(df.attrs["columns"]) == set(df.columns)
    assert df["trust_code"].is_unique and df["stp_ons_code"].nunique() == 42
    want = dict(zip(raw["nhs_trust22_code"], raw["stp21_code"], strict=True))
    assert dict(zip(df.trust_code, df.stp_ons_code, strict=True)) == want
    assert want["R0A"] == "E54000007"  # Greater Manchester's 2021 code (E54000057 from 2022)
    assert max(c for c in want.values()) == "E54000054"


# --- hand-made files -------------------------------------------------------------------------


def _catchment(tmp_path, rows):
    path = tmp_path / "lookup_nhs_trusts22_icb22.rda"
    df = pd.DataFrame(
        rows, columns=["nhs_trust22_code", "icb22_code", "proportion_trust_came_from_icb"]
    )
    pyreadr.write_rdata(str(path), df, df_name="lookup_nhs_trusts22_icb22")
    return path


def test_catchment_shares_hand_made(tmp_path):
    ok = _catchment(tmp_path, [["RA1 ", "E54000008", 0.75], ["RA1", "E54000010", 0.25]])
    df = read_catchment_shares(ok)
    assert df["trust_code"].tolist() == ["RA1", "RA1"] and df.attrs["verified"] is False
    pct = _catchment(tmp_path, [["RA1", "E54000008", 75.0], ["RA1", "E54000010", 25.0]])
    with pytest.raises(DataFileError, match=r"above 1 \(max 75\).*\n.*divide the column by 100"):
        read_catchment_shares(pct)
    partial = _catchment(tmp_path, [["RA1", "E54000008", 0.75], ["RB1", "E54000010", 1.0]])
    with pytest.raises(
        DataFileError, match=r"shares of 1 trust\(s\) do not add up to 1 \(RA1: 0.7500\)"
    ):
        read_catchment_shares(partial)
    stp = _catchment(tmp_path, [["RA1", "QYG", 1.0]])
    with pytest.raises(DataFileError, match=r"'icb22_code'.*ONS codes.*row 1: 'QYG'"):
        read_catchment_shares(stp)
    dup = _catchment(tmp_path, [["RA1", "E54000008", 0.5], ["RA1", "E54000008", 0.5]])
    with pytest.raises(DataFileError, match="repeat the key"):
        read_catchment_shares(dup)
    missing = _catchment(tmp_path, [["RA1", "E54000008", None]])
    with pytest.raises(DataFileError, match="1 missing value"):
        read_catchment_shares(missing)


def _weights(tmp_path, rows, header=WEIGHTS_HEADER, sheet="Trust_ICS_weights_suppressed"):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    ws.append(header)
    for r in rows:
        ws.append(r)
    path = tmp_path / "Trust_to_ICS_mapping.xlsx"
    wb.save(path)
    return path


ROWS = [
    ["R0D", "Dorset", 1, "E54000041", "QVV", "NHS Dorset", 71760, 71760 / 76570],
    ["R0D", "Dorset", 2, "E54000042", "QRL", "NHS HIOW", 4810, 4810 / 76570],
]


def test_ae_weights_hand_made(tmp_path):
    df = read_ae_activity_weights(_weights(tmp_path, ROWS))
    assert df["rank"].tolist() == [1, 2] and df["ae_weight"].sum() == pytest.approx(1)
    gap = [ROWS[0], [*ROWS[1][:2], 3, *ROWS[1][3:]]]
    with pytest.raises(DataFileError, match=r"'Trust_ICS_N' does not run 1..N.*\['R0D'\]"):
        read_ae_activity_weights(_weights(tmp_path, gap))
    suppressed = [ROWS[0], [*ROWS[1][:6], "*", None]]
    with pytest.raises(DataFileError, match="missing or negative counts"):
        read_ae_activity_weights(_weights(tmp_path, suppressed))
    with pytest.raises(DataFileError, match=r"missing column\(s\) \['Weighting'\]"):
        read_ae_activity_weights(
            _weights(tmp_path, [r[:7] for r in ROWS], header=WEIGHTS_HEADER[:7])
        )
    with pytest.raises(DataFileError, match="has no sheet 'Trust_ICS_weights_suppressed'"):
        read_ae_activity_weights(_weights(tmp_path, ROWS, sheet="Sheet1"))
    swapped = [[*r[:3], r[4], r[3], *r[5:]] for r in ROWS]
    with pytest.raises(DataFileError, match=r"'ICS_code1'.*row 2: 'QVV'"):
        read_ae_activity_weights(_weights(tmp_path, swapped))


def test_trust_stp_lookup_hand_made(tmp_path):
    path = tmp_path / "lookup_nhs_trusts22_stp21.rda"
    df = pd.DataFrame(
        {
            "nhs_trust22_name": ["Trust A ", "Trust B"],
            "nhs_trust22_code": ["ra1", "RB1"],
            "stp21_name": ["STP", "STP"],
            "stp21_code": ["E54000007", "E54000007"],
        }
    )
    pyreadr.write_rdata(str(path), df, df_name="lookup_nhs_trusts22_stp21")
    out = read_trust_stp_lookup(path)
    assert out["trust_code"].tolist() == ["RA1", "RB1"] and out["trust_name"][0] == "Trust A"
    pyreadr.write_rdata(
        str(path), df.assign(nhs_trust22_code=["RA1", "RA1"]), df_name="lookup_nhs_trusts22_stp21"
    )
    with pytest.raises(DataFileError, match=r"repeat the key \['trust_code'\]"):
        read_trust_stp_lookup(path)
    path.write_bytes(b"RDX2\nnot really R data")
    with pytest.raises(DataFileError, match="not a readable R data file"):
        read_trust_stp_lookup(path)
