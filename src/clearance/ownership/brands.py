"""The section 889 producers, their subsidiaries, affiliates and brands.

Curated in ``data/curated/covered-affiliates.csv``, one fact per row with its
source and date. Used three ways:

* :func:`resolve_producer` - "which covered producer, if any, is behind this
  manufacturer / brand / vendor text?" (the asset issue calls it);
* :func:`producer_for_registrant` and :func:`producer_for_mac` - the same for
  IEEE OUI registrant names, read from netaddr's bundled registry;
* the ownership graph, where producers and subsidiaries are listed parties of
  the ``us-covered`` family (:mod:`clearance.ownership.sources`).

>>> resolve_producer("EZVIZ C6N 1080p Wi-Fi camera").producer
'hikvision'
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path

from ..data import data_dir
from ..errors import SourceError
from ..match.chinese import has_han
from ..match.normalize import analyze, clean
from ..sources.common import curated_rows

FILE = "covered-affiliates.csv"
COLUMNS = (
    "producer", "name", "relation", "parent", "percent", "chinese_name", "aliases", "country",
    "oui_registrants", "matching", "start", "end", "status", "source", "date",
)
PRODUCERS = ("hikvision", "dahua", "huawei", "zte", "hytera")
ROW_RELATIONS = ("producer", "subsidiary", "brand", "affiliate")


@dataclass(frozen=True, slots=True)
class Affiliate:
    """One curated row."""

    line: int
    producer: str
    name: str
    relation: str
    parent: str | None
    percent: float | None
    chinese_name: str | None
    aliases: tuple[str, ...]
    country: str | None
    oui_registrants: tuple[str, ...]
    matching: str  # "token": the brand word may appear inside longer text; "name": whole names only
    start: str | None
    end: str | None
    status: str  # confirmed | unconfirmed
    source: str
    date: str | None

    @property
    def key(self) -> str:
        return f"covered:{self.producer}" if self.relation == "producer" else f"covered:{self.producer}:{_slug(self.name)}"

    @property
    def confirmed(self) -> bool:
        return self.status == "confirmed"

    def current(self, on: str | None = None) -> bool:
        on = on or date.today().isoformat()
        return (self.start is None or self.start <= on) and (self.end is None or on <= self.end)

    def names(self) -> list[str]:
        out = [self.name, *self.aliases]
        if self.chinese_name:
            out.append(self.chinese_name)
        return out

    def to_dict(self) -> dict:
        out = {
            "producer": self.producer,
            "name": self.name,
            "relation": self.relation,
            "status": self.status,
            "source": self.source,
            "date": self.date,
            "line": self.line,
        }
        for key in ("parent", "percent", "chinese_name", "country", "start", "end"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out


@dataclass(frozen=True, slots=True)
class Producer:
    key: str
    name: str
    rows: tuple[Affiliate, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class ProducerMatch:
    """A producer found behind a text, with the evidence (asset-result ``evidence`` shape)."""

    producer: str
    producer_name: str
    matched: Affiliate
    signal: str  # "manufacturer" (a company name), "brand" (a brand word), "oui" (an IEEE registrant)
    value: str  # the text that was looked up
    matched_name: str  # the curated name, alias, brand word or registrant it matched
    current: bool  # False for a relation that has ended (e.g. a divested subsidiary) on the date asked
    confirmed: bool

    @property
    def status(self) -> str:
        """``covered`` for a current, confirmed relation; otherwise ``review``."""
        return "covered" if self.current and self.confirmed else "review"

    @property
    def detail(self) -> str:
        row = self.matched
        what = "the producer" if row.relation == "producer" else f"{row.relation} of {self.producer_name}"
        text = f"{self.matched_name!r}: {row.name} is {what}" if self.matched_name != row.name else f"{row.name} is {what}"
        if row.end and not self.current:
            text += f" until {row.end}"
        if not self.confirmed:
            text += " (unconfirmed: review)"
        return f"{text}; source: {row.source} ({row.date})"

    def evidence(self) -> dict:
        return {"signal": self.signal, "value": self.value, "detail": self.detail}

    def to_dict(self) -> dict:
        return {
            "producer": self.producer,
            "producer_name": self.producer_name,
            "status": self.status,
            "matched": self.matched.to_dict(),
            "evidence": self.evidence(),
        }


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or hashlib.sha1(text.encode()).hexdigest()[:12]


def _split(value: str | None) -> tuple[str, ...]:
    return tuple(v.strip() for v in (value or "").split("|") if v.strip())


def curated_path() -> Path:
    return data_dir() / "curated" / FILE


@lru_cache(maxsize=4)
def load_affiliates(path: str | None = None) -> tuple[Affiliate, ...]:
    """Every curated row, checked (a bad row is a SourceError naming its line)."""
    path = Path(path) if path else curated_path()
    rows = []
    for raw in curated_rows(path, COLUMNS):
        raw.choice("producer", tuple(PRODUCERS))
        raw.choice("relation", ROW_RELATIONS)
        raw.choice("matching", ("token", "name"))
        raw.choice("status", ("confirmed", "unconfirmed"))
        if not raw["name"] or not raw["source"]:
            raise raw.error("every row needs a name and a source")
        percent = None
        if raw["percent"]:
            try:
                percent = float(raw["percent"])
            except ValueError:
                percent = -1.0
            if not 0 < percent <= 100:
                raise raw.error(f"{raw['percent']!r} is not a percentage in (0, 100]", "percent")
        dates = {key: raw.date(key) for key in ("start", "end", "date")}
        rows.append(
            Affiliate(
                line=raw.line,
                producer=raw["producer"],
                name=raw["name"],
                relation=raw["relation"],
                parent=raw["parent"] or None,
                percent=percent,
                chinese_name=raw["chinese_name"] or None,
                aliases=_split(raw["aliases"]),
                country=raw["country"] or None,
                oui_registrants=_split(raw["oui_registrants"]),
                matching=raw["matching"],
                start=dates["start"],
                end=dates["end"],
                status=raw["status"],
                source=raw["source"],
                date=dates["date"],
            )
        )
    producers = {r.producer for r in rows if r.relation == "producer"}
    missing = sorted(set(PRODUCERS) - producers)
    if missing:
        raise SourceError(path, f"no 'producer' row for {', '.join(missing)}")
    names = {r.name for r in rows}
    for row in rows:
        if row.parent and row.parent not in names:
            raise SourceError(path, f"parent {row.parent!r} is not the name of another row", row.line, "parent")
    return tuple(rows)


def curated_digest(path: str | None = None) -> str:
    path = Path(path) if path else curated_path()
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def producers() -> dict[str, Producer]:
    rows = load_affiliates()
    out = {}
    for key in PRODUCERS:
        mine = tuple(r for r in rows if r.producer == key)
        head = next(r for r in mine if r.relation == "producer")
        out[key] = Producer(key, head.name, mine)
    return out


# -- matching text -------------------------------------------------------------


def _tokens(text: str) -> list[tuple[str, ...]]:
    return [form.tokens for form in analyze(text)]


@lru_cache(maxsize=4)
def _index() -> tuple[dict, list, list]:
    """(whole-name key -> rows, [(token sequence, row, name)], [(han text, row)])."""
    whole: dict[str, list[tuple[Affiliate, str]]] = {}
    words: list[tuple[tuple[str, ...], Affiliate, str]] = []
    han: list[tuple[str, Affiliate]] = []
    for row in load_affiliates():
        for name in row.names() + list(row.oui_registrants):
            for form in analyze(name):
                whole.setdefault(form.key, []).append((row, name))
            if has_han(name):
                han.append((clean(name), row))
        if row.matching == "token":
            for name in [row.name, *row.aliases]:
                if has_han(name):
                    continue
                for form in analyze(name):
                    strong = form.strong_tokens
                    # A brand word or a distinctive multi-word name; never a lone legal form.
                    if strong:
                        words.append((strong, row, name))
    words.sort(key=lambda item: -len(item[0]))
    han.sort(key=lambda item: -len(item[0]))
    return whole, words, han


def _specificity(name: str) -> int:
    forms = analyze(name)
    return len(forms[0].strong_tokens) if forms else len(name)


def _contains(tokens: tuple[str, ...], needle: tuple[str, ...]) -> bool:
    n = len(needle)
    return any(tokens[i : i + n] == needle for i in range(len(tokens) - n + 1))


def _rank(candidates: list[tuple[Affiliate, str, str]], on: str, query: str = "") -> tuple[Affiliate, str, str] | None:
    """Prefer current and confirmed relations, then the producer itself, then longer names."""
    if not candidates:
        return None
    han_query = has_han(query)
    return sorted(
        candidates,
        key=lambda c: (
            not c[0].current(on),
            not c[0].confirmed,
            c[2] != "manufacturer",
            c[0].relation != "producer",
            -_specificity(c[1]),
            has_han(c[1]) != han_query,
            len(c[1]),
        ),
    )[0]


def _match(row: Affiliate, value: str, matched_name: str, signal: str, on: str) -> ProducerMatch:
    head = producers()[row.producer]
    return ProducerMatch(row.producer, head.name, row, signal, value, matched_name, row.current(on), row.confirmed)


def resolve_producer(text: str | None, as_of: str | None = None) -> ProducerMatch | None:
    """The covered producer behind a manufacturer, vendor or brand text, or None.

    Whole names (any listed name, alias, Chinese name or OUI registrant, in
    normalised form) match as ``manufacturer``; brand words (``EZVIZ``,
    ``HiLook``, ``Imou``...) match anywhere in the text as ``brand``; Chinese
    names match as substrings. A relation that has ended by ``as_of`` (default
    today), or a row still unconfirmed, comes back with ``status == "review"``.
    """
    if not text or not str(text).strip():
        return None
    on = as_of or date.today().isoformat()
    whole, words, han = _index()
    found: list[tuple[Affiliate, str, str]] = []
    for form in analyze(text):
        for row, name in whole.get(form.key, ()):
            found.append((row, name, "manufacturer"))
    best = _rank(found, on, str(text))
    if best and best[0].current(on) and best[0].confirmed:
        return _match(best[0], text, best[1], best[2], on)
    forms = _tokens(text)
    for needle, row, name in words:
        if any(_contains(tokens, needle) for tokens in forms):
            found.append((row, name, "brand"))
    cleaned = clean(text)
    for needle, row in han:
        if needle in cleaned:
            found.append((row, needle, "brand"))
    best = _rank(found, on, str(text))
    return _match(best[0], text, best[1], best[2], on) if best else None


# -- IEEE OUI registrants --------------------------------------------------------


def producer_for_registrant(registrant: str | None, as_of: str | None = None) -> ProducerMatch | None:
    """The producer behind an IEEE OUI registrant name (exact registrant, normalised)."""
    if not registrant:
        return None
    on = as_of or date.today().isoformat()
    key = {form.key for form in analyze(registrant)}
    found = [
        (row, reg, "oui")
        for row in load_affiliates()
        for reg in row.oui_registrants
        if {form.key for form in analyze(reg)} & key
    ]
    best = _rank(found, on, registrant)
    return _match(best[0], registrant, best[1], "oui", on) if best else None


def _oui_file() -> Path | None:
    try:
        from importlib.resources import files

        path = Path(str(files("netaddr.eui") / "oui.txt"))
        return path if path.is_file() else None
    except (ImportError, ModuleNotFoundError):  # pragma: no cover - netaddr is a dependency
        return None


_OUI_LINE = re.compile(r"^([0-9A-F]{2}-[0-9A-F]{2}-[0-9A-F]{2})\s+\(hex\)\s+(.+?)\s*$")


@lru_cache(maxsize=1)
def oui_prefixes() -> dict[str, str]:
    """``{"BC-AD-28": "hikvision", ...}``: every MA-L prefix in netaddr's IEEE
    registry whose registrant is a curated producer, subsidiary or affiliate."""
    path = _oui_file()
    if path is None:
        return {}
    registrants = {
        form.key: row.producer for row in load_affiliates() for reg in row.oui_registrants for form in analyze(reg)
    }
    out = {}
    with path.open(encoding="utf-8", errors="replace") as fh:
        for line in fh:
            if "(hex)" not in line:
                continue
            match = _OUI_LINE.match(line.strip())
            if not match:
                continue
            forms = analyze(match.group(2))
            if forms and forms[0].key in registrants:
                out[match.group(1)] = registrants[forms[0].key]
    return out


def producer_for_mac(mac: str, as_of: str | None = None) -> ProducerMatch | None:
    """The producer whose OUI (IEEE MA-L registration) a MAC address carries."""
    try:
        from netaddr import EUI
        from netaddr.core import AddrFormatError, NotRegisteredError

        eui = EUI(mac)
        registration = eui.oui.registration()
    except (ImportError, ValueError, TypeError, AddrFormatError, NotRegisteredError, IndexError):
        return None
    found = producer_for_registrant(registration.org, as_of)
    if found is None:
        return None
    value = f"{str(eui.oui).upper()} {registration.org}"
    return ProducerMatch(
        found.producer, found.producer_name, found.matched, "oui", value, found.matched_name, found.current, found.confirmed
    )
