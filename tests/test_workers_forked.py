"""``Forked``: work done in a child (or here when forking is not possible), result the same."""

from __future__ import annotations

import os

import pytest

from clearance.screen import workers
from clearance.screen.workers import Forked


@pytest.fixture
def no_threads(monkeypatch):
    """Earlier tests in the session may leave idle threads (test clients), and Forked does not
    fork with threads about; these tests are about the forked path."""
    monkeypatch.setattr(workers.threading, "active_count", lambda: 1)


def test_work_runs_in_a_child_and_its_result_comes_back(no_threads):
    parent = os.getpid()
    with Forked(lambda: (os.getpid(), [1, "two", {"three": 3.0}])) as job:
        pid, value = job.result()
    assert pid != parent and value == [1, "two", {"three": 3.0}]


def test_work_runs_here_when_not_wanted_or_threads_run(monkeypatch):
    parent = os.getpid()
    assert Forked(os.getpid, wanted=False).result() == parent
    monkeypatch.setattr(workers.threading, "active_count", lambda: 2)  # forking threads is unsafe
    assert Forked(os.getpid).result() == parent


def test_a_failed_child_is_redone_here(no_threads, caplog):
    """A child that dies (here: its result cannot be pickled) costs time, not the result."""
    parent = os.getpid()
    with Forked(lambda: (lambda: None) if os.getpid() != parent else "done here") as job:
        assert job.result() == "done here"
    assert "forked work failed" in caplog.text


def test_leaving_the_block_stops_an_uncollected_child(no_threads):
    import time

    with Forked(lambda: time.sleep(30)) as job:
        pid = job.pid
    assert pid is not None and job.pid is None
    try:
        os.kill(pid, 0)
        alive = True
    except ProcessLookupError:
        alive = False
    assert not alive


def test_a_large_result_does_not_keep_the_child_waiting_for_this_process(no_threads):
    """The child writes its result whole and exits (a pipe would hold it at 64 KiB until this
    process reads): it is a zombie, waiting only to be reaped, before ``result()`` is called."""
    import time

    with Forked(lambda: b"x" * 5_000_000) as job:
        status = f"/proc/{job.pid}/status"
        if not os.path.exists(status):
            pytest.skip("no /proc")
        deadline = time.monotonic() + 20
        while "State:\tZ" not in open(status).read() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert "State:\tZ" in open(status).read()
        assert job.result() == b"x" * 5_000_000


def test_an_inbox_carries_work_found_after_the_fork(no_threads):
    """The child waits for what this process sends once it knows it (here 1 MB: more than a pipe
    holds, yet sending does not wait for the child); run here, the work reads what was sent."""
    from clearance.screen.workers import Inbox

    message = list(range(200_000))
    with Inbox() as inbox, Forked(lambda: (os.getpid(), sum(inbox.receive()))) as job:
        inbox.send(message)
        pid, total = job.result()
    assert pid != os.getpid() and total == sum(message)
    with Inbox() as inbox:
        here = Forked(lambda: inbox.receive(), wanted=False)
        inbox.send(["done here"])
        assert here.result() == ["done here"]
    with Inbox() as inbox, pytest.raises(RuntimeError):
        inbox.receive()  # here, before anything was sent


def test_parts_come_back_as_the_child_makes_them(no_threads):
    """With ``parts``, each result is read as soon as the child has made it: here the child makes
    its second only after this process, having read the first, sends it what it needs.  A child
    that dies half-way is redone here, the parts already read skipped."""
    from clearance.screen.workers import Inbox

    here = os.getpid()
    runs_here = []

    def work():
        if os.getpid() == here:
            runs_here.append(1)
        yield os.getpid(), "first"
        yield os.getpid(), inbox.receive() * 2

    with Inbox() as inbox, Forked(work, parts=2) as job:
        parts = job.results()
        pid, first = next(parts)
        inbox.send("second")
        assert pid != os.getpid() and first == "first" and next(parts) == (pid, "secondsecond")
        assert list(parts) == [] and not runs_here

    def dies_in_child():
        yield "first"
        if os.getpid() != here:
            os._exit(3)
        yield "second, here"

    with Forked(dies_in_child, parts=2) as job:
        assert list(job.results()) == ["first", "second, here"]
    with Inbox() as inbox:
        job = Forked(work, wanted=False, parts=2)
        inbox.send("x")
        assert [value for _, value in job.results()] == ["first", "xx"]
