"""OFAC legacy CSV parser: the real bundled captures, the remarks language,
and the errors a broken file must produce."""

from __future__ import annotations

import csv
import io
import logging
import shutil
import time
from pathlib import Path

import pytest

from clearance.errors import SourceError
from clearance.model import SCHEMATA, Entity
from clearance.sources import ofac

ROOT = Path(__file__).resolve().parents[1]
LISTS = ROOT / "data" / "lists"
SDN_2019 = LISTS / "us-ofac-sdn" / "2019-01"
SDN_2021 = LISTS / "us-ofac-sdn" / "2021-07"
CONS_2025 = LISTS / "us-ofac-nonsdn" / "2025-12"


def _distinct_ent_nums(path: Path) -> int:
    """Counted independently of the parser, with the csv module."""
    text = path.read_bytes().decode("utf-8").replace("\x1a", "")
    return len({row[0] for row in csv.reader(io.StringIO(text, newline="")) if row and row[0].strip()})


@pytest.fixture(scope="module")
def sdn2021() -> dict[str, Entity]:
    return {e.id: e for e in ofac.parse_sdn(SDN_2021, "us-ofac-sdn")}


@pytest.fixture(scope="module")
def sdn2019() -> dict[str, Entity]:
    return {e.id: e for e in ofac.parse_sdn(SDN_2019, "us-ofac-sdn")}


@pytest.fixture(scope="module")
def cons2025() -> dict[str, Entity]:
    return {e.id: e for e in ofac.parse_cons(CONS_2025, "us-ofac-nonsdn")}


# --- the real captures ------------------------------------------------------------
def test_counts_match_independent_count(sdn2021, sdn2019, cons2025):
    assert len(sdn2021) == _distinct_ent_nums(SDN_2021 / "sdn.csv") == 8976
    assert len(sdn2019) == _distinct_ent_nums(SDN_2019 / "sdn.csv") == 7379
    assert len(cons2025) == _distinct_ent_nums(CONS_2025 / "cons_prim.csv") == 442


def test_every_entity_is_well_formed(sdn2021, cons2025):
    for entity in [*sdn2021.values(), *cons2025.values()]:
        assert entity.schema in SCHEMATA
        assert entity.first("name")
        assert entity.get("program"), entity.id
        allowed = ofac.VALID_PROPERTIES[entity.schema] | set(ofac.LISTING_PROPERTIES)
        assert set(entity.properties) <= allowed, entity.id


def test_schemata(sdn2021):
    counts = {s: sum(e.schema == s for e in sdn2021.values()) for s in SCHEMATA}
    assert counts["Person"] == 4620 and counts["Vessel"] == 406 and counts["Airplane"] == 277
    assert counts["Company"] + counts["Organization"] == 3673


def test_hikvision(cons2025):
    e = cons2025["us-ofac-nonsdn-30946"]
    assert e.schema == "Company"
    assert e.get("name") == ["HANGZHOU HIKVISION DIGITAL TECHNOLOGY CO., LTD."]
    assert e.get("program") == ["CMIC-EO13959"]
    assert e.get("isinCode") == ["CNE100000PM8"]
    assert e.get("ticker") == ["002415 CN"]
    assert e.get("uscCode") == ["91330000733796106P"]
    assert e.get("effectiveDate") == ["2021-08-02"]
    assert e.get("divestmentDate") == ["2022-06-03"]
    assert e.get("listingDate") == ["2021-06-03"]
    assert e.get("issuerName") == ["Hangzhou Hikvision Digital Technology"]
    assert e.get("alias") == ["HIKVISION", "HANGZHOU HIKVISION DIGITAL TECHNOLOGY"]
    assert e.get("address") == ["555, Qianmo Road, Binjiang District, Hangzhou 310051, China"]
    assert e.get("country") == ["China"]
    assert e.get("notes") == ["Target Type: Public Company"]


def test_xinjiang_production_and_construction_corps(sdn2021):
    e = sdn2021["us-ofac-sdn-29299"]
    assert e.get("name") == ["XINJIANG PRODUCTION AND CONSTRUCTION CORPS"]
    assert e.schema == "Organization"  # "CORPS" is not the legal form "CORP"
    assert e.get("program") == ["GLOMAG"]
    assert e.get("linkedTo") == ["CHEN, Quanguo"]
    linked = [x for x in sdn2021.values() if "XINJIANG PRODUCTION AND CONSTRUCTION CORPS" in x.get("linkedTo")]
    assert {x.first("name") for x in linked} >= {"SUN, Jinlong", "PENG, Jiarui"}


def test_person(sdn2021):
    e = sdn2021["us-ofac-sdn-7203"]
    assert e.schema == "Person"
    assert e.get("name") == ["AOUADI, Mohamed Ben Belgacem"]
    assert e.get("lastName") == ["AOUADI"] and e.get("firstName") == ["Mohamed Ben Belgacem"]
    assert e.get("birthDate") == ["1974-12-11"]
    assert e.get("birthPlace") == ["Tunisia"]
    assert e.get("nationality") == ["Tunisia"]
    assert e.get("passportNumber") == ["L 191609"]
    assert "Passport: L 191609 issued 28 Feb 1996 expires 27 Feb 2001" in e.get("notes")
    assert e.get("taxNumber") == ["DAOMMD74T11Z352Z"]
    assert e.get("program") == ["SDGT"]


def test_vessel(sdn2021):
    e = sdn2021["us-ofac-sdn-15726"]
    assert e.schema == "Vessel"
    assert e.get("imoNumber") == ["9077850"]
    assert e.get("flag") == ["Liberia"] and e.get("type") == ["Crude Oil Tanker"]
    assert e.get("previousName") == ["GLAROS"]
    with_tonnage = [v for v in sdn2021.values() if v.get("grossRegisteredTonnage")]
    assert with_tonnage and all(t.isdigit() for v in with_tonnage for t in v.get("grossRegisteredTonnage"))


def test_airplane(sdn2021):
    e = sdn2021["us-ofac-sdn-15467"]
    assert e.schema == "Airplane"
    assert e.get("buildDate") == ["1987-04-17"]
    assert e.get("serialNumber") == ["414"] and e.get("model") == ["A300B4-603"]
    assert "Aircraft Operator MAHAN AIR" in e.get("notes")  # operator is an entity link in FtM


def test_remarks_continue_in_comments(sdn2021, cons2025):
    # sdn.csv Remarks end "... Linked To: PROMO RAI"; the comments row starts "Z S.A.S.; ...".
    e = sdn2021["us-ofac-sdn-12300"]
    assert "PROMO RAIZ S.A.S." in e.get("linkedTo")
    assert "R D I S.A." in e.get("linkedTo")  # last clause, only in sdn_comments.csv
    assert len(e.get("linkedTo")) == 25
    # "... Regulations, sections 510.201 and 510.210; P" + "hone Number 8613314257947; ..."
    e = sdn2021["us-ofac-sdn-28264"]
    assert e.get("phone") == ["8613314257947", "8618004121000"]
    assert e.get("linkedTo") == ["LAZARUS GROUP"]
    assert sdn2021["us-ofac-sdn-28263"].get("alias") == ["tianyinyin0404", "snowsjohn"]
    e = cons2025["us-ofac-nonsdn-30930"]
    assert e.get("uscCode") == ["91110000710934369E"]
    assert "CCCC" in e.get("alias")


def test_orphan_comments_are_skipped_with_a_warning(sdn2019, caplog):
    # The published 2019-01 sdn_comments.csv continues 10 entries of a later list.
    with caplog.at_level(logging.WARNING, logger="clearance.sources.ofac"):
        count = sum(1 for _ in ofac.parse_sdn(SDN_2019, "us-ofac-sdn"))
    assert count == 7379
    assert "skipped 10 rows" in caplog.text and "sdn_comments.csv" in caplog.text
    assert "PROMO RAIZ S.A.S." in sdn2019["us-ofac-sdn-12300"].get("linkedTo")


def test_program_lists_are_split(sdn2021, cons2025):
    assert sdn2021["us-ofac-sdn-15467"].get("program") == ["SDGT", "NPWMD", "IFSR"]
    programs = {p for e in [*sdn2021.values(), *cons2025.values()] for p in e.get("program")}
    assert not any("[" in p or "]" in p for p in programs)
    assert {"CAATSA - RUSSIA", "UKRAINE-EO13662", "RUSSIA-EO14024"} <= programs


def test_ids_and_source_url(sdn2021):
    e = sdn2021["us-ofac-sdn-36"]
    assert e.get("name") == ["AEROCARIBBEAN AIRLINES"]
    assert e.get("address") == ["Havana, Cuba"]
    assert e.get("sourceUrl") == [ofac.SOURCE_URL]


def test_parse_is_fast():
    start = time.perf_counter()
    count = sum(1 for _ in ofac.parse_sdn(SDN_2021, "us-ofac-sdn"))
    assert count == 8976
    assert time.perf_counter() - start < 2.0


def test_valid_properties_agree_with_followthemoney():
    from followthemoney import model

    emitted = set().union(*ofac.VALID_PROPERTIES.values())
    for schema, props in ofac.VALID_PROPERTIES.items():
        ftm = model.get(schema).properties
        usable = {p for p in emitted if p in ftm and ftm[p].type.name != "entity"}
        assert props == usable, schema
    for prop in ofac.REMARK_KEYS.values():
        assert prop is None or prop in emitted or prop in ofac.LISTING_PROPERTIES, prop


# --- the remarks language -----------------------------------------------------------
def test_parse_remarks_alt_repeats():
    assert ofac.parse_remarks("DOB 1960; alt. DOB 1961; Alt. POB: Keren, Eritrea") == [
        ("DOB", "1960"), ("DOB", "1961"), ("POB", "Keren, Eritrea")]


def test_parse_remarks_quoted_aliases():
    assert ofac.parse_remarks("a.k.a. 'BNC'.") == [("a.k.a.", "BNC")]
    assert ofac.parse_remarks("a.k.a. 'X; Y'; f.k.a. 'O'NEIL TRADING'; n.k.a. 'Z'.") == [
        ("a.k.a.", "X; Y"), ("f.k.a.", "O'NEIL TRADING"), ("n.k.a.", "Z")]


def test_parse_remarks_unknown_keys_are_kept():
    text = "Cedula No. 123; Digital Currency Address - XBT 1abc; Effective Date (EO 14024 Directive 3): 26 Mar 2022."
    assert ofac.parse_remarks(text) == [
        ("Cedula No.", "123"), ("", "Digital Currency Address - XBT 1abc"),
        ("Effective Date (EO 14024 Directive 3)", "26 Mar 2022")]
    facts = ofac.remark_facts(ofac.parse_remarks("ICTY indictee at large; Colonel."))
    assert [(f.prop, f.value) for f in facts] == [("notes", "ICTY indictee at large"), ("notes", "Colonel")]


def test_parse_remarks_trailing_period():
    pairs = ofac.parse_remarks("Linked To: HIZBALLAH; Linked To: GALAPAGOS S.A.; Linked To: CO INC.; "
                               "Email adelb@shabakah.net.sa.; Linked To: CHEN, Quanguo.")
    assert [v for _, v in pairs] == ["HIZBALLAH", "GALAPAGOS S.A.", "CO INC.", "adelb@shabakah.net.sa",
                                     "CHEN, Quanguo"]


def test_parse_remarks_empty():
    assert ofac.parse_remarks("") == []
    assert ofac.parse_remarks(" ; ;. ") == []


def test_parse_remarks_semicolon_without_space():
    assert ofac.parse_remarks("nationality Palestinian;arrested 23 Apr 2002") == [
        ("nationality", "Palestinian"), ("", "arrested 23 Apr 2002")]


def test_remark_facts_mapping():
    text = ("Gender Male; Passport A1234 (Iran) expires 2020; Vessel Registration Identification IMO 9187629; "
            "Legal Entity Number 851683897 (Netherlands); Legal Entity Number 485100GBI2SE0KIX8T70; "
            "Unified Social Credit Code (USCC) 91110000710934369E (China); Target Type Government Entity")
    facts = [(f.prop, f.value) for f in ofac.remark_facts(ofac.parse_remarks(text))]
    assert facts == [
        ("gender", "male"), ("passportNumber", "A1234"), ("notes", "Passport: A1234 (Iran) expires 2020"),
        ("imoNumber", "9187629"), ("registrationNumber", "851683897"), ("leiCode", "485100GBI2SE0KIX8T70"),
        ("uscCode", "91110000710934369E"), ("notes", "Target Type: Government Entity")]


@pytest.mark.parametrize("text, expected", [
    ("02 Aug 1962", ["1962-08-02"]), ("1962", ["1962"]), ("Aug 1962", ["1962-08"]),
    ("circa 1962", ["1962"]), ("1962 to 1964", ["1962", "1964"]), ("circa 1962-1964", ["1962", "1964"]),
    ("01 Jan 1950 to 31 Dec 1951", ["1950-01-01", "1951-12-31"]), ("31 Feb 1962", []), ("unknown", []),
])
def test_normalize_dates(text, expected):
    assert ofac.normalize_dates(text) == expected


def test_dob_range_keeps_the_original_as_note():
    facts = [(f.prop, f.value) for f in ofac.remark_facts([("DOB", "circa 1962")])]
    assert facts == [("birthDate", "1962"), ("notes", "DOB: circa 1962")]


def test_properties_invalid_for_the_schema_become_notes(tmp_path):
    folder = _copy(CONS_2025, tmp_path)
    _append(folder / "cons_prim.csv", '1,"DOE, John","individual","X",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,'
            '"ISIN US0000000001; Issuer Name Foo; Target Type Person."')
    e = {e.id: e for e in ofac.parse_cons(folder, "t")}["t-1"]
    assert e.schema == "Person" and "isinCode" not in e.properties
    assert "ISIN: US0000000001" in e.get("notes") and e.get("issuerName") == ["Foo"]


@pytest.mark.parametrize("name, remarks, schema", [
    ("ACME TRADING CO., LTD.", "", "Company"), ("FOO S.A. DE C.V.", "", "Company"), ("BAR LLC", "", "Company"),
    ("HIZBALLAH", "", "Organization"), ("XINJIANG PRODUCTION AND CONSTRUCTION CORPS", "", "Organization"),
    ("MINISTRY OF FOO", "Tax ID No. 123 (Russia)", "Company"), ("MINISTRY OF FOO", "ISIN RU000", "Company"),
])
def test_guess_schema(name, remarks, schema):
    assert ofac.guess_schema(None, name, ofac.remark_facts(ofac.parse_remarks(remarks))) == schema
    assert ofac.guess_schema("individual", name, []) == "Person"
    assert ofac.guess_schema("ship", name, []) is None


# --- the file set and bad input -------------------------------------------------------
def _copy(src: Path, tmp_path: Path) -> Path:
    folder = tmp_path / src.name
    shutil.copytree(src, folder)
    return folder


def _rewrite(path: Path, line: int, text: str) -> None:
    lines = path.read_bytes().split(b"\n")
    lines[line - 1] = text.encode("utf-8") + b"\r"
    path.write_bytes(b"\n".join(lines))


def _append(path: Path, text: str) -> None:
    """A new last row, before the file's end-of-file marker."""
    path.write_bytes(path.read_bytes().rstrip(b"\x1a") + text.encode("utf-8") + b"\r\n\x1a")


def _error(folder: Path, parse=ofac.parse_sdn) -> str:
    with pytest.raises(SourceError) as info:
        list(parse(folder, "t"))
    return str(info.value)


def test_files():
    assert [p.name for p in ofac.sdn_files(SDN_2021)] == ["sdn.csv", "add.csv", "alt.csv", "sdn_comments.csv"]
    assert [p.name for p in ofac.cons_files(CONS_2025)] == [
        "cons_prim.csv", "cons_add.csv", "cons_alt.csv", "cons_comments.csv"]
    assert ofac.sdn_files(SDN_2021 / "sdn.csv") == ofac.sdn_files(SDN_2021)


def test_missing_alt_file(tmp_path):
    folder = _copy(SDN_2021, tmp_path)
    (folder / "alt.csv").unlink()
    with pytest.raises(SourceError, match=r"alt\.csv: missing file of the OFAC SDN set; expected sdn\.csv"):
        ofac.sdn_files(folder)
    assert "alt.csv" in _error(folder)


def test_missing_comments_file_is_allowed(tmp_path):
    folder = _copy(SDN_2021, tmp_path)
    (folder / "sdn_comments.csv").unlink()
    assert [p.name for p in ofac.sdn_files(folder)] == ["sdn.csv", "add.csv", "alt.csv"]
    entities = {e.id: e for e in ofac.parse_sdn(folder, "us-ofac-sdn")}
    assert len(entities) == 8976
    assert "PROMO RAIZ S.A.S." not in entities["us-ofac-sdn-12300"].get("linkedTo")


def test_wrong_column_count(tmp_path):
    folder = _copy(SDN_2021, tmp_path)
    _rewrite(folder / "sdn.csv", 3, '306,"BANCO NACIONAL DE CUBA",-0- ,"CUBA"')
    message = _error(folder)
    assert "sdn.csv" in message and "line 3" in message and "expected 12" in message


def test_non_integer_ent_num(tmp_path):
    folder = _copy(SDN_2021, tmp_path)
    _rewrite(folder / "alt.csv", 2, '17x,57,"aka","AVIA IMPORT",-0- ')
    message = _error(folder)
    assert "alt.csv, line 2, field 'ent_num'" in message and "'17x' is not an integer" in message


def test_duplicate_ent_num(tmp_path):
    folder = _copy(SDN_2021, tmp_path)
    _rewrite(folder / "sdn.csv", 2, '36,"AEROCARIBBEAN AIRLINES",-0- ,"CUBA",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ')
    assert "sdn.csv, line 2: ent_num 36 repeats line 1" in _error(folder)


def test_orphan_address_row(tmp_path):
    folder = _copy(SDN_2021, tmp_path)
    _rewrite(folder / "add.csv", 1, '999999,25,-0- ,"Havana","Cuba",-0- ')
    assert "add.csv, line 1, field 'ent_num': ent_num 999999 not in sdn.csv" in _error(folder)


def test_unknown_types(tmp_path):
    folder = _copy(SDN_2021, tmp_path)
    _rewrite(folder / "alt.csv", 1, '36,12,"xyz","AERO-CARIBBEAN",-0- ')
    assert "alt.csv, line 1, field 'alt_type'" in _error(folder)
    folder = _copy(CONS_2025, tmp_path)
    _append(folder / "cons_prim.csv", '1,"X","ship","X",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ')
    assert "cons_prim.csv, line 443, field 'SDN_Type'" in _error(folder, ofac.parse_cons)


def test_truncated_file(tmp_path):
    folder = _copy(SDN_2021, tmp_path)
    data = (folder / "sdn.csv").read_bytes()
    cut = data.index(b"a.k.a. 'BNC'")  # inside the quoted Remarks of ent 306
    (folder / "sdn.csv").write_bytes(data[:cut])
    message = _error(folder)
    assert "sdn.csv" in message and "line 3" in message


def test_non_utf8_byte(tmp_path):
    folder = _copy(SDN_2021, tmp_path)
    data = (folder / "add.csv").read_bytes()
    (folder / "add.csv").write_bytes(data.replace(b"Havana", b"Hav\xe1na", 1))
    message = _error(folder)
    assert "add.csv, line 1" in message and "0xe1" in message


def test_bom_and_eof_marker_tolerated(tmp_path):
    folder = _copy(CONS_2025, tmp_path)
    prim = folder / "cons_prim.csv"
    prim.write_bytes(b"\xef\xbb\xbf" + prim.read_bytes().rstrip(b"\x1a") + b"\x1a\x1a")
    entities = {e.id: e for e in ofac.parse_cons(folder, "us-ofac-nonsdn")}
    assert len(entities) == 442
    first = prim.read_bytes()[3:].split(b",", 1)[0].decode()
    assert f"us-ofac-nonsdn-{first}" in entities
