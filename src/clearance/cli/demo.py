"""``clearance demo FILE``: screen a small counterparty CSV and show a summary.

The sample under data/samples/ mixes real listed names, near misses and clean
names; ``make demo`` runs this on it after loading the bundled lists.
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import typer
from rich.table import Table

from ..errors import InputError
from . import app, console, get_store

STATUS_STYLE = {"match": "bold red", "review": "yellow", "clear": "green", "error": "magenta"}


@app.command("demo")
def demo(path: Path = typer.Argument(Path("data/samples/counterparties.csv"), help="CSV with name, country, type.")) -> None:
    """Screen a small counterparty file against every active list and print a summary."""
    from ..screen import Screener

    if not path.is_file():
        raise InputError(f"{path}: file not found; expected a CSV with a 'name' column")
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    if not rows or "name" not in rows[0]:
        raise InputError(f"{path}: no 'name' column; expected a CSV header with name[,country,type]")
    store = get_store()
    screener = Screener(store=store)
    lists = ", ".join(f"{s.source} ({s.captured or s.published})" for s in store.active_snapshots())
    table = Table(title=f"Screening {path.name} against {lists}")
    for column in ("#", "input name", "status", "best hit", "list", "programs", "score"):
        table.add_column(column, overflow="fold")
    counts: Counter[str] = Counter()
    for index, row in enumerate(rows):
        result = screener.check(name=row.get("name"), country=row.get("country") or None, schema=row.get("type") or None)
        status = result["status"]
        counts[status] += 1
        best = result["hits"][0] if result.get("hits") else None
        table.add_row(
            str(index),
            row.get("name", ""),
            f"[{STATUS_STYLE.get(status, '')}]{status}[/]",
            best["name"] if best else "",
            best["source"] if best else "",
            ", ".join(best["programs"][:3]) if best else "",
            f"{best['score']:.2f}" if best else "",
        )
    console.print(table)
    summary = ", ".join(f"{counts[s]} {s}" for s in ("match", "review", "clear", "error") if counts[s])
    console.print(f"[bold]{len(rows)} rows screened:[/bold] {summary}.")
    console.print("Explain one: [cyan]clearance check \"Hikvision\"[/cyan]  (add --json for the full record)")
