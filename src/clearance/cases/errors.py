"""Errors of case management, mapped by the API to 404, 403 and 409."""

from __future__ import annotations

from ..errors import ClearanceError


class NotFound(ClearanceError):
    """No such alert, user, key, job or setting."""


class Forbidden(ClearanceError):
    """The caller's role does not allow this."""


class Conflict(ClearanceError):
    """The request does not fit the current state (already exists, not pending ...)."""
