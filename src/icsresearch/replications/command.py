"""``icsresearch replicate``: run a replication and write its outputs (registered by the CLI).

Kept light: heavy imports happen inside the command, so the CLI starts fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    """Add the ``replicate`` command to the ``icsresearch`` application."""

    @app.command("replicate")
    def replicate(
        rep_id: Annotated[
            str | None,
            typer.Argument(metavar="ID", help="Replication id (see --list).", show_default=False),
        ] = None,
        out: Annotated[
            Path | None,
            typer.Option("--out", help="Output folder for the estimates, comparison and notebook."),
        ] = None,
        source_dir: Annotated[
            Path | None,
            typer.Option(
                "--source-dir",
                help="Folder of files in the published layout (same names), used instead of the "
                "registry copies without hash checks.",
            ),
        ] = None,
        processing: Annotated[
            str | None,
            typer.Option(
                "--processing",
                metavar="authors|cleaned",
                help="Data processing: the authors' own (default) or this package's cleaning "
                "(asaria2022's named sensitivity analysis).",
                show_default=False,
            ),
        ] = None,
        param: Annotated[
            list[str] | None,
            typer.Option("--param", "-p", help="Notebook parameter name=value (repeatable)."),
        ] = None,
        list_: Annotated[bool, typer.Option("--list", help="List the replications.")] = False,
        all_: Annotated[
            bool,
            typer.Option(
                "--all",
                help="Run every replication into DIR/<id>/ and write DIR/index.html and "
                "DIR/summary.md; a failure does not stop the others (exit code 1 if any failed).",
            ),
        ] = False,
    ) -> None:
        """Reproduce a published finding: run its notebook, compare with the paper, record how.

        Each output folder gets a README.md for reviewers; --all runs every replication.
        """
        from rich.console import Console
        from rich.table import Table

        from .registry import REPLICATIONS

        console, err = Console(), Console(stderr=True)
        if list_:
            table = Table(title="replications (icsresearch replicate ID --out DIR)")
            for col in ("id", "data", "finding", "paper"):
                table.add_column(col, overflow="fold")
            for r in REPLICATIONS.values():
                table.add_row(r.id, r.data, r.title, r.paper)
            console.print(table)
            return
        if all_:
            _replicate_all(console, err, rep_id, out, source_dir, processing, param)
            return
        if rep_id is None or out is None:
            err.print(
                "[bold red]error:[/] give a replication id and --out DIR "
                "(or --list to see the replications)",
                highlight=False,
            )
            raise typer.Exit(2)

        from .runner import parse_parameters, run_replication

        params = parse_parameters(param or [])
        if processing is not None:
            from ..options import Processing, check

            params["processing"] = check("processing", processing, Processing)
        console.print(f"[bold]replicate {rep_id}[/]: running the notebook ...", highlight=False)
        paths = run_replication(rep_id, out, source_dir=source_dir, parameters=params)
        import json

        from .reviewer import verdict_counts

        manifest = json.loads(paths["manifest.json"].read_text(encoding="utf-8"))
        counts = verdict_counts(manifest)
        console.print(
            "verdicts: " + ", ".join(f"{n} {v}" for v, n in counts.items()), highlight=False
        )
        if source_dir is not None:
            console.print(
                f"[yellow]files from {source_dir} were used without hash checks[/]",
                highlight=False,
            )
        console.print(f"[green]wrote[/] to {Path(out).resolve()}:", highlight=False)
        for name in paths:
            console.print(f"  {name}", highlight=False)


def _replicate_all(console, err, rep_id, out, source_dir, processing, param) -> None:
    """``replicate --all --out DIR``: every replication, then the summary page."""
    if rep_id is not None or out is None or processing is not None or param:
        problem = (
            "--all runs every replication: give no ID"
            if rep_id is not None
            else "--all needs --out DIR"
            if out is None
            else "--all runs each replication with its defaults: -p and --processing apply to "
            "one replication"
        )
        err.print(
            f"[bold red]error:[/] {problem}\n  Fix: `icsresearch replicate --all --out DIR`, or "
            "`icsresearch replicate ID --out DIR -p name=value` for one replication",
            highlight=False,
        )
        raise typer.Exit(2)
    from .reviewer import INDEX_HTML, SUMMARY_MD, run_all

    def progress(name, state, summary) -> None:
        if state == "start":
            console.print(f"[bold]replicate {name}[/]: running the notebook ...", highlight=False)
        elif state == "done":
            counts = ", ".join(f"{n} {v}" for v, n in summary.verdicts.items())
            console.print(f"  verdicts: {counts} ({summary.seconds} s)", highlight=False)
        else:
            err.print(
                f"  [bold red]FAILED[/] ({summary.seconds} s): {summary.error}", highlight=False
            )

    results = run_all(out, source_dir=source_dir, progress=progress)
    failed = [r.id for r in results if not r.ok]
    folder = Path(out).resolve()
    console.print(
        f"[green]wrote[/] {folder / INDEX_HTML} and {SUMMARY_MD}: "
        f"{len(results) - len(failed)} of {len(results)} replications ran",
        highlight=False,
    )
    if source_dir is not None:
        console.print(
            f"[yellow]files from {source_dir} were used without hash checks[/]", highlight=False
        )
    if failed:
        err.print(f"[bold red]failed:[/] {', '.join(failed)} (see {INDEX_HTML})", highlight=False)
        raise typer.Exit(1)
