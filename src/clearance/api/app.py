"""The FastAPI application: :func:`create_app`.

Routers: :mod:`.yente` (the yente-compatible API), :mod:`.routes` (our own
JSON API), :mod:`.admin` (users, audit, settings), :mod:`.web` (the
server-rendered UI under ``/ui``). Handlers parse, authorise, call the
library and serialise; nothing else.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from .. import __version__ as VERSION
from ..cases import ensure_tables
from ..errors import StoreError
from .auth import LoginRequired, require
from .config import Settings
from .limits import BodyLimit, RateLimiter, SecurityHeaders
from .views import ERROR_STATUSES

log = logging.getLogger("clearance.api")
STATIC = Path(__file__).parent / "static"


class Screeners:
    """The process's :class:`~clearance.screen.Screener`, swapped when the active lists change."""

    CHECK_EVERY = 5.0

    def __init__(self, store):
        self.store = store
        self._lock = threading.Lock()
        self._screener = None
        self._fingerprint: str | None = None
        self._checked = 0.0
        self.error: str | None = None

    @property
    def ready(self) -> bool:
        return self._screener is not None

    def get(self):
        now = time.monotonic()
        if self._screener is not None and now - self._checked < self.CHECK_EVERY:
            return self._screener
        with self._lock:
            if self._screener is not None and time.monotonic() - self._checked < self.CHECK_EVERY:
                return self._screener
            fingerprint = self.store.fingerprint()
            if fingerprint != self._fingerprint or self._screener is None:
                from ..screen import Screener

                screener = Screener(store=self.store)
                screener.matcher  # load (or build) the index before swapping it in
                self._screener, self._fingerprint = screener, fingerprint
            self._checked = time.monotonic()
            return self._screener

    def warm(self) -> None:
        def load():
            try:
                self.get()
            except Exception as exc:  # pragma: no cover - reported by /readyz
                self.error = f"{type(exc).__name__}: {exc}"
                log.exception("could not load the match index")
                return
            try:  # the ownership graph too, so the first alert page is quick (not needed for readiness)
                from ..ownership import cached_engine

                cached_engine(self.store)
            except Exception:  # pragma: no cover - pages say what is missing
                log.warning("could not prepare the ownership graph", exc_info=True)

        threading.Thread(target=load, name="clearance-index", daemon=True).start()


@dataclass
class Context:
    store: object
    settings: Settings
    screeners: Screeners
    limiter: RateLimiter
    fail_limiter: RateLimiter
    jobs: dict = field(default_factory=dict)


TITLES = {400: "Bad request", 401: "Log in needed", 403: "Not allowed", 404: "Not found", 409: "Conflict", 413: "Too large", 422: "Bad request", 429: "Slow down", 500: "Something went wrong"}


def _error(status: int, detail: str, headers: dict | None = None, request: Request | None = None):
    if request is not None and request.url.path.startswith("/ui/") and status != 401:
        from .web import page

        response = page(request, "error.html", status=status, title=TITLES.get(status, "Error"), detail=detail)
        for k, v in (headers or {}).items():
            response.headers[k] = v
        return response
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


def create_app(store=None, settings: Settings | None = None, warm: bool = True) -> FastAPI:
    """The application over ``store`` (default: the configured store, initialised on first use)."""
    from ..store import open_store

    settings = settings or Settings.from_env()
    store = store or open_store()
    ensure_tables(store.engine)
    app = FastAPI(
        title="Clearance",
        version=VERSION,
        summary="Restricted-party screening on the real published lists, with a review workflow and an audit trail.",
        description=(
            "Authenticate with `Authorization: ApiKey <key>` (keys: `clearance users add NAME --role ROLE`). "
            "`/healthz` and `/readyz` are open. The yente-compatible endpoints (`/search`, `/match`, `/entities`, "
            "`/catalog`, `/algorithms`) work with the `yente-client` package; dataset `default` means all active lists."
        ),
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.ctx = Context(
        store=store,
        settings=settings,
        screeners=Screeners(store),
        limiter=RateLimiter(settings.rate_per_minute, settings.rate_burst),
        fail_limiter=RateLimiter(settings.fail_per_minute, settings.fail_burst),
    )
    if settings.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=list(settings.cors_origins), allow_methods=["GET", "POST"], allow_headers=["Authorization", "Content-Type"])
    app.add_middleware(SecurityHeaders)
    app.add_middleware(BodyLimit, max_body=settings.max_body, max_upload=settings.max_upload)
    _handlers(app)
    _docs(app)
    from . import admin, analysis, routes, web, yente

    app.include_router(yente.router)
    app.include_router(routes.router)
    app.include_router(analysis.router)
    app.include_router(admin.router)
    app.include_router(web.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> RedirectResponse:
        return RedirectResponse("/static/favicon.svg", status_code=301)

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/ui/", status_code=303)

    if warm:
        app.state.ctx.screeners.warm()
    return app


def _docs(app: FastAPI) -> None:
    from fastapi import Depends

    viewer = Depends(require("read"))

    @app.get("/openapi.json", include_in_schema=False, dependencies=[viewer])
    def openapi() -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get("/docs", include_in_schema=False, dependencies=[Depends(require("read", ui=True))])
    def docs():
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="Clearance API",
            swagger_js_url="/static/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url="/static/swagger-ui/swagger-ui.css",
            swagger_favicon_url="/static/swagger-ui/favicon-32x32.png",
        )


def _status_handler(status: int):
    """An exception handler answering ``status`` with the error's one-line message."""

    async def handler(request: Request, exc: Exception):
        return _error(status, str(exc), request=request)

    return handler


def _handlers(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        from urllib.parse import quote

        return RedirectResponse(f"/ui/login?next={quote(target, safe='')}", status_code=303)

    for error_class, status in ERROR_STATUSES:
        app.add_exception_handler(error_class, _status_handler(status))

    @app.exception_handler(StoreError)
    async def store_error(request: Request, exc: StoreError):
        return _error(404 if "unknown source" in str(exc) or "no version" in str(exc) or "no active list" in str(exc) else 400, str(exc), request=request)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")} for e in exc.errors()]
        if request.url.path.startswith("/ui/"):  # a person at a browser: the error page, in words
            words = "; ".join(f"{'.'.join(str(part) for part in e['loc'][1:]) or 'request'}: {e['msg']}" for e in errors)
            return _error(422, words, request=request)
        return JSONResponse({"detail": errors}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        return _error(exc.status_code, str(exc.detail), getattr(exc, "headers", None), request)

    @app.exception_handler(Exception)
    async def crashed(request: Request, exc: Exception):
        ref = uuid.uuid4().hex[:12]
        log.error("unhandled error %s on %s %s", ref, request.method, request.url.path, exc_info=exc)
        return _error(500, f"internal error (reference {ref}); the server log has the details", request=request)
