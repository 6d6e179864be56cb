# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Upper bounds of the scorer's score for (query form, changed name) pairs, compiled.

Steps 2 of the monitor's filter (:mod:`clearance.screen.monitor_filter`, whose
docstring gives the bound), form by form in C instead of over NumPy arrays of
a million entries: :meth:`Tables.candidates` finds each form's candidate
changed names (those partnering one of its heaviest tokens) and their rough
bounds; :meth:`Tables.bounds` the exact bound of given pairs.  Sums are taken
in the order the NumPy path takes them, so both give the same doubles (the
tests compare them).  Without a C compiler this module is not built and the
filter runs its NumPy path.
"""

from libc.math cimport sqrt
from libc.stdint cimport int64_t, uint8_t, uint64_t
from libc.stdlib cimport free, malloc, qsort, realloc

import numpy as np

from .score import compare


#: Strings pairing with more changed names than this get a bit per name (``Tables._find``).
_MANY = 16


cdef inline double _damp(double info, double none, double full) noexcept nogil:
    """The scorer's factor for the matched list weight (``monitor_filter.damp``)."""
    cdef double x = (info - none) / (full - none)
    if x < 0.0:
        x = 0.0
    elif x > 1.0:
        x = 1.0
    return sqrt(x)


cdef struct Cover:
    double total, exact, other, sigma  # a form's weight; of its exactly and otherwise paired tokens; best other similarity


cdef inline void _add(Cover *c, double w, double sims) noexcept nogil:
    """One token position of weight ``w`` paired at similarity ``sims`` (0: not paired)."""
    c.total = c.total + w
    if sims >= 1.0:
        c.exact = c.exact + w
    elif sims > 0:
        c.other = c.other + w
        if sims > c.sigma:
            c.sigma = sims


cdef inline double _q_cover(Cover *c) noexcept nogil:
    """``q_cover`` at most (``ChangeFilter._bound``): exact partners keep their weight, others
    may count anything down to 0, so the larger of leaving them all out or counting them all
    at the best such similarity."""
    cdef double unpaired = c.total - c.exact - c.other
    cdef double without = c.exact / (c.exact + unpaired) if (c.exact + unpaired) > 1e-12 else c.sigma
    cdef double counted = (c.exact + c.sigma * c.other) / c.total if c.total > 1e-12 else 0.0
    return without if without > counted else counted


cdef struct Touched:
    uint8_t *seen  # per changed name: touched by the current form?
    int64_t *order  # the names touched, in the order first touched
    double *weight  # per name: the form's weight partnering it (summed over entries) ...
    double *info  # ... and the list weight those entries can match


cdef inline Py_ssize_t _touch(Touched *t, Py_ssize_t size, int64_t n, double weight, double info) noexcept nogil:
    """Add an entry (a position partnering name ``n``) to the form's sums; returns the number of names touched."""
    if not t.seen[n]:
        t.seen[n] = 1
        t.order[size] = n
        size += 1
        t.weight[n] = 0.0
        t.info[n] = 0.0
    t.weight[n] += weight
    t.info[n] += info
    return size


cdef int _by_value(const void *a, const void *b) noexcept nogil:
    cdef int64_t x = (<const int64_t *>a)[0], y = (<const int64_t *>b)[0]
    return (x > y) - (x < y)


cdef inline void _sort(int64_t *values, Py_ssize_t size) noexcept nogil:
    """Ascending: by insertion when few (most forms touch a handful of names), else qsort."""
    cdef Py_ssize_t i, j
    cdef int64_t v
    if size > 32:
        qsort(values, size, sizeof(int64_t), _by_value)
        return
    for i in range(1, size):
        v = values[i]
        j = i
        while j > 0 and values[j - 1] > v:
            values[j] = values[j - 1]
            j -= 1
        values[j] = v


cdef struct Pairs:
    int64_t *form
    int64_t *name
    double *bound
    Py_ssize_t size, capacity


cdef int _push(Pairs *p, int64_t form, int64_t name, double bound) except -1 nogil:
    cdef Py_ssize_t capacity
    if p.size == p.capacity:
        capacity = p.capacity * 2 + 1024
        p.form = <int64_t *>realloc(p.form, capacity * sizeof(int64_t))
        p.name = <int64_t *>realloc(p.name, capacity * sizeof(int64_t))
        p.bound = <double *>realloc(p.bound, capacity * sizeof(double))
        if p.form == NULL or p.name == NULL or p.bound == NULL:
            with gil:
                raise MemoryError()
        p.capacity = capacity
    p.form[p.size] = form
    p.name[p.size] = name
    p.bound[p.size] = bound
    p.size += 1
    return 0


def _i64(a):
    return np.ascontiguousarray(a, dtype=np.int64)


def _f64(a):
    return np.ascontiguousarray(a, dtype=np.float64)


def _u8(a):
    return np.ascontiguousarray(a, dtype=bool).view(np.uint8)


cdef class Tables:
    """The book's flat tokens and a run's links, as C arrays (see ``monitor_filter.ChangeFilter``
    for what each is)."""

    cdef const int64_t[::1] form_start, form_row, tok, s0, s1, s2, row_schema, keys, key_name, str_bounds
    cdef const int64_t[::1] token_bit, token_bitno, initial_mask, start_mask, name_schema, bit_start, bit_names
    cdef const int64_t[::1] person_initials, person_starts, many_slot
    cdef const uint64_t[::1] many_bits
    cdef Py_ssize_t words
    cdef const double[::1] pos_weight, form_weight, sim, info, initial_weight, start_weight, factor, a_org, weak_weight, total_weight
    cdef const double[::1] best_sim, best_info, person_initial_weight, person_start_weight
    cdef const uint8_t[::1] bonus, single, as_person, can_score
    cdef int64_t count, entity_schemas, longest, letters
    cdef double max_bonus, eps, info_none, info_full, a_person, initial_sim

    def __init__(self, *, form_start, form_row, tok, strings, row_schema, pos_weight, form_weight, bonus,
                 keys, sim, info, str_bounds, token_bit, single, initial_mask, start_mask, initial_weight,
                 start_weight, as_person, can_score, name_schema, factor, a_org, weak_weight, total_weight,
                 best_sim, best_info, person_initials, person_starts, person_initial_weight, person_start_weight,
                 count, max_bonus, eps, info_none, info_full, a_person, initial_sim):
        self.form_start, self.form_row, self.tok = _i64(form_start), _i64(form_row), _i64(tok)
        self.s0, self.s1, self.s2 = _i64(strings[0]), _i64(strings[1]), _i64(strings[2])
        self.row_schema, self.keys, self.str_bounds = _i64(row_schema), _i64(keys), _i64(str_bounds)
        self.key_name = _i64(np.asarray(keys, dtype=np.int64) % max(count, 1))  # each key's changed name
        # strings pairing with many changed names (common words, light in most forms): a bit per
        # name, so looking up a name one does not pair with (most) needs no search
        bounds = np.asarray(self.str_bounds)
        many = np.flatnonzero(np.diff(bounds) > _MANY)
        self.words = (max(count, 1) + 63) // 64
        slot = np.full(max(len(bounds) - 1, 0), -1, dtype=np.int64)
        slot[many] = np.arange(len(many))
        many_bits = np.zeros((len(many), self.words), dtype=np.uint64)
        if len(many):
            at = np.concatenate([np.arange(bounds[m], bounds[m + 1]) for m in many.tolist()])
            owner = np.repeat(np.arange(len(many)), np.diff(bounds)[many])
            name = np.asarray(self.key_name)[at]
            np.bitwise_or.at(many_bits, (owner, name >> 6), np.left_shift(np.uint64(1), (name & 63).astype(np.uint64)))
        self.many_slot, self.many_bits = slot, many_bits.reshape(-1)
        bits = _i64(token_bit)
        self.token_bit = bits
        self.token_bitno = np.where(bits > 0, np.log2(np.maximum(bits, 1)).astype(np.int64), -1)
        self.initial_mask, self.start_mask, self.name_schema = _i64(initial_mask), _i64(start_mask), _i64(name_schema)
        self.pos_weight, self.form_weight, self.sim, self.info = _f64(pos_weight), _f64(form_weight), _f64(sim), _f64(info)
        self.initial_weight, self.start_weight, self.factor = _f64(initial_weight), _f64(start_weight), _f64(factor)
        self.a_org, self.weak_weight, self.total_weight = _f64(a_org), _f64(weak_weight), _f64(total_weight)
        self.bonus, self.single = _u8(bonus), _u8(single)
        self.as_person, self.can_score = _u8(as_person).reshape(-1), _u8(can_score).reshape(-1)
        self.entity_schemas = np.shape(as_person)[1]
        self.best_sim, self.best_info = _f64(best_sim), _f64(best_info)
        self.person_initials, self.person_starts = _i64(person_initials), _i64(person_starts)
        self.person_initial_weight = _f64(person_initial_weight).reshape(-1)
        self.person_start_weight = _f64(person_start_weight).reshape(-1)
        self.letters = np.shape(person_start_weight)[1]
        self.count = count
        starts = np.diff(self.form_start)
        self.longest = int(starts.max()) if len(starts) else 0
        # the changed names with each letter, per kind of mask (initials, starts) and bit, ascending
        parts, sizes = [], []
        for masks in (_i64(initial_mask), _i64(start_mask)):
            for bit in range(64):
                having = np.flatnonzero((masks >> bit) & 1)
                parts.append(having)
                sizes.append(len(having))
        self.bit_names = _i64(np.concatenate(parts))
        self.bit_start = _i64(np.concatenate([[0], np.cumsum(sizes)]))
        self.max_bonus, self.eps, self.info_none, self.info_full = max_bonus, eps, info_none, info_full
        self.a_person, self.initial_sim = a_person, initial_sim

    cdef inline double _list_side(self, int64_t n, bint person, double matched) noexcept nogil:
        """``a + (1 - a) * l_cover`` at most (``monitor_filter.ChangeFilter._list_side``)."""
        cdef double a = self.a_person if person else self.a_org[n]
        cdef double total = self.total_weight[n]
        cdef double covered = (matched + self.weak_weight[n]) / (total if total > 1e-12 else 1e-12)
        if covered > 1.0:
            covered = 1.0
        return a + (1.0 - a) * covered

    def union(self):
        """Step 1 (``ChangeFilter._union``): per row, the bound as if every changed name were
        one, bonus included; per flat position, its best similarity and list weight against
        any changed name."""
        cdef Py_ssize_t forms = self.form_row.shape[0], rows = self.bonus.shape[0], f, k, kind, r
        cdef int64_t s, rs, bits, bitno
        cdef bint single
        cdef double sims, info, matched, bound
        cdef Cover cover
        result = np.zeros(rows, dtype=np.float64)
        position_sims = np.zeros(self.tok.shape[0], dtype=np.float64)
        position_info = np.zeros(self.tok.shape[0], dtype=np.float64)
        cdef double[::1] out = result, out_sim = position_sims, out_info = position_info
        with nogil:
            for f in range(forms):
                r = self.form_row[f]
                rs = self.row_schema[r]
                cover.total = cover.exact = cover.other = cover.sigma = matched = 0.0
                for k in range(self.form_start[f], self.form_start[f + 1]):
                    sims = 0.0
                    info = 0.0
                    for kind in range(3):
                        s = self.s0[k] if kind == 0 else (self.s1[k] if kind == 1 else self.s2[k])
                        if s >= 0:
                            if self.best_sim[s] > sims:
                                sims = self.best_sim[s]
                            if kind < 2:  # a compound's list weight counts once, at its first token
                                info = info + self.best_info[s]
                    # initials: any changed name scored as a person with the letter
                    bits = self.token_bit[self.tok[k]]
                    single = self.single[self.tok[k]]
                    if ((self.person_starts[rs] if single else self.person_initials[rs]) & bits) != 0:
                        bitno = self.token_bitno[self.tok[k]]
                        if self.initial_sim > sims:
                            sims = self.initial_sim
                        info = info + (self.person_start_weight[rs * self.letters + bitno] if single
                                       else self.person_initial_weight[rs * self.letters + bitno])
                    out_sim[k] = sims
                    out_info[k] = info
                    matched = matched + info
                    _add(&cover, self.pos_weight[k], sims)
                bound = _q_cover(&cover) * _damp(matched, self.info_none, self.info_full)
                if bound > out[r]:
                    out[r] = bound
            for r in range(rows):
                out[r] = out[r] + (self.max_bonus if self.bonus[r] else 0.0)
        return result, position_sims, position_info

    def candidates(self, const int64_t[::1] forms, double band, const double[::1] light_sim, const double[::1] light_info, bint exact=False):
        """Candidate (form, changed name) pairs of these forms (ascending), with their rough
        bounds (``ChangeFilter._pairs``), and their number; ``light_sim``/``light_info`` per flat
        position: its best similarity and list weight against any changed name.  ``exact``: of
        those, the pairs whose exact bound reaches the band, with it (``_pair_bounds``)."""
        cdef Py_ssize_t count = self.count, longest = self.longest + 1
        cdef Touched names
        names.weight = <double *>malloc(count * sizeof(double))
        names.info = <double *>malloc(count * sizeof(double))
        names.seen = <uint8_t *>malloc(count * sizeof(uint8_t))
        names.order = <int64_t *>malloc(count * sizeof(int64_t))
        cdef int64_t *order = <int64_t *>malloc(longest * sizeof(int64_t))
        cdef int64_t *heavy = <int64_t *>malloc(longest * sizeof(int64_t))
        cdef int64_t *lettered = <int64_t *>malloc(longest * sizeof(int64_t))
        cdef Pairs out
        out.form = out.name = NULL
        out.bound = NULL
        out.size = out.capacity = 0
        cdef Py_ssize_t x, i, j, a, m, lo, hi, length, n_heavy, n_touched, n_lettered, kind
        cdef int64_t f, k, s, n, row, rs, bitno, key
        cdef double running = 0.0, mx = -1e308, w, before, total, bonus, limit, light_w, light_i
        cdef double partnered, matched, cover, rough, bound
        cdef Py_ssize_t bounded = 0
        cdef const int64_t *strings
        cdef const double *letter_weights
        try:
            if names.weight == NULL or names.info == NULL or names.seen == NULL or names.order == NULL or order == NULL or heavy == NULL or lettered == NULL:
                raise MemoryError()
            for i in range(count):
                names.seen[i] = 0
            with nogil:
                for x in range(forms.shape[0]):
                    f = forms[x]
                    lo, hi = self.form_start[f], self.form_start[f + 1]
                    length = hi - lo
                    # positions by weight, heaviest first (ties in position order)
                    for i in range(length):
                        k = lo + i
                        w = self.pos_weight[k]
                        j = i
                        while j > 0 and self.pos_weight[order[j - 1]] < w:
                            order[j] = order[j - 1]
                            j -= 1
                        order[j] = k
                    row = self.form_row[f]
                    rs = self.row_schema[row]
                    bonus = self.max_bonus if self.bonus[row] else 0.0
                    total = self.form_weight[f]
                    limit = total * (1.0 - (band - bonus)) + self.eps
                    # heavy: the weight before it (a running sum over all forms, as NumPy's cumsum)
                    # leaves too little for the band without it
                    n_heavy = 0
                    light_w = light_i = 0.0
                    for i in range(length):
                        k = order[i]
                        w = self.pos_weight[k]
                        running = running + w
                        before = running - w
                        if i == 0:
                            if before > mx:
                                mx = before
                        elif mx < 0.0:
                            mx = 0.0
                        before = before - mx
                        if before <= limit:
                            heavy[n_heavy] = k
                            n_heavy += 1
                        else:
                            light_w = light_w + w * (1.0 if light_sim[k] > 0 else 0.0)
                            light_i = light_i + light_info[k]
                    # the changed names partnering a heavy position: through its token, the
                    # compound it starts, the compound it ends ...
                    n_touched = 0
                    for kind in range(3):
                        strings = &self.s0[0] if kind == 0 else (&self.s1[0] if kind == 1 else &self.s2[0])
                        for i in range(n_heavy):
                            k = heavy[i]
                            s = strings[k]
                            if s < 0:
                                continue
                            for a in range(self.str_bounds[s], self.str_bounds[s + 1]):
                                n_touched = _touch(&names, n_touched, self.key_name[a], self.pos_weight[k], self.info[a])
                    # ... and, scored as people, through an initial: letter by letter
                    for kind in range(2):  # a full token against a listed initial; an initial against a listed token
                        letter_weights = &self.initial_weight[0] if kind == 0 else &self.start_weight[0]
                        n_lettered = 0
                        for i in range(n_heavy):
                            k = heavy[i]
                            if self.single[self.tok[k]] == kind and self.token_bitno[self.tok[k]] >= 0:
                                # by letter, stable: insertion by bit number
                                bitno = self.token_bitno[self.tok[k]]
                                j = n_lettered
                                while j > 0 and self.token_bitno[self.tok[lettered[j - 1]]] > bitno:
                                    lettered[j] = lettered[j - 1]
                                    j -= 1
                                lettered[j] = k
                                n_lettered += 1
                        for i in range(n_lettered):
                            k = lettered[i]
                            bitno = self.token_bitno[self.tok[k]]
                            m = kind * 64 + bitno
                            for a in range(self.bit_start[m], self.bit_start[m + 1]):
                                n = self.bit_names[a]
                                if self.as_person[rs * self.entity_schemas + self.name_schema[n]]:
                                    n_touched = _touch(&names, n_touched, n, self.pos_weight[k], letter_weights[n])
                    _sort(names.order, n_touched)
                    for i in range(n_touched):
                        n = names.order[i]
                        names.seen[n] = 0
                        partnered = names.weight[n] + light_w
                        matched = names.info[n] + light_i
                        cover = partnered / total if total > 1e-12 else 0.0
                        if cover > 1.0:
                            cover = 1.0
                        rough = cover * _damp(matched, self.info_none, self.info_full) * self.factor[n] + bonus
                        if rough >= band - self.eps:
                            key = rs * self.entity_schemas + self.name_schema[n]
                            rough = (rough - bonus) * self._list_side(n, self.as_person[key], matched) + bonus
                            if self.can_score[key] and rough >= band - self.eps:
                                bounded += 1
                                if not exact:
                                    _push(&out, f, n, rough)
                                else:
                                    bound = self._bound(f, n)
                                    if bound >= band - self.eps:
                                        _push(&out, f, n, bound)
            return (np.array(<int64_t[:out.size]>out.form, dtype=np.int64) if out.size else np.empty(0, dtype=np.int64),
                    np.array(<int64_t[:out.size]>out.name, dtype=np.int64) if out.size else np.empty(0, dtype=np.int64),
                    np.array(<double[:out.size]>out.bound, dtype=np.float64) if out.size else np.empty(0), bounded)
        finally:
            free(names.weight)
            free(names.info)
            free(names.seen)
            free(names.order)
            free(order)
            free(heavy)
            free(lettered)
            free(out.form)
            free(out.name)
            free(out.bound)

    cdef inline bint _find(self, int64_t s, int64_t n, Py_ssize_t *at) noexcept nogil:
        """Where string ``s`` pairs with changed name ``n`` in the links, if it does."""
        cdef Py_ssize_t lo = self.str_bounds[s], hi = self.str_bounds[s + 1], mid
        cdef int64_t key = s * self.count + n, slot = self.many_slot[s]
        if slot >= 0 and not ((self.many_bits[slot * self.words + (n >> 6)] >> (n & 63)) & 1):
            return False
        while lo < hi:
            mid = (lo + hi) >> 1
            if self.keys[mid] < key:
                lo = mid + 1
            else:
                hi = mid
        at[0] = lo
        return lo < self.str_bounds[s + 1] and self.keys[lo] == key

    cdef double _bound(self, int64_t f, int64_t n) noexcept nogil:
        """The exact bound of a (form, changed name) pair, bonus included (``ChangeFilter._pair_bounds``)."""
        cdef Py_ssize_t k, at, kind
        cdef int64_t row = self.form_row[f], s, bits
        cdef bint person = self.as_person[self.row_schema[row] * self.entity_schemas + self.name_schema[n]], single
        cdef double sims, info, v, matched = 0.0
        cdef Cover cover
        cover.total = cover.exact = cover.other = cover.sigma = 0.0
        for k in range(self.form_start[f], self.form_start[f + 1]):
            sims = 0.0
            info = 0.0
            for kind in range(3):
                s = self.s0[k] if kind == 0 else (self.s1[k] if kind == 1 else self.s2[k])
                v = 0.0
                if s >= 0 and self._find(s, n, &at):
                    if self.sim[at] > sims:
                        sims = self.sim[at]
                    v = self.info[at]
                if kind < 2:  # a compound's list weight counts once, at its first token
                    info = info + v
            # initials, for people
            bits = self.token_bit[self.tok[k]]
            single = self.single[self.tok[k]]
            if person and ((self.start_mask[n] if single else self.initial_mask[n]) & bits) != 0:
                if self.initial_sim > sims:
                    sims = self.initial_sim
                info = info + (self.start_weight[n] if single else self.initial_weight[n])
            matched = matched + info
            _add(&cover, self.pos_weight[k], sims)
        return (_q_cover(&cover) * _damp(matched, self.info_none, self.info_full) * self._list_side(n, person, matched)
                * self.factor[n] + (self.max_bonus if self.bonus[row] else 0.0))

    def bounds(self, const int64_t[::1] forms, const int64_t[::1] names):
        """The exact bound of each (form, changed name) pair, bonus included."""
        cdef Py_ssize_t x
        result = np.empty(forms.shape[0], dtype=np.float64)
        cdef double[::1] out = result
        with nogil:
            for x in range(forms.shape[0]):
                out[x] = self._bound(forms[x], names[x])
        return result

    def decide(self, const int64_t[::1] forms, const int64_t[::1] names, const double[::1] most, double band, double review,
               list vocab, list weights, list name_tokens, list name_weights, list name_weak, Py_ssize_t rows):
        """Step 3 (``ChangeFilter._decide``): score pairs (ordered row by row, most promising first)
        with the scorer until each row is decided.  Returns the rows a changed name brings to the
        review threshold, those it brings within the band (with their near miss: at least the
        best score, below the threshold) and the number of pairs scored."""
        cdef uint8_t[::1] state = np.zeros(rows, dtype=np.uint8)  # 1: reaches the threshold, 2: within the band
        cdef double[::1] close = np.zeros(rows, dtype=np.float64)
        cdef Py_ssize_t x, k, scored = 0
        cdef int64_t form, pos, n, last_form = -1
        cdef double score, cap
        cdef tuple tokens = ()
        cdef list form_weights = []
        for x in range(forms.shape[0]):
            form, n = forms[x], names[x]
            pos = self.form_row[form]
            if state[pos] == 1 or (state[pos] == 2 and close[pos] >= band and most[x] < review - self.eps):
                continue  # decided: it can reach the threshold / no better than what it has
            if form != last_form:
                tokens = tuple([vocab[self.tok[k]] for k in range(self.form_start[form], self.form_start[form + 1])])
                form_weights = [weights[self.tok[k]] for k in range(self.form_start[form], self.form_start[form + 1])]
                last_form = form
            scored += 1
            score = compare(tokens, form_weights, name_tokens[n], name_weights[n], name_weak[n],
                            self.as_person[self.row_schema[pos] * self.entity_schemas + self.name_schema[n]], False)
            score = score * self.factor[n] + (self.max_bonus if self.bonus[pos] else 0.0)
            if score >= review - self.eps:
                state[pos] = 1
            elif score >= band - self.eps:
                cap = review - self.eps if review - self.eps < most[x] else most[x]
                if state[pos] != 2 or cap > close[pos]:
                    close[pos] = cap
                state[pos] = 2
        high = np.flatnonzero(np.asarray(state) == 1)
        near = np.flatnonzero(np.asarray(state) == 2)
        return set(high.tolist()), dict(zip(near.tolist(), np.asarray(close)[near].tolist())), scored
