"""Reading user tables (CSV in any delimiter/encoding, XLSX, JSON Lines, Parquet),
mapping their columns, and writing JSONL/CSV/XLSX safely."""

from __future__ import annotations

import csv
import datetime as dt
import json

import pytest

from clearance.errors import InputError
from clearance.tabular import MAX_CELL, Sheet, map_fields, neutralise, open_table, open_writer
from clearance.tabular.read import sniff_delimiter

SYN = {"name": ("company name", "party"), "country": ("ctry",), "isin": ()}


def rows_of(path, **kw):
    return list(open_table(path, **kw).rows())


@pytest.mark.parametrize(
    "encoding,delimiter",
    [("utf-8", ","), ("utf-8-sig", ";"), ("cp1252", ";"), ("utf-16", "\t"), ("gb18030", "|"), ("utf-8", "\t")],
)
def test_csv_encodings_and_delimiters_are_sniffed(tmp_path, encoding, delimiter):
    path = tmp_path / "in.csv"
    names = ["Société Générale", "华为技术有限公司", "Газпромбанк"]
    if encoding == "cp1252":  # a Western export: what a detector can tell apart from its neighbours
        names = ["Société Générale", "Zürich Versicherung", "Müller Straße GmbH"]
    text = delimiter.join(["Company", "Ctry"]) + "\r\n" + "".join(f"{n}{delimiter}CN\r\n" for n in names)
    path.write_bytes(text.encode(encoding))
    table = open_table(path)
    assert table.delimiter == delimiter
    got = [r.values["Company"] for r in table.rows()]
    assert got == names
    assert all(r.error is None for r in table.rows())


def test_encoding_override_and_bad_bytes_are_a_row_error(tmp_path):
    path = tmp_path / "in.csv"
    body = "name,country\n" + "".join(f"Party {i},US\n" for i in range(20000))
    path.write_bytes(body.encode() + "Caf\xe9 Bleu,FR\n".encode("latin-1") + b"Last,US\n")
    rows = rows_of(path)
    assert len(rows) == 20002 and [r.index for r in rows] == list(range(20002))
    bad = rows[20000]
    assert bad.error and "not valid in the file's encoding" in bad.error and "--encoding" in bad.error
    assert bad.values["name"] == "Caf\ufffd Bleu"
    assert rows[20001].values["name"] == "Last" and rows[20001].error is None
    fixed = rows_of(path, encoding="latin-1")
    assert fixed[20000].values["name"] == "Café Bleu" and fixed[20000].error is None
    with pytest.raises(InputError, match="unknown encoding"):
        open_table(path, encoding="klingon-8")


def test_ragged_rows_blank_lines_and_line_numbers(tmp_path):
    path = tmp_path / "in.csv"
    path.write_text('name,country\nAcme,US\n\nShort\nToo,many,cells\n"Multi\nline",DE\nLast,FR\n', encoding="utf-8")
    rows = rows_of(path)
    assert [r.index for r in rows] == [0, 1, 2, 3, 4]
    assert [r.line for r in rows] == [2, 4, 5, 6, 8]
    assert rows[1].error == "in.csv, line 4: 1 cell but the header has 2"
    assert "3 cells but the header has 2" in rows[2].error
    assert rows[3].values["name"] == "Multi\nline" and rows[3].error is None


def test_unterminated_quote_is_a_row_error_not_a_crash(tmp_path):
    path = tmp_path / "in.csv"
    path.write_text('name,country\nAcme,US\n"Broken,US\nMore,DE\n', encoding="utf-8")
    rows = rows_of(path)
    assert rows[0].error is None
    assert len(rows) == 2 and rows[1].error


@pytest.mark.parametrize(("header", "first"), [("name", "Acme"), ("name,country", "Acme,US")])
def test_a_quote_never_closed_makes_the_lines_it_swallows_an_error(tmp_path, header, first):
    """Read leniently, a stray opening quote would turn every later line into one cell: with one
    column that cell would be screened as a single name and the listed parties in it pass as clear."""
    path = tmp_path / "in.csv"
    path.write_text(f'{header}\n{first}\n"Acme Trading\nMahan Air\nBank Tejarat\n', encoding="utf-8")
    rows = rows_of(path)
    assert [r.error for r in rows] == [None, "in.csv, lines 3-5: a quote opened here is never closed (double a quote inside a quoted cell, or close it), so these lines cannot be split into rows"]
    assert rows[1].values == {}
    closed = tmp_path / "closed.csv"  # a quoted cell over two lines, closed on the last line without a newline
    closed.write_text(header + '\n"Multi\nline"' + ",US" * header.count(","), encoding="utf-8")
    assert [(r.values["name"], r.error) for r in rows_of(closed)] == [("Multi\nline", None)]


def test_a_quote_never_closed_in_the_header_is_refused(tmp_path):
    path = tmp_path / "in.csv"
    path.write_text('"name,country\nAcme,US\n', encoding="utf-8")
    with pytest.raises(InputError, match="line 1: the header opens a quote that is never closed"):
        open_table(path)


def test_huge_cell_is_a_row_error_and_is_cut(tmp_path):
    path = tmp_path / "in.csv"
    with path.open("w", encoding="utf-8") as fh:
        fh.write("name,country\nAcme,US\n")
        fh.write('"' + "A" * (50 * 1024 * 1024) + '",US\n')
        fh.write("Next,DE\n")
    rows = rows_of(path)
    assert len(rows) == 3
    assert "52,428,800 characters" in rows[1].error and f"{MAX_CELL:,}" in rows[1].error
    assert len(rows[1].values["name"]) < 300
    assert rows[2].values["name"] == "Next" and rows[2].error is None


@pytest.mark.parametrize(
    "content,message",
    [
        (b"", "the file is empty"),
        (b"   \n\n", "the file is empty"),
        (bytes(range(256)) * 50, "binary"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(500), "binary"),
    ],
)
def test_unusable_files_raise_one_clear_error(tmp_path, content, message):
    path = tmp_path / "in.csv"
    path.write_bytes(content)
    with pytest.raises(InputError, match=message) as info:
        open_table(path)
    assert str(path) in str(info.value)


def test_missing_file_and_folder_and_xls(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        open_table(tmp_path / "nope.csv")
    with pytest.raises(InputError, match="folder"):
        open_table(tmp_path)
    (tmp_path / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0" + bytes(100))
    with pytest.raises(InputError, match=r"\.xls"):
        open_table(tmp_path / "old.xls")


def test_header_only_gives_no_rows(tmp_path):
    path = tmp_path / "in.csv"
    path.write_text("name,country\n", encoding="utf-8")
    assert rows_of(path) == []


def test_delimiter_sniffing_ignores_quoted_delimiters():
    assert sniff_delimiter('"a,b,c";d;e\n') == ";"
    assert sniff_delimiter("name\n") == ","


def test_xlsx_reading(tmp_path):
    from openpyxl import Workbook

    path = tmp_path / "in.xlsx"
    wb = Workbook()
    ws = wb.active
    ws.title = "Parties"
    ws.append([None])
    ws.append(["Company", "Ctry", "ISIN", "Since"])
    ws.append(["Hikvision", "CN", None, dt.datetime(2019, 10, 9)])
    ws.append([None, None, None, None])
    ws.append(["Acme", "US", 12345.0, dt.date(2020, 1, 2)])
    ws.append(["Extra", "US", None, None, "beyond"])
    wb.save(path)
    table = open_table(path)
    assert table.format == "xlsx" and table.columns == ["Company", "Ctry", "ISIN", "Since"]
    rows = list(table.rows())
    assert [r.line for r in rows] == [3, 5, 6]
    assert rows[0].values == {"Company": "Hikvision", "Ctry": "CN", "ISIN": None, "Since": "2019-10-09"}
    assert rows[1].values["ISIN"] == "12345" and rows[1].values["Since"] == "2020-01-02"
    assert rows[2].error and "5 cells" in rows[2].error
    with pytest.raises(InputError, match="no sheet 'Other'"):
        open_table(path, sheet="Other")
    (tmp_path / "bad.xlsx").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(InputError, match="not a readable XLSX"):
        open_table(tmp_path / "bad.xlsx")


def test_jsonl_reading(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_bytes(
        b'{"name": "Acme", "country": "US", "ids": ["a", "b"]}\n'
        b"\n"
        b"not json\n"
        b"[1, 2]\n"
        b'{"name": "Caf\xe9"}\n'
        b'{"name": "Late", "extra": 1}\n'
    )
    table = open_table(path)
    assert table.columns == ["name", "country", "ids", "extra"]
    rows = list(table.rows())
    assert [r.index for r in rows] == [0, 1, 2, 3, 4]
    assert rows[0].values["ids"] == '["a", "b"]'
    assert "not valid JSON" in rows[1].error and "line 3" in rows[1].error
    assert "expected an object" in rows[2].error
    assert "UTF-8" in rows[3].error
    assert rows[4].values == {"name": "Late", "extra": "1"}
    (tmp_path / "arr.json").write_text("[{}]")
    with pytest.raises(InputError, match="JSON array"):
        open_table(tmp_path / "arr.json")


def test_parquet_reading(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    path = tmp_path / "in.parquet"
    pq.write_table(pa.table({"name": ["Acme", None, "Zed"], "score": [1.0, 2.5, None]}), path)
    table = open_table(path)
    assert table.columns == ["name", "score"] and table.estimate_rows() == 3
    rows = list(table.rows())
    assert [r.values for r in rows] == [{"name": "Acme", "score": "1"}, {"name": None, "score": "2.5"}, {"name": "Zed", "score": None}]
    (tmp_path / "bad.parquet").write_bytes(b"PAR1garbage")
    with pytest.raises(InputError, match="not a readable Parquet"):
        open_table(tmp_path / "bad.parquet")


def test_field_mapping_by_header_and_overrides():
    columns = ["Ref", "Company Name", "CTRY", "Party", "isin"]
    m = map_fields(columns, SYN)
    assert m.fields == {"name": "Company Name", "country": "CTRY", "isin": "isin"}
    assert m.describe() == "name <- 'Company Name', country <- 'CTRY', isin <- 'isin'"
    m = map_fields(columns, SYN, ["name=party", "isin="])
    assert m.fields == {"name": "Party", "country": "CTRY"} and m.how["name"] == "map"
    assert "(--map)" in m.describe()
    with pytest.raises(InputError, match=r"unknown field 'nme'; fields are: name, country, isin"):
        map_fields(columns, SYN, ["nme=Party"])
    with pytest.raises(InputError, match=r"no column 'Partner'; its columns are: 'Ref', 'Company Name'"):
        map_fields(columns, SYN, ["name=Partner"])
    with pytest.raises(InputError, match="expected FIELD=COLUMN"):
        map_fields(columns, SYN, ["name"])


def test_neutralise():
    assert neutralise("=HYPERLINK(\"http://x\")") == "'=HYPERLINK(\"http://x\")"
    for text in ("+1", "-2+3", "@SUM(A1)", "\tx", "\rx"):
        assert neutralise(text) == "'" + text
    assert neutralise("Acme = good") == "Acme = good"
    assert neutralise(5) == 5 and neutralise(None) is None


SHEETS = [
    Sheet("results", ["row", "name", "tags"], lambda r: [{"row": r["row"], "name": r["name"], "tags": r["tags"]}]),
    Sheet("detail", ["row", "k"], lambda r: [{"row": r["row"], "k": k} for k in r["tags"]]),
]
RECORDS = [
    {"row": 0, "name": "=cmd|' /C calc'!A0", "tags": ["a", "b"]},
    {"row": 1, "name": "@evil", "tags": []},
    {"row": 2, "name": "Acme\x01Corp", "tags": ["+x"]},
]


def test_writers(tmp_path):
    from openpyxl import load_workbook

    with open_writer("jsonl", tmp_path / "o.jsonl") as out:
        out.write_all(RECORDS)
    assert [json.loads(x) for x in (tmp_path / "o.jsonl").read_text().splitlines()] == RECORDS
    with open_writer("csv", tmp_path / "o.csv", SHEETS) as out:
        out.write_all(RECORDS)
    with (tmp_path / "o.csv").open(encoding="utf-8-sig", newline="") as fh:
        got = list(csv.reader(fh))
    assert got[0] == ["row", "name", "tags"]
    assert got[1] == ["0", "'=cmd|' /C calc'!A0", "a; b"] and got[2][1] == "'@evil"
    with open_writer("xlsx", tmp_path / "o.xlsx", SHEETS) as out:
        out.write_all(RECORDS)
    wb = load_workbook(tmp_path / "o.xlsx")
    assert wb.sheetnames == ["results", "detail"]
    values = [list(r) for r in wb["results"].iter_rows(values_only=True)]
    assert values[1][1] == "'=cmd|' /C calc'!A0" and values[2][1] == "'@evil" and values[3][1] == "Acme Corp"
    assert [list(r) for r in wb["detail"].iter_rows(values_only=True)] == [["row", "k"], [0, "a"], [0, "b"], [2, "'+x"]]
    assert not list(tmp_path.glob(".*part"))


def test_failed_write_leaves_no_file(tmp_path):
    with pytest.raises(RuntimeError):
        with open_writer("csv", tmp_path / "o.csv", SHEETS) as out:
            out.write(RECORDS[0])
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(InputError, match="xlsx"):
        open_writer("xlsx", None, SHEETS)


def test_an_encoding_that_does_not_fit_is_refused_not_read_as_nul_riddled_rows(tmp_path):
    path = tmp_path / "utf16.csv"
    path.write_bytes("name\nMahan Air\n".encode("utf-16"))
    assert [r.values["name"] for r in open_table(path).rows()] == ["Mahan Air"]  # detected
    with pytest.raises(InputError, match="read as utf-8 the text has NUL characters"):
        open_table(path, encoding="utf-8")
    stray = tmp_path / "stray.csv"  # one NUL past the binary sniff, no --encoding: the rows are read, that row is flagged
    stray.write_bytes(b"name\n" + b"Acme Trading Ltd\n" * 1000 + b"Bad\x00Row\n" + b"Last Ltd\n")
    rows = list(open_table(stray).rows())
    assert len(rows) == 1002 and rows[-1].values["name"] == "Last Ltd"


def test_a_repeated_name_column_is_told_not_silently_dropped(tmp_path):
    path = tmp_path / "dup.csv"
    path.write_text("name,name,country\nHuawei,Acme,CN\n", encoding="utf-8")
    table = open_table(path)
    mapping = map_fields(table.columns, {"name": ["company"], "country": []})
    assert table.columns == ["name", "name_2", "country"] and mapping.fields["name"] == "name"
    assert mapping.describe().endswith("a second 'name' column ('name_2') is not used; choose one with --map name=COLUMN")
