"""The ``icsresearch`` command line: a thin typer layer over the package.

Errors meant for the user (:class:`~icsresearch.errors.IcsResearchError`) are printed without a
traceback and give exit code 1.
"""

from __future__ import annotations

import sys
import warnings
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
    lock: Annotated[
        Path | None,
        typer.Option(
            "--lock",
            metavar="PATH",
            help="Also fetch every file this lockfile pins (see `icsresearch data add`).",
        ),
    ] = None,
) -> None:
    """Fetch files into the cache from ICSRESEARCH_MIRROR or the pinned URLs, checking sha256."""
    from .data import REGISTRY, fetch_many, get
    from .data.store import unavailable_message

    if all_ and names:
        raise _fail("give names or --all, not both")
    if lock is not None:
        _fetch_locked(lock, quiet)
        if not all_ and not names:
            return
    if not all_ and not names:
        raise _fail(
            "name the files to fetch, or pass --all or --lock PATH (see `icsresearch data list`)",
            2,
        )
    wanted = list(REGISTRY) if all_ else list(names or [])
    for n in wanted:
        get(n)  # unknown names fail before anything is fetched
    outcomes = fetch_many(wanted, progress=not quiet)
    ok = [o for o in outcomes if o.status == "ok"]
    missing = [o.name for o in outcomes if o.status == "missing"]
    rejected = [o for o in outcomes if o.status == "rejected"]
    console.print(f"[green]{len(ok)}[/] of {len(outcomes)} file(s) in the cache and verified.")
    for o in rejected:
        # messages hold paths and hashes: printed as they are, never read as rich markup
        err_console.print(f"rejected: {o.message}", markup=False, highlight=False, soft_wrap=True)
    if missing:
        err_console.print(
            unavailable_message(missing), markup=False, highlight=False, soft_wrap=True
        )
    if missing or rejected:
        raise typer.Exit(1)


@data_app.command("verify")
def data_verify(
    cached_only: Annotated[
        bool, typer.Option("--cached-only", help="Check only the files that are cached.")
    ] = False,
    lock: Annotated[
        Path | None,
        typer.Option(
            "--lock",
            metavar="PATH",
            help="Lockfile whose files are checked too (default: ./icsresearch.lock or "
            "ICSRESEARCH_LOCK, when it exists).",
        ),
    ] = None,
) -> None:
    """Re-hash cached files against the registry and cached panels against their own sha256.

    The files of the lockfile (icsresearch.lock) are re-hashed against it too. Files that fail
    are set aside in <cache>/_rejected/ (a panel is rebuilt when next used).
    """
    from rich.markup import escape

    from . import config
    from .data import verify
    from .panel._cache import verify_panels

    outcomes = verify()
    panels = verify_panels()
    locked = _verify_locked(lock)
    table = Table(title=f"cache {config.cache_dir()}")
    table.add_column("name", overflow="fold")
    table.add_column("status")
    colour = {"ok": "green", "not cached": "yellow", "rejected": "red", "no hash": "yellow"}
    for o in outcomes:
        if cached_only and o.status == "not cached":
            continue
        table.add_row(escape(o.name), f"[{colour[o.status]}]{o.status}[/]")
    for p in panels:
        table.add_row(f"panel {escape(p.name)}", f"[{colour[p.status]}]{p.status}[/]")
    words = {"ok": "ok", "missing": "not cached", "tampered": "rejected"}
    for s in locked:
        if cached_only and s.status == "missing":
            continue
        status = words[s.status]
        table.add_row(f"release {escape(s.entry.label)}", f"[{colour[status]}]{status}[/]")
    console.print(table)
    rejected = [o for o in outcomes if o.status == "rejected"]
    bad_panels = [p for p in panels if p.status == "rejected"]
    bad_locked = [s for s in locked if s.status == "tampered"]
    absent = [o.name for o in outcomes if o.status == "not cached"]
    for o in [*rejected, *bad_panels, *bad_locked]:
        err_console.print(o.detail, markup=False, highlight=False, soft_wrap=True)
    if rejected or bad_panels or bad_locked:
        raise _fail(
            f"{len(rejected) + len(bad_locked)} cached file(s) and {len(bad_panels)} cached "
            "panel(s) failed the hash check and were set aside"
        )
    missing_locked = [s for s in locked if s.status == "missing"]
    if missing_locked and not cached_only:
        from .releases import default_path

        where = lock if lock is not None else default_path()
        raise _fail(
            f"{len(missing_locked)} file(s) locked in {escape(str(where))} are not cached: run "
            f"`icsresearch data fetch --lock {escape(str(where))}` (with ICSRESEARCH_MIRROR set "
            "when offline)"
        )
    if absent and not cached_only:
        config.mirror_dir()  # a mistyped or empty mirror is the thing to fix: named as such
        raise _fail(
            f"{len(absent)} of {len(outcomes)} registry file(s) are not cached: "
            "run `icsresearch data fetch --all` (with ICSRESEARCH_MIRROR set when offline)"
        )
    console.print(f"[green]{len(outcomes) - len(absent)} cached file(s) verified.[/]")
    console.print(f"[green]{sum(p.status == 'ok' for p in panels)} cached panel(s) verified.[/]")
    if locked:
        ok = sum(s.status == "ok" for s in locked)
        console.print(f"[green]{ok} locked release file(s) verified.[/]")


# --- official releases: data add, data lock --------------------------------------------------


def _user_errors():
    """Print an error meant for the user (with its Fix) and exit 1, also under typer's runner."""
    import contextlib

    @contextlib.contextmanager
    def guard():
        try:
            yield
        except IcsResearchError as exc:
            from rich.markup import escape

            raise _fail(escape(str(exc))) from None

    return guard()


def _verify_locked(lock: Path | None) -> list:
    """Re-hash the lockfile's cached files (none when no lockfile is given or present)."""
    from .releases import files, read

    with _user_errors():
        book = read(lock, must_exist=lock is not None)
        if not book.exists:
            return []
        return files.verify(book.files, book.path)


def _fetch_locked(lock: Path, quiet: bool) -> None:
    from .releases import fetch_lock, read

    with _user_errors():
        book = read(lock, must_exist=True)
        got = fetch_lock(book.path, progress=not quiet)
    console.print(
        f"[green]{len(book.files)}[/] locked file(s) of {book.path} in the cache and verified "
        f"({len(got)} downloaded now).",
        highlight=False,
    )


_LOCK_HELP = "Lockfile (default: ./icsresearch.lock, or ICSRESEARCH_LOCK)."


@data_app.command("add")
def data_add(
    collection: Annotated[
        str,
        typer.Argument(
            help="Release collection (`icsresearch data collections` lists them): rtt, ae, "
            "ae_provider, shmi, workforce, kh03, dm01, ambsys, ambsys_series, cancer, "
            "staff_survey."
        ),
    ],
    from_: Annotated[
        str, typer.Option("--from", metavar="YYYY-MM", help="First month, e.g. 2024-04.")
    ],
    to: Annotated[
        str | None,
        typer.Option("--to", metavar="YYYY-MM", help="Last month (default: the --from month)."),
    ] = None,
    lock: Annotated[Path | None, typer.Option("--lock", metavar="PATH", help=_LOCK_HELP)] = None,
    update: Annotated[
        bool,
        typer.Option(
            "--update",
            help="Look locked months up again and re-pin those whose published file changed.",
        ),
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")] = False,
) -> None:
    """Find an official release's files for a range of months, download them, pin them.

    Each file's URL, size and sha256 go into the lockfile (trust on first use); from then on
    every reader accepts only those bytes. Months already locked are not looked up again.
    Quarterly and yearly collections (kh03, staff_survey) take the periods in the range.

    Example: icsresearch data add rtt --from 2024-04 --to 2025-03
    """
    from rich.markup import escape

    from .releases import add

    with _user_errors():
        report = add(collection, from_, to or from_, lock=lock, update=update, progress=not quiet)
    lock_name = escape(str(report.lock_path))
    for e in report.added:
        console.print(
            f"  [green]locked[/] {escape(e.label)}  {escape(e.filename)}  {e.size:,} bytes  "
            f"sha256 {e.sha256[:16]}...",
            highlight=False,
        )
    for old, new in report.updated:
        console.print(
            f"  [yellow]re-pinned[/] {escape(new.label)}: the published file changed "
            f"(sha256 {old.sha256[:16]}... -> {new.sha256[:16]}...); results made from the "
            "old bytes will differ",
            highlight=False,
        )
    console.print(
        f"{report.collection}: {len(report.added)} file(s) added to {lock_name}, "
        f"{len(report.updated)} re-pinned, {len(report.present)} already locked; "
        f"{len(report.downloaded)} downloaded.",
        highlight=False,
    )
    if report.missing:
        lines = "\n".join(
            f"  - {report.collection} {p}: {escape(reason)}" for p, reason in report.missing
        )
        raise _fail(
            f"{len(report.missing)} month(s) could not be found or fetched:\n{lines}\n"
            "  Fix: check that those months are published yet (statistics appear weeks after "
            "the month) and that the landing page is the one docs/releases.md gives; the "
            "months found are locked, so run the command again later for the others."
        )


@data_app.command("collections")
def data_collections() -> None:
    """List the official release collections `data add` can lock, with their layouts.

    No layout has been confirmed on a real published file yet (docs/releases.md says what to
    check first for each).
    """
    from rich.markup import escape

    from .releases import collections

    table = Table(title="official release collections (icsresearch data add NAME --from YYYY-MM)")
    for col in ("collection", "period", "layouts", "confirmed"):
        table.add_column(col, overflow="fold")
    for name, coll in collections().items():
        spans = ", ".join(
            f"{x.name} ({x.start} to {x.end})" if x.end else f"{x.name} ({x.start} on)"
            for x in coll.layouts
        )
        confirmed = "yes" if all(x.confirmed for x in coll.layouts) else "no: fixtures only"
        table.add_row(escape(name), escape(coll.period), escape(spans), confirmed)
    console.print(table)


@data_app.command("lock")
def data_lock(
    check: Annotated[
        bool,
        typer.Option("--check", help="Check that every locked file is here and intact."),
    ] = False,
    lock: Annotated[Path | None, typer.Option("--lock", metavar="PATH", help=_LOCK_HELP)] = None,
) -> None:
    """Show the lockfile, or (--check) whether all its files are present and intact.

    --check reads only: it fetches nothing and moves nothing (`icsresearch data verify` sets a
    bad copy aside; `icsresearch data fetch --lock PATH` brings missing files in).
    """
    from rich.markup import escape

    from .releases import files, read

    with _user_errors():
        book = read(lock, must_exist=True)
        statuses = files.check(book.files) if check else []
    table = Table(title=f"lockfile {book.path}")
    for col in ("collection", "period", "file", "bytes", "sha256"):
        table.add_column(col, overflow="fold")
    if check:
        table.add_column("status")
    colour = {"ok": "green", "missing": "yellow", "tampered": "red"}
    by_entry = {id(s.entry): s for s in statuses}
    for e in book.files:
        row = [escape(e.collection), e.period, escape(e.filename), f"{e.size:,}", e.sha256[:16]]
        if check:
            st = by_entry[id(e)].status
            row.append(f"[{colour[st]}]{st}[/]")
        table.add_row(*row)
    console.print(table)
    if not check:
        return
    tampered = [s for s in statuses if s.status == "tampered"]
    missing = [s for s in statuses if s.status == "missing"]
    for s in tampered:
        err_console.print(
            f"tampered: {s.entry.label} at {s.where}: sha256 does not match the lockfile\n"
            f"      {s.detail}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
    if missing:
        from . import config

        reason = "offline" if config.offline() else "not in the cache or the mirror"
        err_console.print(
            files.unavailable_message([(s.entry, reason) for s in missing], book.path),
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
    if tampered or missing:
        raise _fail(
            f"{len(tampered)} locked file(s) tampered with and {len(missing)} missing, of "
            f"{len(statuses)} in {escape(str(book.path))}"
            + (
                f"\n  Fix: fetch them again with `icsresearch data fetch --lock "
                f"{escape(str(book.path))}` (online, or with ICSRESEARCH_MIRROR set): the bad "
                "copies are set aside and replaced by the locked bytes."
                if tampered
                else ""
            )
        )
    console.print(
        f"[green]all {len(statuses)} locked file(s) present and intact.[/]", highlight=False
    )


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


def _manifest_name(out: Path) -> str:
    return out.name + ".manifest.json"


def _adopt_table(path: Path) -> bool:
    """A table or its manifest written by ``panel build`` / ``demo`` before the output record.

    The manifest beside a table names the table (``"output"``); that pair is the workbench's.
    """
    import json

    name = path.name.removesuffix(".manifest.json")
    side = path.with_name(name + ".manifest.json")
    try:
        m = json.loads(side.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(m, dict) and m.get("output") == name and "git_revision" in m


def claim_tables(record, outs: list[Path]) -> None:
    """Refuse, before anything is built, when a table name or its manifest holds a user's file.

    Parameters
    ----------
    record
        The :class:`~icsresearch._atomic.OutputRecord` of the folder (its lock held).
    outs
        The table paths about to be written (each with its ``.manifest.json``).

    Raises
    ------
    OutputConflictError
        Naming every taken name; nothing is written.
    """
    names = [n for out in outs for n in (out.name, _manifest_name(out))]
    record.claim(
        names,
        adopt=_adopt_table,
        fix="Move them away or choose another --out; icsresearch never overwrites what it did "
        "not write.",
    )


def write_table(df, out: Path, record=None) -> list[Path]:
    """Write a panel as CSV or Parquet (by extension) plus ``<out>.manifest.json``, atomically.

    The manifest records the table's provenance (:func:`icsresearch.provenance.of`): its inputs
    with their hashes and whether it is synthetic (true, false or unknown), and the table's own
    sha256.

    Parameters
    ----------
    df
        The table.
    out
        A ``.csv`` or ``.parquet`` path.
    record
        The :class:`~icsresearch._atomic.OutputRecord` of ``out``'s folder: the two files are
        recorded in it as written by icsresearch (the caller claimed the names first, see
        :func:`claim_tables`, and saves the record).

    Returns
    -------
    list of Path
        The table and its manifest.
    """
    import hashlib
    import io

    from . import provenance
    from ._atomic import atomic_write_bytes
    from .provenance import Provenance, write_manifest

    if _table_suffix(out) == ".csv":
        data = df.to_csv(index=False).encode("utf-8")
    else:
        buf = io.BytesIO()
        plain = df.copy()
        plain.attrs = {}
        plain.to_parquet(buf, index=False)
        data = buf.getvalue()
    atomic_write_bytes(out, data)
    record_of = provenance.of(df)
    written = Provenance.record(
        synthetic=record_of.synthetic,
        inputs=record_of.inputs,
        parameters=df.attrs.get("parameters", {}),
        extra={
            "output": out.name,
            "output_sha256": hashlib.sha256(data).hexdigest(),
            "rows": len(df),
            "data_source": df["data_source"].iloc[0] if "data_source" in df and len(df) else "",
            "columns": df.attrs.get("columns", {}),
        },
    ).to_dict()
    side = out.with_name(_manifest_name(out))
    write_manifest(side, written)
    if record is not None:
        record.add(out.name, kind="file")
        record.add(side.name, kind="file")
    return [out, side]


@panel_app.command("build")
def panel_build(
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            metavar="FILE",
            help="Output file: .csv or .parquet (with OUT.manifest.json beside it). A file there "
            "that icsresearch did not write is never overwritten.",
        ),
    ],
    level: Annotated[
        str, typer.Option(metavar="trust|ics", help="trust-year or ICS-year panel.")
    ] = "trust",
    source: Annotated[
        str,
        typer.Option(
            metavar="real|demo",
            help="real (published files; set ICSRESEARCH_MIRROR offline) or demo (synthetic).",
        ),
    ] = "real",
    footprint: Annotated[
        str, typer.Option(metavar="2022|2026", help="ICS footprint: 2022 (42) or 2026 (36).")
    ] = "2022",
    method: Annotated[
        str,
        typer.Option(
            metavar="headquarters|catchment|ae_activity", help="How trusts are shared among ICSs."
        ),
    ] = "headquarters",
    trust_type: Annotated[
        list[str] | None,
        typer.Option(
            "--trust-type",
            metavar="TYPE",
            help="Keep only this trust type (repeatable), e.g. 'acute non-specialist'.",
        ),
    ] = None,
) -> None:
    """Build a panel and write it with a manifest (inputs, hashes, versions, parameters).

    Example: icsresearch panel build --level ics --footprint 2026 --out ics_2026.csv
    """
    from ._atomic import OutputRecord, check_output_file
    from .options import Footprint, Level, Source, TrustIcsMethod, check
    from .panel import ics_year_panel, trust_year_panel

    # checked before the panel is built, with the error every Python function gives
    _table_suffix(out)
    target = check_output_file(out)
    lvl = check("level", level, Level)
    src = check("source", source, Source)
    kwargs = {
        "footprint": check("footprint", footprint, Footprint),
        "method": check("method", method, TrustIcsMethod),
        "trust_types": trust_type or None,
    }
    build = trust_year_panel if lvl == "trust" else ics_year_panel
    record = OutputRecord(target.parent)
    with record.lock():
        claim_tables(record, [target])  # a user's file of that name stops us before the build
        df = build(src, **kwargs)
        paths = write_table(df, target, record)
        record.save()
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
    out: Annotated[Path, typer.Option(metavar="DIR", help="Output folder.")] = Path("outputs/demo"),
    workers: Annotated[int, typer.Option(metavar="N", help="Workers for the report batch.")] = 2,
) -> None:
    """Run the main job on the embedded synthetic demo data (no network needed).

    Writes the demo panels, then the 42 per-ICS reports (``<out>/reports/``) and their index.

    Example: icsresearch demo --out outputs/demo --workers 2
    """
    from ._atomic import RECORD_NAME, OutputRecord, check_output_dir
    from .demo import PLANTED
    from .errors import OutputConflictError
    from .panel import (
        ae_monthly,
        beds_monthly,
        discharge_monthly,
        ics_year_panel,
        trust_year_panel,
    )
    from .reports.batch import adopt_index, run_batch

    out = check_output_dir(out)
    record = OutputRecord(out)
    names = [
        "trust_year_panel.csv",
        "ics_year_panel.csv",
        "ae_monthly.csv",
        "beds_monthly.csv",
        "discharge_monthly.csv",
    ]
    with record.lock():  # checked before anything is built: a user's file stops the demo
        # every taken name in one message: the tables, their manifests and the reports folder
        taken = record.foreign(
            [n for name in names for n in (name, _manifest_name(out / name))], _adopt_table
        ) + record.foreign(
            ["reports"],
            lambda p: (p / RECORD_NAME).is_file() or adopt_index(p / "index.html"),
        )
        if taken:
            raise OutputConflictError(
                out,
                tuple(taken),
                "Move them away or choose another --out; icsresearch never overwrites what it "
                "did not write, nor writes into a folder of yours it did not make.",
            )
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
    with record.lock():
        claim_tables(record, [out / n for n in names])  # again: nothing appeared meanwhile
        written += write_table(trusts, out / "trust_year_panel.csv", record)
        written += write_table(ics, out / "ics_year_panel.csv", record)
        for frame, name in monthly.values():
            written += write_table(
                frame.assign(data_source="synthetic demo data"), out / name, record
            )
        if not record.owns("reports"):
            record.add("reports", kind="scratch")  # the batch keeps its own record inside
        record.save()
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
    """Print the package version and the versions of the libraries it relies on.

    Example: icsresearch version
    """
    from .provenance import describe_environment

    for key, value in describe_environment().items():
        console.print(f"{key}: {value}", highlight=False)


@app.command("codes")
def codes(
    footprint: Annotated[
        str,
        typer.Option(metavar="2022|2026", help="ICS footprint: 2022 (42 ICBs) or 2026 (36)."),
    ] = "2022",
    source: Annotated[
        str,
        typer.Option(
            metavar="real|demo",
            help="real (the NHS ICBs; set ICSRESEARCH_MIRROR offline) or demo (fictional).",
        ),
    ] = "real",
) -> None:
    """List the ICS (ICB) codes of a footprint: code, name, region and, for 2026, what it replaced.

    The codes are what `icsresearch reports --ics CODE` takes.

    Example: icsresearch codes --footprint 2026 --source demo
    """
    from . import geography
    from .options import Footprint, Source, check

    fp = check("footprint", footprint, Footprint)
    src = check("source", source, Source)
    table = geography.icbs(fp, src)
    earlier = geography.icbs(2022, src) if fp == 2026 else None
    names_2022 = (
        dict(zip(earlier["icb_code"], earlier["short_name"], strict=True))
        if earlier is not None
        else {}
    )
    if src == "demo":  # said before the table, whatever the terminal's width
        console.print(
            f"[yellow]synthetic demo data[/]: {len(table)} fictional systems, not NHS bodies.",
            highlight=False,
        )
    out = Table(title=f"ICS (ICB) codes, {fp} footprint: {len(table)} systems")
    for column in ("code", "name", "region") + (
        ("replaced (2022 footprint)",) if fp == 2026 else ()
    ):
        out.add_column(column, overflow="fold")
    # a 2022 system split in April 2026 feeds several boards: each took part of it
    feeds: dict[str, int] = {}
    for preds in table["predecessors"]:
        for p in str(preds).split(";"):
            feeds[p] = feeds.get(p, 0) + 1
    for row in table.itertuples(index=False):
        cells = [row.icb_code, row.short_name, row.region_name]
        if fp == 2026:
            preds = str(row.predecessors).split(";")
            cells.append(
                "unchanged"
                if preds == [row.icb_code]
                else ", ".join(
                    f"{p} {names_2022.get(p, '')}".strip() + (" (part)" if feeds[p] > 1 else "")
                    for p in preds
                )
            )
        out.add_row(*cells)
    console.print(out)
    if fp == 2026:
        console.print(
            "(part): a 2022 system split in April 2026 among several boards, by local authority.",
            highlight=False,
        )


def _register_command_modules() -> None:
    """Commands defined beside the code they drive (each module's ``register(app)``)."""
    from .replications.command import register as register_replicate
    from .reports.command import register as register_reports

    register_reports(app)
    register_replicate(app)


_register_command_modules()


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Print a warning as one readable line (not Python's ``file:line: UserWarning: ...``).

    The workbench's warnings (unverified input files, unusual values, a corrupted cache copy
    replaced) are messages for the user; where in the package they were raised is noise.
    """
    word = "deprecated" if issubclass(category, DeprecationWarning) else "warning"
    err_console.print(f"[bold yellow]{word}:[/] ", end="", highlight=False)
    err_console.print(str(message), markup=False, highlight=False, soft_wrap=True)


def main() -> None:
    """Console-script entry point."""
    warnings.showwarning = _show_warning
    try:
        app()
    except IcsResearchError as exc:
        from rich.markup import escape

        # the message may quote user input ("[x]..."): printed as text, never as rich markup
        err_console.print(
            f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True
        )
        sys.exit(1)
    except OSError as exc:  # a disk that filled up, a folder removed mid-run...: no traceback
        from rich.markup import escape

        where = f"{exc.filename}: " if exc.filename else ""
        err_console.print(
            f"[bold red]error:[/] {escape(where + (exc.strerror or str(exc)))}\n"
            "  Fix: check that the path exists, that you may write there and that the disk has "
            "space, then run the command again (finished outputs are kept).",
            highlight=False,
            soft_wrap=True,
        )
        sys.exit(1)


if __name__ == "__main__":  # pragma: no cover
    main()
