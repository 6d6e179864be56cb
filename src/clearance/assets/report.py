"""The HTML covered-equipment report: one self-contained page (inline CSS, no
scripts, nothing fetched) - the counts first, then every covered and review
asset with its evidence and the rules that follow, then the rows in error.

A :class:`~clearance.tabular.write.RecordWriter`: flagged records are spooled
to a temporary file as they stream in and the page is rendered on close.
Everything from the input is HTML-escaped (Jinja2 autoescape).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

from ..tabular.html import SpooledHtmlReport, jinja_environment

#: Flagged assets shown in full (all are in the other output formats).
MAX_SHOWN = 5000


def _environment():
    return jinja_environment(Path(__file__).resolve().parent)


def _label(record: dict, columns: list[str]) -> str:
    """The asset's own name: its asset id, host name or IP column (mapped), else the host's."""
    values = record.get("input") or {}
    for key in [*columns, "asset_id", "hostname", "ip", "mac"]:
        if values.get(key):
            return str(values[key])
    return ""


class AssetReport(SpooledHtmlReport):
    """Collects asset results and renders the page on close."""

    flagged_statuses = ("covered", "review")
    max_shown = MAX_SHOWN
    max_errors = 500

    def __init__(self, path: str | Path | None, run: Any, title: str | None = None):
        super().__init__(path)
        self.run = run
        name = Path(str(run.inventory or run.nmap)).name
        self.title = title or f"Covered equipment: {name}"
        fields = run.mapping.fields if run.mapping is not None else {}
        self.label_columns = [fields[f] for f in ("asset_id", "hostname", "ip", "mac") if f in fields]

    def environment(self) -> Any:
        return _environment()

    def _records(self) -> Iterator[dict]:
        for record in self.spooled():
            record["label"] = _label(record, self.label_columns)
            yield record

    def context(self) -> dict:
        from ..ownership.brands import producers

        run = self.run
        return {
            "title": self.title,
            "as_of": run.as_of,
            "inputs": run.describe(),
            "rows": run.rows,
            "counts": {s: run.counts[s] for s in ("covered", "review", "clear", "error")},
            "by_producer": sorted(run.by_producer.items(), key=lambda kv: (-kv[1], kv[0])),
            "producer_names": {k: p.name for k, p in producers().items()},
            "records": self._records(),
            "shown": self.shown,
            "flagged": self.flagged,
        }


__all__ = ["AssetReport"]
