"""End-to-end matching on the real bundled lists (parsed directly, no store)."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import pytest

from clearance.match.index import MatchIndex
from clearance.screen import Screener
from tests.fixtures.bundled_lists import latest_official_items

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def corpus():
    return latest_official_items()


@pytest.fixture(scope="module")
def screener(corpus):
    return Screener(index=MatchIndex.build(corpus))


def test_hikvision_brand_finds_its_cmic_entry(screener):
    result = screener.check("Hikvision")
    assert result["status"] == "match"
    hit = result["hits"][0]
    assert hit["entity_id"] == "us-ofac-nonsdn-30946"
    assert "CMIC-EO13959" in hit["programs"]
    assert hit["explanation"]["name_similarity"]["token_pairs"]


def test_chinese_legal_name_finds_huawei(screener):
    result = screener.check("华为技术有限公司")
    assert result["status"] == "match"
    assert result["hits"][0]["entity_id"] == "us-ofac-nonsdn-30947"
    assert result["hits"][0]["explanation"]["query_normalised"] == "huawei technology ltd"


def test_isin_only(screener):
    result = screener.check(identifiers=["isin:CNE100000PM8"])
    assert [h["entity_id"] for h in result["hits"]] == ["us-ofac-nonsdn-30946"]


@pytest.mark.parametrize("name", ["China Merchants Bank", "Bank of China", "China Eastern Airlines", "Air China",
                                  "Huatai Securities", "Huaxia Bank", "Hua Nan Commercial Bank", "Haier", "Hisense",
                                  "招商银行", "中国银行"])
def test_hard_negatives_are_clear(screener, name):
    result = screener.check(name)
    assert result["status"] == "clear", result["hits"][:1]


@pytest.mark.parametrize("name", ["x", "X", "E. X.", "a", "Co"])
def test_letters_alone_are_clear(screener, name):
    # a lone letter met "E. X. Co." (an alias of a UN entry) at 0.92 before letters were capped
    assert screener.check(name)["status"] == "clear"


def test_chinese_names_of_listed_companies(screener):
    with (ROOT / "benchmarks" / "accuracy" / "chinese_names.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    found = 0
    for row in rows:
        result = screener.check(row["chinese"])
        found += any(h["name"].upper() == row["expected_name"].upper() for h in result["hits"])
    assert found / len(rows) >= 0.9


def test_candidates_never_lose_what_jaro_winkler_finds(screener):
    sys.path.insert(0, str(ROOT))
    from benchmarks.accuracy.candidates_check import check

    report = check(screener.index, 1200, seed=11)
    assert report["jw_ranks_own_entity_first"] > 900
    assert report["lost_when_jw_right"] == 0, report["lost_when_jw_right_examples"]
