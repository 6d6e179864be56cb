"""``review.sync`` works from a watermark (the last run it took in): it reads
only the alerts of newer runs, not every alert in the store, and still gives
new alerts their state, suppresses a dismissed record x entity while the list
entry is unchanged, reopens it after a change (also for an alert a monitor run
carries into a changed snapshot), and upgrades a store made before the
watermark with one full scan.  Rows read are counted, not time."""

from __future__ import annotations

import pytest

pytest.importorskip("argon2", reason="argon2-cffi is not installed")
from sqlalchemy import select

from clearance.cases import audit, review, screening, users
from clearance.cases.tables import reviews
from clearance.cases.users import Principal
from clearance.screen import Screener
from clearance.store import runs as r
from clearance.store import schema as t

from tests.fixtures.acme_lists import V2, store  # noqa: E402,F401  (store: the fixture)


def reviewer(store) -> Principal:
    users.add_user(store, "rita", "reviewer", actor="test")
    from clearance.cases.tables import users as u

    with store.engine.connect() as conn:
        return Principal(conn.execute(select(u.c.id).where(u.c.name == "rita")).scalar(), "rita", "reviewer", "test")


def record(store, *names: str) -> list[int]:
    """Record a run the way the batch screener does (no sync of its own); returns the alert ids."""
    out = screening.screen_records(store, Screener(store=store), [{"name": n, "country": "KP"} for n in names], "t", record=False)
    snaps = {s.source: {"version": s.version, "snapshot_id": s.id} for s in store.active_snapshots(None)}
    stamp = r.now()
    with store.engine.connect().execution_options(immediate=True) as conn, conn.begin():
        run_id = r.insert_run(conn, {
            "kind": "screen", "portfolio_id": None, "started_at": stamp, "finished_at": stamp, "snapshots": [], "thresholds": {},
            "engine": "test", "rows": len(names), "matches": 0, "reviews": 0, "clears": 0, "errors": 0,
        })
        rows = [a for res in out["results"] for a in r.alert_rows(res, f"{res['row']}:{res['row']}-{names[res['row']]}", run_id, None, snaps, stamp)]
        r.insert_many(conn, r.alerts, rows)
    return [a["id"] for a in r.run_alerts(store, run_id)]


def state(store, alert_id: int) -> dict:
    return review.review(store, alert_id)


def test_sync_reads_only_alerts_after_the_watermark(store, tmp_path):
    rita = reviewer(store)
    old = record(store, *(["Quonset Dynamics Trading"] * 40))
    first = review.sync_report(store)
    assert first.full and first.changed == 40 and first.examined == 40  # no watermark yet: one full scan
    assert review.sync_report(store).examined == 0  # nothing new: no alert is read

    # A dismissal, then the same record again: suppressed; a new record: open.
    [zorb] = record(store, "Zorblax Heavy Industries")
    report = review.sync_report(store)
    assert not report.full and report.runs == 1 and (report.changed, report.examined) == (1, 1)
    review.decide(store, zorb, "dismissed", "a Norwegian shipyard", rita)
    [again, other] = record(store, "Zorblax Heavy Industries", "Quonset Dynamics Trading Co")
    report = review.sync_report(store)
    assert (report.changed, report.examined) == (2, 2)  # the 41 alerts synced before are not read again
    assert state(store, again)["state"] == "suppressed" and "dismissed in decision" in state(store, again)["note"]
    assert state(store, other)["state"] == "open"

    # The list entry changes: the next alert of that record x entity opens again, and the suppression ends.
    v2 = tmp_path / "acme-v2.csv"
    v2.write_text(V2)
    store.import_files(v2, "acme-blocklist", captured="2026-02")
    [reopened] = record(store, "Zorblax Heavy Industries")
    report = review.sync_report(store)
    assert (report.changed, report.examined) == (1, 1)
    assert state(store, reopened)["state"] == "open" and "reopened" in state(store, reopened)["note"]
    [later] = record(store, "Zorblax Heavy Industries")
    assert review.sync_report(store).examined == 1 and state(store, later)["state"] == "open"

    # Old review rows were not touched by the later syncs.
    with store.engine.connect() as conn:
        old_states = {row.alert_id: row.state for row in conn.execute(select(reviews.c.alert_id, reviews.c.state).where(reviews.c.alert_id.in_(old)))}
    assert old_states == dict.fromkeys(old, "open")
    assert audit.verify(store).ok


def test_decide_syncs_only_new_runs(store):
    rita = reviewer(store)
    record(store, *(["Quonset Dynamics Trading"] * 30))
    review.sync(store)
    [fresh] = record(store, "Zorblax Heavy Industries")
    assert review.decide(store, fresh, "confirmed", "same firm, same address", rita)["state"] == "confirmed"  # synced inside the decision
    assert review.sync_report(store).examined == 0
    with store.engine.connect() as conn:
        assert conn.execute(select(t.meta.c.value).where(t.meta.c.key == review.WATERMARK)).scalar() == str(
            conn.execute(select(r.runs.c.id).order_by(r.runs.c.id.desc())).scalars().first()
        )


def test_monitor_run_moving_a_dismissed_alert_reopens_it(store, tmp_path):
    from clearance.screen.monitor import add_portfolio, run_portfolio

    rita = reviewer(store)
    record(store, *(["Quonset Dynamics Trading"] * 25))  # other alerts, outside the portfolio
    review.sync(store)
    book = tmp_path / "book.csv"
    book.write_text("name,country\nZorblax Heavy Industries,KP\nQuonset Dynamics Trading,IR\n")
    add_portfolio(store, book, "book")
    assert review.sync_report(store).examined == 2
    zorb = next(a for a in r.open_alerts(store) if a["portfolio_id"] and a["entity_id"].endswith("zorb-1"))
    review.decide(store, zorb["id"], "dismissed", "different company", rita)

    v2 = tmp_path / "acme-v2.csv"
    v2.write_text(V2)
    store.import_files(v2, "acme-blocklist", captured="2026-02")
    run_portfolio(store, "book")
    report = review.sync_report(store)
    # Only the portfolio's two alerts, which the monitor run carried into the new snapshot, are read
    # (not the 25 others); the unchanged entry's alert stays open, the changed one reopens.
    assert (report.changed, report.examined) == (2, 2)
    quon = next(a for a in r.open_alerts(store) if a["portfolio_id"] and a["entity_id"].endswith("quon-1"))
    assert state(store, quon["id"])["state"] == "open" and state(store, quon["id"])["note"] is None
    after = state(store, zorb["id"])
    assert after["state"] == "open" and "reopened" in after["note"]
    assert review.sync_report(store).examined == 0


def test_store_without_a_watermark_gets_one_full_scan(store):
    """A store synced before the watermark existed: review rows, but no ``meta`` key."""
    ids = record(store, "Zorblax Heavy Industries", "Quonset Dynamics Trading")
    review.sync(store)
    with store.engine.begin() as conn:
        conn.execute(t.meta.delete().where(t.meta.c.key == review.WATERMARK))
    [new] = record(store, "Quonset Dynamics Trading")
    report = review.sync_report(store)
    assert report.full and report.changed == 1 and report.examined == 3
    assert state(store, new)["state"] == "open" and {state(store, i)["state"] for i in ids} == {"open"}
    assert review.sync_report(store).examined == 0


def test_postgresql_watermark_does_not_pass_an_uncommitted_run(store, db_url):
    """PostgreSQL hands out run ids before commit, so run #n+1 may commit before run #n: the sync
    waits for the older transaction instead of moving the watermark past its alerts."""
    if db_url is None:
        pytest.skip("SQLite has one writer at a time: ids commit in order")
    import threading
    import time

    record(store, "Quonset Dynamics Trading")
    review.sync(store)
    slow = store.engine.connect()
    tx = slow.begin()
    stamp = r.now()
    run = {"kind": "screen", "portfolio_id": None, "started_at": stamp, "finished_at": stamp, "snapshots": [], "thresholds": {},
           "engine": "test", "rows": 1, "matches": 1, "reviews": 0, "clears": 0, "errors": 0}
    slow_run = r.insert_run(slow, run)
    template = screening.screen_records(store, Screener(store=store), [{"name": "Zorblax Heavy Industries"}], "t", record=False)["results"][0]
    snaps = {s.source: {"version": s.version, "snapshot_id": s.id} for s in store.active_snapshots(None)}
    r.insert_many(slow, r.alerts, r.alert_rows(template, "0:slow", slow_run, None, snaps, stamp))
    [fast] = record(store, "Zorblax Heavy Industries")  # a later run id, committed first
    done: list = []
    worker = threading.Thread(target=lambda: done.append(review.sync_report(store)))
    worker.start()
    time.sleep(0.5)
    assert worker.is_alive() and not done  # waiting for the open run transaction
    tx.commit()
    slow.close()
    worker.join(10)
    assert done and done[0].changed == 2
    slow_alert = next(a["id"] for a in r.run_alerts(store, slow_run))
    assert state(store, slow_alert)["state"] == "open" and state(store, fast)["state"] == "open"
