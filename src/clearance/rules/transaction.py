"""The assessment's JSON input (a transaction) and output, as pydantic models.

Both are documented in ``docs/rules.md`` and their JSON Schemas are printed
by ``clearance assess --schema input|output``.  Bad input is an
:class:`~clearance.errors.InputError` naming the file, the field and what was
expected (:func:`read_transaction`).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..errors import InputError
from .schema import Consequence, Purpose, Role

Status = Literal["prohibited", "license-required", "review", "clear"]
ECCN_RE = re.compile(r"^(EAR99|[0-9][A-E][0-9]{3}[A-Za-z0-9.\-]*|USML.*|ITAR.*)$", re.IGNORECASE)
MAX_BYTES = 5_000_000


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ItemIn(_Strict):
    """What is exported, bought or used."""

    description: str | None = Field(None, description="Plain description, e.g. 'DDR4 memory modules'")
    eccn: str | None = Field(None, description="Export classification: EAR99, an ECCN such as 5A002, or 'USML ...' for ITAR items")
    us_origin: bool | None = Field(None, description="True for US-origin items (subject to the EAR); false for foreign-made items")
    itar: bool | None = Field(None, description="True for defense articles on the USML")
    manufacturer: str | None = Field(None, description="Producer of the item; screened as a party with role 'manufacturer'")

    @field_validator("eccn")
    @classmethod
    def _eccn(cls, value: str | None) -> str | None:
        if value and not ECCN_RE.match(value):
            raise ValueError(f"{value!r} is not an export classification; expected EAR99, an ECCN like 5A002 or 'USML <category>'")
        return value.upper() if value and value.upper() == "EAR99" else value


class PartyIn(_Strict):
    """One party of the transaction, screened against every list."""

    role: Role
    name: str | None = Field(None, description="Name as it appears on the documents (any script)")
    country: str | None = Field(None, description="Country name or ISO code")
    address: str | None = None
    schema_: Literal["Person", "Company", "Organization", "LegalEntity", "Vessel", "Airplane"] | None = Field(
        None, alias="schema"
    )
    isin: str | None = None
    ticker: str | None = None
    identifiers: dict[str, str] | None = Field(None, description="Other identifiers by type, e.g. {\"uscc\": \"9133...\"}")

    @model_validator(mode="after")
    def _something_to_screen(self) -> "PartyIn":
        if not (self.name or self.isin or self.ticker or self.identifiers):
            raise ValueError("a party needs a name or an identifier (isin, ticker, identifiers)")
        return self

    def identifier_pairs(self) -> list[tuple[str, str]]:
        pairs = [("isin", self.isin), ("ticker", self.ticker), *(self.identifiers or {}).items()]
        return [(k, v) for k, v in pairs if v]


class HoldingIn(_Strict):
    """A security held or to be bought (the fund question): screened as the issuer."""

    isin: str | None = None
    ticker: str | None = None
    name: str | None = Field(None, description="Issuer name, if known")

    @model_validator(mode="after")
    def _something(self) -> "HoldingIn":
        if not (self.isin or self.ticker or self.name):
            raise ValueError("a holding needs an isin, a ticker or a name")
        return self


class TransactionIn(_Strict):
    """A transaction to assess."""

    id: str | None = Field(None, description="Your reference, echoed in the output")
    date: dt.date | None = Field(None, description="Date of the transaction (YYYY-MM-DD); the assessment date unless --as-of is given")
    destination: str | None = Field(None, description="Destination country (name or ISO code)")
    purpose: Purpose | None = Field(None, description="export (default) | purchase | federal_procurement | federal_contract_use | investment")
    item: ItemIn | None = None
    parties: list[PartyIn] = Field(default_factory=list)
    holding: HoldingIn | None = None
    relies_on: list[str] = Field(default_factory=list, description="Relief claimed, by family, e.g. [\"huawei-tgl\"]")

    @model_validator(mode="after")
    def _something_to_assess(self) -> "TransactionIn":
        if not self.parties and self.holding is None and not (self.item and self.item.manufacturer):
            raise ValueError("nothing to assess; expected 'parties', a 'holding' or an item 'manufacturer'")
        return self


# -- output ------------------------------------------------------------------------


class RuleOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    id: str
    rule: str = Field(description="The rule's title")
    source: str
    list_code: str | None = Field(None, alias="list", description="CSL list code (EL, DPL, SDN ...)")
    programs: list[str] = []
    consequence: Consequence
    text: str = Field(description="What the rule means here, in plain words")
    citation: str
    federal_register: str | None = None
    license_requirement: str | None = None
    review_policy: str | None = None
    license_exceptions: str | None = None
    url: str | None = None
    effective_from: str | None = None
    effective_to: str | None = None
    dates: dict[str, str] = {}
    notes: list[str] = []
    relief: list[dict[str, Any]] = []
    entity_id: str


class HitOut(BaseModel):
    entity_id: str
    source: str
    schema_: str = Field(alias="schema")
    name: str
    matched_name: str
    score: float
    status: Literal["match", "review"]
    programs: list[str] = []
    why: str = Field(description="The matcher's one-line reason")
    via: Literal["name", "ownership"] = Field("name", description="Matched by name/identifier, or derived through owners")
    consequence: Status = Field(description="What this hit means for the party")
    rules: list[str] = Field(description="Ids of the rules attached (details in the party's rules)")

    model_config = ConfigDict(populate_by_name=True)


class PartyOut(BaseModel):
    role: Role
    name: str | None
    country: str | None = None
    identifiers: list[str] = []
    purpose: Purpose
    status: Status
    hits: list[HitOut]
    rules: list[RuleOut]
    reasons: list[str]
    error: str | None = None


class SnapshotOut(BaseModel):
    source: str
    mode: Literal["active", "on-or-before", "earliest-after", "bundled"]
    version: int | None
    captured: str | None
    published: str | None
    dates_required: bool
    note: str


class AssessmentOut(BaseModel):
    determination: Status
    as_of: str
    id: str | None = None
    transaction: dict[str, Any]
    parties: list[PartyOut]
    reasons: list[str]
    citations: list[str]
    snapshots: list[SnapshotOut]


def _error_line(label: str, exc: ValidationError) -> str:
    error = exc.errors()[0]
    loc = ".".join(str(p) for p in error["loc"]) or "transaction"
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = "unknown field; expected one of the documented fields (see docs/rules.md)"
    elif error["type"] == "literal_error":
        message = message.replace("Input should be", "expected")
    return f"{label}: field {loc!r}: {message}"


def parse_transaction(data: Any, label: str = "transaction") -> TransactionIn:
    """Validate a transaction mapping; raise :class:`InputError` naming the field."""
    if not isinstance(data, dict):
        raise InputError(f"{label}: top level is a {type(data).__name__}; expected a JSON object with 'parties'")
    try:
        return TransactionIn.model_validate(data)
    except ValidationError as exc:
        raise InputError(_error_line(label, exc)) from None


def read_transaction(path: str | Path) -> TransactionIn:
    """Read and validate ``TRANSACTION.json``."""
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{path}: is a folder; expected a transaction JSON file")
    if not path.is_file():
        raise InputError(f"{path}: file not found; expected a transaction JSON file")
    if path.stat().st_size > MAX_BYTES:
        raise InputError(f"{path}: file is larger than {MAX_BYTES} bytes; expected one transaction")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text; expected a JSON file") from None
    return parse_transaction(load_json(text, str(path)), str(path))


def load_json(text: str, where: str) -> Any:
    """JSON text, or an InputError naming ``where`` (malformed, or nested too deeply to read)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{where}, line {exc.lineno}: malformed JSON ({exc.msg}, column {exc.colno})") from None
    except RecursionError:
        raise InputError(f"{where}: JSON nested too deeply; expected one transaction object") from None
