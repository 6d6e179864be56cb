"""Hostile-input helpers shared by the parser fuzz tests and benchmarks/fuzz.py.

Each target is one parser with a small real seed (the head of a bundled file
or a test fixture).  A fuzz case mutates the seed's bytes; the parser must
then either return its records or refuse the input with one line
(:class:`~clearance.errors.SourceError` for list files,
:class:`~clearance.errors.InputError` for user files) - anything else (an
uncaught exception, a hang, a runaway allocation) is a bug.

List parsers: OFAC CSV, UN XML, DPL, CSL CSV/JSON, FtM JSON, user lists.
User files: asset inventories (CSV, JSON Lines, XLSX) and nmap XML through
:class:`clearance.assets.InventoryRun`; transaction JSON through
:func:`clearance.rules.transaction.read_transaction` and
:func:`clearance.rules.assessment.assess`; screening input files (CSV, JSON
Lines, XLSX) through :mod:`clearance.tabular` and
:func:`clearance.screen.batch.screen_row`, written out again as CSV.  For
these a row the code could not screen because of an internal exception (the
"could not be screened (SomeError: ...)" guard) counts as a crash too, every
input row must come out as exactly one record, in order, and no exported
cell may start like a formula.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import random
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from clearance.errors import ClearanceError, SourceError
from clearance.sources import csl, dpl, ftm, ofac, un, userlist

ROOT = Path(__file__).resolve().parents[1]
LISTS = ROOT / "data" / "lists"


def _head(path: Path, lines: int) -> bytes:
    return b"\n".join(path.read_bytes().split(b"\n")[:lines]) + b"\n"


@dataclass(frozen=True)
class Target:
    name: str
    filename: str  # the file the mutated bytes are written to
    seed: Callable[[], bytes]
    run: Callable[[Path], object]  # parse the folder/file, materialising entities
    #: Exceptions that mean "refused with one line" (anything else is a crash).
    refuses: tuple[type[BaseException], ...] = (SourceError,)
    #: A structure-aware mutator (e.g. mutate the XML inside an XLSX zip); default: bytes.
    mutator: Callable[[bytes, random.Random], bytes] | None = None
    #: A crash found here and reported to the code's owner, not yet fixed (the suite marks it xfail).
    known_bug: str | None = None

    def mutate(self, seed: bytes, rng: random.Random) -> bytes:
        return (self.mutator or mutate)(seed, rng)


def _ofac_seed() -> bytes:
    return _head(LISTS / "us-ofac-nonsdn/2025-12/cons_prim.csv", 60)


def _ofac_companions() -> dict[str, bytes]:
    """Address and alias rows of the entries in the seed, so the seed set is valid."""
    ids = {line.split(b",", 1)[0] for line in _ofac_seed().split(b"\n") if line}
    folder = LISTS / "us-ofac-nonsdn/2025-12"
    return {
        name: b"\n".join(l for l in (folder / name).read_bytes().split(b"\n") if l.split(b",", 1)[0] in ids) + b"\n"
        for name in ("cons_add.csv", "cons_alt.csv")
    }


def _run_ofac(path: Path) -> object:
    for name, data in _ofac_companions().items():
        (path.parent / name).write_bytes(data)
    return list(ofac.parse_cons(path.parent, "fuzz"))


def _un_seed() -> bytes:
    """The first five individuals of the real UN list, closed properly."""
    data = (LISTS / "un-sc/2026-02/consolidated.xml").read_bytes()
    end = 0
    for _ in range(5):
        end = data.index(b"</INDIVIDUAL>", end) + len(b"</INDIVIDUAL>")
    return data[:end] + b"</INDIVIDUALS><ENTITIES/></CONSOLIDATED_LIST>\n"


def _ftm_seed() -> bytes:
    return (
        b'{"id": "p1", "schema": "Person", "properties": {"name": ["Ivan Petrov"], "birthDate": ["1970-01-02"]}}\n'
        b'{"id": "c1", "schema": "Company", "properties": {"name": ["ACME LLC"], "isinCode": ["US0000000000"]}}\n'
        b'{"id": "s1", "schema": "Sanction", "properties": {"entity": ["c1"], "program": ["SDGT"]}}\n'
        b'{"id": "o1", "schema": "Ownership", "properties": {"owner": ["p1"], "asset": ["c1"], "percentage": ["60"]}}\n'
    )


def _userlist_seed() -> bytes:
    return (
        "name,aliases,country,schema,identifiers,note\n"
        "Hangzhou Example Co Ltd,Example;Ex Co,CN,Company,isin:CNE100000PM8,blocked by policy\n"
        "Иван Петров,Ivan Petrov,RU,Person,passport:123456,\n"
    ).encode("utf-8")


LIST_TARGETS = [
    Target("ofac-csv", "cons_prim.csv", _ofac_seed, _run_ofac),
    Target("un-xml", "consolidated.xml", _un_seed, lambda p: list(un.parse(p, "fuzz"))),
    Target("dpl", "dpl.txt", lambda: _head(LISTS / "us-bis-dpl/2022-09/dpl.txt", 40), lambda p: list(dpl.parse(p, "fuzz"))),
    Target("csl-csv", "consolidated.csv", lambda: _head(LISTS / "us-trade-csl/2019-12/consolidated.csv", 40), lambda p: list(csl.parse(p, "fuzz"))),
    Target("csl-json", "csl.json", lambda: (ROOT / "tests/fixtures/csl_sample.json").read_bytes(), lambda p: list(csl.parse(p, "fuzz"))),
    Target("ftm", "entities.ftm.json", _ftm_seed, lambda p: list(ftm.parse(p, "fuzz"))),
    Target("userlist-csv", "list.csv", _userlist_seed, lambda p: list(userlist.parse(p, "fuzz"))),
    Target("userlist-yaml", "list.yaml", lambda: b"- name: Example Co\n  aliases: [Ex Co]\n  country: CN\n  identifiers: {isin: CNE100000PM8}\n", lambda p: list(userlist.parse(p, "fuzz"))),
]

# -- user files: inventories, nmap scans, transactions, screening inputs ----------------------

FIXTURES = ROOT / "tests" / "fixtures"
#: A cell starting with one of these is a formula to a spreadsheet (the writers must neutralise it).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: How a record reads when the code caught an internal exception on a row (see screen_row, InventoryRun).
SWALLOWED = "could not be screened ("


class Swallowed(AssertionError):
    """A row whose record hides an internal exception: a bug, counted as a crash."""


def csv_to_jsonl(data: bytes) -> bytes:
    rows = csv.DictReader(io.StringIO(data.decode("utf-8")))
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows).encode("utf-8")


def csv_to_xlsx(data: bytes) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    for row in csv.reader(io.StringIO(data.decode("utf-8"))):
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


#: Parts of a workbook the XLSX mutator picks from, with weights.
XLSX_PARTS = {"xl/worksheets/sheet1.xml": 6, "xl/sharedStrings.xml": 2, "xl/workbook.xml": 1, "[Content_Types].xml": 1, "xl/_rels/workbook.xml.rels": 1}


def mutate_xlsx(seed: bytes, rng: random.Random) -> bytes:
    """Mutate the XML inside the workbook and zip it again (now and then the zip's own bytes)."""
    if rng.random() < 0.15:
        return mutate(seed, rng)
    source = zipfile.ZipFile(io.BytesIO(seed))
    names = [n for n in XLSX_PARTS if n in source.namelist()]
    victim = rng.choices(names, weights=[XLSX_PARTS[n] for n in names])[0]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            target.writestr(info.filename, mutate(data, rng) if info.filename == victim else data)
    return out.getvalue()


@functools.lru_cache(maxsize=1)
def fuzz_pairs() -> list:
    """A small real corpus for the screening targets: the OFAC non-SDN list (442 entries)."""
    folder = LISTS / "us-ofac-nonsdn/2025-12"
    return [("us-ofac-nonsdn", e) for e in ofac.parse_cons(folder, "us-ofac-nonsdn")]


@functools.lru_cache(maxsize=1)
def fuzz_screener():
    from clearance.screen import Screener

    return Screener.from_entities(fuzz_pairs())


@functools.lru_cache(maxsize=1)
def static_screener():
    from clearance.rules.asof import StaticScreener

    return StaticScreener(fuzz_pairs())


def check_records(records: list[dict], statuses) -> None:
    """One record per input row, in order, each with a known status; no swallowed exception."""
    assert [r["row"] for r in records] == list(range(len(records))), "a row was lost or reordered"
    for record in records:
        assert record["status"] in statuses, record["status"]
        error = record.get("error") or ""
        if SWALLOWED in error:
            raise Swallowed(error[:300])


def check_export(path: Path) -> None:
    """No cell of an exported CSV starts like a formula."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        for line in csv.reader(fh):
            for cell in line:
                assert not cell.startswith(FORMULA_START), f"formula-like cell exported: {cell[:80]!r}"


def _run_screen(path: Path) -> list[dict]:
    from clearance.screen import batch
    from clearance.tabular import open_writer

    table, mapping = batch.prepare(path)
    screener = fuzz_screener()
    screener.__dict__.pop("_batch_cache", None)
    records = [batch.screen_row(screener, row, mapping) for row in table.rows()]
    check_records(records, batch.STATUSES)
    out = path.parent / "export.csv"
    with open_writer("csv", out, batch.sheets_for(table.columns)) as writer:
        writer.write_all(records)
    check_export(out)
    return records


def _run_assets(inventory: Path | None, nmap: Path | None) -> list[dict]:
    from clearance.assets import STATUSES, InventoryRun, open_output

    run = InventoryRun(inventory, nmap)
    out = (inventory or nmap).parent / "export.csv"  # type: ignore[union-attr]
    records = []
    with open_output(run, "csv", out) as writer:
        for record in run.records():
            writer.write(record)
            records.append(record)
    check_records(records, STATUSES)
    check_export(out)
    return records


def _run_transaction(path: Path) -> dict:
    from clearance.rules.assessment import assess
    from clearance.rules.transaction import read_transaction

    result = assess(read_transaction(path), as_of="2024-06-01", screener=static_screener())
    json.dumps(result)
    return result


def _inventory_seed() -> bytes:
    return _head(FIXTURES / "assets_inventory.csv", 16)


def _screen_seed() -> bytes:
    return (ROOT / "data" / "samples" / "counterparties.csv").read_bytes()


def _nmap_seed() -> bytes:
    """The real scan's header and its first three hosts."""
    data = (FIXTURES / "assets_scan.xml").read_bytes()
    start = data.index(b"<host ")
    end = start
    for _ in range(3):
        end = data.index(b"</host>", end) + len(b"</host>")
    return data[: data.index(b"<scaninfo")] + data[start:end] + b"\n</nmaprun>\n"


USER_TARGETS = [
    Target("inventory-csv", "assets.csv", _inventory_seed, lambda p: _run_assets(p, None), (ClearanceError,)),
    Target("inventory-jsonl", "assets.jsonl", lambda: csv_to_jsonl(_inventory_seed()), lambda p: _run_assets(p, None), (ClearanceError,)),
    Target("inventory-xlsx", "assets.xlsx", lambda: csv_to_xlsx(_inventory_seed()), lambda p: _run_assets(p, None), (ClearanceError,), mutate_xlsx),
    Target("nmap-xml", "scan.xml", _nmap_seed, lambda p: _run_assets(None, p), (ClearanceError,)),
    Target("transaction-json", "transaction.json", lambda: (FIXTURES / "assess_el_export.json").read_bytes(), _run_transaction, (ClearanceError,)),
    Target("screen-csv", "parties.csv", _screen_seed, _run_screen, (ClearanceError,)),
    Target("screen-jsonl", "parties.jsonl", lambda: csv_to_jsonl(_screen_seed()), _run_screen, (ClearanceError,)),
    Target("screen-xlsx", "parties.xlsx", lambda: csv_to_xlsx(_screen_seed()), _run_screen, (ClearanceError,), mutate_xlsx),
]

TARGETS = LIST_TARGETS + USER_TARGETS

INTERESTING = [b'"', b"\x00", b"\x1a", b"\xff\xfe", b"\xef\xbb\xbf", b"\r", b"\n", b",", b"\t", b";", b"<", b">",
               b"&", b"<!ENTITY x SYSTEM 'file:///etc/passwd'>", b"&x;", b"{", b"}", b"[", b"]", b"-0-", b"\\",
               b"\xe9", "名".encode(), b"*a", b"&a", b"!!python/object:os.system", b"9" * 40]


def mutate(seed: bytes, rng: random.Random, rounds: int | None = None) -> bytes:
    """Apply a few random byte-level mutations (delete, insert, duplicate, truncate, flip)."""
    data = bytearray(seed)
    for _ in range(rounds or rng.randint(1, 3)):
        if not data:
            data.extend(rng.choice(INTERESTING))
            continue
        i = rng.randrange(len(data))
        j = min(len(data), i + rng.randint(1, 64))
        op = rng.randrange(6)
        if op == 0:
            del data[i:j]
        elif op == 1:
            data[i:i] = rng.choice(INTERESTING)
        elif op == 2:
            data[i:i] = data[i:j] * rng.randint(1, 4)
        elif op == 3:
            del data[i:]
        elif op == 4:
            data[i] = rng.randrange(256)
        else:
            data[i:i] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
    return bytes(data)


def run_case(target: Target, data: bytes, folder: Path) -> str:
    """Parse ``data`` as ``target``; returns "ok" or "refused", raises on any other outcome."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.iterdir():
        old.unlink()
    path = folder / target.filename
    path.write_bytes(data)
    try:
        target.run(path)
    except target.refuses as exc:
        message = str(exc)
        assert "\n" not in message.strip(), f"multi-line error: {message!r}"
        return "refused"
    return "ok"
