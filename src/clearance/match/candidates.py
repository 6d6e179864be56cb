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
from rapidfuzz.distance import OSA

from .index import COMMON_DF, MatchIndex, _deletes
from .normalize import NameForm
from .score import allowed_edits, token_sim

_CACHE_LIMIT = 200_000


def token_matches(index: MatchIndex, token: str) -> tuple[tuple[int, float], ...]:
    """(token id, similarity) of the list tokens a query token may stand for."""
    cache = index.__dict__.setdefault("_token_cache", {})
    hit = cache.get(token)
    if hit is not None:
        return hit
    vocab = index.vocab
    found: dict[int, float] = {}
    tid = vocab.get(token)
    if tid is not None:
        found[tid] = 1.0
    if len(token) >= 4 and token.isalpha():
        possible: set[int] = set(index.deletes.get(token, ()))
        for deleted in set(_deletes(token)):
            t = vocab.get(deleted)
            if t is not None:
                possible.add(t)
            possible.update(index.deletes.get(deleted, ()))
        possible.discard(tid)  # type: ignore[arg-type]
        tokens = index.tokens
        for t in possible:
            s = token_sim(token, tokens[t])
            if s:
                found[t] = s
        if len(found) == 0 and len(token) >= 6:
            bucket = index.prefix.get(token[:2], ())
            if bucket:
                allowed = allowed_edits(len(token) + 1)
                texts = [tokens[t] for t in bucket]
                for _, distance, k in process.extract(
                    token, texts, scorer=OSA.distance, score_cutoff=allowed, limit=20
                ):
                    s = token_sim(token, texts[k])
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


def candidates(index: MatchIndex, form: NameForm, limit: int = 30) -> list[tuple[float, int]]:
    """Up to ``limit`` (rough score, name id), best first."""
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
        for tid, sim in matches:
            plist = postings[tid]
            if len(plist) > COMMON_DF:
                big.append(tid)
                continue
            gain = weights[tid] * sim
            for nid in plist:
                acc[nid] = acc.get(nid, 0.0) + gain
        if big:
            members = _posting_set(index, big[0]) if len(big) == 1 else set().union(*(_posting_set(index, t) for t in big))
            common.append((max(weights[t] for t in big), members))
    if common:
        if acc:
            for gain, members in common:
                for nid in acc:
                    if nid in members:
                        acc[nid] += gain
        if len(common) >= 2:
            ordered = sorted(common, key=lambda c: len(c[1]))
            for k, (gain, members) in enumerate(ordered):
                for gain2, members2 in ordered[k + 1 :]:
                    for nid in members & members2 if len(members) <= len(members2) else members2 & members:
                        if nid not in acc:
                            acc[nid] = gain + gain2
        elif not acc:
            for tid, _ in token_matches(index, strong[0]) if len(strong) == 1 else ():
                for nid in index.solo.get(tid, ()):
                    acc[nid] = weights[tid]
    if not acc:
        return []
    q_total = q_total or 1.0
    totals = index.name_total
    scored = ((g / q_total * (0.55 + 0.45 * min(1.0, g / totals[n])), n) for n, g in acc.items())
    return heapq.nlargest(limit, scored)
