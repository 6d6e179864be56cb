"""Canonical entity model shared by every part of Clearance.

An :class:`Entity` is a list entry: an id, a FollowTheMoney schema name and a
mapping of property name -> list of string values.  Property names are the
FollowTheMoney ones (``name``, ``alias``, ``birthDate``, ``isinCode``,
``uscCode`` ...) so entities convert to and from FtM without a mapping table.

A listing also carries facts that FtM keeps on a separate ``Sanction`` entity
(programme dates, licence requirement, Federal Register citation).  We keep them
on the entity itself under the names in :data:`LISTING_PROPERTIES`, because the
screening and rules code want them in one place; :mod:`clearance.ftm` moves them
to a ``Sanction`` entity on export and back on import.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Iterable, Iterator

#: Schemata a list entry may take.
SCHEMATA = ("Person", "Organization", "Company", "LegalEntity", "Vessel", "Airplane")

#: Properties that hold names, in order of strength.
NAME_PROPERTIES = ("name", "alias", "previousName", "weakAlias")

#: Properties that hold identifiers usable for exact matching.
IDENTIFIER_PROPERTIES = (
    "isinCode",
    "uscCode",
    "imoNumber",
    "passportNumber",
    "idNumber",
    "taxNumber",
    "registrationNumber",
    "leiCode",
    "ticker",
    "innCode",
    "ogrnCode",
    "swiftBic",
    "vatCode",
    "callSign",
)

#: Listing facts kept on the entity (FtM puts them on a linked Sanction).
#: name -> (FtM Sanction property or None, description)
LISTING_PROPERTIES: dict[str, tuple[str | None, str]] = {
    "listingDate": ("listingDate", "date the entry was published on the list"),
    "startDate": ("startDate", "date the restriction took effect"),
    "endDate": ("endDate", "date the restriction ends (e.g. a denial order's expiry)"),
    "effectiveDate": (None, "CMIC: date from which purchase of securities is prohibited"),
    "divestmentDate": (None, "CMIC: date until which purchase/sale for divestment is allowed"),
    "licenseRequirement": ("provisions", "Entity List: licence requirement"),
    "licensePolicy": (None, "Entity List: licence review policy"),
    "federalRegisterNotice": (None, "Federal Register citation(s) of the listing"),
    "listName": ("authority", "name of the list within a consolidated source"),
    "linkedTo": (None, "name of a party the entry is linked to"),
    "issuerName": (None, "CMIC: issuer of the listed securities"),
    "standardOrder": (None, "DPL/CSL: whether the standard denial order applies"),
    "action": (None, "DPL: last Federal Register action"),
    "lastUpdate": (None, "DPL: last update date"),
    "unscId": ("unscId", "UN Security Council reference number"),
}


@dataclass(slots=True)
class Entity:
    """One list entry in canonical form."""

    id: str
    schema: str
    properties: dict[str, list[str]] = field(default_factory=dict)

    def add(self, prop: str, value: str | None) -> None:
        """Add a value, ignoring blanks and exact duplicates."""
        if value is None:
            return
        value = " ".join(str(value).split())
        if not value:
            return
        values = self.properties.setdefault(prop, [])
        if value not in values:
            values.append(value)

    def add_all(self, prop: str, values: Iterable[str | None]) -> None:
        for value in values:
            self.add(prop, value)

    def get(self, prop: str) -> list[str]:
        return self.properties.get(prop, [])

    def first(self, prop: str) -> str | None:
        values = self.properties.get(prop)
        return values[0] if values else None

    @property
    def caption(self) -> str:
        """The primary name, or the id when an entry has none."""
        return self.first("name") or self.id

    def names(self) -> Iterator[tuple[str, str]]:
        """(property, name) for every name the entity is known by."""
        for prop in NAME_PROPERTIES:
            for value in self.properties.get(prop, []):
                yield prop, value

    def to_dict(self) -> dict:
        """Plain form; values sorted (but ``name`` keeps its primary name first),
        so that a list re-ordering an entry's aliases is not a change."""
        return {
            "id": self.id,
            "schema": self.schema,
            "properties": {k: (list(v) if k == "name" else sorted(v)) for k, v in sorted(self.properties.items()) if v},
        }

    @classmethod
    def from_dict(cls, data: dict) -> "Entity":
        entity = cls(id=str(data["id"]), schema=str(data["schema"]))
        for prop, values in (data.get("properties") or {}).items():
            entity.add_all(prop, values if isinstance(values, list) else [values])
        return entity

    def canonical_json(self) -> str:
        """Stable serialisation: same content, same bytes, same hash."""
        return json.dumps(self.to_dict(), sort_keys=True, ensure_ascii=False, separators=(",", ":"))

    def content_hash(self) -> str:
        return hashlib.sha256(self.canonical_json().encode("utf-8")).hexdigest()


def slug_id(source: str, *parts: str) -> str:
    """A stable entity id from a source id and native key parts.

    Used where a list has its own key (``us-ofac-sdn-36``) and, hashed, where it
    has none (DPL rows), so the same entry keeps its id across captures.
    """
    raw = "-".join(p.strip() for p in parts if p and p.strip())
    safe = "".join(c if c.isalnum() or c in ".-_" else "-" for c in raw)
    if safe and len(safe) <= 64 and safe == raw:
        return f"{source}-{safe}"
    digest = hashlib.sha1(raw.encode("utf-8")).hexdigest()[:16]
    return f"{source}-{digest}"
