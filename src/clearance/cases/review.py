"""The review workflow over screening alerts.

An alert (from :mod:`clearance.store.runs`: input record x list entity x
snapshot) has a review state here, one ``case_reviews`` row per alert:

``open`` -> ``confirmed`` (true match) | ``dismissed`` (false positive) |
``escalated`` (for a reviewer); with four-eyes on, an analyst's
``confirmed`` is ``pending`` until a reviewer approves (``confirmed``) or
rejects it (``open``).  Any decision needs a reason, and names who made it.

A dismissal suppresses the same record (the fingerprint of the fields
screened) x entity on later runs, *only while the list entry is unchanged*
(same content hash): such alerts are born ``suppressed``.  When the entry
changes, the alert opens again with a note saying why, and the suppression
ends.  The same goes for a dismissed alert that a monitor run carries into a
newer snapshot in which its entry changed.

Review rows are made lazily by :func:`sync`, so batch and monitor runs need
not know this module exists.  A sync looks only at the runs recorded since
the last one (a watermark on run ids, see "sync" below): its cost depends on
what is new, not on how many alerts the store already holds.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import Any, Iterable, Sequence

from sqlalchemy import and_, func, or_, select, text

from ..errors import InputError
from ..store import runs as r
from ..store import schema as t
from . import audit
from .errors import Conflict, Forbidden, NotFound
from . import settings as cfg
from .tables import decisions, reviews, suppressions
from .users import Principal

STATES = ("open", "pending", "escalated", "confirmed", "dismissed", "suppressed")
#: States that still need someone's attention.
TO_REVIEW = ("open", "pending", "escalated")
DECISIONS = ("confirmed", "dismissed", "escalated")
APPROVALS = ("approved", "rejected")
SYNC_LOCK = 889003


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def fingerprint_of(row_key: str) -> str:
    """The record part of an alert's ``row_key`` (``"12:3fa9..."`` -> ``"3fa9..."``)."""
    return row_key.split(":", 1)[1] if ":" in row_key else row_key


# -- entity hashes -----------------------------------------------------------------------------


def _hashes(conn, alerts: Sequence[Any]) -> dict[int, str | None]:
    """Content hash of each alert's entity in the alert's snapshot (the active one if unknown)."""
    out: dict[int, str | None] = {}
    by_snapshot: dict[int, list[Any]] = {}
    unknown: list[Any] = []
    for a in alerts:
        (by_snapshot.setdefault(a.snapshot_id, []) if a.snapshot_id is not None else unknown).append(a)
    for snapshot_id, group in by_snapshot.items():
        ids = sorted({a.entity_id for a in group})
        found: dict[str, str] = {}
        for start in range(0, len(ids), 500):
            query = select(t.snapshot_entities.c.entity_id, t.snapshot_entities.c.hash).where(
                t.snapshot_entities.c.snapshot_id == snapshot_id, t.snapshot_entities.c.entity_id.in_(ids[start : start + 500])
            )
            found.update(dict(conn.execute(query).all()))
        for a in group:
            out[a.id] = found.get(a.entity_id)
    for a in unknown:
        query = (
            select(t.snapshot_entities.c.hash)
            .join(t.active, t.active.c.snapshot_id == t.snapshot_entities.c.snapshot_id)
            .where(t.active.c.source == a.source, t.snapshot_entities.c.entity_id == a.entity_id)
        )
        out[a.id] = conn.execute(query).scalar()
    return out


# -- sync ---------------------------------------------------------------------------------------
#
# Watermark.  Every alert is inserted, and every alert's snapshot is moved, in
# the transaction that inserts the run it then carries as ``run_id`` (new
# alerts) or ``last_run_id`` (alerts a monitor run saw again): batch screens,
# ``POST /screen``, monitor runs.  So once every alert of runs up to #W has its
# review row and every move by those runs has been checked, a sync need only
# look at the runs after W: their alerts (``ix_alerts_run``), and, for monitor
# runs, the alerts of their portfolios that those runs touched.  W is kept in
# the store's ``meta`` table (key :data:`WATERMARK`), updated in the sync's own
# transaction, so it commits or rolls back with the review rows it covers.
#
# W may only pass run ids whose transactions can no longer commit later on:
# SQLite has one writer at a time (the sync's is ``BEGIN IMMEDIATE``) and never
# reuses a committed id (runs are never deleted); PostgreSQL's sequences do not
# commit in order, so the sync first takes ``LOCK TABLE runs IN SHARE MODE``,
# which waits for every transaction that has inserted a run and holds new ones
# off until the sync commits.  That lock is taken only when there are new runs.
# A store without a watermark (made before it existed) gets one full scan.

WATERMARK = "case_reviews.synced_run"


@dataclass
class SyncReport:
    """What one sync did: review rows made or updated, and the alert rows it read to find them."""

    changed: int = 0
    #: alert rows read: those of the runs after the watermark (and, for monitor runs,
    #: the alerts of their portfolios touched since), or all of them on a full scan
    examined: int = 0
    #: runs after the watermark that this sync took in
    runs: int = 0
    #: True for the one full scan of a store that had no watermark yet
    full: bool = False
    watermark: int | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def _lock(conn) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(text(f"SELECT pg_advisory_xact_lock({SYNC_LOCK})"))


def _fence(conn) -> None:
    """PostgreSQL: wait until no transaction that inserted a run is still open (see above)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text(f"LOCK TABLE {r.runs.name} IN SHARE MODE"))


def _watermark(conn) -> int | None:
    value = conn.execute(select(t.meta.c.value).where(t.meta.c.key == WATERMARK)).scalar()
    return int(value) if value is not None else None


def _set_watermark(conn, old: int | None, value: int) -> None:
    if old is None:
        conn.execute(t.meta.insert().values(key=WATERMARK, value=str(value)))
    elif value != old:
        conn.execute(t.meta.update().where(t.meta.c.key == WATERMARK).values(value=str(value)))


def _latest_run(conn) -> int:
    return conn.execute(select(func.max(r.runs.c.id))).scalar() or 0


def _up_to_date(conn) -> tuple[bool, int | None]:
    mark = _watermark(conn)
    return mark is not None and _latest_run(conn) <= mark, mark


_ALERT_COLS = (r.alerts.c.id, r.alerts.c.row_key, r.alerts.c.entity_id, r.alerts.c.source, r.alerts.c.snapshot_id)


def _is_moved(a) -> bool:
    """The alert now points at another snapshot than its review row was last checked against."""
    return a.snapshot_id is not None and a.review_snapshot != a.snapshot_id


def _all_pending(conn) -> tuple[list[Any], list[Any], int]:
    """Full scan: alerts without a review row, and reviewed alerts moved to another snapshot."""
    new = conn.execute(
        select(*_ALERT_COLS).outerjoin(reviews, reviews.c.alert_id == r.alerts.c.id).where(reviews.c.alert_id.is_(None)).order_by(r.alerts.c.id)
    ).all()
    moved = conn.execute(
        select(*_ALERT_COLS, reviews.c.state.label("review_state"), reviews.c.entity_hash.label("review_hash"), reviews.c.snapshot_id.label("review_snapshot"))
        .join(reviews, reviews.c.alert_id == r.alerts.c.id)
        .where(or_(reviews.c.snapshot_id != r.alerts.c.snapshot_id, and_(reviews.c.snapshot_id.is_(None), r.alerts.c.snapshot_id.isnot(None))))
        .order_by(r.alerts.c.id)
    ).all()
    examined = conn.execute(select(func.count()).select_from(r.alerts)).scalar() or 0
    return list(new), list(moved), examined


def _pending_since(conn, mark: int, latest: int) -> tuple[list[Any], list[Any], int, int]:
    """Alerts raised by runs mark+1..latest without a review row; reviewed alerts those runs moved."""
    in_range = lambda col: and_(col > mark, col <= latest)  # noqa: E731
    raised = conn.execute(
        select(*_ALERT_COLS, reviews.c.alert_id.label("reviewed"))
        .outerjoin(reviews, reviews.c.alert_id == r.alerts.c.id)
        .where(in_range(r.alerts.c.run_id))
        .order_by(r.alerts.c.id)
    ).all()
    new = [a for a in raised if a.reviewed is None]
    runs = conn.execute(select(r.runs.c.id, r.runs.c.portfolio_id).where(in_range(r.runs.c.id))).all()
    # Only monitor runs (those with a portfolio) move alerts they did not raise, and only their
    # portfolio's alerts; such an alert then carries the run as ``last_run_id``.
    portfolios = sorted({run.portfolio_id for run in runs if run.portfolio_id is not None})
    seen: list[Any] = []
    if portfolios:
        seen = conn.execute(
            select(*_ALERT_COLS, reviews.c.state.label("review_state"), reviews.c.entity_hash.label("review_hash"), reviews.c.snapshot_id.label("review_snapshot"))
            .join(reviews, reviews.c.alert_id == r.alerts.c.id)
            .where(r.alerts.c.portfolio_id.in_(portfolios), in_range(r.alerts.c.last_run_id))
            .order_by(r.alerts.c.id)
        ).all()
    moved = [a for a in seen if _is_moved(a)]
    return new, moved, len(raised) + len(seen), len(runs)


def sync(store) -> int:
    """Give new alerts a review state; re-check alerts a monitor run moved to a newer snapshot.

    Returns how many review rows were made or updated (see :func:`sync_report`)."""
    return sync_report(store).changed


def sync_report(store) -> SyncReport:
    """:func:`sync`, returning what it did and how many alert rows it read."""
    with store.engine.connect() as conn:
        done, mark = _up_to_date(conn)
    if done:
        return SyncReport(watermark=mark)
    with store.engine.connect().execution_options(immediate=True) as conn, conn.begin():
        _lock(conn)
        return _sync(conn)


def _sync(conn) -> SyncReport:
    """Sync inside the caller's transaction (which holds the sync lock)."""
    done, mark = _up_to_date(conn)
    if done:
        return SyncReport(watermark=mark)
    _fence(conn)
    latest = _latest_run(conn)
    if mark is None:
        new, moved, examined = _all_pending(conn)
        report = SyncReport(examined=examined, runs=latest, full=True, watermark=latest)
    else:
        new, moved, examined, runs = _pending_since(conn, mark, latest)
        report = SyncReport(examined=examined, runs=runs, watermark=latest)
    report.changed = _apply(conn, new, moved) if new or moved else 0
    _set_watermark(conn, mark, latest)
    return report


def _active_suppressions(conn, alerts: Sequence[Any]) -> dict[tuple[str, str], Any]:
    """The active suppressions of these alerts' record x entity pairs."""
    fingerprints = sorted({fingerprint_of(a.row_key) for a in alerts})
    wanted = {(fingerprint_of(a.row_key), a.entity_id) for a in alerts}
    out: dict[tuple[str, str], Any] = {}
    for start in range(0, len(fingerprints), 500):
        rows = conn.execute(
            select(suppressions).where(suppressions.c.active.is_(True), suppressions.c.fingerprint.in_(fingerprints[start : start + 500]))
        ).all()
        out.update({(s.fingerprint, s.entity_id): s for s in rows if (s.fingerprint, s.entity_id) in wanted})
    return out


def _apply(conn, new: Sequence[Any], moved: Sequence[Any]) -> int:
    stamp = _now()
    hashes = _hashes(conn, [*new, *moved])
    active_supp = _active_suppressions(conn, new)
    rows = []
    for a in new:
        fp, h = fingerprint_of(a.row_key), hashes.get(a.id)
        state, note, by = "open", None, None
        supp = active_supp.get((fp, a.entity_id))
        if supp is not None:
            if supp.entity_hash == h:
                state, by = "suppressed", supp.decision_id
                note = f"suppressed: this record and list entry were dismissed in decision #{supp.decision_id}; the entry is unchanged"
            else:
                note = f"reopened: the list entry changed since it was dismissed in decision #{supp.decision_id}"
                _end_suppression(conn, fp, a.entity_id, f"list entry changed (alert #{a.id})", stamp)
                active_supp.pop((fp, a.entity_id), None)
        rows.append(
            {"alert_id": a.id, "state": state, "entity_id": a.entity_id, "fingerprint": fp, "entity_hash": h,
             "snapshot_id": a.snapshot_id, "decision_id": None, "suppressed_by": by, "note": note, "updated_at": stamp}
        )
    if rows:
        r.insert_many(conn, reviews, rows)
    for a in moved:
        fp, h = fingerprint_of(a.row_key), hashes.get(a.id)
        values: dict[str, Any] = {"snapshot_id": a.snapshot_id, "entity_hash": h, "updated_at": stamp}
        if h != a.review_hash:
            if a.review_state in ("dismissed", "suppressed"):
                values.update(state="open", suppressed_by=None, note="reopened: the list entry changed since it was dismissed")
                _end_suppression(conn, fp, a.entity_id, f"list entry changed (alert #{a.id})", stamp)
            elif a.review_state != "open":
                values["note"] = "the list entry changed since this decision"
        conn.execute(reviews.update().where(reviews.c.alert_id == a.id).values(**values))
    return len(new) + len(moved)


def _end_suppression(conn, fingerprint: str, entity_id: str, why: str, stamp: str) -> None:
    conn.execute(
        suppressions.update()
        .where(suppressions.c.fingerprint == fingerprint, suppressions.c.entity_id == entity_id, suppressions.c.active.is_(True))
        .values(active=False, ended_at=stamp, ended_reason=why)
    )


# -- decisions --------------------------------------------------------------------------------


def _allowed_state(principal: Principal, decision: str, four_eyes: bool) -> str:
    if decision in APPROVALS:
        if not principal.can("decide"):
            raise Forbidden(f"{principal.name} ({principal.role}) may not approve decisions; a reviewer must")
        return "confirmed" if decision == "approved" else "open"
    if decision not in DECISIONS:
        raise InputError(f"decision {decision!r}: expected one of {', '.join(DECISIONS + APPROVALS)}")
    if principal.can("decide"):
        return decision
    if principal.role == "analyst" and four_eyes and decision in ("confirmed", "escalated"):
        return "pending" if decision == "confirmed" else "escalated"
    if principal.role == "analyst" and four_eyes:
        raise Forbidden(f"{principal.name} (analyst) may confirm or escalate; only a reviewer may dismiss")
    raise Forbidden(f"{principal.name} ({principal.role}) may not decide alerts; a reviewer must")


def decide(store, alert_id: int, decision: str, reason: str, principal: Principal) -> dict:
    """Record a decision on an alert (audited, in one transaction); returns the alert's review."""
    decision = (decision or "").strip().lower()
    reason = " ".join("".join(ch for ch in (reason or "") if unicodedata.category(ch) != "Cc" or ch in "\t\n").split())
    visible = [ch for ch in reason if unicodedata.category(ch) != "Cf"]  # zero-width characters are no reason, but kept (Persian, Indic)
    if len(visible) < 3:
        raise InputError("reason: a decision needs a reason (at least 3 characters)")
    if len(reason) > 4000:
        raise InputError("reason: at most 4000 characters")
    four_eyes = bool(cfg.get(store, "four_eyes"))
    state = _allowed_state(principal, decision, four_eyes)
    stamp = _now()
    with store.engine.connect().execution_options(immediate=True) as conn, conn.begin():
        _lock(conn)
        _sync(conn)
        row = conn.execute(
            select(r.alerts.c.id, r.alerts.c.entity_id, r.alerts.c.source, reviews.c.state, reviews.c.fingerprint, reviews.c.entity_hash, reviews.c.decision_id)
            .join(reviews, reviews.c.alert_id == r.alerts.c.id)
            .where(r.alerts.c.id == alert_id)
        ).first()
        if row is None:
            raise NotFound(f"no alert #{alert_id}")
        if not principal.can("decide") and row.state in ("confirmed", "dismissed", "suppressed"):
            raise Forbidden(f"alert #{alert_id} is {row.state} by a reviewer's decision; only a reviewer may revise it")
        if decision in APPROVALS:
            if row.state != "pending":
                raise Conflict(f"alert #{alert_id} is {row.state}, not pending approval")
            proposer = conn.execute(select(decisions.c.actor).where(decisions.c.id == row.decision_id)).scalar()
            if proposer == principal.name:
                raise Forbidden("four-eyes: the approval must come from someone other than who proposed the decision")
        decision_id = conn.execute(
            decisions.insert().values(
                alert_id=alert_id, decision=decision, state=state, reason=reason, actor=principal.name, role=principal.role,
                at=stamp, entity_id=row.entity_id, fingerprint=row.fingerprint, entity_hash=row.entity_hash,
            )
        ).inserted_primary_key[0]
        conn.execute(
            reviews.update().where(reviews.c.alert_id == alert_id).values(state=state, decision_id=decision_id, suppressed_by=None, note=None, updated_at=stamp)
        )
        key = {"fingerprint": row.fingerprint, "entity_id": row.entity_id}
        if state == "dismissed":
            existing = conn.execute(select(suppressions.c.decision_id).where(suppressions.c.fingerprint == row.fingerprint, suppressions.c.entity_id == row.entity_id)).first()
            values = {"entity_hash": row.entity_hash, "decision_id": decision_id, "active": True, "created_at": stamp, "ended_at": None, "ended_reason": None}
            if existing is None:
                conn.execute(suppressions.insert().values(**key, **values))
            else:
                conn.execute(suppressions.update().where(suppressions.c.fingerprint == row.fingerprint, suppressions.c.entity_id == row.entity_id).values(**values))
        elif state in ("confirmed", "pending", "escalated"):
            _end_suppression(conn, row.fingerprint, row.entity_id, f"alert #{alert_id} {decision} in decision #{decision_id}", stamp)
        audit.append(
            conn, principal.name, f"alert.{decision}",
            {"alert_id": alert_id, "decision_id": decision_id, "from": row.state, "to": state, "reason": reason,
             "entity_id": row.entity_id, "source": row.source, "entity_hash": row.entity_hash, "record": row.fingerprint, "role": principal.role},
            subject=f"alert:{alert_id}",
        )
    return review(store, alert_id)


# -- reading ------------------------------------------------------------------------------------


def review(store, alert_id: int) -> dict:
    with store.engine.connect() as conn:
        row = conn.execute(select(reviews).where(reviews.c.alert_id == alert_id)).first()
    if row is None:
        sync(store)
        with store.engine.connect() as conn:
            row = conn.execute(select(reviews).where(reviews.c.alert_id == alert_id)).first()
    if row is None:
        raise NotFound(f"no alert #{alert_id}")
    return dict(row._mapping)


def history(store, alert_id: int) -> list[dict]:
    with store.engine.connect() as conn:
        return [dict(d._mapping) for d in conn.execute(select(decisions).where(decisions.c.alert_id == alert_id).order_by(decisions.c.id))]


def _parse_states(state: str | Iterable[str] | None) -> list[str] | None:
    if state is None or state == "":
        return list(TO_REVIEW)
    parts = [state] if isinstance(state, str) else list(state)
    items = [item.strip().lower() for part in parts for item in part.split(",") if item.strip()]
    if "all" in items:
        return None
    bad = [s for s in items if s not in STATES]
    if bad:
        raise InputError(f"state {bad[0]!r}: expected one of {', '.join(STATES)}, all")
    return items


ORDERS = {
    "score": lambda: (r.alerts.c.score.desc(), r.alerts.c.id.desc()),
    "newest": lambda: (r.alerts.c.id.desc(),),
    "oldest": lambda: (r.alerts.c.id,),
}


def queue(
    store,
    state: str | Iterable[str] | None = None,
    source: str | None = None,
    run_id: int | None = None,
    hit_status: str | None = None,
    q: str | None = None,
    include_resolved: bool = False,
    order: str = "score",
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[dict], int]:
    """Alerts with their review state, filtered; returns (page, total)."""
    sync(store)
    states = _parse_states(state)
    if order not in ORDERS:
        raise InputError(f"order {order!r}: expected one of {', '.join(ORDERS)}")
    conds = []
    if states is not None:
        conds.append(reviews.c.state.in_(states))
    if source:
        conds.append(r.alerts.c.source == source)
    if run_id is not None:
        conds.append(or_(r.alerts.c.run_id == run_id, r.alerts.c.last_run_id == run_id))
    if hit_status:
        conds.append(r.alerts.c.hit_status == hit_status)
    if q:
        text = q.strip().lower()
        conds.append(or_(*(func.lower(column).contains(text, autoescape=True) for column in (r.alerts.c.name, r.alerts.c.query_name, r.alerts.c.matched_name)), r.alerts.c.entity_id == q.strip()))
    if not include_resolved:
        conds.append(r.alerts.c.status == "open")
    base = select(r.alerts, reviews.c.state.label("review_state"), reviews.c.note.label("review_note"), reviews.c.suppressed_by).join(reviews, reviews.c.alert_id == r.alerts.c.id)
    count = select(func.count()).select_from(r.alerts.join(reviews, reviews.c.alert_id == r.alerts.c.id))
    if conds:
        base, count = base.where(*conds), count.where(*conds)
    limit = max(1, min(int(limit), 500))
    with store.engine.connect() as conn:
        total = conn.execute(count).scalar() or 0
        rows = conn.execute(base.order_by(*ORDERS[order]()).limit(limit).offset(max(0, int(offset)))).all()
    return [_alert_dict(row) for row in rows], total


def _alert_dict(row) -> dict:
    data = dict(row._mapping)
    data["hit"] = json.loads(data["hit"]) if isinstance(data.get("hit"), str) else data.get("hit")
    if isinstance(data.get("input"), str):
        try:
            data["input"] = json.loads(data["input"])
        except ValueError:
            pass
    return data


def get_alert(store, alert_id: int) -> dict:
    """One alert with its review state, decisions, and the list entry as it was and as it is."""
    sync(store)
    with store.engine.connect() as conn:
        row = conn.execute(
            select(r.alerts, reviews.c.state.label("review_state"), reviews.c.note.label("review_note"), reviews.c.suppressed_by, reviews.c.entity_hash, reviews.c.fingerprint)
            .join(reviews, reviews.c.alert_id == r.alerts.c.id)
            .where(r.alerts.c.id == alert_id)
        ).first()
        if row is None:
            raise NotFound(f"no alert #{alert_id}")
        alert = _alert_dict(row)
        data = conn.execute(select(t.entity_data.c.data).where(t.entity_data.c.hash == alert["entity_hash"])).scalar() if alert["entity_hash"] else None
        alert["entity"] = json.loads(data) if data else None
        if alert.get("portfolio_id") is not None and alert.get("input") is None:
            pr = conn.execute(
                select(r.portfolio_rows.c.input).where(r.portfolio_rows.c.portfolio_id == alert["portfolio_id"], r.portfolio_rows.c.row_index == alert["row_index"])
            ).scalar()
            alert["input"] = json.loads(pr) if pr else None
    alert["decisions"] = history(store, alert_id)
    current = store.entity(alert["entity_id"], [alert["source"]])
    alert["current_entity"] = current[1].to_dict() if current else None
    alert["entity_changed"] = bool(alert["entity"] and current and current[1].content_hash() != alert["entity_hash"])
    alert["run"] = r.get_run(store, alert["run_id"])
    return alert


def stats(store, days: int = 30) -> dict:
    """Counts for the dashboard: alerts by review state and list, alerts raised per day."""
    sync(store)
    j = r.alerts.join(reviews, reviews.c.alert_id == r.alerts.c.id)
    with store.engine.connect() as conn:
        by_state = dict(conn.execute(select(reviews.c.state, func.count()).select_from(j).where(r.alerts.c.status == "open").group_by(reviews.c.state)).all())
        by_source_rows = conn.execute(
            select(r.alerts.c.source, reviews.c.state, func.count()).select_from(j).where(r.alerts.c.status == "open").group_by(r.alerts.c.source, reviews.c.state)
        ).all()
        day = func.substr(r.alerts.c.first_seen, 1, 10)
        per_day = conn.execute(select(day, func.count()).group_by(day).order_by(day.desc()).limit(days)).all()
        pending = conn.execute(select(func.count()).select_from(reviews).where(reviews.c.state.in_(TO_REVIEW))).scalar() or 0
    by_source: dict[str, dict[str, int]] = {}
    for source, state, n in by_source_rows:
        by_source.setdefault(source, {})[state] = n
    return {
        "by_state": {s: by_state.get(s, 0) for s in STATES},
        "by_source": by_source,
        "per_day": [{"date": d, "alerts": n} for d, n in reversed(per_day)],
        "to_review": pending,
    }


__all__ = [
    "APPROVALS", "DECISIONS", "STATES", "TO_REVIEW", "Conflict", "Forbidden", "NotFound",
    "SyncReport", "WATERMARK", "decide", "fingerprint_of", "get_alert", "history", "queue", "review", "stats",
    "sync", "sync_report",
]
