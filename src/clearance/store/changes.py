"""Which entities changed between two snapshots of a source, recorded when a snapshot is activated.

A monitor run asks what changed since the snapshots its portfolio was last
screened against.  Usually that is the snapshot an activation replaced, so
activation records the answer (``snapshot_changes``: one row per (old, new)
pair, written in its transaction) and the run reads one row instead of
comparing two snapshots (OFAC SDN 2019-01 -> 2021-07: 15-20 ms, a tenth of a
second of list import).  Any other pair is compared when asked.  Entities are
told apart by their content hashes (``snapshot_entities``), without reading
any: two joins.
"""

from __future__ import annotations

import json

from sqlalchemy import and_, select

from . import schema as t

#: (added, changed, removed) entity ids, each sorted.
Changes = tuple[list[str], list[str], list[str]]


def compare(conn, old: int, new: int) -> Changes:
    """The entities added, changed and removed from snapshot ``old`` to ``new``."""
    n, o = t.snapshot_entities.alias("n"), t.snapshot_entities.alias("o")
    moved = conn.execute(
        select(n.c.entity_id, o.c.entity_id.is_(None))
        .select_from(n.outerjoin(o, and_(o.c.snapshot_id == old, o.c.entity_id == n.c.entity_id)))
        .where(n.c.snapshot_id == new, (o.c.entity_id.is_(None)) | (o.c.hash != n.c.hash))
    ).all()
    removed = conn.execute(
        select(o.c.entity_id)
        .select_from(o.outerjoin(n, and_(n.c.snapshot_id == new, n.c.entity_id == o.c.entity_id)))
        .where(o.c.snapshot_id == old, n.c.entity_id.is_(None))
    ).scalars()
    added = sorted(i for i, is_new in moved if is_new)
    changed = sorted(i for i, is_new in moved if not is_new)
    return added, changed, sorted(removed)


def record(conn, old: int, new: int) -> None:
    """Record what changed from ``old`` to ``new`` (inside the caller's write transaction), once."""
    table = t.snapshot_changes
    if conn.execute(select(table.c.old_id).where(table.c.old_id == old, table.c.new_id == new)).first() is None:
        added, changed, removed = compare(conn, old, new)
        conn.execute(table.insert().values(old_id=old, new_id=new, entities=json.dumps({"added": added, "changed": changed, "removed": removed})))


def changes(conn, old: int, new: int) -> Changes:
    """What changed from ``old`` to ``new``: as recorded, else compared."""
    table = t.snapshot_changes
    found = conn.execute(select(table.c.entities).where(table.c.old_id == old, table.c.new_id == new)).scalar()
    if found is None:
        return compare(conn, old, new)
    entities = json.loads(found)
    return entities["added"], entities["changed"], entities["removed"]


__all__ = ["Changes", "changes", "compare", "record"]
