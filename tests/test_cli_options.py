"""Command-line options: the package's option words, one error shape, real data by default.

The commands check ``--source``, ``--footprint``, ``--method`` and ``--level`` with
:func:`icsresearch.options.check` before anything runs, convert the footprint's text to the int
every Python function takes, and default to real data (``icsresearch demo`` is the demo).
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from icsresearch import config
from icsresearch.cli import app
from icsresearch.errors import DataUnavailableError, InvalidParameterError
from icsresearch.reports.batch import BatchResult

BAD = [
    ("--source", "live", "source='live' is not allowed; choose one of 'demo', 'real'"),
    ("--footprint", "2024", "footprint='2024' is not allowed; choose one of 2022, 2026"),
    (
        "--method",
        "postcode",
        "method='postcode' is not allowed; choose one of 'headquarters', 'catchment', "
        "'ae_activity'",
    ),
]


@pytest.fixture
def calls(monkeypatch, tmp_path):
    """Record what the commands hand to the Python API instead of building anything."""
    seen: dict[str, dict] = {}

    def panel(name):
        def build(source, **kwargs):
            seen[name] = {"source": source, **kwargs}
            frame = pd.DataFrame({"trust_code": ["RXX"], "year": [2018]})
            frame.attrs["synthetic"] = source == "demo"
            return frame

        return build

    def batch(codes, **kwargs):
        seen["run_batch"] = {"codes": codes, **kwargs}
        return BatchResult(tmp_path, tmp_path / "index.html", [], 0.0, 1)

    monkeypatch.setattr("icsresearch.panel.trust_year_panel", panel("trust_year_panel"))
    monkeypatch.setattr("icsresearch.panel.ics_year_panel", panel("ics_year_panel"))
    monkeypatch.setattr("icsresearch.reports.batch.run_batch", batch)
    return seen


def test_reports_default_to_real_data_and_pass_the_footprint_as_an_int(calls, tmp_path):
    res = CliRunner().invoke(app, ["reports", "--ics", "QYG", "--footprint", "2026", "-q"])
    assert res.exit_code == 0, res.output
    got = calls["run_batch"]
    assert got["source"] == "real" and got["footprint"] == 2026 and type(got["footprint"]) is int
    assert "synthetic demo data" not in res.output


def test_panel_build_defaults_to_real_data_and_records_the_synthetic_flag(calls, tmp_path):
    out = tmp_path / "p.csv"
    res = CliRunner().invoke(
        app, ["panel", "build", "--level", "ics", "--footprint", "2026", "--out", str(out)]
    )
    assert res.exit_code == 0, res.output
    got = calls["ics_year_panel"]
    assert got["source"] == "real" and got["footprint"] == 2026 and type(got["footprint"]) is int
    assert got["method"] == "headquarters"
    manifest = json.loads(out.with_name("p.csv.manifest.json").read_text())
    assert manifest["synthetic"] is False
    res = CliRunner().invoke(
        app, ["panel", "build", "--source", "demo", "--out", str(tmp_path / "d.csv")]
    )
    assert res.exit_code == 0, res.output
    assert calls["trust_year_panel"]["source"] == "demo"
    assert json.loads((tmp_path / "d.csv.manifest.json").read_text())["synthetic"] is True
    assert "synthetic demo data" in res.output


def test_a_table_without_provenance_is_recorded_as_unknown(tmp_path):
    from icsresearch.cli import write_table

    paths = write_table(pd.DataFrame({"x": [1]}), tmp_path / "t.csv")
    manifest = json.loads(paths[1].read_text())
    assert manifest["synthetic"] is None and manifest["inputs"] == []


@pytest.mark.parametrize(("option", "value", "message"), BAD)
def test_bad_options_give_one_error_before_anything_runs(calls, tmp_path, option, value, message):
    for command in (
        ["reports", "--ics", "ZQ01", option, value, "--out", str(tmp_path / "r")],
        ["panel", "build", option, value, "--out", str(tmp_path / "p.csv")],
    ):
        res = CliRunner().invoke(app, command)
        assert isinstance(res.exception, InvalidParameterError), (command, res.output)
        assert message in str(res.exception)
    assert calls == {} and not list(tmp_path.iterdir())


def test_panel_build_checks_the_level_and_the_file_name_first(calls, tmp_path):
    res = CliRunner().invoke(
        app, ["panel", "build", "--level", "region", "--out", str(tmp_path / "p.csv")]
    )
    assert isinstance(res.exception, InvalidParameterError)
    assert "level='region' is not allowed; choose one of 'trust', 'ics'" in str(res.exception)
    res = CliRunner().invoke(app, ["panel", "build", "--out", str(tmp_path / "p.xlsx")])
    assert isinstance(res.exception, InvalidParameterError)
    assert ".csv or .parquet" in str(res.exception)
    assert calls == {}


def test_panel_build_without_files_asks_for_the_real_data(tmp_path, monkeypatch):
    # nothing patched: the default is the real panel, which needs the published files
    monkeypatch.delenv(config.MIRROR_ENV, raising=False)
    monkeypatch.setenv(config.CACHE_ENV, str(tmp_path / "cache"))
    res = CliRunner().invoke(app, ["panel", "build", "--out", str(tmp_path / "p.csv")])
    assert isinstance(res.exception, DataUnavailableError), res.output
    assert config.MIRROR_ENV in str(res.exception)
