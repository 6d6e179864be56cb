"""``clearance screen``: batch screening end to end on the real bundled lists."""

from __future__ import annotations

import csv
import json

import pytest

from tests.test_batch_support import PLANTED, cli, copy_home, planted_rows, screen_home, warm_bundled_home  # noqa: F401


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def check_planted(records, rows):
    assert len(records) == len(rows)
    assert [r["row"] for r in records] == list(range(len(rows)))
    for record, row in zip(records, rows):
        assert record["input"]["name"] == row["name"].strip()
        if row["kind"] == "clean":
            assert record["status"] == "clear", (row, record["hits"][:1])
        else:
            flagged = [h["entity_id"] for h in record["hits"] if h["status"] == "match"]
            assert record["status"] == "match", row
            assert row["expect_entity"] in flagged, (row, flagged)


def test_planted_names_are_flagged_and_clean_rows_stay_clear(screen_home, tmp_path):
    out = tmp_path / "out.jsonl"
    result = cli("screen", str(PLANTED), "-o", str(out), home=screen_home)
    assert result.returncode == 1, result.stderr
    assert "columns: name <- 'name', country <- 'country', schema <- 'type'" in result.stderr
    rows = planted_rows()
    records = read_jsonl(out)
    check_planted(records, rows)
    planted = sum(1 for r in rows if r["kind"] != "clean")
    assert f"{len(rows)} rows screened" in result.stderr and f"{planted} match" in result.stderr
    for record in records:
        for hit in record["hits"]:
            assert set(hit) >= {"entity_id", "source", "schema", "name", "matched_name", "score", "status", "programs", "explanation"}
        assert [h["score"] for h in record["hits"]] == sorted((h["score"] for h in record["hits"]), reverse=True)


def test_stdout_two_workers_equal_one_and_run_is_recorded(screen_home, tmp_path):
    one = cli("screen", str(PLANTED), "--workers", "1", home=screen_home)
    two = cli("screen", str(PLANTED), "--workers", "2", home=screen_home)
    assert one.returncode == two.returncode == 1
    assert one.stdout == two.stdout and len(one.stdout.splitlines()) == len(planted_rows())
    assert "\x1b[" not in one.stderr  # no progress bar or colours when piped

    from sqlalchemy import select

    from clearance.store import Store, make_engine
    from clearance.store import runs as r

    store = Store(make_engine(f"sqlite:///{screen_home / 'clearance.db'}"), screen_home)
    runs = r.list_runs(store)
    assert len(runs) == 2
    run = runs[0]
    planted = sum(1 for x in planted_rows() if x["kind"] != "clean")
    assert run["kind"] == "screen" and run["rows"] == len(planted_rows()) and run["matches"] == planted
    assert run["input_fingerprint"] and len(run["input_fingerprint"]) == 64
    assert [(s["source"], s["version"]) for s in run["snapshots"]] == [(s.source, s.version) for s in store.active_snapshots()]
    assert {"us-ofac-sdn", "us-ofac-nonsdn", "us-bis-dpl", "un-sc", "us-trade-csl"} <= {s["source"] for s in run["snapshots"]}
    from clearance.match.matcher import Thresholds

    assert run["thresholds"] == {"match": Thresholds().match, "review": Thresholds().review}
    alerts = r.run_alerts(store, run["id"])
    assert {a["row_index"] for a in alerts} == {i for i, x in enumerate(planted_rows()) if x["kind"] != "clean"}
    assert all(a["status"] == "open" and a["portfolio_id"] is None and ":" in a["row_key"] for a in alerts)
    with store.engine.connect() as conn:
        assert conn.execute(select(r.alerts.c.id)).first() is not None


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "html"])
def test_other_formats(screen_home, tmp_path, fmt):
    out = tmp_path / f"out.{fmt}"
    result = cli("screen", str(PLANTED), "-o", str(out), home=screen_home)
    assert result.returncode == 1, result.stderr
    rows = planted_rows()
    if fmt == "csv":
        with out.open(encoding="utf-8-sig", newline="") as fh:
            got = list(csv.DictReader(fh))
        assert len(got) == len(rows)
        assert [g["input.name"] for g in got] == [r["name"].strip() for r in rows]
        for g, r in zip(got, rows):
            assert g["status"] == ("clear" if r["kind"] == "clean" else "match")
    elif fmt == "xlsx":
        from openpyxl import load_workbook

        wb = load_workbook(out, read_only=True)
        assert wb.sheetnames == ["results", "hits"]
        results = list(wb["results"].iter_rows(values_only=True))
        assert len(results) == len(rows) + 1
        hits = list(wb["hits"].iter_rows(values_only=True))
        assert len(hits) > sum(1 for r in rows if r["kind"] != "clean")
    else:
        html = out.read_text(encoding="utf-8")
        assert "<h2>Summary</h2>" in html and "<svg" in html and "us-ofac-sdn" in html
        assert html.count('class="flag match"') == sum(1 for r in rows if r["kind"] != "clean")


def test_formula_injection_is_neutralised(screen_home, tmp_path):
    src = tmp_path / "in.csv"
    src.write_text('name,note\n=HYPERLINK("http://evil","Mahan Air"),x\n@SUM(1+1)*cmd|calc,y\n+Hikvision,-z\n', encoding="utf-8")
    out = tmp_path / "out.csv"
    cli("screen", str(src), "-o", str(out), home=screen_home)
    with out.open(encoding="utf-8-sig", newline="") as fh:
        cells = [c for row in csv.reader(fh) for c in row]
    assert not any(c.startswith(("=", "+", "-", "@")) for c in cells)
    from openpyxl import load_workbook

    cli("screen", str(src), "-o", str(tmp_path / "out.xlsx"), home=screen_home)
    wb = load_workbook(tmp_path / "out.xlsx")
    for ws in wb.worksheets:
        for row in ws.iter_rows(values_only=True):
            for value in row:
                assert not (isinstance(value, str) and value.startswith(("=", "+", "-", "@")))


def test_mapping_overrides_and_identifier_columns(screen_home, tmp_path):
    src = tmp_path / "holdings.csv"
    src.write_text(
        "Holding;Issuer ISIN;Domicile\nSome Fund Position;CNE100000PM8;CN\nTotally Unrelated Name;;US\n", encoding="utf-8"
    )
    result = cli("screen", str(src), "--map", "name=Holding", "--map", "isin=Issuer ISIN", "--map", "country=Domicile", home=screen_home)
    assert "name <- 'Holding' (--map), country <- 'Domicile' (--map), isin <- 'Issuer ISIN' (--map)" in result.stderr
    records = [json.loads(x) for x in result.stdout.splitlines()]
    assert records[0]["status"] == "match" and "identifier" in records[0]["hits"][0]["explanation"]["features"]
    assert records[1]["status"] == "clear"
    bad = cli("screen", str(src), "--map", "nme=Holding", home=screen_home)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "unknown field 'nme'" in bad.stderr
    bad = cli("screen", str(src), "--map", "name=Holder", home=screen_home)
    assert bad.returncode == 2 and "no column 'Holder'" in bad.stderr


def test_malformed_inputs_give_one_record_per_row_or_one_error(screen_home, tmp_path):
    ragged = tmp_path / "ragged.csv"
    ragged.write_text('name,country\nMahan Air,IR\nonly\nA,B,C\n\n"Broken,IR\n', encoding="utf-8")
    result = cli("screen", str(ragged), home=screen_home)
    records = [json.loads(x) for x in result.stdout.splitlines()]
    assert [r["row"] for r in records] == [0, 1, 2, 3]
    assert [r["status"] for r in records] == ["match", "error", "error", "error"]
    assert records[1]["error"] == "ragged.csv, line 3: 1 cell but the header has 2"
    assert result.returncode == 2 and "3 row(s) could not be screened" in result.stderr

    huge = tmp_path / "huge.csv"
    with huge.open("w", encoding="utf-8") as fh:
        fh.write("name\nBank Tejarat\n" + "X" * (50 * 1024 * 1024) + "\nSiemens AG\n")
    result = cli("screen", str(huge), home=screen_home)
    records = [json.loads(x) for x in result.stdout.splitlines()]
    assert [r["status"] for r in records] == ["match", "error", "clear"]
    assert "52,428,800 characters" in records[1]["error"] and len(result.stdout) < 100_000

    noname = tmp_path / "noname.csv"
    noname.write_text('name,country\n"",US\n   ,US\n!!!,US\n', encoding="utf-8")
    records = [json.loads(x) for x in cli("screen", str(noname), home=screen_home).stdout.splitlines()]
    assert [r["status"] for r in records] == ["error", "error", "error"]

    for content, message in [
        (b"", "the file is empty"),
        (bytes(range(256)) * 40, "binary"),
        (b"Foo,Bar\n1,2\n", "no column to screen"),
    ]:
        path = tmp_path / "bad.csv"
        path.write_bytes(content)
        result = cli("screen", str(path), "-o", str(tmp_path / "never.jsonl"), home=screen_home)
        assert result.returncode == 2, result
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and message in lines[0] and "Traceback" not in result.stderr
        assert not (tmp_path / "never.jsonl").exists()


def test_other_input_formats_and_as_of(screen_home, tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    rows = planted_rows()[:30]
    pq.write_table(pa.table({"name": [r["name"] for r in rows], "country": [r["country"] or None for r in rows]}), tmp_path / "in.parquet")
    (tmp_path / "in.jsonl").write_text("".join(json.dumps({"party": r["name"]}) + "\n" for r in rows), encoding="utf-8")
    a = cli("screen", str(tmp_path / "in.parquet"), home=screen_home)
    b = cli("screen", str(tmp_path / "in.jsonl"), home=screen_home)
    assert [json.loads(x)["status"] for x in a.stdout.splitlines()] == [json.loads(x)["status"] for x in b.stdout.splitlines()]
    assert len(a.stdout.splitlines()) == 30

    # A name the SDN list added after 2019-01 is clear as of 2019-06 and a match today.
    probe = tmp_path / "probe.csv"
    probe.write_text("name\nROSNEFT TRADING S.A.\n", encoding="utf-8")
    now = json.loads(cli("screen", str(probe), "--source", "us-ofac-sdn", home=screen_home).stdout)
    then = json.loads(cli("screen", str(probe), "--source", "us-ofac-sdn", "--as-of", "2019-06-01", home=screen_home).stdout)
    assert now["status"] == "match" and then["status"] == "clear"
    # Lists first captured after the date count with the entries listed by then (check's and assess's policy):
    # Hikvision's NS-CMIC entry (bundled capture 2025-12, listed 2021) and its FCC entry (2021) do not yet count
    # in 2019, its NDAA section 889 entry (2018-08-13) does; nothing did in June 2018.
    probe.write_text("name\nHikvision\n", encoding="utf-8")
    ids = {}
    for day in ("2018-06-01", "2019-06-01", "2023-06-01"):
        done = cli("screen", str(probe), "--as-of", day, home=screen_home)
        ids[day] = {h["entity_id"] for h in json.loads(done.stdout)["hits"]}
        assert done.returncode == (1 if ids[day] else 0), done.stderr
    assert ids["2018-06-01"] == set() and ids["2019-06-01"] == {"us-covered-hikvision-ndaa-889"}
    assert {"us-ofac-nonsdn-30946", "us-covered-hikvision-fcc-covered"} <= ids["2023-06-01"]
    for bad_day in ("2023-13-45", "2019-02-30", "20190101"):
        bad = cli("screen", str(probe), "--as-of", bad_day, home=screen_home)
        assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and f"date '{bad_day}' is not a date; expected YYYY-MM-DD" in bad.stderr, bad.stderr
    bad = cli("screen", str(probe), "--source", "nope", home=screen_home)
    assert bad.returncode == 2 and "nope" in bad.stderr
