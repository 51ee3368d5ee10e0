"""The report batch: one papermill-executed notebook per ICS, locally or on a Dask cluster.

>>> from icsresearch.reports import run_batch
>>> result = run_batch(all_systems=True, source="demo", workers=2)  # doctest: +SKIP
>>> result.n_failed, result.index  # doctest: +SKIP

How it runs
-----------
1. Every parameter is validated (codes against the footprint's reference geography, the
   notebook, the scheduler address, the output folder) before anything starts; output folders
   are named after validated codes only.
2. The output folder keeps a record of what the batch wrote (``.icsresearch-outputs.json``,
   :class:`icsresearch._atomic.OutputRecord`): a name a report would take that holds something
   the workbench did not write (a user's ``ZQ01/``, ``index.html``...) stops the batch before it
   starts, and one folder holds the reports of one source and footprint (demo and real reports
   have separate default folders, ``outputs/reports-demo`` and ``outputs/reports-real``).
3. Each report gets a **fingerprint**: the sha256 of the notebook, the parameters, the source
   code of the icsresearch package, the input data (for real data the sha256 of every file a
   report may read: the registry's pinned hash, or the hash of the user-supplied file that
   replaces it through ``ICSRESEARCH_SOURCE_DIR``; the demo generator is package code) and the
   kernel name. A report whose folder holds a successful manifest with the same fingerprint, and
   whose every output still has the sha256 the manifest records, is skipped (``force=True``
   redoes it); failed reports always run again.
4. Reports run on ``workers`` local threads, each with its own pooled kernel
   (:mod:`icsresearch.reports.executor`), or, with ``scheduler=``, as tasks on an existing Dask
   distributed cluster (each Dask worker process keeps its own kernel pool).
5. A failing report never stops the others, and never replaces the last good report of its
   system (the failed attempt is kept beside it, in ``DIR/<code>/failed/``); ``DIR/index.html``
   lists every report with status, headline figures and the inputs that were not verified.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import logging
import os
import re
import shutil
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .._atomic import OutputRecord, check_output_dir, sha256_file
from ..errors import (
    DataFileError,
    IcsResearchError,
    InvalidParameterError,
    KernelError,
    OutputPathError,
    UnknownCodeError,
    shorten,
)
from ..options import Footprint, Source, TrustIcsMethod, check, check_bool
from ..scheduler import cannot_connect, check_scheduler_address, probe_scheduler
from .params import (
    DEFAULT_YEAR,
    unknown_codes_message,
    valid_codes,
    validate_report_parameters,
)

#: Loggers that would otherwise print a line per cell or per task.
_NOISY_LOGGERS = (
    "papermill",
    "nbclient",
    "traitlets",
    "distributed",
    "distributed.worker",
    "distributed.client",
    "asyncio",
)

#: The default output folder of each source: demo and real reports never share an index.
DEFAULT_OUT = {"demo": Path("outputs/reports-demo"), "real": Path("outputs/reports-real")}
#: Dask comm schemes an address may use (``host:port`` alone means tcp).
#: What the output record says a report folder is for (one source and footprint per folder).
PURPOSE = "icsresearch reports"


@dataclass
class BatchResult:
    """The outcome of a batch.

    Attributes
    ----------
    out_dir
        The output folder.
    index
        ``out_dir/index.html``.
    outcomes
        One dict per requested system (see :class:`~icsresearch.reports.executor.ReportOutcome`),
        in the requested order; ``status`` is ``"ok"``, ``"failed"`` or ``"skipped"``.
    wall_seconds
        Elapsed time of the whole batch.
    workers
        Local worker threads (``None`` on a Dask cluster).
    scheduler
        The Dask scheduler address, or ``None`` for local workers.
    unverified
        Input files the batch's reports read whose bytes were not the registry's (user-supplied
        or modified files): ``source``, ``path``, ``sha256`` and the ``reports`` that used them.
    """

    out_dir: Path
    index: Path
    outcomes: list[dict[str, Any]]
    wall_seconds: float
    workers: int | None
    scheduler: str | None = None
    unverified: list[dict[str, Any]] = field(default_factory=list)

    def _count(self, status: str) -> int:
        return sum(o["status"] == status for o in self.outcomes)

    @property
    def n_ok(self) -> int:
        """Reports executed successfully in this run."""
        return self._count("ok")

    @property
    def n_failed(self) -> int:
        """Reports that failed in this run."""
        return self._count("failed")

    @property
    def n_skipped(self) -> int:
        """Reports skipped because inputs and parameters were unchanged."""
        return self._count("skipped")

    @property
    def failed(self) -> list[str]:
        """Codes of the failed reports."""
        return [o["code"] for o in self.outcomes if o["status"] == "failed"]


# --- fingerprints --------------------------------------------------------------------------------


def _sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@functools.cache
def code_fingerprint() -> str:
    """sha256 over the icsresearch package's source files and tables (a code change re-runs)."""
    root = Path(__file__).resolve().parents[1]
    h = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.suffix in {".py", ".csv", ".json"} and "__pycache__" not in path.parts:
            h.update(str(path.relative_to(root)).encode())
            h.update(_sha256_bytes(path.read_bytes()).encode())
    return h.hexdigest()


#: sha256 of user-supplied files, by (path, size, mtime): a batch hashes each file once.
_FILE_HASHES: dict[tuple[str, int, int], str] = {}


def _file_sha256(path: Path) -> str:
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns)
    if key not in _FILE_HASHES:
        _FILE_HASHES[key] = sha256_file(path)
    return _FILE_HASHES[key]


def source_dirs(env: Mapping[str, str] | None = None) -> list[Path]:
    """The folders of user-supplied files a report kernel reads (``ICSRESEARCH_SOURCE_DIR``).

    Parameters
    ----------
    env
        The kernel's ``ICSRESEARCH_*`` environment (default: this process's).

    Raises
    ------
    DataFileError
        The variable names something that is not a folder.
    """
    from ..data.store import SOURCE_DIR_ENV

    value = (os.environ if env is None else env).get(SOURCE_DIR_ENV)
    if not value:
        return []
    folder = Path(value).expanduser().resolve()
    if not folder.is_dir():
        # a mistyped path would otherwise give the kernels the registry's files without a word
        raise DataFileError(
            folder,
            f"{'does not exist' if not folder.exists() else 'is not a folder'} "
            f"({SOURCE_DIR_ENV}={value})",
            f"Point {SOURCE_DIR_ENV} (or --source-dir) at the folder holding your files with the "
            "published names, or unset it to read the registry's files.",
        )
    return [folder]


def effective_inputs(source: str, env: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """Every published file a report may read, as the kernel will find it.

    A file with the published name in a source folder (``ICSRESEARCH_SOURCE_DIR``) replaces the
    registry copy and is read without a hash check: its own sha256 is given, and ``verified`` says
    whether it happens to be the registry's bytes. Every other file is the registry's (the data
    layer refuses a file whose bytes differ), so its pinned sha256 is the hash of what is read.

    Parameters
    ----------
    source
        ``"demo"`` (no files: an empty list) or ``"real"``.
    env
        The kernel's ``ICSRESEARCH_*`` environment (default: this process's).

    Returns
    -------
    list of dict
        ``source`` (registry name), ``path`` (None for the registry copy), ``sha256``,
        ``verified``, sorted by name.
    """
    if source != "real":
        return []
    from ..data.registry import REGISTRY
    from ..data.store import find_in_folder

    folders = source_dirs(env)
    out = []
    for entry in sorted(REGISTRY.values(), key=lambda e: e.name):
        found = next((f for f in (find_in_folder(d, entry) for d in folders) if f), None)
        if found is None:
            out.append(
                {"source": entry.name, "path": None, "sha256": entry.sha256, "verified": True}
            )
        else:
            digest = _file_sha256(found)
            out.append(
                {
                    "source": entry.name,
                    "path": str(found),
                    "sha256": digest,
                    "verified": digest == entry.sha256,
                }
            )
    return out


def input_fingerprint(source: str, env: Mapping[str, str] | None = None) -> str:
    """sha256 of the data a report reads.

    Real data: the sha256 of every file a report may read (:func:`effective_inputs`: the
    registry's pinned hash, or the hash of the user-supplied file that replaces it) and of the
    official releases the lockfile pins for the panels and the SHMI funnel, so a report made
    from other files is never skipped as unchanged. Demo data: the generator's seed and
    calibration; the generator's code is covered by :func:`code_fingerprint`.

    Parameters
    ----------
    source
        ``"demo"`` or ``"real"``.
    env
        The kernel's ``ICSRESEARCH_*`` environment (default: this process's).
    """
    if source == "real":
        pins = sorted(f"{i['source']}:{i['sha256']}" for i in effective_inputs(source, env))
        pins += _locked_inputs(env)
        return _sha256_bytes("\n".join(pins).encode())
    from importlib import resources

    from ..demo import SEED

    cal = resources.files("icsresearch.demo").joinpath("calibration.json").read_bytes()
    return _sha256_bytes(f"seed={SEED}\n".encode() + cal)


def _locked_inputs(env: Mapping[str, str] | None = None) -> list[str]:
    """``"release shmi 2024-03:<sha256>"`` for each locked file the reports read (none without
    a lockfile), so a report made before a release was locked is not skipped as unchanged."""
    from ..releases.lockfile import LOCK_ENV, read
    from ..releases.panel import panel_inputs

    where = (os.environ if env is None else env).get(LOCK_ENV) or None
    try:
        book = read(where)
    except DataFileError:  # not a lockfile: the report itself says so when it reads it
        return []
    return sorted(f"{name}:{sha}" for name, sha in panel_inputs(book).items())


def fingerprint(
    notebook: Path,
    parameters: dict[str, Any],
    kernel_name: str,
    env: Mapping[str, str] | None = None,
) -> tuple[str, dict[str, Any]]:
    """The fingerprint of one report and its parts (recorded in the manifest).

    Parameters
    ----------
    notebook
        The report notebook.
    parameters
        Validated parameters of the report.
    kernel_name
        The Jupyter kernel it runs on.
    env
        The kernel's ``ICSRESEARCH_*`` environment (default: this process's); its source folder
        decides which files are read.

    Returns
    -------
    tuple
        ``(sha256 hex digest, parts)``.
    """
    parts = {
        "notebook": _sha256_bytes(Path(notebook).read_bytes()),
        "parameters": parameters,
        "code": code_fingerprint(),
        "inputs": input_fingerprint(parameters["source"], env),
        "kernel": kernel_name,
    }
    return _sha256_bytes(json.dumps(parts, sort_keys=True).encode()), parts


def outputs_intact(folder: Path, manifest: Mapping[str, Any]) -> bool:
    """Whether every output a report's manifest lists is there with the recorded sha256.

    Parameters
    ----------
    folder
        The report folder.
    manifest
        Its ``manifest.json``.
    """
    outputs = manifest.get("outputs")
    if not isinstance(outputs, Mapping) or not outputs:
        return False
    for rel, info in outputs.items():
        path = folder / rel
        want = info.get("sha256") if isinstance(info, Mapping) else None
        try:
            if not want or not path.is_file() or sha256_file(path) != want:
                return False
        except OSError:
            return False
    return True


def _unchanged(out_dir: Path, code: str, digest: str) -> dict[str, Any] | None:
    """The previous manifest if ``out_dir/code`` is a complete, successful, same-input report.

    Complete means every output the manifest lists still has its recorded sha256: a report with
    a deleted figure or a truncated HTML is redone.
    """
    folder = out_dir / code
    try:
        m = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(m, dict) or m.get("status") != "ok" or m.get("fingerprint") != digest:
        return None
    needed = all(f in (m.get("outputs") or {}) for f in ("report.ipynb", "report.html"))
    return m if needed and outputs_intact(folder, m) else None


# --- checks and housekeeping ---------------------------------------------------------------------


def check_kernel(kernel_name: str) -> str:
    """Fail clearly when the Jupyter kernel the reports run on is not registered.

    Parameters
    ----------
    kernel_name
        A Jupyter kernel name (``jupyter kernelspec list``).

    Raises
    ------
    KernelError
        The kernel is not registered, or its Python no longer exists; the message says how to
        register it.
    """
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        spec = KernelSpecManager().get_kernel_spec(kernel_name)
    except NoSuchKernel:
        raise KernelError(
            f"The Jupyter kernel {shorten(kernel_name)} is not registered. Register it with "
            f"`python -m ipykernel install --sys-prefix --name {kernel_name}` "
            "(`make install` does this), or pass --kernel with a registered kernel name "
            "(`jupyter kernelspec list`)."
        ) from None
    exe = spec.argv[0] if spec.argv else ""
    if os.path.isabs(exe) and not os.path.exists(exe):
        raise KernelError(
            f"The Jupyter kernel {kernel_name!r} points at {exe}, which does not exist. "
            f"Re-register it: `python -m ipykernel install --sys-prefix --name {kernel_name}`."
        )
    return kernel_name


def check_notebook(path: str | Path) -> Path:
    """Check that ``path`` is a Jupyter notebook papermill can give the report's parameters to.

    Parameters
    ----------
    path
        The ``--notebook`` asked for.

    Returns
    -------
    Path
        The absolute path.

    Raises
    ------
    InvalidParameterError
        The file is missing, a folder, not a notebook (not ``.ipynb`` JSON), or has no code cell
        tagged ``parameters``; nothing has run.
    """
    import nbformat

    given = Path(path).expanduser()
    p = given.resolve()

    def fail(problem: str, fix: str) -> InvalidParameterError:
        return InvalidParameterError(f"--notebook {given}: {problem}\n  Fix: {fix}")

    default_fix = (
        "Give the path of a report notebook (.ipynb), or leave --notebook out to use the one "
        "shipped with icsresearch."
    )
    if not p.exists():
        raise fail("no such notebook file", default_fix)
    if not p.is_file():
        raise fail("is a folder, not a notebook file", default_fix)
    try:
        nb = nbformat.read(str(p), as_version=4)
        cells = list(nb.cells)
    except Exception as exc:  # JSON, encoding or schema errors: all mean "not a notebook"
        what = type(exc).__name__
        raise fail(
            f"is not a Jupyter notebook (it cannot be read as .ipynb JSON: {what})", default_fix
        ) from None
    tagged = [
        c
        for c in cells
        if c.get("cell_type") == "code"
        and "parameters" in (c.get("metadata", {}).get("tags") or [])
    ]
    if not tagged:
        raise fail(
            "has no code cell tagged 'parameters', so the report's parameters (ics_code, "
            "footprint, source, year, method, figures_dir) cannot be given to it",
            "Tag the cell that sets those variables 'parameters' (JupyterLab: the property "
            "inspector's cell tags), as in the shipped notebook "
            "icsresearch/reports/templates/ics_profile.ipynb.",
        )
    return p


def check_source_dir(path: str | Path, option: str = "--source-dir") -> Path:
    """Check that a folder of user-supplied files exists.

    Parameters
    ----------
    path
        The folder.
    option
        The option that named it.

    Raises
    ------
    DataFileError
        It is not a folder.
    """
    folder = Path(path).expanduser().resolve()
    if not folder.is_dir():
        raise DataFileError(
            folder,
            f"is not a folder ({option})",
            "Pass a folder holding files with the published names, e.g. nhs_provider.csv; "
            "files it does not hold come from the registry.",
        )
    return folder


@contextlib.contextmanager
def _batch_lock(out_dir: Path) -> Iterator[OutputRecord]:
    """One batch at a time per output folder (two would rename over each other's reports)."""
    record = OutputRecord(out_dir)
    with record.lock(
        busy="another `icsresearch reports` batch (or another icsresearch command) is writing "
        "into this folder"
    ):
        yield record


#: Entries of the staging folder the batch makes: ``<code>-<hex>``, ``old-<code>-<hex>``,
#: ``worker-<host>-<pid>-<hex>``. Nothing else there is touched.
_STAGED = re.compile(r"^(old-)?[A-Z0-9]{3,5}-[0-9a-f]{8,10}$")
_WORKER = re.compile(r"^worker-(?P<host>.+)-(?P<pid>\d+)-[0-9a-f]{6}$")


def _clean_staging(out_dir: Path) -> None:
    """Remove half-written reports left by an interrupted batch (never a live kernel's folder)."""
    from .executor import STAGING, pid_alive

    staging = out_dir / STAGING
    if not staging.is_dir() or staging.is_symlink():
        return
    host = socket.gethostname()
    for entry in staging.iterdir():
        worker = _WORKER.match(entry.name)
        if worker:
            # keep it while the process that made it may still own a kernel there
            if worker["host"] != host or pid_alive(int(worker["pid"])):
                continue
        elif not _STAGED.match(entry.name):
            continue  # not a name the batch makes
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)


def _staging_is_ours(path: Path) -> bool:
    """A staging folder from before the output record: every entry has a name the batch makes."""
    return path.is_dir() and all(
        _STAGED.match(e.name) or _WORKER.match(e.name) for e in path.iterdir()
    )


def _adopt_report(path: Path) -> bool:
    """A report folder written before the output record existed: its manifest lists its files.

    The folder is the workbench's when it holds exactly the files its ``manifest.json`` lists
    (with their sha256), the manifest itself, and the folders they are in.
    """
    if not path.is_dir():
        return False
    try:
        m = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(m, dict) or m.get("report") != path.name:
        return False
    outputs = m.get("outputs")
    if not isinstance(outputs, dict) or not outputs_intact(path, m):
        return False
    listed = set(outputs) | {"manifest.json"}
    for rel in list(listed):
        parent = Path(rel).parent
        while str(parent) != ".":
            listed.add(parent.as_posix())
            parent = parent.parent
    present = {
        (Path(root) / n).relative_to(path).as_posix()
        for root, dirs, files in os.walk(path)
        for n in (*dirs, *files)
    }
    return present <= listed


def adopt_index(path: Path) -> bool:
    """Whether ``path`` is an ``index.html`` a batch wrote (recognised without the record).

    Parameters
    ----------
    path
        An ``index.html``.
    """
    from .index import GENERATOR

    try:
        head = path.read_bytes()[:200_000].decode("utf-8", errors="replace")
    except OSError:
        return False
    return GENERATOR in head or (
        "index written" in head and "by icsresearch</p>" in head and "<h1>ICS profiles" in head
    )


def _adopt(path: Path) -> bool:
    from .executor import STAGING

    if path.name == "index.html":
        return path.is_file() and adopt_index(path)
    if path.name == STAGING:
        return _staging_is_ours(path)
    return _adopt_report(path)


def _check_purpose(record: OutputRecord, out_dir: Path, params: Sequence[Any]) -> None:
    """One folder, one index: refuse to mix sources or footprints in one output folder."""
    from .index import read_manifests

    first = params[0]
    want = {"command": PURPOSE, "source": first.source, "footprint": first.footprint}
    have = dict(record.purpose)
    if not have:  # a folder from before the record: what do its reports say?
        for m in read_manifests(out_dir).values():
            p = m.get("parameters") or {}
            if p.get("source") in ("demo", "real") and p.get("footprint") in (2022, 2026):
                have = {"command": PURPOSE, "source": p["source"], "footprint": p["footprint"]}
                if (have["source"], have["footprint"]) != (want["source"], want["footprint"]):
                    break
    if have and have.get("command") not in (None, PURPOSE):
        raise OutputPathError(
            out_dir,
            f"holds the outputs of `{have.get('command')}`, not a report batch",
            f"Give the reports their own folder (the default is {DEFAULT_OUT[first.source]}).",
        )
    if have and (have.get("source"), have.get("footprint")) != (want["source"], want["footprint"]):
        what = {"demo": "synthetic demo", "real": "real (published NHS data)"}
        raise OutputPathError(
            out_dir,
            f"holds {what.get(have.get('source'), have.get('source'))} reports of the "
            f"{have.get('footprint')} footprint; this batch makes "
            f"{what[want['source']]} reports of the {want['footprint']} footprint, and one index "
            "must not mix them",
            f"Use another --out folder (the defaults are {DEFAULT_OUT['demo']} for demo data and "
            f"{DEFAULT_OUT['real']} for real data; add the footprint to the name, e.g. "
            f"{DEFAULT_OUT[want['source']]}-{want['footprint']}).",
        )
    record.purpose = want


@contextlib.contextmanager
def quiet_logs() -> Iterator[None]:
    """Silence per-cell and per-task log lines while a batch runs (restored afterwards)."""
    saved = {name: logging.getLogger(name).level for name in _NOISY_LOGGERS}
    try:
        for name in _NOISY_LOGGERS:
            logging.getLogger(name).setLevel(logging.ERROR)
        yield
    finally:
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)


def _kernel_env(source_dir: Path | None = None) -> dict[str, str]:
    """The ICSRESEARCH_* settings a kernel must share with this process (also on Dask).

    The lockfile this process would read (``ICSRESEARCH_LOCK``, or ``./icsresearch.lock`` in
    the current folder) is passed as an absolute ``ICSRESEARCH_LOCK``: a kernel's working
    folder is its report's, where a relative path or the default name would find another file
    or none. Where there is no lockfile the path is passed all the same, so a kernel never picks
    up one of its own.
    """
    from ..data.store import SOURCE_DIR_ENV
    from ..releases.lockfile import LOCK_ENV, default_path

    env = {k: v for k, v in os.environ.items() if k.startswith("ICSRESEARCH_")}
    if source_dir is not None:
        env[SOURCE_DIR_ENV] = str(source_dir)
    env[LOCK_ENV] = str(default_path().absolute())
    return env


def default_out(source: Source = "real") -> Path:
    """The default output folder of a batch: one per source, so an index never mixes them.

    Parameters
    ----------
    source
        ``"demo"`` or ``"real"``.
    """
    return DEFAULT_OUT[check("source", source, Source)]


# --- the batch -----------------------------------------------------------------------------------


def plan(
    codes: Sequence[str] | None = None,
    *,
    all_systems: bool = False,
    footprint: Footprint = 2022,
    source: Source = "real",
    year: int = DEFAULT_YEAR,
    method: TrustIcsMethod = "headquarters",
) -> list[Any]:
    """Validate the batch's parameters and return one ``ReportParameters`` per system.

    Every unknown code is reported at once, with the list of valid codes.

    Parameters
    ----------
    codes
        ICS codes (case-insensitive; duplicates dropped).
    all_systems
        Every system of the footprint instead of ``codes``.
    footprint, source, year, method
        Report parameters.
    """
    src = check("source", source, Source)
    fp = check("footprint", footprint, Footprint)
    check("method", method, TrustIcsMethod)
    check_bool("all_systems", all_systems)
    if all_systems and codes:
        raise InvalidParameterError("Give ICS codes (--ics) or --all, not both.")
    if not all_systems and not codes:
        raise InvalidParameterError(
            "Name the systems (--ics CODE, repeatable) or pass --all. Valid codes: "
            + ", ".join(valid_codes(fp, src))
        )
    wanted = valid_codes(fp, src) if all_systems else list(dict.fromkeys(codes or []))
    good, bad = [], []
    for code in wanted:
        try:
            good.append(validate_report_parameters(code, fp, src, year, method))
        except UnknownCodeError as exc:  # collect them all, then name them in one message
            bad.extend(exc.codes)
    if bad:
        raise UnknownCodeError(tuple(bad), fp, src, unknown_codes_message(tuple(bad), fp, src))
    seen, unique = set(), []
    for p in good:  # "qyg" and "QYG" are the same system
        if p.ics_code not in seen:
            seen.add(p.ics_code)
            unique.append(p)
    return unique


def _skipped(code: str, previous: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "code": code,
        "status": "skipped",
        "error": None,
        "summary": {"headline": previous.get("headline", {}), "system": previous.get("system", {})},
        "timings": {},
        "worker": {},
        "folder": code,
    }


def _drop_failed_attempt(record: OutputRecord, out_dir: Path, code: str) -> None:
    """A report skipped as unchanged no longer needs the failed attempt kept beside it."""
    failed = out_dir / code / "failed"
    if failed.is_dir() and record.owns(code) and not record.foreign([code]):
        shutil.rmtree(failed, ignore_errors=True)
        record.add(code, kind="folder")


def unverified_inputs(out_dir: Path, codes: Sequence[str]) -> list[dict[str, Any]]:
    """Input files of these reports whose bytes were not the registry's, from their manifests.

    Parameters
    ----------
    out_dir
        The batch output folder.
    codes
        Report folders to look at (a failed attempt kept in ``<code>/failed`` counts too).

    Returns
    -------
    list of dict
        ``source``, ``path``, ``sha256`` and ``reports`` (the codes that read it).
    """
    found: dict[tuple, dict[str, Any]] = {}
    for code in codes:
        for folder in (out_dir / code, out_dir / code / "failed"):
            try:
                m = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if m.get("synthetic") is True:
                continue
            for i in m.get("inputs") or []:
                if isinstance(i, dict) and i.get("verified") is not True:
                    key = (i.get("source"), i.get("sha256"))
                    entry = found.setdefault(
                        key,
                        {"source": i.get("source"), "path": i.get("path"),
                         "sha256": i.get("sha256"), "reports": []},
                    )  # fmt: skip
                    if code not in entry["reports"]:
                        entry["reports"].append(code)
    return sorted(found.values(), key=lambda e: (str(e["source"]), str(e["sha256"])))


def run_batch(
    codes: Sequence[str] | None = None,
    *,
    all_systems: bool = False,
    footprint: Footprint = 2022,
    source: Source = "real",
    year: int = DEFAULT_YEAR,
    method: TrustIcsMethod = "headquarters",
    out: str | Path | None = None,
    workers: int = 2,
    scheduler: str | None = None,
    force: bool = False,
    notebook: str | Path | None = None,
    kernel_name: str = "icsresearch",
    fresh_kernels: bool = False,
    cell_timeout: int = 600,
    connect_timeout: float = 5.0,
    source_dir: str | Path | None = None,
    progress: bool = True,
    console=None,
) -> BatchResult:
    """Execute the report notebook for each system and write the reports and an index.

    Parameters
    ----------
    codes
        ICS codes (case-insensitive).
    all_systems
        Every system of the footprint instead of ``codes``.
    footprint, source, year, method
        Report parameters (see :class:`~icsresearch.reports.params.ReportParameters`);
        ``source`` is ``"real"`` unless ``"demo"`` is asked for.
    out
        Output folder: ``<out>/<code>/{report.ipynb, report.html, figures/, manifest.json}`` and
        ``<out>/index.html``. Default: ``outputs/reports-real`` or ``outputs/reports-demo``
        (:data:`DEFAULT_OUT`); one folder holds the reports of one source and footprint.
    workers
        Local worker threads, one kernel each (ignored with ``scheduler``).
    scheduler
        Address of a running Dask scheduler (e.g. ``"tcp://127.0.0.1:8786"``): the reports run
        as tasks on its workers, which must have icsresearch, the kernel and ``out`` (a shared
        folder) available.
    force
        Re-run reports whose inputs and parameters are unchanged. That is all it does: it
        never deletes or overwrites anything the output record does not list (a user's
        ``ZQ01/`` or ``index.html`` still stops the batch), and a failed re-run still keeps
        the last good report.
    notebook
        The report notebook (default: the one shipped in the package,
        :func:`~icsresearch.reports.params.default_notebook`); checked before anything runs.
    kernel_name
        A registered Jupyter kernel (checked before anything runs).
    fresh_kernels
        A new kernel per report instead of one per worker (slower).
    cell_timeout
        Seconds before a cell is interrupted (the report then fails).
    connect_timeout
        Seconds to wait for the Dask scheduler (checked with :func:`probe_scheduler` before the
        output folder is touched).
    source_dir
        A folder of files with the published names, read instead of the registry copies without
        a hash check (``ICSRESEARCH_SOURCE_DIR`` for the kernels). Their hashes enter each
        report's fingerprint; the reports, manifests, index and :attr:`BatchResult.unverified`
        name them.
    progress
        Show a progress bar (rich) on stderr.
    console
        A ``rich.console.Console`` for the progress bar (default: stderr).

    Returns
    -------
    BatchResult
        ``n_failed > 0`` when any report failed; the others are complete regardless.

    Raises
    ------
    UnknownCodeError
        Codes that are not systems of the footprint (all named in one message); nothing has run.
    KernelError
        The kernel is not registered; nothing has run.
    OutputPathError
        ``out`` is a file, read-only, holds reports of another source or footprint, or a name a
        report would take holds something icsresearch did not write; nothing has run.
    InvalidParameterError
        Any other bad parameter (a malformed scheduler address, a notebook that is not a report
        notebook...), an unreachable scheduler, or a batch already writing into ``out``.
    """
    from .params import default_notebook

    t_start = time.perf_counter()
    params = plan(
        codes, all_systems=all_systems, footprint=footprint, source=source, year=year,
        method=method,
    )  # fmt: skip
    for name, flag in (("force", force), ("fresh_kernels", fresh_kernels), ("progress", progress)):
        check_bool(name, flag)
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise InvalidParameterError(f"workers={workers!r}: use a whole number of at least 1.")
    if isinstance(cell_timeout, bool) or not isinstance(cell_timeout, int) or cell_timeout < 1:
        raise InvalidParameterError(f"cell_timeout={cell_timeout!r}: use seconds, at least 1.")
    if (
        isinstance(connect_timeout, bool)
        or not isinstance(connect_timeout, int | float)
        or not (connect_timeout > 0)
    ):
        raise InvalidParameterError(
            f"connect_timeout={connect_timeout!r}: use seconds, more than 0."
        )
    nb_path = check_notebook(notebook) if notebook is not None else default_notebook()
    address = check_scheduler_address(scheduler) if scheduler is not None else None
    if address is not None:
        probe_scheduler(address, connect_timeout)
    src_dir = check_source_dir(source_dir) if source_dir is not None else None
    if address is None:
        check_kernel(kernel_name)
    out_dir = check_output_dir(out if out is not None else default_out(params[0].source))

    from .executor import STAGING, ReportTask
    from .index import write_index

    with _batch_lock(out_dir) as record, quiet_logs():
        _check_purpose(record, out_dir, params)
        env = _kernel_env(src_dir)
        supplied = [i for i in effective_inputs(params[0].source, env) if i["path"]]
        outcomes: dict[str, dict[str, Any]] = {}
        tasks = []
        for p in params:
            digest, parts = fingerprint(nb_path, p.as_dict(), kernel_name, env)
            previous = None if force else _unchanged(out_dir, p.ics_code, digest)
            if previous is not None and (record.owns(p.ics_code) or _adopt(out_dir / p.ics_code)):
                outcomes[p.ics_code] = _skipped(p.ics_code, previous)
                continue
            tasks.append(
                ReportTask(
                    code=p.ics_code,
                    parameters=p.as_dict(),
                    notebook=str(nb_path),
                    out_dir=str(out_dir),
                    fingerprint=digest,
                    fingerprint_parts=parts,
                    kernel_name=kernel_name,
                    fresh_kernel=fresh_kernels,
                    cell_timeout=cell_timeout,
                    env=env,
                    supplied=supplied,
                )
            )
        # Nothing is written before every name the batch will take is known to be its own.
        record.claim(
            [t.code for t in tasks] + ["index.html", STAGING],
            adopt=_adopt,
            fix="Move them out of the folder, or choose another --out folder; icsresearch never "
            "deletes or overwrites what it did not write.",
        )
        for code in outcomes:  # skipped reports stay as they are, only recorded
            if not record.owns(code):
                record.add(code, kind="folder")
            _drop_failed_attempt(record, out_dir, code)
        if not record.owns(STAGING):
            record.add(STAGING, kind="scratch")
        record.save()
        _clean_staging(out_dir)

        def finished(outcome: dict[str, Any]) -> None:
            # recorded as each report lands, so an interrupted batch leaves an exact record
            code = outcome["code"]
            if outcome["status"] in ("ok", "failed") and (out_dir / code).is_dir():
                record.add(code, kind="folder")
                record.save()

        label = f"{len(tasks)} report(s)" + (
            f", {len(outcomes)} unchanged (skipped)" if outcomes else ""
        )
        interrupted = False
        try:
            names = system_names(params[0].footprint, params[0].source)
            with (
                _Progress(len(params), len(outcomes), label, progress, console, names) as bar,
                _stage_listener(bar),
            ):
                if address:
                    _run_dask(tasks, address, outcomes, bar, connect_timeout, finished)
                else:
                    _run_local(tasks, workers, outcomes, bar, finished)
        except KeyboardInterrupt:
            interrupted = True
        finally:
            this_run = {
                c: ("unchanged" if o["status"] == "skipped" else o["status"])
                for c, o in outcomes.items()
            }
            index = write_index(
                out_dir,
                order=[p.ics_code for p in params],
                this_run=this_run,
                title="ICS profiles"
                + (" (synthetic demo data)" if params[0].source == "demo" else ""),
                only={n for n, e in record.entries.items() if e.get("kind") == "folder"},
            )
            record.add("index.html", kind="file")
            record.save()
        if interrupted:
            raise KeyboardInterrupt
    ordered = [outcomes[p.ics_code] for p in params if p.ics_code in outcomes]
    return BatchResult(
        out_dir=out_dir,
        index=index,
        outcomes=ordered,
        wall_seconds=time.perf_counter() - t_start,
        workers=None if address else workers,
        scheduler=address,
        unverified=unverified_inputs(out_dir, [o["code"] for o in ordered]),
    )


#: What a running report is doing, in the words of the progress display: ``loading`` (a kernel
#: started or reset, the notebook parameterised, the data read), ``executing`` (the notebook's
#: cells), ``exporting`` (the executed notebook, HTML, figures and manifest written).
STAGES = ("loading", "executing", "exporting")


def system_names(footprint: int, source: str) -> dict[str, str]:
    """ICS code -> short name for the progress display (empty when the tables cannot be read).

    Parameters
    ----------
    footprint
        2022 or 2026.
    source
        ``"real"`` or ``"demo"``.
    """
    from .. import geography

    try:
        table = geography.icbs(footprint, source)
    except (IcsResearchError, OSError):  # names are a courtesy: the codes alone still work
        return {}
    return dict(zip(table["icb_code"], table["short_name"], strict=True))


class _Progress:
    """The batch's progress: one overall bar, and one line per running report naming the system
    and its stage (:data:`STAGES`), shown from the moment a worker picks the report up.

    ``history`` keeps every ``(code, stage)`` change, also when the display is off.
    """

    def __init__(
        self,
        total: int,
        done: int,
        label: str,
        enabled: bool,
        console,
        names: Mapping[str, str] | None = None,
    ):
        self.enabled = enabled
        self.total, self.done, self.failed = total, done, 0
        self.label = label
        self.names = dict(names or {})
        self.history: list[tuple[str, str]] = []
        self._console = console
        self._progress = None
        self._running: dict[str, Any] = {}  # code -> rich task id
        self._lock = threading.Lock()

    def __enter__(self):
        if self.enabled:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(bar_width=24),
                TextColumn("{task.fields[state]}"),
                TimeElapsedColumn(),
                console=self._console or Console(stderr=True),
                transient=False,
            )
            self._progress.start()
            self._task = self._progress.add_task(
                self._overall(), total=self.total, completed=self.done, state=self.label
            )
            self._progress.refresh()  # on screen now, before the first kernel has started
        return self

    def _overall(self) -> str:
        failed = f", [red]{self.failed} failed[/]" if self.failed else ""
        return f"[bold]reports[/] {self.done}/{self.total}{failed}"

    def stage(self, code: str, stage: str) -> None:
        """Show that report ``code`` entered ``stage`` (``loading``, ``executing``, ``exporting``).

        Parameters
        ----------
        code
            ICS code of the report.
        stage
            One of :data:`STAGES`.
        """
        from rich.markup import escape

        with self._lock:
            self.history.append((code, stage))
            if self._progress is None:
                return
            if code not in self._running:
                name = self.names.get(code, "")
                self._running[code] = self._progress.add_task(
                    escape(f"  {code} {name}".rstrip()), total=None, state=stage
                )
            else:
                self._progress.update(self._running[code], state=stage)
            self._progress.refresh()

    def advance(self, outcome: dict[str, Any]) -> None:
        """Count a finished report and drop its line.

        Parameters
        ----------
        outcome
            The report's outcome (``code`` and ``status``).
        """
        with self._lock:
            self.done += 1
            self.failed += outcome["status"] == "failed"
            self.history.append((outcome["code"], outcome["status"]))
            if self._progress is None:
                return
            running = self._running.pop(outcome["code"], None)
            if running is not None:
                self._progress.remove_task(running)
            state = f"last {outcome['code']} {outcome['status']}"
            self._progress.update(
                self._task, completed=self.done, description=self._overall(), state=state
            )

    def __exit__(self, *exc):
        if self._progress is not None:
            for running in self._running.values():  # interrupted: no stale "executing" lines
                self._progress.remove_task(running)
            self._running.clear()
            self._progress.stop()
        return False


@contextlib.contextmanager
def _stage_listener(bar: _Progress):
    """Let the executor report each stage (loading, executing, exporting) to ``bar``."""
    from .executor import set_stage_listener

    set_stage_listener(bar.stage)
    try:
        yield
    finally:
        set_stage_listener(None)


def _failure(task, exc: BaseException) -> dict[str, Any]:
    return {
        "code": task.code,
        "status": "failed",
        "error": f"{type(exc).__name__}: {exc}".splitlines()[0],
        "summary": {},
        "timings": {},
        "worker": {},
        "folder": None,
    }


def _run_local(
    tasks, workers: int, outcomes: dict, bar: _Progress, finished: Callable[[dict], None]
) -> None:
    """Run tasks on ``workers`` threads; each thread's reports reuse one pooled kernel."""
    from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

    from .executor import CANCELLED, POOL, execute_report

    CANCELLED.clear()
    if not tasks:
        return
    n = min(workers, len(tasks))
    pool = ThreadPoolExecutor(max_workers=n, thread_name_prefix="icsr-report")

    try:
        pending = {pool.submit(execute_report, t): t for t in tasks}
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                task = pending.pop(fut)
                try:
                    outcome = fut.result()
                except Exception as exc:  # execute_report catches notebook failures itself
                    outcome = _failure(task, exc)
                outcomes[task.code] = outcome
                finished(outcome)
                bar.advance(outcome)
    except BaseException:
        # interrupted: drop queued reports, kill the running kernels so their threads end now;
        # execute_report sees CANCELLED and renames nothing into place
        CANCELLED.set()
        for fut in pending:
            fut.cancel()
        POOL.kill_all()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        POOL.shutdown()


def _run_dask(
    tasks,
    scheduler: str,
    outcomes: dict,
    bar: _Progress,
    timeout: float,
    finished: Callable[[dict], None],
) -> None:
    """Submit one task per report to an existing Dask cluster and collect them as they finish."""
    try:
        from distributed import Client, as_completed
    except ImportError as exc:  # pragma: no cover - distributed is a dependency
        raise InvalidParameterError(
            "--scheduler needs dask.distributed, which is not installed."
        ) from exc
    from ._dask import KernelPoolPlugin
    from .executor import execute_report

    if not tasks:
        return
    try:
        client = Client(scheduler, timeout=f"{timeout}s", set_as_default=False)
    except Exception as exc:  # the probe passed, but the client could not start after all
        why = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise cannot_connect(scheduler, timeout, why) from None
    futures: dict = {}
    try:
        client.register_plugin(KernelPoolPlugin(), name="icsresearch-kernel-pool")
        for t in tasks:
            fut = client.submit(
                execute_report, asdict(t), key=f"icsresearch-report-{t.code}-{uuid.uuid4().hex}",
                pure=False, retries=0,
            )  # fmt: skip
            futures[fut] = t
        for fut in as_completed(list(futures), loop=client.loop):
            task = futures[fut]
            try:
                outcome = fut.result()
            except Exception as exc:  # a worker died or the task could not run at all
                outcome = _failure(task, exc)
            outcomes[task.code] = outcome
            finished(outcome)
            bar.advance(outcome)
    except BaseException:
        with contextlib.suppress(Exception):  # queued reports are dropped; running ones finish
            client.cancel(list(futures))
        raise
    finally:
        client.close()
