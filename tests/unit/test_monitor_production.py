"""Reading production data for ``mlgate monitor``: capture records become rows, broken lines
are skipped and counted, hashed columns are known, and the window cuts by time."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from mlgate.errors import UsageError
from mlgate.monitor.production import parse_time, read_production


def _record(rid: str, ts: str, ages: list[int], outputs: list, **extra: object) -> str:
    return json.dumps({"request_id": rid, "ts": ts, "model": "m", "version": "v1",
                       "rows": len(outputs), "inputs": {"age": ages, "plan": ["x"] * len(ages)},
                       "outputs": outputs, **extra})  # fmt: skip


def test_capture_records_become_rows_and_broken_lines_are_counted(tmp_path: Path) -> None:
    folder = tmp_path / "cap"
    folder.mkdir()
    (folder / "capture-1-1-000000.jsonl").write_text(
        _record("a", "2026-01-01T00:00:00.000Z", [30, 40], [[0.2, 0.8], [0.9, 0.1]]) + "\n"
        + "not json\n"
        + _record("b", "2026-01-02T00:00:00.000Z", [50], [1], hashed=["plan"]) + "\n"
        + '{"request_id": "c", "ts": "2026-01-0'  # cut short by a crash
    )  # fmt: skip
    production = read_production(folder)
    frame = production.frame
    assert list(frame["request_id"]) == ["a", "a", "b"]
    assert list(frame["row"]) == [0, 1, 0]
    assert list(frame["age"]) == [30, 40, 50]
    assert list(frame["prediction"]) == [0.8, 0.1, 1]  # probability rows: the last class
    assert (production.requests, production.skipped_lines) == (2, 2)
    assert production.hashed == ("plan",)
    assert str(frame["ts"].dt.tz) == "UTC"

    window = read_production(folder, since=parse_time("2026-01-01T12:00", "--since"))
    assert list(window.frame["request_id"]) == ["b"]
    assert window.requests == 1
    until = read_production(folder, until=parse_time("2026-01-02", "--until"))
    assert list(until.frame["request_id"]) == ["a", "a"]  # --until is exclusive


def test_a_table_needs_a_time_column_for_a_window(tmp_path: Path) -> None:
    table = tmp_path / "recent.csv"
    pd.DataFrame({"age": [1, 2], "when": ["2026-01-01", "2026-02-01"]}).to_csv(table, index=False)
    assert len(read_production(table).frame) == 2
    with pytest.raises(UsageError, match="need a time column"):
        read_production(table, since=parse_time("2026-01-15", "--since"))
    cut = read_production(table, since=parse_time("2026-01-15", "--since"), time_column="when")
    assert list(cut.frame["age"]) == [2]
    with pytest.raises(UsageError, match="not an ISO 8601"):
        parse_time("yesterday-ish", "--since")
