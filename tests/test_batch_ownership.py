"""Batch screening reports exposure through owners as hits with "via": "ownership"."""

from __future__ import annotations

import json

from .conftest import ROOT, run_cli


def test_screen_reports_ownership_hits(copy_of_bundled, tmp_path):
    batch = tmp_path / "parties.csv"
    batch.write_text("name,country\nHikvision USA Inc,US\nCaribe Test Holdings Ltd,PA\nAcme Widgets Ltd,GB\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    env = {"CLEARANCE_HOME": str(copy_of_bundled)}
    args = ["screen", str(batch), "-o", str(out), "--ownership", str(ROOT / "tests/fixtures/ownership_holdings.csv")]
    result = run_cli(*args, env=env)
    assert result.returncode == 1, result.stderr
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["status"] for r in records] == ["match", "match", "clear"]
    hikvision_usa, caribe = records[0]["hits"][0], records[1]["hits"][0]
    assert hikvision_usa["via"] == "ownership" and "Hikvision" in hikvision_usa["name"]
    assert caribe["via"] == "ownership" and caribe["source"] == "us-ofac-sdn"
    assert "55" in caribe["explanation"]["reason"]

    plain = run_cli(*args[:4], "--no-ownership", env=env)
    assert plain.returncode in (0, 1)
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert all(h.get("via") != "ownership" for r in records for h in r["hits"])
