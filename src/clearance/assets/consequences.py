"""What follows when equipment comes from a covered producer: the section 889
and FCC Covered List rules of :mod:`clearance.rules`, applied to the
producer's entries of the curated ``us-covered`` list.

The entries are read from the bundled curated file (``data/curated/us-covered/``)
so asset screening needs no store; the rules are the rows of
``data/rules/lists.yaml`` that apply to a manufacturer of equipment (any
purpose: procurement, use under a federal contract, purchase).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from ..errors import InputError
from ..model import Entity
from ..rules import Context, determine

SOURCE = "us-covered"


@lru_cache(maxsize=1)
def covered_entities() -> dict[str, list[Entity]]:
    """``{"hikvision": [NDAA-889 entity, FCC-COVERED entity], ...}`` from the bundled curated list."""
    from ..rules.asof import bundled_covered
    from ..sources import covered

    found = bundled_covered()
    if found is None:
        raise InputError("the curated covered list (data/curated/us-covered/) is missing from this installation")
    out: dict[str, list[Entity]] = {}
    for entity in covered.parse(found[1], SOURCE):
        key = entity.id.removeprefix(SOURCE + "-")
        for program in entity.get("program"):  # us-covered-<key>-<program>
            key = key.removesuffix("-" + program.lower())
        out.setdefault(key, []).append(entity)
    return out


def _rule(rule: Any) -> dict:
    data = rule.to_dict()
    return {
        "rule": data["rule"],
        "citation": data["citation"],
        "id": data["id"],
        "consequence": data["consequence"],
        "program": ", ".join(data.get("programs") or []) or None,
        "text": data["text"],
        "url": data.get("url"),
    }


@lru_cache(maxsize=64)
def _rules(producer: str, as_of: str | None) -> tuple[dict, ...]:
    entities = covered_entities().get(producer, [])
    out = []
    for entity in entities:
        for rule in determine((SOURCE, entity), as_of, Context(role="manufacturer")):
            if rule.consequence != "info":
                out.append(_rule(rule))
    return tuple(out)


def rules_for(producer: str | None, as_of: str | None = None) -> list[dict]:
    """The section 889 and FCC rules in force on ``as_of`` (default today) for equipment of ``producer``."""
    if not producer:
        return []
    return [dict(r) for r in _rules(producer, as_of)]


__all__ = ["covered_entities", "rules_for"]
