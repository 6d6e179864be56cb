"""Fuzz every parser at volume: mutated real seeds and random bytes.

    .venv/bin/python benchmarks/fuzz.py [--cases 2000] [--seed 1] [--target NAME ...] [--max-memory-mib 4096]

Parsers: the list formats (OFAC CSV, UN XML, DPL, CSL CSV/JSON, FtM JSON,
user lists) and the user files (inventories as CSV/JSON Lines/XLSX, nmap XML,
transaction JSON, screening inputs as CSV/JSON Lines/XLSX) - see
tests/fuzzing.py.  For each prints inputs tried, how many parsed, how many
were refused with one error line, and crashes (any other exception, a row
whose record hides an internal exception, a lost row, a formula in an
export), hangs (over the per-case time bound) and runaway memory (over the
address-space cap) - which must be zero.  Crashes in a target with a bug
already reported (``known_bug``) are counted and shown, but do not fail the
run.  Writes benchmarks/results/fuzz.json.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import signal
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fuzzing import TARGETS, run_case  # noqa: E402

TIME_BOUND_S = 5


class Hang(Exception):
    pass


def _alarm(signum, frame):
    raise Hang()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=2000, help="inputs per parser")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--target", action="append", default=[], help="only this parser (repeatable)")
    parser.add_argument("--max-memory-mib", type=int, default=4096, help="address-space cap: a runaway allocation fails as MemoryError")
    args = parser.parse_args()
    cap = args.max_memory_mib * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (cap, resource.getrlimit(resource.RLIMIT_AS)[1]))
    signal.signal(signal.SIGALRM, _alarm)
    rng = random.Random(args.seed)
    results = []
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "case"
        for target in TARGETS:
            if args.target and target.name not in args.target:
                continue
            seed = target.seed()
            counts = {"ok": 0, "refused": 0, "crash": 0, "hang": 0, "memory": 0}
            start = time.perf_counter()
            for i in range(args.cases):
                data = target.mutate(seed, rng) if i % 4 else bytes(rng.randrange(256) for _ in range(rng.randint(0, 2048)))
                signal.alarm(TIME_BOUND_S)
                try:
                    counts[run_case(target, data, folder)] += 1
                except Hang:
                    counts["hang"] += 1
                    failures.append((target.name, "hang", data[:200]))
                except MemoryError:
                    counts["memory"] += 1
                    failures.append((target.name, "memory", data[:200]))
                except Exception as exc:  # noqa: BLE001 - that is what we are counting
                    counts["crash"] += 1
                    failures.append((target.name, f"{type(exc).__name__}: {exc}"[:200], data[:200]))
                finally:
                    signal.alarm(0)
            results.append({"parser": target.name, "inputs": args.cases, **counts,
                            "seconds": round(time.perf_counter() - start, 2),
                            "peak_mib_so_far": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                            "known_bug": target.known_bug})
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{'parser':17} {'inputs':>7} {'parsed':>7} {'refused':>8} {'crash':>6} {'hang':>5} {'memory':>6} {'seconds':>8}")
    for r in results:
        mark = "  (known bug, reported)" if r["known_bug"] and (r["crash"] or r["hang"] or r["memory"]) else ""
        print(f"{r['parser']:17} {r['inputs']:7} {r['ok']:7} {r['refused']:8} {r['crash']:6} {r['hang']:5} {r['memory']:6} {r['seconds']:8.1f}{mark}")
    total = sum(r["inputs"] for r in results)
    bad = sum(r["crash"] + r["hang"] + r["memory"] for r in results)
    new = sum(r["crash"] + r["hang"] + r["memory"] for r in results if not r["known_bug"])
    print(f"\n{total} inputs in all, {bad} crashes, hangs or runaway allocations ({new} outside known, reported bugs); "
          f"peak memory {peak:.0f} MiB (cap {args.max_memory_mib} MiB)")
    kinds: dict[tuple[str, str], list] = {}
    for name, what, data in failures:
        kinds.setdefault((name, what.split(":")[0]), [0, what, data])[0] += 1
    for (name, _), (n, what, data) in sorted(kinds.items(), key=lambda kv: -kv[1][0])[:20]:
        print(f"  {name}: {n} x {what[:110]}  <- {data[:60]!r}")
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "fuzz.json").write_text(json.dumps({"results": results, "inputs": total, "failures": bad, "new_failures": new,
                                               "peak_mib": peak, "cap_mib": args.max_memory_mib,
                                               "time_bound_s": TIME_BOUND_S}, indent=2))
    return 1 if new else 0


if __name__ == "__main__":
    sys.exit(main())
