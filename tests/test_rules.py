"""The rules engine on real bundled entries (parsed directly, no store): what attaches, when."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pytest

from clearance.errors import InputError
from clearance.model import Entity
from clearance.rules import Context, Item, determine, el_covers, most_severe
from clearance.sources import csl, dpl, ofac, un

LISTS = Path(__file__).resolve().parents[1] / "data" / "lists"
EAR99_US = Item(description="DDR4 memory modules", eccn="EAR99", us_origin=True)
EXPORT_TO = Context(role="end_user", purpose="export", item=EAR99_US)


@lru_cache(maxsize=None)
def _entries(kind: str) -> dict[str, Entity]:
    if kind == "csl":
        found = csl.parse(LISTS / "us-trade-csl" / "2019-12", "us-trade-csl")
    elif kind == "dpl":
        found = dpl.parse(LISTS / "us-bis-dpl" / "2022-09", "us-bis-dpl")
    elif kind == "sdn":
        found = ofac.parse_sdn(LISTS / "us-ofac-sdn" / "2021-07", "us-ofac-sdn")
    elif kind == "nonsdn":
        found = ofac.parse_cons(LISTS / "us-ofac-nonsdn" / "2025-12", "us-ofac-nonsdn")
    else:
        found = un.parse(LISTS / "un-sc" / "2026-02", "un-sc")
    return {e.id: e for e in found}


def _by_name(kind: str, name: str) -> Entity:
    return next(e for e in _entries(kind).values() if e.caption.upper() == name.upper())


def _ids(rules):
    return {r.id: r for r in rules}


# -- Entity List ---------------------------------------------------------------------------


def test_entity_list_entry_gives_its_own_requirement_policy_and_fr_citation():
    entry = _entries("csl")["us-trade-csl-EL-5286fb429291a271"]  # Gui'an New District Huawei Investment
    rules = determine(entry, "2020-03-01", EXPORT_TO)
    rule = _ids(rules)["el-export-recipient"]
    assert rule.consequence == "license-required"
    assert rule.license_requirement == "For all items subject to the EAR. (See §744.11 of the EAR)"
    assert rule.review_policy == "Presumption of denial"
    assert rule.federal_register == "84 FR 22961" and rule.citation.startswith("84 FR 22961; 15 CFR 744.11")
    assert rule.dates == {"startDate": "2019-05-21"}
    assert "end user" in rule.text and "Presumption of denial." in rule.text


def test_entity_list_before_the_listing_date_does_not_apply():
    entry = _entries("csl")["us-trade-csl-EL-5286fb429291a271"]
    rules = determine(entry, "2019-05-01", EXPORT_TO)
    assert [r.id for r in rules] == ["not-yet-listed"] and most_severe(r.consequence for r in rules) == "clear"
    assert "2019-05-21" in rules[0].text


def test_entity_list_for_a_supplier_or_an_investment_only_explains():
    entry = _by_name("csl", "32 Group China Ltd.")
    supplier = determine(entry, "2020-03-01", Context(role="supplier", purpose="export", item=EAR99_US))
    assert [(r.id, r.consequence) for r in supplier] == [("el-other-role", "info")]
    investment = determine(entry, "2020-03-01", Context(role="issuer", purpose="investment"))
    assert [(r.id, r.consequence) for r in investment] == [("el-not-export", "info")]


def test_foreign_made_item_caps_an_ear_rule_at_review_with_a_note():
    entry = _by_name("csl", "32 Group China Ltd.")
    foreign = Context(role="end_user", purpose="export", item=Item(eccn="EAR99", us_origin=False))
    rule = _ids(determine(entry, "2020-03-01", foreign))["el-export-recipient"]
    assert rule.consequence == "review" and any("not of US origin" in n for n in rule.notes)


def test_limited_licence_requirement_is_review_unless_the_eccn_is_named():
    assert el_covers("For all items subject to the EAR.", EAR99_US) is None
    assert "exceptions" in el_covers("For all items subject to the EAR except food and medicine designated EAR99", EAR99_US)
    assert el_covers("For items classified under ECCN 5A002", Item(eccn="5A002")) is None
    assert "limited" in el_covers("For items classified under ECCN 5A002", EAR99_US)


def test_huawei_tgl_relief_applies_only_when_claimed_and_only_inside_its_dates():
    entry = _entries("csl")["us-trade-csl-EL-5286fb429291a271"]
    claimed = Context(role="end_user", purpose="export", item=EAR99_US, relies_on=frozenset({"huawei-tgl"}))
    inside = _ids(determine(entry, "2019-07-01", claimed))["el-export-recipient"]
    assert inside.consequence == "review"
    assert [(x["id"], x["applied"]) for x in inside.relief] == [("huawei-tgl-2019-05", True)]
    assert "84 FR 23468" in inside.relief[0]["citation"]
    after = _ids(determine(entry, "2021-01-15", claimed))["el-export-recipient"]
    assert after.consequence == "license-required"
    expired = [x for x in after.relief if x["family"] == "huawei-tgl"]
    assert expired and not expired[0]["applied"] and "2020-08-13" in expired[0]["text"]
    unclaimed = _ids(determine(entry, "2019-07-01", EXPORT_TO))["el-export-recipient"]
    assert unclaimed.consequence == "license-required" and "relies_on" in unclaimed.relief[0]["text"]


# -- DPL, SDN, UN ----------------------------------------------------------------------------


def test_denied_person_is_prohibited_while_the_order_runs_and_not_after():
    entry = _by_name("dpl", "AJAY AHUJA")  # order 2007-10-24 to 2022-10-24
    during = _ids(determine(entry, "2020-03-01", EXPORT_TO))["dpl-denial-order"]
    assert during.consequence == "prohibited" and "2022-10-24" in during.text
    after = determine(entry, "2023-01-01", EXPORT_TO)
    assert [r.id for r in after] == ["listing-ended"]


def test_sdn_is_prohibited_in_any_role_and_purpose():
    entry = _by_name("sdn", "BANK SADERAT IRAN")
    for ctx in (EXPORT_TO, Context(role="supplier", purpose="purchase"), Context(role="issuer", purpose="investment"), Context()):
        rules = determine(entry, "2022-01-01", ctx)
        assert [(r.id, r.consequence) for r in rules] == [("sdn-blocked", "prohibited")]
    assert "IFSR" in rules[0].text or "SDGT" in rules[0].text


def test_un_listing_by_regime():
    entries = _entries("un").values()
    qaida = next(e for e in entries if "Al-Qaida" in e.get("program"))
    rule = determine(qaida, "2026-06-01")[0]
    assert rule.id == "un-isil-al-qaida" and rule.consequence == "prohibited" and "1267" in rule.citation
    guinea_bissau = next(e for e in entries if "GB" in e.get("program"))
    assert [(r.id, r.consequence) for r in determine(guinea_bissau, "2026-06-01")] == [("un-guinea-bissau", "review")]


# -- NS-CMIC ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "on, rule_id, consequence",
    [
        ("2021-01-01", "not-yet-listed", "info"),
        ("2021-07-01", "cmic-listed-not-yet-effective", "review"),
        ("2022-01-01", "cmic-securities-prohibited", "prohibited"),
        ("2023-06-01", "cmic-divestment-window-closed", "prohibited"),
    ],
)
def test_ns_cmic_hikvision_by_date(on, rule_id, consequence):
    hikvision = _entries("nonsdn")["us-ofac-nonsdn-30946"]
    rules = determine(hikvision, on, Context(role="issuer", purpose="investment"))
    assert [(r.id, r.consequence) for r in rules] == [(rule_id, consequence)]
    if rule_id.startswith("cmic"):
        assert rules[0].dates == {"listingDate": "2021-06-03", "effectiveDate": "2021-08-02", "divestmentDate": "2022-06-03"}
        assert "2022-06-03" in rules[0].text


def test_ns_cmic_does_not_restrict_an_export():
    hikvision = _entries("nonsdn")["us-ofac-nonsdn-30946"]
    assert [(r.id, r.consequence) for r in determine(hikvision, "2023-06-01", EXPORT_TO)] == [("cmic-not-securities", "info")]


def test_ssi_and_menu_based_entries_name_their_directives():
    vtb = _by_name("nonsdn", "VTB BANK PUBLIC JOINT STOCK COMPANY")
    rules = _ids(determine(vtb, "2024-01-01", EXPORT_TO))
    assert set(rules) == {"ssi-directives", "mbs-menu-based"}
    assert "Directive 1" in rules["ssi-directives"].text
    assert all(r.consequence == "review" for r in rules.values())


# -- context, dates and sources -----------------------------------------------------------


def test_unknown_context_keeps_every_rule_that_can_flag_and_drops_explanations():
    hikvision = _entries("nonsdn")["us-ofac-nonsdn-30946"]
    rules = determine(hikvision, "2023-06-01", Context())
    assert [r.id for r in rules] == ["cmic-divestment-window-closed"]


def test_listing_date_unknown_when_the_capture_postdates_the_date():
    vtb = _by_name("nonsdn", "VTB BANK PUBLIC JOINT STOCK COMPANY")  # no listing date in the entry
    ctx = Context(role="end_user", purpose="export", item=EAR99_US, dates_required=True, capture="us-ofac-nonsdn 2025-12")
    sdn = _by_name("sdn", "BANK SADERAT IRAN")
    rule = determine(sdn, "2018-01-01", ctx)[0]
    assert rule.consequence == "review" and "listing date unknown" in rule.notes[-1] and "2025-12" in rule.notes[-1]
    assert all(r.consequence == "review" for r in determine(vtb, "2018-01-01", ctx))


def test_a_user_list_entry_gets_the_default_review_rule():
    entry = Entity(id="my-blocklist-acme", schema="Company", properties={"name": ["ACME Trading"]})
    rules = determine(("my-blocklist", entry), "2024-01-01")
    assert [(r.id, r.consequence) for r in rules] == [("unmapped-source", "review")]
    assert "my-blocklist" in rules[0].text


def test_a_hit_needs_a_store_and_bad_dates_are_refused():
    with pytest.raises(InputError, match="store="):
        determine({"entity_id": "us-ofac-sdn-36", "source": "us-ofac-sdn"}, "2024-01-01")
    entry = _by_name("sdn", "BANK SADERAT IRAN")
    with pytest.raises(InputError, match="expected YYYY-MM-DD"):
        determine(entry, "1 March 2020")


def test_rule_dict_has_the_documented_keys():
    entry = _entries("csl")["us-trade-csl-EL-5286fb429291a271"]
    data = determine(entry, "2020-03-01", EXPORT_TO)[0].to_dict()
    assert {"source", "rule", "citation", "license_requirement", "review_policy", "consequence", "list"} <= set(data)
    assert data["list"] == "EL"
