"""Assess a transaction: screen every party as of a date, attach the rules,
the most severe outcome wins, and say why in plain words.

>>> from clearance.rules import assess
>>> result = assess({"date": "2020-03-01", "destination": "CN",
...                  "item": {"description": "DDR4 memory modules", "eccn": "EAR99", "us_origin": True},
...                  "parties": [{"role": "end_user", "name": "Gui'an New District Huawei Investment"}]})
>>> result["determination"]
'license-required'

Outcome per hit: the most severe consequence of its rules; a *possible*
match (matcher status ``review``) is capped at ``review`` - "if confirmed,
licence required".  Per party: the most severe of its hits.  Overall: the
most severe of the parties.  Order: prohibited > license-required > review >
clear.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any, Mapping

from ..errors import ClearanceError, InputError
from .engine import Context, Item, Rule, as_date, determine, most_severe
from .reasons import citations, overall_reasons, party_reasons
from .schema import SEVERITY, RuleBook, default_rules
from .transaction import AssessmentOut, PartyIn, TransactionIn, parse_transaction

SECURITY_ROLES = ("issuer", "investee")


def _parties(tx: TransactionIn) -> list[PartyIn]:
    parties = list(tx.parties)
    if tx.item is not None and tx.item.manufacturer:
        named = {(p.name or "").strip().lower() for p in parties if p.role == "manufacturer"}
        if tx.item.manufacturer.strip().lower() not in named:
            parties.append(PartyIn.model_validate({"role": "manufacturer", "name": tx.item.manufacturer}))
    if tx.holding is not None:
        h = tx.holding
        parties.append(PartyIn.model_validate({"role": "issuer", "name": h.name, "isin": h.isin, "ticker": h.ticker}))
    return parties


def _purpose(tx: TransactionIn, party: PartyIn) -> str:
    if party.role in SECURITY_ROLES:
        return "investment"
    if tx.purpose:
        return tx.purpose
    if tx.holding is not None and not tx.parties:
        return "investment"
    return "export"


def _item(tx: TransactionIn) -> Item | None:
    if tx.item is None:
        return None
    i = tx.item
    return Item(description=i.description, eccn=i.eccn, us_origin=i.us_origin, itar=i.itar)


def _why(hit: Mapping[str, Any]) -> str:
    why = hit.get("explanation") or {}
    parts = [why.get("reason") or f"score {hit.get('score')}"]
    parts.extend(why.get("notes") or [])
    return "; ".join(p for p in parts if p)


def hit_consequence(hit: Mapping[str, Any], rules: list[Rule]) -> str:
    """What a hit means: its rules' most severe consequence, a possible match capped at review."""
    worst = most_severe(r.consequence for r in rules)
    if hit.get("status") == "review" and SEVERITY[worst] > SEVERITY["review"]:
        return "review"
    return worst


def assess(
    transaction: TransactionIn | Mapping[str, Any],
    *,
    as_of: date | str | None = None,
    store: Any = None,
    screener: Any = None,
    rules: RuleBook | None = None,
    thresholds: Any = None,
) -> dict[str, Any]:
    """The assessment record (see ``docs/rules.md``) of one transaction.

    The date is ``as_of`` if given, else the transaction's ``date``, else
    today; with a date the lists are taken as they stood then
    (:mod:`clearance.rules.asof`), without one the active lists serve.
    ``screener`` (anything with ``check`` and ``lookup``, e.g.
    :class:`~clearance.rules.asof.StaticScreener`) replaces the store.
    """
    tx = transaction if isinstance(transaction, TransactionIn) else parse_transaction(dict(transaction))
    book = rules or default_rules()
    unknown = sorted(set(tx.relies_on) - book.families)
    if unknown:
        raise InputError(f"relies_on: unknown relief {unknown[0]!r}; expected one of {', '.join(sorted(book.families))}")
    dated = as_date(as_of) if as_of is not None else tx.date
    on = dated or date.today()
    if screener is None:
        from .asof import DatedScreener

        if store is None:
            from ..store import open_store

            store = open_store()
        screener = DatedScreener(store, dated, thresholds=thresholds)
    item = _item(tx)
    owners = _ownership_engine(store, dated)
    parties = [_assess_party(tx, party, screener, on, item, book, owners) for party in _parties(tx)]
    determination = most_severe(p["status"] for p in parties)
    snapshots = [c.to_dict() for c in getattr(screener, "choices", [])]
    result = {
        "determination": determination,
        "as_of": on.isoformat(),
        "id": tx.id,
        "transaction": tx.model_dump(mode="json", by_alias=True, exclude_none=True),
        "parties": parties,
        "reasons": overall_reasons(determination, on, parties, snapshots),
        "citations": citations(parties),
        "snapshots": snapshots,
    }
    # The output contract is checked, so a change here cannot drift from the documented schema.
    AssessmentOut.model_validate(result)
    return result


def _ownership_engine(store: Any, dated: date | None) -> Any:
    """The ownership engine over the same store, so that a party owned by listed
    parties (OFAC 50% rule, §889 subsidiaries) is reported with ``"via": "ownership"``."""
    if store is None:
        return None
    from ..ownership import build_engine

    return build_engine(store, as_of=dated.isoformat() if dated else None)


def _assess_party(
    tx: TransactionIn, party: PartyIn, screener: Any, on: date, item: Item | None, book: RuleBook, owners: Any = None
) -> dict:
    purpose = _purpose(tx, party)
    record = screener.check(
        party.name,
        country=party.country,
        schema=party.schema_,
        identifiers=party.identifier_pairs(),
    )
    if owners is not None and record.get("status") != "error":
        from ..ownership.hits import augment

        record = augment(record, owners)
    out: dict[str, Any] = {
        "role": party.role,
        "name": party.name,
        "country": party.country,
        "identifiers": [f"{k}:{v}" for k, v in party.identifier_pairs()],
        "purpose": purpose,
        "status": "clear",
        "hits": [],
        "rules": [],
        "reasons": [],
        "error": None,
    }
    if record.get("status") == "error":
        out["status"] = "review"
        out["error"] = record.get("error")
        out["reasons"] = [f"The {party.role.replace('_', ' ')} could not be screened ({record.get('error')}): review it by hand."]
        return out
    statuses = []
    pairs = []
    for hit in record.get("hits", []):
        found = _lookup(screener, hit)
        if found is None:
            continue
        source, entity, choice = found
        ctx = Context(
            role=party.role,
            purpose=purpose,
            item=item,
            relies_on=frozenset(tx.relies_on),
            dates_required=bool(choice is not None and choice.dates_required),
            capture=choice.label if choice is not None else None,
        )
        rules = determine((source, entity), on, ctx, rules=book)
        consequence = hit_consequence(hit, rules)
        statuses.append(consequence)
        out["hits"].append(
            {
                "entity_id": hit["entity_id"],
                "source": hit["source"],
                "schema": hit["schema"],
                "name": hit["name"],
                "matched_name": hit["matched_name"],
                "score": hit["score"],
                "status": hit["status"],
                "programs": hit.get("programs", []),
                "why": _why(hit),
                "via": hit.get("via", "name"),
                "consequence": consequence,
                "rules": [r.id for r in rules],
            }
        )
        out["rules"].extend(r.to_dict() for r in rules)
        pairs.append((out["hits"][-1], rules))
    out["status"] = most_severe(statuses)
    out["reasons"] = party_reasons(party, pairs, out["status"])
    return out


def _lookup(screener: Any, hit: dict) -> tuple | None:
    """The list entry behind a hit, or None for an ownership-derived hit whose owner
    has no entry in the lists screened.

    The ownership engine picks its snapshots with ``store.snapshots_as_of`` only,
    so before the us-covered capture a producer is its curated placeholder node
    (``covered:hikvision``); the dated screener (earliest-capture policy) does
    hold the producer's §889 entry, so the placeholder is looked up as that.
    TODO: give the ownership engine the dated screener's snapshot policy and
    drop this mapping.
    """
    if hit.get("via") != "ownership":
        return screener.lookup(hit)
    candidates = [hit]
    node = str(hit.get("entity_id", ""))
    if node.startswith("covered:"):
        candidates.append(dict(hit, entity_id=f"us-covered-{node.split(':', 1)[1]}-ndaa-889", source="us-covered"))
    for candidate in candidates:
        try:
            found = screener.lookup(candidate)
        except ClearanceError:
            continue
        hit.update(entity_id=candidate["entity_id"], source=candidate["source"])
        return found
    return None


def context_for_query(identifiers: Any = None, role: str | None = None, purpose: str | None = None, item: Item | None = None) -> Context:
    """The context of a bare screening query: a query by ISIN or ticker is a securities question."""
    from ..screen.check import parse_identifiers

    kinds = {(k or "").lower() for k, _ in parse_identifiers(identifiers)}
    if purpose is None and kinds & {"isin", "ticker"}:
        purpose = "investment"
    return Context(role=role, purpose=purpose, item=item)


def attach_rules(
    record: dict[str, Any],
    as_of: date | str | None = None,
    context: Context | None = None,
    *,
    store: Any = None,
    lookup: Any = None,
    rules: RuleBook | None = None,
) -> dict[str, Any]:
    """Add consequences to a screening-result record (GUIDE.md section 5), in place.

    Each hit gets ``rules`` (list of rule dicts) and ``consequence``; the record
    gets ``consequence`` (most severe over hits, ``clear`` without hits, None for an
    error record) and
    ``as_of``.  Entities are looked up with ``lookup(hit) -> (source, Entity,
    Choice|None)`` (e.g. :meth:`DatedScreener.lookup`) or in ``store``'s active
    lists.  Without ``context``, one is derived from the query (an ISIN or
    ticker query is an investment question).
    """
    on = as_date(as_of)
    if context is None:
        context = context_for_query((record.get("input") or {}).get("identifiers"))
    worst = []
    for hit in record.get("hits", []):
        if lookup is not None:
            source, entity, choice = lookup(hit)
        else:
            if store is None:
                raise InputError("attach_rules() needs store= or lookup= to find the entity of a hit")
            found = store.entity(hit["entity_id"], [hit["source"]])
            if found is None:
                raise InputError(f"entity {hit['entity_id']!r} is not in the active lists")
            (source, entity), choice = found, None
        ctx = context
        if choice is not None and choice.dates_required:
            ctx = replace(context, dates_required=True, capture=choice.label)
        attached = determine((source, entity), on, ctx, rules=rules)
        hit["rules"] = [r.to_dict() for r in attached]
        hit["consequence"] = hit_consequence(hit, attached)
        worst.append(hit["consequence"])
    # a record that could not be screened has no consequence: "clear" would say it was screened
    record["consequence"] = None if record.get("status") == "error" else most_severe(worst)
    record["as_of"] = on.isoformat()
    return record
