"""Model-number conventions of the covered producers, from
``data/curated/covered-models.csv``: one documented product-code convention
per row (producer, regular expression, product line, strength, real example
model numbers, source, date).

A pattern is matched, case-insensitively, at the start of a model number
(``DS-2CD2143G2-I``) or of a word in free text (a description, a service
banner, a serial number that begins with the model).  ``strong`` rows are
product codes no other maker uses (``DS-2CD``, ``IPC-HFW``, ``DH-``);
``weak`` rows are short or generic codes (``SD49225XA-HNR``, ``S5720-28X``,
``PD785``) that only count with another signal.

>>> match_model("DS-2CD2143G2-I")[0].pattern.producer
'hikvision'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable

from ..data import data_dir
from ..ownership.brands import PRODUCERS
from ..sources.common import curated_rows

FILE = "covered-models.csv"
COLUMNS = ("producer", "pattern", "product_line", "strength", "examples", "source", "date")
STRENGTHS = ("strong", "weak")
#: Dashes and spaces people type inside model numbers, folded before matching.
_DASHES = re.compile("[\u2010-\u2015\u2212\uff0d_]")
#: Candidate model numbers inside free text: a word with a letter and a digit.
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9/()+.-]{2,}")


@dataclass(frozen=True, slots=True)
class ModelPattern:
    """One curated row."""

    line: int
    producer: str
    pattern: str
    regex: re.Pattern
    product_line: str
    strength: str
    examples: tuple[str, ...]
    source: str
    date: str | None

    def to_dict(self) -> dict:
        return {
            "producer": self.producer,
            "pattern": self.pattern,
            "product_line": self.product_line,
            "strength": self.strength,
            "source": self.source,
            "date": self.date,
            "line": self.line,
        }


@dataclass(frozen=True, slots=True)
class ModelMatch:
    pattern: ModelPattern
    text: str  # the model number (or word) that matched

    @property
    def producer(self) -> str:
        return self.pattern.producer

    @property
    def strength(self) -> str:
        return self.pattern.strength


def curated_path() -> Path:
    return data_dir() / "curated" / FILE


def normalise_model(text: str) -> str:
    """Upper case, unicode dashes and underscores as ``-``, spaces collapsed."""
    return " ".join(_DASHES.sub("-", str(text)).upper().split())


@lru_cache(maxsize=4)
def load_patterns(path: str | None = None) -> tuple[ModelPattern, ...]:
    """Every curated row, checked: a bad regex, producer or strength is a
    :class:`SourceError` naming the line, and so is a row whose own examples
    do not match it."""
    file = Path(path) if path else curated_path()
    rows = []
    for raw in curated_rows(file, COLUMNS):
        raw.choice("producer", tuple(PRODUCERS))
        raw.choice("strength", STRENGTHS)
        if not raw["pattern"].startswith("^"):
            raise raw.error("a pattern must be anchored with ^ (it is matched at the start of a model number)", "pattern")
        try:
            regex = re.compile(raw["pattern"], re.IGNORECASE)
        except re.error as exc:
            raise raw.error(f"not a regular expression ({exc})", "pattern") from None
        if not raw["source"]:
            raise raw.error("every row needs a source", "source")
        when = raw.date("date")
        examples = tuple(e.strip() for e in raw["examples"].split("|") if e.strip())
        if not examples:
            raise raw.error("every row needs at least one real model number in 'examples'", "examples")
        for example in examples:
            if not regex.match(normalise_model(example)):
                raise raw.error(f"example {example!r} does not match the row's own pattern", "examples")
        rows.append(ModelPattern(raw.line, raw["producer"], raw["pattern"], regex, raw["product_line"], raw["strength"], examples, raw["source"], when))
    return tuple(rows)


def _best(found: list[ModelMatch]) -> list[ModelMatch]:
    """Strong before weak, one match per producer and pattern."""
    seen: set[tuple[str, int]] = set()
    out = []
    for match in sorted(found, key=lambda m: (m.strength != "strong", m.pattern.line)):
        key = (match.producer, match.pattern.line)
        if key not in seen:
            seen.add(key)
            out.append(match)
    return out


def match_model(text: str | None, patterns: Iterable[ModelPattern] | None = None) -> list[ModelMatch]:
    """Patterns matching a model-number field: the whole value, then each of its words."""
    if not text or not str(text).strip():
        return []
    patterns = tuple(patterns) if patterns is not None else load_patterns()
    value = normalise_model(text)
    candidates = [value]
    if " " in value:  # "DS 2CD2143G2-I" typed with a space for the dash
        candidates += [value.replace(" ", "-"), value.replace(" ", "")]
    for word in value.split(" "):
        if word and word != value:
            candidates.append(word)
    found = [ModelMatch(p, c) for c in candidates for p in patterns if p.regex.match(c)]
    return _best(found)


def find_models(text: str | None, patterns: Iterable[ModelPattern] | None = None) -> list[ModelMatch]:
    """Patterns matching model-number-like words (a letter and a digit) inside free text."""
    if not text or not str(text).strip():
        return []
    patterns = tuple(patterns) if patterns is not None else load_patterns()
    value = normalise_model(text)
    found: list[ModelMatch] = []
    # a product-line name written with a space ("CloudEngine S5731", "ZXHN F660") first
    for phrase in re.finditer(r"(?:^|\s)((?:CLOUDENGINE|ZX[A-Z0-9]{1,3})\s[A-Z0-9][A-Z0-9/-]*)", value):
        found.extend(ModelMatch(p, phrase.group(1)) for p in patterns if p.regex.match(phrase.group(1)))
    for word in _WORD.findall(value):
        word = word.strip(".()")
        if not (any(c.isdigit() for c in word) and any(c.isalpha() for c in word)):
            continue
        found.extend(ModelMatch(p, word) for p in patterns if p.regex.match(word))
    return _best(found)


__all__ = ["ModelMatch", "ModelPattern", "curated_path", "find_models", "load_patterns", "match_model", "normalise_model"]
