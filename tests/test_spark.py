"""``clearance screen --engine spark``: the same matcher on PySpark ``local[2]``,
results identical to the local engine (real bundled lists)."""

from __future__ import annotations

import json
import shutil

import pytest

from tests.test_batch_support import PLANTED, cli, planted_rows, screen_home, warm_bundled_home  # noqa: F401

pyspark = pytest.importorskip("pyspark", reason="PySpark is not installed (pip install pyspark)")
if shutil.which("java") is None:  # pragma: no cover - depends on the machine
    pytest.skip("no Java runtime: Spark needs Java 17+", allow_module_level=True)


def test_spark_engine_matches_local_engine(screen_home, tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    local = tmp_path / "local.jsonl"
    assert cli("screen", str(PLANTED), "-o", str(local), home=screen_home).returncode == 1

    rows = planted_rows()
    pq.write_table(pa.table({k: [r[k] or None for r in rows] for k in ("ref", "name", "country", "type")}), tmp_path / "in.parquet")
    from clearance.screen.spark import screen_file_spark, session
    from clearance.store import open_store

    spark = session("local[2]")
    try:
        store = open_store(initialise=False)
        out = tmp_path / "spark.jsonl"
        summary = screen_file_spark(store, PLANTED, out, "jsonl", spark=spark)
        assert out.read_text(encoding="utf-8") == local.read_text(encoding="utf-8")
        assert summary.rows == len(rows) and summary.run_id
        assert summary.counts["match"] == sum(1 for r in rows if r["kind"] != "clean")

        dataset = tmp_path / "spark.parquet"
        screen_file_spark(store, tmp_path / "in.parquet", dataset, "parquet", spark=spark, record=False)
        table = pq.read_table(dataset).to_pylist()
        table.sort(key=lambda r: r["row"])
        expected = [json.loads(x) for x in local.read_text(encoding="utf-8").splitlines()]
        assert [t["row"] for t in table] == list(range(len(rows)))
        assert [t["status"] for t in table] == [e["status"] for e in expected]
        assert [json.loads(t["hits"]) for t in table] == [e["hits"] for e in expected]
    finally:
        spark.stop()


def test_spark_cli_options(screen_home, tmp_path):
    result = cli("screen", str(PLANTED), "--engine", "spark", home=screen_home)
    assert result.returncode == 2 and "needs -o OUTPUT" in result.stderr
    result = cli("screen", str(PLANTED), "--engine", "spark", "-o", str(tmp_path / "x.xlsx"), home=screen_home)
    assert result.returncode == 2 and "parquet or jsonl" in result.stderr
