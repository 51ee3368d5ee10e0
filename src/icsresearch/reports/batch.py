"""The report batch: one papermill-executed notebook per ICS, locally or on a Dask cluster.

>>> from icsresearch.reports import run_batch
>>> result = run_batch(all_systems=True, source="demo", workers=2, out="outputs/reports")  # doctest: +SKIP
>>> result.n_failed, result.index  # doctest: +SKIP

How it runs
-----------
1. Every parameter is validated (codes against the footprint's reference geography) before
   anything starts; output folders are named after validated codes only.
2. Each report gets a **fingerprint**: the sha256 of the notebook, the parameters, the source
   code of the icsresearch package, the input data (the registry's pinned sha256 of every
   published file for real data; the demo generator is package code) and the kernel name. A report
   whose folder holds a successful manifest with the same fingerprint is skipped
   (``force=True`` redoes it); failed reports always run again.
3. Reports run on ``workers`` local threads, each with its own pooled kernel
   (:mod:`icsresearch.reports.executor`), or, with ``scheduler=``, as tasks on an existing Dask
   distributed cluster (each Dask worker process keeps its own kernel pool).
4. A failing report never stops the others; ``DIR/index.html`` lists every report with status
   and headline figures.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import logging
import os
import shutil
import socket
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..errors import InvalidParameterError, KernelError, UnknownCodeError
from ..options import Footprint, Source, TrustIcsMethod, check, check_bool
from .params import DEFAULT_YEAR, valid_codes, validate_report_parameters

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
    """

    out_dir: Path
    index: Path
    outcomes: list[dict[str, Any]]
    wall_seconds: float
    workers: int | None
    scheduler: str | None = None

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


def input_fingerprint(source: str) -> str:
    """sha256 of the data a report reads.

    Real data: the registry's pinned sha256 of every published file (the data layer refuses a
    file whose bytes differ, so these are the bytes read). Demo data: the generator's seed and
    calibration; the generator's code is covered by :func:`code_fingerprint`.

    Parameters
    ----------
    source
        ``"demo"`` or ``"real"``.
    """
    if source == "real":
        from ..data.registry import REGISTRY

        pins = sorted(f"{e.name}:{e.sha256}" for e in REGISTRY.values())
        return _sha256_bytes("\n".join(pins).encode())
    from importlib import resources

    from ..demo import SEED

    cal = resources.files("icsresearch.demo").joinpath("calibration.json").read_bytes()
    return _sha256_bytes(f"seed={SEED}\n".encode() + cal)


def fingerprint(
    notebook: Path, parameters: dict[str, Any], kernel_name: str
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

    Returns
    -------
    tuple
        ``(sha256 hex digest, parts)``.
    """
    parts = {
        "notebook": _sha256_bytes(Path(notebook).read_bytes()),
        "parameters": parameters,
        "code": code_fingerprint(),
        "inputs": input_fingerprint(parameters["source"]),
        "kernel": kernel_name,
    }
    return _sha256_bytes(json.dumps(parts, sort_keys=True).encode()), parts


def _unchanged(out_dir: Path, code: str, digest: str) -> dict[str, Any] | None:
    """The previous manifest if ``out_dir/code`` is a complete, successful, same-input report."""
    folder = out_dir / code
    try:
        m = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    complete = all((folder / f).is_file() for f in ("report.ipynb", "report.html"))
    if m.get("status") == "ok" and m.get("fingerprint") == digest and complete:
        return m
    return None


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
            f"The Jupyter kernel {kernel_name!r} is not registered. Register it with "
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


@contextlib.contextmanager
def _batch_lock(out_dir: Path) -> Iterator[None]:
    """One batch at a time per output folder (two would rename over each other's reports)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no advisory lock
        yield
        return
    fh = open(out_dir / ".batch.lock", "a+")  # noqa: SIM115 - held for the whole batch
    try:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise InvalidParameterError(
                f"Another `icsresearch reports` batch is writing into {out_dir}; wait for it to "
                "finish or choose another --out folder."
            ) from None
        yield
    finally:
        fh.close()


def _clean_staging(out_dir: Path) -> None:
    """Remove half-written reports left by an interrupted batch (never a live kernel's folder)."""
    staging = out_dir / ".staging"
    if not staging.is_dir():
        return
    host = socket.gethostname()
    for entry in staging.iterdir():
        if entry.name.startswith("worker-"):
            # worker-<host>-<pid>-<id>: keep it while that process may still own a kernel
            parts = entry.name.rsplit("-", 2)
            owner_host = parts[0].removeprefix("worker-") if len(parts) == 3 else ""
            pid = int(parts[1]) if len(parts) == 3 and parts[1].isdigit() else None
            if owner_host != host or pid is None or _pid_alive(pid):
                continue
        shutil.rmtree(entry, ignore_errors=True)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


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


def _kernel_env() -> dict[str, str]:
    """The ICSRESEARCH_* settings a kernel must share with this process (also on Dask)."""
    return {k: v for k, v in os.environ.items() if k.startswith("ICSRESEARCH_")}


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
    from .. import geography

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
        table = geography.icbs(fp, src)
        valid = ", ".join(
            f"{c} ({n})" for c, n in zip(table["icb_code"], table["short_name"], strict=True)
        )
        raise UnknownCodeError(
            tuple(bad),
            fp,
            src,
            f"{', '.join(repr(b) for b in bad)}: not ICS (ICB) codes in the {fp} footprint "
            f"({src} data). Valid codes: {valid}",
        )
    seen, unique = set(), []
    for p in good:  # "qyg" and "QYG" are the same system
        if p.ics_code not in seen:
            seen.add(p.ics_code)
            unique.append(p)
    return unique


def run_batch(
    codes: Sequence[str] | None = None,
    *,
    all_systems: bool = False,
    footprint: Footprint = 2022,
    source: Source = "real",
    year: int = DEFAULT_YEAR,
    method: TrustIcsMethod = "headquarters",
    out: str | Path = "outputs/reports",
    workers: int = 2,
    scheduler: str | None = None,
    force: bool = False,
    notebook: str | Path | None = None,
    kernel_name: str = "icsresearch",
    fresh_kernels: bool = False,
    cell_timeout: int = 600,
    connect_timeout: float = 20.0,
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
        ``<out>/index.html``.
    workers
        Local worker threads, one kernel each (ignored with ``scheduler``).
    scheduler
        Address of a running Dask scheduler (e.g. ``"tcp://127.0.0.1:8786"``): the reports run
        as tasks on its workers, which must have icsresearch, the kernel and ``out`` (a shared
        folder) available.
    force
        Re-run reports whose inputs and parameters are unchanged.
    notebook
        The report notebook (default: the one shipped in the package,
        :func:`~icsresearch.reports.params.default_notebook`).
    kernel_name
        A registered Jupyter kernel (checked before anything runs).
    fresh_kernels
        A new kernel per report instead of one per worker (slower).
    cell_timeout
        Seconds before a cell is interrupted (the report then fails).
    connect_timeout
        Seconds to wait for the Dask scheduler.
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
    InvalidParameterError
        Any other bad parameter, an unreachable scheduler, or a batch already writing into
        ``out``; nothing has run.
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
    if not isinstance(cell_timeout, int) or cell_timeout < 1:
        raise InvalidParameterError(f"cell_timeout={cell_timeout!r}: use seconds, at least 1.")
    nb_path = Path(notebook).resolve() if notebook else default_notebook()
    if not nb_path.is_file():
        raise InvalidParameterError(f"--notebook {nb_path}: no such notebook file.")
    if scheduler is None:
        check_kernel(kernel_name)
    out_dir = Path(out).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)

    from .executor import ReportTask

    with _batch_lock(out_dir), quiet_logs():
        _clean_staging(out_dir)
        env = _kernel_env()
        outcomes: dict[str, dict[str, Any]] = {}
        tasks = []
        for p in params:
            digest, parts = fingerprint(nb_path, p.as_dict(), kernel_name)
            previous = None if force else _unchanged(out_dir, p.ics_code, digest)
            if previous is not None:
                outcomes[p.ics_code] = {
                    "code": p.ics_code,
                    "status": "skipped",
                    "error": None,
                    "summary": {
                        "headline": previous.get("headline", {}),
                        "system": previous.get("system", {}),
                    },
                    "timings": {},
                    "worker": {},
                }
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
                )
            )
        label = f"{len(tasks)} report(s)" + (
            f", {len(outcomes)} unchanged (skipped)" if outcomes else ""
        )
        interrupted = False
        try:
            with _Progress(len(params), len(outcomes), label, progress, console) as bar:
                if scheduler:
                    _run_dask(tasks, scheduler, outcomes, bar, connect_timeout)
                else:
                    _run_local(tasks, workers, outcomes, bar)
        except KeyboardInterrupt:
            interrupted = True
        finally:
            from .index import write_index

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
            )
        if interrupted:
            raise KeyboardInterrupt
    ordered = [outcomes[p.ics_code] for p in params if p.ics_code in outcomes]
    return BatchResult(
        out_dir=out_dir,
        index=index,
        outcomes=ordered,
        wall_seconds=time.perf_counter() - t_start,
        workers=None if scheduler else workers,
        scheduler=scheduler,
    )


class _Progress:
    """A rich progress bar (or nothing), counting finished reports and failures."""

    def __init__(self, total: int, done: int, label: str, enabled: bool, console):
        self.enabled = enabled
        self.total, self.done, self.failed = total, done, 0
        self.label = label
        self._console = console
        self._progress = None

    def __enter__(self):
        if self.enabled:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self._progress = Progress(
                TextColumn("[bold]reports[/]"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[state]}"),
                TimeElapsedColumn(),
                TextColumn("eta"),
                TimeRemainingColumn(),
                console=self._console or Console(stderr=True),
                transient=False,
            )
            self._progress.start()
            self._task = self._progress.add_task(
                "reports", total=self.total, completed=self.done, state=self.label
            )
        return self

    def advance(self, outcome: dict[str, Any]) -> None:
        self.done += 1
        self.failed += outcome["status"] == "failed"
        if self._progress is not None:
            state = f"last {outcome['code']}" + (
                f" · [red]{self.failed} failed[/]" if self.failed else ""
            )
            self._progress.update(self._task, completed=self.done, state=state)

    def __exit__(self, *exc):
        if self._progress is not None:
            self._progress.stop()
        return False


def _failure(task, exc: BaseException) -> dict[str, Any]:
    return {
        "code": task.code,
        "status": "failed",
        "error": f"{type(exc).__name__}: {exc}".splitlines()[0],
        "summary": {},
        "timings": {},
        "worker": {},
    }


def _run_local(tasks, workers: int, outcomes: dict, bar: _Progress) -> None:
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


def _run_dask(tasks, scheduler: str, outcomes: dict, bar: _Progress, timeout: float) -> None:
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
    except (OSError, TimeoutError) as exc:
        raise InvalidParameterError(
            f"--scheduler {scheduler}: cannot connect to a Dask scheduler there ({exc}). Start "
            "one (`dask scheduler` and `dask worker <address>`) or check the address."
        ) from None
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
            bar.advance(outcome)
    except BaseException:
        with contextlib.suppress(Exception):  # queued reports are dropped; running ones finish
            client.cancel(list(futures))
        raise
    finally:
        client.close()
