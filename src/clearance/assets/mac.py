"""MAC addresses: strict parsing and the IEEE registrant of their OUI.

The registrant comes from the IEEE MA-L registry that netaddr ships (no
network access); :func:`clearance.ownership.brands.producer_for_registrant`
then says whether that registrant is a covered producer or one of its
curated subsidiaries (``Hangzhou Ezviz Software`` -> Hikvision).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

_SEPARATORS = re.compile(r"[\s:.\-]")
_SPLIT = re.compile(r"[;,|/]+|\s{2,}")
_HEX12 = re.compile(r"^[0-9A-F]{12}$")


class MacError(ValueError):
    """A value that is not a usable MAC address (the message says why)."""


@dataclass(frozen=True, slots=True)
class Mac:
    value: str  # as written
    hex: str  # 12 upper-case hex digits

    @property
    def text(self) -> str:
        return ":".join(self.hex[i : i + 2] for i in range(0, 12, 2))

    @property
    def oui(self) -> str:
        return "-".join(self.hex[i : i + 2] for i in range(0, 6, 2))

    @property
    def locally_administered(self) -> bool:
        """Bit 1 of the first octet: a randomised or software-assigned address, no OUI."""
        return bool(int(self.hex[:2], 16) & 0x02)


EXPECTED = "expected 6 hex octets such as 44:19:B6:12:34:56, 44-19-B6-12-34-56 or 4419.b612.3456"


def parse_mac(value: str) -> Mac:
    """One MAC address in any common notation; raises :class:`MacError`."""
    text = str(value).strip()
    digits = _SEPARATORS.sub("", text).upper()
    if not _HEX12.match(digits):
        shown = text if len(text) <= 40 else text[:37] + "..."
        if re.fullmatch(r"[0-9A-Fa-f]*", digits) and digits:
            raise MacError(f"{shown!r} has {len(digits)} hex digits; {EXPECTED}")
        raise MacError(f"{shown!r} is not a MAC address; {EXPECTED}")
    if digits == "0" * 12:
        raise MacError(f"{text!r} is the all-zero address, not a device's MAC; {EXPECTED}")
    if int(digits[:2], 16) & 0x01:
        raise MacError(f"{text!r} is a multicast/broadcast address, not a device's MAC; {EXPECTED}")
    return Mac(text, digits)


def parse_macs(value: str | None) -> list[Mac]:
    """Every MAC address of a cell (``a; b``, ``a, b``); raises :class:`MacError` for a bad one."""
    if value is None or not str(value).strip():
        return []
    text = str(value).strip()
    parts = [p for p in _SPLIT.split(text) if p.strip()]
    if len(parts) == 1 and " " in text.strip():
        # "bc ad 28 12 34 56" is one address; "bcad28123456 001122334455" two
        words = text.split()
        if all(len(_SEPARATORS.sub("", w)) == 12 for w in words):
            parts = words
    return [parse_mac(p) for p in parts]


@dataclass(frozen=True, slots=True)
class Registration:
    oui: str  # "BC-AD-28"
    org: str  # the IEEE registrant's name as registered


@lru_cache(maxsize=65536)
def registrant(oui_hex: str) -> Registration | None:
    """The IEEE MA-L registrant of a 6-hex-digit OUI from netaddr's registry, or None."""
    try:
        from netaddr import OUI
        from netaddr.core import NotRegisteredError

        oui = OUI(int(oui_hex, 16))
        org = oui.registration(0).org
    except (NotRegisteredError, IndexError, ValueError, TypeError):
        return None
    org = " ".join(str(org).split())
    if not org:
        return None
    return Registration("-".join(oui_hex[i : i + 2] for i in range(0, 6, 2)), org)


__all__ = ["EXPECTED", "Mac", "MacError", "Registration", "parse_mac", "parse_macs", "registrant"]
