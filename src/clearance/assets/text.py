"""Manufacturer and brand text -> covered producer.

Three steps, strongest first:

1. :func:`clearance.ownership.brands.resolve_producer` - the curated names,
   aliases, Chinese names and OUI registrants of the producers, their
   subsidiaries and brands, normalised by the matching engine
   (:mod:`clearance.match.normalize`): a whole name (``Zhejiang Dahua
   Technology Co., Ltd.``) or a brand word inside the text (``EZVIZ C6N``);
2. a brand word found inside a longer name is only *strong* when the other
   words are ones a maker of such equipment uses (``Dahua Security``,
   ``Hikvision USA``): ``Dahua Foods`` or ``Huawei Marine`` share a word with
   a covered name but name another business, so they are *weak* (review);
3. typos (``Hikvison``, ``Hua wei``): the matching engine's token similarity
   (:func:`clearance.match.score.token_sim`, one or two edits, or two words
   written as one) against the curated brand words - always *weak*.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from ..match.chinese import has_han
from ..match.normalize import analyze
from ..match.score import token_sim
from ..ownership.brands import ProducerMatch, load_affiliates, resolve_producer

#: Words that do not change which business a name denotes: the trade, places,
#: corporate words.  "Dahua Security" is Dahua; "Dahua Foods" is not.
GENERIC_WORDS = frozenset(
    """
    technology technologies tech digital digitals security secure network networks networking vision video
    systems system communication communications comm comms telecom telecoms telecommunication
    telecommunications electronic electronics electric international intl group holding holdings global
    usa us america americas north south europe european uk india canada australia latam emea apac asia
    pacific middle east africa hangzhou zhejiang shenzhen china chinese beijing shanghai hong kong
    camera cameras cctv ip ipc nvr dvr xvr surveillance intelligent smart home device devices terminal
    terminals product products solution solutions enterprise software cloud robot robotics storage micro
    brand oem original genuine by the and of for inc corp corporation co company ltd limited llc gmbh sa bv
    plc pvt private public manufacturer mfr make made sales service services distribution trading
    division branch subsidiary official store radio radios two way dmr tetra wireless mobile phone
    phones router routers switch switches access point points ont olt modem gateway firewall
    """.split()
)
#: Shortest brand word compared with typos allowed (shorter ones only match exactly).
FUZZY_MIN = 5
#: Least token similarity (1 - edits/length) accepted as a typo.
FUZZY_SIM = 0.8


@dataclass(frozen=True, slots=True)
class TextHit:
    """A covered producer behind a text, how sure, and why."""

    match: ProducerMatch
    strength: str  # strong | weak
    how: str  # name | brand-word | shared-word | typo
    note: str  # plain-words reason

    @property
    def producer(self) -> str:
        return self.match.producer


def _strong_tokens(text: str) -> list[tuple[str, ...]]:
    return [form.strong_tokens for form in analyze(text)]


@lru_cache(maxsize=1)
def brand_words() -> dict[str, str]:
    """Single distinctive words of the curated token-matched names -> that name (``hikvision`` -> ``Hikvision``)."""
    out: dict[str, str] = {}
    for row in load_affiliates():
        if row.matching != "token":
            continue
        for name in (row.name, *row.aliases):
            if has_han(name):
                continue
            for tokens in _strong_tokens(name):
                if len(tokens) == 1 and tokens[0].isalpha():
                    out.setdefault(tokens[0], name)
    return out


@lru_cache(maxsize=1)
def _covered_tokens() -> frozenset[str]:
    """Every word of every curated name (a second covered word is not 'another business')."""
    words: set[str] = set()
    for row in load_affiliates():
        for name in (*row.names(), *row.oui_registrants):
            for tokens in _strong_tokens(name):
                words.update(tokens)
    return frozenset(words)


def _other_words(text: str, matched: str) -> list[str]:
    """Words of ``text`` that are neither the matched name's, nor covered names', nor generic."""
    mine = {t for tokens in _strong_tokens(matched) for t in tokens}
    covered = _covered_tokens()
    forms = _strong_tokens(text)
    tokens = forms[0] if forms else ()
    return [
        t for t in tokens
        if t not in mine and t not in covered and t not in GENERIC_WORDS
        and len(t) > 2 and t.isalpha()
    ]


def _loose(text: str, matched: str) -> str | None:
    """A distinctive word of the matched name that the text holds only in another
    form (``Teltronics`` for ``Teltronic``, equal after stemming): that word, else None."""
    if has_han(text) or has_han(matched):
        return None
    split = lambda value: [w for w in re.split(r"[^0-9a-z]+", value.casefold()) if w]  # noqa: E731
    written, wanted = split(text), split(matched)
    if "".join(written) == "".join(wanted):
        return None  # "Hi Look" for "HiLook"
    for word in wanted:
        forms = analyze(word)
        token = forms[0].tokens[0] if forms and forms[0].tokens else word
        if word in written or token in GENERIC_WORDS or len(word) <= 2 or (forms and all(forms[0].weak)):
            continue
        near = [w for w in written if w.startswith(word[:4])]
        return near[0] if near else word
    return None


def _typo(text: str, as_of: str | None) -> TextHit | None:
    words = brand_words()
    best: tuple[float, str, str] | None = None
    for tokens in _strong_tokens(text):
        candidates = [(t, t) for t in tokens]
        candidates += [(f"{a} {b}", a + b) for a, b in zip(tokens, tokens[1:])]
        for shown, token in candidates:
            if len(token) < FUZZY_MIN or not token.isalpha():
                continue
            for word in words:
                if len(word) < FUZZY_MIN or word[0] != token[0]:
                    continue
                sim = 1.0 if token == word else token_sim(token, word)
                if sim >= FUZZY_SIM and (best is None or sim > best[0]):
                    best = (sim, shown, word)
    if best is None:
        return None
    sim, shown, word = best
    found = resolve_producer(words[word], as_of)
    if found is None:
        return None
    how = "two words written as one" if " " in shown and sim == 1.0 else f"similarity {sim:.2f}"
    return TextHit(found, "weak", "typo", f"{shown!r} reads as {words[word]!r} ({how}): a typo?")


def text_signal(text: str | None, as_of: str | None = None) -> TextHit | None:
    """The covered producer behind a manufacturer, brand or vendor text, or None."""
    if not text or not str(text).strip():
        return None
    text = str(text)
    found = resolve_producer(text, as_of)
    if found is not None:
        if found.signal == "manufacturer":
            strength = "strong" if found.status == "covered" else "weak"
            loose = _loose(text, found.matched_name)
            if loose:
                return TextHit(found, "weak", "shared-word", f"{loose!r} equals {found.matched_name!r} only after normalisation")
            return TextHit(found, strength, "name", "")
        other = _other_words(text, found.matched_name)
        if other:
            words = ", ".join(repr(w) for w in other[:3])
            note = (
                f"shares the word {found.matched_name!r} with {found.producer_name}, but {words} "
                "suggests another business"
            )
            return TextHit(found, "weak", "shared-word", note)
        strength = "strong" if found.status == "covered" else "weak"
        return TextHit(found, strength, "brand-word", "")
    return _typo(text, as_of)


__all__ = ["FUZZY_MIN", "FUZZY_SIM", "GENERIC_WORDS", "TextHit", "brand_words", "text_signal"]
