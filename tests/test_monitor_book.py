"""A portfolio's book as saved for monitor runs: mapped back unchanged, and rebuilt from the
store whenever its file is missing, stale, cut short or garbage (a cache: never an error)."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest

from tests.test_batch_support import screen_home, warm_bundled_home  # noqa: F401

QUERIES = [
    {"name": "Acme Trading Ltd", "country": ["DE"], "schema": None, "birth_date": None, "identifiers": [["isin", "US0378331005"], ["lei", "-"]]},
    None,  # an unreadable row
    {"name": "北京化工远航有限公司", "country": [], "schema": "Company", "birth_date": None, "identifiers": []},
    {"name": "Zoë Ångström-Łukasz 🚢", "country": [], "schema": "Person", "birth_date": "1970", "identifiers": [["imo", "IMO 9319466"]]},
    {"name": "Ab C", "country": [], "schema": "Nonsense", "birth_date": None, "identifiers": []},  # "abc" is a compound here...
    {"name": "Abc Internationalshippingcompany", "country": [], "schema": None, "birth_date": None, "identifiers": []},  # ...and a token here
    {"name": "", "country": [], "schema": "Person", "birth_date": None, "identifiers": [["lei", "-"]]},  # no identifier left
]


def _rows() -> list[tuple[int, str, str | None]]:
    texts = [json.dumps(q, ensure_ascii=False) if q is not None else None for q in QUERIES]
    texts.append("")  # stored but empty: no query either
    return [(10 + k, f"{k}:ключ-{k}", text) for k, text in enumerate(texts)]


def _same(a, b) -> None:
    """Two books hold the same rows, strings, arrays and table."""
    from clearance.screen.monitor_book import _ARRAYS, _TABLE

    assert a.key == b.key and a.rows == b.rows
    for name in _ARRAYS:
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype and np.array_equal(x, y), name
    for name in _TABLE:
        x, y = getattr(a.table, name), getattr(b.table, name)
        assert x.dtype == y.dtype and np.array_equal(x, y), name
    assert a.table.size == b.table.size
    assert list(a.row_keys) == list(b.row_keys) and list(a.queries) == list(b.queries)
    assert a.schemas == b.schemas and a.vocab == b.vocab and a.joins == b.joins and a.strings == b.strings
    assert dict(a.identifiers.items()) == dict(b.identifiers.items()) == dict(a.identifiers) == dict(b.identifiers)
    assert [a.query(i) for i in range(a.rows)] == [b.query(i) for i in range(b.rows)]


@pytest.fixture
def store(tmp_path):
    """Just what the book functions use of a store: an engine holding the run tables, a URL, a cache dir."""
    from sqlalchemy import create_engine, insert

    from clearance.store import runs as r

    engine = create_engine(f"sqlite:///{tmp_path / 'runs.db'}")
    r.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(r.portfolios).values(id=1, name="p", created_at="", updated_at="", mapping="{}", thresholds="{}", row_count=len(_rows()), state="{}"))
        conn.execute(insert(r.portfolio_rows), [
            {"portfolio_id": 1, "row_index": i, "row_key": key, "input": "{}", "query": text, "status": "clear", "near": 0.0} for i, key, text in _rows()
        ])
    (tmp_path / "cache").mkdir()
    return SimpleNamespace(engine=engine, url=f"sqlite:///{tmp_path / 'runs.db'}", cache_dir=tmp_path / "cache")


def _portfolio(**changes):
    return SimpleNamespace(**{"id": 1, "input_fingerprint": "f", "mapping": "{}", "row_count": len(_rows()), "last_run_id": None, **changes})


def test_round_trip(store):
    from clearance.screen.monitor_book import Book, Texts, _path, _read_book, pick, save_book
    from clearance.screen.monitor_partners import Sketches

    book = Book.build("k", _rows())
    save_book(store, 1, book)
    back = _read_book(_path(store, 1, "book"))
    assert isinstance(back.queries, Texts) and isinstance(back.row_keys, Texts)
    _same(book, back)
    assert back.queries[1] is None and back.queries[-1] == "" and back.query(1) is None and back.query(len(QUERIES)) is None
    assert back.has_query.tolist() == [True, False, True, True, True, True, True, False]
    assert back.row_keys[3] == "3:ключ-3" and back.query(3)["name"] == "Zoë Ångström-Łukasz 🚢" and back.queries[2:4] == list(book.queries[2:4])
    with pytest.raises(IndexError):
        back.queries[len(QUERIES) + 1]
    direct = Sketches.of(back.strings)  # kept with the book: what sketching every string gives
    assert all(np.array_equal(x, y) for x, y in zip((back.sketches.lengths, back.sketches.first, back.sketches.sketch), (direct.lengths, direct.first, direct.sketch)))
    assert list(back.schemas) == [back.schemas[i] for i in range(back.rows)] == list(book.schemas) and len(set(back.schemas)) == len(back.schema_names)
    some = [3, 1, 0, 3, len(QUERIES) - 1]
    assert pick(back.queries, some) == [back.queries[i] for i in some] == pick(list(book.queries), some)  # None too
    assert pick(back.row_keys, some) == [back.row_keys[i] for i in some]
    assert dict(back.identifiers) == {0: ["US0378331005"], 3: ["IMO9319466"], 6: []} and back.identifiers[3] == ["IMO9319466"] and 1 not in back.identifiers
    assert not back.tok.flags.writeable and not back.table.keys.flags.writeable  # mapped, read only
    save_book(store, 1, back)  # a loaded book saves as well
    _same(book, _read_book(_path(store, 1, "book")))
    assert [p.name for p in store.cache_dir.iterdir()] == [_path(store, 1, "book").name]  # no temporary file left


def test_a_saved_book_gives_the_readings_analyze_gives(store):
    """The forms a book keeps, weak flags included, are the names' readings: a run screens its
    rows with them instead of reading the names again (``normalize.known_readings``)."""
    from clearance.match.normalize import _KNOWN, analyze, known_readings
    from clearance.screen.monitor_book import Book, _path, _read_book, save_book

    save_book(store, 1, Book.build("k", _rows()))
    book = _read_book(_path(store, 1, "book"))
    items = [(pos, book.query(pos)) for pos in range(book.rows)]
    readings = dict(book.readings(items))
    named = [q["name"] for q in QUERIES if q and q["name"]]
    assert list(readings) == named and all(readings[name] == analyze(name) for name in named)
    assert any(any(form.weak) for forms in readings.values() for form in forms)  # "ltd", "有限公司"
    assert readings["北京化工远航有限公司"][0].tokens[-1] == "ltd"
    made_up = ((name, analyze("Other Name Ltd")) for name in named)  # what a block knows is what analyze gives
    with known_readings(made_up):
        assert all(analyze(name) == analyze("Other Name Ltd") for name in named)
    assert not _KNOWN and analyze(named[0]) == readings[named[0]]


def test_exact_numbers_every_string_hashing_skips():
    """Short and long strings -> all their numbers (a token may be a compound of two others too),
    found by their whole-string hashes."""
    import numpy as np

    from clearance.screen.monitor_book import Book
    from clearance.screen.monitor_partners import string_hashes

    book = Book.build("k", _rows())
    want: dict[str, list[int]] = {}
    for i, s in enumerate(book.strings):
        if len(s) < 4 or len(s) > 12:
            want.setdefault(s, []).append(i)
    assert sorted(book.exact_ids.tolist()) == sorted(i for v in want.values() for i in v)
    assert np.all(np.diff(book.exact_keys.astype(object)) >= 0)  # sorted, for searching
    for s, ids in want.items():
        h = string_hashes([s])[0]
        lo, hi = np.searchsorted(book.exact_keys, h, "left"), np.searchsorted(book.exact_keys, h, "right")
        assert sorted(book.exact_ids[lo:hi].tolist()) == ids, s
    assert "abc" in want and want["abc"] == [book.vocab.index("abc"), len(book.vocab) + book.joins.index("abc")]


def test_load_book_caches_and_rebuilds(store, monkeypatch):
    from clearance.screen.monitor_book import Book, _path, drop, load_book

    p = _portfolio()
    path = _path(store, 1, "book")
    legacy = _path(store, 1, "book.pkl")
    legacy.write_bytes(b"a book pickled by an older version")
    built = load_book(store, p)
    assert path.exists() and not legacy.exists()
    _same(built, Book.build(built.key, _rows()))

    builds = []
    real = Book.build.__func__
    monkeypatch.setattr(Book, "build", classmethod(lambda cls, *a: builds.append(1) or real(cls, *a)))
    _same(load_book(store, p), built)
    assert not builds  # from the file

    whole = path.read_bytes()
    for damaged in (whole[: len(whole) // 2], whole[:20], b"", b"\0" * len(whole), whole[:24] + b"\xff" * 100 + whole[124:], whole[:8] + b"\xff" * 200 + whole[208:]):
        path.write_bytes(damaged)
        _same(load_book(store, p), built)
        assert path.read_bytes() == whole  # rebuilt and saved again
    path.unlink()
    _same(load_book(store, p), built)
    stale = load_book(store, _portfolio(mapping='{"name": "Other"}'))  # another registration: another key
    assert stale.key != built.key and _read_book_key(store) == stale.key
    assert len(builds) == 8

    _path(store, 1, "state.pkl").write_bytes(b"rows' state as an older version cached it")
    legacy.write_bytes(b"")
    drop(store, 1)
    assert not list(store.cache_dir.iterdir())


def _read_book_key(store) -> str:
    from clearance.screen.monitor_book import _path, _read_book

    return _read_book(_path(store, 1, "book")).key


def test_row_state_updates_and_raises_near_misses():
    from clearance.screen.monitor_book import STATUSES, RowState

    state = RowState.empty(1, 5)
    state.update([3, 0, 4], ["match", "clear", "nonsense"], [0.95, 0.0, 0.7], 2)
    assert [STATUSES[s] for s in state.status] == ["clear", "error", "error", "match", "error"] and state.run_id == 2
    state.raise_near({0: 0.72, 3: 0.5, 4: 0.71})
    assert state.near.tolist() == [0.72, 0.0, 0.0, 0.95, 0.71]
    state.raise_near({})
    assert state.flagged().tolist() == [False, False, False, True, False] and state.flagged_or_near(0.71).tolist() == [0, 3, 4]


def test_row_state_records_round_trip():
    """The store keeps rows not at the default (clear, no near miss) by row index; read back onto
    a book's rows (row indexes need not be positions), records of rows not in it are left out."""
    import numpy as np

    from clearance.screen.monitor_book import STATUSES, RowState
    from clearance.store import runs as r

    state = RowState.empty(1, 5)
    state.update(range(5), ["clear", "match", "clear", "review", "error"], [0.0, 0.97, 0.71, 0.8, 0.0], 1)
    row_index = np.array([2, 3, 5, 8, 9])
    records = state.records(row_index)
    assert records["row"].tolist() == [3, 5, 8, 9] and records.dtype == r.ROW_STATE
    stored = np.frombuffer(np.ascontiguousarray(records).tobytes(), dtype=r.ROW_STATE)
    back = RowState.of_records(1, stored, row_index)
    assert back.status.tolist() == state.status.tolist() and back.near.tolist() == state.near.tolist()
    fewer = RowState.of_records(1, stored, np.array([3, 4, 9]))
    assert [STATUSES[s] for s in fewer.status] == ["match", "clear", "error"] and fewer.near.tolist() == [0.97, 0.0, 0.0]
    assert RowState.of_records(1, stored[:0], row_index).flagged_or_near(0.1).tolist() == []
    assert len(RowState.of_records(1, stored, np.array([], dtype=np.int64)).status) == 0
    assert r.row_state_records([(4, "clear", 0.0), (6, "clear", 0.5), (7, "error", 0.0)])["row"].tolist() == [6, 7]


def test_whole_string_hashes_tell_strings_apart_at_any_length():
    from clearance.screen.monitor_partners import string_hashes

    strings = ["", "a", "ab", "ba", "abc", "x" * 13, "x" * 14, "xx" * 7, "ünïcödé-lång-ströng", "ab", "🚢", "a\x00"]
    hashes = string_hashes(strings).tolist()
    assert hashes[1] != hashes[-1] and hashes[2] == hashes[9] and string_hashes([]).tolist() == []
    assert len({h for h, s in zip(hashes, strings)}) == len(set(strings))  # equal strings, equal hashes; others differ
    assert string_hashes(strings[3:6]).tolist() == hashes[3:6]  # a string's hash does not depend on its neighbours


def test_a_run_filters_with_a_light_copy_of_the_index(screen_home):  # noqa: F811
    """Caching the full index caches beside it the parts a monitor run's filter reads (equal to
    the full index's, the rest empty); a run's loader takes it unless it has the full index in
    memory, and the full index when no light copy is cached (which loading the full one then
    caches again)."""
    from clearance.match import index as index_mod
    from clearance.screen import check
    from clearance.screen.monitor_screening import IndexLoader
    from clearance.store import open_store

    store = open_store(initialise=False)
    full = check.load_or_build(store)
    light_file = index_mod.light_path(check.cache_path(store))
    assert light_file.exists() and full.postings
    assert IndexLoader().light(store) is full  # in memory: the full index
    check._LOADED.clear()  # as in a new process
    light = IndexLoader().light(store)
    assert not light.postings and not len(light.deletes) and not light.name_keys
    for name in ("name_strs", "name_wts", "name_weak", "vocab", "identifiers", "unknown_weight", "version"):
        assert getattr(light, name) == getattr(full, name), name
    assert list(light.weight) == list(full.weight) and list(light.name_entity) == list(full.name_entity)
    assert [(e.source, e.id, e.schema) for e in light.entities] == [(e.source, e.id, e.schema) for e in full.entities]
    light_file.unlink()
    check._LOADED.clear()
    assert IndexLoader().light(store).postings and light_file.exists()
