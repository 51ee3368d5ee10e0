"""NHS Staff Survey management items and the trust management score, checked against the raw CSV
and against published national response totals."""

from __future__ import annotations

import csv
import math
import re
from collections import defaultdict
from pathlib import Path

import pandas as pd
import pytest

from icsresearch.errors import DataFileError, InvalidParameterError
from icsresearch.sources import staff_survey as ss

RAW = "hospital_management/data/csv/NHS_SS_management.csv"
ITEMS = ["7a", "7b", "7c", "7d", "7e", "7f", "7g", "8a", "8b", "8c", "8d"]
LEVELS = ["SD", "D", "NAND", "A", "SA"]


def _raw_rows(mirror: Path) -> list[dict[str, str]]:
    with open(mirror / RAW, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def _raw_item_scores(rows) -> dict[tuple[str, int, str], float]:
    """(org, year, item) -> mean response 1-5, straight from the CSV text."""
    scores = {}
    for r in rows:
        for item in ITEMS:
            if r[f"{item}_SD"] == "NA":
                continue
            pct = [float(r[f"{item}_{lvl}"]) for lvl in LEVELS]
            scores[(r["ORG_CODE"], int(r["YEAR"]), item)] = (
                sum(w * p for w, p in zip(range(1, 6), pct, strict=True)) / 100
            )
    return scores


@pytest.fixture(scope="module")
def items(mirror):
    return ss.read_staff_survey_items()


@pytest.mark.realdata
def test_items_match_the_raw_csv(mirror, items):
    rows = _raw_rows(mirror)
    assert items.attrs["verified"] is True and set(items.attrs["columns"]) == set(items.columns)
    expected = _raw_item_scores(rows)
    assert len(items) == len(expected) == 14367
    got = items.set_index(["trust_code", "year", "item"])
    score = got.item_score.to_dict()
    assert score.keys() == expected.keys()
    assert all(math.isclose(score[k], v, rel_tol=1e-12) for k, v in expected.items())
    # every percentage and count, for a spread of rows
    for r in rows[::97]:
        for item in ITEMS:
            if r[f"{item}_SD"] == "NA":
                continue
            one = got.loc[(r["ORG_CODE"], int(r["YEAR"]), item)]
            assert one.pct_strongly_disagree == float(r[f"{item}_SD"])
            assert one.pct_neither == float(r[f"{item}_NAND"])
            assert one.pct_strongly_agree == float(r[f"{item}_SA"])
            assert one.n_responses == int(r[f"{item}_N"])
    assert not items.duplicated(["trust_code", "year", "item"]).any()
    assert (items.year == items.survey_year).all()
    assert sorted(items.year.unique()) == list(range(2012, 2019))


@pytest.mark.realdata
def test_one_item_score_by_hand(items):
    # Line 2 of the file: RBS, 2012, 7a = 3.166226913, 11.34564644, 21.10817942, 48.54881266,
    # 15.83113456 (%), N = 379.
    row = items.query("trust_code == 'RBS' and year == 2012 and item == '7a'").iloc[0]
    by_hand = (
        1 * 3.166226913 + 2 * 11.34564644 + 3 * 21.10817942 + 4 * 48.54881266 + 5 * 15.83113456
    ) / 100
    assert row.item_score == pytest.approx(by_hand, abs=1e-12) and row.n_responses == 379


@pytest.mark.realdata
def test_items_not_asked_are_left_out(mirror, items):
    rows = _raw_rows(mirror)
    not_asked = {(int(r["YEAR"]), item) for r in rows for item in ITEMS if r[f"{item}_SD"] == "NA"}
    assert {item for _, item in not_asked} == {"7f", "7g"}
    assert {year for year, _ in not_asked} == {2012, 2013, 2014}
    asked = items.groupby("year").item.nunique().to_dict()
    assert asked == {2012: 9, 2013: 9, 2014: 9, 2015: 11, 2016: 11, 2017: 11, 2018: 11}


@pytest.mark.realdata
def test_year_is_the_autumn_survey_year(items):
    """Published national totals: 2016 survey 423,000 responses from 316 organisations; 2017
    survey 487,227 from 309 (NHS England statistical notices). 2015 had about 299,000."""
    q8a = (
        items[items.item == "8a"]
        .groupby("year")
        .agg(n=("n_responses", "sum"), orgs=("trust_code", "nunique"))
    )
    assert 0.95 < q8a.loc[2016, "n"] / 423_000 <= 1 and q8a.loc[2016, "orgs"] <= 316
    assert 0.95 < q8a.loc[2017, "n"] / 487_227 <= 1 and q8a.loc[2017, "orgs"] <= 309
    # shifted by a year, the 2016 label would exceed the whole 2015 survey
    assert q8a.loc[2016, "n"] > 299_000


@pytest.mark.realdata
def test_management_scores_match_an_independent_computation(mirror, items):
    scores = ss.management_scores(items)
    assert set(scores.attrs["columns"]) == set(scores.columns)
    assert scores.attrs["sha256"] == items.attrs["sha256"]
    by_org_year = defaultdict(dict)
    for (org, year, item), value in _raw_item_scores(_raw_rows(mirror)).items():
        by_org_year[(org, year)][item] = value
    assert len(scores) == len(by_org_year) == 1393
    got = scores.set_index(["trust_code", "year"])

    def scale(values):
        return (sum(values) / len(values) - 1) / 4 * 100

    for key, item_scores in by_org_year.items():
        row = got.loc[key]
        checks = {
            "management_score": list(item_scores.values()),
            "immediate_manager_score": [v for i, v in item_scores.items() if i.startswith("7")],
            "senior_manager_score": [v for i, v in item_scores.items() if i.startswith("8")],
        }
        for col, values in checks.items():
            # rounded to 1 decimal: within half a step of the exact value, on the 0.1 grid
            assert abs(row[col] - scale(values)) <= 0.05 + 1e-9, (key, col)
            assert abs(row[col] * 10 - round(row[col] * 10)) < 1e-9
        assert row.n_items == len(item_scores)
    assert scores.management_score.between(0, 100).all()
    assert set(scores.n_items) == {9, 11}


@pytest.mark.realdata
def test_management_scores_reads_the_registry_by_default(items):
    pd.testing.assert_frame_equal(ss.management_scores(), ss.management_scores(items))


@pytest.mark.realdata
def test_questions(mirror):
    with open(
        mirror / "hospital_management/data/csv/NHS_SS_questions.csv", encoding="utf-8-sig"
    ) as fh:
        raw = {r["QUESTION"]: r["DESCRIPTION"] for r in csv.DictReader(fh)}
    df = ss.read_staff_survey_questions()
    assert df.attrs["verified"] is True and set(df.attrs["columns"]) == set(df.columns)
    assert dict(zip(df.item, df.question, strict=True)) == raw
    assert df.item.tolist() == ITEMS
    assert df.groupby("manager_level").item.apply(list).to_dict() == {
        "immediate": ITEMS[:7],
        "senior": ITEMS[7:],
    }


# --- hand-made files ------------------------------------------------------------------------


HEADER = "ORG_CODE,YEAR," + ",".join(f"{i}_{x}" for i in ITEMS for x in [*LEVELS, "N"])


def _line(
    code: str, year, values: dict[str, tuple] | None = None, default=(5, 10, 20, 45, 20, 100)
):
    """One CSV line; items not in ``values`` get ``default``; a value of None writes NA."""
    values = values or {}
    cells = [code, str(year)]
    for item in ITEMS:
        v = values.get(item, default)
        cells += ["NA"] * 6 if v is None else [str(x) for x in v]
    return ",".join(cells)


def _file(
    tmp_path: Path, lines: list[str], *, bom: bool = False, name="NHS_SS_management.csv"
) -> Path:
    path = tmp_path / name
    text = ("\ufeff" if bom else "") + "\r\n".join([HEADER, *lines]) + "\r\n"
    path.write_bytes(text.encode("utf-8"))
    return path


def _error(reader, path: Path) -> str:
    with pytest.raises(DataFileError) as info:
        reader(path)
    message = str(info.value)
    assert path.name in message and "Fix:" in message, message
    return message


def test_small_file_with_bom_spaces_and_items_not_asked(tmp_path):
    lines = [
        _line("RA2 ", 2013, {"7f": None, "7g": None}),
        _line("01T/01V", 2016, {"8a": ("10", "10", "10", "40", "30", "55")}),
    ]
    items = ss.read_staff_survey_items(_file(tmp_path, lines, bom=True))
    assert items.attrs["verified"] is False
    assert len(items) == 9 + 11 and set(items.trust_code) == {"RA2", "01T/01V"}
    default_score = (1 * 5 + 2 * 10 + 3 * 20 + 4 * 45 + 5 * 20) / 100  # 3.65
    assert items.query("trust_code == 'RA2'").item_score.tolist() == [default_score] * 9
    scores = ss.management_scores(items).set_index("trust_code")
    assert scores.loc["RA2", "n_items"] == 9
    # (3.65 - 1) / 4 * 100 = 66.25, a tie: rounded half to even like R's round()
    assert scores.loc["RA2", "management_score"] == 66.2
    q8a = (10 + 20 + 30 + 160 + 150) / 100  # 3.7
    expected_senior = ((3 * default_score + q8a) / 4 - 1) / 4 * 100
    assert scores.loc["01T/01V", "senior_manager_score"] == pytest.approx(round(expected_senior, 1))
    assert scores.loc["01T/01V", "immediate_manager_score"] == 66.2  # (3.65 - 1) / 4 * 100 = 66.25


def test_rounded_percentages_are_accepted(tmp_path):
    # 2016-2017 publish whole percentages that can sum to 98-102
    items = ss.read_staff_survey_items(
        _file(tmp_path, [_line("RA2", 2016, default=(5, 10, 20, 45, 22, 80))])
    )
    assert items.item_score.iloc[0] == pytest.approx((5 + 20 + 60 + 180 + 110) / 100)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"7c": ("5", "10", "NA", "45", "20", "100")}, "some but not all of the six values"),
        ({"7c": (0.05, 0.1, 0.2, 0.45, 0.2, 100)}, "look like fractions"),
        ({"7c": (5, 10, 20, 45, 40, 100)}, "do not sum to 100"),
        ({"7c": (5, 10, 20, 45, 120, 100)}, "outside 0-100"),
        ({"7c": (5, 10, 20, 45, 20, 99.5)}, "not whole non-negative numbers"),
        ({"7c": (5, 10, 20, 45, 20, "lots")}, "'7c_N' has 1 value(s) that are not numbers"),
    ],
)
def test_bad_item_values(tmp_path, values, expected):
    message = _error(ss.read_staff_survey_items, _file(tmp_path, [_line("RA2", 2017, values)]))
    assert expected in message
    if "line" in message:
        assert "line 2 item 7c" in message


def test_all_items_as_fractions_is_caught(tmp_path):
    path = _file(tmp_path, [_line("RA2", 2017, default=(0.05, 0.1, 0.2, 0.45, 0.2, 100))])
    assert "multiply the share columns by 100" in _error(ss.read_staff_survey_items, path)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "is empty"),
        (b"ORG_CODE,YEAR,7a_SD\nRA2,2017,5\n", r"missing column\(s\) \['7a_D'"),
        (None, "not valid utf-8"),
        (None, "looks truncated"),
        (None, "not organisation codes"),
        (None, "outside 2000-2100"),
        (None, "repeat the key"),
    ],
)
def test_bad_files(tmp_path, content, expected):
    good = _line("RA2", 2017)
    if content is None:
        if expected == "not valid utf-8":
            content = (HEADER + "\n" + good.replace("RA2", "R\xe92") + "\n").encode("latin-1")
        elif expected == "looks truncated":
            content = (HEADER + "\n" + good + "\n" + good[:20]).encode()
        elif expected == "not organisation codes":
            content = (HEADER + "\n" + good.replace("RA2", "RA2-X") + "\n").encode()
        elif expected == "outside 2000-2100":
            content = (HEADER + "\n" + good.replace(",2017,", ",17,") + "\n").encode()
        else:
            content = (HEADER + "\n" + good + "\n" + good + "\n").encode()
    path = tmp_path / "NHS_SS_management.csv"
    path.write_bytes(content)
    assert re.search(expected, _error(ss.read_staff_survey_items, path))


def test_management_scores_needs_the_items_table():
    with pytest.raises(InvalidParameterError, match=r"lacks column\(s\) \['item_score'\]"):
        ss.management_scores(pd.DataFrame({"trust_code": ["RA2"], "year": [2017], "item": ["7a"]}))


def test_questions_file_errors(tmp_path):
    path = tmp_path / "NHS_SS_questions.csv"
    path.write_text("QUESTION,DESCRIPTION\n7a,My immediate manager encourages teamwork\n9z,Other\n")
    assert "outside 7a-7g and 8a-8d" in _error(ss.read_staff_survey_questions, path)
    path.write_text("QUESTION,WORDING\n7a,x\n")
    assert "missing column(s) ['DESCRIPTION']" in _error(ss.read_staff_survey_questions, path)
