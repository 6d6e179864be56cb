"""The HTML screening report: one self-contained file (inline CSS and SVG, no
scripts, nothing fetched) with the summary first — rows screened, matches,
reviews, by list and by program, a chart — then every flagged row with its
evidence beside the list entry it matched.

It is a :class:`~clearance.tabular.write.RecordWriter`: records stream in,
flagged ones are spooled to a temporary file, and the page is rendered at
the end from the spool, so memory stays flat however long the input.
Everything from the input is HTML-escaped (Jinja2 autoescape).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any, Iterator

from ..tabular.html import STATUS_COLOURS, SpooledHtmlReport, jinja_environment

#: Flagged rows shown in full; the rest are counted (all are in JSONL/CSV/XLSX output).
MAX_SHOWN = 5000
#: Hits shown per flagged row.
HITS_SHOWN = 3


def environment():
    env = jinja_environment(Path(__file__).resolve().parent.parent / "templates")
    env.filters["pct"] = lambda part, whole: f"{(100.0 * part / whole) if whole else 0:.1f}%"
    return env


def bar_chart(items: list[tuple[str, int, str]], width: int = 560, bar: int = 22) -> dict:
    """Geometry of a horizontal bar chart (label, value, colour) for the template's inline SVG."""
    biggest = max((v for _, v, _ in items), default=0) or 1
    label_w = 190
    rows = []
    for k, (label, value, colour) in enumerate(items):
        length = 0 if not value else max(2, int((width - label_w - 70) * value / biggest))
        rows.append({"label": label, "value": value, "colour": colour, "y": k * (bar + 8), "w": length, "x": label_w})
    return {"width": width, "height": max(1, len(items)) * (bar + 8), "bar": bar, "rows": rows, "label_w": label_w}


class HtmlReport(SpooledHtmlReport):
    """Collects a batch run's records and renders ``report.html`` on close."""

    flagged_statuses = ("match", "review")
    max_shown = MAX_SHOWN

    def __init__(self, path: str | Path | None, summary: Any, title: str | None = None):
        super().__init__(path)
        self.summary = summary
        self.title = title or f"Screening report: {Path(summary.path).name}"

    def environment(self) -> Any:
        return environment()

    def _flagged(self) -> Iterator[dict]:
        for record in self.spooled():
            record["shown_hits"] = record["hits"][:HITS_SHOWN]
            record["more_hits"] = max(0, len(record["hits"]) - HITS_SHOWN)
            yield record

    def context(self) -> dict:
        s = self.summary
        counts = Counter({k: s.counts[k] for k in ("match", "review", "clear", "error")})
        rows = sum(counts.values())
        status_chart = bar_chart([(k, counts[k], STATUS_COLOURS[k]) for k in ("match", "review", "clear", "error")])
        list_chart = bar_chart([(src, n, "#37474f") for src, n in s.by_source.most_common(12)])
        return {
            "title": self.title,
            "summary": s,
            "rows": rows,
            "counts": counts,
            "flagged": counts["match"] + counts["review"],
            "by_source": s.by_source.most_common(),
            "by_program": s.by_program.most_common(30),
            "status_chart": status_chart,
            "list_chart": list_chart,
            "snapshots": [{"source": x.source, "version": x.version, "published": x.published or x.captured} for x in s.snapshots],
            "mapping": s.mapping.to_dict(),
            "records": self._flagged(),
            "shown": self.shown,
            "max_shown": MAX_SHOWN,
        }


__all__ = ["HtmlReport", "bar_chart", "environment"]
