"""Which portfolio strings pair with which changed names (for :mod:`.monitor_filter`).

A run's changed names (:class:`~.monitor_changes.ChangedNames`) are read as
*listed strings*: their tokens, and their compounds (two adjacent tokens
written as one).  The book's strings are its tokens and compounds.  A listed
and a book string pair as the scorer pairs tokens (equal, or a typo apart:
:mod:`.monitor_partners`), except compound with compound, which the scorer
never tries.  :class:`Links` holds the result at (book string, changed name)
level: sorted keys ``string * len(names) + name`` with the best similarity
of the pairing and the most strong list weight (times similarity) it can
match; and, for initials, per name the letters of its one-letter tokens and
of its tokens' first letters.
"""

from __future__ import annotations

from functools import cached_property
from itertools import chain

import numpy as np

from ..match import score as _score
from ..match.index import MatchIndex
from ..match.score import schema_compatible, token_sim
from .monitor_book import Book
from .monitor_changes import ChangedNames
from .monitor_partners import CLASSES, WIDEST, Sketches, budget, long_pairs, near, ranges, sorted_unique, string_hashes, within

A_ORG = getattr(_score, "A_ORG", 1.0)
A_DISTINCT = getattr(_score, "A_DISTINCT", 1.0)
DISTINCT_FROM = getattr(_score, "DISTINCT_FROM", 0.0)
DISTINCT_FULL = getattr(_score, "DISTINCT_FULL", DISTINCT_FROM + 1.0)


def _person(row_schema: str | None, entity_schema: str) -> bool:
    """Does the scorer treat the pair as people (initials count)?"""
    return entity_schema == "Person" or row_schema == "Person"


_BITS = {c: i for i, c in enumerate("abcdefghijklmnopqrstuvwxyz0123456789")}
_BIT_OF = np.array([_BITS.get(chr(c), 36) for c in range(128)], dtype=np.int64)


def _bits(first: np.ndarray) -> np.ndarray:
    """A first character's bit in a name's letter masks, from its code point (-1: an empty
    string, no bit); anything but a-z and 0-9 shares bit 36: a superset."""
    at = np.where((first >= 0) & (first < 128), _BIT_OF[np.clip(first, 0, 127)], 36)
    return np.where(first >= 0, np.left_shift(np.int64(1), at), 0)


def name_sides(index: MatchIndex, ids: list[int]) -> tuple[list, list, list]:
    """Per name: the list side the scorer takes (tokens, weights, weak flags)."""
    return [index.name_strs[i] for i in ids], [index.name_wts[i] for i in ids], [index.name_weak[i] for i in ids]


class Links:
    """Which of a book's strings (tokens, then compounds) pair with which changed names,
    and what a pairing can bring: built once per run, for all rows."""

    def __init__(self, book: Book, index: MatchIndex, names: ChangedNames):
        self.book, self.index, self.names = book, index, names
        self._compatible: dict[tuple[str | None, str], bool] = {}
        self._link()
        self._initials()

    @cached_property
    def _name_sides(self) -> tuple[list, list, list]:
        return name_sides(self.index, self.names.ids)

    def _link(self) -> None:
        """The partner relation at (portfolio string, changed name) level, as sorted keys
        ``string * len(names) + name`` with the best similarity and the most list weight
        (times similarity) a partnership can match; portfolio strings are the book's tokens
        then its compounds."""
        book, names = self.book, self.names
        # every token of the changed names, flat, and every compound of two adjacent ones
        sizes = np.fromiter((len(t) for t in names.tokens), dtype=np.int64, count=len(names))
        flat = [t for tokens in names.tokens for t in tokens]
        owner = np.repeat(np.arange(len(names)), sizes)
        _, name_weights, name_weak = self._name_sides
        weights = np.fromiter(chain.from_iterable(name_weights), dtype=np.float64, count=len(flat))
        weak = np.fromiter(chain.from_iterable(name_weak), dtype=bool, count=len(flat))
        strong = np.where(weak, 0.0, weights)
        self.flat, self.flat_owner, self.flat_strong, self.flat_sizes = flat, owner, strong, sizes
        self._flat_weights = weights
        inner = np.ones(len(flat), dtype=bool)  # a token followed by one of the same name
        inner[np.cumsum(sizes)[sizes > 0] - 1] = False
        at = np.nonzero(inner)[0]
        # listed strings numbered in order of first appearance: the tokens, then the compounds not also tokens
        ids = {t: k for k, t in enumerate(dict.fromkeys(flat))}
        word_of = np.fromiter(map(ids.__getitem__, flat), dtype=np.int64, count=len(flat))
        first_compound = len(ids)
        compounds = list(map(str.__add__, map(flat.__getitem__, at.tolist()), map(flat.__getitem__, (at + 1).tolist())))
        ids.update((c, k) for k, c in enumerate((c for c in dict.fromkeys(compounds) if c not in ids), start=len(ids)))
        compound_of = np.fromiter(map(ids.__getitem__, compounds), dtype=np.int64, count=len(compounds))
        listed = list(ids)
        string_of = np.concatenate([word_of, compound_of])
        string_owner = np.concatenate([owner, owner[at]])
        string_info = np.concatenate([strong, strong[at] + strong[at + 1]]) if len(at) else strong
        listed_info = np.zeros(len(listed))
        np.maximum.at(listed_info, string_of, string_info)
        pairs_code = sorted_unique(string_of * max(len(names), 1) + string_owner)  # (listed string, name), sorted
        own_names = pairs_code % max(len(names), 1)
        owner_bounds = np.searchsorted(pairs_code // max(len(names), 1), np.arange(len(listed) + 1))
        pi, pj, sims = self._listed_pairs(listed, first_compound, word_of, at, compound_of)
        count = len(names) or 1
        self.count = count
        if len(sims):
            lo, hi = owner_bounds[pi], owner_bounds[pi + 1]
            sizes = hi - lo
            keys = np.repeat(pj, sizes) * count + own_names[ranges(lo, hi)]
            sim = np.repeat(sims, sizes)
            value = np.repeat(sims * listed_info[pi], sizes)
            order = np.lexsort((-sim, keys))
            keys, sim, value = keys[order], sim[order], value[order]
            first = np.ones(len(keys), dtype=bool)
            first[1:] = keys[1:] != keys[:-1]
            starts = np.nonzero(first)[0]
            self.keys = keys[first]
            self.sim = sim[first]  # lexsort put each key's best similarity first
            self.info = np.maximum.reduceat(value, starts)
        else:
            self.keys = np.empty(0, dtype=np.int64)
            self.sim = self.info = np.empty(0, dtype=np.float64)
        strings, size = self.keys // count, len(book.vocab) + len(book.joins)
        self.has_partner = np.zeros(size, dtype=bool)
        self.has_partner[strings] = True
        self.best_sim = np.zeros(size, dtype=np.float64)
        np.maximum.at(self.best_sim, strings, self.sim)
        self.best_info = np.zeros(size, dtype=np.float64)
        np.maximum.at(self.best_info, strings, self.info)
        self.bounds = np.bincount(strings + 1, minlength=size + 1)  # string -> its slice of keys
        np.cumsum(self.bounds, out=self.bounds)

    def _listed_pairs(
        self, listed: list[str], first_compound: int, word_of: np.ndarray, at: np.ndarray, compound_of: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(listed string, book string, similarity) of every pair the scorer makes, distinct;
        ``listed`` are the changed names' tokens, then their compounds (``compound_of[k]``
        the one of flat tokens ``at[k]`` and ``at[k] + 1``, ``word_of`` the flat tokens')."""
        book = self.book
        own, first_join = book.strings, len(book.vocab)
        # sketches of both sides, a compound's from its two tokens' (the book keeps its own)
        words = Sketches.of(listed[:first_compound])
        made = compound_of >= first_compound  # (a compound may also be a listed token)
        made_at = np.empty(len(listed) - first_compound, dtype=np.int64)
        made_at[compound_of[made] - first_compound] = at[made]
        listed_sketches = words + words.joined(word_of[made_at], word_of[made_at + 1])
        own_sketches = book.sketches
        vocab, joins = own_sketches[:first_join], own_sketches[first_join:]
        self._vocab_sketches, self._flat_words = vocab, words[word_of]
        # classes 1 and 2: hashed candidates the letters allow (1 edit up to 7 letters, 2 up
        # to 12; compound with compound: never tried) and the edit distance confirms
        width = max(len(own), 1)
        i, j = book.table.matches(listed).T
        edits = budget(listed_sketches.lengths[i], own_sketches.lengths[j])
        fits = ((i < first_compound) | (j < first_join)) & within(listed_sketches, i, own_sketches, j, edits)
        code, first = np.unique(i[fits] * width + j[fits], return_index=True)  # (two strings may share several variants)
        found_i, found_j = near(listed, own, code // width, code % width, edits[fits][first])
        # equal strings the hashing does not cover, and class 3
        unhashed = np.flatnonzero((listed_sketches.lengths < CLASSES[0][0]) | (listed_sketches.lengths > WIDEST))
        hashes = string_hashes([listed[i] for i in unhashed.tolist()])
        lo, hi = np.searchsorted(book.exact_keys, hashes, "left"), np.searchsorted(book.exact_keys, hashes, "right")
        ei, ej = np.repeat(unhashed, hi - lo), book.exact_ids[ranges(lo, hi)]
        fits = (ei < first_compound) | (ej < first_join)
        more = [(i, j) for i, j in zip(ei[fits].tolist(), ej[fits].tolist()) if listed[i] == own[j]]  # (hashes may collide)
        long = book.table.long
        long_words, long_joins = long[long < first_join], long[long >= first_join] - first_join
        more += long_pairs(listed[:first_compound], book.vocab, right_long=long_words, sketches=(words, vocab))
        compounds = long_pairs(listed[first_compound:], book.vocab, right_long=long_words, sketches=(listed_sketches[first_compound:], vocab))
        more += [(first_compound + i, j) for i, j in compounds]
        more += [(i, first_join + j) for i, j in long_pairs(listed[:first_compound], book.joins, same_first=True, right_long=long_joins, sketches=(words, joins))]
        extra = np.array(more, dtype=np.int64).reshape(-1, 2)
        code = sorted_unique(np.concatenate([found_i * width + found_j, extra[:, 0] * width + extra[:, 1]]))
        pi, pj = code // width, code % width
        sims = np.fromiter(map(token_sim, map(listed.__getitem__, pi.tolist()), map(own.__getitem__, pj.tolist())), dtype=np.float64, count=len(code))
        return pi[sims > 0], pj[sims > 0], sims[sims > 0]

    def _initials(self) -> None:
        """Per changed name: for initials (people only), masks of its one-letter tokens and of
        its tokens' first letters and the most strong weight such tokens carry; for the list
        side of a score, its weights and the most ``a`` can be for an organisation; and which
        row schemas can be scored against which entity schemas, and as people."""
        names = self.names
        owner, strong, sizes = self.flat_owner, self.flat_strong, self.flat_sizes
        count = len(names)
        bit = _bits(self._flat_words.first)
        single = self._flat_words.lengths == 1
        self.initial_mask = np.zeros(count, dtype=np.int64)
        self.start_mask = np.zeros(count, dtype=np.int64)
        self.initial_weight = np.zeros(count, dtype=np.float64)
        self.start_weight = np.zeros(count, dtype=np.float64)
        np.bitwise_or.at(self.initial_mask, owner[single], bit[single])
        np.bitwise_or.at(self.start_mask, owner, bit)
        np.maximum.at(self.initial_weight, owner[single], strong[single])
        np.maximum.at(self.start_weight, owner, strong)
        # the list side's weights, and the most its ``a`` can be for an organisation
        weights = self._flat_weights
        weak = weights > strong  # weak tokens count 0 in ``strong``
        self.total_weight = np.bincount(owner, weights, count)
        self.weak_weight = np.bincount(owner, weights * weak, count)
        # the first two strong tokens of each name: their rank among the name's strong tokens
        rank = np.cumsum(~weak) - 1
        strong_counts = np.bincount(owner, ~weak, count).astype(np.int64)
        rank -= np.repeat(np.cumsum(strong_counts) - strong_counts, sizes)
        brand = np.zeros(count, dtype=np.float64)
        first_two = ~weak & (rank < 2)
        np.maximum.at(brand, owner[first_two], weights[first_two])
        self.a_org = A_ORG + (A_DISTINCT - A_ORG) * np.clip((brand - DISTINCT_FROM) / (DISTINCT_FULL - DISTINCT_FROM), 0.0, 1.0)
        book_schemas = self.book.schema_names
        self.schema_codes = {s: k for k, s in enumerate(sorted(set(book_schemas), key=str))}
        entity_schemas = sorted(set(names.schema))
        self.entity_codes = {s: k for k, s in enumerate(entity_schemas)}
        self.name_schema = np.array([self.entity_codes[s] for s in names.schema], dtype=np.int64)
        renumber = np.array([self.schema_codes[s] for s in book_schemas], dtype=np.int64)  # the book's numbers -> these
        self.row_schema = renumber[self.book.schema_code] if len(renumber) else np.zeros(self.book.rows, dtype=np.int64)
        rows, cols = len(self.schema_codes), len(entity_schemas)
        self.can_score = np.zeros((rows, cols), dtype=bool)  # row schema x entity schema
        self.as_person = np.zeros((rows, cols), dtype=bool)
        for s, a in self.schema_codes.items():
            for e, b in self.entity_codes.items():
                self.can_score[a, b] = self.compatible(s, e)
                self.as_person[a, b] = _person(s, e)
        self.token_bit = _bits(self._vocab_sketches.first)
        self.single = self._vocab_sketches.lengths == 1
        # per row schema: initial and start letters of changed names scored as people
        self.person_initials = np.zeros(rows, dtype=np.int64)
        self.person_starts = np.zeros(rows, dtype=np.int64)
        self.person_initial_weight = np.zeros((rows, 37), dtype=np.float64)
        self.person_start_weight = np.zeros((rows, 37), dtype=np.float64)
        for a in range(rows):
            ok = self.can_score[a, self.name_schema] & self.as_person[a, self.name_schema]
            for masks, weights, union, best in (
                (self.initial_mask, self.initial_weight, self.person_initials, self.person_initial_weight),
                (self.start_mask, self.start_weight, self.person_starts, self.person_start_weight),
            ):
                mine = masks[ok]
                union[a] = int(np.bitwise_or.reduce(mine)) if len(mine) else 0
                having = (mine[:, None] >> np.arange(37)) & 1 == 1  # weights are >= 0: 0 where none has the bit
                best[a] = np.where(having, weights[ok][:, None], 0.0).max(axis=0, initial=0.0)

    def compatible(self, row_schema: str | None, entity_schema: str) -> bool:
        key = (row_schema, entity_schema)
        found = self._compatible.get(key)
        if found is None:
            found = self._compatible[key] = row_schema != "?" and schema_compatible(row_schema, entity_schema)
        return found


__all__ = ["Links", "name_sides"]
