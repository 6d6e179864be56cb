"""Where the bundled data lives: the repository's ``data/`` in a checkout or
editable install, ``clearance/_data`` in a wheel, or ``$CLEARANCE_DATA``."""

from __future__ import annotations

import os
import re
from pathlib import Path

_CAPTURE = re.compile(r"^\d{4}-\d{2}(-\d{2})?$")


def data_dir() -> Path:
    override = os.environ.get("CLEARANCE_DATA")
    if override:
        return Path(override)
    packaged = Path(__file__).resolve().parent / "_data"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "data"


def bundled_captures(roots: list[Path] | None = None) -> list[tuple[str, str, Path]]:
    """(captured, source, folder) for every bundled list capture, oldest first.

    Official snapshots live in ``data/lists/<source>/<YYYY-MM>/``; lists we
    curate ourselves (e.g. ``us-covered``) in ``data/curated/<source>/<YYYY-MM>/``.
    """
    roots = roots or [data_dir() / "lists", data_dir() / "curated"]
    found = []
    for root in roots:
        if not root.is_dir():
            continue
        for source_dir in sorted(p for p in root.iterdir() if p.is_dir()):
            for capture in sorted(p for p in source_dir.iterdir() if p.is_dir() and _CAPTURE.match(p.name)):
                found.append((capture.name, source_dir.name, capture))
    return sorted(found)
