"""The fast partner search of a monitor run finds exactly the pairs its definition names.

:class:`~clearance.screen.monitor_links.Links` looks for typo partners with hashed
deletion variants, letter sketches and one edit-distance call per batch; these tests
compare what it finds with the definition, pair by pair, on random strings made to be
near each other (typos, compounds, long words, repeated and non-ASCII letters).
"""

from __future__ import annotations

import json
import random

import numpy as np

LETTERS = "abcdeilnorstuyzéß"


def _typo(rng: random.Random, word: str, edits: int) -> str:
    chars = list(word)
    for _ in range(edits):
        i = rng.randrange(len(chars)) if chars else 0
        op = rng.randrange(4)
        if op == 0 and chars:
            chars[i] = rng.choice(LETTERS)
        elif op == 1:
            chars.insert(i, rng.choice(LETTERS))
        elif op == 2 and len(chars) > 1:
            del chars[i]
        elif i + 1 < len(chars):
            chars[i], chars[i + 1] = chars[i + 1], chars[i]
    return "".join(chars)


def _word(rng: random.Random, shortest: int = 1, longest: int = 18) -> str:
    return "".join(rng.choice(LETTERS[: rng.choice((4, len(LETTERS)))]) for _ in range(rng.randint(shortest, longest)))


def test_sketches_never_rule_out_a_pair_within_reach():
    from rapidfuzz.distance import OSA

    from clearance.screen.monitor_partners import Sketches, within

    rng = random.Random(1)
    left = [_word(rng, 0) for _ in range(3000)]
    right = [_typo(rng, w, rng.randint(0, 4)) for w in left]
    a, b = Sketches.of(left), Sketches.of(right)
    at = np.arange(len(left))
    distance = np.array([OSA.distance(x, y) for x, y in zip(left, right)])
    assert within(a, at, b, at, distance).all()
    assert not within(a, at, b, at, np.maximum(distance - 1, 0))[distance > 0].all()  # it rules some out
    # a compound's sketch from its parts' is the sketch of the compound
    i, j = np.array([rng.randrange(len(left)) for _ in range(500)]), np.array([rng.randrange(len(left)) for _ in range(500)])
    joined, direct = a.joined(i, j), Sketches.of([left[x] + left[y] for x, y in zip(i, j)])
    for field in ("lengths", "first", "sketch"):
        assert np.array_equal(getattr(joined, field), getattr(direct, field))


def test_long_pairs_are_the_class_3_pairs():
    from clearance.screen.monitor_partners import long_pairs, partners

    rng = random.Random(2)
    own = sorted({_word(rng, 8, 20) for _ in range(700)})
    other = [_typo(rng, rng.choice(own), rng.randint(0, 3)) for _ in range(500)] + [_word(rng, 8, 20) for _ in range(100)]
    for same_first in (False, True):
        expected = {
            (i, j)
            for i, a in enumerate(other)
            for j, b in enumerate(own)
            if max(len(a), len(b)) > 12 and min(len(a), len(b)) >= 10 and (a[0] == b[0] or not same_first) and partners(a, b)
        }
        assert set(long_pairs(other, own, same_first=same_first)) == expected
        assert len(expected) > 100


class _Names:
    """The part of :class:`~clearance.screen.monitor_changes.ChangedNames` that links read."""

    def __init__(self, tokens: list[tuple[str, ...]]):
        self.tokens, self.ids = tokens, list(range(len(tokens)))
        self.schema = ["Company"] * len(tokens)

    def __len__(self) -> int:
        return len(self.tokens)


class _Index:
    def __init__(self, tokens: list[tuple[str, ...]]):
        self.name_strs = [tuple(ts) for ts in tokens]
        self.name_wts = [tuple(1.0 + len(t) for t in ts) for ts in tokens]
        self.name_weak = [tuple(len(t) < 3 for t in ts) for ts in tokens]


def test_links_pair_what_the_scorer_pairs():
    """Every (listed string, portfolio string) pair with its similarity: equal or a typo apart,
    never compound with compound, and a listed token with a portfolio compound of 13 letters
    or more only when they start alike."""
    from clearance.match.score import token_sim
    from clearance.screen.monitor_book import Book
    from clearance.screen.monitor_links import Links
    from clearance.screen.monitor_partners import partners

    rng = random.Random(3)
    base = [_word(rng, 2, 11) for _ in range(250)]
    names = [tuple(rng.choice(base) for _ in range(rng.randint(1, 4))) for _ in range(120)]
    rows = []
    for k in range(300):
        words = [_typo(rng, w, rng.choice((0, 0, 1, 2, 3))) for w in rng.choice(names)]
        if len(words) > 1 and rng.random() < 0.3:
            at = rng.randrange(len(words) - 1)
            words[at : at + 2] = [words[at] + words[at + 1]]
        rows.append((k, f"{k}:x", json.dumps({"name": " ".join(words), "schema": None})))
    book = Book.build("test", rows)
    tokens = [tuple(t for t in ts if t) for ts in names]
    links = Links(book, _Index(tokens), _Names(tokens))
    flat = [t for ts in tokens for t in ts]
    words = list(dict.fromkeys(flat))
    compounds = [c for c in dict.fromkeys(a + b for ts in tokens for a, b in zip(ts, ts[1:])) if c not in set(words)]
    listed, own, first_join = words + compounds, book.strings, len(book.vocab)
    expected = {}
    for i, a in enumerate(listed):
        for j, b in enumerate(own):
            compound, join = i >= len(words), j >= first_join
            if compound and join or not partners(a, b):
                continue
            if join and max(len(a), len(b)) > 12 and a[0] != b[0] and a != b:
                continue
            expected[(a, b)] = token_sim(a, b)
    word_of = np.array([listed.index(t) for t in flat])
    at = np.array([k for k, (ts, s) in enumerate((ts, s) for ts in tokens for s in range(len(ts))) if s + 1 < len(ts)], dtype=np.int64)
    compound_of = np.array([listed.index(flat[k] + flat[k + 1]) for k in at], dtype=np.int64)
    pi, pj, sims = links._listed_pairs(listed, len(words), word_of, at, compound_of)
    assert {(listed[i], own[j]): s for i, j, s in zip(pi.tolist(), pj.tolist(), sims.tolist())} == expected
    assert len(expected) > 300 and any(s < 1 for s in expected.values())
