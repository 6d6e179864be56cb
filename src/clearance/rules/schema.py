"""The rule tables in ``data/rules/``: their row shapes (pydantic) and loading.

Two files, each a YAML list of rows, one fact per row:

``lists.yaml``
    what a listing means: per source / list / programme, for which purposes,
    party roles and items, from when to when, the consequence
    (``prohibited`` | ``license-required`` | ``review`` | ``info``), the
    plain-language text and the citation;
``relief.yaml``
    dated relief on top of a listing (general licences such as the Huawei
    Temporary General License), applied only inside its dates.

Every row must carry a citation; a malformed row is a
:class:`~clearance.errors.InputError` naming the file, the row and the field.
"""

from __future__ import annotations

import fnmatch
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..data import data_dir
from ..errors import InputError

Consequence = Literal["prohibited", "license-required", "review", "info"]
Purpose = Literal["export", "purchase", "federal_procurement", "federal_contract_use", "investment"]
Role = Literal[
    "purchaser",
    "intermediate_consignee",
    "ultimate_consignee",
    "end_user",
    "supplier",
    "manufacturer",
    "issuer",
    "investee",
    "other",
]
ItemClass = Literal["ear99", "eccn", "itar", "unclassified"]

PURPOSES: tuple[str, ...] = Purpose.__args__  # type: ignore[attr-defined]
ROLES: tuple[str, ...] = Role.__args__  # type: ignore[attr-defined]
#: Roles that receive the item in an export (15 CFR 744.11 parties).
EXPORT_RECIPIENTS = ("purchaser", "intermediate_consignee", "ultimate_consignee", "end_user")

#: Severity order; the most severe consequence wins.
SEVERITY = {"clear": 0, "info": 0, "review": 1, "license-required": 2, "prohibited": 3}

RULE_FILES = ("lists.yaml", "relief.yaml")


def _listify(value: Any) -> Any:
    if value is None:
        return []
    return [value] if isinstance(value, str) else value


class Clause(BaseModel):
    """One way a row can match a list entry; all given fields must hold."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    source: list[str] = Field(default_factory=list)
    lists: list[str] = Field(default_factory=list, alias="list")  # CSL list code (entity ``listName``)
    program: list[str] = Field(default_factory=list)  # glob patterns on ``program``
    federal_register: list[str] = Field(default_factory=list)  # substrings of the entry's FR notices
    name_contains: list[str] = Field(default_factory=list)  # case-insensitive substrings of the name

    _listify = field_validator("source", "lists", "program", "federal_register", "name_contains", mode="before")(
        _listify
    )

    @model_validator(mode="after")
    def _not_empty(self) -> "Clause":
        if not self.source:
            raise ValueError("a match clause needs a source")
        return self

    def matches(self, source: str, entity_lists: list[str], programs: list[str], notices: str, name: str) -> bool:
        if source not in self.source:
            return False
        if self.lists and not set(self.lists) & set(entity_lists):
            return False
        if self.program and not any(fnmatch.fnmatchcase(p, pat) for p in programs for pat in self.program):
            return False
        squashed = _squash(notices)
        if self.federal_register and not any(_squash(fr) in squashed for fr in self.federal_register):
            return False
        if self.name_contains and not any(n.lower() in name.lower() for n in self.name_contains):
            return False
        return True


def _squash(text: str) -> str:
    """``84 F.R. 22961`` and ``84 FR 22961`` compare equal."""
    return "".join(ch for ch in text.lower() if ch.isalnum())


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: str = Field(min_length=3)
    match: list[Clause] = Field(min_length=1)
    text: str = Field(min_length=10)
    citation: str = Field(min_length=3)
    url: str | None = None
    effective_from: date | None = None
    effective_to: date | None = None  # last day in force (inclusive)
    reviewed: date

    @model_validator(mode="after")
    def _dates_in_order(self) -> "_Row":
        if self.effective_from and self.effective_to and self.effective_to < self.effective_from:
            raise ValueError(f"effective_to {self.effective_to} is before effective_from {self.effective_from}")
        return self

    def in_force(self, on: date) -> bool:
        return (self.effective_from is None or self.effective_from <= on) and (
            self.effective_to is None or on <= self.effective_to
        )

    def matches(self, source: str, entity_lists: list[str], programs: list[str], notices: str, name: str) -> bool:
        return any(c.matches(source, entity_lists, programs, notices, name) for c in self.match)


class RuleRow(_Row):
    """What a listing means, for whom, from when."""

    kind: Literal["listing", "ownership"] = "listing"
    fallback: bool = False  # used only when no other row of the source matches the entry
    purposes: list[Purpose] | None = None  # None: any purpose
    roles: list[Role] | None = None  # None: any role
    items: list[ItemClass] | None = None  # None: any item
    consequence: Consequence
    entry_from: str | None = None  # entity date property at/after which the row applies
    entry_until: str | None = None  # entity date property before which the row applies
    requires_ear: bool = False  # only for items subject to the EAR
    el_scope: bool = False  # check the entry's own licence requirement against the item
    cite_entry: bool = False  # put the entry's Federal Register notice(s) before the rule's citation
    license_requirement: str | None = None
    review_policy: str | None = None
    license_exceptions: str | None = None


class ReliefRow(_Row):
    """Dated relief (a general licence) on top of the rules it names."""

    family: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")  # what a transaction claims: "huawei-tgl"
    applies_to: list[str] = Field(min_length=1)  # rule ids it relieves
    automatic: bool = False  # applies without being claimed
    effect: Literal["review", "clear"] = "review"  # the relieved consequence becomes this
    scope: str = Field(min_length=10)


class RuleBook(BaseModel):
    rules: list[RuleRow]
    relief: list[ReliefRow]

    def rule(self, rule_id: str) -> RuleRow:
        for row in self.rules:
            if row.id == rule_id:
                return row
        raise KeyError(rule_id)

    @property
    def families(self) -> set[str]:
        return {r.family for r in self.relief}


def rules_dir() -> Path:
    return data_dir() / "rules"


def _read_rows(path: Path, model: type[BaseModel]) -> list[Any]:
    if not path.is_file():
        raise InputError(f"{path}: rule file not found; expected it in the data directory")
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark else ""
        raise InputError(f"{path}{where}: malformed YAML; expected a list of rule rows") from None
    if not isinstance(doc, list):
        raise InputError(f"{path}: top level is not a list; expected a list of rule rows")
    rows = []
    for index, raw in enumerate(doc, start=1):
        label = raw.get("id") if isinstance(raw, dict) else None
        try:
            rows.append(model.model_validate(raw))
        except ValidationError as exc:
            error = exc.errors()[0]
            field = ".".join(str(p) for p in error["loc"]) or "row"
            raise InputError(f"{path}: row {index} ({label or 'no id'}), field {field!r}: {error['msg']}") from None
    return rows


def load_rules(directory: Path | None = None) -> RuleBook:
    """Read and check both rule files; ids must be unique and relief must name real rules."""
    directory = Path(directory) if directory else rules_dir()
    rules = _read_rows(directory / "lists.yaml", RuleRow)
    relief = _read_rows(directory / "relief.yaml", ReliefRow)
    seen: set[str] = set()
    for row in [*rules, *relief]:
        if row.id in seen:
            raise InputError(f"{directory}: rule id {row.id!r} is used twice; expected unique ids")
        seen.add(row.id)
    ids = {r.id for r in rules}
    for row in relief:
        for target in row.applies_to:
            if target not in ids:
                raise InputError(f"{directory / 'relief.yaml'}: {row.id} applies_to unknown rule {target!r}")
    return RuleBook(rules=rules, relief=relief)


@lru_cache(maxsize=1)
def default_rules() -> RuleBook:
    """The bundled rule tables, loaded once per process."""
    return load_rules()
