"""Column summaries straight from a table file, holding little of it at a time.

A Parquet file is read one column at a time through pyarrow into NumPy (pandas is not imported):
memory stays near one column. A CSV or TSV file is parsed by pandas' C parser in chunks of rows;
each chunk's values are counted or kept as float64 and the chunk is dropped, so a frame of the
whole file is never built. Any other input (folders, Feather, JSON lines), and a column whose
type is not one of the plain ones, takes the frame path (tabular.read_table, then summarise).
Both paths give the same summaries.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from mlgate.errors import ConfigError, Location
from mlgate.gates.drift.summary import (
    NESTED,
    NUMERIC_KINDS,
    SHAPE_SAMPLE,
    ColumnSummary,
    categorical_summary,
    is_iso_date,
    numeric_summary,
    object_shape,
    plain_value,
    shape_of_text,
    summarise,
)

if TYPE_CHECKING:
    import pyarrow as pa

# Rows per chunk of a text table: large enough that per-chunk overhead is small, small enough
# that a chunk is a small part of the frame.
CSV_CHUNK_ROWS = 250_000


def summarise_table(
    path: Path, columns: Sequence[str], *, what: str, max_points: int | None
) -> tuple[dict[str, ColumnSummary], int]:
    """Summaries of ``columns`` of the table at ``path`` and its number of rows."""
    from mlgate.tabular import table_kind

    kind = table_kind(path) if path.is_file() else None
    if kind == "parquet":
        return _parquet(path, columns, what, max_points)
    if kind in ("csv", "tsv"):
        return _text(path, kind, columns, what, max_points)
    return _frame(path, columns, what, max_points)


def _frame(
    path: Path, columns: Sequence[str], what: str, max_points: int | None
) -> tuple[dict[str, ColumnSummary], int]:
    from mlgate.tabular import read_table

    frame = read_table(path, what=what, columns=list(columns))
    return {c: summarise(frame[c], max_points=max_points) for c in columns}, len(frame)


def _no_rows(path: Path, what: str) -> ConfigError:
    return ConfigError(f"{what} has no rows: {path}", location=Location(str(path)))


# --- Parquet -----------------------------------------------------------------------------------


def _parquet(
    path: Path, columns: Sequence[str], what: str, max_points: int | None
) -> tuple[dict[str, ColumnSummary], int]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path)
        # Text is read dictionary-encoded (pandas writes it so): no Python string per row.
        text = {
            n
            for n in columns
            if pa.types.is_string(schema.field(n).type)
            or pa.types.is_large_string(schema.field(n).type)
        }
        file = pq.ParquetFile(path, read_dictionary=sorted(text))
        rows = file.metadata.num_rows
        found = {}
        for name in columns if rows else ():
            table = file.read(columns=[name], use_threads=False, use_pandas_metadata=False)
            values = table.column(0)
            del table
            found[name] = _arrow_summary(
                name, schema.field(name).type, values, max_points, name in text
            )
            del values
    except (OSError, ValueError, KeyError, pa.ArrowException) as exc:
        raise ConfigError(f"cannot read {what} file: {exc}", location=Location(str(path))) from None
    if rows == 0:
        raise _no_rows(path, what)
    return found, rows


def _arrow_summary(
    name: str, kind: pa.DataType, values: pa.ChunkedArray, max_points: int | None, text: bool
) -> ColumnSummary:
    """One Arrow column's summary; the types pandas would read into another dtype than the
    plain ones (dates, decimals, durations, ...) go through pandas to stay identical."""
    import pyarrow as pa

    rows = len(values)
    count = rows - values.null_count
    types = pa.types
    if types.is_boolean(kind) and values.null_count == 0:
        return _counted(name, "boolean", rows, values)
    if types.is_integer(kind) or types.is_floating(kind):
        dtype = "integer" if types.is_integer(kind) and values.null_count == 0 else "float"
        parts = [_numbers(c) for c in values.chunks]
        numbers = parts[0] if len(parts) == 1 else np.concatenate(parts or [np.empty(0)])
        # A copy made here (joined chunks, converted or with nulls) is sorted in place; a view
        # of Arrow's buffer is not.
        owned = numbers.base is None
        return numeric_summary(name, dtype, numbers, max_points, owned=owned)
    if types.is_timestamp(kind):
        return ColumnSummary(name, "datetime", rows, count, 0)
    if types.is_list(kind) or types.is_large_list(kind) or types.is_fixed_size_list(kind):
        return ColumnSummary(name, NESTED, rows, count, 0)
    if types.is_struct(kind) or types.is_map(kind):
        return ColumnSummary(name, NESTED, rows, count, 0)
    if text:
        shape = _text_shape(values)
        if shape is not None:
            return ColumnSummary(name, shape, rows, count, 0)
        return _counted(name, "string", rows, values)
    if types.is_dictionary(kind) and (
        types.is_string(kind.value_type) or types.is_large_string(kind.value_type)
    ):
        return _counted(name, "category", rows, values)
    return summarise(values.to_pandas().rename(name), max_points=max_points)


def _text_shape(values: pa.ChunkedArray) -> str | None:
    """shape_of_text of an Arrow text column's first values. They are strings (never nested),
    so unless the first present one reads as a date the column is plain text: that is decided
    on a few values, before thousands are turned into Python strings (5 ms a column)."""
    first = next((v for v in values.slice(0, 16).to_pylist() if v is not None), None)
    if first is not None and not is_iso_date(first):
        return None
    head = [v for v in values.slice(0, SHAPE_SAMPLE * 4).to_pylist() if v is not None]
    return shape_of_text(head[:SHAPE_SAMPLE])


# Arrow's names of the floating types NumPy names otherwise.
_NUMPY_NAMES = {"double": "float64", "float": "float32", "halffloat": "float16"}


def _numbers(chunk: pa.Array) -> np.ndarray:
    """A numeric Arrow array as float64, nulls as NaN (as pandas reads them), straight from its
    buffers: pyarrow's own conversion imports pandas (about 0.4 s)."""
    values = _view(chunk)
    numbers = values.astype(np.float64, copy=False)
    valid = _valid(chunk)
    if valid is not None:
        numbers = numbers.copy() if numbers is values else numbers
        numbers[~valid] = np.nan
    return numbers


def _view(chunk: pa.Array) -> np.ndarray:
    """The data buffer of a primitive Arrow array as NumPy, without a copy."""
    dtype = np.dtype(_NUMPY_NAMES.get(str(chunk.type), str(chunk.type)))
    data = chunk.buffers()[1]
    if data is None or not len(chunk):
        return np.empty(0, dtype=dtype)
    return np.frombuffer(data, dtype=dtype, count=len(chunk), offset=chunk.offset * dtype.itemsize)


def _bits(buffer: Any, chunk: pa.Array) -> np.ndarray:
    bits = np.unpackbits(np.frombuffer(buffer, dtype=np.uint8), bitorder="little")
    return bits[chunk.offset : chunk.offset + len(chunk)].astype(bool)


def _valid(chunk: pa.Array) -> np.ndarray | None:
    """Which values of an Arrow array are not null; None when all are."""
    if not chunk.null_count:
        return None
    return _bits(chunk.buffers()[0], chunk)


def _counted(name: str, dtype: str, rows: int, values: pa.ChunkedArray) -> ColumnSummary:
    """Value counts of a boolean or dictionary-encoded column, from the indices (NumPy's
    bincount; no Python object per row, and pyarrow.compute, 0.15 s to import, is not needed)."""
    import pyarrow as pa

    if not pa.types.is_boolean(values.type) and not pa.types.is_dictionary(values.type):
        values = values.dictionary_encode()
    found: dict[Any, int] = {}
    for chunk in values.chunks:
        valid = _valid(chunk)
        if pa.types.is_boolean(chunk.type):
            flags = _bits(chunk.buffers()[1], chunk) if len(chunk) else np.empty(0, bool)
            flags = flags if valid is None else flags[valid]
            trues = int(np.count_nonzero(flags))
            keys, counts = [True, False], [trues, len(flags) - trues]
        else:
            codes = _view(chunk.indices)
            codes = codes if valid is None else codes[valid]
            keys = chunk.dictionary.to_pylist()
            counts = np.bincount(codes, minlength=len(keys)).tolist()
        for key, n in zip(keys, counts, strict=True):
            if n:
                found[key] = found.get(key, 0) + n
    counted = np.fromiter(found.values(), dtype=np.int64, count=len(found))
    return categorical_summary(name, dtype, rows, list(found), counted)


# --- CSV and TSV -------------------------------------------------------------------------------


class _Column:
    """What the chunks of one text column add up to."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.kinds: set[str] = set()
        self.numbers: list[np.ndarray] = []
        self.counts: dict[Any, int] = {}
        self.shape: str | None = None  # datetime or nested, from the first chunk
        self.present = 0

    def add(self, series: Any) -> None:
        from mlgate.tabular import column_kind

        kind = column_kind(series)
        if not self.kinds and kind == "string":
            self.shape = _text_chunk_shape(series)
        self.kinds.add(kind)
        if self.shape is not None or kind == "datetime":
            self.present += int(series.notna().sum())
        elif kind in NUMERIC_KINDS:
            self.numbers.append(series.to_numpy(dtype=np.float64, na_value=np.nan))
        else:
            for value, n in series.value_counts(dropna=True, sort=False).items():
                key = plain_value(value)
                self.counts[key] = self.counts.get(key, 0) + int(n)

    def summary(self, rows: int, max_points: int | None) -> ColumnSummary | None:
        """The column's summary, or None when its chunks disagree on its type (then the whole
        column is read at once, as a frame would)."""
        kinds = self.kinds
        if self.shape is not None and kinds == {"string"}:
            return ColumnSummary(self.name, self.shape, rows, self.present, 0)
        if kinds <= set(NUMERIC_KINDS):
            dtype = "float" if "float" in kinds else "integer"
            values = np.concatenate(self.numbers) if self.numbers else np.empty(0)
            self.numbers = []
            return numeric_summary(self.name, dtype, values, max_points, owned=True)
        if len(kinds) == 1 and kinds <= {"string", "boolean"}:
            keys = list(self.counts)
            counts = np.fromiter(self.counts.values(), dtype=np.int64, count=len(keys))
            return categorical_summary(self.name, next(iter(kinds)), rows, keys, counts)
        return None


def _text_chunk_shape(series: Any) -> str | None:
    """object_shape of a text column's first chunk. CSV values are never lists or maps, so
    unless the first present value reads as a date the column is plain text (decided before a
    thousand values are listed and looked at)."""
    head = series.head(16).dropna()
    if len(head) and not is_iso_date(head.iloc[0]):
        return None
    return object_shape(series)


def _text(
    path: Path, kind: str, columns: Sequence[str], what: str, max_points: int | None
) -> tuple[dict[str, ColumnSummary], int]:
    import pandas as pd

    from mlgate.tabular import csv_options, read_errors

    options = csv_options(path, kind, {})
    parts = {c: _Column(c) for c in columns}
    rows = 0
    with (
        read_errors(path, what),
        pd.read_csv(path, usecols=list(columns), chunksize=CSV_CHUNK_ROWS, **options) as chunks,
    ):
        for chunk in chunks:
            rows += len(chunk)
            for name, part in parts.items():
                part.add(chunk[name])
    if rows == 0:
        raise _no_rows(path, what)
    found: dict[str, ColumnSummary] = {}
    mixed = []
    for name, part in parts.items():
        summary = part.summary(rows, max_points)
        if summary is None:
            mixed.append(name)
        else:
            found[name] = summary
    if mixed:
        found.update(_frame(path, mixed, what, max_points)[0])
    return {c: found[c] for c in columns}, rows
