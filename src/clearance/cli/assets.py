"""``clearance assets [INVENTORY] [--nmap SCAN.xml]``: covered equipment in an
asset inventory and/or a network scan."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from typing import List, Optional

import typer

from ..errors import ClearanceError, InputError
from . import app, err_console, fail, progress_bar

_STYLE = {"covered": "bold red", "review": "yellow", "clear": "green", "error": "magenta"}


@app.command("assets")
def assets(
    inventory: Optional[Path] = typer.Argument(None, help="Asset inventory: CSV (any delimiter/encoding), XLSX, JSON Lines or Parquet."),
    nmap: Optional[Path] = typer.Option(None, "--nmap", help="nmap XML scan (nmap -sV -O -oX SCAN.xml): hosts with MAC vendor, OS and service banners."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write results here (default: standard output)."),
    format: Optional[str] = typer.Option(None, "--format", "-f", help="jsonl, csv, xlsx or html (default: from -o's extension, else jsonl)."),
    maps: List[str] = typer.Option([], "--map", "-m", help="FIELD=COLUMN, e.g. --map model=\"Part No\"; FIELD= ignores a column. Fields: asset_id manufacturer brand model mac hostname ip description serial os services."),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="Apply subsidiaries, brands and rules as they stood on this date (YYYY-MM-DD; default today)."),
    encoding: Optional[str] = typer.Option(None, "--encoding", help="Input text encoding (default: sniffed)."),
    sheet: Optional[str] = typer.Option(None, "--sheet", help="XLSX sheet (default: the first)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No mapping or summary lines on stderr."),
) -> None:
    """Find Hikvision, Dahua, Huawei, ZTE and Hytera equipment: one result per asset, in input order.

    Signals: MAC OUI (IEEE registry), manufacturer and brand text, model-number
    conventions; consequences from the section 889 and FCC Covered List rules.
    Exit 0 all clear, 1 covered or review equipment found, 2 an error (a bad
    file or option, or any row that could not be screened).
    """
    from ..assets import screen_inventory
    from ..rules import as_date
    from ..tabular.write import format_for_path

    progress = None
    task = None
    try:
        when = as_date(as_of).isoformat() if as_of else None
        fmt = (format or format_for_path(output)).lower()
        if fmt == "xlsx" and output is None:
            raise InputError("--format xlsx needs a file: give -o FILE.xlsx")
        with ExitStack() as stack:

            def on_start(run) -> None:
                nonlocal progress, task
                if not quiet:
                    err_console.print(f"[dim]Reading {run.describe()}[/dim]", highlight=False, soft_wrap=True)
                progress = stack.enter_context(progress_bar("Screening assets", enabled=not quiet))
                if progress is not None:
                    task = progress.add_task("Screening assets", total=run.estimate())

            def on_record(record) -> None:
                if progress is not None and task is not None:
                    progress.advance(task)

            run = screen_inventory(
                inventory, nmap=nmap, output=output, fmt=fmt, maps=maps, encoding=encoding, sheet=sheet,
                as_of=when, on_start=on_start, on_record=on_record,
            )
    except ClearanceError as exc:
        fail(exc)
    if not quiet:
        c = run.counts
        parts = [f"[{_STYLE[s]}]{c[s]} {s}[/]" for s in ("covered", "review", "clear", "error") if c[s]]
        where = f" -> {output}" if output else ""
        err_console.print(
            f"{run.rows} asset{'s' if run.rows != 1 else ''} screened as of {run.as_of} in {run.elapsed:.1f}s: "
            f"{', '.join(parts) or 'nothing'}{where}",
            highlight=False, soft_wrap=True,
        )
        if c["error"]:
            err_console.print(f"[magenta]{c['error']} row(s) could not be screened; see their \"error\" field.[/magenta]", highlight=False)
    raise typer.Exit(run.exit_code)
