"""A firm's own block list (CSV/TSV or YAML) -> entities.

Columns (CSV header row) or keys (YAML list of mappings):

``name`` (required), ``aliases`` (``;`` or ``|`` separated; a list in YAML),
``country`` (name or code, same separators), ``schema`` or ``type`` (Person,
Company, Organization, LegalEntity, Vessel, Airplane; default LegalEntity),
``identifiers`` (``"isin:CNE100000PM8; uscc:91...; imo:9116412"``; in YAML a
mapping ``{isin: ..., uscc: [...]}`` or a list of ``"type:value"``), ``note``
and ``id`` (optional; the name is used when absent).

Strictness, because a typo in a block list must not silently weaken it:

* an unknown column/key, identifier type or schema is a :class:`SourceError`
  naming it and listing the accepted ones; so is a row without a name, and an
  identifier the chosen schema cannot hold (an ISIN on a Person).  With no
  schema given, an ISIN or ticker makes the entry a Company (only Company
  holds them in FollowTheMoney);
* ids are ``slug_id(source, id)`` or ``slug_id(source, <name slug>)``.  Two
  rows with the same explicit id are an error; rows whose *derived* id repeats
  (two "John Smith" entries) get ``-2``, ``-3`` ... in file order.

YAML safety: files over :data:`MAX_YAML_BYTES` are refused, and so is any
anchor or alias (``&x`` / ``*x``), checked on the event stream before anything
is built - the "billion laughs" of YAML cannot expand.  Only plain tags are
accepted (``!!python/...`` is an error), nothing is constructed, and scalars
are kept as written (no int/date/bool typing): ``passport: 0123`` stays
``"0123"``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterator

import yaml

from ..errors import SourceError
from ..model import Entity, slug_id
from .common import compose_yaml, country_code, read_csv, read_text, schema_properties

FIELDS = ("name", "aliases", "country", "schema", "type", "identifiers", "note", "id")
SCHEMAS = {
    "person": "Person",
    "individual": "Person",
    "company": "Company",
    "organization": "Organization",
    "organisation": "Organization",
    "legalentity": "LegalEntity",
    "vessel": "Vessel",
    "airplane": "Airplane",
}
IDENTIFIERS = {
    "isin": "isinCode",
    "uscc": "uscCode",
    "imo": "imoNumber",
    "passport": "passportNumber",
    "tax": "taxNumber",
    "lei": "leiCode",
    "registration": "registrationNumber",
    "reg": "registrationNumber",
    "ticker": "ticker",
    "id": "idNumber",
    "national_id": "idNumber",
    "inn": "innCode",
    "ogrn": "ogrnCode",
    "swift": "swiftBic",
    "vat": "vatCode",
}
COMPANY_ONLY = {"isinCode", "ticker"}
CSV_SUFFIXES = (".csv", ".tsv", ".txt")
YAML_SUFFIXES = (".yaml", ".yml")
MAX_YAML_BYTES = 10_000_000
SEPARATORS = re.compile(r"[;|]")
NULLS = {"", "~", "null"}
#: Tags YAML gives plain values; anything else (``!!python/...``, custom tags) is refused.
PLAIN_TAGS = {f"tag:yaml.org,2002:{t}" for t in ("str", "seq", "map", "int", "float", "bool", "null", "timestamp")}

Record = tuple[int | None, dict[str, Any]]


def files(path: Path) -> list[Path]:
    """The list file itself."""
    path = Path(path)
    if not path.is_file():
        raise SourceError(path, "not a file; expected a user list (.csv, .tsv, .txt, .yaml or .yml)")
    if path.suffix.lower() not in CSV_SUFFIXES + YAML_SUFFIXES:
        raise SourceError(path, f"unknown suffix {path.suffix!r}; expected .csv, .tsv, .txt, .yaml or .yml")
    return [path]


def parse(path: Path, source: str = "userlist") -> Iterator[Entity]:
    """Entities of the list, in file order; the whole file is checked first."""
    list_path = files(path)[0]
    is_yaml = list_path.suffix.lower() in YAML_SUFFIXES
    records = _yaml_records(list_path) if is_yaml else _csv_records(list_path)
    return iter(_entities(list_path, records, source))


# -- reading ---------------------------------------------------------------


def _csv_records(path: Path) -> list[Record]:
    delimiter = "\t" if path.suffix.lower() == ".tsv" or _first_line_has_tab(path) else ","
    records: list[Record] = []
    header: list[str] | None = None
    for line, fields in read_csv(path, delimiter=delimiter):
        if header is None:
            header = _check_header(path, line, fields)
            continue
        if len(fields) != len(header):
            raise SourceError(path, f"{len(fields)} fields; expected {len(header)} as in the header", line=line)
        records.append((line, dict(zip(header, fields))))
    if header is None:
        raise SourceError(path, "file is empty; expected a header row with a 'name' column")
    return records


def _first_line_has_tab(path: Path) -> bool:
    with open(path, "rb") as handle:
        first = handle.readline(65536)
    return b"\t" in first and b"," not in first


def _check_header(path: Path, line: int, fields: list[str]) -> list[str]:
    header = [f.strip().lower() for f in fields]
    for column in header:
        if column not in FIELDS:
            raise SourceError(path, f"unknown column {column!r}; accepted columns: {', '.join(FIELDS)}", line=line)
    if len(set(header)) != len(header):
        raise SourceError(path, f"repeated column in header {fields!r}; expected each column once", line=line)
    if "name" not in header:
        raise SourceError(path, f"no 'name' column in header {fields!r}; expected a 'name' column", line=line)
    return header


def _yaml_records(path: Path) -> list[Record]:
    size = path.stat().st_size if path.exists() else 0
    if size > MAX_YAML_BYTES:
        raise SourceError(path, f"file is {size} bytes; expected a YAML list under {MAX_YAML_BYTES} bytes")
    root = compose_yaml(path, read_text(path), "expected a list of entries")
    if root is None:
        raise SourceError(path, "file is empty; expected a YAML list of entries with a 'name' each")
    if not isinstance(root, yaml.SequenceNode):
        raise SourceError(path, "top level is not a list; expected a YAML list of entries (- name: ...)", line=1)
    records: list[Record] = []
    for node in root.value:
        line = node.start_mark.line + 1
        if not isinstance(node, yaml.MappingNode):
            raise SourceError(path, "entry is not a mapping; expected 'name: ...' and other keys", line=line)
        records.append((line, _mapping(path, node)))
    return records


def _mapping(path: Path, node: yaml.MappingNode) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key_node, value_node in node.value:
        key = str(_plain(path, key_node)).strip().lower()
        line = key_node.start_mark.line + 1
        if key not in FIELDS:
            raise SourceError(path, f"unknown key {key!r}; accepted keys: {', '.join(FIELDS)}", line=line)
        out[key] = _plain(path, value_node)
    return out


def _plain(path: Path, node: yaml.Node, depth: int = 0) -> Any:
    """Node -> str / list / dict, scalars as text; bounded nesting."""
    if depth > 4:
        raise SourceError(path, "nesting too deep; expected flat entries", line=node.start_mark.line + 1)
    if node.tag not in PLAIN_TAGS:
        message = f"YAML tag {node.tag!r} is not accepted; expected plain text, lists and mappings"
        raise SourceError(path, message, line=node.start_mark.line + 1)
    if isinstance(node, yaml.ScalarNode):
        return str(node.value)
    if isinstance(node, yaml.SequenceNode):
        return [_plain(path, child, depth + 1) for child in node.value]
    return {str(_plain(path, k, depth + 1)): _plain(path, v, depth + 1) for k, v in node.value}


# -- entities --------------------------------------------------------------


def _entities(path: Path, records: list[Record], source: str) -> list[Entity]:
    entities: list[Entity] = []
    explicit: dict[str, int | None] = {}
    derived: dict[str, int] = {}
    for line, record in records:
        entity = _entity(path, line, record, source)
        if _one(path, line, record, "id"):
            if entity.id in explicit:
                first = explicit[entity.id]
                message = f"id used twice (first on line {first}); expected unique ids"
                raise SourceError(path, message, line=line, field="id")
            explicit[entity.id] = line
        else:
            count = derived.get(entity.id, 0) + 1
            derived[entity.id] = count
            if count > 1:
                entity.id = f"{entity.id}-{count}"
        entities.append(entity)
    return entities


def _entity(path: Path, line: int | None, record: dict[str, Any], source: str) -> Entity:
    name = _one(path, line, record, "name")
    if not name:
        raise SourceError(path, "missing name; expected every entry to have a name", line=line, field="name")
    identifiers = _identifiers(path, line, record.get("identifiers"))
    schema = _schema(path, line, record, {IDENTIFIERS[key] for key, _ in identifiers})
    allowed = schema_properties(schema)
    entity = Entity(id=slug_id(source, _one(path, line, record, "id") or _slug(name)), schema=schema)
    entity.add("name", name)
    entity.add_all("alias", _values(path, line, record.get("aliases"), "aliases"))
    entity.add_all("country", (country_code(c) for c in _values(path, line, record.get("country"), "country")))
    for key, value in identifiers:
        prop = IDENTIFIERS[key]
        if prop not in allowed:
            message = f"identifier {key!r} ({prop}) does not apply to a {schema}; expected a schema that has it"
            raise SourceError(path, message, line=line, field="identifiers")
        entity.add(prop, value)
    entity.add("notes", _one(path, line, record, "note"))
    return entity


def _schema(path: Path, line: int | None, record: dict[str, Any], props: set[str]) -> str:
    given = [g for g in (_one(path, line, record, k) for k in ("schema", "type")) if g]
    if not given:
        return "Company" if props & COMPANY_ONLY else "LegalEntity"
    names = {g.replace(" ", "").lower() for g in given}
    if len(names) > 1:
        message = f"schema and type disagree ({given[0]!r}, {given[1]!r}); expected one"
        raise SourceError(path, message, line=line, field="schema")
    name = names.pop()
    if name not in SCHEMAS:
        accepted = ", ".join(sorted(set(SCHEMAS.values())))
        raise SourceError(path, f"unknown schema {given[0]!r}; expected one of {accepted}", line=line, field="schema")
    return SCHEMAS[name]


def _identifiers(path: Path, line: int | None, value: Any) -> list[tuple[str, str]]:
    """(type key, value) pairs from text, a mapping or a list."""
    pairs: list[tuple[str, str]] = []
    if isinstance(value, dict):
        for key, values in value.items():
            pairs.extend((key, v) for v in _values(path, line, values, "identifiers"))
    else:
        for item in _values(path, line, value, "identifiers"):
            key, sep, number = item.partition(":")
            if not sep or not number.strip():
                message = f"identifier {item!r}; expected 'type:value' such as 'isin:CNE100000PM8'"
                raise SourceError(path, message, line=line, field="identifiers")
            pairs.append((key, number))
    out = []
    for key, number in pairs:
        key = key.strip().lower().replace("-", "_").replace(" ", "_")
        if key not in IDENTIFIERS:
            message = f"unknown identifier type {key!r}; accepted: {', '.join(IDENTIFIERS)}"
            raise SourceError(path, message, line=line, field="identifiers")
        out.append((key, number.strip()))
    return out


def _values(path: Path, line: int | None, value: Any, field: str) -> list[str]:
    """A text field split on ``;``/``|``, or a YAML list of texts."""
    if value is None:
        return []
    if isinstance(value, dict):
        raise SourceError(path, "a mapping; expected text or a list of texts", line=line, field=field)
    items = value if isinstance(value, list) else SEPARATORS.split(value)
    out = []
    for item in items:
        if not isinstance(item, str):
            raise SourceError(path, "nested structure; expected text or a list of texts", line=line, field=field)
        text = _text(item)
        if text:
            out.append(text)
    return out


def _one(path: Path, line: int | None, record: dict[str, Any], field: str) -> str | None:
    """A single-text field; a YAML list or mapping there is an error."""
    value = record.get(field)
    if value is not None and not isinstance(value, str):
        raise SourceError(path, f"a {type(value).__name__}; expected text", line=line, field=field)
    return _text(value)


def _text(value: Any) -> str | None:
    if value is None or not isinstance(value, str):
        return None
    text = " ".join(value.split())
    return None if text.lower() in NULLS else text


def _slug(name: str) -> str:
    return "-".join(re.findall(r"\w+", name.casefold())) or "entry"
