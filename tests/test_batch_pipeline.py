"""Batch screening internals: queries, the per-run result cache, the ordered
pipeline over forked workers, and stale temporary outputs of killed runs."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from clearance.screen.pipeline import CLEAR, QueryCache, QueryPipeline
from clearance.screen.queries import FIELDS, query_dict, query_key, query_maker, query_of
from clearance.screen.workers import Workers
from clearance.tabular import map_fields
from clearance.tabular.write import encode_record, open_writer, part_prefix, remove_stale_parts
from tests.test_batch_support import CLI, cli, planted_rows, screen_home, warm_bundled_home  # noqa: F401  (fixtures)

# -- queries -----------------------------------------------------------------------


def test_query_of_shape_and_compiled_maker_agree():
    columns = ["Company", "Country", "Type", "DOB", "ISIN", "Identifiers", "Other"]
    mapping = map_fields(columns, FIELDS, ["dob=DOB"])
    make = query_maker(mapping)
    rows = [
        {"Company": "Acme GmbH", "Country": "DE; AT|", "Type": "Individual", "DOB": "1970-01-01", "ISIN": "CNE100000PM8", "Identifiers": "uscc:91110000X; 12345", "Other": "x"},
        {"Company": None, "Country": None, "Type": None, "DOB": None, "ISIN": None, "Identifiers": None, "Other": None},
        {"Company": "Бета", "Country": "", "Type": "Ship", "DOB": None, "ISIN": "A|B", "Identifiers": "no colon:here", "Other": None},
        {"Company": "Gamma", "Country": "RU", "Type": "Blimp", "DOB": None, "ISIN": None, "Identifiers": ":x", "Other": None},
    ]
    for values in rows:
        fields = mapping.extract(values)
        assert make(values) == query_key(fields)
        assert query_dict(make(values)) == query_of(fields)
        hash(make(values))
    assert query_of(mapping.extract(rows[0])) == {
        "name": "Acme GmbH",
        "country": ["DE", "AT"],
        "schema": "Person",
        "birth_date": "1970-01-01",
        "identifiers": [["isin", "CNE100000PM8"], ["uscc", "91110000X"], [None, "12345"]],
    }
    assert query_of(mapping.extract(rows[2]))["schema"] == "Vessel"
    assert query_of(mapping.extract(rows[3]))["schema"] == "Blimp"  # unknown words pass through (check reports them)
    assert query_of(mapping.extract(rows[2]))["identifiers"] == [["isin", "A"], ["isin", "B"], [None, "no colon:here"]]


# -- the cache and the pipeline ------------------------------------------------------


def test_query_cache_keeps_the_most_recently_used():
    cache = QueryCache(2)
    cache.put("a", CLEAR)
    cache.put("b", CLEAR)
    assert cache.get("a") is CLEAR  # a is now the most recent
    cache.put("c", CLEAR)
    assert cache.get("b") is None and cache.get("a") is CLEAR and cache.get("c") is CLEAR and len(cache) == 2
    off = QueryCache(0)
    off.put("a", CLEAR)
    assert off.get("a") is None


def _fake_screen(queries):
    """A stand-in worker: 'flag...' names are reviewed, 'boom' fails, the rest are clear; notes the pid."""
    out = []
    for name, *_ in queries:
        if name.startswith("flag"):
            out.append(("review", [{"entity_id": name, "pid": os.getpid()}], None))
        elif name == "boom":
            out.append(("error", [], "could not be screened (RuntimeError: boom)"))
        else:
            out.append(None)
    return out


def _items(names):
    for i, name in enumerate(names):
        yield i, (None if name is None else (name, (), None, None, ())), len(name or "")


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("cache_size", [0, 3, 10_000])
def test_pipeline_keeps_order_and_screens_each_query_once(workers, cache_size):
    import random

    rng = random.Random(workers * 100 + cache_size)
    names = [rng.choice(["flag-a", "flag-b", "clear-c", "clear-d", "boom", None] + [f"uniq-{i}" for i in range(40)]) for _ in range(3000)]
    screened: list = []

    def many(queries):
        screened.extend(q[0] for q in queries)  # only seen in this process when inline
        return _fake_screen(queries)

    with Workers(many=many, workers=workers) as pool:
        pipeline = QueryPipeline(pool, cache_size=cache_size, block=97, chunk=13)
        out = list(pipeline.run(_items(names)))
        forked = pool.parallel
    assert forked == (workers > 1)
    assert [tag for tag, _ in out] == list(range(len(names)))
    for (tag, result), name in zip(out, names):
        if name is None:
            assert result is None
        elif name.startswith("flag"):
            assert result[0] == "review" and result[1][0]["entity_id"] == name
        elif name == "boom":
            assert result[0] == "error" and "boom" in result[2]
        else:
            assert result is CLEAR
    asked = sum(1 for n in names if n is not None)
    assert pipeline.screened + pipeline.reused == asked
    distinct = len({n for n in names if n is not None})
    if cache_size >= distinct:
        assert pipeline.screened == distinct  # each distinct query once
    else:
        assert distinct <= pipeline.screened < asked  # repeats in flight are still shared
    if workers == 1:
        assert len(screened) == pipeline.screened
    else:
        assert not screened and pool.parallel is False  # screened in the forked workers; the pool is closed
        pids = {r[1][0]["pid"] for _, r in out if r and r[0] == "review"}
        assert os.getpid() not in pids


def test_pipeline_bounds_blocks_by_characters(monkeypatch):
    from clearance.screen import pipeline as p

    monkeypatch.setattr(p, "BLOCK_CHARS", 1000)
    sizes = []
    pool = Workers(many=lambda qs: (sizes.append(len(qs)), [None] * len(qs))[1], workers=1)
    items = ((i, (f"name {i}", (), None, None, ()), 600) for i in range(10))  # wide rows: two per block
    with pool:
        out = list(QueryPipeline(pool, block=1000, chunk=1000).run(items))
    assert [t for t, _ in out] == list(range(10)) and sizes == [2] * 5


# -- output ---------------------------------------------------------------------------


def test_jsonl_records_encode_as_json_dumps(tmp_path):
    import datetime as dt

    record = {"row": 3, "input": {"name": "Ōsaka \"Trading\"\n", "x": None}, "status": "review",
              "hits": [{"score": 0.7125, "programs": ["SDGT"], "ok": True, "when": dt.date(2020, 1, 2), "inf": float("inf")}]}
    assert encode_record(record) == json.dumps(record, ensure_ascii=False, default=str)
    with open_writer("jsonl", tmp_path / "out.jsonl") as out:
        out.write(record)
    assert (tmp_path / "out.jsonl").read_text(encoding="utf-8") == json.dumps(record, ensure_ascii=False, default=str) + "\n"


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_stale_temporary_outputs_of_gone_writers_are_removed(tmp_path):
    target = tmp_path / "results.jsonl"
    mine = part_prefix(target)  # .results.jsonl.HOST-PID.
    host = mine.split(".")[-2].split("-")[0]
    dead = tmp_path / f".results.jsonl.{host}-{_dead_pid()}.abcd_123.part"
    live = tmp_path / f"{mine}zz9_8x7w.part"
    other_host = tmp_path / f".results.jsonl.0badc0de-{_dead_pid()}.abcd_123.part"
    legacy_old = tmp_path / ".results.jsonl.4au7e3ah.part"
    legacy_new = tmp_path / ".results.jsonl.k2j4h5g6.part"
    other_output = tmp_path / f".results.jsonl.bak.{host}-{_dead_pid()}.abcd_123.part"
    unrelated = tmp_path / ".results.jsonl.notes.part"
    for path in (dead, live, other_host, legacy_old, legacy_new, other_output, unrelated):
        path.write_text("partial", encoding="utf-8")
    two_days_ago = time.time() - 2 * 86400
    os.utime(legacy_old, (two_days_ago, two_days_ago))

    assert sorted(p.name for p in remove_stale_parts(target)) == sorted([dead.name, legacy_old.name])
    for path in (live, other_host, legacy_new, other_output, unrelated):
        assert path.exists(), path.name

    with open_writer("jsonl", target) as out:  # every writer cleans up before it starts
        assert out._tmp is not None and out._tmp.name.startswith(mine)
        dead.write_text("partial", encoding="utf-8")
    assert target.exists() and not out._tmp
    with open_writer("jsonl", target) as out:
        out.write({"row": 0})
    assert not dead.exists() and live.exists()


def test_a_killed_batch_leaves_a_part_file_the_next_run_removes(screen_home, tmp_path):
    rows = planted_rows()
    src = tmp_path / "parties.csv"
    with src.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["name", "country"])
        for i in range(4000):
            row = rows[i % len(rows)]
            out.writerow([f"{row['name']} {i}" if i % 3 else row["name"], row["country"]])
    output = tmp_path / "results.jsonl"
    env = dict(os.environ, CLEARANCE_HOME=str(screen_home))
    env.pop("CLEARANCE_DB", None)
    proc = subprocess.Popen([*CLI, "screen", str(src), "-o", str(output), "-q"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 120
    parts: list = []
    while time.monotonic() < deadline and proc.poll() is None:
        parts = list(tmp_path.glob(".results.jsonl.*.part"))
        if parts and parts[0].stat().st_size > 0:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the batch finished before it could be killed"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    assert len(parts) == 1 and f"-{proc.pid}." in parts[0].name and not output.exists()

    done = cli("screen", str(src), "-o", str(output), "-q", home=screen_home)
    assert done.returncode == 1, done.stderr
    assert not list(tmp_path.glob(".results.jsonl.*.part"))
    assert len(output.read_text(encoding="utf-8").splitlines()) == 4000


# -- end to end ------------------------------------------------------------------------


def test_repeated_rows_on_two_workers_equal_one_worker(screen_home, tmp_path):
    """Over the parallel threshold, with repeats, bad rows and flagged rows: identical output, in order."""
    rows = planted_rows()
    src = tmp_path / "parties.csv"
    with src.open("w", encoding="utf-8", newline="") as fh:
        fh.write("name,country\n")
        for i in range(700):
            row = rows[(i * 7) % len(rows)]
            if i % 50 == 49:
                fh.write("ragged,row,here\n")
            elif i % 61 == 60:
                fh.write("!!!,US\n")
            else:
                fh.write(f"\"{row['name']}\",{row['country']}\n")
    one = cli("screen", str(src), "--workers", "1", home=screen_home)
    two = cli("screen", str(src), "--workers", "2", home=screen_home)
    assert one.returncode == two.returncode == 2, two.stderr
    assert one.stdout == two.stdout
    records = [json.loads(line) for line in two.stdout.splitlines()]
    assert [r["row"] for r in records] == list(range(700))
    assert {r["status"] for r in records} == {"match", "clear", "error"}
    assert records[49]["error"].endswith("line 51: 3 cells but the header has 2 (an unquoted delimiter?)")
    assert records[60]["status"] == "error" and records[60]["error"].startswith("line 62: ")


@pytest.fixture
def _company_batch(tmp_path):
    batch = tmp_path / "parties.csv"
    batch.write_text("company,country\nHikvision USA Inc,US\nCaribe Test Holdings Ltd,PA\nAcme Widgets Ltd,GB\n", encoding="utf-8")
    return batch


def test_ownership_hits_with_a_company_column(copy_of_bundled, _company_batch, tmp_path):
    from tests.conftest import ROOT, run_cli

    out = tmp_path / "out.jsonl"
    env = {"CLEARANCE_HOME": str(copy_of_bundled)}
    result = run_cli("screen", str(_company_batch), "-o", str(out), "--ownership", str(ROOT / "tests/fixtures/ownership_holdings.csv"), env=env)
    assert result.returncode == 1, result.stderr
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["status"] for r in records] == ["match", "match", "clear"]
    assert records[1]["hits"][0]["via"] == "ownership" and records[1]["hits"][0]["source"] == "us-ofac-sdn"
