"""Parsers: one module per official format, each turning a file set into
canonical :class:`~clearance.model.Entity` objects.

Parsers are pure: they read the files they are given and raise
:class:`~clearance.errors.SourceError` for anything that is not the format.
What to do with the result (store it, diff it, screen against it) is the
caller's business.

Every format module offers three functions, gathered here as a :class:`Format`:

``files(path) -> list[Path]``
    the files making up one capture (raises ``SourceError`` if one is missing);
``parse(path, source) -> Iterator[Entity]``
    the entities, ids prefixed with ``source``;
``published(path) -> str | None``
    the publisher's own date for the capture, when the files carry one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from ..errors import SourceError
from ..model import Entity

#: Source ids of the official lists (see GUIDE.md section 5).
OFFICIAL_SOURCES = ("us-ofac-sdn", "us-ofac-nonsdn", "un-sc", "us-bis-dpl", "us-trade-csl")
#: Lists Clearance curates itself from official texts (data/curated/).
CURATED_SOURCES = ("us-covered",)


def _no_date(path: Path) -> str | None:
    return None


@dataclass(frozen=True)
class Format:
    name: str
    files: Callable[[Path], list[Path]]
    parse: Callable[[Path, str], Iterator[Entity]]
    published: Callable[[Path], str | None] = _no_date


def _formats() -> dict[str, Format]:
    from . import covered, csl, dpl, ftm, ofac, un, userlist

    return {
        "ofac-sdn": Format("ofac-sdn", ofac.sdn_files, ofac.parse_sdn),
        "ofac-cons": Format("ofac-cons", ofac.cons_files, ofac.parse_cons),
        "un-xml": Format("un-xml", un.files, un.parse, un.published),
        "dpl": Format("dpl", dpl.files, dpl.parse, dpl.published),
        "csl": Format("csl", csl.files, csl.parse),
        "ftm": Format("ftm", ftm.files, ftm.parse),
        "userlist": Format("userlist", userlist.files, userlist.parse),
        "covered": Format("covered", covered.files, covered.parse, covered.published),
    }


#: Which format each official source is published in.
SOURCE_FORMATS = {
    "us-ofac-sdn": "ofac-sdn",
    "us-ofac-nonsdn": "ofac-cons",
    "un-sc": "un-xml",
    "us-bis-dpl": "dpl",
    "us-trade-csl": "csl",
    "us-covered": "covered",
}


def format_for(source: str, path: Path) -> Format:
    """The parser for a source id, or for a user list judged by its files."""
    formats = _formats()
    if source in SOURCE_FORMATS:
        return formats[SOURCE_FORMATS[source]]
    path = Path(path)
    if not path.exists():
        raise SourceError(path, "file or folder not found")
    if path.is_dir():
        names = {p.name.lower() for p in path.iterdir()}
        if "sdn.csv" in names:
            return formats["ofac-sdn"]
        if "cons_prim.csv" in names:
            return formats["ofac-cons"]
        if "dpl.txt" in names:
            return formats["dpl"]
        if "consolidated.csv" in names:
            return formats["csl"]
        if any(n.endswith(".xml") for n in names):
            return formats["un-xml"]
        raise SourceError(
            path,
            "cannot tell the list format of this folder; expected an OFAC CSV set, dpl.txt, "
            "consolidated.csv (CSL) or a UN XML file",
        )
    suffix = path.suffix.lower()
    if suffix in (".json", ".jsonl", ".ftm", ".ijson"):
        from . import csl

        if csl.looks_like_csl_json(path):
            return formats["csl"]
        return formats["ftm"]
    if suffix in (".csv", ".yaml", ".yml", ".tsv", ".txt"):
        return formats["userlist"]
    if suffix == ".xml":
        return formats["un-xml"]
    raise SourceError(path, f"unknown list format {suffix!r}; expected .csv, .yaml, .json/.jsonl (FtM or CSL) or .xml (UN)")

