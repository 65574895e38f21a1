"""Data checks on the evaluation data against a table contract.

The contract is explicit (``gates.data.columns``; violations fail) or inferred from the training
data for every column the model, its target and its slices use. Inferred presence, kind and
null-rate rules fail; inferred ranges and category sets warn, because unseen values are normal
in new data and the drift gate judges distributions.

Inferred null-rate limit: a column without nulls in training may have none; otherwise the
training rate plus three standard errors of a proportion at the evaluation size. A configured
``gates.data.max_null_rate`` raises every limit to at least that value.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from mlgate.config.sections import ColumnRule, DataSettings
from mlgate.tabular import column_kind
from mlgate.verdict import Check, Status

if TYPE_CHECKING:
    import pandas as pd

KIND = "data"
MAX_INFERRED_CATEGORIES = 50
SHOWN = 5
ACCEPTS = {
    "number": {"integer", "float"},
    "integer": {"integer", "float"},  # floats pass when every value is whole
    "float": {"integer", "float"},
    "string": {"string", "category"},
    "category": {"string", "category", "boolean", "integer"},
    "boolean": {"boolean"},
    "datetime": {"datetime", "string"},  # strings pass when every value parses
}


@dataclass(frozen=True)
class ColumnContract:
    name: str
    dtype: str | None
    source: str  # config | inferred
    required: bool = True
    max_null_rate: float | None = None  # explicit limit
    training_null_rate: float | None = None  # inferred: what the training data had
    min: float | None = None
    max: float | None = None
    categories: tuple[Any, ...] | None = None


@dataclass(frozen=True)
class Contract:
    columns: tuple[ColumnContract, ...]

    def to_dict(self) -> dict[str, Any]:
        out = []
        for c in self.columns:
            entry = {k: v for k, v in asdict(c).items() if v is not None}
            if c.categories is not None:
                entry["categories"] = list(c.categories)
            out.append(entry)
        return {"format": 1, "columns": out}


def build_contract(
    settings: DataSettings, training: pd.DataFrame | None, columns: Iterable[str]
) -> Contract:
    """Explicit entries first, then inferred ones for the other ``columns`` of the training data."""
    entries = [_explicit(name, rule) for name, rule in settings.columns.items()]
    if settings.infer and training is not None:
        listed = set(settings.columns)
        present = {str(c) for c in training.columns}
        entries.extend(
            infer_column(training[name])
            for name in dict.fromkeys(columns)
            if name not in listed and name in present
        )
    return Contract(tuple(entries))


def _explicit(name: str, rule: ColumnRule) -> ColumnContract:
    limit = rule.max_null_rate
    if rule.nullable is False:
        limit = 0.0
    return ColumnContract(
        name, rule.dtype, "config", rule.required, limit, None, rule.min, rule.max, rule.categories
    )


def infer_column(series: pd.Series) -> ColumnContract:
    """What the training data says about one column."""
    kind = column_kind(series)
    name = str(series.name)
    rate = float(series.isna().mean()) if len(series) else 0.0
    if kind in {"integer", "float"}:
        values = series.dropna()
        lo = float(values.min()) if len(values) else None
        hi = float(values.max()) if len(values) else None
        return ColumnContract(name, "number", "inferred", training_null_rate=rate, min=lo, max=hi)
    cats = None
    distinct = series.dropna().unique().tolist()
    if len(distinct) <= MAX_INFERRED_CATEGORIES:
        cats = tuple(sorted(distinct, key=str))
    dtype = {"boolean": "boolean", "datetime": "datetime"}.get(kind, "string")
    return ColumnContract(name, dtype, "inferred", training_null_rate=rate, categories=cats)


def data_checks(contract: Contract, frame: pd.DataFrame, settings: DataSettings) -> list[Check]:
    """One check per column when it conforms, else one per broken rule."""
    checks: list[Check] = []
    for column in contract.columns:
        checks.extend(_column_checks(column, frame, settings))
    return checks


def _column_checks(c: ColumnContract, frame: pd.DataFrame, settings: DataSettings) -> list[Check]:
    # Inferred rules point at the training data they came from.
    key: tuple[str | int, ...] = (
        ("gates", "data", "columns", c.name) if c.source == "config" else ("data", "train")
    )
    soft = Status.FAIL if c.source == "config" else Status.WARN
    origin = "mlgate.yaml" if c.source == "config" else "training data"
    cid = f"data.{c.name}"

    def check(aspect: str, status: Status, message: str, **kw: Any) -> Check:
        return Check(
            f"{cid}.{aspect}" if aspect else cid, KIND, status, message, config_key=key, **kw
        )

    if c.name not in frame.columns:
        if not c.required:
            return [check("present", Status.SKIP, f"optional column {c.name!r} is absent")]
        return [
            check(
                "present",
                Status.FAIL,
                f"column {c.name!r} is missing from the evaluation data ({origin} has it)",
            )
        ]
    series = frame[c.name]
    actual = column_kind(series)
    out: list[Check] = []
    typed = _typed_ok(c.dtype, actual, series)
    if typed is not None:
        out.append(
            check(
                "dtype",
                Status.FAIL,
                f"column {c.name!r}: {typed}",
                observed=actual,
                threshold=c.dtype,
            )
        )
    rate = float(series.isna().mean())
    limit = _null_limit(c, settings, len(series))
    if rate > limit:
        out.append(
            check(
                "null_rate",
                Status.FAIL,
                f"column {c.name!r} is {rate:.2%} null, above the limit {limit:.2%}",
                observed=round(rate, 6),
                threshold=round(limit, 6),
                details={"op": "<=", "training_null_rate": c.training_null_rate},
            )
        )
    if typed is None:
        out.extend(_range_checks(c, series, actual, soft, check))
        out.extend(_category_checks(c, series, soft, check))
    if not any(x.status is Status.FAIL or x.status is Status.WARN for x in out):
        shown = f"{actual}, {rate:.1%} null (limit {limit:.1%})"
        out.append(
            check(
                "",
                Status.PASS,
                f"column {c.name!r} matches the {origin}: {shown}",
                observed=round(rate, 6),
                threshold=round(limit, 6),
                details={"op": "<=", "dtype": actual},
            )
        )
    return out


def _typed_ok(expected: str | None, actual: str, series: pd.Series) -> str | None:
    """None when the column's kind satisfies ``expected``, else what is wrong."""
    if expected is None:
        return None
    if actual not in ACCEPTS[expected]:
        sample = _bad_numbers(series) if expected in {"number", "integer", "float"} else ""
        return f"holds {actual} values, {expected} expected{sample}"
    values = series.dropna()
    if expected == "integer" and actual == "float":
        whole = np.equal(np.mod(values.to_numpy(dtype=np.float64), 1), 0)
        if not whole.all():
            return f"has {int((~whole).sum())} non-whole values, integer expected"
    if expected == "datetime" and actual == "string":
        import pandas as pd

        parsed = pd.to_datetime(values, errors="coerce", format="mixed")
        bad = values[parsed.isna()]
        if len(bad):
            return f"has {len(bad)} values that are not dates, e.g. {_show(bad.unique())}"
    return None


def _bad_numbers(series: pd.Series) -> str:
    import pandas as pd

    values = series.dropna()
    bad = values[pd.to_numeric(values, errors="coerce").isna()]
    return f" (e.g. {_show(bad.unique())})" if len(bad) else ""


def _null_limit(c: ColumnContract, settings: DataSettings, rows: int) -> float:
    floor = settings.max_null_rate or 0.0
    if c.max_null_rate is not None:
        return c.max_null_rate
    p = c.training_null_rate or 0.0
    if p == 0.0:
        return floor
    return max(floor, min(1.0, p + 3 * math.sqrt(p * (1 - p) / max(rows, 1))))


def _range_checks(
    c: ColumnContract, series: pd.Series, actual: str, soft: Status, check: Any
) -> list[Check]:
    if actual not in {"integer", "float"} or (c.min is None and c.max is None):
        return []
    values = series.dropna().to_numpy(dtype=np.float64)
    if not len(values):
        return []
    out = []
    lo, hi = float(values.min()), float(values.max())
    if c.min is not None and lo < c.min:
        n = int((values < c.min).sum())
        out.append(
            check(
                "min",
                soft,
                f"column {c.name!r}: {_values(n)} below {c.min:g} (smallest {lo:g})",
                observed=lo,
                threshold=c.min,
                details={"op": ">=", "count": n},
            )
        )
    if c.max is not None and hi > c.max:
        n = int((values > c.max).sum())
        out.append(
            check(
                "max",
                soft,
                f"column {c.name!r}: {_values(n)} above {c.max:g} (largest {hi:g})",
                observed=hi,
                threshold=c.max,
                details={"op": "<=", "count": n},
            )
        )
    return out


def _category_checks(c: ColumnContract, series: pd.Series, soft: Status, check: Any) -> list[Check]:
    if c.categories is None:
        return []
    allowed = {str(v) for v in c.categories}
    values = series.dropna()
    text = values.astype(str)
    unknown = text[~text.isin(allowed)]
    if not len(unknown):
        return []
    share = len(unknown) / max(len(values), 1)
    return [
        check(
            "categories",
            soft,
            f"column {c.name!r}: {len(unknown)} values ({share:.2%}) outside the "
            f"{len(allowed)} known categories, e.g. {_show(unknown.unique())}",
            observed=round(share, 6),
            threshold=0.0,
            details={"op": "<=", "unknown": sorted(unknown.unique().tolist())[:20]},
        )
    ]


def _values(n: int) -> str:
    return f"{n} value" + ("s" if n != 1 else "")


def _show(values: Any) -> str:
    shown = [repr(v) for v in list(values)[:SHOWN]]
    return ", ".join(shown) + (", ..." if len(values) > SHOWN else "")
