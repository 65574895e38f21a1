"""Reading tables, with errors that name the file, and signatures.

Formats: CSV (delimiter sniffed unless ``data.options`` says), TSV, Parquet, Feather/Arrow and
JSON lines, or folders of them; one table may be split into train and eval rows exactly as
scikit-learn's ``train_test_split`` splits it.

A signature is the list of feature columns and their kinds, captured from the training data; the
serving container validates requests against it and the data checks compare new data with it.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlgate.errors import ConfigError, Location

if TYPE_CHECKING:
    import pandas as pd

# Table formats by file name ending (compressed text formats included); anything else is refused
# at ``config check``, naming these.
SUFFIXES: dict[str, tuple[str, ...]] = {
    "csv": (".csv", ".csv.gz", ".csv.bz2", ".csv.zst"),
    "tsv": (".tsv", ".tsv.gz", ".tab"),
    "parquet": (".parquet", ".pq"),
    "feather": (".feather", ".arrow", ".ipc"),
    "jsonl": (".jsonl", ".ndjson", ".jsonl.gz"),
}
SUPPORTED = (
    "CSV (.csv), TSV (.tsv), Parquet (.parquet), Feather/Arrow (.feather, .arrow) "
    "or JSON lines (.jsonl, .ndjson)"
)
# Delimiters a CSV file may use when ``data.options.delimiter`` does not say.
_DELIMITERS = ",;\t|"
_SNIFF_BYTES = 64 * 1024
# Reader options ``data.options`` may set (CSV and TSV).
OPTIONS = ("delimiter", "decimal", "encoding", "quotechar", "na_values", "thousands")


def table_kind(path: Path) -> str | None:
    """The table format a file name says, or None when mlgate does not read it."""
    name = path.name.lower()
    for kind, endings in SUFFIXES.items():
        if name.endswith(endings):
            return kind
    return None


def unreadable(path: Path) -> str | None:
    """Why mlgate cannot read ``path`` as a table (for ``config check``), or None."""
    if path.is_dir():
        if not any(p.is_file() and table_kind(p) for p in path.rglob("*")):
            return f"no {SUPPORTED} files in this folder"
        return None
    if table_kind(path) is None:
        return f"{path.name} is not a table mlgate reads: use {SUPPORTED}"
    return None


def table_files(path: Path) -> list[Path]:
    """The data files a path stands for: itself, or the tables below a folder in sorted order."""
    if path.is_dir():
        found = sorted(p for p in path.rglob("*") if p.is_file() and table_kind(p) is not None)
        if not found:
            raise ConfigError(f"no {SUPPORTED} files in folder {path}")
        return found
    return [path]


@dataclass(frozen=True)
class Split:
    """``data.split``: one table cut into train and eval rows as scikit-learn's
    ``train_test_split(..., test_size, train_size, random_state=seed, shuffle, stratify)``."""

    seed: int | None
    test_size: float | int | None = None
    train_size: float | int | None = None
    stratify: str | None = None
    shuffle: bool = True


def split_rows(frame: pd.DataFrame, split: Split) -> tuple[Any, Any]:
    """Row positions of the train and eval parts, by scikit-learn's own ``train_test_split``
    (so they are the rows a script calling it with the same arguments held out)."""
    import numpy as np
    from sklearn.model_selection import train_test_split

    stratify = None
    if split.stratify is not None:
        if split.stratify not in frame.columns:
            raise ConfigError(
                f"data.split.stratify names column {split.stratify!r}, which the table lacks",
                hint="columns: " + ", ".join(map(str, frame.columns)),
            )
        stratify = frame[split.stratify].to_numpy()
    try:
        train, test = train_test_split(
            np.arange(len(frame)),
            test_size=split.test_size,
            train_size=split.train_size,
            random_state=split.seed,
            shuffle=split.shuffle,
            stratify=stratify,
        )
    except ValueError as exc:
        raise ConfigError(f"data.split cannot split the table: {exc}") from None
    return train, test


def read_data(
    data: Any, role: str, *, what: str | None = None, columns: Sequence[str] | None = None
) -> pd.DataFrame:
    """The ``train`` or ``eval`` rows of a model's ``data`` (a ``DataSpec``): its file read with
    ``data.options``, and cut by ``data.split`` when one table holds both."""
    path = data.train if role == "train" or data.split is not None else data.eval
    what = what or ("training data" if role == "train" else "evaluation data")
    if path is None:
        raise ConfigError(f"no {what} configured (data.{role})")
    frame = read_table(path, what=what, columns=columns, options=data.options)
    if data.split is None:
        return frame
    train, test = split_rows(frame, data.split)
    return frame.iloc[train if role == "train" else test].reset_index(drop=True)


def read_table(
    path: Path,
    *,
    what: str = "data",
    columns: Sequence[str] | None = None,
    options: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Read a table file or folder into a DataFrame; problems raise ConfigError (exit 2)."""
    import pandas as pd

    if not path.exists():
        raise ConfigError(f"{what} file not found: {path}", location=Location(str(path)))
    frames = [_read_one(p, what, columns, options or {}) for p in table_files(path)]
    frame = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    if frame.empty:
        raise ConfigError(f"{what} has no rows: {path}", location=Location(str(path)))
    return frame


def _read_one(
    path: Path, what: str, columns: Sequence[str] | None, options: Mapping[str, Any]
) -> pd.DataFrame:
    import pandas as pd

    kind = table_kind(path)
    wanted = list(columns) if columns else None
    with read_errors(path, what, encoding_hint="set data.options.encoding to the file's encoding"):
        if kind == "parquet":
            return pd.read_parquet(path, columns=wanted)
        if kind == "feather":
            from pyarrow import feather

            return feather.read_table(path, columns=wanted).to_pandas()
        if kind == "jsonl":
            frame = pd.read_json(path, lines=True, dtype=False)
            return frame[wanted] if wanted else frame
        if kind is None:
            raise ConfigError(
                f"{what} file {path.name} is not a table mlgate reads: use {SUPPORTED}",
                location=Location(str(path)),
            )
        return pd.read_csv(path, usecols=wanted, **csv_options(path, kind, options))


@contextmanager
def read_errors(path: Path, what: str, *, encoding_hint: str | None = None) -> Iterator[None]:
    """Turns what pandas and pyarrow raise on a bad table file (empty, unparseable, not UTF-8,
    missing columns, not the format its name says) into a ConfigError naming the file."""
    where = Location(str(path))
    try:
        yield
    except ImportError as exc:
        raise ConfigError(
            f"cannot read {path}: {exc}", hint="install pyarrow (pip install pyarrow)"
        ) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{what} file is not UTF-8 text (byte {exc.start})", location=where, hint=encoding_hint
        ) from None
    except (ValueError, KeyError, OSError) as exc:
        # pandas raises ValueError for usecols naming missing columns (its EmptyDataError and
        # ParserError are ValueErrors too); pyarrow raises on a file that is not what its name
        # says. pandas is only looked up, never imported, here: a pyarrow-only read has none.
        errors = sys.modules.get("pandas.errors")
        if errors is not None and isinstance(exc, errors.EmptyDataError):
            raise ConfigError(f"{what} file is empty: {path}", location=where) from None
        if errors is not None and isinstance(exc, errors.ParserError):
            raise ConfigError(f"cannot parse {what} file: {exc}", location=where) from None
        raise ConfigError(f"cannot read {what} file: {exc}", location=where) from None


def csv_options(path: Path, kind: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """pandas ``read_csv`` options: ``data.options``, else a TSV's tab, else the sniffed
    delimiter of a CSV file (so a semicolon-separated file is not read as one column)."""
    chosen = {k: options[k] for k in OPTIONS if k in options}
    sep = chosen.pop("delimiter", None)
    if sep is None:
        sep = "\t" if kind == "tsv" else sniff_delimiter(path, chosen.get("encoding", "utf-8"))
    return {"sep": sep, **chosen}


def sniff_delimiter(path: Path, encoding: str = "utf-8") -> str:
    """The delimiter of a CSV file among ``, ; tab |`` from its first lines; ``,`` when unsure."""
    import csv

    try:
        with _open_text(path, encoding) as handle:
            sample = handle.read(_SNIFF_BYTES)
    except (OSError, UnicodeDecodeError, LookupError, EOFError):
        return ","
    lines = sample.splitlines()
    if len(sample) == _SNIFF_BYTES and len(lines) > 1:
        lines = lines[:-1]  # the last line may be cut
    sample = "\n".join(lines[:50])
    try:
        return csv.Sniffer().sniff(sample, delimiters=_DELIMITERS).delimiter
    except csv.Error:
        return ","


def joined_header(
    path: Path, present: Sequence[str], wanted: Sequence[str] = ()
) -> tuple[str, str] | None:
    """``(column, delimiter)`` when a text table's header looks read with the wrong delimiter:
    it is one column whose name splits on another delimiter (``x;k;i``), or a column name splits
    into columns ``wanted`` though none of ``wanted`` is present. None otherwise (and for
    binary formats, which have no delimiter)."""
    files = table_files(path) if path.exists() else [path]
    if table_kind(files[0]) not in ("csv", "tsv"):
        return None
    names = [str(n) for n in present]
    lone = len(names) == 1
    need = set(wanted) - set(names)
    if not lone and (not need or need != set(wanted)):
        return None
    for name in names:
        for delimiter in _DELIMITERS:
            parts = [p.strip().strip('"') for p in name.split(delimiter)]
            if len(parts) < 2 or not all(parts):
                continue
            if lone or need & set(parts):
                return name, delimiter
    return None


def _open_text(path: Path, encoding: str) -> Any:
    name = path.name.lower()
    if name.endswith(".gz"):
        import gzip

        return gzip.open(path, "rt", encoding=encoding, errors="strict")
    if name.endswith(".bz2"):
        import bz2

        return bz2.open(path, "rt", encoding=encoding)
    return path.open(encoding=encoding)


def table_columns(path: Path, *, what: str = "data") -> list[str]:
    """Column names of a table file or folder (its first file), read from the header only."""
    if not path.exists():
        raise ConfigError(f"{what} file not found: {path}", location=Location(str(path)))
    first = table_files(path)[0]
    kind = table_kind(first)
    try:
        if kind == "parquet":
            import pyarrow.parquet as pq

            return [str(n) for n in pq.read_schema(first).names]
        if kind == "feather":
            from pyarrow import ipc

            try:
                return [str(n) for n in ipc.open_file(first).schema.names]
            except (OSError, ValueError):  # Feather v1 has no IPC footer: read the table
                return [str(c) for c in _read_one(first, what, None, {}).columns]
        if kind == "jsonl" or kind is None:
            return [str(c) for c in _read_one(first, what, None, {}).columns]
        return _csv_header(first, kind, what)
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"cannot read {what} file: {exc}", location=Location(str(first))
        ) from None


def _csv_header(path: Path, kind: str, what: str) -> list[str]:
    import pandas as pd

    try:
        return [str(c) for c in pd.read_csv(path, nrows=0, **csv_options(path, kind, {})).columns]
    except pd.errors.EmptyDataError:
        raise ConfigError(f"{what} file is empty: {path}", location=Location(str(path))) from None


KINDS = ("integer", "float", "boolean", "string", "category", "datetime")


def column_kind(series: pd.Series) -> str:
    """A portable kind for a column: integer, float, boolean, string, category or datetime."""
    import pandas as pd
    from pandas.api import types

    if isinstance(series.dtype, pd.CategoricalDtype):
        return "category"
    if types.is_bool_dtype(series):
        return "boolean"
    if types.is_integer_dtype(series):
        return "integer"
    if types.is_float_dtype(series):
        return "float"
    if types.is_datetime64_any_dtype(series):
        return "datetime"
    return "string"


@dataclass(frozen=True)
class Column:
    name: str
    kind: str


@dataclass(frozen=True)
class Signature:
    """Feature names and kinds, in model input order."""

    columns: tuple[Column, ...]

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, features: Iterable[str]) -> Signature:
        return cls(tuple(Column(str(n), column_kind(frame[n])) for n in features))

    def to_dict(self) -> dict[str, Any]:
        return {"inputs": [{"name": c.name, "type": c.kind} for c in self.columns]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Signature:
        return cls(tuple(Column(c["name"], c["type"]) for c in data["inputs"]))


def feature_columns(
    frame: pd.DataFrame,
    *,
    target: str | None,
    features: Sequence[str] | None = None,
    sensitive: Sequence[str] = (),
    source: str = "data",
) -> list[str]:
    """The model's input columns: configured ``features``, else all but target and sensitive."""
    present = [str(c) for c in frame.columns]
    if features is not None:
        missing = [f for f in features if f not in present]
        if missing:
            raise ConfigError(
                f"{source} lacks feature column(s) {', '.join(map(repr, missing))}",
                hint="columns present: " + ", ".join(present),
            )
        return list(features)
    excluded = {target, *sensitive}
    return [c for c in present if c not in excluded]
