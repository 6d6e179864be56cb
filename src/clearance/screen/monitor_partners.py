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
* class 2, longer string 8-12, 2 edits: strings of 6-12, up to two deletions
  (one for 6-7: the shorter string of a pair, it deletes at most one);
* class 3, longer string 13 or more, 3 edits: strings of 10 or more are
  compared directly (:func:`long_pairs`; few portfolio tokens are that long).

Before an edit distance is computed, candidate pairs are thinned with letter
*sketches* (:class:`Sketches`): an edit removes at most one character of a
string, so two strings ``d`` edits apart differ by at most ``d`` in length
and ``a`` has at most ``d`` more occurrences of any set of letters than
``b``; a sketch records which letters a string has once and twice, which
bounds that count from below with two popcounts per pair.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..match.score import token_sim

#: (shortest, longest string length, deletions, shortest common string) per hashed class.
CLASSES = ((4, 7, 1, 3), (6, 12, 2, 6))
#: Strings at least this long pair with 3 edits (class 3): compared directly.
LONG = 10
#: Widest string hashed (longer ones only take part in class 3).
WIDEST = 12

#: A lookup goes through the hash range in 2**_SLICE_BITS slices.
_SLICE_BITS = 6

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


def ranges(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """The positions ``lo[k] .. hi[k] - 1`` of every ``k``, concatenated."""
    counts = hi - lo
    return np.arange(counts.sum()) + np.repeat(lo - np.cumsum(counts) + counts, counts)


def _popcount(x: np.ndarray) -> np.ndarray:
    """Set bits per uint64 (``np.bitwise_count`` from NumPy 2)."""
    if hasattr(np, "bitwise_count"):
        return np.bitwise_count(x)
    return np.unpackbits(np.ascontiguousarray(x).view(np.uint8).reshape(-1, 8), axis=1).sum(axis=1).reshape(x.shape)


#: Letter classes of a sketch: a-z, then any other character (merged, which only lowers the bound).
_CLASSES = 27
_ONCE = np.uint64((1 << _CLASSES) - 1)


@dataclass(frozen=True)
class Sketches:
    """Per string: its length, first character (code point; -1 if empty) and letter sketch
    (bit ``c``: it has letter class ``c``; bit ``32 + c``: it has it twice or more)."""

    lengths: np.ndarray
    first: np.ndarray
    sketch: np.ndarray

    @classmethod
    def of(cls, strings: Sequence[str], lengths: np.ndarray | None = None) -> "Sketches":
        """Of ``strings`` (``lengths``: theirs, if known)."""
        if lengths is None:
            lengths = np.fromiter(map(len, strings), dtype=np.int64, count=len(strings))
        codes = np.frombuffer("".join(strings).encode("utf-32-le"), dtype=np.uint32)
        letter = np.minimum(codes - np.uint32(97), np.uint32(_CLASSES - 1)).astype(np.int64)  # wraps below "a"
        owner = np.repeat(np.arange(len(strings)), lengths)
        counts = np.bincount(owner * 32 + letter, minlength=len(strings) * 32).reshape(-1, 1, 32)  # 32: half a sketch
        bits = np.concatenate([counts >= 1, counts >= 2], axis=1)  # per string: 32 bits once, 32 twice
        starts = np.cumsum(lengths) - lengths
        first = np.where(lengths > 0, np.append(codes, 0).astype(np.int64)[starts], -1)
        return cls(lengths, first, np.packbits(bits.ravel(), bitorder="little").view("<u8").astype(np.uint64))

    def __getitem__(self, at: slice | np.ndarray) -> "Sketches":
        return Sketches(self.lengths[at], self.first[at], self.sketch[at])

    def joined(self, left: np.ndarray, right: np.ndarray) -> "Sketches":
        """Sketches of the concatenations ``strings[left[k]] + strings[right[k]]``."""
        a, b = self.sketch[left], self.sketch[right]
        first = np.where(self.lengths[left] > 0, self.first[left], self.first[right])
        return Sketches(self.lengths[left] + self.lengths[right], first, a | b | ((a & b & _ONCE) << np.uint64(32)))

    def __add__(self, other: "Sketches") -> "Sketches":
        return Sketches(*(np.concatenate([x, y]) for x, y in zip((self.lengths, self.first, self.sketch), (other.lengths, other.first, other.sketch))))


def budget(a_lengths: np.ndarray, b_lengths: np.ndarray) -> np.ndarray:
    """The edits the scorer allows between strings of these lengths (unequal, of 4 or more)."""
    longer = np.maximum(a_lengths, b_lengths)
    return np.where(longer <= CLASSES[0][1], 1, np.where(longer <= WIDEST, 2, 3))


def within(a: Sketches, i: np.ndarray, b: Sketches, j: np.ndarray, edits) -> np.ndarray:
    """Can ``a``'s strings ``i`` be ``edits`` (or fewer) apart from ``b``'s strings ``j``?
    False only where their letters rule it out: an edit removes at most one character
    and adds at most one, so neither string has more than ``edits`` characters the other
    lacks (counted with multiplicity); the sketches count some of those, and the longer
    string has as many such characters as the shorter plus the difference in length."""
    x, y, gap = a.sketch[i], b.sketch[j], a.lengths[i] - b.lengths[j]
    return (_popcount(x & ~y) + np.maximum(-gap, 0) <= edits) & (_popcount(y & ~x) + np.maximum(gap, 0) <= edits)


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
    groups = [(length, np.flatnonzero(lengths == length)) for length in range(shortest, widest + 1)]
    # as the shorter string of a pair a string deletes fewer characters: 6-7 letters, one
    deletions = {length: min(d for low, high, d, _ in CLASSES if low <= length <= high) for length in range(shortest, widest + 1)}
    widths = {length: [1, length, length * (length - 1) // 2][: deletions[length] + 1] for length in deletions}
    total = sum(len(ids) * sum(widths[length]) for length, ids in groups)
    hashes, owners = np.empty(total, dtype=np.uint64), np.empty(total, dtype=np.int64)  # filled in place: they are large
    inv, inv2 = np.uint64(_BASE_INV), np.uint64(_BASE_INV * _BASE_INV % 2**64)
    at = 0
    with np.errstate(over="ignore"):
        for length, ids in groups:
            if not len(ids):
                continue
            codes = _codes([strings[i] for i in ids.tolist()], length).astype(np.uint64)
            prefix = np.zeros((len(ids), length + 1), dtype=np.uint64)
            np.cumsum(codes * _POWERS[:length], axis=1, out=prefix[:, 1:])
            whole = prefix[:, length : length + 1]
            d = np.arange(length)
            for k, width in enumerate(widths[length]):
                part = hashes[at : at + len(ids) * width].reshape(len(ids), width)
                if k == 0:
                    part[:] = whole
                elif k == 1:
                    np.subtract(whole, prefix[:, d + 1], out=part)
                    part *= inv
                    part += prefix[:, d]
                else:
                    d1, d2 = np.triu_indices(length, 1)
                    np.subtract(prefix[:, d2], prefix[:, d1 + 1], out=part)
                    part *= inv
                    part += prefix[:, d1]
                    part += (whole - prefix[:, d2 + 1]) * inv2
                part += np.uint64(length - k) * _LENGTH
                owners[at : at + len(ids) * width].reshape(len(ids), width)[:] = ids[:, None]
                at += len(ids) * width
    return hashes, owners


def string_hashes(strings: Sequence[str]) -> np.ndarray:
    """The polynomial hash (mod 2**64) of each whole string, of any length: how strings that
    deletion variants do not cover (fewer than 4 or more than 12 characters) are found equal."""
    lengths = np.fromiter(map(len, strings), dtype=np.int64, count=len(strings))
    codes = np.frombuffer("".join(strings).encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    starts = np.cumsum(lengths) - lengths
    longest = int(lengths.max()) if len(lengths) else 0
    powers = np.array([pow(_BASE, i, 2**64) for i in range(longest + 1)], dtype=np.uint64)
    sums = np.zeros(len(strings), dtype=np.uint64)
    some = lengths > 0
    with np.errstate(over="ignore"):
        if some.any():
            terms = codes * powers[np.arange(len(codes)) - np.repeat(starts, lengths)]
            sums[some] = np.add.reduceat(terms, starts[some])
        return sums + lengths.astype(np.uint64) * _LENGTH


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

    def _find(self, h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Where hashes ``h`` are among the keys, and which of ``h`` are there.

        Searching millions of keys is slow for random hashes: they are sorted
        (by their bits above the few holding their position, which sorting
        plain numbers does faster than ``argsort``) and looked up one slice of
        the hash range at a time, whose keys fit in a CPU cache."""
        low = np.uint64((1 << len(h).bit_length()) - 1)
        order = h & ~low  # (in place: these arrays are large)
        order |= np.arange(len(h), dtype=np.uint64)
        order.sort()
        order &= low
        order = order.view(np.int64)
        h = h[order]
        edges = np.arange(1 << _SLICE_BITS, dtype=np.uint64) << np.uint64(64 - _SLICE_BITS)
        key_at = np.append(np.searchsorted(self.keys, edges), len(self.keys)).tolist()
        h_at = np.append(np.searchsorted(h, edges), len(h)).tolist()  # h is sorted by its top bits
        found = [(np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64))]
        for k in range(len(edges)):
            keys, needles = self.keys[key_at[k] : key_at[k + 1]], h[h_at[k] : h_at[k + 1]]
            if not len(keys) or not len(needles):
                continue
            at = np.searchsorted(keys, needles)
            hit = np.flatnonzero(keys.take(at, mode="clip") == needles)
            found.append((key_at[k] + at[hit], h_at[k] + hit))
        at, hit = (np.concatenate(v) for v in zip(*found))
        return at, order[hit]

    def matches(self, other: Sequence[str]) -> np.ndarray:
        """Candidate (other index, own index) pairs: strings sharing a deletion variant (rows
        may repeat: two strings may share several)."""
        h, o = variant_hashes(other)
        if not len(h) or not len(self.keys):
            return np.empty((0, 2), dtype=np.int64)
        at, order = self._find(h)
        o = o[order]
        lo, hi = self.bounds[at], self.bounds[at + 1]
        return np.stack([np.repeat(o, hi - lo), self.owners[ranges(lo, hi)]], axis=1)


def partners(a: str, b: str) -> bool:
    """Does the scorer pair these two tokens?"""
    return a == b or token_sim(a, b) > 0


def hashed_pairs(table: VariantTable, own: Sequence[str], other: Sequence[str]) -> list[tuple[int, int]]:
    """(other index, own index) of the pairs in classes 1 and 2 that the scorer pairs."""
    return [(i, j) for i, j in sorted(set(map(tuple, table.matches(other).tolist()))) if partners(other[i], own[j])]


def long_pairs(
    left: Sequence[str],
    right: Sequence[str],
    same_first: bool = False,
    right_long: np.ndarray | Sequence[int] | None = None,
    sketches: tuple[Sketches, Sketches] | None = None,
) -> list[tuple[int, int]]:
    """(left index, right index) of the scorer's pairs among strings of ``LONG`` or more (class 3).

    With ``same_first`` only strings with the same first letter are compared
    (for compounds, of which there are many); ``right_long``: the indexes of
    the long strings of ``right``, if known; ``sketches``: of ``left`` and
    ``right``, if known.  Only pairs whose longer string is hashed by
    neither class 1 nor 2 are looked at, among them only those of lengths 3
    or fewer apart whose sketches allow 3 edits (a pair of the scorer's is
    both)."""
    sa, sb = sketches if sketches is not None else (Sketches.of(left), Sketches.of(right))
    a = np.nonzero(sa.lengths >= LONG)[0]
    b = np.asarray(right_long if right_long is not None else np.nonzero(sb.lengths >= LONG)[0], dtype=np.int64)
    if not len(a) or not len(b):
        return []
    # strings keyed by (first letter if same_first, length): the right strings a left one is
    # compared with are a slice of them sorted, the same for left strings of the same key
    width = int(max(sa.lengths[a].max(), sb.lengths[b].max())) + 8
    key_a, key_b = (sa.lengths[a], sb.lengths[b]) if not same_first else (sa.first[a] * width + sa.lengths[a], sb.first[b] * width + sb.lengths[b])
    order_a, order_b = np.argsort(key_a), np.argsort(key_b)
    a, key_a, b, key_b = a[order_a], key_a[order_a], b[order_b], key_b[order_b]
    la = sa.lengths[a]
    shortest = np.maximum(la - 3, np.where(la > WIDEST, LONG, WIDEST + 1))  # the longer has 13 letters or more
    lo = np.searchsorted(key_b, key_a - la + shortest, "left")
    hi = np.searchsorted(key_b, key_a + 3, "right")
    right_sketch = sb.sketch[b]
    found = [(np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64))]
    for s, e in zip(*_runs(key_a)):  # first a loose test (letters in one and not the other), in blocks
        if hi[s] > lo[s]:
            loose = _popcount(sa.sketch[a[s:e], None] ^ right_sketch[None, lo[s] : hi[s]]) <= 6
            x, y = np.divmod(np.flatnonzero(loose), hi[s] - lo[s])
            found.append((a[s + x], b[lo[s] + y]))
    i, j = (np.concatenate(v) for v in zip(*found))
    keep = within(sa, i, sb, j, 3)
    i, j = near(left, right, i[keep], j[keep], 3)
    return [(x, y) for x, y in zip(i.tolist(), j.tolist()) if partners(left[x], right[y])]


def near(left: Sequence[str], right: Sequence[str], i: np.ndarray, j: np.ndarray, edits) -> tuple[np.ndarray, np.ndarray]:
    """The pairs ``(i, j)`` whose strings are at most ``edits`` apart (optimal string alignment,
    as ``token_sim`` measures it), computed in one call."""
    if not len(i):
        return i, j
    from rapidfuzz import process
    from rapidfuzz.distance import OSA

    cutoff = int(np.max(edits))
    pairs = list(map(left.__getitem__, i.tolist())), list(map(right.__getitem__, j.tolist()))
    distance = process.cpdist(*pairs, scorer=OSA.distance, score_cutoff=cutoff, dtype=np.int32)
    keep = distance <= edits
    return i[keep], j[keep]


def _runs(values: np.ndarray) -> tuple[list[int], list[int]]:
    """Starts and ends of the runs of equal values of a sorted array."""
    starts = np.nonzero(np.r_[True, values[1:] != values[:-1]])[0]
    return starts.tolist(), np.append(starts[1:], len(values)).tolist()


__all__ = ["CLASSES", "LONG", "WIDEST", "Sketches", "VariantTable", "budget", "hashed_pairs", "long_pairs", "near", "partners", "ranges", "sorted_unique", "string_hashes", "variant_hashes", "within"]
