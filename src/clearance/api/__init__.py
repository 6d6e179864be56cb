"""Clearance's HTTP server: the yente-compatible API, our own API, and the web UI.

>>> from clearance.api import create_app
>>> app = create_app(store)           # a FastAPI app (ASGI)

``clearance serve`` runs it on uvicorn; ``app_factory`` is the entry for
``uvicorn --factory clearance.api:app_factory`` (one store per worker process).
"""

from __future__ import annotations


def create_app(store=None, settings=None, warm: bool = True):
    from .app import create_app as _create

    return _create(store, settings, warm)


def app_factory():
    """A new app over the configured store ($CLEARANCE_HOME / $CLEARANCE_DB)."""
    return create_app()


def serve(host: str = "127.0.0.1", port: int = 8000, workers: int = 1, log_level: str = "info") -> None:
    """Run on uvicorn; past ``$CLEARANCE_MAX_CONNECTIONS`` (default 200) open connections per worker, new ones get 503."""
    import os

    import uvicorn

    try:
        limit = int(os.environ.get("CLEARANCE_MAX_CONNECTIONS") or 200)
    except ValueError:
        limit = 200

    uvicorn.run(
        "clearance.api:app_factory",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        proxy_headers=False,
        server_header=False,
        date_header=True,
        timeout_graceful_shutdown=5,
        limit_concurrency=max(8, limit),
    )


__all__ = ["create_app", "app_factory", "serve"]
