"""Aggregate shares over the whole graph at once (numpy, sparse, iterative).

Two measures per family of listed parties, for every node:

``lookthrough`` - the share of a node held by listed parties directly and
    indirectly: the sum over ownership paths from a listed party of the
    product of the percentages along the path, added up across distinct
    listed owners. A listed party is where a path starts (its own owners are
    not looked through, so nothing is counted twice). With cross-holdings
    (cycles) this is the fixed point ``s = A^T (listed + (1 - listed) * s)``,
    i.e. the sum over all walks (Leontief / "integrated ownership"); the
    shares of all ultimate owners of an entity then add up to 100%. Capped at 1.

``restricted`` / ``counted`` - the rule's own counting (OFAC FAQ 401): a
    holding counts only if its holder is restricted (listed, or itself owned
    ``threshold`` or more in the aggregate by restricted holders), and then it
    counts in full. The restricted set is the least fixed point from the
    listed parties, so cycles terminate: every round restricts at least one
    more node or stops.

Both run in O(rounds x edges) with vectorised numpy steps; a round is one
level of indirection (for cycles, ``lookthrough`` converges geometrically).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Shares are compared with this slack, so 30% + 20% counts as 50%.
EPSILON = 1e-9


@dataclass(slots=True)
class Arrays:
    """A compiled ownership graph: ``n`` nodes, counted edges ``src -> dst`` with weight ``w`` (0-1)."""

    n: int
    src: np.ndarray
    dst: np.ndarray
    w: np.ndarray
    _indptr: np.ndarray | None = None
    _order: np.ndarray | None = None

    @classmethod
    def build(cls, n: int, src, dst, w) -> "Arrays":
        src = np.asarray(src, dtype=np.int64)
        dst = np.asarray(dst, dtype=np.int64)
        w = np.asarray(w, dtype=np.float64)
        if not (len(src) == len(dst) == len(w)):
            raise ValueError("src, dst and w must have the same length")
        return cls(n, src, dst, w)

    def out_edges(self, nodes: np.ndarray) -> np.ndarray:
        """Indices of the edges leaving ``nodes`` (CSR by source, built once)."""
        if self._indptr is None:
            self._order = np.argsort(self.src, kind="stable")
            counts = np.bincount(self.src, minlength=self.n)
            self._indptr = np.concatenate(([0], np.cumsum(counts)))
        starts = self._indptr[nodes]
        lengths = self._indptr[nodes + 1] - starts
        total = int(lengths.sum())
        if total == 0:
            return np.empty(0, dtype=np.int64)
        # Concatenated ranges [start, start + length) without a Python loop.
        offsets = np.repeat(starts - np.concatenate(([0], np.cumsum(lengths)[:-1])), lengths)
        return self._order[np.arange(total) + offsets]


def reachable(arrays: Arrays, seeds: np.ndarray) -> np.ndarray:
    """Boolean mask of the nodes reachable from ``seeds`` (seeds included) over counted edges."""
    seen = np.zeros(arrays.n, dtype=bool)
    seen[seeds] = True
    frontier = np.flatnonzero(seen)
    while frontier.size:
        targets = arrays.dst[arrays.out_edges(frontier)]
        targets = np.unique(targets[~seen[targets]])
        seen[targets] = True
        frontier = targets
    return seen


def restricted(arrays: Arrays, listed: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray, int]:
    """(restricted mask, counted share, rounds) - the rule's least fixed point."""
    restricted = listed.astype(bool).copy()
    counted = np.zeros(arrays.n, dtype=np.float64)
    frontier = np.flatnonzero(restricted)
    rounds = 0
    while frontier.size:
        rounds += 1
        edges = arrays.out_edges(frontier)
        if edges.size == 0:
            break
        targets = arrays.dst[edges]
        np.add.at(counted, targets, arrays.w[edges])
        touched = np.unique(targets)
        newly = touched[(~restricted[touched]) & (counted[touched] >= threshold - EPSILON)]
        restricted[newly] = True
        frontier = newly
    return restricted, np.minimum(counted, 1.0), rounds


def lookthrough(
    arrays: Arrays, listed: np.ndarray, tol: float = 1e-12, max_rounds: int = 100_000
) -> tuple[np.ndarray, int]:
    """(look-through share held by listed parties, rounds) for every node."""
    listed = listed.astype(bool)
    share = np.zeros(arrays.n, dtype=np.float64)
    if not listed.any() or arrays.src.size == 0:
        return share, 0
    # Only the part of the graph downstream of a listed party can hold a share.
    live = reachable(arrays, np.flatnonzero(listed))
    keep = live[arrays.src]
    src, dst, w = arrays.src[keep], arrays.dst[keep], arrays.w[keep]
    nodes = np.flatnonzero(live)
    local = np.full(arrays.n, -1, dtype=np.int64)
    local[nodes] = np.arange(nodes.size)
    src, dst = local[src], local[dst]
    if src.size == 0:
        return share, 0
    is_listed = listed[nodes]
    value = np.zeros(nodes.size, dtype=np.float64)
    source_value = np.where(is_listed, 1.0, 0.0)
    rounds = 0
    while rounds < max_rounds:
        rounds += 1
        held = np.bincount(dst, weights=w * source_value[src], minlength=nodes.size).astype(np.float64, copy=False)
        np.minimum(held, 1.0, out=held)
        change = np.abs(held - value).max() if held.size else 0.0
        value = held
        source_value = np.where(is_listed, 1.0, value)
        if change <= tol:
            break
    share[nodes] = value
    return share, rounds
