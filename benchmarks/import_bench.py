"""Import benchmark: time and peak memory to import every bundled capture into a
fresh store, per source and in all, against a baseline measured in the same run
(reading and tokenising the same files with the standard library only).

    .venv/bin/python benchmarks/import_bench.py [--db postgresql://...] [--repeat 3]

Prints a table and writes benchmarks/results/import.json.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from xml.etree import ElementTree

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from clearance.data import bundled_captures  # noqa: E402

CHILD = """
import json, os, resource, sys, time
from clearance.data import bundled_captures
from clearance.store import open_store
store = open_store(initialise=False)
timings = []
start = time.perf_counter()
for captured, source, folder in bundled_captures():
    t = time.perf_counter()
    result = store.import_files(folder, source, captured=captured)
    timings.append({"source": source, "captured": captured, "entities": result.snapshot.entity_count,
                    "seconds": time.perf_counter() - t})
total = time.perf_counter() - start
peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"total": total, "timings": timings, "peak_mib": peak_kib / 1024}))
"""


def baseline_seconds() -> float:
    """Read and tokenise every bundled file with the stdlib alone."""
    start = time.perf_counter()
    for _, _, folder in bundled_captures():
        for path in sorted(folder.iterdir()):
            data = path.read_bytes().decode("utf-8").replace("\x1a", "")
            if path.suffix == ".xml":
                ElementTree.fromstring(data.encode("utf-8"))
            else:
                delimiter = "\t" if path.suffix == ".txt" else ","
                for _ in csv.reader(io.StringIO(data), delimiter=delimiter):
                    pass
    return time.perf_counter() - start


def run_import(db: str | None) -> dict:
    with tempfile.TemporaryDirectory() as home:
        env = dict(os.environ, CLEARANCE_HOME=home)
        env.pop("CLEARANCE_DB", None)
        if db:
            env["CLEARANCE_DB"] = db
        out = subprocess.run([sys.executable, "-c", CHILD], env=env, check=True, capture_output=True, text=True)
        result = json.loads(out.stdout.strip().splitlines()[-1])
        result["db_bytes"] = sum(p.stat().st_size for p in Path(home).glob("clearance.db*")) if not db else None
        return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="database URL (default: SQLite in a temporary home)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    runs = [run_import(args.db) for _ in range(args.repeat)]
    best = min(runs, key=lambda r: r["total"])
    base = min(baseline_seconds() for _ in range(args.repeat))
    entities = sum(t["entities"] for t in best["timings"])
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"store: {args.db or 'SQLite (embedded)'}; best of {args.repeat}\n")
    print(f"{'source':16} {'captured':9} {'entities':>9} {'seconds':>8}")
    for t in best["timings"]:
        print(f"{t['source']:16} {t['captured']:9} {t['entities']:9,} {t['seconds']:8.2f}")
    print(f"\nall bundled lists: {entities:,} entities in {best['total']:.2f} s "
          f"({entities / best['total']:,.0f} entities/s), peak memory {best['peak_mib']:.0f} MiB")
    if best.get("db_bytes"):
        print(f"database size: {best['db_bytes'] / 1e6:.1f} MB")
    print(f"baseline (stdlib read + tokenise only): {base:.2f} s; import / baseline = {best['total'] / base:.1f}x")
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "import.json").write_text(json.dumps({**best, "baseline_seconds": base, "db": args.db or "sqlite"}, indent=2))


if __name__ == "__main__":
    main()
