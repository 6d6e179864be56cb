"""Self-contained HTML reports rendered from a stream of records.

Both the screening report and the covered-equipment report are record writers
that keep memory flat: flagged records are spooled to a temporary file as they
stream in (up to a limit), error rows are counted, and a Jinja2 template is
rendered from the spool on close. Subclasses say which statuses are flagged,
where their template lives and what goes into its context; their templates
extend ``report_base.html`` (beside this module), which holds the page's head,
styles, error rows and footer.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any, Iterator

from .write import RecordWriter

#: One colour per status, the same in every report.
STATUS_COLOURS = {"match": "#c62828", "covered": "#c62828", "review": "#ef8f00", "clear": "#2e7d32", "error": "#6a1b9a"}


class SpooledHtmlReport(RecordWriter):
    """Spools flagged records, renders ``template_name`` on close."""

    template_name = "report.html"
    flagged_statuses: tuple[str, ...] = ()
    #: Flagged records shown in full (every record is in the other output formats).
    max_shown = 5000
    #: Error rows listed (all are counted).
    max_errors = 200

    def __init__(self, path: str | Path | None):
        super().__init__(path)
        self.spool = tempfile.TemporaryFile("w+", encoding="utf-8")
        self.shown = 0
        self.flagged = 0
        self.errors: list[dict] = []
        self.error_count = 0

    def environment(self) -> Any:
        """The Jinja2 environment holding ``template_name`` (autoescaping HTML)."""
        raise NotImplementedError

    def context(self) -> dict:
        """What the subclass's template needs beyond the base page's."""
        raise NotImplementedError

    def page_context(self) -> dict:
        """The base page's context (status colours, error rows) with the subclass's."""
        statuses = (*self.flagged_statuses, "clear", "error")
        base = {"colours": {s: STATUS_COLOURS[s] for s in statuses}, "errors": self.errors, "error_count": self.error_count}
        return {**base, **self.context()}

    def write(self, record: dict) -> None:
        self.count += 1
        status = record["status"]
        if status in self.flagged_statuses:
            self.flagged += 1
            if self.shown < self.max_shown:
                self.spool.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
                self.shown += 1
        elif status == "error":
            self.error_count += 1
            if len(self.errors) < self.max_errors:
                self.errors.append({"row": record["row"], "error": record.get("error")})

    def spooled(self) -> Iterator[dict]:
        """The flagged records kept for the page, in input order."""
        self.spool.seek(0)
        for line in self.spool:
            yield json.loads(line)

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
            template = self.environment().get_template(self.template_name)
            if self.path is None:
                for chunk in template.generate(**self.page_context()):
                    sys.stdout.write(chunk)
                sys.stdout.flush()
                return
            with self._open_binary_target().open("w", encoding="utf-8") as fh:
                for chunk in template.generate(**self.page_context()):
                    fh.write(chunk)
        finally:
            self.spool.close()


def jinja_environment(folder: Path) -> Any:
    """A Jinja2 environment over ``folder`` (and ``report_base.html`` here) with HTML autoescaping."""
    from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape

    return Environment(
        loader=ChoiceLoader([FileSystemLoader(str(folder)), FileSystemLoader(str(Path(__file__).resolve().parent))]),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
