"""UN Security Council Consolidated List (XML) -> entities.

The list is ``CONSOLIDATED_LIST`` with ``INDIVIDUALS/INDIVIDUAL`` (-> Person)
and ``ENTITIES/ENTITY`` (-> Organization: the UN does not say whether a listed
entity is a company, a group or a network).  Ids are the UN reference numbers
(``un-sc-CDi.001``), which the UN never reuses.

Mapping choices:

* alias quality: individuals' ``Good`` (and empty) -> ``alias``, ``Low`` ->
  ``weakAlias``; entities' ``a.k.a.`` -> ``alias``, ``f.k.a.`` ->
  ``previousName``.  An ``ALIAS_NAME`` may hold several names separated by
  ``;`` (and one primary entity name does too); each becomes its own name;
* birth dates keep the precision given: ``EXACT`` date or year, ``BETWEEN``
  -> every year of the range, ``APPROXIMATELY`` -> the year; a month written
  only in the note ("Nov. 1973") is used too.  Notes are kept in ``notes``;
* documents: passports -> ``passportNumber``, national identification numbers
  -> ``idNumber``; other kinds -> ``idNumber`` plus a note naming the kind;
* countries become FtM codes (``Iran (Islamic Republic of)`` -> ``ir``);
* ``na`` (the UN's "not available") is treated as empty.

The XML is parsed with :mod:`defusedxml`, so entity expansion ("billion
laughs") and external entities are refused instead of processed.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterable, Iterator
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException, EntitiesForbidden, ExternalReferenceForbidden
from defusedxml.ElementTree import fromstring

from ..errors import SourceError
from ..model import Entity, slug_id
from .common import add_checked, country_code, iso_date, read_text

EXPECTED = "expected the UN consolidated list XML"
NAME_PARTS = ("FIRST_NAME", "SECOND_NAME", "THIRD_NAME", "FOURTH_NAME")
ALIAS_PROPS = {"good": "alias", "low": "weakAlias", "a.k.a.": "alias", "f.k.a.": "previousName"}
PASSPORT_TYPES = ("passport", "passeport", "pasaporte")
EMPTY = {"na", "n/a"}
MAX_YEAR_RANGE = 30


def files(path: Path) -> list[Path]:
    """The one XML file of a capture: ``path`` itself or the only .xml in it."""
    path = Path(path)
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise SourceError(path, "file or folder not found; " + EXPECTED)
    found = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() == ".xml")
    if len(found) != 1:
        names = ", ".join(p.name for p in found) or "none"
        raise SourceError(path, f"found {len(found)} .xml files ({names}); {EXPECTED} (one file)")
    return found


def published(path: Path) -> str | None:
    """The list's ``dateGenerated`` day, read from the head of the file."""
    with open(files(path)[0], "rb") as handle:
        head = handle.read(8192).decode("utf-8", "replace")
    match = re.search(r'dateGenerated="(\d{4}-\d{2}-\d{2})', head)
    return match.group(1) if match else None


def parse(path: Path, source: str = "un-sc") -> Iterator[Entity]:
    """Every individual and entity of the list, in file order."""
    xml_path = files(path)[0]
    root = _load(xml_path)
    if root.tag != "CONSOLIDATED_LIST":
        raise SourceError(xml_path, f"root element is <{root.tag}>; {EXPECTED} (<CONSOLIDATED_LIST>)")
    for node in root.iterfind("INDIVIDUALS/INDIVIDUAL"):
        yield _individual(xml_path, node, source)
    for node in root.iterfind("ENTITIES/ENTITY"):
        yield _organization(xml_path, node, source)


def _load(path: Path) -> Element:
    """Parse safely, turning every refusal into one :class:`SourceError` line."""
    text = read_text(path)
    if not text.strip():
        raise SourceError(path, f"file is empty; {EXPECTED}")
    try:
        return fromstring(text)
    except DefusedXmlException as exc:
        line = _line_of(text, "<!ENTITY") or _line_of(text, "<!DOCTYPE")
        raise SourceError(path, f"{_refusal(exc)}; {EXPECTED}, which declares none", line=line) from None
    except ParseError as exc:
        line, column = getattr(exc, "position", (None, None))
        reason = str(exc).split(":")[0]
        raise SourceError(path, f"malformed XML ({reason}, column {column}); {EXPECTED}", line=line) from None


def _refusal(exc: DefusedXmlException) -> str:
    """Say what defusedxml refused, without its repr noise."""
    name = getattr(exc, "name", None) or getattr(exc, "context", None) or "?"
    target = getattr(exc, "sysid", None)
    where = f" pointing to {target!r}" if target else ""
    if isinstance(exc, EntitiesForbidden):
        return f"refused XML entity declaration {name!r}{where} (entity expansion is not allowed)"
    if isinstance(exc, ExternalReferenceForbidden):
        return f"refused external XML reference{where}"
    return f"refused XML document type declaration {name!r}{where}"


def _line_of(text: str, needle: str) -> int | None:
    index = text.find(needle)
    return text.count("\n", 0, index) + 1 if index >= 0 else None


# -- element helpers -------------------------------------------------------


def _text(node: Element | None, tag: str | None = None) -> str | None:
    """Stripped, whitespace-collapsed text of ``node`` (or its child ``tag``)."""
    if node is not None and tag is not None:
        node = node.find(tag)
    if node is None or node.text is None:
        return None
    value = " ".join(node.text.split())
    return None if not value or value.lower() in EMPTY else value


def _values(node: Element, tag: str) -> list[str]:
    """Texts of ``tag/VALUE`` children (NATIONALITY, DESIGNATION ...)."""
    return [v for v in (_text(e) for e in node.iterfind(f"{tag}/VALUE")) if v]


def _join(node: Element, tags: Iterable[str]) -> str | None:
    parts = [v for v in (_text(node, t) for t in tags) if v]
    return ", ".join(parts) or None


def _split_names(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(";") if part.strip()]


# -- common to individuals and entities -----------------------------------


def _base(path: Path, node: Element, schema: str, source: str) -> Entity:
    ref = _text(node, "REFERENCE_NUMBER")
    if not ref:
        kind = node.tag.lower()
        raise SourceError(path, f"{kind} without REFERENCE_NUMBER (DATAID {_text(node, 'DATAID')}); {EXPECTED}")
    entity = Entity(id=slug_id(source, ref), schema=schema)
    entity.add("unscId", ref)
    names = _split_names(" ".join(v for v in (_text(node, t) for t in NAME_PARTS) if v))
    if names:
        entity.add("name", names[0])
        entity.add_all("alias", names[1:])
    for original in _split_names(_text(node, "NAME_ORIGINAL_SCRIPT")):
        entity.add("alias", original)
    entity.add("program", _text(node, "UN_LIST_TYPE"))
    entity.add("listingDate", iso_date(_text(node, "LISTED_ON")))
    updates = sorted(filter(None, (iso_date(v) for v in _values(node, "LAST_DAY_UPDATED"))))
    if updates:
        entity.add("lastUpdate", updates[-1])
    entity.add("notes", _text(node, "COMMENTS1"))
    return entity


def _add_aliases(entity: Entity, aliases: Iterable[Element]) -> None:
    for alias in aliases:
        quality = (_text(alias, "QUALITY") or "").lower()
        prop = ALIAS_PROPS.get(quality, "alias")
        names = _split_names(_text(alias, "ALIAS_NAME"))
        for name in names:
            entity.add(prop, name)
        note = _text(alias, "NOTE")
        if note and names:
            entity.add("notes", f"Alias {names[0]}: {note}")
        # Individuals' aliases may carry the birth details used under that name.
        add_checked(entity, "birthDate", iso_date(_text(alias, "DATE_OF_BIRTH")))
        add_checked(entity, "birthPlace", _join(alias, ("CITY_OF_BIRTH", "COUNTRY_OF_BIRTH")))


def _add_addresses(entity: Entity, addresses: Iterable[Element]) -> None:
    for address in addresses:
        entity.add("address", _join(address, ("STREET", "CITY", "STATE_PROVINCE", "ZIP_CODE", "COUNTRY")))
        entity.add("country", country_code(_text(address, "COUNTRY")))
        note = _text(address, "NOTE")
        if note:
            entity.add("notes", f"Address: {note}")


# -- individuals -----------------------------------------------------------


def _individual(path: Path, node: Element, source: str) -> Entity:
    entity = _base(path, node, "Person", source)
    parts = [v for v in (_text(node, t) for t in NAME_PARTS) if v]
    if parts:
        entity.add("firstName", parts[0])
    if len(parts) > 1:
        entity.add("lastName", parts[-1])
        entity.add_all("middleName", parts[1:-1])
    gender = _text(node, "GENDER")
    entity.add("gender", gender.lower() if gender else None)
    entity.add_all("nationality", (country_code(v) for v in _values(node, "NATIONALITY")))
    entity.add_all("position", _values(node, "DESIGNATION"))
    entity.add_all("title", _values(node, "TITLE"))
    _add_aliases(entity, node.iterfind("INDIVIDUAL_ALIAS"))
    _add_addresses(entity, node.iterfind("INDIVIDUAL_ADDRESS"))
    for birth in node.iterfind("INDIVIDUAL_DATE_OF_BIRTH"):
        _add_birth_date(entity, birth)
    for place in node.iterfind("INDIVIDUAL_PLACE_OF_BIRTH"):
        entity.add("birthPlace", _join(place, ("STREET", "CITY", "STATE_PROVINCE", "COUNTRY")))
        entity.add("birthCountry", country_code(_text(place, "COUNTRY")))
        note = _text(place, "NOTE")
        if note:
            entity.add("notes", f"Place of birth: {note}")
    for document in node.iterfind("INDIVIDUAL_DOCUMENT"):
        _add_document(entity, document)
    return entity


def _add_birth_date(entity: Entity, node: Element) -> None:
    kind = (_text(node, "TYPE_OF_DATE") or "").upper()
    note = _text(node, "NOTE")
    exact = iso_date(_text(node, "DATE"))
    year = iso_date(_text(node, "YEAR"))
    if kind == "BETWEEN":
        entity.add_all("birthDate", _year_range(_text(node, "FROM_YEAR"), _text(node, "TO_YEAR")))
    elif kind == "APPROXIMATELY":
        entity.add("birthDate", (exact or year or "")[:4] or None)
    else:
        entity.add("birthDate", exact or year)
    if not (exact or year) and note:
        entity.add("birthDate", iso_date(note))  # "Nov. 1973" written only as a note
    if note:
        entity.add("notes", f"Date of birth: {note}")


def _year_range(start: str | None, end: str | None) -> list[str]:
    years = [int(v) for v in (start, end) if v and v.isdigit()]
    if not years:
        return []
    low, high = min(years), max(years)
    if high - low > MAX_YEAR_RANGE:
        return [str(low), str(high)]
    return [str(y) for y in range(low, high + 1)]


def _add_document(entity: Entity, node: Element) -> None:
    kind = _text(node, "TYPE_OF_DOCUMENT")
    detail = _text(node, "TYPE_OF_DOCUMENT2")
    number = _text(node, "NUMBER")
    label = " / ".join(v for v in (kind, detail) if v) or "Document"
    lowered = (kind or "").lower()
    if number:
        if any(word in lowered for word in PASSPORT_TYPES):
            entity.add("passportNumber", number)
        else:
            entity.add("idNumber", number)
            if "national identification" not in lowered or detail:
                entity.add("notes", f"{label}: {number}")
    candidates = (
        _text(node, "ISSUING_COUNTRY") or _text(node, "COUNTRY_OF_ISSUE"),
        _text(node, "CITY_OF_ISSUE"),
        _prefixed("issued", iso_date(_text(node, "DATE_OF_ISSUE"))),
        _text(node, "NOTE"),
    )
    facts = [f for f in candidates if f]
    if facts:
        entity.add("notes", f"{label} {number or ''}".strip() + ": " + "; ".join(facts))


def _prefixed(prefix: str, value: str | None) -> str | None:
    return f"{prefix} {value}" if value else None


# -- entities --------------------------------------------------------------


def _organization(path: Path, node: Element, source: str) -> Entity:
    entity = _base(path, node, "Organization", source)
    _add_aliases(entity, node.iterfind("ENTITY_ALIAS"))
    _add_addresses(entity, node.iterfind("ENTITY_ADDRESS"))
    return entity
