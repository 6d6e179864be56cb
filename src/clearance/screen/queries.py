"""What a row of a counterparty file screens: its *query*.

A row's mapped fields (``name``, ``country``, ``schema``, ``dob`` and the
identifier columns) make one query.  :func:`query_of` gives it as plain JSON
data (stored with monitor portfolios, fingerprinted in alert row keys);
:func:`query_key` gives the same query as a hashable tuple

    (name, countries, schema, birth_date, identifiers)

which batch screening uses to screen each distinct query once and to send
queries to its workers compactly.  :func:`query_maker` compiles the
extraction for one column mapping (the per-row hot path).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Callable, Mapping

from ..tabular import FieldMapping

#: Screening fields -> header synonyms (compared case/punctuation-blind).
FIELDS: dict[str, tuple[str, ...]] = {
    "name": (
        "full name", "company", "company name", "party", "party name", "counterparty", "counterparty name",
        "entity", "entity name", "organisation", "organization", "legal name", "supplier", "supplier name",
        "vendor", "vendor name", "customer", "customer name", "beneficiary", "issuer", "issuer name", "holder",
    ),
    "country": ("country", "country code", "ctry", "nationality", "jurisdiction", "country of incorporation", "residence"),
    "schema": ("type", "entity type", "party type"),
    "dob": ("date of birth", "birth date", "birthdate", "born"),
    "address": ("street", "street address", "full address", "addr"),
    "isin": ("isin code", "isin number"),
    "lei": ("lei code",),
    "uscc": ("unified social credit code", "social credit code", "credit code"),
    "tax": ("tax id", "tax number", "tin", "vat", "vat number", "inn"),
    "ticker": ("symbol", "stock ticker"),
    "imo": ("imo number",),
    "passport": ("passport number",),
    "identifier": ("identifiers", "id number", "registration number", "registration"),
}
#: Fields screened as identifiers (field name = identifier kind, "identifier" = TYPE:VALUE or bare).
ID_FIELDS = ("isin", "lei", "uscc", "tax", "ticker", "imo", "passport", "identifier")
#: How the words people put in a type column read as schemata.
SCHEMA_WORDS = {
    "person": "Person", "individual": "Person", "naturalperson": "Person", "people": "Person",
    "company": "Company", "corporation": "Company", "business": "Company", "firm": "Company",
    "organization": "Organization", "organisation": "Organization", "org": "Organization",
    "entity": "LegalEntity", "legalentity": "LegalEntity",
    "vessel": "Vessel", "ship": "Vessel", "aircraft": "Airplane", "airplane": "Airplane",
}

#: (name, countries, schema, birth_date, identifiers): hashable, cheap to pickle.
Query = tuple

#: Distinct cell texts remembered per run by the memoised parts of a query (types, countries).
_MEMO = 4096


def _split(value: Any) -> list[str]:
    if value is None:
        return []
    return [p.strip() for p in str(value).replace("|", ";").split(";") if p.strip()]


def schema_word(value: Any) -> str | None:
    """A type column's text as a schema (``"individual"`` -> ``Person``); unknown words pass through."""
    if not value:
        return None
    return SCHEMA_WORDS.get("".join(ch for ch in str(value).casefold() if ch.isalnum()), str(value)) or None


def _identifiers(kind: str, value: Any) -> list[tuple[str | None, str]]:
    out: list[tuple[str | None, str]] = []
    for part in _split(value):
        if kind == "identifier":
            k, sep, v = part.partition(":")
            out.append((k.strip(), v.strip()) if sep and k.strip().isalpha() and v.strip() else (None, part))
        else:
            out.append((kind, part))
    return out


def query_key(fields: Mapping[str, Any]) -> Query:
    """The query of a row's mapped fields as a hashable tuple (see the module doc)."""
    identifiers: list[tuple[str | None, str]] = []
    for kind in ID_FIELDS:
        identifiers.extend(_identifiers(kind, fields.get(kind)))
    return (fields.get("name"), tuple(_split(fields.get("country"))), schema_word(fields.get("schema")), fields.get("dob"), tuple(identifiers))


def query_dict(query: Query) -> dict:
    """A :func:`query_key` tuple as the plain JSON data of :func:`query_of`."""
    name, countries, schema, birth_date, identifiers = query
    return {
        "name": name,
        "country": list(countries),
        "schema": schema,
        "birth_date": birth_date,
        "identifiers": [list(i) for i in identifiers],
    }


def query_of(fields: Mapping[str, Any]) -> dict:
    """The screening query of a row's mapped fields (plain JSON data)."""
    return query_dict(query_key(fields))


def query_maker(mapping: FieldMapping) -> Callable[[Mapping[str, Any]], Query]:
    """``make(values) == query_key(mapping.extract(values))``, compiled for one mapping (faster per row)."""
    cols = mapping.fields
    name_c, country_c, schema_c, dob_c = (cols.get(f) for f in ("name", "country", "schema", "dob"))
    id_cols = tuple((kind, cols[kind]) for kind in ID_FIELDS if kind in cols)
    countries_memo: dict[Any, tuple[str, ...]] = {}
    schema_memo: dict[Any, str | None] = {}

    def make(values: Mapping[str, Any]) -> Query:
        get = values.get
        name = get(name_c) if name_c is not None else None
        countries: tuple[str, ...] = ()
        if country_c is not None:
            text = get(country_c)
            if text is not None:
                found = countries_memo.get(text)
                if found is None:
                    found = tuple(_split(text))
                    if len(countries_memo) < _MEMO:
                        countries_memo[text] = found
                countries = found
        schema = None
        if schema_c is not None:
            text = get(schema_c)
            if text:
                schema = schema_memo.get(text, ...)
                if schema is ...:
                    schema = schema_word(text)
                    if len(schema_memo) < _MEMO:
                        schema_memo[text] = schema
        identifiers: tuple = ()
        if id_cols:
            identifiers = tuple(i for kind, col in id_cols for i in _identifiers(kind, get(col)))
        return (name, countries, schema, get(dob_c) if dob_c is not None else None, identifiers)

    return make


def row_fingerprint(query: Mapping[str, Any] | None) -> str:
    """Stable fingerprint of what a row screens (its query), 16 hex digits."""
    data = json.dumps(query, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(data.encode("utf-8")).hexdigest()[:16]


def row_key(index: int, query: Mapping[str, Any] | None) -> str:
    return f"{index}:{row_fingerprint(query)}"


__all__ = [
    "FIELDS",
    "ID_FIELDS",
    "SCHEMA_WORDS",
    "Query",
    "query_dict",
    "query_key",
    "query_maker",
    "query_of",
    "row_fingerprint",
    "row_key",
    "schema_word",
]
