"""Explaining an exposure: the paths from listed parties down to an entity, and
how much of the entity each listed owner holds."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from .engine import OwnershipEngine

MAX_DEPTH = 8
#: Edges examined per query, so one very connected party cannot stall a lookup.
BUDGET = 50_000


def _step(engine: "OwnershipEngine", edge) -> dict:
    owner = edge.owner
    i = engine.index[owner]
    restricted = sorted(
        family
        for family in engine.policy.families
        if family not in engine.listed_families.get(owner, ()) and engine.result(family).restricted[i]
    )
    step = {
        "owner": engine._name(owner),
        "owner_id": owner,
        "owned": engine._name(edge.owned),
        "owned_id": edge.owned,
        "percent": edge.percent,
        "relation": edge.relation,
        "counted": edge.counted,
        "source": edge.source,
        "owner_listed": sorted(engine.listed_families.get(owner, ())),
        "owner_restricted": restricted,
    }
    if edge.note:
        step["note"] = edge.note
    return step


def upstream_paths(engine: "OwnershipEngine", key: str, max_paths: int = 20, max_depth: int = MAX_DEPTH) -> list[list[dict]]:
    """Simple paths from a listed party down to ``key``, listed party first.

    A path ends at the first listed party met going up (a list entry or a
    producer; curated subsidiaries are passed through). Paths whose every step
    is a counted holding come first, largest product first.
    """
    found: list[tuple[list, float | None]] = []
    budget = BUDGET
    stack: list[tuple[str, list, frozenset, float | None]] = [(key, [], frozenset({key}), 1.0)]
    while stack and budget > 0 and len(found) < max_paths * 20:
        node, trail, seen, product = stack.pop()
        for edge in engine.incoming.get(node, ()):
            budget -= 1
            if budget <= 0:
                break
            owner = edge.owner
            if owner in seen:
                continue
            value = product * edge.percent / 100.0 if (product is not None and edge.counted) else None
            path = [edge, *trail]
            if owner in engine.primary:
                found.append((path, value))
                continue
            if len(path) < max_depth:
                stack.append((owner, path, seen | {owner}, value))
    found.sort(key=lambda item: (item[1] is None, -(item[1] or 0), len(item[0])))
    return [[_step(engine, edge) for edge in path] for path, _ in found[:max_paths]]


def owner_shares(engine: "OwnershipEngine", key: str, families: list[str], limit: int = 20) -> list[dict]:
    """How much of ``key`` each listed party holds (look-through), per family.

    Backward from ``key``: ``t(x)`` is the fraction of ``key`` that holding all
    of ``x`` would give; a listed owner ``l`` holds ``sum w(l, y) t(y)``. The
    contributions of a family add up to its look-through share.
    """
    out: list[dict] = []
    for family in families:
        listed = {k for k, fams in engine.listed_families.items() if family in fams}
        # Ancestors over counted edges, not expanded past listed parties.
        ancestors, frontier = {key}, [key]
        while frontier:
            nxt = []
            for node in frontier:
                if node in listed and node != key:
                    continue
                for edge in engine.incoming.get(node, ()):
                    if edge.counted and (edge.owner, edge.owned) in engine.counted_edges and edge.owner not in ancestors:
                        ancestors.add(edge.owner)
                        nxt.append(edge.owner)
            frontier = nxt
        held: dict[str, list[tuple[str, float]]] = {a: [] for a in ancestors}
        for owner in ancestors:
            for edge in engine.outgoing.get(owner, ()):
                owned = edge.owned
                if owned in ancestors and (owned not in listed or owned == key) and engine.counted_edges.get((owner, owned)) is edge:
                    held[owner].append((owned, edge.percent / 100.0))
        t = {a: 0.0 for a in ancestors}
        t[key] = 1.0
        for _ in range(1000):
            change = 0.0
            for node in ancestors:
                if node == key or node in listed:
                    continue
                value = min(1.0, sum(w * t[y] for y, w in held[node]))
                change = max(change, abs(value - t[node]))
                t[node] = value
            if change < 1e-12:
                break
        direct = {edge.owner: edge.percent for edge in engine.incoming.get(key, ()) if edge.counted}
        for owner in sorted(listed & ancestors - {key}):
            share = min(1.0, sum(w * t[y] for y, w in held[owner]))
            if share <= 0:
                continue
            node = engine.graph.nodes[owner]
            out.append(
                {
                    "family": family,
                    "owner": node.name,
                    "owner_id": owner,
                    "share": round(share, 6),
                    "direct_percent": direct.get(owner),
                    "lists": sorted({l.source for l in node.listings}),
                }
            )
    out.sort(key=lambda o: (-o["share"], o["owner"]))
    return out[:limit]
