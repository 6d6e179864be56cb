"""The demo sample, screened end to end: every listed name and near miss is
flagged with an entry of the list its note names, every clean name stays clear."""

from __future__ import annotations

import csv
import json

from .conftest import ROOT, run_cli

SAMPLE = ROOT / "data" / "samples" / "counterparties.csv"
LIST_OF_NOTE = {"NS-CMIC": "us-ofac-nonsdn", "SDN": "us-ofac-sdn", "DPL": "us-bis-dpl", "UN": "un-sc"}


def test_demo_sample_is_screened_as_labelled(copy_of_bundled, tmp_path):
    out = tmp_path / "demo.jsonl"
    result = run_cli("screen", str(SAMPLE), "-o", str(out))
    assert result.returncode == 1, result.stderr  # something flagged
    with SAMPLE.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["row"] for r in records] == list(range(len(rows)))
    for row, record in zip(rows, records):
        note = row["note"]
        if note.startswith("clean"):
            assert record["status"] == "clear", (row["name"], record["hits"][:1])
            continue
        assert record["status"] in ("match", "review"), row["name"]
        wanted = next((src for key, src in LIST_OF_NOTE.items() if f"({key})" in note), None)
        if wanted:
            assert wanted in {h["source"] for h in record["hits"]}, (row["name"], wanted)


def test_demo_command_prints_a_summary(bundled_home):
    result = run_cli("demo", str(SAMPLE), env={"CLEARANCE_HOME": str(bundled_home), "COLUMNS": "160"})
    assert result.returncode == 0, result.stderr
    assert "25 rows screened" in result.stdout
    assert "hangzhou hikvision" in result.stdout.lower()
