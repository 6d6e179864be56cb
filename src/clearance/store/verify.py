"""Integrity check of the whole store: the database's own check, then every
invariant the importer promises (counts, content hashes, active pointers)."""

from __future__ import annotations

import hashlib
from collections import defaultdict

from sqlalchemy import func, select, text

from . import schema as t
from .store import Store, content_hash


def verify(store: Store) -> list[str]:
    """Problems found, as one line each; an empty list means consistent."""
    problems: list[str] = []
    with store.engine.connect() as conn:
        if store.engine.dialect.name == "sqlite":
            result = conn.execute(text("PRAGMA integrity_check")).scalars().all()
            if result != ["ok"]:
                problems.extend(f"sqlite integrity: {line}" for line in result[:10])
            for row in conn.execute(text("PRAGMA foreign_key_check")).all()[:10]:
                problems.append(f"foreign key broken: {tuple(row)}")

        bad_data = 0
        for entity_hash, data in conn.execute(select(t.entity_data.c.hash, t.entity_data.c.data)):
            if hashlib.sha256(data.encode("utf-8")).hexdigest() != entity_hash:
                bad_data += 1
                if bad_data <= 5:
                    problems.append(f"entity data {entity_hash[:12]} does not match its hash")
        if bad_data > 5:
            problems.append(f"... {bad_data} entity data rows in all do not match their hashes")

        missing = conn.execute(
            select(func.count())
            .select_from(t.snapshot_entities.outerjoin(t.entity_data, t.entity_data.c.hash == t.snapshot_entities.c.hash))
            .where(t.entity_data.c.hash.is_(None))
        ).scalar()
        if missing:
            problems.append(f"{missing} snapshot members point at missing entity data")

        members: dict[int, list[tuple[str, str]]] = defaultdict(list)
        for snapshot_id, entity_id, entity_hash in conn.execute(
            select(t.snapshot_entities.c.snapshot_id, t.snapshot_entities.c.entity_id, t.snapshot_entities.c.hash)
        ):
            members[snapshot_id].append((entity_id, entity_hash))
        snapshots = conn.execute(select(t.snapshots)).all()
        known = {row.id: row for row in snapshots}
        for row in snapshots:
            label = f"{row.source} version {row.version}"
            pairs = members.get(row.id, [])
            if len(pairs) != row.entity_count:
                problems.append(f"{label}: {len(pairs)} entities stored, {row.entity_count} recorded")
            if content_hash(pairs) != row.content_hash:
                problems.append(f"{label}: content hash does not match its entities")
        orphans = set(members) - set(known)
        if orphans:
            problems.append(f"entities stored for unknown snapshot ids {sorted(orphans)[:5]}")

        for source, snapshot_id in conn.execute(select(t.active.c.source, t.active.c.snapshot_id)):
            row = known.get(snapshot_id)
            if row is None:
                problems.append(f"{source}: active snapshot {snapshot_id} does not exist")
            elif row.source != source:
                problems.append(f"{source}: active snapshot {snapshot_id} belongs to {row.source}")
        sources_with_snapshots = {row.source for row in snapshots}
        active_sources = set(conn.execute(select(t.active.c.source)).scalars())
        for source in sorted(sources_with_snapshots - active_sources):
            problems.append(f"{source}: has snapshots but none is active")
    return problems
