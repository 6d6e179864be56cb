"""Explaining an exposure: the paths from listed parties down to an entity, and
how much of the entity each listed owner holds."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from .engine import OwnershipEngine

MAX_DEPTH = 8
#: Edges examined per query, so one very connected party cannot stall a lookup.
BUDGET = 20_000
#: Most holders visited when splitting a share among listed owners.
MAX_ANCESTORS = 50_000
#: Chains holding less than this (0.0001%) are not followed when splitting a share.
MIN_SHARE = 1e-6


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
    while stack and budget > 0 and len(found) < max_paths * 5:
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
            if not engine.relevant[engine.index[owner]]:
                continue  # nothing listed above it
            if len(path) < max_depth:
                stack.append((owner, path, seen | {owner}, value))
    found.sort(key=lambda item: (item[1] is None, -(item[1] or 0), len(item[0])))
    return [[_step(engine, edge) for edge in path] for path, _ in found[:max_paths]]


def owner_shares(engine: "OwnershipEngine", key: str, families: list[str], limit: int = 20) -> list[dict]:
    """How much of ``key`` each listed party holds (look-through), per family.

    Backward from ``key``: ``t(x)`` is the fraction of ``key`` that holding all
    of ``x`` would give; a listed owner ``l`` holds ``sum w(l, y) t(y)``. The
    contributions of a family add up to its look-through share. Only holders
    downstream of a listed party are visited (their look-through share is > 0).
    """
    out: list[dict] = []
    for family in families:
        res = engine.result(family)
        index = engine.index

        def relevant(node: str) -> bool:
            i = index[node]
            return bool(res.listed[i] or res.lookthrough[i] > 0)

        # Ancestors over counted edges, not expanded past listed parties, nor along
        # chains whose product falls below MIN_SHARE (they cannot hold a visible share).
        order, bound, frontier = {key: 0}, {key: 1.0}, [key]
        while frontier and len(order) < MAX_ANCESTORS:
            nxt = []
            for node in frontier:
                if node != key and res.listed[index[node]]:
                    continue
                for edge in engine.incoming.get(node, ()):
                    owner = edge.owner
                    if owner in order or not edge.counted:
                        continue
                    reach = bound[node] * edge.percent / 100.0
                    if reach >= MIN_SHARE and relevant(owner) and engine.counted_edges.get((owner, node)) is edge:
                        order[owner] = len(order)
                        bound[owner] = reach
                        nxt.append(owner)
            frontier = nxt
        size = len(order)
        src, dst, w = [], [], []
        for owner, i in order.items():
            for edge in engine.outgoing.get(owner, ()):
                owned = edge.owned
                j = order.get(owned)
                if j is None or (owned != key and res.listed[index[owned]]):
                    continue
                if engine.counted_edges.get((owner, owned)) is edge:
                    src.append(i)
                    dst.append(j)
                    w.append(edge.percent / 100.0)
        src_a, dst_a, w_a = np.array(src, dtype=np.int64), np.array(dst, dtype=np.int64), np.array(w)
        absorbing = np.array([bool(res.listed[index[k]]) and k != key for k in order])
        t = np.zeros(size)
        t[0] = 1.0
        for _ in range(10_000):
            flow = np.where(absorbing[dst_a], 0.0, t[dst_a]) if dst_a.size else dst_a
            new = np.bincount(src_a, weights=w_a * flow, minlength=size) if src_a.size else np.zeros(size)
            new = np.minimum(new, 1.0)
            new[0] = 1.0
            if np.abs(new - t).max() < 1e-12:
                t = new
                break
            t = new
        direct = {edge.owner: edge.percent for edge in engine.incoming.get(key, ()) if edge.counted}
        for owner, i in order.items():
            if owner == key or not absorbing[i] or t[i] <= 0:
                continue
            node = engine.graph.nodes[owner]
            out.append(
                {
                    "family": family,
                    "owner": node.name,
                    "owner_id": owner,
                    "share": round(float(t[i]), 6),
                    "direct_percent": direct.get(owner),
                    "lists": sorted({l.source for l in node.listings}),
                }
            )
    out.sort(key=lambda o: (-o["share"], o["owner"]))
    return out[:limit]
