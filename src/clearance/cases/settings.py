"""Case-management configuration, each change audited.

``four_eyes`` (default false): analysts may then propose decisions; an
analyst's ``confirmed`` waits for a reviewer's approval (state ``pending``).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select

from ..errors import InputError
from . import audit
from .tables import settings

DEFAULTS: dict[str, Any] = {"four_eyes": False}
DESCRIPTIONS = {"four_eyes": "an analyst's 'confirmed' needs a reviewer's approval (analysts may then decide)"}


def _parse(key: str, value: Any) -> Any:
    if key not in DEFAULTS:
        from .errors import NotFound

        raise NotFound(f"setting {key!r}: expected one of {', '.join(sorted(DEFAULTS))}")
    default = DEFAULTS[key]
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off"):
            return False
        raise InputError(f"setting {key}: {value!r} is not true or false")
    return value


def get_all(store) -> dict[str, Any]:
    out = dict(DEFAULTS)
    with store.engine.connect() as conn:
        for key, value in conn.execute(select(settings.c.key, settings.c.value)):
            if key in out:
                out[key] = json.loads(value)
    return out


def get(store, key: str) -> Any:
    return get_all(store)[key] if key in DEFAULTS else _parse(key, None)


def set_value(store, key: str, value: Any, actor: str | None = None) -> Any:
    value = _parse(key, value)
    actor = actor or audit.current_actor()
    stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
    with store.engine.connect().execution_options(immediate=True) as conn, conn.begin():
        old = conn.execute(select(settings.c.value).where(settings.c.key == key)).scalar()
        before = json.loads(old) if old is not None else DEFAULTS[key]
        if old is None:
            conn.execute(settings.insert().values(key=key, value=json.dumps(value), updated_at=stamp, updated_by=actor))
        else:
            conn.execute(settings.update().where(settings.c.key == key).values(value=json.dumps(value), updated_at=stamp, updated_by=actor))
        audit.append(conn, actor, "config.set", {"key": key, "from": before, "to": value}, subject=f"config:{key}")
    return value
