"""Report parameters are validated against the reference geography before anything runs."""

from __future__ import annotations

import inspect
from pathlib import Path

import pandas as pd
import pytest

import icsresearch.reports
from icsresearch import geography
from icsresearch.errors import InvalidParameterError, UnknownCodeError
from icsresearch.reports.batch import plan, run_batch
from icsresearch.reports.params import (
    DEFAULT_YEAR,
    REPORT_YEARS,
    check_code_shape,
    default_notebook,
    valid_codes,
    validate_report_parameters,
)


def test_demo_code_is_normalised_and_parameters_are_plain_data():
    p = validate_report_parameters(" zq07 ", "2022", "demo", "2017", "catchment")
    assert p.ics_code == "ZQ07"
    assert p.as_dict() == {
        "ics_code": "ZQ07",
        "footprint": 2022,
        "source": "demo",
        "year": 2017,
        "method": "catchment",
    }
    assert p.fy == "2017/18"


def test_unknown_code_lists_every_valid_code_with_its_name():
    with pytest.raises(UnknownCodeError) as err:
        validate_report_parameters("QYG", 2022, "demo")  # a real code is not a demo system
    assert err.value.codes == ("QYG",)
    message = str(err.value)
    table = geography.icbs(2022, "demo")
    assert len(table) == 42
    for code, name in zip(table["icb_code"], table["short_name"], strict=True):
        assert f"{code} ({name})" in message


def test_footprints_have_their_own_codes():
    # the six fictional mergers of April 2026: ZN01-ZN06 exist only in 2026, and the systems
    # they replaced exist only in 2022
    demo26 = geography.icbs(2026, "demo")
    merged = {p for preds in demo26["predecessors"] for p in preds.split(";") if ";" in preds}
    assert len(demo26) == 36 and len(merged) == 12
    assert validate_report_parameters("ZN01", 2026, "demo").ics_code == "ZN01"
    with pytest.raises(InvalidParameterError, match="2022 footprint"):
        validate_report_parameters("ZN01", 2022, "demo")
    with pytest.raises(InvalidParameterError, match="2026 footprint"):
        validate_report_parameters(sorted(merged)[0], 2026, "demo")
    assert len(valid_codes(2022, "demo")) == 42 and len(valid_codes(2026, "demo")) == 36


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"footprint": 2024}, "footprint=2024"),
        ({"footprint": True}, "footprint=True"),  # True == 1 in Python, but not a footprint
        ({"source": "live"}, "source='live'"),
        ({"source": "none"}, "source='none' is not allowed; choose one of 'demo', 'real'"),
        ({"method": "postcode"}, "method='postcode'"),
        ({"year": 2011}, "year=2011"),
        ({"year": 2019}, "year=2019"),
        ({"year": "2018/19"}, "2018/19"),
        ({"year": True}, "year=True"),
        ({"year": 2018.5}, "2018.5"),
    ],
)
def test_bad_parameters_name_the_value_and_the_choices(kwargs, match):
    args = {"ics_code": "ZQ01", "footprint": 2022, "source": "demo", "year": 2018}
    args.update(kwargs)
    with pytest.raises(InvalidParameterError, match=match.replace("(", r"\(")):
        validate_report_parameters(**args)


def test_report_years_are_the_panel_years():
    assert (*range(2012, 2019), *range(2021, 2025)) == REPORT_YEARS
    for gap in (2019, 2020):  # no published trust file covers them: refused, and told why
        with pytest.raises(InvalidParameterError, match="gap in the published trust files"):
            validate_report_parameters("ZQ01", 2022, "demo", gap)


@pytest.mark.realdata
def test_the_default_year_is_the_latest_that_every_ics_era_file_covers_in_full():
    from icsresearch.panel import ae_monthly, beds_monthly, discharge_monthly

    full = []
    for year in range(2021, 2025):
        months = pd.date_range(f"{year}-04-01", f"{year + 1}-03-01", freq="MS")
        covered = all(
            set(months) <= set(series.dropna(subset=[value])["period"])
            for series, value in (
                (ae_monthly("real"), "over_4hr"),
                (beds_monthly("real"), "beds_occupied"),
                (discharge_monthly("real"), "patients_per_day"),
            )
        )
        if covered:
            full.append(year)
    assert DEFAULT_YEAR == max(full) == 2023


@pytest.mark.parametrize(
    "bad", ["../ZQ01", "ZQ01/..", "ZQ 01", "QYG;rm", "Q", "ZQ01ZQ01", "", "ZQ\n01", "{x}"]
)
def test_only_plain_codes_can_name_an_output_folder(bad):
    with pytest.raises(InvalidParameterError, match="not an ODS code"):
        check_code_shape(bad)
    with pytest.raises(InvalidParameterError):
        validate_report_parameters(bad, 2022, "demo")


def test_the_report_notebook_ships_inside_the_package():
    # found through importlib.resources; tests/test_wheel.py checks the same from a wheel
    nb = default_notebook()
    assert nb == Path(icsresearch.reports.__file__).parent / "templates" / "ics_profile.ipynb"
    assert nb.is_file()


def test_package_notebooks_are_stored_clean_and_run_by_make_test():
    import subprocess
    import sys
    import tomllib

    import nbformat

    from icsresearch.replications.runner import notebook_dir

    root = Path(__file__).resolve().parents[1]
    nb = nbformat.read(default_notebook(), as_version=4)
    assert nb.metadata["kernelspec"]["name"] == "icsresearch"
    for cell in nb.cells:  # no outputs: no extract of real data ships in the package
        assert cell.cell_type != "code" or not (cell.get("outputs") or cell.execution_count)
    # make test (plain pytest) runs them with nbval: their folders are in testpaths
    ini = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    folders = [default_notebook().parent, notebook_dir()]
    assert all(any(f == root / t for t in ini["testpaths"]) for f in folders), ini["testpaths"]
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"]
        + [str(f) for f in folders],
        cwd=root, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    collected = {line.split("::", 1)[0] for line in out.stdout.splitlines() if ".ipynb::" in line}
    expected = {str(p.relative_to(root)) for f in folders for p in f.glob("*.ipynb")}
    assert collected == expected and len(expected) == 4, out.stdout[-2000:]


@pytest.mark.parametrize("function", [validate_report_parameters, valid_codes, plan, run_batch])
def test_every_report_function_defaults_to_real_data(function):
    assert inspect.signature(function).parameters["source"].default == "real"


@pytest.mark.realdata
def test_real_codes_of_both_footprints():
    # Cheshire and Merseyside is unchanged in 2026; Essex (D7T5G) was formed in April 2026 from
    # Mid and South Essex and parts of two neighbours (icb_2026_changes.csv).
    assert validate_report_parameters("qyg", 2022, "real").ics_code == "QYG"
    assert validate_report_parameters("QYG", 2026, "real").ics_code == "QYG"
    assert validate_report_parameters("D7T5G", 2026, "real").ics_code == "D7T5G"
    with pytest.raises(InvalidParameterError, match="Cheshire & Merseyside"):
        validate_report_parameters("D7T5G", 2022, "real")
    assert len(valid_codes(2022, "real")) == 42 and len(valid_codes(2026, "real")) == 36


def _message(code, footprint, source):
    with pytest.raises(UnknownCodeError) as err:
        validate_report_parameters(code, footprint, source)
    message = str(err.value)
    assert message.splitlines()[-1].lstrip().startswith("Fix: ")  # one error, ending in the fix
    return message


def test_codes_ignore_case_and_near_misses_get_a_did_you_mean():
    assert validate_report_parameters("zq07", 2022, "demo").ics_code == "ZQ07"
    message = _message("ZQ7", 2022, "demo")
    assert "'ZQ7': did you mean ZQ07 (" in message
    # a name, or part of one, finds the system's code
    message = _message("juniperham", 2022, "demo")
    assert "did you mean ZQ01 (Juniperham & Yewmere)?" in message
    assert "Fix: use --ics ZQ01;" in message
    assert "`icsresearch codes --footprint 2022 --source demo`" in message


def test_a_real_code_with_demo_data_says_to_add_source_real(monkeypatch):
    real = pd.DataFrame(
        {
            "icb_code": ["QE1"],
            "short_name": ["Lancashire & South Cumbria"],
            "icb_name": ["NHS Lancashire and South Cumbria Integrated Care Board"],
            "predecessors": ["QE1"],
        }
    )
    original = geography.icbs
    monkeypatch.setattr(
        geography,
        "icbs",
        lambda footprint=2022, source="real": (
            real if source == "real" else original(footprint, source)
        ),
    )
    message = _message("qe1", 2022, "demo")
    assert "QE1 (Lancashire & South Cumbria) is a real NHS ICB, but these are demo data" in message
    assert 'Fix: add --source real (Python: source="real")' in message
    message = _message("ZQ01", 2022, "real")
    assert "fictional system of the demo data" in message and "add --source demo" in message


def test_a_2022_code_in_the_2026_footprint_names_the_board_it_became():
    demo26 = geography.icbs(2026, "demo").set_index("icb_code")
    merged_into = "ZN01"
    first, second = demo26.loc[merged_into, "predecessors"].split(";")
    message = _message(first.lower(), 2026, "demo")
    assert f"{first} (" in message and "(2022 footprint) became part of ZN01 (" in message
    assert "on 1 April 2026" in message
    assert "Fix: use --ics ZN01, or --footprint 2022 for the system as it was" in message
    # and the other way round: a board that exists from April 2026 only
    message = _message("ZN01", 2022, "demo")
    assert (
        f"a board of the 2026 footprint (from 1 April 2026; it covers the 2022 systems {first}, {second})"
        in message
    )
    assert "Fix: add --footprint 2026" in message


def test_the_batch_names_every_unknown_code_with_its_hint_in_one_error():
    with pytest.raises(UnknownCodeError) as err:
        plan(["zq1", "ZN02", "ZQ03"], source="demo")
    message = str(err.value)
    assert err.value.codes == ("zq1", "ZN02")
    assert message.startswith("'zq1', 'ZN02': not ICS (ICB) codes in the 2022 footprint")
    assert "  - 'zq1': did you mean ZQ01 (" in message
    assert "  - ZN02 (" in message and "board of the 2026 footprint" in message
    assert "for 'ZN02', add --footprint 2026" in message.splitlines()[-1]


def test_a_real_code_with_demo_data_is_recognised_without_the_real_files(monkeypatch):
    from icsresearch.errors import DataUnavailableError

    original = geography.icbs

    def offline(footprint=2022, source="real"):
        if source == "real":
            raise DataUnavailableError("no real files on this machine")
        return original(footprint, source)

    monkeypatch.setattr(geography, "icbs", offline)
    message = _message("qe1", 2022, "demo")
    assert "QE1 looks like a real NHS ICB code, but these are demo data" in message
    assert 'Fix: add --source real (Python: source="real")' in message
    # a 2026 board's code is known from the project's own table
    assert "looks like a real NHS ICB code" in _message("D7T5G", 2022, "demo")
