"""Tables of case management, on the store's ``metadata`` (so a ``Store``
creates them with the rest once :mod:`clearance.cases` is imported).

``case_users``         people and service accounts, each with one role
``case_api_keys``      API keys: a public key id and an argon2id hash of the secret
``case_sessions``      web-UI login sessions (sha256 of the cookie token)
``case_reviews``       the review state of each alert (alerts come from
                       :mod:`clearance.store.runs`; one row per ``alerts.id``)
``case_decisions``     every decision on an alert, append-only, with reason and actor
``case_suppressions``  record fingerprint x entity id -> the dismissal that
                       suppresses it while the entity's content hash is unchanged
``case_settings``      configuration (four-eyes ...), each change audited
``case_jobs``          file-screening jobs started through the API (progress, output)
``case_inputs``        the input record of each flagged row of API and upload runs
``audit_log``          the hash-chained audit trail; ``audit_head`` its last link
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Float, Index, Integer, String, Table, Text, UniqueConstraint

from ..store.schema import metadata

users = Table(
    "case_users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("role", String(20), nullable=False),
    Column("password_hash", Text),
    Column("created_at", String(40), nullable=False),
    Column("created_by", String(120), nullable=False),
    Column("disabled_at", String(40)),
)

api_keys = Table(
    "case_api_keys",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key_id", String(32), nullable=False, unique=True),
    Column("user_id", Integer, nullable=False, index=True),
    Column("hash", Text, nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("revoked_at", String(40)),
)

sessions = Table(
    "case_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", Integer, nullable=False),
    Column("csrf", String(64), nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("expires_at", String(40), nullable=False),
)

reviews = Table(
    "case_reviews",
    metadata,
    Column("alert_id", Integer, primary_key=True),
    Column("state", String(20), nullable=False),  # open pending confirmed dismissed escalated suppressed
    Column("entity_id", String(200), nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("entity_hash", String(64)),
    Column("snapshot_id", Integer),
    Column("decision_id", Integer),  # the decision that set the state
    Column("suppressed_by", Integer),  # the dismissal (decision id) that suppresses this alert
    Column("note", Text),  # e.g. "reopened: the list entry changed since dismissal #4"
    Column("updated_at", String(40), nullable=False),
)
Index("ix_case_reviews_state", reviews.c.state)

decisions = Table(
    "case_decisions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("alert_id", Integer, nullable=False, index=True),
    Column("decision", String(20), nullable=False),  # confirmed dismissed escalated approved rejected
    Column("state", String(20), nullable=False),  # the review state it led to
    Column("reason", Text, nullable=False),
    Column("actor", String(120), nullable=False),
    Column("role", String(20), nullable=False),
    Column("at", String(40), nullable=False),
    Column("entity_id", String(200), nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("entity_hash", String(64)),
)

suppressions = Table(
    "case_suppressions",
    metadata,
    Column("fingerprint", String(64), primary_key=True),
    Column("entity_id", String(200), primary_key=True),
    Column("entity_hash", String(64)),
    Column("decision_id", Integer, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("ended_at", String(40)),
    Column("ended_reason", Text),
)

settings = Table(
    "case_settings",
    metadata,
    Column("key", String(100), primary_key=True),
    Column("value", Text, nullable=False),  # JSON
    Column("updated_at", String(40), nullable=False),
    Column("updated_by", String(120), nullable=False),
)

jobs = Table(
    "case_jobs",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("owner", String(120), nullable=False),
    Column("filename", Text, nullable=False),
    Column("state", String(20), nullable=False),  # queued running done failed
    Column("total", Integer),
    Column("done", Integer, nullable=False),
    Column("counts", Text),  # JSON {"match":..,"review":..,"clear":..,"error":..}
    Column("run_id", Integer),
    Column("error", Text),
    Column("created_at", String(40), nullable=False),
    Column("updated_at", String(40), nullable=False),
    Column("seconds", Float),
)

inputs = Table(
    "case_inputs",
    metadata,
    Column("run_id", Integer, primary_key=True),
    Column("row_index", Integer, primary_key=True),
    Column("input", Text, nullable=False),  # JSON: the flagged record as given (API runs and upload jobs)
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("at", String(40), nullable=False),
    Column("actor", String(120), nullable=False),
    Column("action", String(60), nullable=False),
    Column("subject", String(200)),
    Column("details", Text, nullable=False),  # canonical JSON
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    UniqueConstraint("prev_hash", name="uq_audit_prev"),
)
Index("ix_audit_subject", audit_log.c.subject)

audit_head = Table(
    "audit_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),  # always 1
    Column("seq", Integer, nullable=False),
    Column("hash", String(64), nullable=False),
)

ALL = [users, api_keys, sessions, reviews, decisions, suppressions, settings, jobs, inputs, audit_log, audit_head]


def ensure_tables(engine) -> None:
    """Create the case tables if this store predates them (idempotent)."""
    metadata.create_all(engine, tables=ALL)
