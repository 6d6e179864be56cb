"""Which strings of two sets the scorer could pair: equal, or a typo apart.

The scorer pairs two tokens when they are equal or when ``token_sim`` is
above 0: both at least 4 letters, at most 1 edit apart up to 7 letters, 2 up
to 12, 3 beyond (optimal string alignment distance, on the longer one's
length).  A monitor run asks this of thousands of portfolio tokens against
thousands of list tokens; comparing every pair costs about half a second, so
the search uses symmetric deletion neighbourhoods (the SymSpell idea): two
strings at most ``k`` edits apart share a string made of each by deleting at
most ``k`` characters.  The neighbourhoods are hashed in bulk with NumPy, one
side stored with the portfolio (:class:`VariantTable`, built at ``monitor
add``), the other computed per run; pairs sharing a hash are then checked
with ``token_sim`` itself, so hash collisions cost time, never a wrong pair.

Pairs are searched by *class*, the edit budget of the longer string:

* class 1, longer string 4-7 letters, 1 edit: strings of 4-7, one deletion;
* class 2, longer string 8-12, 2 edits: strings of 6-12, up to two deletions,
  keeping only common strings of at least 6 (each side deletes at most 2);
* class 3, longer string 13 or more, 3 edits: strings of 10 or more are
  compared directly (:func:`long_pairs`; few portfolio tokens are that long).
"""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np

from ..match.score import token_sim

#: (shortest, longest string length, deletions, shortest common string) per hashed class.
CLASSES = ((4, 7, 1, 3), (6, 12, 2, 6))
#: Strings at least this long pair with 3 edits (class 3): compared directly.
LONG = 10
#: Widest string hashed (longer ones only take part in class 3).
WIDEST = 12

#: Polynomial hash base (odd, so it has an inverse modulo 2**64) and that inverse.
_BASE = 0x100000001B3
_BASE_INV = pow(_BASE, -1, 2**64)
_POWERS = np.array([pow(_BASE, i, 2**64) for i in range(WIDEST + 1)], dtype=np.uint64)
_LENGTH = np.uint64(0x9E3779B97F4A7C15)


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """The distinct values, sorted (``np.unique`` without its hashing path, which NumPy 2.4
    takes for integers and which is tens of times slower than sorting at these sizes)."""
    values = np.sort(np.asarray(values), kind="stable")
    if len(values) < 2:
        return values
    keep = np.empty(len(values), dtype=bool)
    keep[0] = True
    np.not_equal(values[1:], values[:-1], out=keep[1:])
    return values[keep]


def _codes(strings: Sequence[str], length: int) -> np.ndarray:
    """(n, length) code points of strings that all have ``length`` characters."""
    return np.frombuffer("".join(strings).encode("utf-32-le"), dtype=np.uint32).reshape(len(strings), length)


def variant_hashes(strings: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """(hash, owner) of every deletion variant of the hashed classes' strings: one deletion
    for strings of 4-7 characters (class 1), up to two for 8-12 (class 2, whose strings of
    6-7 need only one: the string common to a pair has at least 6).

    A variant's hash is the polynomial hash of its characters (mod 2**64);
    deleting position ``d`` shifts the characters after it down one power,
    which prefix sums and the base's inverse give for all variants at once."""
    shortest, widest = CLASSES[0][0], CLASSES[-1][1]
    lengths = np.fromiter(map(len, strings), dtype=np.int64, count=len(strings))
    hashes, owners = [], []
    inv, inv2 = np.uint64(_BASE_INV), np.uint64(_BASE_INV * _BASE_INV % 2**64)
    with np.errstate(over="ignore"):
        for length in range(shortest, widest + 1):
            ids = np.nonzero(lengths == length)[0]
            if not len(ids):
                continue
            deletions = max(d for low, high, d, _ in CLASSES if low <= length <= high)
            codes = _codes([strings[i] for i in ids.tolist()], length).astype(np.uint64)
            prefix = np.zeros((len(ids), length + 1), dtype=np.uint64)
            np.cumsum(codes * _POWERS[:length], axis=1, out=prefix[:, 1:])
            whole = prefix[:, length]
            parts = [whole[:, None]]
            d = np.arange(length)
            parts.append(prefix[:, d] + (whole[:, None] - prefix[:, d + 1]) * inv)
            if deletions >= 2:
                d1, d2 = np.triu_indices(length, 1)
                parts.append(prefix[:, d1] + (prefix[:, d2] - prefix[:, d1 + 1]) * inv + (whole[:, None] - prefix[:, d2 + 1]) * inv2)
            for k, part in enumerate(parts):
                hashes.append((part + np.uint64(length - k) * _LENGTH).ravel())
                owners.append(np.repeat(ids, part.shape[1]))
    if not hashes:
        return np.empty(0, dtype=np.uint64), np.empty(0, dtype=np.int64)
    return np.concatenate(hashes), np.concatenate(owners)


class VariantTable:
    """The deletion neighbourhoods of one set of strings: the distinct variant hashes
    (sorted) and, for each, the strings having it."""

    def __init__(self, strings: Sequence[str]):
        self.size = len(strings)
        h, o = variant_hashes(strings)
        order = np.argsort(h, kind="stable")
        h, o = h[order], o[order]
        first = np.ones(len(h), dtype=bool)
        first[1:] = h[1:] != h[:-1]
        starts = np.nonzero(first)[0]
        self.keys = h[starts]
        self.bounds = np.append(starts, len(h)).astype(np.int64)
        self.owners = o
        self.lengths = np.fromiter(map(len, strings), dtype=np.int64, count=len(strings))
        self.long = np.nonzero(self.lengths >= LONG)[0]  # strings taking part in class 3

    def matches(self, other: Sequence[str]) -> np.ndarray:
        """Candidate (other index, own index) pairs: strings sharing a deletion variant (unique rows)."""
        h, o = variant_hashes(other)
        if not len(h) or not len(self.keys):
            return np.empty((0, 2), dtype=np.int64)
        order = np.argsort(h)
        h, o = h[order], o[order]
        at = np.searchsorted(self.keys, h)
        at[at == len(self.keys)] = 0
        hit = self.keys[at] == h
        at, o = at[hit], o[hit]
        lo = self.bounds[at]
        counts = self.bounds[at + 1] - lo
        starts = np.repeat(lo - np.cumsum(counts) + counts, counts)
        positions = np.arange(counts.sum()) + starts
        width = np.int64(self.size or 1)
        codes = sorted_unique(np.repeat(o, counts) * width + self.owners[positions])
        return np.stack([codes // width, codes % width], axis=1)


def partners(a: str, b: str) -> bool:
    """Does the scorer pair these two tokens?"""
    return a == b or token_sim(a, b) > 0


def hashed_pairs(table: VariantTable, own: Sequence[str], other: Sequence[str]) -> list[tuple[int, int]]:
    """(other index, own index) of the pairs in classes 1 and 2 that the scorer pairs."""
    return [(i, j) for i, j in table.matches(other).tolist() if partners(other[i], own[j])]


def long_pairs(left: Sequence[str], right: Sequence[str], same_first: bool = False, right_long: Iterable[int] | None = None) -> list[tuple[int, int]]:
    """(left index, right index) of the scorer's pairs among strings of ``LONG`` or more (class 3).

    With ``same_first`` only strings with the same first letter are compared
    (for compounds, of which there are many); ``right_long``: the indexes of
    the long strings of ``right``, if known."""
    a = [(i, s) for i, s in enumerate(left) if len(s) >= LONG]
    b = [(j, right[j]) for j in right_long] if right_long is not None else [(j, s) for j, s in enumerate(right) if len(s) >= LONG]
    if not a or not b:
        return []
    from rapidfuzz import process
    from rapidfuzz.distance import OSA

    # pairs whose longer string has at most 12 letters are hashed (classes 1 and 2)
    widest = CLASSES[-1][1]
    halves = [([x for x in a if len(x[1]) > widest], b), ([x for x in a if len(x[1]) <= widest], [y for y in b if len(y[1]) > widest])]
    groups: list[tuple[list, list]] = []
    for aa, bb in halves:
        if not aa or not bb:
            continue
        if same_first:
            by_first: dict[str, list] = {}
            for j, s in bb:
                by_first.setdefault(s[0], []).append((j, s))
            firsts: dict[str, list] = {}
            for i, s in aa:
                firsts.setdefault(s[0], []).append((i, s))
            groups += [(firsts[c], by_first[c]) for c in firsts if c in by_first]
        else:
            groups.append((aa, bb))
    out = []
    for aa, bb in groups:
        matrix = process.cdist([s for _, s in aa], [s for _, s in bb], scorer=OSA.distance, score_cutoff=3, dtype=np.int32)
        for x, y in zip(*np.nonzero(matrix <= 3)):
            i, s = aa[x]
            j, t = bb[y]
            if partners(s, t):
                out.append((i, j))
    return out


__all__ = ["CLASSES", "LONG", "VariantTable", "hashed_pairs", "long_pairs", "partners", "sorted_unique", "variant_hashes"]
