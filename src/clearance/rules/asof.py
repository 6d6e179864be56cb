"""Screening as of a date: which list versions count, and a screener over them.

The policy (documented in ``docs/rules.md``):

* no date: the **active** snapshots, as the store serves them today;
* a date: per source, the **latest capture on or before the date** (a
  capture's date is its publisher date, else its capture month, counted from
  the first of the month);
* no capture on or before the date: the **earliest capture**, counting only
  entries whose own listing/start date is on or before the date; entries
  without a date are reported as "listing date unknown" (``review``), never
  silently counted (:attr:`Choice.dates_required`);
* whatever the capture, each entry's own dates (listing, start, end, NS-CMIC
  effective and divestment dates) decide whether it applied on the date -
  that is :func:`clearance.rules.determine`'s listing gate.

The curated ``us-covered`` list is read from ``data/curated/us-covered/``
when the store does not hold it yet (mode ``bundled``), so the section 889
and FCC rules work on a store initialised before the list was registered.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Iterable, Mapping

from sqlalchemy import select

from ..data import data_dir
from ..errors import InputError
from ..model import Entity

COVERED = "us-covered"


@dataclass(frozen=True)
class Choice:
    """The version of one source that counts on the date, and why."""

    source: str
    mode: str  # active | on-or-before | earliest-after | bundled
    snapshot: Any = None  # store Snapshot, None for a bundled file
    list_date: str | None = None  # publisher date, else capture month
    path: str | None = None  # bundled file
    as_of: str | None = None

    @property
    def dates_required(self) -> bool:
        """True when the capture postdates the date: undated entries are 'listing date unknown'."""
        if self.mode == "earliest-after":
            return True
        if self.mode == "bundled" and self.as_of and self.list_date:
            return self.list_date[:10] > self.as_of
        return False

    @property
    def label(self) -> str:
        return f"{self.source} {self.list_date or '(undated)'}"

    def note(self) -> str:
        version = f" version {self.snapshot.version}" if self.snapshot is not None else ""
        if self.mode == "active":
            return f"{self.source}{version} ({self.list_date}), the active snapshot"
        if self.mode == "on-or-before":
            return f"{self.source}{version} ({self.list_date}), the latest capture on or before {self.as_of}"
        if self.mode == "earliest-after":
            return (
                f"{self.source}{version} ({self.list_date}): no capture on or before {self.as_of}, so the earliest "
                f"capture counts, with only entries listed on or before {self.as_of}; entries without a listing "
                f"date are reported as 'listing date unknown'"
            )
        after = " (after the date: only entries listed by then count)" if self.dates_required else ""
        return f"{self.source} ({self.list_date}) read from the bundled curated file, not yet in the store{after}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "mode": self.mode,
            "version": self.snapshot.version if self.snapshot is not None else None,
            "captured": self.snapshot.captured if self.snapshot is not None else self.list_date,
            "published": self.snapshot.published if self.snapshot is not None else None,
            "dates_required": self.dates_required,
            "note": self.note(),
        }


def _list_date(snapshot: Any) -> str:
    return (snapshot.published or snapshot.captured or "")[:10]


def choose(store: Any, as_of: date | None, sources: Iterable[str] | None = None) -> list[Choice]:
    """The version of every source (or of ``sources``) that counts on ``as_of``."""
    wanted = set(sources) if sources else None
    on = as_of.isoformat() if as_of else None
    if on is None:
        chosen = [Choice(s.source, "active", s, _list_date(s)) for s in store.active_snapshots(wanted)]
    else:
        known = [s for s in store.sources() if wanted is None or s in wanted]
        missing = sorted((wanted or set()) - set(known) - {COVERED})
        if missing:
            raise InputError(f"no list named {', '.join(missing)}; known sources: {', '.join(store.sources()) or 'none'}")
        before = {s.source: s for s in store.snapshots_as_of(on, known)}
        chosen = []
        for source in known:
            if source in before:
                chosen.append(Choice(source, "on-or-before", before[source], _list_date(before[source]), as_of=on))
                continue
            history = store.history(source)
            earliest = min(history, key=lambda s: (_list_date(s) or "9999", s.version))
            chosen.append(Choice(source, "earliest-after", earliest, _list_date(earliest), as_of=on))
    have = {c.source for c in chosen}
    if COVERED not in have and COVERED not in store.sources() and (wanted is None or COVERED in wanted):
        found = bundled_covered()
        if found is not None:
            label, folder = found
            chosen.append(Choice(COVERED, "bundled", None, label, str(folder), as_of=on))
    return sorted(chosen, key=lambda c: c.source)


def bundled_covered() -> tuple[str, Path] | None:
    """(date label, folder) of the bundled curated covered list, if any."""
    root = data_dir() / "curated" / COVERED
    if not root.is_dir():
        return None
    found = []
    for folder in root.iterdir():
        match = re.search(r"(\d{4}-\d{2}(?:-\d{2})?)$", folder.name)
        if folder.is_dir() and match and (folder / "covered.yaml").is_file():
            found.append((match.group(1), folder.name == match.group(1), folder))
    if not found:
        return None
    label, _, folder = max(found, key=lambda f: (f[0], f[1]))
    from ..sources import covered

    published = covered.published(folder)
    return (published or label), folder


def _bundled_entities(choice: Choice) -> list[Entity]:
    from ..sources import covered

    return list(covered.parse(Path(choice.path or ""), COVERED))


class DatedScreener:
    """A :class:`~clearance.screen.Screener` over the list versions that count on a date.

    Uses the store's cached active index when the versions are the active
    ones; otherwise builds (once, cached in ``store.cache_dir``) an index over
    the chosen snapshots.  :meth:`lookup` returns a hit's entity as it stood in
    the chosen version, with the :class:`Choice` it came from.
    """

    def __init__(
        self,
        store: Any,
        as_of: date | None = None,
        *,
        thresholds: Any = None,
        max_hits: int = 10,
        sources: list[str] | None = None,
        listed_only: bool = False,
    ):
        from ..screen import Screener

        self.store = store
        self.as_of = as_of
        self.choices = choose(store, as_of, sources)
        #: Leave out entries of captures made after the date whose own listing date is after it
        #: too (a screen with no rules to say "not yet listed"); entries without one stay.
        self.filtered = listed_only and any(c.dates_required for c in self.choices)
        self.by_source = {c.source: c for c in self.choices}
        self._bundled: dict[str, Entity] = {}
        for choice in self.choices:
            if choice.mode == "bundled":
                self._bundled.update({e.id: e for e in _bundled_entities(choice)})
        chosen_ids = {c.snapshot.id for c in self.choices if c.snapshot is not None}
        active_ids = {s.id for s in store.active_snapshots()}
        if not self._bundled and chosen_ids == active_ids and not self.filtered:
            index = _remember(f"active:{store.url}:{store.fingerprint()}", lambda: _active_index(store))
        else:
            index = _remember(f"dated:{store.url}:{self._key()}", self._index)
        self.screener = Screener(index=index, thresholds=thresholds, max_hits=max_hits, sources=sources)

    # -- the index ------------------------------------------------------------------

    def _key(self) -> str:
        from ..match.index import INDEX_VERSION
        from ..match.resources import data_version

        parts = [f"{c.source}:{c.snapshot.id}:{c.snapshot.content_hash}" for c in self.choices if c.snapshot is not None]
        parts.extend(f"{c.source}:bundled:{_file_digest(Path(c.path or '') / 'covered.yaml')}" for c in self.choices if c.mode == "bundled")
        parts.extend([INDEX_VERSION, data_version()])
        if self.filtered:  # else the same index as check's
            parts.append(f"listed-by:{self.as_of}")
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:24]

    def _index(self):
        from ..match import index as index_mod

        path = Path(self.store.cache_dir) / f"asof-index-{self._key()}.pkl"
        return index_mod.cached(path, self._pairs, prune=index_mod.DATED_PATTERN)

    def _pairs(self) -> Iterable[tuple[str, Entity]]:
        for choice in self.choices:
            if choice.snapshot is not None:
                for entity in self.store.entities(choice.snapshot):
                    if self._counts(choice, entity):
                        yield choice.source, entity
        for entity in self._bundled.values():
            if self._counts(self.by_source[COVERED], entity):
                yield COVERED, entity

    def _counts(self, choice: Choice, entity: Entity) -> bool:
        if not (self.filtered and choice.dates_required):
            return True
        from .engine import listed_on

        listed = listed_on(entity)
        return listed is None or listed <= self.as_of

    # -- screening --------------------------------------------------------------------

    def check(self, name: str | None = None, **kwargs: Any) -> dict:
        return self.screener.check(name, **kwargs)

    def lookup(self, hit: Mapping[str, Any]) -> tuple[str, Entity, Choice | None]:
        """The entity behind a hit, as it stood in the version that counts."""
        source, entity_id = hit["source"], hit["entity_id"]
        choice = self.by_source.get(source)
        if choice is not None and choice.mode == "bundled":
            return source, self._bundled[entity_id], choice
        if choice is not None and choice.snapshot is not None:
            entity = snapshot_entity(self.store, choice.snapshot, entity_id)
            if entity is not None:
                return source, entity, choice
        found = self.store.entity(entity_id, [source])
        if found is None:
            raise InputError(f"entity {entity_id!r} of {source} is not in the store")
        return found[0], found[1], choice


#: Indexes already loaded in this process, most recent last (a batch of assessments loads each once).
_LOADED: "OrderedDict[str, Any]" = OrderedDict()
KEEP_LOADED = 3


def _remember(key: str, load: Any) -> Any:
    if key in _LOADED:
        _LOADED.move_to_end(key)
        return _LOADED[key]
    index = load()
    _LOADED[key] = index
    while len(_LOADED) > KEEP_LOADED:
        _LOADED.popitem(last=False)
    return index


def _active_index(store: Any) -> Any:
    from ..screen.check import load_or_build

    return load_or_build(store)


def snapshot_entity(store: Any, snapshot: Any, entity_id: str) -> Entity | None:
    """One entity of one snapshot, by id (read-only query on the store's tables)."""
    from ..store import schema as t

    query = (
        select(t.entity_data.c.data)
        .join(t.snapshot_entities, t.snapshot_entities.c.hash == t.entity_data.c.hash)
        .where(t.snapshot_entities.c.snapshot_id == snapshot.id, t.snapshot_entities.c.entity_id == entity_id)
    )
    with store.engine.connect() as conn:
        row = conn.execute(query).first()
    return Entity.from_dict(json.loads(row[0])) if row else None


def _file_digest(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    except OSError:
        return "missing"


class StaticScreener:
    """A screener over given ``(source, Entity)`` pairs, with the same
    :meth:`check` / :meth:`lookup` as :class:`DatedScreener` (for tests and
    callers that hold their entities in memory).  ``dated`` names sources whose
    entries count as captured after the date (``dates_required``)."""

    def __init__(self, pairs: Iterable[tuple[str, Entity]], *, thresholds: Any = None, max_hits: int = 10, dated: Iterable[str] = ()):
        from ..screen import Screener

        self.pairs = list(pairs)
        self.entities = {(s, e.id): e for s, e in self.pairs}
        self.dated = set(dated)
        self.choices: list[Choice] = []
        self.screener = Screener.from_entities(self.pairs, thresholds=thresholds, max_hits=max_hits)

    def check(self, name: str | None = None, **kwargs: Any) -> dict:
        return self.screener.check(name, **kwargs)

    def lookup(self, hit: Mapping[str, Any]) -> tuple[str, Entity, Choice | None]:
        source = hit["source"]
        choice = Choice(source, "earliest-after", None, "test capture", as_of="0000") if source in self.dated else None
        return source, self.entities[(source, hit["entity_id"])], choice
