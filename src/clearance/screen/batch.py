"""Batch screening: a file of counterparties in, one screening record per row out.

>>> from clearance.screen.batch import screen_file
>>> summary = screen_file(store, "parties.csv", output="results.xlsx")
>>> summary.counts, summary.run_id

Rows stream through (constant memory in the input size).  The match index is
loaded (or built and cached) once in this process, then worker processes are
forked and share it copy-on-write; rows travel to them in chunks and the
records come back in input order.  Every run is recorded in the store with
its flagged rows as alerts, in one transaction at the end; an output file is
moved into place only once the run is recorded, so a run that could not be
recorded (a full disk) leaves no results behind.
"""

from __future__ import annotations

import gc
import hashlib
import json
import multiprocessing
import os
import tempfile
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

from ..errors import InputError, StoreError
from ..match import index as index_mod
from ..match.index import INDEX_VERSION, MatchIndex
from ..match.matcher import Thresholds
from ..match.resources import data_version
from ..tabular import FieldMapping, Row, Sheet, Table, file_fingerprint, map_fields, open_table, open_writer
from ..tabular.write import format_for_path
from .check import Screener

#: Screening fields -> header synonyms (compared case/punctuation-blind).
FIELDS: dict[str, tuple[str, ...]] = {
    "name": (
        "full name", "company", "company name", "party", "party name", "counterparty", "counterparty name",
        "entity", "entity name", "organisation", "organization", "legal name", "supplier", "supplier name",
        "vendor", "vendor name", "customer", "customer name", "beneficiary", "issuer", "issuer name", "holder",
    ),
    "country": ("country", "country code", "ctry", "nationality", "jurisdiction", "country of incorporation", "residence"),
    "schema": ("type", "entity type", "party type"),
    "dob": ("date of birth", "birth date", "birthdate", "born"),
    "address": ("street", "street address", "full address", "addr"),
    "isin": ("isin code", "isin number"),
    "lei": ("lei code",),
    "uscc": ("unified social credit code", "social credit code", "credit code"),
    "tax": ("tax id", "tax number", "tin", "vat", "vat number", "inn"),
    "ticker": ("symbol", "stock ticker"),
    "imo": ("imo number",),
    "passport": ("passport number",),
    "identifier": ("identifiers", "id number", "registration number", "registration"),
}
#: Fields screened as identifiers (field name = identifier kind, "identifier" = TYPE:VALUE or bare).
ID_FIELDS = ("isin", "lei", "uscc", "tax", "ticker", "imo", "passport", "identifier")
#: How the words people put in a type column read as schemata.
SCHEMA_WORDS = {
    "person": "Person", "individual": "Person", "naturalperson": "Person", "people": "Person",
    "company": "Company", "corporation": "Company", "business": "Company", "firm": "Company",
    "organization": "Organization", "organisation": "Organization", "org": "Organization",
    "entity": "LegalEntity", "legalentity": "LegalEntity",
    "vessel": "Vessel", "ship": "Vessel", "aircraft": "Airplane", "airplane": "Airplane",
}
STATUSES = ("match", "review", "clear", "error")
#: Rows per chunk sent to a worker.
CHUNK = 64


# -- one row -------------------------------------------------------------------


def _split(value: Any) -> list[str]:
    if value is None:
        return []
    return [p.strip() for p in str(value).replace("|", ";").split(";") if p.strip()]


def query_of(fields: Mapping[str, Any]) -> dict:
    """The screening query of a row's mapped fields (plain JSON data)."""
    schema = fields.get("schema")
    if schema:
        schema = SCHEMA_WORDS.get("".join(ch for ch in str(schema).casefold() if ch.isalnum()), str(schema))
    identifiers: list[list[Any]] = []
    for kind in ID_FIELDS:
        for value in _split(fields.get(kind)):
            if kind == "identifier":
                k, sep, v = value.partition(":")
                identifiers.append([k.strip(), v.strip()] if sep and k.strip().isalpha() and v.strip() else [None, value])
            else:
                identifiers.append([kind, value])
    return {
        "name": fields.get("name"),
        "country": _split(fields.get("country")),
        "schema": schema or None,
        "birth_date": fields.get("dob"),
        "identifiers": identifiers,
    }


def row_fingerprint(query: Mapping[str, Any] | None) -> str:
    """Stable fingerprint of what a row screens (its query), 16 hex digits."""
    data = json.dumps(query, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(data.encode("utf-8")).hexdigest()[:16]


def row_key(index: int, query: Mapping[str, Any] | None) -> str:
    return f"{index}:{row_fingerprint(query)}"


def error_record(row: Row, message: str) -> dict:
    return {"row": row.index, "input": row.values, "status": "error", "error": message, "hits": []}


#: Distinct queries whose results each worker remembers (a file often repeats a counterparty).
CACHE_SIZE = 100_000


def screen_query(screener: Screener, index: int, values: Mapping[str, Any], query: Mapping[str, Any], where: str, cache: bool = True) -> dict:
    """The record of one row's query; identical queries in a run are screened once (per process)."""
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
    status, hits, error = found
    record = {"row": index, "input": dict(values), "status": status, "hits": hits}
    if error is not None:
        record = {"row": index, "input": dict(values), "status": status, "error": f"{where}: {error}", "hits": hits}
    return record


def screen_row(screener: Screener, row: Row, mapping: FieldMapping) -> dict:
    """The screening record of one input row; never raises for bad data."""
    if row.error:
        return error_record(row, row.error)
    try:
        return screen_query(screener, row.index, row.values, query_of(mapping.extract(row.values)), f"line {row.line}")
    except Exception as exc:  # a bug must not lose the row
        return error_record(row, f"line {row.line}: could not be screened ({type(exc).__name__}: {exc})")


# -- many rows, several processes ----------------------------------------------

_WORK: dict[str, Callable[[Any], Any]] = {}


def _work_chunk(items: list) -> list:
    work = _WORK["work"]
    return [work(item) for item in items]


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


class Workers:
    """``work(item)`` over a stream of items, in order, on ``workers`` forked processes.

    ``work`` (any callable, closures too) and whatever it holds (the match
    index) are inherited by fork, never pickled: only items and results
    travel.  At most ``4 x workers`` chunks are in flight, so memory stays
    flat.  Use as a context manager: entering forks (do it before starting a
    progress thread), leaving stops the workers.
    """

    def __init__(self, work: Callable[[Any], Any], workers: int | None = None, chunk: int = CHUNK):
        self.work = work
        self.workers = default_workers() if workers is None else max(1, workers)
        self.chunk = chunk
        self._pool = None

    def __enter__(self) -> "Workers":
        if self.workers > 1 and "fork" in multiprocessing.get_all_start_methods():
            _WORK["work"] = self.work
            gc.collect()
            gc.freeze()  # the collector then leaves the shared index's pages alone (copy-on-write stays shared)
            try:
                self._pool = multiprocessing.get_context("fork").Pool(self.workers)
            finally:
                gc.unfreeze()
        return self

    def __exit__(self, *exc) -> None:
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()
            self._pool = None
        _WORK.clear()

    def map(self, items: Iterable[Any]) -> Iterator[Any]:
        if self._pool is None:
            for item in items:
                yield self.work(item)
            return
        pending: deque = deque()
        limit = self.workers * 4
        chunk: list = []
        for item in items:
            chunk.append(item)
            if len(chunk) >= self.chunk:
                pending.append(self._pool.apply_async(_work_chunk, (chunk,)))
                chunk = []
                while len(pending) >= limit:
                    yield from pending.popleft().get()
        if chunk:
            pending.append(self._pool.apply_async(_work_chunk, (chunk,)))
        while pending:
            yield from pending.popleft().get()


class RowScreener(Workers):
    """Screens rows of a file in input order on forked workers sharing one loaded index."""

    def __init__(self, screener: Screener, mapping: FieldMapping, workers: int | None = None, chunk: int = CHUNK):
        super().__init__(lambda row: screen_row(screener, row, mapping), workers, chunk)
        self.screener = screener

    def __enter__(self) -> "RowScreener":
        self.screener.index  # load or build once, before forking
        super().__enter__()
        return self

    def screen(self, rows: Iterable[Row]) -> Iterator[dict]:
        return self.map(rows)


# -- index for a date ----------------------------------------------------------


def screener_for(store, sources: list[str] | None = None, as_of: str | None = None, thresholds: Thresholds | None = None, max_hits: int = 10) -> tuple[Screener, list]:
    """A screener and the snapshots it screens against (active ones, or those in force on ``as_of``)."""
    if as_of is None:
        snapshots = store.active_snapshots(sources)
        return Screener(store=store, sources=sources, thresholds=thresholds, max_hits=max_hits), snapshots
    if len(as_of) < 7 or not as_of[:4].isdigit():
        raise InputError(f"--as-of {as_of!r}: expected a date YYYY-MM-DD")
    snapshots = store.snapshots_as_of(as_of, sources)
    if not snapshots:
        raise InputError(f"--as-of {as_of}: no list snapshot is dated on or before then")
    key = hashlib.sha256("\n".join(f"{s.source}:{s.id}:{s.content_hash}" for s in snapshots).encode()).hexdigest()[:24]
    path = Path(store.cache_dir) / f"asof-index-{key}-v{INDEX_VERSION}-{data_version()}.pkl"
    index = index_mod.load(path) if path.exists() else None
    if index is None:
        index = MatchIndex.build((s.source, e) for s in snapshots for e in store.entities(s))
        try:
            index_mod.save(index, path)
        except OSError:  # pragma: no cover - read-only cache
            pass
    return Screener(store=store, sources=sources, thresholds=thresholds, index=index, max_hits=max_hits), snapshots


# -- output shapes ---------------------------------------------------------------

RESULT_COLUMNS = ["row", "status", "error", "best_score", "best_status", "best_name", "matched_name", "entity_id", "source", "schema", "programs", "hit_count"]
HIT_COLUMNS = ["row", "rank", "query", "entity_id", "source", "schema", "name", "matched_name", "score", "status", "programs", "reason"]


def flatten(record: dict, columns: Sequence[str]) -> dict:
    """One spreadsheet row: the input columns, then the best hit."""
    best = record["hits"][0] if record.get("hits") else {}
    out = {f"input.{c}": record["input"].get(c) for c in columns}
    out.update(
        row=record["row"],
        status=record["status"],
        error=record.get("error"),
        best_score=best.get("score"),
        best_status=best.get("status"),
        best_name=best.get("name"),
        matched_name=best.get("matched_name"),
        entity_id=best.get("entity_id"),
        source=best.get("source"),
        schema=best.get("schema"),
        programs=best.get("programs"),
        hit_count=len(record.get("hits") or []),
    )
    return out


def hit_rows(record: dict) -> Iterator[dict]:
    for rank, hit in enumerate(record.get("hits") or [], 1):
        why = hit.get("explanation") or {}
        yield {
            "row": record["row"], "rank": rank, "query": why.get("query_name"), "entity_id": hit["entity_id"],
            "source": hit["source"], "schema": hit.get("schema"), "name": hit.get("name"),
            "matched_name": hit.get("matched_name"), "score": hit["score"], "status": hit["status"],
            "programs": hit.get("programs"), "reason": "; ".join([why.get("reason", ""), *why.get("notes", [])]).strip("; "),
        }


def sheets_for(columns: Sequence[str]) -> list[Sheet]:
    cols = list(columns)
    return [
        Sheet("results", [f"input.{c}" for c in cols] + RESULT_COLUMNS, lambda r: [flatten(r, cols)]),
        Sheet("hits", HIT_COLUMNS, hit_rows),
    ]


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


def count(summary: BatchSummary, record: dict) -> None:
    summary.rows += 1
    summary.counts[record["status"]] += 1
    if record["status"] in ("match", "review"):
        best = record["hits"][0]
        summary.by_source[best["source"]] += 1
        for program in best.get("programs") or ["(none)"]:
            summary.by_program[program] += 1


def augment(record: dict, engine: Any) -> dict:
    """Hits derived from ownership (OFAC 50% rule, §889 subsidiaries and brands)."""
    from ..ownership.hits import augment as add_ownership_hits

    return add_ownership_hits(record, engine)


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
) -> BatchSummary:
    """Screen every row of ``path``, write ``output`` (stdout if None), record the run.

    ``ownership`` (an :class:`~clearance.ownership.engine.OwnershipEngine`) adds
    exposure through owners to each record as hits with ``"via": "ownership"``.
    """
    from .report import HtmlReport

    path = Path(path)
    fmt = format or format_for_path(output)
    if fmt not in ("jsonl", "csv", "xlsx", "html"):
        raise InputError(f"--format {fmt!r}: expected jsonl, csv, xlsx or html")
    thresholds = thresholds or Thresholds()
    table, mapping = prepare(path, maps, encoding, sheet)
    screener, snapshots = screener_for(store, sources, as_of, thresholds)
    summary = BatchSummary(path, table, mapping, snapshots, thresholds, Path(output) if output else None, fmt)
    summary.fingerprint = file_fingerprint(path)
    summary.started = _now()
    estimate = table.estimate_rows() if table.format in ("csv", "jsonl", "parquet") else None
    if estimate is not None and estimate < 4 * CHUNK:
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
            with RowScreener(screener, mapping, workers) as rows:
                for result in rows.screen(table.rows()):
                    if ownership is not None and result["status"] != "error":
                        result = augment(result, ownership)
                    writer.write(result)
                    count(summary, result)
                    if result["status"] in ("match", "review"):
                        flagged.write(json.dumps(result, ensure_ascii=False) + "\n")
                    if on_record:
                        on_record(result)
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
            },
            subject=f"run:{run_id}",
        )
    return run_id


__all__ = [
    "FIELDS",
    "ID_FIELDS",
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
