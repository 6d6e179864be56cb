"""Dated relief (general licences) applied on top of a rule: only inside its dates,
only when automatic or claimed; otherwise reported."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from ..model import Entity
from .schema import SEVERITY, RuleBook, RuleRow
from .types import Context, Rule


def apply_relief(
    rule: Rule,
    row: RuleRow,
    book: RuleBook,
    source: str,
    entity: Entity,
    lists: list[str],
    programs: list[str],
    notices: str,
    on: date,
    ctx: Context,
    values: Any,
    render: Any,
    period: Any,
) -> None:
    """Add the relief records of ``rule`` and lower its consequence where relief applies."""
    if rule.consequence == "info":
        return
    candidates = [r for r in book.relief if row.id in r.applies_to and r.matches(source, lists, programs, notices, entity.caption)]
    for relief in (r for r in candidates if r.in_force(on)):
        claimed = relief.family in ctx.relies_on
        applied = relief.automatic or claimed
        relief_values = type(values)(values, scope=relief.scope, period=period(relief).removeprefix("in force "))
        rule.relief.append(
            {
                "id": relief.id,
                "family": relief.family,
                "title": relief.title,
                "citation": relief.citation,
                "effective_from": relief.effective_from.isoformat() if relief.effective_from else None,
                "effective_to": relief.effective_to.isoformat() if relief.effective_to else None,
                "claimed": claimed,
                "applied": applied,
                "text": render(relief.text, relief_values),
            }
        )
        if applied:
            if SEVERITY[rule.consequence] > SEVERITY[relief.effect]:
                rule.consequence = relief.effect if relief.effect != "clear" else "info"
        else:
            rule.relief[-1]["text"] += f' If the transaction is within its scope, declare it with "relies_on": ["{relief.family}"].'

    in_force = {r.family for r in candidates if r.in_force(on)}
    for family in sorted({r.family for r in candidates} & set(ctx.relies_on) - in_force):
        periods = [r for r in candidates if r.family == family]
        starts = [r.effective_from for r in periods if r.effective_from]
        ends = [r.effective_to for r in periods if r.effective_to]
        span = f"{min(starts).isoformat() if starts else 'always'} to {max(ends).isoformat() if ends and len(ends) == len(periods) else 'no end date'}"
        title = re.split(r"[(,]", periods[0].title)[0].strip()
        rule.relief.append(
            {
                "id": periods[-1].id,
                "family": family,
                "title": title,
                "citation": "; ".join(r.citation for r in periods),
                "effective_from": min(starts).isoformat() if starts else None,
                "effective_to": max(ends).isoformat() if ends and len(ends) == len(periods) else None,
                "claimed": True,
                "applied": False,
                "text": f"The claimed {family} authorisation was not in force on {on.isoformat()} (valid {span}).",
            }
        )
