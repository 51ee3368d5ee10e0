"""Run a replication: execute its notebook with papermill and collect the outputs.

``run_replication("asaria2022", "out/asaria")`` writes to ``out/asaria``:

``estimates.csv``   the replication's estimates (written by the notebook)
``comparison.md``   published vs reproduced, a verdict per claim (written by the notebook)
``<id>.ipynb``      the executed notebook
``<id>.html``       the same, as HTML
``manifest.json``   inputs (registry name, path, sha256, verified), parameters, versions, git
                    revision, the verdicts and the sha256 of every output but the README
``README.md``       for a reviewer, in the shape of the AEA Data Editor's template README: data
                    and their provenance, requirements, instructions, claims and display items
                    with their verdicts (:mod:`.reviewer`); written last, from the manifest, and
                    quoting the manifest's sha256

Notebooks call :func:`write_outputs` themselves, so a notebook run by hand in Jupyter leaves the
same files (without the HTML and README). The HTML opens with the verdict summary and the
published and reproduced numbers side by side (cells the runner adds to the exported copy).
No output names a folder of the machine it ran on: the runner replaces them with placeholders
(``.`` for the output folder, ``<source-dir>``, ``<cache>``...; :func:`.reviewer.machine_paths`)
and records which in the manifest's ``placeholders``.

``source_dir`` points the readers at a folder of files with the published names (no hash check)
through ``ICSRESEARCH_SOURCE_DIR``, which the kernel inherits.

The run writes into ``out/.icsresearch-staging/`` and moves the outputs into ``out`` only when the
notebook succeeded: a failed run keeps the previous outputs and leaves its executed notebook in
``out/failed/``. ``out`` keeps a record of what the workbench wrote there
(``.icsresearch-outputs.json``); a name the outputs would take that holds a user's own file stops
the run before it starts. The kernel runs like the report batch's: local IPC sockets (no TCP
ports) and its connection file in a private folder (:func:`icsresearch.reports.executor.runtime_dir`).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
import uuid
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from ..errors import DataFileError, InvalidParameterError, ReplicationError
from .registry import get_replication
from .reviewer import (
    PLACEHOLDERS,
    machine_paths,
    scrub_files,
    scrub_json,
    summary_cells,
    write_readme,
)

#: The Jupyter kernel the notebooks run on (registered by ``make install``).
KERNEL_NAME = "icsresearch"
#: Environment variable overriding where the replication notebooks are.
NOTEBOOK_DIR_ENV = "ICSRESEARCH_REPLICATION_NOTEBOOKS"

OUTPUT_FILES = ("estimates.csv", "comparison.md", "manifest.json")
#: Written by the runner after the notebook, from the final manifest (:mod:`.reviewer`).
README = "README.md"
#: Outputs a replication may add (``write_outputs(tables=...)``): the side-by-side estimates of
#: its named sensitivity analysis of data processing (asaria2022: authors' vs cleaned), and its
#: robustness multiverse (:mod:`.multiverse`: one row per specification and claim, and the
#: per-claim summary).
OPTIONAL_OUTPUTS = (
    "processing_sensitivity.csv",
    "multiverse.csv",
    "multiverse_summary.csv",
)
#: Working folder of a run inside ``out`` (the same name as the report batch's).
STAGING = ".icsresearch-staging"
#: Where a failed run's executed notebook is kept.
FAILED = "failed"


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
    tables: Mapping[str, Any] | None = None,
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
    tables
        Further DataFrames written as ``<name>.csv``; each name must be one of
        :data:`OPTIONAL_OUTPUTS` (without ``.csv``).

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
    for name, table in (tables or {}).items():
        if f"{name}.csv" not in OPTIONAL_OUTPUTS:
            raise InvalidParameterError(
                f"write_outputs: table {name!r} is not a known output\n"
                f"  Fix: use one of {[n.removesuffix('.csv') for n in OPTIONAL_OUTPUTS]}"
            )
        paths[f"{name}.csv"] = out / f"{name}.csv"
        atomic_write_bytes(paths[f"{name}.csv"], table.to_csv(index=False).encode("utf-8"))
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
                name: {"sha256": _sha256(path)}
                for name, path in paths.items()
                if name != "manifest.json"
            },
            **more,
        },
    ).to_dict()
    write_manifest(paths["manifest.json"], record)
    return paths


def _html(executed: Path, target: Path, top_cells: Sequence[Any] = ()) -> Path:
    import nbformat

    from .._atomic import atomic_write_text
    from ..reports.executor import html_exporter

    nb = nbformat.read(str(executed), as_version=4)
    # the exporter's copy only: the executed notebook stays as it ran
    nb.cells[0:0] = list(top_cells)
    # the report batch's exporter: no raw HTML from Markdown outputs built from data files
    body, _ = html_exporter(hide_code=False, remove_tags=()).from_notebook_node(nb)
    return atomic_write_text(target, body)


def _failure(exc: Exception, executed: Path, kept: bool) -> ReplicationError:
    ename = getattr(exc, "ename", type(exc).__name__)
    evalue = getattr(exc, "evalue", str(exc))
    cell = getattr(exc, "exec_count", None)
    where = f" in cell [{cell}]" if cell is not None else ""
    previous = (
        " The previous outputs in the folder are kept." if kept else " No outputs were written."
    )
    return ReplicationError(
        f"the notebook failed{where}: {ename}: {evalue}\n"
        f"  The executed notebook with the full traceback is {executed}.{previous}\n"
        "  Fix: correct the cause named above (a file, a parameter) and run the replication again."
    )


def _adopter(rep_id: str, out: Path):
    """Recognise a replication's outputs written before the output record existed.

    ``manifest.json`` names the replication and the sha256 of each output: a file it lists with
    that hash is the workbench's, and so is the manifest itself.
    """
    from .._atomic import sha256_file

    def adopt(path: Path) -> bool:
        try:
            m = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        if not isinstance(m, dict) or m.get("replication") != rep_id:
            return False
        if path.name == "manifest.json":
            return True
        if path.name == FAILED or path.name == STAGING:
            return False
        want = (m.get("outputs") or {}).get(path.name) or {}
        return path.is_file() and bool(want.get("sha256")) and sha256_file(path) == want["sha256"]

    return adopt


def _execute(
    nb_in: Path, executed: Path, params: dict[str, Any], cwd: Path, env, kernel_name, log_output
):
    """Run the notebook on a private IPC kernel in ``cwd``; write it to ``executed``; raise on error."""
    import nbformat
    from papermill.execute import raise_for_execution_errors

    from ..reports.executor import PooledKernel, parameterise, run_notebook, runtime_dir

    nb = parameterise(nb_in, params, kernel_name, executed.name)
    log = runtime_dir() / f"replication-{uuid.uuid4().hex[:8]}.log"
    kernel = PooledKernel(kernel_name, cwd, env, log_path=log, warm_up=False)
    try:
        run_notebook(kernel, nb, None, log_output)
    finally:
        kernel.shutdown()
        log.unlink(missing_ok=True)
        nbformat.write(nb, str(executed))
    raise_for_execution_errors(nb, str(executed))


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
        Output folder (created). Earlier outputs of the workbench are replaced only when the run
        succeeds; a name that holds something the workbench did not write stops the run.
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
        ``<id>.ipynb``, ``<id>.html``, ``README.md`` (and the optional outputs written).

    Raises
    ------
    InvalidParameterError
        Unknown id or parameter.
    OutputPathError
        ``out`` is a file or read-only, or an output name in it holds a file the workbench did
        not write (:class:`~icsresearch.errors.OutputConflictError`).
    DataFileError
        ``source_dir`` is not a folder, or the notebook is missing.
    ReplicationError
        The notebook failed (the message names the cell and error; the executed notebook keeps
        the traceback).
    """
    from papermill.exceptions import PapermillExecutionError

    from .._atomic import OutputRecord, check_output_dir

    rep = get_replication(rep_id)
    nb_in = notebook_path(rep_id)
    # a file, a read-only folder or a path under a file: one clear error, nothing created yet
    out = check_output_dir(out, create=False)
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
    out = check_output_dir(out)
    executed_name, html_name = rep.notebook, f"{rep.id}.html"
    names = (*OUTPUT_FILES, *OPTIONAL_OUTPUTS, executed_name, html_name, README)

    from ..data.store import SOURCE_DIR_ENV

    env = {SOURCE_DIR_ENV: str(src)} if src is not None else {}
    record = OutputRecord(out)
    with record.lock(busy="another icsresearch command is writing into this folder"):
        record.claim(
            [*names, FAILED, STAGING],
            adopt=_adopter(rep.id, out),
            fix="Move them away, or choose another --out folder; icsresearch never deletes or "
            "overwrites what it did not write.",
        )
        if not record.owns(STAGING):
            record.add(STAGING, kind="scratch")
        record.save()
        stage = out / STAGING / f"{rep.id}-{uuid.uuid4().hex[:10]}"
        stage.mkdir(parents=True)
        overridden = os.environ.get(NOTEBOOK_DIR_ENV)
        roots = machine_paths(
            out=out, stage=stage, source_dir=src, notebooks=nb_in.parent if overridden else None
        )
        try:
            # the kernel works in the staging folder; "." is the output folder once moved
            params.update(output_dir=".", source_dir=str(src) if src else "")
            executed = stage / executed_name
            started = time.perf_counter()
            try:
                _execute(nb_in, executed, params, stage, env, kernel_name, log_output)
            except PapermillExecutionError as exc:
                kept = any((out / n).exists() for n in names)
                failed = _keep_failed(stage, out, record, executed_name, roots)
                raise _failure(exc, failed / executed_name, kept) from None
            seconds = time.perf_counter() - started
            missing = [name for name in OUTPUT_FILES if not (stage / name).is_file()]
            if missing:
                failed = _keep_failed(stage, out, record, executed_name, roots)
                raise ReplicationError(
                    f"the notebook ran but did not write {missing}\n"
                    "  Fix: the notebook must call write_outputs(output_dir, ...); see "
                    f"{failed / executed_name}"
                )
            # no folder of this machine in any output: placeholders instead ("." = out)
            scrub_files(stage, [n for n in names if n not in ("manifest.json", html_name)], roots)
            params["output_dir"] = "."  # where the outputs are: this folder
            comparison = (stage / "comparison.md").read_text(encoding="utf-8")
            manifest = json.loads((stage / "manifest.json").read_text(encoding="utf-8"))
            _html(executed, stage / html_name, summary_cells(rep.id, manifest, comparison))
            _finish_manifest(
                stage / "manifest.json", nb_in, (executed_name, html_name), kernel_name, seconds,
                params, roots,
            )  # fmt: skip
            write_readme(stage, rep.id)  # from the final manifest, so after it
            # into place one file at a time, the manifest last; the old outputs are the
            # workbench's (claimed above), a stale failed attempt too
            for name in (*[n for n in names if n != "manifest.json"], "manifest.json"):
                if name in OPTIONAL_OUTPUTS and not (stage / name).is_file():
                    if record.owns(name) and (out / name).is_file():  # stale from a past run
                        (out / name).unlink()
                        record.discard(name)
                    continue
                os.replace(stage / name, out / name)
                record.add(name, kind="file")
            if record.owns(FAILED) and (out / FAILED).is_dir():
                shutil.rmtree(out / FAILED, ignore_errors=True)
                record.discard(FAILED)
            record.save()
        finally:
            shutil.rmtree(stage, ignore_errors=True)
    paths = {name: out / name for name in OUTPUT_FILES}
    paths.update({name: out / name for name in OPTIONAL_OUTPUTS if (out / name).is_file()})
    paths[executed_name] = out / executed_name
    paths[html_name] = out / html_name
    paths[README] = out / README
    return paths


def _keep_failed(stage: Path, out: Path, record, executed_name: str, roots=()) -> Path:
    """Keep a failed run's executed notebook in ``out/failed/`` (replacing an older failure)."""
    failed = out / FAILED
    if failed.exists():  # claimed above: the workbench's own earlier failure
        shutil.rmtree(failed, ignore_errors=True)
    failed.mkdir()
    if (stage / executed_name).is_file():
        scrub_files(stage, [executed_name], roots)  # its traceback names no machine folder
        os.replace(stage / executed_name, failed / executed_name)
    record.add(FAILED, kind="folder")
    record.save()
    return failed


def _cpu_count() -> int | None:
    try:
        return len(os.sched_getaffinity(0))  # the cores this process may use
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return os.cpu_count()


def _finish_manifest(
    path: Path, nb_in: Path, added: Sequence[str], kernel: str, seconds: float, params, roots
) -> None:
    """Complete the notebook's manifest: runner facts, every output's sha256, no machine paths.

    Every output (the notebook's, and the runner's ``added`` files) is hashed again here, after
    the paths were replaced; README.md is listed without a hash: it is written after the
    manifest, from it, and quotes its sha256.
    """
    from ..provenance import write_manifest

    record = json.loads(path.read_text(encoding="utf-8"))
    record.setdefault("parameters", {}).update(params)
    record["runner"] = {
        "command": "icsresearch replicate",
        "notebook": str(nb_in),
        "notebook_sha256": _sha256(nb_in),
        "kernel": kernel,
        "seconds": round(seconds, 1),
        "cpu_count": _cpu_count(),
    }
    stage = path.parent
    names = dict.fromkeys([*(record.get("outputs") or {}), *added])
    record["outputs"] = {
        name: {"sha256": _sha256(stage / name)}
        for name in names
        if name not in ("manifest.json", README) and (stage / name).is_file()
    }
    record["outputs"][README] = {
        "note": "written after this manifest, from it; README.md quotes this manifest's sha256"
    }
    record = scrub_json(record, roots)
    used = set(re.findall(r"<[a-z-]+>|~(?=/)", json.dumps(record)))
    used.add(".")
    record["placeholders"] = {k: v for k, v in PLACEHOLDERS.items() if k in used}
    write_manifest(path, record)
