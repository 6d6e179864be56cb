"""Batch screening: a file of counterparties in, one screening record per row out.

>>> from clearance.screen.batch import screen_file
>>> summary = screen_file(store, "parties.csv", output="results.xlsx")
>>> summary.counts, summary.run_id

Rows stream through (constant memory in the input size).  The match index is
loaded (or built and cached) once in this process, then worker processes are
forked and share it copy-on-write.  This process reads the rows and turns
each into a compact query (:mod:`.queries`); each distinct query is screened
once per run, a bounded cache answering repeats, and only the others travel
to the workers (:mod:`.pipeline`, :mod:`.workers`); the records come back in
input order.  Every run is recorded in the store with its flagged rows as
alerts, in one transaction at the end; an output file is moved into place
only once the run is recorded, so a run that could not be recorded (a full
disk) leaves no results behind.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

from ..errors import InputError, StoreError
from ..match.matcher import Thresholds
from ..tabular import FieldMapping, Row, Table, file_fingerprint, map_fields, open_table, open_writer
from ..tabular.write import encode_record, format_for_path, refuse_input_as_output
from .check import Screener
from .outputs import HIT_COLUMNS, RESULT_COLUMNS, flatten, hit_rows, sheets_for  # noqa: F401  (re-exported)
from .pipeline import CACHE_SIZE, CLEAR, QueryPipeline, screen_queries
from .queries import FIELDS, ID_FIELDS, SCHEMA_WORDS, query_maker, query_of, row_fingerprint, row_key  # noqa: F401
from .workers import Workers

STATUSES = ("match", "review", "clear", "error")
#: Inputs with fewer rows than this are screened in this process (forking costs more than it saves).
PARALLEL_FROM = 256


# -- one row -------------------------------------------------------------------


def error_record(row: Row, message: str) -> dict:
    return {"row": row.index, "input": row.values, "status": "error", "error": message, "hits": []}


def screen_query(screener: Screener, index: int, values: Mapping[str, Any], query: Mapping[str, Any], where: str, cache: bool = True) -> dict:
    """The record of one row's query; identical queries are screened once per screener (``cache``)."""
    memo = screener.__dict__.setdefault("_batch_cache", {}) if cache else {}
    key = json.dumps(query, sort_keys=True, ensure_ascii=False)
    found = memo.get(key)
    if found is None:
        result = screener.check(
            query.get("name"),
            country=query.get("country") or None,
            schema=query.get("schema"),
            birth_date=query.get("birth_date"),
            identifiers=[tuple(i) for i in query.get("identifiers") or []],
        )
        found = (result["status"], result["hits"], result.get("error"))
        if len(memo) >= CACHE_SIZE:
            memo.clear()
        memo[key] = found
    return record_of(index, values, found, where)


def record_of(index: int, values: Mapping[str, Any], result: tuple, where: str) -> dict:
    """A screening-result record from a compact ``(status, hits, error)`` result."""
    status, hits, error = result
    if error is None:
        return {"row": index, "input": dict(values), "status": status, "hits": list(hits)}
    return {"row": index, "input": dict(values), "status": status, "error": f"{where}: {error}", "hits": list(hits)}


def screen_row(screener: Screener, row: Row, mapping: FieldMapping) -> dict:
    """The screening record of one input row; never raises for bad data."""
    if row.error:
        return error_record(row, row.error)
    try:
        return screen_query(screener, row.index, row.values, query_of(mapping.extract(row.values)), f"line {row.line}")
    except Exception as exc:  # a bug must not lose the row
        return error_record(row, f"line {row.line}: could not be screened ({type(exc).__name__}: {exc})")


# -- many rows, several processes ----------------------------------------------


class RowScreener:
    """Screens rows of a file in input order on forked workers sharing one loaded index.

    Each distinct query is screened once per run (results of up to
    ``cache_size`` distinct queries are kept); ``ownership`` (an ownership
    engine) adds exposure through owners in the workers.  ``screened`` and
    ``reused`` count the queries screened and those answered without
    screening again.  ``release_index`` drops this process's reference to the
    index once the workers are forked (the screener loads it again if asked).
    """

    def __init__(self, screener: Screener, mapping: FieldMapping, workers: int | None = None,
                 ownership: Any = None, cache_size: int = CACHE_SIZE, release_index: bool = False):
        self.screener = screener
        self.release_index = release_index
        self.mapping = mapping
        self.ownership = ownership
        self.pool = Workers(many=lambda queries: screen_queries(screener, queries, ownership), workers=workers)
        self.pipeline = QueryPipeline(self.pool, cache_size)

    @property
    def screened(self) -> int:
        return self.pipeline.screened

    @property
    def reused(self) -> int:
        return self.pipeline.reused

    def __enter__(self) -> "RowScreener":
        self.screener.index  # load or build once, before forking
        if self.ownership is not None and self.pool.workers > 1 and hasattr(self.ownership, "relevant"):
            self.ownership.relevant  # the aggregates (compute_all) once here, not once per worker
        self.pool.__enter__()
        if self.release_index and self.pool.parallel:
            # The workers hold their (copy-on-write) index; this process only reads and writes rows.
            self.screener._index = self.screener._matcher = None
        return self

    def __exit__(self, *exc) -> None:
        self.pool.__exit__(*exc)

    def _items(self, rows: Iterable[Row]) -> Iterator[tuple[Row, Any, int]]:
        make = query_maker(self.mapping)
        for row in rows:
            values = row.values
            try:
                size = sum(map(len, filter(None, values.values())))  # characters: bounds a block's memory
            except TypeError:  # a value that is not text (not from the readers)
                size = 64 * len(values)
            if row.error:
                yield row, None, size
                continue
            try:
                yield row, make(values), size
            except Exception as exc:  # a bug must not lose the row
                row.error = f"line {row.line}: could not be screened ({type(exc).__name__}: {exc})"
                yield row, None, size

    def screen(self, rows: Iterable[Row]) -> Iterator[dict]:
        for row, result in self.pipeline.run(self._items(rows)):
            if result is None:
                yield error_record(row, row.error)
            elif result is CLEAR:
                yield {"row": row.index, "input": row.values, "status": "clear", "hits": []}  # most rows: no copy
            else:
                yield record_of(row.index, row.values, result, f"line {row.line}")


# -- index for a date ----------------------------------------------------------


def screener_for(store, sources: list[str] | None = None, as_of: str | None = None, thresholds: Thresholds | None = None, max_hits: int = 10) -> tuple[Screener, list]:
    """A screener and the snapshots it screens against: the active ones, or the versions that
    count on ``as_of`` by the same policy as ``check`` and ``assess`` (docs/rules.md): the latest
    capture on or before the date, else the earliest one without its entries listed after the
    date (a batch record carries no rules to say "not yet listed")."""
    if as_of is None:
        snapshots = store.active_snapshots(sources)
        return Screener(store=store, sources=sources, thresholds=thresholds, max_hits=max_hits), snapshots
    from ..rules.asof import DatedScreener
    from ..rules.types import as_date

    dated = DatedScreener(store, as_date(as_of, exact=True), thresholds=thresholds, max_hits=max_hits, sources=sources, listed_only=True)
    return dated.screener, [c.snapshot for c in dated.choices if c.snapshot is not None]


# -- a whole file ----------------------------------------------------------------


@dataclass
class BatchSummary:
    path: Path
    table: Table
    mapping: FieldMapping
    snapshots: list
    thresholds: Thresholds
    output: Path | None
    format: str
    rows: int = 0
    counts: Counter = field(default_factory=Counter)
    by_source: Counter = field(default_factory=Counter)
    by_program: Counter = field(default_factory=Counter)
    run_id: int | None = None
    fingerprint: str = ""
    elapsed: float = 0.0
    started: str = ""
    #: Queries screened, and rows answered by an identical query's result (the per-run cache).
    screened: int = 0
    reused: int = 0
    #: More for the run's audit entry (an uploaded file's own name and its job, not the server's copy's).
    audit: dict = field(default_factory=dict)

    @property
    def flagged(self) -> int:
        return self.counts["match"] + self.counts["review"]

    @property
    def exit_code(self) -> int:
        """2 if any row could not be screened, else 1 if any was flagged, else 0."""
        if self.counts["error"]:
            return 2
        return 1 if self.flagged else 0

    def to_dict(self) -> dict:
        return {
            "run_id": self.run_id,
            "input": str(self.path),
            "input_fingerprint": self.fingerprint,
            "format": self.table.describe(),
            "mapping": self.mapping.to_dict(),
            "rows": self.rows,
            "counts": {s: self.counts[s] for s in STATUSES},
            "by_source": dict(self.by_source.most_common()),
            "by_program": dict(self.by_program.most_common()),
            "snapshots": [{"source": s.source, "version": s.version} for s in self.snapshots],
            "thresholds": {"match": self.thresholds.match, "review": self.thresholds.review},
            "seconds": round(self.elapsed, 3),
        }


def prepare(path, maps: Sequence[str] = (), encoding: str | None = None, sheet: str | None = None, input_format: str | None = None) -> tuple[Table, FieldMapping]:
    """Open an input file and map its columns to the screening fields."""
    table = open_table(path, encoding=encoding, sheet=sheet, format=input_format)
    mapping = map_fields(table.columns, FIELDS, maps, where=str(path))
    if "name" not in mapping.fields and not any(k in mapping.fields for k in ID_FIELDS):
        raise InputError(
            f"{path}: no column to screen; expected a name column (name, company, party ...) or an identifier "
            f"(isin, lei, uscc ...); its columns are: {', '.join(map(repr, table.columns))}; map one with --map name=COLUMN"
        )
    return table, mapping


def _count_flagged(summary: BatchSummary, record: dict) -> None:
    best = record["hits"][0]
    summary.by_source[best["source"]] += 1
    for program in best.get("programs") or ["(none)"]:
        summary.by_program[program] += 1


def screen_file(
    store,
    path: str | Path,
    output: str | Path | None = None,
    format: str | None = None,
    maps: Sequence[str] = (),
    sources: list[str] | None = None,
    as_of: str | None = None,
    encoding: str | None = None,
    sheet: str | None = None,
    thresholds: Thresholds | None = None,
    workers: int | None = None,
    record: bool = True,
    stream=None,
    on_start: Callable[[BatchSummary], None] | None = None,
    on_record: Callable[[dict], None] | None = None,
    ownership: Any = None,
    cache_size: int = CACHE_SIZE,
    audit: Mapping[str, Any] | None = None,
) -> BatchSummary:
    """Screen every row of ``path``, write ``output`` (stdout if None), record the run.

    ``ownership`` (an :class:`~clearance.ownership.engine.OwnershipEngine`) adds
    exposure through owners to each record as hits with ``"via": "ownership"``.
    Each distinct query is screened once (the results of up to ``cache_size``
    distinct queries are kept); ``summary.screened`` and ``summary.reused``
    say how many were screened and how many rows reused a result.  ``audit``
    adds to the details of the run's audit entry.
    """
    from .report import HtmlReport

    path = Path(path)
    fmt = format or format_for_path(output)
    if fmt not in ("jsonl", "csv", "xlsx", "html"):
        raise InputError(f"--format {fmt!r}: expected jsonl, csv, xlsx or html")
    refuse_input_as_output(output, path)
    thresholds = thresholds or Thresholds()
    table, mapping = prepare(path, maps, encoding, sheet)
    screener, snapshots = screener_for(store, sources, as_of, thresholds)
    summary = BatchSummary(path, table, mapping, snapshots, thresholds, Path(output) if output else None, fmt, audit=dict(audit or {}))
    summary.fingerprint = file_fingerprint(path)
    summary.started = _now()
    estimate = table.estimate_rows() if table.format in ("csv", "jsonl", "parquet") else None
    if estimate is not None and estimate < PARALLEL_FROM:
        workers = 1  # forking costs more than it saves
    if on_start:
        on_start(summary)
    started = time.perf_counter()
    flagged = tempfile.TemporaryFile("w+", encoding="utf-8")
    try:
        if fmt == "html":
            writer = HtmlReport(output, summary)
        else:
            writer = open_writer(fmt, output, sheets_for(table.columns), stream=stream)
        ok = False
        try:
            counts = summary.counts
            write = writer.write
            with RowScreener(screener, mapping, workers, ownership=ownership, cache_size=cache_size, release_index=True) as rows:
                for result in rows.screen(table.rows()):
                    write(result)
                    status = result["status"]
                    counts[status] += 1
                    if status == "match" or status == "review":
                        _count_flagged(summary, result)
                        flagged.write(encode_record(result) + "\n")
                    if on_record:
                        on_record(result)
            summary.rows = sum(counts.values())
            summary.screened, summary.reused = rows.screened, rows.reused
            summary.elapsed = time.perf_counter() - started
            writer.finish()  # complete under the temporary name: a full output disk fails here, before recording
            if record:
                flagged.seek(0)
                summary.run_id = _record(store, summary, as_of, sources, (json.loads(line) for line in flagged))
            ok = True
        finally:
            writer.close(ok=ok)  # into place only once recorded
    finally:
        flagged.close()
    return summary


def _now() -> str:
    from ..store.runs import now

    return now()


def _record(store, summary: BatchSummary, as_of: str | None, sources: list[str] | None, flagged: Iterable[dict]) -> int:
    """:func:`record_batch_run`, a database failure (a full disk) as one :class:`StoreError` line."""
    from sqlalchemy.exc import OperationalError

    try:
        return record_batch_run(store, summary, as_of, sources, flagged)
    except OperationalError as exc:
        message = " ".join(str(exc.orig if exc.orig is not None else exc).split())
        full = "full" in message.lower() or "no space" in message.lower()
        kept = "" if summary.output is None else f", and {summary.output} was not written"
        raise StoreError(
            f"{summary.path}: {'the store is full' if full else 'database error'} while recording the screening run "
            f"({message[:300]}); nothing was recorded{kept}"
        ) from None


def record_batch_run(store, summary: BatchSummary, as_of: str | None, sources: list[str] | None, flagged: Iterable[dict], engine: str = "local") -> int:
    """Write the run and the alerts of its flagged records in one transaction; returns the run id."""
    from ..store import runs as r

    snaps = {s.source: {"version": s.version, "snapshot_id": s.id} for s in summary.snapshots}
    finished = _now()
    run = {
        "kind": "screen",
        "portfolio_id": None,
        "started_at": summary.started or finished,
        "finished_at": finished,
        "input_path": str(summary.path),
        "input_fingerprint": summary.fingerprint,
        "input_format": summary.table.format,
        "mapping": summary.mapping.to_dict(),
        "sources": sources,
        "as_of": as_of,
        "snapshots": [{"source": s.source, "version": s.version, "snapshot_id": s.id} for s in summary.snapshots],
        "thresholds": {"match": summary.thresholds.match, "review": summary.thresholds.review},
        "engine": engine,
        "rows": summary.rows,
        "matches": summary.counts["match"],
        "reviews": summary.counts["review"],
        "clears": summary.counts["clear"],
        "errors": summary.counts["error"],
        "details": {"by_source": dict(summary.by_source), "by_program": dict(summary.by_program), "seconds": round(summary.elapsed, 3)},
    }
    mapping = summary.mapping
    with store.engine.connect().execution_options(immediate=True) as conn, conn.begin():
        run_id = r.insert_run(conn, run)
        alerts = (
            alert
            for rec in flagged
            for alert in r.alert_rows(rec, row_key(rec["row"], query_of(mapping.extract(rec["input"]))), run_id, None, snaps, finished)
        )
        r.insert_many(conn, r.alerts, alerts)
        from ..cases import audit

        audit.append(
            conn,
            audit.current_actor(),
            "screen.run",
            {
                "run_id": run_id,
                "kind": "screen",
                "rows": summary.rows,
                "matches": summary.counts["match"],
                "reviews": summary.counts["review"],
                "errors": summary.counts["error"],
                "input_fingerprint": summary.fingerprint,
                "file": summary.path.name,
                "snapshots": [f"{s.source}@{s.version}" for s in summary.snapshots],
                **summary.audit,
            },
            subject=f"run:{run_id}",
        )
    return run_id


__all__ = [
    "FIELDS",
    "HIT_COLUMNS",
    "ID_FIELDS",
    "RESULT_COLUMNS",
    "SCHEMA_WORDS",
    "BatchSummary",
    "RowScreener",
    "Workers",
    "flatten",
    "hit_rows",
    "prepare",
    "query_of",
    "row_fingerprint",
    "row_key",
    "screen_file",
    "screen_query",
    "screen_row",
    "screener_for",
    "sheets_for",
]
