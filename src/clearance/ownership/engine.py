"""The exposure engine: aggregate shares for every node, the rule each one
triggers on a date, and the paths that explain it.

>>> engine = build_engine(files=["holdings.csv"])          # doctest: +SKIP
>>> engine.exposure("Acme Trading FZE")["blocked"]          # doctest: +SKIP
True
"""

from __future__ import annotations

import gc
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date

import numpy as np

from ..errors import InputError
from .aggregate import EPSILON, Arrays, lookthrough, restricted
from .graph import Edge, OwnershipGraph
from .paths import owner_shares, upstream_paths
from .policy import Policy, load_policy
from .resolve import Resolution, Resolver

#: Over-ownership beyond this (sum of stated holdings of one entity) is reported.
OVER_OWNED = 1.005
CURATED_PREFIX = "curated:"


@contextmanager
def _no_gc():
    """Millions of small objects: the cyclic GC would rescan them over and over."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@dataclass(slots=True)
class FamilyResult:
    listed: np.ndarray
    lookthrough: np.ndarray
    restricted: np.ndarray
    counted: np.ndarray
    rounds: int


class OwnershipEngine:
    """Aggregates computed once for the whole graph, queried per entity."""

    def __init__(
        self,
        graph: OwnershipGraph,
        policy: Policy | None = None,
        as_of: str | None = None,
        resolver: Resolver | None = None,
        resolutions: list[Resolution] | None = None,
    ):
        self.graph = graph
        self.policy = policy or load_policy()
        self.as_of = (as_of or date.today().isoformat())[:10]
        self.resolver = resolver or Resolver(graph)
        self.resolutions = list(resolutions or [])
        self.warnings: list[str] = [r.message() for r in self.resolutions if r.needs_attention]
        self._compile()
        self._results: dict[str, FamilyResult] = {}
        self._relevant: np.ndarray | None = None

    # -- compile -----------------------------------------------------------------

    def _compile(self) -> None:
        with _no_gc():
            self._compile_edges()

    @property
    def incoming(self) -> dict[str, list[Edge]]:
        """Edges into each node (all relations), built on first use."""
        if self._incoming is None:
            self._adjacency()
        return self._incoming

    @property
    def outgoing(self) -> dict[str, list[Edge]]:
        if self._outgoing is None:
            self._adjacency()
        return self._outgoing

    def _adjacency(self) -> None:
        with _no_gc():
            self._build_adjacency()

    def _build_adjacency(self) -> None:
        incoming: defaultdict[str, list[Edge]] = defaultdict(list)
        outgoing: defaultdict[str, list[Edge]] = defaultdict(list)
        for edge in self.edges:
            incoming[edge.owned].append(edge)
            outgoing[edge.owner].append(edge)
        self._incoming, self._outgoing = dict(incoming), dict(outgoing)

    def _compile_edges(self) -> None:
        graph = self.graph
        self.keys = list(graph.nodes)
        self.index = {key: i for i, key in enumerate(self.keys)}
        self.edges: list[Edge] = list(graph.resolved_edges(self.as_of))
        self._incoming: dict[str, list[Edge]] | None = None
        self._outgoing: dict[str, list[Edge]] | None = None
        chosen: dict[tuple[str, str], Edge] = {}
        self.conflicts: dict[tuple[str, str], list[Edge]] = {}
        for edge in self.edges:
            if not edge.counted:
                continue
            pair = (edge.owner, edge.owned)
            other = chosen.get(pair)
            if other is None:
                chosen[pair] = edge
                continue
            if other.percent != edge.percent:
                self.conflicts.setdefault(pair, [other]).append(edge)
            # The latest statement wins; on the same date, the larger share (the cautious reading).
            if (edge.start or "", edge.percent or 0) > (other.start or "", other.percent or 0):
                chosen[pair] = edge
        self.counted_edges = chosen
        index = self.index
        src = np.fromiter((index[o] for o, _ in chosen), dtype=np.int64, count=len(chosen))
        dst = np.fromiter((index[d] for _, d in chosen), dtype=np.int64, count=len(chosen))
        w = np.fromiter((e.percent for e in chosen.values()), dtype=np.float64, count=len(chosen)) / 100.0
        self.arrays = Arrays.build(len(self.keys), src, dst, w)
        held = np.bincount(self.arrays.dst, weights=self.arrays.w, minlength=len(self.keys)) if w.size else np.zeros(len(self.keys))
        self.over_owned = {self.keys[i]: float(held[i]) for i in np.flatnonzero(held > OVER_OWNED)}
        self.listed_families: dict[str, set[str]] = {}
        self.primary: set[str] = set()
        for key, node in graph.nodes.items():
            families = node.listed_on(self.as_of)
            if families:
                self.listed_families[key] = families
                curated = node.curated or {}
                if any(not l.source.startswith(CURATED_PREFIX) for l in node.listings) or curated.get("relation") == "producer":
                    self.primary.add(key)

    def refresh(self) -> None:
        """Recompile after the graph changed (a resolver merged parties, edges were added)."""
        self._compile()
        self._results.clear()
        self._relevant = None

    def result(self, family: str) -> FamilyResult:
        """The aggregates of one family for every node (computed once)."""
        if family not in self._results:
            if family not in self.policy.families:
                raise InputError(f"unknown family {family!r}; known: {', '.join(self.policy.families)}")
            listed = np.zeros(len(self.keys), dtype=bool)
            for key, families in self.listed_families.items():
                if family in families:
                    listed[self.index[key]] = True
            rule = self.policy.rule(family)
            threshold = rule.threshold if rule and rule.threshold else 0.5
            share, rounds = lookthrough(self.arrays, listed)
            mask, counted, more = restricted(self.arrays, listed, threshold)
            self._results[family] = FamilyResult(listed, share, mask, counted, rounds + more)
        return self._results[family]

    @property
    def relevant(self) -> np.ndarray:
        """Nodes with anything listed above them: a share held by a listed party, or a
        listing, or any relation from a listed party. Path searches stop elsewhere."""
        if self._relevant is None:
            mask = np.zeros(len(self.keys), dtype=bool)
            for result in self.compute_all().values():
                mask |= result.listed | (result.lookthrough > 0) | result.restricted
            for key in self.primary:
                for edge in self.outgoing.get(key, ()):
                    mask[self.index[edge.owned]] = True
            self._relevant = mask
        return self._relevant

    def compute_all(self) -> dict[str, FamilyResult]:
        return {family: self.result(family) for family in self.policy.families}

    # -- queries -----------------------------------------------------------------

    def find(self, query: str) -> str:
        """The node a name or id refers to; an unknown or ambiguous query is an InputError."""
        resolution = self.resolver.resolve(query, create=False)
        key = resolution.key
        if key is None:
            same = self.graph.find(query, placeholders=True)
            if same:
                key = same[0]
            elif resolution.needs_attention:
                raise InputError(resolution.message())
            else:
                raise InputError(
                    f"{query!r} is not a list entry, a curated party or a name in the ownership data; "
                    "give an entity id, or the name as written in the ownership file"
                )
        key = self.graph.canonical(key)
        if key not in self.index or len(self.graph.nodes) != len(self.keys):  # the resolver merged parties
            self.refresh()
        return key

    def exposure(self, query: str, max_paths: int = 20) -> dict:
        """The exposure record of one entity (see docs/ownership.md for the fields)."""
        key = self.find(query)
        return self.exposure_of(key, max_paths=max_paths, query=query)

    def exposure_of(self, key: str, max_paths: int = 20, query: str | None = None) -> dict:
        key = self.graph.canonical(key)
        node = self.graph.nodes[key]
        i = self.index[key]
        listed_self = self.listed_families.get(key, set())
        rules, lookthrough_shares, counted_shares, restricted_families = [], {}, {}, {}
        for family in self.policy.families:
            res = self.result(family)
            share, counted = float(res.lookthrough[i]), float(res.counted[i])
            if share > 0:
                lookthrough_shares[family] = round(share, 6)
            if counted > 0:
                counted_shares[family] = round(counted, 6)
            entry = self._rule_entry(family, key, node, share, counted, bool(res.restricted[i]), family in listed_self)
            if entry is not None:
                rules.append(entry)
                if entry["status"] in ("listed", "applies") and entry.get("effect") not in (None, "none", "review"):
                    restricted_families[family] = entry["effect"]
        paths = upstream_paths(self, key, max_paths=max_paths)
        related = self._related(key)
        owners = owner_shares(self, key, [f for f in lookthrough_shares])
        blocked = restricted_families.get("us-ofac-sdn") == "blocked"
        status = "clear"
        if restricted_families:
            status = "match"
        elif any(r["status"] in ("review", "suspended") for r in rules) or any(
            r["status"] == "below-threshold" and max(r["share"], r["counted_share"]) >= self.policy.review_share for r in rules
        ) or related:
            status = "review"
        warnings = list(self.warnings)
        if key in self.over_owned:
            warnings.append(f"stated holdings in {node.name} add up to {self.over_owned[key]:.1%}; shares were capped at 100%")
        for (owner, owned), edges in self.conflicts.items():
            if owned == key or owner == key:
                values = ", ".join(f"{e.percent:g}% ({e.source})" for e in edges)
                warnings.append(f"conflicting shares for {self._name(owner)} -> {self._name(owned)}: {values}; the latest (else largest) is used")
        out = {
            "entity": {**node.to_dict(), **({"query": query} if query and query != key else {})},
            "as_of": self.as_of,
            "listed_ownership": lookthrough_shares,
            "counted_ownership": counted_shares,
            "blocked": blocked,
            "restricted": restricted_families,
            "status": status,
            "rules": rules,
            "owners": owners,
            "paths": paths,
            "related": related,
            "warnings": warnings,
        }
        if self.resolutions:
            # Names from the ownership files that lead to this entity, and any that need attention.
            on_paths = {key} | {s["owner_id"] for p in paths for s in p}
            out["resolutions"] = [r.to_dict() for r in self.resolutions if r.key in on_paths or r.needs_attention]
        return out

    def _name(self, key: str) -> str:
        node = self.graph.nodes.get(key)
        return node.name if node else key

    def _rule_entry(self, family, key, node, share, counted, is_restricted, listed) -> dict | None:
        rule = self.policy.rule(family)
        if not (listed or share > 0 or counted > 0):
            return None
        label = self.policy.families[family].label
        entry: dict = {"family": family, "share": round(share, 6), "counted_share": round(counted, 6)}
        if rule is not None:
            entry.update(rule.describe())
            del entry["in_force"], entry["suspended"]
            state, window = rule.status(self.as_of)
            entry["in_force"] = state
            if window and window.citation:
                entry["window_citation"] = window.citation
        if listed and key in self.primary:
            entry.update(status="listed", reason=f"{node.name} is itself on the {label}")
            return entry
        if listed:  # a curated subsidiary, affiliate or brand: covered by reach, not by name
            curated = node.curated or {}
            entry.update(
                status="applies" if rule is None or rule.status(self.as_of)[0] == "in-force" else rule.status(self.as_of)[0],
                reason=f"{node.name} is a {curated.get('relation', 'affiliate')} of a covered producer "
                f"({curated.get('source', 'curated data')})",
            )
            return entry
        if rule is None or rule.threshold is None or rule.counting == "none":
            entry.update(status="no-rule", reason=f"{share:.1%} held by parties on the {label}; no ownership rule extends that listing")
            return entry
        threshold = rule.threshold
        state = rule.status(self.as_of)[0]
        if is_restricted:
            how = f"{counted:.1%} held by restricted parties (look-through {share:.1%}) >= {threshold:.0%}"
            if state == "in-force":
                entry.update(status="applies", reason=f"{how}: {rule.title} applies")
            else:
                entry.update(status=state, would_apply=True, reason=f"{how}, but {rule.title} is {state.replace('-', ' ')} on {self.as_of}")
            return entry
        if share >= threshold - EPSILON:
            entry.update(
                status="review",
                reason=f"look-through share {share:.1%} reaches {threshold:.0%}, but no chain of holders each "
                f"{threshold:.0%}-owned by listed parties connects them ({counted:.1%} counted): not restricted by "
                f"{rule.title}; caution advised",
            )
            return entry
        entry.update(status="below-threshold", reason=f"{max(share, counted):.1%} < {threshold:.0%}: {rule.title} does not apply")
        return entry

    def _related(self, key: str, limit: int = 20) -> list[dict]:
        """Non-counted relations (Linked To, issuer, control, curated links) to or from listed parties."""
        out = []
        for edge in self.incoming.get(key, []) + self.outgoing.get(key, []):
            if edge.counted:
                continue
            other = edge.owner if edge.owned == key else edge.owned
            families = self.listed_families.get(other)
            if not families or other not in self.primary:
                continue
            out.append(
                {
                    "relation": edge.relation,
                    "direction": "from" if edge.owned == key else "to",
                    "party": self._name(other),
                    "party_id": other,
                    "families": sorted(families),
                    "percent": edge.percent,
                    "source": edge.source,
                    **({"note": edge.note} if edge.note else {}),
                }
            )
            if len(out) >= limit:
                break
        return out

    # -- whole-graph views ---------------------------------------------------------

    def restricted_nodes(self, family: str, derived_only: bool = True):
        """(key, counted share, look-through share) of every node the family's rule restricts."""
        res = self.result(family)
        mask = res.restricted & ~res.listed if derived_only else res.restricted
        for i in np.flatnonzero(mask):
            yield self.keys[i], float(res.counted[i]), float(res.lookthrough[i])
