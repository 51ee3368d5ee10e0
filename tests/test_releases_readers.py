"""The release readers on hand-made files in the documented layouts, with each quirk.

RTT Full CSV (bands to 52+ and to 104+, C_999 total rows or none, blank cells, Windows-1252
names, other RTT parts), A&E monthly CSV and provider workbook (title block, merged group
headers, England and blank rows, '-' for not applicable, footnotes), SHMI trust level (CSV and
workbook, numeric and worded bandings). Read with ``path=`` (no lockfile: unverified).
"""

from __future__ import annotations

import io
import math
import zipfile

import numpy as np
import pandas as pd
import pytest

from icsresearch import releases
from icsresearch.errors import DataFileError
from icsresearch.releases import read_ae, read_ae_provider, read_rtt, read_shmi, rtt_providers
from releases_fixtures import (
    AE_PROVIDERS,
    ae_csv,
    ae_expected,
    ae_workbook,
    as_xls,
    rtt_csv,
    rtt_expected,
    shmi_csv,
    shmi_rows,
    shmi_workbook,
    shmi_zip,
    write,
    zipped,
)


@pytest.mark.parametrize("period", ["2021-03", "2021-04"])  # open band at 52, then at 104
def test_rtt_provider_totals_match_the_bands(tmp_path, period):
    path = write(tmp_path, "f.zip", zipped("x.csv", rtt_csv(period)))
    rtt = read_rtt(path=path)
    assert rtt.attrs["verified"] is False
    prov = rtt_providers(rtt).set_index("provider_code")
    for code, want in rtt_expected(period).items():
        got = prov.loc[code]
        assert got["incomplete_pathways"] == want["total"]
        assert got["within_18wk"] == want["within"]
        assert got["over_52wk"] == want["over52"]
        assert got["rtt_18wk_pct"] == want["pct"]
        if period >= "2021-04":
            assert got["over_104wk"] == want["over104"] and not math.isnan(got["over_65wk"])
        else:  # a count past the open band's start cannot be known
            assert math.isnan(got["over_65wk"]) and math.isnan(got["over_104wk"])
    assert set(rtt["open_band_weeks"]) == {104 if period >= "2021-04" else 52}
    # Windows-1252 names decoded; the commissioner level kept
    assert "GUY\u2019S AND ST THOMAS\u2019 NHS FOUNDATION TRUST" in set(rtt["provider_name"])
    assert set(rtt["commissioner_code"]) == {"14L", "72Q"}


def test_rtt_without_total_rows_sums_the_treatment_functions(tmp_path):
    with_total = read_rtt(path=write(tmp_path, "a.csv", rtt_csv("2021-04")))
    without = read_rtt(path=write(tmp_path, "b.csv", rtt_csv("2021-04", total_rows=False)))
    cols = ["incomplete_pathways", "within_18wk", "over_52wk", "over_104wk"]
    pd.testing.assert_frame_equal(with_total[cols], without[cols])


def test_rtt_refuses_files_that_are_not_the_full_csv(tmp_path):
    text = rtt_csv("2021-04").decode("cp1252")
    no_band = text.replace("Gt 07 To 08 Weeks SUM 1", "Gt 7 To 9 Weeks SUM 1")
    with pytest.raises(DataFileError, match="not consecutive"):
        read_rtt(path=write(tmp_path, "a.csv", no_band.encode("cp1252")))
    with pytest.raises(DataFileError, match="no week-band columns"):
        read_rtt(path=write(tmp_path, "b.csv", b"Period,Org Code\nRTT-April-2021,R0A\n"))
    incomplete_only = "\n".join(
        line for line in text.splitlines() if ",Part_2," not in line and "Part_2A" not in line
    )
    with pytest.raises(DataFileError, match="no incomplete pathways"):
        read_rtt(path=write(tmp_path, "c.csv", incomplete_only.encode("cp1252")))


def test_ae_csv_and_workbook_give_the_same_table(tmp_path):
    csv = read_ae(path=write(tmp_path, "Monthly-AE-April-2024.csv", ae_csv("2024-04")))
    book = read_ae_provider(path=write(tmp_path, "April-2024-AE.xlsx", ae_workbook("2024-04")))
    assert list(csv["org_code"]) == sorted(p[0] for p in AE_PROVIDERS)  # England, TOTAL gone
    pd.testing.assert_frame_equal(
        csv.drop(columns="parent_org"), book.drop(columns="parent_org"), check_dtype=False
    )
    for i, (code, *_rest) in enumerate(AE_PROVIDERS):
        row = csv.set_index("org_code").loc[code]
        for k, v in ae_expected("2024-04", i).items():
            assert (math.isnan(v) and math.isnan(row[k])) or row[k] == v, (code, k)
    assert csv["period"].eq(pd.Timestamp("2024-04-01")).all() and csv["year"].eq(2024).all()
    # '-' is not applicable: missing, never 0
    assert math.isnan(csv.set_index("org_code").loc["RJ1", "attendances_type2"])


def test_ae_provider_xls_as_published_reads_as_the_xlsx(tmp_path):
    # NHS England publishes this workbook as .xls (BIFF8): merged group cells and all
    xlsx = read_ae_provider(path=write(tmp_path, "a.xlsx", ae_workbook("2024-04")))
    path = write(tmp_path, "April-2024-AE-by-provider-PP2Gw.xls", as_xls(ae_workbook("2024-04")))
    assert path.read_bytes()[:8] == bytes.fromhex("d0cf11e0a1b11ae1")  # an OLE2 file, not a zip
    pd.testing.assert_frame_equal(read_ae_provider(path=path), xlsx)


def test_ae_workbook_header_found_by_text_when_it_moves_or_loses_its_group_row(tmp_path):
    documented = read_ae_provider(path=write(tmp_path, "a.xlsx", ae_workbook("2024-04")))
    moved = read_ae_provider(path=write(tmp_path, "b.xlsx", ae_workbook("2024-04", top=21)))
    bare = ae_workbook("2024-04", top=12, groups_row=False)  # attendances, then >4h, by order
    no_groups = read_ae_provider(path=write(tmp_path, "c.xlsx", bare))
    pd.testing.assert_frame_equal(documented, moved)
    pd.testing.assert_frame_equal(documented, no_groups)
    want = ae_expected("2024-04", 0)
    assert documented.set_index("org_code").loc["R0A", "over_4hr_total"] == want["over_4hr_total"]


def test_ae_csv_with_a_missing_column_names_it(tmp_path):
    text = ae_csv("2024-04").decode("utf-8-sig").replace("Attendances over 4hrs Type 1,", "X,")
    with pytest.raises(DataFileError, match="attendances over 4hrs type 1"):
        read_ae(path=write(tmp_path, "a.csv", text.encode()))


def test_ae_month_must_match_the_lock(tmp_path):
    from icsresearch.releases import ae
    from icsresearch.releases._read import locked_sources

    [(_, src)] = locked_sources("ae", None, None, write(tmp_path, "a.csv", ae_csv("2024-04")))
    with pytest.raises(DataFileError, match="locked as 2024-05"):
        ae._parse_csv(src, "a.csv", ae_csv("2024-04"), "2024-05")


def test_shmi_csv_and_workbook_agree(tmp_path):
    from_zip = read_shmi(
        path=write(tmp_path, "SHMI data files, Apr23-Mar24.zip", shmi_zip("2024-03"))
    )
    from_csv = read_shmi(path=write(tmp_path, "trust level, Apr23-Mar24.csv", shmi_csv("2024-03")))
    from_book = read_shmi(
        path=write(tmp_path, "trust level, Apr23-Mar24.xlsx", shmi_workbook("2024-03"))
    )
    pd.testing.assert_frame_equal(from_zip, from_csv)
    pd.testing.assert_frame_equal(from_csv, from_book, check_dtype=False)
    rows = {r[0]: r for r in shmi_rows("2024-03")}
    for _, r in from_zip.iterrows():
        code, _, shmi, band, spells, obs, exp = rows[r["trust_code"]]
        assert (r["shmi"], r["spells"], r["observed_deaths"], r["expected_deaths"]) == (
            shmi,
            spells,
            obs,
            exp,
        )
        assert (
            r["banding"]
            == {1: "higher than expected", 2: "as expected", 3: "lower than expected"}[band]
        )
    assert from_zip["year"].eq(2023).all()  # April 2023 - March 2024 is 2023/24
    assert from_zip["window_start"].eq(pd.Timestamp("2023-04-01")).all()


def test_shmi_window_not_a_financial_year_has_no_year(tmp_path):
    df = read_shmi(path=write(tmp_path, "SHMI data files, Jul20-Jun21.zip", shmi_zip("2021-06")))
    assert df["year"].isna().all() and df["window_end"].eq(pd.Timestamp("2021-06-01")).all()


def test_shmi_zip_with_only_the_workbook(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("SHMI data at trust level, Apr23-Mar24 (xlsx).xlsx", shmi_workbook("2024-03"))
    df = read_shmi(path=write(tmp_path, "SHMI data files, Apr23-Mar24.zip", buf.getvalue()))
    assert len(df) == 3 and np.isfinite(df["expected_deaths"]).all()


def test_public_api_has_numpydoc_docstrings():
    from test_docstrings import docstring_problems

    problems = {}
    for name in releases.__all__:
        obj = getattr(releases, name)
        if callable(obj) and not isinstance(obj, dict):
            found = docstring_problems(obj)
            if found:
                problems[name] = found
    assert not problems, problems
