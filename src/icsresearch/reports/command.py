"""``icsresearch reports``: the per-ICS report batch on the command line.

Exit codes: 0 every report succeeded (or was unchanged); 1 nothing ran (bad parameters, unknown
codes, no kernel, a notebook that is not a report notebook, a malformed scheduler address, an
output folder that is a file, read-only, holds another source's reports or names taken by the
user's own files, another batch writing into the folder...); 3 some reports failed (the others
are complete, a good report is never replaced by a failed one, and the index marks the
failures); 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..options import Footprint, Source, TrustIcsMethod, check
from .params import DEFAULT_YEAR

#: Exit code when at least one report failed.
EXIT_SOME_FAILED = 3
#: Exit code after Ctrl-C (128 + SIGINT, the shell convention).
EXIT_INTERRUPTED = 130


def _reports(
    ics: Annotated[
        list[str] | None,
        typer.Option(
            "--ics",
            metavar="CODE",
            help="ICS (ICB) code, any case (qe1 = QE1); repeat for several. "
            "`icsresearch codes` lists them.",
        ),
    ] = None,
    all_: Annotated[bool, typer.Option("--all", help="Every system of the footprint.")] = False,
    footprint: Annotated[
        str,
        typer.Option(metavar="2022|2026", help="ICS footprint: 2022 (42 systems) or 2026 (36)."),
    ] = "2022",
    source: Annotated[
        str,
        typer.Option(
            metavar="real|demo",
            help="real (published NHS files; set ICSRESEARCH_MIRROR offline) or demo "
            "(synthetic, offline).",
        ),
    ] = "real",
    year: Annotated[
        int,
        typer.Option(
            metavar="2012-2018|2021-2024",
            help="Financial-year start of the report (2023 = 2023/24, the latest year every "
            "ICS-era file covers in full).",
        ),
    ] = DEFAULT_YEAR,
    method: Annotated[
        str,
        typer.Option(
            metavar="headquarters|catchment|ae_activity", help="How trusts are shared among ICSs."
        ),
    ] = "headquarters",
    workers: Annotated[
        int,
        typer.Option(
            metavar="N", help="Local workers, one kernel each (ignored with --scheduler)."
        ),
    ] = 2,
    scheduler: Annotated[
        str | None,
        typer.Option(
            metavar="ADDRESS",
            help="Run on an existing Dask cluster: scheduler address, e.g. tcp://host:8786.",
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            metavar="DIR",
            help="Output folder (default outputs/reports-real, or outputs/reports-demo with "
            "--source demo). Names in it that icsresearch did not write are never touched.",
            show_default=False,
        ),
    ] = None,
    source_dir: Annotated[
        Path | None,
        typer.Option(
            "--source-dir",
            metavar="DIR",
            help="Folder of files with the published names (e.g. nhs_provider.csv), read instead "
            "of the registry copies without a hash check; the reports say so.",
        ),
    ] = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Redo reports whose inputs and parameters are unchanged (and were skipped). "
            "It only re-runs: it never deletes or overwrites anything icsresearch did not write, "
            "so a name held by your own file or folder (e.g. OUT/<code>/, OUT/index.html) still "
            "stops the batch.",
        ),
    ] = False,
    notebook: Annotated[
        Path | None,
        typer.Option(
            metavar="PATH", help="Report notebook (default: the one shipped in the package)."
        ),
    ] = None,
    kernel: Annotated[
        str, typer.Option(metavar="NAME", help="Registered Jupyter kernel to run on.")
    ] = "icsresearch",
    fresh_kernels: Annotated[
        bool,
        typer.Option("--fresh-kernels", help="Start a new kernel for every report (slower)."),
    ] = False,
    timeout: Annotated[
        int,
        typer.Option(
            metavar="SECONDS", help="Seconds a notebook cell may run before the report fails."
        ),
    ] = 600,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Execute the ICS report notebook per system: HTML, figures, manifests and an index.

    Writes OUT/<code>/report.ipynb, report.html, figures/ and manifest.json, and OUT/index.html.
    Unchanged reports are skipped (--force redoes them); a failing report never stops the others.

    Example: icsresearch reports --ics qe1 --ics QYG --footprint 2022 --out outputs/reports
    """
    from rich.console import Console
    from rich.markup import escape

    from .batch import default_out, run_batch

    console = Console(stderr=True)
    # checked before anything starts; the Python API takes the footprint as an int, a command
    # line gives text
    fp = check("footprint", footprint, Footprint)
    src = check("source", source, Source)
    meth = check("method", method, TrustIcsMethod)
    if not quiet:  # said at once: checking codes against the real geography takes seconds
        named = [c if len(c) <= 20 else c[:17] + "..." for c in ics or []]  # input may be huge
        asked = "every system" if all_ else ", ".join(named) or "no system"
        console.print(
            escape(f"reports: {asked} ({fp} footprint, {src} data); checking the codes, the ")
            + "kernel and the output folder...",
            highlight=False,
            soft_wrap=True,
        )
    try:
        result = run_batch(
            ics,
            all_systems=all_,
            footprint=fp,
            source=src,
            year=year,
            method=meth,
            out=out,
            workers=workers,
            scheduler=scheduler,
            force=force,
            notebook=notebook,
            kernel_name=kernel,
            fresh_kernels=fresh_kernels,
            cell_timeout=timeout,
            source_dir=source_dir,
            progress=not quiet,
            console=console,
        )
    except KeyboardInterrupt:
        where = out if out is not None else default_out(src)
        console.print(
            f"[yellow]interrupted[/]: finished reports are complete in {escape(str(where))}; no "
            "partial report was left. Run the same command again to finish (unchanged reports "
            "are skipped).",
            highlight=False,
        )
        raise typer.Exit(EXIT_INTERRUPTED) from None
    out_console = Console()
    print_summary(result, out_console, scheduler=scheduler, workers=workers)
    if result.unverified:
        # stderr, and said every run: numbers from files the registry does not vouch for
        console.print(
            f"[yellow]warning[/]: {len(result.unverified)} input file(s) used by these reports "
            "are not the registry's (user-supplied or modified; not hash-checked):",
            highlight=False,
        )
        for u in result.unverified:
            console.print(
                escape(
                    f"  - {u['source']}: {u.get('path') or '?'} (sha256 {str(u['sha256'])[:12]}..., "
                    f"{len(u['reports'])} report(s))"
                ),
                highlight=False,
                soft_wrap=True,
            )
        console.print(
            "  The reports, their manifests and the index name these files. Unset "
            "ICSRESEARCH_SOURCE_DIR / drop --source-dir to use the published files.",
            highlight=False,
        )
    if src == "demo":
        out_console.print(
            "[yellow]synthetic demo data[/]: fictional organisations, not real NHS figures."
        )
    if result.n_failed:
        raise typer.Exit(EXIT_SOME_FAILED)


def _short_name(outcome: dict) -> str:
    """The system's name as the report's summary cell gave it (empty if it never ran)."""
    system = (outcome.get("summary") or {}).get("system") or {}
    return str(system.get("short_name") or "") if isinstance(system, dict) else ""


def failure_logs(result, outcome: dict) -> list[Path]:
    """Where to read why a report failed: its executed notebook (the traceback is in the failing
    cell, under papermill's red banner) and its manifest (the error line, timings, inputs).

    Parameters
    ----------
    result
        The batch's :class:`~icsresearch.reports.batch.BatchResult`.
    outcome
        One failed outcome of ``result.outcomes``.

    Returns
    -------
    list of pathlib.Path
        The files that exist (none when the report failed before writing anything).
    """
    folder = outcome.get("folder")
    if not folder:
        return []
    base = Path(result.out_dir) / folder
    return [p for p in (base / "report.ipynb", base / "manifest.json") if p.is_file()]


def print_summary(result, console, *, scheduler: str | None = None, workers: int = 1) -> None:
    """The batch's last words: counts, the index to open, and each failed report with its logs.

    Parameters
    ----------
    result
        The batch's :class:`~icsresearch.reports.batch.BatchResult`.
    console
        A ``rich.console.Console`` (stdout on the command line).
    scheduler
        The Dask scheduler address, when the batch ran on one.
    workers
        Local workers otherwise.
    """
    from rich.markup import escape

    where = f"on {scheduler}" if scheduler else f"with {workers} local worker(s)"
    console.print(
        f"[green]{result.n_ok} report(s) written[/], {result.n_skipped} unchanged (skipped), "
        + (f"[red]{result.n_failed} failed[/]" if result.n_failed else "0 failed")
        + f" in {result.wall_seconds:.1f} s {where}.",
        highlight=False,
    )
    failed = [o for o in result.outcomes if o["status"] == "failed"]
    if failed:
        console.print(f"[red]Failed reports[/] ({len(failed)}; the others are complete):")
        for o in failed:
            name = _short_name(o)
            console.print(
                f"  [red]failed[/] {escape(o['code'])}: "
                + escape(o.get("error") or "unknown error")
                + (f" ({escape(name)})" if name else ""),
                highlight=False,
                soft_wrap=True,
            )
            logs = failure_logs(result, o)
            kept = str(o.get("folder") or "").endswith("/failed")
            for path in logs:
                what = "traceback in the failing cell" if path.suffix == ".ipynb" else "manifest"
                console.print(f"      {what}: {escape(str(path))}", highlight=False, soft_wrap=True)
            if kept:
                console.print("      the last good report is kept beside it", highlight=False)
            if not logs:
                console.print("      nothing was written for it", highlight=False)
        console.print(
            "  Fix the cause and run the same command again: only failed and changed reports run.",
            highlight=False,
        )
    index = Path(result.index)
    console.print(
        f"[bold]Open the index:[/] {escape(str(index))}"
        + (
            f"  ({escape(index.resolve().as_uri())})"
            if index.is_absolute() or index.exists()
            else ""
        ),
        highlight=False,
        soft_wrap=True,
    )


def register(app: typer.Typer) -> None:
    """Add the ``reports`` command to the ``icsresearch`` application.

    Parameters
    ----------
    app
        The typer application of :mod:`icsresearch.cli`.
    """
    app.command("reports")(_reports)
