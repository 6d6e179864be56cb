"""Admin API: users and keys, settings, the audit trail."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from ..cases import audit, settings, users
from ..cases.users import Principal
from .auth import require

router = APIRouter(tags=["admin"])


def _store(request: Request):
    return request.app.state.ctx.store


class UserIn(BaseModel):
    name: str = Field(..., min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9._@-]*$")
    role: Literal["viewer", "analyst", "reviewer", "admin"]
    password: str | None = Field(None, min_length=10, max_length=200, description="For the web UI; optional")


class RoleIn(BaseModel):
    role: Literal["viewer", "analyst", "reviewer", "admin"]


class SettingIn(BaseModel):
    value: bool | int | float | str


@router.get("/me", summary="Who the caller is.")
def me(principal: Principal = Depends(require("read"))):
    return {"name": principal.name, "role": principal.role, "via": "session" if principal.via == "session" else "api key"}


@router.get("/users", summary="Users, roles and key ids (never keys).")
def list_users(request: Request, principal: Principal = Depends(require("admin"))):
    return {"users": users.list_users(_store(request))}


@router.post("/users", status_code=201, summary="Add a user; the response holds their API key, shown this once.", responses={400: {"description": "Bad name or user exists"}})
def add_user(request: Request, body: UserIn, principal: Principal = Depends(require("admin"))):
    user, key = users.add_user(_store(request), body.name, body.role, body.password, actor=principal.name)
    return {"user": user, "api_key": key}


@router.post("/users/{name}/disable", summary="Disable a user (keys and sessions stop working).", responses={400: {"description": "No such user"}})
def disable_user(request: Request, name: str, principal: Principal = Depends(require("admin"))):
    return users.disable_user(_store(request), name, actor=principal.name)


@router.post("/users/{name}/enable", summary="Enable a disabled user.", responses={400: {"description": "No such user"}})
def enable_user(request: Request, name: str, principal: Principal = Depends(require("admin"))):
    return users.enable_user(_store(request), name, actor=principal.name)


@router.put("/users/{name}/role", summary="Change a user's role.", responses={400: {"description": "No such user"}})
def set_role(request: Request, name: str, body: RoleIn, principal: Principal = Depends(require("admin"))):
    return users.set_role(_store(request), name, body.role, actor=principal.name)


@router.post("/users/{name}/keys", status_code=201, summary="A new API key for a user, shown this once.", responses={400: {"description": "No such user"}})
def new_key(request: Request, name: str, principal: Principal = Depends(require("admin"))):
    return {"api_key": users.new_key(_store(request), name, actor=principal.name)}


@router.delete("/keys/{key_id}", summary="Revoke an API key.", responses={400: {"description": "No such key"}})
def revoke_key(request: Request, key_id: str, principal: Principal = Depends(require("admin"))):
    users.revoke_key(_store(request), key_id, actor=principal.name)
    return {"revoked": key_id}


@router.get("/settings", summary="Case-management settings.")
def get_settings(request: Request, principal: Principal = Depends(require("read"))):
    return {"settings": settings.get_all(_store(request)), "descriptions": settings.DESCRIPTIONS}


@router.put("/settings/{key}", summary="Change a setting (audited).", responses={400: {"description": "Unknown setting or bad value"}})
def put_setting(request: Request, key: str, body: SettingIn, principal: Principal = Depends(require("admin"))):
    return {"key": key, "value": settings.set_value(_store(request), key, body.value, actor=principal.name)}


@router.get("/audit", summary="Audit-trail entries (newest first).")
def audit_entries(
    request: Request,
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=2**31 - 1),
    action: str | None = Query(None, max_length=60),
    subject: str | None = Query(None, max_length=200),
    principal: Principal = Depends(require("admin")),
):
    return {"entries": audit.entries(_store(request), limit, offset, action, subject, newest_first=True)}


@router.get("/audit/verify", summary="Check the audit trail's hash chain.")
def audit_verify(request: Request, principal: Principal = Depends(require("admin"))):
    return audit.verify(_store(request)).to_dict()
