"""Screening portfolio rows for the monitor: hits plus each row's near miss.

A monitor run needs to know, besides a row's hits, how close it came to the
review threshold: a row whose best score came within :data:`BAND` of it is
re-screened after any list change (token weights are corpus-wide and drift a
little when the corpus changes).  :class:`NearMatcher` reports that score.

:class:`IndexLoader` loads the store's cached full index once per call of
the monitor (for every portfolio), with the garbage collector off and the
result frozen out of its scans (a process that runs the monitor again reuses
the index :func:`~.check.load_or_build` keeps in memory); the rows flagged or
near last time, then those the filter finds, are screened in a forked child
(:class:`~.workers.Forked`) while the parent goes on.  A child forked before
this process loads the index reads its own copy (:meth:`IndexLoader.at`):
pages of one copy shared by fork are copied as either process touches them
(reference counts), which slowed both; the parent, which then screens
nothing, reads the light copy the filter needs (:meth:`IndexLoader.light`).
"""

from __future__ import annotations

import gc
import logging
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

import orjson

from ..match import index as index_mod
from ..match.index import MatchIndex
from ..match.matcher import Matcher, Thresholds
from ..match.normalize import NameForm, known_readings
from .batch import Workers, screen_query
from .check import Screener, cache_path, load_or_build, loaded_index, remember_index, save_light
from .workers import Forked, Inbox

log = logging.getLogger(__name__)

#: A row whose best-scored entity came within this of the review threshold is
#: re-screened after any list change; the matcher's own bonuses (country, birth
#: date) add at most 0.08 of it.
BAND = 0.15
#: Rows screened on a pool of processes from this many on (for fewer it costs more than it saves).
PARALLEL_FROM = 2000
#: Allocations between collections of the garbage collector's youngest generation during runs.
YOUNG_THRESHOLD = 50_000
#: A monitor run screens the rows flagged or near last time in a child process, from this many on.
BACKGROUND_FROM = 100


class NearMatcher(Matcher):
    """A matcher that also notes the best score within ``BAND`` of the review threshold.

    It first matches with the review threshold lowered by ``BAND`` (a probe:
    the same scores, more entities decided); only when something reaches the
    real review threshold does it match again for the exact hits and their
    explanations.  ``last_near`` is the probe's best score (0.0: nothing
    within the band).  With ``probe_only`` the probe's hits are returned.

    With ``expect_hits`` set (a row flagged last time) the real match comes
    first: when it has hits, its best score is the probe's too (an entity
    reaching the review threshold is decided by both), and the probe is not
    needed.
    """

    last_near = 0.0
    expect_hits = False

    def __init__(self, index: MatchIndex, thresholds: Thresholds | None = None, max_hits: int = 10, probe_only: bool = False):
        super().__init__(index, thresholds, max_hits)
        low = max(0.0, self.thresholds.review - BAND)
        self.probe = Matcher(index, Thresholds(match=self.thresholds.match, review=low), max_hits)
        self.probe_only = probe_only

    def match(self, *args, **kwargs) -> list[dict]:
        if self.expect_hits and not self.probe_only:
            hits = super().match(*args, **kwargs)
            if hits:
                self.last_near = max(h["score"] for h in hits)
                return hits
        found = self.probe.match(*args, **kwargs)
        self.last_near = max((h["score"] for h in found), default=0.0)
        if self.probe_only:
            return found
        if self.last_near < self.thresholds.review:
            return []
        return super().match(*args, **kwargs)


def near_screener(index: MatchIndex, sources: list[str] | None, thresholds: Thresholds, max_hits: int = 10, probe_only: bool = False) -> Screener:
    screener = Screener(index=index, sources=sources, thresholds=thresholds, max_hits=max_hits)
    screener._matcher = NearMatcher(index, screener.thresholds, max_hits, probe_only)
    return screener


def _screen_item(screener: Screener, item: tuple) -> tuple[int, dict | None, float]:
    """``(key, query[, expect hits])`` -> ``(key, record, near)``."""
    index, query = item[0], item[1]
    if query is None:
        return index, None, 0.0
    memo = screener.__dict__.setdefault("_near_cache", {})  # identical queries are screened once per process
    key = orjson.dumps(query, option=orjson.OPT_SORT_KEYS)
    found = memo.get(key)
    if found is None:
        screener.matcher.last_near = 0.0  # type: ignore[attr-defined]
        screener.matcher.expect_hits = len(item) > 2 and bool(item[2])  # type: ignore[attr-defined]
        record = screen_query(screener, index, {}, query, "screened fields", cache=False)
        found = (record, screener.matcher.last_near)  # type: ignore[attr-defined]
        if len(memo) >= 100_000:
            memo.clear()
        memo[key] = found
    record, near = found
    return index, {**record, "row": index}, near


def screen_rows(screener: Screener, items: Sequence[tuple], workers: int | None, parallel_from: int = PARALLEL_FROM) -> Iterable[tuple[int, dict | None, float]]:
    """``(key, record, near)`` for ``(key, query[, expect hits])`` items, in order; on several processes for many items."""
    screener.index
    n = workers if len(items) >= parallel_from else 1
    with Workers(lambda item: _screen_item(screener, item), n) as pool:
        parallel = pool.parallel
        yield from pool.map(items)
    if parallel and IndexLoader.frozen:  # the pool unfroze what a loader froze: keep the index out of collections
        gc.freeze()


Readings = Callable[[Sequence[tuple]], Iterable[tuple[str, tuple[NameForm, ...]]]]


def background_screening(make_screener: Callable[[], Screener], keys: Sequence[int], item: Callable[[int], tuple], at_least: int = 1,
                         readings: Readings | None = None, more: tuple[Sequence[Inbox], Callable[[int], tuple]] = ((), lambda key: (key, None)),
                         then: Callable[[list[tuple[int, dict | None, float]]], Any] | None = None) -> Forked:
    """Screen the ``(key, query[, expect hits])`` item of each key in a child (from ``at_least``
    keys on), where the screener is made (``make_screener()``: it may load its own index) and the
    items too (their queries decoded off this process's path); ``readings(items)``: their names'
    readings, if known (``normalize.known_readings``); ``more``: inboxes by which this process
    sends more keys once it knows them, each a batch screened after the others (their items
    made by the function beside them).  ``results()`` gives per batch (the keys, then those of
    each inbox), as soon as the child has made it, what ``then`` made of its ``(key, record,
    near)`` per key, in order (the list itself without ``then``)."""
    made = then if then is not None else (lambda done: done)
    inboxes, more_item = more

    def screen() -> Iterator:
        screener = make_screener()
        yield made(_screened(screener, [item(key) for key in keys], readings))
        for inbox in inboxes:
            yield made(_screened(screener, [more_item(key) for key in inbox.receive()], readings))

    return Forked(screen, len(keys) >= at_least, parts=1 + len(inboxes))


def _screened(screener: Screener, items: list[tuple], readings: Readings | None) -> list[tuple[int, dict | None, float]]:
    with known_readings(readings(items) if readings else ()):
        return [_screen_item(screener, one) for one in items]


@contextmanager
def loaded_indexes(collect: bool = True) -> Iterator["IndexLoader"]:
    """Full match indexes loaded for the runs inside the block, each once, kept out of the
    garbage collector's way (a loaded index is a million objects it need never scan); the
    collector's youngest generation is collected every :data:`YOUNG_THRESHOLD` allocations
    meanwhile (a run makes hundreds of thousands of short-lived objects and few cycles: at
    the default 700, a 200,000-row run collected 143 times, 16 ms), or (not ``collect``: runs
    that allocate in proportion to a list change, not to their rows) not at all: a 200,000-row
    monitor run's few collections of thousands of young objects each took 20-30 ms of 0.6 s."""
    loader = IndexLoader()
    threshold, enabled = gc.get_threshold(), gc.isenabled()
    gc.set_threshold(max(threshold[0], YOUNG_THRESHOLD), *threshold[1:])
    if not collect:
        gc.disable()
    try:
        yield loader
    finally:
        gc.set_threshold(*threshold)
        if enabled:
            gc.enable()
        loader.indexes.clear()
        if loader.froze:
            gc.unfreeze()
            IndexLoader.frozen = False


class IndexLoader:
    #: Is an index loaded by some loader frozen (out of the garbage collector's scans) now?
    frozen = False

    def __init__(self):
        self.indexes: dict[str, MatchIndex] = {}
        self.froze = False

    def __call__(self, store) -> MatchIndex:
        """The store's cached full index (built and cached if missing)."""
        path = cache_path(store)
        index = self.at(path)
        if index is None:
            index = self.indexes[str(path)] = load_or_build(store)
        return index

    def light(self, store) -> MatchIndex:
        """What a monitor run's filter reads of the store's full index (:func:`~.index.light`):
        the full index if this process has it, else its light copy if cached, else the full one."""
        path = cache_path(store)
        index = self.indexes.get(str(path)) or loaded_index(path)
        if index is not None:
            return index
        light = index_mod.light_path(path)
        index = index_mod.load(light) if light.exists() else None
        if index is None:  # (a cache made before light copies): for next time
            index = self(store)
            save_light(index, path)
        return index

    def at(self, path: Path) -> MatchIndex | None:
        """The full index cached at ``path`` (None if there is no such file); no store needed,
        so a forked child can load its own copy."""
        index = self.indexes.get(str(path))
        if index is not None:
            return index
        index = loaded_index(path)  # loaded by an earlier call in this process: kept out of the collector again
        if index is not None:
            if not IndexLoader.frozen:
                gc.freeze()
                self.froze = IndexLoader.frozen = True
            self.indexes[str(path)] = index
            return index
        enabled = gc.isenabled()
        gc.disable()
        try:
            index = index_mod.load(path) if path.exists() else None
            if index is not None:
                remember_index(path, index)
                gc.freeze()
                self.froze = IndexLoader.frozen = True
                self.indexes[str(path)] = index
        finally:
            if enabled:
                gc.enable()
        return index


__all__ = ["BACKGROUND_FROM", "BAND", "background_screening", "IndexLoader", "NearMatcher", "PARALLEL_FROM", "loaded_indexes", "near_screener", "screen_rows"]
