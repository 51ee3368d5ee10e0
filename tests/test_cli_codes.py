"""``icsresearch codes`` lists a footprint's systems; help texts show choices and an example."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from icsresearch import geography
from icsresearch.cli import app
from icsresearch.errors import InvalidParameterError


def _run(*args: str) -> str:
    res = CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    return res.output


def test_codes_lists_every_demo_system_of_2022_with_name_and_region():
    out = _run("codes", "--source", "demo")
    table = geography.icbs(2022, "demo")
    assert "synthetic demo data: 42 fictional systems" in out
    assert "2022 footprint: 42 systems" in out
    for code, name, region in zip(
        table["icb_code"], table["short_name"], table["region_name"], strict=True
    ):
        assert re.search(rf"{code}\s+│ {re.escape(name)}\s+│ {re.escape(region)}", out), code
    assert "replaced" not in out  # only the 2026 footprint replaced systems


def test_codes_2026_says_what_each_board_replaced():
    out = _run("codes", "--footprint", "2026", "--source", "demo")
    table = geography.icbs(2026, "demo").set_index("icb_code")
    assert "36 systems" in out and "replaced (2022 footprint)" in out
    first, second = table.loc["ZN01", "predecessors"].split(";")
    old = geography.icbs(2022, "demo").set_index("icb_code")["short_name"]
    row = next(line for line in out.splitlines() if line.startswith("│ ZN01"))
    assert f"{first} {old[first]}, {second} {old[second]}" in row
    unchanged = next(line for line in out.splitlines() if line.startswith("│ ZQ01"))
    assert "unchanged" in unchanged


def test_codes_rejects_a_bad_footprint_with_the_package_error():
    res = CliRunner().invoke(app, ["codes", "--footprint", "2024", "--source", "demo"])
    assert isinstance(res.exception, InvalidParameterError)
    assert "footprint='2024' is not allowed; choose one of 2022, 2026" in str(res.exception)


@pytest.mark.parametrize("command", ["codes", "reports", "demo", "version", "panel build"])
def test_help_shows_choices_not_types_and_one_example(command):
    out = _run(*command.split(), "--help")
    assert "Example: icsresearch " + command.split()[0] in out
    assert "<integer>" not in out and "<path>" not in out
    assert "<bool>" not in out  # a flag takes no value (typer 0.29 printed one; pinned below it)
    if command in ("codes", "reports", "panel build"):
        assert "2022|2026" in out and "real|demo" in out
        assert "<str>" not in out and "<integer>" not in out and "<text>" not in out.lower()


def test_reports_says_what_it_checks_at_once_and_suggests_codes(tmp_path):
    from icsresearch.errors import UnknownCodeError

    res = CliRunner().invoke(
        app, ["reports", "--ics", "zq1", "--source", "demo", "--out", str(tmp_path / "r")]
    )
    assert isinstance(res.exception, UnknownCodeError), res.output
    assert "reports: zq1 (2022 footprint, demo data); checking the codes" in res.output
    assert "'zq1': did you mean ZQ01 (" in str(res.exception)
    assert not (tmp_path / "r").exists()
