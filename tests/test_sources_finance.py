"""Finance reader: the real file (negative costs, scientific notation), and hand-made files."""

from __future__ import annotations

import csv
import re
from collections import Counter
from decimal import Decimal

import numpy as np
import pytest

from icsresearch.data.registry import get
from icsresearch.errors import DataFileError
from icsresearch.sources.finance import SCHEMA, read_finance

HEADER = "ORG_CODE,YEAR,FINANCIAL_POSITION,OP_INCOME,OP_COST"


@pytest.fixture(scope="module")
def finance(mirror):
    return read_finance()


@pytest.fixture(scope="module")
def raw(mirror):
    with open(mirror / get("hm_finance").path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.realdata
def test_shape_coverage_and_documentation(finance, raw):
    assert len(finance) == len(raw) == 2183
    assert dict(Counter(finance["year"])) == dict(Counter(int(r["YEAR"]) for r in raw))
    assert sorted(finance["year"].unique()) == list(range(2010, 2019))
    assert finance.attrs["verified"] is True and list(finance.attrs["columns"]) == SCHEMA.names
    assert not finance.duplicated(["trust_code", "year"]).any()


@pytest.mark.realdata
def test_costs_are_positive_and_values_match_the_raw_file(finance, raw):
    assert all(float(r["OP_COST"]) <= 0 for r in raw)  # the published convention
    by_key = finance.set_index(["trust_code", "year"])
    for r in raw:
        row = by_key.loc[(r["ORG_CODE"], int(r["YEAR"]))]
        values = [float(r[c]) for c in ("FINANCIAL_POSITION", "OP_INCOME", "OP_COST")]
        if values == [0.0, 0.0, 0.0]:
            assert row[["financial_position_gbp_k", "operating_income_gbp_k"]].isna().all()
            continue
        assert row["financial_position_gbp_k"] == values[0]
        assert row["operating_income_gbp_k"] == values[1]
        assert row["operating_cost_gbp_k"] == -values[2]
    assert (finance["operating_cost_gbp_k"].dropna() >= 0).all()


@pytest.mark.realdata
def test_rows_with_no_accounts_are_missing(finance, raw):
    empty = {
        (r["ORG_CODE"], int(r["YEAR"]))
        for r in raw
        if float(r["OP_INCOME"]) == float(r["OP_COST"]) == float(r["FINANCIAL_POSITION"]) == 0
    }
    assert empty == {("RBB", 2015), ("RD7", 2015)}
    missing = finance[finance.operating_cost_gbp_k.isna()]
    assert set(zip(missing.trust_code, missing.year, strict=True)) == empty


@pytest.mark.realdata
def test_scientific_notation_is_flagged_and_its_precision_quantified(finance, raw):
    sci = re.compile(r"^-?\d\.\d+E[+-]\d+$", re.IGNORECASE)
    cells = [
        (r["ORG_CODE"], int(r["YEAR"]), c, r[c])
        for r in raw
        for c in ("FINANCIAL_POSITION", "OP_INCOME", "OP_COST")
        if sci.match(r[c])
    ]
    assert len(cells) == 5
    flagged = finance[finance.rounded_in_source]
    assert set(zip(flagged.trust_code, flagged.year, strict=True)) == {
        (c, y) for c, y, _, _ in cells
    }
    # Half a unit in the last published digit: the most the true value can differ by.
    half_unit = {
        (code, year): 0.5 * 10.0 ** Decimal(text).as_tuple().exponent
        for code, year, _, text in cells
    }
    assert half_unit[("RW4", 2011)] == 5.0 and half_unit[("RYR", 2012)] == 500.0
    assert max(half_unit.values()) == 500.0
    # Every bound in the schema notes matches: +-5 on 5.00E+03, +-500 on 9.98E+05.
    assert "+-5 " in SCHEMA.notes and "+-500" in SCHEMA.notes
    rw4 = finance.query("trust_code == 'RW4' and year == 2011").iloc[0]
    assert rw4["financial_position_gbp_k"] == 5000.0  # raw "5.00E+03"
    assert (
        finance.query("trust_code == 'RYR' and year == 2012").operating_cost_gbp_k.item() == 367000
    )


@pytest.mark.realdata
def test_specific_values_traced_to_the_raw_file(finance):
    # Raw line "RA2,2010,5982,233898,-223686".
    ra2 = finance.query("trust_code == 'RA2' and year == 2010").iloc[0]
    assert (ra2.financial_position_gbp_k, ra2.operating_income_gbp_k, ra2.operating_cost_gbp_k) == (
        5982,
        233898,
        223686,
    )
    assert not ra2.rounded_in_source


# --- hand-made files ---------------------------------------------------------------------------


def _write(tmp_path, text, name="financial_positions.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _fails(path, *fragments):
    with pytest.raises(DataFileError) as info:
        read_finance(path)
    message = str(info.value)
    assert path.name in message and "Fix:" in message, message
    for fragment in fragments:
        assert fragment in message, message


def test_mostly_positive_costs_are_a_different_convention_and_refused(tmp_path):
    text = HEADER + "\nRA2,2018,100,5000,4900\nRA3,2018,-10,3000,3010\nRA4,2018,0,0,-10\n"
    _fails(_write(tmp_path, text), "mostly positive (2 of 3", "negate OP_COST")


def test_a_single_positive_cost_is_refused_too(tmp_path):
    text = HEADER + "\nRA2,2018,100,5000,-4900\nRA3,2018,-10,3000,-3010\nRA4,2018,0,10,10\n"
    _fails(_write(tmp_path, text), "mixes signs", "row 4: 10")


def test_negative_income(tmp_path):
    _fails(_write(tmp_path, HEADER + "\nRA2,2018,100,-5000,-4900\n"), "'OP_INCOME'", "negative")


def test_quoted_thousands_scientific_notation_and_missing_values(tmp_path):
    text = HEADER + '\nRA2,2018,"1,234","50,000",-4.88E+04\nRA3,2018,-,3000,-3010\n'
    df = read_finance(_write(tmp_path, text)).set_index("trust_code")
    assert df.loc["RA2", "financial_position_gbp_k"] == 1234
    assert df.loc["RA2", "operating_cost_gbp_k"] == 48800 and df.loc["RA2", "rounded_in_source"]
    assert (
        np.isnan(df.loc["RA3", "financial_position_gbp_k"])
        and not df.loc["RA3", "rounded_in_source"]
    )


def test_wrong_layout(tmp_path):
    _fails(
        _write(tmp_path, "ORG_CODE,YEAR,OP_INCOME,OP_COST\nRA2,2018,1,-1\n"), "FINANCIAL_POSITION"
    )
    _fails(_write(tmp_path, HEADER + "\nRA2,2018,1,1,-1 k\n", "b.csv"), "not numbers", "'-1 k'")
    _fails(_write(tmp_path, "", "c.csv"), "is empty")
