"""Scoring: name similarity calibrated to 0..1, plus the other evidence.

Name similarity between a query name and a list name:

* tokens are aligned one to one: exact first, then typo-tolerant (optimal
  string alignment distance, at most 1 edit for tokens up to 7 letters, 2 up
  to 12, 3 beyond), then compounds (``hik vision`` ~ ``hikvision``) and, for
  people, initials (``j`` ~ ``john``);
* each side's *coverage* is the weighted share of its tokens that found a
  partner (weights are the index's token rarity weights, so a missing
  "technology" costs little and a missing "hikvision" a lot);
* ``score = q_cover * (A + (1 - A) * l_cover) * info``: the query must be
  explained by the list name; unexplained list tokens cost less (a user may
  type a short or brand form), more for people (``A`` = 0.3) than for
  organisations (``A`` = 0.55); ``info`` (<= 1) damps matches that rest only
  on very common words ("Bank", "China"): ``sqrt((info - 3) / 5)`` capped to
  0..1, where ``info`` is the matched rarity weight (a token in ~1% of list
  names weighs ~4.6, a unique one ~10; a single letter counts at most 2.5).
"""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz.distance import OSA

#: Weight on the list-side coverage's complement, by entity kind.
A_ORG = 0.55
A_PERSON = 0.3
#: ... raised up to A_DISTINCT when the best matched token is very rare (a
#: brand: "Megvii", "Mofidrahbar"), linearly from weight DISTINCT_FROM to DISTINCT_FULL.
A_DISTINCT = 0.8
DISTINCT_FROM = 7.5
DISTINCT_FULL = 9.5
#: Matched rarity weight (idf units) below which a name match is not trusted at all,
#: and from which it is trusted fully; linear in between.
INFO_NONE = 3.0
INFO_FULL = 8.0
#: Most information (idf units) one matched single-letter token carries, however
#: rare: "x" alone cannot identify an entity (INFO_NONE is 3), "E. X." hardly, "B.R.C." can.
LETTER_INFO = 2.5
#: Similarity of an initial to a full given name.
INITIAL_SIM = 0.6


def allowed_edits(length: int) -> int:
    if length <= 7:
        return 1
    if length <= 12:
        return 2
    return 3


_SIM_CACHE: dict[tuple[str, str], float] = {}


def token_sim(a: str, b: str) -> float:
    """Similarity of two normalised tokens: 1 equal, 1 - edits/length a typo apart, else 0."""
    if a == b:
        return 1.0
    la, lb = len(a), len(b)
    if la < 4 or lb < 4 or la - lb > 3 or lb - la > 3:
        return 0.0
    key = (a, b)
    found = _SIM_CACHE.get(key)
    if found is not None:
        return found
    if len(_SIM_CACHE) > 100_000:
        _SIM_CACHE.clear()
    found = _SIM_CACHE[key] = _token_sim(a, b, la, lb)
    return found


def _token_sim(a: str, b: str, la: int, lb: int) -> float:
    longest = la if la > lb else lb
    allowed = allowed_edits(longest)
    if abs(la - lb) > allowed or not a.isalpha() or not b.isalpha():
        return 0.0
    distance = OSA.distance(a, b, score_cutoff=allowed)
    if distance > allowed:
        return 0.0
    return 1.0 - distance / longest


@dataclass(slots=True)
class NameScore:
    score: float
    q_cover: float
    l_cover: float
    info: float
    pairs: list[tuple[str, str, float]]
    unmatched_query: list[str]
    unmatched_list: list[str]


def compare(
    q_tokens: tuple[str, ...],
    q_weights: list[float],
    l_tokens: tuple[str, ...],
    l_weights: tuple[float, ...] | list[float],
    l_weak: tuple[bool, ...] | list[bool],
    person: bool = False,
    explain: bool = True,
) -> NameScore | float:
    """Name similarity; with ``explain=False`` just the score (the hot path)."""
    nq, nl = len(q_tokens), len(l_tokens)
    q_sim = [0.0] * nq
    l_sim = [0.0] * nl
    q_w = list(q_weights)
    pairs: list[tuple[str, str, float]] | None = [] if explain else None
    # 1. exact
    open_q = []
    for i in range(nq):
        token = q_tokens[i]
        for j in range(nl):
            if l_tokens[j] == token and not l_sim[j]:
                q_sim[i] = l_sim[j] = 1.0
                if pairs is not None:
                    pairs.append((token, token, 1.0))
                break
        else:
            open_q.append(i)
    if open_q:
        open_l = [j for j in range(nl) if not l_sim[j]]
        # 2. typos
        if open_l:
            found = []
            for i in open_q:
                a = q_tokens[i]
                if len(a) < 4:
                    continue
                for j in open_l:
                    sim = token_sim(a, l_tokens[j])
                    if sim:
                        found.append((sim, i, j))
            if found:
                found.sort(reverse=True)
                for sim, i, j in found:
                    if not q_sim[i] and not l_sim[j]:
                        q_sim[i] = l_sim[j] = sim
                        if q_w[i] > l_weights[j]:
                            q_w[i] = l_weights[j]
                        if pairs is not None:
                            pairs.append((q_tokens[i], l_tokens[j], round(sim, 3)))
                open_q = [i for i in open_q if not q_sim[i]]
                open_l = [j for j in open_l if not l_sim[j]]
        # 3. compounds: two adjacent tokens on one side written as one on the other
        if open_q and open_l and (len(open_q) > 1 or len(open_l) > 1):
            _compounds(q_tokens, open_q, q_sim, l_tokens, open_l, l_sim, pairs, False)
            _compounds(l_tokens, open_l, l_sim, q_tokens, open_q, q_sim, pairs, True)
            open_q = [i for i in open_q if not q_sim[i]]
            open_l = [j for j in open_l if not l_sim[j]]
        # 4. initials (people)
        if person and open_q and open_l:
            for i in open_q:
                for j in open_l:
                    a, b = q_tokens[i], l_tokens[j]
                    if l_sim[j] or q_sim[i]:
                        continue
                    if (len(a) == 1 and b.startswith(a)) or (len(b) == 1 and a.startswith(b)):
                        q_sim[i] = l_sim[j] = INITIAL_SIM
                        q_w[i] = min(q_w[i], l_weights[j])
                        if pairs is not None:
                            pairs.append((a, b, INITIAL_SIM))
    q_total = 0.0
    q_got = 0.0
    for w, sim in zip(q_w, q_sim):
        q_total += w
        q_got += w * sim
    l_total = 0.0
    l_got = 0.0
    info = 0.0
    for j in range(nl):
        w = l_weights[j]
        sim = l_sim[j]
        l_total += w
        if sim:
            l_got += w * sim
            if not l_weak[j]:
                info += (w if w < LETTER_INFO or len(l_tokens[j]) > 1 else LETTER_INFO) * sim
    q_cover = q_got / q_total if q_total else 0.0
    l_cover = l_got / l_total if l_total else 0.0
    a = A_PERSON if person else A_ORG
    if not person:
        # a brand is the list name's first or second word, not one in the middle
        rarest = 0.0
        seen = 0
        for j in range(nl):
            if l_weak[j]:
                continue
            if l_sim[j] >= 0.99 and l_weights[j] > rarest:
                rarest = l_weights[j]
            seen += 1
            if seen == 2:
                break
        if rarest > DISTINCT_FROM:
            a += (A_DISTINCT - A_ORG) * min(1.0, (rarest - DISTINCT_FROM) / (DISTINCT_FULL - DISTINCT_FROM))
    damp = min(1.0, max(0.0, (info - INFO_NONE) / (INFO_FULL - INFO_NONE))) ** 0.5
    score = q_cover * (a + (1.0 - a) * l_cover) * damp
    if pairs is None:
        return score
    return NameScore(
        score=score,
        q_cover=q_cover,
        l_cover=l_cover,
        info=info,
        pairs=pairs,
        unmatched_query=[q_tokens[i] for i in range(nq) if not q_sim[i]],
        unmatched_list=[l_tokens[j] for j in range(nl) if not l_sim[j]],
    )


def _compounds(one, open_one, one_sim, other, open_other, other_sim, pairs, flipped) -> None:
    if len(open_one) < 2:
        return
    joins = [
        (i1, i2, len(one[i1]) + len(one[i2]))
        for i1, i2 in zip(open_one, open_one[1:])
        if i2 == i1 + 1
    ]
    if not joins:
        return
    for j in open_other:
        if other_sim[j]:
            continue
        target = other[j]
        size = len(target)
        for i1, i2, joined_size in joins:
            if joined_size - size > 3 or size - joined_size > 3 or one_sim[i1] or one_sim[i2]:
                continue
            s = token_sim(one[i1] + one[i2], target)
            if s:
                one_sim[i1] = one_sim[i2] = other_sim[j] = s
                if pairs is not None:
                    text = f"{one[i1]} {one[i2]}"
                    pairs.append((target, text, round(s, 3)) if flipped else (text, target, round(s, 3)))
                break


# -- other evidence -------------------------------------------------------------

ORG_SCHEMATA = {"Company", "Organization", "LegalEntity", "PublicBody"}


def schema_compatible(query: str | None, listed: str) -> bool:
    """Can a query of this schema be this list entry?  None matches anything."""
    if not query or query == "Thing":
        return True
    if query == listed:
        return True
    if listed == "LegalEntity":
        # Lists that do not say person or company (the DPL) use LegalEntity: it can be either.
        return query == "Person" or query in ORG_SCHEMATA
    if query == "LegalEntity":
        return listed in ORG_SCHEMATA or listed == "Person"
    if query in ORG_SCHEMATA:
        return listed in ORG_SCHEMATA
    return False


COUNTRY_MATCH = 0.03
COUNTRY_MISMATCH = -0.08


def country_evidence(query: set[str], listed: frozenset[str]) -> float:
    if not query or not listed:
        return 0.0
    return COUNTRY_MATCH if query & listed else COUNTRY_MISMATCH


def dob_evidence(query: str | None, listed: tuple[str, ...]) -> tuple[float, str]:
    """(adjustment, reason) for a query birth date against the listed ones."""
    if not query or not listed:
        return 0.0, ""
    qyear = _year(query)
    best: tuple[float, str] | None = None
    for value in listed:
        if value[:10] == query[:10] and len(query) >= 10 and len(value) >= 10:
            return 0.05, f"same date of birth {value}"
        year = _year(value)
        if qyear is None or year is None:
            continue
        gap = abs(qyear - year)
        if gap == 0:
            candidate = (0.03, f"same birth year {year}")
        elif gap <= 2:
            candidate = (-0.02, f"birth year {year} is {gap} off")
        elif gap < 10:
            candidate = (-0.12, f"birth year {year} is {gap} years off")
        else:
            candidate = (-0.3, f"birth year {year} is {gap} years off")
        if best is None or candidate[0] > best[0]:
            best = candidate
    return best or (0.0, "")


def _year(value: str) -> int | None:
    digits = value.strip()[:4]
    return int(digits) if len(digits) == 4 and digits.isdigit() else None
