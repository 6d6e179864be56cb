"""Load test: a real ``clearance serve`` on loopback, driven with real queries.

    .venv/bin/python benchmarks/load.py [--duration 60] [--overload-duration 20] [--home HOME]

What it does, all against 127.0.0.1 and a server it starts itself:

1. copies a store (``--home``, else the bundled lists imported into a fresh
   temporary home), builds its match index, creates an analyst API key;
2. starts ``clearance serve`` with the per-key rate limit lifted (the limit is
   a separate phase, 5), so the server's own capacity is what is measured;
3. probes concurrency 1, 2, 4, 8 ... (a few seconds each) and takes the level
   with the highest throughput at zero errors;
4. sustains that level for ``--duration`` seconds (at least 60 for the
   report), half ``POST /match/default`` (yente-style), half ``POST /screen``
   (one record, recorded as a run with its alerts, as a client integration
   does), with names from the lists, variants of them (typos, case, word
   order, legal forms) and clean names; reports requests/s and p50/p95/p99
   latency per endpoint and the server's RSS every second;
5. past saturation: many more connections than the server can serve for
   ``--overload-duration`` seconds (expect queueing: slower, never 5xx nor a
   dropped connection), then a burst from one key against the default rate
   limit on a restarted server (expect 429 with Retry-After);
6. checks the server is still healthy, and writes benchmarks/results/load.json.

The functions are used by tests/test_load.py for a few-second version.
Exit status 1 if the sustained phase had any error or the overload phase any
5xx or dropped connection.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
CLI = [sys.executable, "-m", "clearance"]
#: Lifted per-key limits for the capacity phases (the limiter itself is phase 5).
NO_LIMITS = {"CLEARANCE_RATE_PER_MINUTE": "100000000", "CLEARANCE_RATE_BURST": "10000000",
             "CLEARANCE_FAIL_PER_MINUTE": "100000000", "CLEARANCE_FAIL_BURST": "10000000"}
#: Most RSS samples kept (one a second): memory use of the sampler itself is bounded.
MAX_SAMPLES = 3600


# -- a home, a key and a server ------------------------------------------------------------


def _env(home: Path, extra: dict | None = None) -> dict:
    env = dict(os.environ, CLEARANCE_HOME=str(home))
    env.pop("CLEARANCE_DB", None)
    env.update(extra or {})
    return env


def prepare_home(target: Path, source: Path | None = None) -> Path:
    """``target`` holding a copy of ``source``'s store and index cache, or the bundled lists imported afresh."""
    target.mkdir(parents=True, exist_ok=True)
    if source is not None:
        for item in source.iterdir():
            if item.is_file() and item.name.startswith("clearance.db"):
                shutil.copy2(item, target / item.name)
            elif item.name == "cache" and item.is_dir():
                shutil.copytree(item, target / "cache", dirs_exist_ok=True)
    else:
        subprocess.run([*CLI, "store", "init"], env=_env(target), check=True, capture_output=True, timeout=900)
    # The match index, built (or found in the cache) before the server starts.
    subprocess.run([sys.executable, "-c", "from clearance.screen import Screener; Screener().index"],
                   env=_env(target), check=True, timeout=900)
    return target


def api_key(home: Path, name: str = "load-analyst", role: str = "analyst", password: str | None = None) -> str:
    """A new user with ``role`` (and a UI password) and their API key (made in a child process: no engine left open here)."""
    code = ("import sys; from clearance.store import open_store; from clearance.cases import ensure_tables, users; "
            "s = open_store(initialise=False); ensure_tables(s.engine); "
            "print(users.add_user(s, sys.argv[1], sys.argv[2], sys.argv[3] or None, actor='load-test')[1])")
    out = subprocess.run([sys.executable, "-c", code, name, role, password or ""], env=_env(home), check=True, capture_output=True, text=True, timeout=120)
    return out.stdout.strip().splitlines()[-1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServerProcess:
    """``clearance serve`` on a free loopback port, in its own process group."""

    def __init__(self, home: Path, env: dict | None = None, log: Path | None = None, log_level: str = "warning"):
        self.home = home
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log or home / f"server-{self.port}.log"
        self.log = self.log_path.open("w")
        self.proc = subprocess.Popen(
            [*CLI, "serve", "--host", "127.0.0.1", "--port", str(self.port), "--log-level", log_level],
            env=_env(home, env), stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def wait_ready(self, timeout: float = 180.0) -> "ServerProcess":
        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError(f"server exited with {self.proc.returncode}: {self.logs()}")
            try:
                if httpx.get(self.url + "/readyz", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"server not ready after {timeout:.0f}s: {self.logs()}")

    def logs(self, chars: int = 4000) -> str:
        self.log.flush()
        return self.log_path.read_text(errors="replace")[-chars:]

    def stop(self) -> None:
        if self.alive():
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(15)
        self.log.close()

    def __enter__(self) -> "ServerProcess":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            kids += [int(x) for x in (task / "children").read_text().split()]
    except OSError:
        pass
    return kids


def _rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def rss_mib(pid: int) -> float:
    """Resident memory of a process and all its descendants (MiB), from /proc (psutil elsewhere)."""
    if Path("/proc/self/status").exists():
        total, todo, seen = 0, [pid], set()
        while todo:
            current = todo.pop()
            if current in seen:
                continue
            seen.add(current)
            total += _rss_kib(current)
            todo += _children(current)
        return total / 1024
    import psutil  # pragma: no cover - not Linux

    try:
        proc = psutil.Process(pid)
        return sum(p.memory_info().rss for p in [proc, *proc.children(recursive=True)]) / 2**20
    except psutil.NoSuchProcess:
        return 0.0


class RssSampler:
    """The server's RSS once a second, in a thread (at most MAX_SAMPLES kept)."""

    def __init__(self, pid: int, every: float = 1.0):
        self.pid, self.every = pid, every
        self.samples: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)
        self.started = time.monotonic()

    def _run(self) -> None:
        while not self._stop.is_set():
            if len(self.samples) < MAX_SAMPLES:
                self.samples.append((round(time.monotonic() - self.started, 1), round(rss_mib(self.pid), 1)))
            self._stop.wait(self.every)

    def __enter__(self) -> "RssSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(5)


# -- queries -----------------------------------------------------------------------------------

CLEAN_WORDS = ("Northern Pacific Alpine Harbor Granite Maple Silver River Summit Orchard Lumen Vector Crescent Beacon "
               "Meridian Atlas Cedar Falcon Juniper Nova Prairie Quarry Redwood Sierra Tundra Willow Zephyr Horizon").split()
CLEAN_FORMS = ("Ltd", "GmbH", "LLC", "Inc.", "S.A.", "Co., Ltd.", "B.V.", "AB", "Pty Ltd", "plc")
LEGAL_FORMS = ("LTD", "LIMITED", "LLC", "CO., LTD.", "COMPANY LIMITED", "INC", "S.A.", "GMBH")


def _typo(name: str, rng: random.Random) -> str:
    if len(name) < 5:
        return name
    i = rng.randrange(1, len(name) - 1)
    op = rng.randrange(3)
    if op == 0:
        return name[:i] + name[i + 1:]
    if op == 1:
        return name[:i] + name[i + 1] + name[i] + name[i + 2:]
    return name[:i] + rng.choice("aeiounrst") + name[i:]


def variant(name: str, rng: random.Random) -> str:
    """A plausible way a listed name turns up in a customer file."""
    kind = rng.randrange(5)
    if kind == 0:
        return _typo(name, rng)
    if kind == 1:
        return name.lower() if rng.random() < 0.5 else name.title()
    if kind == 2:
        words = name.replace(",", " ").split()
        rng.shuffle(words)
        return " ".join(words)
    if kind == 3:
        for form in LEGAL_FORMS:
            if name.upper().endswith(form):
                return name[: -len(form)].rstrip(" ,.") + " " + rng.choice(LEGAL_FORMS)
        return name + " " + rng.choice(LEGAL_FORMS)
    return _typo(name.lower(), rng)


def clean_name(rng: random.Random) -> str:
    return f"{rng.choice(CLEAN_WORDS)} {rng.choice(CLEAN_WORDS)} {rng.choice(CLEAN_FORMS)}"


@dataclass
class Query:
    kind: str  # listed | variant | clean
    name: str
    schema: str
    country: str | None = None


def make_queries(home: Path, count: int = 3000, seed: int = 1) -> list[Query]:
    """Names from the active lists, variants of them and clean names (40/30/30)."""
    code = ("import json, random; from clearance.store import open_store; s = open_store(initialise=False); "
            "rng = random.Random(int(__import__('sys').argv[1])); out = [];\n"
            "for source, e in s.active_entities():\n"
            "    names = [n for _, n in e.names()]\n"
            "    if names and rng.random() < 0.25: out.append([e.schema, rng.choice(names), (e.properties.get('country') or [None])[0]])\n"
            "print(json.dumps(out))")
    out = subprocess.run([sys.executable, "-c", code, str(seed)], env=_env(home), check=True, capture_output=True, text=True, timeout=300)
    listed = json.loads(out.stdout)
    rng = random.Random(seed)
    queries: list[Query] = []
    for _ in range(count):
        roll = rng.random()
        if roll < 0.7:
            schema, name, country = rng.choice(listed)
            schema = schema if schema in ("Person", "Company", "Organization", "Vessel", "Airplane") else "LegalEntity"
            kind = "listed" if roll < 0.4 else "variant"
            queries.append(Query(kind, name if kind == "listed" else variant(name, rng), schema, country))
        else:
            queries.append(Query("clean", clean_name(rng), "Company", rng.choice(("us", "de", "gb", "jp", None))))
    return queries


def match_body(q: Query) -> dict:
    props: dict = {"name": [q.name]}
    if q.country:
        props["country"] = [q.country]
    return {"queries": {"q1": {"schema": q.schema, "properties": props}}}


def screen_body(q: Query) -> dict:
    body: dict = {"name": q.name}
    if q.country:
        body["country"] = q.country
    if q.schema in ("Person", "Company", "Organization", "Vessel"):
        body["schema"] = q.schema
    return body


# -- driving it ----------------------------------------------------------------------------------


@dataclass
class PhaseResult:
    name: str
    concurrency: int
    seconds: float
    latencies: dict[str, list[float]] = field(default_factory=dict)
    statuses: Counter = field(default_factory=Counter)
    errors: Counter = field(default_factory=Counter)  # transport errors and timeouts, by type
    retry_after: int = 0
    #: (seconds into the phase, endpoint, latency) of every 2xx, for the drift over the phase.
    timeline: list[tuple[float, str, float]] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return sum(self.statuses.values()) + sum(self.errors.values())

    @property
    def ok(self) -> int:
        return sum(n for s, n in self.statuses.items() if 200 <= s < 300)

    @property
    def server_errors(self) -> int:
        return sum(n for s, n in self.statuses.items() if s >= 500)

    @property
    def failed(self) -> int:
        """Anything but a 2xx: what the sustained phase must have none of."""
        return self.requests - self.ok

    def rps(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    def summary(self) -> dict:
        out = {
            "phase": self.name, "concurrency": self.concurrency, "seconds": round(self.seconds, 1),
            "requests": self.requests, "ok": self.ok, "rps": round(self.rps(), 1),
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "transport_errors": dict(self.errors), "server_errors": self.server_errors,
        }
        if self.retry_after:
            out["with_retry_after"] = self.retry_after
        everything = [v for values in self.latencies.values() for v in values]
        for endpoint, values in [("all", everything), *self.latencies.items()]:
            if values:
                out[f"latency_ms_{endpoint}"] = percentiles(values)
                out[f"rps_{endpoint}"] = round(len(values) / self.seconds, 1) if endpoint != "all" else out["rps"]
        drift = self.drift()
        if drift:
            out["drift"] = drift
        return out

    def drift(self) -> dict:
        """p50 latency in the first and the last fifth of the phase, per endpoint (a slowdown as data accumulates)."""
        if not self.timeline or self.seconds < 10:
            return {}
        fifth = self.seconds / 5
        out = {}
        for endpoint in sorted({e for _, e, _ in self.timeline}):
            first = sorted(l for t, e, l in self.timeline if e == endpoint and t < fifth)
            last = sorted(l for t, e, l in self.timeline if e == endpoint and t >= self.seconds - fifth)
            if len(first) >= 5 and len(last) >= 5:
                out[endpoint] = {"p50_ms_first_fifth": round(first[len(first) // 2] * 1000, 1),
                                 "p50_ms_last_fifth": round(last[len(last) // 2] * 1000, 1)}
        return out


def percentiles(values: list[float]) -> dict:
    data = sorted(values)

    def at(p: float) -> float:
        return round(data[min(len(data) - 1, int(p / 100 * len(data)))] * 1000, 1)

    return {"n": len(data), "p50": at(50), "p95": at(95), "p99": at(99), "max": round(data[-1] * 1000, 1),
            "mean": round(statistics.fmean(data) * 1000, 1)}


class TransportError(Exception):
    """The connection broke, was refused or timed out (not an HTTP status)."""


class Connection:
    """A minimal HTTP/1.1 keep-alive client connection (asyncio streams).

    A load generator must cost far less than the server it measures; httpx's
    pool costs several times more CPU per request than this, on a two-core
    machine that skews the figures.  Only what the server sends is handled:
    ``Content-Length`` bodies (and ``Transfer-Encoding: chunked`` for safety).
    """

    def __init__(self, host: str, port: int, headers: dict[str, str], timeout: float):
        self.host, self.port, self.timeout = host, port, timeout
        self.fixed = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def _open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, dict[str, str], bytes]:
        try:
            return await asyncio.wait_for(self._request(method, path, body), self.timeout)
        except asyncio.TimeoutError:
            self.close()
            raise TransportError("TimeoutError") from None
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            self.close()
            raise TransportError(type(exc).__name__) from None

    async def _request(self, method: str, path: str, body: bytes | None) -> tuple[int, dict[str, str], bytes]:
        if self.writer is None:
            await self._open()
        assert self.reader is not None and self.writer is not None
        head = f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n{self.fixed}"
        if body is not None:
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        self.writer.write(head.encode() + b"\r\n" + (body or b""))
        await self.writer.drain()
        raw = await self.reader.readuntil(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                k, _, v = line.partition(":")
                headers[k.strip().lower()] = v.strip()
        if "content-length" in headers:
            data = await self.reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding") == "chunked":
            parts = []
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).strip(), 16)
                chunk = await self.reader.readexactly(size + 2)
                if size == 0:
                    break
                parts.append(chunk[:-2])
            data = b"".join(parts)
        else:
            data = await self.reader.read()
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, headers, data


ENDPOINTS = {
    "match": ("POST", "/match/default", match_body),
    "screen": ("POST", "/screen", screen_body),
    "me": ("GET", "/me", None),  # authenticated and rate-limited, but no work: for the limiter phase
}


async def _drive(url: str, key: str, queries: list[Query], concurrency: int, seconds: float, name: str,
                 endpoints: tuple[str, ...], timeout: float, seed: int) -> PhaseResult:
    from urllib.parse import urlsplit

    target = urlsplit(url)
    result = PhaseResult(name, concurrency, seconds)
    for endpoint in endpoints:
        result.latencies.setdefault(endpoint, [])
    headers = {"Authorization": f"ApiKey {key}"}
    begun = time.monotonic()
    deadline = begun + seconds

    async def user(number: int) -> None:
        rng = random.Random(seed * 1000 + number)
        conn = Connection(target.hostname or "127.0.0.1", target.port or 80, headers, timeout)
        try:
            while time.monotonic() < deadline:
                q = rng.choice(queries)
                endpoint = endpoints[rng.randrange(len(endpoints))]
                method, path, make = ENDPOINTS[endpoint]
                body = json.dumps(make(q)).encode() if make else None
                started = time.perf_counter()
                try:
                    status, response_headers, data = await conn.request(method, path, body)
                except TransportError as exc:
                    result.errors[str(exc)] += 1
                    await asyncio.sleep(0.05)
                    continue
                elapsed = time.perf_counter() - started
                result.statuses[status] += 1
                if status == 200:
                    result.latencies[endpoint].append(elapsed)
                    result.timeline.append((time.monotonic() - begun, endpoint, elapsed))
                elif status == 429:
                    if response_headers.get("retry-after"):
                        result.retry_after += 1
                    await asyncio.sleep(0.01)
        finally:
            conn.close()

    started = time.monotonic()
    await asyncio.gather(*(user(n) for n in range(concurrency)))
    result.seconds = time.monotonic() - started
    return result


def run_phase(url: str, key: str, queries: list[Query], concurrency: int, seconds: float, name: str = "phase",
              endpoints: tuple[str, ...] = ("match", "screen"), timeout: float = 120.0, seed: int = 1) -> PhaseResult:
    """``concurrency`` closed-loop users sending requests for ``seconds``."""
    return asyncio.run(_drive(url, key, queries, concurrency, seconds, name, endpoints, timeout, seed))


def healthy(url: str, key: str) -> bool:
    """/healthz answers and a real match still works."""
    import httpx

    try:
        if httpx.get(url + "/healthz", timeout=10).status_code != 200:
            return False
        response = httpx.post(url + "/match/default", json=match_body(Query("listed", "Hikvision", "Company", "cn")),
                              headers={"Authorization": f"ApiKey {key}"}, timeout=30)
        return response.status_code == 200 and bool(response.json()["responses"]["q1"]["results"])
    except httpx.HTTPError:
        return False


def find_capacity(url: str, key: str, queries: list[Query], levels=(1, 2, 4, 8, 16, 32), seconds: float = 6.0,
                  log=print) -> tuple[int, list[dict]]:
    """The concurrency with the most requests/s at zero errors (stops once more users stop paying)."""
    probes = []
    best, best_rps = levels[0], 0.0
    for level in levels:
        result = run_phase(url, key, queries, level, seconds, f"probe-{level}", seed=level)
        summary = result.summary()
        probes.append(summary)
        log(f"  probe concurrency {level:3}: {summary['rps']:7.1f} req/s, p99 {summary.get('latency_ms_all', {}).get('p99', '-')} ms, non-2xx {result.failed}")
        if result.failed:
            break
        if summary["rps"] > best_rps * 1.05:
            best, best_rps = level, summary["rps"]
        elif level > best * 2:
            break
    return best, probes


def rss_summary(samples: list[tuple[float, float]]) -> dict:
    if not samples:
        return {}
    values = [v for _, v in samples]
    tenth = max(1, len(values) // 10)
    return {"samples": len(values), "start_mib": values[0], "max_mib": max(values), "end_mib": values[-1],
            "first_tenth_mean_mib": round(statistics.fmean(values[:tenth]), 1),
            "last_tenth_mean_mib": round(statistics.fmean(values[-tenth:]), 1)}


def thin(samples: list[tuple[float, float]], keep: int = 60) -> list[tuple[float, float]]:
    """At most ``keep`` samples, evenly spaced (for the report)."""
    if len(samples) <= keep:
        return samples
    step = len(samples) / keep
    return [samples[int(i * step)] for i in range(keep)] + [samples[-1]]


# -- the benchmark ---------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of sustained load (default 60)")
    parser.add_argument("--overload-duration", type=float, default=20.0)
    parser.add_argument("--probe-seconds", type=float, default=6.0)
    parser.add_argument("--concurrency", type=int, default=None, help="skip the probe and sustain this many users")
    parser.add_argument("--overload-concurrency", type=int, default=None, help="default: max(64, 8 x the sustained level)")
    parser.add_argument("--home", type=Path, default=None, help="copy this Clearance home (default: bundled lists into a temporary one)")
    parser.add_argument("--output", type=Path, default=RESULTS / "load.json")
    parser.add_argument("--no-rate-limit-phase", action="store_true")
    args = parser.parse_args()

    import platform

    tmp = Path(tempfile.mkdtemp(prefix="clearance-load-"))
    report: dict = {"machine": {"cores": os.cpu_count(), "python": platform.python_version()}}
    failures: list[str] = []
    try:
        print("preparing the store and its index ...", flush=True)
        home = prepare_home(tmp / "home", args.home)
        key = api_key(home)
        queries = make_queries(home)
        report["queries"] = dict(Counter(q.kind for q in queries))
        with ServerProcess(home, NO_LIMITS) as server:
            server.wait_ready()
            print(f"server {server.url} (pid {server.pid}); RSS {rss_mib(server.pid):.0f} MiB", flush=True)
            with RssSampler(server.pid) as sampler:
                run_phase(server.url, key, queries, 4, 3, "warm-up")
                if args.concurrency:
                    level, probes = args.concurrency, []
                else:
                    print("probing capacity:", flush=True)
                    level, probes = find_capacity(server.url, key, queries, seconds=args.probe_seconds)
                report["probes"] = probes
                print(f"sustaining concurrency {level} for {args.duration:.0f}s ...", flush=True)
                mark = len(sampler.samples)
                sustained = run_phase(server.url, key, queries, level, args.duration, "sustained", seed=99)
                sustained_rss = sampler.samples[mark:]
                report["sustained"] = sustained.summary()
                report["sustained"]["rss"] = rss_summary(sustained_rss)
                if sustained.failed:
                    failures.append(f"sustained phase: {sustained.failed} non-2xx or transport errors {dict(sustained.statuses)} {dict(sustained.errors)}")
                over = args.overload_concurrency or max(64, 8 * level)
                print(f"past saturation: {over} connections for {args.overload_duration:.0f}s ...", flush=True)
                mark = len(sampler.samples)
                overload = run_phase(server.url, key, queries, over, args.overload_duration, "overload", seed=7)
                report["overload"] = overload.summary()
                report["overload"]["rss"] = rss_summary(sampler.samples[mark:])
                if overload.server_errors or overload.errors:
                    failures.append(f"overload phase: {overload.server_errors} 5xx, transport errors {dict(overload.errors)}")
                if not server.alive() or not healthy(server.url, key):
                    failures.append("server not healthy after the overload phase")
                report["healthy_after_overload"] = server.alive() and healthy(server.url, key)
            report["rss_over_time"] = thin(sampler.samples)
            report["rss"] = rss_summary(sampler.samples)
            log_tail = server.logs(20000)
            report["server_log_tracebacks"] = log_tail.count("Traceback")
        if not args.no_rate_limit_phase:
            print("rate limit: one key, 16 connections on GET /me, default limits (1200/min, burst 120), 6s ...", flush=True)
            with ServerProcess(home, {}) as limited:
                limited.wait_ready()
                burst = run_phase(limited.url, key, queries, 16, 6, "rate-limited", endpoints=("me",), seed=5)
                report["rate_limited"] = burst.summary()
                if burst.server_errors or burst.errors or not burst.statuses.get(429):
                    failures.append(f"rate-limit phase: {dict(burst.statuses)} {dict(burst.errors)}")
                report["rate_limited"]["server_alive_after"] = limited.alive()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    report["failures"] = failures
    _print(report)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwrote {args.output}")
    return 1 if failures else 0


def _print(report: dict) -> None:
    print()
    print(f"{'phase':14} {'conc':>5} {'secs':>5} {'requests':>9} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}  statuses")
    for name in ("sustained", "overload", "rate_limited"):
        r = report.get(name)
        if not r:
            continue
        lat = r.get("latency_ms_all", {})
        print(f"{name:14} {r['concurrency']:5} {r['seconds']:5.0f} {r['requests']:9} {r['rps']:7.1f} {lat.get('p50', '-'):>7} {lat.get('p95', '-'):>7} {lat.get('p99', '-'):>7}  {r['statuses']} {r['transport_errors'] or ''}")
        for endpoint in ("match", "screen", "me"):
            if f"latency_ms_{endpoint}" in r:
                e = r[f"latency_ms_{endpoint}"]
                print(f"  /{endpoint:12} {'':5} {'':5} {e['n']:9} {r[f'rps_{endpoint}']:7.1f} {e['p50']:7} {e['p95']:7} {e['p99']:7}")
    for endpoint, d in report.get("sustained", {}).get("drift", {}).items():
        print(f"  /{endpoint} p50 over the sustained phase: {d['p50_ms_first_fifth']} ms (first fifth) -> {d['p50_ms_last_fifth']} ms (last fifth)")
    rss = report.get("rss", {})
    if rss:
        print(f"server RSS: start {rss['start_mib']} MiB, max {rss['max_mib']} MiB, end {rss['end_mib']} MiB "
              f"(sustained phase: first tenth {report['sustained']['rss'].get('first_tenth_mean_mib')} -> last tenth {report['sustained']['rss'].get('last_tenth_mean_mib')} MiB)")
    for failure in report["failures"]:
        print("FAILED:", failure)


if __name__ == "__main__":
    sys.exit(main())
