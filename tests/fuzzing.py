"""Hostile-input helpers shared by the parser fuzz tests and benchmarks/fuzz.py.

Each target is one parser with a small real seed (the head of a bundled file).
A fuzz case mutates the seed's bytes; the parser must then either return
entities or raise :class:`~clearance.errors.SourceError` — anything else (an
uncaught exception, a hang, a runaway allocation) is a bug.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from clearance.errors import SourceError
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


TARGETS = [
    Target("ofac-csv", "cons_prim.csv", _ofac_seed, _run_ofac),
    Target("un-xml", "consolidated.xml", _un_seed, lambda p: list(un.parse(p, "fuzz"))),
    Target("dpl", "dpl.txt", lambda: _head(LISTS / "us-bis-dpl/2022-09/dpl.txt", 40), lambda p: list(dpl.parse(p, "fuzz"))),
    Target("csl-csv", "consolidated.csv", lambda: _head(LISTS / "us-trade-csl/2019-12/consolidated.csv", 40), lambda p: list(csl.parse(p, "fuzz"))),
    Target("csl-json", "csl.json", lambda: (ROOT / "tests/fixtures/csl_sample.json").read_bytes(), lambda p: list(csl.parse(p, "fuzz"))),
    Target("ftm", "entities.ftm.json", _ftm_seed, lambda p: list(ftm.parse(p, "fuzz"))),
    Target("userlist-csv", "list.csv", _userlist_seed, lambda p: list(userlist.parse(p, "fuzz"))),
    Target("userlist-yaml", "list.yaml", lambda: b"- name: Example Co\n  aliases: [Ex Co]\n  country: CN\n  identifiers: {isin: CNE100000PM8}\n", lambda p: list(userlist.parse(p, "fuzz"))),
]

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
    except SourceError as exc:
        message = str(exc)
        assert "\n" not in message.strip(), f"multi-line error: {message!r}"
        return "refused"
    return "ok"
