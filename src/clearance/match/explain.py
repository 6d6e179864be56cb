"""Explanations: which query name met which list name, what each feature
contributed, and why the status is what it is."""

from __future__ import annotations

from collections import namedtuple
from functools import lru_cache

from .score import NameScore, decimal_round

#: What an explanation says about one query name meeting one list name, rounded
#: and immutable: a matcher keeps it for query names it sees again (a vendor
#: master repeats names with other countries, dates or identifiers), and
#: :func:`explanation` builds fresh dicts and lists from it for every hit
#: (callers may edit the hits they get).
NameFacts = namedtuple(
    "NameFacts",
    "query_form matched_name matched_form name_property score query_coverage list_coverage matched_weight alias_factor pairs unmatched_query unmatched_list",
)


def name_facts(query_form: str, matched_name: str, matched_form: str, name_property: str, name: NameScore, name_score: float, prop_factor: float) -> NameFacts:
    """The facts of an explain-mode :func:`.score.compare` result ``name``."""
    return NameFacts(
        query_form,
        matched_name,
        matched_form,
        name_property,
        decimal_round(name_score, 4),
        decimal_round(name.q_cover, 4),
        decimal_round(name.l_cover, 4),
        decimal_round(name.info, 3),
        prop_factor,
        tuple(name.pairs),
        tuple(name.unmatched_query),
        tuple(name.unmatched_list),
    )


@lru_cache(maxsize=64)
def _reason_tails(thresholds: tuple[float, float]) -> tuple[str, str, str]:
    """The reason's tail for a match, a review and a clear (formatted once per thresholds)."""
    match_at, review_at = thresholds
    return (
        f" >= match threshold {match_at:.2f}",
        f" >= review threshold {review_at:.2f} but < match threshold {match_at:.2f}",
        f" < review threshold {review_at:.2f}",
    )


def reason(score: float, status: str, thresholds: tuple[float, float]) -> str:
    """Why the status is what it is."""
    tails = _reason_tails(thresholds)
    tail = tails[0] if status == "match" else tails[1] if status == "review" else tails[2]
    return f"score {score:.2f}{tail}"


#: The facts of no name match, for a hit on identifiers alone.
_NO_NAME = NameFacts(*(None,) * len(NameFacts._fields))


def explanation(query_name: str | None, name: NameFacts | None, features: dict[str, float], notes: list[str], score: float, status: str, thresholds: tuple[float, float]) -> dict:
    """``name`` is None for a hit on identifiers alone."""
    query_form, matched_name, matched_form, prop, name_score, q_cover, l_cover, info, factor, pairs, unmatched_query, unmatched_list = name or _NO_NAME
    out = {
        "query_name": query_name,
        "query_normalised": query_form,
        "matched_name": matched_name,
        "matched_normalised": matched_form,
        "name_property": prop,
        # the name feature is the name score, rounded in the facts already
        "features": {k: name_score if k == "name" else decimal_round(v, 4) for k, v in features.items()},
        "reason": reason(score, status, thresholds),
        "notes": notes,
    }
    if name is not None:
        out["name_similarity"] = {
            "score": name_score,
            "query_coverage": q_cover,
            "list_coverage": l_cover,
            "matched_weight": info,
            "name_property": prop,
            "alias_factor": factor,
            "token_pairs": [{"query": a, "list": b, "similarity": s} for a, b, s in pairs],
            "unmatched_query_tokens": list(unmatched_query),
            "unmatched_list_tokens": list(unmatched_list),
        }
    return out
