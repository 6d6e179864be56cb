"""From a name or id a user wrote to a node of the graph - never by a silent guess.

Order: an entity id or node key; then an exact (normalised) name of a list
entry or curated party; then the matcher (a single ``match``-status party, or
one party listed under the same name in several lists); else the party stays a
name of its own (a placeholder node). Several different candidates, or only
``review``-level matches, are *reported* (``ambiguous`` / ``possible``) and the
name is not linked to any of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from .graph import OwnershipGraph, name_key

#: Hits scoring within this of the best one compete with it.
TIE = 0.02


@dataclass(slots=True)
class Resolution:
    text: str
    status: str  # id | exact | matched | ambiguous | possible | unresolved | same-name
    key: str | None = None
    score: float | None = None
    candidates: list[dict] = field(default_factory=list)
    where: str | None = None  # "file.csv:12 owner"

    @property
    def linked(self) -> bool:
        """Did the name reach a list entry or curated party?"""
        return self.status in ("id", "exact", "matched")

    @property
    def needs_attention(self) -> bool:
        return self.status in ("ambiguous", "possible")

    def to_dict(self) -> dict:
        out = {"text": self.text, "status": self.status, "node": self.key}
        if self.where:
            out["where"] = self.where
        if self.score is not None:
            out["score"] = self.score
        if self.candidates:
            out["candidates"] = self.candidates
        return out

    def message(self) -> str:
        where = f"{self.where}: " if self.where else ""
        names = "; ".join(f"{c['name']} ({c['entity_id']}{', %.2f' % c['score'] if c.get('score') is not None else ''})" for c in self.candidates[:5])
        if self.status == "ambiguous":
            return f"{where}{self.text!r} is ambiguous between {names}; give the entity id instead - not linked to any of them"
        if self.status == "possible":
            return f"{where}{self.text!r} only resembles {names}; not linked (give the entity id if it is the same party)"
        return f"{where}{self.text!r}: {self.status}"


def _candidate(graph: OwnershipGraph, key: str, score: float | None = None) -> dict:
    node = graph.nodes[key]
    out = {"entity_id": key, "name": node.name, "lists": sorted({l.source for l in node.listings})}
    if score is not None:
        out["score"] = round(score, 4)
    return out


class Resolver:
    """Resolves names against a graph, with an optional matcher for fuzzy names.

    ``screener`` is a :class:`clearance.screen.Screener` (or a callable that
    returns one, so the index is only loaded if some name needs it).
    """

    def __init__(self, graph: OwnershipGraph, screener=None):
        self.graph = graph
        self._screener = screener
        self._cache: dict[tuple[str, bool], Resolution] = {}

    @property
    def screener(self):
        if callable(self._screener) and not hasattr(self._screener, "check"):
            self._screener = self._screener()
        return self._screener

    def resolve(self, text: str, *, create: bool = True, where: str | None = None) -> Resolution:
        """Resolve ``text``; with ``create`` an unresolved name becomes a placeholder node."""
        text = " ".join(str(text).split())
        cached = self._cache.get((text, create))
        if cached is None:
            cached = self._resolve(text, create)
            self._cache[(text, create)] = cached
        if where is None:
            return cached
        return Resolution(cached.text, cached.status, cached.key, cached.score, cached.candidates, where)

    def _resolve(self, text: str, create: bool) -> Resolution:
        graph = self.graph
        if not text:
            return Resolution(text, "unresolved")
        if graph.canonical(text) in graph.nodes and not graph.nodes[graph.canonical(text)].placeholder:
            return Resolution(text, "id", graph.canonical(text))
        exact = graph.find(text)
        if len(exact) > 1 and self._one_party(exact):
            candidates = [_candidate(graph, k) for k in exact]
            for other in exact[1:]:
                graph.merge(other, exact[0])
            return Resolution(text, "exact", exact[0], candidates=candidates)
        if len(exact) == 1:
            return Resolution(text, "exact", exact[0])
        if len(exact) > 1:
            return self._unlinked(text, "ambiguous", [_candidate(graph, k) for k in exact], create)
        found = self._matched(text)
        if found is not None:
            if found.status == "matched" or not create:
                return found
            return self._unlinked(text, found.status, found.candidates, create)
        same = graph.find(text, placeholders=True)
        if same:
            return Resolution(text, "same-name", same[0])
        return self._unlinked(text, "unresolved", [], create)

    def _one_party(self, keys: list[str]) -> bool:
        """Entries with one name that are not people: one organisation listed more than once.
        (Two people of the same name are two people.)"""
        nodes = [self.graph.nodes[k] for k in keys]
        return len({name_key(n.name) for n in nodes}) == 1 and not any(n.schema == "Person" for n in nodes)

    def _unlinked(self, text: str, status: str, candidates: list[dict], create: bool) -> Resolution:
        key = self.graph.placeholder(text) if create else None
        return Resolution(text, status, key, candidates=candidates)

    def _matched(self, text: str) -> Resolution | None:
        screener = self.screener
        if screener is None:
            return None
        record = screener.check(text)
        hits = record.get("hits") or []
        matches = [h for h in hits if h.get("status") == "match"]
        if not matches:
            reviews = [h for h in hits if h.get("status") == "review"]
            if not reviews:
                return None
            return Resolution(text, "possible", candidates=[self._hit(h) for h in reviews[:5]])
        best = max(h["score"] for h in matches)
        top = [h for h in matches if h["score"] >= best - TIE]
        keys = []
        for hit in top:
            key = self.graph.canonical(hit["entity_id"])
            if key in self.graph.nodes and key not in keys:
                keys.append(key)
        if not keys:
            return None
        # One organisation on several lists (same name everywhere) is one party, not an ambiguity.
        if len(keys) > 1 and self._one_party(keys):
            for other in keys[1:]:
                self.graph.merge(other, keys[0])
            keys = keys[:1]
        if len(keys) == 1:
            return Resolution(text, "matched", keys[0], score=best, candidates=[self._hit(h) for h in top[:5]])
        return Resolution(text, "ambiguous", candidates=[self._hit(h) for h in top[:5]])

    def _hit(self, hit: dict) -> dict:
        return {
            "entity_id": hit["entity_id"],
            "name": hit.get("name"),
            "matched_name": hit.get("matched_name"),
            "lists": [hit.get("source")],
            "score": hit.get("score"),
        }


ScreenerFactory = Callable[[], object]
