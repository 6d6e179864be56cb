"""Stream result records out as JSON Lines, CSV or XLSX.

Records go out one at a time (constant memory).  JSON Lines writes each record
whole; CSV and XLSX write the rows a caller-given :class:`Sheet` makes of it
(``rows(record) -> [dict]``: one row per record for a main sheet, any number
for a detail sheet such as the hits).  Every spreadsheet cell passes through
:func:`neutralise`, so no input can smuggle a formula into Excel.

A file target is written to a temporary name beside it,
``.NAME.HOST-PID.XXXXXXXX.part``, and moved into place on success (with the
permissions a new file gets under the umask): a failed run never leaves a
half-written output behind.  A killed run cannot clean up after itself, so
the next writer of the same output removes the temporary files whose writer
process is gone (:func:`remove_stale_parts`).  A caller that must do more before
the output counts (record the run) calls :meth:`RecordWriter.finish` first and
``close`` after.  An OS error on the output (a full disk) raises
:class:`OutputError`, one line naming the file.
"""

from __future__ import annotations

import csv
import errno
import hashlib
import json
import os
import re
import socket
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from contextlib import contextmanager
from typing import IO, Any, Callable, Iterable, Iterator, Sequence

from ..errors import ClearanceError, InputError

FORMATS = ("jsonl", "csv", "xlsx")
#: Excel's cell limit.
XLSX_CELL = 32_767
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_XLSX_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
#: What follows ``.NAME.`` in a temporary output's name: writer host tag and pid, then mkstemp's 8 characters.
_PART = re.compile(r"(?:([0-9a-f]{8})-(\d+)|([a-z0-9_]{8}))(?:\.([a-z0-9_]{8}))?\.part")
#: A temporary output named without a pid (written before pids were in the name) is stale after this long.
LEGACY_PART_AGE = 24 * 3600


def _record_encoder():
    """``json.dumps(record, ensure_ascii=False, default=str)``, built once (``dumps`` with options builds
    an encoder per call): the C encoder itself where the interpreter has it."""
    fallback = json.JSONEncoder(ensure_ascii=False, default=str, check_circular=False).encode
    try:
        from json.encoder import c_make_encoder, encode_basestring

        if c_make_encoder is None:
            return fallback
        encoder = c_make_encoder(None, str, encode_basestring, None, ": ", ", ", False, False, True)
        join = "".join

        def encode(record: Any) -> str:
            return join(encoder(record, 0))

        probe = {"a": [1, 2.5, None, True, "é\n"], "b": {"c": float("inf")}}
        if encode(probe) != fallback(probe):  # pragma: no cover - a different C encoder
            return fallback
        return encode
    except Exception:  # pragma: no cover - another interpreter
        return fallback


#: One JSON Lines record as text (records are never cyclic).
encode_record = _record_encoder()


class OutputError(ClearanceError):
    """An output that cannot be written (a full disk, no permission); nothing is left under its name."""


def _umask() -> int:
    """The process's umask, read without changing it where Linux shows it (threads may be creating files)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o077)
    os.umask(mask)
    return mask


def _host_tag() -> str:
    """8 hex digits naming this machine (a pid means nothing on another host sharing the folder)."""
    return hashlib.sha1(socket.gethostname().encode("utf-8", "replace")).hexdigest()[:8]


def _alive(pid: int) -> bool:
    if pid <= 0:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: it exists, under another user
        return True
    return True


def part_prefix(path: str | Path) -> str:
    """The start of this process's temporary files for ``path``: ``.NAME.HOST-PID.``."""
    return f".{Path(path).name}.{_host_tag()}-{os.getpid()}."


def remove_stale_parts(path: str | Path) -> list[Path]:
    """Remove the temporary files a killed writer left beside ``path``; returns those removed.

    A ``.NAME.HOST-PID.XXXXXXXX.part`` of this host whose process ``PID`` is
    gone is removed; one of a live process (another run writing the same
    output right now) or of another host is left alone.  A
    ``.NAME.XXXXXXXX.part`` (no pid: an older version's) is removed once it
    is :data:`LEGACY_PART_AGE` old.
    """
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    prefix = f".{path.name}."
    host = _host_tag()
    removed: list[Path] = []
    try:
        entries = [e for e in os.scandir(directory) if e.name.startswith(prefix) and e.name.endswith(".part")]
    except OSError:
        return removed
    for entry in entries:
        found = _PART.fullmatch(entry.name[len(prefix):])
        if found is None:
            continue
        tag, pid, legacy, rest = found.groups()
        try:
            if legacy is not None:
                if rest is not None or time.time() - entry.stat(follow_symlinks=False).st_mtime < LEGACY_PART_AGE:
                    continue
            elif rest is None or tag != host or _alive(int(pid)):
                continue
            if not entry.is_file(follow_symlinks=False):
                continue
            os.unlink(entry.path)
        except OSError:  # gone already, or not ours to remove
            continue
        removed.append(Path(entry.path))
    return removed


def neutralise(value: Any) -> Any:
    """Text a spreadsheet would read as a formula (``= + - @``, tab, CR first) gets a leading ``'``."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def cell(value: Any) -> Any:
    """A value as a safe spreadsheet cell: lists joined with ``; ``, dicts as JSON, formulas neutralised."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, (list, tuple)):
        value = "; ".join("" if v is None else str(v) for v in value)
    elif isinstance(value, dict):
        value = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return neutralise(str(value))


@dataclass
class Sheet:
    """A table made of records: its column names and the rows one record gives."""

    name: str
    columns: Sequence[str]
    rows: Callable[[dict], Iterable[dict]]


def output_target(path: str | Path) -> Path:
    """Where an output named ``path`` is written, checked before any work is done: a folder,
    a pipe or a device is refused (the output is moved into place, which would replace it),
    a symbolic link is written through."""
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{path}: is a folder; expected a file name")
    if path.exists() and not path.is_file():
        raise InputError(f"{path}: is not a regular file (a pipe or a device); write to a file")
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise InputError(f"{path}: folder {directory} does not exist")
    return path.resolve() if path.is_symlink() else path


def refuse_input_as_output(output: str | Path | None, *inputs: str | Path | None) -> None:
    """An output that is one of the inputs would be replaced by the results: refused."""
    if output is None or not Path(output).exists():
        return
    for given in inputs:
        if given is not None and Path(given).exists() and os.path.samefile(output, given):
            raise InputError(f"{output}: is the input file; write the results to another file")


@contextmanager
def text_output(path: str | Path) -> Iterator[IO[str]]:
    """A text file written under a temporary name and moved into place when the block ends
    without an error (an error leaves nothing under the name); OSError as one line."""
    target = _TextTarget(path)
    tmp = target._open_binary_target()
    try:
        with tmp.open("w", encoding="utf-8", newline="") as fh:
            yield fh
    except OSError as exc:
        target.discard()
        raise target._failure(exc) from None
    except BaseException:
        target.discard()
        raise
    target.close(ok=True)


class RecordWriter:
    """Base: ``with open_writer(...) as out: out.write(record)``.

    Subclasses implement ``_write(record)`` and ``_close()`` (complete the
    output under its temporary name).  ``close(ok=True)`` is ``finish()``
    then the move into place; ``close(ok=False)`` throws the output away.
    """

    def __init__(self, path: str | Path | None):
        self.path = output_target(path) if path is not None else None
        self._tmp: Path | None = None
        self._finished = False
        self.count = 0

    def _open_binary_target(self) -> Path:
        assert self.path is not None
        directory = self.path.parent if str(self.path.parent) else Path(".")
        remove_stale_parts(self.path)
        try:
            fd, name = tempfile.mkstemp(prefix=part_prefix(self.path), suffix=".part", dir=directory)
        except OSError as exc:
            raise self._failure(exc) from None
        os.close(fd)
        self._tmp = Path(name)
        return self._tmp

    def _failure(self, exc: OSError) -> OutputError:
        """One line naming the output and what went wrong."""
        why = "the disk is full" if exc.errno in (errno.ENOSPC, errno.EDQUOT) else (exc.strerror or str(exc))
        if self.path is None:
            return OutputError(f"standard output: cannot write the results ({why})")
        return OutputError(f"{self.path}: cannot write the results ({why}); nothing was left under that name")

    def write(self, record: dict) -> None:
        try:
            self._write(record)
        except OSError as exc:
            raise self._failure(exc) from None
        self.count += 1

    def _write(self, record: dict) -> None:
        raise NotImplementedError

    def write_all(self, records: Iterable[dict]) -> None:
        for record in records:
            self.write(record)

    def _close(self) -> None:
        raise NotImplementedError

    def finish(self) -> None:
        """Complete the output under its temporary name (the last writes, e.g. the final flush, happen here)."""
        if self._finished:
            return
        self._finished = True
        try:
            self._close()
        except OSError as exc:
            self.discard()
            raise self._failure(exc) from None

    def discard(self) -> None:
        """Remove the temporary file, if any."""
        if self._tmp is not None:
            self._tmp.unlink(missing_ok=True)
            self._tmp = None

    def close(self, ok: bool = True) -> None:
        """Finish and move the output into place (``ok``), or throw it away."""
        if not ok:
            self._abandon()
            return
        self.finish()
        if self._tmp is None:
            return
        try:
            os.chmod(self._tmp, 0o666 & ~_umask())
            os.replace(self._tmp, self.path)  # type: ignore[arg-type]
        except OSError as exc:
            self.discard()
            raise self._failure(exc) from None
        self._tmp = None

    def _abandon(self) -> None:
        if not self._finished:
            self._finished = True
            try:
                self._close()  # release the file; it is thrown away next
            except Exception:  # noqa: BLE001 - the earlier failure is the one the caller reports
                pass
        self.discard()

    def __enter__(self) -> "RecordWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close(ok=exc_type is None)


class _TextWriter(RecordWriter):
    def __init__(self, path: str | Path | None, stream: IO[str] | None = None):
        super().__init__(path)
        if stream is not None:
            self.fh, self._owned = stream, False
        elif self.path is None:
            self.fh, self._owned = sys.stdout, False
        else:
            self.fh, self._owned = self._open_binary_target().open("w", encoding="utf-8", newline=""), True

    def _close(self) -> None:
        if self._owned:
            self.fh.close()
        else:
            self.fh.flush()


class JsonlWriter(_TextWriter):
    def _write(self, record: dict) -> None:
        self.fh.write(encode_record(record) + "\n")


class CsvWriter(_TextWriter):
    """The first sheet's rows as CSV (UTF-8 with BOM for a file, so Excel reads it right)."""

    def __init__(self, path, sheets: Sequence[Sheet], stream: IO[str] | None = None):
        super().__init__(path, stream)
        if not sheets:
            raise ValueError("CSV output needs a sheet (columns and a row function)")
        self.sheet = sheets[0]
        if self._owned:
            self.fh.write("\ufeff")
        self.csv = csv.writer(self.fh)
        self.csv.writerow([cell(c) for c in self.sheet.columns])

    def _write(self, record: dict) -> None:
        columns = self.sheet.columns
        for row in self.sheet.rows(record):
            self.csv.writerow([cell(row.get(c)) for c in columns])


class XlsxWriter(RecordWriter):
    """One worksheet per sheet, written in openpyxl's streaming (write-only) mode."""

    def __init__(self, path, sheets: Sequence[Sheet]):
        super().__init__(path)
        if self.path is None:
            raise InputError("XLSX output needs a file: give -o FILE.xlsx")
        from openpyxl import Workbook

        self.target = self._open_binary_target()
        self.book = Workbook(write_only=True)
        self.sheets = []
        for sheet in sheets:
            ws = self.book.create_sheet(title=sheet.name[:31])
            ws.append([self._cell(c) for c in sheet.columns])
            self.sheets.append((sheet, ws))

    @staticmethod
    def _cell(value: Any) -> Any:
        value = cell(value)
        if isinstance(value, str):
            value = _XLSX_ILLEGAL.sub(" ", value)
            if len(value) > XLSX_CELL:
                value = value[: XLSX_CELL - 20] + " ... [cut]"
        return value

    def _write(self, record: dict) -> None:
        for sheet, ws in self.sheets:
            for row in sheet.rows(record):
                ws.append([self._cell(row.get(c)) for c in sheet.columns])

    def _close(self) -> None:
        self.book.save(self.target)


def open_writer(fmt: str, path: str | Path | None = None, sheets: Sequence[Sheet] = (), stream: IO[str] | None = None) -> RecordWriter:
    """A writer for ``fmt`` (jsonl, csv, xlsx) to ``path`` (None: standard output)."""
    if fmt == "jsonl":
        return JsonlWriter(path, stream)
    if fmt == "csv":
        return CsvWriter(path, sheets, stream)
    if fmt == "xlsx":
        return XlsxWriter(path, sheets)
    raise InputError(f"--format {fmt!r}: expected one of {', '.join(FORMATS)}")


def format_for_path(path: str | Path | None, default: str = "jsonl") -> str:
    """Output format implied by a file name (``.csv``, ``.xlsx``, ``.html``, ``.jsonl``/``.json``)."""
    if path is None:
        return default
    suffix = Path(path).suffix.lower()
    return {".csv": "csv", ".xlsx": "xlsx", ".html": "html", ".htm": "html", ".jsonl": "jsonl", ".json": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}.get(suffix, default)


class _TextTarget(RecordWriter):
    """The temporary-name-then-move of :func:`text_output` (the caller writes the file)."""

    def _close(self) -> None:
        pass


__all__ = [
    "FORMATS", "CsvWriter", "JsonlWriter", "OutputError", "RecordWriter", "Sheet", "XlsxWriter", "cell", "format_for_path",
    "encode_record", "neutralise", "open_writer", "output_target", "part_prefix", "refuse_input_as_output", "remove_stale_parts", "text_output",
]
