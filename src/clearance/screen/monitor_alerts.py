"""A monitor run's outcome: its run row, alerts opened, updated and resolved, rows' new status.

Alerts are identified across runs by ``(row_key, entity_id)``.  Only rows
screened by the run can gain or lose alerts; for them, alerts found again are
updated (reported as *changed* when their status, score or entity changed),
new ones opened, and those no longer found resolved: "entity removed from the
list" or "no longer matches".  Everything is written in one transaction.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any, Callable, NamedTuple

import numpy as np

from sqlalchemy import bindparam, func, select

from ..store import runs as r
from .monitor_book import pick


@dataclass
class MonitorResult:
    name: str
    portfolio_id: int
    run_id: int
    rows: int
    rescreened: int
    new: int = 0
    changed: int = 0
    resolved: int = 0
    open: int = 0
    flagged_rows: int = 0
    #: Rows that could not be screened, counted by ``monitor add`` (None for a run: not recounted).
    errors: int | None = None
    seconds: float = 0.0
    list_changes: dict = field(default_factory=dict)
    alerts: list[dict] = field(default_factory=list)
    mapping: str = ""
    stages: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "name": self.name, "portfolio_id": self.portfolio_id, "run_id": self.run_id, "rows": self.rows,
            "rows_rescreened": self.rescreened, "list_changes": self.list_changes, "new": self.new,
            "changed": self.changed, "resolved": self.resolved, "open": self.open, "seconds": round(self.seconds, 3),
            "stages": self.stages, "alerts": self.alerts, **({} if self.errors is None else {"errors": self.errors}),
        }


def state_of(snapshots) -> dict:
    """What a portfolio was last screened against: source -> version and snapshot id."""
    return {s.source: {"version": s.version, "snapshot_id": s.id} for s in snapshots}


def brief(alert: dict, change: str) -> dict:
    return {
        "change": change, "alert_id": alert.get("id"), "row_index": alert["row_index"], "row_key": alert["row_key"],
        "entity_id": alert["entity_id"], "source": alert["source"], "name": alert["name"], "query_name": alert.get("query_name"),
        "score": alert["score"], "hit_status": alert["hit_status"], "resolution": alert.get("resolution"),
    }


@dataclass
class Outcome:
    """The rows a run screened, as it records them: per row its position in the book, its row
    index, status and near miss, and the alerts of the flagged rows keyed by (row key, entity
    id), their hit JSON made.  Made where the rows were screened: a forked child sends only this
    back, not its records (their alerts made there while this process is busy)."""

    positions: list[int] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)
    nears: list[float] = field(default_factory=list)
    fresh: dict[tuple[str, str], dict] = field(default_factory=dict)

    @classmethod
    def of(cls, done: list[tuple[int, dict | None, float]], book, portfolio_id: int, state: dict, stamp: str) -> "Outcome":
        """Of ``(row position, record, near)`` per row screened, ``book`` the portfolio's."""
        positions = [pos for pos, _, _ in done]
        rows = book.row_index[positions].tolist()
        statuses = [rec["status"] if rec else "error" for _, rec, _ in done]
        fresh: dict[tuple[str, str], dict] = {}
        flagged = [k for k, status in enumerate(statuses) if status in ("match", "review")]
        for k, key in zip(flagged, pick(book.row_keys, [positions[k] for k in flagged])):
            for alert in r.alert_rows(done[k][1], key, 0, portfolio_id, state, stamp, row=rows[k]):  # type: ignore[arg-type]
                fresh[(alert["row_key"], alert["entity_id"])] = alert
        return cls(positions, rows, statuses, [near for _, _, near in done], fresh)

    def add(self, other: "Outcome") -> "Outcome":
        """This and ``other`` (other rows) as one."""
        self.positions += other.positions
        self.rows += other.rows
        self.statuses += other.statuses
        self.nears += other.nears
        self.fresh.update(other.fresh)
        return self


_OLD = (r.alerts.c.id, r.alerts.c.row_index, r.alerts.c.row_key, r.alerts.c.entity_id, r.alerts.c.source, r.alerts.c.name,
        r.alerts.c.query_name, r.alerts.c.score, r.alerts.c.hit_status)
#: An open alert found again: seen by this run, its hit as found now.
_SEEN = ("last_run_id", "last_seen", "score", "hit_status", "hit", "snapshot", "snapshot_id", "matched_name", "name")
_UPDATE_SEEN = r.alerts.update().where(r.alerts.c.id == bindparam("b_id")).values({c: bindparam(c) for c in _SEEN})
_RESOLVE = r.alerts.update().where(r.alerts.c.id == bindparam("b_id")).values(
    status="resolved", last_run_id=bindparam("last_run_id"), resolved_at=bindparam("resolved_at"), resolution=bindparam("resolution"),
)


class OpenAlert(NamedTuple):
    """What a run needs of an alert open before it."""

    id: int
    row_index: int
    row_key: str
    entity_id: str
    source: str
    name: str | None
    query_name: str | None
    score: float
    hit_status: str


def open_alerts(conn, portfolio_id: int) -> list[OpenAlert]:
    """The portfolio's open alerts."""
    found = conn.execute(select(*_OLD).where(r.alerts.c.portfolio_id == portfolio_id, r.alerts.c.status == "open"))
    return [OpenAlert(*a) for a in found]


def _reconcile(fresh: dict[tuple[str, str], dict], old: dict[tuple[str, str], OpenAlert], changes, run_id: int, stamp: str,
               result: MonitorResult) -> tuple[list[dict], list[dict], list[dict]]:
    """Alerts to insert (found, not open), update (found again) and resolve (open, not found);
    each new, changed (status, score or entity changed) and resolved one reported in ``result``."""
    new_rows, seen_rows, resolved_rows = [], [], []
    changed_ids = changes.changed_ids
    for key, alert in fresh.items():
        before = old.get(key)
        alert["run_id"] = alert["last_run_id"] = run_id
        if before is None:
            new_rows.append(alert)
            result.alerts.append(brief(alert, "new"))
            continue
        seen_rows.append({"b_id": before.id, **{c: alert[c] for c in _SEEN}})
        if before.hit_status != alert["hit_status"] or abs(before.score - alert["score"]) > 1e-9 or alert["entity_id"] in changed_ids:
            result.changed += 1
            result.alerts.append(brief({**alert, "id": before.id}, "changed"))
    removed_ids = changes.removed_ids
    for key, before in old.items():
        if key in fresh:
            continue
        reason = "entity removed from the list" if before.entity_id in removed_ids else "no longer matches"
        resolved_rows.append({"b_id": before.id, "last_run_id": run_id, "resolved_at": stamp, "resolution": reason})
        result.alerts.append(brief({**before._asdict(), "resolution": reason}, "resolved"))
    return new_rows, seen_rows, resolved_rows


class Recorder:
    """A monitor run's writes, in one transaction (a failed run leaves nothing behind).

    Opened (write lock taken, the run's row inserted, the portfolio's open
    alerts read) before the run's last rows are screened; the rows screened
    are then reconciled and written batch by batch as they come (:meth:`add`:
    a batch made by a forked child while this process waits for the next);
    :meth:`finish` writes the rows' state and the run's counts, and commits.
    Use as a context manager: leaving it without :meth:`finish` rolls back."""

    def __init__(self, store, p, changes, snapshots, thresholds, sources, stages: dict[str, Any], full: bool,
                 result: MonitorResult, stamp: str):
        self.p, self.changes, self.stages, self.result, self.stamp = p, changes, stages, result, stamp
        self.snapshots = state_of(snapshots)
        self.counts = {"match": 0, "review": 0, "clear": 0, "error": 0}
        self.screened = Outcome()  # the rows written so far (their alerts not kept)
        self.new = self.resolved = 0
        self.seconds = 0.0
        t0 = time.perf_counter()
        self.conn = store.engine.connect().execution_options(immediate=True)
        try:
            self._begin(p, changes, snapshots, thresholds, sources, full, stamp)
        except BaseException:
            self.conn.close()
            raise
        self.details = {"portfolio": p.name, "full": full, "list_changes": changes.per_source, "stages": stages}
        self.seconds += time.perf_counter() - t0

    def _begin(self, p, changes, snapshots, thresholds, sources, full: bool, stamp: str) -> None:
        self.transaction = self.conn.begin()
        # another run recorded since ``p`` was read: the rows' state is read again (see finish)
        self.since = self.conn.execute(select(r.portfolios.c.last_run_id).where(r.portfolios.c.id == p.id)).scalar() != p.last_run_id
        self.old: dict[int, list[OpenAlert]] = {}  # row index -> its open alerts
        for alert in open_alerts(self.conn, p.id):
            self.old.setdefault(alert.row_index, []).append(alert)
        self.run_id = r.insert_run(self.conn, {
            "kind": "monitor", "portfolio_id": p.id, "started_at": stamp, "finished_at": stamp, "input_path": p.input_path,
            "input_fingerprint": p.input_fingerprint, "input_format": p.input_format, "mapping": json.loads(p.mapping),
            "sources": sources, "as_of": None,
            "snapshots": [{"source": s.source, "version": s.version, "snapshot_id": s.id} for s in snapshots],
            "thresholds": {"match": thresholds.match, "review": thresholds.review}, "engine": "local",
            "rows": 0, "matches": 0, "reviews": 0, "clears": 0, "errors": 0,
            "details": {"portfolio": p.name, "full": full, "list_changes": changes.per_source},
        })

    def __enter__(self) -> "Recorder":
        return self

    def __exit__(self, *exc) -> None:
        if self.conn is not None:  # not finished: nothing of the run is kept
            try:
                self.transaction.rollback()
            finally:
                self.conn.close()
                self.conn = None

    def add(self, outcome: Outcome) -> None:
        """Write these rows' alerts (rows no batch held before): found again, new, resolved."""
        t0 = time.perf_counter()
        for status in outcome.statuses:
            self.counts[status] += 1
        old = {(a.row_key, a.entity_id): a for i in outcome.rows for a in self.old.pop(i, ())}
        new_rows, seen_rows, resolved_rows = _reconcile(outcome.fresh, old, self.changes, self.run_id, self.stamp, self.result)
        r.execute_many(self.conn, r.alerts.insert(), new_rows)
        r.execute_many(self.conn, _UPDATE_SEEN, seen_rows)
        r.execute_many(self.conn, _RESOLVE, resolved_rows)
        self.new, self.resolved = self.new + len(new_rows), self.resolved + len(resolved_rows)
        self.screened.add(Outcome(outcome.positions, outcome.rows, outcome.statuses, outcome.nears))
        self.seconds += time.perf_counter() - t0

    def finish(self, row_states: Callable[[np.ndarray | None], np.ndarray] | None = None) -> MonitorResult:
        """Write the rows' state, the run's counts, the portfolio's snapshots; commit.
        ``row_states(stored)``: the rows' state after the run, as store records, made from the
        state the run read, or from ``stored`` if another run was recorded since ``p`` was read
        (None: the rows' state stands)."""
        t0 = time.perf_counter()
        conn, p, counts, result = self.conn, self.p, self.counts, self.result
        if row_states is not None:
            r.write_row_states(conn, p.id, row_states(r.read_row_states(conn, p.id) if self.since else None))
        conn.execute(r.portfolios.update().where(r.portfolios.c.id == p.id).values(
            state=r.dumps(self.snapshots), last_run_id=self.run_id, updated_at=self.stamp,
        ))
        result.open = conn.execute(
            select(func.count()).select_from(r.alerts).where(r.alerts.c.portfolio_id == p.id, r.alerts.c.status == "open")
        ).scalar()
        self.stages["record_s"] = round(self.seconds + time.perf_counter() - t0, 3)
        conn.execute(r.runs.update().where(r.runs.c.id == self.run_id).values(
            finished_at=r.now(), rows=len(self.screened.rows), matches=counts["match"], reviews=counts["review"],
            clears=counts["clear"], errors=counts["error"], details=r.dumps(self.details),
        ))
        self.transaction.commit()
        conn.close()
        self.conn = None
        result.run_id, result.new, result.resolved, result.rescreened = self.run_id, self.new, self.resolved, len(self.screened.rows)
        return result


__all__ = ["MonitorResult", "OpenAlert", "Outcome", "Recorder", "brief", "open_alerts", "state_of"]
