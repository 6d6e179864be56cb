"""Monitoring benchmark: ``monitor run`` after a real list update vs a full re-screen.

    .venv/bin/python benchmarks/monitor.py [--rows 20000] [--home DIR]

Scenario (the one of ``benchmarks/batch.py``'s monitor section, whose input
generator it reuses): a private copy of the bundled store with OFAC SDN
2019-01 active; a portfolio of N synthetic counterparties (0.5% real listed
names planted, plus 100 names the 2021-07 list added and 50 it removed) is
registered twice with ``monitor add``; then SDN 2021-07 is activated (its
match index already cached, as after ``lists update``) and

* ``monitor run`` re-screens the first portfolio against what changed, and
* a full re-screen (``run_portfolio(..., full=True)``) re-screens the second
  with the same snapshots;

their open alerts must be identical (row, entity, status, score).  Both are
run ``--repeat`` times (default 3) from the same registered state, and the
medians compared (the development machine is shared); a run with nothing
changed is timed too.  Both main figures are *cold*, as a CLI command: each
is timed in a fresh process (imports done, as at a command's start; the time
is that of ``run_portfolio`` and of closing the store, whose last connection
checkpoints SQLite's write-ahead log; the registered state is copied and
synced to disk first), which reads the match index from its cache file;
``incremental_warm_s`` is the monitor run again in that process with the
index already in memory (a long-lived process, or ``monitor run`` over
several portfolios).  Prints the figures as JSON and writes
``benchmarks/results/monitor.json``.  ``--home`` keeps the prepared store
(bundled lists loaded, both indexes cached) in DIR for the next run.
``run(rows)`` is the same from Python (``benchmarks/batch.py`` can call it).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for _path in (str(ROOT / "src"), str(ROOT)):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from benchmarks.batch import make_home, planted_names, write_input  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
SOURCE = "us-ofac-sdn"


def _base_home(base: Path) -> tuple[Path, list[str]]:
    """A home with every bundled capture loaded and the SDN 2019-01 and 2021-07 indexes cached."""
    from clearance.match import index as index_mod
    from clearance.match.index import INDEX_VERSION

    home = base / "home"
    if not (home / "clearance.db").exists():
        if home.exists():
            shutil.rmtree(home)
        make_home(base)  # store init + the (2021-07) index cached
    cached = [p for p in (home / "cache").glob(f"match-index-*-v{INDEX_VERSION}-*.pkl") if not p.name.endswith(".light.pkl")]
    if len(cached) < 2:  # (a kept home: an older index version)
        os.environ["CLEARANCE_HOME"] = str(home)
        from clearance.screen.check import Screener
        from clearance.store import open_store

        store = open_store(initialise=False)
        store.activate(SOURCE, 1)
        Screener(store=store).index  # cache the 2019-01 index (building one removes the others)
        kept = {p.name: p.read_bytes() for p in (home / "cache").glob("match-index-*.pkl")}
        store.activate(SOURCE, 2)
        Screener(store=store).index
        for name, data in kept.items():
            (home / "cache" / name).write_bytes(data)
        store.engine.dispose()
    for path in (home / "cache").glob(f"match-index-*-v{INDEX_VERSION}-*.pkl"):  # light copies (a kept home: made before them)
        light = index_mod.light_path(path)
        if not path.name.endswith(".light.pkl") and not light.exists() and (index := index_mod.load(path)) is not None:
            index_mod.save(index_mod.light(index), light)
    planted_file = base / "planted.json"
    if not planted_file.exists():
        planted_file.write_text(json.dumps(planted_names(home)), encoding="utf-8")
    return home, json.loads(planted_file.read_text(encoding="utf-8"))


def _portfolio_file(store, path: Path, rows: int, planted: list[str]) -> None:
    """The batch benchmark's synthetic rows, plus 100 names SDN 2021-07 added and 50 it removed."""
    from clearance.store import diff

    change = diff(store, SOURCE, 1, 2)
    old = {e.id: e.caption for e in store.entities(store.snapshot(SOURCE, 1))}
    new = {e.id: e.caption for e in store.entities(store.snapshot(SOURCE, 2))}
    rng = random.Random(11)
    extra = [new[i] for i in rng.sample(change.added, 100)] + [old[i] for i in rng.sample(change.removed, 50)]
    write_input(path, rows - len(extra), planted)
    with path.open("a", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        for k, name in enumerate(extra):
            writer.writerow([f"X{k:05d}", name, "", ""])


def _alert_keys(store, portfolio_id: int) -> list[tuple]:
    from clearance.store import runs as r

    return sorted((a["row_index"], a["entity_id"], a["hit_status"], a["score"]) for a in r.open_alerts(store, portfolio_id))


def run(rows: int = 20000, home: str | Path | None = None, profile: str | None = None, repeat: int = 3) -> dict:
    """Time ``monitor run`` against a full re-screen after SDN 2019-01 -> 2021-07; returns the figures.

    ``home``: a directory to keep the prepared store in between calls (else a
    temporary one); ``profile``: a file to write a cProfile of the (first)
    monitor run to; ``repeat``: runs of each, from the same state (medians
    are reported: the machine may be shared).
    """
    with tempfile.TemporaryDirectory(prefix="clearance-monitor-bench-") as tmp:
        base = Path(home) if home else Path(tmp)
        base.mkdir(parents=True, exist_ok=True)
        prepared, planted = _base_home(base)
        previous = os.environ.get("CLEARANCE_HOME")
        try:
            return _scenario(prepared, Path(tmp), base, rows, planted, profile, max(1, repeat))
        finally:
            if previous is None:
                os.environ.pop("CLEARANCE_HOME", None)
            else:
                os.environ["CLEARANCE_HOME"] = previous


def _fresh(source: Path, work: Path) -> Path:
    """A copy of ``source`` at ``work``, written to disk: otherwise the store's first checkpoint
    (or fsync) would also flush the copy's pages, a cost no real run pays."""
    if work.exists():
        shutil.rmtree(work)
    shutil.copytree(source, work)
    os.sync()
    os.environ["CLEARANCE_HOME"] = str(work)
    return work


def _scenario(prepared: Path, tmp: Path, base: Path, rows: int, planted: list[str], profile: str | None, repeat: int) -> dict:
    from clearance.screen import monitor
    from clearance.store import open_store

    _fresh(prepared, tmp / "work")
    store = open_store(initialise=False)
    src = base / f"portfolio-{rows}.csv"
    if not src.exists():
        _portfolio_file(store, src, rows, planted)
    store.activate(SOURCE, 1)
    t0 = time.perf_counter()
    added = monitor.add_portfolio(store, src, "incremental")
    t_add = time.perf_counter() - t0
    monitor.add_portfolio(store, src, "full")
    store.activate(SOURCE, 2)  # both indexes are cached, as after a list update
    store.engine.dispose()
    shutil.copytree(tmp / "work", tmp / "registered")  # the state every run below starts from

    runs = [(_timed(tmp, "incremental", profile if k == 0 else None), _timed(tmp, "full")) for k in range(repeat)]  # alternating
    incremental, full = [i["seconds"] for i, _ in runs], [f["seconds"] for _, f in runs]
    again, warm = [i["again_s"] for i, _ in runs], [i["warm"]["seconds"] for i, _ in runs]
    identical = all(i["keys"] == f["keys"] == i["warm"]["keys"] for i, f in runs)
    inc, whole = runs[0][0]["result"], runs[0][1]["result"]
    t_inc, t_full = statistics.median(incremental), statistics.median(full)
    t_warm = statistics.median(warm)
    return {
        "rows": rows,
        "list_update": f"{SOURCE} 2019-01 -> 2021-07",
        "list_changes": inc["list_changes"],
        "add_s": round(t_add, 3),
        "incremental_s": round(t_inc, 3),
        "full_s": round(t_full, 3),
        "speedup": round(t_full / t_inc, 1),
        "incremental_warm_s": round(t_warm, 3),
        "speedup_warm": round(t_full / t_warm, 1),
        "runs": {"incremental_s": [round(x, 3) for x in incremental], "full_s": [round(x, 3) for x in full], "incremental_warm_s": [round(x, 3) for x in warm]},
        "unchanged_run_s": round(statistics.median(again), 3),
        "alerts_identical": identical,
        "open_alerts": inc["open"],
        "open_alerts_full": whole["open"],
        "initial_alerts": added.open,
        "new": inc["new"],
        "changed": inc["changed"],
        "resolved": inc["resolved"],
        "rows_rescreened": inc["rescreened"],
        "stages": inc["stages"],
        "stages_warm": runs[0][0]["warm"]["result"]["stages"],
        "cores": len(os.sched_getaffinity(0)),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "python": sys.version.split()[0],
    }


def _timed(tmp: Path, portfolio: str, profile: str | None = None) -> dict:
    """One timed run in a fresh process, as ``clearance monitor run`` is (imports done, the
    index read from its cache file): portfolio ``full`` is re-screened in full, ``incremental``
    monitored, then run again with nothing changed, then monitored again from the registered
    state with the index already in memory ("warm")."""
    import subprocess

    command = [sys.executable, __file__, "--time-run", str(tmp), portfolio] + (["--profile", profile] if profile else [])
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode:
        raise RuntimeError(f"timed monitor run failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout)


def _time_run(tmp: Path, portfolio: str, profile: str | None) -> dict:
    """The child of :func:`_timed`."""
    from clearance.match.index import country_code
    from clearance.screen import monitor
    from clearance.store import open_store

    country_code("US")  # imports what screening loads lazily (rigour's territories), as a CLI run's start does

    def once(full: bool) -> dict:
        store = open_store(initialise=False)
        profiler = None
        if profile:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        t0 = time.perf_counter()
        res = monitor.run_portfolio(store, portfolio, full=full)
        store.engine.dispose()  # the last connection closed: SQLite's final checkpoint counts too
        seconds = time.perf_counter() - t0
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(profile)
        fields = {key: getattr(res, key) for key in ("open", "new", "changed", "resolved", "rescreened", "stages", "list_changes")}
        keys = _alert_keys(store, res.portfolio_id)
        store.engine.dispose()
        return {"seconds": seconds, "keys": keys, "result": fields}

    _fresh(tmp / "registered", tmp / "work")
    out = once(portfolio == "full")
    if portfolio == "incremental":
        profile = None
        out["again_s"] = once(False)["seconds"]  # nothing changed since
        _fresh(tmp / "registered", tmp / "work")
        out["warm"] = once(False)  # the index already in memory
    return out


def drift(rows: int = 20000, home: str | Path | None = None, floor: float = 0.2) -> dict:
    """How far token-weight drift alone moved scores: each portfolio row screened against
    SDN 2019-01 and 2021-07 (every hit down to ``floor``), and the largest rise of a row's
    score against an entity the update left unchanged.  The monitor re-screens rows
    whose best score came within ``BAND`` of the review threshold on the assumption that
    drift stays below it; this measures the margin on the benchmark's update."""
    from clearance.screen.batch import prepare, query_of
    from clearance.screen.check import Screener
    from clearance.screen.monitor_screening import BAND
    from clearance.store import diff, open_store

    with tempfile.TemporaryDirectory(prefix="clearance-monitor-drift-") as tmp:
        base = Path(home) if home else Path(tmp)
        base.mkdir(parents=True, exist_ok=True)
        prepared, planted = _base_home(base)
        os.environ["CLEARANCE_HOME"] = str(prepared)
        store = open_store(initialise=False)
        src = base / f"portfolio-{rows}.csv"
        if not src.exists():
            _portfolio_file(store, src, rows, planted)
        change = diff(store, SOURCE, 1, 2)
        moved = set(change.added) | set(change.removed) | {c["id"] for c in change.changed}
        low = {"match": 0.99, "review": floor}
        screeners = []
        for version in (1, 2):
            store.activate(SOURCE, version)
            screeners.append(Screener(store=store, thresholds=low, max_hits=50))
            screeners[-1].index
        table, mapping = prepare(src, (), None, None)
        queries = [query_of(mapping.extract(row.values)) for row in table.rows() if not row.error]
        worst, rises = (0.0, None), []
        for query in queries:
            before, after = ({h["entity_id"]: h["score"] for h in s.check(**query)["hits"] if h["entity_id"] not in moved} for s in screeners)
            for entity in before.keys() & after.keys():
                rise = after[entity] - before[entity]
                rises.append(rise)
                if rise > worst[0]:
                    worst = (rise, {"name": query["name"], "entity_id": entity, "before": before[entity], "after": after[entity]})
        rises.sort()
        return {
            "rows": len(queries), "pairs_compared": len(rises), "band": BAND, "largest_rise": round(worst[0], 4), "worst": worst[1],
            "p99_rise": round(rises[int(0.99 * (len(rises) - 1))], 4) if rises else None,
            "largest_fall": round(-rises[0], 4) if rises else None,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--home", help="keep the prepared store here between runs")
    parser.add_argument("--profile", help="write a cProfile of the monitor run to this file")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each, from the same state (medians reported)")
    parser.add_argument("--no-write", action="store_true", help="do not write benchmarks/results/monitor.json")
    parser.add_argument("--drift", action="store_true", help="measure score drift on unchanged entities instead (writes monitor-drift.json)")
    parser.add_argument("--time-run", nargs=2, metavar=("TMP", "PORTFOLIO"), help=argparse.SUPPRESS)  # one timed run (internal)
    args = parser.parse_args()
    if args.time_run:
        print(json.dumps(_time_run(Path(args.time_run[0]), args.time_run[1], args.profile), default=list))
        return
    if args.drift:
        found = drift(args.rows, home=args.home)
        print(json.dumps(found, indent=2, ensure_ascii=False))
        if not args.no_write:
            RESULTS.mkdir(parents=True, exist_ok=True)
            (RESULTS / "monitor-drift.json").write_text(json.dumps(found, indent=2, ensure_ascii=False) + "\n")
        return
    result = run(args.rows, home=args.home, profile=args.profile, repeat=args.repeat)
    print(json.dumps(result, indent=2))
    print(
        f"monitor run {result['incremental_s']}s (index in memory: {result['incremental_warm_s']}s) vs full re-screen {result['full_s']}s "
        f"= {result['speedup']}x ({result['speedup_warm']}x); "
        f"alerts identical: {result['alerts_identical']}; {result['rows_rescreened']} of {result['rows']:,} rows re-screened"
    )
    if not args.no_write:
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / "monitor.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
