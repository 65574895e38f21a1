"""One timed drift run of one tool on two Parquet files, in a fresh process; prints JSON.

Runs under mlgate's environment (tools ``mlgate``, ``mlgate-cached``, ``scipy``) or under
Evidently's own environment (tool ``evidently``). Time covers the drift computation only, on
frames already in memory. Memory: the process's peak resident set during that computation
(the kernel's high-water mark, reset just before), the resident set of the interpreter and
libraries before any data was read, and the resident set with the frames loaded.

    python drift_runner.py TOOL REFERENCE.parquet CURRENT.parquet

``python drift_runner.py e2e floor|evidently REFERENCE CURRENT`` is the end-to-end form that
bench/drift.py times as a whole process: the imports and the reading of both files (CSV or
Parquet, with pandas) count, nothing is preloaded.
"""

from __future__ import annotations

# Imports of the measured tools happen inside functions: each runs in its own environment.
import gc
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


def _status(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    return 0


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def run_mlgate(ref: pd.DataFrame, cur: pd.DataFrame, *, cached: bool) -> tuple[Any, dict]:
    from mlgate.gates.drift.engine import DriftOptions, compare, summarise_frame

    options = DriftOptions()
    columns = [str(c) for c in ref.columns]
    if cached:  # the reference side summarised beforehand, as a warm cache has it
        summaries = summarise_frame(ref, columns)
        start = time.perf_counter()
        report = compare(summaries, cur, columns, options, reference_rows=len(ref))
    else:
        start = time.perf_counter()
        report = compare(
            summarise_frame(ref, columns), cur, columns, options, reference_rows=len(ref)
        )
    seconds = time.perf_counter() - start
    cols = {
        c.column: {"test": c.test, "score": c.score, "drifted": c.drifted} for c in report.columns
    }
    return seconds, {"columns": cols, "dataset_drift": report.dataset_drift, "share": report.share}


def run_evidently(ref: pd.DataFrame, cur: pd.DataFrame) -> tuple[Any, dict]:
    from evidently import Report
    from evidently.presets import DataDriftPreset

    start = time.perf_counter()
    snapshot = Report([DataDriftPreset()]).run(cur, ref)
    seconds = time.perf_counter() - start
    cols = {}
    share = None
    for metric in snapshot.dict()["metrics"]:
        config = metric["config"]
        if config["type"].endswith("DriftedColumnsCount"):
            share = metric["value"]["share"]
            continue
        method, threshold, value = config["method"], config["threshold"], metric["value"]
        drifted = value < threshold if "p_value" in method else value >= threshold
        cols[config["column"]] = {"test": method, "score": value, "drifted": bool(drifted)}
    return seconds, {
        "columns": cols,
        "dataset_drift": share is not None and share >= 0.5,
        "share": share,
    }


def run_scipy(ref: pd.DataFrame, cur: pd.DataFrame) -> tuple[Any, dict]:
    """The floor: a plain per-column loop over pandas and SciPy, same decision rules."""
    from scipy import stats
    from scipy.spatial import distance

    start = time.perf_counter()
    cols = {}
    for name in ref.columns:
        r = ref[name].replace([np.inf, -np.inf], np.nan).dropna()
        c = cur[name].replace([np.inf, -np.inf], np.nan).dropna()
        numeric = pd.api.types.is_float_dtype(c) or (
            pd.api.types.is_integer_dtype(c) and c.nunique() > 10
        )
        values = pd.concat([r, c]).nunique()
        small = len(r) <= 1000
        if numeric and values > 5:
            if small:
                test, score = "ks", stats.ks_2samp(r, c).pvalue
            else:
                score = stats.wasserstein_distance(r, c) / max(np.std(r), 0.001)
                test = "wasserstein"
        else:
            keys = sorted(set(r.unique()) | set(c.unique()), key=str)
            rc = r.value_counts().reindex(keys, fill_value=0).to_numpy(dtype=float)
            cc = c.value_counts().reindex(keys, fill_value=0).to_numpy(dtype=float)
            if small and len(keys) <= 2:
                test, score = "z", _z_test(rc, cc)
            elif small:
                test = "chi2"
                score = stats.chisquare(cc, rc * cc.sum() / rc.sum()).pvalue
            else:
                test, score = "jensenshannon", distance.jensenshannon(rc, cc)
        p_value = test in {"ks", "chi2", "z"}
        drifted = score < 0.05 if p_value else score >= 0.1
        cols[str(name)] = {"test": test, "score": float(score), "drifted": bool(drifted)}
    seconds = time.perf_counter() - start
    share = sum(bool(v["drifted"]) for v in cols.values()) / len(cols)
    return seconds, {"columns": cols, "dataset_drift": share >= 0.5, "share": share}


def _z_test(rc: np.ndarray, cc: np.ndarray) -> float:
    from scipy import stats

    if len(rc) < 2:
        return 1.0
    n1, n2 = rc.sum(), cc.sum()
    pooled = (rc[1] + cc[1]) / (n1 + n2)
    z = (rc[1] / n1 - cc[1] / n2) / np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    return float(2 * stats.norm.sf(abs(z)))


def _release_arrow_pool() -> None:
    """Parquet reading leaves freed buffers in Arrow's allocator; give them back first."""
    try:
        import pyarrow as pa
    except ImportError:
        return
    pa.default_memory_pool().release_unused()


def _preload(tool: str) -> None:
    """Import what the tool uses before measuring, so neither time nor memory counts imports."""
    if tool == "evidently":
        import evidently.presets  # noqa: F401
        from evidently.legacy.calculations import stattests  # noqa: F401
    else:
        import scipy.spatial.distance
        import scipy.special
        import scipy.stats  # noqa: F401
    if tool.startswith("mlgate"):
        import mlgate.gates.drift.engine  # noqa: F401


def _read(path: str) -> pd.DataFrame:
    return pd.read_csv(path) if path.endswith((".csv", ".csv.gz")) else pd.read_parquet(path)


def end_to_end(tool: str, ref_path: str, cur_path: str) -> None:
    """The whole job as a user would script it: import, read both files with pandas, compare.
    The parent process measures it (CPU, wall, peak memory); this prints the decisions."""
    ref, cur = _read(ref_path), _read(cur_path)
    if tool == "evidently":
        _, result = run_evidently(ref, cur)
    elif tool == "floor":
        _, result = run_scipy(ref, cur)
    else:
        raise SystemExit(f"unknown end-to-end tool {tool!r}")
    print(json.dumps({"tool": tool, "rows": len(ref), **result}))


def main() -> None:
    if sys.argv[1] == "e2e":
        end_to_end(*sys.argv[2:5])
        return
    tool, ref_path, cur_path = sys.argv[1:4]
    _preload(tool)
    gc.collect()
    base = _status("VmRSS")  # interpreter and libraries, before any data
    ref, cur = pd.read_parquet(ref_path), pd.read_parquet(cur_path)
    frames = int(ref.memory_usage(deep=True).sum() + cur.memory_usage(deep=True).sum())
    gc.collect()
    _release_arrow_pool()
    before = _status("VmRSS")
    resettable = _reset_peak()
    if tool == "evidently":
        seconds, result = run_evidently(ref, cur)
    elif tool == "scipy":
        seconds, result = run_scipy(ref, cur)
    else:
        seconds, result = run_mlgate(ref, cur, cached=tool == "mlgate-cached")
    peak = _status("VmHWM")
    print(
        json.dumps(
            {
                "tool": tool,
                "rows": len(ref),
                "seconds": seconds,
                "frames_bytes": frames,
                "rss_base": base,
                "rss_before": before,
                "peak_rss": peak if resettable else None,
                "pandas": pd.__version__,
                **result,
            }
        )
    )


if __name__ == "__main__":
    main()
