"""The replication runner, command line, claims and comparison rendering (no kernel needed)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from typer.testing import CliRunner

from icsresearch.cli import app
from icsresearch.errors import DataFileError, InvalidParameterError
from icsresearch.replications import REPLICATIONS, get_replication
from icsresearch.replications.comparison import (
    NOT_REPRODUCED,
    REPRODUCED,
    VERDICTS,
    Claim,
    claims_frame,
    render_comparison,
)
from icsresearch.replications.runner import (
    NOTEBOOK_DIR_ENV,
    notebook_dir,
    notebook_parameters,
    notebook_path,
    parse_parameters,
    run_replication,
    write_outputs,
)

ROOT = Path(__file__).resolve().parents[1]


def _claim(**kw):
    base = dict(id="c1", claim="A claim", published="1.0", status="verified", rule="a rule")
    base.update(kw)
    return Claim(**base)


# --- the registry, notebooks and paper entries ---------------------------------------------


@pytest.mark.parametrize("rep_id", sorted(REPLICATIONS))
def test_every_replication_has_paper_and_clean_parameterised_notebook(rep_id):
    rep = REPLICATIONS[rep_id]
    paper = ROOT / rep.paper
    assert paper.is_file(), f"missing {paper}"
    text = paper.read_text(encoding="utf-8")
    for heading in ("## Citation", "## Design", "verdict rule", "cannot be reproduced"):
        assert heading in text, f"{paper} lacks {heading!r}"
    nb_path = notebook_dir() / rep.notebook
    nb = nbformat.read(str(nb_path), as_version=4)
    assert nb.metadata["kernelspec"]["name"] == "icsresearch"
    tagged = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, "exactly one papermill parameters cell"
    params = notebook_parameters(rep_id)
    assert params["output_dir"] == "" and params["source_dir"] == ""
    # committed notebooks carry no outputs: no extracts of real data in the repository
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert not cell.get("outputs"), f"{nb_path} has stored outputs"
            assert cell.get("execution_count") is None


def test_notebooks_ship_inside_the_package_and_can_be_overridden(tmp_path, monkeypatch):
    # found through importlib.resources (tests/test_wheel.py checks the same from a wheel)
    monkeypatch.delenv(NOTEBOOK_DIR_ENV, raising=False)
    import icsresearch.replications

    assert notebook_dir() == Path(icsresearch.replications.__file__).parent / "notebooks"
    assert sorted(p.name for p in notebook_dir().glob("*.ipynb")) == sorted(
        r.notebook for r in REPLICATIONS.values()
    )
    monkeypatch.setenv(NOTEBOOK_DIR_ENV, str(tmp_path))
    assert notebook_dir() == tmp_path
    with pytest.raises(DataFileError, match=NOTEBOOK_DIR_ENV) as err:
        notebook_path("mchugh2021")  # the override folder has no notebook
    assert err.value.path == tmp_path / "mchugh2021.ipynb"


def test_unknown_replication_is_a_clear_error():
    with pytest.raises(InvalidParameterError, match=r"(?s)unknown replication 'nope'.*--list"):
        get_replication("nope")


# --- parameters -------------------------------------------------------------------------------


def test_parse_parameters_reads_literals_and_text():
    assert parse_parameters(["replicates=50", "outcomes=['died']", "convention=stata"]) == {
        "replicates": 50,
        "outcomes": ["died"],
        "convention": "stata",
    }
    with pytest.raises(InvalidParameterError, match="name=value"):
        parse_parameters(["no-equals-sign"])


def test_run_rejects_unknown_and_reserved_parameters(tmp_path):
    with pytest.raises(InvalidParameterError, match=r"\['replicates'\].*convention"):
        run_replication("asaria2022", tmp_path, parameters={"replicates": 5})
    with pytest.raises(InvalidParameterError, match="output_dir"):
        run_replication("asaria2022", tmp_path, parameters={"output_dir": "/x"})


def test_run_rejects_a_source_dir_that_is_not_a_folder(tmp_path):
    bogus = tmp_path / "not-here"
    with pytest.raises(DataFileError, match="not a folder") as info:
        run_replication("griffiths2016", tmp_path / "out", source_dir=bogus)
    assert info.value.path == bogus.resolve()
    assert not (tmp_path / "out").exists(), "nothing is created before the inputs are checked"


def test_run_rejects_an_output_path_that_is_a_file(tmp_path):
    f = tmp_path / "file.txt"
    f.write_text("x")
    with pytest.raises(InvalidParameterError, match="is a file"):
        run_replication("mchugh2021", f)


# --- command line -----------------------------------------------------------------------------


def test_cli_lists_the_replications():
    res = CliRunner().invoke(app, ["replicate", "--list"])
    assert res.exit_code == 0, res.output
    for rep_id, rep in REPLICATIONS.items():
        assert rep_id in res.output
        assert rep.data in res.output


def test_cli_needs_an_id_and_an_output_folder():
    res = CliRunner().invoke(app, ["replicate", "asaria2022"])
    assert res.exit_code == 2
    assert "--out" in res.output


def test_cli_unknown_id_fails_with_the_known_ids(tmp_path):
    res = CliRunner().invoke(app, ["replicate", "nope", "--out", str(tmp_path)])
    assert res.exit_code != 0
    assert isinstance(res.exception, InvalidParameterError)
    assert "asaria2022" in str(res.exception)


def test_cli_bad_parameter_is_reported(tmp_path):
    res = CliRunner().invoke(
        app, ["replicate", "mchugh2021", "--out", str(tmp_path), "-p", "bogus=1"]
    )
    assert isinstance(res.exception, InvalidParameterError)
    assert "bogus" in str(res.exception) and "power_replicates" in str(res.exception)


# --- claims and comparison ------------------------------------------------------------------


def test_claim_checks_status_and_verdict():
    with pytest.raises(InvalidParameterError, match="status"):
        _claim(status="probably")
    with pytest.raises(InvalidParameterError, match="verdict"):
        _claim(verdict="sort of")
    judged = _claim().judged(REPRODUCED, "0.9 (0.8-1.0)")
    assert judged.verdict == REPRODUCED and judged.reproduced == "0.9 (0.8-1.0)"
    gone = _claim().unreproducible("restricted data")
    assert gone.verdict == VERDICTS[2] and gone.note == "restricted data"


def test_comparison_has_one_verdict_line_per_claim_and_refuses_unjudged():
    claims = [
        _claim(id="a").judged(REPRODUCED, "x | y"),
        _claim(id="b", claim="Second").judged(NOT_REPRODUCED, "z"),
        _claim(id="c", claim="Third").unreproducible("restricted"),
    ]
    md = render_comparison(title="t", citation="cite", claims=claims, sections=[("Extra", "body")])
    lines = [ln for ln in md.splitlines() if re.match(r"- \*\*(.+?)\*\* - ", ln)]
    assert [re.match(r"- \*\*(.+?)\*\*", ln).group(1) for ln in lines] == [
        REPRODUCED,
        NOT_REPRODUCED,
        VERDICTS[2],
    ]
    assert "1 reproduced, 1 not reproduced, 1 not reproducible from public data" in md
    assert "x \\| y" in md, "pipes are escaped inside the table"
    assert "## Extra" in md and "- `c`: restricted" in md
    with pytest.raises(InvalidParameterError, match="without a verdict"):
        render_comparison(title="t", citation="c", claims=[_claim()])
    frame = claims_frame(claims)
    assert list(frame["id"]) == ["a", "b", "c"] and "rule" in frame.columns


def test_write_outputs_writes_estimates_comparison_and_manifest(tmp_path):
    est = pd.DataFrame({"a": [1.5, 2.0], "b": ["x", "y"]})
    claims = [_claim().judged(REPRODUCED, "ok")]
    inputs = [
        {"source": "hm_ae", "path": "/p", "sha256": "abc", "verified": True},
        {"source": "hm_ae", "path": "/p", "sha256": "abc", "verified": True},
    ]
    paths = write_outputs(
        tmp_path / "o",
        rep_id="mchugh2021",
        estimates=est,
        comparison="# hi\n",
        inputs=inputs,
        parameters={"seed": 1},
        claims=claims,
    )
    assert pd.read_csv(paths["estimates.csv"]).equals(est)
    assert paths["comparison.md"].read_text() == "# hi\n"
    man = json.loads(paths["manifest.json"].read_text())
    assert man["replication"] == "mchugh2021"
    assert man["inputs"] == [inputs[0]], "inputs are de-duplicated"
    assert man["parameters"] == {"seed": 1}
    assert man["verdicts"] == [{"claim": "c1", "verdict": REPRODUCED}]
    assert man["git_revision"] and "pandas" in man["environment"]
    assert man["synthetic"] is True  # mchugh2021 runs on simulated patients (the registry says)
    real = write_outputs(tmp_path / "r", rep_id="asaria2022", estimates=est, comparison="")
    assert json.loads(real["manifest.json"].read_text())["synthetic"] is False
    import hashlib

    digest = hashlib.sha256(paths["estimates.csv"].read_bytes()).hexdigest()
    assert man["outputs"]["estimates.csv"]["sha256"] == digest
    with pytest.raises(InvalidParameterError, match="unknown replication"):
        write_outputs(tmp_path, rep_id="x", estimates=est, comparison="")
