"""`clearance check` attaches each hit's consequences, as of the date asked."""

from __future__ import annotations

import json

from .conftest import run_cli


def test_isin_reports_ns_cmic_consequence_with_dates(bundled_home):
    result = run_cli("check", "--isin", "CNE100000PM8", "--json", env={"CLEARANCE_HOME": str(bundled_home)})
    assert result.returncode == 1, result.stderr
    record = json.loads(result.stdout)
    hit = record["hits"][0]
    assert hit["entity_id"] == "us-ofac-nonsdn-30946"
    rules = [r for r in hit["rules"] if r["consequence"] != "info"]
    assert rules and rules[0]["consequence"] == "prohibited"
    assert "13959" in rules[0]["citation"]
    assert rules[0]["dates"].get("divestment") == "2022-06-03" or "2022-06-03" in rules[0]["text"]


def test_as_of_before_listing_has_no_consequence(bundled_home):
    env = {"CLEARANCE_HOME": str(bundled_home)}
    before = run_cli("check", "--isin", "CNE100000PM8", "--as-of", "2018-01-01", "--json", env=env)
    record = json.loads(before.stdout)
    in_force = [r for h in record["hits"] for r in h.get("rules", []) if r["consequence"] != "info"]
    assert in_force == []
    table = run_cli("check", "--isin", "CNE100000PM8", env=env)
    assert "prohibited" in table.stdout and "Executive Order 13959" in table.stdout


def test_bad_as_of_is_one_line_error(bundled_home):
    result = run_cli("check", "Hikvision", "--as-of", "last tuesday", env={"CLEARANCE_HOME": str(bundled_home)})
    assert result.returncode == 2
    assert "--as-of" in result.stderr and len(result.stderr.strip().splitlines()) == 1
