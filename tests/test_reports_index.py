"""The batch index: units and definitions per column, a complete England row, the 2026 changes.

The index is written from report manifests; these tests write small manifests by hand (the
fields a report writes) so every column's content can be checked without running reports.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest

from icsresearch.reports.index import (
    HEADLINE_COLUMNS,
    column_definition,
    footprint_changes,
    write_index,
)

HEADLINE = {
    "population": 1_234_567.0,
    "ae_4hr_pct": 71.25,
    "ae_4hr_pct_fy": "2023/24",
    "ga_occupancy_pct": 93.4,
    "delayed_per_100_ga_beds": 12.6,
    "staff_burnout_pct": 33.3,
}
ENGLAND = {
    "england_population": 56_000_000.0,
    "england_ae_4hr_pct": 73.9,
    "england_ga_occupancy_pct": 92.1,
    "england_delayed_per_100_ga_beds": 13.0,
    "england_staff_burnout_pct": 34.0,
}


def report(out: Path, code: str, *, footprint: int, source: str, headline: dict) -> None:
    folder = out / code
    folder.mkdir(parents=True)
    (folder / "report.html").write_text("<html></html>")
    manifest = {
        "status": "ok",
        "parameters": {"source": source, "footprint": footprint, "year": 2023, "method": "x"},
        "system": {"short_name": f"System {code}", "region_name": "East of England"},
        "headline": headline,
        "synthetic": source == "demo",
        "timings": {"total": 12.3},
    }
    (folder / "manifest.json").write_text(json.dumps(manifest))


def cells(row: str) -> list[str]:
    return [
        html.unescape(re.sub("<[^>]+>", "", c)) for c in re.findall(r"<td[^>]*>(.*?)</td>", row)
    ]


def test_every_column_has_its_unit_and_definition_and_the_england_row_is_complete(tmp_path):
    out = tmp_path / "reports"
    report(out, "QE1", footprint=2022, source="real", headline={**HEADLINE, **ENGLAND})
    # a second system without a burnout figure: the column stays, its cell shows "-"
    other = {k: v for k, v in HEADLINE.items() if k != "staff_burnout_pct"}
    report(out, "QH8", footprint=2022, source="real", headline={**other, **ENGLAND})
    page = write_index(out, order=["QE1", "QH8"]).read_text()

    shown = [k for k, _, _ in HEADLINE_COLUMNS if k in HEADLINE]
    for key in shown:
        unit, definition = column_definition(key)
        assert unit and len(definition) > 40, key
        # the unit under the heading, the definition on hover and in the list under the table
        assert f'title="{html.escape(definition, quote=True)}"' in page
        assert f'<span class="unit">{html.escape(unit)}</span>' in page
        assert html.escape(definition) in page
    # columns no report has a figure for are left out; the batch's own timings are not shown
    assert "SHMI" not in page and "RTT within 18 weeks" not in page
    assert "Seconds" not in page and "12.3" not in page
    # the header says which year the A&E figure is for
    assert "A&amp;E within 4 hours 2023/24" in page

    england = re.search(r'<tr class="england">(.*?)</tr>', page, re.S).group(1)
    values = cells(england)
    assert values[1:3] == ["England", "all regions"]
    assert values[4 : 4 + len(shown)] == ["56,000,000", "73.9", "92.1", "13.0", "34.0"]

    rows = re.search(r'<tbody class="sortable">(.*?)</tbody>', page, re.S).group(1)
    qe1, qh8 = re.findall(r"<tr[^>]*>(.*?)</tr>", rows, re.S)
    assert cells(qe1)[4 : 4 + len(shown)] == ["1,234,567", "71.2", "93.4", "12.6", "33.3"]
    assert cells(qh8)[4 + shown.index("staff_burnout_pct")] == "-"
    # sortable: each numeric cell carries the number it sorts by
    assert 'data-sort="71.25"' in qe1 and 'data-sort=""' in qh8
    assert "2026 footprint" not in page  # only an index of 2026 reports has that column


@pytest.mark.parametrize("source", ["real", "demo"])
def test_an_index_of_2026_reports_says_which_systems_are_new_or_changed(tmp_path, source):
    changes = footprint_changes(2026, source)
    merged = next(c for c, text in changes.items() if text.startswith("new 1 April 2026"))
    out = tmp_path / "reports"
    unchanged = "ZN99" if source == "demo" else "QE1"
    report(out, merged, footprint=2026, source=source, headline={**HEADLINE, **ENGLAND})
    report(out, unchanged, footprint=2026, source=source, headline={**HEADLINE, **ENGLAND})
    page = write_index(out, order=[merged, unchanged]).read_text()

    assert '<button type="button">2026 footprint</button>' in page
    rows = re.search(r'<tbody class="sortable">(.*?)</tbody>', page, re.S).group(1)
    by_code = {cells(r)[0]: cells(r) for r in re.findall(r"<tr[^>]*>(.*?)</tr>", rows, re.S)}
    assert by_code[merged][-2] == changes[merged]
    assert "formed from all or part of" in by_code[merged][-2]
    assert by_code[unchanged][-2] == "unchanged"
    # the England row has a cell for the column too, so the table stays rectangular
    england = re.search(r'<tr class="england">(.*?)</tr>', page, re.S).group(1)
    assert len(cells(england)) == len(by_code[merged])
    if source == "demo":
        assert "Synthetic demo data." in page
