"""Reading tables (CSV, Parquet, folders of them) with errors that name the file, and signatures.

A signature is the list of feature columns and their kinds, captured from the training data; the
serving container validates requests against it and the data checks compare new data with it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlgate.errors import ConfigError, Location

if TYPE_CHECKING:
    import pandas as pd

CSV_SUFFIXES = (".csv", ".tsv", ".csv.gz", ".tsv.gz")
PARQUET_SUFFIXES = (".parquet", ".pq")


def table_files(path: Path) -> list[Path]:
    """The data files a path stands for: itself, or the tables below a folder in sorted order."""
    if path.is_dir():
        found = sorted(p for p in path.rglob("*") if p.is_file() and _kind(p) is not None)
        if not found:
            raise ConfigError(f"no CSV or Parquet files in folder {path}")
        return found
    return [path]


def _kind(path: Path) -> str | None:
    name = path.name.lower()
    if name.endswith(CSV_SUFFIXES):
        return "csv"
    if name.endswith(PARQUET_SUFFIXES):
        return "parquet"
    return None


def read_table(
    path: Path, *, what: str = "data", columns: Sequence[str] | None = None
) -> pd.DataFrame:
    """Read a CSV/Parquet file or folder into a DataFrame; problems raise ConfigError (exit 2)."""
    import pandas as pd

    if not path.exists():
        raise ConfigError(f"{what} file not found: {path}", location=Location(str(path)))
    frames = [_read_one(p, what, columns) for p in table_files(path)]
    frame = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    if frame.empty:
        raise ConfigError(f"{what} has no rows: {path}", location=Location(str(path)))
    return frame


def _read_one(path: Path, what: str, columns: Sequence[str] | None) -> pd.DataFrame:
    import pandas as pd

    kind = _kind(path)
    try:
        if kind == "parquet":
            return pd.read_parquet(path, columns=list(columns) if columns else None)
        if kind == "csv" or kind is None:
            sep = "\t" if ".tsv" in path.name.lower() else ","
            return pd.read_csv(path, sep=sep, usecols=list(columns) if columns else None)
    except ImportError as exc:
        raise ConfigError(
            f"cannot read Parquet file {path}: {exc}",
            hint="install pyarrow (pip install pyarrow)",
        ) from None
    except pd.errors.EmptyDataError:
        raise ConfigError(f"{what} file is empty: {path}", location=Location(str(path))) from None
    except pd.errors.ParserError as exc:
        raise ConfigError(
            f"cannot parse {what} file: {exc}", location=Location(str(path))
        ) from None
    except ValueError as exc:
        # pandas raises ValueError for usecols naming missing columns.
        raise ConfigError(f"cannot read {what} file: {exc}", location=Location(str(path))) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{what} file is not UTF-8 text (byte {exc.start})", location=Location(str(path))
        ) from None
    raise AssertionError("unreachable")  # pragma: no cover


def table_columns(path: Path, *, what: str = "data") -> list[str]:
    """Column names of a table file or folder (its first file), read from the header only."""
    import pandas as pd

    if not path.exists():
        raise ConfigError(f"{what} file not found: {path}", location=Location(str(path)))
    first = table_files(path)[0]
    try:
        if _kind(first) == "parquet":
            import pyarrow.parquet as pq

            return [str(n) for n in pq.read_schema(first).names]
        sep = "\t" if ".tsv" in first.name.lower() else ","
        return [str(c) for c in pd.read_csv(first, sep=sep, nrows=0).columns]
    except pd.errors.EmptyDataError:
        raise ConfigError(f"{what} file is empty: {first}", location=Location(str(first))) from None
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"cannot read {what} file: {exc}", location=Location(str(first))
        ) from None


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
