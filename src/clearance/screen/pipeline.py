"""Screen a stream of queries in order, each distinct query once, on forked workers.

The parent process reads rows and turns each into a hashable query
(:func:`~.queries.query_key`).  A query seen earlier in the run is answered
from a bounded LRU cache of results (or joins the identical query already on
its way to a worker); only the others travel to the workers, in chunks, as
compact tuples.  A worker answers a chunk with one compact result per query:
``None`` for a clear one (no hits, no error), else ``(status, hits, error)``.
Exposure through owners (an ownership engine) is added in the workers too,
where the name's normalisation is already cached.

Results come back in input order.  Rows are handled in blocks (of
:data:`BLOCK` rows or :data:`BLOCK_CHARS` characters); at most ``4 x workers``
chunks and as many blocks are in flight, so memory stays flat in the input
size (the cache is bounded too).
"""

from __future__ import annotations

from collections import OrderedDict, deque
from typing import Any, Iterable, Iterator

from .queries import Query
from .workers import Workers

#: Distinct query results remembered per run (a file often repeats a counterparty).
CACHE_SIZE = 100_000
#: Rows per block: a block's results are handed on once all of its queries are answered.
BLOCK = 1024
#: A block also ends once its rows hold this many characters (wide rows: memory stays flat).
BLOCK_CHARS = 1 << 20
#: Distinct queries per chunk sent to a worker.
QUERIES_PER_CHUNK = 256

#: Status, hits, error of a query; ``CLEAR`` for one with nothing found.
Result = tuple
CLEAR: Result = ("clear", (), None)


class QueryCache:
    """Results by query, least recently used dropped beyond ``size`` (0: no cache)."""

    def __init__(self, size: int = CACHE_SIZE):
        self.size = max(0, int(size))
        self._data: OrderedDict[Query, Result] = OrderedDict()

    def get(self, key: Query) -> Result | None:
        found = self._data.get(key)
        if found is not None:
            self._data.move_to_end(key)
        return found

    def put(self, key: Query, value: Result) -> None:
        if not self.size:
            return
        data = self._data
        data[key] = value
        if len(data) > self.size:
            data.popitem(last=False)

    def __len__(self) -> int:
        return len(self._data)


class _Slot:
    """The result of a query on its way to a worker (filled when its block is resolved)."""

    __slots__ = ("value",)


def screen_queries(screener: Any, queries: list[Query], ownership: Any = None) -> list[Result | None]:
    """Worker side: the compact result of each query (None when clear); never raises for one query."""
    augment = None
    if ownership is not None:
        from ..ownership.hits import augment
    check = screener.check
    out: list[Result | None] = []
    append = out.append
    for query in queries:
        name, countries, schema, birth_date, identifiers = query
        try:
            record = check(name, country=list(countries) or None, schema=schema, birth_date=birth_date, identifiers=list(identifiers))
            status, hits, error = record["status"], record["hits"], record.get("error")
            if augment is not None and status != "error":
                record = augment({"input": {"name": name}, "status": status, "hits": hits}, ownership)
                status, hits = record["status"], record["hits"]
        except Exception as exc:  # a bug must not lose the row
            append(("error", [], f"could not be screened ({type(exc).__name__}: {exc})"))
            continue
        append(None if status == "clear" and not hits and error is None else (status, hits, error))
    return out


class QueryPipeline:
    """``(tag, query, size)`` in, ``(tag, result)`` out in the same order; a ``None`` query passes as a ``None`` result.

    ``size`` is about how many characters the tag holds (it bounds a block).

    ``pool`` works chunks of queries (``pool.many`` is :func:`screen_queries`
    bound to a screener).  ``screened`` counts queries sent to a worker,
    ``reused`` those answered by the cache or by an identical query in flight.
    """

    def __init__(self, pool: Workers, cache_size: int = CACHE_SIZE, block: int = BLOCK, chunk: int = QUERIES_PER_CHUNK):
        self.pool = pool
        self.cache = QueryCache(cache_size)
        self.block = max(1, block)
        self.chunk = max(1, chunk)
        self.screened = 0
        self.reused = 0
        self._inflight: dict[Query, _Slot] = {}

    def run(self, items: Iterable[tuple[Any, Query | None, int]]) -> Iterator[tuple[Any, Result | None]]:
        self._inflight = {}
        try:
            yield from self._run(items)
        finally:
            self._inflight = {}

    def _run(self, items: Iterable[tuple[Any, Query | None, int]]) -> Iterator[tuple[Any, Result | None]]:
        pool, inflight = self.pool, self._inflight
        cache_get = self.cache.get
        limit = 4 * pool.workers if pool.parallel else 0  # chunks (and blocks) in flight
        pending: deque = deque()  # blocks: (entries, tasks)
        in_flight = 0
        entries: list = []
        tasks: list = []
        keys: list = []
        slots: list = []
        block, chunk = self.block, self.chunk
        chars = 0
        for tag, key, size in items:
            chars += size
            if key is None:
                entries.append((tag, None))
            else:
                found = cache_get(key)
                if found is None:
                    found = inflight.get(key)
                    if found is None:
                        found = inflight[key] = _Slot()
                        keys.append(key)
                        slots.append(found)
                        if len(keys) >= chunk:
                            tasks.append((pool.submit(keys), keys, slots))
                            in_flight += 1
                            keys, slots = [], []
                    else:
                        self.reused += 1
                else:
                    self.reused += 1
                entries.append((tag, found))
            if len(entries) >= block or chars >= BLOCK_CHARS:
                chars = 0
                if keys:
                    tasks.append((pool.submit(keys), keys, slots))
                    in_flight += 1
                    keys, slots = [], []
                pending.append((entries, tasks))
                entries, tasks = [], []
                while pending and (in_flight >= limit or len(pending) > limit):
                    in_flight -= len(pending[0][1])
                    yield from self._resolve(pending.popleft())
        if keys:
            tasks.append((pool.submit(keys), keys, slots))
        if entries or tasks:
            pending.append((entries, tasks))
        while pending:
            yield from self._resolve(pending.popleft())

    def _resolve(self, block: tuple[list, list]) -> Iterator[tuple[Any, Result | None]]:
        entries, tasks = block
        inflight, put = self._inflight, self.cache.put
        for handle, keys, slots in tasks:
            results = handle.get()
            self.screened += len(keys)
            for key, slot, result in zip(keys, slots, results):
                result = CLEAR if result is None else result
                slot.value = result
                del inflight[key]
                put(key, result)
        for tag, found in entries:
            yield tag, (found.value if found.__class__ is _Slot else found)


__all__ = ["CACHE_SIZE", "CLEAR", "QueryCache", "QueryPipeline", "screen_queries"]
