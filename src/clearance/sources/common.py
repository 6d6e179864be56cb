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

import codecs
import csv
import io
from pathlib import Path
from typing import Any, Iterator, Sequence

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
            f"expected {encoding} text ({'the file is UTF-16; ' if data[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE) else ''}convert it to {encoding})",
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


class CuratedRow(dict):
    """One row of a curated CSV (fixed header) as stripped strings by column, whose checks
    raise a :class:`SourceError` naming the file, line and column."""

    def __init__(self, path: Path, line: int, columns: Sequence[str], fields: Sequence[str]):
        super().__init__(zip(columns, (f.strip() for f in fields)))
        self.path, self.line = path, line

    def error(self, message: str, column: str | None = None) -> SourceError:
        return SourceError(self.path, message, self.line, column)

    def choice(self, column: str, allowed: Sequence[str]) -> str:
        """The value, which must be one of ``allowed``."""
        if self[column] not in allowed:
            raise self.error(f"{column} {self[column]!r}; expected one of {', '.join(allowed)}", column)
        return self[column]

    def date(self, column: str) -> str | None:
        """The value as an ISO date, or None when blank."""
        if not self[column]:
            return None
        when = iso_date(self[column])
        if when is None:
            raise self.error(f"{self[column]!r} is not a date (YYYY-MM-DD)", column)
        return when


def curated_rows(path: Path, columns: Sequence[str]) -> Iterator[CuratedRow]:
    """The rows of a curated CSV whose header is ``columns``."""
    for line, fields in read_csv(path, columns=len(columns), header=columns):
        yield CuratedRow(path, line, columns, fields)


def blank(value: str | None) -> str | None:
    """OFAC writes ``-0-`` for empty; treat it, and whitespace, as None."""
    if value is None:
        return None
    value = value.strip()
    if not value or value == "-0-":
        return None
    return value


# --- Shared value helpers (added for the UN, DPL, CSL and user-list parsers) ---
# Imports sit here, not at the top, so the block above stays untouched.
import re as _re  # noqa: E402
import unicodedata as _unicodedata  # noqa: E402
from datetime import date as _date  # noqa: E402
from functools import lru_cache as _lru_cache  # noqa: E402

from ..model import LISTING_PROPERTIES as _LISTING_PROPERTIES, Entity as _Entity  # noqa: E402

_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"),
            ("may",), ("jun", "june"), ("jul", "july"), ("aug", "august"),
            ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"), ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}
# ISO date, optionally with a time or an XML Schema zone ("2001-01-25-05:00").
_ISO_DATE = _re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?(?:[T ].*|Z|[+-]\d{2}:\d{2})?$")
_US_DATE = _re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_TEXT_DATE = _re.compile(r"^(?:(\d{1,2})\s+)?([A-Za-z]+)\.?,?\s+(\d{4})$")


def iso_date(value: str | None) -> str | None:
    """A date as ISO text (``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``), or None.

    Accepts ISO dates (a time or zone part is dropped), US ``MM/DD/YYYY`` (the order
    every US list uses; never read as DD/MM) and ``[DD] Mon[.] YYYY``.  Keeps
    only the precision the source gives, and refuses impossible dates rather
    than guessing.
    """
    text = " ".join((value or "").split())
    if not text:
        return None
    match = _ISO_DATE.match(text)
    if match:
        year, month, day = match.groups()
        return _checked_date(int(year), int(month) if month else None, int(day) if day else None)
    match = _US_DATE.match(text)
    if match:
        month, day, year = match.groups()
        return _checked_date(int(year), int(month), int(day))
    match = _TEXT_DATE.match(text)
    if match:
        day, month_name, year = match.groups()
        month = _MONTHS.get(month_name.lower())
        if month is None:
            return None
        return _checked_date(int(year), month, int(day) if day else None)
    return None


def _checked_date(year: int, month: int | None, day: int | None) -> str | None:
    if not 1000 <= year <= 2999:
        return None
    if month is None:
        return f"{year:04d}"
    if not 1 <= month <= 12:
        return None
    if day is None:
        return f"{year:04d}-{month:02d}"
    try:
        return _date(year, month, day).isoformat()
    except ValueError:
        return None


#: Country spellings the territory names below do not cover.
_COUNTRY_ALIASES = {
    "prc": "cn",
    "uae": "ae",
    "uk": "gb",
    "usa": "us",
    "turkey": "tr",
    "viet nam": "vn",
    "congo": "cg",
    "republic of the congo": "cg",
    "former soviet union": "suhh",
    "china, hong kong special administrative region": "hk",
    "china, macao special administrative region": "mo",
}


def _country_key(text: str) -> str:
    text = _unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not _unicodedata.combining(c))
    text = " ".join(text.replace("’", "'").casefold().split())
    return text[4:] if text.startswith("the ") else text


@_lru_cache(maxsize=1)
def _country_table() -> dict[str, str]:
    """Codes and English names -> FtM country code.

    Built from rigour's territory records (names and codes only) instead of
    ``registry.country.clean``, whose first call transliterates ~29,000 names
    and costs about two seconds per process.
    """
    from rigour.territories import get_territories

    table: dict[str, str] = {}
    for territory in get_territories():
        code = territory.ftm_country
        if not code:
            continue
        for key in (territory.code, territory.alpha3, *territory.other_codes):
            if key:
                table.setdefault(key.casefold(), code)
        for name in (territory.name, territory.full_name, territory.in_sentence):
            if name:
                table.setdefault(_country_key(name), code)
    table.update(_COUNTRY_ALIASES)
    return table


@_lru_cache(maxsize=4096)
def country_code(value: str | None) -> str | None:
    """The lowercase FtM country code for a code or English country name.

    ``"US"``, ``"usa"``, ``"Iran (Islamic Republic of)"`` -> ``"us"``, ``"us"``,
    ``"ir"``.  A value that is not recognised is returned as given (stripped),
    so no information is lost; blanks give None.
    """
    text = " ".join((value or "").split())
    if not text:
        return None
    table = _country_table()
    key = _country_key(text)
    if key in table:
        return table[key]
    inverted = _re.match(r"^(.*?)\s*\((.*)\)$", key)  # UN style "Iran (Islamic Republic of)"
    if inverted:
        for candidate in (f"{inverted.group(2)} {inverted.group(1)}", inverted.group(1)):
            if candidate in table:
                return table[candidate]
    return text


@_lru_cache(maxsize=64)
def schema_properties(schema: str) -> frozenset[str]:
    """Property names FollowTheMoney allows on ``schema`` (empty if unknown)."""
    from followthemoney import model as ftm_model

    found = ftm_model.get(schema)
    return frozenset(found.properties) if found is not None else frozenset()


def add_checked(entity: _Entity, prop: str, value: str | None, label: str | None = None) -> None:
    """Add ``value`` as ``prop`` when the entity's schema has that property.

    Listing facts (:data:`~clearance.model.LISTING_PROPERTIES`) are always
    allowed.  Otherwise the value is kept, not lost, as a ``notes`` line
    ``"<label>: <value>"`` (label defaults to the property name).
    """
    if value is None or not str(value).strip():
        return
    if prop in _LISTING_PROPERTIES or prop in schema_properties(entity.schema):
        entity.add(prop, value)
    else:
        entity.add("notes", f"{label or prop}: {value}")


def compose_yaml(path: Path, text: str, expected: str) -> Any:
    """The YAML node tree of ``text``, refusing anchors and aliases first.

    The event stream is walked before any node is built, so an alias bomb
    cannot expand; syntax errors become one ``SourceError`` line naming the
    file, the line and ``expected``.
    """
    import yaml

    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                raise SourceError(
                    path,
                    "YAML anchors and aliases (&name, *name) are not accepted; expected each value written out",
                    line=event.start_mark.line + 1,
                )
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SourceError(path, f"malformed YAML ({problem}); {expected}", line=mark.line + 1 if mark else None) from None
