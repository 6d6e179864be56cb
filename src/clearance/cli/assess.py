"""``clearance assess``: the determination for one transaction, as of a date."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table
from rich.text import Text

from ..errors import ClearanceError, InputError
from . import EXIT_FLAGGED, EXIT_OK, app, console, fail, get_store

_STYLE = {"prohibited": "bold red", "license-required": "bold yellow", "review": "yellow", "clear": "green"}
_LABEL = {"prohibited": "PROHIBITED", "license-required": "LICENCE REQUIRED", "review": "REVIEW", "clear": "CLEAR"}


def _schema(which: str) -> None:
    from pydantic import BaseModel

    from ..rules.transaction import AssessmentOut, TransactionIn

    models: dict[str, type[BaseModel]] = {"input": TransactionIn, "output": AssessmentOut}
    if which not in models:
        raise InputError(f"--schema {which!r}; expected 'input' or 'output'")
    typer.echo(json.dumps(models[which].model_json_schema(by_alias=True), indent=2, ensure_ascii=False))


@app.command("assess")
def assess_command(
    transaction: Optional[Path] = typer.Argument(None, help="Transaction JSON file ('-' for standard input); see docs/rules.md."),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="Assess as of this date (YYYY-MM-DD): lists and rules as they stood then. Default: the transaction's date, else today."),
    as_json: bool = typer.Option(False, "--json", help="Print the assessment JSON record."),
    schema: Optional[str] = typer.Option(None, "--schema", help="Print the JSON Schema of the 'input' or the 'output' and exit."),
) -> None:
    """Assess a transaction: prohibited, license-required, review or clear, with reasons and citations.

    Exit 0 clear, 1 prohibited / license-required / review, 2 error.
    """
    from ..rules import assessment
    from ..rules.engine import as_date
    from ..rules.transaction import load_json, parse_transaction, read_transaction

    try:
        if schema is not None:
            _schema(schema)
            raise typer.Exit(EXIT_OK)
        if transaction is None:
            raise InputError("no transaction given; expected a TRANSACTION.json path (or '-' for standard input)")
        if str(transaction) == "-":
            tx = parse_transaction(load_json(sys.stdin.read(), "<stdin>"), "<stdin>")
        else:
            tx = read_transaction(transaction)
        when = as_date(as_of) if as_of else None
        result = assessment.assess(tx, as_of=when, store=get_store())
    except ClearanceError as exc:
        fail(exc)
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False))
    else:
        _print(result)
    raise typer.Exit(EXIT_OK if result["determination"] == "clear" else EXIT_FLAGGED)


def _print(result: dict) -> None:
    status = result["determination"]
    console.print(
        Text.assemble(("Determination: ", "bold"), (_LABEL[status], _STYLE[status]), f"   as of {result['as_of']}"),
    )
    table = Table(show_lines=False)
    table.add_column("Role")
    table.add_column("Party")
    table.add_column("Status", no_wrap=True)
    table.add_column("Matched list entry")
    table.add_column("List / rule")
    for party in result["parties"]:
        who = party["name"] or ", ".join(party.get("identifiers") or [])
        flagged = [h for h in party["hits"] if h["consequence"] != "clear"] or party["hits"][:1]
        if not flagged:
            table.add_row(party["role"].replace("_", " "), who, Text(party["status"], style=_STYLE[party["status"]]), "-", "-")
            continue
        for number, hit in enumerate(flagged):
            rules = [r for r in party["rules"] if r["entity_id"] == hit["entity_id"] and r["consequence"] != "info"]
            rule_text = "; ".join(r["rule"] for r in rules) or "no consequence on this date"
            table.add_row(
                party["role"].replace("_", " ") if number == 0 else "",
                who if number == 0 else "",
                Text(hit["consequence"] if number else party["status"], style=_STYLE[hit["consequence"] if number else party["status"]]),
                f"{hit['name']} ({hit['score']:.2f})",
                f"{hit['source']}\n[dim]{rule_text}[/dim]",
            )
    console.print(table)
    console.print("[bold]Why[/bold]")
    for reason in result["reasons"]:
        console.print(f"- {reason}", highlight=False, soft_wrap=True)
    if result["citations"]:
        console.print("[bold]Citations[/bold]")
        for citation in result["citations"]:
            console.print(f"- {citation}", highlight=False, soft_wrap=True)
