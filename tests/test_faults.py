"""Fault injection: batch screening and list imports killed with SIGKILL at
random points in real processes, and a full disk under an import and a batch.

After every kill the store must pass its integrity check, every alert and
decision that was committed before must still be there unchanged, a run is
either recorded whole (with all its alerts) or not at all, no worker process
is left behind, the output file is absent or complete, and the interrupted
batch rerun gives a result identical to an uninterrupted one.

Short by default (a few trials, a few seconds each).  ``CLEARANCE_LONG=1``
(``make bench``) runs 50 trials of each; ``CLEARANCE_FAULT_TRIALS=N`` sets
the count directly.  SQLite always; PostgreSQL when CLEARANCE_TEST_PG is set.
"""

from __future__ import annotations

import csv
import json
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from clearance.store import open_store, verify

from .conftest import LISTS
from .test_batch_support import warm_bundled_home  # noqa: F401  (session fixture: bundled store + index)

LONG = os.environ.get("CLEARANCE_LONG", "") not in ("", "0")
FIXTURES = Path(__file__).resolve().parent / "fixtures"
#: ``clearance`` with the batch commands registered, whatever cli.main imports yet.
SCREEN_CLI = [sys.executable, "-c", "import sys, clearance.cli.screen; from clearance.cli import main; sys.argv[0] = 'clearance'; main()"]
CLI = [sys.executable, "-m", "clearance"]


def trials(short: int, long: int = 50) -> int:
    override = os.environ.get("CLEARANCE_FAULT_TRIALS")
    return int(override) if override else (long if LONG else short)


def _report(line: str, **figures) -> None:
    """Figures for the closing note: printed (pytest -s), and appended as JSON to
    $CLEARANCE_FAULT_REPORT when set (benchmarks/report.py collects them)."""
    print(f"[faults] {line}", flush=True)
    target = os.environ.get("CLEARANCE_FAULT_REPORT")
    if target:
        with open(target, "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"line": line, "long": LONG, **figures}) + "\n")


# -- a batch to interrupt --------------------------------------------------------------------------

CLEAN = ("Northern Pacific Alpine Harbor Granite Maple Silver River Summit Orchard Lumen Vector Crescent "
         "Beacon Meridian Atlas Cedar Falcon Juniper").split()
FORMS = ("Ltd", "GmbH", "LLC", "Inc", "S.A.", "Co., Ltd.", "BV")


def write_batch(path: Path, rows: int) -> Path:
    """Planted listed names (and their variants) among clean company names: about a fifth flagged."""
    with (FIXTURES / "batch_planted.csv").open(encoding="utf-8", newline="") as fh:
        planted = list(csv.DictReader(fh))
    rng = random.Random(2024)
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["name", "country"])
        for i in range(rows):
            if i % 5 == 0:
                row = planted[(i // 5) % len(planted)]
                out.writerow([row["name"], row["country"]])
            else:
                out.writerow([f"{rng.choice(CLEAN)} {rng.choice(CLEAN)} {rng.choice(CLEAN)} {rng.choice(FORMS)}", rng.choice(["US", "DE", "GB", ""])])
    return path


def screen_cmd(input: Path, output: Path) -> list[str]:
    return [*SCREEN_CLI, "screen", str(input), "-o", str(output), "-q"]


def _prepare(db_url, home: Path, warm: Path) -> None:
    """This test's store: a copy of the warm bundled SQLite store, or the bundled lists imported into PostgreSQL."""
    shutil.copytree(warm / "cache", home / "cache", dirs_exist_ok=True)
    if db_url is None:
        for item in warm.iterdir():
            if item.is_file() and item.name.startswith("clearance.db"):
                shutil.copy2(item, home / item.name)
        return
    from clearance.store import initialise_bundled

    store = open_store(initialise=False)
    initialise_bundled(store)
    store.engine.dispose()


def _alert_sigs(conn, run_id: int) -> list[tuple]:
    from clearance.store import runs as r

    rows = conn.execute(
        select(r.alerts.c.row_index, r.alerts.c.row_key, r.alerts.c.entity_id, r.alerts.c.source, r.alerts.c.score,
               r.alerts.c.hit_status, r.alerts.c.matched_name, r.alerts.c.hit).where(r.alerts.c.run_id == run_id)
    ).all()
    return sorted(tuple(row) for row in rows)


def _runs(store) -> dict[int, tuple]:
    """Every screening run: (rows, matches, reviews, clears, errors, alert signatures)."""
    from clearance.store import runs as r

    with store.engine.connect() as conn:
        runs = conn.execute(select(r.runs.c.id, r.runs.c.rows, r.runs.c.matches, r.runs.c.reviews, r.runs.c.clears, r.runs.c.errors)).all()
        return {run.id: (tuple(run[1:]), _alert_sigs(conn, run.id)) for run in runs}


def _orphan_alerts(store) -> int:
    from clearance.store import runs as r

    with store.engine.connect() as conn:
        return conn.execute(
            select(func.count()).select_from(r.alerts).where(~r.alerts.c.run_id.in_(select(r.runs.c.id)))
        ).scalar()


def _wait_group_gone(pgid: int, timeout: float = 20.0) -> bool:
    """True once no process of the group is left (the workers of a killed batch exit by themselves)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    os.killpg(pgid, signal.SIGKILL)
    return False


def _decide_one(store, run_id: int) -> tuple[int, int]:
    """A reviewer dismisses one alert of ``run_id`` (audited); returns (alert id, decision id)."""
    from clearance.cases import ensure_tables, review, users
    from clearance.cases.tables import users as users_table
    from clearance.cases.users import Principal
    from clearance.store import runs as r

    ensure_tables(store.engine)
    users.add_user(store, "fault-reviewer", "reviewer", actor="test")
    with store.engine.connect() as conn:
        user_id = conn.execute(select(users_table.c.id).where(users_table.c.name == "fault-reviewer")).scalar()
        alert_id = conn.execute(select(func.min(r.alerts.c.id)).where(r.alerts.c.run_id == run_id)).scalar()
    review.sync(store)
    result = review.decide(store, alert_id, "dismissed", "fault-injection baseline: a known false positive",
                           Principal(user_id, "fault-reviewer", "reviewer", "test"))
    return alert_id, result["decision_id"]


def _decision_intact(store, alert_id: int, decision_id: int) -> None:
    from clearance.cases import audit
    from clearance.cases.tables import decisions

    with store.engine.connect() as conn:
        row = conn.execute(select(decisions.c.alert_id, decisions.c.decision, decisions.c.reason).where(decisions.c.id == decision_id)).first()
    assert row is not None and row.alert_id == alert_id and row.decision == "dismissed", row
    check = audit.verify(store)
    assert check.ok, check.problems


def test_batch_screen_killed_at_random_points(db_url, home, warm_bundled_home, tmp_path):  # noqa: F811
    """SIGKILL ``clearance screen`` (the main process, or its whole group with the
    workers) at random moments: nothing committed is lost, nothing half-done stays."""
    _prepare(db_url, home, warm_bundled_home)
    n = trials(2)
    batch = write_batch(tmp_path / "parties.csv", 3000)
    reference = tmp_path / "reference.jsonl"

    started = time.monotonic()
    done = subprocess.run(screen_cmd(batch, reference), capture_output=True, text=True, timeout=600)
    full_seconds = time.monotonic() - started
    assert done.returncode == 1, done.stderr  # rows flagged
    expected = reference.read_bytes()
    store = open_store(initialise=False)
    known = _runs(store)
    assert len(known) == 1
    (ref_run,) = known
    ref_counts, ref_alerts = known[ref_run]
    assert ref_counts[1] > 100 and len(ref_alerts) > 100, ref_counts
    alert_id, decision_id = _decide_one(store, ref_run)
    store.engine.dispose()

    output = tmp_path / "results.jsonl"
    rng = random.Random(889)
    outcomes = {"killed": 0, "finished": 0, "leftover_parts": 0}
    for trial in range(n):
        group = trial % 2 == 1
        proc = subprocess.Popen(screen_cmd(batch, output), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        time.sleep(rng.uniform(0.05, full_seconds * 1.1))
        if proc.poll() is None:
            if group:
                os.killpg(proc.pid, signal.SIGKILL)
            else:
                os.kill(proc.pid, signal.SIGKILL)
            outcomes["killed"] += 1
        else:
            outcomes["finished"] += 1
        proc.wait(timeout=60)
        assert _wait_group_gone(proc.pid), "worker processes outlived the killed batch"

        store = open_store(initialise=False)
        assert verify(store) == []
        assert _orphan_alerts(store) == 0
        runs = _runs(store)
        for run_id, value in known.items():
            assert runs.get(run_id) == value, f"run #{run_id} changed or lost after a kill"
        for run_id in set(runs) - set(known):
            counts, alerts = runs[run_id]
            assert counts == ref_counts and alerts == ref_alerts, f"run #{run_id} recorded only in part"
            known[run_id] = runs[run_id]
        _decision_intact(store, alert_id, decision_id)
        store.engine.dispose()
        if output.exists():
            assert output.read_bytes() == expected, "an interrupted batch left a partial output under the real name"
        outcomes["leftover_parts"] += len(list(tmp_path.glob(".results.jsonl.*.part")))
        for part in tmp_path.glob(".results.jsonl.*.part"):
            part.unlink()

        if LONG or trial == n - 1:  # the interrupted batch, rerun: identical result
            output.unlink(missing_ok=True)
            rerun = subprocess.run(screen_cmd(batch, output), capture_output=True, text=True, timeout=600)
            assert rerun.returncode == 1, rerun.stderr
            assert output.read_bytes() == expected
            store = open_store(initialise=False)
            runs = _runs(store)
            (new_run,) = set(runs) - set(known)
            assert runs[new_run] == (ref_counts, ref_alerts)
            known[new_run] = runs[new_run]
            store.engine.dispose()

    result = subprocess.run([*CLI, "store", "verify"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    alerts = sum(len(a) for _, a in known.values())
    _report(f"batch kill ({'postgresql' if db_url else 'sqlite'}): {n} trials, {outcomes['killed']} killed mid-run, "
            f"{outcomes['finished']} finished first; {len(known)} runs, {alerts} alerts "
            f"and 1 decision all intact; {outcomes['leftover_parts']} stale .part file(s)",
            test="batch-kill", db="postgresql" if db_url else "sqlite", trials=n, runs=len(known), alerts=alerts,
            lost=0, **outcomes)


# -- imports killed at random points (test_crash.py has the marker-based ones) -------------------

IMPORT_CHILD = "import sys; from clearance.store import open_store; open_store(initialise=False).import_files(sys.argv[1], 'us-ofac-sdn', captured='2021-07')"


def test_import_killed_at_random_points(db_url, tmp_path):
    """Kill an import anywhere in parse, write or commit: the active snapshot is exactly the old or the new one."""
    n = trials(1 if db_url is None else 2)  # test_crash.py already kills SQLite imports in every run
    new_folder = LISTS / "us-ofac-sdn" / "2021-07"
    scratch = open_store(f"sqlite:///{tmp_path / 'scratch.db'}", initialise=False)
    new_hash = scratch.import_files(new_folder, "us-ofac-sdn", captured="2021-07").snapshot.content_hash
    scratch.engine.dispose()

    store = open_store(initialise=False)
    old = store.import_files(LISTS / "us-ofac-sdn" / "2019-01", "us-ofac-sdn", captured="2019-01").snapshot
    store.engine.dispose()
    started = time.monotonic()
    subprocess.run([sys.executable, "-c", "import clearance.store"], check=True)
    startup = time.monotonic() - started

    rng = random.Random(9)
    seen = {"old": 0, "new": 0}
    for _ in range(n):
        proc = subprocess.Popen([sys.executable, "-c", IMPORT_CHILD, str(new_folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(startup * 0.5, startup + 4.0))
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=60)
        store = open_store(initialise=False)
        assert verify(store) == []
        active = store.active_snapshot("us-ofac-sdn")
        if active.id == old.id:
            seen["old"] += 1
            assert [s.version for s in store.history("us-ofac-sdn")] == [1]
        else:
            seen["new"] += 1
            assert active.version == 2 and active.content_hash == new_hash
            store.activate("us-ofac-sdn", 1)
            with store.engine.begin() as conn:  # forget version 2 so the next trial imports it afresh
                conn.execute(text("delete from snapshot_entities where snapshot_id = :i"), {"i": active.id})
                conn.execute(text("delete from snapshot_changes where old_id = :i or new_id = :i"), {"i": active.id})
                conn.execute(text("delete from snapshots where id = :i"), {"i": active.id})
            assert verify(store) == []
        store.engine.dispose()
    _report(f"import kill ({'postgresql' if db_url else 'sqlite'}): {n} trials; active afterwards: old {seen['old']}, new {seen['new']}; never anything else",
            test="import-kill", db="postgresql" if db_url else "sqlite", trials=n, lost=0, **seen)


# -- a full disk ----------------------------------------------------------------------------------------


def _mount(path: Path, size: int) -> str | None:
    """Mount a tmpfs of ``size`` bytes at ``path``; the reason when that is not permitted here."""
    if os.geteuid() != 0:
        return "mounting a size-capped tmpfs needs root"
    if shutil.which("mount") is None:
        return "no mount command"
    path.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True, text=True)
    if result.returncode:
        return f"mounting a tmpfs is not permitted here ({result.stderr.strip() or result.returncode})"
    return None


def _umount(path: Path) -> None:
    if subprocess.run(["umount", str(path)], capture_output=True).returncode:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


@pytest.fixture
def small_fs(tmp_path):
    """A factory for size-capped tmpfs mounts (skipped, with the reason, where mounting is not allowed)."""
    mounted: list[Path] = []

    def make(name: str, size: int) -> Path:
        path = tmp_path / name
        reason = _mount(path, size)
        if reason:
            pytest.skip(reason)
        mounted.append(path)
        return path

    yield make
    for path in reversed(mounted):
        _umount(path)


def _cli(*args: str, home: Path, cli=CLI, limit=None) -> subprocess.CompletedProcess:
    env = dict(os.environ, CLEARANCE_HOME=str(home), COLUMNS="200")
    env.pop("CLEARANCE_DB", None)
    return subprocess.run([*cli, *args], env=env, capture_output=True, text=True, timeout=600, preexec_fn=limit)


def _small_store(folder: Path) -> Path:
    """A store holding only the DPL (about 0.5 MB), built outside the capped filesystem."""
    folder.mkdir(parents=True, exist_ok=True)
    store = open_store(f"sqlite:///{folder / 'clearance.db'}", initialise=False)
    store.import_files(LISTS / "us-bis-dpl" / "2022-09", "us-bis-dpl", captured="2022-09")
    store.engine.dispose()
    return folder / "clearance.db"


def _store_state(home: Path) -> tuple[dict, list[str]]:
    store = open_store(f"sqlite:///{home / 'clearance.db'}", initialise=False)
    try:
        return {s.source: (s.id, s.content_hash) for s in store.active_snapshots()}, verify(store)
    finally:
        store.engine.dispose()


def _one_line_error(result: subprocess.CompletedProcess, *fragments: str) -> str:
    message = result.stderr.strip()
    assert result.returncode == 2, (result.returncode, message[-2000:])
    assert "Traceback" not in message and len(message.splitlines()) == 1, message[-2000:]
    for fragment in fragments:
        assert fragment in message, message
    return message


def test_import_into_a_full_filesystem(small_fs, tmp_path):
    """A real size-capped filesystem (tmpfs) fills up mid-import: one clear line, nothing damaged, still usable."""
    db = _small_store(tmp_path / "build")
    home = small_fs("full", db.stat().st_size + 256 * 1024)
    shutil.copy2(db, home / "clearance.db")
    before, problems = _store_state(home)
    assert problems == [] and list(before) == ["us-bis-dpl"]

    result = _cli("lists", "import", str(LISTS / "us-ofac-sdn" / "2021-07"), "--source", "us-ofac-sdn", home=home)
    message = _one_line_error(result, "store is full", "us-ofac-sdn")
    after, problems = _store_state(home)
    assert problems == [] and after == before

    # Still usable: a one-entry block list fits in what is left.
    tiny = tmp_path / "blocklist.csv"
    tiny.write_text("name,aliases,country,schema,identifiers,note\nExample Blocked Trading Co,,CN,Company,,internal policy\n")
    small = _cli("lists", "import", str(tiny), "--source", "acme-blocklist", home=home)
    assert small.returncode == 0, small.stderr
    after, problems = _store_state(home)
    assert problems == [] and after["us-bis-dpl"] == before["us-bis-dpl"] and "acme-blocklist" in after
    _report(f"disk full (tmpfs) during import: {message[:120]}...", test="disk-full-import", db="sqlite", trials=1, lost=0)


def test_import_over_the_file_size_limit(tmp_path):
    """The same with RLIMIT_FSIZE (no mount needed): the database file cannot grow."""
    home = tmp_path / "home"
    db = _small_store(home)
    before, _ = _store_state(home)
    cap = db.stat().st_size + 200 * 1024

    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (cap, cap))

    result = _cli("lists", "import", str(LISTS / "us-ofac-sdn" / "2021-07"), "--source", "us-ofac-sdn", home=home, limit=limit)
    _one_line_error(result, "us-ofac-sdn")
    after, problems = _store_state(home)
    assert problems == [] and after == before


@pytest.fixture
def warm_home(warm_bundled_home, tmp_path) -> Path:  # noqa: F811
    home = tmp_path / "warm"
    home.mkdir()
    for item in warm_bundled_home.iterdir():
        if item.is_file() and item.name.startswith("clearance.db"):
            shutil.copy2(item, home / item.name)
    shutil.copytree(warm_bundled_home / "cache", home / "cache")
    return home


def _screen_state(home: Path) -> tuple[dict, list[str], int]:
    store = open_store(f"sqlite:///{home / 'clearance.db'}", initialise=False)
    try:
        return _runs(store), verify(store), _orphan_alerts(store)
    finally:
        store.engine.dispose()


def test_batch_when_the_store_disk_fills(small_fs, warm_home, tmp_path):
    """The store's filesystem fills while a batch records its run: nothing recorded in part, the store intact."""
    batch = write_batch(tmp_path / "parties.csv", 1500)
    done = _cli("screen", str(batch), "-o", str(tmp_path / "first.jsonl"), "-q", home=warm_home, cli=SCREEN_CLI)
    assert done.returncode == 1, done.stderr
    runs_before, _, _ = _screen_state(warm_home)
    size = sum(p.stat().st_size for p in warm_home.rglob("*") if p.is_file())
    home = small_fs("store-full", size + 96 * 1024)
    for item in warm_home.iterdir():
        (shutil.copytree if item.is_dir() else shutil.copy2)(item, home / item.name)
    result = _cli("screen", str(batch), "-o", str(tmp_path / "second.jsonl"), "-q", home=home, cli=SCREEN_CLI)
    assert result.returncode != 0
    runs_after, problems, orphans = _screen_state(home)
    assert problems == [] and orphans == 0
    assert runs_after == runs_before, "a run was recorded in part, or an earlier one changed"


def test_batch_when_the_store_disk_fills_reports_one_line(small_fs, warm_home, tmp_path):
    batch = write_batch(tmp_path / "parties.csv", 1500)
    sample = Path(__file__).resolve().parents[1] / "data" / "samples" / "counterparties.csv"
    _cli("screen", str(sample), "-o", str(tmp_path / "warm.jsonl"), "-q", home=warm_home, cli=SCREEN_CLI)  # every cache made: only the run fills the disk
    size = sum(p.stat().st_size for p in warm_home.rglob("*") if p.is_file())
    home = small_fs("store-full", size + 96 * 1024)
    for item in warm_home.iterdir():
        (shutil.copytree if item.is_dir() else shutil.copy2)(item, home / item.name)
    output = tmp_path / "results.jsonl"
    result = _cli("screen", str(batch), "-o", str(output), "-q", home=home, cli=SCREEN_CLI)
    _one_line_error(result, "full")
    assert not output.exists(), "results written for a run that was not recorded"


def test_batch_output_disk_full_leaves_no_partial_output(small_fs, warm_home):
    """The output's filesystem fills: no partial file under the real name; the store untouched."""
    out = small_fs("out-full", 16 * 1024)
    runs_before, _, _ = _screen_state(warm_home)
    sample = Path(__file__).resolve().parents[1] / "data" / "samples" / "counterparties.csv"
    result = _cli("screen", str(sample), "-o", str(out / "results.jsonl"), "-q", home=warm_home, cli=SCREEN_CLI)
    assert result.returncode != 0
    runs_after, problems, _ = _screen_state(warm_home)
    assert problems == [] and runs_after == runs_before
    leftovers = [p.name for p in out.iterdir()]
    assert "results.jsonl" not in leftovers, leftovers


def test_batch_output_disk_full_reports_one_line(small_fs, warm_home):
    sample = Path(__file__).resolve().parents[1] / "data" / "samples" / "counterparties.csv"
    reference = warm_home / "reference.jsonl"
    assert _cli("screen", str(sample), "-o", str(reference), "-q", home=warm_home, cli=SCREEN_CLI).returncode == 1
    size = reference.stat().st_size
    # Capacity just under the output's size: the last buffered write (at close) is the one that fails.
    out = small_fs("out-full", (size // 4096) * 4096)
    result = _cli("screen", str(sample), "-o", str(out / "results.jsonl"), "-q", home=warm_home, cli=SCREEN_CLI)
    assert not (out / "results.jsonl").exists(), "a truncated output was put in place"
    _one_line_error(result, "results.jsonl")
