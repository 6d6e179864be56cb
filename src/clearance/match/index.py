"""The candidate index: everything about the list names prepared once.

Built from any iterable of ``(source, Entity)``; serialisable with pickle
(:func:`save` / :func:`load`).  Holds, per list name, its normalised tokens and
their weights, and, per token, the names that contain it (postings).  A query
token finds list tokens three ways:

* exactly;
* through a deletion neighbourhood (every token with one character deleted):
  one typo, insertion, deletion or transposition finds its token by hash
  lookups (the SymSpell idea);
* for longer tokens with two typos, by edit distance within the tokens that
  share the query token's first two letters.

Token weights are inverse document frequencies over all list names, so
"china" or "technology" weigh little and "hikvision" a lot; weak tokens
(legal forms, stopwords, particles) get a small fixed weight.
"""

from __future__ import annotations

import logging
import math
import os
import pickle
import time
from array import array
from bisect import bisect_left
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterable

from ..model import IDENTIFIER_PROPERTIES, Entity
from .normalize import analyze, normalize_identifier
from .resources import data_version, legal_forms, stopwords

log = logging.getLogger(__name__)

#: Bump when the index layout or normalisation changes (part of the cache key).
INDEX_VERSION = "10"

#: Weight of a weak token (legal form, stopword, particle).
WEAK_WEIGHT = 0.35
#: Smallest weight of a strong token.
MIN_WEIGHT = 1.0
#: Token rarity is computed as if the corpus had at least this many names, so a
#: small user list does not make every word "common" (weights stay comparable).
MIN_CORPUS = 20_000
#: Tokens in more names than this are *common*: not used alone to fetch candidates.
COMMON_DF = 150

#: name property -> (code, multiplier applied to its name score)
NAME_PROPS = {"name": (0, 1.0), "alias": (1, 1.0), "previousName": (2, 0.95), "weakAlias": (3, 0.85)}
PROP_NAMES = ("name", "alias", "previousName", "weakAlias")

#: Properties holding countries.
COUNTRY_PROPS = ("country", "nationality", "citizenship", "jurisdiction", "mainCountry", "birthCountry")


@lru_cache(maxsize=4096)
def country_code(value: str) -> str | None:
    """ISO-like territory code for a country name or code, or None."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        from rigour.territories import lookup_territory

        territory = lookup_territory(value)
    except Exception:  # pragma: no cover - rigour data problems
        territory = None
    if territory is not None:
        return territory.code
    return value.lower() if len(value) == 2 and value.isalpha() else None


@dataclass(slots=True)
class EntityInfo:
    """What a hit needs to report about its entity."""

    id: str
    source: str
    schema: str
    caption: str
    programs: tuple[str, ...]
    countries: frozenset[str]
    birth_dates: tuple[str, ...]

    def __reduce__(self):
        # pickled as a constructor call: a third of the time slots' default takes to load, and
        # the fields that many entities share (see ``_Shared``) are written once
        return EntityInfo, (self.id, self.source, self.schema, self.caption, self.programs, self.countries, self.birth_dates)


class _Shared(dict):
    """One object per distinct value (a source, schema, program tuple, country set ...), so
    pickle writes and loads each once."""

    def __call__(self, value):
        return self.setdefault(value, value)


class StringTable:
    """A read-only ``str -> tuple[int, ...]`` map that loads fast: its keys sorted and
    pickled as one string, its values as one array (as a dict, the index's 118,000
    deletion keys took a third of its load time).  Looked up by bisection."""

    __slots__ = ("_keys", "_starts", "_values")
    _SEP = "\x00"

    def __init__(self, mapping: dict[str, Iterable[int]] | None = None):
        keys = sorted(mapping or {})
        if any(self._SEP in k for k in keys):
            raise ValueError("StringTable keys must not contain NUL")
        self._keys = keys
        self._starts, self._values = array("i", [0]), array("i")
        for key in keys:
            self._values.extend(mapping[key])  # type: ignore[index]
            self._starts.append(len(self._values))

    def get(self, key: str, default: tuple = ()) -> tuple[int, ...]:
        keys = self._keys
        at = bisect_left(keys, key)
        if at < len(keys) and keys[at] == key:
            return tuple(self._values[self._starts[at] : self._starts[at + 1]])
        return default

    def __len__(self) -> int:
        return len(self._keys)

    def __getstate__(self):
        return self._SEP.join(self._keys), self._starts, self._values

    def __setstate__(self, state) -> None:
        joined, self._starts, self._values = state
        self._keys = joined.split(self._SEP) if joined else []


@lru_cache(maxsize=1)
def weak_tokens() -> frozenset[str]:
    """Tokens weighed as weak everywhere: legal forms, particles, titles and
    the commonest stopwords (others, like "des", get their rarity weight,
    which is low anyway, so "DES INTERNATIONAL" keeps its first word)."""
    always = {"the", "of", "and", "for"}
    return frozenset(legal_forms().values()) | frozenset(
        w for w, kind in stopwords().items() if kind != "stopword" or w in always
    )


class PairTable:
    """A read-only list of ``((int, float), ...)`` tuples that loads fast: three arrays
    (as 21,000 tuples of tuples, the list tokens' neighbours took a sixth of the
    index's load time); an item's tuple is made when asked for."""

    __slots__ = ("_starts", "_ids", "_values")

    def __init__(self, items: Iterable[Iterable[tuple[int, float]]] = ()):
        self._starts, self._ids, self._values = array("i", [0]), array("i"), array("d")
        for pairs in items:
            for key, value in pairs:
                self._ids.append(key)
                self._values.append(value)
            self._starts.append(len(self._ids))

    def __getitem__(self, at: int) -> tuple[tuple[int, float], ...]:
        lo, hi = self._starts[at], self._starts[at + 1]
        return tuple(zip(self._ids[lo:hi], self._values[lo:hi]))

    def __len__(self) -> int:
        return len(self._starts) - 1

    def __getstate__(self):
        return self._starts, self._ids, self._values

    def __setstate__(self, state) -> None:
        self._starts, self._ids, self._values = state


@dataclass
class MatchIndex:
    entities: list[EntityInfo] = field(default_factory=list)
    # per name row
    name_entity: array = field(default_factory=lambda: array("i"))
    name_prop: array = field(default_factory=lambda: array("b"))
    name_text: list[str] = field(default_factory=list)
    name_tokens: list[tuple[int, ...]] = field(default_factory=list)
    name_strs: list[tuple[str, ...]] = field(default_factory=list)
    name_keys: list[str] = field(default_factory=list)
    name_wts: list[tuple[float, ...]] = field(default_factory=list)
    name_weak: list[tuple[bool, ...]] = field(default_factory=list)
    name_total: array = field(default_factory=lambda: array("f"))
    # per token
    vocab: dict[str, int] = field(default_factory=dict)
    tokens: list[str] = field(default_factory=list)
    weight: array = field(default_factory=lambda: array("f"))
    postings: list[tuple[int, ...]] = field(default_factory=list)
    deletes: StringTable = field(default_factory=StringTable)
    buckets: dict[tuple[str, int], tuple[tuple[int, ...], tuple[str, ...]]] = field(default_factory=dict)
    solo: dict[int, tuple[int, ...]] = field(default_factory=dict)
    identifiers: dict[str, tuple[tuple[int, str], ...]] = field(default_factory=dict)
    #: per list token, the (token id, similarity) of the list tokens it may stand for as a
    #: query token (:func:`.candidates.token_matches`): computed once here, not per query
    neighbours: PairTable = field(default_factory=PairTable)
    unknown_weight: float = 8.0
    version: str = ""

    # -- building -----------------------------------------------------------

    @classmethod
    def build(cls, items: Iterable[tuple[str, Entity]]) -> "MatchIndex":
        from .candidates import _deletions, token_matches  # candidates imports this module

        index = cls(version=f"{INDEX_VERSION}-{data_version()}")
        token_ids: dict[str, int] = index.vocab
        tokens: list[str] = index.tokens
        postings: list[list[int]] = []
        rows: list[tuple[int, int, str, tuple[int, ...]]] = []
        identifiers: dict[str, list[tuple[int, str]]] = {}
        shared = _Shared()
        for source, entity in items:
            ent_no = len(index.entities)
            countries = frozenset(c for c in (country_code(v) for p in COUNTRY_PROPS for v in entity.get(p)) if c)
            index.entities.append(
                EntityInfo(
                    id=entity.id,
                    source=shared(source),
                    schema=shared(entity.schema),
                    caption=entity.caption,
                    programs=shared(tuple(entity.get("program"))),
                    countries=shared(countries),
                    birth_dates=shared(tuple(entity.get("birthDate"))),
                )
            )
            seen: set[tuple[str, ...]] = set()
            for prop, value in entity.names():
                code = NAME_PROPS.get(prop, (0, 1.0))[0]
                for form in analyze(value):
                    if form.tokens in seen:
                        continue
                    seen.add(form.tokens)
                    ids = []
                    for token in form.tokens:
                        tid = token_ids.get(token)
                        if tid is None:
                            tid = token_ids[token] = len(tokens)
                            tokens.append(token)
                            postings.append([])
                        ids.append(tid)
                    name_no = len(rows)
                    rows.append((ent_no, code, value, tuple(ids)))
                    for tid in set(ids):
                        postings[tid].append(name_no)
            for prop in IDENTIFIER_PROPERTIES:
                for value in entity.get(prop):
                    key = normalize_identifier(value)
                    if len(key) >= 4:
                        identifiers.setdefault(key, []).append((ent_no, prop))
        total_names = max(len(rows), MIN_CORPUS)
        weak = weak_tokens()
        index.unknown_weight = math.log((total_names + 1) / 0.5)
        weights = index.weight
        for tid, token in enumerate(tokens):
            if token in weak:
                weights.append(WEAK_WEIGHT)
            else:
                df = len(postings[tid])
                weights.append(max(MIN_WEIGHT, math.log((total_names + 1) / (df + 0.5))))
        for ent_no, code, value, ids in rows:
            index.name_entity.append(ent_no)
            index.name_prop.append(code)
            index.name_text.append(value)
            index.name_tokens.append(ids)
            wts = tuple(weights[t] for t in ids)
            index.name_strs.append(tuple(tokens[t] for t in ids))
            index.name_keys.append(" ".join(tokens[t] for t in ids))
            index.name_wts.append(wts)
            index.name_weak.append(tuple(w <= WEAK_WEIGHT for w in wts))
            index.name_total.append(sum(wts) or 1.0)
            strong = [t for t in ids if tokens[t] not in weak]
            if len(set(strong)) == 1 and len(postings[strong[0]]) > COMMON_DF:
                index.solo.setdefault(strong[0], []).append(len(index.name_text) - 1)  # type: ignore[union-attr]
        index.solo = {k: tuple(v) for k, v in index.solo.items()}
        index.postings = [tuple(p) for p in postings]
        deletes: dict[str, list[int]] = {}
        buckets: dict[tuple[str, int], list[int]] = {}
        for tid, token in enumerate(tokens):
            if len(token) >= 4:
                for d in set(_deletions(token)):
                    deletes.setdefault(d, []).append(tid)
            if len(token) >= 3:
                buckets.setdefault((token[0], len(token)), []).append(tid)
        index.deletes = StringTable(deletes)
        index.buckets = {k: (tuple(v), tuple(tokens[t] for t in v)) for k, v in buckets.items()}
        index.identifiers = {k: tuple(v) for k, v in identifiers.items()}
        index.neighbours = PairTable(token_matches(index, token) for token in tokens)
        index.__dict__.pop("_token_cache", None)  # those lookups are the neighbours now
        return index

    def __getstate__(self) -> dict:
        """Pickle without the caches that matching keeps in ``__dict__`` (``_token_cache`` ...)."""
        return {k: v for k, v in self.__dict__.items() if not k.startswith("_")}

    # -- facts ----------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.entities)

    @property
    def name_count(self) -> int:
        return len(self.name_text)

    def token_weight(self, token: str) -> float:
        tid = self.vocab.get(token)
        if tid is None:
            return WEAK_WEIGHT if token in weak_tokens() else self.unknown_weight
        return self.weight[tid]

    def token_weights(self, tokens: list[str]) -> list[float]:
        """:meth:`token_weight` of many tokens (a portfolio's vocabulary, most unknown to the lists) in one pass."""
        weight, weak, unknown = self.weight, weak_tokens(), self.unknown_weight
        return [
            weight[tid] if tid is not None else WEAK_WEIGHT if token in weak else unknown
            for token, tid in zip(tokens, map(self.vocab.get, tokens))
        ]


#: What a monitor run's change filter reads of an index (:func:`light`).
LIGHT = ("entities", "name_entity", "name_prop", "name_strs", "name_wts", "name_weak", "vocab", "weight", "identifiers", "unknown_weight", "version")


def light(index: MatchIndex) -> MatchIndex:
    """The parts of ``index`` a monitor run's change filter reads (names, their weights and
    entities, token weights, identifiers), the others empty: it cannot screen, and it loads in
    two fifths of the time (26 ms against 65 for the bundled lists)."""
    return MatchIndex(**{name: getattr(index, name) for name in LIGHT})


def light_path(path: Path) -> Path:
    """Where the light copy (:func:`light`) of the index cached at ``path`` is cached."""
    return path.with_name(f"{path.stem}.light{path.suffix}")


def save(index: MatchIndex, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f"{path.suffix}.{os.getpid()}.tmp")  # concurrent builders never share a temp file
    with tmp.open("wb") as handle:
        pickle.dump(index, handle, protocol=pickle.HIGHEST_PROTOCOL)
    tmp.replace(path)


def load(path: Path) -> MatchIndex | None:
    """The index pickled at ``path``, or None if missing, damaged or of another version."""
    try:
        with path.open("rb") as handle:
            index = pickle.load(handle)
    except Exception:
        return None
    if not isinstance(index, MatchIndex) or index.version != f"{INDEX_VERSION}-{data_version()}":
        return None
    return index


#: Dated indexes (``asof-index-*``) kept in the cache folder: a few dates in turn, not every date ever asked.
KEEP_DATED = 4
DATED_PATTERN = "asof-index-*.pkl"


def cached(path: Path, pairs: Callable[[], Iterable[tuple[str, Entity]]], prune: str | None = None, keep: int = KEEP_DATED) -> MatchIndex:
    """The index cached at ``path``, else one built from ``pairs()`` and cached there.

    With ``prune`` (a file pattern), only the ``keep`` newest files it matches stay
    beside ``path``.  A cache that cannot be written is not fatal.
    """
    index = load(path) if path.exists() else None
    if index is not None:
        return index
    started = time.perf_counter()
    index = MatchIndex.build(pairs())
    log.info("built a match index of %d names in %.1fs (%s)", index.name_count, time.perf_counter() - started, path.name)
    try:
        save(index, path)
        if prune is not None:
            same = sorted(path.parent.glob(prune), key=lambda p: p.stat().st_mtime, reverse=True)
            for old in same[keep:]:
                old.unlink(missing_ok=True)
    except OSError as exc:
        log.warning("could not cache the match index at %s: %s", path, exc)
    return index
