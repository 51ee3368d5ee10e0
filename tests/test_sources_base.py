"""The shared parsing helpers, exercised through hand-made files in published layouts.

Every trap named in the data README has a test here: byte-order marks, trailing spaces in codes,
suffixed codes, missing/suppressed tokens, latin-1 bytes, quoted thousands, accounting negatives,
and bad input (empty, truncated, wrong columns, non-UTF-8, unknown codes).
"""

from __future__ import annotations

import pandas as pd
import pytest

from icsresearch.data.store import resolve
from icsresearch.errors import DataFileError
from icsresearch.sources import _base
from icsresearch.sources.ae import read_ae_annual


def _file(tmp_path, content: bytes | str, name: str = "AE.csv"):
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def test_bom_trailing_spaces_and_suffixes_are_cleaned(tmp_path):
    path = _file(
        tmp_path, "\ufeffYEAR,ORG_CODE,AE_SCORE\n2012,RA2 ,0.96\n2012,RQQ-X,0.98\n2013, rj1 ,0.5\n"
    )
    df = read_ae_annual(path)
    assert df["trust_code"].tolist() == ["RA2", "RQQ", "RJ1"]
    assert df["trust_code_published"].tolist() == ["RA2", "RQQ-X", "rj1"]
    assert df["ae_4hr_pct"].tolist() == [96.0, 98.0, 50.0]
    assert df.attrs["verified"] is False and df.attrs["path"] == str(path)


def test_a_reader_attaches_the_typed_record_of_its_one_file(tmp_path):
    import hashlib

    from icsresearch.provenance import InputFile, Provenance, of

    path = _file(tmp_path, "YEAR,ORG_CODE,AE_SCORE\n2012,RA2,0.96\n")
    df = read_ae_annual(path)
    record = df.attrs["provenance"]
    assert isinstance(record, Provenance) and record.synthetic is False
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    assert record.inputs == (InputFile("hm_ae", str(path), sha, False),)
    # the top-level keys readers' users rely on say the same
    assert (df.attrs["source"], df.attrs["sha256"], df.attrs["verified"]) == ("hm_ae", sha, False)
    # a table computed from it keeps the record, and copies share it
    assert of(df[df["year"] == 2012].copy()) is record
    assert "files not matching the registry" in record.source_note


@pytest.mark.parametrize("token", ["", "-", "*", "..", "NA", " * "])
def test_missing_and_suppressed_tokens_stay_missing(tmp_path, token):
    path = _file(tmp_path, f"YEAR,ORG_CODE,AE_SCORE\n2012,RA2,{token}\n2012,RA3,0.9\n")
    df = read_ae_annual(path)
    assert pd.isna(df.loc[0, "ae_4hr_pct"]) and df.loc[1, "ae_4hr_pct"] == 90.0


def test_numbers_quoted_thousands_currency_percent_and_accounting_negatives(tmp_path):
    src = resolve("hm_ae", _file(tmp_path, "x\n1\n"))
    raw = pd.Series(['"1,234"'.strip('"'), "£2,500", "45%", "(1,000)", "-3.5", "1.2E+03", "*"])
    out = _base.numbers(raw, src, "x")
    assert out.iloc[:6].tolist() == [1234.0, 2500.0, 45.0, -1000.0, -3.5, 1200.0]
    assert pd.isna(out.iloc[6])


def test_a_value_that_is_not_a_number_names_the_row_and_column(tmp_path):
    path = _file(tmp_path, "YEAR,ORG_CODE,AE_SCORE\n2012,RA2,0.9\n2012,RA3,ninety\n")
    with pytest.raises(DataFileError) as info:
        read_ae_annual(path)
    msg = str(info.value)
    assert "AE.csv" in msg and "'AE_SCORE'" in msg and "row 3: 'ninety'" in msg and "Fix:" in msg


def test_wrong_columns_are_named(tmp_path):
    path = _file(tmp_path, "YEAR,TRUST,SCORE\n2012,RA2,0.9\n")
    with pytest.raises(DataFileError, match=r"missing column\(s\) \['ORG_CODE', 'AE_SCORE'\]"):
        read_ae_annual(path)


def test_empty_and_header_only_files(tmp_path):
    with pytest.raises(DataFileError, match="is empty"):
        read_ae_annual(_file(tmp_path, ""))
    with pytest.raises(DataFileError, match="is empty"):
        read_ae_annual(_file(tmp_path, "\n  \n"))
    with pytest.raises(DataFileError, match="header but no rows"):
        read_ae_annual(_file(tmp_path, "YEAR,ORG_CODE,AE_SCORE\n"))


def test_truncated_file(tmp_path):
    path = _file(tmp_path, "YEAR,ORG_CODE,AE_SCORE\n2012,RA2,0.9\n2012,RA")
    with pytest.raises(DataFileError, match="looks truncated"):
        read_ae_annual(path)


def test_non_utf8_bytes_give_the_line_and_the_fix(tmp_path):
    path = _file(
        tmp_path, "YEAR,ORG_CODE,AE_SCORE\n2012,RA2,0.9\n2012,R\xe93,0.9\n".encode("latin-1")
    )
    with pytest.raises(DataFileError) as info:
        read_ae_annual(path)
    assert (
        "not valid utf-8" in str(info.value)
        and "line 3" in str(info.value)
        and "iconv" in str(info.value)
    )


def test_latin1_file_read_with_declared_encoding(tmp_path):
    src = resolve(
        "hm_ae",
        _file(tmp_path, 'Trust Code,Area (m\xb2),Cost (\xa3)\nRA2,"1,234",-\n'.encode("latin-1")),
    )
    df = _base.read_csv_text(
        src, required=["Trust Code", "Area (m²)", "Cost (£)"], encoding="latin-1"
    )
    assert _base.numbers(df["Area (m²)"], src, "Area").tolist() == [1234.0]


def test_codes_that_are_not_ods_codes_are_refused(tmp_path):
    path = _file(tmp_path, "YEAR,ORG_CODE,AE_SCORE\n2012,RA2,0.9\n2012,Royal Surrey,0.9\n")
    with pytest.raises(DataFileError, match="not organisation codes.*row 3: 'Royal Surrey'"):
        read_ae_annual(path)


def test_years_out_of_range(tmp_path):
    path = _file(tmp_path, "YEAR,ORG_CODE,AE_SCORE\n12,RA2,0.9\n")
    with pytest.raises(DataFileError, match="outside 2000-2100"):
        read_ae_annual(path)


def test_duplicate_keys_are_refused(tmp_path):
    path = _file(tmp_path, "YEAR,ORG_CODE,AE_SCORE\n2012,RA2,0.9\n2012,RA2-X,0.8\n")
    with pytest.raises(DataFileError, match="repeat the key"):
        read_ae_annual(path)


def test_percentages_where_fractions_are_expected(tmp_path):
    path = _file(tmp_path, "YEAR,ORG_CODE,AE_SCORE\n2012,RA2,96\n")
    with pytest.raises(DataFileError, match="divide the column by 100"):
        read_ae_annual(path)


def test_fy_helpers():
    from icsresearch import schemas

    dates = pd.Series(pd.to_datetime(["2019-03-31", "2019-04-01", "2016-09-30"]))
    assert schemas.fy_start(dates).tolist() == [2018, 2019, 2016]
    assert schemas.fy_start(pd.DatetimeIndex(dates)).tolist() == [2018, 2019, 2016]
    assert schemas.fy_label(2012) == "2012/13" and schemas.fy_label(1999) == "1999/00"
    # the readers' helpers are the leaf module's, not copies
    assert _base.fy_start is schemas.fy_start and _base.Schema is schemas.Schema


def test_truncated_rda_and_xlsx_are_clear(tmp_path):
    with pytest.raises(DataFileError, match="not a readable R data file"):
        from icsresearch.sources.ae import read_ae_monthly

        read_ae_monthly(_file(tmp_path, b"RDX2\nX\n\x00\x00\x01garbage", "ae_attendances.rda"))
    src = resolve(
        "ics_ae_weights", _file(tmp_path, b"PK\x03\x04truncated", "Trust_to_ICS_mapping.xlsx")
    )
    with pytest.raises(DataFileError, match="not a readable .xlsx"):
        _base.read_xlsx(src, "Trust_ICS_weights_suppressed", required=["Trust_code"])


def test_a_file_with_only_a_byte_order_mark_is_empty(tmp_path):
    with pytest.raises(DataFileError, match="is empty"):
        read_ae_annual(_file(tmp_path, b"\xef\xbb\xbf"))


def test_completeness_reports_gaps_and_missing_shares_without_filling():
    df = pd.DataFrame(
        {
            "trust_code": ["A", "B", "A", "A"],
            "period": pd.to_datetime(["2022-04-01", "2022-04-01", "2022-05-01", "2022-07-01"]),
            "attendances": [10.0, None, 12.0, 9.0],
        }
    )
    report = _base.completeness(df, counts=["attendances"], period="period", units="trust_code")
    assert report["first"] == "2022-04-01" and report["last"] == "2022-07-01"
    assert report["periods_present"] == 3 and report["periods_expected"] == 4
    assert report["missing_periods"] == ["2022-06-01"]
    assert report["share_missing"] == {"attendances": 0.25}
    assert (report["units"], report["units_per_period_min"], report["units_per_period_max"]) == (
        2,
        1,
        2,
    )
    assert df["attendances"].isna().sum() == 1  # the table itself is untouched


def test_a_schema_can_document_a_family_of_files():
    schema = _base.Schema(
        dataset="discharge_sitrep_2022_04",
        columns=(_base.Column("x", "X"),),
        family=("discharge_sitrep_2022_04", "discharge_sitrep_2022_05"),
    )
    assert schema.covers("discharge_sitrep_2022_05") and not schema.covers("hm_ae")
