"""Per-column summaries: everything a drift test needs from one side, computed in one pass.

A numeric column is kept as its sorted finite values; above ``max_points`` values it is kept as
``max_points`` equally spaced quantiles (cell midpoints), which changes a normalised Wasserstein
distance by about 1e-5 and keeps a cached reference small. Exact value counts are kept for
columns with few distinct values, and the standard deviation is computed on all values.
Categorical columns are kept as value counts. Missing values (and infinities) are dropped, as
the widely used drift tools do, and counted.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

NUMERIC_KINDS = ("integer", "float")
# A column of lists, structs or maps (Parquet's nested types): not summarised, not tested.
NESTED = "nested"
# Value counts are kept for numeric columns with at most this many distinct values.
MAX_COUNTED = 1000
DEFAULT_POINTS = 100_000


@dataclass(frozen=True, eq=False)
class ColumnSummary:
    """One column of one table, reduced to what the drift tests read."""

    name: str
    dtype: str  # tabular.column_kind (integer, float, boolean, string, category, datetime), nested
    rows: int  # all rows, missing included
    count: int  # non-missing values
    distinct: int  # distinct non-missing values
    points: np.ndarray | None = None  # numeric: sorted values or quantile points
    exact: bool = True  # points are every value (not quantiles)
    std: float | None = None  # numeric: population standard deviation of all values
    keys: Sequence[Any] | None = None  # distinct values (sorted for numeric), when counted
    counts: np.ndarray | None = None  # occurrences of each key

    @property
    def numeric(self) -> bool:
        return self.dtype in NUMERIC_KINDS

    @property
    def missing(self) -> int:
        return self.rows - self.count

    def count_of(self, keys: Sequence[Any] | np.ndarray) -> np.ndarray:
        """Occurrences of each of ``keys`` (0 if absent); estimated from quantiles if uncounted."""
        if self.keys is not None and self.counts is not None:
            if self.numeric:
                known = np.asarray(self.keys, dtype=np.float64)
                wanted = np.asarray(keys, dtype=np.float64)
                pos = np.clip(np.searchsorted(known, wanted), 0, max(len(known) - 1, 0))
                hit = (known[pos] == wanted) if len(known) else np.zeros(len(wanted), bool)
                return np.where(hit, self.counts[pos] if len(known) else 0, 0).astype(np.float64)
            lookup = dict(zip(self.keys, self.counts.tolist(), strict=True))
            return np.array([lookup.get(k, 0) for k in keys], dtype=np.float64)
        if self.points is None:
            return np.zeros(len(keys))
        wanted = np.asarray(keys, dtype=np.float64)
        cells = np.searchsorted(self.points, wanted, "right") - np.searchsorted(
            self.points, wanted, "left"
        )
        return cells.astype(np.float64) * (self.count / len(self.points))


def summarise(series: pd.Series, *, max_points: int | None = DEFAULT_POINTS) -> ColumnSummary:
    """Summarise one column; ``max_points=None`` keeps every value (used for current data)."""
    from mlgate.tabular import column_kind

    dtype = column_kind(series)
    name = str(series.name)
    if dtype in NUMERIC_KINDS:
        return _numeric(name, dtype, series, max_points)
    if dtype == "datetime":
        return ColumnSummary(name, dtype, len(series), int(series.notna().sum()), 0)
    if dtype == "string":
        shape = object_shape(series)
        if shape is not None:
            return ColumnSummary(name, shape, len(series), int(series.notna().sum()), 0)
    return _categorical(name, dtype, series)


# Dates and times as text (a CSV's ``2024-01-31``, ``2024-01-31T12:00:00Z``): ISO 8601 order.
_ISO_DATE = re.compile(
    r"\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}(:?\d{2})?)?"
)
SHAPE_SAMPLE = 1000


def object_shape(series: pd.Series) -> str | None:
    """``nested`` for lists, structs and maps (Parquet), ``datetime`` for ISO dates as text, by
    the first non-missing values; None for plain strings."""
    return shape_of_text(series.head(SHAPE_SAMPLE * 4).dropna().head(SHAPE_SAMPLE).tolist())


def _numeric(name: str, dtype: str, series: pd.Series, max_points: int | None) -> ColumnSummary:
    values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    return numeric_summary(name, dtype, values, max_points)


def numeric_summary(
    name: str, dtype: str, values: np.ndarray, max_points: int | None, *, owned: bool = False
) -> ColumnSummary:
    """A numeric column's summary from its values as float64 (NaN for missing); ``values`` is
    not modified unless ``owned`` (the caller's own copy, then sorted in place)."""
    finite = np.isfinite(values)
    every = finite.all()
    kept: np.ndarray = values[finite] if not every else (values if owned else values.copy())
    kept.sort()
    count = len(kept)
    if count == 0:
        return ColumnSummary(name, dtype, len(values), 0, 0, points=kept, std=None)
    distinct = int(np.count_nonzero(kept[1:] != kept[:-1])) + 1
    keys: Any = None  # the sorted distinct values, as an array
    counts = None
    if distinct <= MAX_COUNTED:
        starts = np.flatnonzero(kept[1:] != kept[:-1]) + 1
        bounds = np.concatenate(([0], starts, [count]))
        keys = kept[bounds[:-1]]
        counts = np.diff(bounds)
    std = float(kept.std())
    points, exact = kept, True
    if max_points is not None and count > max_points:
        points, exact = quantiles(kept, max_points), False
    return ColumnSummary(
        name, dtype, len(values), count, distinct, points, exact, std, keys, counts
    )


def quantiles(ordered: np.ndarray, points: int) -> np.ndarray:
    """``points`` equally weighted values standing for a sorted sample: its cell midpoints."""
    cells = ((np.arange(points) + 0.5) * (len(ordered) / points)).astype(np.int64)
    return ordered[np.minimum(cells, len(ordered) - 1)]


def _categorical(name: str, dtype: str, series: pd.Series) -> ColumnSummary:
    try:
        counted = series.value_counts(dropna=True, sort=False)
    except TypeError:  # unhashable values (lists, maps) past the rows object_shape looked at
        return ColumnSummary(name, NESTED, len(series), int(series.notna().sum()), 0)
    keys = [plain_value(k) for k in counted.index.tolist()]
    return categorical_summary(name, dtype, len(series), keys, counted.to_numpy(dtype=np.int64))


def categorical_summary(
    name: str, dtype: str, rows: int, keys: Sequence[Any], counts: np.ndarray
) -> ColumnSummary:
    """A categorical column's summary from its distinct non-missing values and their counts."""
    seen = counts > 0
    if not seen.all():
        keys = [k for k, s in zip(keys, seen.tolist(), strict=True) if s]
        counts = counts[seen]
    counts = np.asarray(counts, dtype=np.int64)
    return ColumnSummary(
        name, dtype, rows, int(counts.sum()), len(keys), keys=list(keys), counts=counts
    )


def shape_of_text(sample: Sequence[Any]) -> str | None:
    """``nested`` or ``datetime`` by the first non-missing values of a text column (see
    object_shape); None for plain strings."""
    if not sample:
        return None
    if any(isinstance(v, list | tuple | dict | set | np.ndarray) for v in sample):
        return NESTED
    if all(is_iso_date(v) for v in sample):
        return "datetime"
    return None


def is_iso_date(value: Any) -> bool:
    """Whether ``value`` is text holding an ISO 8601 date or time."""
    return isinstance(value, str) and _ISO_DATE.fullmatch(value.strip()) is not None


def plain_value(value: Any) -> Any:
    """numpy scalars as Python values, so keys compare and serialise the same on both sides."""
    return value.item() if isinstance(value, np.generic) else value


def as_categorical(summary: ColumnSummary) -> tuple[list[Any], np.ndarray]:
    """Keys and counts of a summary treated as categorical (numeric ones must be counted)."""
    if summary.keys is None or summary.counts is None:
        raise ValueError(f"column {summary.name!r} has too many distinct values to count")
    return list(summary.keys), np.asarray(summary.counts, dtype=np.float64)


DISTRIBUTION_BINS = 12
DISTRIBUTION_CATEGORIES = 10


def distribution(
    reference: ColumnSummary, current: ColumnSummary, kind: str
) -> dict[str, Any] | None:
    """Reference and current shares on shared bins (numeric) or of the most frequent categories
    (the rest as ``(other)``), for the report's per-column distribution plots."""
    if kind == "numeric" and reference.points is not None and current.points is not None:
        ref, cur = reference.points, current.points
        if not len(ref) or not len(cur):
            return None
        low, high = float(min(ref[0], cur[0])), float(max(ref[-1], cur[-1]))
        if not np.isfinite([low, high]).all():
            return None
        if high <= low:
            high = low + 1.0
        edges = np.linspace(low, high, DISTRIBUTION_BINS + 1)
        shares = [_histogram(p, edges) / len(p) for p in (ref, cur)]
        return {
            "kind": "numeric",
            "edges": [round(float(e), 6) for e in edges],
            "reference": [round(float(v), 6) for v in shares[0]],
            "current": [round(float(v), 6) for v in shares[1]],
        }
    try:
        ref_keys, ref_counts = as_categorical(reference)
        cur_keys, cur_counts = as_categorical(current)
    except ValueError:
        return None
    ref_total, cur_total = float(ref_counts.sum()) or 1.0, float(cur_counts.sum()) or 1.0
    ref_share = {str(k): c / ref_total for k, c in zip(ref_keys, ref_counts.tolist(), strict=True)}
    cur_share = {str(k): c / cur_total for k, c in zip(cur_keys, cur_counts.tolist(), strict=True)}
    keys = sorted(
        set(ref_share) | set(cur_share),
        key=lambda k: (-(ref_share.get(k, 0.0) + cur_share.get(k, 0.0)), k),
    )
    shown, rest = keys[:DISTRIBUTION_CATEGORIES], keys[DISTRIBUTION_CATEGORIES:]
    ref_out = [round(ref_share.get(k, 0.0), 6) for k in shown]
    cur_out = [round(cur_share.get(k, 0.0), 6) for k in shown]
    if rest:
        shown = [*shown, "(other)"]
        ref_out.append(round(sum(ref_share.get(k, 0.0) for k in rest), 6))
        cur_out.append(round(sum(cur_share.get(k, 0.0) for k in rest), 6))
    return {"kind": "categorical", "categories": shown, "reference": ref_out, "current": cur_out}


def _histogram(ordered: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """``np.histogram(ordered, edges)[0]`` of sorted values: the same searches np.histogram
    makes for explicit edges (values in [edge, next edge), the last bin closed), without its
    sort of the values (summary points are sorted already)."""
    cuts = np.concatenate(
        (ordered.searchsorted(edges[:-1], "left"), ordered.searchsorted(edges[-1:], "right"))
    )
    return np.diff(cuts)
