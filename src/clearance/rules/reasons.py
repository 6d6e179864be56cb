"""Plain-language reasons for an assessment: one sentence per finding."""

from __future__ import annotations

from datetime import date
from typing import Any

from .engine import SOURCE_LABELS, Rule
from .schema import SEVERITY

LABELS = {
    "prohibited": "prohibited",
    "license-required": "licence required",
    "review": "review needed",
    "clear": "clear",
}


def _role(role: str) -> str:
    return role.replace("_", " ")


def _who(party: Any) -> str:
    name = party.name or ", ".join(f"{k}:{v}" for k, v in party.identifier_pairs())
    return f"The {_role(party.role)} \u201c{name}\u201d"


def _list_label(hit: dict[str, Any], rules: list[Rule]) -> str:
    label = SOURCE_LABELS.get(hit["source"], f"list \u201c{hit['source']}\u201d")
    codes = {r.list_code for r in rules if r.list_code} or set(hit.get("programs") or [])
    return f"{label} ({', '.join(sorted(codes))})" if codes else label


def party_reasons(party: Any, pairs: list[tuple[dict[str, Any], list[Rule]]], status: str) -> list[str]:
    """Why a party has its status: its hits that carry a consequence, then the rest in one line."""
    who = _who(party)
    if not pairs:
        return [f"{who}: clear \u2014 no list entry matched or nearly matched."]
    out: list[str] = []
    quiet = []
    pairs = sorted(pairs, key=lambda p: -SEVERITY[p[0]["consequence"]])
    for hit, rules in pairs:
        flagged = [r for r in rules if r.consequence != "info"]
        if not flagged:
            quiet.append((hit, rules))
            continue
        possible = hit["status"] == "review"
        head = (
            f"{who} {'may match' if possible else 'matches'} \u201c{hit['name']}\u201d on the "
            f"{_list_label(hit, rules)} (score {hit['score']:.2f}{', a possible match to confirm' if possible else ''}): "
            f"{LABELS[hit['consequence']]}."
        )
        out.append(head)
        for rule in flagged:
            sentence = rule.text
            if possible and rule.consequence != "review":
                sentence = f"If confirmed \u2014 {LABELS[rule.consequence]}: {sentence}"
            if rule.notes:
                sentence += " Note: " + "; ".join(rule.notes) + "."
            for relief in rule.relief:
                if relief.get("text"):
                    sentence += " " + relief["text"]
            out.append(sentence)
    for hit, rules in quiet[:3]:
        infos = " ".join(r.text for r in rules if r.text) or "no rule in the tables attaches to this role and purpose."
        out.append(f"{who} matches \u201c{hit['name']}\u201d on the {_list_label(hit, rules)}, with no consequence here: {infos}")
    if len(quiet) > 3:
        out.append(f"{len(quiet) - 3} more near matches of {who.lower()[4:]} carry no consequence on this date.")
    if status == "clear" and not quiet:
        out.append(f"{who}: clear.")
    return out


def overall_reasons(determination: str, on: date, parties: list[dict[str, Any]], snapshots: list[dict[str, Any]]) -> list[str]:
    """The determination first, then each party's reasons, then how the lists were chosen."""
    flagged = [p for p in parties if p["status"] != "clear"]
    if determination == "clear":
        head = f"Determination as of {on.isoformat()}: clear \u2014 no party matched a list entry with a consequence in force on that date."
    else:
        worst = [p for p in parties if p["status"] == determination]
        names = ", ".join(f"the {_role(p['role'])} \u201c{p['name'] or ', '.join(p.get('identifiers') or []) or 'holding'}\u201d" for p in worst)
        head = (
            f"Determination as of {on.isoformat()}: {LABELS[determination]} \u2014 the most severe outcome among "
            f"{len(parties)} part{'y' if len(parties) == 1 else 'ies'}, set by {names}."
        )
    out = [head]
    for party in parties:
        out.extend(party["reasons"])
    dated = [s for s in snapshots if s["dates_required"]]
    if dated:
        held = ", ".join(f"{s['source']} ({s['captured']})" for s in dated)
        out.append(
            f"Lists as of {on.isoformat()}: no capture on or before that date is held for {held}; their entries count "
            f"only if their own listing date is on or before it, and entries without one are reported as "
            f"\u201clisting date unknown\u201d."
        )
    if flagged and any(p["status"] == "review" for p in flagged) and determination == "review":
        out.append("Review means a person must decide: confirm or dismiss the possible matches, or check the rule against the transaction.")
    return out


def citations(parties: list[dict[str, Any]]) -> list[str]:
    """Every citation behind a flagging rule or an applied relief, once, most severe rule first."""
    found: list[tuple[int, int, str]] = []
    for party in parties:
        for rule in party["rules"]:
            if rule["consequence"] == "info":
                continue
            found.append((-SEVERITY[rule["consequence"]], len(found), rule["citation"]))
            for relief in rule.get("relief", []):
                if relief.get("applied"):
                    found.append((-SEVERITY[rule["consequence"]], len(found), relief["citation"]))
    seen: list[str] = []
    for _, _, citation in sorted(found):
        if citation not in seen:
            seen.append(citation)
    return seen
