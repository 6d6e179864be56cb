"""nmap XML scans (``nmap -sV -O -oX scan.xml``) -> asset rows.

Parsed with defusedxml: a file declaring entities or external references is
refused with one line, as is anything that is not an ``<nmaprun>``.  Each
``<host>`` that is up becomes one row of :data:`clearance.assets.detect.FIELDS`:

* ``ip``, ``mac`` (and nmap's own ``mac_vendor``), ``hostname`` (first name);
* ``services`` - every open port's service fingerprint (name, product,
  version, extra info, CPEs) and the ``http-server-header`` /
  ``http-title`` script output, ``; ``-joined;
* ``os`` - the best OS match with its accuracy and class vendors.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import InputError

#: Largest scan read (a /16 with service detection is far smaller).
MAX_BYTES = 512 * 1024 * 1024
#: Script outputs kept as banners.
SCRIPTS = ("http-server-header", "http-title", "banner")


def _attr(node: Any, name: str) -> str:
    return " ".join((node.get(name) or "").split()) if node is not None else ""


def _service(port: Any) -> str | None:
    state = port.find("state")
    if state is None or _attr(state, "state") != "open":
        return None
    parts = [f"{_attr(port, 'portid')}/{_attr(port, 'protocol')}"]
    service = port.find("service")
    if service is not None:
        for key in ("name", "product", "version", "extrainfo", "devicetype"):
            value = _attr(service, key)
            if value:
                parts.append(f"({value})" if key == "extrainfo" else value)
        parts += [" ".join((c.text or "").split()) for c in service.findall("cpe") if c.text]
    for script in port.findall("script"):
        if _attr(script, "id") in SCRIPTS and _attr(script, "output"):
            parts.append(f"{_attr(script, 'id')}: {_attr(script, 'output')}")
    return " ".join(parts)


def _os(host: Any) -> str | None:
    match = host.find("os/osmatch")
    if match is None:
        return None
    vendors = []
    for cls in match.findall("osclass"):
        vendor = _attr(cls, "vendor")
        if vendor and vendor not in vendors:
            vendors.append(vendor)
    text = f"{_attr(match, 'name')} ({_attr(match, 'accuracy')}%)"
    return text + (f"; vendor {', '.join(vendors)}" if vendors else "")


def _host(host: Any) -> dict[str, Any] | None:
    status = host.find("status")
    if status is not None and _attr(status, "state") not in ("up", ""):
        return None
    row: dict[str, Any] = {}
    for address in host.findall("address"):
        kind = _attr(address, "addrtype")
        if kind in ("ipv4", "ipv6") and "ip" not in row:
            row["ip"] = _attr(address, "addr")
        elif kind == "mac":
            row["mac"] = _attr(address, "addr")
            if _attr(address, "vendor"):
                row["mac_vendor"] = _attr(address, "vendor")
    names = [_attr(h, "name") for h in host.findall("hostnames/hostname") if _attr(h, "name")]
    if names:
        row["hostname"] = names[0]
    services = [s for s in (_service(p) for p in host.findall("ports/port")) if s]
    if services:
        row["services"] = "; ".join(services)
    os_text = _os(host)
    if os_text:
        row["os"] = os_text
    row["asset_id"] = row.get("hostname") or row.get("ip") or row.get("mac")
    return row if (row.get("ip") or row.get("mac")) else None


def read_nmap(path: str | Path) -> list[dict[str, Any]]:
    """Every live host of an nmap XML file, in file order; raises :class:`InputError` naming the file."""
    from xml.etree.ElementTree import ParseError

    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import parse

    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: nmap scan not found; expected an nmap XML file (nmap -oX)")
    size = path.stat().st_size
    if size == 0:
        raise InputError(f"{path}: the file is empty; expected an nmap XML file (nmap -oX)")
    if size > MAX_BYTES:
        raise InputError(f"{path}: {size:,} bytes; the largest nmap XML read is {MAX_BYTES:,}")
    try:
        root = parse(str(path)).getroot()
    except DefusedXmlException as exc:
        raise InputError(f"{path}: refused: the XML declares entities or external references ({type(exc).__name__}); an nmap scan never does") from None
    except ParseError as exc:
        line = getattr(exc, "position", (None,))[0]
        where = f"{path}, line {line}" if line else str(path)
        raise InputError(f"{where}: not well-formed XML ({exc}); expected an nmap XML file (nmap -oX)") from None
    except (LookupError, ValueError) as exc:  # e.g. an unknown encoding named in the XML declaration
        raise InputError(f"{path}: unreadable XML ({exc}); expected an nmap XML file (nmap -oX)") from None
    if root.tag != "nmaprun":
        raise InputError(f"{path}: the root element is <{root.tag}>; expected <nmaprun> (an nmap -oX file)")
    return [row for row in (_host(h) for h in root.iter("host")) if row]


__all__ = ["read_nmap"]
