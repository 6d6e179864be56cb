"""Golden-output check for matcher speed work.

    .venv/bin/python benchmarks/golden.py record /tmp/golden.pkl   # before a matcher change
    .venv/bin/python benchmarks/golden.py check /tmp/golden.pkl    # after it: prints "identical" or the differences

Run from the repository root. For speed work that must not change any result.
Covers ~9,000 speed-benchmark queries (two seeds) and every accuracy-set case: per form the
candidates() list, per query the match() hits (entity id, status, score rounded to 1e-9) and explanations.
"""

from __future__ import annotations

import pickle
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "src")]

# the imports below need the paths above
from benchmarks.speed import queries_for, load_corpus
from benchmarks.accuracy.sets import build_sets
from clearance.match.compiled import status
from clearance.match.index import MatchIndex
from clearance.match.matcher import Matcher, CANDIDATES, ROUGH_MIN
from clearance.match.candidates import candidates
from clearance.match.normalize import analyze


def outputs() -> dict:
    """Every recorded output, keyed by what produced it."""
    corpus = load_corpus()
    qs = list(dict.fromkeys(queries_for(corpus, 5000) + queries_for(corpus, 5000, seed=99)))
    sets = build_sets(corpus, seed=7, per_kind=300)
    cases = [(c["query"], c.get("schema")) for cases in sets.values() for c in cases]
    index = MatchIndex.build(corpus)
    m = Matcher(index)
    out = {}
    for q in qs:
        out[("cand", q)] = [[(round(r, 9), n) for r, n in candidates(index, f, CANDIDATES, ROUGH_MIN)] for f in analyze(q)]
        out[("match", q)] = [(h["entity_id"], h["status"], round(h["score"], 9), h["explanation"]) for h in m.match(q, include_clear=True)]
    for q, schema in cases:
        out[("case", q, schema)] = [(h["entity_id"], h["status"], round(h["score"], 9)) for h in m.match(q, schema=schema, include_clear=True)]
    return out

if __name__ == "__main__":
    mode, path = sys.argv[1], sys.argv[2]
    print("modules:", status(), file=sys.stderr)
    got = outputs()
    if mode == "record":
        pickle.dump(got, open(path, "wb"))
        print("recorded", len(got))
    else:
        want = pickle.load(open(path, "rb"))
        bad = [k for k in want if want[k] != got.get(k)]
        for k in bad[:10]:
            print("DIFF", k, "\n  want", want[k], "\n  got ", got.get(k))
        print("identical" if not bad else f"{len(bad)} of {len(want)} differ")
        sys.exit(1 if bad else 0)
