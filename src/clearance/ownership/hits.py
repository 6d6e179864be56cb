"""Exposure as screening hits (``"via": "ownership"``), for batch screening and ``assess``.

>>> engine = build_engine(files=["holdings.csv"])                 # doctest: +SKIP
>>> record = screener.check(name="Acme Trading FZE")              # doctest: +SKIP
>>> record = augment(record, engine)                              # doctest: +SKIP
>>> [h["via"] for h in record["hits"]]                            # doctest: +SKIP
['ownership']

A derived hit has the screening-result hit shape (GUIDE.md section 5): its
``entity_id``/``source``/``name``/``programs`` are those of the largest listed
owner behind the exposure; ``matched_name`` is the name that led to the
entity; ``status`` is ``match`` when a rule applies (or the party is a curated
subsidiary/brand of a covered producer), else ``review``; the explanation
carries the rule, the shares and the paths.
"""

from __future__ import annotations

from typing import Iterable

from .engine import OwnershipEngine

HIT_STATUSES = ("applies", "review", "suspended", "below-threshold")
_STATUS_ORDER = {"match": 0, "review": 1, "clear": 2, "error": 3}


def _nodes_for(engine: OwnershipEngine, name: str | None, entity_ids: Iterable[str]) -> list[tuple[str, str, float]]:
    """(node key, how it was reached, score) for a screened row."""
    out: dict[str, tuple[str, float]] = {}
    for entity_id in entity_ids:
        key = engine.graph.canonical(entity_id)
        if key in engine.graph.nodes:
            out.setdefault(key, ("entity id of a screening hit", 1.0))
    if name:
        for key in engine.graph.find(name, placeholders=True):
            out.setdefault(key, ("exact name in the ownership graph", 1.0))
    if any(k not in engine.index for k in out) or len(engine.graph.nodes) != len(engine.keys):
        engine.refresh()
    return [(key, how, score) for key, (how, score) in out.items()]


def derived_hits(
    engine: OwnershipEngine,
    name: str | None = None,
    entity_ids: Iterable[str] = (),
    max_paths: int = 5,
) -> list[dict]:
    """Hits derived from ownership for a party screened by ``name`` and/or already
    matched to ``entity_ids`` (a direct listing is left to the direct hit)."""
    hits: list[dict] = []
    for key, how, score in _nodes_for(engine, name, list(entity_ids)):
        exposure = engine.exposure_of(key, max_paths=max_paths)
        for rule in exposure["rules"]:
            if rule["status"] not in HIT_STATUSES:
                continue
            share = max(rule["share"], rule["counted_share"])
            if rule["status"] == "below-threshold" and share < engine.policy.review_share:
                continue
            hits.append(_hit(engine, exposure, rule, name, how, score))
    hits.sort(key=lambda h: (_STATUS_ORDER[h["status"]], -h["score"]))
    return hits


def _listing(node, family: str):
    """The list entry a derived hit names: one of the family from a published or
    curated *list* (e.g. us-covered), before the ownership data's own placeholder
    for a producer (``covered:hikvision``), which no list lookup can find."""
    in_family = [l for l in node.listings if family in l.families]
    listed = [l for l in in_family if not l.source.startswith("curated:")]
    return (listed or in_family or list(node.listings) or [None])[0]


def _hit(engine: OwnershipEngine, exposure: dict, rule: dict, name: str | None, how: str, score: float) -> dict:
    family = rule["family"]
    owners = [o for o in exposure["owners"] if o["family"] == family]
    paths = [p for p in exposure["paths"] if p and family in p[0]["owner_listed"]] or exposure["paths"]
    top = owners[0]["owner_id"] if owners else (paths[0][0]["owner_id"] if paths else exposure["entity"]["key"])
    node = engine.graph.nodes[top]
    listing = _listing(node, family)
    status = "match" if rule["status"] == "applies" else "review"
    subject = exposure["entity"]
    explanation = {
        "reason": rule["reason"],
        "via": "ownership",
        "rule": rule.get("rule"),
        "title": rule.get("title"),
        "family": family,
        "rule_status": rule["status"],
        "share": rule["share"],
        "counted_share": rule["counted_share"],
        "threshold": rule.get("threshold"),
        "citation": rule.get("citation"),
        "subject": {"key": subject["key"], "name": subject["name"]},
        "linked_by": how,
        "owners": owners,
        "path": paths[0] if paths else [],
        "paths": paths,
    }
    return {
        "entity_id": listing.entity_id if listing else top,
        "source": listing.source if listing else family,
        "schema": node.schema or "LegalEntity",
        "name": node.name,
        "matched_name": name or subject["name"],
        "score": score,
        "status": status,
        "programs": list(listing.programs) if listing else [],
        "via": "ownership",
        "explanation": explanation,
    }


def augment(record: dict, engine: OwnershipEngine) -> dict:
    """A screening-result record with ownership hits added (status recomputed).

    The row's input name and its hits' entity ids say which node(s) of the
    graph the row is; records with status ``error`` are returned unchanged.
    """
    if record.get("status") == "error":
        return record
    name = (record.get("input") or {}).get("name")
    direct = record.get("hits") or []
    extra = derived_hits(engine, name, [h["entity_id"] for h in direct if h.get("status") == "match"])
    seen = {(h["entity_id"], h.get("via")) for h in direct}
    extra = [h for h in extra if (h["entity_id"], "ownership") not in seen]
    if not extra:
        return record
    # Sorted by score, best first; on a tie the more severe status first. The row
    # takes the status of its best hit (GUIDE.md section 5).
    hits = sorted(direct + extra, key=lambda h: (-h["score"], _STATUS_ORDER.get(h["status"], 9)))
    return {**record, "hits": hits, "status": hits[0]["status"]}


__all__ = ["derived_hits", "augment"]
