"""R's round() and rowMeans(), against R itself.

Reference: ``tests/reference/r_round_reference.json``, written by
``tests/reference/make_r_round_reference.R`` (R 4.2.2): ``round(x, digits)`` of edge cases (exact
binary halves, decimal near-halves, negatives, negative digits) and of every raw management
score ``((rowMeans(items) - 1) / 4) * 100`` of the real staff survey file.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from icsresearch.rcompat import r_round, r_row_means

REFERENCE = json.loads(
    (Path(__file__).parent / "reference" / "r_round_reference.json").read_text(encoding="utf-8")
)


def _value(v):
    return np.nan if v is None else float(v)


def test_r_round_matches_r_on_every_case():
    cases = REFERENCE["cases"]
    assert len(cases) > 1000
    for digits in sorted({c["digits"] for c in cases}):
        sub = [c for c in cases if c["digits"] == digits]
        x = np.array([_value(c["x"]) for c in sub])
        expected = np.array([_value(c["r"]) for c in sub])
        np.testing.assert_array_equal(r_round(x, digits), expected)  # exact, bit for bit


def test_r_round_differs_from_python_where_r_does():
    assert r_round(0.45, 1) == 0.4 and round(0.45, 1) == 0.5  # noqa: RUF057
    assert r_round(62.25, 1) == 62.2 and r_round(2.5) == 2.0 and r_round(-0.05, 1) == 0.0
    assert np.isnan(r_round(np.nan, 1)) and r_round(np.inf, 1) == np.inf


@pytest.mark.realdata
def test_row_means_reproduce_r_management_scores(mirror):
    from icsresearch.replications.asaria2022 import authors_management_scores
    from icsresearch.sources.staff_survey import read_staff_survey_items

    raw = {
        tuple(c["label"].split()[1:3]): c
        for c in REFERENCE["cases"]
        if c["label"].startswith("management_score ")
    }
    assert len(raw) == 1393
    scores = authors_management_scores(read_staff_survey_items())
    got = {(r.trust_code, str(r.year)): r.management_score for r in scores.itertuples()}
    assert {k: got.get(k) for k in raw} == {k: c["r"] for k, c in raw.items()}
    differs = {(d["code"], d["year"]) for d in REFERENCE["management_score_rounding_differs"]}
    assert differs == {("RM1", 2016), ("RJL", 2016), ("RXC", 2016), ("RY1", 2016)}
    assert got[("RXC", "2016")] == 63.7 and got[("RM1", "2016")] == 61.3


def test_row_means_skip_missing_and_sum_in_extended_precision():
    m = np.array([[1.0, np.nan, 3.0], [np.nan, np.nan, np.nan], [0.1, 0.2, 0.3]])
    out = r_row_means(m)
    assert out[0] == 2.0 and np.isnan(out[1])
    assert out[2] == float((np.longdouble(0.1) + np.longdouble(0.2) + np.longdouble(0.3)) / 3)
