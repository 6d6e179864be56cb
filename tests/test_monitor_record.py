"""The rows' state a monitor run leaves (OFAC SDN 2019-01 -> 2021-07): rows it screened take their
result, the others keep their status and at least their near miss; when another run was recorded
after this one read the state, this one's results go onto that run's state.  Rows at the default
(clear, no near miss) are not held."""

from __future__ import annotations

import types

import pytest

from clearance.store.runs import DEFAULT_STATE
from tests.test_batch_support import monitor_home, screen_home, sdn_2019_index, warm_bundled_home  # noqa: F401
from tests.test_monitor import portfolio  # noqa: F401
from tests.test_monitor import row_states


def recorded_run(store, monkeypatch, full: bool, stale: bool):
    """A run of portfolio "book"; with ``stale``, as if another run had been recorded after this one
    read the rows' state (its state: one row this run did not screen set to review, 0.9); returns
    the result, the state the run read (or the other run's) and the rows it screened: row index ->
    (status, near)."""
    from clearance.screen import monitor, monitor_alerts
    from clearance.store import runs as r

    seen: dict = {}

    class Recorder(monitor_alerts.Recorder):
        def __init__(self, store, p, *args):
            seen["before"] = row_states(store, p.id)
            if stale:
                p = types.SimpleNamespace(**{**p._mapping, "last_run_id": -1})
            super().__init__(store, p, *args)

        def finish(self, row_states=None):
            seen["screened"] = dict(zip(self.screened.rows, zip(self.screened.statuses, self.screened.nears)))
            if stale:  # the other run's state, as this run's transaction finds it
                other = next(i for i in range(self.p.row_count) if i not in seen["screened"])
                seen["before"][other] = ("review", 0.9)
                r.write_row_states(self.conn, self.p.id, r.row_state_records((i, *state) for i, state in seen["before"].items()))
            return super().finish(row_states)

    monkeypatch.setattr(monitor, "Recorder", Recorder)
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
