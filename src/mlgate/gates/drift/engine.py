"""Compare a reference and a current table column by column: one pass per column, one test each.

Column kinds follow the widely used convention so decisions match other tools: floats are
numeric; integers are numeric unless the current data has at most 10 distinct values (then they
are categorical, like booleans, strings and categories); datetimes are not tested.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from mlgate.errors import ConfigError
from mlgate.gates.drift.stattests import (
    CATEGORICAL,
    NUMERIC,
    P_VALUE,
    SMALL_REFERENCE,
    TESTS,
    DriftTest,
    default_test,
    drifted,
)
from mlgate.gates.drift.summary import (
    DEFAULT_POINTS,
    NESTED,
    ColumnSummary,
    distribution,
    summarise,
)

if TYPE_CHECKING:
    import pandas as pd

    from mlgate.config.sections import DriftSettings

# Integer columns with at most this many distinct current values are treated as categorical.
INTEGER_CATEGORICAL_LIMIT = 10
# String columns whose reference values are mostly distinct (IDs, names, free text) are text,
# not categories: a chi-squared test of unique values always "drifts". Not tested, as the widely
# used tools leave text to text-specific methods.
TEXT_DISTINCT_SHARE = 0.5
TEXT_MIN_DISTINCT = 50


@dataclass(frozen=True)
class DriftOptions:
    """Thresholds and overrides; the defaults are the widely used ones."""

    p_value: float = 0.05
    distance: float = 0.1
    max_drifted_share: float = 0.5
    methods: Mapping[str, str] = field(default_factory=dict)  # column -> test name
    critical: tuple[str, ...] = ()  # columns whose drift alone fails the gate
    summary_points: int = DEFAULT_POINTS

    def threshold(self, test: DriftTest) -> float:
        return self.p_value if test.score == P_VALUE else self.distance

    @classmethod
    def of(cls, settings: DriftSettings) -> DriftOptions:
        """The options ``gates.drift`` sets; what it leaves unset keeps the defaults."""
        default = cls()
        return cls(
            p_value=default.p_value if settings.p_value is None else settings.p_value,
            distance=default.distance if settings.distance is None else settings.distance,
            max_drifted_share=default.max_drifted_share
            if settings.max_drifted_share is None
            else settings.max_drifted_share,
            methods=dict(settings.methods),
            critical=settings.critical,
        )


@dataclass(frozen=True)
class ColumnDrift:
    """The outcome for one column."""

    column: str
    kind: str | None = None  # numeric | categorical; None when not tested
    test: str | None = None
    score: float | None = None
    threshold: float | None = None
    drifted: bool = False
    reference_count: int = 0
    current_count: int = 0
    reference_missing: int = 0
    current_missing: int = 0
    forced: bool = False
    problem: str | None = None  # why the column could not be tested (counts as drifted)
    skipped: str | None = None  # why the column is left out (does not count)
    exact: bool = True  # False when a quantile summary of the reference was used
    # Reference and current shares per bin or category (summary.distribution), for plots.
    distribution: Mapping[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "kind": self.kind,
            "test": self.test,
            "score": self.score,
            "threshold": self.threshold,
            "drifted": self.drifted,
            "reference_count": self.reference_count,
            "current_count": self.current_count,
            "reference_missing": self.reference_missing,
            "current_missing": self.current_missing,
            "forced": self.forced,
            "problem": self.problem,
            "skipped": self.skipped,
            "exact": self.exact,
            "distribution": dict(self.distribution) if self.distribution else None,
        }


@dataclass(frozen=True)
class DriftReport:
    """Every column's outcome and the dataset-level decision."""

    columns: tuple[ColumnDrift, ...]
    options: DriftOptions
    reference_rows: int
    current_rows: int

    @property
    def tested(self) -> tuple[ColumnDrift, ...]:
        return tuple(c for c in self.columns if c.skipped is None)

    @property
    def drifted_columns(self) -> tuple[ColumnDrift, ...]:
        return tuple(c for c in self.tested if c.drifted)

    @property
    def share(self) -> float:
        tested = self.tested
        return len(self.drifted_columns) / len(tested) if tested else 0.0

    @property
    def dataset_drift(self) -> bool:
        return bool(self.tested) and self.share >= self.options.max_drifted_share

    def to_dict(self) -> dict[str, Any]:
        return {
            "reference_rows": self.reference_rows,
            "current_rows": self.current_rows,
            "drifted_share": self.share,
            "max_drifted_share": self.options.max_drifted_share,
            "dataset_drift": self.dataset_drift,
            "columns": [c.to_dict() for c in self.columns],
        }


def summarise_frame(
    frame: pd.DataFrame, columns: Sequence[str], *, max_points: int | None = DEFAULT_POINTS
) -> dict[str, ColumnSummary]:
    """Summaries of ``columns`` of ``frame`` (the cacheable reference side)."""
    return {c: summarise(frame[c], max_points=max_points) for c in columns}


def compare(
    reference: Mapping[str, ColumnSummary],
    current: pd.DataFrame,
    columns: Sequence[str],
    options: DriftOptions,
    *,
    reference_rows: int,
) -> DriftReport:
    """Test each column of ``current`` against its reference summary."""
    present = {str(c) for c in current.columns}
    summaries = {c: summarise(current[c], max_points=None) for c in columns if c in present}
    return compare_summaries(
        reference,
        summaries,
        columns,
        options,
        reference_rows=reference_rows,
        current_rows=len(current),
    )


def compare_summaries(
    reference: Mapping[str, ColumnSummary],
    current: Mapping[str, ColumnSummary],
    columns: Sequence[str],
    options: DriftOptions,
    *,
    reference_rows: int,
    current_rows: int,
) -> DriftReport:
    """Test each column's current summary against its reference summary (a column absent from
    ``current`` is missing from the current data)."""
    results = []
    for name in columns:
        found = current.get(name)
        if found is None:
            results.append(ColumnDrift(name, drifted=True, problem="missing from current data"))
            continue
        results.append(compare_column(reference[name], found, options))
    return DriftReport(tuple(results), options, reference_rows, current_rows)


def current_points(options: DriftOptions, reference: Mapping[str, ColumnSummary]) -> int | None:
    """How finely current numeric columns are kept: every value when a test may read them all
    (the KS test on a small reference, or any forced test), else DEFAULT_POINTS quantiles,
    which is what the default distance reads anyway (so its score is the same)."""
    if options.methods or any(s.count <= SMALL_REFERENCE for s in reference.values()):
        return None
    return DEFAULT_POINTS


def compare_frames(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    columns: Sequence[str] | None = None,
    options: DriftOptions | None = None,
) -> DriftReport:
    """Drift of ``current`` against ``reference`` (all reference columns by default)."""
    options = options or DriftOptions()
    names = [str(c) for c in reference.columns] if columns is None else list(columns)
    summaries = summarise_frame(reference, names, max_points=options.summary_points)
    return compare(summaries, current, names, options, reference_rows=len(reference))


def drift_kind(reference: ColumnSummary, current: ColumnSummary) -> tuple[str | None, str | None]:
    """(kind, None) for a testable column, else (None, problem) or (None, None) to skip."""
    skip = skipped(reference, current)
    if skip is not None:
        return None, None
    if reference.numeric != current.numeric:
        return (
            None,
            f"is {reference.dtype} in the reference data but {current.dtype} in the current",
        )
    if current.numeric:
        if current.dtype == "integer" and current.distinct <= INTEGER_CATEGORICAL_LIMIT:
            return CATEGORICAL, None
        return NUMERIC, None
    return CATEGORICAL, None


def skipped(reference: ColumnSummary, current: ColumnSummary) -> str | None:
    """Why a column is left out of the test (datetime, nested or text), or None."""
    dtypes = (reference.dtype, current.dtype)
    if NESTED in dtypes:
        return "nested column (list, struct or map values)"
    if "datetime" in dtypes:
        return "datetime column"
    if (
        reference.dtype == "string"
        and current.dtype == "string"
        and reference.distinct >= TEXT_MIN_DISTINCT
        and reference.distinct > TEXT_DISTINCT_SHARE * reference.count
    ):
        return (
            f"text or ID-like column ({reference.distinct} distinct of {reference.count} "
            "reference values)"
        )
    return None


def compare_column(
    reference: ColumnSummary, current: ColumnSummary, options: DriftOptions
) -> ColumnDrift:
    """One column: choose the test (or take the forced one), score it, decide."""
    base = ColumnDrift(
        column=reference.name,
        reference_count=reference.count,
        current_count=current.count,
        reference_missing=reference.missing,
        current_missing=current.missing,
    )
    kind, problem = drift_kind(reference, current)
    if kind is None:
        if problem is None:
            return replace(base, skipped=skipped(reference, current))
        return replace(base, drifted=True, problem=problem)
    for side, summary in (("reference", reference), ("current", current)):
        if summary.count == 0:
            return replace(
                base, kind=kind, drifted=True, problem=f"has no values in the {side} data"
            )
    forced = options.methods.get(reference.name)
    test = (
        _forced(reference.name, forced, kind) if forced else default_test(reference, current, kind)
    )
    base = replace(
        base,
        kind=kind,
        distribution=distribution(reference, current, kind),
        test=test.name,
        threshold=options.threshold(test),
        forced=forced is not None,
        exact=reference.exact or (kind == CATEGORICAL and reference.keys is not None),
    )
    try:
        score = float(test(reference, current, kind))
    except ValueError as exc:
        return replace(base, drifted=True, problem=str(exc))
    if math.isnan(score):
        return replace(base, drifted=True, problem=f"{test.label} is not a number")
    return replace(base, score=score, drifted=drifted(test, score, options.threshold(test)))


def _forced(column: str, method: str, kind: str) -> DriftTest:
    test = TESTS.get(method)
    if test is None:
        raise ConfigError(
            f"unknown drift test {method!r} for column {column!r}",
            hint="known tests: " + ", ".join(sorted(TESTS)),
        )
    if kind not in test.kinds:
        raise ConfigError(
            f"drift test {method!r} does not apply to column {column!r}, which is {kind}",
            hint="tests for "
            + kind
            + " columns: "
            + ", ".join(sorted(n for n, t in TESTS.items() if kind in t.kinds)),
        )
    return test
