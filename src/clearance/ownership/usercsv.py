"""A user's ownership file: ``owner,owned,percent[,source,date]``, one holding a line.

* A header row naming the columns is optional; ``relation`` may be added as a
  column (``ownership`` by default; ``control``, ``directorship``,
  ``linked``... are shown but never counted).
* ``owner`` and ``owned`` are names or entity ids; names are resolved through
  :class:`~clearance.ownership.resolve.Resolver` (ambiguous ones are reported,
  never guessed).
* ``percent`` is a percentage, 0-100 (``30``, ``30%``, ``12.5``); ``0.3``
  means 0.3 percent, not 30. Empty means "owned, share unknown": shown, not counted.
* ``date`` (ISO, optional) is the date from which the holding is known to
  hold; with ``--as-of`` earlier dates only see holdings dated on or before them.

Any bad line is an error naming the file, the line and the field.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from ..errors import SourceError
from ..sources.common import iso_date, read_csv
from .graph import RELATIONS, Edge
from .resolve import Resolution, Resolver

COLUMNS = ("owner", "owned", "percent", "source", "date", "relation")
REQUIRED = ("owner", "owned", "percent")


@dataclass(frozen=True, slots=True)
class Row:
    line: int
    owner: str
    owned: str
    percent: float | None
    relation: str
    source: str | None
    date: str | None


def read_rows(path: str | Path) -> list[Row]:
    path = Path(path)
    rows: list[Row] = []
    columns: list[str] | None = None
    for line, fields in read_csv(path):
        cells = [f.strip() for f in fields]
        if columns is None:
            lowered = [c.lower() for c in cells]
            if lowered[:2] == ["owner", "owned"]:
                unknown = [c for c in lowered if c not in COLUMNS]
                if unknown:
                    raise SourceError(path, f"unknown column {unknown[0]!r}; expected {', '.join(COLUMNS)}", line)
                missing = [c for c in REQUIRED if c not in lowered]
                if missing:
                    raise SourceError(path, f"missing column {missing[0]!r}; expected owner,owned,percent[,source,date]", line)
                columns = lowered
                continue
            columns = list(COLUMNS[: max(3, len(cells))])
            if len(cells) > len(COLUMNS):
                raise SourceError(path, f"{len(cells)} fields; expected owner,owned,percent[,source,date[,relation]]", line)
        if len(cells) > len(columns):
            raise SourceError(path, f"{len(cells)} fields; expected {len(columns)} ({','.join(columns)})", line)
        record = dict(zip(columns, cells + [""] * (len(columns) - len(cells))))
        for key in ("owner", "owned"):
            if not record[key]:
                raise SourceError(path, "empty; expected a name or an entity id", line, key)
        if record["owner"] == record["owned"]:
            raise SourceError(path, "owner and owned are the same party", line, "owned")
        rows.append(
            Row(
                line=line,
                owner=record["owner"],
                owned=record["owned"],
                percent=_percent(path, line, record.get("percent", "")),
                relation=_relation(path, line, record.get("relation", "")),
                source=record.get("source") or None,
                date=_date(path, line, record.get("date", "")),
            )
        )
    if not rows:
        raise SourceError(path, "no ownership rows; expected owner,owned,percent[,source,date]")
    return rows


def _percent(path: Path, line: int, text: str) -> float | None:
    text = text.strip()
    if not text:
        return None
    raw = text[:-1].strip() if text.endswith("%") else text
    try:
        value = float(raw)
    except ValueError:
        raise SourceError(path, f"{text!r} is not a percentage; expected a number from 0 to 100 (e.g. 30 or 12.5%)", line, "percent") from None
    if not 0 <= value <= 100:
        raise SourceError(path, f"{text!r} is outside 0-100; expected a percentage", line, "percent")
    return value


def _relation(path: Path, line: int, text: str) -> str:
    text = text.strip().lower() or "ownership"
    if text not in RELATIONS:
        raise SourceError(path, f"relation {text!r}; expected one of {', '.join(sorted(RELATIONS))}", line, "relation")
    return text


def _date(path: Path, line: int, text: str) -> str | None:
    if not text.strip():
        return None
    value = iso_date(text)
    if value is None:
        raise SourceError(path, f"{text!r} is not a date; expected YYYY-MM-DD", line, "date")
    return value


def file_digest(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def edges_from_rows(
    rows: list[Row], resolver: Resolver, label: str
) -> tuple[list[Edge], list[Resolution], list[dict]]:
    """Resolve every name; return (edges, resolutions, stored-row dicts).

    Resolutions are one per distinct name (with the first line that used it).
    The stored-row dicts carry what the store keeps: names as written, the
    node keys they resolved to, percent, relation, source, date.
    """
    edges: list[Edge] = []
    seen: dict[str, Resolution] = {}
    stored: list[dict] = []
    for row in rows:
        keys = []
        for role, text in (("owner", row.owner), ("owned", row.owned)):
            resolution = resolver.resolve(text, where=f"{label}:{row.line} {role}")
            seen.setdefault(resolution.text, resolution)
            keys.append(resolution.key)
        owner, owned = keys
        if owner == owned:
            raise SourceError(label, f"{row.owner!r} and {row.owned!r} resolve to the same party ({owner})", row.line)
        source = f"{label}:{row.line}" + (f" ({row.source})" if row.source else "")
        note = None if row.percent is not None or row.relation != "ownership" else "no percentage: shown, not counted"
        edges.append(Edge(owner, owned, row.relation, row.percent, start=row.date, source=source, note=note))
        stored.append(
            {
                "line": row.line,
                "owner": row.owner,
                "owner_key": owner,
                "owned": row.owned,
                "owned_key": owned,
                "percent": row.percent,
                "relation": row.relation,
                "source": row.source,
                "date": row.date,
            }
        )
    return edges, list(seen.values()), stored
