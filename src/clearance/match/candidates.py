"""Candidate generation: from a normalised query name to the few list names
worth scoring.

Each query token is looked up exactly, through the deletion neighbourhood
(one edit) and, for long tokens without any hit, by edit distance among the
tokens sharing its first two letters (two or three edits).  Names holding a
*rare* matched token are fetched from its postings and ranked by the weight
they share with the query; a *common* token (in more than
``COMMON_DF`` names) fetches only the names that also hold another query
token, or, for a one-word query, the names that are just that word.  So a
query costs about the same on a million names as on ten thousand.
"""

from __future__ import annotations

import heapq

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
KEEP_JW = 2
#: Rough score from which the best candidate is taken as the query's own name.
SURE = 1.5  # > 1: always (the rough score is at most ~1)
#: When a query word is spelt as a list word, its one-edit neighbours are fetched
#: only if they are this rare.
NEIGHBOUR_DF = 20
#: The Jaro-Winkler rescue looks at fetched names sharing this share of the query's weight.
JW_SHARE = 0.0
#: Most names one intersection of two common (or common and weak) words adds.
MAX_INTERSECTION = 200
#: A lone common query word fetches all its names when it has at most this many.
SCAN_COMMON = 2000


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


def candidates(index: MatchIndex, form: NameForm, limit: int = 30, minimum: float = 0.0) -> list[tuple[float, int]]:
    """Up to ``limit`` (rough score, name id) with rough score >= ``minimum``, best first,
    plus the ``KEEP`` best by rough score and the ``KEEP_JW`` best by Jaro-Winkler
    among all fetched names whatever their rough score.

    The rough score is ``shared / query * (0.55 + 0.45 * min(1, shared / name))``
    over the strong query tokens' weights (a query word counts once per name)."""
    weights = index.weight
    postings = index.postings
    acc: dict[int, float] = {}
    common: list[tuple[float, set[int] | frozenset[int]]] = []
    q_total = 0.0
    strong = [t for t, w in zip(form.tokens, form.weak) if not w] or list(form.tokens)
    # compounds: "hik vision" may be listed as "hikvision"
    looked = strong + [a + b for a, b in zip(strong, strong[1:]) if a + b in index.vocab]
    for token in looked:
        matches = token_matches(index, token)
        q_weight = index.token_weight(token)
        if not matches:
            q_total += q_weight
            continue
        best = max(weights[t] * s for t, s in matches)
        q_total += min(q_weight, best) if token not in index.vocab else q_weight
        big: list[int] = []
        seen: set[int] | None = None
        exact = token in index.vocab
        # best match first, so a name counts the best gain of this query word once
        for tid, sim in sorted(matches, key=lambda m: -weights[m[0]] * m[1]) if len(matches) > 1 else matches:
            plist = postings[tid]
            if len(plist) > COMMON_DF:
                big.append(tid)
                continue
            if exact and sim < 1.0 and len(plist) > NEIGHBOUR_DF:
                continue  # a correctly spelt word: only rare near-spellings are worth fetching
            gain = weights[tid] * sim
            if seen is None:
                for nid in plist:
                    acc[nid] = acc.get(nid, 0.0) + gain
                if len(matches) > 1:
                    seen = set(plist)
            else:
                for nid in plist:
                    if nid not in seen:
                        acc[nid] = acc.get(nid, 0.0) + gain
                        seen.add(nid)
        if big:
            members = _posting_set(index, big[0]) if len(big) == 1 else set().union(*(_posting_set(index, t) for t in big))
            common.append((max(weights[t] for t in big), members))
    if common:
        if acc:
            for gain, members in common:
                for nid in acc:
                    if nid in members:
                        acc[nid] += gain
        # weak words ("abu ahmad", "bank oao") narrow common ones (never weak with weak)
        weak_sets = [(weights[t], _posting_set(index, t)) for w in set(form.tokens) - set(strong) if (t := index.vocab.get(w)) is not None]
        for k, (gain, members) in enumerate(common):
            for gain2, members2 in common[k + 1 :] + weak_sets:
                added = 0
                for nid in members & members2:
                    if nid not in acc:
                        acc[nid] = gain + gain2
                        added += 1
                        if added >= MAX_INTERSECTION:
                            break  # equal gains: more of them would not rank differently
        if not acc:
            gain, members = common[0]
            if len(members) <= SCAN_COMMON:
                # one common word and nothing rarer: rank its names (few enough)
                for nid in members:
                    acc[nid] = gain
            else:
                for tid, _ in token_matches(index, strong[0]) if len(strong) == 1 else ():
                    for nid in index.solo.get(tid, ()):
                        acc[nid] = weights[tid]
    if not acc:
        return []
    q_total = q_total or 1.0
    totals = index.name_total
    floor = minimum * q_total  # rough >= minimum needs shared >= minimum * query
    scored = [(g / q_total * (0.55 + 0.45 * (g / totals[n] if g < totals[n] else 1.0)), n) for n, g in acc.items() if g >= floor]
    if len(scored) < KEEP < len(acc):
        half = floor / 2
        everything = [(g / q_total * (0.55 + 0.45 * (g / totals[n] if g < totals[n] else 1.0)), n) for n, g in acc.items() if g >= half]
        if len(everything) < KEEP:
            everything = [(g / q_total * (0.55 + 0.45 * (g / totals[n] if g < totals[n] else 1.0)), n) for n, g in acc.items()]
        scored = heapq.nlargest(KEEP, everything)
    if len(scored) > limit:
        scored = heapq.nlargest(limit, scored)
    else:
        scored.sort(reverse=True)
    if len(acc) > len(scored) and (not scored or scored[0][0] < SURE):
        # never lose what Jaro-Winkler over the fetched names would rank first
        # (unless a fetched name already shares nearly everything with the query)
        chosen = {n for _, n in scored}
        share = JW_SHARE * q_total
        fetched = [n for n, g in acc.items() if g >= share]
        keys = index.name_keys
        for _, _, k in process.extract(form.key, [keys[n] for n in fetched], scorer=JaroWinkler.normalized_similarity, limit=KEEP_JW):
            nid = fetched[k]
            if nid not in chosen:
                g = acc[nid]
                scored.append((g / q_total * (0.55 + 0.45 * min(1.0, g / totals[nid])), nid))
    return scored
