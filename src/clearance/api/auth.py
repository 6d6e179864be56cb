"""Who is calling, and may they: API keys (``Authorization: ApiKey <key>``,
``Bearer <key>`` also accepted) or the web UI's session cookie.

Every route but ``/healthz``, ``/readyz``, the login page and static assets
depends on :func:`require`. A state-changing request made with a session
cookie must carry the session's CSRF token (``X-CSRF-Token`` header, or a
``csrf`` form field checked by the UI routes).
"""

from __future__ import annotations

import hmac
from typing import Callable

from fastapi import Depends, HTTPException, Request
from fastapi.security import APIKeyHeader

from ..cases import users
from ..cases.users import Principal

SESSION_COOKIE = "clearance_session"
api_key_header = APIKeyHeader(
    name="Authorization",
    auto_error=False,
    scheme_name="ApiKey",
    description="`ApiKey <key>` (as yente-client sends it) or `Bearer <key>`; keys are made with `clearance users add NAME --role ROLE`.",
)
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class LoginRequired(Exception):
    """A web-UI page asked for without a session: redirect to the login page."""


def _ctx(request: Request):
    return request.app.state.ctx


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _throttle(request: Request, key: str) -> None:
    wait = _ctx(request).limiter.take(key)
    if wait:
        raise HTTPException(429, "rate limit exceeded; slow down", headers={"Retry-After": str(max(1, round(wait)))})


def _failed(request: Request) -> None:
    # Failed credentials draw on a per-address bucket too: guessing keys is slow.
    wait = _ctx(request).fail_limiter.take(f"ip:{_client(request)}")
    if wait:
        raise HTTPException(429, "too many failed attempts; slow down", headers={"Retry-After": str(max(1, round(wait)))})


def identify(request: Request, authorization: str | None) -> Principal | None:
    """The caller, or None when no credentials were given; 401 for bad ones."""
    ctx = _ctx(request)
    if authorization:
        scheme, _, credential = authorization.strip().partition(" ")
        principal = None
        if scheme.lower() in ("apikey", "bearer", "token") and credential.strip():
            principal = users.authenticate_key(ctx.store, credential.strip())
        if principal is None:
            _failed(request)
            raise HTTPException(401, "invalid API key", headers={"WWW-Authenticate": "ApiKey"})
        request.state.principal = principal
        return principal
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        found = users.authenticate_session(ctx.store, token)
        if found is not None:
            principal, csrf = found
            request.state.principal = principal
            request.state.csrf = csrf
            return principal
    return None


def require(permission: str, ui: bool = False) -> Callable[..., Principal]:
    """A dependency: the authenticated caller, who must hold ``permission``."""

    def dependency(request: Request, authorization: str | None = Depends(api_key_header)) -> Principal:
        principal = identify(request, authorization)
        if principal is None:
            if ui:
                raise LoginRequired()
            raise HTTPException(401, "authentication required: send 'Authorization: ApiKey <key>' or log in", headers={"WWW-Authenticate": "ApiKey"})
        _throttle(request, principal.via if principal.via != "session" else f"user:{principal.user_id}")
        if principal.via == "session" and request.method not in SAFE_METHODS and not ui:
            sent = request.headers.get("x-csrf-token", "")
            if not hmac.compare_digest(sent.encode(), getattr(request.state, "csrf", "").encode()):
                raise HTTPException(403, "missing or wrong CSRF token")
        if not principal.can(permission):
            raise HTTPException(403, f"{principal.name} is a {principal.role}; this needs the {users.PERMISSIONS.get(permission, permission)} role")
        return principal

    return dependency


def check_csrf(request: Request, token: str | None) -> None:
    """For UI form posts made with a session."""
    expected = getattr(request.state, "csrf", None)
    principal = getattr(request.state, "principal", None)
    if principal is not None and principal.via != "session":
        return
    if not expected or not token or not hmac.compare_digest(token.encode(), expected.encode()):
        raise HTTPException(403, "missing or wrong CSRF token; reload the page")
