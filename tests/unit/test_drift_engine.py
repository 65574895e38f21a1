"""Column-by-column drift: decisions, problems that never pass silently, the dataset rule, cache."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlgate.errors import ConfigError
from mlgate.gates.drift import cache
from mlgate.gates.drift.engine import (
    ColumnDrift,
    DriftOptions,
    DriftReport,
    compare,
    compare_frames,
    summarise_frame,
)
from mlgate.gates.drift.report import drift_checks
from mlgate.verdict import Status


def frames(n: int = 3000, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)

    def make(shift: float, plan_p: list[float]) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "stable": rng.normal(size=n),
                "moved": rng.normal(shift, 1, size=n),
                "plan": rng.choice(["basic", "pro", "team"], n, p=plan_p),
                "calls": rng.integers(0, 4, n),
            }
        )

    return make(0.0, [0.5, 0.3, 0.2]), make(0.8, [0.2, 0.3, 0.5])


def by_column(report: DriftReport) -> dict[str, ColumnDrift]:
    return {c.column: c for c in report.columns}


def test_injected_drift_is_found_and_stable_columns_pass() -> None:
    ref, cur = frames()
    report = by_column(compare_frames(ref, cur))
    assert report["moved"].drifted
    assert report["moved"].test == "wasserstein"
    assert report["plan"].drifted
    assert report["plan"].test == "jensenshannon"
    assert not report["stable"].drifted
    assert not report["calls"].drifted
    assert report["calls"].kind == "categorical"  # integers with few values


def test_dataset_drift_when_the_share_reaches_the_limit() -> None:
    ref, cur = frames()
    report = compare_frames(ref, cur, options=DriftOptions(max_drifted_share=0.5))
    assert report.share == 0.5
    assert report.dataset_drift
    relaxed = compare_frames(ref, cur, options=DriftOptions(max_drifted_share=0.51))
    assert not relaxed.dataset_drift
    checks = {c.id: c for c in drift_checks(relaxed)}
    assert checks["drift.dataset"].status is Status.PASS
    assert checks["drift.column.moved"].status is Status.WARN
    assert "moved" in checks["drift.dataset"].message


def test_drift_in_a_critical_column_fails_alone() -> None:
    ref, cur = frames()
    options = DriftOptions(max_drifted_share=0.9, critical=("moved",))
    checks = {c.id: c for c in drift_checks(compare_frames(ref, cur, options=options))}
    assert checks["drift.column.moved"].status is Status.FAIL
    assert checks["drift.column.plan"].status is Status.WARN


def test_missing_values_are_dropped_and_counted() -> None:
    ref, cur = frames()
    cur.loc[::10, "stable"] = np.nan
    cur.loc[::7, "plan"] = None
    report = by_column(compare_frames(ref, cur))
    assert report["stable"].current_missing == 300
    assert report["plan"].current_missing == len(cur[::7])
    assert not report["stable"].drifted


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda cur: cur.drop(columns="moved"), "missing from current data"),
        (lambda cur: cur.assign(moved="n/a"), "float in the reference data but string"),
        (lambda cur: cur.assign(moved=np.nan), "no values in the current data"),
    ],
)
def test_untestable_columns_fail_and_count_as_drifted(
    change: Callable[[pd.DataFrame], pd.DataFrame], problem: str
) -> None:
    ref, cur = frames()
    report = compare_frames(ref, change(cur), columns=["moved", "stable"])
    moved = by_column(report)["moved"]
    assert moved.drifted
    assert problem in (moved.problem or "")
    check = next(c for c in drift_checks(report) if c.id == "drift.column.moved")
    assert check.status is Status.FAIL


def test_datetime_columns_are_reported_and_not_counted() -> None:
    ref, cur = frames()
    stamps = pd.date_range("2024-01-01", periods=len(ref), freq="h")
    report = compare_frames(ref.assign(at=stamps), cur.assign(at=stamps + pd.Timedelta(days=900)))
    assert by_column(report)["at"].skipped == "datetime column"
    assert len(report.tested) == 4


def test_forced_tests_are_used_and_bad_ones_are_configuration_errors() -> None:
    ref, cur = frames()
    options = DriftOptions(methods={"stable": "psi", "plan": "chi2"})
    report = by_column(compare_frames(ref, cur, options=options))
    assert report["stable"].test == "psi"
    assert report["stable"].forced
    assert report["plan"].test == "chi2"
    with pytest.raises(ConfigError, match="unknown drift test 'kss'"):
        compare_frames(ref, cur, options=DriftOptions(methods={"stable": "kss"}))
    with pytest.raises(ConfigError, match="does not apply to column 'plan'"):
        compare_frames(ref, cur, options=DriftOptions(methods={"plan": "wasserstein"}))


def test_integer_column_with_many_reference_values_but_few_current_ones() -> None:
    rng = np.random.default_rng(2)
    ref = pd.DataFrame({"n": rng.integers(0, 5000, 20_000)})
    cur = pd.DataFrame({"n": rng.integers(0, 3, 20_000)})
    column = by_column(compare_frames(ref, cur))["n"]
    assert column.kind == "categorical"
    assert column.test == "jensenshannon"
    assert column.drifted


def test_cached_summaries_round_trip_exactly(tmp_path: Path) -> None:
    ref, cur = frames()
    ref["flag"] = ref["calls"] > 1
    summaries = summarise_frame(ref, list(ref.columns))
    path = cache.save(tmp_path / "c.npz", summaries)
    loaded = cache.load(path)
    assert set(loaded) == set(summaries)
    for name, original in summaries.items():
        again = loaded[name]
        assert (again.dtype, again.rows, again.count, again.distinct, again.std) == (
            original.dtype,
            original.rows,
            original.count,
            original.distinct,
            original.std,
        )
        if original.points is not None:
            assert again.points is not None
            assert np.array_equal(again.points, original.points)
        keys = [] if original.keys is None else list(original.keys)
        assert ([] if again.keys is None else list(again.keys)) == keys
    direct = compare_frames(ref, cur)
    via_cache = compare(loaded, cur, list(ref.columns), DriftOptions(), reference_rows=len(ref))
    assert [c.score for c in direct.columns] == [c.score for c in via_cache.columns]


def test_a_damaged_cache_file_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "c.npz"
    path.write_bytes(b"not an archive")
    assert cache.load(path) == {}
    assert cache.load(tmp_path / "absent.npz") == {}


def test_cache_key_changes_with_the_content(tmp_path: Path) -> None:
    data = tmp_path / "d.csv"
    data.write_text("a\n1\n")
    first = cache.data_digest(data)
    data.write_text("a\n2\n")
    assert cache.data_digest(data) != first


def test_the_distribution_histogram_is_numpys() -> None:
    from mlgate.gates.drift.summary import _histogram

    rng = np.random.default_rng(5)
    for values in (rng.normal(size=5000), rng.integers(0, 6, 3000).astype(float), np.ones(10)):
        ordered = np.sort(values)
        low, high = float(ordered[0]), float(ordered[-1]) + (ordered[0] == ordered[-1])
        for edges in (np.linspace(low, high, 13), np.linspace(low - 1, high - 0.5, 13)):
            assert np.array_equal(_histogram(ordered, edges), np.histogram(ordered, edges)[0])
