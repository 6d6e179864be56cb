"""Candidate generation: from a normalised query name to the few list names
worth scoring.

Each query token is looked up exactly, through the deletion neighbourhood
(one edit) and, for tokens without any hit, by edit distance among the list
tokens of about its length and first letter (two edits).  Names holding a
*rare* matched token are fetched from its postings and ranked by the weight
they share with the query (a list word counting at most its query word's
weight); a *common* token (in more than ``COMMON_DF`` names) fetches only the
names that also hold another common or weak query word, or, for a one-word
query, the names that are just that word.  So a query costs about the same on
a million names as on ten thousand.

Blocking never loses what brute-force Jaro-Winkler over all names would rank
first (issue #3, measured by ``benchmarks/accuracy/candidates_check.py``): the
name JW ranks first -- and every name tied with it -- among everything fetched
plus the names blocking leaves out but JW may prefer is always returned.
Those are the names of about the query's length holding one of its common
words, or one of its weak words when it has a single strong one; the
not-so-rare near-spellings of a correctly spelt query word; and, for a
one-word query, the one-word names of about its length with its first letter.

What a query word contributes is planned once and cached; a query's own work
happens in a dense work space reused from query to query (:class:`_Scratch`:
the weight each name shares, the names Jaro-Winkler looks at, each once).
Jaro-Winkler skips the names a bound on their similarity (from length, shared
characters and prefix) shows cannot reach the best candidate's, and the
two-edit search skips the tokens whose characters differ too much: the same
result for less work.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from itertools import groupby
from operator import itemgetter
from typing import Any, Callable, Iterable, Sequence

from rapidfuzz import process
from rapidfuzz.distance import OSA, JaroWinkler

from .index import COMMON_DF, MatchIndex
from .normalize import NameForm
from .score import token_sim

_CACHE_LIMIT = 200_000
#: Rough similarity of a three-letter query word to a four-letter list word it
#: is a deletion of (used to fetch candidates; scoring decides).
SHORT_SIM = 0.5
#: The best few candidates are always returned, whatever their rough score.
KEEP = 3
#: When a query word is spelt as a list word, its one-edit neighbours are fetched
#: only if they are this rare (the others are only looked at by Jaro-Winkler).
NEIGHBOUR_DF = 20
#: Most names of one intersection of two common (or common and weak) words
#: looked at by Jaro-Winkler, the lightest first; the first ``4 * limit`` not
#: yet fetched are ranked too (with equal shares the lightest rank first).
MAX_INTERSECTION = 200
#: Jaro-Winkler also looks at the names whose key is at most this many
#: characters longer or shorter than the query's that hold one of its common
#: words (or weak words, when it has one strong word), or, for a one-word
#: query, that are one word with its first letter.
WINDOW = 2
#: Most names one word adds that way (the closest in length first).
MAX_WINDOW = 512
#: Names the first Jaro-Winkler pass returns; when they all tie, a second pass
#: returns every tied name.
JW_PROBE = 4
#: A lone common query word fetches all its names when it has at most this many.
SCAN_COMMON = 2000
#: JW scores this close count as ties, and score_cutoff stays this far below a
#: score (rapidfuzz 3.14 may drop a JW score lying within ~1e-8 above score_cutoff).
_JW_MARGIN = 1e-6
_PLAN_LIMIT = 50_000
_UNION_LIMIT = 1_000
_EMPTY: tuple = ((), array("i"))
#: ``_Scratch.state`` bits: the name has a shared weight / is in the Jaro-Winkler pool /
#: is among the names of the plan :meth:`_Scratch.gather` is making.
_REACHED = 1
_POOLED = 2
_PLANNED = 4
#: :func:`_popcount` masks.
_ODD_BITS = 0x5555555555555555
_BIT_PAIRS = 0x3333333333333333
_NIBBLES = 0x0F0F0F0F0F0F0F0F
_LOW_WORD = 0xFFFFFFFF
#: Whether this module runs compiled: the character bounds (on Jaro-Winkler in
#: :meth:`_Scratch.pool_keys`, on edits in :func:`_near`) save more than they cost only then.
_COMPILED = not __file__.endswith(".py")


def _fetch_sim(a: str, b: str) -> float:
    """Lenient similarity used only to fetch candidates: like
    :func:`~.score.token_sim`, but also for short and alphanumeric tokens
    (call signs, vessel numbers, three-letter words); scoring stays strict."""
    sim = token_sim(a, b)
    if sim:
        return sim
    longest = max(len(a), len(b))
    allowed = 2 if longest >= 5 else 1
    if abs(len(a) - len(b)) > allowed:
        return 0.0
    distance = OSA.distance(a, b, score_cutoff=allowed)
    return SHORT_SIM * (1.0 - distance / longest) if distance <= allowed else 0.0


def _cache(index: MatchIndex, name: str, make: Callable[[], Any] = dict) -> Any:
    """What matching keeps in the index's ``__dict__`` under ``name`` (not pickled), made
    by ``make()`` on first use (two threads may both make it: the first kept wins)."""
    found = index.__dict__.get(name)
    if found is None:
        found = index.__dict__.setdefault(name, make())
    return found


def token_matches(index: MatchIndex, token: str) -> tuple[tuple[int, float], ...]:
    """(token id, similarity) of the list tokens a query token may stand for."""
    cache = _cache(index, "_token_cache")
    hit = cache.get(token)
    if hit is not None:
        return hit
    tid = index.vocab.get(token)
    if tid is not None and index.neighbours:
        result = index.neighbours[tid]  # a list token: computed at build
    else:
        result = _token_matches(index, token, tid)
    if len(cache) > _CACHE_LIMIT:
        cache.clear()
    cache[token] = result
    return result


def _token_matches(index: MatchIndex, token: str, tid: int | None) -> tuple[tuple[int, float], ...]:
    """:func:`token_matches` worked out: the token itself if listed, tokens one deletion
    away either way, else tokens two edits away (up to ten)."""
    vocab, tokens = index.vocab, index.tokens
    found: dict[int, float] = {}
    if tid is not None:
        found[tid] = 1.0
    if len(token) >= 3:
        possible: set[int] = set(index.deletes.get(token, ()))
        if len(token) >= 4:
            for deleted in set(_deletions(token)):
                t = vocab.get(deleted)
                if t is not None:
                    possible.add(t)
                possible.update(index.deletes.get(deleted, ()))
        possible.discard(tid)  # type: ignore[arg-type]
        for t in sorted(possible):  # the same order whatever the hash seed
            s = _fetch_sim(token, tokens[t])
            if s:
                found[t] = s
        if len(found) == 0 and len(token) >= 4:
            # two edits: edit distance among list tokens of about the same length and first letter
            allowed = 2
            for length in range(len(token) - allowed, len(token) + allowed + 1):
                key = (token[0], length)
                found_bucket = index.buckets.get(key)
                if not found_bucket:
                    continue
                bucket, texts = found_bucket
                if _COMPILED:
                    # only the tokens a character bound leaves within two edits: the same best
                    # ten (fewest edits, then first in the bucket) for a fraction of the work
                    near = _near(_bucket_letters(index, key), _letters(token))
                    choices = [texts[n] for n in near]
                else:
                    near, choices = range(len(texts)), texts
                for _, distance, k in process.extract(token, choices, scorer=OSA.distance, score_cutoff=allowed, limit=10):
                    s = _fetch_sim(token, choices[k])
                    if s:
                        found[bucket[near[k]]] = s
    return tuple(found.items())


def _deletions(token: str) -> list[str]:
    """The strings of ``token`` with one character deleted (the index's deletion keys too)."""
    out = []
    for i in range(len(token)):
        out.append(token[:i] + token[i + 1 :])
    return out


def _bucket_letters(index: MatchIndex, key: tuple[str, int]) -> array:
    """The :func:`_letters` of each token of ``index.buckets[key]`` (cached)."""
    cache = _cache(index, "_bucket_cache")
    found = cache.get(key)
    if found is None:
        texts = index.buckets[key][1]
        found = array("Q", bytes(8 * len(texts)))
        for k in range(len(texts)):
            found[k] = _letters(texts[k])
        cache[key] = found
    return found


def _near(letters: Sequence[int], mask: int) -> list[int]:
    """The positions of the masks of ``letters`` that differ from ``mask`` by at
    most two characters each way; the others are more than two edits away (a
    character one token lacks takes an edit of its own to remove from or add to
    the other: a substitution serves one each way, a transposition none)."""
    out = []
    for k in range(len(letters)):
        other = letters[k]
        if _at_most_two(mask & ~other) and _at_most_two(other & ~mask):
            out.append(k)
    return out


def _letters(text: str) -> int:
    """The characters of ``text`` as bits of a mask (a few share a bit)."""
    mask = 0
    one = 1
    for c in text:
        mask |= one << (ord(c) % 63)
    return mask


def _at_most_two(bits: int) -> bool:
    """Whether at most two bits of ``bits`` are set."""
    bits &= bits - 1
    bits &= bits - 1
    return bits == 0


def _posting_set(index: MatchIndex, tid: int) -> frozenset[int]:
    cache = _cache(index, "_set_cache")
    found = cache.get(tid)
    if found is None:
        found = cache[tid] = frozenset(index.postings[tid])
    return found


def _plan(index: MatchIndex, token: str, scratch: _Scratch) -> tuple:
    """What a query word contributes, the same in every query (cached):
    ``(query weight, names, gains, common, common gain)``; see :func:`_new_plan`."""
    cache = _cache(index, "_plan_cache")
    plan = cache.get(token)
    if plan is None:
        plan = _new_plan(index, token, scratch)
        if len(cache) > _PLAN_LIMIT:
            cache.clear()
        cache[token] = plan
    return plan


def _new_plan(index: MatchIndex, token: str, scratch: _Scratch) -> tuple:
    """The plan of a query word not planned yet.

    The fetched names are those of the rare list words it matches, each with
    the best gain of those words: a list word's gain is its weight (at most the
    query word's own: a rare near-spelling of a common word must not outweigh
    the word itself) times the similarity.  *common* are the common list words
    it matches (they only narrow).  *names* are those Jaro-Winkler looks at,
    each once: the ``len(gains)`` names fetched, then those of the not-so-rare
    near-spellings of a correctly spelt query word (not fetched)."""
    weights = index.weight
    postings = index.postings
    matches = token_matches(index, token)
    listed = index.vocab.get(token)
    exact = listed is not None
    q_weight = weights[listed] if exact else index.token_weight(token)  # inlined for a listed word
    if not matches:
        return (q_weight, array("i"), (), (), 0.0)
    q_part = q_weight
    if not exact:
        top = -1.0
        for tid, sim in matches:
            if weights[tid] * sim > top:
                top = weights[tid] * sim
        q_part = top if top < q_weight else q_weight
    fetched: list[tuple[float, int, tuple[int, ...]]] = []  # (gain, list word, postings)
    common: list[int] = []
    skipped: list[tuple[int, ...]] = []  # postings of near-spellings of a correctly spelt word: only looked at
    common_gain = 0.0
    for tid, sim in matches:
        plist = postings[tid]
        weight = weights[tid] if weights[tid] < q_weight else q_weight
        if len(plist) > COMMON_DF:
            common.append(tid)
            if weight > common_gain:
                common_gain = weight
        elif exact and sim < 1.0 and len(plist) > NEIGHBOUR_DF:
            skipped.append(plist)
        else:
            fetched.append((weight * sim, tid, plist))
    fetched.sort(key=itemgetter(0))
    names, gains = scratch.gather(fetched, skipped)
    return (q_part, names, gains, tuple(common), common_gain)


class _Scratch:
    """The work space of one query, reused by the next: the weight each name
    shares with the query (dense, by name id: no dict to fill and empty) and,
    in order, the names reached (``touched``) and those Jaro-Winkler looks at
    (``pool``, each once).  :meth:`clear` resets only what the query touched,
    so a query costs what it reaches, not the size of the list."""

    def __init__(self, index: MatchIndex) -> None:
        size = index.name_count
        self.totals = index.name_total
        self.signatures = _signatures(index)
        self.shared = array("d", bytes(8 * size))
        self.state = array("B", bytes(size))  # _REACHED | _POOLED | _PLANNED
        self.order = array("i", bytes(4 * size))  # gather(): the names met, in order
        self.which = array("i", bytes(4 * size))  # gather(): a name's (last) fetched list
        self.touched = array("i", bytes(4 * size))
        self.pool = array("i", bytes(4 * size))
        self.ntouched = 0
        self.npool = 0
        self.top_score = array("d")
        self.top_name = array("i")

    def _reach(self, nid: int, shared: float) -> None:
        self.state[nid] |= _REACHED
        self.shared[nid] = shared
        self.touched[self.ntouched] = nid
        self.ntouched += 1

    def add(self, names: Sequence[int], gains: tuple[float, ...]) -> None:
        """Add ``gains[k]`` to the weight name ``names[k]`` shares (for the first
        ``len(gains)``), and put ``names`` in the pool (a query word's plan)."""
        state = self.state
        shared = self.shared
        for k in range(len(gains)):
            nid = names[k]
            if state[nid] & _REACHED:
                shared[nid] += gains[k]
            else:
                self._reach(nid, gains[k])
        self.pool_add(names, 0, len(names))

    def put(self, ids: Iterable[int], shared: float) -> None:
        """Set the weight names ``ids`` share to ``shared``."""
        for nid in ids:
            if self.state[nid] & _REACHED:
                self.shared[nid] = shared
            else:
                self._reach(nid, shared)

    def add_holding(self, members: frozenset[int], gain: float) -> None:
        """Add ``gain`` to the names reached that are ``members``."""
        touched = self.touched
        for k in range(self.ntouched):
            nid = touched[k]
            if nid in members:
                self.shared[nid] += gain

    def reach(self, ids: Sequence[int], gain: float, others: list, most: int) -> None:
        """Reach the first ``most`` names of ``ids`` not reached yet, each sharing
        ``gain`` plus the gain of every ``(gain, names)`` of ``others`` it is one of."""
        added = 0
        for k in range(len(ids)):
            nid = ids[k]
            if self.state[nid] & _REACHED:
                continue
            shared = gain
            for g, members in others:
                if nid in members:
                    shared += g
            self._reach(nid, shared)
            added += 1
            if added >= most:
                break

    def pool_add(self, ids: Sequence[int], a: int, b: int) -> None:
        """Put names ``ids[a:b]`` in the pool, those not in it yet."""
        state = self.state
        pool = self.pool
        npool = self.npool
        for k in range(a, b):
            nid = ids[k]
            if not state[nid] & _POOLED:
                state[nid] |= _POOLED
                pool[npool] = nid
                npool += 1
        self.npool = npool

    def gather(self, fetched: list, looked: list) -> tuple[array, tuple]:
        """The names of a word's plan and their gains: those of the postings of
        ``fetched`` (``(gain, list word, postings)`` by rising gain) in the order first
        met, each with the last (best) gain it meets, then those of the postings
        ``looked`` not met yet (no gain).  Each name once, without a dict per word:
        the ``_PLANNED`` state bit marks the names met (cleared before returning)."""
        state = self.state
        order = self.order
        which = self.which
        sources = [x[2] for x in fetched] + looked
        nf = len(fetched)
        count = nfetched = 0
        for f in range(len(sources)):
            plist = sources[f]
            for k in range(len(plist)):
                nid = plist[k]
                if not state[nid] & _PLANNED:
                    state[nid] |= _PLANNED
                    order[count] = nid
                    count += 1
                if f < nf:
                    which[nid] = f
            if f == nf - 1:
                nfetched = count
        names = array("i", bytes(4 * count))
        view = names
        gains = []
        for k in range(count):
            nid = order[k]
            view[k] = nid
            state[nid] &= ~_PLANNED
            if k < nfetched:
                gains.append(fetched[which[nid]][0])
        return names, tuple(gains)

    def pool_keys(self, keys: list[str], qkey: str, floor: float) -> list[str]:
        """The keys of the names in the pool, in its order, after dropping from
        the pool the names whose Jaro-Winkler similarity with ``qkey`` cannot
        reach ``floor``: by their length, then by the characters and prefix
        they share with it (:func:`_jw_ceiling`, from their :func:`_signatures`)."""
        state = self.state
        pool = self.pool
        signatures = self.signatures
        size = len(qkey)
        shortest, longest = _jw_lengths(size, floor)
        mask = _letters(qkey)
        repeats = size - _popcount(mask)  # characters beyond the first of each kind
        start = _start(qkey)
        out = []
        kept = 0
        for k in range(self.npool):
            nid = pool[k]
            if floor > 0.0 and _COMPILED:
                other = signatures[2 * nid]
                if other == 0:  # not made yet
                    other = _letters(keys[nid])
                    signatures[2 * nid] = other
                    signatures[2 * nid + 1] = len(keys[nid]) << 32 | _start(keys[nid])
                length = signatures[2 * nid + 1] >> 32
                if not shortest <= length <= longest or _jw_ceiling(
                    size,
                    length,
                    _popcount(mask & other) + min(repeats, length - _popcount(other)),
                    _common_start(start, signatures[2 * nid + 1] & _LOW_WORD),
                ) < floor:
                    state[nid] &= ~_POOLED
                    continue
            pool[kept] = nid
            kept += 1
            out.append(keys[nid])
        self.npool = kept
        return out

    def ranked(self, iq: float, floor: float, most: int) -> tuple[list[tuple[float, int]], int]:
        """The ``most`` highest (rough score, name id) of the names reached sharing
        at least ``floor``, highest first (= ``sorted(..., reverse=True)[:most]``
        without a tuple per name), and how many names share that much."""
        if len(self.top_score) < most:
            self.top_score = array("d", bytes(8 * most))
            self.top_name = array("i", bytes(4 * most))
        top_score = self.top_score
        top_name = self.top_name
        touched = self.touched
        shared = self.shared
        count = 0
        kept = 0
        for k in range(self.ntouched):
            nid = touched[k]
            g = shared[nid]
            if g < floor:
                continue
            count += 1
            kept = _insert(top_score, top_name, kept, most, _rough_score(g, self.totals[nid], iq), nid)
        out = []
        for i in range(kept):
            out.append((top_score[i], top_name[i]))
        return out, count

    def clear(self) -> None:
        """Forget the query (only what it touched)."""
        state = self.state
        touched = self.touched
        pool = self.pool
        for k in range(self.ntouched):
            nid = touched[k]
            self.shared[nid] = 0.0
            state[nid] = 0
        for k in range(self.npool):
            state[pool[k]] = 0
        self.ntouched = 0
        self.npool = 0


def candidates(index: MatchIndex, form: NameForm, limit: int = 30, minimum: float = 0.0) -> list[tuple[float, int]]:
    """Up to ``limit`` (rough score, name id) with rough score >= ``minimum``, best first,
    plus the ``KEEP`` best by rough score whatever their score, plus the name
    Jaro-Winkler ranks first among those fetched and those blocking leaves out
    but JW may prefer (every name tied with it too; see the module docstring).

    The rough score is ``min(shared, name) / query * (0.55 + 0.45 * min(1, shared / name))``
    over the strong query tokens' weights (a query word counts once per name)."""
    # work spaces not in use (a list: threads may match at the same time; list.pop and append are atomic)
    free = _cache(index, "_scratch", list)
    try:
        scratch = free.pop()
    except IndexError:
        scratch = _Scratch(index)
    found = _candidates(index, form, limit, minimum, scratch)
    scratch.clear()
    free.append(scratch)  # only after a clean finish: an exception drops the work space
    return found


def _candidates(index: MatchIndex, form: NameForm, limit: int, minimum: float, scratch: _Scratch) -> list[tuple[float, int]]:
    weights = index.weight
    vocab = index.vocab
    common: list[tuple[float, tuple[int, ...]]] = []
    unfetched: list[int] = []  # common list words matched: their names are not all fetched
    q_total = 0.0
    strong = [t for t, w in zip(form.tokens, form.weak) if not w] or list(form.tokens)
    # compounds: "hik vision" may be listed as "hikvision"
    looked = strong + [a + b for a, b in zip(strong, strong[1:]) if a + b in vocab]
    plans = _cache(index, "_plan_cache")
    for token in looked:
        q_part, names, gains, big, big_gain = plans.get(token) or _plan(index, token, scratch)
        q_total += q_part
        scratch.add(names, gains)
        if big:
            unfetched.extend(big)
            common.append((big_gain, big))
    weak_words = set(form.tokens) - set(strong)
    if common:
        if scratch.ntouched:
            for gain, big in common:
                scratch.add_holding(_members(index, big), gain)
        # weak words ("abu ahmad", "bank oao") narrow common ones (never weak with weak)
        weak_sets = [(weights[t], (t,)) for w in weak_words if (t := vocab.get(w)) is not None]
        entries = common + weak_sets
        for i in range(len(common)):
            gain, big = common[i]
            for j in range(i + 1, len(entries)):
                gain2, big2 = entries[j]
                ids = _intersection(index, big, big2)
                scratch.pool_add(ids, 0, len(ids))
                # a name shares every common or weak query word it holds; the lightest first
                others = [(g, _members(index, b)) for k, (g, b) in enumerate(entries) if k != i and k != j]
                scratch.reach(ids, gain + gain2, others, 4 * limit)
        if not scratch.ntouched:
            gain, big = common[0]
            members = _members(index, big)
            if len(members) <= SCAN_COMMON:
                # one common word and nothing rarer: rank its names (few enough)
                scratch.put(members, gain)
            elif len(strong) == 1:
                for tid, _ in token_matches(index, strong[0]):
                    scratch.put(index.solo.get(tid, ()), weights[tid])
            scratch.pool_add(scratch.touched, 0, scratch.ntouched)
    if len(strong) == 1:
        # the only strong word may be misspelt beyond finding: its weak words lead too
        unfetched.extend([t for w in weak_words if (t := vocab.get(w)) is not None])
    # the names Jaro-Winkler looks at: everything fetched, and more
    qkey = form.key
    size = len(qkey)
    for tid in set(unfetched):
        lens, ids = _by_length(index, tid)
        a, b = _window(lens, size)
        scratch.pool_add(ids, a, b)
    if len(form.tokens) == 1:
        lens, ids = _single_names(index).get(qkey[:1], _EMPTY)
        a, b = _window(lens, size)
        scratch.pool_add(ids, a, b)
    if not scratch.npool:
        return []
    q_total = q_total or 1.0
    totals = index.name_total
    iq = 1.0 / q_total
    # rough score: the shared weight (at most the name's) over the query's, less for a longer name
    floor = minimum * q_total  # rough >= minimum needs shared >= minimum * query
    scored, count = scratch.ranked(iq, floor, limit)
    if count < KEEP < scratch.ntouched:
        # the KEEP best whatever their score: those sharing half the floor, else any
        most = min(KEEP, limit)
        scored, count = scratch.ranked(iq, floor / 2, most)
        if count < KEEP:
            scored, count = scratch.ranked(iq, float("-inf"), most)
    if scratch.npool > len(scored):
        # never lose what Jaro-Winkler ranks first: only names at least as close
        # as the best candidate can be (or tie with) it; with ties, the first in the pool first
        keys = index.name_keys
        jw = JaroWinkler.normalized_similarity
        cutoff = max(0.0, jw(qkey, keys[scored[0][1]]) - _JW_MARGIN) if scored else 0.0
        # a tie with the best found scores at least cutoff - _JW_MARGIN (the second pass's cutoff)
        pool_keys = scratch.pool_keys(keys, qkey, cutoff - _JW_MARGIN - _JW_MARGIN)
        found = process.extract(qkey, pool_keys, scorer=jw, limit=JW_PROBE, score_cutoff=cutoff)
        if len(found) == JW_PROBE and found[-1][1] >= found[0][1] - _JW_MARGIN:
            # more ties (the same key in several names): all of them
            found = process.extract(qkey, pool_keys, scorer=jw, score_cutoff=found[0][1] - _JW_MARGIN, limit=None)
        if found:
            best = found[0][1] - _JW_MARGIN
            chosen = {n for _, n in scored}
            for _, score, k in found:
                if score < best:
                    break
                nid = scratch.pool[k]
                if nid not in chosen:
                    chosen.add(nid)
                    scored.append((_rough_score(scratch.shared[nid], totals[nid], iq), nid))
    return scored


def _insert(scores: Sequence[float], names: Sequence[int], kept: int, most: int, score: float, nid: int) -> int:
    """Insert ``(score, nid)`` into the ``kept`` highest pairs so far (in ``scores``
    and ``names``, highest first) if it is among the ``most`` highest; how many are kept."""
    if kept == most and not (most and _above(score, nid, scores[most - 1], names[most - 1])):
        return kept
    i = kept if kept < most else most - 1
    while i > 0 and _above(score, nid, scores[i - 1], names[i - 1]):
        scores[i] = scores[i - 1]
        names[i] = names[i - 1]
        i -= 1
    scores[i] = score
    names[i] = nid
    return kept + 1 if kept < most else kept


def _lightest(ids: Iterable[int], totals: Sequence[float], most: int) -> array:
    """``sorted(sorted(ids), key=totals.__getitem__)[:most]``: the ``most`` names of
    least total weight, lightest first (the first among equals), without sorting them all."""
    score = array("d", bytes(8 * most))
    name = array("i", bytes(4 * most))
    scores = score
    names = name
    kept = 0
    for nid in ids:  # the highest (-total, -id) are the lowest (total, id)
        kept = _insert(scores, names, kept, most, -totals[nid], -nid)
    out = array("i", bytes(4 * kept))
    view = out
    for i in range(kept):
        view[i] = -names[i]
    return out


def _above(score: float, nid: int, score2: float, nid2: int) -> bool:
    """``(score, nid) > (score2, nid2)``, the order of the candidates (highest first)."""
    return score > score2 or (score == score2 and nid > nid2)


def _rough_score(shared: float, total: float, iq: float) -> float:
    """The shared weight (at most the name's ``total``) over the query's (``iq`` is its
    inverse), less for a longer name."""
    if shared < total:
        return shared * iq * (0.55 + 0.45 * shared / total)
    return total * iq


def _jw_ceiling(a: int, b: int, common: int, start: int) -> float:
    """The highest Jaro-Winkler similarity of strings of ``a`` and ``b``
    characters with at most ``common`` characters in common and a common
    prefix of at most ``start``: as if those all matched, without transpositions."""
    if a == 0 or b == 0:
        return 1.0 if a == b else 0.0
    m = min(common, a, b)
    if m <= 0:
        return 0.0
    jaro = (m / a + m / b + 1.0) / 3.0
    if jaro > 0.7:
        return jaro + min(start, a, b, 4) * 0.1 * (1.0 - jaro)
    return jaro


def _jw_lengths(size: int, floor: float) -> tuple[int, int]:
    """The shortest and longest keys that may reach Jaro-Winkler similarity
    ``floor`` with a key of ``size`` characters.  At best (the shorter key all
    matching, no transposition, the longest prefix bonus) two keys score
    ``0.8 + 0.2 * shorter / longer``; widened by a character against rounding."""
    excess = floor - 0.8
    if excess <= 0.0:
        return 0, 2**31
    return int(size * excess / 0.2) - 1, int(min(0.2 * size / excess, 2.0**31)) + 1


def _signatures(index: MatchIndex) -> array:
    """Per name ``n``, at ``2n`` the :func:`_letters` of its key, at ``2n + 1`` its
    length times 2**32 plus its :func:`_start`; 0 until :meth:`_Scratch.pool_keys`
    first meets the name (two threads may both make it: the same values)."""
    return _cache(index, "_signature_cache", lambda: array("Q", bytes(16 * index.name_count)))


def _popcount(bits: int) -> int:
    """The number of bits set in ``bits`` (< 2**63)."""
    bits = bits - ((bits >> 1) & _ODD_BITS)
    bits = (bits & _BIT_PAIRS) + ((bits >> 2) & _BIT_PAIRS)
    bits = (bits + (bits >> 4)) & _NIBBLES
    bits = bits + (bits >> 8)
    bits = bits + (bits >> 16)
    bits = bits + (bits >> 32)
    return bits & 0x7F


def _start(text: str) -> int:
    """The first four characters of ``text`` as the bytes of an int, from the
    lowest (0 past its end; a few characters share a byte value)."""
    code = 0
    for i in range(min(4, len(text))):
        code |= (ord(text[i]) % 255 + 1) << (8 * i)
    return code


def _common_start(a: int, b: int) -> int:
    """How many of the first four characters two :func:`_start` codes share."""
    x = a ^ b
    n = 0
    while n < 4 and not (x >> (8 * n)) & 255:
        n += 1
    return n


def _window(lens: Sequence[int], size: int) -> tuple[int, int]:
    """The slice of ``lens`` (sorted) within ``WINDOW`` of ``size``, narrowed
    around ``size`` to at most ``MAX_WINDOW`` names (a common word of a large list)."""
    a, b = bisect_left(lens, size - WINDOW), bisect_right(lens, size + WINDOW)
    width = WINDOW
    while b - a > MAX_WINDOW and width > 0:
        width -= 1
        a, b = bisect_left(lens, size - width), bisect_right(lens, size + width)
    if b - a > MAX_WINDOW:
        b = a + MAX_WINDOW
    return a, b


def _members(index: MatchIndex, big: tuple[int, ...]) -> frozenset[int]:
    """The names holding any of the list words ``big`` (cached)."""
    if len(big) == 1:
        return _posting_set(index, big[0])
    cache = _cache(index, "_union_cache")
    found = cache.get(big)
    if found is None:
        if len(cache) > _UNION_LIMIT:
            cache.clear()
        found = cache[big] = frozenset().union(*(_posting_set(index, t) for t in big))
    return found


def _intersection(index: MatchIndex, big: tuple[int, ...], big2: tuple[int, ...]) -> array:
    """The ``MAX_INTERSECTION`` names of least weight holding one of ``big`` and
    one of ``big2``, lightest first (cached)."""
    cache = _cache(index, "_pair_cache")
    key = (big, big2)
    found = cache.get(key)
    if found is None:
        if big == big2:
            # a query word repeated ("abdullah abdullah"): the names holding it twice
            words = set(big)
            tokens = index.name_tokens
            both: Iterable[int] = [n for n in _members(index, big) if sum(t in words for t in tokens[n]) >= 2]
        else:
            both = _members(index, big) & _members(index, big2)
        found = _lightest(both, index.name_total, MAX_INTERSECTION)
        if len(cache) > _PLAN_LIMIT:
            cache.clear()
        cache[key] = found
    return found


def _by_length(index: MatchIndex, tid: int) -> tuple[list[int], array]:
    """The names holding list word ``tid``, sorted by key length: (lengths, ids) (cached)."""
    cache = _cache(index, "_length_cache")
    found = cache.get(tid)
    if found is None:
        found = cache[tid] = _by_size(index.postings[tid], _key_sizes(index))
    return found


def _by_size(ids: tuple[int, ...], sizes: list[int]) -> tuple[list[int], array]:
    """``sorted(ids, key=sizes.__getitem__)`` and those sizes, by a counting sort
    (the sizes are small; a common word of a large list has many names)."""
    longest = 0
    for k in range(len(ids)):
        longest = max(longest, sizes[ids[k]])
    count = array("i", bytes(4 * (longest + 1)))
    counts = count
    for k in range(len(ids)):
        counts[sizes[ids[k]]] += 1
    lens: list[int] = []
    start = array("i", bytes(4 * (longest + 1)))
    starts = start  # where the names of each size go
    total = 0
    for size in range(longest + 1):
        starts[size] = total
        total += counts[size]
        lens += [size] * counts[size]
    out = array("i", bytes(4 * len(ids)))
    view = out
    for k in range(len(ids)):
        size = sizes[ids[k]]
        view[starts[size]] = ids[k]
        starts[size] += 1
    return lens, out


def _key_sizes(index: MatchIndex) -> list[int]:
    """The length of every name's key (built once)."""
    return _cache(index, "_size_cache", lambda: list(map(len, index.name_keys)))


def _single_names(index: MatchIndex) -> dict[str, tuple[list[int], array]]:
    """One-word names by first letter, sorted by length: (lengths, ids) (built once)."""
    return _cache(index, "_single_cache", lambda: _group_single_names(index))


def _group_single_names(index: MatchIndex) -> dict[str, tuple[list[int], array]]:
    keys = index.name_keys
    sizes = _key_sizes(index)
    ones = [n for n, tokens in enumerate(index.name_tokens) if len(tokens) == 1]
    ones.sort(key=sizes.__getitem__)
    ones.sort(key=lambda n: keys[n][:1])  # stable: by first letter, then length
    found = {}
    for first, group in groupby(ones, key=lambda n: keys[n][:1]):
        ids = list(group)
        found[first] = (list(map(sizes.__getitem__, ids)), array("i", ids))
    return found
