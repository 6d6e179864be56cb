"""Shared helpers (no tests here) for the batch, monitor, Spark and report tests."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent / "fixtures"
PLANTED = FIXTURES / "batch_planted.csv"
#: The CLI with the batch commands registered, whether or not cli.main imports them yet.
CLI = [sys.executable, "-c", "import sys, clearance.cli.screen; from clearance.cli import main; sys.argv[0] = 'clearance'; main()"]


def planted_rows() -> list[dict]:
    with PLANTED.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def cli(*args: str, home: Path, input: str | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    full = dict(os.environ, CLEARANCE_HOME=str(home), COLUMNS="200")
    full.pop("CLEARANCE_DB", None)
    full.update(env or {})
    return subprocess.run([*CLI, *args], env=full, capture_output=True, text=True, input=input, timeout=300)


def warm_index(home: Path) -> None:
    """Build the bundled store's match index once, in its cache."""
    env = dict(os.environ, CLEARANCE_HOME=str(home))
    env.pop("CLEARANCE_DB", None)
    subprocess.run([sys.executable, "-c", "from clearance.screen import Screener; Screener().index"], env=env, check=True)


def copy_home(source: Path, target: Path) -> Path:
    """A writable copy of a home: the database and the cached index."""
    for item in source.iterdir():
        if item.is_file():
            shutil.copy2(item, target / item.name)
        elif item.name == "cache":
            shutil.copytree(item, target / "cache", dirs_exist_ok=True)
    return target


@pytest.fixture(scope="session")
def warm_bundled_home(bundled_home):
    warm_index(bundled_home)
    return bundled_home


@pytest.fixture
def screen_home(warm_bundled_home, home):
    """This test's own writable copy of the bundled store, index cache included."""
    return copy_home(warm_bundled_home, home)
