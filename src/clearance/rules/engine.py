"""What a hit means: :func:`determine` attaches dated consequences to one list entry.

>>> from clearance.rules import determine, Context, Item
>>> rules = determine(("us-trade-csl", entity), "2020-03-01",
...                   Context(role="end_user", purpose="export", item=Item(eccn="EAR99", us_origin=True)))
>>> rules[0].consequence, rules[0].review_policy
('license-required', 'Presumption of denial')

The steps, in order:

1. **listing gate** - an entry whose own listing/start date is after the date,
   or whose end date is before it, did not apply: one ``info`` rule says so;
2. **rows** - the rule rows of ``data/rules/lists.yaml`` matching the entry
   (source, CSL list code, programme, FR notice); fallback rows only when no
   other row matches; a built-in ``review`` row for sources with no rows (user
   lists);
3. **scope** - purpose, party role and item class; an unknown context field
   (``None``) keeps every row that can flag, and drops the ``info`` rows that
   only explain why something does not apply;
4. **dates** - the row's own ``effective_from``/``effective_to`` and the entry
   windows (``entry_from``/``entry_until``, e.g. the NS-CMIC effective and
   divestment dates); a row out of force becomes an ``info`` rule saying when
   it is in force;
5. **limits** - a listing whose date is unknown (the snapshot postdates the
   date, see :mod:`clearance.rules.asof`), a foreign-made item under an EAR
   rule, or an Entity List requirement that may not cover the item caps the
   consequence at ``review`` with a note;
6. **relief** - general licences in force on the date, applied when automatic
   or claimed (``Context.relies_on``), otherwise noted.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any, Mapping, Sequence

from ..errors import InputError
from ..model import Entity
from .relief import apply_relief
from .schema import EXPORT_RECIPIENTS, SEVERITY, Clause, RuleBook, RuleRow, default_rules
from .types import KNOWN_SOURCES, PURPOSE_TEXT, SOURCE_LABELS, Context, Item, Rule, as_date, most_severe

NOT_STATED = "not stated"


# -- helpers -------------------------------------------------------------------


def _entity_date(entity: Entity, prop: str, latest: bool = False) -> date | None:
    values = []
    for value in entity.get(prop):
        try:
            values.append(date.fromisoformat(value[:10]))
        except ValueError:
            continue
    if not values:
        return None
    return max(values) if latest else min(values)


def listed_on(entity: Entity) -> date | None:
    """The entry's own listing date: the earliest of ``listingDate`` and ``startDate``."""
    found = [d for d in (_entity_date(entity, "listingDate"), _entity_date(entity, "startDate")) if d]
    return min(found) if found else None


def _source_of(entity: Entity, source: str | None) -> str:
    if source:
        return source
    for known in KNOWN_SOURCES:
        if entity.id.startswith(known + "-"):
            return known
    raise InputError(f"cannot tell the source of entity {entity.id!r}; pass source=")


def _resolve(target: Any, source: str | None, store: Any) -> tuple[str, Entity]:
    if isinstance(target, Entity):
        return _source_of(target, source), target
    if isinstance(target, tuple) and len(target) == 2 and isinstance(target[1], Entity):
        return str(target[0]), target[1]
    if isinstance(target, Mapping) and "entity_id" in target:
        if store is None:
            raise InputError("determine() needs store= to look up the entity of a screening hit")
        found = store.entity(target["entity_id"], [target["source"]] if target.get("source") else None)
        if found is None:
            raise InputError(f"entity {target['entity_id']!r} is not in the active lists")
        return found
    raise InputError(f"cannot determine consequences for a {type(target).__name__}; expected an Entity, (source, Entity) or a hit")


class _Values(dict):
    def __missing__(self, key: str) -> str:
        return NOT_STATED


def _render(template: str | None, values: Mapping[str, str]) -> str | None:
    if template is None:
        return None
    text = " ".join(template.format_map(values).split())
    return re.sub(r"([.!?])\s*\.", r"\1", text)


_DIRECTIVE = re.compile(r"Subject to Directive\s+(\w+)", re.IGNORECASE)
_MEASURE_WORDS = ("Directive", "Prohibition", "Sec.", "prohibited", "CAATSA")


def _values(source: str, entity: Entity, as_of: date, ctx: Context) -> _Values:
    def first(prop: str) -> str:
        return entity.first(prop) or NOT_STATED

    notes = entity.get("notes")
    directives = sorted({f"Directive {m}" for n in notes for m in _DIRECTIVE.findall(n)})
    measures = [n for n in notes if any(w in n for w in _MEASURE_WORDS) and "please visit" not in n]
    scope = next((n for n in notes if not n.startswith("Citation:")), NOT_STATED)
    lists = entity.get("listName")
    listed = listed_on(entity)
    values = _Values(
        name=entity.caption,
        source=source,
        list_name=", ".join(lists) or SOURCE_LABELS.get(source, source),
        programs=", ".join(entity.get("program")) or ", ".join(lists) or source,
        start_date=first("startDate"),
        end_date=first("endDate") if entity.get("endDate") else "no end date",
        listing_date=listed.isoformat() if listed else NOT_STATED,
        effective_date=first("effectiveDate"),
        divestment_date=first("divestmentDate"),
        federal_register="; ".join(entity.get("federalRegisterNotice")) or "no Federal Register citation given",
        license_requirement=" ".join(entity.get("licenseRequirement")) or NOT_STATED,
        license_policy=" ".join(entity.get("licensePolicy")) or NOT_STATED,
        directives=", ".join(directives) or "directive not stated in the entry",
        measures="; ".join(measures) or "see the entry",
        scope=scope,
        role=(ctx.role or "party").replace("_", " "),
        purpose_text=PURPOSE_TEXT.get(ctx.purpose or "", "this transaction"),
        as_of=as_of.isoformat(),
    )
    return values


def _entry_dates(entity: Entity) -> dict[str, str]:
    out = {}
    for prop in ("listingDate", "startDate", "endDate", "effectiveDate", "divestmentDate"):
        if entity.get(prop):
            out[prop] = entity.first(prop) or ""
    return out


def _scope_ok(allowed: Sequence[str] | None, value: str | None, informational: bool) -> bool:
    if allowed is None:
        return True
    if value is None:
        return not informational
    return value in allowed


def el_covers(requirement: str, item: Item | None) -> str | None:
    """``None`` when the entry's licence requirement covers the item, else a note why it may not."""
    text = (requirement or "").lower()
    if not text or text == NOT_STATED:
        return "the entry states no licence requirement; check the Entity List entry"
    if "all items subject to the ear" in text:
        if " except" in text:
            return f"the entry's licence requirement has exceptions ({requirement}); check whether the item is one"
        return None
    if item is not None and item.eccn and item.eccn.strip().lower() in text:
        return None
    return f"the entry's licence requirement is limited ({requirement}); check whether it covers the item"


def _cap(rule: Rule, ceiling: str, note: str) -> None:
    if SEVERITY[rule.consequence] > SEVERITY[ceiling]:
        rule.consequence = ceiling
    rule.notes.append(note)


# -- determine -------------------------------------------------------------------


def determine(
    target: Entity | tuple[str, Entity] | Mapping[str, Any],
    as_of: date | str | None = None,
    context: Context | None = None,
    *,
    source: str | None = None,
    rules: RuleBook | None = None,
    store: Any = None,
) -> list[Rule]:
    """The consequences that attach to one list entry on ``as_of`` in ``context``.

    ``target`` is an :class:`~clearance.model.Entity` (its source inferred from
    its id, or given as ``source=``), a ``(source, Entity)`` pair, or a
    screening hit (``{"entity_id", "source", ...}``, looked up in ``store``'s
    active lists).  Returns every rule that attaches, ``info`` rules included;
    the entry's consequence is :func:`most_severe` of their ``consequence``.
    """
    source, entity = _resolve(target, source, store)
    on = as_date(as_of)
    ctx = context or Context()
    book = rules or default_rules()
    values = _values(source, entity, on, ctx)
    dates = _entry_dates(entity)
    notices = "; ".join(entity.get("federalRegisterNotice")) or None

    def base(row_id: str, title: str, consequence: str, text: str, citation: str, **extra: Any) -> Rule:
        return Rule(
            id=row_id,
            rule=title,
            source=source,
            consequence=consequence,
            text=text,
            citation=citation,
            entity_id=entity.id,
            list_code=", ".join(entity.get("listName")) or None,
            programs=list(entity.get("program")),
            federal_register=notices,
            dates=dates,
            **extra,
        )

    # 1. the listing gate
    listed = listed_on(entity)
    ended = _entity_date(entity, "endDate", latest=True)
    if listed is not None and listed > on:
        text = f"{entity.caption} was listed on {listed.isoformat()}, after {on.isoformat()}: the listing did not apply on that date."
        return [base("not-yet-listed", "Not yet listed on the date", "info", text, notices or SOURCE_LABELS.get(source, source))]
    if ended is not None and ended < on:
        text = f"{entity.caption}'s listing ended on {ended.isoformat()}, before {on.isoformat()}: it no longer applied on that date."
        return [base("listing-ended", "Listing ended before the date", "info", text, notices or SOURCE_LABELS.get(source, source))]
    unknown_date = listed is None and ctx.dates_required

    # 2. rows
    lists = entity.get("listName")
    programs = entity.get("program")
    matched = [r for r in book.rules if r.kind == "listing" and r.matches(source, lists, programs, notices or "", entity.caption)]
    specific = [r for r in matched if not r.fallback]
    rows: list[RuleRow] = specific or matched
    if not rows:
        rows = [_default_row(source)]

    out: list[Rule] = []
    for row in rows:
        informational = row.consequence == "info"
        # 3. scope
        item_class = ctx.item.item_class if ctx.item is not None else None
        if not (
            _scope_ok(row.purposes, ctx.purpose, informational)
            and _scope_ok(row.roles, ctx.role, informational)
            and _scope_ok(row.items, item_class, informational)
        ):
            continue
        # 4. dates: entry windows, then the rule's own dates
        start = _entity_date(entity, row.entry_from) if row.entry_from else None
        until = _entity_date(entity, row.entry_until) if row.entry_until else None
        if (start is not None and start > on) or (until is not None and until <= on):
            continue
        rule = base(
            row.id,
            row.title,
            row.consequence,
            _render(row.text, values) or "",
            _citation(row, notices, values),
            license_requirement=_render(row.license_requirement, values),
            review_policy=_render(row.review_policy, values),
            license_exceptions=_render(row.license_exceptions, values),
            url=row.url,
            effective_from=row.effective_from.isoformat() if row.effective_from else None,
            effective_to=row.effective_to.isoformat() if row.effective_to else None,
        )
        for prop, when in ((row.entry_from, start), (row.entry_until, until)):
            if prop and when is None:
                rule.notes.append(f"the entry states no {prop}; the rule is applied as if it did")
        if not row.in_force(on):
            rule.notes.append(rule.text)
            rule.consequence = "info"
            rule.text = f"{row.title}: {_out_of_force(row, on)}, so it did not apply on {on.isoformat()}."
            out.append(rule)
            continue
        # 5. limits
        if row.requires_ear and ctx.item is not None and ctx.item.us_origin is False:
            _cap(rule, "review", "the item is not of US origin: check whether it is subject to the EAR (de minimis US content, foreign direct product rules)")
        if row.el_scope:
            gap = el_covers(values["license_requirement"], ctx.item)
            if gap:
                _cap(rule, "review", gap)
        if unknown_date and not informational:
            _cap(
                rule,
                "review",
                f"listing date unknown: the entry is in the {ctx.capture or 'earliest'} capture, made after "
                f"{on.isoformat()}, and carries no listing date, so whether it was listed on that date is unknown",
            )
        # 6. relief
        apply_relief(rule, row, book, source, entity, lists, programs, notices or "", on, ctx, values, _render, _period)
        out.append(rule)
    return out


def _citation(row: RuleRow, notices: str | None, values: Mapping[str, str]) -> str:
    cited = _render(row.citation, values) or row.citation
    if notices and row.cite_entry:
        return f"{notices}; {cited}"
    return cited


def _period(row: Any) -> str:
    start = row.effective_from.isoformat() if row.effective_from else "always"
    end = row.effective_to.isoformat() if row.effective_to else "no end date"
    return f"in force {start} to {end}" if row.effective_from else f"in force until {end}"


def _out_of_force(row: Any, on: date) -> str:
    if row.effective_from and on < row.effective_from:
        return f"takes effect on {row.effective_from.isoformat()}"
    return f"ended on {row.effective_to.isoformat()}" if row.effective_to else "not in force"


def _default_row(source: str) -> RuleRow:
    return RuleRow(
        id="unmapped-source",
        title="Listed on a source without rule rows",
        match=[Clause(source=[source])],
        consequence="review",
        text="{name} is on the list '{source}', for which Clearance has no rule rows (e.g. a firm's own block list): review.",
        citation=f"list '{source}'",
        reviewed=date(2026, 11, 30),
    )


__all__ = [
    "Context",
    "Item",
    "Rule",
    "determine",
    "most_severe",
    "listed_on",
    "el_covers",
    "as_date",
    "EXPORT_RECIPIENTS",
    "SOURCE_LABELS",
]
