"""A few seconds of benchmarks/load.py in the suite: a real ``clearance serve``
on loopback, driven with names from the lists, variants and clean names.

Sustained load at a level the server carries: zero errors, bounded memory.
Past saturation (far more connections than it serves): requests queue, none
fails with a 5xx or a dropped connection, and the server stays healthy. The
per-key rate limit answers 429 with Retry-After. The 60-second version with
the capacity probe is ``make bench`` (benchmarks/load.py)."""

from __future__ import annotations

import os

import pytest

from benchmarks import load
from tests.fixtures.api_server import new_home, template_home

LONG = os.environ.get("CLEARANCE_LONG", "") not in ("", "0")
SECONDS = 30.0 if LONG else 4.0


@pytest.fixture(scope="module")
def loaded(bundled_home, tmp_path_factory):
    home = new_home(template_home(bundled_home, tmp_path_factory), tmp_path_factory.mktemp("load-home"))
    key = load.api_key(home)
    queries = load.make_queries(home, 800)
    assert {q.kind for q in queries} == {"listed", "variant", "clean"}
    with load.ServerProcess(home, load.NO_LIMITS) as server:
        server.wait_ready()
        load.run_phase(server.url, key, queries, 2, 1.0, "warm-up")
        yield home, server, key, queries
        assert "Traceback" not in server.logs(50_000), server.logs()


def _line(summary: dict) -> str:
    lat = summary.get("latency_ms_all", {})
    return (f"[load] {summary['phase']}: {summary['concurrency']} users, {summary['requests']} requests, "
            f"{summary['rps']} req/s, p50 {lat.get('p50')} ms, p95 {lat.get('p95')} ms, p99 {lat.get('p99')} ms, "
            f"statuses {summary['statuses']}")


def test_sustained_load_has_no_errors_and_bounded_memory(loaded):
    _, server, key, queries = loaded
    with load.RssSampler(server.pid, every=0.5) as sampler:
        result = load.run_phase(server.url, key, queries, 4, SECONDS, "sustained")
    summary = result.summary()
    print(_line(summary), f"RSS max {max(v for _, v in sampler.samples):.0f} MiB")
    assert result.failed == 0, (dict(result.statuses), dict(result.errors))
    assert result.latencies["match"] and result.latencies["screen"]
    assert result.ok >= 10
    assert max(v for _, v in sampler.samples) < 1500


def test_past_saturation_requests_queue_and_none_fail(loaded):
    _, server, key, queries = loaded
    result = load.run_phase(server.url, key, queries, 48, SECONDS, "overload")
    print(_line(result.summary()))
    assert result.server_errors == 0 and not result.errors, (dict(result.statuses), dict(result.errors))
    assert result.ok > 0
    assert server.alive() and load.healthy(server.url, key)


def test_rate_limit_answers_429_with_retry_after(loaded):
    home, _, key, queries = loaded
    with load.ServerProcess(home, {"CLEARANCE_RATE_PER_MINUTE": "600", "CLEARANCE_RATE_BURST": "20"}) as limited:
        limited.wait_ready()
        result = load.run_phase(limited.url, key, queries, 8, 2.0, "rate-limited", endpoints=("me",))
        print(_line(result.summary()))
        assert result.statuses[429] > 0 and result.retry_after == result.statuses[429]
        assert result.server_errors == 0 and not result.errors
        assert result.ok >= 20  # the burst, then the refill
        assert limited.alive()


def test_no_secrets_in_the_server_log(loaded):
    """At log level info (access lines on): good and bad keys, good and bad passwords never reach the log."""
    import httpx

    home, _, _, _ = loaded
    password = "correct-horse-battery-staple-9"
    key = load.api_key(home, "log-check", "analyst", password)
    wrong_key = key[:-6] + "AAAAAA"
    with load.ServerProcess(home, {}, log_level="info") as server:
        server.wait_ready()
        with httpx.Client(base_url=server.url, timeout=30) as client:
            assert client.get("/me", headers={"Authorization": f"ApiKey {key}"}).status_code == 200
            assert client.get("/me", headers={"Authorization": f"Bearer {wrong_key}"}).status_code == 401
            assert client.post("/screen", json={"name": "Hikvision"}, headers={"Authorization": f"ApiKey {key}"}).status_code == 200
            bad = client.post("/ui/login", data={"name": "log-check", "password": password + "x", "next": "/ui/"})
            good = client.post("/ui/login", data={"name": "log-check", "password": password, "next": "/ui/"})
            assert bad.status_code == 401 and good.status_code in (200, 303)
            cookie = good.cookies.get("clearance_session") or client.cookies.get("clearance_session")
        log = server.logs(200_000)
    assert '"POST /screen' in log or "POST /screen" in log  # the access log was on
    secret_part = key.split("_", 2)[2]
    for secret in (key, secret_part, wrong_key.split("_", 2)[2], password, cookie):
        assert secret and secret not in log, "a secret reached the server log"
