"""Request-size limits, security headers and a per-caller rate limit."""

from __future__ import annotations

import json
import re
import threading
import time

#: Paths that take file uploads (the larger body limit); every other body is JSON or a form.
UPLOAD_PATHS = re.compile(r"^/(screen/file|ui/upload|lists/[^/]+/import)$")


class _TooLarge(Exception):
    pass


async def _send_json(send, status: int, body: dict, headers: list | None = None) -> None:
    data = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode()), *(headers or [])]})
    await send({"type": "http.response.body", "body": data})


class BodyLimit:
    """413 for a request body over the limit, whether announced by Content-Length or streamed."""

    def __init__(self, app, max_body: int, max_upload: int):
        self.app, self.max_body, self.max_upload = app, max_body, max_upload

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope.get("path", "")
        limit = self.max_upload if UPLOAD_PATHS.match(path) else self.max_body
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    too_big = int(value) > limit
                except ValueError:
                    return await _send_json(send, 400, {"detail": "invalid Content-Length"})
                if too_big:
                    return await _send_json(send, 413, {"detail": f"request body over {limit} bytes"})
        seen = 0
        started = over = False

        async def limited_receive():
            nonlocal seen, over
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    over = True
                    raise _TooLarge()
            return message

        async def tracking_send(message):
            nonlocal started
            if over:  # the app answered the cut-off body (e.g. 400 "error parsing the body"): 413 instead
                if not started:
                    started = True
                    await _send_json(send, 413, {"detail": f"request body over {limit} bytes"})
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            pass
        if over and not started:
            await _send_json(send, 413, {"detail": f"request body over {limit} bytes"})


CSP = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
#: Swagger UI at /docs starts itself with an inline script.
CSP_DOCS = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'"


class SecurityHeaders:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        csp = CSP_DOCS if scope.get("path", "").startswith("/docs") else CSP

        async def with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [
                    (b"x-content-type-options", b"nosniff"),
                    (b"x-frame-options", b"DENY"),
                    (b"referrer-policy", b"same-origin"),
                    (b"content-security-policy", csp.encode()),
                    (b"cache-control", b"no-store") if not scope.get("path", "").startswith("/static/") else (b"cache-control", b"public, max-age=3600"),
                ]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


class RateLimiter:
    """Token bucket per caller (API key or session); in this process only."""

    def __init__(self, per_minute: int, burst: int):
        self.rate = max(1, per_minute) / 60.0
        self.burst = max(1, burst)
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """0 when allowed, else the seconds to wait."""
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                if len(self._buckets) > 50000:
                    self._buckets.clear()
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / self.rate

    def refund(self, key: str) -> None:
        """Give back a token :meth:`take` spent (a login that succeeded: only failures count).
        Taking first keeps concurrent attempts from all passing on one token."""
        with self._lock:
            if key in self._buckets:
                tokens, last = self._buckets[key]
                self._buckets[key] = (min(float(self.burst), tokens + 1.0), last)
