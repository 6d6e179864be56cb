"""What changed between two snapshots of a source: entities added, removed and
changed, with field-level changes. One join on entity id; content hashes tell
unchanged entities apart without loading them."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from sqlalchemy import select

from ..errors import StoreError
from . import schema as t
from .store import Snapshot, Store


@dataclass
class Diff:
    source: str
    old: Snapshot
    new: Snapshot
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "source": self.source,
            "old": self.old.version,
            "new": self.new.version,
            "added": self.added,
            "removed": self.removed,
            "changed": self.changed,
        }


def _members(store: Store, snapshot: Snapshot) -> dict[str, str]:
    query = select(t.snapshot_entities.c.entity_id, t.snapshot_entities.c.hash).where(
        t.snapshot_entities.c.snapshot_id == snapshot.id
    )
    with store.engine.connect() as conn:
        return dict(conn.execute(query).all())


def _load(store: Store, hashes: set[str]) -> dict[str, dict]:
    found: dict[str, dict] = {}
    wanted = sorted(hashes)
    with store.engine.connect() as conn:
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            query = select(t.entity_data.c.hash, t.entity_data.c.data).where(t.entity_data.c.hash.in_(chunk))
            for entity_hash, data in conn.execute(query):
                found[entity_hash] = json.loads(data)
    return found


def field_changes(old: dict, new: dict) -> dict[str, dict[str, list[str]]]:
    """Per property, the values added and removed (schema changes included)."""
    changes: dict[str, dict[str, list[str]]] = {}
    if old.get("schema") != new.get("schema"):
        changes["schema"] = {"added": [new.get("schema")], "removed": [old.get("schema")]}
    old_props, new_props = old.get("properties", {}), new.get("properties", {})
    for prop in sorted(set(old_props) | set(new_props)):
        before, after = old_props.get(prop, []), new_props.get(prop, [])
        added = [v for v in after if v not in before]
        removed = [v for v in before if v not in after]
        if added or removed:
            changes[prop] = {"added": added, "removed": removed}
    return changes


def diff(store: Store, source: str, old: int | None = None, new: int | None = None) -> Diff:
    """Diff two versions of a source; by default the two latest."""
    history = store.history(source)
    if old is None and new is None:
        if len(history) < 2:
            raise StoreError(f"{source} has only one version; nothing to diff against")
        old_snap, new_snap = history[-2], history[-1]
    elif old is None or new is None:
        raise StoreError("give both OLD and NEW versions, or neither")
    else:
        old_snap, new_snap = store.snapshot(source, old), store.snapshot(source, new)
    before, after = _members(store, old_snap), _members(store, new_snap)
    result = Diff(source, old_snap, new_snap)
    result.added = sorted(set(after) - set(before))
    result.removed = sorted(set(before) - set(after))
    changed_ids = sorted(i for i in set(before) & set(after) if before[i] != after[i])
    data = _load(store, {before[i] for i in changed_ids} | {after[i] for i in changed_ids})
    result.changed = [{"id": i, "fields": field_changes(data[before[i]], data[after[i]])} for i in changed_ids]
    return result
