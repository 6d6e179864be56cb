"""``clearance assets``: exit codes, formats and one-line errors (in process
with Typer's runner), and once through a real process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import clearance.cli.assets  # noqa: F401  (registers the command)
from clearance.cli import app

FIXTURES = Path(__file__).parent / "fixtures"
INVENTORY = str(FIXTURES / "assets_inventory.csv")
SCAN = str(FIXTURES / "assets_scan.xml")
#: The real entry point (clearance.cli:main), with the assets command registered.
MAIN = [sys.executable, "-c", "import sys, clearance.cli.assets; from clearance.cli import main; sys.argv[0] = 'clearance'; main()"]


def invoke(*args: str):
    return CliRunner().invoke(app, ["assets", *args, "--as-of", "2026-11-30"], env={"COLUMNS": "200"})


def records(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def test_inventory_to_jsonl_exits_1_when_covered_found():
    result = invoke(INVENTORY)
    assert result.exit_code == 1, result.output
    out = records(result.stdout)
    assert len(out) == 57 and sum(r["status"] == "covered" for r in out) == 28
    assert "columns: asset_id <- 'Asset Tag'" in result.stderr
    assert "57 assets screened as of 2026-11-30" in result.stderr and "28 covered" in result.stderr


def test_all_clear_exits_0(tmp_path):
    path = tmp_path / "clean.csv"
    path.write_text("Asset,Manufacturer,Model\nA,Axis,P3245-LV\nB,Uniview,IPC2124LB-SF28KM-G\n", encoding="utf-8")
    result = invoke(str(path), "-q")
    assert result.exit_code == 0, result.output
    assert [r["status"] for r in records(result.stdout)] == ["clear", "clear"]
    assert result.stderr == ""


def test_nmap_scan(tmp_path):
    out = tmp_path / "scan.html"
    result = invoke("--nmap", SCAN, "-o", str(out))
    assert result.exit_code == 1, result.output
    assert "nmap scan" in result.stderr and "6 covered, 6 clear" in result.stderr
    page = out.read_text(encoding="utf-8")
    assert "cam-lobby-01.plant.example" in page and "Hikvision IP camera httpd" in page


@pytest.mark.parametrize("args,message", [
    ([str(FIXTURES / "assets_bad_columns.csv")], "assets_bad_columns.csv: no column to screen"),
    (["--nmap", str(FIXTURES / "assets_hostile.xml")], "assets_hostile.xml: refused: the XML declares entities"),
    (["--nmap", str(FIXTURES / "missing.xml")], "missing.xml: nmap scan not found"),
    ([INVENTORY, "--map", "model=Nope"], "--map 'model=Nope'"),
    ([INVENTORY, "-f", "xlsx"], "--format xlsx needs a file"),
    ([INVENTORY, "-f", "pdf"], "--format 'pdf': expected one of jsonl, csv, xlsx, html"),
    ([], "nothing to screen: give an INVENTORY file"),
])
def test_errors_are_one_line_exit_2(args, message):
    result = CliRunner().invoke(app, ["assets", *args])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], result.stderr


def test_bad_as_of():
    result = CliRunner().invoke(app, ["assets", INVENTORY, "--as-of", "30/11/2026"])
    assert result.exit_code == 2 and "not a date; expected YYYY-MM-DD" in result.stderr


def test_row_errors_exit_2_and_keep_every_row():
    result = invoke(str(FIXTURES / "assets_bad_rows.csv"))
    assert result.exit_code == 2
    out = records(result.stdout)
    assert len(out) == 8 and sum(r["status"] == "error" for r in out) == 6
    assert "6 row(s) could not be screened" in result.stderr


def test_real_process_csv_output(tmp_path):
    out = tmp_path / "results.csv"
    env = dict(os.environ, COLUMNS="200")
    proc = subprocess.run([*MAIN, "assets", INVENTORY, "--nmap", SCAN, "-o", str(out)], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 1, proc.stderr
    lines = out.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].startswith("row,status,producer,signals,rules,citations,summary,error,Asset Tag")
    assert len(lines) == 1 + 57 + 12, "every inventory row, then every scanned host not in it"
