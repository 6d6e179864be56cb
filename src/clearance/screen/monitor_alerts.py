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
            "stages": self.stages, "alerts": self.alerts,
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
    """The portfolio's open alerts (a run reads them ahead while its child finishes, and uses
    them if no other run was recorded in between: see :func:`record_run`)."""
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


def record_run(
    store, p, screened: Outcome, changes, snapshots, thresholds, sources, stages: dict[str, Any], full: bool,
    result: MonitorResult, stamp: str, row_states: Callable[[np.ndarray | None], np.ndarray] | None = None,
    opened: list[OpenAlert] | None = None,
) -> MonitorResult:
    """Write the run (started at ``stamp``) and reconcile alerts; ``screened``: the rows screened;
    ``row_states(stored)``: the rows' state after the run, as store records, made from the state
    the run read, or from ``stored`` if another run was recorded since (None: the rows' state
    stands); ``opened``: the portfolio's open alerts, if read since ``p`` was (else, or if another
    run was recorded since, they are read here).  Another run is told by the portfolio's last run
    (monitor runs and registrations alone change a portfolio's alerts, and set it)."""
    t0 = time.perf_counter()
    state = state_of(snapshots)
    fresh = screened.fresh
    counts = {"match": 0, "review": 0, "clear": 0, "error": 0}
    for status in screened.statuses:
        counts[status] += 1
    with store.engine.connect().execution_options(immediate=True) as conn, conn.begin():
        since = conn.execute(select(r.portfolios.c.last_run_id).where(r.portfolios.c.id == p.id)).scalar() != p.last_run_id
        rescreened = set(screened.rows)
        ahead = opened is not None and not since
        stages["open_alerts"] = "read ahead" if ahead else "read"
        old = {(a.row_key, a.entity_id): a for a in (opened if ahead else open_alerts(conn, p.id)) if a.row_index in rescreened}
        run_id = r.insert_run(conn, {
            "kind": "monitor", "portfolio_id": p.id, "started_at": stamp, "finished_at": r.now(), "input_path": p.input_path,
            "input_fingerprint": p.input_fingerprint, "input_format": p.input_format, "mapping": json.loads(p.mapping),
            "sources": sources, "as_of": None,
            "snapshots": [{"source": s.source, "version": s.version, "snapshot_id": s.id} for s in snapshots],
            "thresholds": {"match": thresholds.match, "review": thresholds.review}, "engine": "local",
            "rows": len(screened.rows), "matches": counts["match"], "reviews": counts["review"], "clears": counts["clear"],
            "errors": counts["error"],
            "details": {"portfolio": p.name, "full": full, "list_changes": changes.per_source, "stages": stages},
        })
        new_rows, changed_rows, resolved_rows = _reconcile(fresh, old, changes, run_id, stamp, result)
        r.execute_many(conn, r.alerts.insert(), new_rows)
        r.execute_many(conn, _UPDATE_SEEN, changed_rows)
        r.execute_many(conn, _RESOLVE, resolved_rows)
        if row_states is not None:
            r.write_row_states(conn, p.id, row_states(r.read_row_states(conn, p.id) if since else None))
        conn.execute(r.portfolios.update().where(r.portfolios.c.id == p.id).values(state=r.dumps(state), last_run_id=run_id, updated_at=stamp))
        result.open = conn.execute(
            select(func.count()).select_from(r.alerts).where(r.alerts.c.portfolio_id == p.id, r.alerts.c.status == "open")
        ).scalar()
    result.run_id = run_id
    result.new, result.resolved = len(new_rows), len(resolved_rows)
    stages["record_s"] = round(time.perf_counter() - t0, 3)
    return result


__all__ = ["MonitorResult", "OpenAlert", "Outcome", "brief", "open_alerts", "record_run", "state_of"]
