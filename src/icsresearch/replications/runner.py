"""Run a replication: execute its notebook with papermill and collect the outputs.

``run_replication("asaria2022", "out/asaria")`` writes to ``out/asaria``:

``estimates.csv``   the replication's estimates (written by the notebook)
``comparison.md``   published vs reproduced, a verdict per claim (written by the notebook)
``<id>.ipynb``      the executed notebook
``<id>.html``       the same, as HTML
``manifest.json``   inputs (registry name, path, sha256, verified), parameters, versions, git
                    revision, the verdicts and the sha256 of every output

Notebooks call :func:`write_outputs` themselves, so a notebook run by hand in Jupyter leaves the
same files (without the HTML). ``source_dir`` points the readers at a folder of files with the
published names (no hash check) through ``ICSRESEARCH_SOURCE_DIR``, which the kernel inherits.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from ..errors import DataFileError, InvalidParameterError, ReplicationError
from .registry import get_replication

#: The Jupyter kernel the notebooks run on (registered by ``make install``).
KERNEL_NAME = "icsresearch"
#: Environment variable overriding where the replication notebooks are.
NOTEBOOK_DIR_ENV = "ICSRESEARCH_REPLICATION_NOTEBOOKS"

OUTPUT_FILES = ("estimates.csv", "comparison.md", "manifest.json")


def notebook_dir() -> Path:
    """Folder of the replication notebooks.

    ``$ICSRESEARCH_REPLICATION_NOTEBOOKS`` if set (e.g. edited copies), else the notebooks shipped
    inside the package (``icsresearch/replications/notebooks``, found through
    :mod:`importlib.resources`, so a source checkout and an installed wheel behave alike).

    Raises
    ------
    InvalidParameterError
        The package is not installed as files (e.g. imported from a zip archive).
    """
    env = os.environ.get(NOTEBOOK_DIR_ENV)
    if env:
        return Path(env).expanduser().resolve()
    ref = resources.files(__package__).joinpath("notebooks")
    if not isinstance(ref, Path):
        raise InvalidParameterError(
            f"cannot find the replication notebooks: the icsresearch package at {ref} is not a "
            f"folder of files\n  Fix: install it with pip (not as a zip), or set "
            f"{NOTEBOOK_DIR_ENV} to a folder holding the replication notebooks"
        )
    return ref


def notebook_path(rep_id: str) -> Path:
    """The notebook of replication ``rep_id`` (checked to exist)."""
    rep = get_replication(rep_id)
    path = notebook_dir() / rep.notebook
    if not path.is_file():
        raise DataFileError(
            path,
            f"the notebook of replication {rep_id!r} does not exist",
            f"Reinstall icsresearch, or set {NOTEBOOK_DIR_ENV} to the folder holding it.",
        )
    return path


def notebook_parameters(rep_id: str) -> dict[str, Any]:
    """The notebook's papermill parameters and their defaults."""
    import ast

    import papermill as pm

    info = pm.inspect_notebook(str(notebook_path(rep_id)))
    out: dict[str, Any] = {}
    for name, p in info.items():
        default = p.get("default")
        try:
            out[name] = ast.literal_eval(default) if default is not None else None
        except (ValueError, SyntaxError):
            out[name] = default
    return out


def parse_parameters(pairs: Sequence[str]) -> dict[str, Any]:
    """``["replicates=50", "outcomes=['died']"]`` -> ``{"replicates": 50, ...}`` (JSON or text)."""
    import ast

    params: dict[str, Any] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier():
            raise InvalidParameterError(
                f"parameter {pair!r} is not written name=value\n  Fix: e.g. -p replicates=50"
            )
        try:
            params[name] = ast.literal_eval(value.strip())
        except (ValueError, SyntaxError):
            params[name] = value.strip()  # plain text, e.g. convention=stata
    return params


def _sha256(path: Path) -> str:
    from ..data.store import sha256_of

    return sha256_of(path)


def write_outputs(
    output_dir: str | Path,
    *,
    rep_id: str,
    estimates,
    comparison: str,
    inputs: Sequence[Mapping[str, Any]] = (),
    parameters: Mapping[str, Any] | None = None,
    claims: Sequence[Any] = (),
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Path]:
    """Write ``estimates.csv``, ``comparison.md`` and ``manifest.json`` (called by the notebooks).

    Parameters
    ----------
    output_dir
        Folder to write to (created if needed).
    rep_id
        The replication's id.
    estimates
        DataFrame written as ``estimates.csv`` (no index).
    comparison
        Markdown of ``comparison.md``.
    inputs
        Provenance records of the files read (``source``, ``path``, ``sha256``, ``verified``).
    parameters
        The notebook's parameters.
    claims
        Evaluated :class:`~icsresearch.replications.comparison.Claim` objects; their verdicts
        go into the manifest.
    extra
        More manifest fields (e.g. the simulation design). The manifest's ``synthetic`` flag
        comes from the replication's registry entry (simulated data are synthetic).

    Returns
    -------
    dict
        Output name -> path.
    """
    from .._atomic import atomic_write_bytes, atomic_write_text
    from ..provenance import Provenance, write_manifest

    rep = get_replication(rep_id)
    out = Path(output_dir).expanduser()
    if out.exists() and not out.is_dir():
        raise InvalidParameterError(f"output folder {out} is a file\n  Fix: choose a folder")
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "estimates.csv": out / "estimates.csv",
        "comparison.md": out / "comparison.md",
        "manifest.json": out / "manifest.json",
    }
    atomic_write_bytes(paths["estimates.csv"], estimates.to_csv(index=False).encode("utf-8"))
    atomic_write_text(paths["comparison.md"], comparison)
    # unique inputs, in the order they were read
    seen, unique = set(), []
    for rec in inputs:
        key = (rec.get("source"), rec.get("sha256"))
        if key not in seen:
            seen.add(key)
            unique.append(dict(rec))
    # the registry says what the data are: published files, or simulated (synthetic) ones
    more = {k: v for k, v in (extra or {}).items() if k != "synthetic"}
    record = Provenance.record(
        synthetic=rep.data != "real",
        inputs=unique,
        parameters=dict(parameters or {}),
        extra={
            "replication": rep_id,
            "verdicts": [{"claim": c.id, "verdict": c.verdict} for c in claims],
            "outputs": {
                name: {"sha256": _sha256(paths[name])}
                for name in ("estimates.csv", "comparison.md")
            },
            **more,
        },
    ).to_dict()
    write_manifest(paths["manifest.json"], record)
    return paths


def _html(executed: Path, target: Path) -> Path:
    import nbformat
    from nbconvert import HTMLExporter

    from .._atomic import atomic_write_text

    nb = nbformat.read(str(executed), as_version=4)
    body, _ = HTMLExporter().from_notebook_node(nb)
    return atomic_write_text(target, body)


def _failure(exc: Exception, executed: Path) -> ReplicationError:
    ename = getattr(exc, "ename", type(exc).__name__)
    evalue = getattr(exc, "evalue", str(exc))
    cell = getattr(exc, "exec_count", None)
    where = f" in cell [{cell}]" if cell is not None else ""
    return ReplicationError(
        f"the notebook failed{where}: {ename}: {evalue}\n"
        f"  The executed notebook with the full traceback is {executed}"
    )


def run_replication(
    rep_id: str,
    out: str | Path,
    *,
    source_dir: str | Path | None = None,
    parameters: Mapping[str, Any] | None = None,
    kernel_name: str = KERNEL_NAME,
    log_output: bool = False,
) -> dict[str, Path]:
    """Run replication ``rep_id`` and write its outputs to ``out``.

    Parameters
    ----------
    rep_id
        A replication id (see :data:`~icsresearch.replications.registry.REPLICATIONS`).
    out
        Output folder (created; earlier outputs of the same names are replaced).
    source_dir
        Folder of files in the published layout (same file names), read without hash checks
        instead of the registry copies, e.g. corrected or newer releases.
    parameters
        Notebook parameters to override (see :func:`notebook_parameters`).
    kernel_name
        Jupyter kernel (default ``icsresearch``).
    log_output
        Stream the notebook's output to the log while it runs.

    Returns
    -------
    dict
        Output name -> path: ``estimates.csv``, ``comparison.md``, ``manifest.json``,
        ``<id>.ipynb``, ``<id>.html``.

    Raises
    ------
    InvalidParameterError
        Unknown id or parameter, or ``out`` is a file.
    DataFileError
        ``source_dir`` is not a folder, or the notebook is missing.
    ReplicationError
        The notebook failed (the message names the cell and error; the executed notebook keeps
        the traceback).
    """
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    rep = get_replication(rep_id)
    nb_in = notebook_path(rep_id)
    out = Path(out).expanduser().resolve()
    if out.exists() and not out.is_dir():
        raise InvalidParameterError(f"--out {out} is a file\n  Fix: give a folder for the outputs")
    known = notebook_parameters(rep_id)
    params = dict(parameters or {})
    unknown = sorted(set(params) - set(known))
    reserved = sorted(set(params) & {"output_dir", "source_dir"})
    if unknown or reserved:
        bad = unknown or reserved
        raise InvalidParameterError(
            f"parameter(s) {bad} cannot be set for {rep_id!r}; it takes "
            f"{sorted(set(known) - {'output_dir', 'source_dir'})}\n"
            "  Fix: use those names (output_dir and source_dir come from --out and --source-dir)"
        )
    src = None
    if source_dir is not None:
        src = Path(source_dir).expanduser().resolve()
        if not src.is_dir():
            raise DataFileError(
                src,
                "is not a folder (--source-dir)",
                "Pass a folder holding files with the published names, e.g. AE.csv, shmi.csv.",
            )
    out.mkdir(parents=True, exist_ok=True)
    executed = out / rep.notebook
    html = out / f"{rep.id}.html"
    for name in (*OUTPUT_FILES, executed.name, html.name):
        (out / name).unlink(missing_ok=True)  # never leave an older run's outputs looking new
    params.update(output_dir=str(out), source_dir=str(src) if src else "")

    from ..data.store import SOURCE_DIR_ENV

    previous = os.environ.get(SOURCE_DIR_ENV)
    if src is not None:
        os.environ[SOURCE_DIR_ENV] = str(src)  # the kernel inherits the environment
    started = time.perf_counter()
    try:
        pm.execute_notebook(
            str(nb_in),
            str(executed),
            parameters=params,
            kernel_name=kernel_name,
            progress_bar=False,
            log_output=log_output,
            # the output folder, never the package's own (read-only once installed)
            cwd=str(out),
        )
    except PapermillExecutionError as exc:
        raise _failure(exc, executed) from None
    finally:
        if src is not None:
            if previous is None:
                os.environ.pop(SOURCE_DIR_ENV, None)
            else:
                os.environ[SOURCE_DIR_ENV] = previous
    seconds = time.perf_counter() - started
    missing = [name for name in OUTPUT_FILES if not (out / name).is_file()]
    if missing:
        raise ReplicationError(
            f"the notebook ran but did not write {missing} to {out}\n"
            f"  Fix: the notebook must call write_outputs(output_dir, ...); see {executed}"
        )
    _html(executed, html)
    _finish_manifest(out / "manifest.json", nb_in, executed, html, kernel_name, seconds, params)
    paths = {name: out / name for name in OUTPUT_FILES}
    paths[executed.name] = executed
    paths[html.name] = html
    return paths


def _finish_manifest(
    path: Path, nb_in: Path, executed: Path, html: Path, kernel: str, seconds: float, params
) -> None:
    from ..provenance import write_manifest

    record = json.loads(path.read_text(encoding="utf-8"))
    record.setdefault("parameters", {}).update(params)
    record["runner"] = {
        "command": "icsresearch replicate",
        "notebook": str(nb_in),
        "notebook_sha256": _sha256(nb_in),
        "kernel": kernel,
        "seconds": round(seconds, 1),
    }
    outputs = record.setdefault("outputs", {})
    for p in (executed, html):
        outputs[p.name] = {"sha256": _sha256(p)}
    write_manifest(path, record)
