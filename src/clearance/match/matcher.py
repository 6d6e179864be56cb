"""The matching pipeline over one :class:`~.index.MatchIndex`:
normalise the query -> candidates -> score -> decide -> explain."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from .candidates import candidates
from .explain import NameFacts, explanation, name_facts
from .index import NAME_PROPS, PROP_NAMES, EntityInfo, MatchIndex, country_code
from .normalize import NameForm, analyze, normalize_identifier
from .score import compare, country_evidence, decimal_round, dob_evidence, schema_compatible

#: Score that an exact identifier match (ISIN, USCC, IMO, passport ...) lifts a hit to.
IDENTIFIER_SCORE = 0.98
#: Candidates scored in full per query reading, and the rough score (see
#: :func:`.candidates.candidates`) a candidate needs to be scored in full.
CANDIDATES = 12
ROUGH_MIN = 0.4
#: Candidates whose rough score is below this share too little of the query
#: to reach the review threshold (score <= query coverage <~ rough / 0.55): not scored.
NOT_WORTH = 0.3
#: Names of one entity scored per query reading (its best by rough score).
PER_ENTITY = 2
#: Names whose name-level results a matcher keeps (cleared when full).
NAME_CACHE = 20_000
#: Most that country and birth-date evidence can add: name scores further
#: below the review threshold than this are not worth deciding.
MAX_BONUS = 0.08


@dataclass(frozen=True)
class Thresholds:
    """``match`` at or above ``match``; ``review`` at or above ``review``; else clear."""

    match: float = 0.86
    review: float = 0.70

    def __post_init__(self) -> None:
        if not (0.0 <= self.review <= self.match <= 1.0):
            raise ValueError(f"thresholds must satisfy 0 <= review <= match <= 1, got review={self.review}, match={self.match}")

    def status(self, score: float) -> str:
        if score >= self.match:
            return "match"
        if score >= self.review:
            return "review"
        return "clear"


def _query_weights(index: MatchIndex, tokens: tuple[str, ...]) -> list[float]:
    """``index.token_weight`` of each token, with the vocabulary look-up inlined (a query
    name's tokens are mostly listed ones)."""
    vocab = index.vocab
    weight = index.weight
    weights = []
    for token in tokens:
        tid = vocab.get(token)
        weights.append(weight[tid] if tid is not None else index.token_weight(token))
    return weights


def _best_names(index: MatchIndex, forms: tuple[NameForm, ...], sources: set[str] | None, schema: str | None) -> dict[int, tuple[float, int, NameForm, list[float]]]:
    """Entity number -> (name score, name id, query form, its token weights) of its best-scoring name."""
    entities = index.entities
    name_entity = index.name_entity
    name_prop = index.name_prop
    name_strs = index.name_strs
    name_wts = index.name_wts
    name_weak = index.name_weak
    best: dict[int, tuple[float, int, NameForm, list[float]]] = {}
    for form in forms:
        tried: dict[int, int] = {}
        q_tokens = form.tokens
        q_weights = _query_weights(index, q_tokens)
        for rough, nid in candidates(index, form, CANDIDATES, ROUGH_MIN):
            if rough < NOT_WORTH:
                continue
            ent_no = name_entity[nid]
            times = tried.get(ent_no, 0)
            if times >= PER_ENTITY:
                continue
            tried[ent_no] = times + 1
            info = entities[ent_no]
            if sources is not None and info.source not in sources:
                continue
            if schema is not None and not schema_compatible(schema, info.schema):
                continue
            person = info.schema == "Person" or schema == "Person"
            score = compare(q_tokens, q_weights, name_strs[nid], name_wts[nid], name_weak[nid], person, False)
            score *= _PROP_FACTOR[name_prop[nid]]
            current = best.get(ent_no)
            if current is None or score > current[0]:
                best[ent_no] = (score, nid, form, q_weights)
    return best


class _NameLevel:
    """What a matcher keeps per (name, schema, sources): the best name of each candidate
    entity, the highest of their scores (a query whose best is below the floor has no
    hits to decide), and the :class:`.explain.NameFacts` of the hits built so far (they
    cost an explain-mode compare, and a vendor master repeats names with other
    countries, dates or identifiers)."""

    __slots__ = ("best", "order", "top", "facts")

    def __init__(self, best: dict[int, tuple[float, int, NameForm, list[float]]]):
        self.best = best
        # the order match() meets the entities in (that of the set it takes when identifiers
        # hit too): the sort of the hits keeps it among equal (score, entity id)
        self.order = tuple(set(best))
        self.top = max([found[0] for found in best.values()]) if best else -1.0
        self.facts: dict[int, NameFacts] = {}


class Matcher:
    def __init__(self, index: MatchIndex, thresholds: Thresholds | None = None, max_hits: int = 10):
        self.index = index
        self.thresholds = thresholds or Thresholds()
        self.max_hits = max_hits
        # name-level work (candidates and name scores) by (name, schema, sources)
        self._names: dict[tuple, _NameLevel] = {}
        # entity number -> " (list: its countries)" for country notes
        self._country_lists: dict[int, str] = {}

    def match(
        self,
        name: str | None = None,
        *,
        schema: str | None = None,
        countries: Iterable[str] = (),
        birth_date: str | None = None,
        identifiers: Iterable[tuple[str | None, str]] = (),
        sources: set[str] | None = None,
        include_clear: bool = False,
    ) -> list[dict]:
        index = self.index
        entities = index.entities
        query_countries = {c for c in map(country_code, countries) if c}
        name_key = (name, schema, frozenset(sources) if sources is not None else None)
        level = self._names.get(name_key)
        if level is None:
            level = _NameLevel(_best_names(index, analyze(name) if name else (), sources, schema))
            if len(self._names) >= NAME_CACHE:
                self._names.clear()
            self._names[name_key] = level
        id_hits: dict[int, list[str]] = {}
        for kind, value in identifiers:
            key = normalize_identifier(value)
            for ent_no, prop in index.identifiers.get(key, ()):
                if kind and not _kind_fits(kind, prop):
                    continue
                info = entities[ent_no]
                if sources is not None and info.source not in sources:
                    continue
                id_hits.setdefault(ent_no, []).append(f"{prop} {value}")
        floor = -1.0 if include_clear else self.thresholds.review - MAX_BONUS
        if not id_hits and level.top < floor:
            return []
        best = level.best
        hits = []
        for ent_no in (set(best) | set(id_hits)) if id_hits else level.order:
            found = best.get(ent_no)
            if found is not None and found[0] < floor and ent_no not in id_hits:
                continue
            hit = self._decide(ent_no, found, id_hits.get(ent_no), name, query_countries, birth_date, schema, include_clear, level.facts)
            if hit is not None:
                hits.append(hit)
        hits.sort(key=lambda h: (-h["score"], h["entity_id"]))
        return hits[: self.max_hits]

    def _decide(self, ent_no, found, id_hit, query_name, countries, birth_date, schema, include_clear, known_facts):
        """The hit for one entity, or None when it is clear and clear hits are not wanted
        (decided before the explanation is built: most candidates end clear)."""
        info = self.index.entities[ent_no]
        features: dict[str, float] = {}
        score = 0.0
        if found is not None:
            score = found[0]
            features["name"] = score
        if id_hit:
            lifted = 1.0 if found is None or not query_name else max(IDENTIFIER_SCORE, score)
            features["identifier"] = lifted - score
            score = lifted
        adjust = country_evidence(countries, info.countries)
        if adjust:
            features["country"] = adjust
        dob = 0.0
        dob_reason = ""
        if birth_date and info.schema == "Person":
            dob, dob_reason = dob_evidence(birth_date, info.birth_dates)
            if dob:
                features["birth_date"] = dob
        if not id_hit:
            score += adjust + dob  # 0.0 for evidence not given
        score = max(0.0, min(1.0, score))
        status = self.thresholds.status(score)
        if status == "clear" and not include_clear:
            return None
        notes: list[str] = []
        if id_hit:
            notes.append("identifier match: " + "; ".join(id_hit))
        if adjust:
            notes.append(("country agrees" if adjust > 0 else "country differs") + self._country_list(ent_no))
        if dob:
            notes.append(dob_reason)
        facts = None
        if found is not None:
            facts = known_facts.get(ent_no)
            if facts is None:
                facts = known_facts[ent_no] = self._name_facts(info, found, schema)
        return {
            "entity_id": info.id,
            "source": info.source,
            "schema": info.schema,
            "name": info.caption,
            "matched_name": facts.matched_name if facts is not None else info.caption,
            "score": decimal_round(score, 4),
            "status": status,
            "programs": list(info.programs),
            "explanation": explanation(query_name, facts, features, notes, score, status, (self.thresholds.match, self.thresholds.review)),
        }

    def _name_facts(self, info: EntityInfo, found, schema) -> NameFacts:
        """What the explanation says about the name match ``found`` (an explain-mode compare)."""
        index = self.index
        score, nid, form, q_weights = found
        code = index.name_prop[nid]
        person = info.schema == "Person" or schema == "Person"
        detail = compare(form.tokens, q_weights, index.name_strs[nid], index.name_wts[nid], index.name_weak[nid], person, True)
        return name_facts(form.key, index.name_text[nid], " ".join(index.name_strs[nid]), PROP_NAMES[code], detail, score, _PROP_FACTOR[code])

    def _country_list(self, ent_no: int) -> str:
        """`` (list: cn, ru)``: the entity's countries for a country note, joined once."""
        text = self._country_lists.get(ent_no)
        if text is None:
            text = self._country_lists[ent_no] = f" (list: {', '.join(sorted(self.index.entities[ent_no].countries))})"
        return text


_PROP_FACTOR = {code: factor for code, factor in NAME_PROPS.values()}

#: Query identifier kinds -> list properties they may match.
ID_KINDS = {
    "isin": {"isinCode"},
    "uscc": {"uscCode", "registrationNumber", "taxNumber"},
    "imo": {"imoNumber", "registrationNumber"},
    "passport": {"passportNumber", "idNumber"},
    "tax": {"taxNumber", "innCode", "vatCode", "uscCode"},
    "lei": {"leiCode"},
    "ticker": {"ticker"},
    "swift": {"swiftBic"},
    "bic": {"swiftBic"},
    "inn": {"innCode", "taxNumber"},
    "ogrn": {"ogrnCode", "registrationNumber"},
    "registration": {"registrationNumber", "ogrnCode", "uscCode"},
    "id": None,
}


def _kind_fits(kind: str, prop: str) -> bool:
    key = kind.strip().lower().replace("_", "").replace("-", "")
    if key.endswith("code") and key not in ID_KINDS:
        key = key[:-4]
    allowed = ID_KINDS.get(key, "unknown")
    if allowed is None:
        return True
    if allowed == "unknown":
        return key == prop.lower() or prop.lower().startswith(key)
    return prop in allowed
