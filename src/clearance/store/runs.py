"""Screening runs, their alerts, and monitored portfolios (tables on the store's
``metadata``, so ``Store()`` creates them with the rest).

``runs``             one row per batch screen or monitor run: input fingerprint,
                     field mapping, snapshot versions, thresholds, counts
``alerts``           one row per (flagged input row, list entity): who matched
                     whom, how well, since when; ``status`` open / resolved
                     (case management adds decisions and suppressions on top,
                     keyed by ``alerts.id``)
``portfolios``       a registered set of counterparties kept under monitoring
``portfolio_rows``   its rows, with the fields screened (and their result when
                     registered)
``portfolio_states`` per portfolio, the last status and near miss of each of its
                     rows not at the default (clear, no near miss), packed in one
                     value (:data:`ROW_STATE`): a monitor run re-screens thousands of
                     rows and nudges most of their near misses; one value written
                     took a tenth of the time of as many row writes
``portfolio_row_state``  the same, a row per row (stores made before
                     ``portfolio_states``: emptied into it when opened)

A run and its alerts are written in one transaction: a failed run leaves
nothing behind.  Alert rows are identified across runs by
``(portfolio_id, row_key, entity_id)``; ``row_key`` is the input row index and
a fingerprint of the row's screened fields (``"12:3fa9c0d1e2b4a5f6"``), so an
edited row is a new row.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from operator import itemgetter
from typing import Any, Iterable, Iterator

import numpy as np
import orjson
from sqlalchemy import Column, Float, ForeignKey, Index, Integer, LargeBinary, String, Table, Text, select
from sqlalchemy.sql.dml import Insert

from .schema import metadata

portfolios = Table(
    "portfolios",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("created_at", String(40), nullable=False),
    Column("updated_at", String(40), nullable=False),
    Column("input_path", Text),
    Column("input_fingerprint", String(64)),
    Column("input_format", String(20)),
    Column("mapping", Text, nullable=False),  # JSON field -> column
    Column("sources", Text),  # JSON list or null (all active)
    Column("thresholds", Text, nullable=False),  # JSON {"match":..,"review":..}
    Column("row_count", Integer, nullable=False),
    Column("state", Text, nullable=False),  # JSON {source: {"version":..,"snapshot_id":..}} last screened
    Column("last_run_id", Integer),
    Column("norm_version", String(80)),  # normalisation the stored row tokens were made with
)

runs = Table(
    "runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(20), nullable=False),  # screen | monitor
    Column("portfolio_id", Integer, ForeignKey("portfolios.id")),
    Column("started_at", String(40), nullable=False),
    Column("finished_at", String(40), nullable=False),
    Column("input_path", Text),
    Column("input_fingerprint", String(64)),
    Column("input_format", String(20)),
    Column("mapping", Text),  # JSON
    Column("sources", Text),  # JSON list or null
    Column("as_of", String(40)),
    Column("snapshots", Text, nullable=False),  # JSON [{"source","version","snapshot_id"}]
    Column("thresholds", Text, nullable=False),  # JSON
    Column("engine", String(20), nullable=False),
    Column("rows", Integer, nullable=False),
    Column("matches", Integer, nullable=False),
    Column("reviews", Integer, nullable=False),
    Column("clears", Integer, nullable=False),
    Column("errors", Integer, nullable=False),
    Column("details", Text),  # JSON: counts by list/program, monitor delta, timings
)

alerts = Table(
    "alerts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", Integer, ForeignKey("runs.id"), nullable=False),  # run that raised it
    Column("last_run_id", Integer, ForeignKey("runs.id"), nullable=False),  # last run that saw it
    Column("portfolio_id", Integer, ForeignKey("portfolios.id")),
    Column("row_index", Integer, nullable=False),
    Column("row_key", String(120), nullable=False),
    Column("entity_id", String(200), nullable=False),
    Column("source", String(100), nullable=False),
    Column("schema", String(40)),
    Column("name", Text),  # the list entry's primary name
    Column("matched_name", Text),
    Column("query_name", Text),
    Column("score", Float, nullable=False),
    Column("hit_status", String(20), nullable=False),  # match | review
    Column("status", String(20), nullable=False),  # open | resolved (cases add more)
    Column("first_seen", String(40), nullable=False),
    Column("last_seen", String(40), nullable=False),
    Column("resolved_at", String(40)),
    Column("resolution", Text),  # why it was resolved (entity removed, no longer matches ...)
    Column("snapshot_id", Integer),
    Column("snapshot", String(140)),  # "us-ofac-sdn@3"
    Column("hit", Text, nullable=False),  # JSON of the hit, explanation included
)
Index("ix_alerts_portfolio_status", alerts.c.portfolio_id, alerts.c.status)
Index("ix_alerts_run", alerts.c.run_id)
Index("ix_alerts_last_run", alerts.c.last_run_id)  # a monitor run's alerts (review sync, run reports)
Index("ix_alerts_entity", alerts.c.entity_id)

portfolio_rows = Table(
    "portfolio_rows",
    metadata,
    Column("portfolio_id", Integer, ForeignKey("portfolios.id"), primary_key=True),
    Column("row_index", Integer, primary_key=True),
    Column("row_key", String(120), nullable=False),
    Column("input", Text, nullable=False),  # JSON, the row as read
    Column("query", Text),  # JSON, the screened fields (null for an unreadable row)
    Column("tokens", Text),  # JSON, normalised name tokens (for the monitor's change filter)
    Column("error", Text),
    Column("status", String(20), nullable=False),  # status when registered: match review clear error
    Column("near", Float, nullable=False),  # near miss when registered (later: portfolio_row_state)
)

portfolio_states = Table(
    "portfolio_states",
    metadata,
    Column("portfolio_id", Integer, ForeignKey("portfolios.id"), primary_key=True),
    Column("rows", LargeBinary, nullable=False),  # ROW_STATE records, by row index, of rows not at the default
)

portfolio_row_state = Table(  # stores made before portfolio_states: read once to fill it
    "portfolio_row_state",
    metadata,
    Column("portfolio_id", Integer, ForeignKey("portfolios.id"), primary_key=True),
    Column("row_index", Integer, primary_key=True),
    Column("status", String(20), nullable=False),
    Column("near", Float, nullable=False),
)


#: A row's status as ``portfolio_states`` keeps it: its number in this tuple (never reordered).
ROW_STATUSES = ("clear", "review", "match", "error")
#: One row's record in ``portfolio_states.rows``: row index, status number, near miss (best score of
#: any scored entity, flagged or not); little-endian, packed.
ROW_STATE = np.dtype([("row", "<i8"), ("status", "i1"), ("near", "<f8")])
#: The state of a row ``portfolio_states`` does not hold: clear, no near miss.
DEFAULT_STATE = ("clear", 0.0)
#: ``meta`` key: how this store keeps rows' state (``packed``: ``portfolio_states``; older stores
#: ``sparse``: ``portfolio_row_state``, or nothing: ``portfolio_rows``); upgraded once on open.
ROW_STATE_LAYOUT = "row_state"


def read_row_states(conn, portfolio_id: int) -> np.ndarray:
    """The portfolio's :data:`ROW_STATE` records (none: every row at the default)."""
    data = conn.execute(select(portfolio_states.c.rows).where(portfolio_states.c.portfolio_id == portfolio_id)).scalar()
    return np.frombuffer(data, dtype=ROW_STATE) if data else np.empty(0, dtype=ROW_STATE)


def write_row_states(conn, portfolio_id: int, records: np.ndarray) -> None:
    """Replace the portfolio's row states with these :data:`ROW_STATE` records (rows at the default left out)."""
    conn.execute(portfolio_states.delete().where(portfolio_states.c.portfolio_id == portfolio_id))
    conn.execute(portfolio_states.insert().values(portfolio_id=portfolio_id, rows=np.ascontiguousarray(records, dtype=ROW_STATE).tobytes()))


def row_state_records(rows: Iterable[tuple[int, str, float]]) -> np.ndarray:
    """:data:`ROW_STATE` records of (row index, status, near miss), rows at the default left out."""
    code = {s: i for i, s in enumerate(ROW_STATUSES)}
    kept = [(i, code.get(status, code["error"]), near) for i, status, near in rows if (status, near) != DEFAULT_STATE]
    return np.array(kept, dtype=ROW_STATE)


def upgrade_row_state(conn, layout: str | None) -> None:
    """Once per store, inside the caller's write transaction: move rows' state from an older
    ``layout`` (``sparse``: ``portfolio_row_state``; none: ``portfolio_rows``, portfolios without
    a row state there) into ``portfolio_states``."""
    table, rows = portfolio_row_state, portfolio_rows
    if layout is None:
        having = select(table.c.portfolio_id).distinct()
        columns = (rows.c.portfolio_id, rows.c.row_index, rows.c.status, rows.c.near)
        conn.execute(table.insert().from_select(
            ["portfolio_id", "row_index", "status", "near"], select(*columns).where(rows.c.portfolio_id.not_in(having))
        ))
    found: dict[int, list[tuple[int, str, float]]] = {}
    for pid, i, status, near in conn.execute(select(table.c.portfolio_id, table.c.row_index, table.c.status, table.c.near).order_by(table.c.portfolio_id, table.c.row_index)):
        found.setdefault(pid, []).append((i, status, near))
    for pid, states in found.items():
        write_row_states(conn, pid, row_state_records(states))
    conn.execute(table.delete())


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def hit_json(hit: dict) -> str:
    """An alert's ``hit`` column: the hit as JSON, keys sorted (orjson: a monitor run writes
    thousands, and ``json`` took a fifth of its write time)."""
    return orjson.dumps(hit, option=orjson.OPT_SORT_KEYS, default=str).decode()


def alert_rows(record: dict, row_key: str, run_id: int, portfolio_id: int | None, snapshots: dict[str, dict], seen: str,
               row: int | None = None) -> Iterator[dict]:
    """Alert rows (for ``alerts``) of one flagged screening record (of input row ``row``, if not
    the record's own ``row``)."""
    query = (record.get("hits") or [{}])[0].get("explanation", {}).get("query_name") if record.get("hits") else None
    for hit in record.get("hits") or []:
        if hit.get("status") not in ("match", "review"):
            continue
        snap = snapshots.get(hit["source"], {})
        yield {
            "run_id": run_id,
            "last_run_id": run_id,
            "portfolio_id": portfolio_id,
            "row_index": record["row"] if row is None else row,
            "row_key": row_key,
            "entity_id": hit["entity_id"],
            "source": hit["source"],
            "schema": hit.get("schema"),
            "name": hit.get("name"),
            "matched_name": hit.get("matched_name"),
            "query_name": query,
            "score": float(hit["score"]),
            "hit_status": hit["status"],
            "status": "open",
            "first_seen": seen,
            "last_seen": seen,
            "snapshot_id": snap.get("snapshot_id"),
            "snapshot": f"{hit['source']}@{snap['version']}" if snap else None,
            "hit": hit_json(hit),
        }


def insert_run(conn, run: dict) -> int:
    """Insert a run row inside the caller's transaction; returns its id."""
    values = dict(run)
    for key in ("mapping", "sources", "snapshots", "thresholds", "details"):
        if key in values and not isinstance(values[key], str) and values[key] is not None:
            values[key] = dumps(values[key])
    return conn.execute(runs.insert().values(**values)).inserted_primary_key[0]


def execute_many(conn, statement, rows: list[dict]) -> None:
    """``conn.execute(statement, rows)`` for thousands of rows (a monitor run's alerts and row
    states) without SQLAlchemy's per-row parameter handling: the statement is compiled once for
    the connection's dialect (an INSERT for the keys of the rows) and its rows handed to the
    driver's ``executemany``.  Only for columns whose values the driver takes as they are
    (numbers and strings)."""
    if not rows:
        return
    keys = list(rows[0]) if isinstance(statement, Insert) else None
    compiled = statement.compile(dialect=conn.dialect, column_keys=keys)
    fixed = {k: v for k, v in compiled.params.items() if k not in rows[0]}  # values written into the statement (``portfolio_id == 3``)
    if compiled.positiontup is not None:  # positional parameters (SQLite's "?")
        names = compiled.positiontup
        get = itemgetter(*names) if len(names) > 1 else lambda row: (row[names[0]],)
        params: list = list(map(get, (map(lambda row: {**row, **fixed}, rows) if fixed else rows)))
    else:  # named parameters (psycopg's "%(name)s")
        params = [{**row, **fixed} for row in rows] if fixed else rows
    conn.exec_driver_sql(str(compiled), params)


def insert_many(conn, table, rows: Iterable[dict], batch: int = 1000) -> int:
    done, chunk = 0, []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= batch:
            conn.execute(table.insert(), chunk)
            done, chunk = done + len(chunk), []
    if chunk:
        conn.execute(table.insert(), chunk)
        done += len(chunk)
    return done


def get_run(store, run_id: int) -> dict | None:
    with store.engine.connect() as conn:
        row = conn.execute(select(runs).where(runs.c.id == run_id)).first()
    return _decode(dict(row._mapping)) if row else None


def list_runs(store, limit: int = 50) -> list[dict]:
    with store.engine.connect() as conn:
        rows = conn.execute(select(runs).order_by(runs.c.id.desc()).limit(limit)).all()
    return [_decode(dict(r._mapping)) for r in rows]


def run_alerts(store, run_id: int) -> list[dict]:
    """Alerts raised or last seen by a run."""
    query = select(alerts).where((alerts.c.run_id == run_id) | (alerts.c.last_run_id == run_id)).order_by(alerts.c.row_index, alerts.c.score.desc(), alerts.c.entity_id)
    with store.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(query)]


def open_alerts(store, portfolio_id: int | None = None) -> list[dict]:
    query = select(alerts).where(alerts.c.status == "open")
    if portfolio_id is not None:
        query = query.where(alerts.c.portfolio_id == portfolio_id)
    with store.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(query.order_by(alerts.c.row_index, alerts.c.score.desc(), alerts.c.entity_id))]


def _decode(run: dict) -> dict:
    for key in ("mapping", "sources", "snapshots", "thresholds", "details"):
        if run.get(key):
            run[key] = json.loads(run[key])
    return run


__all__ = [
    "alerts",
    "alert_rows",
    "hit_json",
    "DEFAULT_STATE",
    "ROW_STATE",
    "ROW_STATE_LAYOUT",
    "ROW_STATUSES",
    "portfolio_states",
    "read_row_states",
    "row_state_records",
    "upgrade_row_state",
    "write_row_states",
    "execute_many",
    "get_run",
    "insert_many",
    "insert_run",
    "list_runs",
    "open_alerts",
    "portfolio_row_state",
    "portfolio_rows",
    "portfolios",
    "run_alerts",
    "runs",
]
