"""Which portfolio rows can a list change touch?

The scorer (``match.score.compare``) gives a query form and a list name
``q_cover * (a + (1 - a) * l_cover) * damp``; the matcher multiplies that by
the name property's factor (at most 1) and adds country and birth-date
evidence: at most ``MAX_BONUS``, and only when the row gives a country or a
birth date.  For a (form, changed name) pair, :class:`ChangeFilter` bounds
each factor from which tokens can pair (:mod:`.monitor_links`):

* ``q_cover``, the share of the form's weight (full-corpus weights) whose
  tokens found a partner: exact partners keep their weight, others (a typo,
  a compound, an initial, at similarity ``s``) may have it cut, so it is at
  most the larger of leaving those out and counting them in full at their
  best ``s``;
* ``damp``, which grows with the matched strong list weight (0 below
  ``INFO_NONE``): that weight is at most the sum, over the form's tokens, of
  the most one partner brings;
* ``a`` is ``A_PERSON`` for people and, for an organisation, at most what
  the rarest of the name's first two strong tokens can raise it to;
  ``l_cover`` is at most that matched weight plus the name's weak tokens,
  over all its weight.

Rows are filtered in three steps: (1) for all rows at once (over the book's
flat token arrays), the bound as if every changed name were one: most
rows stop there; (2) for the others, the bound of each pair with a changed
name partnering one of the form's heaviest tokens (those without which the
rest weighs too little to reach the band), first roughly from what made the
pair (the heavy tokens partnering that name, the light ones as if they all
did: :meth:`ChangeFilter._rough`), then exactly for the pairs the rough bound
keeps; (3) the pairs whose bound reaches the band are scored by the scorer
itself.  The three steps run compiled (:mod:`clearance.match.bounds`, form
by form) when the install built it, else over NumPy arrays here, where from
``SPLIT_FROM`` rows on a forked child does steps 2 and 3 for half of them;
both paths give the same doubles.  A row a changed entity
can bring to the review threshold is screened; one it can bring within the
band but not to the threshold keeps its status (nothing changed can flag
it) and gets the bound as its near miss, so the next change re-screens it.
Rows sharing an identifier with a changed entity are always screened.

After the rows are screened, :meth:`ChangeFilter.check` compares every hit
on a changed entity with the scorer's score for its names plus the bonus,
that score with the pair's bound and with the partnered share computed
token by token from the strings; a hit above (the matcher or the scorer
changed, or a partner was missed) makes the run screen every row.
Compounds longer than 12 letters whose first letter is also mistyped are not
looked for.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cached_property
from typing import Callable, Iterable

import numpy as np

from ..match import matcher as _matcher
from ..match import score as _score
from ..match.index import MatchIndex
from ..match.score import compare
from .monitor_book import Book
from .monitor_changes import ChangedNames
from .monitor_links import Links, _person, name_sides
from .monitor_partners import partners, ranges, sorted_unique
from .workers import Forked

try:  # steps 2's bounds in C (a .pyx: missing without a C compiler; NumPy below then)
    from ..match import bounds as _kernel
except ImportError:  # pragma: no cover - depends on the install
    _kernel = None

log = logging.getLogger(__name__)

#: Most the matcher's country and birth-date evidence add to a name score.
MAX_BONUS = getattr(_matcher, "MAX_BONUS", 0.08)
INFO_NONE = getattr(_score, "INFO_NONE", 0.0)
INFO_FULL = getattr(_score, "INFO_FULL", INFO_NONE + 1.0)
A_PERSON = getattr(_score, "A_PERSON", 1.0)
#: On the NumPy path, from this many rows left after step 1 on, a forked child decides half
#: of them (a fork costs a few milliseconds; steps 2 and 3 about 15 µs a row there, 2.5 µs
#: compiled, where the split costs more than it saves).
SPLIT_FROM = 20_000
#: Bounds are compared with this much slack (float sums in another order) ...
EPS = 1e-6
#: ... and hit scores, rounded to 4 decimals, with this much.
ROUNDING = 1e-4


def damp(info: np.ndarray | float):
    """The scorer's factor for the matched list weight (upper bound: the formula of ``compare``)."""
    return np.sqrt(np.clip((np.asarray(info) - INFO_NONE) / (INFO_FULL - INFO_NONE), 0.0, 1.0))


class ChangeFilter(Links):
    """Bounds over the links: which rows a run's changed entities can come within the band of."""

    def __init__(self, book: Book, index: MatchIndex, names: ChangedNames):
        super().__init__(book, index, names)
        self.weights = np.array(index.token_weights(book.vocab), dtype=np.float64)
        self.hits = HitCheck(book, index, names, self.weights, self._name_sides)
        self.violations = 0
        self.factor = np.asarray(names.factor, dtype=np.float64)
        # per flat position: its form, weight, and the strings it can pair through (its token, the
        # compound it starts, the compound it ends; -1: none), numbered as the book's strings
        self.form_of = np.repeat(np.arange(len(book.form_row)), np.diff(book.form_start))
        self.pos_weight = self.weights[book.tok]
        self.form_weight = np.bincount(self.form_of, self.pos_weight, len(book.form_row))
        first = np.zeros(len(book.tok), dtype=bool)
        first[book.form_start[:-1][np.diff(book.form_start) > 0]] = True
        joins = np.where(book.join >= 0, len(book.vocab) + book.join, -1)
        self.pos_strings = (book.tok, joins, np.where(first, -1, np.roll(joins, 1)))

    @property
    def _compiled(self):
        """The compiled kernel over this filter's arrays (None: not built, or not wanted)."""
        return self._tables if _kernel is not None and self.use_kernel else None

    @cached_property
    def _tables(self):
        """The compiled kernel's copy of the arrays step 2 reads."""
        book = self.book
        return _kernel.Tables(
            form_start=book.form_start, form_row=book.form_row, tok=book.tok, strings=self.pos_strings, row_schema=self.row_schema,
            pos_weight=self.pos_weight, form_weight=self.form_weight, bonus=book.bonus, keys=self.keys, sim=self.sim, info=self.info,
            str_bounds=self.bounds, token_bit=self.token_bit, single=self.single, initial_mask=self.initial_mask,
            start_mask=self.start_mask, initial_weight=self.initial_weight, start_weight=self.start_weight,
            as_person=self.as_person, can_score=self.can_score, name_schema=self.name_schema, factor=self.factor,
            a_org=self.a_org, weak_weight=self.weak_weight, total_weight=self.total_weight, best_sim=self.best_sim,
            best_info=self.best_info, person_initials=self.person_initials, person_starts=self.person_starts,
            person_initial_weight=self.person_initial_weight, person_start_weight=self.person_start_weight, count=self.count,
            max_bonus=MAX_BONUS, eps=EPS, info_none=INFO_NONE, info_full=INFO_FULL, a_person=A_PERSON,
            initial_sim=float(getattr(_score, "INITIAL_SIM", 1.0)),
        )

    #: Use the compiled kernel when built (tests compare it with the NumPy path).
    use_kernel = True

    # -- the bound ------------------------------------------------------------------------

    @staticmethod
    def _bound(weights, sims, groups: np.ndarray, size: int, info: np.ndarray) -> np.ndarray:
        """Per group of token positions: ``q_cover`` at most (exact partners keep their weight;
        a token paired otherwise, at similarity ``s``, may count with any weight down to 0,
        so the cover is at most the larger of excluding them all or counting them all at the
        best such ``s``), times ``damp`` of the matched list weight."""
        exact = sims >= 1.0
        other = (sims > 0) & ~exact
        total = np.bincount(groups, weights, size)
        e = np.bincount(groups, weights * exact, size)
        t = np.bincount(groups, weights * other, size)
        sigma = np.zeros(size)
        np.maximum.at(sigma, groups[other], sims[other])
        u = total - e - t
        without = np.divide(e, e + u, out=sigma.copy(), where=(e + u) > 1e-12)
        counted = np.divide(e + sigma * t, total, out=np.zeros(size), where=total > 1e-12)
        return np.maximum(without, counted) * damp(info)

    def _position_sims(self, k: np.ndarray, row_schema: np.ndarray | None, name: np.ndarray | None, person: np.ndarray | None = None):
        """Best similarity and matched list weight per token position, against one changed
        name each (``name``; ``person``: is the pair scored as people?) or against all of them
        (``None``; ``row_schema``: each position's row schema)."""
        book = self.book
        tok = book.tok[k]
        sims = np.zeros(len(k))
        info = np.zeros(len(k))
        for strings, counts_info in ((tok, True), (self.pos_strings[1][k], True), (self.pos_strings[2][k], False)):
            valid = strings >= 0
            if name is None:
                s = np.where(valid, self.best_sim[np.maximum(strings, 0)], 0.0)
                v = np.where(valid, self.best_info[np.maximum(strings, 0)], 0.0)
            else:  # looked up only where the string partners some changed name (few do)
                s, v = np.zeros(len(k)), np.zeros(len(k))
                some = np.nonzero(valid & self.has_partner[np.maximum(strings, 0)])[0]
                if len(some):
                    keys = strings[some] * self.count + name[some]
                    at = np.minimum(np.searchsorted(self.keys, keys), len(self.keys) - 1)
                    found = self.keys[at] == keys
                    s[some[found]] = self.sim[at[found]]
                    v[some[found]] = self.info[at[found]]
            sims = np.maximum(sims, s)
            if counts_info:  # a compound's list weight counts once, at its first token
                info += v
        # initials, for people
        initial_sim = float(getattr(_score, "INITIAL_SIM", 1.0))
        bits = self.token_bit[tok]
        single = self.single[tok]
        bit_no = np.log2(np.maximum(bits, 1)).astype(np.int64)
        if name is None:
            hit = np.where(single, self.person_starts[row_schema] & bits, self.person_initials[row_schema] & bits) != 0
            weight = np.where(single, self.person_start_weight[row_schema, bit_no], self.person_initial_weight[row_schema, bit_no])
        else:
            hit = person & (np.where(single, self.start_mask[name] & bits, self.initial_mask[name] & bits) != 0)
            weight = np.where(single, self.start_weight[name], self.initial_weight[name])
        sims = np.where(hit, np.maximum(sims, initial_sim), sims)
        info += np.where(hit, weight, 0.0)
        return sims, info

    # -- step 1: every row against all changed names at once ------------------------

    @cached_property
    def _union(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return self._union_of()

    def _union_of(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per row: the most any changed entity could score, as if all changed names were one;
        per flat position: best similarity and matched list weight against any changed name
        (step 1 for every row, step 2 for the light positions of the rows it keeps)."""
        book = self.book
        if self._compiled is not None:
            return self._compiled.union()
        rows = np.zeros(book.rows, dtype=np.float64)
        form_of = self.form_of
        sims, info = self._position_sims(np.arange(len(book.tok)), self.row_schema[book.form_row[form_of]], None)
        if len(book.tok):
            bound = self._bound(self.pos_weight, sims, form_of, len(book.form_row), np.bincount(form_of, info, len(book.form_row)))
            np.maximum.at(rows, book.form_row, bound)
        return rows + np.where(book.bonus, MAX_BONUS, 0.0), sims, info

    def union_bound(self) -> np.ndarray:
        """Per row: the most any changed entity could score, as if all changed names were one."""
        return self._union[0]

    # -- step 2: name by name ---------------------------------------------------------------

    def _pairs(self, rows: list[int], band: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Candidate (form, changed name) pairs of these rows, and their rough bounds: names
        partnering one of a form's heaviest tokens (without which the rest weighs too little to
        reach the band) whose rough bound (:meth:`_rough`) reaches the band."""
        book = self.book
        if not rows:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64), np.empty(0)
        forms = self._forms_of(rows)
        if self._compiled is not None:
            return self._compiled.candidates(forms, band, *self._union[1:])[:3]
        lengths = np.diff(book.form_start)[forms]
        form_of = np.repeat(forms, lengths)
        k = ranges(book.form_start[forms], book.form_start[forms + 1])
        w = self.pos_weight[k]
        order = np.lexsort((-w, form_of))
        form_of, k, w = form_of[order], k[order], w[order]
        total = self.form_weight[form_of]
        before = np.cumsum(w) - w
        firsts = np.ones(len(k), dtype=bool)
        firsts[1:] = form_of[1:] != form_of[:-1]
        before -= np.maximum.accumulate(np.where(firsts, before, 0.0))
        rows_of = book.form_row[form_of]
        need = band - np.where(book.bonus[rows_of], MAX_BONUS, 0.0)
        heavy = before <= total * (1.0 - need) + EPS
        light_w, light_info = self._light(form_of[~heavy], k[~heavy])
        form_of, k = form_of[heavy], k[heavy]
        parts_f, parts_n, parts_k, parts_i = [], [], [], []
        for every in self.pos_strings:
            strings = every[k]
            ok = strings >= 0
            s, f = strings[ok], form_of[ok]
            lo, hi = self.bounds[s], self.bounds[s + 1]
            sizes = hi - lo
            at = ranges(lo, hi)
            parts_f.append(np.repeat(f, sizes))
            parts_n.append(self.keys[at] % self.count)
            parts_k.append(np.repeat(k[ok], sizes))
            parts_i.append(self.info[at])
        # initials (people): every changed name with the letter, letter by letter
        bits = self.token_bit[book.tok[k]]
        single = self.single[book.tok[k]]
        for masks, weights, which in ((self.initial_mask, self.initial_weight, ~single), (self.start_mask, self.start_weight, single)):
            for bit in sorted_unique(bits[which]).tolist():
                at = np.nonzero(which & (bits == bit))[0]
                having = np.nonzero(masks & bit)[0]
                if not len(at) or not len(having):
                    continue
                f = np.repeat(form_of[at], len(having))
                n = np.tile(having, len(at))
                person = self.as_person[self.row_schema[book.form_row[f]], self.name_schema[n]]
                parts_f.append(f[person])
                parts_n.append(n[person])
                parts_k.append(np.repeat(k[at], len(having))[person])
                parts_i.append(weights[n[person]])
        codes, pair_of = np.unique(np.concatenate(parts_f) * self.count + np.concatenate(parts_n), return_inverse=True)
        f, n = codes // self.count, codes % self.count
        rough = self._rough(f, n, pair_of, np.concatenate(parts_k), np.concatenate(parts_i), light_w, light_info, band)
        ok = self.can_score[self.row_schema[book.form_row[f]], self.name_schema[n]] & (rough >= band - EPS)
        return f[ok], n[ok], rough[ok]

    def _forms_of(self, rows: list[int]) -> np.ndarray:
        """The forms of these rows, ascending."""
        wanted = np.zeros(self.book.rows, dtype=bool)
        wanted[rows] = True
        return np.flatnonzero(wanted[self.book.form_row])

    def _light(self, form_of: np.ndarray, k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per form, over its light (not heaviest) positions: the weight of those with a partner
        in some changed name and the most list weight they can match (as :meth:`union_bound`)."""
        size = len(self.book.form_row)
        sims, info = (a[k] for a in self._union[1:])
        return np.bincount(form_of, self.pos_weight[k] * (sims > 0), size), np.bincount(form_of, info, size)

    def _rough(self, f, n, pair_of, k, info, light_w, light_info, band: float) -> np.ndarray:
        """A cheap upper bound of :meth:`_pair_bounds` from the entries that made the pairs
        (a heavy position partnering the name, with the list weight it can match) and the
        form's light positions as if they all partnered it: covers and matched weight are
        summed over entries (a position counted twice only raises the bound), and the
        share of a form's weight with a partner bounds both of :meth:`_bound`'s covers."""
        book = self.book
        size = len(f)
        partnered = np.bincount(pair_of, self.pos_weight[k], size) + light_w[f]
        total = self.form_weight[f]
        matched = np.bincount(pair_of, info, size) + light_info[f]
        cover = np.minimum(1.0, np.divide(partnered, total, out=np.zeros(size), where=total > 1e-12))
        bonus = np.where(book.bonus[book.form_row[f]], MAX_BONUS, 0.0)
        rough = cover * damp(matched) * self.factor[n] + bonus  # the list side's factor is at most 1
        some = np.nonzero(rough >= band - EPS)[0]
        f, n = f[some], n[some]
        person = self.as_person[self.row_schema[book.form_row[f]], self.name_schema[n]]
        rough[some] = (rough[some] - bonus[some]) * self._list_side(n, person, matched[some]) + bonus[some]
        return rough

    def _list_side(self, n: np.ndarray, person: np.ndarray, matched: np.ndarray) -> np.ndarray:
        """The scorer's list-side factor ``a + (1 - a) * l_cover`` at most, for names ``n``
        matched with at most ``matched`` strong weight (``l_cover`` is at most that plus the
        name's weak tokens, over all its weight)."""
        a = np.where(person, A_PERSON, self.a_org[n])
        covered = np.minimum(1.0, (matched + self.weak_weight[n]) / np.maximum(self.total_weight[n], 1e-12))
        return a + (1.0 - a) * covered

    def _pair_bounds(self, f: np.ndarray, n: np.ndarray) -> np.ndarray:
        """The bound of each (form, changed name) pair, bonus included."""
        if self._compiled is not None:
            return self._compiled.bounds(np.ascontiguousarray(f, dtype=np.int64), np.ascontiguousarray(n, dtype=np.int64))
        book = self.book
        lengths = np.diff(book.form_start)[f]
        pair_of = np.repeat(np.arange(len(f)), lengths)
        k = ranges(book.form_start[f], book.form_start[f + 1])
        rows = book.form_row[f]
        person = self.as_person[self.row_schema[rows], self.name_schema[n]]
        sims, info = self._position_sims(k, None, n[pair_of], person[pair_of])
        info = np.bincount(pair_of, info, len(f))
        bound = self._bound(self.pos_weight[k], sims, pair_of, len(f), info)
        return bound * self._list_side(n, person, info) * self.factor[n] + np.where(book.bonus[rows], MAX_BONUS, 0.0)

    def affected(self, band: float, review: float, skip: set[int], split_from: int | None = None,
                 early: Callable[[list[int]], None] | None = None) -> tuple[list[int], dict[int, float], dict]:
        """Rows a changed entity can come within the band of (``skip``: screened anyway).

        Returns the rows where it can reach the review threshold (to screen), the rows
        where it can come within the band but not reach it, each with a score at least
        the best it can reach (kept as the row's near miss: the row is screened at the
        next change), and counts of what each step kept.  From ``split_from`` rows left
        after step 1 on, a forked child decides half of them (by default only on the NumPy path).
        ``early(rows)``: called with the rows to screen found in the first half of the rows
        left after step 1 (sorted), before the second half is decided: they can be screened
        meanwhile."""
        book = self.book
        if split_from is None:  # compiled, steps 2 and 3 take less than a fork saves
            split_from = SPLIT_FROM if self._compiled is None else book.rows + 1
        bound = self.union_bound()
        high = set(self._identifier_rows()) - skip
        wanted = (bound >= band - EPS) & book.has_query & (self.row_schema != self.schema_codes.get("?", -1))
        wanted[list(skip | high)] = False
        maybe = np.flatnonzero(wanted).tolist()
        if early is not None:
            half = len(maybe) // 2
            first = self._decide(maybe[:half], band, review)
            early(sorted(high | first[0]))
            parts = [first, self._decide(maybe[half:], band, review)]
        elif len(maybe) >= split_from:
            half = len(maybe) // 2
            with Forked(lambda: self._decide(maybe[half:], band, review)) as other:
                parts = [self._decide(maybe[:half], band, review), other.result()]
        else:
            parts = [self._decide(maybe, band, review)]
        near: dict[int, float] = {}
        for reached, close, _ in parts:
            high |= reached
            near.update(close)
        counts = {"rows_touching_changes": len(maybe), "pairs_bounded": sum(c[0] for *_, c in parts), "pairs_scored": sum(c[1] for *_, c in parts)}
        return sorted(high), near, counts

    def _decide(self, rows: list[int], band: float, review: float) -> tuple[set[int], dict[int, float], tuple[int, int]]:
        """Steps 2 and 3 for these rows: those a changed entity can bring to the review
        threshold, those it can bring within the band (with their near miss), and the
        numbers of pairs bounded and scored."""
        f, n, bounds, bounded = self._kept_pairs(rows, band)
        order = np.lexsort((-bounds, self.book.form_row[f]))  # row by row, most promising pair first
        high, near, scored = self._score_pairs(f[order], n[order], bounds[order], band, review)
        return high, near, (int(bounded), scored)

    def _kept_pairs(self, rows: list[int], band: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
        """Step 2: the pairs of these rows whose exact bound reaches the band, with it, and the
        number of pairs bounded (those the rough bound kept)."""
        if self._compiled is not None:  # in one pass
            return self._compiled.candidates(self._forms_of(rows), band, *self._union[1:], exact=True)
        f, n, _ = self._pairs(rows, band)
        bounds = self._pair_bounds(f, n)
        keep = bounds >= band - EPS
        return f[keep], n[keep], bounds[keep], len(f)

    def _score_pairs(self, f: np.ndarray, n: np.ndarray, most: np.ndarray, band: float, review: float) -> tuple[set[int], dict[int, float], int]:
        """Step 3: the scorer scores pairs (row by row, most promising first) until each row is
        decided; returns the rows a pair brings to the review threshold, those it brings within
        the band (with their near miss) and the number of pairs scored."""
        book = self.book
        if self._compiled is not None:
            tokens, weights, weak = self._name_sides
            return self._compiled.decide(
                np.ascontiguousarray(f), np.ascontiguousarray(n), np.ascontiguousarray(most), band, review,
                book.vocab, self.weights.tolist(), tokens, weights, weak, book.rows,
            )
        high: set[int] = set()
        near: dict[int, float] = {}
        scored = 0
        forms: dict[int, tuple[tuple[str, ...], list[float]]] = {}
        for form, pos, name, bound in zip(f.tolist(), book.form_row[f].tolist(), n.tolist(), most.tolist()):
            if pos in high or (near.get(pos, 0.0) >= band and bound < review - EPS):
                continue  # decided: it can reach the review threshold / no better than what it has
            if form not in forms:
                forms[form] = self.hits.form(form)
            tokens, weights = forms[form]
            scored += 1
            score = self.hits.score(tokens, weights, name, book.schemas[pos]) + (MAX_BONUS if book.bonus[pos] else 0.0)
            if score >= review - EPS:
                high.add(pos)
                near.pop(pos, None)
            elif score >= band - EPS:
                near[pos] = max(near.get(pos, 0.0), min(review - EPS, bound))
        return high, near, scored

    def _identifier_rows(self) -> Iterable[int]:
        ids = self.index.identifiers
        changed = self.names.entity_numbers
        for pos, keys in self.book.identifiers.items():
            if any(ent in changed for key in keys for ent, _ in ids.get(key, ())):
                yield pos

    # -- the check ----------------------------------------------------------------------

    def check(self, records: dict[int, dict | None], changed: set[tuple[str, str]]) -> None:
        """Count hits on changed entities above the bounds the filter relies on (``records``:
        row position -> screening record; called for any number of sets of rows)."""
        self.check_scored(self.hits.scores(records, changed))

    def check_scored(self, scored: "Scored") -> None:
        """The check's last step for hits :meth:`HitCheck.scores` scored (here or in a child):
        each pair's score against its bound."""
        bounds = self._pair_bounds(scored.forms, scored.names)
        bad = ~scored.share_ok | (scored.totals > bounds + EPS)
        self.violations += int(bad.sum()) + scored.hit_violations
        for k in np.flatnonzero(bad)[:10].tolist():
            form, name = int(scored.forms[k]), int(scored.names[k])
            log.info("monitor filter: %r scores %.4f against %r over its bound %.4f (or its share)", self.hits.form(form)[0], scored.totals[k], self.names.tokens[name], bounds[k])


@dataclass
class Scored:
    """Hits on changed entities scored for the check: per (form of the hit's row, changed name of
    its entity) pair the score with the row's evidence bonus, and whether it stays within the
    share of the form that can partner the name; and the hits scored above every pair's."""

    forms: np.ndarray
    names: np.ndarray
    totals: np.ndarray
    share_ok: np.ndarray
    hit_violations: int = 0


class HitCheck:
    """The part of the filter's check that needs no links: each hit on a changed entity scored
    again, form by form of its row and name by name of its entity, token by token (the scorer,
    and :func:`reference` for the share of the form that can partner the name).  A forked child
    that screened rows makes its own and sends back its :class:`Scored`; this process then
    looks the bounds up (:meth:`ChangeFilter.check_scored`)."""

    def __init__(self, book: Book, index: MatchIndex, names: ChangedNames, weights: np.ndarray | None = None,
                 sides: tuple[list, list, list] | None = None):
        """``weights``: of the book's tokens, if known (else those of the forms checked are looked
        up); ``sides``: the names' list sides (:func:`~.monitor_links.name_sides`), if known."""
        self.book, self.index, self.names, self.weights = book, index, names, weights
        self.sides = sides if sides is not None else name_sides(index, names.ids)

    @cached_property
    def _names_of(self) -> dict[tuple[str, str], list[int]]:
        """(source, entity id) -> its changed names."""
        found: dict[tuple[str, str], list[int]] = {}
        for n, ent in enumerate(self.names.entity):
            info = self.index.entities[ent]
            found.setdefault((info.source, info.id), []).append(n)
        return found

    def score(self, tokens: tuple[str, ...], weights: list[float], n: int, schema: str | None) -> float:
        """The scorer's score of a form against changed name ``n``, times the name's factor."""
        listed, listed_weights, listed_weak = (side[n] for side in self.sides)
        person = _person(schema, self.names.schema[n])
        return compare(tokens, weights, listed, listed_weights, listed_weak, person, False) * self.names.factor[n]

    def form(self, form: int) -> tuple[tuple[str, ...], list[float]]:
        """A form's tokens and their weights, as the scorer takes them."""
        tokens = self.book.form_tokens(form)
        if self.weights is None:
            return tokens, self.index.token_weights(list(tokens))
        return tokens, self.weights[self.book.form_tok(form)].tolist()

    def scores(self, records: dict[int, dict | None], changed: set[tuple[str, str]]) -> Scored:
        """The hits on changed entities of these rows (``records``: row position -> screening record)."""
        book, names, by_entity = self.book, self.names, self._names_of
        forms: list[int] = []
        chosen: list[tuple[int, dict, int]] = []  # (row position, hit, changed name) per form
        checked: list[tuple[int, dict]] = []
        for pos, record in records.items():
            for hit in (record or {}).get("hits", ()):
                key = (hit["source"], hit["entity_id"])
                if key not in changed or "identifier" in hit.get("explanation", {}).get("features", {}):
                    continue
                checked.append((pos, hit))
                for f in book.forms_of(pos):
                    for n in by_entity.get(key, ()):
                        forms.append(f)
                        chosen.append((pos, hit, n))
        scores, shares, infos = [], [], []
        known: dict[tuple, tuple[float, float, float]] = {}  # rows repeat names: each (reading, name, as people?) once
        readings: dict[int, tuple[tuple[str, ...], list[float]]] = {}
        for form, (pos, hit, name) in zip(forms, chosen):
            if form not in readings:
                readings[form] = self.form(form)
            tokens, weights = readings[form]
            schema = book.schemas[pos]
            person = _person(schema, names.schema[name])
            found = known.get((tokens, name, person))
            if found is None:
                _, listed_weights, listed_weak = (side[name] for side in self.sides)
                found = known[(tokens, name, person)] = (
                    self.score(tokens, weights, name, schema),
                    *reference(tokens, weights, names.tokens[name], listed_weights, listed_weak, person),
                )
            scores.append(found[0])
            shares.append(found[1])
            infos.append(found[2])
        covered = np.asarray(shares, dtype=np.float64) * damp(np.asarray(infos, dtype=np.float64))
        factor = np.asarray([names.factor[name] for _, _, name in chosen], dtype=np.float64)
        bonus = np.asarray([MAX_BONUS if book.bonus[pos] else 0.0 for pos, _, _ in chosen], dtype=np.float64)
        score = np.asarray(scores, dtype=np.float64)
        best: dict[int, float] = {}
        for (_, hit, _), total in zip(chosen, (score + bonus).tolist()):
            best[id(hit)] = max(best.get(id(hit), 0.0), total)
        late = 0
        for pos, hit in checked:
            if hit["score"] > best.get(id(hit), 0.0) + ROUNDING:
                late += 1
                log.info("monitor filter: row %d scores %s %.4f over its bound %.4f", int(book.row_index[pos]), hit["entity_id"], hit["score"], best.get(id(hit), 0.0))
        return Scored(np.asarray(forms, dtype=np.int64), np.asarray([c[2] for c in chosen], dtype=np.int64), score + bonus,
                      ~(score > covered * factor + EPS), late)


def _pairs_with(token: str, listed: tuple[str, ...], person: bool) -> list[int]:
    """List positions ``token`` can pair with (alone): equal, a typo apart, an initial."""
    found = [j for j, b in enumerate(listed) if partners(token, b)]
    if person:
        found += [j for j, b in enumerate(listed) if (len(token) == 1 and b.startswith(token)) or (len(b) == 1 and token.startswith(b))]
    return found


def reference(q: tuple[str, ...], weights: list[float], listed: tuple[str, ...], wts, weak, person: bool) -> tuple[float, float]:
    """Token by token, without the index: the share of a query form's weight with a partner in
    one list name, and the most strong list weight the form can match in it (each query token
    or compound matching its best partner)."""
    strong = [0.0 if k else w for w, k in zip(wts, weak)]
    joined = [(listed[j] + listed[j + 1], strong[j] + strong[j + 1]) for j in range(len(listed) - 1)]
    hit = [False] * len(q)
    info = 0.0
    for i, token in enumerate(q):
        alone = _pairs_with(token, listed, person)
        best = max((strong[j] for j in alone), default=0.0)
        both = [value for compound, value in joined if partners(token, compound)]
        hit[i] = bool(alone or both)
        info += max([best, *both])
    for i in range(len(q) - 1):
        found = [strong[j] for j, b in enumerate(listed) if partners(q[i] + q[i + 1], b)]
        if found:
            hit[i] = hit[i + 1] = True
            info += max(found)
    total = sum(weights)
    return (sum(w for w, h in zip(weights, hit) if h) / total if total else 0.0), info


__all__ = ["ChangeFilter", "HitCheck", "MAX_BONUS", "Scored", "damp", "reference"]
