"""The curated US covered list: content, strictness, and screening like any other list."""

from __future__ import annotations

from pathlib import Path

import pytest

from clearance.errors import SourceError
from clearance.rules.asof import bundled_covered
from clearance.screen import Screener
from clearance.sources import covered

FOUND = bundled_covered()
FOLDER = FOUND[1] if FOUND else None
SECTION_889 = {
    "huawei": "Huawei Technologies Co., Ltd.",
    "zte": "ZTE Corporation",
    "hytera": "Hytera Communications Corporation Limited",
    "hikvision": "Hangzhou Hikvision Digital Technology Co., Ltd.",
    "dahua": "Zhejiang Dahua Technology Co., Ltd.",
}


@pytest.fixture(scope="module")
def entities():
    assert FOLDER is not None, "data/curated/us-covered/<YYYY-MM>/covered.yaml is missing"
    return {e.id: e for e in covered.parse(FOLDER, "us-covered")}


def test_the_five_section_889_producers_with_english_and_chinese_names(entities):
    for key, legal in SECTION_889.items():
        entry = entities[f"us-covered-{key}-ndaa-889"]
        assert entry.schema == "Company" and entry.get("name") == [legal]
        assert entry.get("program") == ["NDAA-889"] and entry.get("listingDate") == ["2018-08-13"]
        assert any("\u4e00" <= ch <= "\u9fff" for alias in entry.get("alias") for ch in alias), key
        assert any("Pub. L. 115-232, sec. 889(f)(3)" in n for n in entry.get("notes"))
        assert entities[f"us-covered-{key}-fcc-covered"].get("listingDate") == ["2021-03-12"]


def test_fcc_covered_list_entries_and_dates(entities):
    expected = {
        "us-covered-kaspersky-fcc-covered": "2022-03-25",
        "us-covered-china-mobile-international-usa-fcc-covered": "2022-03-25",
        "us-covered-china-telecom-americas-fcc-covered": "2022-03-25",
        "us-covered-pacific-networks-fcc-covered": "2022-09-20",
        "us-covered-comnet-usa-fcc-covered": "2022-09-20",
        "us-covered-china-unicom-americas-fcc-covered": "2022-09-20",
        "us-covered-dji-fcc-covered": "2025-12-22",
        "us-covered-autel-robotics-fcc-covered": "2025-12-22",
    }
    for entity_id, when in expected.items():
        assert entities[entity_id].get("startDate") == [when]
    assert entities["us-covered-kaspersky-ndaa-1634"].get("listingDate") == ["2017-12-12"]


def test_every_entry_cites_its_source(entities):
    for entity in entities.values():
        citations = [n for n in entity.get("notes") if n.startswith("Citation: ")]
        assert len(citations) == 1 and len(citations[0]) > 20, entity.id
        assert entity.get("sourceUrl") and entity.get("country")
        assert entity.get("program")[0] in covered.PROGRAMS


def test_published_is_the_date_of_the_latest_fact():
    assert covered.published(FOLDER) == "2025-12-22"


def test_screened_like_any_other_list_in_english_and_chinese(entities):
    screener = Screener.from_entities(("us-covered", e) for e in entities.values())
    hits = screener.check("Hikvision")["hits"]
    assert {h["entity_id"] for h in hits} >= {"us-covered-hikvision-ndaa-889", "us-covered-hikvision-fcc-covered"}
    assert screener.check("浙江大华技术股份有限公司")["hits"][0]["entity_id"].startswith("us-covered-dahua")
    assert screener.check("Huawei Technologies Company")["status"] == "match"
    assert screener.check(identifiers={"uscc": "91330000733796106P"})["hits"][0]["entity_id"].startswith("us-covered-hikvision")


GOOD = """list: us-covered
published: "2024-01-01"
entries:
  - key: acme
    name: Acme Camera Co., Ltd.
    country: cn
    listings:
      - program: FCC-COVERED
        date: "2024-01-01"
        scope: Video surveillance equipment produced by Acme.
        citation: FCC Covered List, test
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "covered.yaml"
    path.write_text(text, encoding="utf-8")
    return tmp_path


def test_a_minimal_file_parses(tmp_path):
    [entity] = list(covered.parse(_write(tmp_path, GOOD), "us-covered"))
    assert entity.id == "us-covered-acme-fcc-covered"
    assert entity.get("notes") == ["Video surveillance equipment produced by Acme.", "Citation: FCC Covered List, test"]


@pytest.mark.parametrize(
    "change, message",
    [
        (("        citation: FCC Covered List, test\n", ""), "missing 'citation'"),
        (('        date: "2024-01-01"', '        date: "2024-13-01"'), "not a date"),
        (("program: FCC-COVERED", "program: FCC-LIST"), "unknown program 'FCC-LIST'"),
        (("    country: cn", "    country: China"), "ISO 3166"),
        (("    country: cn", "    country: cn\n    nickname: x"), "unknown key 'nickname'"),
        (("    country: cn", "    country: cn\n    name_zh: 某公司"), "name_zh_source"),
        (("  - key: acme", "  - key: Acme Co"), "not a slug"),
    ],
)
def test_strictness_names_the_line_and_field(tmp_path, change, message):
    text = GOOD.replace(*change)
    assert text != GOOD
    with pytest.raises(SourceError, match=message) as caught:
        list(covered.parse(_write(tmp_path, text), "us-covered"))
    assert caught.value.line == 4


def test_a_repeated_key_and_a_missing_file_are_refused(tmp_path):
    doubled = GOOD + GOOD.split("entries:\n", 1)[1]
    with pytest.raises(SourceError, match="repeats"):
        list(covered.parse(_write(tmp_path, doubled), "us-covered"))
    with pytest.raises(SourceError, match="not found"):
        covered.files(tmp_path / "nowhere")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(SourceError, match="no covered.yaml"):
        covered.files(empty)


def test_anchors_are_refused(tmp_path):
    text = GOOD.replace("    country: cn", "    country: &c cn")
    with pytest.raises(SourceError, match="anchors"):
        list(covered.parse(_write(tmp_path, text), "us-covered"))
