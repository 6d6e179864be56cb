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
# Copies that compare() reads, C doubles once compiled (score.pxd); the names above stay
# module attributes (monitor_filter and monitor_links read them).
_A_ORG, _A_PERSON, _A_DISTINCT, _DISTINCT_FROM, _DISTINCT_FULL = A_ORG, A_PERSON, A_DISTINCT, DISTINCT_FROM, DISTINCT_FULL
_INFO_NONE, _INFO_FULL, _LETTER_INFO, _INITIAL_SIM = INFO_NONE, INFO_FULL, LETTER_INFO, INITIAL_SIM


def allowed_edits(length: int) -> int:
    if length <= 7:
        return 1
    if length <= 12:
        return 2
    return 3


_SIM_CACHE: dict[tuple[str, str], float] = {}

#: decimal_round() rounds the scaled value itself when it lies further than this from a
#: half (its rounding error is far smaller below _ROUND_RANGE) and asks round() otherwise.
_HALF_MARGIN = 1e-6
_ROUND_RANGE = 1e9


def decimal_round(x: float, digits: int) -> float:
    """``round(x, digits)``, the same double, without its decimal conversion (the costly
    part of explaining a hit).  When ``x * 10**digits`` is clearly off a half, the integer
    nearest it is that of the exact value too, and dividing it by ``10**digits`` gives the
    double nearest that decimal, as ``round`` does; near a half, ``round`` decides."""
    scale = 10.0**digits
    y = x * scale
    if 0.0 <= y < _ROUND_RANGE:  # scores, coverages and weights; round() takes the rest
        below = int(y)
        frac = y - below
        if abs(frac - 0.5) > _HALF_MARGIN:
            n = below + 1 if frac > 0.5 else below
            return n / scale if n else 0.0 * x  # round keeps the sign of zero
    return round(x, digits)


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
    allowed = _typo_edits(la, lb)
    if allowed < 0 or not a.isalpha() or not b.isalpha():
        return 0.0
    longest = la if la > lb else lb
    distance = OSA.distance(a, b, score_cutoff=allowed)
    if distance > allowed:
        return 0.0
    return 1.0 - distance / longest


# Cheap tests that rule most token pairs out before token_sim (a dictionary look-up per
# pair, or an edit distance), giving the same answers: compare() meets many pairs of
# unequal tokens and few of them are a typo apart.

#: In a token's letter set: the token has a character that is not a letter (token_sim is 0).
_NOT_LETTERS = 1 << 30


def _typo_edits(la: int, lb: int) -> int:
    """Edits token_sim tolerates between unequal tokens of these lengths; -1 if the lengths
    alone rule a typo out."""
    if la < 4 or lb < 4:
        return -1
    allowed = allowed_edits(la if la > lb else lb)
    if la - lb > allowed or lb - la > allowed:
        return -1
    return allowed


def _letters(token: str) -> int:
    """The token's letters as a bit set (character codes folded onto 30 bits, distinct for
    a-z), or'ed with _NOT_LETTERS if it has another character."""
    bits = 0
    for ch in token:
        if "a" <= ch <= "z" or ch.isalpha():
            bits |= 1 << (ord(ch) % 30)
        else:
            bits |= _NOT_LETTERS
    return bits


def _too_far(a_letters: int, b_letters: int, allowed: int) -> bool:
    """Do the tokens' letter sets rule out a typo within ``allowed`` edits?  Each letter
    of one token missing from the other takes an edit to remove (an edit removes at most
    one character and inserts at most one), so sets that differ by more than ``allowed``
    letters either way are further apart (folding codes can only hide differences)."""
    if (a_letters | b_letters) & _NOT_LETTERS:
        return True
    return _bit_count(a_letters & ~b_letters) > allowed or _bit_count(b_letters & ~a_letters) > allowed


def _bit_count(bits: int) -> int:
    """int.bit_count(), written as a loop that compiles to C (few bits are ever set)."""
    count = 0
    while bits:
        bits &= bits - 1
        count += 1
    return count


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
    if nq <= 24 and nl <= 24:
        # Fixed-size buffers: C arrays on the stack once compiled (score.pxd).  Names have
        # at most 24 tokens (normalize.MAX_TOKENS); longer ones are scored in lists.
        q_sim = [0.0] * 24
        l_sim = [0.0] * 24
        q_w = [0.0] * 24
        return _compare(q_tokens, q_weights, l_tokens, l_weights, l_weak, person, explain, q_sim, l_sim, q_w)
    return _compare(q_tokens, q_weights, l_tokens, l_weights, l_weak, person, explain, [0.0] * nq, [0.0] * nl, [0.0] * nq)


def _compare(q_tokens, q_weights, l_tokens, l_weights, l_weak, person, explain, q_sim, l_sim, q_w):
    """compare() given buffers for the similarity each query and list token found (0 for
    none yet) and the query tokens' weights (lowered to the list token's when a typo or an
    initial pairs them)."""
    nq, nl = len(q_tokens), len(l_tokens)
    for i in range(nq):
        q_w[i] = q_weights[i]
    pairs: list[tuple[str, str, float]] | None = [] if explain else None
    # 1. exact
    open_q = nq
    for i in range(nq):
        token = q_tokens[i]
        size = len(token)
        for j in range(nl):
            if l_sim[j]:
                continue
            b = l_tokens[j]
            if len(b) == size and b == token:  # lengths first: cheaper when compiled
                q_sim[i] = l_sim[j] = 1.0
                open_q -= 1
                if pairs is not None:
                    pairs.append((token, token, 1.0))
                break
    open_l = nl - (nq - open_q)
    # 2. typos
    if open_q and open_l:
        paired = _typos(q_tokens, l_tokens, l_weights, q_sim, l_sim, q_w, pairs)
        open_q -= paired
        open_l -= paired
    # 3. compounds: two adjacent tokens on one side written as one on the other
    if open_q and open_l and (open_q > 1 or open_l > 1):
        paired = _compounds(q_tokens, q_sim, l_tokens, l_sim, pairs, False)
        open_q -= 2 * paired
        open_l -= paired
        paired = _compounds(l_tokens, l_sim, q_tokens, q_sim, pairs, True)
        open_q -= paired
        open_l -= 2 * paired
    # 4. initials (people)
    if person and open_q and open_l:
        for i in range(nq):
            if q_sim[i]:
                continue
            a = q_tokens[i]
            for j in range(nl):
                if l_sim[j]:
                    continue
                b = l_tokens[j]
                if (len(a) == 1 and b.startswith(a)) or (len(b) == 1 and a.startswith(b)):
                    q_sim[i] = l_sim[j] = _INITIAL_SIM
                    if q_w[i] > l_weights[j]:
                        q_w[i] = l_weights[j]
                    if pairs is not None:
                        pairs.append((a, b, _INITIAL_SIM))
                    break
    q_total = 0.0
    q_got = 0.0
    for i in range(nq):
        w = q_w[i]
        q_total += w
        q_got += w * q_sim[i]
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
                b = l_tokens[j]
                info += (w if w < _LETTER_INFO or len(b) > 1 else _LETTER_INFO) * sim
    q_cover = q_got / q_total if q_total else 0.0
    l_cover = l_got / l_total if l_total else 0.0
    a_weight = _A_PERSON if person else _A_ORG
    if not person:
        # a brand is the list name's first or second word, not one in the middle
        rarest = 0.0
        seen = 0
        for j in range(nl):
            if l_weak[j]:
                continue
            w = l_weights[j]
            if l_sim[j] >= 0.99 and w > rarest:
                rarest = w
            seen += 1
            if seen == 2:
                break
        if rarest > _DISTINCT_FROM:
            a_weight += (_A_DISTINCT - _A_ORG) * min(1.0, (rarest - _DISTINCT_FROM) / (_DISTINCT_FULL - _DISTINCT_FROM))
    damp = min(1.0, max(0.0, (info - _INFO_NONE) / (_INFO_FULL - _INFO_NONE))) ** 0.5
    score = q_cover * (a_weight + (1.0 - a_weight) * l_cover) * damp
    if pairs is None:
        return score
    unmatched_query = []
    for i in range(nq):
        if not q_sim[i]:
            unmatched_query.append(q_tokens[i])
    unmatched_list = []
    for j in range(nl):
        if not l_sim[j]:
            unmatched_list.append(l_tokens[j])
    return NameScore(
        score=score,
        q_cover=q_cover,
        l_cover=l_cover,
        info=info,
        pairs=pairs,
        unmatched_query=unmatched_query,
        unmatched_list=unmatched_list,
    )


def _typos(q_tokens, l_tokens, l_weights, q_sim, l_sim, q_w, pairs) -> int:
    """Step 2 of compare(): pair the unmatched tokens a typo apart, most similar pairs
    first (ties: later tokens first); returns how many pairs it made."""
    nq, nl = len(q_tokens), len(l_tokens)
    found = None  # most names have no such pair: no list then
    for i in range(nq):
        if q_sim[i]:
            continue
        a = q_tokens[i]
        la = len(a)
        if la < 4:
            continue
        a_letters = 0
        for j in range(nl):
            if l_sim[j]:
                continue
            b = l_tokens[j]
            allowed = _typo_edits(la, len(b))
            if allowed < 0:
                continue
            if not a_letters:
                a_letters = _letters(a)
            if _too_far(a_letters, _letters(b), allowed):
                continue
            sim = token_sim(a, b)
            if sim:
                if found is None:
                    found = []
                found.append((sim, i, j))
    if found is None:
        return 0
    found.sort(reverse=True)
    paired = 0
    for sim, i, j in found:
        if not q_sim[i] and not l_sim[j]:
            q_sim[i] = l_sim[j] = sim
            if q_w[i] > l_weights[j]:
                q_w[i] = l_weights[j]
            paired += 1
            if pairs is not None:
                pairs.append((q_tokens[i], l_tokens[j], decimal_round(sim, 3)))
    return paired


def _compounds(one, one_sim, other, other_sim, pairs, flipped) -> int:
    """Step 3 of compare(): pair unmatched ``other`` tokens with two adjacent unmatched
    ``one`` tokens written together (or a typo from that); returns how many it paired."""
    n_one, n_other = len(one), len(other)
    paired = 0
    for j in range(n_other):
        if other_sim[j]:
            continue
        target = other[j]
        size = len(target)
        target_letters = 0
        for i in range(n_one - 1):
            if one_sim[i] or one_sim[i + 1]:
                continue
            first, second = one[i], one[i + 1]
            joined_size = len(first) + len(second)
            if joined_size - size > 3 or size - joined_size > 3:
                continue
            if joined_size == size and target.startswith(first) and target.endswith(second):
                s = 1.0
            else:
                allowed = _typo_edits(joined_size, size)
                if allowed < 0:
                    continue
                if not target_letters:
                    target_letters = _letters(target)
                if _too_far(_letters(first) | _letters(second), target_letters, allowed):
                    continue
                s = token_sim(first + second, target)
                if not s:
                    continue
            one_sim[i] = one_sim[i + 1] = other_sim[j] = s
            paired += 1
            if pairs is not None:
                text = f"{first} {second}"
                pairs.append((target, text, decimal_round(s, 3)) if flipped else (text, target, decimal_round(s, 3)))
            break
    return paired


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
