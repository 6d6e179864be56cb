"""Exposure on the real bundled lists: real listed owners, made-up subsidiaries."""

from __future__ import annotations

from pathlib import Path

import pytest

from clearance.errors import InputError, SourceError
from clearance.ownership import augment, build_engine, derived_hits, path_svg

FIXTURES = Path(__file__).parent / "fixtures"
HOLDINGS = FIXTURES / "ownership_holdings.csv"
SDN_BANCO = "us-ofac-sdn-306"  # BANCO NACIONAL DE CUBA
SDN_HIZBALLAH = "us-ofac-sdn-4697"
EL_54TH = "us-trade-csl-EL-a878a07c6172c584"  # 54th Research Institute of China


@pytest.fixture(scope="module")
def engine(bundled_home):
    import os

    old = os.environ.get("CLEARANCE_HOME")
    os.environ["CLEARANCE_HOME"] = str(bundled_home)
    try:
        from clearance.store import open_store

        yield build_engine(open_store(initialise=False), files=[HOLDINGS], as_of="2026-01-15")
    finally:
        if old is None:
            os.environ.pop("CLEARANCE_HOME", None)
        else:
            os.environ["CLEARANCE_HOME"] = old


def test_real_owners_resolve_by_name_and_id(engine):
    found = {r.text: r for r in engine.resolutions}
    assert found["BANCO NACIONAL DE CUBA"].key == SDN_BANCO and found["BANCO NACIONAL DE CUBA"].status == "exact"
    assert found["us-ofac-sdn-4697"].key == SDN_HIZBALLAH and found["us-ofac-sdn-4697"].status == "id"
    assert found["Caribe Test Holdings Ltd"].status == "unresolved"


def test_30_plus_25_by_two_sdn_parties_is_blocked(engine):
    record = engine.exposure("Caribe Test Holdings Ltd")
    assert record["blocked"] is True
    assert record["listed_ownership"] == {"us-ofac-sdn": pytest.approx(0.55)}
    assert {o["owner_id"] for o in record["owners"]} == {SDN_BANCO, SDN_HIZBALLAH}
    rule = record["rules"][0]
    assert rule["rule"] == "ofac-50-percent-rule" and rule["status"] == "applies"
    assert "FAQ" in rule["citation"]
    assert sorted(p[0]["percent"] for p in record["paths"]) == [25, 30]


def test_49_percent_not_blocked_but_shown(engine):
    record = engine.exposure("Minority Test Trading SA")
    assert record["blocked"] is False
    assert record["listed_ownership"]["us-ofac-sdn"] == pytest.approx(0.49)
    assert record["paths"][0][0]["owner_id"] == SDN_BANCO
    assert record["status"] == "review"


def test_60_times_90_indirect_is_54_and_blocked(engine):
    record = engine.exposure("Beta Test Manufacturing SA")
    assert record["listed_ownership"]["us-ofac-sdn"] == pytest.approx(0.54)
    assert record["blocked"] is True
    assert [step["percent"] for step in record["paths"][0]] == [60, 90]
    assert record["paths"][0][1]["owner_restricted"] == ["us-ofac-sdn"]


def test_cycle_terminates_with_the_right_totals(engine):
    one, two = engine.exposure("Cycle Test One Ltd"), engine.exposure("Cycle Test Two Ltd")
    assert one["listed_ownership"]["us-ofac-sdn"] == pytest.approx(0.6 * 0.5 / 0.9, abs=1e-6)
    assert two["listed_ownership"]["us-ofac-sdn"] == pytest.approx(0.6 * 0.5 * 0.5 / 0.9, abs=1e-6)
    assert one["counted_ownership"]["us-ofac-sdn"] == pytest.approx(0.7)
    assert one["blocked"] and two["blocked"]
    loop = engine.exposure("Loop Test East Ltd")
    assert loop["status"] == "clear" and loop["listed_ownership"] == {}


@pytest.mark.parametrize(
    ("as_of", "status"),
    [("2025-09-01", "not-in-force"), ("2025-10-15", "applies"), ("2025-11-20", "suspended"), ("2026-12-01", "applies")],
)
def test_affiliates_rule_on_a_real_entity_list_owner(bundled_store, as_of, status):
    engine = build_engine(bundled_store, files=[HOLDINGS], as_of=as_of)
    record = engine.exposure("Shijiazhuang Test Electronics Co")
    rule = next(r for r in record["rules"] if r["family"] == "us-bis-entity-list")
    assert rule["status"] == status
    assert record["paths"][0][0]["owner_id"] == EL_54TH
    assert "90 FR 47201" in rule["citation"]
    assert bool(record["restricted"]) == (status == "applies")


def test_holding_dated_after_as_of_is_ignored(bundled_store):
    early = build_engine(bundled_store, files=[HOLDINGS], as_of="2026-01-15").exposure("Late Test Subsidiary Ltd")
    late = build_engine(bundled_store, files=[HOLDINGS], as_of="2026-07-01").exposure("Late Test Subsidiary Ltd")
    assert early["status"] == "clear" and late["blocked"] is True


def test_ezviz_branded_camera_maker_resolves_to_hikvision(engine):
    record = engine.exposure("Ezviz Test Cameras Ltd")
    rule = next(r for r in record["rules"] if r["family"] == "us-covered")
    assert rule["status"] == "applies" and rule["rule"] == "ndaa-889-subsidiary"
    path = record["paths"][0]
    assert path[0]["owner_id"] == "covered:hikvision"
    assert [s["owned"] for s in path] == ["Hangzhou EZVIZ Network Co., Ltd.", "Ezviz Test Cameras Ltd"]
    # Hikvision is one party: the curated producer and its NS-CMIC entry.
    hikvision = engine.exposure("Hikvision")
    assert {l["source"] for l in hikvision["entity"]["listed"]} >= {"curated:covered-affiliates", "us-ofac-nonsdn"}


def test_ambiguous_owner_is_reported_never_guessed(engine):
    found = {r.text: r for r in engine.resolutions}
    # Two different people on the SDN List share this name (different dates of birth).
    assert found["KIM, Yong Chol"].status == "ambiguous"
    assert {c["entity_id"] for c in found["KIM, Yong Chol"].candidates} >= {"us-ofac-sdn-12211", "us-ofac-sdn-17614"}
    record = engine.exposure("Kim Test Trading Co")
    assert record["restricted"] == {}
    assert any("ambiguous" in w for w in record["warnings"])


def test_linked_to_is_shown_not_counted(engine):
    record = engine.exposure("us-ofac-sdn-10274")  # an SDN entry with several "Linked To" companies
    assert record["related"] and all(r["relation"] == "linked" for r in record["related"])
    assert record["listed_ownership"] == {}
    assert record["rules"][0]["status"] == "listed"


def test_derived_hits_and_augment(engine):
    hits = derived_hits(engine, name="Beta Test Manufacturing SA")
    assert hits[0]["via"] == "ownership" and hits[0]["status"] == "match"
    assert hits[0]["entity_id"] == SDN_BANCO and hits[0]["source"] == "us-ofac-sdn"
    assert [s["percent"] for s in hits[0]["explanation"]["path"]] == [60, 90]
    record = {"row": 0, "input": {"name": "Beta Test Manufacturing SA"}, "status": "clear", "hits": []}
    out = augment(record, engine)
    assert out["status"] == "match" and out["hits"][0]["via"] == "ownership"
    assert augment({"row": 1, "input": {"name": "Nobody Test"}, "status": "clear", "hits": []}, engine)["status"] == "clear"


def test_unknown_query_and_bad_file_are_clear_errors(engine, bundled_store):
    with pytest.raises(InputError, match="not a list entry"):
        engine.exposure("Completely Unknown Test Party Xyz")
    with pytest.raises(SourceError) as err:
        build_engine(bundled_store, files=[FIXTURES / "ownership_bad_percent.csv"])
    assert "line 3" in str(err.value) and "percent" in str(err.value)


def test_svg_of_a_real_exposure(engine):
    svg = path_svg(engine.exposure("Caribe Test Holdings Ltd")["paths"])
    assert svg.startswith("<svg") and "BANCO NACIONAL DE CUBA" in svg and "30%" in svg
