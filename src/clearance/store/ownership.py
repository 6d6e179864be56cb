"""Stored ownership sets: user-supplied holdings with their provenance.

``ownership_sets``   one row per imported file (name, file, sha256, when,
                     how its names resolved)
``ownership_edges``  one row per holding: the names as written, the node keys
                     they resolved to at import, percent, relation, the row's
                     own source and date, and its line in the file

Relations stated by the lists themselves are not copied here: they are derived
from the stored snapshots (each edge names its entry and snapshot), so they
can never disagree with the snapshot they came from.

Importing a set under a name that exists replaces it in the same transaction:
readers see the old set or the new one, never half of either.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import Column, Engine, Float, ForeignKey, Integer, String, Table, Text, UniqueConstraint, delete, select

from ..errors import StoreError
from .schema import metadata

ownership_sets = Table(
    "ownership_sets",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("file", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("imported_at", String(40), nullable=False),
    Column("edge_count", Integer, nullable=False),
    Column("report", Text, nullable=False),
    UniqueConstraint("name", name="uq_ownership_set_name"),
)

ownership_edges = Table(
    "ownership_edges",
    metadata,
    Column("set_id", Integer, ForeignKey("ownership_sets.id"), primary_key=True),
    Column("line", Integer, primary_key=True),
    Column("owner", Text, nullable=False),
    Column("owner_key", String(300), nullable=False),
    Column("owned", Text, nullable=False),
    Column("owned_key", String(300), nullable=False),
    Column("percent", Float),
    Column("relation", String(40), nullable=False),
    Column("source", Text),
    Column("date", String(40)),
)


@dataclass(frozen=True)
class OwnershipSet:
    id: int
    name: str
    kind: str
    file: str
    sha256: str
    imported_at: str
    edge_count: int
    report: list[dict]

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "kind": self.kind,
            "file": self.file,
            "sha256": self.sha256,
            "imported_at": self.imported_at,
            "edges": self.edge_count,
            "resolutions": self.report,
        }


def _row(row) -> OwnershipSet:
    data = dict(row._mapping)
    data["report"] = json.loads(data["report"] or "[]")
    return OwnershipSet(**data)


def save_set(engine: Engine, name: str, file: str, sha256: str, rows: list[dict], report: list[dict], kind: str = "user") -> OwnershipSet:
    """Store (or replace) the set ``name`` in one transaction."""
    if not name.strip():
        raise StoreError("an ownership set needs a name")
    metadata.create_all(engine, tables=[ownership_sets, ownership_edges])
    with engine.connect().execution_options(immediate=True) as conn, conn.begin():
        old = conn.execute(select(ownership_sets.c.id).where(ownership_sets.c.name == name)).scalar()
        if old is not None:
            conn.execute(delete(ownership_edges).where(ownership_edges.c.set_id == old))
            conn.execute(delete(ownership_sets).where(ownership_sets.c.id == old))
        set_id = conn.execute(
            ownership_sets.insert().values(
                name=name,
                kind=kind,
                file=file,
                sha256=sha256,
                imported_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
                edge_count=len(rows),
                report=json.dumps(report, ensure_ascii=False),
            )
        ).inserted_primary_key[0]
        for start in range(0, len(rows), 2000):
            conn.execute(ownership_edges.insert(), [{**row, "set_id": set_id} for row in rows[start : start + 2000]])
    found = get_set(engine, name)
    assert found is not None
    return found


def list_sets(engine: Engine) -> list[OwnershipSet]:
    metadata.create_all(engine, tables=[ownership_sets, ownership_edges])
    with engine.connect() as conn:
        return [_row(r) for r in conn.execute(select(ownership_sets).order_by(ownership_sets.c.name))]


def get_set(engine: Engine, name: str) -> OwnershipSet | None:
    with engine.connect() as conn:
        row = conn.execute(select(ownership_sets).where(ownership_sets.c.name == name)).first()
    return _row(row) if row else None


def set_edges(engine: Engine, set_id: int) -> list[dict]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(ownership_edges).where(ownership_edges.c.set_id == set_id).order_by(ownership_edges.c.line)
        ).all()
    return [dict(r._mapping) for r in rows]


def remove_set(engine: Engine, name: str) -> bool:
    with engine.connect().execution_options(immediate=True) as conn, conn.begin():
        old = conn.execute(select(ownership_sets.c.id).where(ownership_sets.c.name == name)).scalar()
        if old is None:
            return False
        conn.execute(delete(ownership_edges).where(ownership_edges.c.set_id == old))
        conn.execute(delete(ownership_sets).where(ownership_sets.c.id == old))
    return True


__all__ = ["ownership_sets", "ownership_edges", "OwnershipSet", "save_set", "list_sets", "get_set", "set_edges", "remove_set"]
