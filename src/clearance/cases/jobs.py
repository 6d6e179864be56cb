"""File-screening jobs: an uploaded file screened in the background, with
progress any server worker can read, and results to download.

A job lives in ``case_jobs`` (state, progress, counts, run id) and in a
folder ``<home>/jobs/<id>/`` holding the input and the results
(``results.jsonl``, the screening-result contract, plus ``results.csv`` and
``results.xlsx``). :func:`run` does the work; the server starts it in a
separate process (``python -m clearance.api.jobs ID``) so a long file never
holds up requests.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import select

from ..errors import ClearanceError, InputError
from . import audit
from .tables import inputs, jobs

STATES = ("queued", "running", "done", "failed")
OUTPUTS = {"jsonl": "application/x-ndjson", "csv": "text/csv", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")
_ID = re.compile(r"^[0-9a-f]{16,32}$")


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def jobs_dir(store) -> Path:
    path = Path(store.home) / "jobs"
    path.mkdir(parents=True, exist_ok=True)
    return path


def job_dir(store, job_id: str) -> Path:
    if not _ID.match(job_id or ""):
        from .errors import NotFound

        raise NotFound(f"no job {job_id!r}")
    return jobs_dir(store) / job_id


def create(store, filename: str, data: bytes, owner: str) -> dict:
    """Store an uploaded file as a queued job."""
    name = _SAFE.sub("_", Path(filename or "upload.csv").name)[-100:] or "upload.csv"
    suffix = Path(name).suffix.lower()
    if suffix not in (".csv", ".tsv", ".txt", ".xlsx", ".jsonl", ".json", ".ndjson"):
        raise InputError(f"{name}: expected a CSV, XLSX or JSON lines file")
    if not data:
        raise InputError(f"{name}: the file is empty")
    job_id = secrets.token_hex(8)
    folder = jobs_dir(store) / job_id
    folder.mkdir()
    (folder / "input").mkdir()
    (folder / "input" / name).write_bytes(data)  # under its own name, which row errors quote
    stamp = _now()
    with store.engine.connect().execution_options(immediate=True) as conn, conn.begin():
        conn.execute(jobs.insert().values(id=job_id, owner=owner, filename=name, state="queued", done=0, created_at=stamp, updated_at=stamp))
    return get(store, job_id)


def get(store, job_id: str) -> dict:
    with store.engine.connect() as conn:
        row = conn.execute(select(jobs).where(jobs.c.id == job_id)).first()
    if row is None:
        from .errors import NotFound

        raise NotFound(f"no job {job_id!r}")
    job = dict(row._mapping)
    job["counts"] = json.loads(job["counts"]) if job["counts"] else {}
    job["progress"] = (min(1.0, job["done"] / job["total"]) if job["total"] else (1.0 if job["state"] == "done" else 0.0))
    job["outputs"] = [fmt for fmt in OUTPUTS if (job_dir(store, job_id) / f"results.{fmt}").exists()] if job["state"] == "done" else []
    return job


def list_jobs(store, limit: int = 20) -> list[dict]:
    with store.engine.connect() as conn:
        ids = list(conn.execute(select(jobs.c.id).order_by(jobs.c.created_at.desc()).limit(limit)).scalars())
    return [get(store, i) for i in ids]


def _update(store, job_id: str, **values) -> None:
    values["updated_at"] = _now()
    if "counts" in values and not isinstance(values["counts"], str):
        values["counts"] = json.dumps(values["counts"])
    with store.engine.connect().execution_options(immediate=True) as conn, conn.begin():
        conn.execute(jobs.update().where(jobs.c.id == job_id).values(**values))


def output_path(store, job_id: str, fmt: str) -> Path:
    if fmt not in OUTPUTS:
        raise InputError(f"format {fmt!r}: expected one of {', '.join(OUTPUTS)}")
    path = job_dir(store, job_id) / f"results.{fmt}"
    if not path.exists():
        from .errors import NotFound

        raise NotFound(f"job {job_id} has no {fmt} results (yet)")
    return path


def run(store, job_id: str, workers: int | None = None) -> dict:
    """Screen the job's file; record the run (and its alerts) and the audit entry."""
    from ..screen.batch import screen_file, sheets_for
    from ..tabular import open_writer

    job = get(store, job_id)
    folder = job_dir(store, job_id)
    inputs = sorted((folder / "input").glob("*")) or sorted(folder.glob("input.*"))  # (an older version's layout)
    if not inputs:
        _update(store, job_id, state="failed", error="the uploaded file is missing")
        return get(store, job_id)
    counts = {"match": 0, "review": 0, "clear": 0, "error": 0}
    state = {"done": 0, "last": 0.0}

    def on_start(summary) -> None:
        _update(store, job_id, state="running", total=summary.table.estimate_rows())

    def on_record(record: dict) -> None:
        state["done"] += 1
        counts[record["status"]] = counts.get(record["status"], 0) + 1
        now = time.monotonic()
        if now - state["last"] > 0.25:
            state["last"] = now
            _update(store, job_id, done=state["done"], counts=counts)

    started = time.perf_counter()
    try:
        with audit.acting_as(job["owner"]):
            summary = screen_file(
                store, inputs[0], output=folder / "results.jsonl", format="jsonl", workers=workers,
                on_start=on_start, on_record=on_record, audit={"job": job_id, "file": job["filename"]},
            )
            columns = summary.table.columns
            for fmt in ("csv", "xlsx"):
                writer = open_writer(fmt, folder / f"results.{fmt}", sheets_for(columns))
                with (folder / "results.jsonl").open(encoding="utf-8") as fh:
                    for line in fh:
                        writer.write(json.loads(line))
                writer.close(ok=True)
            keep_inputs(store, summary.run_id, folder / "results.jsonl")
    except ClearanceError as exc:
        _update(store, job_id, state="failed", error=str(exc).replace(str(inputs[0]), job["filename"]), seconds=time.perf_counter() - started)
        return get(store, job_id)
    except Exception as exc:  # a bug: keep the server's answer short, the log has the rest
        _update(store, job_id, state="failed", error=f"internal error ({type(exc).__name__})", seconds=time.perf_counter() - started)
        raise
    _update(store, job_id, state="done", done=summary.rows, total=summary.rows, counts=dict(summary.counts), run_id=summary.run_id, seconds=time.perf_counter() - started)
    return get(store, job_id)


def keep_inputs(store, run_id: int | None, results: Path) -> None:
    """Keep the input record of each flagged row of a run (for the alert page)."""
    if run_id is None:
        return
    from ..store import runs as r

    def rows():
        with results.open(encoding="utf-8") as fh:
            for line in fh:
                record = json.loads(line)
                if record.get("status") in ("match", "review"):
                    yield {"run_id": run_id, "row_index": record["row"], "input": r.dumps(record.get("input"))}

    with store.engine.connect().execution_options(immediate=True) as conn, conn.begin():
        r.insert_many(conn, inputs, rows())


def record_input(store, run_id: int, row_index: int) -> dict | None:
    """The input record of a flagged row of an API or upload run, if kept."""
    with store.engine.connect() as conn:
        data = conn.execute(select(inputs.c.input).where(inputs.c.run_id == run_id, inputs.c.row_index == row_index)).scalar()
    return json.loads(data) if data else None
