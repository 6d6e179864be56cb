"""Versioned snapshot store (SQLite by default, PostgreSQL by URL).

>>> store = open_store()            # initialises itself from the bundled lists
>>> store.active_snapshot("us-ofac-sdn").version
"""

from __future__ import annotations

from typing import Callable

from ..data import bundled_captures
from . import runs  # noqa: F401  (registers the runs/alerts/portfolios tables)
from .. import cases  # noqa: F401  (registers the case tables: users, reviews, audit log ...)
from . import ownership as ownership  # noqa: F401  (registers the ownership tables on the shared metadata)
from .diff import Diff, diff
from .schema import clearance_home, database_url, make_engine
from .store import ImportResult, Snapshot, Store
from .verify import verify

#: Called before each bundled capture is imported: (index, total, source, captured).
InitProgress = Callable[[int, int, str, str], None]


def open_store(url: str | None = None, initialise: bool = True, on_import: InitProgress | None = None) -> Store:
    """Open the store; on first use, import every bundled capture in date order."""
    store = Store(make_engine(url), clearance_home())
    if initialise and store.is_empty():
        initialise_bundled(store, on_import)
    return store


def initialise_bundled(store: Store, on_import: InitProgress | None = None) -> list[ImportResult]:
    """Import the bundled captures oldest first, so history and diff work at once."""
    captures = bundled_captures()
    results = []
    for index, (captured, source, folder) in enumerate(captures):
        if on_import:
            on_import(index, len(captures), source, captured)
        results.append(store.import_files(folder, source, captured=captured))
    return results


__all__ = [
    "Store",
    "Snapshot",
    "ImportResult",
    "Diff",
    "open_store",
    "initialise_bundled",
    "diff",
    "verify",
    "runs",
    "clearance_home",
    "database_url",
]
