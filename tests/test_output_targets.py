"""Outputs that cannot or must not be written are refused before any work: one line,
exit 2, nothing recorded in the store, nothing replaced."""

from __future__ import annotations

import hashlib
import os

import pytest
from sqlalchemy import func, select

from clearance.store import open_store
from clearance.store import runs as r

from .conftest import ROOT
from .test_batch_support import cli, screen_home, warm_bundled_home  # noqa: F401  (fixtures)

SAMPLE = ROOT / "data" / "samples" / "counterparties.csv"


def _recorded(home) -> tuple[int, int]:
    os.environ["CLEARANCE_HOME"] = str(home)
    try:
        store = open_store(initialise=False)
        with store.engine.connect() as conn:
            counts = conn.execute(select(func.count()).select_from(r.runs)).scalar(), conn.execute(select(func.count()).select_from(r.alerts)).scalar()
        store.engine.dispose()
        return counts
    finally:
        os.environ.pop("CLEARANCE_HOME", None)


def _refused(result, fragment: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and fragment in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def test_bad_output_targets_are_refused_before_any_work(screen_home, tmp_path):
    folder = tmp_path / "outdir"
    folder.mkdir()
    same = tmp_path / "book.csv"
    same.write_bytes(SAMPLE.read_bytes())
    digest = hashlib.sha256(same.read_bytes()).hexdigest()
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    before = _recorded(screen_home)
    _refused(cli("screen", str(same), "-o", str(folder), "-q", home=screen_home), "is a folder; expected a file name")
    _refused(cli("screen", str(same), "-o", str(folder), "-f", "html", "-q", home=screen_home), "is a folder")
    _refused(cli("screen", str(same), "-o", str(same), "-q", home=screen_home), "is the input file")
    _refused(cli("screen", str(same), "-o", str(pipe), "-q", home=screen_home), "is not a regular file")
    _refused(cli("lists", "export", "us-covered", "-o", str(folder), home=screen_home), "is a folder")
    _refused(cli("lists", "export", "us-covered", "-o", str(tmp_path / "nodir" / "x.jsonl"), home=screen_home), "folder")
    _refused(cli("audit", "export", "-o", str(tmp_path / "nodir" / "a.jsonl"), home=screen_home), "does not exist")
    assert _recorded(screen_home) == before  # no run, no alert
    assert hashlib.sha256(same.read_bytes()).hexdigest() == digest and pipe.is_fifo()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "home") == ["book.csv", "outdir", "pipe"] and not any(folder.iterdir())


def test_a_symbolic_link_is_written_through(screen_home, tmp_path):
    real = tmp_path / "results.jsonl"
    real.write_text("old\n")
    link = tmp_path / "latest.jsonl"
    link.symlink_to(real)
    done = cli("screen", str(SAMPLE), "-o", str(link), "-q", home=screen_home)
    assert done.returncode == 1, done.stderr
    assert link.is_symlink() and len(real.read_text().splitlines()) == 25
