"""The snapshot store: immutable versions per source, atomic activation.

An import parses everything first (a bad file never touches the database),
then writes the snapshot, its entities and the new ``active`` pointer in one
transaction. A crash, kill or full disk before COMMIT leaves the database as
it was: the previous snapshot stays active.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable, Iterator

from sqlalchemy import Engine, func, inspect, select, text
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError

from ..errors import InputError, SourceError, StoreError
from ..model import Entity
from ..sources import format_for
from ..sources.common import iso_date
from . import changes, runs
from . import schema as t

#: Called as progress(done, total) while entities are written.
Progress = Callable[[int, int], None]

BATCH = 2000


@dataclass(frozen=True)
class Snapshot:
    id: int
    source: str
    version: int
    format: str
    files_hash: str
    content_hash: str
    files: list[dict]
    published: str | None
    captured: str | None
    imported_at: str
    entity_count: int
    name_count: int

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class ImportResult:
    snapshot: Snapshot
    created: bool  # False when the same files were already imported


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def content_hash(pairs: Iterable[tuple[str, str]]) -> str:
    """Hash of a snapshot's content: its sorted (entity id, entity hash) pairs."""
    digest = hashlib.sha256()
    for entity_id, entity_hash in sorted(pairs):
        digest.update(f"{entity_id}\t{entity_hash}\n".encode("utf-8"))
    return digest.hexdigest()


def _row_to_snapshot(row) -> Snapshot:
    data = dict(row._mapping)
    data["files"] = json.loads(data["files"])
    return Snapshot(**data)


#: The indexes this version defines, as the store's ``meta`` row "indexes" records them once made.
_INDEXES = ",".join(sorted(ix.name for table in t.metadata.sorted_tables for ix in table.indexes if ix.name))


def _add_missing_indexes(engine: Engine) -> None:
    """Create indexes a later version added to tables an older store already has
    (``create_all`` makes indexes only with their table)."""
    inspector = inspect(engine)
    present = set(inspector.get_table_names())
    for table in t.metadata.sorted_tables:
        if table.name not in present or not table.indexes:
            continue
        have = {ix["name"] for ix in inspector.get_indexes(table.name)}
        for index in table.indexes:
            if index.name not in have:
                index.create(engine, checkfirst=True)


#: A list's id: how it is named in hits, files and URLs.
SOURCE_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{1,99}$")


def check_source_id(source: str) -> str:
    if not SOURCE_ID.match(source or ""):
        raise InputError(f"source {source!r}: expected 2 to 100 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit")
    return source


class Store:
    """Versioned list snapshots in SQLite (default) or PostgreSQL."""

    def __init__(self, engine: Engine, home: Path):
        self.engine = engine
        self.home = home
        t.metadata.create_all(engine)
        with engine.begin() as conn:
            found = dict(conn.execute(select(t.meta.c.key, t.meta.c.value).where(t.meta.c.key.in_(("schema_version", "indexes", runs.ROW_STATE_LAYOUT)))).all())
            version = found.get("schema_version")
            if version is None:
                try:
                    conn.execute(t.meta.insert().values(key="schema_version", value=t.SCHEMA_VERSION))
                except IntegrityError:  # pragma: no cover - a concurrent first open
                    pass
            elif version != t.SCHEMA_VERSION:
                raise StoreError(f"store schema version {version}; this Clearance expects {t.SCHEMA_VERSION}")
        if found.get("indexes") != _INDEXES:  # a new store, or one an older version made: once
            _add_missing_indexes(engine)
            with engine.begin() as conn:
                if "indexes" in found:
                    conn.execute(t.meta.update().where(t.meta.c.key == "indexes").values(value=_INDEXES))
                else:
                    try:
                        conn.execute(t.meta.insert().values(key="indexes", value=_INDEXES))
                    except IntegrityError:  # pragma: no cover - a concurrent first open
                        pass
        layout = found.get(runs.ROW_STATE_LAYOUT)
        if layout != "packed":  # a new store, or one an older version made: once
            try:
                with engine.connect().execution_options(immediate=True) as conn, conn.begin():
                    # a concurrent first open waits for this one's write lock (SQLite), then finds it done
                    layout = conn.execute(select(t.meta.c.value).where(t.meta.c.key == runs.ROW_STATE_LAYOUT)).scalar()
                    if layout != "packed":
                        runs.upgrade_row_state(conn, layout)
                        conn.execute(t.meta.delete().where(t.meta.c.key == runs.ROW_STATE_LAYOUT))
                        conn.execute(t.meta.insert().values(key=runs.ROW_STATE_LAYOUT, value="packed"))
            except IntegrityError:  # pragma: no cover - a concurrent first open did it (PostgreSQL)
                pass

    @property
    def cache_dir(self) -> Path:
        path = self.home / "cache"
        path.mkdir(parents=True, exist_ok=True)
        return path

    @property
    def url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    # -- import ----------------------------------------------------------------

    def import_files(
        self,
        path: str | Path,
        source: str,
        captured: str | None = None,
        progress: Progress | None = None,
    ) -> ImportResult:
        """Parse a capture of ``source`` at ``path`` and make it the active snapshot."""
        path = Path(path)
        check_source_id(source)
        if captured is not None and (len(captured) < 7 or iso_date(captured) != captured):
            raise InputError(f"captured {captured!r}: expected a real month or day, YYYY-MM or YYYY-MM-DD")
        fmt = format_for(source, path)
        files = fmt.files(path)
        file_info = [{"name": f.name, "sha256": _sha256_file(f), "bytes": f.stat().st_size} for f in files]
        files_hash = hashlib.sha256(
            "".join(f"{i['name']}\t{i['sha256']}\n" for i in sorted(file_info, key=lambda i: i["name"])).encode()
        ).hexdigest()
        existing = self._snapshot_by_files(source, files_hash)
        if existing is not None:
            return ImportResult(existing, created=False)

        entities = self._parse_unique(fmt.parse(path, source), path)
        rows = [(e.id, e.content_hash(), e.canonical_json()) for e in entities]
        current = self._active_or_none(source)
        if current is not None and current.content_hash == content_hash((r[0], r[1]) for r in rows):
            # Different bytes, same entries (re-encoded, BOM added...): nothing new to serve.
            return ImportResult(current, created=False)
        name_count = sum(1 for e in entities for _ in e.names())
        published = fmt.published(path)
        try:
            return self._write(source, fmt.name, files_hash, file_info, published, captured, rows, name_count, progress)
        except IntegrityError:
            # Another process imported the same files at the same moment.
            existing = self._snapshot_by_files(source, files_hash)
            if existing is not None:
                return ImportResult(existing, created=False)
            raise
        except OperationalError as exc:
            message = str(exc.orig) if exc.orig is not None else str(exc)
            if "full" in message.lower():
                raise StoreError(
                    f"store is full while importing {source} from {path} ({message}); "
                    "nothing was written and the previous snapshot is still active"
                ) from None
            raise StoreError(f"database error while importing {source}: {message}") from None

    @staticmethod
    def _parse_unique(parsed: Iterator[Entity], path: Path) -> list[Entity]:
        entities: dict[str, Entity] = {}
        for entity in parsed:
            if entity.id in entities:
                raise SourceError(path, f"entity id {entity.id!r} occurs twice; expected unique list entries")
            entities[entity.id] = entity
        if not entities:
            raise SourceError(path, "no list entries found; expected at least one")
        return list(entities.values())

    def _write(self, source, fmt_name, files_hash, file_info, published, captured, rows, name_count, progress):
        insert_ignore = _insert_ignore(self.engine)
        with self.engine.connect().execution_options(immediate=True) as conn, conn.begin():
            _lock_writers(conn)
            version = (
                conn.execute(select(func.max(t.snapshots.c.version)).where(t.snapshots.c.source == source)).scalar()
                or 0
            ) + 1
            snapshot_id = conn.execute(
                t.snapshots.insert().values(
                    source=source,
                    version=version,
                    format=fmt_name,
                    files_hash=files_hash,
                    content_hash=content_hash((r[0], r[1]) for r in rows),
                    files=json.dumps(file_info),
                    published=published,
                    captured=captured,
                    imported_at=_now(),
                    entity_count=len(rows),
                    name_count=name_count,
                )
            ).inserted_primary_key[0]
            total = len(rows)
            for start in range(0, total, BATCH):
                batch = rows[start : start + BATCH]
                conn.execute(insert_ignore(t.entity_data), [{"hash": h, "data": d} for _, h, d in batch])
                conn.execute(
                    t.snapshot_entities.insert(),
                    [{"snapshot_id": snapshot_id, "entity_id": i, "hash": h} for i, h, _ in batch],
                )
                if progress:
                    progress(min(start + BATCH, total), total)
            self._activate(conn, source, snapshot_id)
            _audit(
                conn,
                "lists.import",
                f"snapshot:{source}@{version}",
                {
                    "source": source,
                    "version": version,
                    "format": fmt_name,
                    "entities": len(rows),
                    "captured": captured,
                    "published": published,
                    "files_hash": files_hash,
                    "content_hash": content_hash((r[0], r[1]) for r in rows),
                    "files": [i["name"] for i in file_info],
                },
            )
        snapshot = self.snapshot(source, version)
        return ImportResult(snapshot, created=True)

    @staticmethod
    def _activate(conn, source: str, snapshot_id: int) -> None:
        """Serve ``snapshot_id`` for ``source``, recording what changed since the one it replaces."""
        replaced = conn.execute(select(t.active.c.snapshot_id).where(t.active.c.source == source)).scalar()
        if replaced is not None and replaced != snapshot_id:
            changes.record(conn, replaced, snapshot_id)
        updated = conn.execute(
            t.active.update().where(t.active.c.source == source).values(snapshot_id=snapshot_id, activated_at=_now())
        ).rowcount
        if not updated:
            conn.execute(t.active.insert().values(source=source, snapshot_id=snapshot_id, activated_at=_now()))

    def activate(self, source: str, version: int) -> Snapshot:
        """Serve an earlier (or later) version again, e.g. to roll back a bad list."""
        snapshot = self.snapshot(source, version)
        with self.engine.connect().execution_options(immediate=True) as conn, conn.begin():
            _lock_writers(conn)
            self._activate(conn, source, snapshot.id)
            _audit(conn, "lists.activate", f"snapshot:{source}@{version}", {"source": source, "version": version})
        return snapshot

    # -- reading ---------------------------------------------------------------

    def _snapshot_by_files(self, source: str, files_hash: str) -> Snapshot | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(t.snapshots).where(t.snapshots.c.source == source, t.snapshots.c.files_hash == files_hash)
            ).first()
        return _row_to_snapshot(row) if row else None

    def sources(self) -> list[str]:
        with self.engine.connect() as conn:
            return list(conn.execute(select(t.snapshots.c.source).distinct().order_by(t.snapshots.c.source)).scalars())

    def history(self, source: str) -> list[Snapshot]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(t.snapshots).where(t.snapshots.c.source == source).order_by(t.snapshots.c.version)
            ).all()
        if not rows:
            raise StoreError(f"unknown source {source!r}; known sources: {', '.join(self.sources()) or 'none'}")
        return [_row_to_snapshot(r) for r in rows]

    def snapshot(self, source: str, version: int) -> Snapshot:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(t.snapshots).where(t.snapshots.c.source == source, t.snapshots.c.version == version)
            ).first()
        if row is None:
            versions = [s.version for s in self.history(source)]
            raise StoreError(f"{source} has no version {version}; versions: {', '.join(map(str, versions))}")
        return _row_to_snapshot(row)

    def active_snapshots(self, sources: Iterable[str] | None = None) -> list[Snapshot]:
        query = select(t.snapshots).join(t.active, t.active.c.snapshot_id == t.snapshots.c.id)
        wanted = list(sources) if sources else None
        if wanted:
            query = query.where(t.snapshots.c.source.in_(wanted))
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(t.snapshots.c.source)).all()
        found = [_row_to_snapshot(r) for r in rows]
        if wanted:
            missing = sorted(set(wanted) - {s.source for s in found})
            if missing:
                raise StoreError(
                    f"no active list for {', '.join(missing)}; known sources: {', '.join(self.sources()) or 'none'}"
                )
        return found

    def _active_or_none(self, source: str) -> Snapshot | None:
        query = select(t.snapshots).join(t.active, t.active.c.snapshot_id == t.snapshots.c.id)
        with self.engine.connect() as conn:
            row = conn.execute(query.where(t.active.c.source == source)).first()
        return _row_to_snapshot(row) if row else None

    def active_snapshot(self, source: str) -> Snapshot:
        return self.active_snapshots([source])[0]

    def snapshots_as_of(self, as_of: str, sources: Iterable[str] | None = None) -> list[Snapshot]:
        """For each source, the latest version whose list date is on or before ``as_of``.

        A version's list date is its publisher date, else its capture month
        (``2019-01`` counts from 2019-01-01). Sources with no version by then
        are left out: on that date the list did not exist for us.
        """
        wanted = set(sources) if sources else None
        chosen: dict[str, Snapshot] = {}
        for source in self.sources():
            if wanted is not None and source not in wanted:
                continue
            for snap in self.history(source):
                listed = snap.published or snap.captured
                if listed and listed[:10] <= as_of[:10]:
                    if source not in chosen or (chosen[source].published or chosen[source].captured or "") <= listed:
                        chosen[source] = snap
        return [chosen[s] for s in sorted(chosen)]

    def entities(self, snapshot: Snapshot) -> Iterator[Entity]:
        """Every entity of one snapshot, in id order."""
        query = (
            select(t.entity_data.c.data)
            .join(t.snapshot_entities, t.snapshot_entities.c.hash == t.entity_data.c.hash)
            .where(t.snapshot_entities.c.snapshot_id == snapshot.id)
            .order_by(t.snapshot_entities.c.entity_id)
        )
        with self.engine.connect() as conn:
            for (data,) in conn.execute(query):
                yield Entity.from_dict(json.loads(data))

    def active_entities(self, sources: list[str] | None = None) -> Iterator[tuple[str, Entity]]:
        """(source, entity) for every entity the active snapshots serve."""
        for snapshot in self.active_snapshots(sources):
            for entity in self.entities(snapshot):
                yield snapshot.source, entity

    def entity(self, entity_id: str, sources: list[str] | None = None) -> tuple[str, Entity] | None:
        """Look one entity up by id in the active snapshots."""
        query = (
            select(t.snapshots.c.source, t.entity_data.c.data)
            .join(t.active, t.active.c.snapshot_id == t.snapshots.c.id)
            .join(t.snapshot_entities, t.snapshot_entities.c.snapshot_id == t.snapshots.c.id)
            .join(t.entity_data, t.entity_data.c.hash == t.snapshot_entities.c.hash)
            .where(t.snapshot_entities.c.entity_id == entity_id)
        )
        if sources:
            query = query.where(t.snapshots.c.source.in_(sources))
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return (row[0], Entity.from_dict(json.loads(row[1]))) if row else None

    def fingerprint(self, sources: list[str] | None = None) -> str:
        """Changes whenever any active snapshot changes: a key for derived caches."""
        parts = [f"{s.source}:{s.id}:{s.content_hash}" for s in self.active_snapshots(sources)]
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:24]

    def is_empty(self) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(t.snapshots)).scalar() == 0


def _audit(conn, action: str, subject: str, details: dict) -> None:
    """Append to the hash-chained audit log inside the caller's transaction."""
    from ..cases import audit

    audit.append(conn, audit.current_actor(), action, details, subject=subject)


def _lock_writers(conn) -> None:
    """One writer at a time (SQLite's BEGIN IMMEDIATE already does this)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(889001)"))


def _insert_ignore(engine: Engine):
    """INSERT ... ON CONFLICT DO NOTHING for the dialect in use."""
    if engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert

    return lambda table: insert(table).on_conflict_do_nothing()


__all__ = ["Store", "Snapshot", "ImportResult", "content_hash", "SQLAlchemyError"]
