"""The CSV reader's fast path (a well-formed row) gives exactly what the per-cell checks give."""

from __future__ import annotations

import csv

from clearance.tabular import open_table
from clearance.tabular.read import MAX_CELL, _finish


def test_csv_fast_path_matches_the_checked_path(tmp_path):
    path = tmp_path / "mixed.csv"
    big = "Y" * (MAX_CELL - 10)
    lines = [
        "name,country,note",
        "Acme GmbH,DE,plain",
        "  padded  , , ",
        ",,",
        "   ,  ,  ",
        '"quoted, comma",FR,"multi\nline"',
        f"{big},US,{big}",  # each cell fits, the row is long
        f"{'Z' * (MAX_CELL + 5)},US,x",  # one cell too long: an error row
        "only two,cells",
        "one,two,three,four",
        "Bad \xff bytes,RU,x",
        "last,IT,",
    ]
    path.write_bytes("\n".join(lines).encode("utf-8").replace("\xff".encode("utf-8"), b"\xff") + b"\n")
    table = open_table(path)
    got = [(r.index, r.line, r.values, r.error) for r in table.rows()]

    expected = []
    with path.open("r", encoding=table.encoding, errors="surrogateescape", newline="") as fh:
        reader = csv.reader(fh)
        header = True
        index = 0
        line = reader.line_num + 1
        for cells in reader:
            start, line = line, reader.line_num + 1
            if not cells or not any(c.strip() for c in cells):
                continue
            if header:
                header = False
                continue
            row = _finish(index, start, table.columns, cells, f"{path.name}, line {start}")
            expected.append((row.index, row.line, row.values, row.error))
            index += 1
    assert got == expected
    assert [g[3] is not None for g in got] == [False, False, False, False, True, True, True, True, False]
    assert got[1][2] == {"name": "padded", "country": None, "note": None}
    assert "\ufffd" in got[7][2]["name"]
