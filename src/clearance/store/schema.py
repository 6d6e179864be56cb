"""Tables of the snapshot store and how to reach the database.

Layout, chosen so that an import is one transaction and a diff is one join:

``snapshots``          one row per imported capture of a source (immutable)
``entity_data``        entity JSON, content-addressed by its sha256 (shared by
                       every snapshot that holds the same entity unchanged)
``snapshot_entities``  which entity ids (and content hashes) a snapshot holds
``active``             the snapshot each source currently serves
``meta``               schema version
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs
from sqlalchemy import (
    Column,
    Engine,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    event,
)

SCHEMA_VERSION = "1"

metadata = MetaData()

snapshots = Table(
    "snapshots",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(100), nullable=False, index=True),
    Column("version", Integer, nullable=False),
    Column("format", String(40), nullable=False),
    Column("files_hash", String(64), nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("files", Text, nullable=False),
    Column("published", String(40)),
    Column("captured", String(40)),
    Column("imported_at", String(40), nullable=False),
    Column("entity_count", Integer, nullable=False),
    Column("name_count", Integer, nullable=False),
    UniqueConstraint("source", "version", name="uq_snapshot_version"),
    UniqueConstraint("source", "files_hash", name="uq_snapshot_files"),
)

entity_data = Table(
    "entity_data",
    metadata,
    Column("hash", String(64), primary_key=True),
    Column("data", Text, nullable=False),
)

snapshot_entities = Table(
    "snapshot_entities",
    metadata,
    Column("snapshot_id", Integer, ForeignKey("snapshots.id"), primary_key=True),
    Column("entity_id", String(200), primary_key=True),
    Column("hash", String(64), ForeignKey("entity_data.hash"), nullable=False),
)

snapshot_changes = Table(  # what changed between two snapshots of a source (store.changes)
    "snapshot_changes",
    metadata,
    Column("old_id", Integer, ForeignKey("snapshots.id"), primary_key=True),
    Column("new_id", Integer, ForeignKey("snapshots.id"), primary_key=True),
    Column("entities", Text, nullable=False),  # JSON {"added": [ids], "changed": [ids], "removed": [ids]}, each sorted
)

active = Table(
    "active",
    metadata,
    Column("source", String(100), primary_key=True),
    Column("snapshot_id", Integer, ForeignKey("snapshots.id"), nullable=False),
    Column("activated_at", String(40), nullable=False),
)

meta = Table(
    "meta",
    metadata,
    Column("key", String(100), primary_key=True),
    Column("value", Text, nullable=False),
)


def clearance_home() -> Path:
    """Where the embedded store and caches live: $CLEARANCE_HOME or a per-user data dir."""
    home = os.environ.get("CLEARANCE_HOME")
    path = Path(home) if home else Path(platformdirs.user_data_dir("clearance", appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def database_url() -> str:
    """$CLEARANCE_DB (e.g. postgresql://...) or SQLite in the Clearance home."""
    url = os.environ.get("CLEARANCE_DB")
    if url:
        if url.startswith("postgresql://") or url.startswith("postgres://"):
            # SQLAlchemy's default PostgreSQL driver is psycopg2; we ship psycopg 3.
            url = "postgresql+psycopg://" + url.split("://", 1)[1]
        return url
    return f"sqlite:///{clearance_home() / 'clearance.db'}"


def _sqlite_pragmas(dbapi_connection, connection_record) -> None:  # pragma: no cover - trivial
    cursor = dbapi_connection.cursor()
    # WAL: readers keep a consistent view while an import writes; a killed
    # writer's uncommitted frames are discarded on the next open.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_engine(url: str | None = None) -> Engine:
    url = url or database_url()
    if url.startswith("sqlite"):
        engine = create_engine(url)
        event.listen(engine, "connect", _sqlite_pragmas)
        # Writers ask for ``execution_options(immediate=True)``: their BEGIN takes
        # the write lock at once, so two importers queue up instead of failing
        # half-way with "database is locked". Readers use a plain BEGIN.
        @event.listens_for(engine, "begin")
        def _begin(conn):  # pragma: no cover - trivial
            immediate = conn.get_execution_options().get("immediate")
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        @event.listens_for(engine, "connect")
        def _no_pysqlite_tx(dbapi_connection, connection_record):  # pragma: no cover
            dbapi_connection.isolation_level = None

        return engine
    return create_engine(url, pool_pre_ping=True)
