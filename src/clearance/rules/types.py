"""The rules' vocabulary: the context of a party, the item, and the rule result."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any, Iterable

from ..errors import InputError
from .schema import SEVERITY

#: Sources whose ids prefix entity ids (used to infer the source of a bare Entity).
KNOWN_SOURCES = ("us-ofac-nonsdn", "us-ofac-sdn", "us-trade-csl", "us-bis-dpl", "us-covered", "un-sc")

SOURCE_LABELS = {
    "us-trade-csl": "Consolidated Screening List",
    "us-ofac-sdn": "OFAC SDN list",
    "us-ofac-nonsdn": "OFAC non-SDN lists",
    "us-bis-dpl": "Denied Persons List",
    "un-sc": "UN Security Council list",
    "us-covered": "US covered list",
}

PURPOSE_TEXT = {
    "export": "exports",
    "purchase": "purchases of equipment or services",
    "federal_procurement": "federal procurement",
    "federal_contract_use": "use of equipment under a federal contract",
    "investment": "securities investment",
}



@dataclass(frozen=True)
class Item:
    """The item of a transaction: its export classification and origin."""

    description: str | None = None
    eccn: str | None = None  # "EAR99", "5A002", "USML XI(c)" ...
    us_origin: bool | None = None
    itar: bool | None = None

    @property
    def item_class(self) -> str:
        """``itar`` | ``ear99`` | ``eccn`` | ``unclassified``."""
        eccn = (self.eccn or "").strip().upper()
        if self.itar or eccn.startswith(("USML", "ITAR", "CAT ")):
            return "itar"
        if not eccn:
            return "unclassified"
        return "ear99" if eccn == "EAR99" else "eccn"


@dataclass(frozen=True)
class Context:
    """What the rules need to know about the transaction around one party.

    Every field may be ``None`` (unknown); see the module docstring for what
    unknown means.  ``dates_required`` is set when the entry comes from a
    capture made *after* the date: an entry with no listing date is then
    reported as "listing date unknown" (capped at ``review``).
    """

    role: str | None = None
    purpose: str | None = None
    item: Item | None = None
    relies_on: frozenset[str] = frozenset()
    dates_required: bool = False
    capture: str | None = None  # capture label for the "listing date unknown" note




@dataclass
class Rule:
    """One consequence attached to one list entry, in force or explaining why not."""

    id: str
    rule: str  # the row's title
    source: str
    consequence: str  # prohibited | license-required | review | info
    text: str
    citation: str
    entity_id: str
    list_code: str | None = None  # CSL list code (EL, DPL, ...), "list" in to_dict()
    programs: list[str] = field(default_factory=list)
    federal_register: str | None = None
    license_requirement: str | None = None
    review_policy: str | None = None
    license_exceptions: str | None = None
    url: str | None = None
    effective_from: str | None = None
    effective_to: str | None = None
    dates: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    relief: list[dict[str, Any]] = field(default_factory=list)

    @property
    def severity(self) -> int:
        return SEVERITY[self.consequence]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["list"] = data.pop("list_code")
        return data


def most_severe(consequences: Iterable[str]) -> str:
    """The most severe of some consequences, ``clear`` when there is none that flags."""
    best = "clear"
    for consequence in consequences:
        if consequence != "info" and SEVERITY[consequence] > SEVERITY[best]:
            best = consequence
    return best


def as_date(value: date | datetime | str | None, exact: bool = False) -> date:
    """A date from ``YYYY-MM-DD`` (or a date); today for ``None``.  ``exact``: text must be
    just that form (no time after it, no ``20190101``)."""
    if value is None:
        return date.today()
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    try:
        found = date.fromisoformat(text[:10])
    except ValueError:
        found = None
    if found is None or (exact and found.isoformat() != text):
        raise InputError(f"date {value!r} is not a date; expected YYYY-MM-DD")
    return found
