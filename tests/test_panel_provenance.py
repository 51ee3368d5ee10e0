"""Provenance through readers, panels and providers, and the panels' options (no real data)."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import icsresearch
from icsresearch import demo, geography
from icsresearch.errors import InvalidParameterError
from icsresearch.panel import (
    TRUST_YEAR_COLUMNS,
    ae_monthly,
    beds_monthly,
    ics_year_panel,
    trust_year_panel,
)
from icsresearch.panel._cache import _read, _write
from icsresearch.provenance import InputFile, Provenance, input_record, manifest, of

PACKAGE = Path(icsresearch.__file__).parent


def test_every_demo_table_says_it_is_synthetic():
    tables = {
        "trust_year": trust_year_panel("demo", footprint="2026", trust_types="acute specialist"),
        "ics_year": ics_year_panel("demo"),
        "ae_monthly": ae_monthly("demo", level="ics"),
        "beds_monthly": beds_monthly("demo"),
        "icbs": geography.icbs(2022, "demo"),
        "trusts": geography.trusts("demo"),
        "weights": geography.trust_ics_weights("catchment", 2026, "demo"),
    }
    for name, table in tables.items():
        record = of(table)
        assert record.synthetic is True, name
        assert record.source_note.startswith("synthetic demo data"), name
    trusts = tables["trust_year"].ics.provenance
    # the options as checked: the footprint an int though a string was given, types a list
    assert trusts.parameters["footprint"] == 2026
    assert trusts.parameters["trust_types"] == ["acute specialist"]
    assert trusts.parameters["seed"] == demo.SEED and not trusts.inputs
    assert tables["ae_monthly"].ics.provenance.parameters["level"] == "ics"
    assert tables["ics_year"].ics.synthetic is True


def test_a_frame_without_metadata_is_unknown_never_nhs():
    bare = pd.DataFrame({"x": [1.0]})
    assert bare.ics.provenance == Provenance.unknown()
    assert bare.ics.synthetic is None
    assert "unknown" in bare.ics.source_note and "NHS" not in bare.ics.source_note


def test_the_demo_honours_harmonise_to_latest():
    as_reported = trust_year_panel("demo")
    latest = trust_year_panel("demo", harmonise_to="latest")
    # The demo's fictional trusts never merge: recoding to the latest code changes no row, and
    # the panel says which mapping it applied (none) and which option it was built with.
    assert latest.attrs["code_mapping"] == []
    pd.testing.assert_frame_equal(latest, as_reported)
    assert latest.ics.provenance.parameters["harmonise_to"] == "latest"
    assert as_reported.ics.provenance.parameters["harmonise_to"] == "as_reported"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"source": "Demo"}, "source='Demo'"),
        ({"footprint": 2024}, "footprint=2024"),
        ({"footprint": True}, "footprint=True"),
        ({"method": "hq"}, "method='hq'"),
        ({"harmonise_to": "newest"}, "harmonise_to='newest'"),
        ({"cache": "no"}, "cache='no'"),
        ({"trust_types": ["acute"]}, "acute"),
    ],
)
def test_panel_options_are_checked_against_their_types(kwargs, match):
    with pytest.raises(InvalidParameterError, match=re.escape(match)):
        trust_year_panel(**{"source": "demo", **kwargs})


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"level": "region"}, "level='region'"),
        ({"department": "type2"}, "department='type2'"),
        ({"footprint": "2030"}, "footprint='2030'"),
    ],
)
def test_monthly_options_are_checked_against_their_types(kwargs, match):
    with pytest.raises(InvalidParameterError, match=re.escape(match)):
        ae_monthly("demo", **kwargs)


def test_geography_source_defaults_to_real_and_is_checked():
    import inspect

    for func in (geography.icbs, geography.trusts, geography.trust_ics_weights):
        assert inspect.signature(func).parameters["source"].default == "real"
    with pytest.raises(InvalidParameterError, match="source='synthetic'"):
        geography.icbs(2022, "synthetic")
    assert geography.check_footprint("2026") == 2026
    with pytest.raises(InvalidParameterError, match="footprint=True"):
        geography.check_footprint(True)


def _imports(path: Path) -> set[str]:
    """Absolute names of the icsresearch modules a source file imports (anywhere in it)."""
    package = "icsresearch." + ".".join(path.relative_to(PACKAGE).parent.parts)
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = package.rstrip(".").split(".")
            if node.level:
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            names.add(target)
            names.update(f"{target}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
    return {n for n in names if n.startswith("icsresearch")}


def test_the_demo_imports_nothing_from_the_panel():
    """The panel calls the demo as a provider; the demo never imports the panel back."""
    for path in sorted((PACKAGE / "demo").glob("*.py")):
        panel = sorted(n for n in _imports(path) if n.startswith("icsresearch.panel"))
        assert not panel, f"{path.name} imports {panel}"
    # and at run time: the whole demo world, and the geography of the demo, without the panel
    code = (
        "import sys, icsresearch.demo as d, icsresearch.geography as g; d.world(); "
        "g.icbs(2026, 'demo'); g.trust_ics_weights('catchment', 2022, 'demo'); "
        "print(sorted(m for m in sys.modules if m.startswith('icsresearch.panel')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_schemas_and_years_are_a_leaf():
    """The schemas and year helpers import nothing from the package but errors."""
    assert _imports(PACKAGE / "schemas.py") <= {"icsresearch.errors"}


def test_the_panel_cache_keeps_the_typed_record(tmp_path):
    record = Provenance.record(
        synthetic=False,
        inputs=[InputFile("hm_rtt", "/m/RTT.csv", "a" * 64, True)],
        parameters={"footprint": 2026, "trust_types": None},
    )
    df = pd.DataFrame({"trust_code": ["RA2"], "year": [2019], "shmi": [1.01]})
    df.attrs = {"kind": "trust_year", "provenance": record, "synthetic": False}
    path = _write(df, tmp_path, "trust_year-key")
    assert path.parent == tmp_path and path.name.startswith("trust_year-key-")
    back = _read(path)
    assert isinstance(back.attrs["provenance"], Provenance)
    assert back.attrs["provenance"] == record
    pd.testing.assert_frame_equal(back, df)


def test_reader_records_and_manifests_are_built_on_the_record():
    attrs = {
        "source": "hm_rtt",
        "path": "/m/RTT.csv",
        "sha256": "b" * 64,
        "verified": False,
        "provenance": Provenance(
            synthetic=False, inputs=(InputFile("hm_rtt", "/m/RTT.csv", "b" * 64, False),)
        ),
    }
    assert input_record(attrs) == {
        "source": "hm_rtt",
        "path": "/m/RTT.csv",
        "sha256": "b" * 64,
        "verified": False,
    }
    made = manifest(
        inputs=[{"source": "demo", "note": "generated from a seed"}],
        parameters={"year": 2017},
        extra={"synthetic": True, "report": "ZQ01"},
    )
    assert made["synthetic"] is True and made["report"] == "ZQ01"
    assert made["inputs"] == [{"source": "demo", "note": "generated from a seed"}]  # as given
    assert Provenance.from_dict(made).synthetic is True
    assert manifest()["synthetic"] is None  # nobody said: unknown


def test_reading_the_record_as_the_old_dict_warns_and_still_works():
    record = trust_year_panel("demo").ics.provenance
    with pytest.warns(DeprecationWarning, match=r"provenance.of\(df\).inputs"):
        assert record.get("inputs") == []
    with pytest.warns(DeprecationWarning, match="typed"):
        assert record["synthetic"] is True


def test_demo_trust_year_columns_come_from_the_provider_in_panel_order():
    panel = trust_year_panel("demo")
    assert list(panel.columns) == [c.name for c in TRUST_YEAR_COLUMNS]
    assert panel.attrs["kind"] == "trust_year"
