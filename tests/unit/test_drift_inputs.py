"""Bad inputs to the drift gate: nested Parquet columns, a wrong delimiter, tiny samples, ID-like
text columns and dates written as text. None of them may pass silently or crash."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlgate.errors import UsageError
from mlgate.gates.drift.engine import DriftOptions, compare_frames
from mlgate.gates.drift.report import drift_checks
from mlgate.gates.drift.run import DriftInputs, drift_gate
from mlgate.verdict import Status


def gate(reference: Path, current: Path, cache_dir: Path | None = None) -> dict[str, Status]:
    inputs = DriftInputs(reference, current, None, DriftOptions(), cache_dir, "m")
    verdict, _, _ = drift_gate(inputs)
    return {c.id: c.status for c in verdict.checks}


def numbers(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"x": rng.normal(size=n), "k": rng.integers(0, 3, n)})


def test_nested_parquet_columns_are_skipped_with_the_reason(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    frames = []
    for seed in (0, 1):
        frame = numbers(200, seed)
        frame["tags"] = [["a", "b"][: i % 3] for i in range(200)]
        frame["attrs"] = [{"a": i % 4, "b": "z"} for i in range(200)]
        frames.append(frame)
    ref, cur = tmp_path / "ref.parquet", tmp_path / "cur.parquet"
    frames[0].to_parquet(ref)
    frames[1].to_parquet(cur)
    for cache_dir in (tmp_path / "cache", tmp_path / "cache"):  # cold, then from the cache
        inputs = DriftInputs(ref, cur, None, DriftOptions(), cache_dir, "m")
        verdict, report, _ = drift_gate(inputs)
        skipped = {c.column: c.skipped for c in report.columns if c.skipped}
        assert set(skipped) == {"tags", "attrs"}
        assert all("nested" in str(reason) for reason in skipped.values())
        assert report.share == 0.0
        assert len(report.tested) == 2
        status = {c.id: c.status for c in verdict.checks}
        assert status["drift.column.tags"] == Status.SKIP


@pytest.mark.parametrize("sep", [";", "\t", "|"])
def test_a_file_read_with_the_wrong_delimiter_is_refused_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sep: str
) -> None:
    ref, cur = tmp_path / "ref.csv", tmp_path / "cur.csv"
    numbers(100, 0).to_csv(ref, index=False)
    numbers(100, 1).to_csv(cur, index=False, sep=sep)
    assert gate(ref, cur)["drift.column.x"] in (Status.PASS, Status.WARN)  # sniffed: read right
    # When sniffing misses (it falls back to ","), every column would be "missing" from the
    # current data, or the reference would be one column "x;k" tested silently: both refused.
    monkeypatch.setattr("mlgate.tabular.sniff_delimiter", lambda *_a, **_k: ",")
    joined = re.escape(f"column {f'x{sep}k'!r} looks like several columns joined by {sep!r}")
    with pytest.raises(UsageError, match=f"current data .*{joined}"):
        gate(ref, cur)
    with pytest.raises(UsageError, match=f"reference data .*{joined}"):
        gate(cur, ref)
    named = DriftInputs(cur, ref, ("x",), DriftOptions(), None, "m")  # --columns x
    with pytest.raises(UsageError, match=f"reference data .*{joined}"):
        drift_gate(named)


def test_a_lone_joined_column_is_refused_and_good_files_are_not(tmp_path: Path) -> None:
    from mlgate.tabular import joined_header

    path = tmp_path / "t.csv"
    path.write_text("x;k;i\n1;2;3\n")
    assert joined_header(path, ["x;k;i"]) == ("x;k;i", ";")
    assert joined_header(path, ["x", "k"], ["x", "k"]) is None
    assert joined_header(path, ["a;b", "c"], ["x"]) is None  # no tested column inside
    assert joined_header(path, ["a;x", "c"], ["x"]) == ("a;x", ";")
    assert joined_header(tmp_path / "t.parquet", ["x;k;i"]) is None  # binary: no delimiter


def test_a_one_row_sample_warns(tmp_path: Path) -> None:
    report = compare_frames(numbers(500, 0), numbers(1, 1))
    checks = {c.id: c for c in drift_checks(report)}
    assert checks["drift.sample"].status == Status.WARN
    assert "current data has 1 row:" in checks["drift.sample"].message
    enough = {c.id for c in drift_checks(compare_frames(numbers(500, 0), numbers(500, 1)))}
    assert "drift.sample" not in enough


def test_id_like_string_columns_are_text_not_chi_squared() -> None:
    n = 1000
    ref = pd.DataFrame({"user": [f"u{i}" for i in range(n)], "plan": ["a", "b"] * (n // 2)})
    cur = pd.DataFrame({"user": [f"u{i}" for i in range(n, 2 * n)], "plan": ["b", "a"] * (n // 2)})
    report = compare_frames(ref, cur)
    by = {c.column: c for c in report.columns}
    assert by["user"].skipped is not None
    assert "ID-like" in by["user"].skipped
    assert not by["user"].drifted
    assert by["plan"].skipped is None
    assert by["plan"].test is not None
    assert report.share == 0.0


def test_iso_dates_in_a_csv_are_datetimes_so_a_time_split_does_not_drift(tmp_path: Path) -> None:
    days = pd.date_range("2024-01-01", periods=400, freq="D")
    frame = numbers(400, 0)
    frame["day"] = days.strftime("%Y-%m-%d")
    frame["at"] = days.strftime("%Y-%m-%dT%H:%M:%SZ")
    ref, cur = tmp_path / "ref.csv", tmp_path / "cur.csv"
    frame.iloc[:200].to_csv(ref, index=False)
    frame.iloc[200:].to_csv(cur, index=False)
    inputs = DriftInputs(ref, cur, None, DriftOptions(), None, "m")
    _, report, _ = drift_gate(inputs)
    by = {c.column: c for c in report.columns}
    assert by["day"].skipped == "datetime column"
    assert by["at"].skipped == "datetime column"
    assert not report.dataset_drift
    # A column that merely starts like a date stays a category.
    odd = pd.DataFrame({"c": ["2024-01-01 or so", "x"] * 100})
    assert compare_frames(odd, odd).columns[0].skipped is None
