"""The ``icsresearch`` command line: a thin typer layer over the package.

Errors meant for the user (:class:`~icsresearch.errors.IcsResearchError`) are printed without a
traceback and give exit code 1.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from .errors import IcsResearchError

app = typer.Typer(
    help="icsresearch: real NHS data, ICS and trust panels, econometrics and per-ICS reports.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
data_app = typer.Typer(
    help="The registry of published NHS files: list, fetch, verify, describe.", no_args_is_help=True
)
app.add_typer(data_app, name="data")
panel_app = typer.Typer(
    help="Build trust-year and ICS-year panels from real or demo data.", no_args_is_help=True
)
app.add_typer(panel_app, name="panel")

console = Console()
err_console = Console(stderr=True)


def _fail(message: str, code: int = 1) -> typer.Exit:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


# --- data --------------------------------------------------------------------------------------


@data_app.command("list")
def data_list() -> None:
    """List every registry file: name, description, publisher, licence, years, cached or not."""
    from .data import REGISTRY, is_cached

    table = Table(title="icsresearch data registry", show_lines=False)
    for col in ("name", "description", "publisher", "licence", "years", "cached"):
        table.add_column(col, overflow="fold")
    for entry in REGISTRY.values():
        cached = "[green]yes[/]" if is_cached(entry.name) else "[dim]no[/]"
        table.add_row(
            entry.name, entry.description, entry.publisher, entry.licence, entry.years, cached
        )
    console.print(table)


@data_app.command("fetch")
def data_fetch(
    names: Annotated[
        list[str] | None, typer.Argument(help="Registry names (see `icsresearch data list`).")
    ] = None,
    all_: Annotated[bool, typer.Option("--all", help="Fetch every registry file.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")] = False,
) -> None:
    """Fetch files into the cache from ICSRESEARCH_MIRROR or the pinned URLs, checking sha256."""
    from .data import REGISTRY, fetch_many, get
    from .data.store import unavailable_message

    if all_ and names:
        raise _fail("give names or --all, not both")
    if not all_ and not names:
        raise _fail("name the files to fetch, or pass --all (see `icsresearch data list`)", 2)
    wanted = list(REGISTRY) if all_ else list(names or [])
    for n in wanted:
        get(n)  # unknown names fail before anything is fetched
    outcomes = fetch_many(wanted, progress=not quiet)
    ok = [o for o in outcomes if o.status == "ok"]
    missing = [o.name for o in outcomes if o.status == "missing"]
    rejected = [o for o in outcomes if o.status == "rejected"]
    console.print(f"[green]{len(ok)}[/] of {len(outcomes)} file(s) in the cache and verified.")
    for o in rejected:
        err_console.print(f"[bold red]rejected[/] {o.message}", highlight=False)
    if missing:
        err_console.print(unavailable_message(missing), highlight=False)
    if missing or rejected:
        raise typer.Exit(1)


@data_app.command("verify")
def data_verify(
    cached_only: Annotated[
        bool, typer.Option("--cached-only", help="Check only the files that are cached.")
    ] = False,
) -> None:
    """Re-hash the cache against the registry; files with the wrong hash are set aside."""
    from . import config
    from .data import verify

    outcomes = verify()
    table = Table(title=f"cache {config.cache_dir()}")
    table.add_column("name")
    table.add_column("status")
    colour = {"ok": "green", "not cached": "yellow", "rejected": "red"}
    for o in outcomes:
        if cached_only and o.status == "not cached":
            continue
        table.add_row(o.name, f"[{colour[o.status]}]{o.status}[/]")
    console.print(table)
    rejected = [o for o in outcomes if o.status == "rejected"]
    absent = [o.name for o in outcomes if o.status == "not cached"]
    for o in rejected:
        err_console.print(o.detail, highlight=False)
    if rejected:
        raise _fail(f"{len(rejected)} cached file(s) failed the hash check and were set aside")
    if absent and not cached_only:
        raise _fail(
            f"{len(absent)} of {len(outcomes)} registry file(s) are not cached: "
            "run `icsresearch data fetch --all` (with ICSRESEARCH_MIRROR set when offline)"
        )
    console.print(f"[green]{len(outcomes) - len(absent)} cached file(s) verified.[/]")


@data_app.command("info")
def data_info(name: Annotated[str, typer.Argument(help="Registry name.")]) -> None:
    """Describe one file: source, licence, year convention, citation and the reader's columns."""
    from .data import get, is_cached
    from .sources import schema

    entry = get(name)
    sch = schema(name)
    console.print(f"[bold]{entry.name}[/]: {entry.description}")
    for label, value in (
        ("publisher", entry.publisher),
        ("licence", entry.licence),
        ("years", entry.years),
        ("year convention (source)", entry.year_convention),
        ("year convention (tidy)", sch.year_convention),
        ("citation", entry.citation),
        ("url", entry.url),
        ("sha256", entry.sha256),
        ("reader", f"icsresearch.sources.{entry.reader.replace(':', '.')}"),
        ("cached", "yes" if is_cached(name) else "no"),
    ):
        console.print(f"  [cyan]{label}[/]: {value}", highlight=False, soft_wrap=True)
    if sch.notes:
        console.print(f"  [cyan]notes[/]: {sch.notes}", highlight=False, soft_wrap=True)
    table = Table(title="columns of the tidy table")
    for col in ("column", "label", "unit", "description"):
        table.add_column(col, overflow="fold")
    for c in sch.columns:
        table.add_row(c.name, c.label, c.unit, c.description)
    console.print(table)


# --- panels ------------------------------------------------------------------------------------


def _table_suffix(out: Path) -> str:
    """``.csv`` or ``.parquet``, from the output file name; anything else is refused."""
    from .errors import InvalidParameterError

    suffix = out.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise InvalidParameterError(f"--out {out}: use a .csv or .parquet file name.")
    return suffix


def write_table(df, out: Path) -> list[Path]:
    """Write a panel as CSV or Parquet (by extension) plus ``<out>.manifest.json``, atomically.

    The manifest records the table's provenance (:func:`icsresearch.provenance.of`): its inputs
    with their hashes and whether it is synthetic (true, false or unknown).

    Parameters
    ----------
    df
        The table.
    out
        A ``.csv`` or ``.parquet`` path.

    Returns
    -------
    list of Path
        The table and its manifest.
    """
    import io

    from . import provenance
    from ._atomic import atomic_write_bytes
    from .provenance import Provenance, write_manifest

    if _table_suffix(out) == ".csv":
        atomic_write_bytes(out, df.to_csv(index=False).encode("utf-8"))
    else:
        buf = io.BytesIO()
        plain = df.copy()
        plain.attrs = {}
        plain.to_parquet(buf, index=False)
        atomic_write_bytes(out, buf.getvalue())
    record = provenance.of(df)
    written = Provenance.record(
        synthetic=record.synthetic,
        inputs=record.inputs,
        parameters=df.attrs.get("parameters", {}),
        extra={
            "output": out.name,
            "rows": len(df),
            "data_source": df["data_source"].iloc[0] if "data_source" in df and len(df) else "",
            "columns": df.attrs.get("columns", {}),
        },
    ).to_dict()
    side = out.with_name(out.name + ".manifest.json")
    write_manifest(side, written)
    return [out, side]


@panel_app.command("build")
def panel_build(
    out: Annotated[Path, typer.Option("--out", help="Output file: .csv or .parquet.")],
    level: Annotated[
        str, typer.Option(help="trust-year or ICS-year panel: trust or ics.")
    ] = "trust",
    source: Annotated[
        str,
        typer.Option(
            help="real (published files; set ICSRESEARCH_MIRROR offline) or demo (synthetic)."
        ),
    ] = "real",
    footprint: Annotated[str, typer.Option(help="ICS footprint: 2022 (42) or 2026 (36).")] = "2022",
    method: Annotated[
        str, typer.Option(help="Trust-to-ICS method: headquarters, catchment or ae_activity.")
    ] = "headquarters",
    trust_type: Annotated[
        list[str] | None,
        typer.Option("--trust-type", help="Keep only this trust type (repeatable)."),
    ] = None,
) -> None:
    """Build a panel and write it with a manifest (inputs, hashes, versions, parameters)."""
    from .options import Footprint, Level, Source, TrustIcsMethod, check
    from .panel import ics_year_panel, trust_year_panel

    # checked before the panel is built, with the error every Python function gives
    _table_suffix(out)
    lvl = check("level", level, Level)
    src = check("source", source, Source)
    kwargs = {
        "footprint": check("footprint", footprint, Footprint),
        "method": check("method", method, TrustIcsMethod),
        "trust_types": trust_type or None,
    }
    build = trust_year_panel if lvl == "trust" else ics_year_panel
    df = build(src, **kwargs)
    paths = write_table(df, out)
    console.print(
        f"[green]wrote[/] {paths[0]} ({len(df):,} rows, {df.shape[1]} columns) and {paths[1].name}"
    )
    if src == "demo":
        console.print(
            "[yellow]synthetic demo data[/]: fictional organisations, not real NHS figures."
        )


# --- the main job ------------------------------------------------------------------------------


@app.command("demo")
def demo(
    out: Annotated[Path, typer.Option(help="Output folder.")] = Path("outputs/demo"),
    workers: Annotated[int, typer.Option(help="Workers for the report batch.")] = 2,
) -> None:
    """Run the main job on the embedded synthetic demo data (no network needed).

    Writes the demo panels, then the 42 per-ICS reports (``<out>/reports/``) and their index.
    """
    from .demo import PLANTED
    from .panel import (
        ae_monthly,
        beds_monthly,
        discharge_monthly,
        ics_year_panel,
        trust_year_panel,
    )
    from .reports.batch import run_batch

    console.print(
        "[bold]icsresearch demo[/]: the main job on [yellow]synthetic demo data[/] (fictional organisations)"
    )
    trusts = trust_year_panel("demo")
    ics = ics_year_panel("demo")
    monthly = {
        "A&E monthly": (ae_monthly("demo", level="trust"), "ae_monthly.csv"),
        "G&A beds monthly": (beds_monthly("demo", level="trust"), "beds_monthly.csv"),
        "discharge monthly": (discharge_monthly("demo", level="trust"), "discharge_monthly.csv"),
    }
    written = []
    written += write_table(trusts, out / "trust_year_panel.csv")
    written += write_table(ics, out / "ics_year_panel.csv")
    for frame, name in monthly.values():
        written += write_table(frame.assign(data_source="synthetic demo data"), out / name)
    table = Table(title="demo panels (synthetic demo data)")
    for col in ("panel", "rows", "units", "years"):
        table.add_column(col)
    table.add_row(
        "trust-year",
        f"{len(trusts):,}",
        f"{trusts.trust_code.nunique()} trusts",
        f"{trusts.fy.min()}-{trusts.fy.max()}",
    )
    table.add_row(
        "ICS-year",
        f"{len(ics):,}",
        f"{ics.icb_code.nunique()} systems",
        f"{ics.fy.min()}-{ics.fy.max()}",
    )
    for label, (frame, _) in monthly.items():
        months = frame["period"]
        table.add_row(
            label,
            f"{len(frame):,}",
            f"{frame.trust_code.nunique()} trusts",
            f"{months.min():%b %Y}-{months.max():%b %Y}",
        )
    console.print(table)
    console.print(
        "Planted effects the notebooks recover: "
        + ", ".join(
            f"{k}={v:g}" if isinstance(v, int | float) else f"{k}={v}" for k, v in PLANTED.items()
        ),
        highlight=False,
    )
    console.print(f"[green]Outputs in {out.resolve()}[/]:")
    for p in written:
        console.print(f"  {p}", highlight=False)

    # The main job: one report per system, on the demo data, with `workers` local kernels.
    console.print(
        f"[bold]Per-ICS reports[/] (42 systems, {workers} workers) into {out / 'reports'}"
    )
    result = run_batch(
        all_systems=True,
        footprint=2022,
        source="demo",
        out=out / "reports",
        workers=workers,
        console=err_console,
    )
    console.print(
        f"[green]{result.n_ok} report(s) written[/], {result.n_skipped} unchanged, "
        + (f"[red]{result.n_failed} failed[/]" if result.n_failed else "0 failed")
        + f" in {result.wall_seconds:.0f} s.",
        highlight=False,
    )
    for o in result.outcomes:
        if o["status"] == "failed":
            console.print(f"  [red]failed[/] {o['code']}: {o.get('error')}", highlight=False)
    console.print(f"[bold]Open the index:[/] {result.index}", highlight=False, soft_wrap=True)
    if result.n_failed:
        raise typer.Exit(3)


@app.command("version")
def version() -> None:
    """Print the package version and the versions of the libraries it relies on."""
    from .provenance import describe_environment

    for key, value in describe_environment().items():
        console.print(f"{key}: {value}", highlight=False)


def _register_command_modules() -> None:
    """Commands defined beside the code they drive (each module's ``register(app)``)."""
    from .replications.command import register as register_replicate
    from .reports.command import register as register_reports

    register_reports(app)
    register_replicate(app)


_register_command_modules()


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except IcsResearchError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(1)


if __name__ == "__main__":  # pragma: no cover
    main()
