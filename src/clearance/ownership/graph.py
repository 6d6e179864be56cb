"""The ownership graph: parties (nodes) and relations (edges), each with provenance.

A node stands for one party. List entries are nodes keyed by their entity id;
the same party found again (the CSL's copy of an SDN entry, a curated
producer that is also an NS-CMIC entry) is *merged* into one node, which then
carries every listing. Parties known only by a name (an unresolved "Linked To"
value, an unlisted subsidiary in a user file) are nodes keyed ``name:<key>``.

An edge points from the holder to the held: ``owner -> owned``. Only
``ownership`` and ``subsidiary`` edges with a known percentage count toward
aggregate shares; every other relation (``linked``, ``issuer``, ``control``,
``directorship``, ``brand``, ``affiliate`` ...) is shown, never counted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Iterable, Iterator

from ..match.normalize import analyze, clean

#: Relations whose percentage counts toward aggregate ownership.
COUNTED = frozenset({"ownership", "subsidiary"})
#: Every relation the graph knows; the rest of these are shown, not counted.
RELATIONS = frozenset(
    COUNTED
    | {"brand", "affiliate", "control", "directorship", "linked", "issuer", "family", "associate", "membership", "unknown"}
)


@lru_cache(maxsize=65536)
def name_key(text: str) -> str:
    """The form two names must share to be "the same name" (case, punctuation,
    legal-form spelling and script differences removed)."""
    forms = analyze(text)
    if forms:
        return forms[0].key
    return " ".join(clean(text).split())


@dataclass(slots=True)
class Listing:
    """One list entry a node stands for."""

    entity_id: str
    source: str
    families: tuple[str, ...] = ()
    list_name: str | None = None
    programs: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        out = {"entity_id": self.entity_id, "source": self.source, "families": list(self.families)}
        if self.list_name:
            out["list"] = self.list_name
        if self.programs:
            out["programs"] = list(self.programs)
        return out


@dataclass(slots=True)
class Node:
    key: str
    name: str
    schema: str | None = None
    listings: list[Listing] = field(default_factory=list)
    #: ``placeholder`` nodes are parties known only by a name (not a list entry, not curated).
    placeholder: bool = False
    #: Curated fact behind the node (covered-affiliates row), if any.
    curated: dict | None = None
    #: Dates between which the node's curated listing holds (list entries: always).
    valid_from: str | None = None
    valid_to: str | None = None
    names: list[str] = field(default_factory=list)

    @property
    def families(self) -> set[str]:
        return {f for listing in self.listings for f in listing.families}

    def listed_on(self, date: str | None) -> set[str]:
        """Families the node is listed in on ``date`` (curated validity applied)."""
        if date and ((self.valid_from and date < self.valid_from) or (self.valid_to and date > self.valid_to)):
            return set()
        return self.families

    def to_dict(self) -> dict:
        out: dict = {"key": self.key, "name": self.name}
        if self.schema:
            out["schema"] = self.schema
        if self.listings:
            out["listed"] = [listing.to_dict() for listing in self.listings]
        if self.curated:
            out["curated"] = self.curated
        return out


@dataclass(frozen=True, slots=True)
class Edge:
    owner: str
    owned: str
    relation: str
    percent: float | None = None  # 0-100
    start: str | None = None
    end: str | None = None
    #: Where the statement comes from: "<source> <entity id> <property>", "ftm <id>", "user <file>:<line>" ...
    source: str = ""
    note: str | None = None

    @property
    def counted(self) -> bool:
        return self.relation in COUNTED and self.percent is not None

    def valid_on(self, date: str | None) -> bool:
        if not date:
            return True
        if self.start and date < self.start[: len(date)]:
            return False
        if self.end and date > self.end:
            return False
        return True


class OwnershipGraph:
    """Nodes, edges and a name index; merges keep one node per party."""

    def __init__(self) -> None:
        self.nodes: dict[str, Node] = {}
        self.edges: list[Edge] = []
        self._alias: dict[str, str] = {}
        self._names: dict[str, set[str]] = {}

    # -- nodes ------------------------------------------------------------------

    def canonical(self, key: str) -> str:
        seen = []
        while key in self._alias:
            seen.append(key)
            key = self._alias[key]
        for item in seen[:-1]:  # path compression
            self._alias[item] = key
        return key

    def node(self, key: str) -> Node | None:
        return self.nodes.get(self.canonical(key))

    def add_node(self, key: str, name: str, **attrs) -> Node:
        key = self.canonical(key)
        node = self.nodes.get(key)
        if node is None:
            node = Node(key=key, name=name, **attrs)
            self.nodes[key] = node
        else:
            for attr, value in attrs.items():
                if value and not getattr(node, attr):
                    setattr(node, attr, value)
        self.add_name(key, name)
        return node

    def add_name(self, key: str, name: str | None) -> None:
        if not name or not name.strip():
            return
        key = self.canonical(key)
        node = self.nodes[key]
        if name not in node.names:
            node.names.append(name)
        self._names.setdefault(name_key(name), set()).add(key)

    def placeholder(self, name: str) -> str:
        """The node for a party known only by ``name`` (created when missing)."""
        key = "name:" + name_key(name)
        if self.canonical(key) not in self.nodes:
            self.add_node(key, name, placeholder=True)
        return self.canonical(key)

    def merge(self, key: str, into: str) -> None:
        """Make ``key`` the same party as ``into`` (listings and names move)."""
        key, into = self.canonical(key), self.canonical(into)
        if key == into:
            return
        gone = self.nodes.pop(key)
        target = self.nodes[into]
        target.listings.extend(gone.listings)
        target.placeholder = target.placeholder and gone.placeholder
        target.schema = target.schema or gone.schema
        for name in gone.names:
            if name not in target.names:
                target.names.append(name)
        self._alias[key] = into  # the name index is read through canonical()

    def find(self, name: str, placeholders: bool = False) -> list[str]:
        """Keys of the nodes known by exactly this (normalised) name."""
        keys = {self.canonical(k) for k in self._names.get(name_key(name), ())}
        return sorted(k for k in keys if k in self.nodes and (placeholders or not self.nodes[k].placeholder))

    # -- edges ------------------------------------------------------------------

    def add_edge(self, edge: Edge) -> None:
        if edge.relation not in RELATIONS:
            raise ValueError(f"unknown relation {edge.relation!r}")
        self.edges.append(edge)

    def resolved_edges(self, date: str | None = None) -> Iterator[Edge]:
        """Edges with canonical endpoints, valid on ``date``, self-loops dropped."""
        for edge in self.edges:
            if not edge.valid_on(date):
                continue
            owner, owned = self.canonical(edge.owner), self.canonical(edge.owned)
            if owner == owned:
                continue
            if owner != edge.owner or owned != edge.owned:
                edge = Edge(owner, owned, edge.relation, edge.percent, edge.start, edge.end, edge.source, edge.note)
            yield edge

    def extend(self, edges: Iterable[Edge]) -> None:
        for edge in edges:
            self.add_edge(edge)

    def __len__(self) -> int:
        return len(self.edges)

    def summary(self) -> dict:
        relations: dict[str, int] = {}
        for edge in self.edges:
            relations[edge.relation] = relations.get(edge.relation, 0) + 1
        return {"nodes": len(self.nodes), "edges": len(self.edges), "relations": relations}
