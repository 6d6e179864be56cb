"""Ownership benchmark: aggregate exposure for every node of a synthetic graph of
1,000,000 ownership edges, time and peak memory, against a pure-Python baseline.

    .venv/bin/python benchmarks/ownership.py [--edges 1000000] [--nodes 500000] [--seed 7]

The graph: ``--nodes`` companies, each edge an owner -> owned holding; 98% of
edges point from an older to a newer company (a DAG of holding chains), 2% the
other way, making cross-holdings (cycles). Every company's stated holders add
up to at most 100%. 1% of companies are "SDN-listed", 0.5% "Entity List".

Measured:

* ``compile``  - the engine turning the graph into sparse arrays;
* ``aggregate`` - look-through share and restricted/counted share (the 50%
  rules' least fixed point) of **every** node, for both families;
* ``exposure x1000`` - full exposure records (rules, paths, per-owner shares)
  for 1,000 nodes that have any exposure;
* ``baseline`` - the restricted fixed point computed with a pure-Python
  worklist over dicts (the obvious implementation), checked equal.

Prints a table and writes benchmarks/results/ownership.json.
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import resource
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from clearance.ownership.aggregate import Arrays, lookthrough, restricted  # noqa: E402
from clearance.ownership.engine import OwnershipEngine  # noqa: E402
from clearance.ownership.graph import Edge, Listing, Node, OwnershipGraph  # noqa: E402
from clearance.ownership.policy import load_policy  # noqa: E402

AS_OF = "2026-01-15"


def synthetic(nodes: int, edges: int, seed: int):
    rng = np.random.default_rng(seed)
    owned = rng.integers(1, nodes, size=edges)
    forward = rng.random(edges) < 0.98
    owner = np.where(forward, (rng.random(edges) * owned).astype(np.int64), rng.integers(0, nodes, size=edges))
    keep = owner != owned
    owner, owned = owner[keep], owned[keep]
    # One statement per pair.
    pair = owner * nodes + owned
    _, first = np.unique(pair, return_index=True)
    owner, owned = owner[first], owned[first]
    share = rng.uniform(0.05, 0.6, size=owner.size)
    total = np.bincount(owned, weights=share, minlength=nodes)
    cap = rng.uniform(0.6, 1.0, size=nodes)
    scale = np.where(total > cap, cap / np.maximum(total, 1e-12), 1.0)
    share = np.round(share * scale[owned] * 100, 2)  # percent, 2 decimals
    share = np.maximum(share, 0.01)
    sdn = rng.random(nodes) < 0.01
    el = (rng.random(nodes) < 0.005) & ~sdn
    return owner, owned, share, sdn, el


def baseline_restricted(nodes: int, owner, owned, weight, listed, threshold=0.5):
    """The obvious pure-Python worklist: dict adjacency, counted shares, a queue."""
    children: dict[int, list[tuple[int, float]]] = {}
    for o, d, w in zip(owner.tolist(), owned.tolist(), weight.tolist()):
        children.setdefault(o, []).append((d, w))
    blocked = set(np.flatnonzero(listed).tolist())
    counted: dict[int, float] = {}
    queue = list(blocked)
    while queue:
        node = queue.pop()
        for child, w in children.get(node, ()):
            counted[child] = counted.get(child, 0.0) + w
            if child not in blocked and counted[child] >= threshold - 1e-9:
                blocked.add(child)
                queue.append(child)
    return blocked


CPU: dict[str, float] = {}


def timed(fn, *args):
    """(value, wall seconds); the CPU seconds go to CPU[fn name] (the machine may be shared)."""
    start, cpu = time.perf_counter(), time.process_time()
    value = fn(*args)
    CPU[getattr(fn, "__name__", "?")] = time.process_time() - cpu
    return value, time.perf_counter() - start


def peak_mib(fn, *args) -> float:
    tracemalloc.start()
    tracemalloc.reset_peak()
    fn(*args)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edges", type=int, default=1_000_000)
    parser.add_argument("--nodes", type=int, default=500_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "results" / "ownership.json")
    args = parser.parse_args()

    owner, owned, percent, sdn, el = synthetic(args.nodes, args.edges, args.seed)
    n, m = args.nodes, owner.size
    weight = percent / 100.0
    rows = []

    # -- core: aggregates of every node, both families ----------------------------------
    arrays = Arrays.build(n, owner, owned, weight)

    def aggregate_all():
        out = {}
        for name, listed in (("sdn", sdn), ("el", el)):
            share, rounds_l = lookthrough(arrays, listed)
            mask, counted, rounds_r = restricted(arrays, listed, 0.5)
            out[name] = (share, mask, counted, rounds_l, rounds_r)
        return out

    result, t_aggregate = timed(aggregate_all)
    arrays = Arrays.build(n, owner, owned, weight)  # fresh CSR for a fair memory figure
    m_aggregate = peak_mib(aggregate_all)
    sdn_share, sdn_mask, _, rounds_l, rounds_r = result["sdn"]
    rows.append(("aggregate (all nodes, 2 families)", t_aggregate, m_aggregate, CPU["aggregate_all"]))

    # -- baseline: pure-Python worklist for the restricted fixed point (SDN family) ----
    blocked_py, t_base = timed(baseline_restricted, n, owner, owned, weight, sdn)
    assert blocked_py == set(np.flatnonzero(sdn_mask).tolist()), "baseline and numpy disagree"
    def numpy_restricted():  # the same work from the same inputs: CSR built, then the fixed point
        return restricted(Arrays.build(n, owner, owned, weight), sdn, 0.5)

    t_core_restricted = timed(numpy_restricted)[1]
    rows.append(("baseline: pure-Python restricted (SDN)", t_base, None, CPU["baseline_restricted"]))
    rows.append(("numpy restricted (SDN), same work", t_core_restricted, None, CPU["numpy_restricted"]))

    # -- engine: from a graph of 1M Edge objects to exposure records -------------------
    def engine_build():
        gc.disable()  # as the engine does while compiling: 1M small objects
        graph = OwnershipGraph()
        for i in range(n):  # names are not indexed: lookups here are by key
            graph.nodes[f"n{i}"] = Node(key=f"n{i}", name=f"Company {i}")
        policy = load_policy()
        for i in np.flatnonzero(sdn).tolist():
            graph.nodes[f"n{i}"].listings.append(Listing(f"n{i}", "us-ofac-sdn", ("us-ofac-sdn",)))
        for i in np.flatnonzero(el).tolist():
            graph.nodes[f"n{i}"].listings.append(Listing(f"n{i}", "us-trade-csl", ("us-bis-entity-list",)))
        graph.edges = [
            Edge(f"n{o}", f"n{d}", "ownership", p, source="synthetic")
            for o, d, p in zip(owner.tolist(), owned.tolist(), percent.tolist())
        ]
        gc.enable()
        return OwnershipEngine(graph, policy, AS_OF)

    engine, t_engine = timed(engine_build)
    rows.append((f"engine: {m:,} Edge objects built and compiled", t_engine, None, CPU["engine_build"]))
    _, t_all = timed(engine.compute_all)
    rows.append(("engine: aggregates, all 5 families", t_all, None, CPU["compute_all"]))
    exposed = np.flatnonzero((sdn_share > 0) & ~sdn)
    sample = [f"n{i}" for i in exposed[: args.queries].tolist()]

    def queries():
        return [engine.exposure_of(key, max_paths=10) for key in sample]

    records, t_queries = timed(queries)
    rows.append((f"engine: exposure records x{len(sample)}", t_queries, None, CPU["queries"]))
    max_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    derived = int(sdn_mask.sum() - sdn.sum())
    summary = {
        "edges": int(m),
        "nodes": n,
        "listed_sdn": int(sdn.sum()),
        "listed_el": int(el.sum()),
        "derived_blocked_sdn": derived,
        "nodes_with_sdn_share": int((sdn_share > 0).sum()),
        "lookthrough_rounds_sdn": rounds_l,
        "restricted_rounds_sdn": rounds_r,
        "wall_s": {name: round(t, 3) for name, t, _, _ in rows},
        "cpu_s": {name: round(c, 3) for name, _, _, c in rows},
        "peak_traced_mib_aggregate": round(m_aggregate, 1),
        "max_rss_mib_process": round(max_rss, 1),
        "speedup_restricted_vs_python_cpu": round(CPU["baseline_restricted"] / max(CPU["numpy_restricted"], 1e-9), 1),
        "blocked_in_sample": sum(r["blocked"] for r in records),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "machine": platform.machine(),
    }
    print(f"synthetic graph: {n:,} nodes, {m:,} ownership edges; {int(sdn.sum()):,} SDN-listed, {int(el.sum()):,} EL-listed")
    print(f"{'phase':48} {'wall s':>8} {'CPU s':>8} {'peak MiB':>9}")
    for name, seconds, mib, cpu in rows:
        print(f"{name:48} {seconds:8.3f} {cpu:8.3f} {'' if mib is None else f'{mib:9.1f}':>9}")
    print(
        f"derived blocked (50% rule): {derived:,}; look-through rounds {rounds_l}, restricted rounds {rounds_r}; "
        f"numpy restricted is {summary['speedup_restricted_vs_python_cpu']}x the pure-Python worklist (CPU); "
        f"process max RSS {max_rss:.0f} MiB"
    )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
