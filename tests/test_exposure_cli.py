"""``clearance exposure`` and ``clearance ownership import|list|remove`` as real processes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"
HOLDINGS = FIXTURES / "ownership_holdings.csv"
# Registers the commands whether or not the console script already imports this module.
CLI = [sys.executable, "-c", "import sys; from clearance.cli import exposure, main; sys.argv[0] = 'clearance'; main()"]


def cli(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, CLEARANCE_HOME=str(home), COLUMNS="200")
    env.pop("CLEARANCE_DB", None)
    return subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, timeout=300)


def test_exposure_json_contract(bundled_home, tmp_path):
    svg = tmp_path / "paths.svg"
    result = cli(bundled_home, "exposure", "Caribe Test Holdings Ltd", "--ownership", str(HOLDINGS),
                 "--as-of", "2026-01-15", "--json", "--svg", str(svg))
    assert result.returncode == 1, result.stderr
    record = json.loads(result.stdout)
    assert set(record) >= {"entity", "listed_ownership", "blocked", "rules", "paths"}
    assert record["blocked"] is True and record["listed_ownership"]["us-ofac-sdn"] == 0.55
    assert all({"owner", "owned", "percent"} <= set(step) for path in record["paths"] for step in path)
    assert svg.read_text(encoding="utf-8").startswith("<svg")


def test_exposure_tree_output(bundled_home):
    result = cli(bundled_home, "exposure", "Beta Test Manufacturing SA", "-o", str(HOLDINGS), "--as-of", "2026-01-15")
    assert result.returncode == 1, result.stderr
    out = result.stdout
    assert "BLOCKED" in out and "90% Alpha Test Holdings SA" in out and "60% BANCO NACIONAL DE CUBA" in out
    assert "54.0%" in out and "OFAC 50 Percent Rule" in out


def test_exposure_clear_and_errors(bundled_home):
    clear = cli(bundled_home, "exposure", "Loop Test East Ltd", "-o", str(HOLDINGS))
    assert clear.returncode == 0, clear.stderr
    bad = cli(bundled_home, "exposure", "Caribe Test Holdings Ltd", "-o", str(FIXTURES / "ownership_bad_percent.csv"))
    assert bad.returncode == 2
    line = bad.stderr.strip()
    assert "\n" not in line and "ownership_bad_percent.csv, line 3, field 'percent'" in line
    unknown = cli(bundled_home, "exposure", "No Such Test Party Qwx")
    assert unknown.returncode == 2 and "not a list entry" in unknown.stderr
    date = cli(bundled_home, "exposure", "us-ofac-sdn-306", "--as-of", "15/01/2026")
    assert date.returncode == 2 and "YYYY-MM-DD" in date.stderr


def test_ownership_sets_are_stored_with_provenance(bundled_home, copy_of_bundled):
    home = copy_of_bundled
    if (bundled_home / "cache").is_dir():  # reuse the match index and graph caches (same snapshots)
        shutil.copytree(bundled_home / "cache", home / "cache", dirs_exist_ok=True)
    imported = cli(home, "ownership", "import", str(HOLDINGS), "--name", "test-holdings", "--json")
    assert imported.returncode == 1, imported.stderr  # one ambiguous name needs attention
    stored = json.loads(imported.stdout)
    assert stored["name"] == "test-holdings" and stored["edges"] == 14 and len(stored["sha256"]) == 64
    assert any(r["status"] == "ambiguous" for r in stored["resolutions"])
    listed = json.loads(cli(home, "ownership", "list", "--json").stdout)
    assert [s["name"] for s in listed] == ["test-holdings"]
    # The stored set is used without --ownership; the path names the set and line.
    record = json.loads(cli(home, "exposure", "Caribe Test Holdings Ltd", "--as-of", "2026-01-15", "--json").stdout)
    assert record["blocked"] is True
    assert record["paths"][0][0]["source"].startswith("set test-holdings")
    assert cli(home, "ownership", "remove", "test-holdings").returncode == 0
    gone = cli(home, "ownership", "remove", "test-holdings")
    assert gone.returncode == 2 and "no ownership set named 'test-holdings'" in gone.stderr
