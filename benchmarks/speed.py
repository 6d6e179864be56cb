"""Speed benchmark: single-process ``check`` throughput and latency over the
bundled corpus, against brute-force rapidfuzz Jaro-Winkler over all names
measured in the same run; index build time, size, load time and peak memory;
and the same queries against a synthetic corpus of 1,000,000 entities.

    .venv/bin/python benchmarks/speed.py [--queries 5000] [--synthetic 1000000] [--brute 300] [--repeat 5]

On the bundled corpus, Clearance and the brute-force baseline are timed
``--repeat`` times, alternately (each Clearance run in a forked child that
unpickles the index, as a CLI process loads it, so every cache starts cold),
and the median run of each is reported:
a shared machine's slow spells then fall on both sides of the ratio, and one
bad spell does not decide the figure.  Every run is kept in the results.

Writes benchmarks/results/speed.json and speed.md.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import multiprocessing
import pickle
import random
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from benchmarks.accuracy.corpus import load_corpus  # noqa: E402
from benchmarks.accuracy.sets import build_sets  # noqa: E402
from clearance.match.compiled import status as compiled_status  # noqa: E402
from clearance.match.index import MatchIndex  # noqa: E402
from clearance.match.matcher import Matcher  # noqa: E402
from clearance.model import Entity  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def queries_for(corpus, count: int, seed: int = 11) -> list[str]:
    """A vendor-master-like mix: half variants of listed names, half unlisted names, each once."""
    sets = build_sets(corpus, seed=seed, per_kind=max(50, count // 20))
    positives = [c["query"] for kind, cases in sets.items() if kind not in ("random_negative", "hard_negative") for c in cases]
    negatives = [c["query"] for c in sets["random_negative"] + sets["hard_negative"]]
    rng = random.Random(seed)
    rng.shuffle(positives)
    rng.shuffle(negatives)
    half = count // 2
    mix = positives[:half] + negatives[: count - half]
    while len(mix) < count:
        mix += mix[: count - len(mix)]
    rng.shuffle(mix)
    return list(dict.fromkeys(mix))  # distinct: the matcher caches repeated names


def time_queries(matcher: Matcher, queries: list[str]) -> dict:
    warm = Matcher(matcher.index)  # warms the process (imports, first touch), not the timed matcher's name cache
    for q in queries[:200]:
        warm.match(q)
    gc.collect()
    gc.disable()
    latencies = []
    start = time.perf_counter()
    cpu = time.process_time()
    for q in queries:
        t = time.perf_counter()
        matcher.match(q)
        latencies.append(time.perf_counter() - t)
    total = time.perf_counter() - start
    cpu = time.process_time() - cpu
    gc.enable()
    latencies.sort()
    return {
        "queries": len(queries),
        "distinct": len(set(queries)),
        "qps": round(len(queries) / total, 1),
        "qps_per_cpu_second": round(len(queries) / cpu, 1),
        "mean_ms": round(1000 * total / len(queries), 4),
        "p50_ms": round(1000 * latencies[len(latencies) // 2], 4),
        "p99_ms": round(1000 * latencies[int(len(latencies) * 0.99) - 1], 4),
        "max_ms": round(1000 * latencies[-1], 3),
    }


def time_loaded(blob: bytes, queries: list[str]) -> dict:
    """:func:`time_queries` on the pickled index ``blob``, freshly loaded."""
    return time_queries(Matcher(pickle.loads(blob)), queries)


def in_child(function, *args):
    """``function(*args)`` in a forked child: this process's caches (the matcher's are
    per process) stay as they were, so each run starts from the same state."""
    with multiprocessing.get_context("fork").Pool(1) as pool:
        return pool.apply(function, args)


def median_run(runs: list[dict]) -> dict:
    """The run with the median queries/s (the lower middle one of an even count)."""
    return sorted(runs, key=lambda run: run["qps"])[(len(runs) - 1) // 2]


def brute_force(corpus, queries: list[str]) -> dict:
    from anyascii import anyascii
    from rapidfuzz import process
    from rapidfuzz.distance import JaroWinkler
    from rapidfuzz.utils import default_process

    names = [default_process(anyascii(v)) for _, e in corpus for _, v in e.names()]
    prepared = [default_process(anyascii(q)) for q in queries]
    start = time.perf_counter()
    cpu = time.process_time()
    for q in prepared:
        process.extractOne(q, names, scorer=JaroWinkler.normalized_similarity, processor=None)
    total = time.perf_counter() - start
    cpu = time.process_time() - cpu
    return {"queries": len(queries), "names": len(names), "qps": round(len(queries) / total, 1),
            "qps_per_cpu_second": round(len(queries) / cpu, 1), "mean_ms": round(1000 * total / len(queries), 3)}


SYLLABLES = "ba be bi bo bu da de di do du ka ke ki ko ku la le li lo lu ma me mi mo mu na ne ni no nu ra re ri ro ru sa se si so su ta te ti to tu va ve vi vo zan ber tor mar lin son gar hol vik sen ster dor mon".split()
WORDS = "trading group holding logistics shipping bank capital energy oil gas industrial technology services company international general import export investment development construction engineering".split()
FORMS = ["LLC", "LTD", "CO., LTD.", "GMBH", "S.A.", "INC.", "JSC", "OOO", ""]


def synthetic(count: int, seed: int = 5):
    """Synthetic list entries: coined words from a Zipf-like vocabulary plus common business words."""
    rng = random.Random(seed)
    vocab = ["".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))) for _ in range(count // 4 + 1000)]
    cumulative = list(itertools.accumulate(1.0 / (i + 1) ** 0.8 for i in range(len(vocab))))
    for n in range(count):
        entity = Entity(id=f"syn-{n}", schema="Person" if n % 3 == 0 else "Company")
        if entity.schema == "Person":
            first, last = rng.choices(vocab, cum_weights=cumulative, k=2)
            entity.add("name", f"{last.upper()}, {first.title()}")
        else:
            words = rng.choices(vocab, cum_weights=cumulative, k=rng.randint(1, 2)) + rng.sample(WORDS, rng.randint(0, 2))
            entity.add("name", " ".join(words).upper() + " " + rng.choice(FORMS))
            if rng.random() < 0.3:
                entity.add("alias", " ".join(rng.choices(vocab, cum_weights=cumulative, k=2)).upper())
        yield "synthetic", entity


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=5000)
    parser.add_argument("--brute", type=int, default=300, help="queries timed for the brute-force baseline")
    parser.add_argument("--synthetic", type=int, default=1_000_000, help="entities in the large corpus (0 to skip)")
    parser.add_argument("--repeat", type=int, default=5, help="alternating runs of Clearance and the baseline (medians reported)")
    args = parser.parse_args()
    report: dict = {"modules": compiled_status()}

    corpus = load_corpus()
    queries = queries_for(corpus, args.queries)
    rss0 = rss_mb()
    t = time.perf_counter()
    index = MatchIndex.build(corpus)
    build_s = time.perf_counter() - t
    blob = pickle.dumps(index, protocol=pickle.HIGHEST_PROTOCOL)
    t = time.perf_counter()
    index = pickle.loads(blob)
    load_s = time.perf_counter() - t
    report["bundled"] = {
        "entities": len(index), "names": index.name_count, "tokens": len(index.vocab),
        "build_s": round(build_s, 2), "index_bytes": len(blob), "load_s": round(load_s, 3),
        "peak_rss_mb_after_build": round(rss_mb(), 1), "rss_mb_before_build": round(rss0, 1),
    }
    ours, theirs = [], []
    for _ in range(max(1, args.repeat)):
        ours.append(in_child(time_loaded, blob, queries))
        theirs.append(brute_force(corpus, queries[: args.brute]))
    report["bundled"]["clearance"] = median_run(ours)
    report["bundled"]["brute_force_jw"] = median_run(theirs)
    ratio = report["bundled"]["clearance"]["qps"] / report["bundled"]["brute_force_jw"]["qps"]
    report["bundled"]["speedup_vs_brute_force"] = round(ratio, 1)
    cpu_ratio = report["bundled"]["clearance"]["qps_per_cpu_second"] / report["bundled"]["brute_force_jw"]["qps_per_cpu_second"]
    report["bundled"]["speedup_vs_brute_force_cpu"] = round(cpu_ratio, 1)
    report["bundled"]["runs"] = [
        {"clearance_qps": a["qps"], "brute_force_qps": b["qps"], "speedup": round(a["qps"] / b["qps"], 1)} for a, b in zip(ours, theirs)
    ]
    try:
        report["load_average_1min"] = round(__import__("os").getloadavg()[0], 2)
    except OSError:
        pass
    print(json.dumps(report["bundled"], indent=2), file=sys.stderr)

    if args.synthetic:
        del index, blob
        gc.collect()
        extra = max(0, args.synthetic - len(corpus))
        t = time.perf_counter()
        big = MatchIndex.build(list(corpus) + list(synthetic(extra)))
        build_big = time.perf_counter() - t
        t = time.perf_counter()
        blob = pickle.dumps(big, protocol=pickle.HIGHEST_PROTOCOL)
        dump_s = time.perf_counter() - t
        t = time.perf_counter()
        big = pickle.loads(blob)
        load_big = time.perf_counter() - t
        result = time_queries(Matcher(big), queries)
        report["synthetic"] = {
            "entities": len(big), "names": big.name_count, "tokens": len(big.vocab), "build_s": round(build_big, 1),
            "index_bytes": len(blob), "dump_s": round(dump_s, 2), "load_s": round(load_big, 2),
            "peak_rss_mb": round(rss_mb(), 1), "clearance": result,
            "cost_ratio_vs_bundled": round(result["mean_ms"] / report["bundled"]["clearance"]["mean_ms"], 2),
        }
        print(json.dumps(report["synthetic"], indent=2), file=sys.stderr)

    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "speed.json").write_text(json.dumps(report, indent=2))
    md = render(report)
    (RESULTS / "speed.md").write_text(md)
    print(md)


def runs_sentence(runs: list[dict]) -> str:
    """Every alternating run of the bundled-corpus timing, in one sentence (also for benchmarks/report.py)."""
    return (
        f"Medians of {len(runs)} alternating runs of each (each Clearance run in a fresh child process that loads "
        "the index, as a CLI run does). Every run, queries/s Clearance / brute force = speed-up: "
        + "; ".join(f"{x['clearance_qps']:,.0f} / {x['brute_force_qps']:,.0f} = {x['speedup']}x" for x in runs) + "."
    )


def render(r: dict) -> str:
    b = r["bundled"]
    c, bf = b["clearance"], b["brute_force_jw"]
    lines = [
        "# Speed benchmark (single process, one core)",
        "",
        f"Bundled corpus: {b['entities']} entities, {b['names']} names, {b['tokens']} distinct tokens.",
        f"Index build {b['build_s']} s, {b['index_bytes'] / 1e6:.1f} MB pickled, load {b['load_s']} s; peak RSS {b['peak_rss_mb_after_build']} MB.",
        "",
        "Matcher modules: " + ", ".join(f"{k} {v}" for k, v in r.get("modules", {}).items()) + ".",
        "",
        f"Machine load average during the run: {r.get('load_average_1min', '?')} (2 cores; other jobs running inflate wall-clock figures; "
        "queries per CPU-second is the per-core figure).",
        "",
        "| system | queries | queries/s (wall) | queries per CPU-second | mean ms | p50 ms | p99 ms |",
        "|---|---|---|---|---|---|---|",
        f"| clearance | {c['queries']} | {c['qps']} | {c['qps_per_cpu_second']} | {c['mean_ms']} | {c['p50_ms']} | {c['p99_ms']} |",
        f"| brute-force rapidfuzz JW over all {bf['names']} names | {bf['queries']} | {bf['qps']} | {bf['qps_per_cpu_second']} | {bf['mean_ms']} | | |",
        "",
        f"Speed-up vs brute force (same run): **{b['speedup_vs_brute_force']}x** wall-clock, "
        f"**{b['speedup_vs_brute_force_cpu']}x** per CPU-second.",
    ]
    if b.get("runs"):
        lines += ["", runs_sentence(b["runs"])]
    if "synthetic" in r:
        s = r["synthetic"]
        sc = s["clearance"]
        lines += [
            "",
            f"Synthetic corpus: {s['entities']} entities, {s['names']} names, {s['tokens']} tokens; build {s['build_s']} s, "
            f"{s['index_bytes'] / 1e6:.0f} MB pickled, load {s['load_s']} s, peak RSS {s['peak_rss_mb']} MB.",
            "",
            "| corpus | queries/s | mean ms | p50 ms | p99 ms |",
            "|---|---|---|---|---|",
            f"| bundled | {c['qps']} | {c['mean_ms']} | {c['p50_ms']} | {c['p99_ms']} |",
            f"| synthetic {s['entities']} | {sc['qps']} | {sc['mean_ms']} | {sc['p50_ms']} | {sc['p99_ms']} |",
            "",
            f"Per-query cost ratio, large vs bundled: **{s['cost_ratio_vs_bundled']}x**.",
        ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
