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
    ) -> None:
        """Reproduce a published finding: run its notebook, compare with the paper, record how."""
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

        manifest = json.loads(paths["manifest.json"].read_text(encoding="utf-8"))
        counts: dict[str, int] = {}
        for v in manifest.get("verdicts", []):
            counts[v["verdict"]] = counts.get(v["verdict"], 0) + 1
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
