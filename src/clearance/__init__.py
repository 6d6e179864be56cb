"""Clearance: restricted-party and covered-equipment screening.

The library is the product; the ``clearance`` CLI and the server are thin faces
over it. Start with :func:`clearance.store.open_store` and
:class:`clearance.Screener`.
"""

from __future__ import annotations

__version__ = "0.1.0"


def __getattr__(name: str):
    # Lazy, so that importing clearance (e.g. for the parsers) stays cheap.
    if name == "Screener":
        from .screen import Screener

        return Screener
    raise AttributeError(f"module 'clearance' has no attribute {name!r}")
