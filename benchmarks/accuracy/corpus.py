"""The evaluation corpus: the latest bundled capture of each official list,
parsed directly (no store), so results are reproducible from the repository."""

from __future__ import annotations

import logging
import pickle
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))

from clearance.data import bundled_captures  # noqa: E402
from clearance.model import Entity  # noqa: E402
from clearance.sources import OFFICIAL_SOURCES, format_for  # noqa: E402

CACHE = ROOT / "benchmarks" / "results" / ".corpus.pkl"


def latest_captures() -> dict[str, Path]:
    latest: dict[str, Path] = {}
    for captured, source, folder in bundled_captures():
        if source in OFFICIAL_SOURCES:
            latest[source] = folder  # sorted oldest first: the last one wins
    return latest


def load_corpus(use_cache: bool = True) -> list[tuple[str, Entity]]:
    """(source, Entity) for every entity of the latest bundled captures."""
    captures = latest_captures()
    key = repr(sorted((s, str(p), sum(f.stat().st_mtime_ns for f in p.iterdir())) for s, p in captures.items()))
    if use_cache and CACHE.exists():
        try:
            cached_key, items = pickle.loads(CACHE.read_bytes())
            if cached_key == key:
                return items
        except Exception:
            pass
    logging.getLogger("clearance").setLevel(logging.ERROR)
    items: list[tuple[str, Entity]] = []
    for source, folder in sorted(captures.items()):
        fmt = format_for(source, folder)
        items.extend((source, entity) for entity in fmt.parse(folder, source))
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    CACHE.write_bytes(pickle.dumps((key, items)))
    return items
