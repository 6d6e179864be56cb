"""Clearance's own JSON API: screening (records and files), lists and their
diffs, runs, alerts and decisions. Admin routes are in :mod:`.admin`."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Literal, Union

from fastapi import APIRouter, Depends, File, Form, Path as PathParam, Query, Request, UploadFile
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag

from ..cases import audit, jobs, review, screening
from ..cases.users import Principal
from ..errors import ClearanceError, InputError
from ..store import runs as r
from ..store.store import check_source_id
from . import jobs as job_runner
from . import views
from .auth import require

router = APIRouter()
#: Ids and offsets fit a 32-bit integer column.
MAX_ID = 2**31 - 1
AlertId = Annotated[int, PathParam(ge=1, le=MAX_ID)]


def _ctx(request: Request):
    return request.app.state.ctx


# -- screening ------------------------------------------------------------------------------


class ScreenRecord(BaseModel):
    """One party to screen: a name and/or identifiers, with optional evidence."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"example": {"name": "Hikvision", "country": "CN"}})
    name: str | None = Field(None, max_length=1000)
    country: str | list[str] | None = None
    schema_: str | None = Field(None, alias="schema", max_length=60)
    dob: str | None = Field(None, max_length=40)
    birth_date: str | None = Field(None, max_length=40)
    identifiers: list[str] | dict[str, str] | None = Field(None, description='["isin:CNE100000PM8", "uscc:9133..."] or {"isin": "CNE..."}')
    isin: str | None = None
    lei: str | None = None
    uscc: str | None = None
    record: bool = Field(True, description="Record the run and its alerts (the review queue); false to only answer.")


class ScreenBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    records: list[ScreenRecord] = Field(..., min_length=1, max_length=screening.MAX_RECORDS)
    record: bool = Field(True, description="Record the run and its alerts (the review queue); false to only answer.")


def _body_kind(body: object) -> str:
    """A body with ``records`` is a batch, whatever else it holds: an invalid batch is an
    error naming what is wrong, never one record whose fields are the batch's."""
    if isinstance(body, dict):
        return "batch" if "records" in body else "record"
    return "batch" if isinstance(body, ScreenBatch) else "record"


ScreenBody = Annotated[Union[Annotated[ScreenBatch, Tag("batch")], Annotated[ScreenRecord, Tag("record")]], Discriminator(_body_kind)]


def _as_dict(record: ScreenRecord) -> dict:
    data = record.model_dump(by_alias=True, exclude_none=True, exclude={"record"})
    if isinstance(data.get("identifiers"), dict):
        data["identifiers"] = [f"{k}:{v}" for k, v in data["identifiers"].items()]
    return data


@router.post("/screen", tags=["screening"], summary="Screen one record or a batch (screening-result records; flagged hits become alerts).")
def screen(request: Request, body: ScreenBody, principal: Principal = Depends(require("screen"))):
    ctx = _ctx(request)
    screener = ctx.screeners.get()
    if isinstance(body, ScreenBatch):
        records, keep = [_as_dict(x) for x in body.records], body.record
    else:
        records, keep = [_as_dict(body)], body.record
    with audit.acting_as(principal.name):
        out = screening.screen_records(ctx.store, screener, records, principal.name, record=keep)
    if isinstance(body, ScreenBatch):
        return out
    return {**out["results"][0], "run_id": out["run_id"]}


@router.post("/screen/file", tags=["screening"], status_code=202, summary="Upload a CSV/XLSX/JSON lines file to screen; returns a job to poll.")
async def screen_file(request: Request, file: UploadFile = File(..., description="CSV, XLSX or JSON lines with a name (or identifier) column"), principal: Principal = Depends(require("screen"))):
    ctx = _ctx(request)
    data = await file.read()
    job = jobs.create(ctx.store, file.filename or "upload.csv", data, principal.name)
    job_runner.start(ctx, job["id"])
    return JSONResponse(_job_json(job), status_code=202, headers={"Location": f"/jobs/{job['id']}"})


def _job_json(job: dict) -> dict:
    out = {k: job[k] for k in ("id", "filename", "owner", "state", "done", "total", "progress", "counts", "run_id", "error", "created_at", "updated_at", "seconds", "outputs")}
    out["links"] = {"self": f"/jobs/{job['id']}", **{f"results_{fmt}": f"/jobs/{job['id']}/results?format={fmt}" for fmt in job["outputs"]}}
    if job["run_id"]:
        out["links"]["alerts"] = f"/alerts?run_id={job['run_id']}&state=all"
    return out


@router.get("/jobs", tags=["screening"], summary="Recent file-screening jobs.")
def list_jobs(request: Request, limit: int = Query(20, ge=1, le=200), principal: Principal = Depends(require("read"))):
    return {"jobs": [_job_json(j) for j in jobs.list_jobs(_ctx(request).store, limit)]}


@router.get("/jobs/{job_id}", tags=["screening"], summary="A job's progress and, when done, its counts and result links.", responses={404: {"description": "No such job"}})
def get_job(request: Request, job_id: str, principal: Principal = Depends(require("read"))):
    return _job_json(jobs.get(_ctx(request).store, job_id))


@router.get("/jobs/{job_id}/results", tags=["screening"], summary="Download a finished job's results.", responses={404: {"description": "No such job or not finished"}})
def job_results(request: Request, job_id: str, format: Literal["jsonl", "csv", "xlsx"] = "jsonl", principal: Principal = Depends(require("read"))):
    store = _ctx(request).store
    path = jobs.output_path(store, job_id, format)
    job = jobs.get(store, job_id)
    name = f"{Path(job['filename']).stem}-results.{format}"
    return FileResponse(path, media_type=jobs.OUTPUTS[format], filename=name)


@router.get("/runs", tags=["screening"], summary="Recent screening and monitoring runs.")
def list_runs(request: Request, limit: int = Query(50, ge=1, le=500), principal: Principal = Depends(require("read"))):
    return {"runs": [_public_run(run) for run in r.list_runs(_ctx(request).store, limit)]}


def _public_run(run: dict) -> dict:
    """A run as the API shows it: its input by file name, not by where the server keeps it."""
    if run.get("input_path"):
        run = {**run, "input_path": Path(run["input_path"]).name}
    return run


@router.get("/runs/{run_id}", tags=["screening"], summary="One run.", responses={404: {"description": "No such run"}})
def get_run(request: Request, run_id: Annotated[int, PathParam(ge=1, le=MAX_ID)], principal: Principal = Depends(require("read"))):
    run = r.get_run(_ctx(request).store, run_id)
    if run is None:
        raise review.NotFound(f"no run #{run_id}")
    return _public_run(run)


# -- lists ------------------------------------------------------------------------------------


@router.get("/lists", tags=["lists"], summary="Active lists: version, dates, entity counts and freshness.")
def lists(request: Request, principal: Principal = Depends(require("read"))):
    return {"lists": views.lists_view(_ctx(request).store)}


@router.get("/lists/{source}", tags=["lists"], summary="Every version of one list.", responses={404: {"description": "Unknown source"}})
def list_history(request: Request, source: str, principal: Principal = Depends(require("read"))):
    store = _ctx(request).store
    active = {s.source: s.version for s in store.active_snapshots()}
    return {"source": source, "active": active.get(source), "versions": [s.to_dict() for s in store.history(source)]}


@router.get("/lists/{source}/diff", tags=["lists"], summary="Entities added, removed and changed between two versions (default: the two latest).", responses={404: {"description": "Unknown source or version"}})
def list_diff(request: Request, source: str, old: int | None = Query(None, ge=1, le=MAX_ID), new: int | None = Query(None, ge=1, le=MAX_ID), limit: int = Query(100, ge=0, le=5000), principal: Principal = Depends(require("read"))):
    return views.diff_view(_ctx(request).store, source, old, new, limit)


@router.post("/lists/{source}/import", tags=["lists"], summary="Import a capture of a list (one or more files) and activate it.", responses={400: {"description": "Unreadable list file"}})
async def import_list(
    request: Request,
    source: str,
    files: list[UploadFile] = File(..., description="The list's file(s), as published"),
    captured: str | None = Form(None, max_length=10, description="YYYY-MM or YYYY-MM-DD"),
    principal: Principal = Depends(require("admin")),
):
    check_source_id(source)  # before anything is written
    captured = captured or None
    store = _ctx(request).store
    folder = Path(tempfile.mkdtemp(prefix="clearance-import-"))
    try:
        paths = []
        for upload in files:
            name = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(upload.filename or "list").name) or "list"
            path = folder / name
            path.write_bytes(await upload.read())
            paths.append(path)
        target = paths[0] if len(paths) == 1 else folder
        with audit.acting_as(principal.name):
            result = store.import_files(target, source, captured=captured)
    except ClearanceError as exc:  # name the uploaded files, not the server's copies
        raise InputError(str(exc).replace(f"{folder}{os.sep}", "").replace(str(folder), "the upload")) from None
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    snap = result.snapshot
    if result.created and not audit.has_subject(store, "lists.import", f"snapshot:{source}@{snap.version}"):
        audit.record(store, "lists.import", {"source": source, "version": snap.version, "entities": snap.entity_count, "files_hash": snap.files_hash, "content_hash": snap.content_hash, "captured": snap.captured, "via": "api"}, subject=f"snapshot:{source}@{snap.version}", actor=principal.name)
    return {"created": result.created, "snapshot": snap.to_dict()}


# -- alerts -------------------------------------------------------------------------------------


class DecisionIn(BaseModel):
    decision: Literal["confirmed", "dismissed", "escalated", "approved", "rejected"]
    reason: str = Field(..., min_length=3, max_length=4000)


@router.get("/alerts", tags=["alerts"], summary="The review queue: alerts with their review state, filtered.")
def list_alerts(
    request: Request,
    state: str | None = Query(None, max_length=100, description="Comma-separated states (open, pending, escalated, confirmed, dismissed, suppressed) or 'all'; default: open, pending, escalated"),
    source: str | None = Query(None, max_length=100),
    run_id: int | None = Query(None, ge=1, le=MAX_ID),
    hit_status: Literal["match", "review"] | None = None,
    q: str | None = Query(None, max_length=200),
    include_resolved: bool = False,
    order: Literal["score", "newest", "oldest"] = "score",
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=MAX_ID),
    principal: Principal = Depends(require("read")),
):
    items, total = review.queue(_ctx(request).store, state, source, run_id, hit_status, q, include_resolved, order, limit, offset)
    return {"total": total, "limit": limit, "offset": offset, "alerts": items}


@router.get("/alerts/{alert_id}", tags=["alerts"], summary="One alert: the hit, the list entry then and now, decisions.", responses={404: {"description": "No such alert"}})
def get_alert(request: Request, alert_id: AlertId, principal: Principal = Depends(require("read"))):
    store = _ctx(request).store
    alert = review.get_alert(store, alert_id)
    if alert.get("input") is None:
        alert["input"] = jobs.record_input(store, alert["run_id"], alert["row_index"])
    return alert


@router.post("/alerts/{alert_id}/decisions", tags=["alerts"], summary="Decide an alert (reason required; audited).", responses={400: {"description": "Reason too short once whitespace is normalised"}, 403: {"description": "Role may not decide"}, 404: {"description": "No such alert"}, 409: {"description": "Not pending approval"}})
def decide(request: Request, alert_id: AlertId, body: DecisionIn, principal: Principal = Depends(require("read"))):
    return review.decide(_ctx(request).store, alert_id, body.decision, body.reason, principal)


@router.get("/alerts/{alert_id}/decisions", tags=["alerts"], summary="Every decision on an alert.", responses={404: {"description": "No such alert"}})
def decisions(request: Request, alert_id: AlertId, principal: Principal = Depends(require("read"))):
    store = _ctx(request).store
    review.review(store, alert_id)
    return {"alert_id": alert_id, "decisions": review.history(store, alert_id)}


@router.get("/stats", tags=["alerts"], summary="Dashboard figures: alerts by state and list, per day; list freshness.")
def stats(request: Request, days: int = Query(30, ge=1, le=366), principal: Principal = Depends(require("read"))):
    store = _ctx(request).store
    return {**review.stats(store, days), "lists": views.lists_view(store)}
