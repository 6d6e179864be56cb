"""``clearance check``: screen one name and/or identifier against the active lists."""

from __future__ import annotations

import json
from typing import List, Optional

import typer
from rich.table import Table
from rich.text import Text

from ..errors import ClearanceError, InputError
from . import EXIT_FLAGGED, EXIT_OK, app, console, fail, get_store

_STATUS_STYLE = {"match": "bold red", "review": "yellow", "clear": "green", "error": "red"}


def _identifiers(ids: list[str], isin: list[str], uscc: list[str]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for item in ids:
        kind, sep, value = item.partition(":")
        if not sep or not kind.strip() or not value.strip():
            raise InputError(f"--id {item!r}: expected TYPE:VALUE, e.g. --id isin:CNE100000PM8 or --id passport:A1234567")
        out.append((kind.strip(), value.strip()))
    out.extend(("isin", v.strip()) for v in isin if v.strip())
    out.extend(("uscc", v.strip()) for v in uscc if v.strip())
    return out


@app.command("check")
def check(
    name: Optional[str] = typer.Argument(None, help="Name to screen (any script), e.g. \"Hikvision\" or \"华为技术有限公司\"."),
    country: List[str] = typer.Option([], "--country", "-c", help="Country of the party (name or ISO code); repeatable."),
    schema: Optional[str] = typer.Option(None, "--schema", help="Person, Company, Organization, LegalEntity, Vessel or Airplane."),
    dob: Optional[str] = typer.Option(None, "--dob", help="Date of birth, YYYY-MM-DD or YYYY (people)."),
    ids: List[str] = typer.Option([], "--id", help="Identifier as TYPE:VALUE (isin, uscc, imo, passport, tax, lei, ticker, ...); repeatable."),
    isin: List[str] = typer.Option([], "--isin", help="ISIN (same as --id isin:VALUE)."),
    uscc: List[str] = typer.Option([], "--uscc", help="Unified Social Credit Code (same as --id uscc:VALUE)."),
    source: List[str] = typer.Option([], "--source", "-s", help="Only screen against this source id; repeatable."),
    as_json: bool = typer.Option(False, "--json", help="Print the screening-result JSON record."),
    match_threshold: Optional[float] = typer.Option(None, "--match-threshold", help="Score for 'match' (default 0.86)."),
    review_threshold: Optional[float] = typer.Option(None, "--review-threshold", help="Score for 'review' (default 0.70)."),
    limit: int = typer.Option(10, "--limit", min=1, max=1000, help="Most hits to show."),
    as_of: Optional[str] = typer.Option(
        None, "--as-of", help="Screen the lists as they stood on this date (YYYY-MM-DD) and apply the rules in force then."
    ),
) -> None:
    """Screen a name and/or identifiers; exit 0 clear, 1 match or review, 2 error."""
    from ..match.matcher import Thresholds
    from ..screen.check import birth_date_of, check_schema

    try:
        identifiers = _identifiers(ids, isin, uscc)
        schema = check_schema(schema)
        if dob is not None and birth_date_of(dob) is None:  # typed by hand: say so rather than drop it
            raise InputError(f"--dob {dob!r}: expected a date, e.g. 1962-05-03, 1962-05 or 1962")
        defaults = Thresholds()
        try:
            thresholds = Thresholds(
                match=defaults.match if match_threshold is None else match_threshold,
                review=defaults.review if review_threshold is None else review_threshold,
            )
        except ValueError as exc:
            raise InputError(str(exc)) from None
        store = get_store()
        if source:
            store.active_snapshots(list(source))  # unknown source -> StoreError naming the known ones
        result = _screen(store, name, country, schema, dob, identifiers, list(source) or None, thresholds, limit, as_of)
    except ClearanceError as exc:
        fail(exc)
    if result["status"] == "error":
        if as_json:
            console.print_json(json.dumps(result, ensure_ascii=False))
        fail(result["error"])
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False))
    else:
        _print_table(result, thresholds)
    raise typer.Exit(EXIT_OK if result["status"] == "clear" else EXIT_FLAGGED)


def _screen(store, name, country, schema, dob, identifiers, sources, thresholds, limit, as_of) -> dict:
    """Screen (as of a date when asked) and attach each hit's consequences and citations."""
    from ..rules import as_date, attach_rules
    from ..screen.check import Screener

    query = dict(country=country or None, schema=schema, birth_date=dob, identifiers=identifiers)
    if as_of:
        from ..rules.asof import DatedScreener

        try:
            day = as_date(as_of)
        except (ValueError, ClearanceError):
            raise InputError(f"--as-of {as_of!r}: expected a date as YYYY-MM-DD") from None
        screener = DatedScreener(store, day, thresholds=thresholds, max_hits=limit, sources=sources)
        result = screener.check(name, **query)
        return attach_rules(result, day, store=store, lookup=screener.lookup)
    screener = Screener(store=store, sources=sources, thresholds=thresholds, max_hits=limit)
    result = screener.check(name, **query)
    return attach_rules(result, None, store=store)


def _print_table(result: dict, thresholds) -> None:
    query = result["input"].get("name") or ", ".join(result["input"].get("identifiers", []))
    if not result["hits"]:
        console.print(
            Text.assemble(("clear", "bold green"), f"  {query!s}: no list entry scored {thresholds.review:.2f} or more"),
        )
        return
    table = Table(
        title=f"{query} -> {result['status']}", title_style=_STATUS_STYLE[result["status"]], show_lines=False
    )
    table.add_column("#", justify="right")
    table.add_column("Query")
    table.add_column("Matched name")
    table.add_column("List entry")
    table.add_column("List / programs")
    table.add_column("Score", justify="right")
    table.add_column("Status")
    for number, hit in enumerate(result["hits"], 1):
        why = hit["explanation"]
        table.add_row(
            str(number),
            why.get("query_name") or query,
            hit["matched_name"],
            f"{hit['name']}\n[dim]{hit['entity_id']}[/dim]",
            hit["source"] + ("\n" + ", ".join(hit["programs"]) if hit["programs"] else ""),
            f"{hit['score']:.2f}",
            Text(hit["status"], style=_STATUS_STYLE[hit["status"]]),
        )
    console.print(table)
    for number, hit in enumerate(result["hits"], 1):
        console.print(f"[bold]{number}.[/bold] " + "; ".join(_why(hit["explanation"])), highlight=False)
        for rule in hit.get("rules", []):
            if rule.get("consequence") != "info":
                console.print(f"   [bold]{rule['consequence']}[/bold]: {rule['text']} [dim][{rule['citation']}][/dim]", highlight=False)


def _why(why: dict) -> list[str]:
    lines = [why["reason"]]
    sim = why.get("name_similarity")
    if sim:
        pairs = ", ".join(
            f"{p['query']}={p['list']}" + ("" if p["similarity"] == 1.0 else f" ({p['similarity']:.2f})")
            for p in sim["token_pairs"]
        )
        lines.append(f"{sim['name_property']} matched on {pairs}" if pairs else "no token in common")
        if sim["unmatched_list_tokens"]:
            lines.append("not in query: " + " ".join(sim["unmatched_list_tokens"]))
        if sim["unmatched_query_tokens"]:
            lines.append("not in list name: " + " ".join(sim["unmatched_query_tokens"]))
    lines.extend(why.get("notes", []))
    return lines
