"""BIS Denied Persons List (tab-separated ``dpl.txt``) -> entities.

The file has a quoted header (``Name``, ``Street_Address``, ``City``,
``State``, ``Country``, ``Postal_Code``, ``Effective_Date``,
``Expiration_Date``, ``Standard_Order``, ``Last_Update``, ``Action``,
``FR_Citation``) and one row per (party, address).

Duplicate rule
    A party denied by one order appears once per address.  Rows with the same
    *normalised name* (blanks collapsed, case folded) **and** the same
    ``Effective_Date`` are one denial order against one party, so they become
    one entity carrying every address (and every FR citation, action and
    update date found on those rows).  Anything else stays separate: the same
    name under two orders (different effective dates) gives two entities, and
    two spellings of a name (``AL NASER AIRLINES`` / ``AL-NASER AIRLINES``)
    give two entities, because the file does not say they are one party.
    In the bundled captures 546 rows -> 417 entities (2019-06) and
    581 rows -> 461 entities (2022-09).

Ids
    ``slug_id(source, normalised name, effective date)``, so an order keeps its
    id from one capture to the next.  A renewed temporary denial order has a
    new effective date and therefore a new id: it is a new order.

Schema
    ``LegalEntity``: the file does not say whether a party is a person or a
    company, and guessing from the name would mislabel both ways.

Dates are US ``MM/DD/YYYY`` (``Effective_Date``, ``Expiration_Date``) or ISO
(``Last_Update``) and are stored as ISO.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Iterator

from ..errors import SourceError
from ..model import Entity, slug_id
from .common import country_code, iso_date, read_csv

HEADER = (
    "Name",
    "Street_Address",
    "City",
    "State",
    "Country",
    "Postal_Code",
    "Effective_Date",
    "Expiration_Date",
    "Standard_Order",
    "Last_Update",
    "Action",
    "FR_Citation",
)
PROGRAM = "DPL"
FILE_NAME = "dpl.txt"
# "68 F.R. 38290 6/27/03", "80 F.R 57572 9/24/15", "87 FR 52741 8/29/2022"
CITATION = re.compile(r"\d+\s*F\.?\s?R\.?\s+\d+(?:\s+\d{1,2}/\d{1,2}/\d{2,4})?")
# Aliases written into the name: "PEARL (A.K.A. NEI-CHIEN CHU) LI", "X D/B/A Y".
AKA = re.compile(r"\(\s*A\.?K\.?A\.?\s+([^)]+)\)", re.IGNORECASE)
DBA = re.compile(r"\s+D/B/A\s+", re.IGNORECASE)


@dataclass
class Row:
    """One data row, by column name."""

    line: int
    values: dict[str, str] = field(default_factory=dict)

    def get(self, column: str) -> str | None:
        value = " ".join(self.values.get(column, "").split())
        return value or None


def files(path: Path) -> list[Path]:
    """``path`` itself, or the ``dpl.txt`` in a capture folder."""
    path = Path(path)
    if path.is_file():
        return [path]
    if path.is_dir():
        for candidate in sorted(path.iterdir()):
            if candidate.name.lower() == FILE_NAME:
                return [candidate]
        raise SourceError(path, f"no {FILE_NAME} in this folder; expected the BIS Denied Persons List file")
    raise SourceError(path, "file or folder not found; expected the BIS Denied Persons List (dpl.txt)")


def published(path: Path) -> str | None:
    """The newest ``Last_Update`` in the file: the day the data last changed.

    Dates after today are typing errors (2022-09 has ``2922-09-01``) and are
    skipped here; the entity keeps the value as published.
    """
    today = date.today().isoformat()
    dates = [iso_date(row.get("Last_Update")) for row in rows(files(path)[0])]
    found = sorted(d for d in dates if d and d <= today)
    return found[-1] if found else None


def rows(path: Path) -> Iterator[Row]:
    """Data rows, checked against the documented header and column count."""
    for line, fields in read_csv(path, columns=len(HEADER), delimiter="\t", header=HEADER):
        yield Row(line, dict(zip(HEADER, fields)))


def order_key(name: str, effective: str | None) -> tuple[str, str]:
    """The duplicate-rule key: normalised name and effective date (as given)."""
    return " ".join(name.split()).casefold(), (effective or "").strip()


def parse(path: Path, source: str = "us-bis-dpl") -> Iterator[Entity]:
    """One entity per denial order and party, in order of first appearance."""
    dpl_path = files(path)[0]
    entities: dict[tuple[str, str], Entity] = {}
    for row in rows(dpl_path):
        name = row.get("Name")
        if not name:
            raise SourceError(dpl_path, "empty Name; expected the denied party's name", line=row.line, field="Name")
        key = order_key(name, row.get("Effective_Date"))
        entity = entities.get(key)
        if entity is None:
            entity = entities[key] = _new_entity(dpl_path, row, name, key, source)
        _add_row(entity, row)
    yield from entities.values()


def _new_entity(path: Path, row: Row, name: str, key: tuple[str, str], source: str) -> Entity:
    entity = Entity(id=slug_id(source, *key), schema="LegalEntity")
    entity.add("name", name)
    for alias in _embedded_aliases(name):
        entity.add("alias", alias)
    entity.add("program", PROGRAM)
    effective = row.get("Effective_Date")
    start = iso_date(effective)
    if effective and not start:
        raise SourceError(path, f"date {effective!r}; expected MM/DD/YYYY", line=row.line, field="Effective_Date")
    entity.add("startDate", start)
    return entity


def _add_row(entity: Entity, row: Row) -> None:
    """Facts of one row; repeated rows of an order add addresses mostly."""
    parts = [row.get(c) for c in ("Street_Address", "City", "State", "Postal_Code", "Country")]
    entity.add("address", ", ".join(p for p in parts if p) or None)
    entity.add("country", country_code(row.get("Country")))
    entity.add("endDate", iso_date(row.get("Expiration_Date")))
    standard = row.get("Standard_Order")
    entity.add("standardOrder", standard.upper() if standard else None)
    entity.add("lastUpdate", iso_date(row.get("Last_Update")))
    entity.add("action", row.get("Action"))
    entity.add_all("federalRegisterNotice", _citations(row.get("FR_Citation")))


def _citations(value: str | None) -> list[str]:
    """Split a run of Federal Register citations; keep the text if none is found."""
    if not value:
        return []
    found = [" ".join(m.group(0).split()) for m in CITATION.finditer(value)]
    return found or [value]


def _embedded_aliases(name: str) -> list[str]:
    """Names hidden inside a listed name, so each can be matched on its own."""
    aliases: list[str] = []
    aka = AKA.search(name)
    if aka:
        aliases.append(aka.group(1).strip())
        aliases.append(" ".join(AKA.sub(" ", name).split()))
    parts = DBA.split(name)
    if len(parts) > 1:
        aliases.extend(p.strip() for p in parts if p.strip())
    return aliases
