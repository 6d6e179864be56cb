"""Candidate-generation check: for generated variants of list names (typos,
swaps, drops), is the entity that brute-force Jaro-Winkler over *all* list
names ranks first among the candidates Clearance scores?

Two counts are reported:

* ``lost_when_jw_right``: variants where JW ranks the variant's own entity
  first and Clearance's candidates miss it -- must be 0 (JW-findable entities
  are never lost by blocking);
* ``lost_any``: variants where JW's first entity, whatever it is, is missing.
  JW often ranks first an unrelated name that merely shares a prefix
  ("ltd rahat" -> "LRA"); those are reported, not hidden.

Brute force compares the normalised forms (the same strings the index holds;
the query too, as :func:`~clearance.match.normalize.analyze` reads it, so
"tilems" is compared as "tilem"), so the check is about candidate generation,
not about normalisation.

    .venv/bin/python benchmarks/accuracy/candidates_check.py [--variants 20000] [--seed 3]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))
sys.path.insert(0, str(HERE.parents[1] / "src"))

from benchmarks.accuracy.corpus import load_corpus  # noqa: E402
from clearance.match.candidates import candidates  # noqa: E402
from clearance.match.index import MatchIndex  # noqa: E402
from clearance.match.matcher import CANDIDATES, ROUGH_MIN  # noqa: E402
from clearance.match.normalize import analyze  # noqa: E402


def variant(rng: random.Random, tokens: list[str]) -> list[str]:
    """Typos, swaps and drops, as users make them."""
    tokens = list(tokens)
    for _ in range(rng.randint(1, 2)):
        kind = rng.random()
        i = rng.randrange(len(tokens))
        word = tokens[i]
        if kind < 0.6 and len(word) >= 4:
            j = rng.randrange(1, len(word))
            op = rng.choice("sdit")
            if op == "s":
                word = word[:j] + rng.choice("abcdefghijklmnopqrstuvwxyz") + word[j + 1 :]
            elif op == "d":
                word = word[:j] + word[j + 1 :]
            elif op == "i":
                word = word[:j] + rng.choice("abcdefghijklmnopqrstuvwxyz") + word[j:]
            elif j < len(word) - 1:
                word = word[:j] + word[j + 1] + word[j] + word[j + 2 :]
            tokens[i] = word
        elif kind < 0.8 and len(tokens) > 1:
            k = rng.randrange(len(tokens))
            tokens[i], tokens[k] = tokens[k], tokens[i]
        elif len(tokens) > 2:
            del tokens[i]
    return tokens


def check(index: MatchIndex, count: int, seed: int = 3, min_weight: float = 0.0, examples: int = 20) -> dict:
    from rapidfuzz import process
    from rapidfuzz.distance import JaroWinkler

    rng = random.Random(seed)
    keys = [" ".join(t) for t in index.name_strs]
    owners = list(index.name_entity)
    pool = [n for n in range(len(keys)) if len(keys[n]) >= 4]
    queries = []
    sources = []
    while len(queries) < count:
        nid = rng.choice(pool)
        tokens = variant(rng, list(index.name_strs[nid]))
        query = " ".join(tokens)
        if analyze(query):
            queries.append(query)
            sources.append(owners[nid])
    started = time.perf_counter()
    matrix = None
    lost = []
    lost_right = []
    jw_right = 0
    for start in range(0, len(queries), 500):
        chunk = queries[start : start + 500]
        # the query normalised as the list names are ("tilems" -> "tilem"): one
        # row per reading, a name's JW is its best over the readings
        readings = [analyze(query) for query in chunk]
        flat = [form.key for forms in readings for form in forms]
        matrix = process.cdist(flat, keys, scorer=JaroWinkler.normalized_similarity, workers=-1, dtype="float32")
        at = 0
        rows = []
        for forms in readings:
            rows.append(matrix[at] if len(forms) == 1 else matrix[at : at + len(forms)].max(axis=0))
            at += len(forms)
        for row, query, forms, source in zip(rows, chunk, readings, sources[start : start + 500]):
            top = float(row.max())
            winners = {owners[j] for j in (row >= top - 1e-6).nonzero()[0]}
            found = set()
            for form in forms:
                found |= {owners[n] for _, n in candidates(index, form, CANDIDATES, ROUGH_MIN)}
            if source in winners:
                jw_right += 1
                if source not in found:
                    lost_right.append(query)
            if not winners & found:
                lost.append({"query": query, "jw_top": round(top, 4), "jw_first": sorted(index.name_text[j] for j in (row >= top - 1e-6).nonzero()[0])[:3]})
    return {
        "variants": len(queries),
        "jw_ranks_own_entity_first": jw_right,
        "lost_when_jw_right": len(lost_right),
        "lost_when_jw_right_examples": lost_right[:examples],
        "lost_any": len(lost),
        "lost_any_examples": lost[:examples],
        "seconds": round(time.perf_counter() - started, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--variants", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=3, help="seed of the variant generator")
    parser.add_argument("--examples", type=int, default=20, help="losses listed per count")
    parser.add_argument("--out", type=Path, default=HERE.parents[0] / "results" / "candidates.json")
    args = parser.parse_args()
    index = MatchIndex.build(load_corpus())
    report = check(index, args.variants, seed=args.seed, examples=args.examples)
    report["seed"] = args.seed
    out = args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False))
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
