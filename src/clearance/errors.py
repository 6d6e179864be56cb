"""Errors a user can act on.

Every error that reaches the CLI is one of these and prints as one line naming
the file, the line or field, and what was expected.
"""

from __future__ import annotations

from pathlib import Path


class ClearanceError(Exception):
    """Base class: the message is shown to the user as is."""


class SourceError(ClearanceError):
    """A list file that cannot be read as its format says it should be."""

    def __init__(self, path: str | Path, message: str, line: int | None = None, field: str | None = None):
        self.path = str(path)
        self.line = line
        self.field = field
        self.reason = message
        where = self.path
        if line is not None:
            where += f", line {line}"
        if field:
            where += f", field {field!r}"
        super().__init__(f"{where}: {message}")


class StoreError(ClearanceError):
    """The store cannot do what was asked (unknown source, bad version, damage)."""


class InputError(ClearanceError):
    """A user-supplied input (query, mapping, option) that is not usable."""
