"""Covered equipment: find Hikvision, Dahua, Huawei, ZTE and Hytera gear (and
their subsidiaries' and brands') in an asset inventory or an nmap scan.

>>> from clearance.assets import screen_asset
>>> screen_asset({"manufacturer": "Honeywell", "mac": "BC:AD:28:4A:10:0B"})["status"]
'covered'

>>> run = screen_inventory("assets.csv", nmap="scan.xml", output="results.xlsx")
>>> run.counts["covered"], run.exit_code

Each record follows the asset-result contract of GUIDE.md section 5:
``row``, ``input``, ``status`` (covered | review | clear | error),
``producer``, ``evidence`` (``signal`` oui | manufacturer | brand | model,
``value``, ``detail``, plus ``producer``, ``strength``, ``field``) and
``rules`` (``rule``, ``citation``, plus ``id``, ``consequence``, ``program``,
``text``, ``url``), with a one-line ``summary``, an ``error`` for rows that
could not be screened, and ``nmap`` (the scanned host) for inventory rows
joined to a scan.  See ``docs/assets.md``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

from .detect import FIELDS, STATUSES, AssetScreener, screen_asset
from ..tabular.write import refuse_input_as_output
from .inventory import SYNONYMS, InventoryRun, input_columns, sheets

OUTPUT_FORMATS = ("jsonl", "csv", "xlsx", "html")


def open_output(run: InventoryRun, fmt: str, output: str | Path | None):
    """The writer for ``fmt`` (jsonl, csv, xlsx, html) to ``output`` (None: standard output)."""
    from ..errors import InputError
    from ..tabular import open_writer

    if fmt not in OUTPUT_FORMATS:
        raise InputError(f"--format {fmt!r}: expected one of {', '.join(OUTPUT_FORMATS)}")
    if fmt == "html":
        from .report import AssetReport

        return AssetReport(output, run)
    return open_writer(fmt, output, sheets(input_columns(run)))


def screen_inventory(
    inventory: str | Path | None = None,
    *,
    nmap: str | Path | None = None,
    output: str | Path | None = None,
    fmt: str = "jsonl",
    maps: Sequence[str] = (),
    encoding: str | None = None,
    sheet: str | None = None,
    as_of: str | None = None,
    on_start: Callable[[InventoryRun], None] | None = None,
    on_record: Callable[[dict], None] | None = None,
) -> InventoryRun:
    """Screen an inventory and/or nmap scan and write every result to ``output``."""
    refuse_input_as_output(output, inventory, nmap)
    run = InventoryRun(inventory, nmap, maps, encoding, sheet, as_of)
    writer = open_output(run, fmt, output)
    if on_start is not None:
        on_start(run)
    with writer:
        for record in run.records(on_record):
            writer.write(record)
    return run


__all__ = [
    "FIELDS",
    "OUTPUT_FORMATS",
    "STATUSES",
    "SYNONYMS",
    "AssetScreener",
    "InventoryRun",
    "open_output",
    "screen_asset",
    "screen_inventory",
]
