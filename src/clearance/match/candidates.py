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
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from itertools import chain, groupby
from operator import itemgetter
from typing import Iterable, Sequence

from rapidfuzz import process
from rapidfuzz.distance import OSA, JaroWinkler

from .index import COMMON_DF, MatchIndex, _deletes
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
_EMPTY: tuple = ((), (), ())


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


def token_matches(index: MatchIndex, token: str) -> tuple[tuple[int, float], ...]:
    """(token id, similarity) of the list tokens a query token may stand for."""
    cache = index.__dict__.setdefault("_token_cache", {})
    hit = cache.get(token)
    if hit is not None:
        return hit
    vocab = index.vocab
    tokens = index.tokens
    found: dict[int, float] = {}
    tid = vocab.get(token)
    if tid is not None:
        found[tid] = 1.0
    if len(token) >= 3:
        possible: set[int] = set(index.deletes.get(token, ()))
        if len(token) >= 4:
            for deleted in set(_deletes(token)):
                t = vocab.get(deleted)
                if t is not None:
                    possible.add(t)
                possible.update(index.deletes.get(deleted, ()))
        possible.discard(tid)  # type: ignore[arg-type]
        for t in possible:
            s = _fetch_sim(token, tokens[t])
            if s:
                found[t] = s
        if len(found) == 0 and len(token) >= 4:
            # two edits: edit distance among list tokens of about the same length and first letter
            allowed = 2
            for length in range(len(token) - allowed, len(token) + allowed + 1):
                found_bucket = index.buckets.get((token[0], length))
                if not found_bucket:
                    continue
                bucket, texts = found_bucket
                for _, distance, k in process.extract(token, texts, scorer=OSA.distance, score_cutoff=allowed, limit=10):
                    s = _fetch_sim(token, texts[k])
                    if s:
                        found[bucket[k]] = s
    result = tuple(found.items())
    if len(cache) > _CACHE_LIMIT:
        cache.clear()
    cache[token] = result
    return result


def _posting_set(index: MatchIndex, tid: int) -> frozenset[int]:
    cache = index.__dict__.setdefault("_set_cache", {})
    found = cache.get(tid)
    if found is None:
        found = cache[tid] = frozenset(index.postings[tid])
    return found


def _plan(index: MatchIndex, token: str) -> tuple:
    """What a query word contributes, the same in every query (cached):
    ``(query weight, fetched, common, common gain, looked-at ids, their keys)``.

    *fetched* is ``(postings, gain)`` per rare list word it matches, lowest gain
    first; a list word's gain is its weight (at most the query word's own: a
    rare near-spelling of a common word must not outweigh the word itself)
    times the similarity.  *common* are the common list words it matches (they
    only narrow).  The last two list the names Jaro-Winkler looks at through
    this word: those fetched and those of the not-so-rare near-spellings of a
    correctly spelt query word (not fetched)."""
    cache = index.__dict__.setdefault("_plan_cache", {})
    plan = cache.get(token)
    if plan is not None:
        return plan
    weights = index.weight
    postings = index.postings
    matches = token_matches(index, token)
    q_weight = index.token_weight(token)
    if not matches:
        plan = (q_weight, (), (), 0.0, (), ())
    else:
        exact = token in index.vocab
        q_part = q_weight if exact else min(q_weight, max(weights[t] * s for t, s in matches))
        fetched: list[tuple[float, int, tuple[int, ...]]] = []  # (gain, list word, postings)
        common: list[int] = []
        skipped: list[int] = []  # near-spellings of a correctly spelt word: only looked at
        common_gain = 0.0
        for tid, sim in matches:
            plist = postings[tid]
            weight = weights[tid] if weights[tid] < q_weight else q_weight
            if len(plist) > COMMON_DF:
                common.append(tid)
                common_gain = max(common_gain, weight)
            elif exact and sim < 1.0 and len(plist) > NEIGHBOUR_DF:
                skipped.append(tid)
            else:
                fetched.append((weight * sim, tid, plist))
        fetched.sort(key=itemgetter(0))
        ids = tuple(chain.from_iterable([p for _, _, p in fetched] + [postings[t] for t in skipped]))
        texts = tuple(map(index.name_keys.__getitem__, ids))
        plan = (q_part, tuple([(p, g) for g, _, p in fetched]), tuple(common), common_gain, ids, texts)
    if len(cache) > _PLAN_LIMIT:
        cache.clear()
    cache[token] = plan
    return plan


def candidates(index: MatchIndex, form: NameForm, limit: int = 30, minimum: float = 0.0) -> list[tuple[float, int]]:
    """Up to ``limit`` (rough score, name id) with rough score >= ``minimum``, best first,
    plus the ``KEEP`` best by rough score whatever their score, plus the name
    Jaro-Winkler ranks first among those fetched and those blocking leaves out
    but JW may prefer (every name tied with it too; see the module docstring).

    The rough score is ``min(shared, name) / query * (0.55 + 0.45 * min(1, shared / name))``
    over the strong query tokens' weights (a query word counts once per name)."""
    weights = index.weight
    vocab = index.vocab
    acc: dict[int, float] = {}
    common: list[tuple[float, tuple[int, ...]]] = []
    unfetched: list[int] = []  # common list words matched: their names are not all fetched
    pool_ids: list[int] = []  # the names Jaro-Winkler looks at (repeats are harmless)
    pool_keys: list[str] = []
    q_total = 0.0
    strong = [t for t, w in zip(form.tokens, form.weak) if not w] or list(form.tokens)
    # compounds: "hik vision" may be listed as "hikvision"
    looked = strong + [a + b for a, b in zip(strong, strong[1:]) if a + b in vocab]
    plans = index.__dict__.get("_plan_cache") or {}
    for token in looked:
        q_part, fetched, big, big_gain, ids, texts = plans.get(token) or _plan(index, token)
        q_total += q_part
        if ids:
            pool_ids += ids
            pool_keys += texts
        if fetched:
            if len(fetched) == 1:
                gains: dict[int, float] | None = None
                plist, gain = fetched[0]
            else:
                # a name counts the best gain of this query word once
                gains = {}
                for plist, gain in fetched:
                    gains.update(dict.fromkeys(plist, gain))
            if gains is None:
                gains = dict.fromkeys(plist, gain)
            if not acc:
                acc = gains
            else:
                if len(gains) > len(acc):
                    acc, gains = gains, acc  # add the smaller to the larger
                for nid, gain in gains.items():
                    acc[nid] = acc.get(nid, 0.0) + gain
        if big:
            unfetched.extend(big)
            common.append((big_gain, big))
    weak_words = set(form.tokens) - set(strong)
    if common:
        if acc:
            for gain, big in common:
                for nid in _members(index, big).intersection(acc):
                    acc[nid] += gain
        # weak words ("abu ahmad", "bank oao") narrow common ones (never weak with weak)
        weak_sets = [(weights[t], (t,)) for w in weak_words if (t := vocab.get(w)) is not None]
        entries = common + weak_sets
        ranked = 4 * limit
        for i, (gain, big) in enumerate(common):
            for j in range(i + 1, len(entries)):
                gain2, big2 = entries[j]
                ids, texts = _intersection(index, big, big2)
                pool_ids += ids
                pool_keys += texts
                # a name shares every common or weak query word it holds
                others = [(g, _members(index, b)) for k, (g, b) in enumerate(entries) if k != i and k != j]
                added = 0
                for nid in ids:  # the lightest first
                    if nid not in acc:
                        shared = gain + gain2
                        for g, members in others:
                            if nid in members:
                                shared += g
                        acc[nid] = shared
                        added += 1
                        if added >= ranked:
                            break
        if not acc:
            gain, big = common[0]
            members = _members(index, big)
            if len(members) <= SCAN_COMMON:
                # one common word and nothing rarer: rank its names (few enough)
                acc = dict.fromkeys(members, gain)
            else:
                for tid, _ in token_matches(index, strong[0]) if len(strong) == 1 else ():
                    for nid in index.solo.get(tid, ()):
                        acc[nid] = weights[tid]
            pool_ids += acc
            pool_keys += map(index.name_keys.__getitem__, acc)
    if len(strong) == 1:
        # the only strong word may be misspelt beyond finding: its weak words lead too
        unfetched.extend([t for w in weak_words if (t := vocab.get(w)) is not None])
    # the names Jaro-Winkler looks at: everything fetched, and more
    qkey = form.key
    keys = index.name_keys
    size = len(qkey)
    for tid in set(unfetched):
        lens, ids, texts = _by_length(index, tid)
        a, b = _window(lens, size)
        if a < b:
            pool_ids += ids[a:b]
            pool_keys += texts[a:b]
    if len(form.tokens) == 1:
        lens, ids, texts = _single_names(index).get(qkey[:1], _EMPTY)
        a, b = _window(lens, size)
        if a < b:
            pool_ids += ids[a:b]
            pool_keys += texts[a:b]
    if not pool_ids:
        return []
    q_total = q_total or 1.0
    totals = index.name_total
    iq = 1.0 / q_total
    # rough score: the shared weight (at most the name's) over the query's, less for a longer name
    floor = minimum * q_total  # rough >= minimum needs shared >= minimum * query
    scored = _rough(acc, totals, iq, floor)
    if len(scored) < KEEP < len(acc):
        half = floor / 2
        everything = _rough(acc, totals, iq, half)
        if len(everything) < KEEP:
            everything = _rough(acc, totals, iq, float("-inf"))
        scored = sorted(everything, reverse=True)[:KEEP]  # = heapq.nlargest, faster at these sizes
    if len(scored) > limit:
        scored = sorted(scored, reverse=True)[:limit]
    else:
        scored.sort(reverse=True)
    if len(pool_ids) > len(scored):
        # never lose what Jaro-Winkler ranks first: only names at least as close
        # as the best candidate can be (or tie with) it
        jw = JaroWinkler.normalized_similarity
        cutoff = max(0.0, jw(qkey, keys[scored[0][1]]) - _JW_MARGIN) if scored else 0.0
        found = process.extract(qkey, pool_keys, scorer=jw, limit=JW_PROBE, score_cutoff=cutoff)
        if len(found) == JW_PROBE and found[-1][1] >= found[0][1] - _JW_MARGIN:
            # more ties (the same key in several names, a name reached twice): all of them
            found = process.extract(qkey, pool_keys, scorer=jw, score_cutoff=found[0][1] - _JW_MARGIN, limit=None)
        if found:
            best = found[0][1] - _JW_MARGIN
            chosen = {n for _, n in scored}
            for _, score, k in found:
                if score < best:
                    break
                nid = pool_ids[k]
                if nid not in chosen:
                    chosen.add(nid)
                    scored.append((_rough_score(acc.get(nid, 0.0), totals[nid], iq), nid))
    return scored


def _rough(acc: dict[int, float], totals, iq: float, floor: float) -> list[tuple[float, int]]:
    """(rough score, name id) of the names in ``acc`` (name id -> shared weight) sharing at least ``floor``."""
    out = []
    for nid, g in acc.items():
        if g >= floor:
            out.append((_rough_score(g, totals[nid], iq), nid))
    return out


def _rough_score(shared: float, total: float, iq: float) -> float:
    """The shared weight (at most the name's ``total``) over the query's (``iq`` is its
    inverse), less for a longer name."""
    if shared < total:
        return shared * iq * (0.55 + 0.45 * shared / total)
    return total * iq


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
    cache = index.__dict__.setdefault("_union_cache", {})
    found = cache.get(big)
    if found is None:
        if len(cache) > _UNION_LIMIT:
            cache.clear()
        found = cache[big] = frozenset().union(*(_posting_set(index, t) for t in big))
    return found


def _intersection(index: MatchIndex, big: tuple[int, ...], big2: tuple[int, ...]) -> tuple[tuple[int, ...], tuple[str, ...]]:
    """The ``MAX_INTERSECTION`` names of least weight holding one of ``big`` and
    one of ``big2``, lightest first, and their keys (cached)."""
    cache = index.__dict__.setdefault("_pair_cache", {})
    key = (big, big2)
    found = cache.get(key)
    if found is None:
        totals = index.name_total
        if big == big2:
            # a query word repeated ("abdullah abdullah"): the names holding it twice
            words = set(big)
            tokens = index.name_tokens
            both: Iterable[int] = [n for n in _members(index, big) if sum(t in words for t in tokens[n]) >= 2]
        else:
            both = _members(index, big) & _members(index, big2)
        ids = tuple(sorted(sorted(both), key=totals.__getitem__)[:MAX_INTERSECTION])
        if len(cache) > _PLAN_LIMIT:
            cache.clear()
        found = cache[key] = (ids, tuple(index.name_keys[n] for n in ids))
    return found


def _by_length(index: MatchIndex, tid: int) -> tuple[list[int], tuple[int, ...], tuple[str, ...]]:
    """The names holding list word ``tid``, sorted by key length: (lengths, ids, keys) (cached)."""
    cache = index.__dict__.setdefault("_length_cache", {})
    found = cache.get(tid)
    if found is None:
        sizes = _key_sizes(index)
        ids = sorted(index.postings[tid], key=sizes.__getitem__)
        found = cache[tid] = (list(map(sizes.__getitem__, ids)), tuple(ids), tuple(map(index.name_keys.__getitem__, ids)))
    return found


def _key_sizes(index: MatchIndex) -> list[int]:
    """The length of every name's key (built once)."""
    found = index.__dict__.get("_size_cache")
    if found is None:
        found = index.__dict__["_size_cache"] = list(map(len, index.name_keys))
    return found


def _single_names(index: MatchIndex) -> dict[str, tuple[list[int], tuple[int, ...], tuple[str, ...]]]:
    """One-word names by first letter, sorted by length: (lengths, ids, keys) (built once)."""
    found = index.__dict__.get("_single_cache")
    if found is None:
        keys = index.name_keys
        sizes = _key_sizes(index)
        ones = [n for n, tokens in enumerate(index.name_tokens) if len(tokens) == 1]
        ones.sort(key=sizes.__getitem__)
        ones.sort(key=lambda n: keys[n][:1])  # stable: by first letter, then length
        found = {}
        for first, group in groupby(ones, key=lambda n: keys[n][:1]):
            ids = tuple(group)
            found[first] = (list(map(sizes.__getitem__, ids)), ids, tuple(map(keys.__getitem__, ids)))
        index.__dict__["_single_cache"] = found
    return found
