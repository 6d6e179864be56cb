"""An import killed with SIGKILL, in a real separate process, leaves the
previous snapshot active and the store consistent (SQLite and PostgreSQL)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from clearance.store import open_store, verify

from .conftest import LISTS

# The child imports SDN 2021-07; after the first batch of rows is written (inside
# the open transaction) it drops a marker and waits to be killed.
CHILD = """
import sys, time, pathlib
from clearance.store import open_store
marker = pathlib.Path(sys.argv[1])
pause = sys.argv[2] == "pause"
def progress(done, total):
    if pause and not marker.exists():
        marker.write_text(f"{done}/{total}")
        time.sleep(60)
open_store(initialise=False).import_files(sys.argv[3], "us-ofac-sdn", captured="2021-07", progress=progress)
marker.write_text("finished")
"""


def _start(tmp_path: Path, mode: str) -> tuple[subprocess.Popen, Path]:
    marker = tmp_path / f"marker-{random.random()}"
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(marker), mode, str(LISTS / "us-ofac-sdn" / "2021-07")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return proc, marker


def _kill(proc: subprocess.Popen) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)


def _assert_old_snapshot_intact(old_id: int) -> None:
    store = open_store(initialise=False)
    assert store.active_snapshot("us-ofac-sdn").id == old_id
    assert [s.version for s in store.history("us-ofac-sdn")] == [1]
    assert verify(store) == []
    store.engine.dispose()


def test_sigkill_mid_write(db_url, tmp_path):
    store = open_store(initialise=False)
    old = store.import_files(LISTS / "us-ofac-sdn" / "2019-01", "us-ofac-sdn", captured="2019-01").snapshot
    store.engine.dispose()

    proc, marker = _start(tmp_path, "pause")
    deadline = time.monotonic() + 120
    while not marker.exists():
        assert proc.poll() is None, "importer exited before reaching the write phase"
        assert time.monotonic() < deadline, "importer never reached the write phase"
        time.sleep(0.05)
    assert "/" in marker.read_text()  # rows were written, the transaction is open
    _kill(proc)
    _assert_old_snapshot_intact(old.id)

    # The interrupted import can simply be run again.
    store = open_store(initialise=False)
    new = store.import_files(LISTS / "us-ofac-sdn" / "2021-07", "us-ofac-sdn", captured="2021-07").snapshot
    assert new.version == 2 and store.active_snapshot("us-ofac-sdn").id == new.id
    assert verify(store) == []
    store.engine.dispose()


def test_sigkill_at_random_points(home, tmp_path):
    """A few random kill times (parse, write, commit): always the old or the new snapshot."""
    store = open_store(initialise=False)
    old = store.import_files(LISTS / "us-ofac-sdn" / "2019-01", "us-ofac-sdn", captured="2019-01").snapshot
    store.engine.dispose()
    rng = random.Random(889)
    trials = int(os.environ.get("CLEARANCE_KILL_TRIALS", "4"))
    for _ in range(trials):
        proc, marker = _start(tmp_path, "run")
        time.sleep(rng.uniform(0.3, 3.0))
        finished = proc.poll() is not None
        if not finished:
            _kill(proc)
        store = open_store(initialise=False)
        active = store.active_snapshot("us-ofac-sdn")
        assert verify(store) == []
        if active.id != old.id:  # the import got through before the kill
            assert active.version == 2 and active.entity_count > old.entity_count
            store.activate("us-ofac-sdn", 1)
            with store.engine.begin() as conn:
                from sqlalchemy import text

                # Forget version 2 so the next trial imports it afresh.
                conn.execute(text("delete from snapshot_entities where snapshot_id = :i"), {"i": active.id})
                conn.execute(text("delete from snapshot_changes where old_id = :i or new_id = :i"), {"i": active.id})
                conn.execute(text("delete from snapshots where id = :i"), {"i": active.id})
        store.engine.dispose()
        _assert_old_snapshot_intact(old.id)
