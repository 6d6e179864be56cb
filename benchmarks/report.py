"""The benchmark report: run every benchmark (or collect what they last wrote)
and write docs/benchmarks.md with the figures, the machine and the ratios
against the baselines measured in the same run.

    .venv/bin/python benchmarks/report.py            # collect benchmarks/results/*.json -> docs/benchmarks.md
    .venv/bin/python benchmarks/report.py --run      # run them all first (what `make bench` does)
    .venv/bin/python benchmarks/report.py --run --quick   # smaller sizes, minutes instead of an hour

Benchmarks (each writes benchmarks/results/NAME.json): speed (Clearance vs
brute-force rapidfuzz), accuracy (vs rapidfuzz and nomenklatura logic-v2),
batch, ownership, assets, fuzz, import, load, and the fault-injection trials
(tests/test_faults.py with CLEARANCE_LONG=1, appending to faults.jsonl).
A result file older than this run's start is marked stale in the report.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
PY = sys.executable

#: name -> (full command, quick command); each writes RESULTS/<file>.
BENCHES: dict[str, tuple[list[str], list[str], str]] = {
    "speed": ([PY, "benchmarks/speed.py"], [PY, "benchmarks/speed.py", "--queries", "2000", "--synthetic", "0"], "speed.json"),
    "accuracy": ([PY, "benchmarks/accuracy/run.py"], [PY, "benchmarks/accuracy/run.py", "--per-kind", "60"], "accuracy.json"),
    "batch": ([PY, "benchmarks/batch.py", "--rows", "50000", "--spark-rows", "20000", "--monitor-rows", "200000", "20000", "1000000"],
              [PY, "benchmarks/batch.py", "--rows", "10000", "--skip", "spark", "--monitor-rows", "5000"], "batch.json"),
    "ownership": ([PY, "benchmarks/ownership.py"], [PY, "benchmarks/ownership.py", "--edges", "100000", "--nodes", "50000"], "ownership.json"),
    "assets": ([PY, "benchmarks/assets.py", "--json", "benchmarks/results/assets.json"],
               [PY, "benchmarks/assets.py", "--json", "benchmarks/results/assets.json"], "assets.json"),
    "fuzz": ([PY, "benchmarks/fuzz.py", "--cases", "2000"], [PY, "benchmarks/fuzz.py", "--cases", "200"], "fuzz.json"),
    "import": ([PY, "benchmarks/import_bench.py"], [PY, "benchmarks/import_bench.py", "--repeat", "1"], "import.json"),
    "load": ([PY, "benchmarks/load.py", "--duration", "60"], [PY, "benchmarks/load.py", "--duration", "15", "--overload-duration", "8", "--probe-seconds", "3"], "load.json"),
    "faults": ([PY, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_faults.py"],
               [PY, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_faults.py"], "faults.jsonl"),
}


# -- the machine -----------------------------------------------------------------------------------


def machine() -> dict:
    info = {"python": platform.python_version(), "platform": platform.platform(terse=True)}
    try:
        info["cores"] = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        info["cores"] = os.cpu_count()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                info["ram_gib"] = round(int(line.split()[1]) / 2**20, 1)
                break
        info["load_average"] = [round(x, 2) for x in os.getloadavg()]
    except OSError:  # pragma: no cover - not Linux
        pass
    return info


# -- running -----------------------------------------------------------------------------------------


def run(names: list[str], quick: bool, log) -> dict:
    ran = {}
    for name in names:
        full, small, out = BENCHES[name]
        command = small if quick else full
        env = dict(os.environ)
        if name == "faults":
            (RESULTS / out).unlink(missing_ok=True)
            env.update(CLEARANCE_FAULT_REPORT=str(RESULTS / out))
            if not quick:
                env["CLEARANCE_LONG"] = "1"
        log(f"== {name}: {' '.join(Path(c).name if i == 0 else c for i, c in enumerate(command))}")
        started = time.monotonic()
        result = subprocess.run(command, cwd=ROOT, env=env)
        ran[name] = {"seconds": round(time.monotonic() - started, 1), "exit": result.returncode}
        log(f"   {name}: exit {result.returncode} in {ran[name]['seconds']:.0f}s")
    return ran


# -- collecting ---------------------------------------------------------------------------------------


def load_results(started: float | None) -> tuple[dict, dict]:
    data, ages = {}, {}
    for name, (_, _, out) in BENCHES.items():
        path = RESULTS / out
        if not path.exists():
            continue
        text = path.read_text(encoding="utf-8")
        data[name] = [json.loads(line) for line in text.splitlines() if line.strip()] if out.endswith(".jsonl") else json.loads(text)
        mtime = path.stat().st_mtime
        ages[name] = {"written": dt.datetime.fromtimestamp(mtime).strftime("%Y-%m-%d %H:%M"),
                      "stale": started is not None and mtime < started}
    return data, ages


def pct(x: float | None, digits: int = 1) -> str:
    return "-" if x is None else f"{x * 100:.{digits}f}%"


def num(x, digits: int = 1) -> str:
    if x is None:
        return "-"
    if isinstance(x, int) or (isinstance(x, float) and x.is_integer() and abs(x) >= 100):
        return f"{int(x):,}"
    return f"{x:,.{digits}f}"


def section_summary(d: dict) -> list[str]:
    rows = []
    s = d.get("speed", {}).get("bundled")
    if s:
        rows.append(("Single-query matching (1 core, bundled lists)", f"{num(s['clearance']['qps'])} queries/s, p50 {s['clearance']['p50_ms']:.2f} ms, p99 {s['clearance']['p99_ms']:.2f} ms",
                     f"**{s['speedup_vs_brute_force']}x** brute-force rapidfuzz ({num(s['brute_force_jw']['qps'])} q/s)"))
    a = d.get("accuracy")
    if a:
        c, n = a["by_group"]["clearance"], a["by_group"].get("nomenklatura_logic_v2", {})
        text = f"latin recall {pct(c['latin']['recall'])}, Chinese {pct(c['chinese']['recall'])}, random negatives flagged {pct(c['random_negative']['flagged'], 2)}"
        vs = (f"nomenklatura logic-v2: latin {pct(n['latin']['recall'])}, Chinese {pct(n['chinese']['recall'])}, flagged {pct(n['random_negative']['flagged'], 2)}; "
              f"**{a['seconds']['nomenklatura_logic_v2'] / a['seconds']['clearance']:.0f}x** faster") if n else "-"
        rows.append(("Accuracy (%s cases)" % num(a["cases"]), text, vs))
    b = d.get("batch", {}).get("local")
    if b:
        rows.append(("Batch screening (`clearance screen`)", f"{num(b['rows'])} rows at **{num(b['rows_per_s'])} rows/s** on {b['workers']} workers, peak RSS {num(b['peak_rss_tree_mb'])} MB", "-"))
    m = d.get("batch", {}).get("monitor")
    if m:
        larger = "".join(f"; {num(x['rows'])} rows: **{x['speedup']}x** ({x['incremental_s']} s vs {x['full_s']} s)" for x in d["batch"].get("monitor_sizes", d["batch"].get("monitor_larger", [])))
        rows.append(("Monitoring after a list update", f"{num(m['rows'])}-row portfolio re-screened in {m['incremental_s']} s, alerts identical to a full re-screen: {m['alerts_identical']}", f"**{m['speedup']}x** a full re-screen ({m['full_s']} s){larger}"))
    o = d.get("ownership")
    if o:
        wall = o.get("wall_s", {})
        rows.append(("Ownership aggregation", f"{num(o['edges'])} edges, {num(o['nodes'])} nodes: {wall.get('aggregate (all nodes, 2 families)', '-')} s",
                     f"**{o.get('speedup_restricted_vs_python_cpu', '-')}x** pure Python (CPU)"))
    s = d.get("assets")
    if s:
        rows.append(("Covered equipment", f"{s['devices']} devices: precision {s['covered']['precision']:.3f}, recall {s['covered']['recall']:.3f}",
                     f"label substring: recall {s['baseline_label_substring']['recall']:.3f}; OUI vendor substring: recall {s['baseline_oui_vendor_substring']['recall']:.3f}"))
    i = d.get("import")
    if i:
        rows.append(("List import (all bundled captures)", f"{num(sum(t['entities'] for t in i['timings']))} entities in {i['total']:.1f} s, peak {num(i['peak_mib'])} MiB, {num(i['db_bytes'] / 1e6)} MB on disk", f"stdlib read + tokenise only: {i.get('baseline_seconds', 0):.2f} s ({i['total'] / max(i.get('baseline_seconds') or 1e-9, 1e-9):.1f}x)"))
    l = d.get("load", {}).get("sustained")
    if l:
        lat = l["latency_ms_all"]
        rows.append(("Server under load (`clearance serve`)", f"**{l['rps']} req/s** for {l['seconds']:.0f} s at {l['concurrency']} users, p50/p95/p99 {lat['p50']}/{lat['p95']}/{lat['p99']} ms, {l['requests'] - l['ok']} errors",
                     f"max RSS {d['load']['rss'].get('max_mib')} MiB"))
    f = d.get("fuzz")
    if f:
        rows.append(("Hostile input (fuzzing)", f"{num(f['inputs'])} inputs over {len(f['results'])} parsers: {f.get('new_failures', f['failures'])} new crashes/hangs", f"{f['failures']} in parsers with a reported bug" if f["failures"] else "-"))
    fl = d.get("faults")
    if fl:
        trials = sum(r.get("trials", 0) for r in fl)
        rows.append(("Fault injection (SIGKILL, full disk)", f"{trials} trials survived, nothing lost", "-"))
    out = ["| what | figure | against the baseline (same run) |", "|---|---|---|"]
    out += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    return out


def section_speed(d: dict) -> list[str]:
    s = d.get("speed")
    if not s:
        return []
    b = s["bundled"]
    out = ["## Matching speed (`benchmarks/speed.py`)", "",
           f"Bundled corpus: {num(b['entities'])} entities, {num(b['names'])} names; index build {b['build_s']} s, {b['index_bytes'] / 1e6:.1f} MB, load {b['load_s']} s; peak RSS {b['peak_rss_mb_after_build']} MB.", "",
           "| system | queries | queries/s | mean ms | p50 ms | p99 ms |", "|---|---|---|---|---|---|",
           f"| Clearance | {b['clearance']['queries']} | {num(b['clearance']['qps'])} | {b['clearance']['mean_ms']:.3f} | {b['clearance']['p50_ms']:.3f} | {b['clearance']['p99_ms']:.3f} |",
           f"| brute-force rapidfuzz Jaro-Winkler over all {num(b['brute_force_jw']['names'])} names | {b['brute_force_jw']['queries']} | {num(b['brute_force_jw']['qps'])} | {b['brute_force_jw']['mean_ms']:.2f} | | |",
           "", f"Ratio, same run: **{b['speedup_vs_brute_force']}x** the brute-force baseline."]
    if b.get("runs"):
        sys.path.insert(0, str(ROOT))
        from benchmarks.speed import runs_sentence

        out += ["", runs_sentence(b["runs"])]
    syn = s.get("synthetic")
    if syn:
        out += ["", f"Synthetic corpus of {num(syn['entities'])} entities: {num(syn['clearance']['qps'])} queries/s, p99 {syn['clearance']['p99_ms']:.2f} ms; build {syn['build_s']} s, peak RSS {num(syn['peak_rss_mb'])} MB; per-query cost {syn['cost_ratio_vs_bundled']}x the bundled corpus."]
    return out + [""]


def section_accuracy(d: dict) -> list[str]:
    a = d.get("accuracy")
    if not a:
        return []
    systems = [s for s in ("clearance", "rapidfuzz_jw", "rapidfuzz_token_set", "nomenklatura_logic_v2") if s in a["by_group"]]
    out = ["## Accuracy (`benchmarks/accuracy/run.py`)", "",
           f"{num(a['cases'])} labelled cases over {num(a['corpus_entities'])} list entries. Clearance flags at review >= {a['thresholds']['review']}; "
           + ", ".join(f"{k} >= {v}" for k, v in a["baseline_flags"].items()) + ".", "",
           "| group | n | target | " + " | ".join(systems) + " |", "|---|---|---|" + "---|" * len(systems)]
    for group, target in a["targets"].items():
        cells = []
        for system in systems:
            g = a["by_group"][system][group]
            cells.append(pct(g.get(target["measure"])))
        n = a["by_group"]["clearance"][group]["n"]
        sign = ">=" if target["measure"] == "recall" else "<="
        out.append(f"| {group} | {n} | {target['measure']} {sign} {pct(target['target'])} | " + " | ".join(cells) + " |")
    secs = a["seconds"]
    out += ["", "Seconds for all cases: " + ", ".join(f"{k} {v}" for k, v in secs.items())
            + (f" — Clearance is **{secs['nomenklatura_logic_v2'] / secs['clearance']:.0f}x** faster than nomenklatura logic-v2 and **{secs['rapidfuzz_jw'] / secs['clearance']:.1f}x** faster than brute-force rapidfuzz JW, same run." if "nomenklatura_logic_v2" in secs else ""), ""]
    return out


def section_batch(d: dict) -> list[str]:
    b = d.get("batch")
    if not b:
        return []
    sys.path.insert(0, str(ROOT))
    from benchmarks.batch import render

    return ["## Batch screening and monitoring (`benchmarks/batch.py`)", ""] + render(b) + [""]


def section_ownership(d: dict) -> list[str]:
    o = d.get("ownership")
    if not o:
        return []
    out = ["## Ownership (`benchmarks/ownership.py`)", "", f"{num(o['edges'])} edges, {num(o['nodes'])} nodes.", "", "| step | wall s | CPU s |", "|---|---|---|"]
    for k, v in o.get("wall_s", {}).items():
        out.append(f"| {k} | {v} | {o.get('cpu_s', {}).get(k, '-')} |")
    out += ["", f"Restricted-share computation vs pure Python, CPU: **{o.get('speedup_restricted_vs_python_cpu')}x**; peak RSS {o.get('max_rss_mib_process')} MiB.", ""]
    return out


def section_assets(d: dict) -> list[str]:
    s = d.get("assets")
    if not s:
        return []
    out = ["## Covered equipment (`benchmarks/assets.py`)", "", f"{s['devices']} labelled devices ({s['covered_truth']} covered), screened in {s['seconds']} s.", "",
           "| system | precision | recall | tp | fp | fn |", "|---|---|---|---|---|---|"]
    for key, name in (("covered", "Clearance: covered"), ("flagged", "Clearance: covered + review"),
                      ("baseline_label_substring", "baseline: label contains a producer name"),
                      ("baseline_oui_vendor_substring", "baseline: OUI vendor contains a producer name")):
        x = s[key]
        out.append(f"| {name} | {x['precision']:.3f} | {x['recall']:.3f} | {x['tp']} | {x['fp']} | {x['fn']} |")
    return out + [""]


def section_import(d: dict) -> list[str]:
    i = d.get("import")
    if not i:
        return []
    out = ["## List import (`benchmarks/import_bench.py`)", "", "| source | captured | entities | seconds |", "|---|---|---|---|"]
    for t in i["timings"]:
        out.append(f"| {t['source']} | {t['captured']} | {num(t['entities'])} | {t['seconds']:.2f} |")
    out += ["", f"All {len(i['timings'])} captures in {i['total']:.1f} s ({i['db']}), peak {num(i['peak_mib'])} MiB, {i['db_bytes'] / 1e6:.1f} MB on disk.", ""]
    return out


def section_load(d: dict) -> list[str]:
    l = d.get("load")
    if not l:
        return []
    out = ["## Server load (`benchmarks/load.py`)", "",
           "`clearance serve` on loopback (one uvicorn worker, SQLite), half `POST /match/default`, half `POST /screen` "
           "(each recorded as a run with its alerts), " + ", ".join(f"{v} {k}" for k, v in l.get("queries", {}).items()) + " names.", ""]
    if l.get("probes"):
        out += ["Capacity probe: " + "; ".join(f"{p['concurrency']} users {p['rps']} req/s" for p in l["probes"]) + ".", ""]
    out += ["| phase | users | seconds | requests | req/s | p50 ms | p95 ms | p99 ms | statuses |", "|---|---|---|---|---|---|---|---|---|"]
    for name in ("sustained", "overload", "rate_limited"):
        r = l.get(name)
        if not r:
            continue
        lat = r.get("latency_ms_all", {})
        statuses = ", ".join(f"{k}: {v}" for k, v in r["statuses"].items()) + (f"; transport errors {r['transport_errors']}" if r["transport_errors"] else "")
        out.append(f"| {name} | {r['concurrency']} | {r['seconds']:.0f} | {num(r['requests'])} | {r['rps']} | {lat.get('p50', '-')} | {lat.get('p95', '-')} | {lat.get('p99', '-')} | {statuses} |")
        for endpoint in ("match", "screen", "me"):
            e = r.get(f"latency_ms_{endpoint}")
            if e:
                out.append(f"| &nbsp;&nbsp;/{endpoint} | | | {num(e['n'])} | {r.get(f'rps_{endpoint}')} | {e['p50']} | {e['p95']} | {e['p99']} | |")
    drift = l.get("sustained", {}).get("drift", {})
    if drift:
        out += ["", "Median latency over the sustained phase: " + "; ".join(
            f"/{e} {d['p50_ms_first_fifth']} ms in the first fifth -> {d['p50_ms_last_fifth']} ms in the last" for e, d in drift.items()) + "."]
    rss = l.get("rss", {})
    sus = l.get("sustained", {}).get("rss", {})
    out += ["", f"Server RSS: start {rss.get('start_mib')} MiB, max {rss.get('max_mib')} MiB, end {rss.get('end_mib')} MiB; during the sustained phase "
            f"{sus.get('first_tenth_mean_mib')} MiB (first tenth) -> {sus.get('last_tenth_mean_mib')} MiB (last tenth). "
            f"Healthy after the overload phase: {l.get('healthy_after_overload')}; tracebacks in the server log: {l.get('server_log_tracebacks')}."]
    if l.get("rss_over_time"):
        out += ["", "RSS over time (s: MiB): " + ", ".join(f"{t:.0f}: {v:.0f}" for t, v in l["rss_over_time"])]
    if l.get("failures"):
        out += ["", "**Failures:** " + "; ".join(l["failures"])]
    return out + [""]


def section_fuzz(d: dict) -> list[str]:
    f = d.get("fuzz")
    if not f:
        return []
    out = ["## Hostile input (`benchmarks/fuzz.py`)", "",
           f"Mutated real seeds and random bytes; per-case bound {f.get('time_bound_s', 5)} s, address space capped at {f.get('cap_mib', '-')} MiB.", "",
           "| parser | inputs | parsed | refused (one line) | crash | hang | memory |", "|---|---|---|---|---|---|---|"]
    for r in f["results"]:
        note = " (bug reported)" if r.get("known_bug") and (r["crash"] or r["hang"] or r.get("memory")) else ""
        out.append(f"| {r['parser']}{note} | {num(r['inputs'])} | {num(r['ok'])} | {num(r['refused'])} | {r['crash']} | {r['hang']} | {r.get('memory', 0)} |")
    known = [r for r in f["results"] if r.get("known_bug") and (r["crash"] or r["hang"] or r.get("memory"))]
    out += ["", f"{num(f['inputs'])} inputs; {f.get('new_failures', f['failures'])} crashes, hangs or runaway allocations outside the reported bugs"
            + (" (" + "; ".join(f"{r['parser']}: {r['crash'] + r['hang'] + r.get('memory', 0)}, {r['known_bug']}" for r in known) + ")" if known else "")
            + f"; peak memory {f['peak_mib']:.0f} MiB.", ""]
    return out


def section_faults(d: dict) -> list[str]:
    fl = d.get("faults")
    if not fl:
        return []
    out = ["## Fault injection (`tests/test_faults.py`, `CLEARANCE_LONG=1`)", "",
           "SIGKILL at random moments of `clearance screen` (the main process, or its whole process group) and of a list import, "
           "on SQLite and PostgreSQL. After each: `store verify` clean, every committed run, alert and decision unchanged, a run "
           "recorded whole or not at all, no worker left behind, the output absent or complete; the rerun identical to an "
           "uninterrupted run. The disk-full cases (a size-capped tmpfs and RLIMIT_FSIZE) run in every `make test`.", ""]
    out += [f"- {r['line']}" for r in fl]
    return out + [""]


def write_markdown(d: dict, ages: dict, info: dict, ran: dict | None, path: Path) -> None:
    load = info.get("load_average")
    lines = ["# Benchmarks", "",
             "Written by `benchmarks/report.py` (`make bench`); every figure below comes from `benchmarks/results/*.json` "
             "as the benchmarks wrote them, and each ratio is against a baseline measured in the same run.", "",
             f"Machine: {info.get('cores')} cores ({info.get('cpu', 'unknown CPU')}), {info.get('ram_gib', '?')} GiB RAM, Python {info['python']}, {info['platform']}"
             + (f"; load average {load[0]} / {load[1]} / {load[2]} when the report was written (the machine was shared)" if load else "") + ".", "",
             "## Summary", ""]
    lines += section_summary(d) + [""]
    for section in (section_speed, section_accuracy, section_batch, section_ownership, section_assets, section_import, section_load, section_fuzz, section_faults):
        lines += section(d)
    lines += ["## Provenance", "", "| benchmark | results written | stale | run here |", "|---|---|---|---|"]
    for name in BENCHES:
        if name in ages:
            r = (ran or {}).get(name)
            how = f"exit {r['exit']}, {r['seconds']:.0f} s" if r else "collected"
            lines.append(f"| {name} | {ages[name]['written']} | {'yes' if ages[name]['stale'] else 'no'} | {how} |")
        else:
            lines.append(f"| {name} | (no results) | | |")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", action="store_true", help="run the benchmarks first")
    parser.add_argument("--quick", action="store_true", help="with --run: smaller sizes")
    parser.add_argument("--only", action="append", default=[], choices=list(BENCHES), help="with --run: only these (repeatable)")
    parser.add_argument("--skip", action="append", default=[], choices=list(BENCHES), help="with --run: not these")
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "benchmarks.md")
    args = parser.parse_args()
    started = time.time() if args.run else None
    ran = None
    if args.run:
        names = [n for n in (args.only or BENCHES) if n not in args.skip]
        ran = run(names, args.quick, lambda m: print(m, flush=True))
    data, ages = load_results(started if args.run and not args.only and not args.skip else None)
    info = machine()
    write_markdown(data, ages, info, ran, args.output)
    print(f"wrote {args.output.relative_to(ROOT) if args.output.is_relative_to(ROOT) else args.output}")
    failed = [n for n, r in (ran or {}).items() if r["exit"] not in (0,)]
    if failed:
        print("benchmarks that exited non-zero: " + ", ".join(failed), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
