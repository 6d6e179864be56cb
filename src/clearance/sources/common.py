"""Reading helpers shared by the parsers: one place for encodings, BOMs,
end-of-file markers, line limits and CSV shape checks.

Documented tolerances (each tested):

* a UTF-8 byte-order mark at the start of a file is skipped;
* ``\\x1a`` (DOS end-of-file, which OFAC files end with) is skipped wherever it
  stands alone on the last line or trails the data;
* ``\\r\\n`` and ``\\n`` line ends are both accepted.

Everything else that is not what the format says is a :class:`SourceError`
naming the file, the line and what was expected.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Iterator, Sequence

from ..errors import SourceError

#: Longest record we accept. Real list records are under 10 kB; a 100 MB
#: "line" is a broken or hostile file, not a record.
MAX_RECORD_BYTES = 1_000_000

#: Largest single list file we read (the largest real one is ~3 MB).
MAX_FILE_BYTES = 200_000_000

csv.field_size_limit(MAX_RECORD_BYTES)


def read_text(path: Path, encoding: str = "utf-8") -> str:
    """Read a whole list file as text, applying the documented tolerances."""
    path = Path(path)
    if not path.exists():
        raise SourceError(path, "file not found")
    if not path.is_file():
        raise SourceError(path, "not a regular file")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise SourceError(path, f"file is {size} bytes; the limit for a list file is {MAX_FILE_BYTES}")
    data = path.read_bytes()
    if encoding.lower().replace("_", "-") in ("utf-8", "utf8") and data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    data = data.rstrip(b"\x1a\r\n \t")
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise SourceError(
            path,
            f"byte 0x{data[exc.start]:02x} at column {column} is not valid {encoding}; "
            f"expected {encoding} text (convert the file or pass --encoding)",
            line=line,
        ) from None
    except LookupError:
        raise SourceError(path, f"unknown encoding {encoding!r}") from None
    text = text.replace("\x1a", "")
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise SourceError(path, "NUL byte in text; expected a text file", line=line)
    _check_line_lengths(path, text)
    return text


def _check_line_lengths(path: Path, text: str) -> None:
    start = 0
    line = 1
    length = len(text)
    while start < length:
        end = text.find("\n", start)
        if end < 0:
            end = length
        if end - start > MAX_RECORD_BYTES:
            raise SourceError(
                path,
                f"line is {end - start} characters long; expected records under {MAX_RECORD_BYTES}",
                line=line,
            )
        start = end + 1
        line += 1


def read_csv(
    path: Path,
    columns: int | Sequence[int] | None = None,
    delimiter: str = ",",
    encoding: str = "utf-8",
    header: Sequence[str] | None = None,
) -> Iterator[tuple[int, list[str]]]:
    """Yield ``(line_number, fields)`` for every record of a CSV file.

    ``columns`` is the accepted field count(s); ``header`` the expected first
    row (compared case-insensitively, surrounding blanks ignored), which is
    consumed and not yielded.  Empty records are skipped.
    """
    path = Path(path)
    text = read_text(path, encoding)
    if not text.strip():
        raise SourceError(path, "file is empty; expected list records")
    allowed = {columns} if isinstance(columns, int) else set(columns or ())
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    expect_header = header is not None
    try:
        for fields in reader:
            line = reader.line_num
            if not fields or (len(fields) == 1 and not fields[0].strip()):
                continue
            if expect_header:
                expect_header = False
                got = [f.strip().lower() for f in fields]
                want = [h.lower() for h in header or ()]
                if got != want:
                    raise SourceError(path, f"header is {fields!r}; expected {list(header or ())!r}", line=line)
                continue
            if allowed and len(fields) not in allowed:
                expected = " or ".join(str(c) for c in sorted(allowed))
                raise SourceError(path, f"{len(fields)} fields; expected {expected}", line=line)
            yield line, fields
    except csv.Error as exc:
        raise SourceError(path, f"malformed CSV ({exc})", line=reader.line_num) from None


def blank(value: str | None) -> str | None:
    """OFAC writes ``-0-`` for empty; treat it, and whitespace, as None."""
    if value is None:
        return None
    value = value.strip()
    if not value or value == "-0-":
        return None
    return value
