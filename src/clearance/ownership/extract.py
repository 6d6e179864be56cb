"""Relations found in the lists themselves, in FtM link entities and in the
curated covered-affiliates file, turned into an :class:`OwnershipGraph`.

* OFAC/CSL ``Linked To`` -> ``linked`` edges (a link, no share: shown, never
  counted), from the named party to the entry;
* NS-CMIC ``Issuer Name`` -> ``issuer`` edges from the entry to the issuer of
  its securities, when the issuer is not just another spelling of the entry;
* UN ``... owned or controlled by X`` remarks -> ``control`` edges from X;
* FtM ``Ownership`` (``owner`` -> ``asset``, ``percentage`` counted),
  ``Directorship``, ``UnknownLink``, ``Family``, ``Associate``, ``Membership``;
* curated producers, subsidiaries, affiliates and brands -> ``subsidiary`` /
  ``affiliate`` / ``brand`` edges from their parent, the rows themselves being
  listed parties of the ``us-covered`` family.

Names are resolved to list entries by exact normalised name only (same source
first), never fuzzily; a name shared by several entries links to each, with a
note saying so.
"""

from __future__ import annotations

import re
from typing import Iterable

from ..model import Entity
from .brands import Affiliate, load_affiliates
from .graph import Edge, Listing, OwnershipGraph, name_key
from .policy import Policy

#: Bump when extraction changes, so cached graphs are rebuilt.
EXTRACT_VERSION = "1"
CURATED = "covered-affiliates"

#: FtM link schema -> (holder property, held property, relation).
FTM_LINKS = {
    "Ownership": ("owner", "asset", "ownership"),
    "Directorship": ("director", "organization", "directorship"),
    "UnknownLink": ("subject", "object", "unknown"),
    "Family": ("person", "relative", "family"),
    "Associate": ("person", "associate", "associate"),
    "Membership": ("member", "organization", "membership"),
}

_CONTROL = re.compile(
    r"(?:owned (?:or|and) controlled by|controlled by|(?:is )?a subsidiary of|subsidiary (?:company )?of)"
    r"(?:,? or (?:acts?|acting) (?:on behalf of|for),?)?\s+(?:the\s+)?([^.;:\[\(]+)",
    re.IGNORECASE,
)
_CUT = re.compile(r",|\bwhich\b|\bthat\b|\bwho\b|\band is\b|\band (?:is|has|was)\b", re.IGNORECASE)
_CSL_SDN = re.compile(r"^us-trade-csl-SDN-(\d+)$")


def parse_percent(value: str | None) -> float | None:
    """``"51"``, ``"51%"``, ``"51.0 %"`` -> 51.0; anything else -> None."""
    if value is None:
        return None
    text = str(value).strip().rstrip("%").strip().replace(",", ".")
    try:
        number = float(text)
    except ValueError:
        return None
    return number if 0 <= number <= 100 else None


def build_list_graph(
    items: Iterable[tuple[str, Entity]],
    policy: Policy,
    labels: dict[str, str] | None = None,
    curated: Iterable[Affiliate] | None = None,
) -> OwnershipGraph:
    """The graph of every relation the given list entries state.

    ``labels`` maps a source to a snapshot label (``"us-ofac-sdn v2"``) used in
    edge provenance.
    """
    labels = labels or {}
    graph = OwnershipGraph()
    parties: list[tuple[str, Entity]] = []
    links: list[tuple[str, Entity]] = []
    for source, entity in items:
        if entity.schema in FTM_LINKS:
            links.append((source, entity))
            continue
        parties.append((source, entity))
        node = graph.add_node(entity.id, entity.caption, schema=entity.schema)
        node.listings.append(
            Listing(
                entity_id=entity.id,
                source=source,
                families=policy.families_for(source, entity),
                list_name=entity.first("listName"),
                programs=tuple(entity.get("program")),
            )
        )
        for _, name in entity.names():
            graph.add_name(entity.id, name)
    # The CSL repeats SDN entries under their OFAC number: one party, two listings.
    for source, entity in parties:
        match = _CSL_SDN.match(entity.id)
        if match and f"us-ofac-sdn-{match.group(1)}" in graph.nodes:
            graph.merge(entity.id, f"us-ofac-sdn-{match.group(1)}")
    for source, entity in parties:
        where = labels.get(source, source)
        for value in entity.get("linkedTo"):
            for target, note in _resolve(graph, source, value, entity.id):
                graph.add_edge(Edge(target, entity.id, "linked", source=f"{where} {entity.id} Linked To", note=note))
        for value in entity.get("issuerName"):
            if _same_party(entity, value):
                continue
            for target, note in _resolve(graph, source, value, entity.id):
                graph.add_edge(Edge(entity.id, target, "issuer", source=f"{where} {entity.id} Issuer Name", note=note))
        if source == "un-sc":
            for value in _controllers(entity):
                for target, note in _resolve(graph, source, value, entity.id, placeholders=False):
                    graph.add_edge(Edge(target, entity.id, "control", source=f"{where} {entity.id} remarks", note=note))
    for source, entity in links:
        _ftm_link(graph, labels.get(source, source), entity)
    add_curated(graph, policy, curated)
    return graph


def _resolve(graph: OwnershipGraph, source: str, value: str, self_id: str, placeholders: bool = True):
    """(node key, note) pairs a related-party name refers to; exact names only."""
    candidates = [k for k in graph.find(value) if k != graph.canonical(self_id)]
    same = [k for k in candidates if any(l.source == source for l in graph.nodes[k].listings)]
    chosen = same or candidates
    if not chosen:
        return [(graph.placeholder(value), "not a list entry")] if placeholders else []
    note = None if len(chosen) == 1 else f"{len(chosen)} list entries are named {value!r}; linked to each"
    return [(key, note) for key in chosen]


def _strong(text: str) -> frozenset[str]:
    from ..match.normalize import analyze

    return frozenset(t for form in analyze(text) for t in form.strong_tokens)


def _same_party(entity: Entity, issuer: str) -> bool:
    """Is an ``Issuer Name`` just another spelling of the entry itself?"""
    key = name_key(issuer)
    tokens = _strong(issuer)
    for _, name in entity.names():
        if name_key(name) == key:
            return True
        other = _strong(name)
        if tokens and other and (tokens <= other or other <= tokens):
            return True
    return False


def _controllers(entity: Entity) -> list[str]:
    out = []
    for note in entity.get("notes"):
        for match in _CONTROL.finditer(note):
            name = _CUT.split(match.group(1))[0].strip(" ,")
            if 2 <= len(name) <= 120 and name not in out:
                out.append(name)
    return out


def _ftm_link(graph: OwnershipGraph, where: str, entity: Entity) -> None:
    holder_prop, held_prop, relation = FTM_LINKS[entity.schema]
    percent = parse_percent(entity.first("percentage")) if relation == "ownership" else None
    for holder in entity.get(holder_prop):
        for held in entity.get(held_prop):
            for ref in (holder, held):
                if graph.canonical(ref) not in graph.nodes:
                    graph.add_node(ref, ref, placeholder=True)
            note = None
            if relation == "ownership" and percent is None:
                note = "no percentage stated: shown, not counted"
            graph.add_edge(
                Edge(
                    holder,
                    held,
                    relation,
                    percent,
                    start=entity.first("startDate"),
                    end=entity.first("endDate"),
                    source=f"{where} {entity.schema} {entity.id}",
                    note=note,
                )
            )


def add_curated(graph: OwnershipGraph, policy: Policy, rows: Iterable[Affiliate] | None = None) -> None:
    """Producers, subsidiaries, affiliates and brands of the section 889 producers."""
    rows = list(rows if rows is not None else load_affiliates())
    families = policy.curated_families(CURATED)
    by_name = {row.name: row for row in rows}
    for row in rows:
        node = graph.add_node(
            row.key,
            row.name,
            schema="Company" if row.relation != "brand" else None,
            curated=row.to_dict(),
            valid_from=row.start,
            valid_to=row.end,
        )
        if row.confirmed and families:
            node.listings.append(Listing(entity_id=row.key, source=f"curated:{CURATED}", families=families))
        for name in row.names():
            graph.add_name(row.key, name)
        # The same party on a list (the NS-CMIC Hikvision entry, a us-covered entry):
        # merge on its full legal names only, never on a brand word.
        if row.relation != "brand":
            for name in filter(None, (row.name, row.chinese_name)):
                for key in graph.find(name):
                    if key != graph.canonical(row.key) and not key.startswith("covered:"):
                        graph.merge(key, row.key)
    for row in rows:
        if row.relation == "producer":
            continue
        parent = by_name[row.parent].key if row.parent else f"covered:{row.producer}"
        relation = row.relation
        graph.add_edge(
            Edge(
                parent,
                row.key,
                relation,
                row.percent,
                start=row.start,
                end=row.end,
                source=f"{CURATED}.csv line {row.line}: {row.source}",
                note=None if row.confirmed else "unconfirmed: review",
            )
        )
