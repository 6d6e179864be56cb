"""BIS Denied Persons List: the duplicate rule on both real captures, spot checks, bad files."""

from __future__ import annotations

import csv
import time
from pathlib import Path

import pytest

from clearance.errors import SourceError
from clearance.sources import dpl

ROOT = Path(__file__).resolve().parents[1]
CAPTURES = ROOT / "data" / "lists" / "us-bis-dpl"
HEADER_LINE = "\t".join(f'"{h}"' for h in dpl.HEADER)


def raw_rows(capture: str) -> list[list[str]]:
    """The data rows, read with the csv module alone (independent of the parser)."""
    with open(CAPTURES / capture / "dpl.txt", newline="", encoding="utf-8") as handle:
        rows = [row for row in csv.reader(handle, delimiter="\t") if row]
    return rows[1:]


def raw_keys(rows: list[list[str]]) -> set[tuple[str, str]]:
    return {(" ".join(row[0].split()).casefold(), row[6].strip()) for row in rows}


@pytest.fixture(scope="module", params=["2019-06", "2022-09"])
def capture(request) -> tuple[str, list, list]:
    entities = list(dpl.parse(CAPTURES / request.param, "us-bis-dpl"))
    return request.param, raw_rows(request.param), entities


def test_one_entity_per_name_and_effective_date(capture):
    name, rows, entities = capture
    assert len(entities) == len(raw_keys(rows))
    assert len({e.id for e in entities}) == len(entities)
    expected = {"2019-06": (546, 417), "2022-09": (581, 461)}[name]
    assert (len(rows), len(entities)) == expected


def test_every_row_name_is_kept(capture):
    _, rows, entities = capture
    names = {n for e in entities for n in e.get("name")}
    assert {" ".join(row[0].split()) for row in rows} <= names


def test_every_row_address_is_kept(capture):
    _, rows, entities = capture
    by_key = {}
    for entity in entities:
        key = dpl.order_key(entity.first("name"), None)[0]
        by_key.setdefault(key, []).extend(entity.get("address"))
    for row in rows:
        street = " ".join(row[1].split())
        if street:
            key = " ".join(row[0].split()).casefold()
            assert any(a.startswith(street) for a in by_key[key]), row


def test_parse_is_fast():
    started = time.perf_counter()
    list(dpl.parse(CAPTURES / "2022-09", "us-bis-dpl"))
    assert time.perf_counter() - started < 2.0


def test_ids_are_stable_across_captures():
    def order_2003(capture: str) -> dict:
        entities = dpl.parse(CAPTURES / capture, "us-bis-dpl")
        return {e.first("name"): e for e in entities if e.first("startDate") == "2003-06-19"}

    assert order_2003("2019-06")["I. ASH"].id == order_2003("2022-09")["I. ASH"].id
    old_ids = {e.id for e in dpl.parse(CAPTURES / "2019-06", "us-bis-dpl")}
    new_ids = {e.id for e in dpl.parse(CAPTURES / "2022-09", "us-bis-dpl")}
    shared = raw_keys(raw_rows("2019-06")) & raw_keys(raw_rows("2022-09"))
    assert len(shared) == 288 == len(old_ids & new_ids)  # every shared order keeps its id


def test_row_fields():
    entities = {e.first("name"): e for e in dpl.parse(CAPTURES / "2019-06", "us-bis-dpl")}
    party = entities["AARON ROBERT HENDERSON"]
    assert party.schema == "LegalEntity"
    assert party.get("address") == ["740 JESSIE ST., NORTH LIBERTY, IA, 52317, US"]
    assert party.get("country") == ["us"]
    assert party.get("startDate") == ["2010-05-28"]
    assert party.get("endDate") == ["2019-09-18"]
    assert party.get("standardOrder") == ["Y"]
    assert party.get("lastUpdate") == ["2010-06-09"]
    assert party.get("action") == ["10 YEAR DENIAL/F.R. NOTICE UPDATED"]
    assert party.get("federalRegisterNotice") == ["75 F.R. 32740 6/9/10"]
    assert party.get("program") == ["DPL"]


def test_merged_order_and_split_citations():
    entities = list(dpl.parse(CAPTURES / "2019-06", "us-bis-dpl"))
    air_freight = [e for e in entities if e.first("name") == "AIR FREIGHT LTD"]
    assert len(air_freight) == 1  # four rows, one order
    assert len(air_freight[0].get("address")) == 4
    ash = [e for e in entities if e.first("name") == "I. ASH"]
    assert sorted(e.first("startDate") for e in ash) == ["2002-03-04", "2003-06-19"]  # two orders
    order_2003 = next(e for e in ash if e.first("startDate") == "2003-06-19")
    assert order_2003.get("federalRegisterNotice") == [
        "68 F.R. 38290 6/27/03",
        "71 F.R. 38843 7/10/06",
        "72 F.R. 4236 1/30/07",
    ]


def test_names_hiding_aliases():
    entities = {e.first("name"): e for e in dpl.parse(CAPTURES / "2022-09", "us-bis-dpl")}
    assert entities["PEARL (A.K.A. NEI-CHIEN CHU) LI"].get("alias") == ["NEI-CHIEN CHU", "PEARL LI"]
    assert entities["SIBERIAN AIRLINES D/B/A S7 AIRLINES"].get("alias") == ["SIBERIAN AIRLINES", "S7 AIRLINES"]


def test_published_skips_impossible_dates():
    # 2022-09 has one Last_Update typed as 2922-09-01.
    assert dpl.published(CAPTURES / "2019-06") == "2019-06-12"
    assert dpl.published(CAPTURES / "2022-09") == "2022-09-02"


# -- bad input --------------------------------------------------------------

ROW = "\t".join(
    f'"{v}"'
    for v in ("JANE DOE", "1 MAIN ST", "SPRINGFIELD", "IL", "US", "62701", "01/02/2020", "01/02/2030", "Y",
              "2020-01-05", "FR NOTICE ADDED", "85 F.R. 1000 1/5/2020")
)  # fmt: skip


def _write(tmp_path: Path, data: bytes | str) -> Path:
    path = tmp_path / "dpl.txt"
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def _error(path: Path) -> SourceError:
    with pytest.raises(SourceError) as info:
        list(dpl.parse(path, "us-bis-dpl"))
    assert "\n" not in str(info.value) and "dpl.txt" in str(info.value)
    return info.value


def test_wrong_header(tmp_path):
    error = _error(_write(tmp_path, HEADER_LINE.replace("FR_Citation", "Citation") + "\n" + ROW + "\n"))
    assert error.line == 1 and "expected" in str(error) and "FR_Citation" in str(error)


def test_wrong_column_count(tmp_path):
    error = _error(_write(tmp_path, HEADER_LINE + "\n" + ROW + "\n" + ROW.rsplit("\t", 1)[0] + "\n"))
    assert error.line == 3 and "11 fields; expected 12" in str(error)


def test_empty_file(tmp_path):
    assert "empty" in str(_error(_write(tmp_path, b"")))


def test_non_utf8_byte(tmp_path):
    error = _error(_write(tmp_path, (HEADER_LINE + "\n" + ROW.replace("JANE", "J\xc9NE") + "\n").encode("latin-1")))
    assert error.line == 2 and "0xc9" in str(error) and "expected" in str(error)


def test_bad_date(tmp_path):
    error = _error(_write(tmp_path, HEADER_LINE + "\n" + ROW.replace("01/02/2020", "2020/13/45") + "\n"))
    assert error.line == 2 and error.field == "Effective_Date"


def test_bom_and_crlf_tolerated(tmp_path):
    path = _write(tmp_path, b"\xef\xbb\xbf" + (HEADER_LINE + "\r\n" + ROW + "\r\n").encode("utf-8"))
    [party] = list(dpl.parse(tmp_path, "us-bis-dpl"))
    assert party.get("name") == ["JANE DOE"]
    assert party.get("startDate") == ["2020-01-02"]
    assert dpl.files(tmp_path) == [path]


def test_missing_file(tmp_path):
    with pytest.raises(SourceError, match="no dpl.txt"):
        dpl.files(tmp_path)
