"""The per-caller token bucket: a success given back, concurrent failures each paid for."""

from __future__ import annotations

import threading

from clearance.api.limits import RateLimiter


def test_a_refund_gives_back_only_what_was_spent():
    bucket = RateLimiter(per_minute=1, burst=3)
    assert [bucket.take("a") for _ in range(3)] == [0.0] * 3 and bucket.take("a") > 0
    bucket.refund("a")
    assert bucket.take("a") == 0.0 and bucket.take("a") > 0
    bucket.refund("never-seen")  # nothing to give back
    assert [bucket.take("never-seen") for _ in range(3)] == [0.0] * 3 and bucket.take("never-seen") > 0


def test_concurrent_attempts_each_spend_a_token():
    bucket = RateLimiter(per_minute=1, burst=5)
    allowed = []
    start = threading.Barrier(40)

    def attempt():
        start.wait()
        allowed.append(bucket.take("login:1.2.3.4") == 0.0)

    threads = [threading.Thread(target=attempt) for _ in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(allowed) == 5
