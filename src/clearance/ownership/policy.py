"""Ownership rules as dated data (``data/curated/ownership-rules.yaml``).

A *family* is the set of listed parties whose holdings are added up together
(SDN; Entity List + MEU; the section 889 producers ...). A *rule* says what an
aggregate share held by a family triggers, from which threshold, and on which
dates it is in force (or suspended). ``Policy.status(rule, date)`` answers
"does this rule apply on this day", with the citation of the window.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..data import data_dir
from ..errors import InputError
from ..model import Entity

POLICY_FILE = "ownership-rules.yaml"
COUNTINGS = ("restricted-owners", "none")


@dataclass(frozen=True, slots=True)
class Window:
    start: str | None
    end: str | None
    citation: str | None = None

    def holds(self, date: str) -> bool:
        return (self.start is None or date >= self.start) and (self.end is None or date <= self.end)

    def to_dict(self) -> dict:
        out = {"from": self.start, "to": self.end}
        if self.citation:
            out["citation"] = self.citation
        return out


@dataclass(frozen=True, slots=True)
class Member:
    source: str | None = None
    list_name: str | None = None
    program: str | None = None
    curated: str | None = None

    def matches(self, source: str, entity: Entity) -> bool:
        if self.curated or self.source != source:
            return False
        if self.list_name and self.list_name not in entity.get("listName"):
            return False
        if self.program and self.program not in entity.get("program"):
            return False
        return True


@dataclass(frozen=True, slots=True)
class Family:
    id: str
    label: str
    members: tuple[Member, ...]

    @property
    def curated(self) -> tuple[str, ...]:
        return tuple(m.curated for m in self.members if m.curated)


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    family: str
    title: str
    threshold: float | None
    counting: str
    effect: str
    consequence: str
    citation: str
    url: str | None
    in_force: tuple[Window, ...]
    suspended: tuple[Window, ...] = ()
    notes: tuple[str, ...] = ()

    def status(self, date: str) -> tuple[str, Window | None]:
        """``in-force``, ``suspended`` or ``not-in-force`` on ``date``, and the window that says so."""
        for window in self.suspended:
            if window.holds(date):
                return "suspended", window
        for window in self.in_force:
            if window.holds(date):
                return "in-force", window
        return "not-in-force", None

    def describe(self) -> dict:
        return {
            "rule": self.id,
            "family": self.family,
            "title": self.title,
            "threshold": self.threshold,
            "effect": self.effect,
            "consequence": self.consequence,
            "citation": self.citation,
            "url": self.url,
            "in_force": [w.to_dict() for w in self.in_force],
            "suspended": [w.to_dict() for w in self.suspended],
        }


@dataclass(slots=True)
class Policy:
    families: dict[str, Family]
    rules: dict[str, Rule]  # by family
    review_share: float = 0.25
    digest: str = ""
    path: str = ""
    _cache: dict = field(default_factory=dict, repr=False)

    def families_for(self, source: str, entity: Entity) -> tuple[str, ...]:
        """The families a list entry of ``source`` belongs to."""
        return tuple(f.id for f in self.families.values() if any(m.matches(source, entity) for m in f.members))

    def curated_families(self, curated: str) -> tuple[str, ...]:
        return tuple(f.id for f in self.families.values() if curated in f.curated)

    def rule(self, family: str) -> Rule | None:
        return self.rules.get(family)


def default_policy_path() -> Path:
    override = os.environ.get("CLEARANCE_OWNERSHIP_RULES")
    return Path(override) if override else data_dir() / "curated" / POLICY_FILE


_LOADED: dict[tuple[str, float], Policy] = {}


def load_policy(path: str | Path | None = None) -> Policy:
    """Read and check a rules file (default: the bundled one, or $CLEARANCE_OWNERSHIP_RULES)."""
    path = Path(path) if path else default_policy_path()
    try:
        stamp = (str(path), path.stat().st_mtime)
    except OSError:
        raise InputError(f"{path}: ownership rules file not found") from None
    if stamp in _LOADED:
        return _LOADED[stamp]
    raw = path.read_bytes()
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: not valid YAML ({exc})") from None
    policy = _parse(path, data)
    policy.digest = hashlib.sha256(raw).hexdigest()[:16]
    policy.path = str(path)
    _LOADED[stamp] = policy
    return policy


def _need(path: Path, where: str, value, kind):
    if not isinstance(value, kind):
        raise InputError(f"{path}: {where} must be a {kind.__name__ if isinstance(kind, type) else 'value'}")
    return value


def _date(path: Path, where: str, value) -> str | None:
    if value is None:
        return None
    text = str(value)
    if len(text) != 10 or text[4] != "-" or text[7] != "-":
        raise InputError(f"{path}: {where} is {text!r}; expected a date YYYY-MM-DD")
    return text


def _windows(path: Path, where: str, items) -> tuple[Window, ...]:
    out = []
    for number, item in enumerate(_need(path, where, items or [], list)):
        item = _need(path, f"{where}[{number}]", item, dict)
        start = _date(path, f"{where}[{number}].from", item.get("from"))
        end = _date(path, f"{where}[{number}].to", item.get("to"))
        if start and end and end < start:
            raise InputError(f"{path}: {where}[{number}] ends ({end}) before it starts ({start})")
        out.append(Window(start, end, item.get("citation")))
    return tuple(out)


def _parse(path: Path, data) -> Policy:
    data = _need(path, "the file", data, dict)
    families: dict[str, Family] = {}
    for fid, spec in _need(path, "families", data.get("families"), dict).items():
        spec = _need(path, f"family {fid}", spec, dict)
        members = []
        for number, member in enumerate(_need(path, f"family {fid} members", spec.get("members"), list)):
            member = _need(path, f"family {fid} member {number}", member, dict)
            unknown = set(member) - {"source", "listName", "program", "curated"}
            if unknown or not (member.get("source") or member.get("curated")):
                raise InputError(
                    f"{path}: family {fid} member {number}: expected 'source' (with optional 'listName', "
                    f"'program') or 'curated'; got {sorted(member)}"
                )
            members.append(Member(member.get("source"), member.get("listName"), member.get("program"), member.get("curated")))
        families[fid] = Family(fid, str(spec.get("label") or fid), tuple(members))
    rules: dict[str, Rule] = {}
    for number, spec in enumerate(_need(path, "rules", data.get("rules"), list)):
        spec = _need(path, f"rule {number}", spec, dict)
        rid = str(spec.get("id") or f"rule-{number}")
        family = spec.get("family")
        if family not in families:
            raise InputError(f"{path}: rule {rid}: family {family!r} is not one of {', '.join(families)}")
        if family in rules:
            raise InputError(f"{path}: rule {rid}: family {family} already has rule {rules[family].id}")
        threshold = spec.get("threshold")
        if threshold is not None and not (isinstance(threshold, (int, float)) and 0 < threshold <= 1):
            raise InputError(f"{path}: rule {rid}: threshold must be a fraction in (0, 1], e.g. 0.5; got {threshold!r}")
        counting = spec.get("counting", "restricted-owners")
        if counting not in COUNTINGS:
            raise InputError(f"{path}: rule {rid}: counting must be one of {', '.join(COUNTINGS)}")
        rules[family] = Rule(
            id=rid,
            family=family,
            title=str(spec.get("title") or rid),
            threshold=float(threshold) if threshold is not None else None,
            counting=counting,
            effect=str(spec.get("effect") or "review"),
            consequence=" ".join(str(spec.get("consequence") or "").split()),
            citation=" ".join(str(spec.get("citation") or "").split()),
            url=spec.get("url"),
            in_force=_windows(path, f"rule {rid} in_force", spec.get("in_force")),
            suspended=_windows(path, f"rule {rid} suspended", spec.get("suspended")),
            notes=tuple(" ".join(str(n).split()) for n in spec.get("notes") or ()),
        )
    review = data.get("review_share", 0.25)
    if not isinstance(review, (int, float)) or not 0 <= review <= 1:
        raise InputError(f"{path}: review_share must be a fraction between 0 and 1")
    return Policy(families=families, rules=rules, review_share=float(review))
