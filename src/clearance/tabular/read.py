"""Stream rows out of user files, whatever shape they come in.

:func:`open_table` recognises the format (by extension, else by content),
and for CSV sniffs the encoding (BOM, UTF-8, else a detector, else cp1252) and
the delimiter (``,`` ``;`` tab ``|``).  :meth:`Table.rows` then yields one
:class:`Row` per record with its 0-based index and its line number, holding
only one batch in memory.  A record that cannot be read cleanly (ragged, bad
bytes, an oversized cell, a JSON line that is not an object) still comes out,
as a row with an ``error``: a file never silently loses a row.  What makes a
whole file unreadable (empty, binary, a damaged workbook, one unpacking to
more than :data:`XLSX_MAX_BYTES` or packed like a zip bomb) raises
:class:`~clearance.errors.InputError` naming the file, in one line.

:func:`map_fields` maps a caller's fields to the file's columns by header
synonyms, with ``field=Column`` overrides.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import json
import re
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from ..errors import InputError
from .mapping import FieldMapping, map_fields, normalise_header  # noqa: F401  (re-exported)

#: Longest cell screened; a longer one makes its row an error (the echo is cut).
MAX_CELL = 65_536
#: Longest CSV field the parser accepts at all (an unterminated quote stops here).
MAX_FIELD = 64 * 1024 * 1024
#: Bytes looked at to sniff encoding and delimiter.
SAMPLE = 256 * 1024
#: JSON Lines records read to learn the columns.
JSONL_PEEK = 1000
#: Most bytes a workbook may unpack to in all (a bigger one is refused: save it as CSV).
XLSX_MAX_BYTES = 200 * 1024 * 1024
#: A workbook part packed tighter than this ratio, and unpacking past XLSX_RATIO_FLOOR, is refused as a zip bomb.
XLSX_MAX_RATIO = 100
XLSX_RATIO_FLOOR = 4 * 1024 * 1024
#: Excel's last row; rows numbered past it are not read.
XLSX_MAX_ROW = 1_048_576

FORMAT_NAMES = {"csv": "CSV", "xlsx": "XLSX", "jsonl": "JSON Lines", "parquet": "Parquet"}
_EXTENSIONS = {
    ".csv": "csv", ".tsv": "csv", ".txt": "csv", ".tab": "csv",
    ".xlsx": "xlsx", ".xlsm": "xlsx",
    ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl",
    ".parquet": "parquet", ".pq": "parquet",
}
_DELIMITERS = (",", ";", "\t", "|")
_SURROGATE = re.compile("[\udc80-\udcff]")


@dataclass(slots=True)
class Row:
    """One input record: ``values`` maps column -> text (None when blank)."""

    index: int
    line: int
    values: dict[str, Any]
    error: str | None = None


@dataclass
class Table:
    """An opened input file; :meth:`rows` streams it (and may be called again)."""

    path: Path
    format: str
    columns: list[str]
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    _rows: Callable[[], Iterator[Row]] | None = field(default=None, repr=False)

    def rows(self) -> Iterator[Row]:
        assert self._rows is not None
        return self._rows()

    def estimate_rows(self) -> int | None:
        """About how many records (for a progress bar): Parquet's count, else newlines; None if unknown."""
        try:
            if self.format == "parquet":
                import pyarrow.parquet as pq

                return pq.ParquetFile(self.path).metadata.num_rows
            if self.format in ("csv", "jsonl"):
                lines = 0
                with self.path.open("rb") as fh:
                    for block in iter(lambda: fh.read(1 << 22), b""):
                        lines += block.count(b"\n")
                return max(0, lines - (1 if self.format == "csv" else 0)) or None
        except Exception:  # pragma: no cover - only an estimate
            return None
        return None

    def describe(self) -> str:
        parts = [FORMAT_NAMES[self.format]]
        if self.encoding:
            parts.append(self.encoding)
        if self.delimiter:
            parts.append({"\t": "tab", ",": "comma", ";": "semicolon", "|": "pipe"}.get(self.delimiter, repr(self.delimiter)) + "-delimited")
        if self.sheet:
            parts.append(f"sheet {self.sheet!r}")
        return ", ".join(parts)


def file_fingerprint(path: str | Path) -> str:
    """sha256 of the file's bytes (recorded with every run)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# -- cells ---------------------------------------------------------------------


def cell_text(value: Any) -> str | None:
    """A cell as text: blanks are None, whole floats lose ``.0``, dates are ISO."""
    if value is None:
        return None
    if isinstance(value, str):
        value = value.strip()
        return value or None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value != value:  # NaN
            return None
        return str(int(value)) if value.is_integer() and abs(value) < 1e16 else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, default=str)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace").strip() or None
    return str(value).strip() or None


def _finish(index: int, line: int, columns: list[str], cells: Sequence[Any], where: str, error: str | None = None) -> Row:
    """Build a row from positional cells: ragged rows, oversized cells and bad bytes become errors."""
    values: dict[str, Any] = {}
    for k, column in enumerate(columns):
        values[column] = cell_text(cells[k]) if k < len(cells) else None
    if len(cells) > len(columns):
        extra = [cell_text(c) for c in cells[len(columns):]]
        if any(extra):
            values["_extra"] = extra
            error = error or f"{where}: {len(cells)} cells but the header has {len(columns)} (an unquoted delimiter?)"
    elif len(cells) < len(columns) and error is None:
        error = f"{where}: {len(cells)} cell{'s' if len(cells) != 1 else ''} but the header has {len(columns)}"
    return check_row(Row(index, line, values, error), where)


def check_row(row: Row, where: str) -> Row:
    """Cut oversized cells and undecodable bytes out of ``row.values``, noting the first as its error."""
    for column, value in row.values.items():
        if not isinstance(value, str):
            continue
        if len(value) > MAX_CELL:
            row.values[column] = value[:200] + f"... [cut: {len(value):,} characters]"
            row.error = row.error or f"{where}: column {column!r} holds {len(value):,} characters; the longest accepted is {MAX_CELL:,}"
            value = row.values[column]
        if _SURROGATE.search(value):
            row.values[column] = _SURROGATE.sub("\ufffd", value)
            row.error = row.error or f"{where}: column {column!r} has bytes that are not valid in the file's encoding (try --encoding)"
    return row


# -- opening -------------------------------------------------------------------


def open_table(
    path: str | Path,
    *,
    format: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    sheet: str | None = None,
) -> Table:
    """Open ``path`` for streaming; raises :class:`InputError` if it is unusable as a whole."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: file not found")
    if path.is_dir():
        raise InputError(f"{path}: is a folder; expected a CSV, XLSX, JSON Lines or Parquet file")
    try:
        with path.open("rb") as fh:
            head = fh.read(SAMPLE)
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    fmt = format or _detect(path, head)
    if fmt not in FORMAT_NAMES:
        raise InputError(f"{path}: unknown input format {fmt!r}; expected one of {', '.join(FORMAT_NAMES)}")
    if not head.strip():
        raise InputError(f"{path}: the file is empty; expected a header row and records")
    if fmt == "csv":
        return _open_csv(path, head, encoding, delimiter)
    if fmt == "xlsx":
        return _open_xlsx(path, sheet)
    if fmt == "jsonl":
        return _open_jsonl(path, head)
    return _open_parquet(path, head)


def _detect(path: Path, head: bytes) -> str:
    suffix = path.suffix.lower()
    if suffix == ".xls":
        raise InputError(f"{path}: old Excel .xls files are not read; save it as .xlsx or CSV")
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith(b"PAR1"):
        return "parquet"
    if suffix in _EXTENSIONS:
        return _EXTENSIONS[suffix]
    if head.lstrip()[:1] == b"{":
        return "jsonl"
    return "csv"


def _looks_binary(head: bytes) -> bool:
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return False
    sample = head[:8192]
    if b"\x00" in sample:
        return True
    controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13))
    return controls > max(8, len(sample) // 50)


def sniff_encoding(head: bytes) -> str:
    """BOM, else UTF-8 if the sample decodes, else a detector's guess, else cp1252."""
    for bom, name in (
        (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if head.startswith(bom):
            return name
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=len(head) < SAMPLE)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(head[:65536]).best()
        if best is not None and best.encoding:
            return codecs.lookup(best.encoding).name
    except Exception:  # pragma: no cover - detector trouble is not fatal
        pass
    return "cp1252"


def sniff_delimiter(text: str) -> str:
    """The candidate delimiter most frequent (outside quotes) in the header line; ``,`` if none."""
    header = ""
    for line in text.splitlines():
        if line.strip():
            header = line
            break
    counts = {d: 0 for d in _DELIMITERS}
    quoted = False
    for char in header:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(_DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _header(cells: Sequence[Any]) -> list[str]:
    """Column names: blanks named ``column_N``, duplicates suffixed ``_2``..."""
    names: list[str] = []
    seen: set[str] = set()
    for k, cell in enumerate(cells, 1):
        base = (cell_text(cell) or f"column_{k}")[:200]
        name, n = base, 2
        while name in seen:
            name, n = f"{base}_{n}", n + 1
        seen.add(name)
        names.append(name)
    while names and names[-1].startswith("column_") and len(names) > 1 and not cell_text(cells[len(names) - 1]):
        names.pop()  # trailing empty header cells (a trailing delimiter)
    return names


_UNCLOSED = "a quote opened here is never closed (double a quote inside a quoted cell, or close it)"


def _open_csv(path: Path, head: bytes, encoding: str | None, delimiter: str | None) -> Table:
    given = bool(encoding)
    if encoding:
        try:
            encoding = codecs.lookup(encoding).name
        except LookupError:
            raise InputError(f"--encoding {encoding!r}: unknown encoding; e.g. utf-8, cp1252, latin-1, gb18030, shift_jis") from None
    elif _looks_binary(head):
        raise InputError(f"{path}: looks like a binary file, not text; expected CSV, XLSX, JSON Lines or Parquet")
    encoding = encoding or sniff_encoding(head)
    if encoding == "utf-8" and head.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    text = head.decode(encoding, errors="replace")
    if given and "\x00" in text:  # an --encoding that does not fit (utf-8 for a UTF-16 file)
        raise InputError(f"{path}: read as {encoding} the text has NUL characters; expected a text file in that encoding (leave --encoding out to detect it)")
    if delimiter is not None and len(delimiter) != 1:
        delimiter = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}.get(delimiter.lower(), delimiter)
        if len(delimiter) != 1:
            raise InputError(f"delimiter {delimiter!r}: expected one character")
    delimiter = delimiter or sniff_delimiter(text)

    def reader(fh, eof: list[bool]):
        """A lenient CSV reader over ``fh`` that sets ``eof[0]`` once it has asked for a line past
        the end: a record returned after that ran to the end inside a quote that never closed."""

        def lines():
            yield from fh
            eof[0] = True

        csv.field_size_limit(MAX_FIELD)
        return csv.reader(lines(), delimiter=delimiter, strict=False)

    with path.open("r", encoding=encoding, errors="surrogateescape", newline="") as fh:
        eof = [False]
        try:
            first = next(r for r in reader(fh, eof) if r and any(c.strip() for c in r))
        except StopIteration:
            raise InputError(f"{path}: no header row; expected column names on the first line") from None
        except csv.Error as exc:
            raise InputError(f"{path}, line 1: header cannot be read as CSV ({exc})") from None
        if eof[0]:
            raise InputError(f"{path}, line 1: the header opens a quote that is never closed, so the whole file would be one header cell")
    columns = _header([_SURROGATE.sub("\ufffd", c) for c in first])

    width = len(columns)
    surrogate = _SURROGATE.search

    def rows() -> Iterator[Row]:
        with path.open("r", encoding=encoding, errors="surrogateescape", newline="", buffering=1 << 20) as fh:
            eof = [False]
            it = reader(fh, eof)
            started = False
            index = 0
            while True:
                line = it.line_num + 1
                try:
                    cells = next(it)
                except StopIteration:
                    return
                except csv.Error as exc:
                    where = f"{path.name}, lines {line}-{it.line_num}"
                    yield Row(index, line, {}, f"{where}: cannot be read as CSV ({exc}); an unterminated quote?")
                    index += 1
                    continue
                if not started:
                    if not cells or not any(c.strip() for c in cells):
                        continue
                    started = True  # the header
                    continue
                if eof[0]:  # every line to the end is in this record: no row in them may pass as clear
                    yield Row(index, line, {}, f"{path.name}, lines {line}-{it.line_num}: {_UNCLOSED}, so these lines cannot be split into rows")
                    return
                if len(cells) == width:
                    # The common case, without per-cell checks: a whole row short enough and free of bad bytes.
                    joined = "".join(cells)
                    if len(joined) <= MAX_CELL and not surrogate(joined):
                        if joined.strip():  # else a blank row, skipped
                            yield Row(index, line, {c: (v.strip() or None) for c, v in zip(columns, cells)})
                            index += 1
                        continue
                if not cells or not any(c.strip() for c in cells):
                    continue
                yield _finish(index, line, columns, cells, f"{path.name}, line {line}")
                index += 1

    return Table(path, "csv", columns, encoding=encoding, delimiter=delimiter, _rows=rows)


def _open_xlsx(path: Path, sheet: str | None) -> Table:
    _check_xlsx_zip(path)
    with _workbook(path) as wb:
        ws = _worksheet(wb, path, sheet)
        title = ws.title
        with closing(_xlsx_rows(ws, path)) as found:
            header_line, first = next(found, (0, ()))
    columns = _header(first) if header_line else []
    if not columns:
        raise InputError(f"{path}: sheet {title!r} is empty; expected a header row and records")
    width = len(columns)

    def rows() -> Iterator[Row]:
        with _workbook(path) as book:
            index = 0
            # One column past the header is read, so a filled cell right of it makes the row an error.
            for number, values in _xlsx_rows(book[title], path, width + 1):
                if number <= header_line:
                    continue
                cells = values if len(values) > width and cell_text(values[width]) is not None else values[:width]
                yield _finish(index, number, columns, cells, f"{path.name}, sheet {title!r}, row {number}")
                index += 1

    return Table(path, "xlsx", columns, sheet=title, _rows=rows)


def _check_xlsx_zip(path: Path) -> None:
    """Refuse a workbook that is not a zip, unpacks to more than :data:`XLSX_MAX_BYTES`, or holds a zip bomb.

    Python's zip reader stops at each part's declared size, so these declared
    sizes bound what the workbook reader can be made to unpack.
    """
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise InputError(f"{path}: not a readable XLSX workbook ({_reason(exc)}); expected an Excel .xlsx file") from None
    total = sum(part.file_size for part in parts)
    if total > XLSX_MAX_BYTES:
        raise InputError(f"{path}: the workbook unpacks to {total / 2**20:,.0f} MB; the most read is "
                         f"{XLSX_MAX_BYTES / 2**20:,.0f} MB (save the sheet as CSV instead)")
    for part in parts:
        ratio = part.file_size / max(1, part.compress_size)
        if part.file_size > XLSX_RATIO_FLOOR and ratio > XLSX_MAX_RATIO:
            raise InputError(f"{path}: part {part.filename[:80]!r} unpacks to {ratio:,.0f} times its packed size; "
                             f"refused as a zip bomb (at most {XLSX_MAX_RATIO}:1 is accepted above "
                             f"{XLSX_RATIO_FLOOR / 2**20:,.0f} MB)")


def _reason(exc: BaseException) -> str:
    """What went wrong, in one short line: the root cause of a library's (often multi-line) error."""
    from defusedxml import DefusedXmlException

    while exc.__cause__ is not None:
        exc = exc.__cause__
    if isinstance(exc, DefusedXmlException):
        return "its XML declares entities or a DTD, which are refused"
    lines = str(exc).strip().splitlines()
    text = " ".join(lines[0].split())[:200] if lines else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


@contextmanager
def _workbook(path: Path) -> Iterator[Any]:
    """The workbook opened read-only (values, not formulas); a damaged one raises :class:`InputError`."""
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # damaged XML surfaces as almost any exception type from openpyxl
        raise InputError(f"{path}: not a readable XLSX workbook ({_reason(exc)}); expected an Excel .xlsx file") from None
    try:
        yield book
    finally:
        book.close()


def _worksheet(wb: Any, path: Path, sheet: str | None) -> Any:
    if sheet is not None and sheet not in wb.sheetnames:
        raise InputError(f"{path}: no sheet {sheet!r}; sheets are: {', '.join(wb.sheetnames)}")
    if sheet is None and not wb.worksheets:
        raise InputError(f"{path}: the workbook has no worksheet; expected a sheet with a header row and records")
    ws = wb[sheet] if sheet is not None else wb.worksheets[0]
    if not hasattr(ws, "reset_dimensions"):
        raise InputError(f"{path}: sheet {sheet!r} is a chart, not a table; expected a worksheet")
    return ws


def _xlsx_rows(ws: Any, path: Path, width: int | None = None) -> Iterator[tuple[int, Sequence[Any]]]:
    """(row number, cells) of a read-only sheet's non-blank rows, each cut to ``width`` cells if given.

    The sheet's declared dimension is not trusted (a hostile one declares a
    million rows by 16,384 columns), rows past Excel's last are not read, and
    damaged sheet XML raises :class:`InputError` naming the last good row.
    """
    number = 0
    try:
        ws.reset_dimensions()
        for number, values in enumerate(ws.iter_rows(values_only=True, max_row=XLSX_MAX_ROW, max_col=width), 1):
            if values.count(None) < len(values) and any(cell_text(v) for v in values):
                yield number, values
    except Exception as exc:  # as in _workbook: any exception type, from the XML parser or openpyxl
        where = f"after row {number}" if number else "before its first row"
        raise InputError(f"{path}, sheet {ws.title!r}, {where}: damaged sheet XML ({_reason(exc)}); "
                         "expected a workbook saved by a spreadsheet program") from None


def _open_jsonl(path: Path, head: bytes) -> Table:
    if head.lstrip()[:1] == b"[":
        raise InputError(f"{path}: holds a JSON array; expected JSON Lines (one object per line)")
    if _looks_binary(head):
        raise InputError(f"{path}: looks like a binary file, not JSON Lines")
    columns: list[str] = []
    seen: set[str] = set()
    with path.open("rb") as fh:
        peeked = 0
        for raw in fh:
            if peeked >= JSONL_PEEK:
                break
            if not raw.strip():
                continue
            peeked += 1
            try:
                obj = json.loads(raw)
            except ValueError:
                continue
            if isinstance(obj, dict):
                for key in obj:
                    if str(key) not in seen:
                        seen.add(str(key))
                        columns.append(str(key))
    if not columns:
        raise InputError(f"{path}: no JSON object in the first {JSONL_PEEK} lines; expected one object per line")

    def rows() -> Iterator[Row]:
        with path.open("rb") as fh:
            index = 0
            for number, raw in enumerate(fh, 1):
                if not raw.strip():
                    continue
                where = f"{path.name}, line {number}"
                try:
                    obj = json.loads(raw.decode("utf-8"))
                except UnicodeDecodeError:
                    yield Row(index, number, {}, f"{where}: not valid UTF-8; JSON Lines must be UTF-8")
                except ValueError as exc:
                    yield Row(index, number, {}, f"{where}: not valid JSON ({exc})")
                else:
                    if isinstance(obj, dict):
                        values = {str(k): cell_text(v) for k, v in obj.items()}
                        yield check_row(Row(index, number, values), where)
                    else:
                        yield Row(index, number, {}, f"{where}: a JSON {type(obj).__name__}, expected an object")
                index += 1

    return Table(path, "jsonl", columns, encoding="utf-8", _rows=rows)


def _open_parquet(path: Path, head: bytes) -> Table:
    try:
        import pyarrow.parquet as pq
    except ImportError:  # pragma: no cover - depends on the install
        raise InputError(f"{path}: reading Parquet needs pyarrow (pip install pyarrow)") from None
    try:
        columns = [str(n) for n in pq.ParquetFile(path).schema_arrow.names]
    except Exception as exc:
        raise InputError(f"{path}: not a readable Parquet file ({exc})") from None

    def rows() -> Iterator[Row]:
        index = 0
        for batch in pq.ParquetFile(path).iter_batches(batch_size=4096):
            for record in batch.to_pylist():
                values = {str(k): cell_text(v) for k, v in record.items()}
                yield check_row(Row(index, index + 1, values), f"{path.name}, row {index + 1}")
                index += 1

    return Table(path, "parquet", columns, _rows=rows)


__all__ = [
    "MAX_CELL",
    "FieldMapping",
    "Row",
    "Table",
    "cell_text",
    "check_row",
    "file_fingerprint",
    "map_fields",
    "normalise_header",
    "open_table",
    "sniff_delimiter",
    "sniff_encoding",
]
