"""The HTML covered-equipment report: one self-contained page (inline CSS, no
scripts, nothing fetched) - the counts first, then every covered and review
asset with its evidence and the rules that follow, then the rows in error.

A :class:`~clearance.tabular.write.RecordWriter`: flagged records are spooled
to a temporary file as they stream in and the page is rendered on close.
Everything from the input is HTML-escaped (Jinja2 autoescape).
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any, Iterator

from ..tabular.write import RecordWriter

#: Flagged assets shown in full (all are in the other output formats).
MAX_SHOWN = 5000


def _environment():
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    return Environment(
        loader=FileSystemLoader(str(Path(__file__).resolve().parent)),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _label(record: dict, columns: list[str]) -> str:
    """The asset's own name: its asset id, host name or IP column (mapped), else the host's."""
    values = record.get("input") or {}
    for key in [*columns, "asset_id", "hostname", "ip", "mac"]:
        if values.get(key):
            return str(values[key])
    return ""


class AssetReport(RecordWriter):
    """Collects asset results and renders the page on close."""

    def __init__(self, path: str | Path | None, run: Any, title: str | None = None):
        super().__init__(path)
        self.run = run
        name = Path(str(run.inventory or run.nmap)).name
        self.title = title or f"Covered equipment: {name}"
        self.spool = tempfile.TemporaryFile("w+", encoding="utf-8")
        self.shown = 0
        self.flagged = 0
        self.errors: list[dict] = []
        self.error_count = 0
        fields = run.mapping.fields if run.mapping is not None else {}
        self.label_columns = [fields[f] for f in ("asset_id", "hostname", "ip", "mac") if f in fields]

    def write(self, record: dict) -> None:
        self.count += 1
        if record["status"] in ("covered", "review"):
            self.flagged += 1
            if self.shown < MAX_SHOWN:
                self.spool.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
                self.shown += 1
        elif record["status"] == "error":
            self.error_count += 1
            if len(self.errors) < 500:
                self.errors.append({"row": record["row"], "error": record.get("error")})

    def _records(self) -> Iterator[dict]:
        self.spool.seek(0)
        for line in self.spool:
            record = json.loads(line)
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
            "errors": self.errors,
            "error_count": self.error_count,
        }

    def close(self, ok: bool = True) -> None:
        if not ok:
            self.spool.close()
            if self._tmp is not None:
                self._tmp.unlink(missing_ok=True)
                self._tmp = None
            return
        super().close(ok)

    def _close(self) -> None:
        try:
            template = _environment().get_template("report.html")
            if self.path is None:
                for chunk in template.generate(**self.context()):
                    sys.stdout.write(chunk)
                sys.stdout.flush()
                return
            with self._open_binary_target().open("w", encoding="utf-8") as fh:
                for chunk in template.generate(**self.context()):
                    fh.write(chunk)
        finally:
            self.spool.close()


__all__ = ["AssetReport"]
