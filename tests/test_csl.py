"""trade.gov Consolidated Screening List: real CSV capture, the JSON shapes, bad files."""

from __future__ import annotations

import csv
import json
import time
from collections import Counter
from pathlib import Path

import pytest

from clearance.errors import SourceError
from clearance.sources import csl

ROOT = Path(__file__).resolve().parents[1]
CAPTURE = ROOT / "data" / "lists" / "us-trade-csl" / "2019-12"
CSV_FILE = CAPTURE / "consolidated.csv"
SAMPLE = Path(__file__).resolve().parent / "fixtures" / "csl_sample.json"


@pytest.fixture(scope="module")
def entities() -> list:
    return list(csl.parse(CAPTURE, "us-trade-csl"))


def by_name(entities, name):
    [found] = [e for e in entities if e.first("name") == name]
    return found


def test_every_row_is_one_entity(entities):
    with open(CSV_FILE, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 115
    assert len(entities) == len(rows)
    assert len({e.id for e in entities}) == len(entities)
    assert [e.first("name") for e in entities] == [" ".join(r["name"].split()).replace("\x92", "’") for r in rows]


def test_list_codes_and_schemata(entities):
    assert Counter(e.first("listName") for e in entities) == {
        "SDN": 28, "SSI": 26, "EL": 22, "PLC": 13, "DTC": 10, "DPL": 8, "UVL": 4, "ISN": 3, "CAP": 1,
    }  # fmt: skip
    assert Counter(e.schema for e in entities) == {"LegalEntity": 47, "Organization": 46, "Person": 20, "Vessel": 2}


def test_parse_is_fast():
    started = time.perf_counter()
    list(csl.parse(CSV_FILE, "us-trade-csl"))
    assert time.perf_counter() - started < 2.0


def test_entity_list_entry(entities):
    entry = by_name(entities, "32 Group China Ltd.")
    assert entry.schema == "LegalEntity"
    assert entry.id.startswith("us-trade-csl-EL-")
    assert entry.get("listName") == ["EL"]
    assert "Source list: Entity List (EL) - Bureau of Industry and Security" in entry.get("notes")
    assert entry.get("licenseRequirement") == ["For all items subject to the EAR. (See §744.11 of the EAR)"]
    assert entry.get("licensePolicy") == ["Presumption of denial."]
    assert entry.get("federalRegisterNotice") == ["80 FR 69852"]
    assert entry.get("startDate") == ["2015-11-12"]
    assert entry.get("address") == [
        "Room 1905, 19/F, Nam Wo Hong Bldg., 148 Wing Lok Street, Sheung Wang, Hong Kong, Sheung Wang, HK",
        "Room 1119, 11/F, Block B, Yau Tong Industrial City, 17 Ko Fai Road, Yau Tong, Kowloon, Hong Kong, Kowloon, HK",
    ]
    assert entry.get("country") == ["hk"]
    assert entry.get("program") == []


def test_alt_names_and_ids(entities):
    person = by_name(entities, "AKBARI, Mohammadreza Ali")
    assert person.id == "us-trade-csl-SDN-27271"
    assert person.schema == "Person"
    assert person.get("alias") == ["AKBARI, Ali", "ALI-AKBARI, Mohammadreza", "ALIAKBARI, Mohammad Reza Abbas"]
    assert person.get("passportNumber") == ["21795618"]
    assert person.get("birthDate") == ["1967-10-31"]
    assert person.get("linkedTo") == ["QASEMI, Rostam"]
    assert person.get("program") == ["SDGT"]

    company = by_name(entities, "200G PSA HOLDINGS LLC")
    assert company.get("taxNumber") == ["80-0890696"]
    assert company.get("address") == ["80 SW 8th Street Suite 2000, Miami, FL, 33130, US"]

    transneft = next(e for e in entities if "TRANSNEFT" in e.get("alias"))
    assert transneft.get("registrationNumber") == ["1027700049486", "00044463"]
    assert transneft.get("taxNumber") == ["7706061801"]
    assert transneft.get("email") == ["transneft@ak.transneft.ru"]
    assert transneft.get("website") == ["www.transneft.ru"]
    assert "Executive Order 13662 Directive Determination: Subject to Directive 2" in transneft.get("notes")

    cetc = next(e for e in entities if e.first("name") == "54th Research Institute of China")
    assert cetc.get("alias")[-1] == "Shijiazhuang Communication Observation and Control Technology Institute."


def test_vessel_and_person_fields(entities):
    vessel = by_name(entities, "ADRIAN DARYA 1")
    assert vessel.schema == "Vessel"
    assert vessel.get("imoNumber") == ["IMO 9116412"]
    assert vessel.get("flag") == ["ir"]
    assert vessel.get("pastFlags") == ["pa"]
    assert vessel.get("type") == ["Crude Oil Tanker"]
    assert vessel.get("alias") == ["GRACE 1"]
    assert by_name(entities, "AL MAZIDIH, Ghazy Fezza Hishan").get("birthDate") == ["1974", "1975"]
    minister = by_name(entities, "AHED AL-ZOUBI, Omran")
    assert minister.get("position") == ["Minister of Information"]
    assert minister.get("birthPlace") == ["Damascus, Syria"]


def test_dpl_rows_and_repaired_characters(entities):
    dpl_row = by_name(entities, "ADRIAN MANUEL HERNANDEZ")
    assert dpl_row.get("action") == ["FR NOTICE ADDED"]
    assert dpl_row.get("standardOrder") == ["Y"]
    assert dpl_row.get("endDate") == ["2020-10-13"]
    assert dpl_row.get("federalRegisterNotice") == ["82 F.R. 48792 10/20/2017"]
    assert by_name(entities, "Gui’an New District Huawei Investment Co., Ltd., Guiyang, Guizhou")


# -- JSON -------------------------------------------------------------------


def test_json_sample():
    assert csl.looks_like_csl_json(SAMPLE)
    hikvision, sdn, denied = csl.parse(SAMPLE, "us-trade-csl")
    assert hikvision.get("name") == ["Hangzhou Hikvision Digital Technology Co., Ltd."]
    assert hikvision.get("alias") == ["Hikvision", "Hangzhou Hikvision Digital Technology Company Limited"]
    assert hikvision.get("listName") == ["EL"]
    assert hikvision.get("federalRegisterNotice") == ["84 FR 54002"]
    assert hikvision.get("startDate") == ["2019-10-09"]
    assert hikvision.get("licenseRequirement") == ["For all items subject to the EAR. (See §744.11 of the EAR)."]
    assert hikvision.get("licensePolicy") == ["Presumption of denial."]
    assert hikvision.get("address") == ["No. 555 Qianmo Road, Binjiang District, Hangzhou, Zhejiang, 310051, CN"]
    assert hikvision.get("country") == ["cn"]
    assert sdn.id == "us-trade-csl-SDN-27271" and sdn.get("passportNumber") == ["21795618"]
    assert denied.get("action") == ["FR NOTICE ADDED"]


def test_json_and_csv_give_the_same_ids(entities):
    _, sdn, denied = csl.parse(SAMPLE, "us-trade-csl")
    assert sdn.id == by_name(entities, "AKBARI, Mohammadreza Ali").id
    assert denied.id == by_name(entities, "ADRIAN MANUEL HERNANDEZ").id


def test_bare_list_and_json_lines(tmp_path):
    records = json.loads(SAMPLE.read_text(encoding="utf-8"))["results"]
    bare = tmp_path / "bare.json"
    bare.write_text(json.dumps(records), encoding="utf-8")
    lines = tmp_path / "lines.jsonl"
    lines.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    lines_json = tmp_path / "lines.json"
    lines_json.write_text(lines.read_text(encoding="utf-8"), encoding="utf-8")
    expected = [e.to_dict() for e in csl.parse(SAMPLE, "s")]
    for path in (bare, lines, lines_json):
        assert csl.looks_like_csl_json(path)
        assert [e.to_dict() for e in csl.parse(path, "s")] == expected


def test_sniff_rejects_ftm(tmp_path):
    ftm = tmp_path / "entities.json"
    ftm.write_text('{"id": "x", "schema": "Company", "properties": {"name": ["ACME"]}}\n', encoding="utf-8")
    assert not csl.looks_like_csl_json(ftm)
    assert not csl.looks_like_csl_json(tmp_path / "missing.json")


def _error(path: Path) -> SourceError:
    with pytest.raises(SourceError) as info:
        list(csl.parse(path, "us-trade-csl"))
    assert "\n" not in str(info.value) and path.name in str(info.value)
    return info.value


def test_malformed_json_names_the_line(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"results": [\n  {"source": "Entity List (EL)", "name": "X",}\n]}\n', encoding="utf-8")
    error = _error(path)
    assert error.line == 2 and "malformed JSON" in str(error) and "expected" in str(error)


def test_malformed_json_lines(tmp_path):
    path = tmp_path / "broken.jsonl"
    path.write_text('{"source": "Entity List (EL)", "name": "X", "programs": []}\n{"source": \n', encoding="utf-8")
    assert _error(path).line == 2


def test_json_wrong_shapes(tmp_path):
    path = tmp_path / "scalar.json"
    path.write_text("42", encoding="utf-8")
    assert "expected" in str(_error(path))
    path = tmp_path / "noname.json"
    path.write_text('[{"source": "Entity List (EL) - BIS", "name": ""}]', encoding="utf-8")
    error = _error(path)
    assert "record 1" in str(error) and error.field == "name"
    path = tmp_path / "empty.json"
    path.write_bytes(b"")
    assert "empty" in str(_error(path))


# -- CSV bad input ----------------------------------------------------------


def test_csv_wrong_header(tmp_path):
    path = tmp_path / "consolidated.csv"
    path.write_text("source,name\nEntity List (EL),X\n", encoding="utf-8")
    error = _error(path)
    assert error.line == 1 and "expected" in str(error)


def test_csv_wrong_column_count(tmp_path):
    lines = CSV_FILE.read_text(encoding="utf-8").splitlines()
    path = tmp_path / "consolidated.csv"
    path.write_text("\n".join([lines[0], lines[1], "Entity List (EL),,,,X"]) + "\n", encoding="utf-8")
    error = _error(path)
    assert error.line == 3 and "5 fields; expected 28" in str(error)


def test_csv_bom_tolerated_and_non_utf8_refused(tmp_path):
    lines = CSV_FILE.read_text(encoding="utf-8").splitlines()
    path = tmp_path / "consolidated.csv"
    path.write_bytes(b"\xef\xbb\xbf" + "\n".join(lines[:3]).encode("utf-8"))
    assert len(list(csl.parse(path, "s"))) == 2
    path.write_bytes("\n".join(lines[:3]).encode("utf-8") + b"\nEntity List (EL),,,,Caf\xe9" + b"," * 23 + b"\n")
    error = _error(path)
    assert error.line == 4 and "0xe9" in str(error)


def test_unknown_type(tmp_path):
    path = tmp_path / "odd.json"
    path.write_text('[{"source": "Entity List (EL) - BIS", "name": "X", "type": "Spaceship"}]', encoding="utf-8")
    assert _error(path).field == "type"
