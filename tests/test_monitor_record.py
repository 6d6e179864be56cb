"""``record_run`` told the rows' previous state writes only the rows whose state changed, and
leaves the row state a run writing every row leaves (OFAC SDN 2019-01 -> 2021-07); the table
holds only rows not clear without a near miss."""

from __future__ import annotations

import types

import pytest
from sqlalchemy import event

from clearance.store.runs import DEFAULT_STATE
from tests.test_batch_support import monitor_home, screen_home, sdn_2019_index, warm_bundled_home  # noqa: F401
from tests.test_monitor import portfolio  # noqa: F401
from tests.test_monitor import row_states


def recorded_run(store, monkeypatch, full: bool, stale: bool = False):
    """A run of portfolio "book" whose ``record_run`` is told the rows' state as the table holds it
    (``stale``: as if another run had been recorded since, with a ``previous`` that would skip every
    row); returns the result and what was seen: the state before, the rows screened, the near misses
    raised and how many rows' state were written."""
    from clearance.screen import monitor, monitor_alerts

    seen: dict = {}

    def record(store, p, screened, nears, changes, snapshots, thresholds, sources, stages, full, result, stamp, *_):
        results = dict(zip(screened.rows, zip(screened.statuses, screened.nears)))  # row index -> (status, near)
        seen.update(before=row_states(store, p.id), results=results, nears=nears)
        previous = {i: seen["before"].get(i, DEFAULT_STATE) for i in results}
        if stale:  # as if a run was recorded after this one read the state: every row is written
            previous = dict(results)
            p = types.SimpleNamespace(**{**p._mapping, "last_run_id": -1})
        return monitor_alerts.record_run(store, p, screened, nears, changes, snapshots, thresholds, sources, stages, full, result, stamp, previous)

    def count(conn, cursor, statement, parameters, context, executemany):
        if statement.startswith("DELETE FROM portfolio_row_state") or (
            statement.startswith("INSERT INTO portfolio_row_state") and "SET status" in statement
        ):  # a row's state set (not a near miss raised)
            seen["written"] = seen.get("written", 0) + (len(parameters) if executemany else 1)

    monkeypatch.setattr(monitor, "record_run", record)
    event.listen(store.engine, "before_cursor_execute", count)
    try:
        result = monitor.run_portfolio(store, "book", full=full)
    finally:
        event.remove(store.engine, "before_cursor_execute", count)
    return result, seen


@pytest.mark.parametrize("full, stale", [(False, False), (True, False), (True, True)])
def test_only_changed_row_states_are_written(portfolio, monkeypatch, full, stale):  # noqa: F811
    from clearance.screen.monitor import add_portfolio

    store, path = portfolio
    store.activate("us-ofac-sdn", 1)
    add_portfolio(store, path, "book")
    store.activate("us-ofac-sdn", 2)
    result, seen = recorded_run(store, monkeypatch, full, stale)
    before = seen["before"]
    expected = dict(before)
    for i, near in seen["nears"].items():
        status, was = expected.get(i, DEFAULT_STATE)
        expected[i] = (status, max(was, near))
    expected.update(seen["results"])
    expected = {i: state for i, state in expected.items() if state != DEFAULT_STATE}
    assert row_states(store, result.portfolio_id) == expected
    assert any(i not in expected for i in seen["results"]) and any(i not in before for i in expected)  # rows left and joined
    changed = sum(before.get(i, DEFAULT_STATE) != expected.get(i, DEFAULT_STATE) for i in seen["results"])
    assert 0 < changed < len(seen["results"])
    assert seen.get("written", 0) == (len(seen["results"]) if stale else changed)
