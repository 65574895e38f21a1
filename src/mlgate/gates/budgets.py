"""Model budgets: file size, and single-row prediction latency (p50/p95) over evaluation rows.

Latency is timed in-process, one row per ``predict`` call (how a scoring server sees requests),
on up to ``latency_rows`` rows spread evenly over the evaluation data, after a short warm-up.
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from mlgate.config.sections import BudgetSettings
from mlgate.verdict import Check, Status

if TYPE_CHECKING:
    import pandas as pd

KIND = "budget"
WARMUP = 3
MB = 1_000_000


def _size(path: Path) -> int:
    """Bytes of a model file, or of every file of a model directory (MLflow)."""
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size


def budget_checks(
    settings: BudgetSettings, model_file: Path, estimator: Any, inputs: pd.DataFrame | None
) -> list[Check]:
    """Checks for every configured budget; ``inputs`` is None when the model cannot be run."""
    checks = []
    key = ("gates", "budgets")
    if settings.max_file_size_mb is not None:
        total = _size(model_file)
        size = total / MB
        ok = size <= settings.max_file_size_mb
        checks.append(
            Check(
                "budget.file_size",
                KIND,
                Status.PASS if ok else Status.FAIL,
                f"model file {size:.3f} MB {'<=' if ok else '>'} {settings.max_file_size_mb:g} MB",
                observed=round(size, 6),
                threshold=settings.max_file_size_mb,
                details={"op": "<=", "bytes": total},
                config_key=(*key, "max_file_size_mb"),
            )
        )
    wanted = [
        (name, limit)
        for name, limit in (("p50", settings.latency_p50_ms), ("p95", settings.latency_p95_ms))
        if limit is not None
    ]
    if not wanted:
        return checks
    timings, error = _latencies(estimator, inputs, settings.latency_rows)
    for name, limit in wanted:
        cid, ckey = f"budget.latency_{name}", (*key, f"latency_{name}_ms")
        if error is not None:
            checks.append(
                Check(
                    cid,
                    KIND,
                    Status.FAIL,
                    f"latency not measured: {error}",
                    threshold=limit,
                    config_key=ckey,
                )
            )
            continue
        value = float(np.percentile(timings, 50 if name == "p50" else 95))
        ok = value <= limit
        checks.append(
            Check(
                cid,
                KIND,
                Status.PASS if ok else Status.FAIL,
                f"single-row latency {name} {value:.3f} ms {'<=' if ok else '>'} {limit:g} ms "
                f"({len(timings)} rows)",
                observed=round(value, 6),
                threshold=limit,
                details={"op": "<=", "rows": len(timings)},
                config_key=ckey,
            )
        )
    return checks


def _latencies(
    estimator: Any, inputs: pd.DataFrame | None, rows: int
) -> tuple[np.ndarray, str | None]:
    if inputs is None or not len(inputs):
        return np.empty(0), "the model could not be run on the evaluation data"
    picks = np.unique(np.linspace(0, len(inputs) - 1, min(rows, len(inputs))).astype(int))
    single = [inputs.iloc[[i]] for i in picks]
    timings = np.empty(len(single))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            for row in single[:WARMUP]:
                estimator.predict(row)
            for i, row in enumerate(single):
                start = time.perf_counter()
                estimator.predict(row)
                timings[i] = (time.perf_counter() - start) * 1000.0
        except Exception as exc:  # the user's model
            return np.empty(0), f"predict raised {type(exc).__name__}: {exc}"
    return timings, None
