"""Assessments, ownership exposure and covered-equipment screening over HTTP:
``POST /assess`` (:func:`clearance.rules.assess`), ``GET /exposure/{id}``
(:func:`clearance.ownership.exposure`), ``POST /assets``
(:func:`clearance.assets.screen_asset`)."""

from __future__ import annotations

from typing import Annotated, Any, Union

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from ..cases import audit
from ..cases.users import Principal
from ..rules.transaction import TransactionIn
from .auth import require

router = APIRouter()
DATE = r"^\d{4}-\d{2}-\d{2}$"


def _store(request: Request):
    return request.app.state.ctx.store


@router.post("/assess", tags=["assessment"], summary="Assess a transaction: prohibited, license-required, review or clear, with reasons and citations (docs/rules.md).")
def assess(request: Request, body: TransactionIn, as_of: str | None = Query(None, pattern=DATE, description="Lists and rules as they stood on this date"), principal: Principal = Depends(require("screen"))):
    from ..rules import assess as run

    result = run(body, as_of=as_of, store=_store(request))
    audit.record(_store(request), "screen.assess", {"id": body.id, "determination": result["determination"], "as_of": result["as_of"], "parties": len(body.parties)}, actor=principal.name)
    return result


@router.get("/exposure/{entity_id}", tags=["assessment"], summary="Ownership of an entity by listed parties, with paths (and an SVG drawing) and the resulting determination.", responses={400: {"description": "Unknown entity"}})
def exposure(request: Request, entity_id: str, as_of: str | None = Query(None, pattern=DATE), max_paths: int = Query(20, ge=1, le=200), svg: bool = True, principal: Principal = Depends(require("read"))):
    from ..ownership import exposure as lookup

    record = lookup(_store(request), entity_id, as_of=as_of, max_paths=max_paths)
    if not svg:
        record.pop("svg", None)
    return record


class Asset(BaseModel):
    """One asset: any of these fields (and others, kept as input)."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"example": {"asset_id": "CAM-12", "manufacturer": "Honeywell", "mac": "BC:AD:28:4A:10:0B"}})
    asset_id: str | None = Field(None, max_length=200)
    manufacturer: str | None = Field(None, max_length=500)
    brand: str | None = Field(None, max_length=500)
    model: str | None = Field(None, max_length=500)
    mac: str | None = Field(None, max_length=100)
    hostname: str | None = Field(None, max_length=500)
    description: str | None = Field(None, max_length=2000)


class AssetBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    assets: list[Asset] = Field(..., min_length=1, max_length=1000)


AssetBody = Annotated[Union[AssetBatch, Asset], Field(union_mode="left_to_right")]


@router.post("/assets", tags=["assessment"], summary="Screen assets for NDAA 889 / FCC covered equipment (one asset or a batch; asset-result records).")
def assets(request: Request, body: AssetBody, as_of: str | None = Query(None, pattern=DATE), principal: Principal = Depends(require("screen"))):
    from ..assets.detect import AssetScreener

    items = body.assets if isinstance(body, AssetBatch) else [body]
    screener = AssetScreener(as_of)
    results: list[dict[str, Any]] = []
    for row, asset in enumerate(items):
        fields = {k: v for k, v in asset.model_dump(exclude_none=True).items() if isinstance(v, (str, int, float))}
        results.append(screener.screen({k: str(v) for k, v in fields.items()}, row=row, input=fields))
    counts = {s: sum(1 for r in results if r["status"] == s) for s in ("covered", "review", "clear", "error")}
    audit.record(_store(request), "screen.assets", {"assets": len(results), **counts}, actor=principal.name)
    return {"results": results, "counts": counts} if isinstance(body, AssetBatch) else results[0]
