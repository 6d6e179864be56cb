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
    import uvicorn

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
    )


__all__ = ["create_app", "app_factory", "serve"]
