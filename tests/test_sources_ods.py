"""ODS readers (trusts, providers, successions, CCG-STP reference) and the successor map."""

from __future__ import annotations

import csv
import re
from collections import defaultdict

import openpyxl
import pandas as pd
import pytest

from icsresearch.errors import DataFileError, InvalidParameterError
from icsresearch.sources import ods
from icsresearch.sources.ods import (
    read_ccg_stp_reference,
    read_ods_trusts,
    read_ods_trusts_tidy,
    read_providers,
    read_trust_successions,
    successor_map,
)

ODS_DIR = "open-nhs-hospital-use-data/data"


def _file(tmp_path, name: str, content: bytes | str):
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def _etr_line(
    code="R0A",
    name="MANCHESTER UNIVERSITY NHS FOUNDATION TRUST",
    region="Y62",
    hlhg="QOP",
    opened="20171001",
    closed="",
    fields=24,
) -> str:
    row = (
        [
            code,
            name,
            region,
            hlhg,
            "COBBETT HOUSE",
            "OXFORD ROAD",
            "",
            "MANCHESTER",
            "",
            "M13 9WL",
            opened,
            closed,
        ]
        + [""] * 9
        + ["0", "", "B"]
    )
    row += [""] * (fields - len(row))
    return ",".join(row[:fields]) + "\n"


# --- real data -------------------------------------------------------------------------------


@pytest.mark.realdata
def test_etr_matches_the_raw_file(mirror):
    with open(mirror / ODS_DIR / "etr.csv", encoding="utf-8") as fh:
        raw = list(csv.reader(fh))
    df = read_ods_trusts()
    assert len(df) == len(raw) == 227
    assert df.attrs["verified"] is True and set(df.attrs["columns"]) == set(df.columns)
    assert df["trust_code"].tolist() == [r[0].strip() for r in raw]
    assert df["close_date"].notna().sum() == sum(bool(r[11]) for r in raw) == 4
    assert (df["region_code"] == "W00").sum() == sum(r[2] == "W00" for r in raw) == 3
    by_code = df.set_index("trust_code")
    for r in raw[::20]:
        row = by_code.loc[r[0]]
        assert row["trust_name"] == r[1] and row["region_code"] == r[2] and row["icb_code"] == r[3]
        assert row["postcode"] == r[9]
        assert row["open_date"] == pd.Timestamp(r[10])
    assert by_code.loc["R0C", "close_date"] == pd.Timestamp("2020-03-26")
    assert by_code.loc["R0C", "icb_code"] == "Q71"  # closed: an NHS England local office code


@pytest.mark.realdata
def test_tidy_extract_matches_the_raw_file(mirror):
    with open(mirror / ODS_DIR / "etr_tidy.csv", encoding="utf-8") as fh:
        raw = list(csv.DictReader(fh))
    df = read_ods_trusts_tidy()
    assert len(df) == len(raw) == 218 and df.attrs["verified"] is True
    assert set(df.attrs["columns"]) == set(df.columns)
    assert df["close_date"].isna().sum() == sum(r["close_date"] == "NA" for r in raw)
    closed = {r["ods_code"]: r["close_date"] for r in raw if r["close_date"] != "NA"}
    got = df.dropna(subset=["close_date"]).set_index("trust_code")["close_date"]
    assert {k: v.strftime("%Y-%m-%d") for k, v in got.items()} == closed
    assert set(df["icb_code"]) == {r["stp_code"] for r in raw}
    row = df.set_index("trust_code").loc["RW6"]
    assert row["trust_name"] == "Pennine Acute Hospitals NHS Trust"
    assert row["close_date"] == pd.Timestamp("2021-09-30")


@pytest.mark.realdata
def test_providers_match_the_raw_file(mirror):
    path = mirror / "hospital_management/data/csv/nhs_provider.csv"
    with open(path, encoding="utf-8-sig", newline="") as fh:
        raw = list(csv.DictReader(fh))
    df = read_providers()
    assert len(df) == len(raw) == 431 and df.attrs["verified"] is True
    assert set(df.attrs["columns"]) == set(df.columns)
    assert df["trust_code"].tolist() == [r["ORG_CODE"].strip() for r in raw]
    assert all(r["ORG_CODE"].endswith(" ") for r in raw)  # the trap is real
    assert not df["trust_code"].str.contains(" ").any()
    expected = defaultdict(int)
    for r in raw:
        if r["ORG_TYPE"] == "Acute":
            key = "acute specialist" if r["SPECIALIST"] == "TRUE" else "acute non-specialist"
        else:
            key = {
                "Mental Health": "mental health",
                "Community Provider Trust": "community",
                "Ambulance": "ambulance",
                "Clinical Commissioning Group": "ccg",
            }[r["ORG_TYPE"]]
        expected[key] += 1
    assert df["trust_type"].value_counts().to_dict() == dict(expected)
    assert expected["acute specialist"] == 17 and expected["ccg"] == 198
    assert df["specialist"].dtype == bool and df["specialist"].sum() == 17
    assert df.set_index("trust_code").loc["RBV", "trust_type"] == "acute specialist"  # Christie


@pytest.fixture(scope="module")
def successions(mirror):
    return read_trust_successions()


@pytest.mark.realdata
def test_successions_match_the_raw_file(mirror, successions):
    import pyreadr

    # The raw table as stored (pyreadr, without the reader's cleaning, checks or sorting).
    raw = pyreadr.read_r(str(mirror / "geographr/data/lookup_trust_trust.rda"))[
        "lookup_trust_trust"
    ]
    assert len(successions) == len(raw) == 25480
    assert successions.attrs["verified"] is True
    got = set(
        zip(
            successions.old_code,
            successions.new_code,
            successions.succession_date.dt.strftime("%Y-%m-%d"),
            strict=True,
        )
    )
    want = set(zip(raw["old_code"], raw["new_code"], raw["date"].astype(str), strict=True))
    assert got == want
    assert successions.succession_date.min() == pd.Timestamp("1992-04-01")
    assert successions.succession_date.max() == pd.Timestamp("2022-04-01")
    codes = set(successions.old_code) | set(successions.new_code)
    assert len(codes) == 43107
    assert sum(bool(re.fullmatch(r"[RT][A-Z0-9]{2}", c)) for c in codes) == 568


@pytest.mark.realdata
def test_successor_map_on_the_real_chain(successions):
    sm = successor_map(successions).set_index("old_code")
    # Independent count of splits: codes whose latest successions (self-links aside) are several.
    latest = defaultdict(lambda: (pd.Timestamp.min, set()))
    for old, new, date in zip(
        successions.old_code, successions.new_code, successions.succession_date, strict=True
    ):
        if old == new:
            continue
        when, news = latest[old]
        if date > when:
            latest[old] = (date, {new})
        elif date == when:
            news.add(new)
    assert len(sm) == len(latest)
    assert sum(len(news) > 1 for _, news in latest.values()) == 498
    # Chains traced by hand in the raw rows.
    assert sm.loc["RW3", "latest_code"] == "R0A" and sm.loc["RM2", "latest_code"] == "R0A"
    assert sm.loc["RD3", "latest_code"] == "R0D" and sm.loc["RDZ", "latest_code"] == "R0D"
    # RV7 -> RWN (2010) -> R1L (2017): two steps.
    assert tuple(sm.loc["RV7", ["latest_code", "steps"]]) == ("R1L", 2)
    assert sm.loc["RV7", "last_date"] == pd.Timestamp("2017-04-01") and not sm.loc["RV7", "split"]
    # Pennine Acute split between RM3 and R0A on 1 October 2021: the documented override.
    rw6 = sm.loc["RW6"]
    assert rw6["latest_code"] == "RM3" and rw6["split"] and rw6["candidates"] == "R0A;RM3"
    # As at the end of 2020/21 Pennine had no successor yet.
    early = successor_map(successions, as_of="2021-03-31")
    assert "RW6" not in set(early.old_code)
    assert early.set_index("old_code").loc["RD3", "latest_code"] == "R0D"


@pytest.mark.realdata
def test_ccg_stp_reference_matches_the_workbook(mirror):
    wb = openpyxl.load_workbook(mirror / ODS_DIR / "CCG_STP_RefFile_Apr20.xlsx", read_only=True)
    rows = list(wb["Post-Apr 2020"].iter_rows(values_only=True))
    wb.close()
    body = [r for r in rows[1:] if any(v is not None for v in r)]
    df = read_ccg_stp_reference()
    assert len(df) == len(body) == 135 and df.attrs["verified"] is True
    assert set(df.attrs["columns"]) == set(df.columns)
    assert df["stp_code"].nunique() == len({r[2] for r in body}) == 42
    regions = dict(zip(df.region_code, df.region_name, strict=True))
    assert regions == ods.NHS_REGIONS
    first = df.iloc[0]
    assert tuple(first) == tuple(str(v) for v in body[0])


# --- hand-made files -------------------------------------------------------------------------


def test_etr_accepts_24_to_27_fields_bom_and_spaces(tmp_path):
    text = (
        "\ufeff"
        + _etr_line(code="R0A ", fields=24)
        + _etr_line(code="RQ6", hlhg="Q75", opened="19950401", closed="20190930", fields=25)
        + _etr_line(code="rxh", fields=27)
    )
    df = read_ods_trusts(_file(tmp_path, "etr.csv", text))
    assert df["trust_code"].tolist() == ["R0A", "RQ6", "RXH"]
    assert df["close_date"].isna().tolist() == [True, False, True]
    assert df.loc[1, "close_date"] == pd.Timestamp("2019-09-30")
    assert df.attrs["verified"] is False


@pytest.mark.parametrize("fields", [23, 28])
def test_etr_wrong_field_count_is_named(tmp_path, fields):
    text = _etr_line() + _etr_line(code="R0B", fields=fields)
    with pytest.raises(DataFileError, match=rf"etr\.csv: line 2 has {fields} fields.*24-27"):
        read_ods_trusts(_file(tmp_path, "etr.csv", text))


def test_etr_truncated_last_line(tmp_path):
    text = _etr_line() + _etr_line(code="R0B").rstrip("\n")[:60]
    with pytest.raises(DataFileError, match=r"line 2 has \d+ fields.*truncated") as info:
        read_ods_trusts(_file(tmp_path, "etr.csv", text))
    assert "Fix:" in str(info.value)


def test_etr_with_a_header_points_to_the_tidy_reader(tmp_path):
    header = "ods_code,ods_name,region_code,stp_code,a1,a2,a3,a4,a5,postcode,open_date," + ",".join(
        f"c{i}" for i in range(13)
    )
    with pytest.raises(DataFileError, match="read_ods_trusts_tidy"):
        read_ods_trusts(_file(tmp_path, "etr.csv", header + "\n" + _etr_line()))


def test_etr_bad_date_region_and_code(tmp_path):
    with pytest.raises(DataFileError, match=r"open date.*'%Y%m%d'.*'2017-10-01'"):
        read_ods_trusts(_file(tmp_path, "etr.csv", _etr_line(opened="2017-10-01")))
    with pytest.raises(DataFileError, match=r"close date.*between 1948 and 2100.*'30190930'"):
        read_ods_trusts(_file(tmp_path, "etr.csv", _etr_line(closed="30190930")))
    with pytest.raises(DataFileError, match=r"national grouping.*'North West'"):
        read_ods_trusts(_file(tmp_path, "etr.csv", _etr_line(region="North West")))
    with pytest.raises(DataFileError, match=r"organisation code.*row 1: 'R0A-X'"):
        read_ods_trusts(_file(tmp_path, "etr.csv", _etr_line(code="R0A-X")))


def test_etr_non_utf8_and_empty(tmp_path):
    latin = _etr_line(name="YSBYTY GWYNEDD CAFÉ").encode("latin-1")
    with pytest.raises(DataFileError, match=r"not valid utf-8.*line 1") as info:
        read_ods_trusts(_file(tmp_path, "etr.csv", latin))
    assert "iconv" in str(info.value)
    with pytest.raises(DataFileError, match="etr.csv: is empty"):
        read_ods_trusts(_file(tmp_path, "etr.csv", "\n"))
    with pytest.raises(DataFileError, match="etr.csv: has no trust records"):
        read_ods_trusts(_file(tmp_path, "etr.csv", "\ufeff\n\n"))


def test_tidy_na_tokens_and_missing_columns(tmp_path):
    head = "ods_code,ods_name,region_code,stp_code,postcode,open_date,close_date\n"
    df = read_ods_trusts_tidy(
        _file(
            tmp_path,
            "etr_tidy.csv",
            head + "RD3 ,Poole,Y58,QVV,BH15 2JB,1992-04-01,2020-09-30\nR0D,Dorset,Y58,QVV,NA,"
            "2020-10-01,NA\n",
        )
    )
    assert df["close_date"].isna().tolist() == [False, True]
    assert df["trust_code"].tolist() == ["RD3", "R0D"] and pd.isna(df.loc[1, "postcode"])
    with pytest.raises(DataFileError, match=r"missing column\(s\) \['stp_code'\]"):
        read_ods_trusts_tidy(
            _file(
                tmp_path,
                "etr_tidy.csv",
                head.replace("stp_code", "icb") + "R0D,D,Y58,QVV,X,2020-10-01,NA\n",
            )
        )


def test_providers_traps_and_bad_values(tmp_path):
    head = "\ufeffORG_CODE,ORG_NAME,ORG_TYPE,HEE_REGION_CODE,SPECIALIST\r\n"
    rows = (
        "RBV ,The Christie NHS Foundation Trust ,Acute,YDF31,TRUE\r\n"
        "RA2 ,Royal Surrey ,Acute,YDF29,FALSE\r\n"
        "RX9 ,East Midlands Ambulance ,Ambulance,YDF21,FALSE\r\n"
        '00D ,"NHS Durham Dales, Easington and Sedgefield CCG ",Clinical Commissioning Group,'
        "YDF30,FALSE\r\n"
    )
    df = read_providers(_file(tmp_path, "nhs_provider.csv", head + rows))
    assert df["trust_code"].tolist() == ["RBV", "RA2", "RX9", "00D"]
    assert df["trust_name"][3] == "NHS Durham Dales, Easington and Sedgefield CCG"
    assert df["trust_type"].tolist() == [
        "acute specialist",
        "acute non-specialist",
        "ambulance",
        "ccg",
    ]
    with pytest.raises(DataFileError, match=r"unknown organisation type\(s\) \['Hospice'\]"):
        read_providers(_file(tmp_path, "nhs_provider.csv", head + "RA1,X,Hospice,YDF21,FALSE\r\n"))
    with pytest.raises(DataFileError, match=r"'SPECIALIST'.*row 2: 'yes'"):
        read_providers(_file(tmp_path, "nhs_provider.csv", head + "RA1,X,Acute,YDF21,yes\r\n"))


def _write_successions(tmp_path, rows, name="lookup_trust_trust.rda"):
    import pyreadr

    df = pd.DataFrame(rows, columns=["old_code", "new_code", "date"])
    path = tmp_path / name
    pyreadr.write_rdata(str(path), df, df_name="lookup_trust_trust")
    return path


def test_successions_from_a_hand_made_rda(tmp_path):
    path = _write_successions(
        tmp_path, [["RA1 ", "RB1", "2010-04-01"], ["RB1", "RC1", "2015-04-01"]]
    )
    df = read_trust_successions(path)
    assert df["old_code"].tolist() == ["RA1", "RB1"]
    assert df["succession_date"].tolist() == [
        pd.Timestamp("2010-04-01"),
        pd.Timestamp("2015-04-01"),
    ]
    sm = successor_map(df)
    assert sm.set_index("old_code").loc["RA1"].to_dict() == {
        "latest_code": "RC1",
        "steps": 2,
        "last_date": pd.Timestamp("2015-04-01"),
        "split": False,
        "candidates": "RC1",
    }


def test_successions_bad_values(tmp_path):
    with pytest.raises(DataFileError, match=r"'date'.*row 2: '01/04/2015'"):
        read_trust_successions(
            _write_successions(
                tmp_path, [["RA1", "RB1", "2010-04-01"], ["RB1", "RC1", "01/04/2015"]]
            )
        )
    with pytest.raises(DataFileError, match=r"'new_code'.*row 1: 'R B1'"):
        read_trust_successions(_write_successions(tmp_path, [["RA1", "R B1", "2010-04-01"]]))
    import pyreadr

    other = tmp_path / "other.rda"
    pyreadr.write_rdata(str(other), pd.DataFrame({"a": [1]}), df_name="something_else")
    with pytest.raises(DataFileError, match=r"no R object 'lookup_trust_trust'.*something_else"):
        read_trust_successions(other)


def _chain(*rows):
    return pd.DataFrame(
        [(a, b, pd.Timestamp(d)) for a, b, d in rows],
        columns=["old_code", "new_code", "succession_date"],
    )


def test_successor_map_rules():
    table = _chain(
        ("RA1", "RB1", "2005-04-01"),
        ("RB1", "RC1", "2010-04-01"),
        ("RB1", "RB1", "2010-04-01"),  # self-link: ignored
        ("RC1", "RD1", "2012-04-01"),
        ("RC1", "RD1", "2013-04-01"),  # same pair again: counts once, at its latest date
        ("RX1", "RY1", "2001-04-01"),
        ("RX1", "RZ1", "2008-04-01"),  # the most recent succession wins
        ("RS1", "5AB", "2002-04-01"),  # split into a PCT and a trust: the trust is followed
        ("RS1", "RT1", "2002-04-01"),
        ("RP1", "RQ2", "2021-10-01"),  # split between two trusts: alphabetical
        ("RP1", "RQ1", "2021-10-01"),
    )
    sm = successor_map(table, overrides={}).set_index("old_code")
    assert sm.loc["RA1", "latest_code"] == "RD1" and sm.loc["RA1", "steps"] == 3
    assert sm.loc["RA1", "last_date"] == pd.Timestamp("2013-04-01")
    assert sm.loc["RX1", "latest_code"] == "RZ1" and not sm.loc["RX1", "split"]
    assert sm.loc["RS1", "latest_code"] == "RT1" and sm.loc["RS1", "candidates"] == "5AB;RT1"
    assert sm.loc["RP1", "latest_code"] == "RQ1" and sm.loc["RP1", "split"]
    assert (
        successor_map(table, overrides={"RP1": "RQ2"})
        .set_index("old_code")
        .loc["RP1", "latest_code"]
        == "RQ2"
    )
    dropped = successor_map(table, on_split="drop").set_index("old_code")
    assert pd.isna(dropped.loc["RP1", "latest_code"]) and dropped.loc["RA1", "latest_code"] == "RD1"
    with pytest.raises(InvalidParameterError, match=r"2 code\(s\) split.*RP1"):
        successor_map(table, on_split="error")
    with pytest.raises(InvalidParameterError, match="RP1 -> RQ9"):
        successor_map(table, overrides={"RP1": "RQ9"})
    early = successor_map(table, as_of="2007-12-31").set_index("old_code")
    assert early.loc["RA1", "latest_code"] == "RB1" and early.loc["RX1", "latest_code"] == "RY1"
    only = successor_map(table, trusts_only=True).set_index("old_code")
    assert not only.loc["RS1", "split"] and only.loc["RS1", "candidates"] == "RT1"


def test_successor_map_cycles_are_refused(tmp_path):
    table = _chain(
        ("RA1", "RB1", "2010-04-01"), ("RB1", "RC1", "2011-04-01"), ("RC1", "RA1", "2012-04-01")
    )
    with pytest.raises(InvalidParameterError, match=r"cycle: R[ABC]1 -> .* -> R[ABC]1"):
        successor_map(table)
    path = _write_successions(
        tmp_path, [["RA1", "RB1", "2010-04-01"], ["RB1", "RA1", "2011-04-01"]]
    )
    with pytest.raises(
        DataFileError, match=r"lookup_trust_trust.rda: the succession chain has a cycle"
    ):
        successor_map(read_trust_successions(path))


def test_successor_map_bad_parameters():
    table = _chain(("RA1", "RB1", "2010-04-01"))
    with pytest.raises(InvalidParameterError, match="on_split='newest'"):
        successor_map(table, on_split="newest")
    with pytest.raises(InvalidParameterError, match="as_of='last spring'"):
        successor_map(table, as_of="last spring")
    with pytest.raises(InvalidParameterError, match="needs the columns"):
        successor_map(table.rename(columns={"old_code": "from"}))


def _workbook(tmp_path, rows, sheet="Post-Apr 2020"):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    ws.append(["CCG Code", "CCG Name", "STP Code", "STP Name", "Region Code", "Region Name"])
    for r in rows:
        ws.append(r)
    path = tmp_path / "CCG_STP_RefFile_Apr20.xlsx"
    wb.save(path)
    return path


def test_ccg_stp_reference_edge_cases(tmp_path):
    ok = _workbook(
        tmp_path,
        [
            [
                "00D ",
                "NHS Durham\xa0Dales CCG",
                "QHM",
                "Cumbria and North East STP",
                "Y63",
                "North East and Yorkshire",
            ],
            [
                "84H",
                "NHS County Durham CCG",
                "QHM",
                "Cumbria and North East STP",
                "Y63",
                "North East and Yorkshire",
            ],
        ],
    )
    df = read_ccg_stp_reference(ok)
    assert df["ccg_code"].tolist() == ["00D", "84H"] and df["ccg_name"][0] == "NHS Durham Dales CCG"
    clash = _workbook(
        tmp_path,
        [
            ["00D", "A", "QHM", "Cumbria STP", "Y63", "North East and Yorkshire"],
            ["84H", "B", "QHM", "Cumbria and North East STP", "Y63", "North East and Yorkshire"],
        ],
    )
    with pytest.raises(DataFileError, match="STP QHM has several names"):
        read_ccg_stp_reference(clash)
    wrong = _workbook(tmp_path, [["00D", "A", "QHM", "S", "Y63", "R"]], sheet="Pre-Apr 2020")
    with pytest.raises(
        DataFileError, match=r"has no sheet 'Post-Apr 2020'; sheets: \['Pre-Apr 2020'\]"
    ):
        read_ccg_stp_reference(wrong)
    bad = _workbook(tmp_path, [["00D", "A", "E54000050", "S", "Y63", "R"]])
    with pytest.raises(DataFileError, match=r"'STP Code'.*Q-codes.*row 2: 'E54000050'"):
        read_ccg_stp_reference(bad)
    truncated = tmp_path / "cut.xlsx"
    truncated.write_bytes(ok.read_bytes()[:500])
    with pytest.raises(DataFileError, match="not a readable .xlsx workbook"):
        read_ccg_stp_reference(truncated)
