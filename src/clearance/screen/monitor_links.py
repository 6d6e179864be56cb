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

import numpy as np

from ..match import score as _score
from ..match.index import MatchIndex
from ..match.score import schema_compatible, token_sim
from .monitor_book import Book
from .monitor_changes import ChangedNames
from .monitor_partners import long_pairs, sorted_unique

A_ORG = getattr(_score, "A_ORG", 1.0)
A_DISTINCT = getattr(_score, "A_DISTINCT", 1.0)
DISTINCT_FROM = getattr(_score, "DISTINCT_FROM", 0.0)
DISTINCT_FULL = getattr(_score, "DISTINCT_FULL", DISTINCT_FROM + 1.0)


def _person(row_schema: str | None, entity_schema: str) -> bool:
    """Does the scorer treat the pair as people (initials count)?"""
    return entity_schema == "Person" or row_schema == "Person"


_BITS = {c: i for i, c in enumerate("abcdefghijklmnopqrstuvwxyz0123456789")}


def _bit(char: str) -> int:
    """A character's bit in a name's letter masks (anything else shares bit 36: a superset)."""
    return 1 << _BITS.get(char, 36)


class Links:
    """Which of a book's strings (tokens, then compounds) pair with which changed names,
    and what a pairing can bring: built once per run, for all rows."""

    def __init__(self, book: Book, index: MatchIndex, names: ChangedNames):
        self.book, self.index, self.names = book, index, names
        self._compatible: dict[tuple[str | None, str], bool] = {}
        self._link()
        self._initials()

    def _link(self) -> None:
        """The partner relation at (portfolio string, changed name) level, as sorted keys
        ``string * len(names) + name`` with the best similarity and the most list weight
        (times similarity) a partnership can match; portfolio strings are the book's tokens
        then its compounds."""
        book, names, index = self.book, self.names, self.index
        # every token of the changed names, flat, and every compound of two adjacent ones
        sizes = np.fromiter((len(t) for t in names.tokens), dtype=np.int64, count=len(names))
        flat = [t for tokens in names.tokens for t in tokens]
        owner = np.repeat(np.arange(len(names)), sizes)
        strong = np.fromiter(
            (0.0 if k else w for nid in names.ids for w, k in zip(index.name_wts[nid], index.name_weak[nid])), dtype=np.float64, count=len(flat)
        )
        self.flat, self.flat_owner, self.flat_strong, self.flat_sizes = flat, owner, strong, sizes
        inner = np.ones(len(flat), dtype=bool)  # a token followed by one of the same name
        inner[np.cumsum(sizes)[sizes > 0] - 1] = False
        at = np.nonzero(inner)[0].tolist()
        ids: dict[str, int] = {}
        word_of = np.fromiter((ids.setdefault(t, len(ids)) for t in flat), dtype=np.int64, count=len(flat))
        first_compound = len(ids)
        compound_of = np.fromiter((ids.setdefault(flat[k] + flat[k + 1], len(ids)) for k in at), dtype=np.int64, count=len(at))
        listed = list(ids)
        at_arr = np.asarray(at, dtype=np.int64)
        string_of = np.concatenate([word_of, compound_of])
        string_owner = np.concatenate([owner, owner[at_arr]])
        string_info = np.concatenate([strong, strong[at_arr] + strong[at_arr + 1]]) if len(at) else strong
        listed_info = np.zeros(len(listed))
        np.maximum.at(listed_info, string_of, string_info)
        pairs_code = sorted_unique(string_of * max(len(names), 1) + string_owner)  # (listed string, name), sorted
        own_names = pairs_code % max(len(names), 1)
        owner_bounds = np.searchsorted(pairs_code // max(len(names), 1), np.arange(len(listed) + 1))
        own = book.strings
        first_join = len(book.vocab)
        pairs: dict[tuple[int, int], float] = {}
        found = book.table.matches(listed)
        if len(found):
            # lengths a typo allows (1 edit up to 7 letters, 2 up to 12), before asking the scorer
            i, j = found[:, 0], found[:, 1]
            a_len = np.fromiter(map(len, listed), dtype=np.int64, count=len(listed))[i]
            b_len = book.table.lengths[j]
            longer = np.maximum(a_len, b_len)
            fits = np.abs(a_len - b_len) <= np.where(longer <= 7, 1, 2)
            fits &= (i < first_compound) | (j < first_join)  # compound with compound: never tried
            for i, j in found[fits].tolist():
                a, b = listed[i], own[j]
                sim = 1.0 if a == b else token_sim(a, b)
                if sim > 0:
                    pairs[(i, j)] = sim
        for i, s in enumerate(listed):
            for j in book.exact.get(s, ()):
                if i < first_compound or j < first_join:
                    pairs[(i, j)] = 1.0
        word_list, compound_list = listed[:first_compound], listed[first_compound:]
        long_words = [j for j in book.table.long.tolist() if j < first_join]
        long_joins = [j - first_join for j in book.table.long.tolist() if j >= first_join]
        longs = long_pairs(word_list, book.vocab, right_long=long_words)
        longs += [(first_compound + i, j) for i, j in long_pairs(compound_list, book.vocab, right_long=long_words)]
        longs += [(i, first_join + j) for i, j in long_pairs(word_list, book.joins, same_first=True, right_long=long_joins)]
        for i, j in longs:
            a, b = listed[i], own[j]
            pairs[(i, j)] = 1.0 if a == b else token_sim(a, b)
        count = len(names) or 1
        self.count = count
        if pairs:
            pi = np.fromiter((i for i, _ in pairs), dtype=np.int64, count=len(pairs))
            pj = np.fromiter((j for _, j in pairs), dtype=np.int64, count=len(pairs))
            sims = np.fromiter(pairs.values(), dtype=np.float64, count=len(pairs))
            lo, hi = owner_bounds[pi], owner_bounds[pi + 1]
            sizes = hi - lo
            keys = np.repeat(pj, sizes) * count + own_names[np.repeat(lo, sizes) + (np.arange(sizes.sum()) - np.repeat(np.cumsum(sizes) - sizes, sizes))]
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
        strings = self.keys // count
        self.has_partner = np.zeros(len(own), dtype=bool)
        self.has_partner[strings] = True
        self.best_sim = np.zeros(len(own), dtype=np.float64)
        np.maximum.at(self.best_sim, strings, self.sim)
        self.best_info = np.zeros(len(own), dtype=np.float64)
        np.maximum.at(self.best_info, strings, self.info)
        self.bounds = np.searchsorted(strings, np.arange(len(own) + 1))  # string -> its slice of keys

    def _initials(self) -> None:
        """Per changed name: for initials (people only), masks of its one-letter tokens and of
        its tokens' first letters and the most strong weight such tokens carry; for the list
        side of a score, its weights and the most ``a`` can be for an organisation; and which
        row schemas can be scored against which entity schemas, and as people."""
        names, index = self.names, self.index
        flat, owner, strong, sizes = self.flat, self.flat_owner, self.flat_strong, self.flat_sizes
        count = len(names)
        bit = np.fromiter((_bit(t[0]) if t else 0 for t in flat), dtype=np.int64, count=len(flat))
        single = np.fromiter((len(t) == 1 for t in flat), dtype=bool, count=len(flat))
        self.initial_mask = np.zeros(count, dtype=np.int64)
        self.start_mask = np.zeros(count, dtype=np.int64)
        self.initial_weight = np.zeros(count, dtype=np.float64)
        self.start_weight = np.zeros(count, dtype=np.float64)
        np.bitwise_or.at(self.initial_mask, owner[single], bit[single])
        np.bitwise_or.at(self.start_mask, owner, bit)
        np.maximum.at(self.initial_weight, owner[single], strong[single])
        np.maximum.at(self.start_weight, owner, strong)
        # the list side's weights, and the most its ``a`` can be for an organisation
        weights = np.fromiter((w for nid in names.ids for w in index.name_wts[nid]), dtype=np.float64, count=len(flat))
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
        self.schema_codes = {s: k for k, s in enumerate(sorted(set(self.book.schemas), key=str))}
        entity_schemas = sorted(set(names.schema))
        self.entity_codes = {s: k for k, s in enumerate(entity_schemas)}
        self.name_schema = np.array([self.entity_codes[s] for s in names.schema], dtype=np.int64)
        self.row_schema = np.array([self.schema_codes[s] for s in self.book.schemas], dtype=np.int64)
        rows, cols = len(self.schema_codes), len(entity_schemas)
        self.can_score = np.zeros((rows, cols), dtype=bool)  # row schema x entity schema
        self.as_person = np.zeros((rows, cols), dtype=bool)
        for s, a in self.schema_codes.items():
            for e, b in self.entity_codes.items():
                self.can_score[a, b] = self.compatible(s, e)
                self.as_person[a, b] = _person(s, e)
        self.token_bit = np.array([_bit(v[0]) if v else 0 for v in self.book.vocab], dtype=np.int64)
        self.single = np.array([len(v) == 1 for v in self.book.vocab], dtype=bool)
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
                for bit in range(37):
                    having = (mine >> bit) & 1 == 1
                    if having.any():
                        best[a, bit] = weights[ok][having].max()

    def compatible(self, row_schema: str | None, entity_schema: str) -> bool:
        key = (row_schema, entity_schema)
        found = self._compatible.get(key)
        if found is None:
            found = self._compatible[key] = row_schema != "?" and schema_compatible(row_schema, entity_schema)
        return found


__all__ = ["Links"]
