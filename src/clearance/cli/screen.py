"""``clearance screen FILE`` (batch screening) and ``clearance monitor add|run|list``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, List, Optional

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from ..errors import ClearanceError, InputError
from . import EXIT_ERROR, EXIT_FLAGGED, EXIT_OK, app, console, err_console, fail, get_store

#: -j, the same for every command that screens a file.
Workers = Annotated[Optional[int], typer.Option("--workers", "-j", min=1, max=64, help="Worker processes (default: one per core).")]

monitor_app = typer.Typer(help="Keep portfolios of counterparties under watch as the lists change.", no_args_is_help=True)
app.add_typer(monitor_app, name="monitor")

_STYLE = {"match": "bold red", "review": "yellow", "clear": "green", "error": "magenta"}


class RateColumn(ProgressColumn):
    def render(self, task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.0f} rows/s" if speed else "", style="cyan")


def _progress(total: int | None):
    """A progress bar with rows/s and ETA on a terminal; None when stderr is piped."""
    if not err_console.is_terminal:
        return None
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), RateColumn(), TimeRemainingColumn(),
        console=err_console, transient=True,
    )


def _thresholds(match: float | None, review: float | None):
    from ..match.matcher import Thresholds

    defaults = Thresholds()
    try:
        return Thresholds(match=defaults.match if match is None else match, review=defaults.review if review is None else review)
    except ValueError as exc:
        raise InputError(str(exc)) from None


@app.command("screen")
def screen(
    input: Path = typer.Argument(..., help="CSV (any delimiter/encoding), XLSX, JSON Lines or Parquet file of counterparties."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write results here (default: standard output)."),
    format: Optional[str] = typer.Option(None, "--format", "-f", help="jsonl, csv, xlsx or html (default: from -o's extension, else jsonl); parquet with --engine spark."),
    maps: List[str] = typer.Option([], "--map", "-m", help="FIELD=COLUMN, e.g. --map name=\"Legal Name\"; FIELD= ignores a field. Fields: name country schema dob address isin lei uscc tax ticker imo passport identifier."),
    source: List[str] = typer.Option([], "--source", "-s", help="Only screen against this source id; repeatable."),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="Screen against the list versions in force on this date (YYYY-MM-DD)."),
    encoding: Optional[str] = typer.Option(None, "--encoding", help="Input text encoding (default: sniffed)."),
    sheet: Optional[str] = typer.Option(None, "--sheet", help="XLSX sheet (default: the first)."),
    workers: Workers = None,
    engine: str = typer.Option("local", "--engine", help="local (this machine) or spark (PySpark; Parquet/CSV in, Parquet/JSONL out)."),
    spark_master: Optional[str] = typer.Option(None, "--spark-master", help="Spark master URL (default: local[*] unless a session exists)."),
    match_threshold: Optional[float] = typer.Option(None, "--match-threshold", help="Score for 'match' (default 0.86)."),
    review_threshold: Optional[float] = typer.Option(None, "--review-threshold", help="Score for 'review' (default 0.70)."),
    ownership_files: List[Path] = typer.Option([], "--ownership", help="Ownership CSV (owner,owned,percent[,source,date]) to add to the lists' own links and the stored sets; repeatable."),
    no_ownership: bool = typer.Option(False, "--no-ownership", help="Skip exposure through owners (faster; name and identifier hits only)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No mapping or summary lines on stderr."),
) -> None:
    """Screen every row of a file; one result per row, in input order.

    Exposure through owners (OFAC 50% rule, §889 subsidiaries and brands) is
    reported as hits with "via": "ownership" unless --no-ownership.

    Exit 0 all clear, 1 something flagged (match or review), 2 an error (a bad
    file or option, or any row that could not be screened).
    """
    from ..screen.batch import screen_file
    from ..tabular.write import format_for_path

    try:
        thresholds = _thresholds(match_threshold, review_threshold)
        store = get_store()
        sources = list(source) or None
        if sources:
            store.active_snapshots(sources)
        fmt = (format or format_for_path(output)).lower()
        if engine == "spark":
            summary = _screen_spark(store, input, output, fmt, maps, sources, as_of, encoding, thresholds, spark_master)
            _report(summary, quiet)
            raise typer.Exit(summary.exit_code)
        if engine != "local":
            raise InputError(f"--engine {engine!r}: expected local or spark")
        if fmt == "xlsx" and output is None:
            raise InputError("--format xlsx needs a file: give -o FILE.xlsx")
        progress = None
        task = None

        def on_start(summary) -> None:
            nonlocal progress, task
            if not quiet:
                err_console.print(f"[dim]Reading {input} ({summary.table.describe()}); columns: {summary.mapping.describe()}[/dim]", highlight=False, soft_wrap=True)
            progress = _progress(None)
            if progress is not None:
                progress.start()
                task = progress.add_task("Screening", total=summary.table.estimate_rows())

        def on_record(record) -> None:
            if progress is not None:
                progress.advance(task)

        try:
            owners = None
            if not no_ownership:
                from ..ownership import build_engine

                owners = build_engine(store, as_of=as_of, files=ownership_files)
            summary = screen_file(
                store, input, output, fmt, maps, sources, as_of, encoding, sheet, thresholds, workers,
                on_start=on_start, on_record=on_record, ownership=owners,
            )
        finally:
            if progress is not None:
                progress.stop()
    except ClearanceError as exc:
        fail(exc)
    _report(summary, quiet)
    raise typer.Exit(summary.exit_code)


def _report(summary, quiet: bool) -> None:
    if quiet:
        return
    c = summary.counts
    rate = summary.rows / summary.elapsed if summary.elapsed else 0
    parts = [f"[{_STYLE[s]}]{c[s]} {s}[/]" for s in ("match", "review", "clear", "error") if c[s]]
    where = f" -> {summary.output}" if summary.output else ""
    err_console.print(
        f"{summary.rows} rows screened in {summary.elapsed:.1f}s ({rate:,.0f} rows/s): {', '.join(parts) or 'nothing'}{where}"
        + (f"  [dim](run #{summary.run_id})[/dim]" if summary.run_id else ""),
        highlight=False, soft_wrap=True,
    )
    if c["error"]:
        err_console.print(f"[magenta]{c['error']} row(s) could not be screened; see their \"error\" field.[/magenta]", highlight=False)


def _screen_spark(store, input, output, fmt, maps, sources, as_of, encoding, thresholds, master):
    from ..screen.spark import screen_file_spark

    if output is None:
        raise InputError("--engine spark needs -o OUTPUT (a Parquet or JSON Lines path)")
    if fmt not in ("parquet", "jsonl"):
        raise InputError(f"--engine spark writes parquet or jsonl, not {fmt!r}")
    return screen_file_spark(store, input, output, fmt, maps, sources, as_of, encoding, thresholds, master=master)


# -- monitor -------------------------------------------------------------------


@monitor_app.command("add")
def monitor_add(
    input: Path = typer.Argument(..., help="File of counterparties to keep under watch (CSV, XLSX, JSON Lines, Parquet)."),
    name: str = typer.Option(..., "--name", "-n", help="Portfolio name."),
    maps: List[str] = typer.Option([], "--map", "-m", help="FIELD=COLUMN overrides, as for clearance screen."),
    source: List[str] = typer.Option([], "--source", "-s", help="Only watch these source ids; repeatable."),
    encoding: Optional[str] = typer.Option(None, "--encoding", help="Input text encoding (default: sniffed)."),
    sheet: Optional[str] = typer.Option(None, "--sheet", help="XLSX sheet (default: the first)."),
    replace: bool = typer.Option(False, "--replace", help="Replace a portfolio of the same name."),
    workers: Workers = None,
    match_threshold: Optional[float] = typer.Option(None, "--match-threshold"),
    review_threshold: Optional[float] = typer.Option(None, "--review-threshold"),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Register a portfolio and screen it once in full; its flagged rows become open alerts."""
    from ..screen.monitor import add_portfolio

    try:
        thresholds = _thresholds(match_threshold, review_threshold)
        store = get_store()
        if source:
            store.active_snapshots(list(source))
        result = add_portfolio(store, input, name, maps, list(source) or None, encoding, sheet, thresholds, replace, workers)
    except ClearanceError as exc:
        fail(exc)
    if as_json:
        typer.echo(json.dumps(result.to_dict(), ensure_ascii=False))
    else:
        err_console.print(f"[dim]columns: {result.mapping}[/dim]", highlight=False, soft_wrap=True)
        console.print(
            f"Portfolio [bold]{name}[/bold]: {result.rows} rows, {result.new} open alert(s) "
            f"({result.flagged_rows} row(s) flagged) in {result.seconds:.1f}s (run #{result.run_id}).",
            highlight=False,
        )
        if result.errors:
            err_console.print(f"{result.errors} row(s) could not be screened (clearance screen on the file shows why); they stay in the portfolio as errors.", highlight=False)
    if result.errors:
        raise typer.Exit(EXIT_ERROR)
    raise typer.Exit(EXIT_FLAGGED if result.new else EXIT_OK)


@monitor_app.command("run")
def monitor_run(
    name: List[str] = typer.Option([], "--name", "-n", help="Only this portfolio; repeatable (default: all)."),
    full: bool = typer.Option(False, "--full", help="Re-screen every row against every entity instead of only the changes."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON (one object with a list of portfolios)."),
    workers: Workers = None,
) -> None:
    """Re-screen portfolios against the entities added or changed since their last run.

    Reports new, changed and resolved alerts; exit 1 if any alert is new or changed.
    """
    from ..screen.monitor import run_portfolios

    try:
        store = get_store()
        results = run_portfolios(store, list(name) or None, full=full, workers=workers)
    except ClearanceError as exc:
        fail(exc)
    if as_json:
        typer.echo(json.dumps({"portfolios": [r.to_dict() for r in results]}, ensure_ascii=False))
    else:
        _print_monitor(results)
    flagged = any(r.new or r.changed for r in results)
    raise typer.Exit(EXIT_FLAGGED if flagged else EXIT_OK)


def _print_monitor(results) -> None:
    if not results:
        console.print("No portfolios; add one with [cyan]clearance monitor add FILE --name NAME[/cyan].")
        return
    table = Table(title="Monitor run")
    for column in ("Portfolio", "Rows", "List changes", "Rows re-screened", "New", "Changed", "Resolved", "Open", "Time"):
        table.add_column(column, justify="left" if column in ("Portfolio", "List changes") else "right")
    for r in results:
        changes = ", ".join(f"{src} v{c['from']}→v{c['to']}: +{c['added']} ~{c['changed']} -{c['removed']}" for src, c in r.list_changes.items()) or "none"
        table.add_row(r.name, str(r.rows), changes, str(r.rescreened), str(r.new), str(r.changed), str(r.resolved), str(r.open), f"{r.seconds:.2f}s")
    console.print(table)
    for r in results:
        for alert in r.alerts[:50]:
            style = {"new": "bold red", "changed": "yellow", "resolved": "green"}[alert["change"]]
            console.print(
                f"  [{style}]{alert['change']:<8}[/] {r.name} row {alert['row_index']}: {alert.get('query_name') or ''} ~ "
                f"{alert['name']} ({alert['source']}, {alert['entity_id']}) {alert['hit_status']} {alert['score']:.2f}"
                + (f" — {alert['resolution']}" if alert.get("resolution") else ""),
                highlight=False, soft_wrap=True,
            )
        if len(r.alerts) > 50:
            console.print(f"  ... and {len(r.alerts) - 50} more (use --json for all)")


@monitor_app.command("list")
def monitor_list(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Show the registered portfolios."""
    from ..screen.monitor import list_portfolios

    try:
        items = list_portfolios(get_store())
    except ClearanceError as exc:
        fail(exc)
    if as_json:
        typer.echo(json.dumps(items, ensure_ascii=False))
        raise typer.Exit(EXIT_OK)
    table = Table(title="Portfolios")
    for column in ("Name", "Rows", "Open alerts", "Last run", "Input"):
        table.add_column(column)
    for p in items:
        table.add_row(p["name"], str(p["row_count"]), str(p["open_alerts"]), p["updated_at"], p["input_path"] or "")
    console.print(table)
