"""Forked worker processes that share one loaded match index copy-on-write.

>>> with Workers(lambda item: item * 2, workers=2) as pool:
...     list(pool.map(range(5)))
[0, 2, 4, 6, 8]

``work`` (any callable, closures too) and whatever it holds (the match index,
an ownership engine) are inherited by fork, never pickled: only items and
results travel between processes.  :meth:`Workers.submit` sends one chunk of
items and returns a handle whose ``get()`` gives the chunk's results;
:meth:`Workers.map` streams items through in order with a bounded number of
chunks in flight.  With one worker (or no ``fork``) everything runs here.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import os
import pickle
import signal
import tempfile
import threading
from collections import deque
from itertools import islice
from typing import Any, BinaryIO, Callable, Iterable, Iterator

log = logging.getLogger(__name__)

#: Items per chunk sent to a worker by :meth:`Workers.map`.
CHUNK = 64

_WORK: dict[str, Callable[[Any], Any]] = {}


def _work_chunk(items: list) -> list:
    return _WORK["many"](items)


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


class Done:
    """The handle of a chunk worked in this process (same ``get()`` as a pool's)."""

    __slots__ = ("value",)

    def __init__(self, value: list):
        self.value = value

    def get(self) -> list:
        return self.value


class Workers:
    """``work(item)`` over items on ``workers`` forked processes.

    ``many(items) -> results`` may replace the per-item loop (a worker then
    gets a whole chunk in one call).  Use as a context manager: entering forks
    (do it before starting a progress thread), leaving stops the workers.
    """

    def __init__(self, work: Callable[[Any], Any] | None = None, workers: int | None = None, chunk: int = CHUNK,
                 many: Callable[[list], list] | None = None):
        if work is None and many is None:
            raise TypeError("Workers needs work(item) or many(items)")
        self.work = work
        self.many = many or (lambda items: [work(item) for item in items])  # type: ignore[misc]
        self.workers = default_workers() if workers is None else max(1, workers)
        self.chunk = chunk
        self._pool = None

    @property
    def parallel(self) -> bool:
        return self._pool is not None

    def __enter__(self) -> "Workers":
        if self.workers > 1 and "fork" in multiprocessing.get_all_start_methods():
            _WORK["many"] = self.many
            gc.collect()
            # Frozen, the loaded index is left alone by the collector: in the workers its pages stay
            # shared (copy-on-write), and here full collections do not rescan it while rows stream.
            gc.freeze()
            try:
                self._pool = multiprocessing.get_context("fork").Pool(self.workers)
            except BaseException:
                gc.unfreeze()
                raise
        return self

    def __exit__(self, *exc) -> None:
        if self._pool is not None:
            try:
                self._pool.terminate()
                self._pool.join()
            finally:
                self._pool = None
                gc.unfreeze()
        _WORK.clear()

    def submit(self, items: list) -> Any:
        """Start working a chunk; ``.get()`` on the result waits for and returns its results."""
        if self._pool is None:
            return Done(self.many(items))
        return self._pool.apply_async(_work_chunk, (items,))

    def map(self, items: Iterable[Any]) -> Iterator[Any]:
        """Results of every item, in order; at most ``4 x workers`` chunks in flight (flat memory)."""
        if self._pool is None:
            work = self.work
            if work is None:
                for item in items:
                    yield self.many([item])[0]
            else:
                for item in items:
                    yield work(item)
            return
        pending: deque = deque()
        limit = self.workers * 4
        chunk: list = []
        for item in items:
            chunk.append(item)
            if len(chunk) >= self.chunk:
                pending.append(self.submit(chunk))
                chunk = []
                while len(pending) >= limit:
                    yield from pending.popleft().get()
        if chunk:
            pending.append(self.submit(chunk))
        while pending:
            yield from pending.popleft().get()




class Forked:
    """Run ``work()`` in a forked child while this process goes on with other work.

    The child shares what this process holds (a loaded index) copy-on-write;
    only the result travels back, pickled.  A monitor run screens the rows it
    must re-screen whatever changed in one while it works out which other rows
    the change can touch.  Without ``fork``, with other threads running (forking them is
    unsafe), or when not ``wanted``, :meth:`result` runs the work here instead;
    so it does if the child fails.  The child says it is done before it exits:
    :meth:`result` does not wait for it to exit (freeing a loaded index's pages
    took 10-20 ms), it is reaped later.

    With ``parts`` (more than one), ``work()`` yields that many results and
    :meth:`results` gives each as soon as the child has made it: this process
    can use the first while the child makes the next.
    """

    def __init__(self, work: Callable[[], Any], wanted: bool = True, parts: int = 1):
        self.work, self.parts, self.pid, self.files, self.ready = work, parts, None, [], -1
        _reap()
        if not wanted or not hasattr(os, "fork") or threading.active_count() > 1:
            return
        self.files = [_scratch_file() for _ in range(parts)]
        ready, done = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: work, write each result, say so, leave without any cleanup of the parent's state
            code = 1
            try:
                os.close(ready)
                gc.disable()
                for file, value in zip(self.files, self._made()):
                    file.write(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
                    file.flush()
                    os.write(done, b"1")
                code = 0
            finally:
                os._exit(code)
        os.close(done)
        self.pid, self.ready = pid, ready

    def _made(self) -> Iterator[Any]:
        return iter([self.work()]) if self.parts == 1 else iter(self.work())

    def __enter__(self) -> "Forked":
        return self

    def __exit__(self, *exc) -> None:
        """Stop a child whose results were not all collected (the run failed)."""
        if self.pid is not None:
            try:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            except OSError:
                pass
            self.pid = None
        self._close()

    def _close(self) -> None:
        if self.ready >= 0:
            os.close(self.ready)
            self.ready = -1
        for file in self.files:
            file.close()
        self.files = []

    def result(self) -> Any:
        """What ``work()`` returned (in the child, or here)."""
        return next(self.results())

    def results(self) -> Iterator[Any]:
        """Each result, as soon as it is made (in the child, or here); once."""
        done = 0
        if self.pid is not None:
            for file in self.files:
                if os.read(self.ready, 1) != b"1":  # end of file: the child died first
                    break
                file.seek(0)
                done += 1
                if done == self.parts:  # the last: the child exits without this process waiting
                    pid, self.pid = self.pid, None
                    _reap(pid)
                yield pickle.loads(file.read())
            if self.pid is not None:
                _, status = os.waitpid(self.pid, 0)
                self.pid = None
                log.warning("forked work failed (status %d): doing it here", status)
            self._close()
        if done < self.parts:
            yield from islice(self._made(), done, None)


#: Children done with their work, maybe still exiting: reaped when they have.
_EXITING: list[int] = []


def _reap(pid: int | None = None) -> None:
    """Reap ``pid`` and earlier children once they have exited, without waiting for any."""
    if pid is not None:
        _EXITING.append(pid)
    for child in list(_EXITING):
        try:
            if os.waitpid(child, os.WNOHANG)[0] == 0:
                continue
        except ChildProcessError:  # reaped by someone else
            pass
        _EXITING.remove(child)


class Inbox:
    """One message from this process to a :class:`Forked` child, sent after the fork (work
    found meanwhile): written whole to an anonymous file, then a pipe closed to say so, so
    sending never waits for the child.  ``receive()`` in the child waits for it; run here
    (no fork, or a failed child redone), it is what was sent."""

    _NOTHING = object()

    def __init__(self):
        self.owner = os.getpid()
        self.file: BinaryIO | None = _scratch_file()
        self.ready, self.signal = os.pipe()
        self.sent: Any = self._NOTHING

    def __enter__(self) -> "Inbox":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def sent_yet(self) -> bool:
        return self.sent is not self._NOTHING

    def send(self, value: Any) -> None:
        """Once, before the child's ``result()`` is asked for."""
        self.sent = value
        if self.file is not None:
            self.file.write(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
            self.file.flush()
        self.close()

    def close(self) -> None:
        for fd in (self.ready, self.signal):
            if fd >= 0:
                os.close(fd)
        self.ready = self.signal = -1
        if self.file is not None:
            self.file.close()
            self.file = None

    def receive(self) -> Any:
        if os.getpid() == self.owner:  # the work runs here
            if self.sent is self._NOTHING:
                raise RuntimeError("Inbox.receive() before send()")
            return self.sent
        os.close(self.signal)  # the child's copy: the sender's close is what ends the wait
        while os.read(self.ready, 1):
            pass
        assert self.file is not None
        self.file.seek(0)
        return pickle.loads(self.file.read())


def _scratch_file() -> BinaryIO:
    """An anonymous file for a child's result (or a message to it): the writer writes it whole
    and goes on, never waiting for the reader (a pipe holds 64 KiB: a monitor run's 0.4 MB
    took 26 ms to collect from a pipe, 6 ms from a file)."""
    if hasattr(os, "memfd_create"):
        return os.fdopen(os.memfd_create("clearance-forked"), "w+b")
    return tempfile.TemporaryFile()


__all__ = ["CHUNK", "Forked", "Inbox", "Workers", "default_workers"]
