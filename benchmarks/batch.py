"""Batch screening benchmarks: throughput, memory, monitor speed-up.

    python benchmarks/batch.py                      # 1,000,000 rows (long: see the rates below)
    python benchmarks/batch.py --rows 100000 --skip spark --skip monitor   # a quick local run
    python benchmarks/batch.py --rows 50000 --spark-rows 20000 --monitor-rows 20000

Measures, on a private copy of the bundled store:

1. ``clearance screen`` (local engine, all cores) over N synthetic counterparty
   rows — company and person names in Latin, Chinese and Cyrillic script, with
   0.5% real listed names planted: rows/s and the peak RSS of the whole
   process tree (parent + workers, sampled every 0.1 s), the CPU seconds of
   the tree, and the per-run cache's hit rate (rows answered by an identical
   earlier query's result); then the *pipeline ceiling*: the same run with
   the screening of a query replaced by a trivial stand-in (patched in this
   benchmark's child process only), i.e. read -> map -> IPC -> serialise ->
   write alone;
2. the same on Spark ``local[2]`` (rows/s with and without session start-up);
3. ``monitor run`` after OFAC SDN 2019-01 -> 2021-07 on a portfolio, against
   a full re-screen of the same portfolio, and whether their alerts agree.

Results go to ``benchmarks/results/batch.json`` and ``batch.md``.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
#: ``clearance`` with the batch commands registered (also before cli.main imports them).
CLEARANCE = [sys.executable, "-c", "import sys, clearance.cli.screen; from clearance.cli import main; sys.argv[0] = 'clearance'; main()"]
#: The same, printing the run's cache figures (``BENCH {...}`` on stderr) once the CLI has screened.
_REPORT = """
import json, sys, clearance.cli.screen
import clearance.screen.batch as batch
from clearance.cli import main
_screen_file = batch.screen_file
def screen_file(*args, **kwargs):
    summary = _screen_file(*args, **kwargs)
    print("BENCH " + json.dumps({"rows": summary.rows, "screened": getattr(summary, "screened", None),
                                 "reused": getattr(summary, "reused", None), "elapsed": summary.elapsed}), file=sys.stderr)
    return summary
batch.screen_file = screen_file
"""
CLEARANCE_REPORTING = [sys.executable, "-c", _REPORT + "sys.argv[0] = 'clearance'\nmain()"]
#: ... and with every query screened by a trivial stand-in (clear, no hits): the pipeline ceiling.
_STUB = """
from clearance.screen.check import Screener
def check(self, name=None, **kwargs):
    return {"row": 0, "input": {}, "status": "clear", "hits": []}
Screener.check = check
"""
CLEARANCE_STUBBED = [sys.executable, "-c", _REPORT + _STUB + "sys.argv[0] = 'clearance'\nmain()"]

LATIN = (
    "acme global trading northern pacific logistics supply holdings united industrial services marine energy "
    "atlas summit vertex harbor meridian pioneer crescent falcon granite horizon keystone liberty orchard "
    "phoenix quantum redwood sterling titan unity vanguard willow zenith apex beacon cobalt delta evergreen"
).split()
FORMS = ["Ltd", "GmbH", "LLC", "SA", "Inc", "BV", "AG", "Co., Ltd.", "S.p.A.", "Pty Ltd", "Oy", "AB"]
HAN_PLACES = ["上海", "深圳", "广州", "北京", "杭州", "苏州", "天津", "重庆", "宁波", "厦门"]
HAN_WORDS = ["华信", "远航", "新材", "光电", "精密", "机械", "贸易", "物流", "电子", "化工", "纺织", "食品"]
CYR_WORDS = ["Северный", "Торговый", "Дом", "Промышленный", "Альянс", "Восток", "Энерго", "Строй", "Транс", "Сервис"]
FIRST = ["James", "Maria", "Wei", "Olga", "Ahmed", "Sofia", "Kenji", "Lucas", "Amara", "Ivan", "Chen", "Fatima"]
LAST = ["Smith", "Garcia", "Wang", "Ivanova", "Hassan", "Rossi", "Tanaka", "Silva", "Okafor", "Petrov", "Li", "Khan"]
COUNTRIES = ["US", "DE", "CN", "RU", "GB", "FR", "IN", "BR", "JP", "AE", ""]


SYLLABLES = "ka lo ven dor mi tra sel qu an ber zo ri mar tel no vi gra pel sto lu fen da cor is ul bra ne ox".split()


def brand(rng: random.Random) -> str:
    """A made-up distinctive name part ("Kelvaro"), as most real company names have one."""
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.choice((2, 3, 3)))).title()


def synthetic_rows(n: int, planted: list[str], seed: int = 889):
    """(name, country, type) rows: mixed scripts, 0.5% real listed names planted.

    Companies are a made-up brand, often a generic word and a legal form
    ("Kelvaro Logistics GmbH", "上海华信光电有限公司", "ООО «Северный Альянс»");
    people are common given and family names from several regions, some of
    which lists also hold (so they go through full scoring, as in real files).
    """
    rng = random.Random(seed)
    for i in range(n):
        roll = rng.random()
        if planted and roll < 0.005:
            yield rng.choice(planted), "", ""
        elif roll < 0.55:
            middle = f" {rng.choice(LATIN).title()}" if rng.random() < 0.6 else ""
            yield f"{brand(rng)}{middle} {rng.choice(FORMS)}", rng.choice(COUNTRIES), "Company"
        elif roll < 0.70:
            yield f"{rng.choice(HAN_PLACES)}{rng.choice(HAN_WORDS)}{rng.choice(HAN_WORDS)}有限公司", "CN", "Company"
        elif roll < 0.80:
            yield f"ООО «{rng.choice(CYR_WORDS)} {rng.choice(CYR_WORDS)}»", "RU", "Company"
        else:
            yield f"{rng.choice(FIRST)} {brand(rng) if rng.random() < 0.5 else rng.choice(LAST)}", rng.choice(COUNTRIES), "Person"


def write_input(path: Path, n: int, planted: list[str]) -> int:
    """Write the input CSV; returns how many distinct queries it holds."""
    distinct = set()
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "name", "country", "type"])
        for i, row in enumerate(synthetic_rows(n, planted)):
            distinct.add(row)
            writer.writerow([f"R{i:07d}", *row])
    return len(distinct)


def make_home(base: Path) -> Path:
    home = base / "home"
    home.mkdir()
    env = dict(os.environ, CLEARANCE_HOME=str(home))
    env.pop("CLEARANCE_DB", None)
    subprocess.run([sys.executable, "-m", "clearance", "store", "init"], env=env, check=True, capture_output=True)
    subprocess.run([sys.executable, "-c", "from clearance.screen import Screener; Screener().index"], env=env, check=True)
    return home


def planted_names(home: Path, k: int = 400) -> list[str]:
    os.environ["CLEARANCE_HOME"] = str(home)
    from clearance.store import open_store

    store = open_store(initialise=False)
    names = [e.caption for _, e in store.active_entities() if e.schema in ("Company", "Organization", "Person")]
    return random.Random(7).sample(names, k)


class TreeRSS:
    """Peak summed RSS of a process and its children, sampled."""

    def __init__(self, pid: int, every: float = 0.1):
        import psutil

        self.proc = psutil.Process(pid)
        self.peak = 0
        self.peak_single = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(every,), daemon=True)
        self._thread.start()

    def _run(self, every: float) -> None:
        import psutil

        while not self._stop.is_set():
            try:
                procs = [self.proc, *self.proc.children(recursive=True)]
                sizes = []
                for p in procs:
                    try:
                        sizes.append(p.memory_info().rss)
                    except psutil.Error:
                        pass
                self.peak = max(self.peak, sum(sizes))
                self.peak_single = max(self.peak_single, max(sizes, default=0))
            except psutil.Error:
                pass
            time.sleep(every)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def bench_local(home: Path, src: Path, rows: int, out: Path, command: list[str] | None = None) -> dict:
    import resource

    env = dict(os.environ, CLEARANCE_HOME=str(home))
    env.pop("CLEARANCE_DB", None)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.Popen(
        [*(command or CLEARANCE_REPORTING), "screen", str(src), "-o", str(out)], env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    rss = TreeRSS(proc.pid)
    _, err = proc.communicate()
    seconds = time.perf_counter() - started
    rss.stop()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the CLI and its workers (it reaps them)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    lines = sum(1 for _ in out.open(encoding="utf-8"))
    assert lines == rows, f"{lines} records for {rows} rows: {err}"
    result = {
        "rows": rows, "seconds": round(seconds, 2), "rows_per_s": round(rows / seconds, 1),
        "peak_rss_tree_mb": round(rss.peak / 2**20, 1), "peak_rss_one_process_mb": round(rss.peak_single / 2**20, 1),
        "cpu_s": round(cpu, 1), "workers": len(os.sched_getaffinity(0)), "exit": proc.returncode,
        "summary": [line for line in err.strip().splitlines() if "rows screened" in line][-1:] if err else [],
    }
    report = [json.loads(line[6:]) for line in err.splitlines() if line.startswith("BENCH ")]
    if report:
        x = report[-1]
        result.update(screening_s=round(x["elapsed"], 2), screening_rows_per_s=round(rows / x["elapsed"], 1) if x["elapsed"] else None)
        if x["reused"] is not None:
            result.update(screened=x["screened"], reused=x["reused"], cache_hit_rate=round(x["reused"] / max(1, x["rows"]), 4))
    return result


def bench_ceiling(home: Path, src: Path, rows: int, out: Path) -> dict:
    """The pipeline alone: ``bench_local`` with each query screened by a trivial stand-in."""
    result = bench_local(home, src, rows, out, CLEARANCE_STUBBED)
    return {k: result[k] for k in ("rows", "seconds", "rows_per_s", "screening_rows_per_s", "peak_rss_tree_mb", "cpu_s") if k in result}


def bench_spark(home: Path, src: Path, rows: int, out: Path) -> dict:
    os.environ["CLEARANCE_HOME"] = str(home)
    from clearance.screen.spark import screen_file_spark, session
    from clearance.store import open_store

    t0 = time.perf_counter()
    spark = session("local[2]")
    spark.sparkContext.setLogLevel("ERROR")
    spark.range(1).count()
    startup = time.perf_counter() - t0
    try:
        t1 = time.perf_counter()
        summary = screen_file_spark(open_store(initialise=False), src, out, "parquet", spark=spark, record=False)
        seconds = time.perf_counter() - t1
    finally:
        spark.stop()
    assert summary.rows == rows
    return {"rows": rows, "seconds": round(seconds, 2), "rows_per_s": round(rows / seconds, 1), "session_start_s": round(startup, 2)}


def bench_monitor(rows: int) -> dict:
    """Portfolio screened at SDN 2019-01; then SDN 2021-07: monitor run vs full re-screen
    (benchmarks/monitor.py: medians of three runs of each, from the same registered state)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from benchmarks.monitor import run

    return run(rows=rows, repeat=3)


def _figure(value) -> str:
    """A number with thousands separators, or "?" when an older results file lacks it."""
    return "?" if value is None else f"{value:,}"


def render(results: dict) -> list[str]:
    """One Markdown bullet per measured part (also used by benchmarks/report.py)."""
    lines: list[str] = []
    if "local" in results:
        x = results["local"]
        lines.append(f"- local engine: {x['rows']:,} rows in {x['seconds']}s = **{x['rows_per_s']:,} rows/s** on {x['workers']} workers ({_figure(x.get('distinct_queries'))} distinct queries); peak RSS {x['peak_rss_tree_mb']} MB (process tree), {x['peak_rss_one_process_mb']} MB (largest process)")
        if "cache_hit_rate" in x:
            lines.append(f"  - {x.get('cpu_s', '?')} CPU-s in the process tree; per-run cache: {x['reused']:,} of {x['rows']:,} rows answered by an identical earlier query (**{100 * x['cache_hit_rate']:.1f}% hit rate**), {x['screened']:,} queries screened; {x['screening_rows_per_s']:,} rows/s over the screening loop alone (without start-up)")
    if "ceiling" in results:
        x = results["ceiling"]
        lines.append(f"- pipeline ceiling (each query screened by a trivial stand-in; read -> map -> IPC -> ownership -> serialise -> write): {x['rows']:,} rows in {x['seconds']}s = **{x['rows_per_s']:,} rows/s** ({_figure(x.get('screening_rows_per_s'))} rows/s over the screening loop), {x.get('cpu_s', '?')} CPU-s")
    if "spark" in results:
        x = results["spark"]
        lines.append(f"- Spark local[2]: {x['rows']:,} rows in {x['seconds']}s = **{x['rows_per_s']:,} rows/s** (+{x['session_start_s']}s session start)")
    for x in ([results["monitor"]] if "monitor" in results else []) + results.get("monitor_sizes", results.get("monitor_larger", [])):
        lines.append(f"- monitor run after SDN 2019-01 -> 2021-07, {x['rows']:,}-row portfolio: {x['incremental_s']}s vs full re-screen {x['full_s']}s = **{x['speedup']}x**; alerts identical: {x['alerts_identical']} ({x['open_alerts']} open: {x['new']} new, {x['changed']} changed, {x['resolved']} resolved; {x['rows_rescreened']} rows re-screened)")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--spark-rows", type=int, default=None, help="rows for Spark (default: --rows)")
    parser.add_argument("--monitor-rows", type=int, nargs="+", default=[20_000], help="portfolio sizes for the monitor section (the first is the headline; the issue's scenario is a 200,000-row vendor master)")
    parser.add_argument("--skip", action="append", default=[], choices=["local", "ceiling", "spark", "monitor"])
    parser.add_argument("--no-write", action="store_true", help="print the results only (leave benchmarks/results alone)")
    args = parser.parse_args()
    results: dict = {}
    if args.skip and (RESULTS / "batch.json").exists():  # keep the parts not re-run
        results = json.loads((RESULTS / "batch.json").read_text())
    results["machine"] = {"cores": len(os.sched_getaffinity(0)), "python": sys.version.split()[0]}
    with tempfile.TemporaryDirectory(prefix="clearance-bench-") as tmp:
        base = Path(tmp)
        home = make_home(base)
        planted = planted_names(home)
        if "local" not in args.skip or "ceiling" not in args.skip:
            src = base / "in.csv"
            distinct = write_input(src, args.rows, planted)
        if "local" not in args.skip:
            results["local"] = bench_local(home, src, args.rows, base / "out.jsonl")
            results["local"]["distinct_queries"] = distinct
            print("local:", json.dumps(results["local"]), flush=True)
            (base / "out.jsonl").unlink()
        if "ceiling" not in args.skip:
            results["ceiling"] = bench_ceiling(home, src, args.rows, base / "out.jsonl")
            print("ceiling:", json.dumps(results["ceiling"]), flush=True)
            (base / "out.jsonl").unlink()
        if "spark" not in args.skip:
            n = args.spark_rows or args.rows
            src = base / "spark.csv"
            write_input(src, n, planted)
            results["spark"] = bench_spark(home, src, n, base / "spark.parquet")
            print("spark:", json.dumps(results["spark"]), flush=True)
        if "monitor" not in args.skip:
            sizes = [bench_monitor(n) for n in args.monitor_rows]
            results["monitor"] = sizes[0]
            if len(sizes) > 1:
                results["monitor_sizes"] = sizes[1:]  # the other portfolio sizes
            for x in sizes:
                print("monitor:", json.dumps({k: v for k, v in x.items() if not k.startswith("stages")}), flush=True)
    if not args.no_write:
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / "batch.json").write_text(json.dumps(results, indent=2) + "\n")
    lines = ["# Batch screening benchmark", "", f"Machine: {results['machine']['cores']} cores, Python {results['machine']['python']}.", ""]
    lines += render(results)
    if not args.no_write:
        (RESULTS / "batch.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
