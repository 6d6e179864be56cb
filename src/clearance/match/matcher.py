"""The matching pipeline over one :class:`~.index.MatchIndex`:
normalise the query -> candidates -> score -> decide -> explain."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from .candidates import candidates
from .explain import explanation
from .index import NAME_PROPS, PROP_NAMES, EntityInfo, MatchIndex, country_code
from .normalize import NameForm, analyze, normalize_identifier
from .score import compare, country_evidence, dob_evidence, schema_compatible

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


def _best_names(index: MatchIndex, forms: tuple[NameForm, ...], sources: set[str] | None, schema: str | None) -> dict[int, tuple[float, int, NameForm]]:
    """Entity number -> (name score, name id, query form) of its best-scoring name."""
    entities = index.entities
    name_entity = index.name_entity
    name_prop = index.name_prop
    name_strs = index.name_strs
    name_wts = index.name_wts
    name_weak = index.name_weak
    best: dict[int, tuple[float, int, NameForm]] = {}
    for form in forms:
        tried: dict[int, int] = {}
        q_tokens = form.tokens
        q_weights = [index.token_weight(t) for t in q_tokens]
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
                best[ent_no] = (score, nid, form)
    return best


class Matcher:
    def __init__(self, index: MatchIndex, thresholds: Thresholds | None = None, max_hits: int = 10):
        self.index = index
        self.thresholds = thresholds or Thresholds()
        self.max_hits = max_hits
        # name-level work (candidates and name scores) by (name, schema, sources): a
        # vendor master repeats names with other countries, dates or identifiers
        self._names: dict[tuple, dict[int, tuple[float, int, NameForm]]] = {}

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
        query_countries = {c for c in (country_code(v) for v in countries) if c}
        name_key = (name, schema, frozenset(sources) if sources is not None else None)
        best = self._names.get(name_key)
        if best is None:
            best = _best_names(index, analyze(name) if name else (), sources, schema)
            if len(self._names) >= NAME_CACHE:
                self._names.clear()
            self._names[name_key] = best
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
        hits = []
        for ent_no in set(best) | set(id_hits):
            found = best.get(ent_no)
            if found is not None and found[0] < floor and ent_no not in id_hits:
                continue
            info = entities[ent_no]
            hit = self._decide(info, found, id_hits.get(ent_no), name, query_countries, birth_date, schema, include_clear)
            if hit is not None:
                hits.append(hit)
        hits.sort(key=lambda h: (-h["score"], h["entity_id"]))
        return hits[: self.max_hits]

    def _decide(self, info: EntityInfo, found, id_hit, query_name, countries, birth_date, schema, include_clear=True):
        """The hit for one entity, or None when it is clear and clear hits are not wanted
        (decided before the explanation is built: most candidates end clear)."""
        index = self.index
        features: dict[str, float] = {}
        notes: list[str] = []
        score = 0.0
        if found is not None:
            score = found[0]
            features["name"] = score
        if id_hit:
            lifted = 1.0 if found is None or not query_name else max(IDENTIFIER_SCORE, score)
            features["identifier"] = lifted - score
            notes.append("identifier match: " + "; ".join(id_hit))
            score = lifted
        adjust = country_evidence(countries, info.countries)
        if adjust:
            features["country"] = adjust
            notes.append(("country agrees" if adjust > 0 else "country differs") + f" (list: {', '.join(sorted(info.countries))})")
        if birth_date and info.schema == "Person":
            dob, reason = dob_evidence(birth_date, info.birth_dates)
            if dob:
                features["birth_date"] = dob
                notes.append(reason)
        if not id_hit:
            score += sum(v for k, v in features.items() if k != "name")
        score = max(0.0, min(1.0, score))
        status = self.thresholds.status(score)
        if status == "clear" and not include_clear:
            return None
        detail = None
        factor = 1.0
        if found is not None:
            nid, form = found[1], found[2]
            factor = _PROP_FACTOR[index.name_prop[nid]]
            person = info.schema == "Person" or schema == "Person"
            q_weights = [index.token_weight(t) for t in form.tokens]
            detail = compare(form.tokens, q_weights, index.name_strs[nid], index.name_wts[nid], index.name_weak[nid], person, True)
            matched = index.name_text[nid]
            matched_form = " ".join(index.name_strs[nid])
            prop = PROP_NAMES[index.name_prop[nid]]
        else:
            matched = matched_form = prop = None
        return {
            "entity_id": info.id,
            "source": info.source,
            "schema": info.schema,
            "name": info.caption,
            "matched_name": matched if matched is not None else info.caption,
            "score": round(score, 4),
            "status": status,
            "programs": list(info.programs),
            "explanation": explanation(
                query_name=query_name,
                query_form=found[2].key if found else None,
                matched_name=matched,
                matched_form=matched_form,
                name_property=prop,
                name=detail,  # type: ignore[arg-type]
                name_score=found[0] if found else 0.0,
                prop_factor=factor,
                features=features,
                notes=notes,
                score=score,
                status=status,
                thresholds=(self.thresholds.match, self.thresholds.review),
            ),
        }


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
