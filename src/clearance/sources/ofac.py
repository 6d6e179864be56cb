"""OFAC legacy CSV sets: the SDN list (``sdn.csv`` ...) and the consolidated
non-SDN lists (``cons_prim.csv`` ...), which share one layout.

A set is a main file (one row per entry), address and alias files keyed by
``ent_num``, and a comments file continuing ``Remarks``: OFAC cuts Remarks at
1,000 characters and writes the rest, from the next character (often mid-word),
to the comments file, so full remarks are ``Remarks + continuation`` with no
separator (ent 12300: ``"... PROMO RAI"`` + ``"Z S.A.S.; ..."``).

Decisions, each tested:

* schema: ``individual`` -> Person, ``vessel`` -> Vessel, ``aircraft`` -> Airplane;
  an untyped entry is a Company when it carries a company identifier (ISIN,
  ticker, USCC, registration/tax/LEI/VAT/D-U-N-S/BIK number, SWIFT/BIC) or its
  name holds a legal-form word (``CO.``, ``LTD.``, ``S.A.``, ``LLC``, ``JSC`` ...),
  else an Organization;
* orphans: an address or alias row naming an ``ent_num`` absent from the main
  file is an error; an orphan *comments* row is skipped with a logged warning,
  because the published 2019-01 ``sdn_comments.csv`` holds 10 continuations of
  entries from a later list;
* ``add.csv`` and ``alt.csv`` are required, the comments file is optional;
* a value that has no place in the entity's FtM schema becomes a ``notes``
  entry ``"Key: value"``; an unrecognised remark is kept verbatim in ``notes``.
"""

from __future__ import annotations

import datetime
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, NamedTuple

from ..errors import SourceError
from ..model import IDENTIFIER_PROPERTIES, LISTING_PROPERTIES, Entity, slug_id
from .common import blank, read_csv

log = logging.getLogger(__name__)

SOURCE_URL = "https://sanctionslist.ofac.treas.gov/"


@dataclass(frozen=True)
class FileSet:
    """The file names of one OFAC CSV set (the comments file is optional)."""

    label: str
    names: tuple[str, str, str, str]  # main, addresses, aliases, comments


SDN = FileSet("OFAC SDN", ("sdn.csv", "add.csv", "alt.csv", "sdn_comments.csv"))
CONS = FileSet("OFAC non-SDN", ("cons_prim.csv", "cons_add.csv", "cons_alt.csv", "cons_comments.csv"))

# The FtM properties this parser emits, per schema; entity-typed ones such as
# Vessel.owner hold ids, not names, so are left out.  Hard-coded to keep the 1 s
# followthemoney import off the load path; a test checks it against FtM.
_THING = {"name", "alias", "previousName", "weakAlias", "notes", "program", "sourceUrl", "address", "country"}
_PARTY = _THING | {"email", "phone", "website", "idNumber", "taxNumber", "vatCode", "registrationNumber",
                   "leiCode", "swiftBic", "dunsCode", "uscCode", "incorporationDate"}
VALID_PROPERTIES: dict[str, frozenset[str]] = {
    "Person": frozenset(_PARTY | {"firstName", "lastName", "position", "birthDate", "birthPlace", "nationality",
                                  "citizenship", "gender", "passportNumber", "socialSecurityNumber"}),
    "LegalEntity": frozenset(_PARTY),
    "Organization": frozenset(_PARTY | {"imoNumber"}),
    "Company": frozenset(_PARTY | {"imoNumber", "ticker", "isinCode", "bikCode"}),
    "Vessel": frozenset(_THING | {"callSign", "type", "tonnage", "grossRegisteredTonnage", "flag", "imoNumber",
                                  "mmsi", "buildDate", "registrationNumber", "model", "pastFlags"}),
    "Airplane": frozenset(_THING | {"type", "buildDate", "serialNumber", "model", "registrationNumber"}),
}

# --- the Remarks mini-language --------------------------------------------------
#: Remark keys as OFAC writes them, by the property they fill (None: a note).
_KEYS_BY_PROPERTY: dict[str | None, tuple[str, ...]] = {
    "birthDate": ("DOB",), "birthPlace": ("POB",), "nationality": ("nationality",),
    "citizenship": ("citizen",), "gender": ("Gender",), "position": ("Position",),
    "passportNumber": ("Passport", "Passport No.", "Diplomatic Passport"),
    "idNumber": ("National ID No.", "Identification Number", "Personal ID Card", "Cedula No.", "D.N.I.", "C.U.R.P."),
    "socialSecurityNumber": ("SSN",),
    "taxNumber": ("Tax ID No.", "R.F.C.", "RFC", "C.U.I.T.", "NIT #", "US FEIN", "Italian Fiscal Code"),
    "vatCode": ("V.A.T. Number",), "ticker": ("Equity Ticker",), "isinCode": ("ISIN",), "issuerName": ("Issuer Name",),
    "uscCode": ("Unified Social Credit Code (USCC)", "United Social Credit Code Certificate (USCCC)"),
    "effectiveDate": ("Effective Date (CMIC)",), "divestmentDate": ("Purchase/Sales For Divestment Date (CMIC)",),
    "listingDate": ("Listing Date (CMIC)",), "linkedTo": ("Linked To",),
    "imoNumber": ("Vessel Registration Identification",), "mmsi": ("MMSI",),
    "flag": ("Nationality of Registration",), "pastFlags": ("Former Vessel Flag",),
    "alias": ("a.k.a.", "n.k.a."), "previousName": ("f.k.a.",),
    "website": ("Website",), "email": ("Email Address", "Email"),
    "registrationNumber": ("Registration Number", "Registration ID", "Company Number", "UK Company Number",
                           "Commercial Registry Number", "Certificate of Incorporation Number",
                           "Chamber of Commerce Number", "Aircraft Tail Number"),
    "leiCode": ("Legal Entity Number",), "swiftBic": ("SWIFT/BIC",), "dunsCode": ("D-U-N-S Number",),
    "bikCode": ("BIK (RU)",),
    "phone": ("Phone Number", "Phone No.", "Phone", "Telephone No.", "Telephone"),
    "incorporationDate": ("Organization Established Date",),
    "buildDate": ("Aircraft Manufacture Date",), "model": ("Aircraft Model",),
    "serialNumber": ("Aircraft Manufacturer's Serial Number (MSN)",
                     "Aircraft Construction Number (also called L/N or S/N or F/N)"),
    None: ("Target Type", "Organization Type"),
}
REMARK_KEYS: dict[str, str | None] = {k: p for p, keys in _KEYS_BY_PROPERTY.items() for k in keys}
_ALT_PREFIX = re.compile(r"^alt\.\s*", re.IGNORECASE)
_KEY_RE = re.compile(
    r"(" + "|".join(re.escape(k) for k in sorted(REMARK_KEYS, key=len, reverse=True))
    + r")(?:\s*:\s*|\s+|$)",
    re.IGNORECASE,
)
_KEY_CANON = {k.lower(): k for k in REMARK_KEYS}
# a.k.a. 'X; Y' may hold a semicolon: its clause ends at the quote before ';' or the end.
_QUOTED_CLAUSE = re.compile(r"\s*(?:alt\.\s*)?[afn]\.k\.a\.\s*'.*?'(?=\.?\s*(?:;|$))", re.IGNORECASE | re.DOTALL)
_COLON_KEY = re.compile(r"([^:]{1,80}?)\s*:\s+(.+)", re.DOTALL)
# A final "." belongs to the value when it ends an abbreviation (S.A., INC., J.).
_KEEP_PERIOD = re.compile(
    r"(?:\b(?:[A-Za-z]{1,2}\.)+[A-Za-z]{1,2}|\b[A-Za-z]|\b(?:INC|CO|LTD|CORP|JR|SR|NO|BHD|PTY|BROS|CIA|LTDA|CIE))\.$",
    re.IGNORECASE,
)


def parse_remarks(text: str) -> list[tuple[str, str]]:
    """Split OFAC remarks into ``(key, value)`` pairs, in order.

    ``alt.`` repeats drop the prefix; quoted aliases lose their quotes; the
    clause-ending period is dropped unless it ends an abbreviation.  A clause
    with no known key is ``("Key", value)`` when written ``Key: value``, else
    ``("", clause)``.
    """
    pairs = []
    for clause in _clauses(text or ""):
        clause = _ALT_PREFIX.sub("", clause)
        match = _KEY_RE.match(clause)
        if match:
            key, value = _KEY_CANON[match.group(1).lower()], clause[match.end():]
        elif (colon := _COLON_KEY.fullmatch(clause)) and "'" not in colon.group(1):
            key, value = colon.group(1), colon.group(2)
        else:
            key, value = "", clause
        value = _clean_value(value.strip())
        if value:
            pairs.append((key, value))
    return pairs


def _clauses(text: str) -> Iterator[str]:
    pos = 0
    while pos < len(text):
        quoted = _QUOTED_CLAUSE.match(text, pos)
        end = quoted.end() if quoted else text.find(";", pos)
        end = len(text) if end < 0 else end
        clause = text[pos:end].strip()
        if clause:
            yield clause
        if quoted:  # skip the period and blanks up to the separator
            end = text.find(";", end)
            end = len(text) if end < 0 else end
        pos = end + 1


def _clean_value(value: str) -> str:
    if len(value) >= 2 and value[0] == "'" and value.rstrip(".")[-1:] == "'":
        return value.rstrip(".")[1:-1].strip()
    if value.endswith(".") and not _KEEP_PERIOD.search(value):
        return value[:-1].rstrip()
    return value


# --- value conversions ------------------------------------------------------------
_MONTHS = {m: i for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split(), 1)}
_DATE = re.compile(r"(?:(\d{1,2})\s+)?(?:([A-Za-z]{3})[a-z]*\.?\s+)?(\d{4})")
_DATE_PROPS = {"birthDate", "effectiveDate", "divestmentDate", "listingDate", "incorporationDate", "buildDate"}
_ID_PROPS = set(IDENTIFIER_PROPERTIES) | {"socialSecurityNumber", "dunsCode", "bikCode", "mmsi", "serialNumber"}
_ID_END = re.compile(r"\s*(?:\(|,\s|\b(?:issued|expires)\b)", re.IGNORECASE)
_LEI = re.compile(r"[A-Z0-9]{18}[0-9]{2}")


def normalize_dates(text: str) -> list[str]:
    """ISO dates from an OFAC date: ``02 Aug 1962``, ``Aug 1962``, ``1962``,
    ``circa 1962``, ranges ``1962 to 1964`` / ``1962-1964`` (both ends).
    Empty when any part is not a date."""
    text = re.sub(r"^circa\s+", "", text.strip().rstrip("."), flags=re.IGNORECASE)
    dates = [_one_date(part) for part in re.split(r"\s+to\s+|(?<=\d{4})\s*-\s*(?=\d{4}$)", text)]
    return [d for d in dates if d] if all(dates) else []


def _one_date(text: str) -> str | None:
    match = _DATE.fullmatch(text.strip())
    day, month_name, year = match.groups() if match else (None, None, None)
    month = _MONTHS.get(month_name.lower()) if month_name else None
    if not year or (month_name and not month) or (day and not month):
        return None
    if not month or not day:
        return f"{year}-{month:02d}" if month else year
    try:
        return datetime.date(int(year), month, int(day)).isoformat()
    except ValueError:
        return None


class Fact(NamedTuple):
    """One value for the entity: property, value, and the label for notes."""

    prop: str
    value: str
    label: str


def remark_facts(pairs: list[tuple[str, str]]) -> list[Fact]:
    """Map parsed remarks to properties; anything unmappable becomes a note."""
    facts: list[Fact] = []
    for key, value in pairs:
        prop = REMARK_KEYS.get(key)
        values, keep_note = _convert(prop, value) if prop else ([], True)
        if prop == "leiCode" and not all(_LEI.fullmatch(v) for v in values):
            prop = "registrationNumber"  # OFAC also writes national numbers under this key
        facts.extend(Fact(prop, v, key) for v in values if prop)
        if keep_note or not values:
            facts.append(Fact("notes", f"{key}: {value}" if key else value, ""))
    return facts


def _convert(prop: str, value: str) -> tuple[list[str], bool]:
    """(values, also keep the remark as a note because some detail would be lost)."""
    if prop in _DATE_PROPS:
        dates = normalize_dates(value)
        return dates, len(dates) > 1 or value.lower().startswith("circa")
    if prop == "gender":
        return ([value.lower()] if value.lower() in ("male", "female") else []), False
    if prop == "imoNumber":
        match = re.search(r"\b\d{7}\b", value)
        return ([match.group(0)] if match else []), False
    if prop in _ID_PROPS:
        # "A1234 (Iran) expires 2020": the number, then a country and details.
        ident = _ID_END.split(value, maxsplit=1)[0].strip()
        detail = re.sub(r"^\([^)]*\)", "", value[len(ident):].strip(" ,")).strip(" .")
        return ([ident] if ident else []), bool(detail)
    return [value], False


_LEGAL_FORM = re.compile(
    r"\b(?:CO|CORP(?:ORATION)?|INC(?:ORPORATED)?|LTDA?|LIMITED|L\.?L\.?C|PLC|LLP|GMBH|AG|[OPC]?JSC|[OZP]?AO|OOO|"
    r"S\.A|S\.L|S\.?R\.?L|B\.?V|N\.?V|S\.?P\.?A|PTE|PTY|BHD|FZE|FZCO|FZC|CIA|COMPANY|SAL)\b"
)
_COMPANY_IDS = {"isinCode", "ticker", "uscCode", "registrationNumber", "taxNumber", "leiCode",
                "vatCode", "dunsCode", "bikCode", "swiftBic"}
_TYPES = {"individual": "Person", "vessel": "Vessel", "aircraft": "Airplane"}


def guess_schema(sdn_type: str | None, name: str, facts: list[Fact]) -> str | None:
    """The FtM schema for an entry (None for an unknown SDN_Type)."""
    if sdn_type is not None:
        return _TYPES.get(sdn_type.lower())
    if any(f.prop in _COMPANY_IDS for f in facts) or _LEGAL_FORM.search(name.upper()):
        return "Company"
    return "Organization"


# --- reading a set --------------------------------------------------------------
def sdn_files(path: Path) -> list[Path]:
    """The files of an SDN set (``sdn_comments.csv`` only when present)."""
    return _files(Path(path), SDN)


def cons_files(path: Path) -> list[Path]:
    """The files of a consolidated non-SDN set (``cons_comments.csv`` optional)."""
    return _files(Path(path), CONS)


def parse_sdn(path: Path, source: str) -> Iterator[Entity]:
    """Entities of an SDN set, ids ``<source>-<ent_num>``."""
    return _parse(Path(path), source, SDN)


def parse_cons(path: Path, source: str) -> Iterator[Entity]:
    """Entities of a consolidated non-SDN set, ids ``<source>-<ent_num>``."""
    return _parse(Path(path), source, CONS)


def _files(path: Path, fs: FileSet) -> list[Path]:
    folder = path.parent if path.is_file() else path
    for name in fs.names[:3]:
        if not (folder / name).is_file():
            raise SourceError(folder / name, f"missing file of the {fs.label} set; expected {', '.join(fs.names)}")
    return [folder / name for name in fs.names if (folder / name).is_file()]


def _blank(value: str | None) -> str | None:
    """``blank`` plus ``-0``: the 2019-01 add.csv ends in a ``-0-`` cut short."""
    value = blank(value)
    return None if value == "-0" else value


def _ent_num(path: Path, line: int, raw: str) -> int:
    try:
        return int(raw.strip())
    except ValueError:
        raise SourceError(path, f"ent_num {raw!r} is not an integer", line=line, field="ent_num") from None


def _related(path: Path | None, columns: int, entries: dict[int, list[str]], main: str,
             strict: bool = True, check: Callable[[Path, int, list[str]], None] | None = None,
             ) -> dict[int, list[list[str]]]:
    """Rows of a secondary file grouped by ent_num, in file order."""
    grouped: dict[int, list[list[str]]] = {}
    orphans = 0
    if path is None:
        return grouped
    for line, fields in read_csv(path, columns=columns):
        ent = _ent_num(path, line, fields[0])
        if ent not in entries and strict:
            raise SourceError(path, f"ent_num {ent} not in {main}", line=line, field="ent_num")
        if ent not in entries:
            orphans += 1
            continue
        if check:
            check(path, line, fields)
        grouped.setdefault(ent, []).append(fields)
    if orphans:
        log.warning("%s: skipped %d rows whose ent_num is not in %s", path, orphans, main)
    return grouped


def _check_alias(path: Path, line: int, fields: list[str]) -> None:
    """Refuse alias kinds we do not know rather than guess what they mean."""
    kind = (_blank(fields[2]) or "").lower()
    if kind not in _ALT_TYPES and "weak" not in kind:
        raise SourceError(path, f"alt_type {fields[2].strip()!r}; expected aka, fka or nka",
                          line=line, field="alt_type")
    if not _blank(fields[3]):
        raise SourceError(path, "alt_name is empty; expected a name", line=line, field="alt_name")


def _parse(path: Path, source: str, fs: FileSet) -> Iterator[Entity]:
    """Read all four files first: secondary rows may come in any order."""
    files = {f.name: f for f in _files(path, fs)}
    main_name, add_name, alt_name, comments_name = fs.names
    main = files[main_name]
    entries: dict[int, list[str]] = {}
    lines: dict[int, int] = {}
    for line, fields in read_csv(main, columns=12):
        ent = _ent_num(main, line, fields[0])
        if ent in entries:
            raise SourceError(main, f"ent_num {ent} repeats line {lines[ent]}; expected unique ent_num", line=line)
        entries[ent], lines[ent] = fields, line
    adds = _related(files[add_name], 6, entries, main_name)
    alts = _related(files[alt_name], 5, entries, main_name, check=_check_alias)
    more = _related(files.get(comments_name), 2, entries, main_name, strict=False)
    for ent, fields in entries.items():
        extra = "".join(row[1] for row in more.get(ent, []))
        yield _entity(main, lines[ent], source, ent, fields, extra, adds.get(ent, []), alts.get(ent, []))


def _entity(main: Path, line: int, source: str, ent: int, fields: list[str], extra: str,
            adds: list[list[str]], alts: list[list[str]]) -> Entity:
    """One entry: main row, remarks continuation, addresses and aliases."""
    name = _blank(fields[1])
    if not name:
        raise SourceError(main, "SDN_Name is empty; expected the entry's name", line=line, field="SDN_Name")
    remarks = ("" if _blank(fields[11]) is None else fields[11]) + extra
    facts = _column_facts(fields) + _address_facts(adds) + _alias_facts(alts) + remark_facts(parse_remarks(remarks))
    schema = guess_schema(_blank(fields[2]), name, facts)
    if schema is None:
        raise SourceError(main, f"SDN_Type {fields[2].strip()!r}; expected individual, vessel, aircraft or -0-",
                          line=line, field="SDN_Type")
    entity = Entity(slug_id(source, str(ent)), schema)
    entity.add("name", name)
    last, _, first = name.partition(",")
    if schema == "Person" and last.strip() and first.strip():
        entity.add("lastName", last)
        entity.add("firstName", first)
    for fact in facts:
        if fact.prop in VALID_PROPERTIES[schema] or fact.prop in LISTING_PROPERTIES:
            entity.add(fact.prop, fact.value)
        else:
            entity.add("notes", f"{fact.label}: {fact.value}")
    entity.add("sourceUrl", SOURCE_URL)
    return entity


_COLUMNS = ((4, "position", "Title"), (5, "callSign", "Call sign"), (6, "type", "Vessel type"),
            (7, "tonnage", "Tonnage"), (8, "grossRegisteredTonnage", "GRT"), (9, "flag", "Vessel flag"),
            (10, "notes", "Vessel owner"))


def _column_facts(fields: list[str]) -> list[Fact]:
    programs = ((_blank(fields[3]) or "").split("] ["))
    facts = [Fact("program", p.strip(" []"), "Program") for p in programs if p.strip(" []")]
    for index, prop, label in _COLUMNS:
        value = _blank(fields[index])
        if value is None:
            continue
        if prop in ("tonnage", "grossRegisteredTonnage"):
            value = value.replace(",", "")
        facts.append(Fact(prop, f"{label}: {value}" if prop == "notes" else value, label))
    return facts


def _address_facts(rows: list[list[str]]) -> list[Fact]:
    facts = []
    for row in rows:
        street, city, country, remark = (_blank(v) for v in row[2:6])
        if street or city:
            facts.append(Fact("address", ", ".join(p for p in (street, city, country) if p), "Address"))
        if country:
            facts.append(Fact("country", country, "Country"))
        if remark:
            facts.append(Fact("notes", f"Address remarks: {remark}", ""))
    return facts


_ALT_TYPES = {"aka": "alias", "nka": "alias", "fka": "previousName"}


def _alias_facts(rows: list[list[str]]) -> list[Fact]:
    facts = []
    for row in rows:
        kind, name, remark = (_blank(v) or "" for v in row[2:5])
        weak = "weak" in kind.lower() or "weak" in remark.lower()
        prop = "weakAlias" if weak else _ALT_TYPES[kind.lower()]
        facts.append(Fact(prop, name, kind))
        if remark:
            facts.append(Fact("notes", f"Alias remarks ({name}): {remark}", ""))
    return facts
