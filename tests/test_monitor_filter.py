"""The monitor's change filter is sound: it never skips a row a changed entity can reach.

Checked against the scorer itself, pair by pair, on the bundled SDN 2019-01 -> 2021-07
update, and the typo search against comparing every pair of strings.
"""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

from tests.test_batch_support import warm_bundled_home  # noqa: F401


def _typo(rng: random.Random, word: str) -> str:
    chars = list(word)
    for _ in range(rng.choice((1, 1, 2, 3))):
        i = rng.randrange(len(chars)) if chars else 0
        op = rng.randrange(4)
        if op == 0 and chars:
            chars[i] = rng.choice("aeioulnrst")
        elif op == 1:
            chars.insert(i, rng.choice("aeioulnrst"))
        elif op == 2 and len(chars) > 1:
            del chars[i]
        elif i + 1 < len(chars):
            chars[i], chars[i + 1] = chars[i + 1], chars[i]
    return "".join(chars)


def test_typo_search_finds_every_pair_the_scorer_makes():
    from clearance.screen.monitor_partners import VariantTable, hashed_pairs, long_pairs, partners

    rng = random.Random(4)
    letters = "abcdefghiklmnoprstuvyz"
    own = sorted({"".join(rng.choice(letters) for _ in range(rng.randint(1, 16))) for _ in range(1500)})
    other = [_typo(rng, rng.choice(own)) for _ in range(1200)] + ["".join(rng.choice(letters) for _ in range(rng.randint(3, 15))) for _ in range(300)]
    other += [a + b for a, b in zip(own[::7], own[1::7])]  # compounds, long ones too
    found = set(hashed_pairs(VariantTable(own), own, other)) | set(long_pairs(other, own))
    exact_elsewhere = {(i, own.index(s)) for i, s in enumerate(other) if s in own and not 4 <= len(s) <= 12}
    expected = {(i, j) for i, a in enumerate(other) for j, b in enumerate(own) if partners(a, b)}
    assert expected - exact_elsewhere <= found <= expected
    assert len(expected) > 800


@pytest.fixture(scope="module")
def sdn_update(warm_bundled_home):
    """The full index with SDN 2021-07 active and (part of) the change from 2019-01, read-only."""
    import os

    from clearance.screen.monitor_changes import ChangedNames, ChangeSet, change_set
    from clearance.screen.monitor_screening import IndexLoader
    from clearance.store import open_store

    old = os.environ.get("CLEARANCE_HOME")
    os.environ["CLEARANCE_HOME"] = str(warm_bundled_home)
    try:
        store = open_store(initialise=False)
        snapshots = store.active_snapshots()
        state = {s.source: {"version": s.version, "snapshot_id": s.id} for s in snapshots}
        sdn1 = store.snapshot("us-ofac-sdn", 1)
        state["us-ofac-sdn"] = {"version": 1, "snapshot_id": sdn1.id}
        changes = change_set(store, state, snapshots)
        index = IndexLoader()(store)
    finally:
        if old is None:
            os.environ.pop("CLEARANCE_HOME", None)
        else:
            os.environ["CLEARANCE_HOME"] = old
    assert len(changes.changed) > 2000
    rng = random.Random(7)
    part = ChangeSet(per_source=changes.per_source, changed=set(rng.sample(sorted(changes.changed), 250)), removed=changes.removed)
    return index, part, ChangedNames(index, part)


def _rows(index, names, rng: random.Random) -> list[tuple[int, str, str]]:
    """Rows near the changed names (typos, dropped and swapped words, compounds, initials),
    near unchanged ones, and made-up names; some with a country."""
    changed = [index.name_text[n] for n in names.ids]
    others = [index.name_text[n] for n in rng.sample(range(index.name_count), 300)]
    out = []
    for k in range(700):
        base = rng.choice(changed if k % 3 else others)
        words = base.replace(",", " ").split()
        roll = rng.random()
        if roll < 0.25 and words:
            words[rng.randrange(len(words))] = _typo(rng, rng.choice(words))
        elif roll < 0.4 and len(words) > 2:
            del words[rng.randrange(len(words))]
        elif roll < 0.5 and len(words) > 1:
            i = rng.randrange(len(words) - 1)
            words[i : i + 2] = [words[i] + words[i + 1]]
        elif roll < 0.55 and words and len(max(words, key=len)) > 5:
            i = words.index(max(words, key=len))
            cut = rng.randrange(2, len(words[i]) - 2)
            words[i : i + 1] = [words[i][:cut], _typo(rng, words[i][cut:]) if rng.random() < 0.3 else words[i][cut:]]
        elif roll < 0.6 and len(words) > 1:
            words[0] = words[0][0]
        elif roll < 0.7:
            words = ["".join(rng.choice("aeioubdgklmnrstv") for _ in range(rng.randint(4, 9))), rng.choice(["Ltd", "GmbH", "Trading", "LLC"])]
        query = {"name": " ".join(words), "country": [rng.choice(["", "RU", "CN"])] if rng.random() < 0.3 else [],
                 "schema": rng.choice([None, None, "Person", "Company"]), "birth_date": None, "identifiers": []}
        out.append((k, f"{k}:x", json.dumps(query)))
    return out


def test_bounds_hold_for_every_row_and_changed_name(sdn_update, monkeypatch):
    """Whatever the scorer gives a row against a changed name, the filter's bounds are above it,
    and a row a changed name can come within the band of is never skipped."""
    from clearance.screen.monitor_book import Book
    from clearance.screen.monitor_filter import MAX_BONUS, ChangeFilter

    index, changes, names = sdn_update
    book = Book.build("test", _rows(index, names, random.Random(11)))
    filt = ChangeFilter(book, index, names)
    band, review = 0.55, 0.70
    forms = np.repeat(np.arange(len(book.form_row)), len(names))
    each = np.tile(np.arange(len(names)), len(book.form_row))
    compatible = filt.can_score[filt.row_schema[book.form_row[forms]], filt.name_schema[each]]
    forms, each = forms[compatible], each[compatible]
    bounds = filt._pair_bounds(forms, each)
    union = filt.union_bound()
    best = np.zeros(book.rows)
    for form, n, bound in zip(forms.tolist(), each.tolist(), bounds.tolist()):
        ks = range(int(book.form_start[form]), int(book.form_start[form + 1]))
        tokens = tuple(book.vocab[book.tok[k]] for k in ks)
        weights = [float(filt.weights[book.tok[k]]) for k in ks]
        pos = int(book.form_row[form])
        score = filt.hits.score(tokens, weights, n, book.schemas[pos]) + (MAX_BONUS if book.bonus[pos] else 0.0)
        assert score <= bound + 1e-6, (tokens, names.tokens[n], score, bound)
        assert bound <= union[pos] + 1e-6, (tokens, names.tokens[n], bound, union[pos])
        best[pos] = max(best[pos], score)
    high, near, counts = filt.affected(band, review, set())
    assert set(np.nonzero(best >= review)[0].tolist()) <= set(high)
    assert set(np.nonzero(best >= band)[0].tolist()) <= set(high) | set(near)
    assert all(band <= v < review for v in near.values())
    assert len(high) > 50 and counts["rows_touching_changes"] < book.rows  # the test has teeth, the filter filters
    from clearance.screen import workers

    monkeypatch.setattr(workers.threading, "active_count", lambda: 1)  # idle threads left by other tests
    assert filt.affected(band, review, set(), split_from=1) == (high, near, counts)  # half the rows decided in a child
    for low in (0.3, band):  # the rough bound that prunes pairs is above the exact one
        f, n, rough = filt._pairs(list(range(book.rows)), low)
        assert len(f) > 100 and np.all(rough >= filt._pair_bounds(f, n) - 1e-9)


def test_compiled_bounds_equal_the_numpy_path(sdn_update):
    """Steps 1 and 2 compiled (:mod:`clearance.match.bounds`) give the NumPy path's pairs and the
    same doubles, for all rows and for a part of them (sums run over the rows given)."""
    from clearance.match import compiled
    from clearance.screen.monitor_book import Book
    from clearance.screen.monitor_filter import ChangeFilter

    if compiled.status().get("bounds") != "compiled":
        pytest.skip("the bounds kernel is not built in this install")
    index, changes, names = sdn_update
    book = Book.build("test", _rows(index, names, random.Random(5)))
    filt = ChangeFilter(book, index, names)

    def both(call):
        filt.use_kernel = False
        slow = call()
        filt.use_kernel = True
        return slow, call()

    slow, fast = both(filt._union_of)
    assert np.count_nonzero(slow[0] > 0.3) > 100
    for a, b in zip(slow, fast):
        assert np.array_equal(a, b)
    for rows, band in ((list(range(book.rows)), 0.3), (list(range(book.rows)), 0.55), (list(range(1, book.rows, 3)), 0.45)):
        slow, fast = both(lambda: filt._pairs(rows, band))
        assert len(slow[0]) > 100
        for a, b in zip(slow, fast):
            assert a.dtype == b.dtype and np.array_equal(a, b)
        slow, fast = both(lambda: filt._pair_bounds(slow[0], slow[1]))
        assert np.array_equal(slow, fast)
        slow, fast = both(lambda: filt._decide(rows, band, band + 0.15))  # step 3: the scorer decides
        assert slow == fast and slow[0] and slow[1]
    assert filt._compiled is not None


def test_token_weights_are_token_weight(sdn_update):
    from clearance.match.index import weak_tokens

    index = sdn_update[0]
    tokens = [index.name_strs[n][0] for n in range(0, index.name_count, 97)] + sorted(weak_tokens())[:20] + ["zzqxv", "ltd", ""]
    assert index.token_weights(tokens) == [index.token_weight(t) for t in tokens]
    assert len(set(index.token_weights(tokens))) > 10


def test_nothing_to_pair_with(sdn_update):
    """Removals only, an entity the index does not hold, rows without a name: nothing affected."""
    from clearance.screen.monitor_book import Book
    from clearance.screen.monitor_changes import ChangedNames, ChangeSet
    from clearance.screen.monitor_filter import ChangeFilter

    index, changes, _ = sdn_update
    rows = [
        (0, "0:a", json.dumps({"name": "Acme Trading Ltd", "country": ["DE"], "schema": None, "birth_date": None, "identifiers": [["isin", "US0378331005"]]})),
        (1, "1:b", None),
        (2, "2:c", json.dumps({"name": "", "country": [], "schema": "Person", "birth_date": None, "identifiers": []})),
        (3, "3:d", json.dumps({"name": "Acme", "country": [], "schema": "Nonsense", "birth_date": None, "identifiers": []})),
    ]
    book = Book.build("test", rows)
    for change in (ChangeSet(removed=changes.removed), ChangeSet(changed={("us-ofac-sdn", "no-such-entity")})):
        filt = ChangeFilter(book, index, ChangedNames(index, change))
        assert filt.affected(0.55, 0.70, set()) == ([], {}, {"rows_touching_changes": 0, "pairs_bounded": 0, "pairs_scored": 0})
        filt.check({0: {"hits": []}, 1: None}, change.changed)
        assert filt.violations == 0


def test_check_counts_a_hit_above_its_bound(sdn_update):
    """The run's safety net fires: a hit on a changed entity scoring above what the filter
    bounds that row and name at is counted (the run then screens every row); the scorer's
    own score is not."""
    from clearance.screen.monitor_book import Book
    from clearance.screen.monitor_filter import ChangeFilter, HitCheck

    index, changes, names = sdn_update
    info = index.entities[names.entity[0]]
    text = index.name_text[names.ids[0]]
    rows = [(0, "0:a", json.dumps({"name": text, "country": [], "schema": None, "birth_date": None, "identifiers": []})),
            (1, "1:b", json.dumps({"name": "Zebulon Quartz Bakery", "country": [], "schema": None, "birth_date": None, "identifiers": []}))]
    book = Book.build("test", rows)
    filt = ChangeFilter(book, index, names)

    def record(score: float) -> dict:
        return {"hits": [{"source": info.source, "entity_id": info.id, "score": score, "explanation": {"features": {"name": score}}}]}

    filt.check({0: record(1.0)}, changes.changed)  # its own name: the bound allows it
    assert filt.violations == 0
    filt.check({1: record(0.9)}, changes.changed)  # a name sharing nothing with it
    assert filt.violations == 1
    # a forked child scores its hits with a HitCheck of its own (its token weights looked up
    # form by form): the same as this process's, and the bounds here count the same
    records = {0: record(1.0), 1: record(0.9)}
    here, there = filt.hits.scores(records, changes.changed), HitCheck(book, index, names).scores(records, changes.changed)
    assert all(np.array_equal(getattr(here, k), getattr(there, k)) for k in ("forms", "names", "totals", "share_ok"))
    assert here.hit_violations == there.hit_violations and len(here.forms) > 0
    filt.check_scored(there)
    assert filt.violations == 2
