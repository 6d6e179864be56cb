"""Screen records given as data (the API's ``POST /screen``), record the run
and its alerts, and tell each flagged hit its alert and review state.

Records use the field names of file screening (``name``, ``country``,
``schema``, ``dob``, ``isin``, ``lei``, ``uscc``, ``tax``, ``ticker``,
``imo``, ``passport``, ``identifier``; ``birth_date`` and ``identifiers``
are accepted too), so the same party screened by file or by API has the same
record fingerprint: a dismissal made on one suppresses the other.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any, Mapping, Sequence

from sqlalchemy import select

from ..errors import InputError
from ..screen.batch import FIELDS, query_of, row_key, screen_query
from ..store import runs as r
from . import audit, review
from .tables import inputs, reviews

ALIASES = {"birth_date": "dob", "birthdate": "dob", "date_of_birth": "dob", "type": "schema"}
MAX_RECORDS = 1000


def _fields(record: Mapping[str, Any]) -> dict:
    out: dict[str, Any] = {}
    for key, value in record.items():
        key = ALIASES.get(str(key).lower(), str(key).lower())
        if key == "identifiers":
            items = value if isinstance(value, (list, tuple)) else [value]
            key, value = "identifier", ";".join(str(v) for v in items if v is not None)
        elif isinstance(value, (list, tuple)):
            value = ";".join(str(v) for v in value if v is not None)
        if key in FIELDS and value not in (None, ""):
            out[key] = value if key != "identifier" or "identifier" not in out else f"{out['identifier']};{value}"
    return out


def screen_records(store, screener, records: Sequence[Mapping[str, Any]], actor: str, record: bool = True, snapshots: Sequence[Any] | None = None) -> dict:
    """Screen records; with ``record``, store a run with its alerts (audited). Returns {"run_id", "results"}."""
    if not records:
        raise InputError("records: expected at least one record")
    if len(records) > MAX_RECORDS:
        raise InputError(f"records: at most {MAX_RECORDS} per request; upload a file for more")
    started_at, started = r.now(), time.perf_counter()
    results, keys = [], []
    for index, values in enumerate(records):
        if not isinstance(values, Mapping):
            raise InputError(f"records[{index}]: expected an object")
        query = query_of(_fields(values))
        results.append(screen_query(screener, index, dict(values), query, f"record {index}"))
        keys.append(row_key(index, query))
    counts = Counter(res["status"] for res in results)
    if not record:
        return {"run_id": None, "results": results}
    snaps = list(snapshots if snapshots is not None else store.active_snapshots(screener.sources))
    by_source = {s.source: {"version": s.version, "snapshot_id": s.id} for s in snaps}
    finished = r.now()
    run = {
        "kind": "screen", "portfolio_id": None, "started_at": started_at, "finished_at": finished, "input_path": "api",
        "input_fingerprint": None, "input_format": "json", "mapping": None, "sources": screener.sources, "as_of": None,
        "snapshots": [{"source": s.source, "version": s.version, "snapshot_id": s.id} for s in snaps],
        "thresholds": {"match": screener.thresholds.match, "review": screener.thresholds.review}, "engine": "api",
        "rows": len(results), "matches": counts["match"], "reviews": counts["review"], "clears": counts["clear"], "errors": counts["error"],
        "details": {"seconds": round(time.perf_counter() - started, 3), "by_user": actor},
    }
    with store.engine.connect().execution_options(immediate=True) as conn, conn.begin():
        run_id = r.insert_run(conn, run)
        rows = [a for res, key in zip(results, keys) if res["status"] in ("match", "review") for a in r.alert_rows(res, key, run_id, None, by_source, finished)]
        r.insert_many(conn, r.alerts, rows)
        r.insert_many(conn, inputs, ({"run_id": run_id, "row_index": res["row"], "input": r.dumps(res["input"])} for res in results if res["status"] in ("match", "review")))
        audit.append(
            conn, actor, "screen.run",
            {"run_id": run_id, "kind": "screen", "rows": len(results), "matches": counts["match"], "reviews": counts["review"],
             "errors": counts["error"], "via": "api", "snapshots": [f"{s.source}@{s.version}" for s in snaps]},
            subject=f"run:{run_id}",
        )
    review.sync(store)
    _annotate(store, run_id, results)
    return {"run_id": run_id, "results": results}


def _annotate(store, run_id: int, results: list[dict]) -> None:
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(r.alerts.c.id, r.alerts.c.row_index, r.alerts.c.entity_id, reviews.c.state, reviews.c.note)
            .join(reviews, reviews.c.alert_id == r.alerts.c.id)
            .where(r.alerts.c.run_id == run_id)
        ).all()
    found = {(row.row_index, row.entity_id): row for row in rows}
    for res in results:
        for hit in res.get("hits") or []:
            row = found.get((res["row"], hit["entity_id"]))
            if row is not None:
                hit["alert"] = {"id": row.id, "state": row.state, **({"note": row.note} if row.note else {})}
