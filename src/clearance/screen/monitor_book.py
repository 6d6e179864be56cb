"""A portfolio's rows prepared once for every later monitor run (its *book*).

A run must decide, for 20,000 rows, which ones a list change can touch,
without normalising 20,000 names again.  :class:`Book` holds what it needs,
made at ``monitor add`` from the stored rows: each row's normalised name
forms as token numbers into the portfolio's own vocabulary (flat arrays, so
weights and bounds are computed for all rows at once), the pairs of adjacent
tokens written as one (compounds), the deletion neighbourhoods of all those
strings (:class:`~.monitor_partners.VariantTable`), and the queries as
stored.  :class:`RowState` is the part a run changes: each row's last status
and near miss.

Both are caches of the database, which stays the record: a book is saved
under the store's cache directory, keyed by the portfolio's identity (id,
input fingerprint, mapping, row count, normalisation version and the run
that registered the rows), and rebuilt from ``portfolio_rows`` when it is
missing or stale; the row state is used only if it was saved by the
portfolio's last run.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import numpy as np
from sqlalchemy import select

from ..errors import InputError
from ..match.index import INDEX_VERSION
from ..match.normalize import analyze, normalize_identifier
from ..match.resources import data_version
from ..store import runs as r
from .check import check_schema
from .monitor_partners import VariantTable

log = logging.getLogger(__name__)

#: Bump when :class:`Book` changes shape (part of its key: older books are rebuilt).
BOOK_VERSION = "3"
#: Row statuses as small numbers (``RowState.status``).
STATUSES = ("clear", "review", "match", "error")
_CODE = {s: i for i, s in enumerate(STATUSES)}


def norm_version() -> str:
    """The normalisation stored row tokens were made with."""
    return f"{INDEX_VERSION}-{data_version()}"


def name_tokens(query: dict | None) -> list[list[str]]:
    """The normalised token lists of every reading of a row's name (stored with the row)."""
    if not query or not query.get("name"):
        return []
    return [list(form.tokens) for form in analyze(str(query["name"]))]


def _schema(query: dict | None) -> str | None:
    try:
        return check_schema((query or {}).get("schema"))
    except InputError:
        return "?"  # screened as an error: matches nothing


@dataclass
class Book:
    """One portfolio's rows, prepared for monitor runs (see the module docstring)."""

    key: str
    row_index: np.ndarray  # row position -> row index in the file
    row_keys: list[str]
    queries: list[str | None]  # the query JSON as stored (None: unreadable row)
    schemas: list[str | None]  # canonical query schema per row ("?" invalid)
    bonus: np.ndarray  # bool per row: gives a country or birth date (evidence can add)
    identifiers: dict[int, list[str]]  # row position -> normalised identifiers
    vocab: list[str]  # the portfolio's tokens
    form_row: np.ndarray  # form -> row position (forms of a row are adjacent)
    form_start: np.ndarray  # form -> first flat position; one more entry at the end
    tok: np.ndarray  # flat position -> token number
    join: np.ndarray  # flat position -> number of the compound it makes with the next token, or -1
    joins: list[str]  # compounds: two adjacent tokens written as one
    table: VariantTable  # deletion neighbourhoods of vocab + joins
    exact: dict[str, list[int]] = field(default_factory=dict)  # strings hashing does not cover (< 4 or > 12 letters) -> numbers

    @property
    def rows(self) -> int:
        return len(self.row_keys)

    @property
    def strings(self) -> list[str]:
        """Tokens, then compounds: the numbering of :attr:`table` and :attr:`exact`."""
        return self.vocab + self.joins

    def query(self, position: int) -> dict | None:
        text = self.queries[position]
        return json.loads(text) if text else None

    @classmethod
    def build(cls, key: str, rows: Iterable[tuple[int, str, str | None]]) -> "Book":
        """From ``(row index, row key, query JSON)`` in row order."""
        row_index, row_keys, queries, schemas, bonus = [], [], [], [], []
        identifiers: dict[int, list[str]] = {}
        vocab: dict[str, int] = {}
        joins: dict[str, int] = {}
        form_row, form_start, tok, join = [], [], [], []
        for pos, (index, row_key, text) in enumerate(rows):
            query = json.loads(text) if text else None
            row_index.append(index)
            row_keys.append(row_key)
            queries.append(text)
            schemas.append(_schema(query))
            bonus.append(bool(query and (query.get("country") or query.get("birth_date"))))
            ids = [normalize_identifier(v) for _, v in (query or {}).get("identifiers") or []]
            if ids:
                identifiers[pos] = [k for k in ids if k]
            for tokens in name_tokens(query):
                form_row.append(pos)
                form_start.append(len(tok))
                for k, t in enumerate(tokens):
                    tok.append(vocab.setdefault(t, len(vocab)))
                    join.append(joins.setdefault(t + tokens[k + 1], len(joins)) if k + 1 < len(tokens) else -1)
        form_start.append(len(tok))
        words, compounds = list(vocab), list(joins)
        strings = words + compounds
        return cls(
            key=key,
            row_index=np.asarray(row_index, dtype=np.int64),
            row_keys=row_keys,
            queries=queries,
            schemas=schemas,
            bonus=np.asarray(bonus, dtype=bool),
            identifiers=identifiers,
            vocab=words,
            form_row=np.asarray(form_row, dtype=np.int64),
            form_start=np.asarray(form_start, dtype=np.int64),
            tok=np.asarray(tok, dtype=np.int64),
            join=np.asarray(join, dtype=np.int64),
            joins=compounds,
            table=VariantTable(strings),
            exact=_numbers([s for s in strings if len(s) < 4 or len(s) > 12], strings),
        )


def _numbers(wanted: Iterable[str], strings: list[str]) -> dict[str, list[int]]:
    """String -> its numbers in ``strings`` (a token may also be a compound of two others)."""
    keep = set(wanted)
    out: dict[str, list[int]] = {}
    for i, s in enumerate(strings):
        if s in keep:
            out.setdefault(s, []).append(i)
    return out


@dataclass
class RowState:
    """Each row's status and near miss after a given run."""

    run_id: int
    status: np.ndarray  # int8 codes of STATUSES
    near: np.ndarray  # float64

    @classmethod
    def empty(cls, run_id: int, rows: int) -> "RowState":
        return cls(run_id, np.full(rows, _CODE["error"], dtype=np.int8), np.zeros(rows, dtype=np.float64))

    def flagged_or_near(self, band: float) -> np.ndarray:
        """Positions of rows flagged last time or with a near miss within the band."""
        return np.nonzero((self.status == _CODE["match"]) | (self.status == _CODE["review"]) | (self.near >= band))[0]

    def flagged(self) -> np.ndarray:
        """Per row: was it flagged (match or review) last time?"""
        return (self.status == _CODE["match"]) | (self.status == _CODE["review"])

    def raise_near(self, nears: dict[int, float]) -> None:
        for pos, near in nears.items():
            self.near[pos] = max(self.near[pos], near)

    def update(self, positions: Iterable[int], statuses: Iterable[str], nears: Iterable[float], run_id: int) -> None:
        for pos, status, near in zip(positions, statuses, nears):
            self.status[pos] = _CODE.get(status, _CODE["error"])
            self.near[pos] = near
        self.run_id = run_id


# -- where they are kept ------------------------------------------------------------


def book_key(store, p) -> str:
    """What a book depends on: the portfolio's identity, its registration and the normalisation."""
    with store.engine.connect() as conn:
        added = conn.execute(
            select(r.runs.c.id).where(r.runs.c.portfolio_id == p.id, r.runs.c.kind == "monitor", r.runs.c.details.like('%"initial": true%'))
            .order_by(r.runs.c.id.desc()).limit(1)
        ).scalar()
    parts = [BOOK_VERSION, store.url, str(p.id), str(added), p.input_fingerprint or "", p.mapping or "", str(p.row_count), norm_version()]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:24]


def _path(store, portfolio_id: int, kind: str) -> Path:
    store_id = hashlib.sha256(store.url.encode()).hexdigest()[:12]
    return Path(store.cache_dir) / f"monitor-{store_id}-{portfolio_id}.{kind}.pkl"


def _save(path: Path, value) -> None:
    try:
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        with tmp.open("wb") as handle:
            pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(path)
    except OSError as exc:  # a read-only cache is not fatal: the next run rebuilds
        log.warning("could not save %s: %s", path, exc)


def _load(path: Path):
    try:
        with path.open("rb") as handle:
            return pickle.load(handle)
    except Exception:
        return None


def save_book(store, portfolio_id: int, book: Book) -> None:
    _save(_path(store, portfolio_id, "book"), book)


def save_state(store, portfolio_id: int, state: RowState) -> None:
    _save(_path(store, portfolio_id, "state"), state)


def carry_state(store, p, run_id: int) -> None:
    """A run that screened no row leaves the rows' state as it was: still valid after it."""
    state = _load(_path(store, p.id, "state"))
    if isinstance(state, RowState) and state.run_id == p.last_run_id:
        state.run_id = run_id
        save_state(store, p.id, state)


def drop(store, portfolio_id: int) -> None:
    for kind in ("book", "state"):
        _path(store, portfolio_id, kind).unlink(missing_ok=True)


def load_book(store, p) -> Book:
    """The portfolio's book: the cached one if still valid, else rebuilt from its stored rows (and cached)."""
    key = book_key(store, p)
    book = _load(_path(store, p.id, "book"))
    if isinstance(book, Book) and book.key == key:
        return book
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(r.portfolio_rows.c.row_index, r.portfolio_rows.c.row_key, r.portfolio_rows.c.query)
            .where(r.portfolio_rows.c.portfolio_id == p.id).order_by(r.portfolio_rows.c.row_index)
        ).all()
    book = Book.build(key, ((row.row_index, row.row_key, row.query) for row in rows))
    save_book(store, p.id, book)
    return book


def load_state(store, p, book: Book) -> RowState:
    """Each row's last status and near miss: cached by the last run, else read from the store."""
    state = _load(_path(store, p.id, "state"))
    if isinstance(state, RowState) and state.run_id == p.last_run_id and len(state.status) == book.rows:
        return state
    with store.engine.connect() as conn:
        found = dict(
            ((row.row_index, (row.status, row.near)) for row in conn.execute(
                select(r.portfolio_rows.c.row_index, r.portfolio_rows.c.status, r.portfolio_rows.c.near)
                .where(r.portfolio_rows.c.portfolio_id == p.id)
            ))
        )
    status = np.array([_CODE.get(found.get(int(i), ("error", 0.0))[0], _CODE["error"]) for i in book.row_index], dtype=np.int8)
    near = np.array([found.get(int(i), ("error", 0.0))[1] for i in book.row_index], dtype=np.float64)
    return RowState(p.last_run_id or 0, status, near)


__all__ = ["Book", "RowState", "STATUSES", "book_key", "carry_state", "drop", "load_book", "load_state", "name_tokens", "norm_version", "save_book", "save_state"]
