"""The matching pipeline over one :class:`~.index.MatchIndex`:
normalise the query -> candidates -> score -> decide -> explain."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from .candidates import candidates
from .explain import explanation
from .index import NAME_PROPS, PROP_NAMES, EntityInfo, MatchIndex, country_code
from .normalize import analyze, normalize_identifier
from .score import compare, country_evidence, dob_evidence, schema_compatible

#: Score that an exact identifier match (ISIN, USCC, IMO, passport ...) lifts a hit to.
IDENTIFIER_SCORE = 0.98
#: Candidates scored in full per query reading, and the rough score (see
#: :func:`.candidates.candidates`) a candidate needs to be scored in full.
CANDIDATES = 12
ROUGH_MIN = 0.3


@dataclass(frozen=True)
class Thresholds:
    """``match`` at or above ``match``; ``review`` at or above ``review``; else clear."""

    match: float = 0.86
    review: float = 0.72

    def __post_init__(self) -> None:
        if not (0.0 <= self.review <= self.match <= 1.0):
            raise ValueError(f"thresholds must satisfy 0 <= review <= match <= 1, got review={self.review}, match={self.match}")

    def status(self, score: float) -> str:
        if score >= self.match:
            return "match"
        if score >= self.review:
            return "review"
        return "clear"


@dataclass(slots=True)
class _Best:
    score: float
    name_score: float
    nid: int
    form_key: str
    detail: object
    factor: float


class Matcher:
    def __init__(self, index: MatchIndex, thresholds: Thresholds | None = None, max_hits: int = 10):
        self.index = index
        self.thresholds = thresholds or Thresholds()
        self.max_hits = max_hits

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
        best: dict[int, _Best] = {}
        forms = analyze(name) if name else ()
        tokens_cache = index.tokens
        weak_flag = index.weight
        for form in forms:
            q_weights = [index.token_weight(t) for t in form.tokens]
            for rough, nid in candidates(index, form, CANDIDATES):
                if rough < ROUGH_MIN:
                    break
                ent_no = index.name_entity[nid]
                info = entities[ent_no]
                if sources is not None and info.source not in sources:
                    continue
                if not schema_compatible(schema, info.schema):
                    continue
                ids = index.name_tokens[nid]
                l_tokens = tuple(tokens_cache[t] for t in ids)
                l_weights = [weak_flag[t] for t in ids]
                l_weak = [w <= 0.5 for w in l_weights]
                person = info.schema == "Person" or schema == "Person"
                detail = compare(form.tokens, q_weights, l_tokens, l_weights, l_weak, person)
                factor = _PROP_FACTOR[index.name_prop[nid]]
                name_score = detail.score * factor
                current = best.get(ent_no)
                if current is None or name_score > current.name_score:
                    best[ent_no] = _Best(name_score, name_score, nid, form.key, detail, factor)
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
        hits = []
        for ent_no in set(best) | set(id_hits):
            info = entities[ent_no]
            hit = self._decide(info, best.get(ent_no), id_hits.get(ent_no), name, query_countries, birth_date, schema)
            if hit is not None and (include_clear or hit["status"] != "clear"):
                hits.append(hit)
        hits.sort(key=lambda h: (-h["score"], h["entity_id"]))
        return hits[: self.max_hits]

    def _decide(self, info: EntityInfo, found: _Best | None, id_hit, query_name, countries, birth_date, schema):
        index = self.index
        features: dict[str, float] = {}
        notes: list[str] = []
        score = 0.0
        if found is not None:
            score = found.name_score
            features["name"] = found.name_score
        if id_hit:
            lifted = 1.0 if found is None or not query_name else max(IDENTIFIER_SCORE, score)
            features["identifier"] = lifted - score
            notes.append("identifier match: " + "; ".join(id_hit))
            score = lifted
        elif found is not None and found.name_score < self.thresholds.review - 0.12:
            return None
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
        if found is not None:
            nid = found.nid
            matched = index.name_text[nid]
            matched_form = " ".join(index.tokens[t] for t in index.name_tokens[nid])
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
                query_form=found.form_key if found else None,
                matched_name=matched,
                matched_form=matched_form,
                name_property=prop,
                name=found.detail if found else None,  # type: ignore[arg-type]
                name_score=found.name_score if found else 0.0,
                prop_factor=found.factor if found else 1.0,
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
