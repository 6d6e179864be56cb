"""Single-query screening: :class:`Screener`.

>>> from clearance.screen import Screener
>>> Screener().check(name="Hikvision")["status"]
'match'

A :class:`Screener` opens the default store lazily, the first time it needs
the index, and caches the index on disk (``store.cache_dir``) keyed by the
store's fingerprint, the index version and the curated data's digest, so a
list update or a new glossary rebuilds it and nothing else does.
"""

from __future__ import annotations

import logging
import re
import time
from pathlib import Path
from typing import Any, Iterable, Mapping

from ..errors import InputError
from ..match import index as index_mod
from ..match.index import INDEX_VERSION, MatchIndex
from ..match.matcher import Matcher, Thresholds
from ..match.normalize import analyze, normalize_identifier
from ..match.resources import data_version
from ..model import SCHEMATA, Entity
from ..sources.common import iso_date

log = logging.getLogger(__name__)

#: Schemata a query may name (``LegalEntity`` = a person or an organisation).
QUERY_SCHEMATA = tuple(sorted(set(SCHEMATA) | {"LegalEntity", "Organization", "Company", "Person", "Vessel", "Airplane"}))

Identifiers = Mapping[str, str] | Iterable[str] | Iterable[tuple[str | None, str]] | str | None


def parse_identifiers(identifiers: Identifiers) -> list[tuple[str | None, str]]:
    """``{"isin": "CNE..."}``, ``["isin:CNE..."]``, ``[("isin", "CNE...")]`` or a bare value."""
    if not identifiers:
        return []
    if isinstance(identifiers, str):
        identifiers = [identifiers]
    if isinstance(identifiers, Mapping):
        items = list(identifiers.items())
    else:
        items = []
        for item in identifiers:
            if isinstance(item, str):
                kind, sep, value = item.partition(":")
                if sep and kind.strip() and not value.strip():
                    continue  # "isin:" with no value
                items.append((kind.strip(), value.strip()) if sep and value.strip() else (None, item.strip()))
            else:
                kind, value = item
                items.append((kind, value))
    out = []
    for kind, value in items:
        value = "" if value is None else str(value).strip()
        if normalize_identifier(value):
            out.append(((str(kind).strip() or None) if kind else None, value))
    return out


def check_schema(schema: str | None) -> str | None:
    if schema is None or schema == "":
        return None
    for known in QUERY_SCHEMATA:
        if schema.lower() == known.lower():
            return known
    raise InputError(f"schema {schema!r} is not one of {', '.join(QUERY_SCHEMATA)}")


_YEAR = re.compile(r"(?<!\d)(1[89]\d\d|20\d\d)(?!\d)")


def birth_date_of(value: Any) -> str | None:
    """A date of birth as ISO text (a day, a month or a year), or None.

    Reads what :func:`~clearance.sources.common.iso_date` reads (ISO, US, "17 Apr 1939"),
    else the one four-digit year in it ("17.04.1939", "c. 1939"); an unreadable date is no
    evidence rather than an error, so the name is still screened.
    """
    text = "" if value is None else str(value).strip()
    if not text:
        return None
    found = iso_date(text)
    if found is not None:
        return found
    years = set(_YEAR.findall(text))
    return years.pop() if len(years) == 1 else None


class Screener:
    """Screen names and identifiers against the active lists."""

    def __init__(
        self,
        store: Any = None,
        sources: list[str] | None = None,
        thresholds: Thresholds | Mapping[str, float] | None = None,
        *,
        index: MatchIndex | None = None,
        max_hits: int = 10,
    ):
        if isinstance(thresholds, Mapping):
            thresholds = Thresholds(**thresholds)
        self.thresholds = thresholds or Thresholds()
        self.sources = list(sources) if sources else None
        self.max_hits = max_hits
        self._store = store
        self._index = index
        self._matcher: Matcher | None = None

    @classmethod
    def from_entities(
        cls,
        items: Iterable[tuple[str, Entity] | Entity],
        thresholds: Thresholds | Mapping[str, float] | None = None,
        sources: list[str] | None = None,
        max_hits: int = 10,
    ) -> "Screener":
        """A screener over given entities (``(source, Entity)`` pairs or bare entities, source "user")."""
        pairs = ((item if isinstance(item, tuple) else ("user", item)) for item in items)
        return cls(index=MatchIndex.build(pairs), thresholds=thresholds, sources=sources, max_hits=max_hits)

    # -- the index ----------------------------------------------------------------

    @property
    def store(self):
        if self._store is None:
            from ..store import open_store

            self._store = open_store()
        return self._store

    @property
    def index(self) -> MatchIndex:
        if self._index is None:
            self._index = load_or_build(self.store)
        return self._index

    @property
    def matcher(self) -> Matcher:
        if self._matcher is None:
            self._matcher = Matcher(self.index, self.thresholds, self.max_hits)
        return self._matcher

    # -- screening ----------------------------------------------------------------

    def check(
        self,
        name: str | None = None,
        *,
        country: str | Iterable[str] | None = None,
        schema: str | None = None,
        birth_date: str | None = None,
        identifiers: Identifiers = None,
        sources: list[str] | None = None,
        row: int = 0,
        input: Mapping[str, Any] | None = None,
    ) -> dict:
        """One screening-result record (see GUIDE.md section 5); never raises for bad data."""
        ids = parse_identifiers(identifiers)
        countries = [country] if isinstance(country, str) else [c for c in (country or []) if c]
        record_input = dict(input) if input is not None else _input(name, countries, schema, birth_date, ids)
        record: dict[str, Any] = {"row": row, "input": record_input}
        try:
            schema = check_schema(schema)
        except InputError as exc:
            return {**record, "status": "error", "error": str(exc), "hits": []}
        name = None if name is None else str(name)
        usable_name = bool(name and analyze(name))
        if not usable_name and not ids:
            reason = "no name or identifier given" if not (name or "").strip() else "name has nothing to match on after normalisation, and no identifier was given"
            return {**record, "status": "error", "error": reason, "hits": []}
        wanted = sources or self.sources
        hits = self.matcher.match(
            name if usable_name else None,
            schema=schema,
            countries=countries,
            birth_date=birth_date_of(birth_date),
            identifiers=ids,
            sources=set(wanted) if wanted else None,
        )
        status = hits[0]["status"] if hits else "clear"
        return {**record, "status": status, "hits": hits}


def _input(name, countries, schema, birth_date, ids) -> dict:
    out: dict[str, Any] = {}
    if name is not None:
        out["name"] = name
    if countries:
        out["country"] = countries[0] if len(countries) == 1 else countries
    if schema:
        out["schema"] = schema
    if birth_date:
        out["birth_date"] = birth_date
    if ids:
        out["identifiers"] = [f"{k}:{v}" if k else v for k, v in ids]
    return out


def cache_path(store) -> Path:
    return Path(store.cache_dir) / f"match-index-{store.fingerprint()}-v{INDEX_VERSION}-{data_version()}.pkl"


#: The last index loaded or built in this process: (cache path, file mtime_ns, file size) -> index.
#: One entry, so a process that moves between stores or snapshots holds one index at a time.
_LOADED: dict[tuple[str, int, int], MatchIndex] = {}


def _file_key(path: Path) -> tuple[str, int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (str(path), st.st_mtime_ns, st.st_size)


def loaded_index(path: Path) -> MatchIndex | None:
    """The index cached at ``path`` if this process already loaded it (and the file has not changed since)."""
    key = _file_key(path)
    return _LOADED.get(key) if key is not None else None


def remember_index(path: Path, index: MatchIndex) -> None:
    """Keep ``index`` (loaded from or saved to ``path``) for later calls in this process."""
    key = _file_key(path)
    _LOADED.clear()
    if key is not None:
        _LOADED[key] = index


def load_or_build(store) -> MatchIndex:
    """The cached index for the store's active snapshots, built and saved if missing.

    An index loaded once is kept in memory (keyed by its cache file's path,
    modification time and size), so later calls in the same process do not
    read it again; the path names the store's fingerprint, so a list update
    or a new glossary still loads or builds another."""
    path = cache_path(store)
    index = loaded_index(path)
    if index is not None:
        return index
    index = index_mod.load(path) if path.exists() else None
    if index is not None:
        remember_index(path, index)
        if not index_mod.light_path(path).exists():  # cached by a version without light copies
            save_light(index, path)
        return index
    started = time.perf_counter()
    index = MatchIndex.build(store.active_entities())
    log.info("built match index of %d names in %.1fs", index.name_count, time.perf_counter() - started)
    try:
        index_mod.save(index, path)
        save_light(index, path)
        for stale in path.parent.glob("match-index-*.pkl"):
            if stale not in (path, index_mod.light_path(path)):
                stale.unlink(missing_ok=True)
        remember_index(path, index)
    except OSError as exc:  # a read-only cache dir is not fatal
        log.warning("could not cache the match index at %s: %s", path, exc)
    return index


def save_light(index: MatchIndex, path: Path) -> None:
    """Cache the index's light copy (:func:`.index.light`, read by monitor runs) beside it."""
    try:
        index_mod.save(index_mod.light(index), index_mod.light_path(path))
    except OSError as exc:  # a read-only cache dir is not fatal
        log.warning("could not cache the light match index beside %s: %s", path, exc)
