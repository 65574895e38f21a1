"""Drift benchmark: mlgate against Evidently 0.7 (DataDriftPreset defaults) and a plain SciPy loop.

Generates reference and current tables of 20 columns (15 numeric, 5 categorical; drift injected
in some columns) at each size, runs every tool on the same Parquet files in fresh processes,
alternating tools within each round, and reports median times, ratios, peak memory and the
per-column agreement of drift decisions with Evidently. Evidently needs ``pandas<3`` and is
installed into its own virtual environment under bench/work/ on first use.

    python bench/drift.py [--sizes 10000,100000,1000000] [--repeats 3] [--repeats-1m 1]

Writes bench/results/drift.json and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlgate import proc

HERE = Path(__file__).resolve().parent
WORK = HERE / "work"
RESULTS = HERE / "results"
RUNNER = HERE / "drift_runner.py"
EVIDENTLY_SPEC = ("evidently>=0.7,<0.8", "pandas<3", "pyarrow")
TOOLS = ("mlgate", "evidently", "scipy", "mlgate-cached")
# Columns with injected drift (what a good detector should flag at large sizes).
DRIFTED = ("num_00", "num_01", "num_02", "num_05", "int_few", "cat_00", "cat_02")


def make_tables(rows: int, seed: int = 20240601) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Same-size reference and current tables; current has drift injected in DRIFTED columns."""
    rng = np.random.default_rng(seed)

    def table(current: bool) -> pd.DataFrame:
        cols: dict[str, Any] = {}
        for i in range(13):
            kind = i % 4
            if kind == 0:
                values = rng.normal(10 * i, 1 + i, rows)
            elif kind == 1:
                values = rng.lognormal(1, 0.5, rows)
            elif kind == 2:
                values = rng.uniform(-5, 5, rows)
            else:
                values = rng.gamma(2, 2, rows)
            name = f"num_{i:02d}"
            if current and name in {"num_00", "num_01", "num_02"}:
                values = values + 0.3 * values.std()  # a clear mean shift
            if current and name == "num_05":
                values = values * 1.6  # a change of scale
            if current and name == "num_07":
                values = values + 0.03 * values.std()  # too small to count as drift
            if i in (3, 9):
                values[rng.random(rows) < 0.05] = np.nan  # some missing values
            cols[name] = values
        few = _shares(7)
        cols["int_few"] = rng.choice(7, rows, p=np.roll(few, 2) if current else few)
        cols["int_many"] = rng.integers(0, 100, rows)
        for j, k in enumerate((3, 5, 10, 20, 50)):
            name = f"cat_{j:02d}"
            labels = np.array([f"{name}_v{v}" for v in range(k + 1)], dtype=object)
            shares = np.append(_shares(k), 0.0)
            if current and name == "cat_00":
                shares = np.append(_shares(k)[::-1], 0.0)  # the mix reverses
            if current and name == "cat_02":
                shares = np.append(_shares(k) * 0.85, 0.15)  # a new category appears
            cols[name] = labels[rng.choice(k + 1, rows, p=shares)]
        return pd.DataFrame(cols)

    return table(current=False), table(current=True)


def _shares(k: int) -> np.ndarray:
    """Unequal category shares, rising linearly from the first to the last value."""
    base = np.linspace(1.0, 2.0, k)
    return np.asarray(base / base.sum())


def dataset(rows: int) -> tuple[Path, Path]:
    folder = WORK / "data"
    folder.mkdir(parents=True, exist_ok=True)
    ref, cur = folder / f"drift-{rows}-reference.parquet", folder / f"drift-{rows}-current.parquet"
    if not (ref.exists() and cur.exists()):
        reference, current = make_tables(rows)
        reference.to_parquet(ref)
        current.to_parquet(cur)
    return ref, cur


def evidently_python(explicit: str | None) -> Path:
    if explicit:
        return Path(explicit)
    venv = WORK / "evidently-venv"
    python = venv / "bin" / "python"
    if not python.exists():
        print(f"creating {venv} with {', '.join(EVIDENTLY_SPEC)} ...", file=sys.stderr)
        proc.run([sys.executable, "-m", "venv", str(venv)], what="venv")
        proc.run([str(python), "-m", "pip", "install", "--quiet", *EVIDENTLY_SPEC], what="pip")
    return python


def run_tool(tool: str, python: Path, ref: Path, cur: Path, timeout: float) -> dict[str, Any]:
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "OMP_NUM_THREADS": "1"}
    result = proc.run(
        [str(python), str(RUNNER), tool, str(ref), str(cur)],
        env=env,
        timeout=timeout,
        what=f"{tool} drift run",
    )
    data: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return data


def agreement(mine: dict[str, Any], theirs: dict[str, Any]) -> dict[str, Any]:
    cols = sorted(theirs["columns"])
    differ = [c for c in cols if mine["columns"][c]["drifted"] != theirs["columns"][c]["drifted"]]
    return {
        "columns": len(cols),
        "agree": len(cols) - len(differ),
        "disagree": [
            {"column": c, "mine": mine["columns"][c], "evidently": theirs["columns"][c]}
            for c in differ
        ],
        "dataset_drift_agrees": mine["dataset_drift"] == theirs["dataset_drift"],
    }


def bench_size(rows: int, repeats: int, pythons: dict[str, Path], timeout: float) -> dict[str, Any]:
    ref, cur = dataset(rows)
    runs: dict[str, list[dict[str, Any]]] = {t: [] for t in pythons}
    order = list(pythons)
    for round_ in range(repeats):
        rotated = order[round_ % len(order) :] + order[: round_ % len(order)]
        for tool in rotated:
            print(f"  {rows:>9,} rows, round {round_ + 1}/{repeats}: {tool}", file=sys.stderr)
            runs[tool].append(run_tool(tool, pythons[tool], ref, cur, timeout))
    summary: dict[str, Any] = {"rows": rows, "repeats": repeats, "tools": {}}
    for tool, results in runs.items():
        last = results[-1]
        peaks = [r["peak_rss"] for r in results if r["peak_rss"] is not None]
        summary["tools"][tool] = {
            "seconds_median": statistics.median(r["seconds"] for r in results),
            "seconds_all": [r["seconds"] for r in results],
            "frames_bytes": last["frames_bytes"],
            "rss_base": last.get("rss_base"),
            "rss_before": last["rss_before"],
            "peak_rss": max(peaks) if peaks else None,
            "pandas": last["pandas"],
            "drifted": sorted(c for c, v in last["columns"].items() if v["drifted"]),
            "dataset_drift": last["dataset_drift"],
        }
    if "evidently" in runs:
        theirs = runs["evidently"][-1]
        summary["agreement"] = {t: agreement(runs[t][-1], theirs) for t in runs if t != "evidently"}
        base = summary["tools"]["evidently"]["seconds_median"]
        for tool in runs:
            summary["tools"][tool]["evidently_over_tool"] = (
                base / summary["tools"][tool]["seconds_median"]
            )
    for t in summary["tools"].values():
        if t["peak_rss"]:
            # Whole process; above the interpreter and libraries (data + work); above the frames.
            t["peak_over_frames"] = t["peak_rss"] / t["frames_bytes"]
            if t["rss_base"]:
                t["data_peak_over_frames"] = (t["peak_rss"] - t["rss_base"]) / t["frames_bytes"]
            t["extra_over_frames"] = (t["peak_rss"] - t["rss_before"]) / t["frames_bytes"]
    summary["columns"] = dict(runs[order[0]][-1]["columns"])
    return summary


def markdown(results: list[dict[str, Any]]) -> str:
    lines = [
        (
            "| rows | tool | median s | Evidently / tool | peak RSS MB | frames MB "
            "| (peak - libraries) / frames | decisions = Evidently |"
        ),
        "|---:|---|---:|---:|---:|---:|---:|---|",
    ]
    for size in results:
        for tool, t in size["tools"].items():
            agree = size.get("agreement", {}).get(tool)
            agreed = f"{agree['agree']}/{agree['columns']}" if agree else "-"
            ratio = t.get("evidently_over_tool")
            peak = t["peak_rss"] / 1e6 if t["peak_rss"] else float("nan")
            data_peak = t.get("data_peak_over_frames", float("nan"))
            lines.append(
                f"| {size['rows']:,} | {tool} | {t['seconds_median']:.3f} | "
                f"{'' if ratio is None else f'{ratio:.1f}x'} | {peak:.0f} | "
                f"{t['frames_bytes'] / 1e6:.0f} | {data_peak:.2f} "
                f"| {agreed} |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--repeats", type=int, default=3, help="rounds per size below 1M rows")
    parser.add_argument("--repeats-1m", type=int, default=1, help="rounds at 1M rows and above")
    parser.add_argument("--tools", default=",".join(TOOLS))
    parser.add_argument("--evidently-python", default=os.environ.get("EVIDENTLY_PYTHON"))
    parser.add_argument("--timeout", type=float, default=3600)
    parser.add_argument("--out", type=Path, default=RESULTS / "drift.json")
    args = parser.parse_args()
    tools = [t for t in args.tools.split(",") if t]
    pythons = {t: Path(sys.executable) for t in tools if t != "evidently"}
    if "evidently" in tools:
        pythons = {"evidently": evidently_python(args.evidently_python), **pythons}
    results = []
    for rows in (int(s) for s in args.sizes.split(",")):
        repeats = args.repeats_1m if rows >= 1_000_000 else args.repeats
        results.append(bench_size(rows, repeats, pythons, args.timeout))
    report = {
        "benchmark": "drift",
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "injected_drift": list(DRIFTED),
        "results": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    print(markdown(results))
    for size in results:
        for tool, agree in size.get("agreement", {}).items():
            for d in agree["disagree"]:
                print(
                    f"{size['rows']:,} rows, {tool} vs evidently differ on {d['column']}: "
                    f"{d['mine']} vs {d['evidently']}"
                )


if __name__ == "__main__":
    main()
