"""The candidate index on small hand-made corpora: build, weights, lookups,
candidates, identifiers, (de)serialisation."""

from __future__ import annotations

import os
import pickle
import random
from array import array

import pytest

from clearance.match import index as index_mod
from clearance.match.candidates import _deletions, candidates, token_matches
from clearance.match.index import MatchIndex, StringTable
from clearance.match.matcher import CANDIDATES, ROUGH_MIN
from clearance.match.normalize import analyze
from clearance.match.score import token_sim
from tests.fixtures.entities import entity


CORPUS = [
    ("us-ofac-nonsdn", entity("hik", "Company", "HANGZHOU HIKVISION DIGITAL TECHNOLOGY CO., LTD.", "HIKVISION",
                              isinCode="CNE100000PM8", uscCode="91330000733796106P", program="CMIC-EO13959", country="China")),
    ("us-ofac-nonsdn", entity("hw", "Company", "HUAWEI TECHNOLOGIES CO., LTD.", program="CMIC-EO13959", country="China")),
    ("us-ofac-nonsdn", entity("cm", "Company", "CHINA MOBILE LIMITED", program="CMIC-EO13959")),
    ("us-ofac-sdn", entity("salek", "Person", "SALEK, Abdulhai", birthDate="1970", nationality="Afghanistan", program="SDGT")),
    ("us-ofac-sdn", entity("ship", "Vessel", "OCEAN STAR", imoNumber="IMO 9187629", program="IRAN")),
    ("us-ofac-sdn", entity("bmi", "Company", "BANK MELLI IRAN", program="IRAN")),
] + [("filler", entity(f"f{i}", "Company", f"CHINA {w} TRADING CO LTD")) for i, w in enumerate(
    "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima".split())]


@pytest.fixture(scope="module")
def index() -> MatchIndex:
    return MatchIndex.build(CORPUS)


def test_build_counts(index):
    assert len(index) == len(CORPUS)
    assert index.name_count >= len(CORPUS) + 1  # the HIKVISION alias
    assert index.entities[0].programs == ("CMIC-EO13959",)
    assert index.entities[0].countries == frozenset({"cn"})


def test_rare_tokens_weigh_more(index):
    assert index.token_weight("hikvision") > index.token_weight("china") > index.token_weight("ltd")
    assert index.token_weight("neverseen") == index.unknown_weight


def test_token_lookup_exact_typo_and_two_typos(index):
    tid = index.vocab["hikvision"]
    assert dict(token_matches(index, "hikvision"))[tid] == 1.0
    assert tid in dict(token_matches(index, "hikvsion"))  # transposition
    assert tid in dict(token_matches(index, "hikvisio"))  # deletion
    assert tid in dict(token_matches(index, "hikkvision"))  # insertion
    assert tid in dict(token_matches(index, "hakvisiom"))  # two substitutions


def names_of(index, query):
    found = set()
    for form in analyze(query):
        found |= {index.entities[index.name_entity[n]].id for _, n in candidates(index, form, CANDIDATES, ROUGH_MIN)}
    return found


def test_candidates_with_a_typo_in_every_token(index):
    assert "hik" in names_of(index, "Hangzou Hikvisoin Digitl Technolgy")


def test_candidates_for_compound_and_reordering(index):
    assert "hik" in names_of(index, "Hik Vision")
    assert "salek" in names_of(index, "Abdulhai Salek")


def test_candidates_for_common_words_only(index):
    # both words common in this corpus: the names holding both are fetched
    assert {"f0"} <= names_of(index, "China Alpha Trading")


def test_identifiers_indexed(index):
    assert index.identifiers["CNE100000PM8"][0][1] == "isinCode"
    assert "IMO9187629" in index.identifiers


def test_pickle_round_trip(index, tmp_path):
    path = tmp_path / "idx.pkl"
    index_mod.save(index, path)
    loaded = index_mod.load(path)
    assert loaded is not None and loaded.name_keys == index.name_keys
    assert names_of(loaded, "Hikvision") == names_of(index, "Hikvision")


def test_load_rejects_damaged_or_other_version(index, tmp_path, monkeypatch):
    path = tmp_path / "idx.pkl"
    path.write_bytes(b"not a pickle")
    assert index_mod.load(path) is None
    index_mod.save(index, path)
    monkeypatch.setattr(index_mod, "INDEX_VERSION", "999")
    assert index_mod.load(path) is None


def test_candidates_keep_jaro_winkler_first_on_generated_variants(index):
    """On a synthetic corpus, brute-force JW's first entity (when it is the
    variant's own) is always among the candidates."""
    from rapidfuzz import process
    from rapidfuzz.distance import JaroWinkler

    rng = random.Random(1)
    syllables = "ka lo mi ne ru sa ti vo ze ba do fi gu ha ji".split()
    corpus = []
    for n in range(400):
        words = ["".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))) for _ in range(rng.randint(1, 3))]
        corpus.append(("syn", entity(f"s{n}", "Company", " ".join(words).upper())))
    small = MatchIndex.build(corpus)
    keys = small.name_keys
    checked = 0
    for n in range(600):
        nid = rng.randrange(small.name_count)
        tokens = list(small.name_strs[nid])
        i = rng.randrange(len(tokens))
        word = tokens[i]
        j = rng.randrange(len(word))
        tokens[i] = word[:j] + rng.choice("aeiouxyz") + word[j + 1 :]
        if rng.random() < 0.3 and len(tokens) > 1:
            tokens.reverse()
        query = " ".join(tokens)
        row = process.extract(query, keys, scorer=JaroWinkler.normalized_similarity, limit=None)
        top = row[0][1]
        winners = {small.name_entity[k] for _, s, k in row if s >= top - 1e-9}
        if small.name_entity[nid] not in winners:
            continue
        checked += 1
        found = {small.name_entity[m] for form in analyze(query) for _, m in candidates(small, form, CANDIDATES, ROUGH_MIN)}
        assert small.name_entity[nid] in found, query
    assert checked > 300


def test_pickled_index_leaves_the_query_caches_behind():
    import pickle

    from clearance.match.matcher import Matcher
    from clearance.model import Entity

    entity = Entity(id="e1", schema="Company")
    entity.add("name", "Hangzhou Hikvision Digital Technology Co., Ltd.")
    index = MatchIndex.build([("test", entity)])
    before = len(pickle.dumps(index))
    assert Matcher(index).match("Hikvision")
    assert {"_plan_cache", "_scratch"} <= index.__dict__.keys()  # matching filled its caches
    copy = pickle.loads(pickle.dumps(index))
    assert len(pickle.dumps(index)) == before
    assert not any(k.startswith("_") for k in copy.__dict__)
    assert Matcher(copy).match("Hikvision")[0]["entity_id"] == "e1"


def test_candidates_reuse_their_work_space_and_share_it_between_threads(index):
    """The dense work space is reset after each query and never shared by two at once."""
    import threading

    queries = ["Hikvision", "China Alpha Trading", "hangzou hikvisoin", "Bank Melli", "Ocean Star", "Salek", "China", "x"]
    forms = [form for q in queries for form in analyze(q)]
    expected = [candidates(index, form, CANDIDATES, ROUGH_MIN) for form in forms]
    assert [candidates(index, form, CANDIDATES, ROUGH_MIN) for form in forms] == expected
    failures = []

    def run() -> None:
        for _ in range(50):
            if [candidates(index, form, CANDIDATES, ROUGH_MIN) for form in forms] != expected:
                failures.append(1)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures
    assert 1 <= len(index.__dict__["_scratch"]) <= len(threads)


def test_ranked_equals_sorting(index):
    """``_Scratch.ranked`` (a short insertion list) = ``sorted(..., reverse=True)[:most]``."""
    from clearance.match.candidates import _Scratch

    def rough(shared, total, iq):  # candidates._rough_score (C only when compiled)
        return shared * iq * (0.55 + 0.45 * shared / total) if shared < total else total * iq

    rng = random.Random(5)
    scratch = _Scratch(index)
    names = list(range(index.name_count))
    for _ in range(50):
        picked = rng.sample(names, rng.randint(0, len(names)))
        gains = tuple(rng.choice([0.5, 1.0, 1.5, rng.random() * 3]) for _ in picked)
        scratch.add(array("i", picked), gains)
        for floor in (0.0, 1.0, float("-inf")):
            for most in (0, 1, 3, 12):
                everything = [(rough(g, index.name_total[n], 0.25), n) for n, g in zip(picked, gains) if g >= floor]
                assert scratch.ranked(0.25, floor, most) == (sorted(everything, reverse=True)[:most], len(everything))
        scratch.clear()


def test_counting_sort_and_lightest_equal_sorting():
    from clearance.match.candidates import _by_size, _lightest

    rng = random.Random(6)
    for _ in range(100):
        sizes = [rng.randint(0, 40) for _ in range(500)]
        totals = array("f", [rng.choice([1.0, 2.5, rng.random() * 10]) for _ in range(500)])
        ids = tuple(sorted(rng.sample(range(500), rng.randint(0, 500))))
        lens, by_size = _by_size(ids, sizes)
        expected = sorted(ids, key=sizes.__getitem__)
        assert list(by_size) == expected and lens == [sizes[n] for n in expected]
        for most in (0, 1, 5, 200, 600):
            assert list(_lightest(frozenset(ids), totals, most)) == sorted(sorted(ids), key=totals.__getitem__)[:most]


def test_list_token_neighbours_are_computed_at_build(index):
    """A list token's lookups come from the build: the same as computing them per query."""
    assert len(index.neighbours) == len(index.tokens)
    bare = MatchIndex(**{k: v for k, v in index.__getstate__().items() if k != "neighbours"})
    for tid, token in enumerate(index.tokens):
        assert index.neighbours[tid] == token_matches(bare, token)
        assert token_matches(index, token) == index.neighbours[tid]
        assert token_matches(index, token) is token_matches(index, token)  # made once, then cached
    typo = MatchIndex.build([("x", entity("a", "Company", "HIKVISION")), ("x", entity("b", "Company", "HIKVISON"))])
    assert dict(typo.neighbours[typo.vocab["hikvision"]]) == {typo.vocab["hikvision"]: 1.0, typo.vocab["hikvison"]: token_sim("hikvision", "hikvison")}


def test_index_tables_read_like_the_dicts_and_lists_they_replace_after_a_pickle_round_trip(index):
    """The deletion keys and the neighbours are stored as arrays (they load faster): each lookup
    gives what a dict or list of tuples gave, before and after pickling."""
    deletes: dict[str, list[int]] = {}
    for tid, token in enumerate(index.tokens):
        if len(token) >= 4:
            for d in set(_deletions(token)):
                deletes.setdefault(d, []).append(tid)
    loaded = pickle.loads(pickle.dumps(index, protocol=pickle.HIGHEST_PROTOCOL))
    for table in (index.deletes, loaded.deletes):
        assert len(table) == len(deletes)
        for key, tids in deletes.items():
            assert table.get(key) == tuple(tids)
        assert table.get("zzzz-not-a-key") == () and table.get("", None) is None
    assert [loaded.neighbours[t] for t in range(len(index.tokens))] == [index.neighbours[t] for t in range(len(index.tokens))]
    assert loaded.entities == index.entities
    assert len({id(e.source) for e in loaded.entities}) == len({e.source for e in loaded.entities})  # shared, written once
    with pytest.raises(ValueError):
        StringTable({"a\x00b": [1]})


def test_typo_lookups_try_list_tokens_in_id_order():
    """Not in a set's iteration order (which for these ids is 8 before 5, and in general
    may follow the hash seed): the same order, and so the same ties, in every process."""
    words = ["alpha", "bravo", "charlie", "delta", "echo", "brandon", "golf", "hotel", "brandan"]
    typo = MatchIndex.build([("x", entity(f"e{i}", "Company", w)) for i, w in enumerate(words)])
    assert (typo.vocab["brandon"], typo.vocab["brandan"]) == (5, 8)
    assert [t for t, _ in token_matches(typo, "brandin")] == [5, 8]


def test_cached_builds_once_and_keeps_the_newest_dated_indexes(tmp_path):
    from clearance.match import index as index_mod

    calls = []

    def pairs():
        calls.append(1)
        return CORPUS

    for k in range(6):
        path = tmp_path / f"asof-index-{k}.pkl"
        built = index_mod.cached(path, pairs, prune=index_mod.DATED_PATTERN, keep=4)
        os.utime(path, (1_000_000 + k, 1_000_000 + k))  # file times in creation order, whatever the clock's resolution
    assert len(calls) == 6 and built.name_count > 0
    assert sorted(p.name for p in tmp_path.glob("asof-index-*.pkl")) == [f"asof-index-{k}.pkl" for k in (2, 3, 4, 5)]
    again = index_mod.cached(tmp_path / "asof-index-5.pkl", pairs)
    assert len(calls) == 6 and again.name_count == built.name_count
    (tmp_path / "not-a-folder").write_text("")  # a cache that cannot be written still gives an index
    assert index_mod.cached(tmp_path / "not-a-folder" / "asof-index-x.pkl", pairs).name_count == built.name_count
