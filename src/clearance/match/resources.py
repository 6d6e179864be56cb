"""Curated matching data: legal forms, stopwords and particles, the Chinese
glossary and the traditional -> simplified table.

Every file lives in ``data/match/`` as a reviewed CSV, one fact per row, each
row with its source and date (see ``docs/matching.md``).  Loaded once per
process and cached.
"""

from __future__ import annotations

import csv
import hashlib
from functools import lru_cache
from pathlib import Path

from ..data import data_dir

FILES = ("legal_forms.csv", "stopwords.csv", "zh_glossary.csv", "zh_traditional.csv")


def match_dir() -> Path:
    return data_dir() / "match"


def _rows(name: str) -> list[dict[str, str]]:
    path = match_dir() / name
    if not path.exists():
        return []
    with path.open(encoding="utf-8", newline="") as handle:
        return [row for row in csv.DictReader(handle) if any((v or "").strip() for v in row.values())]


@lru_cache(maxsize=1)
def data_version() -> str:
    """A digest of the curated files: part of the index cache key."""
    digest = hashlib.sha1()
    for name in FILES:
        path = match_dir() / name
        if path.exists():
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


@lru_cache(maxsize=1)
def legal_forms() -> dict[tuple[str, ...], str]:
    """Phrase (tuple of normalised tokens) -> canonical legal-form token."""
    forms: dict[tuple[str, ...], str] = {}
    for row in _rows("legal_forms.csv"):
        phrase = tuple(row["form"].lower().split())
        if phrase:
            forms.setdefault(phrase, row["canonical"].strip().lower())
    return forms


@lru_cache(maxsize=1)
def stopwords() -> dict[str, str]:
    """Token -> kind (``stopword``, ``particle`` or ``title``)."""
    return {row["word"].strip().lower(): row["kind"].strip() for row in _rows("stopwords.csv")}


@lru_cache(maxsize=1)
def zh_glossary() -> dict[str, list[tuple[str, str]]]:
    """Chinese term -> [(english, kind), ...], first row first (the primary)."""
    glossary: dict[str, list[tuple[str, str]]] = {}
    for row in _rows("zh_glossary.csv"):
        term = row["chinese"].strip()
        english = " ".join(row["english"].lower().split())
        if term and english:
            entries = glossary.setdefault(term, [])
            if (english, row["kind"]) not in entries:
                entries.append((english, row["kind"].strip()))
    return glossary


@lru_cache(maxsize=1)
def zh_traditional() -> dict[int, str]:
    """str.translate table: traditional character -> simplified."""
    return {ord(row["traditional"]): row["simplified"] for row in _rows("zh_traditional.csv") if row["traditional"]}
