"""Ownership sets in the store: saved, replaced and removed atomically, on SQLite and PostgreSQL."""

from __future__ import annotations

from clearance.store import open_store
from clearance.store.ownership import get_set, list_sets, remove_set, save_set, set_edges

ROW = {"line": 2, "owner": "A", "owner_key": "us-ofac-sdn-306", "owned": "B", "owned_key": "name:b",
       "percent": 30.0, "relation": "ownership", "source": "fixture", "date": "2020-01-01"}


def test_save_replace_remove(db_url):
    store = open_store(db_url, initialise=False)
    first = save_set(store.engine, "holdings", "h.csv", "0" * 64, [ROW], [{"text": "A", "status": "exact"}])
    assert first.edge_count == 1 and first.report == [{"text": "A", "status": "exact"}]
    second = save_set(store.engine, "holdings", "h.csv", "1" * 64, [ROW, {**ROW, "line": 3, "percent": None}], [])
    assert [s.name for s in list_sets(store.engine)] == ["holdings"]
    edges = set_edges(store.engine, second.id)
    assert [e["line"] for e in edges] == [2, 3] and edges[1]["percent"] is None
    assert get_set(store.engine, "holdings").sha256 == "1" * 64
    assert remove_set(store.engine, "holdings") and not remove_set(store.engine, "holdings")
    assert list_sets(store.engine) == []
