"""``clearance exposure``: ownership towards listed parties and what it triggers;
``clearance ownership import|list|remove``: user ownership files kept in the store."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import List, Optional

import typer
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from ..errors import ClearanceError, InputError
from . import EXIT_FLAGGED, EXIT_OK, app, console, fail, get_store

ownership_app = typer.Typer(help="Import, list and remove ownership files kept in the store.", no_args_is_help=True)
app.add_typer(ownership_app, name="ownership")

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_STYLE = {"match": "bold red", "review": "yellow", "clear": "green"}
_RULE_STYLE = {
    "listed": "bold red",
    "applies": "bold red",
    "review": "yellow",
    "suspended": "yellow",
    "below-threshold": "dim",
    "no-rule": "dim",
    "not-in-force": "dim",
}


def _as_of(value: str | None) -> str | None:
    if value is None:
        return None
    if not _DATE.match(value):
        raise InputError(f"--as-of {value!r}: expected a date YYYY-MM-DD")
    return value


@app.command("exposure")
def exposure(
    query: str = typer.Argument(..., help="Entity id (e.g. us-ofac-sdn-306) or name, as on a list or in an ownership file."),
    ownership: List[Path] = typer.Option([], "--ownership", "-o", help="Ownership CSV (owner,owned,percent[,source,date]); repeatable."),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="Lists, holdings and rules as they stood on this date (YYYY-MM-DD)."),
    as_json: bool = typer.Option(False, "--json", help="Print the exposure record as JSON."),
    svg: Optional[Path] = typer.Option(None, "--svg", help="Also write the ownership paths as an SVG diagram to this file."),
    stored: bool = typer.Option(True, "--stored/--no-stored", help="Include ownership sets imported into the store."),
    max_paths: int = typer.Option(20, "--max-paths", min=1, max=1000, help="Most paths to show."),
) -> None:
    """Ownership of an entity by listed parties, with percentages, and the resulting determination.

    Exit 0: no listed ownership; 1: a rule applies or there is something to review; 2: error.
    """
    from ..ownership import build_engine, path_svg

    try:
        if max_paths < 1:
            raise InputError("--max-paths must be at least 1")
        engine = build_engine(get_store(), as_of=_as_of(as_of), files=ownership, stored=stored)
        record = engine.exposure(query, max_paths=max_paths)
    except ClearanceError as exc:
        fail(exc)
    if svg is not None:
        try:
            svg.write_text(path_svg(record["paths"], title=f"Ownership of {record['entity']['name']}") or "", encoding="utf-8")
        except OSError as exc:
            fail(InputError(f"--svg {svg}: cannot write ({exc.strerror})"))
    if as_json:
        typer.echo(json.dumps(record, ensure_ascii=False))
    else:
        _print(record)
    raise typer.Exit(EXIT_OK if record["status"] == "clear" else EXIT_FLAGGED)


def _pct(value: float | None) -> str:
    return "?" if value is None else f"{value:g}%"


def _print(record: dict) -> None:
    entity = record["entity"]
    head = Text.assemble((entity["name"], "bold"), f"  ({entity['key']})   as of {record['as_of']}")
    console.print(head)
    for listing in entity.get("listed", []):
        console.print(f"  listed: {listing['source']} {listing['entity_id']}" + (f" [{', '.join(listing['programs'])}]" if listing.get("programs") else ""), highlight=False)
    verdict = {"match": "RESTRICTED", "review": "REVIEW", "clear": "NO LISTED OWNERSHIP"}[record["status"]]
    if record["blocked"]:
        verdict = "BLOCKED"
    console.print(Text(verdict, style=_STYLE[record["status"]]))
    if record["paths"]:
        tree = Tree(Text(entity["name"], style="bold"))
        nodes: dict[tuple, Tree] = {}
        for path in record["paths"]:
            parent, trail = tree, ()
            for step in reversed(path):
                trail = trail + ((step["owner_id"], step["relation"]),)
                if trail not in nodes:
                    tags = step["owner_listed"] and f"  [listed: {', '.join(step['owner_listed'])}]" or ""
                    if not tags and step["owner_restricted"]:
                        tags = f"  [restricted: {', '.join(step['owner_restricted'])}]"
                    how = _pct(step["percent"]) if step["relation"] == "ownership" else f"{step['relation']}" + (f" {_pct(step['percent'])}" if step["percent"] is not None else "")
                    label = Text.assemble((f"{how} ", "bold"), step["owner"], (tags, "red" if step["owner_listed"] else "yellow"))
                    nodes[trail] = parent.add(label)
                parent = nodes[trail]
        console.print(tree)
    shares = record["listed_ownership"]
    if shares:
        parts = [f"{family} {share:.1%} (counted {record['counted_ownership'].get(family, 0):.1%})" for family, share in shares.items()]
        console.print("Held by listed parties (look-through): " + "; ".join(parts), highlight=False)
    if record["rules"]:
        table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
        for column in ("family", "status", "rule", "reason"):
            table.add_column(column, overflow="fold")
        for rule in record["rules"]:
            table.add_row(rule["family"], Text(rule["status"], style=_RULE_STYLE.get(rule["status"], "")), rule.get("title", ""), rule["reason"])
        console.print(table)
        for rule in record["rules"]:
            if rule["status"] in ("applies", "suspended", "review") and rule.get("citation"):
                console.print(f"[dim]{rule['family']}: {rule['citation']}[/dim]", highlight=False)
    shown = {step["owner_id"] for path in record["paths"] for step in path}
    for rel in record["related"]:
        if rel["party_id"] in shown:
            continue
        arrow = "<-" if rel["direction"] == "from" else "->"
        console.print(f"related: {arrow} {rel['relation']} {rel['party']} ({rel['party_id']}; {', '.join(rel['families'])})", highlight=False)
    for warning in record["warnings"]:
        console.print(f"[yellow]warning:[/yellow] {warning}", highlight=False)


@ownership_app.command("import")
def ownership_import(
    file: Path = typer.Argument(..., help="Ownership CSV: owner,owned,percent[,source,date]."),
    name: Optional[str] = typer.Option(None, "--name", help="Name of the set (default: the file name); an existing set of that name is replaced."),
    as_json: bool = typer.Option(False, "--json", help="Print the stored set and name resolutions as JSON."),
) -> None:
    """Resolve a user ownership file against the active lists and keep it in the store."""
    from ..ownership import import_ownership

    try:
        saved, resolutions = import_ownership(get_store(), file, name=name)
    except ClearanceError as exc:
        fail(exc)
    attention = [r for r in resolutions if r.needs_attention]
    if as_json:
        typer.echo(json.dumps(saved.to_dict(), ensure_ascii=False))
    else:
        linked = sum(1 for r in resolutions if r.linked)
        console.print(
            f"Stored ownership set [bold]{saved.name}[/bold]: {saved.edge_count} holdings; "
            f"{linked} of {len(resolutions)} names are list entries or curated parties.",
            highlight=False,
        )
        for resolution in attention:
            console.print(f"[yellow]attention:[/yellow] {resolution.message()}", highlight=False)
    raise typer.Exit(EXIT_FLAGGED if attention else EXIT_OK)


@ownership_app.command("list")
def ownership_list(as_json: bool = typer.Option(False, "--json", help="JSON output.")) -> None:
    """The ownership sets kept in the store."""
    from ..store.ownership import list_sets

    try:
        sets = list_sets(get_store().engine)
    except ClearanceError as exc:
        fail(exc)
    if as_json:
        typer.echo(json.dumps([s.to_dict() for s in sets], ensure_ascii=False))
        return
    if not sets:
        console.print("No ownership sets stored; add one with: clearance ownership import FILE.csv")
        return
    table = Table("name", "holdings", "file", "imported")
    for found in sets:
        table.add_row(found.name, str(found.edge_count), found.file, found.imported_at)
    console.print(table)


@ownership_app.command("remove")
def ownership_remove(name: str = typer.Argument(..., help="Name of the set to remove.")) -> None:
    """Remove a stored ownership set."""
    from ..store.ownership import remove_set

    try:
        removed = remove_set(get_store().engine, name)
    except ClearanceError as exc:
        fail(exc)
    if not removed:
        fail(InputError(f"no ownership set named {name!r}; see: clearance ownership list"))
    console.print(f"Removed ownership set {name}.", highlight=False)
