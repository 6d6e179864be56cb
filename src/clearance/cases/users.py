"""Users, roles, API keys and web sessions.

Roles, each including the ones before it: ``viewer`` reads; ``analyst``
screens; ``reviewer`` decides alerts; ``admin`` imports lists and manages
users and settings.

An API key reads ``clr_<key id>_<secret>``. Only the key id (to find the
row) and an argon2id hash of the whole key are stored; the key is shown once,
when it is made. A verified key is remembered for a minute in this process
as an HMAC under a per-process random key and compared in constant time, so
the KDF's cost is paid once a minute per key rather than once per request;
revocation and disabling are still checked against the database every time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, select

from ..errors import InputError
from . import audit
from .errors import Conflict, NotFound
from .tables import api_keys, sessions, users

ROLES = ("viewer", "analyst", "reviewer", "admin")
#: What each permission needs at least.
PERMISSIONS = {"read": "viewer", "screen": "analyst", "decide": "reviewer", "admin": "admin"}
SESSION_HOURS = 12
KEY_PREFIX = "clr"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")

#: OWASP's argon2id minimum for keys (random, 256-bit: the KDF is defence in depth);
#: argon2-cffi's RFC 9106 low-memory profile for passwords.
_key_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
_password_hasher = PasswordHasher()
_DUMMY_HASH = _password_hasher.hash("not a real password")
_DUMMY_KEY_HASH = _key_hasher.hash("clr_dummy_not-a-real-key")

_CACHE_SECONDS = 60.0
_cache_secret = secrets.token_bytes(32)
_cache: dict[str, tuple[bytes, float]] = {}
_cache_lock = threading.Lock()


@dataclass(frozen=True)
class Principal:
    """Who is calling: a user (by API key or session) and their role."""

    user_id: int
    name: str
    role: str
    via: str  # "key:<key id>" | "session" | "cli"

    def can(self, permission: str) -> bool:
        return role_allows(self.role, permission)


def role_allows(role: str, permission: str) -> bool:
    need = PERMISSIONS.get(permission, permission)
    return role in ROLES and need in ROLES and ROLES.index(role) >= ROLES.index(need)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _stamp(dt: datetime | None = None) -> str:
    return (dt or _now()).isoformat(timespec="seconds")


def check_role(role: str) -> str:
    role = (role or "").strip().lower()
    if role not in ROLES:
        raise InputError(f"role {role!r}: expected one of {', '.join(ROLES)}")
    return role


def check_name(name: str) -> str:
    name = (name or "").strip()
    if not _NAME.match(name):
        raise InputError(f"user name {name!r}: expected 1-100 letters, digits, '.', '_', '@' or '-', starting with a letter or digit")
    return name


def check_password(password: str) -> str:
    if len(password or "") < 10:
        raise InputError("password: expected at least 10 characters")
    return password


# -- users --------------------------------------------------------------------------------


def _user(conn, name: str):
    row = conn.execute(select(users).where(users.c.name == name)).first()
    if row is None:
        raise NotFound(f"no user named {name!r}")
    return row


def _new_key(conn, user_id: int) -> tuple[str, str]:
    key_id = secrets.token_hex(6)
    key = f"{KEY_PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
    conn.execute(api_keys.insert().values(key_id=key_id, user_id=user_id, hash=_key_hasher.hash(key), created_at=_stamp()))
    return key_id, key


def add_user(store, name: str, role: str, password: str | None = None, actor: str | None = None) -> tuple[dict, str]:
    """Create a user with one API key; returns (user, key). The key is not stored and cannot be shown again."""
    name, role = check_name(name), check_role(role)
    pw_hash = _password_hasher.hash(check_password(password)) if password is not None else None
    actor = actor or audit.current_actor()
    with store.engine.connect().execution_options(immediate=True) as conn, conn.begin():
        if conn.execute(select(users.c.id).where(users.c.name == name)).first():
            raise Conflict(f"user {name!r} already exists")
        user_id = conn.execute(
            users.insert().values(name=name, role=role, password_hash=pw_hash, created_at=_stamp(), created_by=actor)
        ).inserted_primary_key[0]
        key_id, key = _new_key(conn, user_id)
        audit.append(conn, actor, "user.add", {"name": name, "role": role, "key_id": key_id, "password": pw_hash is not None}, subject=f"user:{name}")
    return get_user(store, name), key


def get_user(store, name: str) -> dict:
    with store.engine.connect() as conn:
        row = _user(conn, name)
        keys = conn.execute(select(api_keys.c.key_id, api_keys.c.created_at, api_keys.c.revoked_at).where(api_keys.c.user_id == row.id)).all()
    return _user_dict(row, keys)


def _user_dict(row, keys=()) -> dict:
    return {
        "name": row.name,
        "role": row.role,
        "created_at": row.created_at,
        "created_by": row.created_by,
        "disabled": row.disabled_at is not None,
        "disabled_at": row.disabled_at,
        "password": row.password_hash is not None,
        "keys": [{"key_id": k.key_id, "created_at": k.created_at, "revoked_at": k.revoked_at} for k in keys],
    }


def list_users(store) -> list[dict]:
    with store.engine.connect() as conn:
        rows = conn.execute(select(users).order_by(users.c.name)).all()
        keys = conn.execute(select(api_keys.c.user_id, api_keys.c.key_id, api_keys.c.created_at, api_keys.c.revoked_at)).all()
    by_user: dict[int, list] = {}
    for k in keys:
        by_user.setdefault(k.user_id, []).append(k)
    return [_user_dict(r, by_user.get(r.id, [])) for r in rows]


def _change(store, name: str, action: str, values: dict, details: dict, actor: str | None) -> dict:
    actor = actor or audit.current_actor()
    with store.engine.connect().execution_options(immediate=True) as conn, conn.begin():
        row = _user(conn, name)
        if action == "user.disable" and row.disabled_at is not None:  # keep when, and who, first did it
            raise Conflict(f"user {name!r} was already disabled at {row.disabled_at}")
        if action == "user.enable" and row.disabled_at is None:
            raise Conflict(f"user {name!r} is not disabled")
        conn.execute(users.update().where(users.c.id == row.id).values(**values))
        if action in ("user.disable", "user.password"):  # a new password ends the sessions the old one opened
            conn.execute(delete(sessions).where(sessions.c.user_id == row.id))
        audit.append(conn, actor, action, {"name": name, **details}, subject=f"user:{name}")
    _forget_all()
    return get_user(store, name)


def disable_user(store, name: str, actor: str | None = None) -> dict:
    return _change(store, name, "user.disable", {"disabled_at": _stamp()}, {}, actor)


def enable_user(store, name: str, actor: str | None = None) -> dict:
    return _change(store, name, "user.enable", {"disabled_at": None}, {}, actor)


def set_role(store, name: str, role: str, actor: str | None = None) -> dict:
    role = check_role(role)
    return _change(store, name, "user.role", {"role": role}, {"role": role}, actor)


def set_password(store, name: str, password: str, actor: str | None = None) -> dict:
    pw_hash = _password_hasher.hash(check_password(password))
    return _change(store, name, "user.password", {"password_hash": pw_hash}, {}, actor)


def new_key(store, name: str, actor: str | None = None) -> str:
    actor = actor or audit.current_actor()
    with store.engine.connect().execution_options(immediate=True) as conn, conn.begin():
        row = _user(conn, name)
        key_id, key = _new_key(conn, row.id)
        audit.append(conn, actor, "user.key.add", {"name": name, "key_id": key_id}, subject=f"user:{name}")
    return key


def revoke_key(store, key_id: str, actor: str | None = None) -> None:
    actor = actor or audit.current_actor()
    with store.engine.connect().execution_options(immediate=True) as conn, conn.begin():
        row = conn.execute(
            select(api_keys.c.id, api_keys.c.revoked_at, users.c.name).join(users, users.c.id == api_keys.c.user_id).where(api_keys.c.key_id == key_id)
        ).first()
        if row is None:
            raise NotFound(f"no API key with id {key_id!r}")
        if row.revoked_at is not None:
            raise Conflict(f"API key {key_id!r} was already revoked at {row.revoked_at}")
        conn.execute(api_keys.update().where(api_keys.c.id == row.id).values(revoked_at=_stamp()))
        audit.append(conn, actor, "user.key.revoke", {"name": row.name, "key_id": key_id}, subject=f"user:{row.name}")
    _forget_all()


def count_users(store) -> int:
    with store.engine.connect() as conn:
        return len(conn.execute(select(users.c.id)).all())


# -- authentication ---------------------------------------------------------------------------


def _digest(key: str) -> bytes:
    return hmac.new(_cache_secret, key.encode("utf-8"), hashlib.sha256).digest()


def _forget_all() -> None:
    with _cache_lock:
        _cache.clear()


def authenticate_key(store, presented: str) -> Principal | None:
    """The user an API key belongs to, or None (unknown, revoked, disabled or wrong)."""
    parts = (presented or "").strip().split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or not parts[1] or len(presented) > 200:
        return None
    key_id = parts[1]
    with store.engine.connect() as conn:
        row = conn.execute(
            select(api_keys.c.hash, api_keys.c.revoked_at, users.c.id, users.c.name, users.c.role, users.c.disabled_at)
            .join(users, users.c.id == api_keys.c.user_id)
            .where(api_keys.c.key_id == key_id)
        ).first()
    if row is None or row.revoked_at is not None or row.disabled_at is not None:
        # Spend what a real verification costs, so timing does not tell which key ids exist.
        try:
            _key_hasher.verify(_DUMMY_KEY_HASH, presented)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            pass
        return None
    digest = _digest(presented)
    with _cache_lock:
        cached = _cache.get(key_id)
    if cached is not None and cached[1] > time.monotonic() and hmac.compare_digest(cached[0], digest):
        return Principal(row.id, row.name, row.role, f"key:{key_id}")
    try:
        _key_hasher.verify(row.hash, presented)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    with _cache_lock:
        if len(_cache) > 10000:
            _cache.clear()
        _cache[key_id] = (digest, time.monotonic() + _CACHE_SECONDS)
    return Principal(row.id, row.name, row.role, f"key:{key_id}")


def authenticate_password(store, name: str, password: str) -> Principal | None:
    with store.engine.connect() as conn:
        row = conn.execute(select(users).where(users.c.name == (name or "").strip())).first()
    stored = row.password_hash if row is not None and row.password_hash else _DUMMY_HASH
    try:
        _password_hasher.verify(stored, password or "")
        ok = row is not None and row.password_hash is not None and row.disabled_at is None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        ok = False
    return Principal(row.id, row.name, row.role, "session") if ok else None


def create_session(store, principal: Principal) -> tuple[str, str]:
    """A new login session; returns (cookie token, CSRF token)."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    now = _now()
    with store.engine.connect().execution_options(immediate=True) as conn, conn.begin():
        conn.execute(delete(sessions).where(sessions.c.expires_at < _stamp(now)))
        conn.execute(
            sessions.insert().values(
                token_hash=hashlib.sha256(token.encode()).hexdigest(),
                user_id=principal.user_id,
                csrf=csrf,
                created_at=_stamp(now),
                expires_at=_stamp(now + timedelta(hours=SESSION_HOURS)),
            )
        )
        audit.append(conn, principal.name, "user.login", {"name": principal.name}, subject=f"user:{principal.name}")
    return token, csrf


def authenticate_session(store, token: str) -> tuple[Principal, str] | None:
    """(principal, CSRF token) of a live session, or None."""
    if not token or len(token) > 200:
        return None
    with store.engine.connect() as conn:
        row = conn.execute(
            select(sessions.c.csrf, sessions.c.expires_at, users.c.id, users.c.name, users.c.role, users.c.disabled_at)
            .join(users, users.c.id == sessions.c.user_id)
            .where(sessions.c.token_hash == hashlib.sha256(token.encode()).hexdigest())
        ).first()
    if row is None or row.disabled_at is not None or row.expires_at < _stamp():
        return None
    return Principal(row.id, row.name, row.role, "session"), row.csrf


def end_session(store, token: str) -> None:
    with store.engine.connect().execution_options(immediate=True) as conn, conn.begin():
        conn.execute(delete(sessions).where(sessions.c.token_hash == hashlib.sha256((token or "").encode()).hexdigest()))
