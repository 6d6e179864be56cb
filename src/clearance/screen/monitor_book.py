"""A portfolio's rows prepared once for every later monitor run (its *book*).

A run must decide, for 20,000 rows, which ones a list change can touch,
without normalising 20,000 names again.  :class:`Book` holds what it needs,
made at ``monitor add`` from the stored rows: each row's normalised name
forms as token numbers into the portfolio's own vocabulary (flat arrays, so
weights and bounds are computed for all rows at once), the pairs of adjacent
tokens written as one (compounds), the deletion neighbourhoods of all those
strings (:class:`~.monitor_partners.VariantTable`), and the queries as
stored.  With each token's weak flag, the forms are the names' readings
themselves, which a run's screening takes instead of reading the names
again (:meth:`Book.readings`).  :class:`RowState` is the part a run changes: each row's last status
and near miss.

A book is a cache of the database, which stays the record: it is saved
under the store's cache directory, keyed by the portfolio's identity (id,
input fingerprint, mapping, row count, normalisation version and the run
that registered the rows), and rebuilt from ``portfolio_rows`` when it is
missing, stale or unreadable.  The row state is read from the store
(``portfolio_states``: one packed value per portfolio) and written back by
each run in its transaction.

A book is one file that a run maps rather than reads (a 200,000-row book
is about 140 MB, which took a quarter of a second to unpickle): a small
pickled head (key, tokens, compounds, distinct schemas) and then the arrays, each at
an aligned offset, used in place as read-only NumPy views.  The rows' keys
and queries stay encoded in the file (:class:`Texts`) since a run decodes
only those of the rows it screens again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import mmap
import os
import pickle
import struct
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import BinaryIO, cast, overload

import numpy as np
import orjson
from sqlalchemy import select

from ..errors import InputError
from ..match.index import INDEX_VERSION
from ..match.normalize import NameForm, analyze, normalize_identifier
from ..match.resources import data_version
from ..store import runs as r
from .check import check_schema
from .monitor_partners import CLASSES, WIDEST, Sketches, VariantTable, ranges, string_hashes

log = logging.getLogger(__name__)

#: Bump when :class:`Book` or its file changes shape (part of its key: older books are rebuilt).
BOOK_VERSION = "6"
#: Row statuses as small numbers (``RowState.status``).
STATUSES = r.ROW_STATUSES
_CODE = {s: i for i, s in enumerate(STATUSES)}


def norm_version() -> str:
    """The normalisation stored row tokens were made with."""
    return f"{INDEX_VERSION}-{data_version()}"


def name_forms(query: dict | None) -> tuple[NameForm, ...]:
    """Every reading of a row's name."""
    if not query or not query.get("name"):
        return ()
    return analyze(str(query["name"]))


def name_tokens(query: dict | None) -> list[list[str]]:
    """The normalised token lists of every reading of a row's name (stored with the row)."""
    return [list(form.tokens) for form in name_forms(query)]


def _schema(query: dict | None) -> str | None:
    try:
        return check_schema((query or {}).get("schema"))
    except InputError:
        return "?"  # screened as an error: matches nothing


class Texts(Sequence[str | None]):
    """Strings kept UTF-8 encoded in one buffer (the book's mapped file), each decoded when
    read: a run needs the queries and keys of only the few rows it screens again."""

    def __init__(self, blob: memoryview, ends: np.ndarray, present: np.ndarray):
        self._blob, self._ends, self._present = blob, ends, present  # present: False for None

    @staticmethod
    def pack(values: Sequence[str | None]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(blob, ends, present) of strings: what :class:`Texts` reads back."""
        encoded = [b"" if v is None else v.encode("utf-8", "surrogatepass") for v in values]
        ends = np.zeros(len(encoded) + 1, dtype=np.int64)
        np.cumsum(np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded)), out=ends[1:])
        present = np.fromiter((v is not None for v in values), dtype=bool, count=len(encoded))
        return np.frombuffer(b"".join(encoded), dtype=np.uint8), ends, present

    def __len__(self) -> int:
        return len(self._ends) - 1

    @overload
    def __getitem__(self, i: int) -> str | None: ...
    @overload
    def __getitem__(self, i: slice) -> list[str | None]: ...
    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[k] for k in range(len(self))[i]]
        i = range(len(self))[i]  # negative positions, IndexError
        if not self._present[i]:
            return None
        return str(self._blob[self._ends[i] : self._ends[i + 1]], "utf-8", "surrogatepass")

    def many(self, positions: Sequence[int]) -> list[str | None]:
        """``[self[i] for i in positions]`` (positions from 0) in one pass: a run reads thousands."""
        at = np.asarray(positions, dtype=np.int64)
        blob = memoryview(self._blob)
        return [
            str(blob[a:b], "utf-8", "surrogatepass") if present else None
            for a, b, present in zip(self._ends[at].tolist(), self._ends[at + 1].tolist(), self._present[at].tolist())
        ]


def pick(values: Sequence[str | None], positions: Sequence[int]) -> list[str | None]:
    """``[values[i] for i in positions]``, in one pass when ``values`` are :class:`Texts`."""
    return values.many(positions) if isinstance(values, Texts) else [values[i] for i in positions]


class Identifiers(Mapping[int, list[str]]):
    """Row position -> normalised identifiers, kept in the book's file: positions (sorted),
    bounds into one :class:`Texts` of all identifiers; decoded when read (once per run)."""

    def __init__(self, rows: np.ndarray, bounds: np.ndarray, keys: Texts):
        self._rows, self._bounds, self._keys = rows, bounds, keys

    def __len__(self) -> int:
        return len(self._rows)

    def __iter__(self) -> Iterator[int]:
        return iter(self._rows.tolist())

    def __getitem__(self, pos: int) -> list[str]:
        at = int(np.searchsorted(self._rows, pos))
        if at == len(self._rows) or self._rows[at] != pos:
            raise KeyError(pos)
        return cast(list[str], self._keys[int(self._bounds[at]) : int(self._bounds[at + 1])])

    def items(self) -> Iterator[tuple[int, list[str]]]:  # type: ignore[override]
        """In row order, without a search per row."""
        bounds = self._bounds.tolist()
        return ((pos, cast(list[str], self._keys[bounds[k] : bounds[k + 1]])) for k, pos in enumerate(self._rows.tolist()))


@dataclass
class Book:
    """One portfolio's rows, prepared for monitor runs (see the module docstring)."""

    key: str
    row_index: np.ndarray  # row position -> row index in the file
    row_keys: Sequence[str]  # a list, or Texts once saved
    queries: Sequence[str | None]  # the query JSON as stored (None: unreadable row)
    has_query: np.ndarray  # bool per row: is there a query to screen (without decoding it)?
    schema_names: list[str | None]  # the canonical query schemas rows have ("?" invalid), first seen first
    schema_code: np.ndarray  # row -> its schema's number in schema_names
    bonus: np.ndarray  # bool per row: gives a country or birth date (evidence can add)
    identifiers: Mapping[int, list[str]]  # row position -> normalised identifiers
    vocab: list[str]  # the portfolio's tokens
    form_row: np.ndarray  # form -> row position (forms of a row are adjacent)
    form_start: np.ndarray  # form -> first flat position; one more entry at the end
    tok: np.ndarray  # flat position -> token number
    weak: np.ndarray  # flat position -> is the token weak (a legal form, a stopword) in its reading?
    join: np.ndarray  # flat position -> number of the compound it makes with the next token, or -1
    joins: list[str]  # compounds: two adjacent tokens written as one
    table: VariantTable  # deletion neighbourhoods of vocab + joins
    first: np.ndarray  # vocab + joins -> first character (code point; -1: empty) ...
    sketch: np.ndarray  # ... and letter sketch (:class:`~.monitor_partners.Sketches`; lengths: table.lengths)
    exact_keys: np.ndarray  # whole-string hashes (sorted) of the strings the table does not cover (< 4 or > 12 letters) ...
    exact_ids: np.ndarray  # ... and their numbers in vocab + joins

    @property
    def rows(self) -> int:
        return len(self.row_index)

    @property
    def schemas(self) -> Sequence[str | None]:
        """Each row's canonical query schema ("?" invalid)."""
        return Coded(self.schema_names, self.schema_code)

    @property
    def sketches(self) -> Sketches:
        """Letter sketches of the tokens, then the compounds (numbered as :attr:`strings`)."""
        return Sketches(self.table.lengths, self.first, self.sketch)

    @property
    def strings(self) -> list[str]:
        """Tokens, then compounds: the numbering of :attr:`table`, :attr:`sketches` and :attr:`exact_ids`."""
        return self.vocab + self.joins

    def form_tok(self, form: int) -> np.ndarray:
        """A form's token numbers."""
        return self.tok[int(self.form_start[form]) : int(self.form_start[form + 1])]

    def form_tokens(self, form: int) -> tuple[str, ...]:
        """A form's tokens."""
        return tuple(map(self.vocab.__getitem__, self.form_tok(form).tolist()))

    def forms_of(self, position: int) -> range:
        """The forms of the row at ``position`` (they are adjacent)."""
        rows = self.form_row
        return range(int(np.searchsorted(rows, position, "left")), int(np.searchsorted(rows, position, "right")))

    def readings(self, items: Iterable[tuple]) -> Iterator[tuple[str, tuple[NameForm, ...]]]:
        """``(name, its readings)`` for ``(position, query, ...)`` items whose query has a name,
        from the row's forms: what ``normalize.analyze`` gave the name when the book was made
        (the forms of all items looked up at once: a run reads thousands)."""
        named = [(pos, str(query["name"])) for pos, query, *_ in items if query and query.get("name")]
        at = np.fromiter((pos for pos, _ in named), dtype=np.int64, count=len(named))
        first, last = np.searchsorted(self.form_row, at, "left"), np.searchsorted(self.form_row, at, "right")
        forms = ranges(first, last)
        start, end = self.form_start[forms], self.form_start[forms + 1]
        flat = ranges(start, end)
        words, weak = list(map(self.vocab.__getitem__, self.tok[flat].tolist())), self.weak[flat].tolist()
        sizes, k, f = (end - start).tolist(), 0, 0
        for (_, name), count in zip(named, (last - first).tolist()):
            readings = []
            for size in sizes[f : f + count]:
                readings.append(NameForm(tuple(words[k : k + size]), tuple(weak[k : k + size])))
                k += size
            f += count
            yield name, tuple(readings)

    def query(self, position: int) -> dict | None:
        text = self.queries[position]
        return orjson.loads(text) if text else None  # (orjson: a run decodes thousands)

    @classmethod
    def build(cls, key: str, rows: Iterable[tuple[int, str, str | None]]) -> "Book":
        """From ``(row index, row key, query JSON)`` in row order."""
        row_index, row_keys, queries, schemas, bonus = [], [], [], [], []
        identifiers: dict[int, list[str]] = {}
        vocab: dict[str, int] = {}
        joins: dict[str, int] = {}
        form_row, form_start, tok, weak, join = [], [], [], [], []
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
            for form in name_forms(query):
                form_row.append(pos)
                form_start.append(len(tok))
                tokens = form.tokens
                weak.extend(form.weak)
                for k, t in enumerate(tokens):
                    tok.append(vocab.setdefault(t, len(vocab)))
                    join.append(joins.setdefault(t + tokens[k + 1], len(joins)) if k + 1 < len(tokens) else -1)
        form_start.append(len(tok))
        words, compounds = list(vocab), list(joins)
        names = list(dict.fromkeys(schemas))
        number = {name: k for k, name in enumerate(names)}
        strings = words + compounds
        table = VariantTable(strings)
        sketches = _sketches(words, compounds, table.lengths, np.asarray(tok, dtype=np.int64), np.asarray(join, dtype=np.int64))
        uncovered = np.flatnonzero((table.lengths < CLASSES[0][0]) | (table.lengths > WIDEST))
        hashes = string_hashes([strings[i] for i in uncovered.tolist()])
        order = np.lexsort((uncovered, hashes))
        return cls(
            key=key,
            row_index=np.asarray(row_index, dtype=np.int64),
            row_keys=row_keys,
            queries=queries,
            has_query=np.fromiter(map(bool, queries), dtype=bool, count=len(queries)),
            schema_names=names,
            schema_code=np.fromiter(map(number.__getitem__, schemas), dtype=np.int16, count=len(schemas)),
            bonus=np.asarray(bonus, dtype=bool),
            identifiers=identifiers,
            vocab=words,
            form_row=np.asarray(form_row, dtype=np.int64),
            form_start=np.asarray(form_start, dtype=np.int64),
            tok=np.asarray(tok, dtype=np.int64),
            weak=np.asarray(weak, dtype=bool),
            join=np.asarray(join, dtype=np.int64),
            joins=compounds,
            table=table,
            first=sketches.first,
            sketch=sketches.sketch,
            exact_keys=hashes[order],
            exact_ids=uncovered[order],
        )


def _sketches(vocab: list[str], joins: list[str], lengths: np.ndarray, tok: np.ndarray, join: np.ndarray) -> Sketches:
    """Sketches of the tokens, then of the compounds (each from its two tokens')."""
    words = Sketches.of(vocab, lengths[: len(vocab)])
    head, tail = np.zeros(len(joins) + 1, dtype=np.int64), np.zeros(len(joins) + 1, dtype=np.int64)
    head[join[:-1]], tail[join[:-1]] = tok[:-1], tok[1:]  # no compound (-1): the spare last entry
    return words + words.joined(head[:-1], tail[:-1])


class Coded(Sequence):
    """A sequence of a few distinct values, kept as their numbers."""

    def __init__(self, values: Sequence, codes: np.ndarray):
        self._values, self._codes = values, codes

    def __len__(self) -> int:
        return len(self._codes)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self._values[c] for c in self._codes[i].tolist()]
        return self._values[self._codes[i]]

    def __iter__(self):
        return map(self._values.__getitem__, self._codes.tolist())

    def __eq__(self, other) -> bool:
        return isinstance(other, Sequence) and list(self) == list(other)


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
        at = np.fromiter(nears, dtype=np.int64, count=len(nears))
        self.near[at] = np.maximum(self.near[at], np.fromiter(nears.values(), dtype=np.float64, count=len(nears)))

    def update(self, positions: Iterable[int], statuses: Iterable[str], nears: Iterable[float], run_id: int) -> None:
        """Set these rows' status and near miss (each row once)."""
        at = np.fromiter(positions, dtype=np.int64)
        error = _CODE["error"]
        self.status[at] = np.fromiter((_CODE.get(s, error) for s in statuses), dtype=np.int8, count=len(at))
        self.near[at] = np.fromiter(nears, dtype=np.float64, count=len(at))
        self.run_id = run_id

    def records(self, row_index: np.ndarray) -> np.ndarray:
        """As the store keeps it: :data:`~clearance.store.runs.ROW_STATE` records of the rows not
        at the default (clear, no near miss), ``row_index`` the book's (position -> row index)."""
        kept = np.flatnonzero((self.status != _CODE[r.DEFAULT_STATE[0]]) | (self.near != r.DEFAULT_STATE[1]))
        out = np.empty(len(kept), dtype=r.ROW_STATE)
        out["row"], out["status"], out["near"] = row_index[kept], self.status[kept], self.near[kept]
        return out

    @classmethod
    def of_records(cls, run_id: int, records: np.ndarray, row_index: np.ndarray) -> "RowState":
        """The state of a book's rows (``row_index``: sorted) from the store's records; rows not
        in the book (none, unless the records are not the book's) are left out."""
        state = cls(run_id, np.full(len(row_index), _CODE[r.DEFAULT_STATE[0]], dtype=np.int8), np.full(len(row_index), r.DEFAULT_STATE[1]))
        at = np.minimum(np.searchsorted(row_index, records["row"]), max(len(row_index) - 1, 0))
        found = (row_index[at] == records["row"]) if len(row_index) else np.zeros(len(records), dtype=bool)
        state.status[at[found]], state.near[at[found]] = records["status"][found], records["near"][found]
        return state


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
    """``kind``: ``book``; or what older versions saved: ``book.pkl`` (a book, before BOOK_VERSION 4),
    ``state.pkl`` (rows' state, now kept by the store alone)."""
    store_id = hashlib.sha256(store.url.encode()).hexdigest()[:12]
    return Path(store.cache_dir) / f"monitor-{store_id}-{portfolio_id}.{kind}"


def _save(path: Path, write: Callable[[BinaryIO], None]) -> None:
    """Write to a temporary file, then rename it: a reader sees the old file or the new one."""
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("wb") as handle:
            write(handle)
        tmp.replace(path)
    except OSError as exc:  # a read-only cache is not fatal: the next run rebuilds
        log.warning("could not save %s: %s", path, exc)
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)


# A book's file: this head, the pickled head (key, tokens, compounds, schemas, where each
# array is), then the arrays, each at a multiple of _ALIGN from the first one's offset.
_HEAD = struct.Struct("<8sQQ")  # magic, pickled head's length, file size
_MAGIC = b"CLRBOOK\x00"
_ALIGN = 64
_ARRAYS = ("row_index", "has_query", "schema_code", "bonus", "form_row", "form_start", "tok", "weak", "join", "first", "sketch", "exact_keys", "exact_ids")
_TABLE = ("keys", "bounds", "owners", "lengths", "long")  # VariantTable's arrays
_TEXTS = ("blob", "ends", "present")


def _aligned(n: int) -> int:
    return -(-n // _ALIGN) * _ALIGN


def _columns(book: Book) -> dict[str, np.ndarray]:
    """Every array a book's file holds, by name."""
    ids = sorted(book.identifiers.items())
    columns = {name: getattr(book, name) for name in _ARRAYS}
    columns |= {f"table.{name}": getattr(book.table, name) for name in _TABLE}
    for name, values in (("row_keys", book.row_keys), ("queries", book.queries), ("id_keys", [k for _, keys in ids for k in keys])):
        columns |= {f"{name}.{part}": a for part, a in zip(_TEXTS, Texts.pack(values))}
    columns["id_rows"] = np.array([pos for pos, _ in ids], dtype=np.int64)
    columns["id_bounds"] = np.cumsum([0] + [len(keys) for _, keys in ids], dtype=np.int64)
    return columns


def _write_book(book: Book, handle: BinaryIO) -> None:
    columns = {name: np.ascontiguousarray(a) for name, a in _columns(book).items()}
    places, offset = {}, 0
    for name, a in columns.items():
        places[name] = (a.dtype.str, len(a), offset)
        offset += _aligned(a.nbytes)
    head = pickle.dumps(
        {"key": book.key, "vocab": list(book.vocab), "joins": list(book.joins), "schema_names": list(book.schema_names), "size": book.table.size, "arrays": places},
        protocol=pickle.HIGHEST_PROTOCOL,
    )
    first = _aligned(_HEAD.size + len(head))
    handle.write(_HEAD.pack(_MAGIC, len(head), first + offset))
    handle.write(head)
    handle.write(bytes(first - _HEAD.size - len(head)))
    for a in columns.values():
        handle.write(a.data.cast("B"))
        handle.write(bytes(_aligned(a.nbytes) - a.nbytes))


def _read_book(path: Path) -> Book | None:
    """The book saved at ``path``, its arrays mapped from the file (None: missing, cut short or unreadable)."""
    try:
        with path.open("rb") as handle:
            magic, length, size = _HEAD.unpack(handle.read(_HEAD.size))
            if magic != _MAGIC or os.fstat(handle.fileno()).st_size != size:
                return None
            head = pickle.loads(handle.read(length))
            data = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        first = _aligned(_HEAD.size + length)
        arrays = {}
        for name, (dtype, count, offset) in head["arrays"].items():
            if first + offset + count * np.dtype(dtype).itemsize > size:
                return None
            arrays[name] = np.frombuffer(data, dtype=dtype, count=count, offset=first + offset)
        texts = {name: Texts(arrays[f"{name}.blob"].data, *(arrays[f"{name}.{part}"] for part in _TEXTS[1:])) for name in ("row_keys", "queries", "id_keys")}
        table = VariantTable.__new__(VariantTable)
        table.size = head["size"]
        for name in _TABLE:
            setattr(table, name, arrays[f"table.{name}"])
        return Book(
            key=head["key"], row_keys=cast(Sequence[str], texts["row_keys"]), queries=texts["queries"], schema_names=head["schema_names"],
            identifiers=Identifiers(arrays["id_rows"], arrays["id_bounds"], texts["id_keys"]),
            vocab=head["vocab"], joins=head["joins"], table=table, **{name: arrays[name] for name in _ARRAYS},
        )
    except Exception:  # a cache: whatever is wrong with it, the book is rebuilt
        return None


def save_book(store, portfolio_id: int, book: Book) -> None:
    _save(_path(store, portfolio_id, "book"), partial(_write_book, book))
    with contextlib.suppress(OSError):
        _path(store, portfolio_id, "book.pkl").unlink(missing_ok=True)


def drop(store, portfolio_id: int) -> None:
    for kind in ("book", "state.pkl", "book.pkl"):
        _path(store, portfolio_id, kind).unlink(missing_ok=True)


def load_book(store, p) -> Book:
    """The portfolio's book: the cached one if still valid, else rebuilt from its stored rows (and cached)."""
    key = book_key(store, p)
    book = _read_book(_path(store, p.id, "book"))
    if book is not None and book.key == key:
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
    """Each row's last status and near miss, as the store keeps them."""
    with store.engine.connect() as conn:
        return RowState.of_records(p.last_run_id or 0, r.read_row_states(conn, p.id), book.row_index)


__all__ = ["Book", "Coded", "Identifiers", "RowState", "Texts", "STATUSES", "book_key", "drop", "load_book", "load_state", "name_tokens", "norm_version", "pick", "save_book"]
