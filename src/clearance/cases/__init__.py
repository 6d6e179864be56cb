"""Case management: users and API keys, the review workflow over alerts
(decisions, suppressions, four-eyes), screening jobs, and the hash-chained
audit trail.

Importing this package registers its tables on the store's ``metadata``;
:func:`ensure_tables` creates them in a store opened before that.

>>> from clearance.cases import audit
>>> audit.append(conn, audit.current_actor(), "lists.import", {...})   # inside a transaction
>>> audit.verify(store).ok
"""

from __future__ import annotations

from . import tables
from .tables import ensure_tables

__all__ = ["ensure_tables", "tables", "audit", "users", "review", "settings", "jobs", "screening"]


def __getattr__(name: str):
    if name in ("audit", "users", "review", "settings", "jobs", "screening"):
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(name)
