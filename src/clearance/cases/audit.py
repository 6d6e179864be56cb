"""The audit trail: an append-only, hash-chained log.

Every entry holds the sha256 of the entry before it, so editing, deleting or
reordering any entry breaks the chain where it happened, and ``audit_head``
(updated in the same transaction as each append) catches a truncated tail.

Other code appends *inside its own transaction*, so the entry commits or
rolls back with the change it records::

    from clearance.cases import audit
    with store.engine.connect().execution_options(immediate=True) as conn, conn.begin():
        ...                                   # the change itself
        audit.append(conn, audit.current_actor(), "lists.import", {"source": s, "version": v})

Appenders are serialised: PostgreSQL by a transaction-scoped advisory lock,
SQLite by taking the database write lock before the head is read; the
``seq`` primary key and the unique ``prev_hash`` make a forked chain
impossible to commit even if a caller gets that wrong.
"""

from __future__ import annotations

import csv
import getpass
import hashlib
import json
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any, Iterable, Iterator

from sqlalchemy import select, text

from ..tabular.write import neutralise
from .tables import audit_head, audit_log

GENESIS = "0" * 64
#: PostgreSQL advisory lock key of audit appenders (the store's writers use 889001).
LOCK_KEY = 889002

_actor: ContextVar[str | None] = ContextVar("clearance_actor", default=None)


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def current_actor() -> str:
    """Who is acting: the API user set by :func:`acting_as`, else ``cli:<os user>``."""
    actor = _actor.get()
    if actor:
        return actor
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # pragma: no cover - no user database in a container
        return "cli"


@contextmanager
def acting_as(actor: str) -> Iterator[None]:
    token = _actor.set(actor)
    try:
        yield
    finally:
        _actor.reset(token)


def canonical(details: Any) -> str:
    return json.dumps(details if details is not None else {}, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def entry_hash(seq: int, at: str, actor: str, action: str, subject: str | None, details: str, prev_hash: str) -> str:
    payload = json.dumps([seq, at, actor, action, subject, details, prev_hash], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _lock(conn) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(text(f"SELECT pg_advisory_xact_lock({LOCK_KEY})"))
    else:
        # Take SQLite's write lock before reading the head (a no-op write), so
        # two appenders queue instead of both reading the same head.
        conn.execute(audit_head.update().where(audit_head.c.id == 1).values(seq=audit_head.c.seq))


def append(conn, actor: str, action: str, details: dict | None = None, subject: str | None = None) -> dict:
    """Append one entry inside the caller's transaction; returns the entry."""
    _lock(conn)
    head = conn.execute(select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1)).first()
    if head is None:
        last = conn.execute(select(audit_log.c.seq, audit_log.c.hash).order_by(audit_log.c.seq.desc()).limit(1)).first()
        prev_seq, prev_hash = (last.seq, last.hash) if last else (0, GENESIS)
    else:
        prev_seq, prev_hash = head.seq, head.hash
    entry = {
        "seq": prev_seq + 1,
        "at": now(),
        "actor": str(actor)[:120],
        "action": str(action)[:60],
        "subject": None if subject is None else str(subject)[:200],
        "details": canonical(details),
        "prev_hash": prev_hash,
    }
    entry["hash"] = entry_hash(**entry)
    conn.execute(audit_log.insert().values(**entry))
    if head is None:
        conn.execute(audit_head.insert().values(id=1, seq=entry["seq"], hash=entry["hash"]))
    else:
        conn.execute(audit_head.update().where(audit_head.c.id == 1).values(seq=entry["seq"], hash=entry["hash"]))
    return entry


def record(store, action: str, details: dict | None = None, subject: str | None = None, actor: str | None = None) -> dict:
    """Append one entry in a transaction of its own (for changes with nothing else to commit)."""
    with store.engine.connect().execution_options(immediate=True) as conn, conn.begin():
        return append(conn, actor or current_actor(), action, details, subject)


def has_subject(store, action: str, subject: str) -> bool:
    with store.engine.connect() as conn:
        return conn.execute(
            select(audit_log.c.seq).where(audit_log.c.action == action, audit_log.c.subject == subject).limit(1)
        ).first() is not None


def entries(store, limit: int | None = None, offset: int = 0, action: str | None = None, subject: str | None = None, newest_first: bool = False) -> list[dict]:
    query = select(audit_log)
    if action:
        query = query.where(audit_log.c.action == action)
    if subject:
        query = query.where(audit_log.c.subject == subject)
    query = query.order_by(audit_log.c.seq.desc() if newest_first else audit_log.c.seq)
    if limit is not None:
        query = query.limit(limit).offset(offset)
    with store.engine.connect() as conn:
        return [_public(dict(r._mapping)) for r in conn.execute(query)]


def _public(row: dict) -> dict:
    out = dict(row)
    try:
        out["details"] = json.loads(row["details"])
    except (TypeError, ValueError):
        pass
    return out


# -- verification -----------------------------------------------------------------


@dataclass
class Verification:
    entries: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict:
        return {"ok": self.ok, "entries": self.entries, "head_seq": self.head_seq, "head_hash": self.head_hash, "problems": self.problems}


def check_chain(rows: Iterable[dict], head: tuple[int, str] | None = None, anchor: tuple[int, str] | None = None, where: str = "entry", require_head: bool = True) -> Verification:
    """Check ordered entries (``details`` as the stored canonical string)."""
    result = Verification()
    expected, prev = 1, GENESIS
    anchor_seen = anchor is None
    for row in rows:
        seq = int(row["seq"])
        result.entries += 1
        if seq != expected:
            if seq > expected:
                gap = f"{expected}" if seq == expected + 1 else f"{expected} to {seq - 1}"
                result.problems.append(f"{where} {gap} missing: deleted (the chain jumps from {expected - 1} to {seq})")
            else:
                result.problems.append(f"{where} {seq} out of order (after {expected - 1})")
        if row["prev_hash"] != prev:
            result.problems.append(f"{where} {seq}: link to the previous entry is broken (an entry before it was edited, deleted or reordered)")
        recomputed = entry_hash(seq, row["at"], row["actor"], row["action"], row.get("subject"), row["details"], row["prev_hash"])
        if recomputed != row["hash"]:
            result.problems.append(f"{where} {seq}: content does not match its hash (edited after it was written)")
        if anchor is not None and seq == anchor[0]:
            anchor_seen = True
            if row["hash"] != anchor[1]:
                result.problems.append(f"{where} {seq}: hash differs from the anchor {anchor[1][:16]}... (history rewritten)")
        prev, expected = row["hash"], max(expected, seq) + 1
        result.head_seq, result.head_hash = seq, row["hash"]
    if not anchor_seen:
        result.problems.append(f"anchor entry {anchor[0]} is not in the log (entries deleted)")  # type: ignore[index]
    if head is not None and (head[0], head[1]) != (result.head_seq, result.head_hash):
        if head[0] > result.head_seq:
            result.problems.append(f"the log ends at entry {result.head_seq} but its head says {head[0]}: entries at the end were deleted")
        else:
            result.problems.append(f"the log's head ({head[0]}) does not match its last entry ({result.head_seq})")
    elif head is None and result.entries and require_head:
        result.problems.append("the log's head record is missing")
    if len(result.problems) > 50:
        more = len(result.problems) - 50
        result.problems = result.problems[:50] + [f"... and {more} more problems"]
    return result


def _stored_rows(conn) -> Iterator[dict]:
    for row in conn.execute(select(audit_log).order_by(audit_log.c.seq)).yield_per(2000):
        yield dict(row._mapping)


def verify(store, anchor: tuple[int, str] | None = None) -> Verification:
    """Check every link of the stored chain, the head, and an optional (seq, hash) anchor."""
    with store.engine.connect() as conn:
        head_row = conn.execute(select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1)).first()
        head = (head_row.seq, head_row.hash) if head_row else None
        return check_chain(_stored_rows(conn), head, anchor)


def parse_anchor(value: str | None) -> tuple[int, str] | None:
    """``SEQ:HASH`` (as printed by ``audit verify`` and ``audit export``)."""
    if not value:
        return None
    seq, sep, digest = value.partition(":")
    if not sep or not seq.strip().isdigit() or len(digest.strip()) != 64:
        from ..errors import InputError

        raise InputError(f"--anchor {value!r}: expected SEQ:HASH, e.g. 12:3fa9... (64 hex digits)")
    return int(seq), digest.strip().lower()


# -- export ---------------------------------------------------------------------------


EXPORT_COLUMNS = ["seq", "at", "actor", "action", "subject", "details", "prev_hash", "hash"]


def export(store, out: IO[str], fmt: str = "jsonl") -> Verification:
    """Write every entry (oldest first) for an examiner, and the verification result.

    JSON lines: one object per entry (``details`` as the exact canonical JSON
    string that was hashed), then one ``{"audit_export": {...}}`` trailer.
    CSV: the same columns, no trailer, and any cell a spreadsheet would read as
    a formula prefixed with ``'`` (verify the JSON lines export, which is exact).
    """
    if fmt not in ("jsonl", "csv"):
        from ..errors import InputError

        raise InputError(f"--format {fmt!r}: expected jsonl or csv")
    with store.engine.connect() as conn:
        head_row = conn.execute(select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1)).first()
        rows = list(_stored_rows(conn))
    result = check_chain(rows, (head_row.seq, head_row.hash) if head_row else None)
    if fmt == "csv":
        writer = csv.DictWriter(out, EXPORT_COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: neutralise(row.get(k)) for k in EXPORT_COLUMNS})
        return result
    for row in rows:
        out.write(json.dumps({k: row.get(k) for k in EXPORT_COLUMNS}, ensure_ascii=False) + "\n")
    trailer = {"audit_export": {**result.to_dict(), "exported_at": now(), "store": store.url, "hash": "sha256 of JSON [seq, at, actor, action, subject, details, prev_hash]"}}
    out.write(json.dumps(trailer, ensure_ascii=False) + "\n")
    return result


def verify_file(path: str | Path, anchor: tuple[int, str] | None = None) -> Verification:
    """Verify an exported JSON lines file on its own (no store needed)."""
    from ..errors import InputError

    path = Path(path)
    rows, trailer = [], None
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            raise InputError(f"{path}, line {number}: not JSON; expected an audit export (JSON lines)") from None
        if "audit_export" in obj:
            trailer = obj["audit_export"]
            continue
        missing = [k for k in EXPORT_COLUMNS if k not in obj]
        if missing:
            raise InputError(f"{path}, line {number}: missing {', '.join(missing)}; expected an audit export entry")
        rows.append(obj)
    head = (int(trailer["head_seq"]), trailer["head_hash"]) if trailer else None
    result = check_chain(rows, head, anchor, require_head=False)
    if trailer is None:
        result.problems.append("no audit_export trailer: the file may have been cut short")
    return result
