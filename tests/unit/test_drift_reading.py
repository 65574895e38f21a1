"""Summaries read straight from files (Parquet column by column, CSV in chunks) equal the
summaries of the frame pandas reads from the same file, for every kind of column."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from mlgate.errors import ConfigError
from mlgate.gates.drift import reading
from mlgate.gates.drift.engine import DriftOptions, compare_frames, summarise_frame
from mlgate.gates.drift.run import DriftInputs, drift_gate
from mlgate.gates.drift.summary import ColumnSummary
from mlgate.tabular import read_table


def table(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "f": rng.normal(size=rows),
            "f_missing": rng.gamma(2, 2, rows),
            "i": rng.integers(0, 50, rows),
            "i_few": rng.integers(0, 4, rows),
            "b": rng.random(rows) < 0.3,
            "s": rng.choice(["red", "green", "blue"], rows),
            "s_missing": rng.choice(["x", "y"], rows),
            "id": [f"u{seed}-{n}" for n in range(rows)],
            "day": pd.date_range("2024-01-01", periods=rows, freq="min").strftime("%Y-%m-%d"),
            "f32": rng.normal(size=rows).astype(np.float32),
        }
    )
    frame.loc[rng.random(rows) < 0.1, "f_missing"] = np.nan
    frame.loc[rng.random(rows) < 0.1, "s_missing"] = None
    frame.loc[3, "f"] = np.inf
    return frame


def same(a: ColumnSummary, b: ColumnSummary) -> None:
    assert (a.name, a.dtype, a.rows, a.count, a.distinct, a.exact) == (
        b.name,
        b.dtype,
        b.rows,
        b.count,
        b.distinct,
        b.exact,
    )
    assert a.std == b.std
    assert (a.points is None) == (b.points is None)
    if a.points is not None:
        assert b.points is not None
        assert np.array_equal(a.points, b.points)

    def counted(s: ColumnSummary) -> dict[Any, int] | None:
        if s.keys is None or s.counts is None:
            return None
        return dict(zip(np.asarray(s.keys).tolist(), s.counts.tolist(), strict=True))

    assert counted(a) == counted(b)  # in any order (first seen, per chunk or per file)


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
@pytest.mark.parametrize("points", [None, 500])
def test_file_summaries_equal_the_frames(
    suffix: str, points: int | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reading, "CSV_CHUNK_ROWS", 700)  # several chunks to add up
    path = tmp_path / f"t{suffix}"
    frame = table(3000, seed=1)
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    else:
        frame["when"] = pd.date_range("2024-01-01", periods=3000, freq="h")
        frame["cat"] = pd.Categorical(frame["s"])
        frame.to_parquet(path)
    columns = [str(c) for c in frame.columns]
    found, rows = reading.summarise_table(path, columns, what="data", max_points=points)
    expected = summarise_frame(read_table(path, columns=columns), columns, max_points=points)
    assert rows == 3000
    assert list(found) == columns
    for name in columns:
        same(found[name], expected[name])
    if suffix == ".parquet":
        assert found["cat"].dtype == "category"
        assert found["when"].dtype == "datetime"
    assert found["day"].dtype == "datetime"
    assert found["i"].dtype == "integer"
    assert found["f_missing"].count < 3000


def test_a_csv_column_whose_type_changes_between_chunks_is_read_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reading, "CSV_CHUNK_ROWS", 100)
    frame = pd.DataFrame({"x": [str(n) for n in range(300)], "y": np.arange(300) % 7})
    frame.loc[250, "x"] = "n/a?"  # numbers, then text in the last chunk
    path = tmp_path / "t.csv"
    frame.to_csv(path, index=False)
    found, _ = reading.summarise_table(path, ["x", "y"], what="data", max_points=None)
    expected = summarise_frame(read_table(path), ["x", "y"], max_points=None)
    assert found["x"].dtype == "string"
    for name in ("x", "y"):
        same(found[name], expected[name])


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_a_table_without_rows_is_a_config_error(suffix: str, tmp_path: Path) -> None:
    path = tmp_path / f"t{suffix}"
    empty = pd.DataFrame({"x": pd.Series([], dtype=float)})
    empty.to_parquet(path) if suffix == ".parquet" else empty.to_csv(path, index=False)
    with pytest.raises(ConfigError, match="has no rows"):
        reading.summarise_table(path, ["x"], what="current data", max_points=None)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", r"current data file is empty: .*t\.csv"),
        (b'x,y\n1,"2\n', r"cannot parse current data file"),
        (b"x,y\n1,caf\xe9\n", r"current data file is not UTF-8 text \(byte \d+\)"),
        (b"x,z\n1,2\n", r"cannot read current data file: .*y"),
    ],
)
def test_a_bad_csv_file_is_the_same_config_error_from_both_readers(
    content: bytes, message: str, tmp_path: Path
) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(content)
    with pytest.raises(ConfigError, match=message) as streamed:
        reading.summarise_table(path, ["x", "y"], what="current data", max_points=None)
    with pytest.raises(ConfigError, match=message) as whole:
        read_table(path, what="current data", columns=["x", "y"])
    assert streamed.value.location == whole.value.location
    assert streamed.value.location is not None
    assert streamed.value.location.file == str(path)


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_the_gate_on_files_decides_as_on_frames(suffix: str, tmp_path: Path) -> None:
    # Large enough for the distances, so the current side is kept as quantiles.
    reference, current = table(120_000, seed=2), table(130_000, seed=3)
    current["f"] += 0.5
    paths = []
    for name, frame in (("ref", reference), ("cur", current)):
        path = tmp_path / f"{name}{suffix}"
        frame.to_parquet(path) if suffix == ".parquet" else frame.to_csv(path, index=False)
        paths.append(path)
    columns = ("f", "f_missing", "i", "i_few", "b", "s", "s_missing", "f32")
    inputs = DriftInputs(paths[0], paths[1], columns, DriftOptions(), None, "m")
    _, report, _ = drift_gate(inputs)
    expected = compare_frames(read_table(paths[0]), read_table(paths[1]), list(columns))
    assert [c.to_dict() | {"distribution": None} for c in report.columns] == [
        c.to_dict() | {"distribution": None} for c in expected.columns
    ]
    assert [c.column for c in report.drifted_columns] == ["f"]


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_a_text_column_is_a_date_only_when_its_sample_is(suffix: str, tmp_path: Path) -> None:
    # The first present value decides "plain text" early; a column that starts with dates (or
    # with missing values) is still judged on the whole sample, as the frame path judges it.
    days = [f"2024-01-{d:02d}" for d in range(1, 29)] * 10
    frame = pd.DataFrame(
        {
            "late_dates": ["note", *days[1:]],
            "early_dates": [*days[:-1], "note"],
            "gap_then_dates": [None] * 40 + days[40:],
        }
    )
    path = tmp_path / f"t{suffix}"
    frame.to_parquet(path) if suffix == ".parquet" else frame.to_csv(path, index=False)
    columns = list(frame.columns)
    found, _ = reading.summarise_table(path, columns, what="data", max_points=None)
    expected = summarise_frame(read_table(path), columns, max_points=None)
    for name in columns:
        same(found[name], expected[name])
    kinds = {name: found[name].dtype for name in columns}
    assert kinds == {"late_dates": "string", "early_dates": "string", "gap_then_dates": "datetime"}
