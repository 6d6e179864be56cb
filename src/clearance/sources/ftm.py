"""FollowTheMoney JSON lines: import (so OpenSanctions datasets load) and export
(so our data can leave), validated with the ``followthemoney`` package.

FtM keeps listing facts on a separate ``Sanction`` entity pointing at the listed
party; Clearance keeps them on the party itself (see ``model.LISTING_PROPERTIES``).
Export therefore writes each party followed by one Sanction entity; import folds
Sanction entities back into their party. Facts FtM has no Sanction property for
(CMIC dates, licence review policy, Federal Register citation...) travel in the
Sanction's ``summary`` as ``key: value`` lines, so a round trip loses nothing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable, Iterator

from followthemoney import model as ftm_model
from followthemoney.exc import InvalidData

from ..errors import SourceError
from ..model import LISTING_PROPERTIES, SCHEMATA, Entity
from .common import read_text

#: Schemata imported as screenable parties (others than these are folded in or skipped).
PARTY_SCHEMATA = set(SCHEMATA) | {"PublicBody"}
#: Relationship schemata kept as they are, for the ownership graph.
LINK_SCHEMATA = {"Ownership", "Directorship", "UnknownLink", "Family", "Associate", "Membership"}


def files(path: Path) -> list[Path]:
    path = Path(path)
    if not path.is_file():
        raise SourceError(path, "file not found; expected a FollowTheMoney JSON lines file")
    return [path]


def _records(path: Path) -> Iterator[tuple[int, dict]]:
    text = read_text(path)
    if not text.strip():
        raise SourceError(path, "file is empty; expected FollowTheMoney JSON lines")
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise SourceError(path, f"invalid JSON ({exc.msg}); expected one FtM entity object per line", line=number) from None
        if not isinstance(record, dict) or "schema" not in record or "id" not in record:
            raise SourceError(path, "expected an object with 'id', 'schema' and 'properties'", line=number)
        yield number, record


def parse(path: Path, source: str) -> Iterator[Entity]:
    """Parties (with their Sanction facts folded in) and ownership-type links."""
    path = Path(path)
    parties: dict[str, Entity] = {}
    links: list[Entity] = []
    sanctions: list[tuple[int, dict]] = []
    for number, record in _records(path):
        try:
            proxy = ftm_model.get_proxy(record, cleaned=False)
        except (InvalidData, TypeError, ValueError) as exc:
            raise SourceError(path, f"not a valid FtM entity ({exc})", line=number) from None
        if proxy.id is None:
            raise SourceError(path, "entity has no id", line=number)
        name = proxy.schema.name
        if name == "Sanction":
            sanctions.append((number, proxy.to_dict()))
            continue
        if name not in PARTY_SCHEMATA and name not in LINK_SCHEMATA:
            continue
        entity = Entity(id=proxy.id, schema="Organization" if name == "PublicBody" else name)
        for prop, values in proxy.to_dict()["properties"].items():
            entity.add_all(prop, values)
        if name in LINK_SCHEMATA:
            links.append(entity)
        else:
            parties[entity.id] = entity
    for number, sanction in sanctions:
        _fold_sanction(path, number, sanction, parties)
    yield from parties.values()
    yield from links


def _fold_sanction(path: Path, number: int, sanction: dict, parties: dict[str, Entity]) -> None:
    props = sanction.get("properties", {})
    reverse = {ftm: ours for ours, (ftm, _) in LISTING_PROPERTIES.items() if ftm}
    for target in props.get("entity", []):
        party = parties.get(target)
        if party is None:
            continue  # a sanction on an entity we do not import (e.g. an Address)
        party.add_all("program", props.get("program", []))
        for prop, values in props.items():
            if prop in reverse:
                party.add_all(reverse[prop], values)
        for line in props.get("summary", []):
            key, sep, value = line.partition(": ")
            if sep and key in LISTING_PROPERTIES:
                party.add(key, value)
            else:
                party.add("notes", line)


def to_ftm(entity: Entity, dataset: str | None = None) -> list[dict]:
    """The FtM entity for a party, plus a Sanction entity for its listing facts."""
    schema = ftm_model.get(entity.schema)
    if schema is None:
        raise ValueError(f"unknown FtM schema {entity.schema!r} on {entity.id}")
    proxy = ftm_model.make_entity(schema)
    proxy.id = entity.id
    listing: dict[str, list[str]] = {}
    for prop, values in entity.properties.items():
        if prop in LISTING_PROPERTIES or (prop == "program" and schema.get(prop) is None):
            listing[prop] = values
            continue
        if schema.get(prop) is None:
            proxy.add("notes", [f"{prop}: {v}" for v in values], quiet=True)
            continue
        ftm_type = schema.get(prop).type
        for value in values:
            cleaned = ftm_type.clean(value, proxy=proxy)
            if cleaned is None:
                # FtM's cleaning refuses the value (e.g. "circa 1962" as a date): keep it as a note.
                proxy.add("notes", f"{prop}: {value}", quiet=True)
            else:
                proxy.add(prop, cleaned, cleaned=True, quiet=True)
    records = [_with_dataset(proxy.to_dict(), dataset)]
    sanction = _sanction(entity, listing)
    if sanction is not None:
        records.append(_with_dataset(sanction.to_dict(), dataset))
    return records


def _sanction(entity: Entity, listing: dict[str, list[str]]):
    programs = entity.get("program")
    if not programs and not listing:
        return None
    sanction = ftm_model.make_entity("Sanction")
    sanction.id = f"{entity.id}-sanction"
    sanction.add("entity", entity.id)
    sanction.add("program", programs)
    for prop, values in listing.items():
        if prop == "program":
            continue
        ftm_prop = LISTING_PROPERTIES[prop][0]
        if ftm_prop:
            sanction.add(ftm_prop, values, quiet=True)
        else:
            sanction.add("summary", [f"{prop}: {v}" for v in values])
    return sanction


def _with_dataset(record: dict, dataset: str | None) -> dict:
    if dataset:
        record["datasets"] = [dataset]
    return record


def export_lines(entities: Iterable[Entity], dataset: str | None = None) -> Iterator[str]:
    """FtM JSON lines for the given entities."""
    for entity in entities:
        for record in to_ftm(entity, dataset):
            yield json.dumps(record, ensure_ascii=False, sort_keys=True)
