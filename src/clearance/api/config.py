"""Server settings, from the environment (documented in docs/api.md)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    try:
        return int(value) if value else default
    except ValueError:
        return default


@dataclass(frozen=True)
class Settings:
    #: Largest JSON (or form) request body, bytes.
    max_body: int = 2 * 1024 * 1024
    #: Largest uploaded file (``POST /screen/file``, list imports, UI upload), bytes.
    max_upload: int = 50 * 1024 * 1024
    #: Requests per minute per API key or session (token bucket, per server worker).
    rate_per_minute: int = 1200
    #: Bucket size: requests allowed in a burst.
    rate_burst: int = 120
    #: Failed logins / bad keys allowed per minute from one address, and in a burst.
    fail_per_minute: int = 30
    fail_burst: int = 20
    #: Origins allowed by CORS; none by default (no CORS headers at all).
    cors_origins: tuple[str, ...] = field(default_factory=tuple)
    #: Set the session cookie's Secure flag (behind TLS).
    secure_cookies: bool = False
    #: Run upload jobs in a thread of the server instead of a child process (tests).
    jobs_inline: bool = False

    @classmethod
    def from_env(cls) -> "Settings":
        origins = tuple(o.strip() for o in os.environ.get("CLEARANCE_CORS_ORIGINS", "").split(",") if o.strip())
        return cls(
            max_body=_int("CLEARANCE_MAX_BODY", cls.max_body),
            max_upload=_int("CLEARANCE_MAX_UPLOAD", cls.max_upload),
            rate_per_minute=_int("CLEARANCE_RATE_PER_MINUTE", cls.rate_per_minute),
            rate_burst=_int("CLEARANCE_RATE_BURST", cls.rate_burst),
            fail_per_minute=_int("CLEARANCE_FAIL_PER_MINUTE", cls.fail_per_minute),
            fail_burst=_int("CLEARANCE_FAIL_BURST", cls.fail_burst),
            cors_origins=origins,
            secure_cookies=os.environ.get("CLEARANCE_SECURE_COOKIES", "").lower() in ("1", "true", "yes"),
            jobs_inline=os.environ.get("CLEARANCE_JOBS_INLINE", "").lower() in ("1", "true", "yes"),
        )
