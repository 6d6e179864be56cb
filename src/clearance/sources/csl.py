"""trade.gov Consolidated Screening List (CSV or JSON) -> entities.

Two shapes of the same records are read:

* the CSV download (``consolidated.csv``), header exactly :data:`HEADER`,
  multi-valued fields joined with ``"; "`` and ``ids`` written as
  ``"[Country, ]Number, Type"``;
* the JSON of the CSL API and download: ``{"results": [...], "total": N}``, a
  bare list of records, or JSON Lines with one record per line; lists are
  lists, ``addresses`` and ``ids`` are objects.

Mapping choices:

* ``listName`` is the list's code, the parenthesised abbreviation of
  ``source`` (``EL``, ``SDN``, ``DPL``, ``UVL``, ``ISN``, ``DTC``, ``PLC``,
  ``CAP``, ``SSI``, ``MEU``, ``FSE`` ...); the full ``source`` text goes to
  ``notes`` as ``"Source list: ..."``.  ``program`` holds only the
  ``programs`` column (EL and DPL rows have none);
* ``type``: Individual -> Person, Entity -> Organization, Vessel -> Vessel,
  Aircraft -> Airplane, blank (EL, DPL, UVL, ISN, DTC rows) -> LegalEntity;
* ids: ``slug_id(source, code, entity_number)`` when the row has an entity
  number (Treasury lists; numbers are unique only within a list, hence the
  code), else ``slug_id(source, code, <hash of name, addresses, start date>)``.
  The hash uses the same address text in CSV and JSON, so both shapes of a
  capture give the same ids.  Every row is one entity; a row whose id was
  already used gets ``-2``, ``-3`` ... in file order (none in the bundled
  capture);
* DPL rows carry the denial ``Action`` in ``remarks``: it goes to ``action``;
  ``(Linked To: X)`` in remarks goes to ``linkedTo``; other remarks to ``notes``;
* identifiers by type: passports, tax ids (incl. NIT / RUC), registration
  ids, IMO numbers, SWIFT/BIC, websites and e-mails go to their FtM
  properties; statements such as "Subject to Directive 3 ... -" go to
  ``notes``; unknown kinds go to ``idNumber`` with a note naming the kind;
* C1 control characters (U+0080-U+009F) are Windows-1252 bytes decoded as
  Latin-1 upstream (``Gui\\x92an``); they are read as Windows-1252 (``Gui’an``).

A property the entity's schema does not have (a tax id on a vessel) is kept
as a note rather than dropped.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any, Iterator

from ..errors import SourceError
from ..model import Entity, slug_id
from .common import add_checked, country_code, iso_date, read_csv, read_text

HEADER = (
    "source", "entity_number", "type", "programs", "name", "title", "addresses",
    "federal_register_notice", "start_date", "end_date", "standard_order",
    "license_requirement", "license_policy", "call_sign", "vessel_type", "gross_tonnage",
    "gross_registered_tonnage", "vessel_flag", "vessel_owner", "remarks", "source_list_url",
    "alt_names", "citizenships", "dates_of_birth", "nationalities", "places_of_birth",
    "source_information_url", "ids",
)  # fmt: skip
MULTI = ("programs", "alt_names", "citizenships", "dates_of_birth", "nationalities", "places_of_birth")
EXPECTED = "expected the trade.gov Consolidated Screening List (CSV with its header, or its JSON)"
SCHEMAS = {"individual": "Person", "entity": "Organization", "vessel": "Vessel", "aircraft": "Airplane"}
LIST_CODE = re.compile(r"\(([A-Z][A-Za-z0-9-]*)\)")
LINKED_TO = re.compile(r"\(Linked To:\s*([^)]+)\)", re.IGNORECASE)
C1 = re.compile("[\u0080-\u009f]")
#: (words in the id type, property); first match wins.
ID_TYPES = (
    ("passport", "passportNumber"),
    ("tax id", "taxNumber"),
    ("nit #", "taxNumber"),
    ("ruc #", "taxNumber"),
    ("vessel registration identification", "imoNumber"),
    ("imo", "imoNumber"),
    ("mmsi", "mmsi"),
    ("swift/bic", "swiftBic"),
    ("website", "website"),
    ("email", "email"),
    ("former vessel flag", "pastFlags"),
    ("registration", "registrationNumber"),
    ("company number", "registrationNumber"),
    ("commercial registry", "registrationNumber"),
    ("matricula mercantil", "registrationNumber"),
    ("government gazette", "registrationNumber"),
    ("national id", "idNumber"),
    ("cedula", "idNumber"),
    ("identification number", "idNumber"),
)


# -- files and sniffing ----------------------------------------------------


def files(path: Path) -> list[Path]:
    """``path`` itself, or the one CSL file (consolidated.csv, or a .json) in a folder."""
    path = Path(path)
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise SourceError(path, f"file or folder not found; {EXPECTED}")
    children = {p.name.lower(): p for p in path.iterdir() if p.is_file()}
    if "consolidated.csv" in children:
        return [children["consolidated.csv"]]
    found = sorted(p for p in children.values() if p.suffix.lower() in (".csv", ".json", ".jsonl"))
    if len(found) != 1:
        raise SourceError(path, f"found {len(found)} .csv/.json files; {EXPECTED} (one file)")
    return found


def looks_like_csl_json(path: Path) -> bool:
    """Cheap sniff: do the first records carry CSL keys (and not FtM ones)?"""
    try:
        with open(path, "rb") as handle:
            head = handle.read(65536).decode("utf-8", "replace")
    except OSError:
        return False
    keys = set(re.findall(r'"([a-z_]+)"\s*:', head))
    return {"source", "name"} <= keys and bool(keys & {"programs", "alt_names"}) and "schema" not in keys


# -- reading records -------------------------------------------------------


def parse(path: Path, source: str = "us-trade-csl") -> Iterator[Entity]:
    """One entity per record, in file order."""
    csl_path = files(path)[0]
    is_json = csl_path.suffix.lower() in (".json", ".jsonl")
    records = _json_records(csl_path) if is_json else _csv_records(csl_path)
    seen: dict[str, int] = {}
    for where, record in records:
        entity = _entity(csl_path, where, record, source)
        count = seen.get(entity.id, 0) + 1
        seen[entity.id] = count
        if count > 1:
            entity.id = f"{entity.id}-{count}"
        yield entity


def _csv_records(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    for line, fields in read_csv(path, columns=len(HEADER), header=HEADER):
        record: dict[str, Any] = dict(zip(HEADER, fields))
        for key in MULTI:
            record[key] = _split(record[key])
        record["addresses"] = _split(record["addresses"])
        record["ids"] = [_csv_id(item) for item in _split(record["ids"])]
        yield line, record


def _csv_id(item: str) -> dict[str, str | None]:
    """``"CO, 811038291-3, NIT #"`` -> country, number, type."""
    parts = [p.strip() for p in item.split(", ")]
    if len(parts) == 1:
        return {"type": None, "number": parts[0], "country": None}
    country = None
    if len(parts) >= 3 and re.fullmatch(r"[A-Z]{2}", parts[0]):
        country = parts.pop(0)
    return {"type": parts[-1], "number": ", ".join(parts[:-1]), "country": country}


def _json_records(path: Path) -> Iterator[tuple[int | None, dict[str, Any]]]:
    text = read_text(path)
    if not text.strip():
        raise SourceError(path, f"file is empty; {EXPECTED}")
    if path.suffix.lower() == ".jsonl":
        yield from _json_lines(path, text)
        return
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data" and text.lstrip().startswith("{"):
            yield from _json_lines(path, text)
            return
        raise _json_error(path, exc) from None
    if isinstance(data, dict) and isinstance(data.get("results"), list):
        data = data["results"]
    if not isinstance(data, list):
        kind = type(data).__name__
        raise SourceError(path, f'top level is a JSON {kind}; {EXPECTED}: {{"results": [...]}} or a list')
    for index, record in enumerate(data, start=1):
        yield None, _json_record(path, record, f"record {index}")


def _json_lines(path: Path, text: str) -> Iterator[tuple[int, dict[str, Any]]]:
    for line, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise _json_error(path, exc, line) from None
        yield line, _json_record(path, record, None, line)


def _json_error(path: Path, exc: json.JSONDecodeError, line: int | None = None) -> SourceError:
    """One line naming the line and column json stopped at."""
    return SourceError(path, f"malformed JSON ({exc.msg}, column {exc.colno}); {EXPECTED}", line=line or exc.lineno)


def _json_record(path: Path, record: Any, label: str | None, line: int | None = None) -> dict[str, Any]:
    """A JSON record in the CSV record's shape (addresses as text, ids as dicts)."""
    if not isinstance(record, dict):
        where = f"{label}: " if label else ""
        raise SourceError(path, f"{where}a JSON {type(record).__name__}; {EXPECTED} (objects)", line=line)
    out: dict[str, Any] = {key: _scalar(record.get(key)) for key in HEADER}
    for key in MULTI:
        out[key] = [part for value in _as_list(record.get(key)) for part in _split(_scalar(value))]
    out["addresses"] = [_json_address(a) for a in _as_list(record.get("addresses"))]
    out["ids"] = [_json_id(i) for i in _as_list(record.get("ids"))]
    out["_label"] = label
    return out


def _json_address(value: Any) -> str:
    """The CSV's address text: parts joined by ", ", country last as a code."""
    if not isinstance(value, dict):
        return _scalar(value)
    parts = [_scalar(value.get(k)) for k in ("address", "city", "state", "postal_code")]
    country = _scalar(value.get("country")).strip()
    code = country_code(country) or ""
    parts.append(code.upper() if len(code) == 2 else country)
    return ", ".join(p for p in parts if p)


def _json_id(value: Any) -> dict[str, str | None]:
    if isinstance(value, dict):
        return {k: _scalar(value.get(k)) or None for k in ("type", "number", "country")}
    return _csv_id(_scalar(value))


def _as_list(value: Any) -> list[Any]:
    if value is None or value == "":
        return []
    return value if isinstance(value, list) else [value]


def _scalar(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _split(value: str) -> list[str]:
    return [part.strip() for part in _clean(value).split(";") if part.strip()]


def _clean(value: str | None) -> str:
    """Collapse blanks and repair Windows-1252 bytes mis-read as C1 controls."""
    text = " ".join((value or "").split())
    return C1.sub(lambda m: m.group(0).encode("latin-1").decode("cp1252", "replace"), text)


# -- mapping ---------------------------------------------------------------


def list_code(source_name: str) -> str:
    """``"Entity List (EL) - Bureau of Industry and Security"`` -> ``"EL"``."""
    match = LIST_CODE.search(source_name)
    if match:
        return match.group(1)
    return re.sub(r"[^A-Za-z0-9]+", "-", source_name).strip("-")[:32] or "CSL"


def _entity(path: Path, where: int | None, record: dict[str, Any], source: str) -> Entity:
    label = record.get("_label")

    def fail(message: str, field: str) -> SourceError:
        prefix = f"{label}: " if label else ""
        return SourceError(path, prefix + message, line=where, field=field)

    name = _clean(record["name"])
    if not name:
        raise fail(f"empty name; {EXPECTED}", "name")
    list_name = _clean(record["source"])
    if not list_name:
        raise fail(f"empty source; {EXPECTED}", "source")
    kind = _clean(record["type"]).lower()
    if kind and kind not in SCHEMAS:
        raise fail(f"type {record['type']!r}; expected one of Individual, Entity, Vessel, Aircraft or blank", "type")
    code = list_code(list_name)
    entity = Entity(id=_entity_id(source, code, record, name), schema=SCHEMAS.get(kind, "LegalEntity"))
    entity.add("name", name)
    entity.add_all("alias", (_strip_and(a) for a in record["alt_names"]))
    entity.add("listName", code)
    entity.add("notes", f"Source list: {list_name}")
    entity.add_all("program", record["programs"])
    _add_listing(entity, record, code)
    _add_addresses(entity, record["addresses"])
    _add_person(entity, record)
    _add_vessel(entity, record)
    for ident in record["ids"]:
        _add_id(entity, ident)
    for key in ("source_list_url", "source_information_url"):
        entity.add("sourceUrl", _clean(record[key]))
    return entity


def _entity_id(source: str, code: str, record: dict[str, Any], name: str) -> str:
    number = _clean(record["entity_number"])
    if number:
        return slug_id(source, code, number)
    key = "|".join([name, "; ".join(_clean(a) for a in record["addresses"]), _clean(record["start_date"])])
    digest = hashlib.sha1(key.casefold().encode("utf-8")).hexdigest()[:16]
    return slug_id(source, code, digest)


def _strip_and(alias: str) -> str:
    """``"...; and Shijiazhuang ..."``: the list's prose joins the last alias with "and"."""
    return alias[4:] if alias.lower().startswith("and ") else alias


def _add_listing(entity: Entity, record: dict[str, Any], code: str) -> None:
    entity.add_all("federalRegisterNotice", _split(record["federal_register_notice"]))
    entity.add("startDate", iso_date(_clean(record["start_date"])))
    entity.add("endDate", iso_date(_clean(record["end_date"])))
    entity.add("standardOrder", _clean(record["standard_order"]).upper() or None)
    entity.add("licenseRequirement", _clean(record["license_requirement"]))
    entity.add("licensePolicy", _clean(record["license_policy"]))
    remarks = _clean(record["remarks"])
    for linked in LINKED_TO.findall(remarks):
        entity.add("linkedTo", linked.strip())
    remarks = LINKED_TO.sub("", remarks).strip(" ;")
    if remarks:
        entity.add("action" if code == "DPL" else "notes", remarks)


def _add_addresses(entity: Entity, addresses: list[str]) -> None:
    for address in addresses:
        address = _clean(address)
        last = address.rsplit(",", 1)[-1].strip()
        if re.fullmatch(r"[A-Z]{2}", last):
            entity.add("country", country_code(last))
            if last == address:
                continue  # the address is only a country code
        entity.add("address", address)


def _add_person(entity: Entity, record: dict[str, Any]) -> None:
    add_checked(entity, "position", _clean(record["title"]), "Title")
    for value in record["nationalities"]:
        add_checked(entity, "nationality", country_code(value), "Nationality")
    for value in record["citizenships"]:
        add_checked(entity, "citizenship", country_code(value), "Citizenship")
    for value in record["dates_of_birth"]:
        for part in re.split(r"\s+to\s+", value.replace("circa", "").strip()):
            date = iso_date(part)
            add_checked(entity, "birthDate", date, "Date of birth")
            if not date:
                entity.add("notes", f"Date of birth: {part}")
    for value in record["places_of_birth"]:
        add_checked(entity, "birthPlace", value, "Place of birth")


def _add_vessel(entity: Entity, record: dict[str, Any]) -> None:
    add_checked(entity, "callSign", _clean(record["call_sign"]), "Call sign")
    add_checked(entity, "type", _clean(record["vessel_type"]), "Vessel type")
    add_checked(entity, "tonnage", _clean(record["gross_tonnage"]), "Gross tonnage")
    add_checked(entity, "grossRegisteredTonnage", _clean(record["gross_registered_tonnage"]), "GRT")
    add_checked(entity, "flag", country_code(_clean(record["vessel_flag"])), "Vessel flag")
    owner = _clean(record["vessel_owner"])
    if owner:
        entity.add("notes", f"Vessel owner: {owner}")


def _add_id(entity: Entity, ident: dict[str, str | None]) -> None:
    kind = _clean(ident.get("type"))
    number = _clean(ident.get("number"))
    if not number:
        return
    lowered = kind.lower()
    if lowered.endswith(("-", ":")) or lowered.startswith("subject to"):
        entity.add("notes", f"{kind.rstrip(' -:')}: {number}")  # a statement, not an identifier
        return
    prop = next((p for words, p in ID_TYPES if words in lowered), None)
    if prop == "pastFlags":
        number = country_code(number) or number
    country = ident.get("country")
    if prop is None:
        entity.add("idNumber", number)
        label = f"{kind or 'Identifier'} ({country})" if country else kind or "Identifier"
        entity.add("notes", f"{label}: {number}")
        return
    add_checked(entity, prop, number, kind or prop)
    if country:
        entity.add("notes", f"{kind} {number}: issued in {country}")
