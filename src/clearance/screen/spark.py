"""Batch screening on Apache Spark, for inputs that do not fit one machine.

The same matcher, the same row handling and the same record contract as the
local engine (:mod:`clearance.screen.batch`): the driver loads (or builds) the
match index once and **broadcasts** it; each Python worker unpickles it once
and screens its partitions with ``mapInPandas``.

From a Spark job::

    from clearance.screen.spark import screen_dataframe, broadcast_index
    from clearance.store import open_store

    store = open_store()
    index = broadcast_index(spark, store)                 # once per job
    results = screen_dataframe(df, index, mapping={"name": "legal_name", "country": "ctry"})
    results.write.parquet("s3://.../screened")            # row, status, error, input, hits (JSON)

``df`` needs a ``_row`` column (0-based input order) or one is added with
``zipWithIndex``.  The CLI's ``clearance screen FILE --engine spark -o OUT``
reads Parquet or CSV, writes Parquet (a dataset folder) or JSON Lines (one
file, rows in input order) and records the run and its alerts like the local
engine.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

from ..errors import InputError
from ..match.matcher import Thresholds
from ..tabular import FieldMapping, Row
from ..tabular.read import check_row, cell_text, file_fingerprint
from .batch import BatchSummary, prepare, record_batch_run, screen_row, screener_for

#: Schema of the result rows.
RESULT_SCHEMA = "row long, status string, error string, input string, hits string, record string"

_CACHE: dict[str, Any] = {}


def session(master: str | None = None, app_name: str = "clearance-screen"):
    """The active Spark session, or a new one (``local[*]`` unless ``master`` says otherwise)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:  # pragma: no cover - depends on the install
        raise InputError("--engine spark needs PySpark (pip install pyspark) and Java 17+") from None
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    active = SparkSession.getActiveSession()
    if active is not None and master is None:
        return active
    builder = SparkSession.builder.appName(app_name).master(master or "local[*]")
    builder = builder.config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "8")
    builder = builder.config("spark.sql.execution.arrow.pyspark.enabled", "true")
    builder = builder.config("spark.python.worker.reuse", "true").config("spark.ui.showConsoleProgress", "false")
    return builder.getOrCreate()


def broadcast_index(spark, store=None, sources: list[str] | None = None, as_of: str | None = None, index=None):
    """Broadcast the match index (the store's active one, or ``index``) to the executors, once."""
    if index is None:
        screener, _ = screener_for(store, sources, as_of)
        index = screener.index
    return spark.sparkContext.broadcast(pickle.dumps(index, protocol=pickle.HIGHEST_PROTOCOL))


def _screener(index_bc, token: str, sources, thresholds: Mapping[str, float]):
    """One screener per Python worker process and broadcast (the index is unpickled once)."""
    from .check import Screener

    key = f"{token}:{sources}:{sorted(thresholds.items())}"
    screener = _CACHE.get(key)
    if screener is None:
        _CACHE.clear()
        screener = Screener(index=pickle.loads(index_bc.value), sources=sources, thresholds=Thresholds(**thresholds))
        _CACHE[key] = screener
    return screener


def _partition_screener(index_bc, mapping: Mapping[str, str], columns: Sequence[str], sources, thresholds, corrupt: str | None, first_line: int):
    field_map = FieldMapping(dict(mapping), {k: "map" for k in mapping}, [])
    token = uuid.uuid4().hex  # names this broadcast in the workers' cache

    def run(frames: Iterator[Any]) -> Iterator[Any]:
        import pandas as pd

        screener = _screener(index_bc, token, sources, thresholds)
        for frame in frames:
            out = {"row": [], "status": [], "error": [], "input": [], "hits": [], "record": []}
            records = frame.to_dict("records")
            for item in records:
                index = int(item["_row"])
                values = {c: cell_text(item.get(c)) for c in columns}
                bad = cell_text(item.get(corrupt)) if corrupt else None
                where = f"line {index + first_line}"
                row = check_row(Row(index, index + first_line, values, f"{where}: cells do not fit the header (ragged row)" if bad else None), where)
                record = screen_row(screener, row, field_map)
                out["row"].append(index)
                out["status"].append(record["status"])
                out["error"].append(record.get("error"))
                out["input"].append(json.dumps(record["input"], ensure_ascii=False))
                out["hits"].append(json.dumps(record["hits"], ensure_ascii=False))
                out["record"].append(json.dumps(record, ensure_ascii=False))
            yield pd.DataFrame(out, columns=list(out))

    return run


def with_row_numbers(df):
    """``df`` with a ``_row`` column numbering its rows 0.. in order (zipWithIndex)."""
    if "_row" in df.columns:
        return df
    from pyspark.sql.types import LongType, StructField, StructType

    schema = StructType(list(df.schema.fields) + [StructField("_row", LongType(), False)])
    return df.rdd.zipWithIndex().map(lambda pair: (*pair[0], pair[1])).toDF(schema)


def screen_dataframe(
    df,
    index_bc,
    mapping: Mapping[str, str],
    sources: list[str] | None = None,
    thresholds: Thresholds | None = None,
    columns: Sequence[str] | None = None,
    corrupt_column: str | None = None,
    first_line: int = 1,
):
    """Screen a DataFrame: one result row per input row (``row, status, error, input, hits, record``).

    ``mapping`` is screening field -> column (as :func:`clearance.tabular.map_fields`
    gives); ``index_bc`` comes from :func:`broadcast_index`.
    """
    thresholds = thresholds or Thresholds()
    df = with_row_numbers(df)
    columns = list(columns or [c for c in df.columns if c not in ("_row", corrupt_column)])
    fn = _partition_screener(
        index_bc, mapping, columns, sources, {"match": thresholds.match, "review": thresholds.review}, corrupt_column, first_line
    )
    return df.mapInPandas(fn, RESULT_SCHEMA)


def read_input(spark, table, encoding: str | None = None):
    """A Spark DataFrame of an input the local reader has sniffed (Parquet or CSV); all cells as text."""
    from pyspark.sql.types import StringType, StructField, StructType

    path = str(table.path)
    if table.format == "parquet":
        return spark.read.parquet(path), None
    if table.format != "csv":
        raise InputError(f"{table.path}: --engine spark reads Parquet or CSV, not {table.describe()}")
    corrupt = "_corrupt_record"
    schema = StructType([StructField(c, StringType(), True) for c in table.columns] + [StructField(corrupt, StringType(), True)])
    df = (
        spark.read.option("header", True).option("sep", table.delimiter or ",").option("encoding", encoding or table.encoding or "utf-8")
        .option("multiLine", True).option("mode", "PERMISSIVE").option("columnNameOfCorruptRecord", corrupt)
        .option("escape", '"').option("ignoreLeadingWhiteSpace", False).option("ignoreTrailingWhiteSpace", False)
        .schema(schema).csv(path)
    )
    return df, corrupt


def screen_file_spark(
    store,
    path: str | Path,
    output: str | Path,
    fmt: str = "parquet",
    maps: Sequence[str] = (),
    sources: list[str] | None = None,
    as_of: str | None = None,
    encoding: str | None = None,
    thresholds: Thresholds | None = None,
    master: str | None = None,
    spark=None,
    record: bool = True,
) -> BatchSummary:
    """``clearance screen --engine spark``: Parquet/CSV in, Parquet dataset or one JSONL file out; run recorded."""
    if fmt not in ("parquet", "jsonl"):
        raise InputError(f"--engine spark writes parquet or jsonl, not {fmt!r}")
    path, output = Path(path), Path(output)
    thresholds = thresholds or Thresholds()
    table, mapping = prepare(path, maps, encoding)
    if table.format not in ("parquet", "csv"):
        raise InputError(f"{path}: --engine spark reads Parquet or CSV, not {table.describe()}")
    screener, snapshots = screener_for(store, sources, as_of, thresholds)
    summary = BatchSummary(path, table, mapping, snapshots, thresholds, output, fmt)
    summary.fingerprint = file_fingerprint(path)
    from ..store.runs import now

    summary.started = now()
    started = time.perf_counter()
    spark = spark or session(master)
    index_bc = spark.sparkContext.broadcast(pickle.dumps(screener.index, protocol=pickle.HIGHEST_PROTOCOL))
    try:
        df, corrupt = read_input(spark, table, encoding)
        results = screen_dataframe(df, index_bc, mapping.to_dict(), sources, thresholds, table.columns, corrupt, 2 if table.format == "csv" else 1)
        _write(results, output, fmt)
        flagged_list = []
        for status, record_json in _read_back(spark, output, fmt):
            summary.counts[status] += 1
            summary.rows += 1
            if status in ("match", "review"):
                rec = json.loads(record_json)
                best = rec["hits"][0]
                summary.by_source[best["source"]] += 1
                for program in best.get("programs") or ["(none)"]:
                    summary.by_program[program] += 1
                flagged_list.append(rec)
        summary.elapsed = time.perf_counter() - started
        if record:
            summary.run_id = record_batch_run(store, summary, as_of, sources, flagged_list, engine="spark")
    finally:
        index_bc.unpersist()
    return summary


def _read_back(spark, output: Path, fmt: str) -> Iterator[tuple[str, str | None]]:
    """(status, record JSON of flagged rows) from the written output, without screening again."""
    if fmt == "jsonl":
        with output.open(encoding="utf-8") as fh:
            for line in fh:
                status = json.loads(line)["status"]
                yield status, line if status in ("match", "review") else None
        return
    df = spark.read.parquet(str(output))
    for status, n in df.groupBy("status").count().collect():
        if status not in ("match", "review"):
            for _ in range(n):
                yield status, None
    for r in df.where("status in ('match', 'review')").orderBy("row").toLocalIterator():
        yield r.status, json.dumps({"row": r.row, "input": json.loads(r.input), "status": r.status, "hits": json.loads(r.hits)}, ensure_ascii=False)


def _write(results, output: Path, fmt: str) -> None:
    if fmt == "parquet":
        results.drop("record").orderBy("row").write.mode("overwrite").parquet(str(output))
        return
    # JSON Lines: one file, rows in input order
    work = Path(tempfile.mkdtemp(prefix=".clearance-spark-", dir=str(output.parent) if str(output.parent) else "."))
    try:
        results.select("row", "record").repartition(1).sortWithinPartitions("row").select("record").write.mode("overwrite").text(str(work / "out"))
        parts = sorted((work / "out").glob("part-*"))
        tmp = output.with_name(f".{output.name}.part")
        with tmp.open("wb") as out:
            for part in parts:
                with part.open("rb") as fh:
                    shutil.copyfileobj(fh, out)
        os.replace(tmp, output)
    finally:
        shutil.rmtree(work, ignore_errors=True)


__all__ = ["broadcast_index", "read_input", "screen_dataframe", "screen_file_spark", "session", "with_row_numbers"]
