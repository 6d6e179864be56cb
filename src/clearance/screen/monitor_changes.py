"""What changed in the lists since a portfolio's last run, and where those entities sit in the match index.

Per source, the entities added, changed and removed between two snapshots
come from the store (:mod:`clearance.store.changes`: recorded when the newer
was activated, else compared by content hash, without reading any entity).  The names of the added and changed entities are
then taken from the full match index, normalised and weighted exactly as the
matcher sees them (:class:`ChangedNames`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import select

from ..match.index import NAME_PROPS, MatchIndex
from ..store import schema as t
from ..store.changes import changes as recorded_changes
from .monitor_partners import ranges


@dataclass
class ChangeSet:
    per_source: dict[str, dict] = field(default_factory=dict)
    changed: set[tuple[str, str]] = field(default_factory=set)  # (source, entity id) added or changed
    removed: set[tuple[str, str]] = field(default_factory=set)

    @property
    def changed_ids(self) -> set[str]:
        return {i for _, i in self.changed}

    @property
    def removed_ids(self) -> set[str]:
        return {i for _, i in self.removed}

    @property
    def empty(self) -> bool:
        return not self.changed and not self.removed


def _all(conn, snapshot_id: int) -> list[str]:
    se = t.snapshot_entities
    return list(conn.execute(select(se.c.entity_id).where(se.c.snapshot_id == snapshot_id)).scalars())


def change_set(store, state: dict, current: list) -> ChangeSet:
    """Entities added, changed and removed between the snapshots last screened (``state``) and ``current``."""
    result = ChangeSet()
    now = {s.source: s for s in current}
    with store.engine.connect() as conn:
        for source in sorted(set(state) | set(now)):
            before, after = state.get(source), now.get(source)
            if before and after and before["snapshot_id"] == after.id:
                continue
            if before and after:
                added, changed, removed = recorded_changes(conn, before["snapshot_id"], after.id)
            else:
                added, changed = (sorted(_all(conn, after.id)) if after else []), []
                removed = sorted(_all(conn, before["snapshot_id"])) if before else []
            result.per_source[source] = {
                "from": before["version"] if before else None,
                "to": after.version if after else None,
                "added": len(added), "changed": len(changed), "removed": len(removed),
            }
            result.changed.update((source, i) for i in added + changed)
            result.removed.update((source, i) for i in removed)
    return result


_FACTOR = {code: factor for code, factor in NAME_PROPS.values()}


class ChangedNames:
    """The names of the added and changed entities in the full index: per name its
    tokens, its entity's schema and the factor its name property applies."""

    def __init__(self, index: MatchIndex, changes: ChangeSet):
        wanted = changes.changed
        entities = [k for k, info in enumerate(index.entities) if (info.source, info.id) in wanted]
        self.entity_numbers = set(entities)
        owners = np.frombuffer(index.name_entity, dtype=np.int32) if index.name_entity.itemsize == 4 else np.asarray(index.name_entity)
        if len(owners) and np.any(owners[1:] < owners[:-1]):  # not built entity by entity: look at every name
            names = np.nonzero(np.isin(owners, entities))[0]
        else:
            lo = np.searchsorted(owners, entities, "left")
            hi = np.searchsorted(owners, entities, "right")
            names = ranges(lo, hi)
        self.ids: list[int] = names.tolist()
        self.tokens: list[tuple[str, ...]] = [index.name_strs[n] for n in self.ids]
        self.entity: list[int] = [index.name_entity[n] for n in self.ids]
        self.schema: list[str] = [index.entities[e].schema for e in self.entity]
        self.source: list[str] = [index.entities[e].source for e in self.entity]
        self.factor: list[float] = [_FACTOR.get(index.name_prop[n], 1.0) for n in self.ids]

    def __len__(self) -> int:
        return len(self.ids)


__all__ = ["ChangeSet", "ChangedNames", "change_set"]
