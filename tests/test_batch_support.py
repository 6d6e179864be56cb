"""Shared helpers (no tests here) for the batch, monitor, Spark and report tests."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from clearance.match import index as index_mod

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


@pytest.fixture(scope="session")
def sdn_2019_index(warm_bundled_home, tmp_path_factory) -> Path:
    """The cached match index of the bundled store with OFAC SDN 2019-01 active (built once per session)."""
    work = copy_home(warm_bundled_home, tmp_path_factory.mktemp("sdn-2019-home"))
    env = dict(os.environ, CLEARANCE_HOME=str(work))
    env.pop("CLEARANCE_DB", None)
    code = "from clearance.store import open_store; from clearance.screen import Screener; s = open_store(initialise=False); s.activate('us-ofac-sdn', 1); Screener(store=s).index"
    subprocess.run([sys.executable, "-c", code], env=env, check=True)
    found = [p for p in (work / "cache").glob("match-index-*.pkl") if not p.name.endswith(".light.pkl")]
    assert len(found) == 1 and index_mod.light_path(found[0]).exists()
    return found[0]


@pytest.fixture
def monitor_home(screen_home, sdn_2019_index):
    """``screen_home`` whose index cache holds both the SDN 2019-01 and the 2021-07 index."""
    for cached in (sdn_2019_index, index_mod.light_path(sdn_2019_index)):
        shutil.copy2(cached, screen_home / "cache" / cached.name)
    return screen_home
