"""Every row of data/rules/ loads, carries a citation, and fires on an entry it matches."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from clearance.errors import InputError
from clearance.model import Entity
from clearance.rules import Context, Item, default_rules, determine, load_rules
from clearance.rules.schema import rules_dir

BOOK = default_rules()
LISTING_DATE, EFFECTIVE, DIVESTMENT = date(2000, 1, 1), date(2001, 1, 1), date(2002, 1, 1)
ITEMS = {"ear99": Item(eccn="EAR99", us_origin=True), "eccn": Item(eccn="5A002", us_origin=True), "itar": Item(eccn="USML XI(c)", itar=True), "unclassified": Item(us_origin=True)}


def _entity_for(row) -> tuple[str, Entity]:
    """A synthetic entry that the row's first clause matches (and no more specific row, for fallbacks)."""
    clause = row.match[0]
    source = clause.source[0]
    entity = Entity(id=f"{source}-test-{row.id}", schema="Company")
    entity.add("name", "Test Huawei Example Co" if clause.name_contains else "Test Example Trading Co")
    if clause.lists:
        entity.add("listName", clause.lists[0])
    elif getattr(row, "fallback", False) and source == "us-trade-csl":
        entity.add("listName", "ZZZ")
    if clause.program:
        entity.add("program", clause.program[0].replace("*", "EO13959"))
    elif getattr(row, "fallback", False):
        entity.add("program", "NO-SUCH-PROGRAM")
    for notice in clause.federal_register[:1]:
        entity.add("federalRegisterNotice", notice)
    entity.add("licenseRequirement", "For all items subject to the EAR.")
    entity.add("licensePolicy", "Presumption of denial.")
    entity.add("listingDate", LISTING_DATE.isoformat())
    entity.add("effectiveDate", EFFECTIVE.isoformat())
    entity.add("divestmentDate", DIVESTMENT.isoformat())
    return source, entity


def _context_for(row, relies_on=()) -> Context:
    return Context(
        role=row.roles[0] if getattr(row, "roles", None) else "end_user",
        purpose=row.purposes[0] if getattr(row, "purposes", None) else "export",
        item=ITEMS[row.items[0]] if getattr(row, "items", None) else ITEMS["ear99"],
        relies_on=frozenset(relies_on),
    )


def _date_for(row) -> date:
    dates = {"effectiveDate": EFFECTIVE, "divestmentDate": DIVESTMENT, "listingDate": LISTING_DATE}
    low = max(d for d in (row.effective_from, dates.get(getattr(row, "entry_from", None) or ""), LISTING_DATE) if d)
    return low + timedelta(days=1) if getattr(row, "entry_until", None) is None or low + timedelta(days=1) < dates[row.entry_until] else low


def test_rule_files_load_with_unique_ids_and_citations():
    book = load_rules()
    ids = [r.id for r in [*book.rules, *book.relief]]
    assert len(ids) == len(set(ids))
    assert all(r.citation.strip() and r.reviewed for r in [*book.rules, *book.relief])
    covered = {c.source[0] for r in book.rules for c in r.match}
    assert covered >= {"us-trade-csl", "us-bis-dpl", "us-ofac-sdn", "us-ofac-nonsdn", "un-sc", "us-covered"}


@pytest.mark.parametrize("row", [r for r in BOOK.rules if r.kind == "listing"], ids=lambda r: r.id)
def test_every_listing_rule_fires_on_an_entry_it_matches(row):
    source, entity = _entity_for(row)
    on = _date_for(row)
    rules = determine((source, entity), on, _context_for(row), rules=BOOK)
    fired = {r.id: r for r in rules}
    assert row.id in fired, f"{row.id} did not fire on {on}: got {sorted(fired)}"
    rule = fired[row.id]
    assert rule.citation and rule.text and "{" not in rule.text
    assert rule.consequence == row.consequence


@pytest.mark.parametrize("row", [r for r in BOOK.rules if r.effective_from], ids=lambda r: r.id)
def test_a_rule_before_its_effective_date_only_explains(row):
    source, entity = _entity_for(row)
    before = row.effective_from - timedelta(days=1)
    rules = {r.id: r for r in determine((source, entity), before, _context_for(row), rules=BOOK)}
    assert rules[row.id].consequence == "info"
    assert row.effective_from.isoformat() in rules[row.id].text


@pytest.mark.parametrize("relief", BOOK.relief, ids=lambda r: r.id)
def test_every_relief_row_applies_inside_its_dates_when_claimed(relief):
    target = BOOK.rule(relief.applies_to[0])
    source, entity = _entity_for(relief)
    entity.add("startDate", LISTING_DATE.isoformat())
    inside = relief.effective_from
    claimed = {r.id: r for r in determine((source, entity), inside, _context_for(target, [relief.family]), rules=BOOK)}
    applied = [x for x in claimed[target.id].relief if x["applied"]]
    assert applied and applied[0]["family"] == relief.family
    assert claimed[target.id].consequence == relief.effect
    unclaimed = {r.id: r for r in determine((source, entity), inside, _context_for(target), rules=BOOK)}
    assert unclaimed[target.id].consequence == target.consequence
    assert any(x["id"] == relief.id and not x["applied"] for x in unclaimed[target.id].relief)


def test_ownership_rows_are_data_for_the_ownership_module_not_attached():
    row = BOOK.rule("sdn-50-percent")
    assert row.kind == "ownership" and "50 percent" in row.text
    source, entity = _entity_for(row)
    assert "sdn-50-percent" not in {r.id for r in determine((source, entity), "2024-01-01", rules=BOOK)}


def _copy_rules(tmp_path: Path) -> Path:
    for name in ("lists.yaml", "relief.yaml"):
        (tmp_path / name).write_text((rules_dir() / name).read_text(encoding="utf-8"), encoding="utf-8")
    return tmp_path


def test_a_row_without_citation_is_refused_naming_row_and_field(tmp_path):
    folder = _copy_rules(tmp_path)
    text = (folder / "lists.yaml").read_text(encoding="utf-8")
    text = text.replace('  citation: "15 CFR 744.11; Supplement No. 4 to 15 CFR part 744"\n', "", 1)
    (folder / "lists.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=r"row 1 \(el-export-recipient\), field 'citation'"):
        load_rules(folder)


def test_relief_naming_an_unknown_rule_is_refused(tmp_path):
    folder = _copy_rules(tmp_path)
    text = (folder / "relief.yaml").read_text(encoding="utf-8").replace("applies_to: [el-export-recipient]", "applies_to: [no-such-rule]", 1)
    (folder / "relief.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match="unknown rule 'no-such-rule'"):
        load_rules(folder)


def test_dates_out_of_order_are_refused(tmp_path):
    folder = _copy_rules(tmp_path)
    text = (folder / "relief.yaml").read_text(encoding="utf-8").replace("effective_to: 2019-08-19", "effective_to: 2019-01-19", 1)
    (folder / "relief.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match="huawei-tgl-2019-05.*effective_to"):
        load_rules(folder)
