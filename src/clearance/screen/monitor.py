"""Continuous monitoring: portfolios re-screened only against what changed.

``add_portfolio`` stores a file's rows (the fields screened, their normalised
name tokens) and screens them once in full; its flagged rows become open
alerts.  After a list update, ``run_portfolio`` works out, per source, the
entities added, changed and removed since the portfolio's last run and
re-screens as few rows as it can while giving exactly the alerts a full
re-screen would:

1. *coverage bound* — a subset index of the added and changed entities is
   built, scoring with the **full corpus's** token weights (rarity is
   corpus-wide), so a changed entity scores there exactly as in the full
   index.  For each row, the share of its name's token weight that could find
   a partner among those entities at all (exactly, a typo away, as a
   compound, as an initial) bounds what any of them can score; rows whose
   bound, plus the matcher's largest evidence bonus, stays under the band
   (review threshold - ``BAND``) cannot be touched by the change;
2. *subset screen* — the other rows are screened against the subset index;
   a row is *affected* if any changed entity scores within the band (every
   such screen also checks the bound: if a score ever exceeds it, all rows
   are screened against the subset);
3. *full screen* — affected rows, rows flagged last time (their alerts may
   move, or their entity be removed) and rows with a near miss last time
   (corpus-wide weights drift slightly when the corpus changes) are
   re-screened against the full index.  All other rows had nothing within
   ``BAND`` of the review threshold and cannot reach it with a changed
   entity: they stay clear.

Alerts are then reconciled: new ones opened, existing ones updated (changed
when their status, score or entity changed), and those no longer found
resolved — "entity removed from the list" or "no longer matches".
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

from sqlalchemy import bindparam, select

from ..errors import InputError, StoreError
from ..match.index import INDEX_VERSION, MatchIndex
from ..match import matcher as _matcher
from ..match.matcher import Matcher, Thresholds
from ..match.normalize import analyze, normalize_identifier
from ..match.score import token_sim
from ..match.resources import data_version
from ..model import Entity
from ..store import runs as r
from ..store import schema as t
from .batch import Workers, prepare, query_of, row_key, screen_query
from .check import Screener

log = logging.getLogger(__name__)

#: Most the matcher's country and birth-date evidence add to a name score.
MAX_BONUS = getattr(_matcher, "MAX_BONUS", 0.08)

#: Portfolios at least this big are screened on several processes.
PARALLEL_FROM = 2000
#: A row whose best-scored entity came within this of the review threshold is
#: re-screened after any list change (token weights are corpus-wide and drift a
#: little when the corpus changes); the matcher's own bonuses (country, birth
#: date) add at most 0.08 of it.
BAND = 0.15


# -- screening with near misses -----------------------------------------------------


class NearMatcher(Matcher):
    """A matcher that also notes the best score within ``BAND`` of the review threshold.

    It first matches with the review threshold lowered by ``BAND`` (a probe:
    the same scores, more entities decided); only when something reaches the
    real review threshold does it match again for the exact hits and their
    explanations.  ``last_near`` is the probe's best score (0.0: nothing
    within the band).  With ``probe_only`` the probe's hits are returned.
    """

    last_near = 0.0

    def __init__(self, index: MatchIndex, thresholds: Thresholds | None = None, max_hits: int = 10, probe_only: bool = False):
        super().__init__(index, thresholds, max_hits)
        low = max(0.0, self.thresholds.review - BAND)
        self.probe = Matcher(index, Thresholds(match=self.thresholds.match, review=low), max_hits)
        self.probe_only = probe_only

    def match(self, *args, **kwargs) -> list[dict]:
        found = self.probe.match(*args, **kwargs)
        self.last_near = max((h["score"] for h in found), default=0.0)
        if self.probe_only:
            return found
        if self.last_near < self.thresholds.review:
            return []
        return super().match(*args, **kwargs)


def near_screener(index: MatchIndex, sources: list[str] | None, thresholds: Thresholds, max_hits: int = 10, probe_only: bool = False) -> Screener:
    screener = Screener(index=index, sources=sources, thresholds=thresholds, max_hits=max_hits)
    screener._matcher = NearMatcher(index, screener.thresholds, max_hits, probe_only)
    return screener


def _screen_item(screener: Screener, item: tuple[int, dict | None]) -> tuple[int, dict | None, float]:
    index, query = item
    if query is None:
        return index, None, 0.0
    memo = screener.__dict__.setdefault("_near_cache", {})  # identical queries are screened once per process
    key = json.dumps(query, sort_keys=True, ensure_ascii=False)
    found = memo.get(key)
    if found is None:
        screener.matcher.last_near = 0.0  # type: ignore[attr-defined]
        record = screen_query(screener, index, {}, query, "screened fields", cache=False)
        found = (record, screener.matcher.last_near)  # type: ignore[attr-defined]
        if len(memo) >= 100_000:
            memo.clear()
        memo[key] = found
    record, near = found
    return index, {**record, "row": index}, near


def _screen_all(screener: Screener, items: Sequence[tuple[int, dict | None]], workers: int | None) -> Iterable[tuple[int, dict | None, float]]:
    screener.index
    n = workers if len(items) >= PARALLEL_FROM else 1
    with Workers(lambda item: _screen_item(screener, item), n) as pool:
        yield from pool.map(items)


def name_tokens(query: dict | None) -> list[list[str]]:
    """The normalised token lists of every reading of a row's name (stored with the row)."""
    if not query or not query.get("name"):
        return []
    return [list(form.tokens) for form in analyze(str(query["name"]))]


def norm_version() -> str:
    return f"{INDEX_VERSION}-{data_version()}"


# -- what changed ---------------------------------------------------------------------


def _members(conn, snapshot_id: int) -> dict[str, str]:
    query = select(t.snapshot_entities.c.entity_id, t.snapshot_entities.c.hash).where(t.snapshot_entities.c.snapshot_id == snapshot_id)
    return dict(conn.execute(query).all())


def _load_entities(conn, snapshot_id: int, ids: Sequence[str]) -> list[Entity]:
    out: list[Entity] = []
    wanted = sorted(ids)
    for start in range(0, len(wanted), 500):
        query = (
            select(t.entity_data.c.data)
            .join(t.snapshot_entities, t.snapshot_entities.c.hash == t.entity_data.c.hash)
            .where(t.snapshot_entities.c.snapshot_id == snapshot_id, t.snapshot_entities.c.entity_id.in_(wanted[start : start + 500]))
        )
        out.extend(Entity.from_dict(json.loads(data)) for (data,) in conn.execute(query))
    return out


@dataclass
class ChangeSet:
    per_source: dict[str, dict] = field(default_factory=dict)
    entities: list[tuple[str, Entity]] = field(default_factory=list)  # added and changed, as now listed
    changed_ids: set[str] = field(default_factory=set)  # added or changed
    removed_ids: set[str] = field(default_factory=set)

    @property
    def empty(self) -> bool:
        return not self.changed_ids and not self.removed_ids


def change_set(store, state: dict, current: list) -> ChangeSet:
    """Entities added, changed and removed between the snapshots last screened (``state``) and ``current``."""
    result = ChangeSet()
    now = {s.source: s for s in current}
    with store.engine.connect() as conn:
        for source in sorted(set(state) | set(now)):
            before, after = state.get(source), now.get(source)
            if before and after and before["snapshot_id"] == after.id:
                continue
            old = _members(conn, before["snapshot_id"]) if before else {}
            new = _members(conn, after.id) if after else {}
            added = sorted(set(new) - set(old))
            removed = sorted(set(old) - set(new))
            changed = sorted(i for i in set(old) & set(new) if old[i] != new[i])
            result.per_source[source] = {
                "from": before["version"] if before else None,
                "to": after.version if after else None,
                "added": len(added), "changed": len(changed), "removed": len(removed),
            }
            result.changed_ids.update(added, changed)
            result.removed_ids.update(removed)
            if after and (added or changed):
                result.entities.extend((source, e) for e in _load_entities(conn, after.id, added + changed))
    return result


class _SharedStatsIndex(MatchIndex):
    """A subset index that weighs tokens as the full corpus does."""

    def token_weight(self, token: str) -> float:
        return self.full.token_weight(token)  # type: ignore[attr-defined]


def subset_index(items: Iterable[tuple[str, Entity]], full: MatchIndex) -> MatchIndex:
    """An index of ``items`` whose scores equal the full index's for the same entities.

    (The matcher has no hook for outside corpus statistics, so the subset's
    token weights and the per-name sums derived from them are overwritten
    with the full index's; :func:`verify_subset` checks the result.)
    """
    sub = MatchIndex.build(items)
    sub.__class__ = _SharedStatsIndex
    sub.full = full  # type: ignore[attr-defined]
    for tid, token in enumerate(sub.tokens):
        sub.weight[tid] = full.token_weight(token)
    sub.unknown_weight = full.unknown_weight
    weights = sub.weight
    if hasattr(sub, "name_wts"):
        sub.name_wts = [tuple(weights[k] for k in ids) for ids in sub.name_tokens]
    for nid, ids in enumerate(sub.name_tokens):
        sub.name_total[nid] = sum(weights[k] for k in ids) or 1.0
    return sub


def verify_subset(sub: MatchIndex, full: MatchIndex, samples: int = 25) -> bool:
    """Does the subset score every (query, changed entity) pair at least as high as the full index?

    Queries are the changed entities' own names, and with a word dropped; an
    entity both indexes return must score no lower in the subset (it may score
    higher: with fewer names about, a better-scoring alias of the entity can
    make the subset's candidate cut where the full index's dropped it, which
    only makes the filter re-screen more rows).
    """
    a, b = Matcher(sub, max_hits=50), Matcher(full, max_hits=50)
    step = max(1, len(sub.entities) // samples)
    compared = 0
    for info in sub.entities[::step][:samples]:
        words = info.caption.split()
        for query in {info.caption, " ".join(words[:-1]) if len(words) > 2 else info.caption}:
            left = {h["entity_id"]: h["score"] for h in a.match(query, include_clear=True)}
            right = {h["entity_id"]: h["score"] for h in b.match(query, include_clear=True)}
            for entity_id in set(left) & set(right):
                compared += 1
                if left[entity_id] < right[entity_id] - 1e-9:
                    log.info("subset check: %r scores %s %.6f in the subset, %.6f in full", query, entity_id, left[entity_id], right[entity_id])
                    return False
    return compared > 0 or not sub.entities


def _deletions(word: str, depth: int) -> set[str]:
    """``word`` and every string made of it by deleting up to ``depth`` characters."""
    found = {word}
    frontier = {word}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1 :] for w in frontier for i in range(len(w))}
        found |= frontier
    return found


class _Partners:
    """Which strings of a set a token can pair with as the scorer pairs tokens: equal, or
    ``token_sim > 0`` (a typo apart).  Two-deletion neighbourhoods on both sides find
    every pair within two edits whatever letters changed; pairs that need three (both
    tokens longer than 12) are searched among the long strings directly."""

    def __init__(self, words: Iterable[str]):
        self.words = set(words)
        self.deletes: dict[str, list[str]] = {}
        for word in self.words:
            if len(word) >= 4 and word.isalpha():
                for variant in _deletions(word, 2):
                    self.deletes.setdefault(variant, []).append(word)
        self.long = sorted(w for w in self.words if len(w) >= 10 and w.isalpha())

    def pairs_with(self, token: str) -> bool:
        if token in self.words:
            return True
        if len(token) < 4 or not token.isalpha():
            return False
        for variant in _deletions(token, 2):
            for word in self.deletes.get(variant, ()):
                if token_sim(token, word) > 0:
                    return True
        if len(token) >= 10 and self.long:
            from rapidfuzz import process
            from rapidfuzz.distance import OSA

            for word, _, _ in process.extract(token, self.long, scorer=OSA.distance, score_cutoff=3, limit=None):
                if token_sim(token, word) > 0:
                    return True
        return False


class ChangeFilter:
    """How well could any changed entity score for a row, at most?

    A list name's score for a query is at most the query's *coverage*: the
    share of the query's token weight (full-corpus weights) that found a
    partner in the name, times factors <= 1; the matcher's country and
    birth-date evidence adds at most ``MAX_BONUS``.  A query token can only
    find a partner among the changed entities' tokens if it (or it joined
    with a neighbour) is equal or a typo apart from one of them
    (:class:`_Partners`), if it is an initial, or if it is two adjacent
    subset tokens written as one.  The bound is checked against the real
    subset scores of every row that is screened (see :meth:`check`).
    """

    def __init__(self, sub: MatchIndex, full: MatchIndex):
        self.sub, self.full = sub, full
        self._matchable: dict[str, bool] = {}
        self._joined: dict[str, bool] = {}
        names = getattr(sub, "name_strs", None) or [tuple(sub.tokens[t] for t in ids) for ids in sub.name_tokens]
        self.tokens = _Partners(sub.tokens)
        # initials pair only within people's names (the scorer's rule)
        self.initials = {
            t for nid, strs in enumerate(names) if sub.entities[sub.name_entity[nid]].schema == "Person" for t in strs if len(t) == 1
        }
        pairs: dict[tuple[str, int], set[str]] = {}
        for strs in names:
            for a, b in zip(strs, strs[1:]):
                joined = a + b
                pairs.setdefault((joined[0], len(joined)), set()).add(joined)
        self._pairs = {k: sorted(v) for k, v in pairs.items()}
        self.violations = 0

    def _split(self, token: str) -> bool:
        """Could ``token`` be two adjacent subset tokens written as one (within the allowed typos)?

        (Searched among joined pairs with the token's first letter: a compound
        whose first letter is also mistyped is not looked for.)"""
        if len(token) < 4:
            return False
        from rapidfuzz import process
        from rapidfuzz.distance import OSA

        for length in range(len(token) - 3, len(token) + 4):
            bucket = self._pairs.get((token[0], length))
            if bucket:
                for word, _, _ in process.extract(token, bucket, scorer=OSA.distance, score_cutoff=3, limit=None):
                    if token_sim(token, word) > 0:
                        return True
        return False

    def matchable(self, token: str) -> bool:
        found = self._matchable.get(token)
        if found is None:
            found = (
                self.tokens.pairs_with(token)
                or (len(token) == 1 and token.isalpha())  # an initial in the row ("j" for "john")
                or token[0] in self.initials  # a listed person's initial stands for this given name
                or self._split(token)
            )
            self._matchable[token] = found
        return found

    def joined(self, a: str, b: str) -> bool:
        """Could ``a`` and ``b`` written as one pair with a subset token?"""
        key = a + b
        found = self._joined.get(key)
        if found is None:
            found = self._joined[key] = self.tokens.pairs_with(key)
        return found

    def bound(self, forms: list[list[str]], query: dict, needed: float = 0.0) -> float:
        """Most that any changed entity can score for this row (2.0 for an identifier it shares).

        Stops early, with a value >= ``needed``, once the row is known to need screening."""
        for _, value in query.get("identifiers") or []:
            if normalize_identifier(value) in self.sub.identifiers:
                return 2.0
        # country and birth-date evidence can only add when the row gives them
        bonus = MAX_BONUS if query.get("country") or query.get("birth_date") else 0.0
        best = 0.0
        weight = self.full.token_weight
        for tokens in forms:
            weights = [weight(t) for t in tokens]
            total = sum(weights) or 1.0
            hit = [self.matchable(t) for t in tokens]
            share = sum(w for w, h in zip(weights, hit) if h) / total
            if (needed <= 0 or share + bonus < needed) and not all(hit):
                # only a compound of two adjacent tokens can still add: check the unmatched ones
                for k in range(len(tokens) - 1):
                    if not (hit[k] and hit[k + 1]) and self.joined(tokens[k], tokens[k + 1]):
                        hit[k] = hit[k + 1] = True
                share = sum(w for w, h in zip(weights, hit) if h) / total
            best = max(best, share)
            if best + bonus >= needed > 0:
                break
        return best + bonus

    def check(self, bound: float, record: dict | None, forms: list[list[str]], query: dict) -> None:
        """Count hits scoring above the row's bound (then it is not one, and the filter is off)."""
        for hit in (record or {}).get("hits", ()):
            if hit["score"] > bound + 1e-9 and "identifier" not in hit.get("explanation", {}).get("features", {}):
                bound = self.bound(forms, query)  # an early-stopped bound may be short: the full one
                if hit["score"] > bound + 1e-9:
                    self.violations += 1
                    log.info("monitor filter: %r scores %s %.4f over its bound %.4f", query.get("name"), hit["entity_id"], hit["score"], bound)


# -- portfolios -----------------------------------------------------------------------


@dataclass
class MonitorResult:
    name: str
    portfolio_id: int
    run_id: int
    rows: int
    rescreened: int
    new: int = 0
    changed: int = 0
    resolved: int = 0
    open: int = 0
    flagged_rows: int = 0
    seconds: float = 0.0
    list_changes: dict = field(default_factory=dict)
    alerts: list[dict] = field(default_factory=list)
    mapping: str = ""
    stages: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "name": self.name, "portfolio_id": self.portfolio_id, "run_id": self.run_id, "rows": self.rows,
            "rows_rescreened": self.rescreened, "list_changes": self.list_changes, "new": self.new,
            "changed": self.changed, "resolved": self.resolved, "open": self.open, "seconds": round(self.seconds, 3),
            "stages": self.stages, "alerts": self.alerts,
        }


def _portfolio(conn, name: str):
    return conn.execute(select(r.portfolios).where(r.portfolios.c.name == name)).first()


def _state_of(snapshots) -> dict:
    return {s.source: {"version": s.version, "snapshot_id": s.id} for s in snapshots}


def _brief(alert: dict, change: str) -> dict:
    return {
        "change": change, "alert_id": alert.get("id"), "row_index": alert["row_index"], "row_key": alert["row_key"],
        "entity_id": alert["entity_id"], "source": alert["source"], "name": alert["name"], "query_name": alert.get("query_name"),
        "score": alert["score"], "hit_status": alert["hit_status"], "resolution": alert.get("resolution"),
    }


def add_portfolio(
    store,
    path: str | Path,
    name: str,
    maps: Sequence[str] = (),
    sources: list[str] | None = None,
    encoding: str | None = None,
    sheet: str | None = None,
    thresholds: Thresholds | None = None,
    replace: bool = False,
    workers: int | None = None,
) -> MonitorResult:
    """Register ``path`` as portfolio ``name`` and screen it in full."""
    from ..tabular import file_fingerprint

    started = time.perf_counter()
    name = name.strip()
    if not name:
        raise InputError("--name must not be empty")
    thresholds = thresholds or Thresholds()
    with store.engine.connect() as conn:
        existing = _portfolio(conn, name)
    if existing is not None and not replace:
        raise InputError(f"portfolio {name!r} already exists; use --replace to replace it, or another --name")
    table, mapping = prepare(path, maps, encoding, sheet)
    rows: list[dict] = []
    for row in table.rows():
        query = None if row.error else query_of(mapping.extract(row.values))
        rows.append({"row_index": row.index, "input": row.values, "query": query, "error": row.error, "row_key": row_key(row.index, query)})
    snapshots = store.active_snapshots(sources)
    full = Screener(store=store, sources=sources, thresholds=thresholds).index
    screener = near_screener(full, sources, thresholds)
    results = {i: (rec, near) for i, rec, near in _screen_all(screener, [(x["row_index"], x["query"]) for x in rows], workers)}
    stamp = r.now()
    state = _state_of(snapshots)
    result = MonitorResult(name, 0, 0, len(rows), len(rows), mapping=mapping.describe())
    with store.engine.connect().execution_options(immediate=True) as conn, conn.begin():
        if existing is not None:
            conn.execute(
                r.alerts.update()
                .where(r.alerts.c.portfolio_id == existing.id, r.alerts.c.status == "open")
                .values(status="resolved", resolved_at=stamp, resolution="portfolio replaced")
            )
            conn.execute(r.portfolio_rows.delete().where(r.portfolio_rows.c.portfolio_id == existing.id))
        values = dict(
            name=name, updated_at=stamp, input_path=str(path), input_fingerprint=file_fingerprint(path),
            input_format=table.format, mapping=r.dumps(mapping.to_dict()), sources=r.dumps(sources) if sources else None,
            thresholds=r.dumps({"match": thresholds.match, "review": thresholds.review}), row_count=len(rows),
            state=r.dumps(state), norm_version=norm_version(),
        )
        if existing is not None:  # runs and alerts keep pointing at it: update in place
            pid = existing.id
            conn.execute(r.portfolios.update().where(r.portfolios.c.id == pid).values(**values))
        else:
            pid = conn.execute(r.portfolios.insert().values(created_at=stamp, **values)).inserted_primary_key[0]
        counts = {"match": 0, "review": 0, "clear": 0, "error": 0}
        for x in rows:
            rec, _ = results[x["row_index"]]
            counts[rec["status"] if rec else "error"] += 1
        run_id = r.insert_run(conn, {
            "kind": "monitor", "portfolio_id": pid, "started_at": stamp, "finished_at": r.now(), "input_path": str(path),
            "input_fingerprint": file_fingerprint(path), "input_format": table.format, "mapping": mapping.to_dict(),
            "sources": sources, "as_of": None, "snapshots": [{"source": s.source, "version": s.version, "snapshot_id": s.id} for s in snapshots],
            "thresholds": {"match": thresholds.match, "review": thresholds.review}, "engine": "local", "rows": len(rows),
            "matches": counts["match"], "reviews": counts["review"], "clears": counts["clear"], "errors": counts["error"],
            "details": {"initial": True, "portfolio": name},
        })
        new_alerts = []
        for x in rows:
            rec, _ = results[x["row_index"]]
            if rec and rec["status"] in ("match", "review"):
                result.flagged_rows += 1
                new_alerts.extend(r.alert_rows(rec, x["row_key"], run_id, pid, state, stamp))
        r.insert_many(conn, r.alerts, new_alerts)
        r.insert_many(conn, r.portfolio_rows, (
            {
                "portfolio_id": pid, "row_index": x["row_index"], "row_key": x["row_key"], "input": r.dumps(x["input"]),
                "query": r.dumps(x["query"]) if x["query"] is not None else None, "tokens": r.dumps(name_tokens(x["query"])),
                "error": x["error"] or (results[x["row_index"]][0] or {}).get("error"),
                "status": (results[x["row_index"]][0] or {"status": "error"})["status"], "near": results[x["row_index"]][1],
            }
            for x in rows
        ))
        conn.execute(r.portfolios.update().where(r.portfolios.c.id == pid).values(last_run_id=run_id))
    result.portfolio_id, result.run_id = pid, run_id
    result.new = result.open = len(new_alerts)
    result.alerts = [_brief(a, "new") for a in new_alerts]
    result.seconds = time.perf_counter() - started
    return result


def list_portfolios(store) -> list[dict]:
    from sqlalchemy import func

    with store.engine.connect() as conn:
        rows = conn.execute(select(r.portfolios).order_by(r.portfolios.c.name)).all()
        opened = dict(conn.execute(
            select(r.alerts.c.portfolio_id, func.count()).where(r.alerts.c.status == "open").group_by(r.alerts.c.portfolio_id)
        ).all())
    return [
        {"name": p.name, "id": p.id, "row_count": p.row_count, "open_alerts": opened.get(p.id, 0), "updated_at": p.updated_at,
         "input_path": p.input_path, "state": json.loads(p.state)}
        for p in rows
    ]


def run_portfolios(store, names: list[str] | None = None, full: bool = False, workers: int | None = None) -> list[MonitorResult]:
    with store.engine.connect() as conn:
        known = [row.name for row in conn.execute(select(r.portfolios.c.name).order_by(r.portfolios.c.name))]
    if names:
        missing = [n for n in names if n not in known]
        if missing:
            raise InputError(f"no portfolio named {', '.join(map(repr, missing))}; portfolios: {', '.join(known) or 'none'}")
        known = [n for n in known if n in names]
    return [run_portfolio(store, name, full=full, workers=workers) for name in known]


def run_portfolio(store, name: str, full: bool = False, workers: int | None = None) -> MonitorResult:
    """Re-screen portfolio ``name`` against what changed since its last run (everything if ``full``)."""
    started = time.perf_counter()
    stages: dict[str, Any] = {}
    with store.engine.connect() as conn:
        p = _portfolio(conn, name)
        if p is None:
            raise InputError(f"no portfolio named {name!r}")
        rows = conn.execute(
            select(r.portfolio_rows.c.row_index, r.portfolio_rows.c.row_key, r.portfolio_rows.c.query, r.portfolio_rows.c.tokens,
                   r.portfolio_rows.c.status, r.portfolio_rows.c.near)
            .where(r.portfolio_rows.c.portfolio_id == p.id).order_by(r.portfolio_rows.c.row_index)
        ).all()
        old_alerts = [dict(a._mapping) for a in conn.execute(
            select(r.alerts).where(r.alerts.c.portfolio_id == p.id, r.alerts.c.status == "open")
        )]
    sources = json.loads(p.sources) if p.sources else None
    thresholds = Thresholds(**json.loads(p.thresholds))
    try:
        snapshots = store.active_snapshots(sources)
    except StoreError as exc:
        raise StoreError(f"portfolio {name!r}: {exc}") from None
    state = json.loads(p.state)
    changes = change_set(store, state, snapshots)
    stages["load_changes_s"] = round(time.perf_counter() - started, 3)
    queries = {row.row_index: json.loads(row.query) if row.query else None for row in rows}
    full_index = None
    if full:
        rescreen = [row.row_index for row in rows if row.query]
    elif changes.empty:
        rescreen = []
    else:
        t0 = time.perf_counter()
        full_index = Screener(store=store, sources=sources, thresholds=thresholds).index
        stages["load_index_s"] = round(time.perf_counter() - t0, 3)
        rescreen = _rows_to_rescreen(full_index, p, rows, queries, changes, sources, thresholds, workers, stages)
    stages["rows_rescreened"] = len(rescreen)
    t0 = time.perf_counter()
    results: dict[int, tuple[dict | None, float]] = {}
    if rescreen:
        full_index = full_index or Screener(store=store, sources=sources, thresholds=thresholds).index
        screener = near_screener(full_index, sources, thresholds)
        results = {i: (rec, near) for i, rec, near in _screen_all(screener, [(i, queries[i]) for i in rescreen], workers)}
    stages["full_screen_s"] = round(time.perf_counter() - t0, 3)
    return _reconcile(store, p, rows, old_alerts, results, changes, snapshots, thresholds, sources, started, stages, full)


def _rows_to_rescreen(full_index, p, rows, queries, changes: ChangeSet, sources, thresholds, workers, stages) -> list[int]:
    band = thresholds.review - BAND
    must: set[int] = {row.row_index for row in rows if row.query and (row.status in ("match", "review") or row.near >= band)}
    t0 = time.perf_counter()
    candidates: list[tuple[int, float]] = []
    skipped: list[int] = []
    if changes.entities:
        sub = subset_index(changes.entities, full_index)
        if not verify_subset(sub, full_index):
            log.warning("subset index does not score like the full index; re-screening every row")
            stages["fallback"] = "subset scores differ from the full index"
            return [row.row_index for row in rows if row.query]
        stages["subset_index_s"] = round(time.perf_counter() - t0, 3)
        t0 = time.perf_counter()
        limit = ChangeFilter(sub, full_index)
        row_forms: dict[int, list[list[str]]] = {}
        fresh = p.norm_version == norm_version()
        for row in rows:
            if row.row_index in must or not row.query:
                continue
            query = queries[row.row_index]
            forms = json.loads(row.tokens) if fresh and row.tokens else name_tokens(query)
            if forms and isinstance(forms[0], str):  # stored by an older version
                forms = name_tokens(query)
            bound = limit.bound(forms, query, band)
            if bound >= band:
                candidates.append((row.row_index, bound))
                row_forms[row.row_index] = forms
            else:
                skipped.append(row.row_index)
        stages["token_filter_s"] = round(time.perf_counter() - t0, 3)
        stages["rows_touching_changes"] = len(candidates)
        t0 = time.perf_counter()
        screener = near_screener(sub, sources, thresholds, probe_only=True)
        bounds = dict(candidates)
        for i, rec, near in _screen_all(screener, [(i, queries[i]) for i, _ in candidates], workers):
            limit.check(bounds[i], rec, row_forms[i], queries[i])
            if near >= band or (rec and rec["hits"]):
                must.add(i)
        if limit.violations:  # the coverage bound does not hold for this matcher: screen the rest too
            log.warning("%d subset hits scored above their coverage bound; screening every row against the changes", limit.violations)
            stages["fallback"] = "coverage bound violated"
            for i, rec, near in _screen_all(screener, [(i, queries[i]) for i in skipped], workers):
                if near >= band or (rec and rec["hits"]):
                    must.add(i)
        stages["subset_screen_s"] = round(time.perf_counter() - t0, 3)
    return sorted(must)


def _reconcile(store, p, rows, old_alerts, results, changes: ChangeSet, snapshots, thresholds, sources, started, stages, full) -> MonitorResult:
    stamp = r.now()
    state = _state_of(snapshots)
    keys = {row.row_index: row.row_key for row in rows}
    old = {(a["row_key"], a["entity_id"]): a for a in old_alerts if a["row_index"] in results}
    fresh: dict[tuple[str, str], dict] = {}
    counts = {"match": 0, "review": 0, "clear": 0, "error": 0}
    for i, (rec, _) in results.items():
        counts[rec["status"] if rec else "error"] += 1
        if rec and rec["status"] in ("match", "review"):
            for alert in r.alert_rows(rec, keys[i], 0, p.id, state, stamp):
                fresh[(alert["row_key"], alert["entity_id"])] = alert
    result = MonitorResult(p.name, p.id, 0, len(rows), len(results), list_changes=changes.per_source, stages=stages)
    with store.engine.connect().execution_options(immediate=True) as conn, conn.begin():
        run_id = r.insert_run(conn, {
            "kind": "monitor", "portfolio_id": p.id, "started_at": stamp, "finished_at": r.now(), "input_path": p.input_path,
            "input_fingerprint": p.input_fingerprint, "input_format": p.input_format, "mapping": json.loads(p.mapping),
            "sources": sources, "as_of": None,
            "snapshots": [{"source": s.source, "version": s.version, "snapshot_id": s.id} for s in snapshots],
            "thresholds": {"match": thresholds.match, "review": thresholds.review}, "engine": "local",
            "rows": len(results), "matches": counts["match"], "reviews": counts["review"], "clears": counts["clear"],
            "errors": counts["error"],
            "details": {"portfolio": p.name, "full": full, "list_changes": changes.per_source, "stages": stages},
        })
        new_rows, changed_rows, resolved_rows = [], [], []
        for key, alert in fresh.items():
            before = old.get(key)
            alert["run_id"] = alert["last_run_id"] = run_id
            if before is None:
                new_rows.append(alert)
                result.alerts.append(_brief(alert, "new"))
                continue
            moved = (
                before["hit_status"] != alert["hit_status"] or abs(before["score"] - alert["score"]) > 1e-9
                or alert["entity_id"] in changes.changed_ids
            )
            changed_rows.append({
                "b_id": before["id"], "last_run_id": run_id, "last_seen": stamp, "score": alert["score"],
                "hit_status": alert["hit_status"], "hit": alert["hit"], "snapshot": alert["snapshot"],
                "snapshot_id": alert["snapshot_id"], "matched_name": alert["matched_name"], "name": alert["name"],
            })
            if moved:
                result.changed += 1
                result.alerts.append(_brief({**alert, "id": before["id"]}, "changed"))
        for key, before in old.items():
            if key in fresh:
                continue
            reason = "entity removed from the list" if before["entity_id"] in changes.removed_ids else "no longer matches"
            resolved_rows.append({"b_id": before["id"], "last_run_id": run_id, "resolved_at": stamp, "resolution": reason})
            result.alerts.append(_brief({**before, "resolution": reason}, "resolved"))
        r.insert_many(conn, r.alerts, new_rows)
        if changed_rows:
            conn.execute(
                r.alerts.update().where(r.alerts.c.id == bindparam("b_id")).values(
                    last_run_id=bindparam("last_run_id"), last_seen=bindparam("last_seen"), score=bindparam("score"),
                    hit_status=bindparam("hit_status"), hit=bindparam("hit"), snapshot=bindparam("snapshot"),
                    snapshot_id=bindparam("snapshot_id"), matched_name=bindparam("matched_name"), name=bindparam("name"),
                ),
                changed_rows,
            )
        if resolved_rows:
            conn.execute(
                r.alerts.update().where(r.alerts.c.id == bindparam("b_id")).values(
                    status="resolved", last_run_id=bindparam("last_run_id"), resolved_at=bindparam("resolved_at"),
                    resolution=bindparam("resolution"),
                ),
                resolved_rows,
            )
        if results:
            conn.execute(
                r.portfolio_rows.update()
                .where(r.portfolio_rows.c.portfolio_id == p.id, r.portfolio_rows.c.row_index == bindparam("b_row"))
                .values(status=bindparam("b_status"), near=bindparam("b_near")),
                [{"b_row": i, "b_status": rec["status"] if rec else "error", "b_near": near} for i, (rec, near) in results.items()],
            )
        conn.execute(r.portfolios.update().where(r.portfolios.c.id == p.id).values(state=r.dumps(state), last_run_id=run_id, updated_at=stamp))
        from sqlalchemy import func

        result.open = conn.execute(
            select(func.count()).select_from(r.alerts).where(r.alerts.c.portfolio_id == p.id, r.alerts.c.status == "open")
        ).scalar()
    result.run_id = run_id
    result.new, result.resolved = len(new_rows), len(resolved_rows)
    result.seconds = time.perf_counter() - started
    return result


__all__ = [
    "ChangeSet",
    "MonitorResult",
    "NearMatcher",
    "add_portfolio",
    "change_set",
    "list_portfolios",
    "near_screener",
    "run_portfolio",
    "run_portfolios",
    "subset_index",
]
