"""UN Security Council consolidated list: real capture, spot checks, hostile XML."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import pytest

from clearance.errors import SourceError
from clearance.sources import un

ROOT = Path(__file__).resolve().parents[1]
CAPTURE = ROOT / "data" / "lists" / "un-sc" / "2026-02"
XML = CAPTURE / "consolidated.xml"


@pytest.fixture(scope="module")
def entities() -> dict:
    return {e.id: e for e in un.parse(CAPTURE, "un-sc")}


def test_counts_and_schemata(entities):
    schemata = Counter(e.schema for e in entities.values())
    assert schemata == {"Person": 730, "Organization": 273}
    assert len(entities) == 1003  # ids (reference numbers) are unique


def test_files_and_published():
    assert un.files(CAPTURE) == [XML]
    assert un.files(XML) == [XML]
    assert un.published(CAPTURE) == "2026-02-27"


def test_parse_is_fast():
    started = time.perf_counter()
    assert sum(1 for _ in un.parse(XML, "un-sc")) == 1003
    assert time.perf_counter() - started < 2.0


def test_individual_with_good_and_low_aliases(entities):
    person = entities["un-sc-IRi.039"]
    assert person.schema == "Person"
    assert person.get("name") == ["QASEM SOLEIMANI"]
    assert person.get("firstName") == ["QASEM"]
    assert person.get("lastName") == ["SOLEIMANI"]
    assert person.get("unscId") == ["IRi.039"]
    assert person.get("program") == ["Iran"]
    assert person.get("listingDate") == ["2007-03-24"]
    assert person.get("lastUpdate") == ["2014-12-17"]
    # One ALIAS_NAME of quality Good holds eight names separated by ";".
    assert person.get("alias") == [
        "Qasim Soleimani",
        "Qasem Sulaimani",
        "Qasim Sulaimani",
        "Qasim Sulaymani",
        "Qasem Sulaymani",
        "Kasim Soleimani",
        "Kasim Sulaimani",
        "Kasim Sulaymani",
    ]
    assert person.get("weakAlias") == ["Haj Qasem", "Haji Qassem", "Sardar Soleimani"]
    assert person.get("birthDate") == ["1957-03-11"]
    assert person.get("birthPlace") == ["Qom, Iran (Islamic Republic of)"]
    assert person.get("birthCountry") == ["ir"]
    assert person.get("passportNumber") == ["008827"]
    assert person.get("position") == ["Brigadier General", "Commander of Qods force"]


def test_individual_documents_addresses_and_original_script(entities):
    person = entities["un-sc-QDi.064"]
    assert person.get("name") == ["SAMI BEN KHAMIS BEN SALEH ELSSEID"]
    assert person.get("middleName") == ["BEN KHAMIS", "BEN SALEH"]
    assert person.get("alias") == ["سامي بن خميس بن صالح الصيد", "Omar El Mouhajer"]
    assert person.get("weakAlias") == ["Saber"]
    assert person.get("nationality") == ["tn"]
    assert person.get("address") == ["Ibn Al-Haythman Street, Number 6, Manubah, Tunis, Tunisia"]
    assert person.get("country") == ["tn"]
    assert person.get("passportNumber") == ["K929139"]
    assert person.get("idNumber") == ["00319547", "SSDSBN68B10Z352F"]
    assert "Passport K929139: Tunisia; issued 1995-02-14; expired on 13 Feb. 2000" in person.get("notes")


def test_birth_date_kinds(entities):
    # TAi.002 has two BETWEEN ranges: 1955-1958 and 1945-1950.
    assert entities["un-sc-TAi.002"].get("birthDate")[:4] == ["1955", "1956", "1957", "1958"]
    assert "1947" in entities["un-sc-TAi.002"].get("birthDate")
    assert "1966" in entities["un-sc-CDi.014"].get("birthDate")  # APPROXIMATELY
    assert entities["un-sc-CDi.004"].get("birthDate") == ["1973-11"]  # month only in NOTE
    assert entities["un-sc-CDi.001"].get("gender") == ["male"]


def test_entity_aliases_and_address(entities):
    org = entities["un-sc-CDe.001"]
    assert org.schema == "Organization"
    assert org.get("name") == ["ADF"]
    assert org.get("alias") == ["Allied Democratic Forces"]  # a.k.a.
    assert org.get("previousName") == [  # f.k.a.
        "Forces Démocratiques Alliées-Armée Nationale de Libération de l’Ouganda",
        "ADF/NALU",
        "NALU",
    ]
    assert org.get("address") == ["North Kivu, Democratic Republic of the Congo"]
    assert org.get("country") == ["cd"]
    assert org.get("program") == ["DRC"]
    assert org.get("listingDate") == ["2014-06-30"]


def test_listing_date_with_zone_and_split_primary_name(entities):
    with_zone = [e for e in entities.values() if e.get("unscId") and not e.get("listingDate")]
    assert with_zone == []  # "2015-04-07-04:00" style dates are read too
    grands_lacs = [e for e in entities.values() if e.first("name") == "COMPAGNIE AERIENNE DES GRANDS LACS (CAGL)"]
    assert len(grands_lacs) == 1
    assert "GREAT LAKES BUSINESS COMPANY (GLBC)" in grands_lacs[0].get("alias")


def test_na_is_not_a_nationality(entities):
    assert all("na" not in e.get("nationality") for e in entities.values())


# -- bad input --------------------------------------------------------------

BOMB = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<CONSOLIDATED_LIST><INDIVIDUALS><INDIVIDUAL><FIRST_NAME>&lol9;</FIRST_NAME></INDIVIDUAL></INDIVIDUALS></CONSOLIDATED_LIST>
"""

EXTERNAL = """<?xml version="1.0"?>
<!DOCTYPE x [ <!ENTITY x SYSTEM "file:///etc/passwd"> ]>
<CONSOLIDATED_LIST><INDIVIDUALS><INDIVIDUAL><FIRST_NAME>&x;</FIRST_NAME></INDIVIDUAL></INDIVIDUALS></CONSOLIDATED_LIST>
"""

MINIMAL = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<CONSOLIDATED_LIST dateGenerated="2026-01-02T00:00:00Z">\n'
    "<INDIVIDUALS><INDIVIDUAL><FIRST_NAME>JOSÉ</FIRST_NAME><SECOND_NAME>DOE</SECOND_NAME>"
    "<REFERENCE_NUMBER>XXi.001</REFERENCE_NUMBER></INDIVIDUAL></INDIVIDUALS>\n"
    "<ENTITIES/>\n</CONSOLIDATED_LIST>\n"
)


def _write(tmp_path: Path, name: str, data: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def _error(path: Path) -> SourceError:
    with pytest.raises(SourceError) as info:
        list(un.parse(path, "un-sc"))
    message = str(info.value)
    assert "\n" not in message
    assert path.name in message
    return info.value


def test_billion_laughs_refused_quickly(tmp_path):
    started = time.perf_counter()
    error = _error(_write(tmp_path, "bomb.xml", BOMB))
    assert time.perf_counter() - started < 1.0
    assert "entity" in str(error) and "expected" in str(error)
    assert error.line == 3


def test_external_entity_refused(tmp_path):
    error = _error(_write(tmp_path, "ext.xml", EXTERNAL))
    assert "/etc/passwd" in str(error)
    assert "expected the UN consolidated list XML" in str(error)
    assert "root:" not in str(error)  # the file was not read
    assert error.line == 2


def test_truncated_xml(tmp_path):
    error = _error(_write(tmp_path, "cut.xml", MINIMAL[:150]))
    assert "malformed XML" in str(error) and "line" in str(error) and "expected" in str(error)


def test_empty_file(tmp_path):
    assert "empty" in str(_error(_write(tmp_path, "empty.xml", b"")))


def test_non_utf8_byte(tmp_path):
    error = _error(_write(tmp_path, "latin.xml", MINIMAL.replace("JOSÉ", "JOS\udce9").encode("utf-8", "surrogateescape")))
    assert "0xe9" in str(error) and error.line == 3


def test_bom_tolerated(tmp_path):
    path = _write(tmp_path, "bom.xml", b"\xef\xbb\xbf" + MINIMAL.encode("utf-8"))
    [person] = list(un.parse(path, "un-sc"))
    assert person.id == "un-sc-XXi.001"
    assert person.get("name") == ["JOSÉ DOE"]
    assert un.published(path) == "2026-01-02"


def test_wrong_root_and_missing_reference(tmp_path):
    assert "<CONSOLIDATED_LIST>" in str(_error(_write(tmp_path, "other.xml", "<sdnList/>")))
    no_ref = MINIMAL.replace("<REFERENCE_NUMBER>XXi.001</REFERENCE_NUMBER>", "")
    assert "REFERENCE_NUMBER" in str(_error(_write(tmp_path, "noref.xml", no_ref)))


def test_folder_must_hold_one_xml(tmp_path):
    _write(tmp_path, "a.xml", MINIMAL)
    _write(tmp_path, "b.xml", MINIMAL)
    with pytest.raises(SourceError, match="found 2 .xml files"):
        un.files(tmp_path)
