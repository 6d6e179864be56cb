"""Candidate generation never loses what brute-force Jaro-Winkler ranks first
(issue #3): on generated variants of the bundled lists, and for each cause of
loss found on them, on small hand-made corpora."""

from __future__ import annotations

import itertools
import random
import sys
from array import array
from pathlib import Path

import pytest
from rapidfuzz import process
from rapidfuzz.distance import JaroWinkler

from clearance.match import candidates as cand
from clearance.match.candidates import candidates
from clearance.match.index import COMMON_DF, MatchIndex
from clearance.match.matcher import CANDIDATES, ROUGH_MIN
from clearance.match.normalize import analyze
from clearance.model import Entity

ROOT = Path(__file__).resolve().parents[1]


def entity(eid: str, name: str, schema: str = "Person") -> Entity:
    e = Entity(eid, schema)
    e.add("name", name)
    return e


def fillers(count: int, seed: int = 0) -> list[str]:
    """Distinct made-up words that look like no other (to pad a word's postings)."""
    syllables = "qu zo xe vy pa ri to ne lu ki".split()
    words = ("".join(p) for p in itertools.product(syllables, repeat=3))
    return list(itertools.islice(words, seed, seed + count))


def build(names: dict[str, str], padding: list[str] = ()) -> MatchIndex:
    """An index of ``names`` (entity id -> name) plus padding names."""
    items = [("t", entity(eid, name)) for eid, name in names.items()]
    items += [("t", entity(f"pad{i}", name)) for i, name in enumerate(padding)]
    return MatchIndex.build(items)


def found(index: MatchIndex, query: str) -> set[str]:
    ids = set()
    for form in analyze(query):
        ids |= {index.entities[index.name_entity[n]].id for _, n in candidates(index, form, CANDIDATES, ROUGH_MIN)}
    return ids


def jw_first(index: MatchIndex, query: str) -> set[str]:
    """The entities brute-force JW over all (normalised) names ranks first."""
    key = analyze(query)[0].key
    row = process.extract(key, index.name_keys, scorer=JaroWinkler.normalized_similarity, limit=None)
    top = row[0][1]
    return {index.entities[index.name_entity[k]].id for _, score, k in row if score >= top - 1e-6}


def assert_kept(index: MatchIndex, query: str, expected: str) -> None:
    winners = jw_first(index, query)
    assert expected in winners, (query, winners)  # the premise: JW ranks it first
    assert winners <= found(index, query), (query, winners - found(index, query))


# -- on the bundled lists -----------------------------------------------------


@pytest.fixture(scope="module")
def bundled() -> MatchIndex:
    from tests.fixtures.bundled_lists import latest_official_items

    return MatchIndex.build(latest_official_items())


def test_no_jaro_winkler_first_entity_lost_on_generated_variants(bundled):
    sys.path.insert(0, str(ROOT))
    from benchmarks.accuracy.candidates_check import check

    report = check(bundled, 2000, seed=5)
    assert report["jw_ranks_own_entity_first"] > 1500
    assert report["lost_when_jw_right"] == 0, report["lost_when_jw_right_examples"]


# -- one test per cause of loss -----------------------------------------------


def test_rare_near_spelling_does_not_outrank_the_common_word_itself():
    # "muhammadi" (rare, heavy) must not count more than "muhammad" (common, light):
    # the exact names rank first, and all six entities named so are kept (a JW tie)
    names = {f"am{i}": "ABU MUHAMMAD" for i in range(6)}
    names["mi"] = "MUHAMMADI KARIM"
    index = build(names, [f"MUHAMMAD {w}" for w in fillers(COMMON_DF + 10)])
    form = analyze("abu muhammad")[0]
    result = candidates(index, form, CANDIDATES, ROUGH_MIN)
    best = max(r for r, _ in result)
    exact = [r for r, n in result if index.name_keys[n] == "abu muhammad"]
    assert len(exact) == 6 and min(exact) == best
    assert_kept(index, "abu muhammad", "am0")


def test_lone_common_word_keeps_its_own_name_beside_rare_near_spellings():
    index = build({"h": "HASSAN", "hm": "HASSAM", "hb": "HASSAB ALI"}, [f"HASSAN {w}" for w in fillers(COMMON_DF + 10)])
    assert_kept(index, "hassan", "h")
    assert_kept(index, "hassabn", "h")  # a typo of the common word


def test_correct_word_keeps_a_not_so_rare_near_spelling_jw_prefers():
    # "had" is a list word, but JW prefers the one-word name "hadi" (in 30 names)
    index = build({"hadi": "HADI", "kaew": "HAD KAEW LTD"}, [f"HADI {w}" for w in fillers(30)])
    assert_kept(index, "had", "hadi")


def test_two_typos_in_a_one_word_name_beside_a_one_typo_neighbour():
    index = build({"gw": "GATEWICK", "gs": "SIMON GATWICK"}, fillers(50))
    assert_kept(index, "gatwilk", "gw")


def test_misspelt_only_strong_word_beside_a_common_weak_word():
    names = {"aj": "ABU JAMAL", "jm": "JUMA KHAN"}
    index = build(names, [f"ABU {w}" for w in fillers(COMMON_DF + 10)])
    assert_kept(index, "abu jumla", "aj")


def test_repeated_common_word_finds_names_holding_it_twice():
    names = {"aaa": "ABDULLAH ABDULLAH AHMED", "xa": "ABDULLAH"}
    padding = [f"ABDULLAH {w}" for w in fillers(COMMON_DF + 10)] + [f"AHMED {w}" for w in fillers(COMMON_DF + 10, 300)]
    index = build(names, padding)
    assert_kept(index, "abdullah abdullah", "aaa")
    # and the rough score credits every common word a name holds, once per query word
    form = analyze("abdullah ahmed abdullah")[0]
    result = sorted(candidates(index, form, CANDIDATES, ROUGH_MIN), reverse=True)
    assert index.entities[index.name_entity[result[0][1]]].id == "aaa"


def test_jw_ties_survive_rapidfuzz_score_cutoff_rounding():
    # rapidfuzz 3.14 drops a JW score lying just above score_cutoff (0.975 with a
    # cutoff of 0.975 - 1e-9); candidates keeps its cutoffs clear of that
    a, b = "el tilem ahmed", "el tilemsi ahmed"
    score = JaroWinkler.normalized_similarity(a, b)
    assert JaroWinkler.normalized_similarity(a, b, score_cutoff=score - cand._JW_MARGIN) == score
    names = {f"t{i}": "EL TILEMSI AHMED" for i in range(3)}
    index = build(names, [f"AHMED {w}" for w in fillers(COMMON_DF + 10)] + [f"EL {w}" for w in fillers(40, 200)])
    assert {"t0", "t1", "t2"} <= found(index, "el tilems ahmed")


# -- the bounds that let candidates skip work never drop a JW winner -----------


def random_keys(count: int, seed: int) -> list[str]:
    """Keys like the normalised names: words of a few letters (repeats likely), digits, spaces."""
    rng = random.Random(seed)
    alphabet = "aaeeioulnrstmkhbdz0123456789"
    words = lambda: " ".join("".join(rng.choice(alphabet) for _ in range(rng.randint(1, 8))) for _ in range(rng.randint(1, 4)))
    return [words() for _ in range(count)]


def test_jaro_winkler_ceiling_is_never_below_the_similarity():
    keys = random_keys(400, seed=1)
    rng = random.Random(2)
    for a in keys:
        for b in rng.sample(keys, 40) + [a, a[::-1], a[:3]]:
            ma, mb = cand._letters(a), cand._letters(b)
            common = cand._popcount(ma & mb) + min(len(a) - cand._popcount(ma), len(b) - cand._popcount(mb))
            ceiling = cand._jw_ceiling(len(a), len(b), common, cand._common_start(cand._start(a), cand._start(b)))
            assert ceiling >= JaroWinkler.normalized_similarity(a, b) - 1e-12, (a, b)


def test_jaro_winkler_lengths_bound_the_ceiling():
    for size in range(1, 40):
        for floor in (0.0, 0.5, 0.8, 0.81, 0.85, 0.9, 0.95, 0.99, 1.0):
            shortest, longest = cand._jw_lengths(size, floor)
            for length in range(1, 120):
                if not shortest <= length <= longest:
                    assert cand._jw_ceiling(size, length, min(size, length), 4) < floor, (size, floor, length)


def test_two_edit_prefilter_keeps_every_token_two_edits_away():
    from rapidfuzz.distance import OSA

    rng = random.Random(3)
    tokens = ["".join(rng.choice("abcdehiklmnorstu") for _ in range(rng.randint(4, 10))) for _ in range(3000)]
    letters = [cand._letters(t) for t in tokens]
    for query in rng.sample(tokens, 200):
        near = set(cand._near(array("Q", letters), cand._letters(query)))
        assert {k for k, t in enumerate(tokens) if OSA.distance(query, t) <= 2} <= near


def test_bit_helpers():
    rng = random.Random(4)
    for _ in range(2000):
        bits = rng.getrandbits(rng.randint(0, 63))
        assert cand._popcount(bits) == bin(bits).count("1")
        assert cand._at_most_two(bits) == (bin(bits).count("1") <= 2)
    assert cand._start("") == 0 and cand._common_start(cand._start("abcde"), cand._start("abxde")) == 2
    assert cand._deletions("abc") == ["bc", "ac", "ab"]
