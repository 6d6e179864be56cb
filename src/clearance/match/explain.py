"""Explanations: which query name met which list name, what each feature
contributed, and why the status is what it is."""

from __future__ import annotations

from .score import NameScore


def explanation(
    *,
    query_name: str | None,
    query_form: str | None,
    matched_name: str | None,
    matched_form: str | None,
    name_property: str | None,
    name: NameScore | None,
    name_score: float,
    prop_factor: float,
    features: dict[str, float],
    notes: list[str],
    score: float,
    status: str,
    thresholds: tuple[float, float],
) -> dict:
    match_at, review_at = thresholds
    if status == "match":
        why = f"score {score:.2f} >= match threshold {match_at:.2f}"
    elif status == "review":
        why = f"score {score:.2f} >= review threshold {review_at:.2f} but < match threshold {match_at:.2f}"
    else:
        why = f"score {score:.2f} < review threshold {review_at:.2f}"
    out: dict = {
        "query_name": query_name,
        "query_normalised": query_form,
        "matched_name": matched_name,
        "matched_normalised": matched_form,
        "name_property": name_property,
        "features": {k: round(v, 4) for k, v in features.items()},
        "reason": why,
        "notes": notes,
    }
    if name is not None:
        out["name_similarity"] = {
            "score": round(name_score, 4),
            "query_coverage": round(name.q_cover, 4),
            "list_coverage": round(name.l_cover, 4),
            "matched_weight": round(name.info, 3),
            "name_property": name_property,
            "alias_factor": prop_factor,
            "token_pairs": [{"query": a, "list": b, "similarity": s} for a, b, s in name.pairs],
            "unmatched_query_tokens": name.unmatched_query,
            "unmatched_list_tokens": name.unmatched_list,
        }
    return out
