"""The hash-chained audit trail: appends inside callers' transactions,
concurrent appenders, and detection of edited, deleted, reordered and
truncated entries (library and ``clearance audit verify/export``)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading

import pytest

pytest.importorskip("argon2", reason="argon2-cffi is not installed")
from sqlalchemy import delete, select, text, update

from clearance.cases import audit, ensure_tables
from clearance.cases.tables import audit_head, audit_log
from tests.fixtures.api_server import cli


@pytest.fixture
def store(db_url):
    from clearance.store import open_store

    s = open_store(initialise=False)
    ensure_tables(s.engine)
    yield s
    s.engine.dispose()


def fill(store, n: int = 6) -> None:
    for i in range(n):
        audit.record(store, "test.event", {"i": i, "text": f"entry {i}", "nested": {"a": [1, 2]}}, subject=f"thing:{i}", actor=f"user{i % 2}")


def test_appends_chain_and_verify(store):
    fill(store)
    result = audit.verify(store)
    assert result.ok and result.entries == 6 and result.head_seq == 6
    rows = audit.entries(store)
    assert rows[0]["prev_hash"] == audit.GENESIS
    assert all(b["prev_hash"] == a["hash"] for a, b in zip(rows, rows[1:]))
    assert rows[2]["details"] == {"i": 2, "text": "entry 2", "nested": {"a": [1, 2]}}


def test_append_commits_and_rolls_back_with_the_callers_transaction(store):
    fill(store, 2)
    with pytest.raises(RuntimeError):
        with store.engine.connect().execution_options(immediate=True) as conn, conn.begin():
            audit.append(conn, "someone", "lists.import", {"source": "x"})
            raise RuntimeError("the change failed")
    assert audit.verify(store).entries == 2
    with store.engine.connect().execution_options(immediate=True) as conn, conn.begin():
        audit.append(conn, "someone", "lists.import", {"source": "x"}, subject="snapshot:x@1")
    assert audit.verify(store).ok and audit.has_subject(store, "lists.import", "snapshot:x@1")


def _tamper(store, statement) -> None:
    with store.engine.begin() as conn:
        conn.execute(statement)


def test_edited_entry_is_detected(store):
    fill(store)
    _tamper(store, update(audit_log).where(audit_log.c.seq == 3).values(details=json.dumps({"i": 3, "text": "nothing to see"})))
    result = audit.verify(store)
    assert not result.ok
    assert any("entry 3: content does not match its hash" in p for p in result.problems)


def test_edited_entry_with_recomputed_hash_breaks_the_next_link(store):
    fill(store)
    row = dict(next(iter(audit.entries(store)[2:3])))
    details = audit.canonical({"i": 2, "text": "rewritten"})
    new_hash = audit.entry_hash(row["seq"], row["at"], row["actor"], row["action"], row["subject"], details, row["prev_hash"])
    _tamper(store, update(audit_log).where(audit_log.c.seq == 3).values(details=details, hash=new_hash))
    result = audit.verify(store)
    assert not result.ok and any("entry 4: link to the previous entry is broken" in p for p in result.problems)


def test_deleted_entry_is_detected(store):
    fill(store)
    _tamper(store, delete(audit_log).where(audit_log.c.seq == 2))
    result = audit.verify(store)
    assert any("entry 2 missing" in p for p in result.problems)


def test_deleted_last_entry_is_detected_by_the_head(store):
    fill(store)
    _tamper(store, delete(audit_log).where(audit_log.c.seq == 6))
    result = audit.verify(store)
    assert any("entries at the end were deleted" in p for p in result.problems)


def test_reordered_entries_are_detected(store):
    fill(store)
    with store.engine.begin() as conn:
        rows = {r.seq: dict(r._mapping) for r in conn.execute(select(audit_log).where(audit_log.c.seq.in_([2, 3])))}
        conn.execute(delete(audit_log).where(audit_log.c.seq.in_([2, 3])))
        for seq, other in ((2, 3), (3, 2)):
            conn.execute(audit_log.insert().values(**{**rows[other], "seq": seq}))
    result = audit.verify(store)
    assert not result.ok
    assert any("entry 2" in p for p in result.problems) and any("entry 3" in p for p in result.problems)


def test_rewritten_history_is_caught_by_an_anchor(store):
    fill(store, 3)
    anchor = (audit.verify(store).head_seq, audit.verify(store).head_hash)
    # rewrite the whole chain consistently, head included: only an anchor kept elsewhere notices
    _tamper(store, delete(audit_log))
    _tamper(store, delete(audit_head))
    fill(store, 4)
    assert audit.verify(store).ok
    result = audit.verify(store, anchor=anchor)
    assert not result.ok and any("differs from the anchor" in p for p in result.problems)


def test_concurrent_appenders_keep_one_chain(store):
    errors = []

    def worker(n: int) -> None:
        try:
            for i in range(15):
                audit.record(store, "test.concurrent", {"worker": n, "i": i}, actor=f"w{n}")
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors
    result = audit.verify(store)
    assert result.ok and result.entries == 60


def test_concurrent_processes_keep_one_chain(home):
    from clearance.store import open_store

    store = open_store(initialise=False)
    ensure_tables(store.engine)
    code = "from clearance.store import open_store\nfrom clearance.cases import audit\ns = open_store(initialise=False)\nfor i in range(20): audit.record(s, 'test.proc', {'i': i})\n"
    procs = [subprocess.Popen([sys.executable, "-c", code]) for _ in range(3)]
    assert all(p.wait(120) == 0 for p in procs)
    result = audit.verify(store)
    assert result.ok and result.entries == 60


def test_cli_verify_fails_on_a_tampered_log_and_export_verifies(home, tmp_path):
    from clearance.store import open_store

    store = open_store(initialise=False)
    ensure_tables(store.engine)
    from clearance.cases import settings, users

    users.add_user(store, "auditor", "admin", actor="cli:test")
    settings.set_value(store, "four_eyes", "true", actor="cli:test")
    ok = cli(home, "audit", "verify")
    assert ok.returncode == 0 and "audit trail intact: 2 entries" in ok.stdout
    head = ok.stdout.split("head ")[1].strip()

    export = tmp_path / "audit.jsonl"
    done = cli(home, "audit", "export", "-o", str(export))
    assert done.returncode == 0, done.stderr
    lines = export.read_text().splitlines()
    assert len(lines) == 3 and json.loads(lines[-1])["audit_export"]["ok"] is True
    assert [json.loads(x)["action"] for x in lines[:2]] == ["user.add", "config.set"]
    assert cli(home, "audit", "verify", "--file", str(export), "--anchor", head).returncode == 0
    edited = tmp_path / "edited.jsonl"
    edited.write_text(export.read_text().replace('\\"to\\":true', '\\"to\\":false'))
    assert edited.read_text() != export.read_text()
    bad_file = cli(home, "audit", "verify", "--file", str(edited))
    assert bad_file.returncode == 1 and "entry 2: content does not match its hash" in bad_file.stderr

    with store.engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET actor = 'someone-else' WHERE seq = 1"))
    bad = cli(home, "audit", "verify")
    assert bad.returncode == 1
    assert "audit trail does not verify" in bad.stderr and "entry 1: content does not match its hash" in bad.stderr
    with pytest.raises(Exception, match="expected SEQ:HASH"):
        audit.parse_anchor("nonsense")
