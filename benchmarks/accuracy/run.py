"""Accuracy benchmark: P/R/F1 per variant kind at the default thresholds, for
Clearance and, on the same sets in the same run, three baselines:

* brute-force rapidfuzz Jaro-Winkler over every list name (flag at >= 0.90);
* brute-force rapidfuzz token-set ratio over every list name (flag at >= 90);
* nomenklatura ``logic-v2`` (yente's default) on Clearance's candidates
  (flag at >= 0.70, yente's default match threshold).

For a positive case, *recall* counts the expected entity among the flagged
hits; *precision* is the share of flagged cases whose flags include it.  For a
negative case, *flagged* is the share of cases with any flag.

    .venv/bin/python benchmarks/accuracy/run.py [--per-kind 300] [--no-baselines]

Writes benchmarks/results/accuracy.json and accuracy.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))
sys.path.insert(0, str(HERE.parents[1] / "src"))

from benchmarks.accuracy.corpus import load_corpus  # noqa: E402
from benchmarks.accuracy.sets import build_sets  # noqa: E402
from clearance.match.candidates import candidates  # noqa: E402
from clearance.match.normalize import analyze  # noqa: E402
from clearance.screen import Screener  # noqa: E402

RESULTS = HERE.parents[0] / "results"
JW_FLAG = 0.90
TOKEN_SET_FLAG = 90.0
LOGIC_V2_FLAG = 0.70

TARGETS = {
    "latin": ("recall", 0.99), "brand": ("recall", 0.95), "chinese": ("recall", 0.90), "person": ("recall", 0.97),
    "random_negative": ("flagged", 0.002), "hard_negative": ("flagged", 0.02),
}


def group(kind: str) -> str:
    if kind.startswith("latin_"):
        return "latin"
    if kind.startswith("person_"):
        return "person"
    return kind


def simple(text: str) -> str:
    from anyascii import anyascii
    from rapidfuzz.utils import default_process

    return default_process(anyascii(text or ""))


def brute_force(cases, corpus, scorer, cutoff, workers=2):
    """Flagged entity ids per case: every entity with a name scoring >= cutoff."""
    from rapidfuzz import process

    names, owners = [], []
    for _, entity in corpus:
        for _, value in entity.names():
            names.append(simple(value))
            owners.append(entity.id)
    queries = [simple(c["query"]) for c in cases]
    flagged = []
    for start in range(0, len(queries), 256):
        chunk = queries[start : start + 256]
        matrix = process.cdist(chunk, names, scorer=scorer, score_cutoff=cutoff, workers=workers, dtype="float32")
        for row in matrix:
            hits = {owners[j] for j in row.nonzero()[0]}
            flagged.append(hits)
    return flagged


def logic_v2(cases, corpus, screener):
    from followthemoney import model
    from nomenklatura.matching import get_algorithm
    from nomenklatura.matching.types import ScoringConfig

    algorithm = get_algorithm("logic-v2")
    config = ScoringConfig.defaults()
    index = screener.index
    by_no = {}

    def ftm(no):
        if no not in by_no:
            _, entity = corpus[no]
            proxy = model.make_entity(entity.schema if model.get(entity.schema) else "LegalEntity")
            proxy.id = entity.id
            for prop, values in entity.properties.items():
                if prop in proxy.schema.properties:
                    proxy.add(prop, values, quiet=True)
            by_no[no] = proxy
        return by_no[no]

    flagged = []
    for number, case in enumerate(cases):
        query = model.make_entity(case["schema"] or "LegalEntity")
        query.id = f"query-{number}"  # logic-v2 caches analysed names by entity id
        query.add("name", case["query"][:500], quiet=True)
        found = set()
        ent_nos = set()
        for form in analyze(case["query"]):
            for _, nid in candidates(index, form, 30):
                ent_nos.add(index.name_entity[nid])
        for no in ent_nos:
            if algorithm.compare(query, ftm(no), config).score >= LOGIC_V2_FLAG:
                found.add(corpus[no][1].id)
        flagged.append(found)
    return flagged


def evaluate(cases, flagged) -> dict:
    out = defaultdict(lambda: {"cases": 0, "tp": 0, "flagged_cases": 0, "flagged_correct": 0})
    for case, hits in zip(cases, flagged):
        row = out[case["kind"]]
        row["cases"] += 1
        if hits:
            row["flagged_cases"] += 1
        if case["expected"]:
            ok = bool(set(case["expected"]) & hits)
            row["tp"] += ok
            row["flagged_correct"] += ok and bool(hits)
    table = {}
    for kind, row in out.items():
        n = row["cases"]
        if any(c["expected"] for c in cases if c["kind"] == kind):
            recall = row["tp"] / n
            precision = row["flagged_correct"] / row["flagged_cases"] if row["flagged_cases"] else 0.0
            f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
            table[kind] = {"n": n, "recall": round(recall, 4), "precision": round(precision, 4), "f1": round(f1, 4)}
        else:
            table[kind] = {"n": n, "flagged": round(row["flagged_cases"] / n, 4)}
    return table


def threshold_sweep(corpus, cases) -> dict:
    """Flag rate per group as the review threshold moves (how the default was chosen)."""
    probe = Screener.from_entities(corpus, thresholds={"match": 0.99, "review": 0.4})
    best_expected, best_any = [], []
    for case in cases:
        hits = probe.check(case["query"], schema=case["schema"])["hits"]
        best_any.append(max((h["score"] for h in hits), default=0.0))
        best_expected.append(max((h["score"] for h in hits if h["entity_id"] in case["expected"]), default=0.0))
    table = {}
    for threshold in (0.60, 0.65, 0.68, 0.70, 0.72, 0.75, 0.78, 0.80, 0.86):
        rates: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for case, expected, anything in zip(cases, best_expected, best_any):
            g = group(case["kind"])
            rates[g][1] += 1
            rates[g][0] += (expected >= threshold) if case["expected"] else (anything >= threshold)
        table[f"{threshold:.2f}"] = {g: round(hit / n, 4) for g, (hit, n) in rates.items()}
    return table


def grouped(cases, flagged) -> dict:
    merged = [dict(c, kind=group(c["kind"])) for c in cases]
    return evaluate(merged, flagged)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-kind", type=int, default=300)
    parser.add_argument("--no-baselines", action="store_true")
    parser.add_argument("--show-misses", type=int, default=0, help="print this many misses per kind")
    args = parser.parse_args()

    corpus = load_corpus()
    sets = build_sets(corpus, per_kind=args.per_kind)
    cases = [c for kind in sets.values() for c in kind]
    screener = Screener.from_entities(corpus)
    started = time.perf_counter()
    ours, results = [], []
    for case in cases:
        result = screener.check(case["query"], schema=case["schema"])
        results.append(result)
        ours.append({h["entity_id"] for h in result["hits"]})
    elapsed = time.perf_counter() - started
    systems = {"clearance": ours}
    timings = {"clearance": elapsed}
    if not args.no_baselines:
        from rapidfuzz import fuzz
        from rapidfuzz.distance import JaroWinkler

        for label, fn in (
            ("rapidfuzz_jw", lambda: brute_force(cases, corpus, JaroWinkler.normalized_similarity, JW_FLAG)),
            ("rapidfuzz_token_set", lambda: brute_force(cases, corpus, fuzz.token_set_ratio, TOKEN_SET_FLAG)),
            ("nomenklatura_logic_v2", lambda: logic_v2(cases, corpus, screener)),
        ):
            t = time.perf_counter()
            systems[label] = fn()
            timings[label] = time.perf_counter() - t
            print(f"{label}: {timings[label]:.1f}s", file=sys.stderr)
    sweep = threshold_sweep(corpus, cases)
    report = {
        "threshold_sweep": sweep,
        "thresholds": {"match": screener.thresholds.match, "review": screener.thresholds.review},
        "baseline_flags": {"rapidfuzz_jw": JW_FLAG, "rapidfuzz_token_set": TOKEN_SET_FLAG, "nomenklatura_logic_v2": LOGIC_V2_FLAG},
        "corpus_entities": len(corpus),
        "cases": len(cases),
        "seconds": {k: round(v, 2) for k, v in timings.items()},
        "by_kind": {name: evaluate(cases, flagged) for name, flagged in systems.items()},
        "by_group": {name: grouped(cases, flagged) for name, flagged in systems.items()},
        "targets": {k: {"measure": m, "target": t} for k, (m, t) in TARGETS.items()},
    }
    if args.show_misses:
        for kind in sets:
            shown = 0
            for case, result in zip(cases, results):
                if case["kind"] != kind or shown >= args.show_misses:
                    continue
                hits = {h["entity_id"] for h in result["hits"]}
                wrong = (case["expected"] and not set(case["expected"]) & hits) or (not case["expected"] and hits)
                if wrong:
                    shown += 1
                    top = result["hits"][0] if result["hits"] else None
                    print(f"MISS {kind}: {case['query']!r} expected={case['expected']} top={top and (top['name'], top['score'])}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "accuracy.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
    markdown = render(report)
    (RESULTS / "accuracy.md").write_text(markdown)
    print(markdown)


def render(report: dict) -> str:
    systems = list(report["by_group"])
    lines = [
        "# Accuracy benchmark",
        "",
        f"Corpus: {report['corpus_entities']} entities (latest bundled capture of each official list); "
        f"{report['cases']} cases. Clearance thresholds: match {report['thresholds']['match']}, review "
        f"{report['thresholds']['review']} (flagged = match or review). Baseline flag levels: "
        + ", ".join(f"{k} >= {v}" for k, v in report["baseline_flags"].items()) + ".",
        "",
        "## By group (targets from issue #3)",
        "",
        "| group | n | target | " + " | ".join(systems) + " |",
        "|---|---|---|" + "---|" * len(systems),
    ]
    for name in report["by_group"]["clearance"]:
        row = report["by_group"]["clearance"][name]
        target = report["targets"].get(name)
        measure = "flagged" if "flagged" in row else "recall"
        goal = f"{measure} {'>=' if measure == 'recall' else '<='} {target['target']:.1%}" if target else ""
        cells = [f"{report['by_group'][s].get(name, {}).get(measure, float('nan')):.1%}" for s in systems]
        lines.append(f"| {name} | {row['n']} | {goal} | " + " | ".join(cells) + " |")
    lines += ["", "## By kind: recall / precision / F1 (positives), flagged share (negatives)", ""]
    lines.append("| kind | n | " + " | ".join(systems) + " |")
    lines.append("|---|---|" + "---|" * len(systems))
    for kind, row in report["by_kind"]["clearance"].items():
        cells = []
        for s in systems:
            r = report["by_kind"][s].get(kind, {})
            cells.append(f"{r['flagged']:.1%} flagged" if "flagged" in r else f"{r['recall']:.1%} / {r['precision']:.1%} / {r['f1']:.3f}")
        lines.append(f"| {kind} | {row['n']} | " + " | ".join(cells) + " |")
    sweep = report.get("threshold_sweep") or {}
    if sweep:
        groups = list(next(iter(sweep.values())))
        lines += ["", "## Threshold sweep (Clearance): share flagged at each review threshold", "",
                  "(recall for positive groups, false-flag rate for negative groups)", "",
                  "| review threshold | " + " | ".join(groups) + " |", "|---|" + "---|" * len(groups)]
        for threshold, row in sweep.items():
            lines.append(f"| {threshold} | " + " | ".join(f"{row[g]:.1%}" for g in groups) + " |")
    lines += ["", "Seconds per system for all cases: " + ", ".join(f"{k} {v}" for k, v in report["seconds"].items()), ""]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
