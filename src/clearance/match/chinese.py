"""Chinese names: a curated glossary first, pinyin for the rest.

``杭州海康威视数字技术股份有限公司`` is segmented by forward maximum matching
against the glossary into 杭州 | 海康威视 | 数字 | 技术 | 股份有限公司 and read
as ``hangzhou hikvision digital technology co ltd``, which meets the English
listing.  Characters the glossary does not know are read in pinyin, a run of
them as one token (``洪都`` -> ``hongdu``), except that a short name made of
nothing else is read as a person's name, surname first (``李方伟`` ->
``li fangwei``).  Where a glossary term has alternative translations
(``科技`` technology / science and technology) a few alternative readings are
produced, one alternative at a time.
"""

from __future__ import annotations

from functools import lru_cache

from .resources import zh_glossary, zh_traditional

#: At most this many readings of one Chinese name.
MAX_READINGS = 6


def is_han(char: str) -> bool:
    code = ord(char)
    return (
        0x4E00 <= code <= 0x9FFF
        or 0x3400 <= code <= 0x4DBF
        or 0xF900 <= code <= 0xFAFF
        or 0x20000 <= code <= 0x2FA1F
    )


def has_han(text: str) -> bool:
    return any(is_han(c) for c in text)


@lru_cache(maxsize=1)
def _max_term() -> int:
    return max((len(t) for t in zh_glossary()), default=1)


@lru_cache(maxsize=4096)
def _pinyin(run: str) -> tuple[str, ...]:
    from pypinyin import lazy_pinyin

    return tuple(p for p in (s.strip().lower() for s in lazy_pinyin(run)) if p.isascii() and p.isalnum())


def segment(text: str) -> list[tuple[str, list[str] | None]]:
    """Split a Han string into (piece, translations or None for unknown)."""
    text = text.translate(zh_traditional())
    glossary = zh_glossary()
    longest = _max_term()
    pieces: list[tuple[str, list[str] | None]] = []
    buffer = ""
    i = 0
    while i < len(text):
        found = None
        for size in range(min(longest, len(text) - i), 0, -1):
            term = text[i : i + size]
            if term in glossary:
                found = term
                break
        if found is None:
            buffer += text[i]
            i += 1
            continue
        if buffer:
            pieces.append((buffer, None))
            buffer = ""
        pieces.append((found, [english for english, _ in glossary[found]]))
        i += len(found)
    if buffer:
        pieces.append((buffer, None))
    return pieces


def read_han(text: str) -> list[list[str]]:
    """Readings of a run of Han characters, each a list of words (primary first)."""
    pieces = segment(text)
    if len(pieces) == 1 and pieces[0][1] is None and 2 <= len(pieces[0][0]) <= 4:
        syllables = _pinyin(pieces[0][0])
        if len(syllables) >= 2:
            # a short unknown name: a person's name, surname first
            return [[syllables[0], "".join(syllables[1:])], ["".join(syllables)]]
    base: list[str] = []
    alternatives: list[tuple[int, str]] = []
    for index, (piece, translations) in enumerate(pieces):
        if translations is None:
            base.append("".join(_pinyin(piece)))
        else:
            base.append(translations[0])
            alternatives.extend((index, alt) for alt in translations[1:])
    readings = [base]
    for index, alt in alternatives[: MAX_READINGS - 1]:
        reading = list(base)
        reading[index] = alt
        readings.append(reading)
    return readings
