"""Shaping library results for the JSON API and the pages: list summaries
with freshness, diffs with entity names, matched-token highlighting and the
dashboard's SVG chart. Read-only; no decisions are made here."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timezone
from html import escape
from typing import Iterable

from sqlalchemy import select

from ..cases.errors import Conflict, Forbidden, NotFound
from ..errors import ClearanceError, InputError
from ..match.normalize import analyze
from ..store import schema as t
from ..store.diff import diff as store_diff

#: The HTTP status of each library error (the most specific class first).
ERROR_STATUSES = ((NotFound, 404), (Forbidden, 403), (Conflict, 409), (InputError, 400), (ClearanceError, 400))


def error_status(exc: Exception) -> int:
    return next(status for cls, status in ERROR_STATUSES if isinstance(exc, cls))


def _age_days(stamp: str | None) -> int | None:
    if not stamp:
        return None
    try:
        text = stamp if len(stamp) > 7 else f"{stamp}-01"
        when = datetime.fromisoformat(text[:10]).date() if len(text) >= 10 else date.fromisoformat(text)
    except ValueError:
        return None
    return (datetime.now(timezone.utc).date() - when).days


def lists_view(store) -> list[dict]:
    """Each source: its active version, how many versions, dates and ages."""
    out = []
    for snap in store.active_snapshots():
        history = store.history(snap.source)
        listed = snap.published or snap.captured
        out.append({
            "source": snap.source, "version": snap.version, "versions": len(history), "latest": history[-1].version,
            "captured": snap.captured, "published": snap.published, "imported_at": snap.imported_at,
            "entities": snap.entity_count, "names": snap.name_count, "format": snap.format,
            "list_age_days": _age_days(listed), "import_age_days": _age_days(snap.imported_at),
            "content_hash": snap.content_hash,
        })
    return out


def _names(store, snapshot_id: int, ids: Iterable[str]) -> dict[str, dict]:
    wanted = sorted(set(ids))
    found: dict[str, dict] = {}
    with store.engine.connect() as conn:
        for start in range(0, len(wanted), 500):
            query = (
                select(t.snapshot_entities.c.entity_id, t.entity_data.c.data)
                .join(t.entity_data, t.entity_data.c.hash == t.snapshot_entities.c.hash)
                .where(t.snapshot_entities.c.snapshot_id == snapshot_id, t.snapshot_entities.c.entity_id.in_(wanted[start : start + 500]))
            )
            for entity_id, data in conn.execute(query):
                entity = json.loads(data)
                props = entity.get("properties", {})
                found[entity_id] = {"name": (props.get("name") or [entity_id])[0], "schema": entity.get("schema")}
    return found


def diff_view(store, source: str, old: int | None = None, new: int | None = None, limit: int = 100) -> dict:
    """What changed between two versions, first ``limit`` of each kind with names."""
    d = store_diff(store, source, old, new)
    added, removed, changed = d.added[:limit], d.removed[:limit], d.changed[:limit]
    new_names = _names(store, d.new.id, [*added, *(c["id"] for c in changed)])
    old_names = _names(store, d.old.id, removed)
    return {
        "source": source,
        "old": {"version": d.old.version, "captured": d.old.captured, "imported_at": d.old.imported_at, "entities": d.old.entity_count},
        "new": {"version": d.new.version, "captured": d.new.captured, "imported_at": d.new.imported_at, "entities": d.new.entity_count},
        "counts": {"added": len(d.added), "removed": len(d.removed), "changed": len(d.changed)},
        "added": [{"id": i, **new_names.get(i, {})} for i in added],
        "removed": [{"id": i, **old_names.get(i, {})} for i in removed],
        "changed": [{"id": c["id"], **new_names.get(c["id"], {}), "fields": c["fields"]} for c in changed],
        "limit": limit,
    }


_WORD = re.compile(r"\w+", re.UNICODE)


def _tokens_of(word: str) -> set[str]:
    out: set[str] = set()
    for form in analyze(word):
        out.update(form.tokens)
    return out


def highlight(text: str | None, tokens: Iterable[str]) -> list[tuple[str, bool]]:
    """``text`` split into (piece, matched) where a word reads as one of ``tokens``."""
    if not text:
        return []
    wanted = {t for t in tokens if t}
    if not wanted:
        return [(text, False)]
    pieces: list[tuple[str, bool]] = []
    pos = 0
    for m in _WORD.finditer(text):
        if m.start() > pos:
            pieces.append((text[pos : m.start()], False))
        word = m.group(0)
        readings = _tokens_of(word) if len(word) < 60 else set()
        pieces.append((word, bool(readings & wanted)))
        pos = m.end()
    if pos < len(text):
        pieces.append((text[pos:], False))
    return pieces


def matched_tokens(hit: dict) -> tuple[set[str], set[str]]:
    """(query tokens, list tokens) that the explanation paired up."""
    sim = ((hit or {}).get("explanation") or {}).get("name_similarity") or {}
    pairs = sim.get("token_pairs") or []
    return {p["query"] for p in pairs if p.get("similarity", 0) > 0}, {p["list"] for p in pairs if p.get("similarity", 0) > 0}


def chart_svg(per_day: list[dict], width: int = 640, height: int = 160) -> str:
    """Bars of alerts raised per day (inline SVG, no script, no styles)."""
    if not per_day:
        return f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="No alerts yet"><text x="10" y="{height // 2}">No alerts yet</text></svg>'
    top = max(d["alerts"] for d in per_day) or 1
    pad_left, pad_bottom, pad_top = 36, 28, 10
    inner_w, inner_h = width - pad_left - 8, height - pad_bottom - pad_top
    step = inner_w / len(per_day)
    bar = min(48.0, max(2.0, step * 0.7))
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="Alerts raised per day">']
    parts.append(f'<line x1="{pad_left}" y1="{pad_top + inner_h}" x2="{width - 8}" y2="{pad_top + inner_h}" class="axis"/>')
    parts.append(f'<text x="{pad_left - 6}" y="{pad_top + 10}" text-anchor="end" class="tick">{top}</text>')
    parts.append(f'<text x="{pad_left - 6}" y="{pad_top + inner_h}" text-anchor="end" class="tick">0</text>')
    for i, d in enumerate(per_day):
        h = inner_h * d["alerts"] / top
        x = pad_left + i * step + (step - bar) / 2
        y = pad_top + inner_h - h
        label = escape(f"{d['date']}: {d['alerts']} alerts")
        parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" class="bar"><title>{label}</title></rect>')
        if len(per_day) <= 8 or i in (0, len(per_day) - 1) or i % max(1, len(per_day) // 6) == 0:
            parts.append(f'<text x="{x + bar / 2:.1f}" y="{height - 8}" text-anchor="middle" class="tick">{escape(d["date"][5:])}</text>')
    parts.append("</svg>")
    return "".join(parts)


def rules_for(source: str, entity: dict | None, as_of: str | None = None) -> tuple[list[dict], str | None]:
    """The dated consequences of a list entry (rules and citations), or an error note."""
    if not entity:
        return [], None
    try:
        from ..model import Entity
        from ..rules import determine

        found = determine((source, Entity.from_dict(entity)), as_of)
        return [rule.to_dict() for rule in found], None
    except Exception as exc:  # the page still shows the alert; the note says what is missing
        import logging

        logging.getLogger("clearance.api").warning("rules for %s failed: %s", entity.get("id"), exc)
        return [], f"rules could not be applied ({type(exc).__name__})"


def ownership_for(store, source: str, entity_id: str) -> dict | None:
    """The entry's ownership exposure (paths drawn as SVG, rules with reasons), or None."""
    try:
        from ..ownership import exposure
    except ImportError:  # pragma: no cover - ownership not installed
        return None
    try:
        return exposure(store, entity_id, max_paths=10)
    except Exception as exc:  # the alert page still shows the rest
        import logging

        logging.getLogger("clearance.api").warning("exposure of %s failed: %s", entity_id, exc)
        return None


def runs_view(store, limit: int = 8) -> list[dict]:
    """Recent runs, each with a label: the uploaded file's name, the input file's, or "API"."""
    from pathlib import PurePath

    from ..cases.tables import jobs
    from ..store import runs as r

    items = r.list_runs(store, limit)
    with store.engine.connect() as conn:
        names = dict(conn.execute(select(jobs.c.run_id, jobs.c.filename).where(jobs.c.run_id.in_([x["id"] for x in items]))).all()) if items else {}
    for run in items:
        path = run.get("input_path") or ""
        run["label"] = names.get(run["id"]) or ("API request" if path == "api" else PurePath(path).name or run["kind"])
    return items
