"""The curated US covered list (``us-covered``): NDAA FY2019 section 889(f)(3)
producers, the FCC Covered List and the NDAA FY2018 section 1634 Kaspersky ban
-> entities.

The file (``covered.yaml``) is a mapping with ``list``, ``published`` and
``entries``; each entry is one company::

    - key: hikvision                       # stable id part, [a-z0-9-]
      name: Hangzhou Hikvision Digital Technology Co., Ltd.   # English legal name
      name_zh: 杭州海康威视数字技术股份有限公司                 # optional
      name_zh_source: "..."                # required with name_zh
      aliases: [Hikvision, ...]            # optional
      country: cn
      identifiers: {uscc: ...}             # optional: uscc, isin, lei, ticker
      listings:                            # one legal basis per row
        - program: NDAA-889                # NDAA-889 | FCC-COVERED | NDAA-1634
          date: "2018-08-13"               # enactment / date of inclusion
          scope: "..."                     # what equipment or services are covered
          citation: "..."
          url: https://...

Every listing row becomes one ``Company`` entity, id
``slug_id(source, "<key>-<program>")`` (``us-covered-hikvision-ndaa-889``), so a
hit names one legal basis and one date: ``name`` (the English legal name),
``alias`` (other English names, then the Chinese legal name), ``country``,
``program``, ``listingDate`` and ``startDate`` (the listing row's date),
``notes`` (the scope, then ``Citation: ...``) and ``sourceUrl``.

Strict, because a typo here weakens a prohibition: unknown keys, a missing
citation or date, an unknown program or a repeated key is a
:class:`~clearance.errors.SourceError` naming the line.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator

import yaml

from ..errors import SourceError
from ..model import Entity, slug_id
from .common import compose_yaml, read_text

FILE_NAME = "covered.yaml"
PROGRAMS = ("NDAA-889", "FCC-COVERED", "NDAA-1634")
ENTRY_KEYS = {"key", "name", "name_zh", "name_zh_source", "aliases", "country", "identifiers", "listings"}
LISTING_KEYS = {"program", "date", "scope", "citation", "url"}
TOP_KEYS = {"list", "published", "entries"}
IDENTIFIERS = {"uscc": "uscCode", "isin": "isinCode", "lei": "leiCode", "ticker": "ticker"}
KEY_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,40}$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MAX_BYTES = 2_000_000
EXPECTED = "expected the curated covered list (covered.yaml with 'list', 'published' and 'entries')"


def files(path: Path) -> list[Path]:
    """``covered.yaml`` in a capture folder, or the file itself."""
    path = Path(path)
    if path.is_dir():
        found = path / FILE_NAME
        if not found.is_file():
            raise SourceError(path, f"no {FILE_NAME} in this folder; {EXPECTED}")
        return [found]
    if not path.is_file():
        raise SourceError(path, f"file or folder not found; {EXPECTED}")
    if path.suffix.lower() not in (".yaml", ".yml"):
        raise SourceError(path, f"unknown suffix {path.suffix!r}; {EXPECTED}")
    return [path]


def published(path: Path) -> str | None:
    """The list's own date (``published:``), the date of its latest fact."""
    doc, _ = _load(files(path)[0])
    value = doc.get("published")
    return _date(files(path)[0], value, "published", None) if value is not None else None


def parse(path: Path, source: str = "us-covered") -> Iterator[Entity]:
    """One entity per listing row, in file order; the whole file is checked first."""
    file = files(path)[0]
    doc, lines = _load(file)
    entries = doc.get("entries")
    if not isinstance(entries, list) or not entries:
        raise SourceError(file, "'entries' is missing or empty; expected a list of companies", field="entries")
    entities: list[Entity] = []
    seen: dict[str, int | None] = {}
    for index, entry in enumerate(entries):
        line = lines[index] if index < len(lines) else None
        for entity in _entry(file, line, entry, source):
            if entity.id in seen:
                raise SourceError(file, f"id {entity.id!r} repeats (first on line {seen[entity.id]}); expected unique keys", line=line, field="key")
            seen[entity.id] = line
            entities.append(entity)
    return iter(entities)


# -- reading ---------------------------------------------------------------


def _load(path: Path) -> tuple[dict[str, Any], list[int]]:
    """The document and the line of each entry; refuses anchors and odd tags.

    Cached per file version: ``published`` and ``parse`` both read the file on
    every import, and YAML is slow to parse in pure Python.
    """
    stat = path.stat()
    if stat.st_size > MAX_BYTES:
        raise SourceError(path, f"file is {stat.st_size} bytes; expected under {MAX_BYTES}")
    return _load_version(path, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=8)
def _load_version(path: Path, mtime_ns: int, size: int) -> tuple[dict[str, Any], list[int]]:
    root = compose_yaml(path, read_text(path), EXPECTED)
    try:
        doc = yaml.SafeLoader("").construct_document(root) if root is not None else None
    except yaml.YAMLError as exc:  # e.g. an unknown tag
        raise SourceError(path, f"malformed YAML ({getattr(exc, 'problem', None) or exc}); {EXPECTED}") from None
    if not isinstance(doc, dict):
        raise SourceError(path, f"top level is not a mapping; {EXPECTED}", line=1)
    unknown = sorted(set(map(str, doc)) - TOP_KEYS)
    if unknown:
        raise SourceError(path, f"unknown key {unknown[0]!r}; accepted keys: {', '.join(sorted(TOP_KEYS))}")
    lines: list[int] = []
    for key_node, value_node in root.value:
        if key_node.value == "entries" and isinstance(value_node, yaml.SequenceNode):
            lines = [node.start_mark.line + 1 for node in value_node.value]
    return doc, lines


def _entry(path: Path, line: int | None, entry: Any, source: str) -> list[Entity]:
    if not isinstance(entry, dict):
        raise SourceError(path, "entry is not a mapping; expected 'key', 'name', 'listings' ...", line=line)
    unknown = sorted(set(map(str, entry)) - ENTRY_KEYS)
    if unknown:
        raise SourceError(path, f"unknown key {unknown[0]!r}; accepted keys: {', '.join(sorted(ENTRY_KEYS))}", line=line)
    key = _text(path, line, entry, "key", required=True)
    if not KEY_RE.match(key):
        raise SourceError(path, f"key {key!r} is not a slug; expected lower-case letters, digits and '-'", line=line, field="key")
    name = _text(path, line, entry, "name", required=True)
    name_zh = _text(path, line, entry, "name_zh")
    if name_zh and not _text(path, line, entry, "name_zh_source"):
        raise SourceError(path, "name_zh without name_zh_source; expected the source of the Chinese name", line=line, field="name_zh_source")
    if name_zh and not re.search(r"[\u4e00-\u9fff]", name_zh):
        raise SourceError(path, f"name_zh {name_zh!r} has no Chinese characters; expected the legal name in Chinese", line=line, field="name_zh")
    aliases = entry.get("aliases") or []
    if not isinstance(aliases, list) or not all(isinstance(a, str) and a.strip() for a in aliases):
        raise SourceError(path, "aliases must be a list of names", line=line, field="aliases")
    country = _text(path, line, entry, "country", required=True).lower()
    if not re.fullmatch(r"[a-z]{2}", country):
        raise SourceError(path, f"country {country!r}; expected an ISO 3166 alpha-2 code", line=line, field="country")
    identifiers = entry.get("identifiers") or {}
    if not isinstance(identifiers, dict):
        raise SourceError(path, "identifiers must be a mapping like {uscc: ...}", line=line, field="identifiers")
    for kind in identifiers:
        if kind not in IDENTIFIERS:
            raise SourceError(path, f"unknown identifier {kind!r}; expected one of {', '.join(IDENTIFIERS)}", line=line, field="identifiers")
    listings = entry.get("listings")
    if not isinstance(listings, list) or not listings:
        raise SourceError(path, "no listings; expected at least one listing row with program, date and citation", line=line, field="listings")
    entities = []
    for listing in listings:
        entity = Entity(id="", schema="Company")
        program, when, scope, citation, url = _listing(path, line, listing)
        entity.id = slug_id(source, f"{key}-{program.lower()}")
        entity.add("name", name)
        entity.add_all("alias", aliases)
        entity.add("alias", name_zh)
        entity.add("country", country)
        for kind, value in identifiers.items():
            entity.add(IDENTIFIERS[kind], str(value))
        entity.add("program", program)
        entity.add("listingDate", when)
        entity.add("startDate", when)
        entity.add("notes", scope)
        entity.add("notes", f"Citation: {citation}")
        entity.add("sourceUrl", url)
        entities.append(entity)
    return entities


def _listing(path: Path, line: int | None, listing: Any) -> tuple[str, str, str, str, str | None]:
    if not isinstance(listing, dict):
        raise SourceError(path, "listing is not a mapping; expected program, date, scope, citation, url", line=line, field="listings")
    unknown = sorted(set(map(str, listing)) - LISTING_KEYS)
    if unknown:
        raise SourceError(path, f"unknown listing key {unknown[0]!r}; accepted keys: {', '.join(sorted(LISTING_KEYS))}", line=line, field="listings")
    program = _text(path, line, listing, "program", required=True)
    if program not in PROGRAMS:
        raise SourceError(path, f"unknown program {program!r}; expected one of {', '.join(PROGRAMS)}", line=line, field="program")
    when = _date(path, listing.get("date"), "date", line)
    scope = _text(path, line, listing, "scope", required=True)
    citation = _text(path, line, listing, "citation", required=True)
    url = _text(path, line, listing, "url")
    return program, when, scope, citation, url


def _text(path: Path, line: int | None, mapping: dict, key: str, required: bool = False) -> str:
    value = mapping.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise SourceError(path, f"missing {key!r}; expected a value", line=line, field=key)
        return ""
    if not isinstance(value, (str, int)):
        raise SourceError(path, f"{key!r} is a {type(value).__name__}; expected text", line=line, field=key)
    return " ".join(str(value).split())


def _date(path: Path, value: Any, key: str, line: int | None) -> str:
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str) and DATE_RE.match(value.strip()):
        try:
            return date.fromisoformat(value.strip()).isoformat()
        except ValueError:
            pass
    raise SourceError(path, f"{key} {value!r} is not a date; expected YYYY-MM-DD", line=line, field=key)
