"""``clearance check`` through the real console script, on a copy of the
session's bundled store (the index cache is written into the copy)."""

from __future__ import annotations

import json
import shutil

import pytest

from .conftest import run_cli


@pytest.fixture(scope="module")
def check_home(bundled_home, tmp_path_factory):
    path = tmp_path_factory.mktemp("check-home")
    for item in bundled_home.iterdir():
        if item.is_file():
            shutil.copy2(item, path / item.name)
    return path


def check(home, *args):
    return run_cli("check", *args, env={"CLEARANCE_HOME": str(home)})


def test_hikvision(check_home):
    proc = check(check_home, "Hikvision")
    assert proc.returncode == 1, proc.stderr
    assert "HANGZHOU HIKVISION DIGITAL TECHNOLOGY CO., LTD." in proc.stdout
    assert "us-ofac-nonsdn" in proc.stdout and "CMIC-EO13959" in proc.stdout
    assert "match threshold" in proc.stdout  # the explanation line
    assert list(check_home.glob("cache/match-index-*.pkl")), "index cached for the next run"


def test_chinese_legal_name_json(check_home):
    proc = check(check_home, "华为技术有限公司", "--json")
    assert proc.returncode == 1, proc.stderr
    record = json.loads(proc.stdout)
    assert record["status"] == "match"
    assert record["input"] == {"name": "华为技术有限公司"}
    hits = {h["entity_id"]: h for h in record["hits"]}
    hit = hits["us-ofac-nonsdn-30947"]  # the NS-CMIC entry (other lists may name Huawei too)
    assert hit["status"] == "match"
    assert hit["name"] == "HUAWEI TECHNOLOGIES CO., LTD."
    assert hit["explanation"]["name_similarity"]["token_pairs"]


def test_clear_exits_zero(check_home):
    proc = check(check_home, "China Merchants Bank")
    assert proc.returncode == 0, proc.stderr
    assert "clear" in proc.stdout


def test_isin_only(check_home):
    proc = check(check_home, "--isin", "CNE100000PM8", "--json")
    assert proc.returncode == 1, proc.stderr
    record = json.loads(proc.stdout)
    assert "us-ofac-nonsdn-30946" in [h["entity_id"] for h in record["hits"]]
    assert record["input"] == {"identifiers": ["isin:CNE100000PM8"]}


def test_options_reach_the_engine(check_home):
    proc = check(check_home, "Hikvision", "--source", "un-sc", "--json")
    assert proc.returncode == 0 and json.loads(proc.stdout)["status"] == "clear"
    proc = check(check_home, "Hikvision", "--schema", "Person", "--json")
    assert proc.returncode == 0
    proc = check(check_home, "Hikvision", "--country", "CN", "--id", "uscc:91330000733796106P", "--json")
    hit = {h["entity_id"]: h for h in json.loads(proc.stdout)["hits"]}["us-ofac-nonsdn-30946"]
    assert "country" in hit["explanation"]["features"] and "identifier" in hit["explanation"]["features"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--id", "foo"], "expected TYPE:VALUE"),
        (["Hikvision", "--schema", "Spaceship"], "Spaceship"),
        (["Hikvision", "--source", "nope"], "nope"),
        ([], "no name or identifier"),
        (["Hikvision", "--match-threshold", "0.5", "--review-threshold", "0.9"], "thresholds"),
    ],
)
def test_errors_exit_two_with_one_line(check_home, args, message):
    proc = check(check_home, *args)
    assert proc.returncode == 2
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0], proc.stderr


def test_an_error_record_has_no_consequence(check_home):
    proc = check(check_home, "--json")
    assert proc.returncode == 2
    record = json.loads(proc.stdout)
    assert record["status"] == "error" and record["consequence"] is None  # not "clear": nothing was screened
    bad_dob = check(check_home, "Kim Yong Chol", "--dob", "yesterday")
    assert bad_dob.returncode == 2 and "--dob 'yesterday': expected a date" in bad_dob.stderr
