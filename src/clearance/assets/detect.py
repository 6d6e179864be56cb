"""One asset in, one asset result out (GUIDE.md section 5, "Asset result").

Signals, each becoming one ``evidence`` entry:

* ``oui`` - the MAC address's IEEE registrant (netaddr's registry) resolved
  to a covered producer or curated subsidiary;
* ``manufacturer`` / ``brand`` - the label's text (and nmap's service banners
  and OS guess) resolved through the curated producers, subsidiaries and
  brands (:mod:`.text`);
* ``model`` - the curated model-number conventions (:mod:`.models`), in the
  model and serial fields, or inside descriptions, host names and banners.

Every signal is *strong* or *weak*.  A producer with a strong signal, or with
weak signals of two independent kinds (OUI, model, label, banner, free text), makes the asset ``covered``; weaker
evidence makes it ``review``; none, ``clear``.  A label naming a maker that is
not covered, contradicted by the OUI or the model number, is stated in the
evidence and the summary (relabelled or OEM equipment).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any, Mapping

from ..ownership.brands import producer_for_registrant, producers
from .consequences import rules_for
from .mac import MacError, parse_macs, registrant
from .models import ModelMatch, find_models, match_model
from .text import TextHit, text_signal

#: Canonical asset fields (inventory columns are mapped onto these).
FIELDS = ("asset_id", "manufacturer", "brand", "model", "mac", "hostname", "ip", "description", "serial", "os", "services")
#: Fields whose text can carry a signal (a row with none of them has nothing to screen).
SIGNAL_FIELDS = ("manufacturer", "brand", "model", "mac", "description", "serial", "os", "services", "hostname")
#: Label values that mean "no label".
PLACEHOLDERS = frozenset({"", "-", "--", "?", "n/a", "na", "none", "null", "unknown", "generic", "oem", "other", "tbd", "unbranded", "no brand", "white label"})
STATUSES = ("covered", "review", "clear", "error")
_JUNK = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd]")


@dataclass(slots=True)
class Signal:
    signal: str  # oui | manufacturer | brand | model
    field: str  # the input field it came from
    value: str
    producer: str | None
    strength: str  # strong | weak | none (a label naming no covered producer)
    detail: str
    reason: str = ""  # why a weak signal is weak, in a few words

    @property
    def kind(self) -> str:
        """Independent kinds of evidence: oui, model, label, banner, text."""
        if self.signal in ("oui", "model"):
            return self.signal
        if self.field in ("manufacturer", "brand"):
            return "label"
        return "banner" if self.field == "services" else "text"

    def evidence(self) -> dict:
        return {
            "signal": self.signal,
            "value": self.value,
            "detail": self.detail,
            "producer": self.producer,
            "strength": self.strength,
            "field": self.field,
        }


def _name(producer: str) -> str:
    return producers()[producer].name


def _short(producer: str) -> str:
    return {"hikvision": "Hikvision", "dahua": "Dahua", "huawei": "Huawei", "zte": "ZTE", "hytera": "Hytera"}.get(producer, producer)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


# -- signals from each field ---------------------------------------------------------


def _why_weak(found: Any) -> str:
    """Why a curated relation only supports review (ended, or unconfirmed)."""
    row = found.matched
    what = f"{row.name} ({row.relation} of {_short(found.producer)})"
    if not found.current:
        return f"{what} only until {row.end}" if row.end else f"{what} not yet on that date"
    if not found.confirmed:
        return f"{what}: relation not confirmed by a primary source"
    return ""


def _oui_signals(value: str, as_of: str) -> tuple[list[Signal], list[str]]:
    """Signals and context notes of a MAC cell; raises MacError for a malformed one."""
    signals, notes = [], []
    for mac in parse_macs(value):
        if mac.locally_administered:
            notes.append(f"MAC {mac.text} is locally administered (randomised or assigned by software): it names no maker")
            continue
        reg = registrant(mac.hex[:6])
        if reg is None:
            notes.append(f"MAC {mac.text}: OUI {mac.oui} is not in the IEEE MA-L registry netaddr ships")
            continue
        found = producer_for_registrant(reg.org, as_of)
        if found is None:
            notes.append(f"MAC {mac.text}: OUI {mac.oui} is registered to {reg.org}, not a covered producer")
            continue
        strength = "strong" if found.status == "covered" else "weak"
        detail = f"OUI {reg.oui} is registered to {reg.org!r} (IEEE MA-L registry); {found.detail}"
        signals.append(Signal("oui", "mac", mac.text, found.producer, strength, detail, _why_weak(found)))
    return signals, notes


def _text_detail(hit: TextHit, where: str) -> str:
    detail = hit.match.detail.removeprefix(f"{hit.match.value!r}: ").removeprefix(f"{hit.match.matched_name!r}: ") \
        if hit.match.matched_name.casefold() == str(hit.match.value).casefold() else hit.match.detail
    detail = f"{where}: {detail}"
    return f"{detail}; {hit.note}" if hit.note else detail


def _label_signal(field: str, value: str, as_of: str) -> Signal | None:
    hit = text_signal(value, as_of)
    if hit is None:
        return None
    signal = "brand" if field == "brand" else "manufacturer"
    reason = hit.note or _why_weak(hit.match)
    return Signal(signal, field, value, hit.producer, hit.strength, _text_detail(hit, f"{field} {value!r}"), reason)


def _free_text_signal(field: str, value: str, as_of: str, strength: str, what: str) -> Signal | None:
    hit = text_signal(value, as_of)
    if hit is None or hit.how == "typo":
        return None  # free text is too noisy for typo matching
    strength = strength if hit.match.status == "covered" else "weak"
    signal = "manufacturer" if field in ("services", "os") else "brand"
    reason = hit.note or _why_weak(hit.match) or f"only named in the {what.split(' ')[0]} text"
    return Signal(signal, field, value, hit.producer, strength, _text_detail(hit, what), reason)


def _model_signal(field: str, found: ModelMatch, where: str) -> Signal:
    p = found.pattern
    detail = f"{where} {found.text!r} follows the {p.product_line} convention (pattern {p.pattern}, {p.strength}); source: {p.source} ({p.date})"
    reason = f"{found.text} follows a short {_short(p.producer)} code other makers could share" if p.strength == "weak" else ""
    return Signal("model", field, found.text, p.producer, p.strength, detail, reason)


# -- the decision --------------------------------------------------------------------


@dataclass
class _Tally:
    producer: str
    strong: list[Signal]
    weak: list[Signal]

    @property
    def kinds(self) -> set[str]:
        return {s.kind for s in self.strong + self.weak}

    @property
    def covered(self) -> bool:
        """A strong signal, or weak ones of two independent kinds (a label
        repeated as manufacturer and brand is one kind)."""
        return bool(self.strong) or len({s.kind for s in self.weak}) >= 2

    def key(self) -> tuple:
        return (self.covered, len(self.strong), len(self.kinds), len(self.weak))


def _kinds(signals: list[Signal]) -> str:
    """Plain words for where signals came from: "MAC OUI, model number in the description"."""
    names = {"oui": "MAC OUI", "manufacturer": "manufacturer", "brand": "brand", "model": "model number"}
    where = {"services": "service banner", "os": "OS fingerprint", "description": "description", "hostname": "host name", "serial": "serial number"}
    seen: list[str] = []
    for s in signals:
        if s.field in where:
            label = ("model number in the " if s.signal == "model" else "") + where[s.field]
        else:
            label = names[s.signal]
        if label not in seen:
            seen.append(label)
    return ", ".join(seen)


class AssetScreener:
    """Screen assets (mappings of :data:`FIELDS`) as of a date (default today)."""

    def __init__(self, as_of: str | date | None = None):
        self.as_of = (as_of.isoformat() if isinstance(as_of, date) else as_of) or date.today().isoformat()

    def screen(self, fields: Mapping[str, Any], *, row: int = 0, input: Mapping[str, Any] | None = None, where: str | None = None) -> dict:
        """One asset-result record; never raises for bad data (the record says ``error``)."""
        values = {k: _text(fields.get(k)) for k in FIELDS}
        record: dict[str, Any] = {
            "row": row,
            "input": dict(input) if input is not None else {k: v for k, v in values.items() if v is not None},
            "status": "clear",
            "producer": None,
            "evidence": [],
            "rules": [],
            "summary": "",
        }
        prefix = f"{where}: " if where else ""
        errors: list[str] = []
        for key in SIGNAL_FIELDS:
            value = values.get(key)
            if value and _JUNK.search(value):
                bad = _JUNK.search(value).group(0)  # type: ignore[union-attr]
                errors.append(f"field {key!r} holds the control or replacement character {bad!r}: junk bytes, or the wrong --encoding?")
                values[key] = None
        if not any(values.get(k) for k in SIGNAL_FIELDS):
            if errors:
                return {**record, "status": "error", "error": prefix + errors[0], "summary": errors[0]}
            message = "nothing to screen: manufacturer, brand, model, MAC address, serial and description are all blank"
            return {**record, "status": "error", "error": prefix + message, "summary": message}

        signals: list[Signal] = []
        notes: list[str] = []
        if values["mac"]:
            try:
                from_mac, more = _oui_signals(values["mac"], self.as_of)
                signals += from_mac
                notes += more
            except MacError as exc:
                errors.append(f"field 'mac': {exc}")
        labels: dict[str, str] = {}
        for key in ("manufacturer", "brand"):
            label = values[key]
            if label and label.casefold() not in PLACEHOLDERS:
                labels[key] = label
        label_signals: dict[str, Signal] = {}
        for key, label in labels.items():
            found = _label_signal(key, label, self.as_of)
            if found is not None:
                signals.append(found)
                label_signals[key] = found
        if values["model"]:
            signals += [_model_signal("model", m, "model") for m in match_model(values["model"])]
        if values["serial"]:
            signals += [_model_signal("serial", m, "serial number begins with model") for m in match_model(values["serial"])]
        for key, what in (("description", "description"), ("hostname", "host name"), ("services", "service banner"), ("os", "OS fingerprint")):
            value = values[key]
            if not value:
                continue
            strength = "strong" if key == "services" else "weak"
            # one banner per open port: the evidence names the banner that matched
            pieces = [p.strip() for p in value.split("; ") if p.strip()] if key == "services" else [value]
            for piece in pieces:
                hit = _free_text_signal(key, piece, self.as_of, strength, f"{what} {piece[:160]!r}")
                if hit is not None:
                    signals.append(hit)
                    break
            seen_models = {s.value for s in signals if s.signal == "model"}
            for m in find_models(value):
                if m.text not in seen_models:
                    signals.append(_model_signal(key, m, f"{what} mentions"))

        record.update(self._decide(signals, labels, label_signals, notes))
        if errors:
            record["status"] = "error"
            record["error"] = prefix + "; ".join(errors)
            record["summary"] = "; ".join(errors) + (f". Other fields: {record['summary']}" if record["summary"] else "")
        return record

    def _decide(self, signals: list[Signal], labels: dict[str, str], label_signals: dict[str, Signal], notes: list[str]) -> dict:
        tallies: dict[str, _Tally] = {}
        for s in signals:
            if s.producer is None:
                continue
            tally = tallies.setdefault(s.producer, _Tally(s.producer, [], []))
            (tally.strong if s.strength == "strong" else tally.weak).append(s)
        if not tallies:
            summary = "no covered-producer signal"
            checked = [k for k in ("manufacturer", "brand") if k in labels]
            if checked:
                summary += " (" + "; ".join(f"{k} {labels[k]!r}" for k in checked) + " names no covered producer)"
            if notes:
                summary += "; " + "; ".join(notes)
            return {"status": "clear", "producer": None, "evidence": [], "rules": [], "summary": summary}

        ranked = sorted(tallies.values(), key=lambda t: t.key(), reverse=True)
        best = ranked[0]
        status = "covered" if best.covered else "review"
        supporting = best.strong + best.weak
        order = {"oui": 0, "model": 1, "manufacturer": 2, "brand": 3}
        evidence_signals = sorted(supporting, key=lambda s: (s.strength != "strong", order[s.signal]))
        parts = [f"{_short(best.producer)} ({_name(best.producer)})"]
        if status == "covered":
            why = "strong signal" if best.strong else "weak signals of two independent kinds"
            summary = f"covered: {parts[0]} equipment by {why}: {_kinds(evidence_signals)}"
        else:
            reasons = []
            for sig in evidence_signals:
                if sig.reason and sig.reason not in reasons:
                    reasons.append(sig.reason)
            summary = f"review: weak evidence of {parts[0]} ({_kinds(evidence_signals)})"
            summary += (": " + "; ".join(reasons) if reasons else "") + "; confirm the maker"

        # the label against the other signals
        other = [s for s in supporting if s.field not in ("manufacturer", "brand")]
        contradicted = []
        for key, value in labels.items():
            found = label_signals.get(key)
            if found is not None and found.producer == best.producer:
                continue
            if not other:
                continue
            names = _kinds(other)
            verb = "point" if "," in names else "points"
            if found is None:
                detail = (
                    f"the {key} label {value!r} names no covered producer, but the {names} {verb} to "
                    f"{_short(best.producer)}: relabelled or OEM equipment"
                )
                evidence_signals.append(Signal("brand" if key == "brand" else "manufacturer", key, value, None, "none", detail))
            contradicted.append(f"labelled {value!r} ({key}) but the {names} {verb} to {_short(best.producer)}")
        if contradicted:
            summary += "; contradiction: " + "; ".join(contradicted) + " (relabelled or OEM equipment)"
        for tally in ranked[1:]:
            summary += f"; also {_short(tally.producer)} signals ({_kinds(tally.strong + tally.weak)}): conflicting evidence, review"
            evidence_signals += tally.strong + tally.weak
        if notes:
            summary += "; " + "; ".join(notes)
        return {
            "status": status,
            "producer": best.producer,
            "evidence": [s.evidence() for s in evidence_signals],
            "rules": rules_for(best.producer, self.as_of),
            "summary": summary,
        }


def screen_asset(fields: Mapping[str, Any], as_of: str | date | None = None, **kwargs: Any) -> dict:
    """Screen one asset (see :class:`AssetScreener`)."""
    return AssetScreener(as_of).screen(fields, **kwargs)


__all__ = ["FIELDS", "SIGNAL_FIELDS", "STATUSES", "AssetScreener", "Signal", "screen_asset"]
