"""Name normalisation: the same steps for list names (once, at index time) and
for queries (once per query).

1. cap the input (:data:`MAX_INPUT` characters), drop control characters;
2. Unicode NFKC and case folding;
3. Han runs are read through the glossary and pinyin (:mod:`.chinese`);
   other scripts are transliterated to ASCII (anyascii: Cyrillic, Arabic,
   Greek, Hebrew, accents ...);
4. ``&`` reads as ``and``; apostrophes join (``XI'AN`` -> ``xian``,
   ``O'Brien`` -> ``obrien``); every other non-alphanumeric separates tokens;
5. legal forms are canonicalised across languages (``Co., Ltd.``,
   ``Company Limited``, ``有限公司`` -> ``ltd``; ``L.L.C.`` -> ``llc``;
   ``ООО`` -> ``ooo``) and marked *weak*, as are stopwords and name particles
   (``of``, ``al``, ``bin``, ``van``).  Weak tokens are kept: they count, a
   little, in scoring.
"""

from __future__ import annotations

import re
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Iterator

from anyascii import anyascii
from rapidfuzz import process
from rapidfuzz.distance import OSA

from .chinese import is_han, read_han
from .resources import legal_forms, stopwords

#: Longest input read; anything after is ignored (names are far shorter).
MAX_INPUT = 512
#: Most tokens kept from one name.
MAX_TOKENS = 24

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")
_APOSTROPHES = re.compile(r"['’‘`´ʼʻ\u02bf\u02be]")
#: What identifiers drop: anything but ASCII letters and digits.
_NOT_IDENTIFIER = re.compile(r"[^A-Za-z0-9]+")
_HAN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f]")


@dataclass(frozen=True, slots=True)
class NameForm:
    """One normalised reading of a name."""

    tokens: tuple[str, ...]
    weak: tuple[bool, ...]

    @property
    def key(self) -> str:
        return " ".join(self.tokens)

    @property
    def strong_tokens(self) -> tuple[str, ...]:
        return tuple(t for t, w in zip(self.tokens, self.weak) if not w)


def clean(text: str) -> str:
    """Cap, strip control characters, NFKC and casefold."""
    text = str(text)[: MAX_INPUT * 2]
    if text.isascii() and text.isprintable():  # nothing to strip or normalise: most names
        return text.lower()[:MAX_INPUT]
    text = _CONTROL.sub(" ", text)
    text = unicodedata.normalize("NFKC", text).casefold()
    return text[:MAX_INPUT]


def script_of(text: str) -> str:
    """Dominant script of the letters in ``text``: latin, han, cyrillic, arabic, greek, other or none."""
    counts: dict[str, int] = {}
    for char in text:
        if not char.isalpha():
            continue
        if char.isascii():
            script = "latin"
        elif is_han(char):
            script = "han"
        else:
            name = unicodedata.name(char, "")
            script = next((s for s in ("LATIN", "CYRILLIC", "ARABIC", "GREEK", "HEBREW", "HANGUL") if name.startswith(s)), "OTHER").lower()
        counts[script] = counts.get(script, 0) + 1
    if not counts:
        return "none"
    return max(counts.items(), key=lambda kv: kv[1])[0]


_KEEP_S = ("ss", "us", "is", "os", "as", "ys")


def stem(token: str) -> str:
    """English plural to singular for longer words: ``technologies`` ->
    ``technology``, ``industries`` -> ``industry``, ``holdings`` ->
    ``holding``.  Names like ``Thomas``, ``Yunus``, ``Abbas`` are left alone."""
    if len(token) < 6 or token[-1] != "s" or token.endswith(_KEEP_S) or not token.isalpha():
        return token
    if token.endswith("ies"):
        return token[:-3] + "y"
    return token[:-1]


#: bytes.translate table for ASCII text: letters and digits stay, anything else separates
#: (apostrophes, which join words, are deleted first): split and apostrophes in one pass.
_ASCII_TOKEN_BYTES = bytes(code if chr(code) in "abcdefghijklmnopqrstuvwxyz0123456789" else ord(" ") for code in range(256))


def ascii_tokens(text: str) -> list[str]:
    """Tokens of a (cleaned, non-Han) text: transliterated, punctuation split, plurals singular."""
    text = text.replace("&", " and ")
    if not text.isascii():
        text = _APOSTROPHES.sub("", text)
        if not text.isascii():
            text = anyascii(text).lower()
    tokens = text.encode("ascii").translate(_ASCII_TOKEN_BYTES, b"'`").decode("ascii").split()  # anyascii gives ASCII
    return [stem(t) if t[-1] == "s" else t for t in tokens]  # stem() keeps the rest as they are


def _raw_readings(text: str) -> list[list[str]]:
    """Token readings of a cleaned text (several only when Han glossary terms have alternatives)."""
    if text.isascii() or _HAN.search(text) is None:
        return [ascii_tokens(text)]
    # split into Han and non-Han segments, keep their order
    segments: list[tuple[bool, str]] = []
    for char in text:
        han = is_han(char)
        if segments and segments[-1][0] == han:
            segments[-1] = (han, segments[-1][1] + char)
        else:
            segments.append((han, char))
    readings: list[list[str]] = [[]]
    for han, segment in segments:
        if not han:
            words = ascii_tokens(segment)
            readings = [r + words for r in readings]
            continue
        options = read_han(segment)
        new: list[list[str]] = []
        for reading in readings:
            for option in options:
                new.append(reading + [stem(t) for t in " ".join(option).split()])
        readings = new[:6]
    return readings


#: Stopwords that stay strong as a name's first token ("DES INTERNATIONAL", "LA CHIVA").
_WEAK_ALWAYS = frozenset({"the", "of", "and", "for"})


@lru_cache(maxsize=1)
def _form_words() -> tuple[str, ...]:
    """Words of legal forms long enough to recognise with a typo (``LIMkTED``)."""
    return tuple(sorted({w for phrase in legal_forms() for w in phrase if len(w) >= 5}))


def _form_word_edits(length: int) -> int:
    """Edits a token of this length may be from the legal-form word it stands for."""
    return 1 if length <= 9 else 2


@lru_cache(maxsize=64)
def _form_words_near(length: int) -> tuple[str, ...]:
    """The form words (in :func:`_form_words` order) a token of this length can be a typo
    of: an edit changes the length by at most one, so the rest are too far anyway."""
    allowed = _form_word_edits(length)
    return tuple(w for w in _form_words() if abs(len(w) - length) <= allowed)


@lru_cache(maxsize=8192)
def _fix_form_word(token: str) -> str:
    if len(token) < 5 or not token.isalpha():
        return token
    words = _form_words_near(len(token))
    if token in words:
        return token
    found = process.extractOne(token, words, scorer=OSA.distance, score_cutoff=_form_word_edits(len(token)))
    return found[0] if found else token


@lru_cache(maxsize=1)
def _form_starts() -> dict[str, int]:
    """First word of a legal-form phrase -> the longest such phrase's length."""
    starts: dict[str, int] = {}
    for phrase in legal_forms():
        starts[phrase[0]] = max(starts.get(phrase[0], 0), len(phrase))
    return starts


def canonicalise(tokens: list[str]) -> tuple[tuple[str, ...], tuple[bool, ...]]:
    """Canonical legal forms and weak flags for a token list."""
    forms = legal_forms()
    starts = _form_starts()
    stops = stopwords()
    if len(tokens) > 1:
        # a legal-form word with a typo is still a legal form ("COMANY", "LIMkTED"),
        # but only after the first token (the name proper comes first)
        tokens = tokens[:1] + [_fix_form_word(t) for t in tokens[1:]]
    out: list[str] = []
    weak: list[bool] = []
    i = 0
    n = len(tokens)
    while i < n:
        token = tokens[i]
        canonical = None
        if len(token) == 1 and token.isalpha():
            # a run of single letters (L.L.C., S.A., O.O.O.) that spells a legal form
            j = i + 1
            while j < n and len(tokens[j]) == 1 and tokens[j].isalpha():
                j += 1
            if j - i >= 2:
                canonical = forms.get(("".join(tokens[i:j]),))
        if canonical is None and token in starts:
            # the longest legal-form phrase from here
            for j in range(min(i + starts[token], n), i, -1):
                canonical = forms.get(tuple(tokens[i:j]))
                if canonical is not None:
                    break
        if canonical is not None:
            out.append(canonical)
            weak.append(True)
            i = j
            continue
        out.append(token)
        weak.append(token in stops and (len(out) > 1 or token in _WEAK_ALWAYS or stops[token] != "stopword"))
        i += 1
    return tuple(out[:MAX_TOKENS]), tuple(weak[:MAX_TOKENS])


def analyze(text: str) -> tuple[NameForm, ...]:
    """Every normalised reading of a name (usually one; none if nothing usable)."""
    text = str(text)[: MAX_INPUT * 2]
    return _KNOWN.get(text) or _analyze(text)


#: Readings made earlier and kept, by text (:func:`known_readings`).
_KNOWN: dict[str, tuple[NameForm, ...]] = {}


@contextmanager
def known_readings(readings: Iterable[tuple[str, tuple[NameForm, ...]]]) -> Iterator[None]:
    """Within the block, :func:`analyze` gives these texts these readings without reading them
    again.  A monitor run re-screens rows whose names its book read at registration, with this
    normalisation (the book is rebuilt when it changes); reading a Chinese name first in a
    process loads pypinyin's dictionaries, about 0.4 s."""
    _KNOWN.update((str(text)[: MAX_INPUT * 2], forms) for text, forms in readings)
    try:
        yield
    finally:
        _KNOWN.clear()


@lru_cache(maxsize=32768)
def _analyze(text: str) -> tuple[NameForm, ...]:
    cleaned = clean(text)
    forms: list[NameForm] = []
    seen: set[tuple[str, ...]] = set()
    for reading in _raw_readings(cleaned):
        tokens, weak = canonicalise(reading)
        if tokens and tokens not in seen:
            seen.add(tokens)
            forms.append(NameForm(tokens, weak))
    return tuple(forms)


def normalize_identifier(value: str) -> str:
    """Identifiers compare on upper-case letters and digits only."""
    return _NOT_IDENTIFIER.sub("", clean(value).upper())
