"""The rows' state a monitor run leaves (OFAC SDN 2019-01 -> 2021-07): rows it screened take their
result, the others keep their status and at least their near miss; when another run was recorded
after this one read the state, this one's results go onto that run's state (and the open alerts it
read ahead are read again).  Rows at the default (clear, no near miss) are not held."""

from __future__ import annotations

import types

import pytest

from clearance.store.runs import DEFAULT_STATE
from tests.test_batch_support import monitor_home, screen_home, sdn_2019_index, warm_bundled_home  # noqa: F401
from tests.test_monitor import portfolio  # noqa: F401
from tests.test_monitor import row_states


def recorded_run(store, monkeypatch, full: bool, stale: bool):
    """A run of portfolio "book"; with ``stale``, another run's state (one row not screened set to
    review, 0.9) is recorded just before this one writes; returns the result, the state the run
    read (or the other run's) and the rows it screened: row index -> (status, near)."""
    from clearance.screen import monitor, monitor_alerts
    from clearance.store import runs as r

    seen: dict = {}

    def record(store, p, screened, *args):
        seen["screened"] = dict(zip(screened.rows, zip(screened.statuses, screened.nears)))
        seen["before"] = row_states(store, p.id)
        if stale:  # as if a run was recorded after this one read the state
            other = next(i for i in range(p.row_count) if i not in seen["screened"])
            seen["before"][other] = ("review", 0.9)
            with store.engine.begin() as conn:
                r.write_row_states(conn, p.id, r.row_state_records((i, *state) for i, state in seen["before"].items()))
            p = types.SimpleNamespace(**{**p._mapping, "last_run_id": -1})
        return monitor_alerts.record_run(store, p, screened, *args)

    monkeypatch.setattr(monitor, "record_run", record)
    return monitor.run_portfolio(store, "book", full=full), seen


@pytest.mark.parametrize("full, stale", [(False, False), (True, False), (False, True)])
def test_a_run_leaves_each_rows_state(portfolio, monkeypatch, full, stale):  # noqa: F811
    from clearance.screen.monitor import add_portfolio

    store, path = portfolio
    store.activate("us-ofac-sdn", 1)
    add_portfolio(store, path, "book")
    store.activate("us-ofac-sdn", 2)
    result, seen = recorded_run(store, monkeypatch, full, stale)
    after, before, screened = row_states(store, result.portfolio_id), seen["before"], seen["screened"]
    assert DEFAULT_STATE not in after.values()
    raised = 0
    for i in range(result.rows):
        state = after.get(i, DEFAULT_STATE)
        if i in screened:
            assert state == screened[i], i
        else:
            (status, near), (was, was_near) = state, before.get(i, DEFAULT_STATE)
            assert status == was and near >= was_near, i
            raised += near > was_near
    assert (raised > 0) == (not full)  # a full run screens every row; another raises rows' near misses
    assert any(after.get(i, DEFAULT_STATE) != before.get(i, DEFAULT_STATE) for i in screened)
    if stale:
        assert after[next(i for i, state in before.items() if state == ("review", 0.9))][0] == "review"
    assert result.stages["open_alerts"] == ("read ahead" if not full and not stale else "read")
