"""Spreadsheet shapes of screening records: a results sheet (one row per input
row, its best hit beside it) and a hits sheet (one row per hit)."""

from __future__ import annotations

from typing import Iterator, Sequence

from ..tabular import Sheet

RESULT_COLUMNS = ["row", "status", "error", "best_score", "best_status", "best_name", "matched_name", "entity_id", "source", "schema", "programs", "hit_count"]
HIT_COLUMNS = ["row", "rank", "query", "entity_id", "source", "schema", "name", "matched_name", "score", "status", "programs", "reason"]


def flatten(record: dict, columns: Sequence[str]) -> dict:
    """One spreadsheet row: the input columns, then the best hit."""
    best = record["hits"][0] if record.get("hits") else {}
    out = {f"input.{c}": record["input"].get(c) for c in columns}
    out.update(
        row=record["row"],
        status=record["status"],
        error=record.get("error"),
        best_score=best.get("score"),
        best_status=best.get("status"),
        best_name=best.get("name"),
        matched_name=best.get("matched_name"),
        entity_id=best.get("entity_id"),
        source=best.get("source"),
        schema=best.get("schema"),
        programs=best.get("programs"),
        hit_count=len(record.get("hits") or []),
    )
    return out


def hit_rows(record: dict) -> Iterator[dict]:
    for rank, hit in enumerate(record.get("hits") or [], 1):
        why = hit.get("explanation") or {}
        yield {
            "row": record["row"], "rank": rank, "query": why.get("query_name"), "entity_id": hit["entity_id"],
            "source": hit["source"], "schema": hit.get("schema"), "name": hit.get("name"),
            "matched_name": hit.get("matched_name"), "score": hit["score"], "status": hit["status"],
            "programs": hit.get("programs"), "reason": "; ".join([why.get("reason", ""), *why.get("notes", [])]).strip("; "),
        }


def sheets_for(columns: Sequence[str]) -> list[Sheet]:
    cols = list(columns)
    return [
        Sheet("results", [f"input.{c}" for c in cols] + RESULT_COLUMNS, lambda r: [flatten(r, cols)]),
        Sheet("hits", HIT_COLUMNS, hit_rows),
    ]


__all__ = ["HIT_COLUMNS", "RESULT_COLUMNS", "flatten", "hit_rows", "sheets_for"]
