"""Cost of the review workflow's ``sync`` (and of a decision) as alerts accumulate.

    .venv/bin/python benchmarks/review_sync.py [--alerts 50000] [--db URL] [--out FILE]

What it does, in a fresh temporary Clearance home (SQLite unless ``--db``):

1. imports a fabricated block list (``bench-list``, 400 companies) and makes a
   reviewer;
2. records ``--alerts`` alerts the way ``POST /screen`` does:
   :func:`clearance.cases.screening.screen_records` (real matching, a run row,
   its alerts, their inputs, an audit entry, then ``review.sync``), 1,000
   records a call;
3. times, each the median of ``--repeat`` tries:

   ``sync_noop_ms``        ``review.sync`` with nothing new;
   ``sync_new_run_ms``     ``review.sync`` after one more run with one alert
                           (recorded with ``runs.insert_run`` /
                           ``alert_rows`` / ``insert_many``, as the batch
                           screener does, so the sync is timed on its own),
                           with the alert rows it read where the review module
                           reports them (``sync_new_run_alerts_read``);
   ``screen_one_ms``       a whole one-record ``screen_records`` call (matching,
                           recording, sync, annotation);
   ``decide_ms``           ``review.decide`` (a dismissal: sync, decision,
                           suppression, audit entry, in one transaction);

4. prints the figures as JSON (and writes them to ``--out`` if given).

Run it before and after a change to ``cases/review.py`` to compare.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

WORDS_A = ["Zorblax", "Quonset", "Velmora", "Kestrin", "Oberlin", "Drayvex", "Talmont", "Pyrenex", "Soldrake", "Marqueth",
           "Brivane", "Casteral", "Nembrook", "Ulvaris", "Gadrell", "Hexamor", "Ivoria", "Jentrix", "Lunavar", "Ostrada"]
WORDS_B = ["Heavy Industries", "Dynamics Trading", "Shipping", "Petrochemical", "Aerospace",
           "Metals", "Logistics", "Electronics", "Maritime", "Engineering",
           "Holdings", "Chemicals", "Mining", "Textiles", "Energy",
           "Optics", "Machinery", "Pharma", "Freight", "Systems"]


def names() -> list[str]:
    return [f"{a} {b}" for a in WORDS_A for b in WORDS_B]


def median_ms(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return round(statistics.median(times), 2)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--alerts", type=int, default=50_000, help="alerts to record before timing (default 50,000)")
    parser.add_argument("--repeat", type=int, default=5, help="tries per figure; the median is reported")
    parser.add_argument("--db", help="database URL (default: SQLite in a temporary home)")
    parser.add_argument("--out", type=Path, help="also write the JSON figures here")
    args = parser.parse_args(argv)

    home = Path(tempfile.mkdtemp(prefix="clearance-review-sync-"))
    os.environ["CLEARANCE_HOME"] = str(home)
    if args.db:
        os.environ["CLEARANCE_DB"] = args.db
    else:
        os.environ.pop("CLEARANCE_DB", None)

    from sqlalchemy import func, select

    from clearance.cases import ensure_tables, review, screening, users
    from clearance.cases.users import Principal
    from clearance.screen import Screener
    from clearance.store import open_store
    from clearance.store import runs as r

    store = open_store(initialise=False)
    ensure_tables(store.engine)
    listing = home / "bench-list.csv"
    all_names = names()
    listing.write_text("id,name,aliases,country,schema\n" + "".join(f"e{i},{n},,KP,Company\n" for i, n in enumerate(all_names)))
    store.import_files(listing, "bench-list", captured="2026-01")
    users.add_user(store, "rita", "reviewer", actor="bench")
    from clearance.cases.tables import users as user_table

    with store.engine.connect() as conn:
        uid = conn.execute(select(user_table.c.id).where(user_table.c.name == "rita")).scalar()
    rita = Principal(uid, "rita", "reviewer", "bench")
    screener = Screener(store=store)

    def count_alerts() -> int:
        with store.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(r.alerts)).scalar()

    # -- build: alerts recorded the way POST /screen records them ------------------------------------
    t0, calls, n, i = time.perf_counter(), 0, 0, 0
    while n < args.alerts:
        batch = [{"name": all_names[(i + k) % len(all_names)], "country": "KP"} for k in range(1000)]
        i += 1000
        out = screening.screen_records(store, screener, batch, "bench")
        calls += 1
        n += sum(1 for res in out["results"] for hit in res.get("hits") or [] if "alert" in hit)
    build_s = time.perf_counter() - t0
    n = count_alerts()

    # -- timings ----------------------------------------------------------------------------------
    review.sync(store)
    sync_noop = median_ms(lambda: review.sync(store), args.repeat)

    snaps = {s.source: {"version": s.version, "snapshot_id": s.id} for s in store.active_snapshots(None)}
    template = screening.screen_records(store, screener, [{"name": all_names[0], "country": "KP"}], "bench", record=False)["results"][0]

    def one_run() -> None:
        stamp = r.now()
        with store.engine.connect().execution_options(immediate=True) as conn, conn.begin():
            run_id = r.insert_run(conn, {
                "kind": "screen", "portfolio_id": None, "started_at": stamp, "finished_at": stamp, "input_path": "bench",
                "snapshots": [], "thresholds": {}, "engine": "bench", "rows": 1, "matches": 1, "reviews": 0, "clears": 0, "errors": 0,
            })
            r.insert_many(conn, r.alerts, list(r.alert_rows(template, "0:bench", run_id, None, snaps, stamp))[:1])

    # sync_report (with the rows it read) where this review module has it; plain sync before the watermark
    sync_fn = getattr(review, "sync_report", review.sync)
    sync_times, examined = [], []
    for _ in range(args.repeat):
        one_run()
        t1 = time.perf_counter()
        report = sync_fn(store)
        sync_times.append((time.perf_counter() - t1) * 1000)
        if hasattr(report, "examined"):
            examined.append(report.examined)
    sync_new = round(statistics.median(sync_times), 2)

    screen_one = median_ms(lambda: screening.screen_records(store, screener, [{"name": all_names[1], "country": "KP"}], "bench"), args.repeat)

    queue = iter(a["id"] for a in review.queue(store, "open", order="newest", limit=args.repeat)[0])
    decide = median_ms(lambda: review.decide(store, next(queue), "dismissed", "benchmark: a different company", rita), args.repeat)

    figures = {
        "benchmark": "review_sync",
        "database": store.engine.dialect.name,
        "alerts": n,
        "build": {"screen_calls": calls, "seconds": round(build_s, 1)},
        "sync_noop_ms": sync_noop,
        "sync_new_run_ms": sync_new,
        "sync_new_run_alerts_read": max(examined) if examined else None,
        "screen_one_ms": screen_one,
        "decide_ms": decide,
        "repeat": args.repeat,
    }
    store.engine.dispose()
    text = json.dumps(figures, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    return figures


if __name__ == "__main__":
    main()
