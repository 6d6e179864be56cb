"""Map a caller's fields to a file's columns: header synonyms, then ``field=Column`` overrides."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from ..errors import InputError


def normalise_header(text: str) -> str:
    """``"Company Name"`` -> ``companyname``; ``"D.O.B."`` -> ``dob``."""
    return re.sub(r"[^0-9a-z]+", "", str(text).casefold())


@dataclass
class FieldMapping:
    """Which column feeds each field, and how it was chosen."""

    fields: dict[str, str]
    how: dict[str, str]
    unused: list[str]

    def extract(self, values: Mapping[str, Any]) -> dict[str, Any]:
        return {name: values.get(column) for name, column in self.fields.items()}

    def describe(self) -> str:
        if not self.fields:
            return "no columns mapped"
        parts = [f"{name} <- {column!r}" + (" (--map)" if self.how[name] == "map" else "") for name, column in self.fields.items()]
        return ", ".join(parts) + "".join(f"; {note}" for note in self.notes())

    def notes(self) -> list[str]:
        """Columns left out that repeat a mapped column's header (``name`` twice becomes ``name``
        and ``name_2``): the second is not screened unless mapped, which a reader must be told."""
        out = []
        for column in self.unused:
            base, sep, number = column.rpartition("_")
            for name, mapped in self.fields.items():
                if sep and number.isdigit() and base == mapped:
                    out.append(f"a second {mapped!r} column ({column!r}) is not used; choose one with --map {name}=COLUMN")
        return out

    def to_dict(self) -> dict[str, str]:
        return dict(self.fields)


def map_fields(
    columns: Sequence[str],
    synonyms: Mapping[str, Sequence[str]],
    overrides: Sequence[str] = (),
    *,
    where: str = "the input",
) -> FieldMapping:
    """Map each field of ``synonyms`` (field -> header synonyms) to a column.

    Headers and synonyms compare case- and punctuation-blind (``Company Name``
    = ``company_name``).  ``overrides`` are ``field=Column`` (``field=`` leaves
    a field unmapped); an unknown field or column is an :class:`InputError`.
    """
    by_norm: dict[str, str] = {}
    for column in columns:
        by_norm.setdefault(normalise_header(column), column)
    chosen: dict[str, str] = {}
    how: dict[str, str] = {}
    forced: dict[str, str | None] = {}
    for item in overrides:
        name, sep, column = item.partition("=")
        name, column = name.strip(), column.strip()
        if not sep or not name:
            raise InputError(f"--map {item!r}: expected FIELD=COLUMN, e.g. --map name=\"Company Name\"")
        if name not in synonyms:
            raise InputError(f"--map {item!r}: unknown field {name!r}; fields are: {', '.join(synonyms)}")
        if not column:
            forced[name] = None
            continue
        found = column if column in columns else by_norm.get(normalise_header(column))
        if found is None:
            raise InputError(f"--map {item!r}: {where} has no column {column!r}; its columns are: {', '.join(map(repr, columns))}")
        forced[name] = found
    taken = {c for c in forced.values() if c}
    for name in synonyms:
        if name in forced:
            if forced[name]:
                chosen[name], how[name] = forced[name], "map"  # type: ignore[assignment]
            continue
        for synonym in (name, *synonyms[name]):
            column = by_norm.get(normalise_header(synonym))
            if column is not None and column not in taken:
                chosen[name], how[name] = column, "header"
                taken.add(column)
                break
    ordered = {name: chosen[name] for name in synonyms if name in chosen}
    return FieldMapping(ordered, how, [c for c in columns if c not in taken])


__all__ = ["FieldMapping", "map_fields", "normalise_header"]
