"""`assess` reports exposure through owners as hits with "via": "ownership"."""

from __future__ import annotations

import json

from .conftest import ROOT, run_cli


def _assess(tx: dict, tmp_path, home) -> dict:
    path = tmp_path / "tx.json"
    path.write_text(json.dumps(tx), encoding="utf-8")
    result = run_cli("assess", str(path), "--json", env={"CLEARANCE_HOME": str(home)})
    assert result.returncode in (0, 1), result.stderr
    return json.loads(result.stdout)


def test_subsidiary_of_a_covered_producer_is_prohibited_for_federal_procurement(bundled_home, tmp_path):
    tx = {"date": "2023-03-01", "destination": "US", "purpose": "federal_procurement",
          "item": {"description": "IP cameras", "eccn": "EAR99", "us_origin": False},
          "parties": [{"role": "supplier", "name": "Hikvision USA Inc", "country": "US"}]}
    out = _assess(tx, tmp_path, bundled_home)
    assert out["determination"] == "prohibited"
    hit = out["parties"][0]["hits"][0]
    assert hit["source"] == "us-covered" and hit["via"] == "ownership"


def test_company_majority_owned_by_sdn_parties_is_prohibited(copy_of_bundled, tmp_path):
    """30% + 25% held by two SDN entries (the stored ownership file): blocked under the 50% rule."""
    imported = run_cli("ownership", "import", str(ROOT / "tests/fixtures/ownership_holdings.csv"), "--name", "holdings")
    assert imported.returncode in (0, 1), imported.stderr
    tx = {"date": "2021-08-01", "destination": "PA",
          "item": {"description": "pumps", "eccn": "EAR99", "us_origin": True},
          "parties": [{"role": "ultimate_consignee", "name": "Caribe Test Holdings Ltd", "country": "PA"}]}
    out = _assess(tx, tmp_path, copy_of_bundled)
    assert out["determination"] == "prohibited", out["reasons"]
    sources = {h["source"] for h in out["parties"][0]["hits"]}
    assert "us-ofac-sdn" in sources
