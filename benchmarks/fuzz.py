"""Fuzz every list parser at volume: mutated real seeds and random bytes.

    .venv/bin/python benchmarks/fuzz.py [--cases 2000] [--seed 1]

For each parser prints inputs tried, how many parsed, how many were refused
with a one-line SourceError, and crashes (any other exception) or hangs (over
the per-case time bound) — which must be zero. Writes benchmarks/results/fuzz.json.
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
    args = parser.parse_args()
    signal.signal(signal.SIGALRM, _alarm)
    rng = random.Random(args.seed)
    results = []
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "case"
        for target in TARGETS:
            seed = target.seed()
            counts = {"ok": 0, "refused": 0, "crash": 0, "hang": 0}
            start = time.perf_counter()
            for i in range(args.cases):
                data = target.mutate(seed, rng) if i % 4 else bytes(rng.randrange(256) for _ in range(rng.randint(0, 2048)))
                signal.alarm(TIME_BOUND_S)
                try:
                    counts[run_case(target, data, folder)] += 1
                except Hang:
                    counts["hang"] += 1
                    failures.append((target.name, "hang", data[:200]))
                except Exception as exc:  # noqa: BLE001 - that is what we are counting
                    counts["crash"] += 1
                    failures.append((target.name, f"{type(exc).__name__}: {exc}"[:200], data[:200]))
                finally:
                    signal.alarm(0)
            results.append({"parser": target.name, "inputs": args.cases, **counts,
                            "seconds": round(time.perf_counter() - start, 2)})
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{'parser':15} {'inputs':>7} {'parsed':>7} {'refused':>8} {'crash':>6} {'hang':>5} {'seconds':>8}")
    for r in results:
        print(f"{r['parser']:15} {r['inputs']:7} {r['ok']:7} {r['refused']:8} {r['crash']:6} {r['hang']:5} {r['seconds']:8.1f}")
    total = sum(r["inputs"] for r in results)
    bad = sum(r["crash"] + r["hang"] for r in results)
    print(f"\n{total} inputs in all, {bad} crashes or hangs; peak memory {peak:.0f} MiB")
    for name, what, data in failures[:10]:
        print(f"  {name}: {what} <- {data!r}")
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "fuzz.json").write_text(json.dumps({"results": results, "inputs": total, "failures": bad,
                                               "peak_mib": peak}, indent=2))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
