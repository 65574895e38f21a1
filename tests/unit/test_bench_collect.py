"""The benchmark collector reads every area script's JSON format (the committed results are
real outputs of those scripts), so a script changing its format breaks this test, not a run."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


def _collect() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_collect", BENCH / "collect.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_collect"] = module
    spec.loader.exec_module(module)
    return module


collect = _collect()
RESULTS = sorted((BENCH / "results").glob("*.json"))
AREA_FILES = [p for p in RESULTS if p.stem in collect.AREAS]


def test_every_area_has_a_script_and_a_collector() -> None:
    for area in collect.AREAS:
        assert (BENCH / f"{area}.py").is_file(), area
        assert area in collect.COLLECTORS


@pytest.mark.parametrize("path", AREA_FILES, ids=lambda p: p.stem)
def test_committed_results_become_rows(path: Path) -> None:
    rows = collect.collect(path.stem, json.loads(path.read_text()))
    assert rows
    for row in rows:
        assert row.area == path.stem
        line = row.markdown()
        assert line.startswith(f"| {path.stem} |")
        assert line.count("|") == 10
        if row.met is not None:
            assert row.target


def test_targets_are_judged_only_at_the_size_they_name() -> None:
    small: dict[str, Any] = {
        "targets": {"show_s": 0.3, "show_speedup": 100.0, "register_s": 0.5},
        "results": [
            {
                "tags": 100,
                **{f"mlgate_{op}_s": 1.0 for op in ("show", "history", "resolve", "register")},
            }
        ],
    }
    rows = collect.collect("registry", small)
    assert all(r.met is None for r in rows)
    small["results"][0]["tags"] = 5000
    rows = {r.measure: r for r in collect.collect("registry", small)}
    assert rows["show"].met is False
    assert rows["register"].met is False


def test_registry_cpu_rows_judge_the_floor_and_gto_targets() -> None:
    times = {f"mlgate_{op}_s": 0.1 for op in ("show", "history", "resolve", "register")}
    raw: dict[str, Any] = {
        "targets": {"show_floor_ratio": 1.5, "show_speedup": 100.0},
        "results": [
            {
                "tags": 5000,
                **times,
                "mlgate_show_cpu_s": 0.06,
                "mlgate_show_uncached_cpu_s": 0.2,
                "floor_cpu_s": 0.05,
                "gto_show_cpu_s": 7.0,
            }
        ],
    }
    rows = {r.measure: r for r in collect.collect("registry", raw)}
    assert rows["show CPU (peer: the floor)"].met is True  # 1.2x the floor
    assert rows["show CPU (peer: gto show)"].met is True  # 117x less
    assert rows["show CPU, uncached (peer: the floor)"].met is False  # 4x the floor
    assert rows["show CPU, uncached (peer: gto show)"].met is False  # 35x less
    assert rows["show CPU (peer: the floor)"].ratio == pytest.approx(0.83)
