"""A whole inventory (CSV, XLSX, JSON Lines, Parquet) and/or nmap scan -> asset results.

>>> run = InventoryRun("assets.csv", nmap="scan.xml")
>>> for record in run.records(): ...          # one per inventory row, in order,
...                                            # then one per scanned host not in it
>>> run.counts["covered"]

Columns are mapped by header (:data:`SYNONYMS`, ``--map field=Column`` to
override) through :mod:`clearance.tabular`.  A scanned host whose MAC address
or IP address is an inventory row's is screened with that row (its service
banners and OS guess join the row's fields; the host is in the record's
``nmap``); the other hosts follow the inventory as records of their own.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from ..errors import InputError
from ..tabular import FieldMapping, Sheet, Table, map_fields, open_table
from .consequences import rules_for
from .detect import FIELDS, SIGNAL_FIELDS, STATUSES, AssetScreener
from .mac import MacError, parse_macs
from .nmap import read_nmap

#: Asset fields -> header synonyms (compared case- and punctuation-blind).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "asset_id": ("asset", "asset id", "asset tag", "tag", "asset number", "asset no", "id", "device id", "inventory number", "ci", "ci name"),
    "manufacturer": ("manufacturer", "mfr", "mfg", "make", "vendor", "maker", "producer", "oem", "manufacturer name", "vendor name"),
    "brand": ("brand", "brand name", "label", "trade name", "marque"),
    "model": ("model", "model number", "model no", "model name", "product", "product model", "part number", "pn", "sku", "device model", "hardware model"),
    "mac": ("mac", "mac address", "hw address", "hardware address", "ethernet address", "physical address", "mac addr", "ethernet mac"),
    "hostname": ("hostname", "host", "host name", "device name", "dns name", "fqdn", "name", "computer name"),
    "ip": ("ip", "ip address", "ipv4", "ipv4 address", "ip addr", "address", "management ip"),
    "description": ("description", "desc", "notes", "note", "comment", "comments", "device type", "type", "category", "details"),
    "serial": ("serial", "serial number", "serial no", "sn", "s/n"),
    "os": ("os", "operating system", "firmware", "firmware version", "software"),
    "services": ("services", "banners", "open ports"),
}
assert tuple(SYNONYMS) == FIELDS
FIELD_WORDS = {
    "manufacturer": "manufacturer", "brand": "brand", "model": "model", "mac": "MAC address", "description": "description",
    "serial": "serial number", "os": "OS/firmware", "services": "services", "hostname": "host name",
}


@dataclass
class InventoryRun:
    """One screening run over an inventory file and/or an nmap scan."""

    inventory: str | Path | None = None
    nmap: str | Path | None = None
    maps: Sequence[str] = ()
    encoding: str | None = None
    sheet: str | None = None
    as_of: str | date | None = None
    table: Table | None = field(default=None, init=False)
    mapping: FieldMapping | None = field(default=None, init=False)
    hosts: list[dict[str, Any]] = field(default_factory=list, init=False)
    counts: Counter = field(default_factory=Counter, init=False)
    by_producer: Counter = field(default_factory=Counter, init=False)
    rows: int = field(default=0, init=False)
    elapsed: float = field(default=0.0, init=False)

    def __post_init__(self) -> None:
        if self.inventory is None and self.nmap is None:
            raise InputError("nothing to screen: give an INVENTORY file, --nmap SCAN.xml, or both")
        self.screener = AssetScreener(self.as_of)
        self.as_of = self.screener.as_of
        rules_for("hikvision", self.as_of)  # a broken rule table stops the run here, with one line
        if self.nmap is not None:
            self.hosts = read_nmap(self.nmap)
        if self.inventory is not None:
            self.table = open_table(self.inventory, encoding=self.encoding, sheet=self.sheet)
            self.mapping = map_fields(self.table.columns, SYNONYMS, self.maps, where=str(self.inventory))
            usable = [f for f in SIGNAL_FIELDS if f in self.mapping.fields]
            if not usable:
                wanted = ", ".join(FIELD_WORDS[f] for f in SIGNAL_FIELDS)
                columns = ", ".join(repr(c) for c in self.table.columns[:20])
                raise InputError(
                    f"{self.inventory}: no column to screen; expected one of {wanted} "
                    f"(columns are: {columns}); name one with --map, e.g. --map model=\"Part No\""
                )
        elif self.maps:
            raise InputError("--map applies to an INVENTORY file; an nmap scan has fixed fields")

    # -- describing ----------------------------------------------------------------

    def describe(self) -> str:
        parts = []
        if self.table is not None and self.mapping is not None:
            parts.append(f"{self.inventory} ({self.table.describe()}); columns: {self.mapping.describe()}")
        if self.nmap is not None:
            parts.append(f"nmap scan {self.nmap}: {len(self.hosts)} live host{'s' if len(self.hosts) != 1 else ''}")
        return "; ".join(parts)

    def estimate(self) -> int | None:
        rows = self.table.estimate_rows() if self.table is not None else 0
        return None if rows is None else rows + len(self.hosts)

    @property
    def exit_code(self) -> int:
        if self.counts["error"]:
            return 2
        return 1 if self.counts["covered"] or self.counts["review"] else 0

    # -- screening -------------------------------------------------------------------

    def _host_index(self) -> tuple[dict[str, int], dict[str, int]]:
        by_mac: dict[str, int] = {}
        by_ip: dict[str, int] = {}
        for k, host in enumerate(self.hosts):
            try:
                for mac in parse_macs(host.get("mac")):
                    by_mac.setdefault(mac.hex, k)
            except MacError:
                pass
            if host.get("ip"):
                by_ip.setdefault(str(host["ip"]).strip(), k)
        return by_mac, by_ip

    def _where(self, line: int) -> str:
        assert self.table is not None
        word = "line" if self.table.format in ("csv", "jsonl") else "row"
        sheet = f", sheet {self.table.sheet!r}" if self.table.sheet else ""
        return f"{Path(str(self.inventory)).name}{sheet}, {word} {line}"

    def records(self, on_record: Callable[[dict], None] | None = None) -> Iterator[dict]:
        """Every asset result, in input order (inventory rows, then unmatched hosts)."""
        started = time.perf_counter()
        by_mac, by_ip = self._host_index()
        joined: set[int] = set()
        index = 0
        if self.table is not None and self.mapping is not None:
            for row in self.table.rows():
                where = self._where(row.line)
                if row.error:
                    record = self._error(row.index, row.values, row.error)
                else:
                    fields = self.mapping.extract(row.values)
                    host_no = self._match_host(fields, by_mac, by_ip)
                    host = None
                    if host_no is not None:
                        joined.add(host_no)
                        host = self.hosts[host_no]
                        for key in ("services", "os", "mac", "hostname", "ip"):
                            if not fields.get(key) and host.get(key):
                                fields[key] = host[key]
                    record = self._screen(fields, row.index, row.values, where)
                    if host is not None:
                        record["nmap"] = host
                index = row.index + 1
                yield self._count(record, on_record)
        for k, host in enumerate(self.hosts):
            if k in joined:
                continue
            where = f"{Path(str(self.nmap)).name}, host {host.get('ip') or host.get('mac')}"
            record = self._screen(host, index, host, where)
            index += 1
            yield self._count(record, on_record)
        self.elapsed = time.perf_counter() - started

    @staticmethod
    def _match_host(fields: dict, by_mac: dict[str, int], by_ip: dict[str, int]) -> int | None:
        try:
            for mac in parse_macs(fields.get("mac")):
                if mac.hex in by_mac:
                    return by_mac[mac.hex]
        except MacError:
            pass
        ip = str(fields.get("ip") or "").strip()
        return by_ip.get(ip) if ip else None

    def _screen(self, fields: dict, index: int, values: dict, where: str) -> dict:
        try:
            return self.screener.screen(fields, row=index, input=values, where=where)
        except Exception as exc:  # a bug must not lose the row
            return self._error(index, values, f"{where}: could not be screened ({type(exc).__name__}: {exc})")

    @staticmethod
    def _error(index: int, values: dict, message: str) -> dict:
        return {"row": index, "input": values, "status": "error", "producer": None, "evidence": [], "rules": [], "summary": message, "error": message}

    def _count(self, record: dict, on_record: Callable[[dict], None] | None) -> dict:
        self.rows += 1
        self.counts[record["status"]] += 1
        if record["status"] in ("covered", "review") and record.get("producer"):
            self.by_producer[(record["producer"], record["status"])] += 1
        if on_record is not None:
            on_record(record)
        return record


# -- spreadsheet shapes ------------------------------------------------------------------

RESULT_COLUMNS = ("row", "status", "producer", "signals", "rules", "citations", "summary", "error")


def sheets(input_columns: Sequence[str]) -> list[Sheet]:
    """The sheets of CSV/XLSX output: results (one row per asset), evidence, rules."""
    extra = [c if c not in RESULT_COLUMNS else f"input: {c}" for c in input_columns]

    def result_rows(record: dict) -> list[dict]:
        out = {
            "row": record["row"],
            "status": record["status"],
            "producer": record.get("producer"),
            "signals": [f"{e['signal']}: {e['value']}" for e in record.get("evidence", []) if e.get("producer")],
            "rules": [r["rule"] for r in record.get("rules", [])],
            "citations": [r["citation"] for r in record.get("rules", [])],
            "summary": record.get("summary"),
            "error": record.get("error"),
        }
        values = record.get("input") or {}
        for column, name in zip(input_columns, extra):
            out[name] = values.get(column)
        return [out]

    def evidence_rows(record: dict) -> list[dict]:
        return [{"row": record["row"], **e} for e in record.get("evidence", [])]

    def rule_rows(record: dict) -> list[dict]:
        return [{"row": record["row"], "producer": record.get("producer"), **r} for r in record.get("rules", [])]

    return [
        Sheet("assets", list(RESULT_COLUMNS) + extra, result_rows),
        Sheet("evidence", ["row", "signal", "field", "value", "producer", "strength", "detail"], evidence_rows),
        Sheet("rules", ["row", "producer", "id", "rule", "consequence", "program", "citation", "url", "text"], rule_rows),
    ]


def input_columns(run: InventoryRun) -> list[str]:
    """Input columns echoed in spreadsheets: the inventory's, else the nmap host fields."""
    host_fields = ["asset_id", "ip", "mac", "mac_vendor", "hostname", "os", "services"]
    if run.table is None:
        return host_fields
    columns = list(run.table.columns)
    if run.hosts:  # scanned hosts not in the inventory echo their own fields
        columns += [f for f in host_fields if f not in columns]
    return columns


__all__ = ["RESULT_COLUMNS", "STATUSES", "SYNONYMS", "InventoryRun", "input_columns", "sheets"]
