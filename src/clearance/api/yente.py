"""The yente-compatible API: ``/healthz``, ``/readyz``, ``/catalog``,
``/algorithms``, ``/search/{dataset}``, ``/match/{dataset}``,
``/entities/{id}`` - the wire shapes the published ``yente-client`` reads.

Datasets are our sources; ``default`` is every active source. Entities are
served as FollowTheMoney entities (:func:`clearance.sources.ftm.to_ftm`),
with the listing facts on a nested ``Sanction`` under ``sanctions``.

Scores are Clearance's (see docs/matching.md): ``match`` is true at or above
``threshold``, which defaults to our calibrated match threshold rather than
yente's 0.70; ``cutoff`` (default 0.50) drops weaker candidates.
"""

from __future__ import annotations

import threading
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from ..errors import InputError
from ..match.matcher import Matcher
from ..model import IDENTIFIER_PROPERTIES, NAME_PROPERTIES
from ..screen.check import check_schema
from ..sources.ftm import to_ftm
from .auth import require

router = APIRouter(tags=["yente-compatible"])
ALGORITHM = "clearance-v1"
NAME_PROPS = NAME_PROPERTIES
COUNTRY_PROPS = ("country", "nationality", "citizenship", "jurisdiction", "mainCountry", "registrationCountry", "incorporationCountry")
ID_PROPS = tuple(dict.fromkeys((*IDENTIFIER_PROPERTIES, "ogrnCode", "okpoCode")))
MAX_QUERIES = 100
MAX_LIMIT = 100
#: Values of one property in a /match query entity (names beyond the first ten are not screened).
MAX_VALUES = 1000
FEATURE_DOCS = {
    "name": "Similarity of the query name to the best list name (token weights by rarity; aliases and weak aliases count less).",
    "identifier": "An exact identifier (ISIN, USCC, IMO, passport ...) lifts the score to 0.98, or 1.0 with no name given.",
    "country": "Country evidence: agreeing countries add a little, conflicting ones take a little away.",
    "birth_date": "Birth-date evidence for people.",
}


class StatusResponse(BaseModel):
    status: str


class EntityExample(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore")
    id: str | None = None
    schema_: str = Field("LegalEntity", alias="schema", max_length=60)
    properties: dict[str, list[str] | str] = Field(default_factory=dict)


class MatchRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    queries: dict[str, EntityExample] = Field(..., description="Query entities by key (FollowTheMoney schema and properties).")
    weights: dict[str, float] = Field(default_factory=dict, description="Accepted for compatibility; ignored.")
    config: dict[str, Any] = Field(default_factory=dict, description="Accepted for compatibility; ignored.")


# -- datasets ---------------------------------------------------------------------------


def _ctx(request: Request):
    return request.app.state.ctx


def _sources(request: Request, dataset: str, include: list[str] | None = None, exclude: list[str] | None = None) -> list[str]:
    """Source ids a dataset name stands for; 404 for an unknown one."""
    active = [s.source for s in _ctx(request).store.active_snapshots()]
    if dataset == "default":
        chosen = list(active)
    elif dataset in active:
        chosen = [dataset]
    else:
        raise _Unknown(f"unknown dataset {dataset!r}; datasets: default, {', '.join(active)}")
    if include:  # yente's meaning: only these, within the dataset
        chosen = [s for s in chosen if s in set(include)]
    return [s for s in chosen if s not in set(exclude or [])]


class _Unknown(Exception):
    pass


def _not_found(detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=404)


def _titles() -> dict[str, str]:
    try:
        from ..rules.engine import SOURCE_LABELS

        return dict(SOURCE_LABELS)
    except Exception:  # pragma: no cover - rules not importable
        return {}


def catalog(store) -> dict:
    titles = _titles()
    snaps = store.active_snapshots()
    datasets = []
    for s in snaps:
        datasets.append({
            "name": s.source, "title": titles.get(s.source, s.source), "summary": f"{s.entity_count} entities, {s.name_count} names; captured {s.captured or 'unknown'}",
            "version": f"v{s.version}-{s.content_hash[:12]}", "updated_at": s.imported_at, "last_export": s.imported_at,
            "entity_count": s.entity_count, "thing_count": s.entity_count, "load": True, "index_current": True,
            "index_version": f"v{s.version}", "children": [], "coverage": {"start": s.captured, "end": s.published, "countries": [], "frequency": "unknown"},
        })
    newest = max((s.imported_at for s in snaps), default=None)
    datasets.insert(0, {
        "name": "default", "title": "All active lists", "summary": "Every list Clearance currently serves.",
        "version": store.fingerprint() if snaps else None, "updated_at": newest, "load": True, "index_current": True,
        "entity_count": sum(s.entity_count for s in snaps), "children": [s.source for s in snaps],
    })
    return {"datasets": datasets, "current": [d["name"] for d in datasets], "outdated": [], "index_stale": False}


# -- entities --------------------------------------------------------------------------------

_cache_lock = threading.Lock()
_entity_cache: dict[tuple, dict] = {}
_info_cache: dict[int, dict] = {}


def entity_json(source: str, entity, nested: bool = False, last_seen: str | None = None) -> dict:
    try:
        records = to_ftm(entity, dataset=source)
        props = records[0]["properties"]
    except ValueError:
        records, props = [], {k: list(v) for k, v in entity.properties.items()}
    out = {
        "id": entity.id, "caption": entity.caption, "schema": entity.schema, "properties": props, "datasets": [source],
        "referents": [], "target": True, "first_seen": None, "last_seen": last_seen, "last_change": None,
    }
    if nested and len(records) > 1:
        sanction = records[1]
        out["properties"] = {**props, "sanctions": [{
            "id": sanction["id"], "caption": "Sanction", "schema": "Sanction", "properties": sanction["properties"],
            "datasets": [source], "referents": [], "target": False,
        }]}
    return out


def _load_entity(request: Request, entity_id: str, sources: list[str] | None = None) -> dict | None:
    ctx = _ctx(request)
    key = (ctx.screeners._fingerprint, entity_id)
    with _cache_lock:
        hit = _entity_cache.get(key)
    if hit is not None and (not sources or hit["datasets"][0] in sources):
        return hit
    found = ctx.store.entity(entity_id, sources)
    if found is None:
        return None
    data = entity_json(found[0], found[1], nested=False)
    with _cache_lock:
        if len(_entity_cache) > 20000:
            _entity_cache.clear()
        _entity_cache[key] = data
    return data


def _infos(screener) -> dict:
    index = screener.index
    with _cache_lock:
        table = _info_cache.get(id(index))
        if table is None:
            _info_cache.clear()
            table = _info_cache[id(index)] = {info.id: info for info in index.entities}
    return table


# -- matching ---------------------------------------------------------------------------------


def _values(props: dict[str, list[str] | str], names: tuple[str, ...]) -> list[str]:
    """The distinct values of some properties, in order (at most MAX_VALUES per property)."""
    out: dict[str, None] = {}
    for prop in names:
        value = props.get(prop)
        values = [value] if isinstance(value, str) else value or []
        if len(values) > MAX_VALUES:
            raise InputError(f"property {prop!r}: {len(values):,} values; at most {MAX_VALUES} per property")
        for v in values:
            v = str(v).strip()[:500]
            if v:
                out[v] = None
    return list(out)


def match_example(screener, example: EntityExample, sources: list[str], cutoff: float, limit: int) -> list[dict]:
    """Scored hits for one FtM query entity: the best score per entity over all its names."""
    schema = check_schema(example.schema_) if example.schema_ not in ("Thing", "LegalEntity") else None
    props = example.properties
    names = _values(props, NAME_PROPS)[:10]
    countries = _values(props, COUNTRY_PROPS)
    birth = (_values(props, ("birthDate",)) or [None])[0]
    identifiers = [(prop, v) for prop in ID_PROPS for v in _values(props, (prop,))]
    matcher = Matcher(screener.index, screener.thresholds, max_hits=max(limit, 10))
    best: dict[str, dict] = {}
    for name in names or [None]:
        if name is None and not identifiers:
            break
        hits = matcher.match(name, schema=schema, countries=countries, birth_date=birth, identifiers=identifiers, sources=set(sources), include_clear=True)
        for hit in hits:
            if hit["entity_id"] not in best or hit["score"] > best[hit["entity_id"]]["score"]:
                best[hit["entity_id"]] = hit
    ranked = sorted((h for h in best.values() if h["score"] >= cutoff), key=lambda h: (-h["score"], h["entity_id"]))
    return ranked


def _explanations(hit: dict) -> dict:
    why = hit.get("explanation") or {}
    out = {}
    for feature, value in (why.get("features") or {}).items():
        detail = None
        if feature == "name":
            detail = f"{why.get('query_name')!r} ~ {why.get('matched_name')!r} ({why.get('name_property')})"
        out[feature] = {"score": value, "detail": detail, "query": why.get("query_name") if feature == "name" else None,
                        "candidate": why.get("matched_name") if feature == "name" else None, "weight": 1.0}
    return out


def scored_json(request: Request, hit: dict, threshold: float) -> dict:
    data = _load_entity(request, hit["entity_id"], [hit["source"]]) or {
        "id": hit["entity_id"], "caption": hit["name"], "schema": hit["schema"], "properties": {"name": [hit["name"]]},
        "datasets": [hit["source"]], "referents": [], "target": True,
    }
    return {
        **data, "score": hit["score"], "match": hit["score"] >= threshold, "status": hit["status"],
        "features": (hit.get("explanation") or {}).get("features", {}), "explanations": _explanations(hit),
        "programs": hit.get("programs", []), "matched_name": hit.get("matched_name"), "explanation": hit.get("explanation"),
    }


# -- routes ------------------------------------------------------------------------------------

viewer = Depends(require("read"))


@router.get("/healthz", response_model=StatusResponse, summary="Liveness: the server process is up.")
def healthz() -> dict:
    return {"status": "ok"}


@router.get("/readyz", response_model=StatusResponse, summary="Readiness: the match index is loaded.", responses={503: {"model": StatusResponse}})
def readyz(request: Request):
    screeners = _ctx(request).screeners
    if screeners.ready:
        return {"status": "ok"}
    return JSONResponse({"status": "error" if screeners.error else "loading"}, status_code=503)


@router.get("/catalog", dependencies=[viewer], summary="Our sources as yente datasets; `default` is all active ones.")
def get_catalog(request: Request) -> dict:
    return catalog(_ctx(request).store)


@router.get("/algorithms", dependencies=[viewer], summary="The matching algorithm (one: Clearance's).")
def algorithms() -> dict:
    return {
        "algorithms": [{"name": ALGORITHM, "description": "Clearance: normalise (Chinese glossary and pinyin, legal forms, transliteration) -> candidates -> weighted token similarity -> country, birth-date and identifier evidence.", "docs": FEATURE_DOCS}],
        "default": ALGORITHM,
        "best": ALGORITHM,
    }


@router.get("/search/{dataset}", dependencies=[viewer], summary="Search list entries by name or identifier.", responses={404: {"description": "Unknown dataset"}})
def search(
    request: Request,
    dataset: str,
    q: str = Query("", max_length=500, description="Name or identifier"),
    schema: str | None = Query(None, max_length=60),
    countries: list[str] = Query([], max_length=50),
    include_dataset: list[str] = Query([], max_length=50),
    exclude_dataset: list[str] = Query([], max_length=50),
    limit: int = Query(10, ge=0, le=MAX_LIMIT),
    offset: int = Query(0, ge=0, le=1000),
    fuzzy: bool = False,
    simple: bool = False,
):
    try:
        sources = _sources(request, dataset, include_dataset, exclude_dataset)
    except _Unknown as exc:
        return _not_found(str(exc))
    screener = _ctx(request).screeners.get()
    hits: list[dict] = []
    if q.strip() and sources:
        # every hit the matcher finds, whatever the page, so that total and facets do not depend on limit and offset
        matcher = Matcher(screener.index, screener.thresholds, max_hits=MAX_LIMIT * 10)
        found = matcher.match(q, schema=check_schema(schema) if schema and schema not in ("Thing", "LegalEntity") else None,
                              identifiers=[(None, q.strip())], sources=set(sources), include_clear=True)
        infos = _infos(screener)
        wanted = {c.lower() for c in countries}
        hits = [h for h in found if h["score"] > 0 and (not wanted or wanted & {c.lower() for c in infos[h["entity_id"]].countries})]
    page = hits[offset : offset + limit]
    facets = {"datasets": _facet("Data sources", (h["source"] for h in hits))}
    return {"results": [_load_entity(request, h["entity_id"], [h["source"]]) for h in page], "facets": facets,
            "total": {"value": len(hits), "relation": "eq"}, "limit": limit, "offset": offset}


def _facet(label: str, values) -> dict:
    counts: dict[str, int] = {}
    for v in values:
        counts[v] = counts.get(v, 0) + 1
    return {"label": label, "values": [{"name": k, "label": k, "count": n} for k, n in sorted(counts.items(), key=lambda kv: -kv[1])]}


@router.post("/match/{dataset}", dependencies=[viewer], summary="Match FollowTheMoney query entities; scored list entries per query.", responses={404: {"description": "Unknown dataset"}})
def match(
    request: Request,
    dataset: str,
    body: MatchRequest,
    threshold: float | None = Query(None, ge=0.0, le=1.0, description="`match` is true at or above this score (default: Clearance's match threshold)."),
    cutoff: float = Query(0.5, ge=0.0, le=1.0, description="Results scoring below this are left out."),
    limit: int = Query(5, ge=1, le=MAX_LIMIT),
    algorithm: str = Query(ALGORITHM, max_length=60, description="Accepted for compatibility; Clearance has one algorithm."),
    include_dataset: list[str] = Query([], max_length=50),
    exclude_dataset: list[str] = Query([], max_length=50),
    exclude_schema: list[str] = Query([], max_length=20),
    exclude_entity_ids: list[str] = Query([], max_length=500),
    topics: list[str] = Query([], max_length=20),
    changed_since: str | None = Query(None, max_length=40),
):
    try:
        sources = _sources(request, dataset, include_dataset, exclude_dataset)
    except _Unknown as exc:
        return _not_found(str(exc))
    if len(body.queries) > MAX_QUERIES:
        return JSONResponse({"detail": f"at most {MAX_QUERIES} queries per request"}, status_code=400)
    screener = _ctx(request).screeners.get()
    threshold = screener.thresholds.match if threshold is None else threshold
    excluded_ids, excluded_schemata = set(exclude_entity_ids), set(exclude_schema)
    responses = {}
    for key, example in body.queries.items():
        hits = match_example(screener, example, sources, cutoff, limit) if sources else []
        hits = [h for h in hits if h["entity_id"] not in excluded_ids and h["schema"] not in excluded_schemata]
        responses[key] = {
            "status": 200,
            "results": [scored_json(request, h, threshold) for h in hits[:limit]],
            "total": {"value": len(hits), "relation": "eq"},
            "query": {"id": example.id, "schema": example.schema_, "properties": {k: ([v] if isinstance(v, str) else v) for k, v in example.properties.items()}},
        }
    return {"responses": responses, "matcher": {"name": ALGORITHM, "threshold": threshold, "cutoff": cutoff}, "limit": limit}


@router.get("/entities/{entity_id}", dependencies=[viewer], summary="One list entry (active lists) as a FollowTheMoney entity.", responses={404: {"description": "No such entity"}})
def get_entity(request: Request, entity_id: str, nested: bool = True):
    store = _ctx(request).store
    found = store.entity(entity_id)
    if found is None:
        return _not_found(f"no entity {entity_id!r} in the active lists")
    snap = store.active_snapshot(found[0])
    return entity_json(found[0], found[1], nested=nested, last_seen=snap.imported_at)
