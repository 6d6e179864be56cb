"""Continuous monitoring: portfolios re-screened only against what changed.

``add_portfolio`` stores a file's rows (the fields screened, their normalised
name tokens) and screens them once in full; its flagged rows become open
alerts, and each row's *near miss* (best score within ``BAND`` of the review
threshold) is kept.  It also prepares the rows for later runs (their tokens
as flat arrays, their deletion neighbourhoods: :mod:`.monitor_book`).  After
a list update, ``run_portfolio`` re-screens as few rows as it can while
giving exactly the alerts a full re-screen would:

1. *what changed* — per source, the entities added, changed and removed since
   the portfolio's last run (recorded when a snapshot is activated, else
   compared: :mod:`clearance.store.changes`); their names as the full match
   index holds them (:mod:`.monitor_changes`);
2. *who they can touch* — an upper bound, per row and changed name, on what
   the name can score (:mod:`.monitor_filter`, over :mod:`.monitor_links`);
3. *re-screen* — rows flagged last time (their alerts may move, or their
   entity be removed), rows with a near miss last time (corpus-wide token
   weights drift a little when the corpus changes) and rows a changed entity
   can bring to the review threshold are screened against the full index
   (:mod:`.monitor_screening`), their names' readings taken from the book
   rather than read again (``--full`` reads them again, as ``screen``
   does).  Rows a changed entity can bring within the band but not to the
   threshold keep their status and become near misses, re-screened at the
   next change.  Every other row had nothing within ``BAND`` of the review
   threshold and cannot come near it with a changed entity: it stays clear;
4. *reconcile* — alerts opened, updated and resolved, in one transaction
   (:class:`~.monitor_alerts.Recorder`).

Steps 1 and 2 run in this process, step 3 in a forked child, which screens
the rows flagged or near last time while the filter runs, then the rows the
filter finds (sent in two batches, the first before the filter is done).
The child sends each batch back as soon as it is screened (its outcome, its
hits on changed entities scored for the filter's check), and this process,
the filter done, writes each in its transaction as it comes: so the writes
of the flagged rows overlap the screening of the others.  This process then
needs only the filter's parts of the index (a light copy, loaded in two
fifths of the time).  Without a child (no ``fork``, threads about, few rows),
this process does it all, in the same order.

``stages`` in the result times each step and counts the rows each kept.
"""

from __future__ import annotations

import json
import logging
import time
from itertools import islice
from pathlib import Path
from typing import Any, Callable, Sequence, cast

import numpy as np
from sqlalchemy import func, select

from ..errors import InputError, StoreError
from ..match.index import MatchIndex
from ..match.matcher import Thresholds
from ..match.normalize import known_readings
from ..store import runs as r
from .batch import prepare, query_of, row_key
from .check import Screener, cache_path
from .monitor_alerts import MonitorResult, Outcome, Recorder, brief, state_of
from .monitor_book import (
    Book,
    RowState,
    book_key,
    drop,
    load_book,
    load_state,
    name_tokens,
    norm_version,
    save_book,
)
from .monitor_changes import ChangedNames, ChangeSet, change_set
from .monitor_filter import ChangeFilter, HitCheck, Scored
from .monitor_screening import (
    BACKGROUND_FROM,
    BAND,
    PARALLEL_FROM,
    IndexLoader,
    NearMatcher,
    background_screening,
    loaded_indexes,
    near_screener,
    screen_rows,
)
from .workers import Inbox

log = logging.getLogger(__name__)

def _portfolio(conn, name: str):
    return conn.execute(select(r.portfolios).where(r.portfolios.c.name == name)).first()


# -- registering a portfolio -----------------------------------------------------------


def add_portfolio(
    store,
    path: str | Path,
    name: str,
    maps: Sequence[str] = (),
    sources: list[str] | None = None,
    encoding: str | None = None,
    sheet: str | None = None,
    thresholds: Thresholds | None = None,
    replace: bool = False,
    workers: int | None = None,
) -> MonitorResult:
    """Register ``path`` as portfolio ``name`` and screen it in full."""
    from ..tabular import file_fingerprint

    started = time.perf_counter()
    name = name.strip()
    if not name:
        raise InputError("--name must not be empty")
    thresholds = thresholds or Thresholds()
    with store.engine.connect() as conn:
        existing = _portfolio(conn, name)
    if existing is not None and not replace:
        raise InputError(f"portfolio {name!r} already exists; use --replace to replace it, or another --name")
    table, mapping = prepare(path, maps, encoding, sheet)
    rows: list[dict] = []
    for row in table.rows():
        query = None if row.error else query_of(mapping.extract(row.values))
        rows.append({"row_index": row.index, "input": row.values, "query": query, "error": row.error, "row_key": row_key(row.index, query)})
    snapshots = store.active_snapshots(sources)
    with loaded_indexes() as load:
        screener = near_screener(load(store), sources, thresholds)
        results = {i: (rec, near) for i, rec, near in screen_rows(screener, [(x["row_index"], x["query"]) for x in rows], workers)}
    stamp = r.now()
    state = state_of(snapshots)
    result = MonitorResult(name, 0, 0, len(rows), len(rows), mapping=mapping.describe())
    queries = {x["row_index"]: r.dumps(x["query"]) if x["query"] is not None else None for x in rows}
    with store.engine.connect().execution_options(immediate=True) as conn, conn.begin():
        if existing is not None:
            conn.execute(
                r.alerts.update()
                .where(r.alerts.c.portfolio_id == existing.id, r.alerts.c.status == "open")
                .values(status="resolved", resolved_at=stamp, resolution="portfolio replaced")
            )
            conn.execute(r.portfolio_rows.delete().where(r.portfolio_rows.c.portfolio_id == existing.id))
        values = dict(
            name=name, updated_at=stamp, input_path=str(path), input_fingerprint=file_fingerprint(path),
            input_format=table.format, mapping=r.dumps(mapping.to_dict()), sources=r.dumps(sources) if sources else None,
            thresholds=r.dumps({"match": thresholds.match, "review": thresholds.review}), row_count=len(rows),
            state=r.dumps(state), norm_version=norm_version(),
        )
        if existing is not None:  # runs and alerts keep pointing at it: update in place
            pid = existing.id
            conn.execute(r.portfolios.update().where(r.portfolios.c.id == pid).values(**values))
        else:
            pid = conn.execute(r.portfolios.insert().values(created_at=stamp, **values)).inserted_primary_key[0]
        counts = {"match": 0, "review": 0, "clear": 0, "error": 0}
        for x in rows:
            rec, _ = results[x["row_index"]]
            counts[rec["status"] if rec else "error"] += 1
        run_id = r.insert_run(conn, {
            "kind": "monitor", "portfolio_id": pid, "started_at": stamp, "finished_at": r.now(), "input_path": str(path),
            "input_fingerprint": file_fingerprint(path), "input_format": table.format, "mapping": mapping.to_dict(),
            "sources": sources, "as_of": None, "snapshots": [{"source": s.source, "version": s.version, "snapshot_id": s.id} for s in snapshots],
            "thresholds": {"match": thresholds.match, "review": thresholds.review}, "engine": "local", "rows": len(rows),
            "matches": counts["match"], "reviews": counts["review"], "clears": counts["clear"], "errors": counts["error"],
            "details": {"initial": True, "portfolio": name},
        })
        new_alerts = []
        for x in rows:
            rec, _ = results[x["row_index"]]
            if rec and rec["status"] in ("match", "review"):
                result.flagged_rows += 1
                new_alerts.extend(r.alert_rows(rec, x["row_key"], run_id, pid, state, stamp))
        r.insert_many(conn, r.alerts, new_alerts)
        r.insert_many(conn, r.portfolio_rows, (
            {
                "portfolio_id": pid, "row_index": x["row_index"], "row_key": x["row_key"], "input": r.dumps(x["input"]),
                "query": queries[x["row_index"]], "tokens": r.dumps(name_tokens(x["query"])),
                "error": x["error"] or (results[x["row_index"]][0] or {}).get("error"),
                "status": (results[x["row_index"]][0] or {"status": "error"})["status"], "near": results[x["row_index"]][1],
            }
            for x in rows
        ))
        r.write_row_states(conn, pid, r.row_state_records(
            (x["row_index"], (results[x["row_index"]][0] or {"status": "error"})["status"], results[x["row_index"]][1]) for x in rows
        ))
        conn.execute(r.portfolios.update().where(r.portfolios.c.id == pid).values(last_run_id=run_id))
    _prepare(store, pid, rows, queries)
    result.portfolio_id, result.run_id = pid, run_id
    result.new = result.open = len(new_alerts)
    result.errors = counts["error"]
    result.alerts = [brief(a, "new") for a in new_alerts]
    result.seconds = time.perf_counter() - started
    return result


def _prepare(store, pid: int, rows: list[dict], queries: dict) -> None:
    """Save the portfolio's book for its monitor runs (a cache: failures only cost speed)."""
    drop(store, pid)
    try:
        with store.engine.connect() as conn:
            p = conn.execute(select(r.portfolios).where(r.portfolios.c.id == pid)).first()
        save_book(store, pid, Book.build(book_key(store, p), ((x["row_index"], x["row_key"], queries[x["row_index"]]) for x in rows)))
    except Exception as exc:  # pragma: no cover - the next run rebuilds from the store
        log.warning("could not prepare portfolio %d for monitor runs: %s", pid, exc)


# -- looking at portfolios ----------------------------------------------------------------


def list_portfolios(store) -> list[dict]:
    with store.engine.connect() as conn:
        rows = conn.execute(select(r.portfolios).order_by(r.portfolios.c.name)).all()
        opened = dict(conn.execute(
            select(r.alerts.c.portfolio_id, func.count()).where(r.alerts.c.status == "open").group_by(r.alerts.c.portfolio_id)
        ).all())
    return [
        {"name": p.name, "id": p.id, "row_count": p.row_count, "open_alerts": opened.get(p.id, 0), "updated_at": p.updated_at,
         "input_path": p.input_path, "state": json.loads(p.state)}
        for p in rows
    ]


# -- monitor runs ---------------------------------------------------------------------------


def run_portfolios(store, names: list[str] | None = None, full: bool = False, workers: int | None = None) -> list[MonitorResult]:
    """Run every portfolio (or those named); the full match index is loaded once for all."""
    with store.engine.connect() as conn:
        known = [row.name for row in conn.execute(select(r.portfolios.c.name).order_by(r.portfolios.c.name))]
    if names:
        missing = [n for n in names if n not in known]
        if missing:
            raise InputError(f"no portfolio named {', '.join(map(repr, missing))}; portfolios: {', '.join(known) or 'none'}")
        known = [n for n in known if n in names]
    with loaded_indexes(collect=full) as load:
        return [_run(store, name, full, workers, load) for name in known]


def run_portfolio(store, name: str, full: bool = False, workers: int | None = None) -> MonitorResult:
    """Re-screen portfolio ``name`` against what changed since its last run (everything if ``full``)."""
    with loaded_indexes(collect=full) as load:
        return _run(store, name, full, workers, load)


def _run(store, name: str, full: bool, workers: int | None, load: IndexLoader) -> MonitorResult:
    started = time.perf_counter()
    stages: dict[str, Any] = {}
    with store.engine.connect() as conn:
        p = _portfolio(conn, name)
    if p is None:
        raise InputError(f"no portfolio named {name!r}")
    sources = json.loads(p.sources) if p.sources else None
    thresholds = Thresholds(**json.loads(p.thresholds))
    try:
        snapshots = store.active_snapshots(sources)
    except StoreError as exc:
        raise StoreError(f"portfolio {name!r}: {exc}") from None
    changes = change_set(store, json.loads(p.state), snapshots)
    stages["changes_s"] = _since(started)
    result = MonitorResult(p.name, p.id, 0, p.row_count, 0, list_changes=changes.per_source, stages=stages)

    def recorder(stamp: str) -> Recorder:
        return Recorder(store, p, changes, snapshots, thresholds, sources, stages, full, result, stamp)

    if not full and changes.empty:
        result.rows = p.row_count
        with recorder(r.now()) as record:
            return _done(record.finish(), started)
    t0 = time.perf_counter()
    book = load_book(store, p)
    rows = load_state(store, p, book)
    stages["load_portfolio_s"] = _since(t0)
    result.rows = book.rows
    band = thresholds.review - BAND
    expect = rows.flagged()  # rows likely flagged now: the real match first

    def item(pos: int) -> tuple[int, dict | None, bool]:
        return pos, book.query(pos), bool(expect[pos])

    state, stamp = state_of(snapshots), r.now()

    def outcome(done: list[tuple[int, dict | None, float]]) -> Outcome:
        return Outcome.of(done, book, p.id, state, stamp)

    if full:
        t0 = time.perf_counter()
        screener = near_screener(_load_index(store, load, stages), sources, thresholds)
        items = [item(pos) for pos in range(book.rows) if book.has_query[pos]]
        screened = outcome(list(screen_rows(screener, items, workers)))
        stages["rows_rescreened"] = len(screened.rows)
        stages["screen_s"] = _since(t0)
        with recorder(stamp) as record:
            record.add(screened)
            return _done(record.finish(_state_after(rows, book, record.screened, {})), started)
    # rows flagged or near last time are screened whatever changed: in a child process while this
    # one works out which other rows the change can touch; forked before this process loads the
    # index, the child reads its own copy (one copy shared by fork slows both)
    must = [pos for pos in rows.flagged_or_near(band).tolist() if book.has_query[pos]]
    path = cache_path(store)
    if not path.exists():  # built here first (and cached): the child then shares it
        _load_index(store, load, stages)

    def background_screener() -> Screener:
        index = load.at(path)
        if index is None:  # the cache file went away: this fails the child, and this process does its work
            raise StoreError(f"the match index {path} is gone")
        return near_screener(index, sources, thresholds)

    def affected_item(pos: int) -> tuple[int, dict | None, bool]:
        return pos, book.query(pos), True  # a changed entity can reach the review threshold

    checks: list[HitCheck] = []

    def made(done: list) -> tuple[Outcome, Scored]:
        """What the child sends back of a batch: its outcome, and its hits on changed entities
        scored for the check (made in the child while this process filters)."""
        if not checks:
            index = cast(MatchIndex, load.at(path))  # (loaded by background_screener)
            checks.append(HitCheck(book, index, ChangedNames(index, changes)))
        return outcome(done), checks[0].scores({pos: rec for pos, rec, _ in done}, changes.changed)

    inboxes = (Inbox(), Inbox())  # the rows to screen the filter finds first, then the others
    with inboxes[0], inboxes[1], background_screening(background_screener, must, item, BACKGROUND_FROM, book.readings, (inboxes, affected_item), made) as background:
        forked = background.pid is not None
        # with a child to screen, this process needs only the filter's parts of the index
        index = _load_index(store, load, stages, light=forked)
        t0 = time.perf_counter()
        filt = ChangeFilter(book, index, ChangedNames(index, changes))

        def screener() -> Screener:
            return near_screener(_load_index(store, load, stages), sources, thresholds)

        first: list[int] = []

        def early(rows: list[int]) -> None:  # the child starts on these while the filter goes on
            first.extend(rows)
            inboxes[0].send(rows)

        affected, nears, counts = filt.affected(band, thresholds.review, set(must), early=early if forked else None)
        stages["filter_s"] = _since(t0)
        stages.update(rows_flagged_or_near=len(must), **counts, rows_affected=len(affected), rows_newly_near=len(nears))
        t0 = time.perf_counter()
        # the child, done with its own rows before the filter is, screens these too (faster than
        # this process would: its caches are warm), while this process writes what it sent of its
        # own rows; without a child, this process screens them
        own = [] if forked else affected
        if not inboxes[0].sent_yet:
            inboxes[0].send([])
        sent = set(first)
        inboxes[1].send([pos for pos in affected if pos not in sent] if forked else [])
        parts = background.results()
        with recorder(stamp) as record:
            for part, checked in islice(parts, 1):
                filt.check_scored(checked)
                record.add(part)
            items = [affected_item(pos) for pos in own]
            with known_readings(book.readings(items)):
                done = list(screen_rows(screener(), items, workers)) if items else []
            filt.check({pos: rec for pos, rec, _ in done}, changes.changed)
            record.add(outcome(done))
            for part, checked in parts:
                filt.check_scored(checked)
                record.add(part)
            if filt.violations:  # the bounds do not hold for this matcher: screen every row
                log.warning("%d hits on changed entities scored above their bound; screening every row", filt.violations)
                stages["fallback"] = "bound violated"
                seen = set(record.screened.positions)
                rest = [item(pos) for pos in range(book.rows) if book.has_query[pos] and pos not in seen]
                record.add(outcome(list(screen_rows(screener(), rest, workers))))
                nears = {}
            stages["rows_rescreened"] = len(record.screened.rows)
            stages["screen_s"] = _since(t0)
            return _done(record.finish(_state_after(rows, book, record.screened, nears)), started)


def _done(result: MonitorResult, started: float) -> MonitorResult:
    result.seconds = time.perf_counter() - started
    return result


def _state_after(rows: RowState, book: Book, screened: Outcome, nears: dict[int, float]) -> Callable[[np.ndarray | None], np.ndarray]:
    """``records(stored)``: the rows' state after this run, as store records, from the state this
    run read (or ``stored``, recorded by another run since): rows screened take their result,
    near misses are raised."""

    def records(stored: np.ndarray | None) -> np.ndarray:
        state = rows if stored is None else RowState.of_records(0, stored, book.row_index)
        state.update(screened.positions, screened.statuses, screened.nears, 0)
        state.raise_near(nears)
        return state.records(book.row_index)

    return records


def _load_index(store, load: IndexLoader, stages: dict, light: bool = False) -> MatchIndex:
    t0 = time.perf_counter()
    index = load.light(store) if light else load(store)
    stages["load_index_s"] = round(stages.get("load_index_s", 0.0) + _since(t0), 3)
    return index


def _since(t0: float) -> float:
    return round(time.perf_counter() - t0, 3)


__all__ = [
    "BAND",
    "ChangeSet",
    "MonitorResult",
    "NearMatcher",
    "PARALLEL_FROM",
    "add_portfolio",
    "change_set",
    "list_portfolios",
    "near_screener",
    "run_portfolio",
    "run_portfolios",
]
