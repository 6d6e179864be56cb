"""A firm's own block list in CSV/TSV and YAML: mapping, strictness, YAML safety."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from clearance.errors import SourceError
from clearance.sources import userlist

CSV_TEXT = """name,aliases,country,schema,identifiers,note,id
Hangzhou Hikvision Digital Technology Co.,Hikvision|HIKVISION DIGITAL,China,Company,isin:CNE100000PM8; uscc:91330000733796106P,camera maker,hik
Jane Roe,J. Roe; Janie Roe,US,person,passport:X1234567,,
Ever Given,,Panama,Vessel,imo:9811000,,
ACME Trading,,,,tax:12-3456789; reg:HRB 12345,,
"""

YAML_TEXT = """
- name: Hangzhou Hikvision Digital Technology Co.
  aliases: [Hikvision, HIKVISION DIGITAL]
  country: cn
  identifiers:
    isin: CNE100000PM8
    uscc: [91330000733796106P]
  note: camera maker
  id: hik
- name: Jane Roe
  type: Person
  identifiers: ["passport:0123", "national_id: 987"]
- name: ACME Trading
"""


def _write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


def _error(path: Path) -> SourceError:
    with pytest.raises(SourceError) as info:
        list(userlist.parse(path, "blocklist"))
    assert "\n" not in str(info.value) and path.name in str(info.value)
    return info.value


def test_csv_mapping(tmp_path):
    hik, jane, ship, acme = userlist.parse(_write(tmp_path, "list.csv", CSV_TEXT), "blocklist")
    assert hik.id == "blocklist-hik" and hik.schema == "Company"
    assert hik.get("alias") == ["Hikvision", "HIKVISION DIGITAL"]
    assert hik.get("country") == ["cn"]
    assert hik.get("isinCode") == ["CNE100000PM8"]
    assert hik.get("uscCode") == ["91330000733796106P"]
    assert hik.get("notes") == ["camera maker"]
    assert jane.id == "blocklist-jane-roe" and jane.schema == "Person"
    assert jane.get("alias") == ["J. Roe", "Janie Roe"]
    assert jane.get("passportNumber") == ["X1234567"]
    assert ship.schema == "Vessel" and ship.get("imoNumber") == ["9811000"] and ship.get("country") == ["pa"]
    assert acme.schema == "LegalEntity"
    assert acme.get("taxNumber") == ["12-3456789"] and acme.get("registrationNumber") == ["HRB 12345"]


def test_yaml_mapping_keeps_identifiers_as_text(tmp_path):
    hik, jane, acme = userlist.parse(_write(tmp_path, "list.yaml", YAML_TEXT), "blocklist")
    assert hik.id == "blocklist-hik" and hik.schema == "Company"
    assert hik.get("alias") == ["Hikvision", "HIKVISION DIGITAL"]
    assert hik.get("uscCode") == ["91330000733796106P"]
    assert jane.get("passportNumber") == ["0123"]  # not the integer 123 (or octal 83)
    assert jane.get("idNumber") == ["987"]
    assert acme.schema == "LegalEntity" and acme.id == "blocklist-acme-trading"


def test_isin_without_schema_makes_a_company(tmp_path):
    [entity] = userlist.parse(_write(tmp_path, "l.csv", "name,identifiers\nChina Mobile,isin:HK0941009539\n"), "b")
    assert entity.schema == "Company"


def test_tsv_and_bom(tmp_path):
    path = _write(tmp_path, "list.tsv", b"\xef\xbb\xbfname\tcountry\r\nACME\tDE\r\n")
    [entity] = userlist.parse(path, "b")
    assert entity.get("name") == ["ACME"] and entity.get("country") == ["de"]


def test_derived_duplicate_ids_are_numbered(tmp_path):
    entities = list(userlist.parse(_write(tmp_path, "l.csv", "name,country\nJohn Smith,US\nJohn Smith,GB\n"), "b"))
    assert [e.id for e in entities] == ["b-john-smith", "b-john-smith-2"]


# -- strictness -------------------------------------------------------------


def test_unknown_column(tmp_path):
    error = _error(_write(tmp_path, "l.csv", "name,alias\nACME,Acme Inc\n"))
    assert "'alias'" in str(error) and "accepted columns: name, aliases" in str(error) and error.line == 1


def test_unknown_yaml_key(tmp_path):
    error = _error(_write(tmp_path, "l.yaml", "- name: ACME\n  contry: DE\n"))
    assert "'contry'" in str(error) and error.line == 2


def test_missing_name(tmp_path):
    error = _error(_write(tmp_path, "l.csv", "name,country\nACME,DE\n,FR\n"))
    assert error.line == 3 and error.field == "name" and "expected" in str(error)
    assert _error(_write(tmp_path, "l.yaml", "- name: ACME\n- country: FR\n")).line == 2
    assert "'name' column" in str(_error(_write(tmp_path, "n.csv", "country\nFR\n")))


def test_unknown_identifier_type(tmp_path):
    error = _error(_write(tmp_path, "l.csv", "name,identifiers\nACME,duns:123\n"))
    assert "'duns'" in str(error) and "isin" in str(error) and error.line == 2
    assert "type:value" in str(_error(_write(tmp_path, "m.csv", "name,identifiers\nACME,123\n")))


def test_identifier_the_schema_cannot_hold(tmp_path):
    error = _error(_write(tmp_path, "l.csv", "name,schema,identifiers\nJane Roe,Person,isin:US0000000000\n"))
    assert "Person" in str(error) and "isin" in str(error)


def test_unknown_schema_and_field_shapes(tmp_path):
    assert "Spaceship" in str(_error(_write(tmp_path, "l.csv", "name,type\nX,Spaceship\n")))
    assert _error(_write(tmp_path, "l.yaml", "- name: [A, B]\n")).field == "name"
    assert _error(_write(tmp_path, "m.yaml", "- name: A\n  aliases: {x: y}\n")).field == "aliases"


def test_duplicate_explicit_id(tmp_path):
    error = _error(_write(tmp_path, "l.csv", "name,id\nA,x1\nB,x1\n"))
    assert error.line == 3 and "line 2" in str(error)


def test_wrong_field_count_and_empty(tmp_path):
    assert "expected 2" in str(_error(_write(tmp_path, "l.csv", "name,country\nA,DE,extra\n")))
    assert "empty" in str(_error(_write(tmp_path, "e.csv", "")))
    assert "empty" in str(_error(_write(tmp_path, "e.yaml", "# nothing\n")))


def test_non_utf8(tmp_path):
    error = _error(_write(tmp_path, "l.csv", b"name\nCaf\xe9\n"))
    assert error.line == 2 and "0xe9" in str(error)


# -- YAML safety ------------------------------------------------------------

BOMB = """
- name: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
- name: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
- name: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
- name: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
- name: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
- name: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
- name: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
- name: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
- name: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def test_yaml_bomb_refused_quickly(tmp_path):
    started = time.perf_counter()
    error = _error(_write(tmp_path, "bomb.yaml", BOMB))
    assert time.perf_counter() - started < 1.0
    assert "anchors and aliases" in str(error) and error.line == 2


def test_yaml_size_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(userlist, "MAX_YAML_BYTES", 100)
    error = _error(_write(tmp_path, "big.yaml", "- name: ACME\n" * 20))
    assert "bytes" in str(error) and "expected" in str(error)


def test_yaml_python_tags_refused(tmp_path):
    error = _error(_write(tmp_path, "t.yaml", "- name: !!python/object/apply:os.system ['true']\n"))
    assert "python/object/apply" in str(error) and error.line == 1


def test_malformed_yaml(tmp_path):
    error = _error(_write(tmp_path, "l.yaml", "- name: ACME\n  country: [DE\n"))
    assert "malformed YAML" in str(error) and error.line is not None


def test_yaml_top_level_must_be_a_list(tmp_path):
    assert "not a list" in str(_error(_write(tmp_path, "l.yaml", "name: ACME\n")))


def test_files(tmp_path):
    path = _write(tmp_path, "l.csv", "name\nA\n")
    assert userlist.files(path) == [path]
    with pytest.raises(SourceError):
        userlist.files(tmp_path)
    with pytest.raises(SourceError, match="suffix"):
        userlist.files(_write(tmp_path, "l.xlsx", b"x"))


def test_a_utf16_list_file_is_named_as_such(tmp_path):
    from clearance.sources.common import read_text

    path = tmp_path / "list.csv"
    path.write_bytes("name\nZed\n".encode("utf-16"))
    with pytest.raises(SourceError, match="the file is UTF-16; convert it to utf-8"):
        read_text(path)
