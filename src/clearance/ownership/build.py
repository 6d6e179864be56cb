"""Putting an engine together from the store, stored ownership sets and files.

The graph of list-stated relations depends only on the snapshots in use, the
rules file and the curated data; it is cached on disk (``store.cache_dir``)
under a key made of all three, like the match index.
"""

from __future__ import annotations

import hashlib
import logging
import pickle
from pathlib import Path
from typing import Iterable

from ..errors import InputError
from .brands import curated_digest
from .engine import OwnershipEngine
from .extract import EXTRACT_VERSION, build_list_graph
from .graph import Edge, OwnershipGraph
from .policy import Policy, load_policy
from .resolve import Resolution, Resolver
from .usercsv import edges_from_rows, file_digest, read_rows

log = logging.getLogger(__name__)


def _snapshots(store, as_of: str | None):
    return store.snapshots_as_of(as_of) if as_of else store.active_snapshots()


def list_graph(store, policy: Policy, as_of: str | None = None, cache: bool = True) -> OwnershipGraph:
    """The graph of relations the lists state (cached per snapshot set)."""
    snapshots = _snapshots(store, as_of)
    ident = "\n".join(f"{s.source}:{s.id}:{s.content_hash}" for s in snapshots)
    ident += f"\n{EXTRACT_VERSION}:{policy.digest}:{curated_digest()}"
    digest = hashlib.sha256(ident.encode()).hexdigest()[:24]
    path = Path(store.cache_dir) / f"ownership-graph-{digest}.pkl" if cache else None
    if path is not None and path.exists():
        try:
            with path.open("rb") as fh:
                graph = pickle.load(fh)
            if isinstance(graph, OwnershipGraph):
                return graph
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
            log.warning("ignoring an unreadable ownership graph cache at %s", path)
    labels = {s.source: f"{s.source} v{s.version} ({s.published or s.captured or 'undated'})" for s in snapshots}
    items = ((s.source, entity) for s in snapshots for entity in store.entities(s))
    graph = build_list_graph(items, policy, labels)
    if path is not None:
        try:
            tmp = path.with_suffix(".tmp")
            with tmp.open("wb") as fh:
                pickle.dump(graph, fh, protocol=pickle.HIGHEST_PROTOCOL)
            tmp.replace(path)
            for stale in path.parent.glob("ownership-graph-*.pkl"):
                if stale != path and not as_of:
                    stale.unlink(missing_ok=True)
        except OSError as exc:  # a read-only cache is not fatal
            log.warning("could not cache the ownership graph at %s: %s", path, exc)
    return graph


def add_stored_sets(store, graph: OwnershipGraph) -> list[str]:
    """Edges of every ownership set imported into the store; returns the set names."""
    from ..store.ownership import list_sets, set_edges

    names = []
    for found in list_sets(store.engine):
        names.append(found.name)
        for row in set_edges(store.engine, found.id):
            keys = []
            for name_col, key_col in (("owner", "owner_key"), ("owned", "owned_key")):
                key = row[key_col]
                if graph.canonical(key) not in graph.nodes:
                    key = graph.placeholder(row[name_col])
                keys.append(key)
            note = None if row["percent"] is not None or row["relation"] != "ownership" else "no percentage: shown, not counted"
            source = f"set {found.name} ({found.file}):{row['line']}" + (f" ({row['source']})" if row["source"] else "")
            graph.add_edge(Edge(keys[0], keys[1], row["relation"], row["percent"], start=row["date"], source=source, note=note))
    return names


def read_file(path: str | Path, resolver: Resolver, label: str | None = None) -> tuple[list[Edge], list[Resolution], list[dict]]:
    path = Path(path)
    rows = read_rows(path)
    return edges_from_rows(rows, resolver, label or path.name)


def build_engine(
    store=None,
    *,
    as_of: str | None = None,
    files: Iterable[str | Path] = (),
    stored: bool = True,
    policy: Policy | None = None,
    screener=None,
    cache: bool = True,
) -> OwnershipEngine:
    """An engine over the lists (active, or as of a date), the stored ownership
    sets and any ownership files given.

    ``screener`` resolves names in files fuzzily; by default one over the same
    store is opened when a name needs it.
    """
    if store is None:
        from ..store import open_store

        store = open_store()
    if as_of is not None:
        from ..rules.types import as_date

        as_of = as_date(as_of).isoformat()  # an impossible date is an InputError, not a silent misreading
    policy = policy or load_policy()
    graph = list_graph(store, policy, as_of, cache=cache)
    if stored:
        add_stored_sets(store, graph)
    if screener is None:

        def screener():
            from ..screen import Screener

            return Screener(store=store)

    resolver = Resolver(graph, screener)
    resolutions: list[Resolution] = []
    for path in files:
        edges, found, _ = read_file(path, resolver)
        graph.extend(edges)
        resolutions.extend(found)
    return OwnershipEngine(graph, policy, as_of, resolver=resolver, resolutions=resolutions)


def import_ownership(store, path: str | Path, name: str | None = None, screener=None, policy: Policy | None = None):
    """Resolve a user ownership file against the active lists and store it as set ``name``.

    Returns ``(OwnershipSet, resolutions)``; nothing is written if the file is bad.
    """
    from ..store.ownership import save_set

    path = Path(path)
    policy = policy or load_policy()
    graph = list_graph(store, policy)
    if screener is None:

        def screener():
            from ..screen import Screener

            return Screener(store=store)

    resolver = Resolver(graph, screener)
    _, resolutions, rows = read_file(path, resolver)
    name = name or path.stem
    if not name.strip():
        raise InputError("--name: an ownership set needs a name")
    report = [r.to_dict() for r in resolutions if r.status != "id"]
    saved = save_set(store.engine, name, str(path), file_digest(path), rows, report)
    return saved, resolutions


_ENGINES: dict[tuple, OwnershipEngine] = {}


def cached_engine(store, as_of: str | None = None) -> OwnershipEngine:
    """An engine over the store's lists and stored ownership sets, reused while
    neither changes (for servers: one build, many lookups)."""
    from ..store.ownership import list_sets

    key = (store.url, store.fingerprint(), as_of, tuple((s.name, s.imported_at) for s in list_sets(store.engine)))
    engine = _ENGINES.get(key)
    if engine is None:
        _ENGINES.clear()
        engine = _ENGINES[key] = build_engine(store, as_of=as_of)
    return engine


def exposure(store, query: str, as_of: str | None = None, max_paths: int = 20) -> dict:
    """The exposure record of one entity (name or id), with its paths drawn as ``svg``.

    For the web UI and reports: ``exposure(store, "us-ofac-nonsdn-30946")``.
    """
    from .render import path_svg

    record = cached_engine(store, as_of).exposure(query, max_paths=max_paths)
    record["svg"] = path_svg(record["paths"], title=f"Ownership of {record['entity']['name']}")
    return record
