"""The Python API: ``Screener.check`` returns the screening-result record of
GUIDE.md section 5, for any input."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clearance.match.matcher import Thresholds
from tests.fixtures.entities import entity
from clearance.screen import Screener, parse_identifiers


CORPUS = [
    ("us-ofac-nonsdn", entity("hik", "Company", "HANGZHOU HIKVISION DIGITAL TECHNOLOGY CO., LTD.", "HIKVISION",
                              isinCode="CNE100000PM8", program="CMIC-EO13959", country="China")),
    ("us-ofac-nonsdn", entity("hw", "Company", "HUAWEI TECHNOLOGIES CO., LTD.", program="CMIC-EO13959", country="China")),
    ("us-ofac-sdn", entity("salek", "Person", "SALEK, Abdulhai", birthDate="1970-05-01", nationality="Afghanistan", program="SDGT")),
    ("us-ofac-sdn", entity("ship", "Vessel", "OCEAN STAR", imoNumber="IMO 9187629", program="IRAN")),
    ("un-sc", entity("star", "Company", "OCEAN STAR TRADING")),
    ("us-ofac-sdn", entity("bmi", "Company", "BANK MELLI IRAN", program="IRAN")),
] + [("filler", entity(f"f{i}", "Company", f"{w.upper()} BANK")) for i, w in enumerate(
    "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike".split())]


@pytest.fixture(scope="module")
def screener() -> Screener:
    return Screener.from_entities(CORPUS)


HIT_KEYS = {"entity_id", "source", "schema", "name", "matched_name", "score", "status", "programs", "explanation"}


def test_result_record_contract(screener):
    result = screener.check("Hikvision", row=3)
    assert set(result) == {"row", "input", "status", "hits"}
    assert result["row"] == 3
    assert result["input"] == {"name": "Hikvision"}
    assert result["status"] == "match"
    hit = result["hits"][0]
    assert set(hit) == HIT_KEYS
    assert hit["entity_id"] == "hik" and hit["source"] == "us-ofac-nonsdn" and hit["schema"] == "Company"
    assert hit["name"] == "HANGZHOU HIKVISION DIGITAL TECHNOLOGY CO., LTD."
    assert hit["matched_name"] == "HIKVISION"
    assert hit["programs"] == ["CMIC-EO13959"]
    assert 0.0 <= hit["score"] <= 1.0
    why = hit["explanation"]
    assert why["query_name"] == "Hikvision"
    assert why["name_similarity"]["token_pairs"] == [{"query": "hikvision", "list": "hikvision", "similarity": 1.0}]
    assert "match threshold" in why["reason"]


def test_hits_sorted_best_first_and_row_status_is_best(screener):
    result = screener.check("Ocean Star")
    scores = [h["score"] for h in result["hits"]]
    assert scores == sorted(scores, reverse=True)
    assert result["status"] == result["hits"][0]["status"]
    assert all(h["status"] in ("match", "review") for h in result["hits"])


def test_clear(screener):
    result = screener.check("Acme Widgets Corporation")
    assert result["status"] == "clear" and result["hits"] == []


def test_common_word_alone_is_clear(screener):
    assert screener.check("Bank")["status"] == "clear"


def test_chinese_legal_name(screener):
    result = screener.check("杭州海康威视数字技术股份有限公司")
    assert result["status"] == "match" and result["hits"][0]["entity_id"] == "hik"


def test_identifier_only_query(screener):
    result = screener.check(identifiers=["isin:CNE100000PM8"])
    assert result["status"] == "match"
    hit = result["hits"][0]
    assert hit["entity_id"] == "hik" and hit["score"] == 1.0
    assert "identifier" in hit["explanation"]["features"]
    assert any("isinCode" in n for n in hit["explanation"]["notes"])


def test_identifier_kinds(screener):
    assert screener.check(identifiers={"imo": "9187629"})["status"] == "clear"  # IMO prefix is part of the value
    assert screener.check(identifiers={"imo": "IMO 9187629"})["hits"][0]["entity_id"] == "ship"
    assert screener.check(identifiers={"passport": "CNE100000PM8"})["status"] == "clear"  # wrong kind
    assert screener.check(identifiers="CNE100000PM8")["status"] == "match"  # no kind: any


def test_identifier_lifts_a_weak_name_match(screener):
    weak = screener.check("Hangzhou Digital")
    strong = screener.check("Hangzhou Digital", identifiers=["isin:CNE100000PM8"])
    assert strong["hits"][0]["score"] > (weak["hits"][0]["score"] if weak["hits"] else 0)
    assert strong["status"] == "match"


def test_schema_incompatible_entries_are_not_hits(screener):
    as_person = screener.check("Ocean Star", schema="Person")
    assert as_person["status"] == "clear"
    as_vessel = screener.check("Ocean Star", schema="Vessel")
    assert [h["entity_id"] for h in as_vessel["hits"]] == ["ship"]


def test_birth_date_ten_years_off_lowers_a_person_match(screener):
    base = screener.check("Abdulhai Salek", schema="Person")["hits"][0]["score"]
    same = screener.check("Abdulhai Salek", schema="Person", birth_date="1970-05-01")["hits"][0]["score"]
    far = screener.check("Abdulhai Salek", schema="Person", birth_date="1985")
    assert same >= base
    assert not far["hits"] or far["hits"][0]["score"] < base - 0.2


def test_country_evidence(screener):
    agree = screener.check("Hangzhou Hikvision", country="CN")["hits"][0]
    differ = screener.check("Hangzhou Hikvision", country="France")["hits"][0]
    assert agree["score"] > differ["score"]
    assert "country" in agree["explanation"]["features"]


def test_a_repeated_name_gives_the_same_hits_and_they_are_the_callers_own():
    # the matcher keeps name-level results, explanation parts included, for names it sees
    # again: what one caller does to its hits must not reach the next caller's
    fresh = Screener.from_entities(CORPUS)
    reused = Screener.from_entities(CORPUS)
    queries = [("Hangzhou Hikvision", "CN"), ("Hangzhou Hikvision", "France"), ("Hangzhou Hikvision", None), ("Hikvision", "CN")]
    for name, country in queries:
        hits = reused.check(name, country=country)["hits"]
        assert hits == Screener.from_entities(CORPUS).check(name, country=country)["hits"]
        for hit in hits:
            hit["programs"].append("EDITED")
            why = hit["explanation"]
            why["notes"].append("EDITED")
            why["features"]["name"] = -1
            similarity = why["name_similarity"]
            similarity["token_pairs"].append({"query": "x"})
            similarity["token_pairs"][0]["similarity"] = -1
            similarity["unmatched_query_tokens"].append("EDITED")
            similarity["unmatched_list_tokens"].append("EDITED")
            similarity["score"] = -1
    for name, country in queries:
        assert reused.check(name, country=country)["hits"] == fresh.check(name, country=country)["hits"]


def test_person_name_reordered_with_typo(screener):
    result = screener.check("Abdulhay Salek")
    assert result["hits"][0]["entity_id"] == "salek"
    assert result["status"] in ("match", "review")


def test_sources_filter(screener):
    assert screener.check("Ocean Star", sources=["un-sc"])["hits"][0]["entity_id"] == "star"
    assert screener.check("Hikvision", sources=["un-sc"])["status"] == "clear"


def test_thresholds_are_configuration():
    strict = Screener.from_entities(CORPUS, thresholds={"match": 0.999, "review": 0.99})
    assert strict.check("Hikvsion")["status"] == "clear"
    loose = Screener.from_entities(CORPUS, thresholds=Thresholds(match=0.5, review=0.3))
    assert loose.check("Hikvsion")["status"] == "match"
    with pytest.raises(ValueError):
        Thresholds(match=0.5, review=0.9)


def test_error_rows(screener):
    empty = screener.check("")
    assert empty["status"] == "error" and empty["hits"] == [] and "no name or identifier" in empty["error"]
    junk = screener.check("!!! ---")
    assert junk["status"] == "error" and "nothing to match" in junk["error"]
    bad_schema = screener.check("Hikvision", schema="Spaceship")
    assert bad_schema["status"] == "error" and "Spaceship" in bad_schema["error"]
    assert screener.check(None, identifiers=["isin:"])["status"] == "error"


def test_input_is_echoed(screener):
    row = {"name": "Hikvision", "vendor_no": "V-1"}
    assert screener.check("Hikvision", input=row)["input"] == row


def test_parse_identifiers():
    assert parse_identifiers(None) == []
    assert parse_identifiers("CNE100000PM8") == [(None, "CNE100000PM8")]
    assert parse_identifiers(["isin:CNE1", ("imo", "IMO 1"), "bare"]) == [("isin", "CNE1"), ("imo", "IMO 1"), (None, "bare")]
    assert parse_identifiers({"isin": "CNE1", "lei": ""}) == [("isin", "CNE1")]


def test_huge_input(screener):
    result = screener.check("Hikvision " * 100_000)  # ~1 MB
    assert result["status"] in ("match", "review", "clear")


TEXT = st.one_of(
    st.text(max_size=200),
    st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x3000), max_size=60),
    st.text(alphabet="杭州海康威视数字技术股份有限公司华为中国移动銀行 \u0000\u200b-&.,'ABCXYZ", max_size=40),
    st.sampled_from(["", " ", "\x00", "\u202e", "\ufeff", "ООО Газпром", "شركة", "Ελλάδα", "a" * 5000]),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=TEXT, country=st.one_of(st.none(), st.text(max_size=10)), dob=st.one_of(st.none(), st.text(max_size=12)),
       schema=st.sampled_from([None, "Person", "Company", "Vessel", "LegalEntity", "bogus"]),
       ident=st.one_of(st.none(), st.text(max_size=20)))
def test_any_input_returns_a_result(screener, name, country, dob, schema, ident):
    result = screener.check(name, country=country, schema=schema, birth_date=dob, identifiers=ident)
    assert result["status"] in ("match", "review", "clear", "error")
    assert isinstance(result["hits"], list)
    if result["status"] == "error":
        assert result["error"]
    else:
        assert all(0.0 <= h["score"] <= 1.0 for h in result["hits"])


def test_birth_dates_in_other_forms_count_and_unreadable_ones_are_dropped(screener):
    score = {d: screener.check("Abdulhai Salek", schema="Person", birth_date=d)["hits"][0]["score"]
             for d in ("1970", "1970-05-01", "05/01/1970", "01.05.1970", "c. 1970", "yesterday", "1970-13-45", None)}
    assert len({score[d] for d in ("1970", "1970-05-01", "05/01/1970", "01.05.1970", "c. 1970", "1970-13-45")}) == 1
    assert score["yesterday"] == score[None]  # no evidence, and the name is still screened
    other = screener.check("Abdulhai Salek", schema="Person", birth_date="1980")["hits"]
    assert not other or other[0]["score"] < score["1970"]
