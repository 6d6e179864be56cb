"""Shared fixtures: isolated Clearance homes, SQLite and PostgreSQL stores, and
a CLI runner that goes through the real console script."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LISTS = ROOT / "data" / "lists"
CLI = [sys.executable, "-m", "clearance"]

PG_URL = os.environ.get("CLEARANCE_TEST_PG")
PG_SKIP_REASON = "no PostgreSQL server: CLEARANCE_TEST_PG is not set (make test starts one when it can)"


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """A fresh, empty Clearance home for one test (SQLite store inside it)."""
    path = tmp_path / "home"
    path.mkdir()
    monkeypatch.setenv("CLEARANCE_HOME", str(path))
    monkeypatch.delenv("CLEARANCE_DB", raising=False)
    return path


def _pg_database() -> tuple[str, str]:
    """Create a fresh database on the test server; returns (url, name)."""
    import psycopg

    name = f"clearance_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_URL.rsplit("/", 1)[0]
    return f"{base}/{name}", name


def _pg_drop(name: str) -> None:
    import psycopg

    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, home, monkeypatch):
    """Run a test once on SQLite and once on PostgreSQL; sets CLEARANCE_DB."""
    if request.param == "sqlite":
        yield None
        return
    if not PG_URL:
        pytest.skip(PG_SKIP_REASON)
    url, name = _pg_database()
    monkeypatch.setenv("CLEARANCE_DB", url)
    try:
        yield url
    finally:
        from sqlalchemy import create_engine  # noqa: F401  (engines are disposed with the process)

        _pg_drop(name)


@pytest.fixture(scope="session")
def bundled_home(tmp_path_factory) -> Path:
    """A home whose SQLite store holds every bundled capture; read-only for tests."""
    path = tmp_path_factory.mktemp("bundled-home")
    env = dict(os.environ, CLEARANCE_HOME=str(path))
    env.pop("CLEARANCE_DB", None)
    subprocess.run([*CLI, "store", "init"], env=env, check=True, capture_output=True, text=True)
    return path


@pytest.fixture
def bundled_store(bundled_home, monkeypatch):
    """The session's bundled store, opened in this process."""
    monkeypatch.setenv("CLEARANCE_HOME", str(bundled_home))
    monkeypatch.delenv("CLEARANCE_DB", raising=False)
    from clearance.store import open_store

    return open_store(initialise=False)


@pytest.fixture
def copy_of_bundled(bundled_home, home) -> Path:
    """A writable copy of the bundled store in this test's own home."""
    for item in bundled_home.iterdir():
        if item.is_file():
            shutil.copy2(item, home / item.name)
    return home


def run_cli(*args: str, env: dict | None = None, input: str | None = None) -> subprocess.CompletedProcess:
    """Run ``clearance ARGS`` as a real process with the current environment."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    full_env.setdefault("COLUMNS", "200")
    return subprocess.run([*CLI, *args], env=full_env, capture_output=True, text=True, input=input, timeout=300)
