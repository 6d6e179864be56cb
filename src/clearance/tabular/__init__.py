"""Reading and writing tables of user records: CSV (any delimiter/encoding),
XLSX, JSON Lines and Parquet in; JSON Lines, CSV and XLSX out.

Shared by batch screening (``clearance screen``) and covered-equipment
inventories (``clearance assets``): callers give their own field synonyms and
their own flattening of output records.

>>> table = open_table("parties.csv")                  # sniffs format, encoding, delimiter
>>> mapping = map_fields(table.columns, SYNONYMS, ["name=Company"])
>>> for row in table.rows():                           # streams: constant memory
...     values = mapping.extract(row)                  # {"name": "...", "country": "..."}
"""

from .read import (
    MAX_CELL,
    FieldMapping,
    Row,
    Table,
    file_fingerprint,
    map_fields,
    normalise_header,
    open_table,
)
from .write import FORMATS, RecordWriter, Sheet, format_for_path, neutralise, open_writer

__all__ = [
    "FORMATS",
    "MAX_CELL",
    "FieldMapping",
    "RecordWriter",
    "Sheet",
    "format_for_path",
    "Row",
    "Table",
    "file_fingerprint",
    "map_fields",
    "neutralise",
    "normalise_header",
    "open_table",
    "open_writer",
]
