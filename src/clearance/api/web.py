"""The web UI under ``/ui``: server-rendered Jinja2 pages, htmx for the live
bits (queue filters, job progress). Every page needs a login session; forms
carry the session's CSRF token."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote, urlencode

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Path as PathParam, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from ..cases import audit, jobs, review, settings, users
from ..cases.users import Principal
from ..errors import ClearanceError
from . import jobs as job_runner
from . import views
from .auth import SESSION_COOKIE, check_csrf, require

router = APIRouter(prefix="/ui", include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
templates.env.globals["chart_svg"] = views.chart_svg
templates.env.globals["highlight"] = views.highlight
templates.env.filters["urlq"] = lambda s: quote(str(s), safe="")


def _plain(value) -> str:
    """A detail value as words: lists joined, mappings as key=value."""
    if isinstance(value, (list, tuple)):
        return ", ".join(_plain(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}={_plain(v)}" for k, v in value.items())
    return "" if value is None else str(value)


templates.env.filters["plain"] = _plain

viewer = require("read", ui=True)
STATE_LABELS = {"open": "Open", "pending": "Pending approval", "escalated": "Escalated", "confirmed": "Confirmed", "dismissed": "Dismissed", "suppressed": "Suppressed"}
templates.env.globals["STATE_LABELS"] = STATE_LABELS


def _ctx(request: Request):
    return request.app.state.ctx


def page(request: Request, template: str, status: int = 200, **context) -> HTMLResponse:
    principal = getattr(request.state, "principal", None)
    context.update(request=request, me=principal, csrf=getattr(request.state, "csrf", ""), path=request.url.path)
    return templates.TemplateResponse(request, template, context, status_code=status)


def _safe_next(target: str | None) -> str:
    """Only a path on this server (no scheme, host, protocol-relative or backslash tricks)."""
    ok = bool(target) and target.startswith("/") and not target.startswith("//") and "\\" not in target and ":" not in target.split("?")[0]
    return target if ok else "/ui/"


# -- login ------------------------------------------------------------------------------------


@router.get("/login")
def login_form(request: Request, next: str | None = Query(None, max_length=500)):
    return page(request, "login.html", next=_safe_next(next), error=None)


@router.post("/login")
def login(request: Request, name: str = Form(..., max_length=100), password: str = Form(..., max_length=200), next: str = Form("/ui/", max_length=500)):
    ctx = _ctx(request)
    caller = f"login:{request.client.host if request.client else 'unknown'}"
    wait = ctx.fail_limiter.take(caller)
    principal = None if wait else users.authenticate_password(ctx.store, name, password)
    if principal is not None:
        ctx.fail_limiter.refund(caller)  # only failed logins count
    if principal is None:
        message = "Too many attempts; wait a minute." if wait else "Unknown user or wrong password."
        return page(request, "login.html", status=401, next=_safe_next(next), error=message, name=name)
    token, _ = users.create_session(ctx.store, principal)
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="strict", secure=ctx.settings.secure_cookies, max_age=users.SESSION_HOURS * 3600, path="/")
    return response


@router.post("/logout")
def logout(request: Request, csrf: str = Form(""), principal: Principal = Depends(viewer)):
    check_csrf(request, csrf)
    users.end_session(_ctx(request).store, request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse("/ui/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# -- dashboard ---------------------------------------------------------------------------------


@router.get("/")
def dashboard(request: Request, principal: Principal = Depends(viewer)):
    store = _ctx(request).store
    return page(request, "dashboard.html", stats=review.stats(store, 30), lists=views.lists_view(store), runs=views.runs_view(store, 8), nav="dashboard")


# -- review queue and alerts ----------------------------------------------------------------------


@router.get("/alerts")
def queue(
    request: Request,
    state: str = Query("", max_length=100),
    source: str = Query("", max_length=100),
    run_id: int | None = Query(None, ge=1, le=2**31 - 1),
    hit_status: str = Query("", max_length=10),
    q: str = Query("", max_length=200),
    order: str = Query("score", max_length=10),
    offset: int = Query(0, ge=0, le=2**31 - 1),
    principal: Principal = Depends(viewer),
):
    store = _ctx(request).store
    limit = 50
    error = None
    try:
        items, total = review.queue(store, state or None, source or None, run_id, hit_status or None, q or None, False, order, limit, offset)
    except ClearanceError as exc:
        items, total, error = [], 0, str(exc)
    filters = {"state": state, "source": source, "run_id": run_id or "", "hit_status": hit_status, "q": q, "order": order}
    base = {k: v for k, v in filters.items() if v}
    pages = {
        "prev": f"?{urlencode({**base, 'offset': max(0, offset - limit)})}" if offset > 0 else None,
        "next": f"?{urlencode({**base, 'offset': offset + limit})}" if offset + limit < total else None,
    }
    template = "_queue_table.html" if request.headers.get("hx-request") and request.headers.get("hx-target") == "queue" else "queue.html"
    sources = [s.source for s in store.active_snapshots()]
    return page(request, template, items=items, total=total, offset=offset, limit=limit, filters=filters, pages=pages, sources=sources, states=review.STATES, error=error, nav="queue")


@router.get("/alerts/{alert_id}")
def alert_page(request: Request, alert_id: Annotated[int, PathParam(ge=1, le=2**31 - 1)], principal: Principal = Depends(viewer)):
    return _alert_view(request, alert_id)


def _alert_view(request: Request, alert_id: int, error: str | None = None, status: int = 200):
    """The alert page; ``error`` is the server's own message about a refused decision (never
    taken from the address, where anyone could write one)."""
    store = _ctx(request).store
    alert = review.get_alert(store, alert_id)
    if alert.get("input") is None:
        alert["input"] = jobs.record_input(store, alert["run_id"], alert["row_index"])
    q_tokens, l_tokens = views.matched_tokens(alert["hit"])
    rules, rules_note = views.rules_for(alert["source"], alert.get("entity"))
    return page(
        request, "alert.html", alert=alert, hit=alert["hit"], why=alert["hit"].get("explanation") or {}, q_tokens=q_tokens, l_tokens=l_tokens,
        rules=rules, rules_note=rules_note, ownership=views.ownership_for(store, alert["source"], alert["entity_id"]),
        four_eyes=settings.get(store, "four_eyes"), error=error, nav="queue", status=status,
    )


@router.post("/alerts/{alert_id}/decide")
def decide(request: Request, alert_id: Annotated[int, PathParam(ge=1, le=2**31 - 1)], decision: str = Form(..., max_length=20), reason: str = Form("", max_length=4000), csrf: str = Form(""), principal: Principal = Depends(viewer)):
    check_csrf(request, csrf)
    try:
        review.decide(_ctx(request).store, alert_id, decision, reason, principal)
    except ClearanceError as exc:
        if isinstance(exc, review.NotFound):
            raise
        return _alert_view(request, alert_id, error=str(exc), status=views.error_status(exc))
    return RedirectResponse(f"/ui/alerts/{alert_id}", status_code=303)


@router.get("/entities/{entity_id}")
def entity_page(request: Request, entity_id: str, principal: Principal = Depends(viewer)):
    store = _ctx(request).store
    found = store.entity(entity_id)
    if found is None:
        raise review.NotFound(f"no entity {entity_id!r} in the active lists")
    source, entity = found
    alerts, total = review.queue(store, "all", None, None, None, entity_id, True, "newest", 20, 0)
    rules, rules_note = views.rules_for(source, entity.to_dict())
    return page(request, "entity.html", source=source, entity=entity, data=entity.to_dict(), alerts=alerts, alert_total=total, rules=rules, rules_note=rules_note,
                ownership=views.ownership_for(store, source, entity_id), nav="queue")


# -- lists -----------------------------------------------------------------------------------------


@router.get("/lists")
def lists_page(request: Request, principal: Principal = Depends(viewer)):
    return page(request, "lists.html", lists=views.lists_view(_ctx(request).store), nav="lists")


@router.get("/lists/{source}")
def list_page(request: Request, source: str, old: int | None = Query(None, ge=1, le=2**31 - 1), new: int | None = Query(None, ge=1, le=2**31 - 1), principal: Principal = Depends(viewer)):
    store = _ctx(request).store
    history = store.history(source)
    diff = None
    if len(history) > 1:
        if old is None or new is None:
            old, new = history[-2].version, history[-1].version
        diff = views.diff_view(store, source, old, new, limit=200)
    active = {s.source: s.version for s in store.active_snapshots()}.get(source)
    return page(request, "list.html", source=source, history=history, active=active, diff=diff, old=old, new=new, nav="lists")


# -- upload and jobs ----------------------------------------------------------------------------


@router.get("/upload")
def upload_form(request: Request, principal: Principal = Depends(viewer)):
    return page(request, "upload.html", jobs=jobs.list_jobs(_ctx(request).store, 10), error=None, nav="upload")


@router.post("/upload")
async def upload(request: Request, file: UploadFile = File(...), csrf: str = Form(""), principal: Principal = Depends(viewer)):
    check_csrf(request, csrf)
    ctx = _ctx(request)
    if not principal.can("screen"):
        return page(request, "upload.html", status=403, jobs=jobs.list_jobs(ctx.store, 10), error=f"{principal.name} is a {principal.role}; screening needs the analyst role.", nav="upload")
    try:
        job = jobs.create(ctx.store, file.filename or "upload.csv", await file.read(), principal.name)
    except ClearanceError as exc:
        return page(request, "upload.html", status=400, jobs=jobs.list_jobs(ctx.store, 10), error=str(exc), nav="upload")
    job_runner.start(ctx, job["id"])
    return RedirectResponse(f"/ui/jobs/{job['id']}", status_code=303)


@router.get("/jobs/{job_id}")
def job_page(request: Request, job_id: str, principal: Principal = Depends(viewer)):
    return page(request, "job.html", job=jobs.get(_ctx(request).store, job_id), nav="upload")


@router.get("/jobs/{job_id}/progress")
def job_progress(request: Request, job_id: str, principal: Principal = Depends(viewer)):
    job = jobs.get(_ctx(request).store, job_id)
    response = page(request, "_job_progress.html", job=job)
    if job["state"] in ("done", "failed"):
        response.status_code = 286  # htmx: stop polling
    return response


# -- audit ---------------------------------------------------------------------------------------


@router.get("/audit")
def audit_page(request: Request, offset: int = Query(0, ge=0, le=2**31 - 1), principal: Principal = Depends(require("admin", ui=True))):
    store = _ctx(request).store
    return page(request, "audit.html", entries=audit.entries(store, 100, offset, newest_first=True), verification=audit.verify(store), offset=offset, nav="audit")
