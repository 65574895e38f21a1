"""Drift benchmark, end to end: whole processes of mlgate, a pandas + SciPy script and Evidently.

Every measured run is a fresh process doing the whole job: start the interpreter, import, read
both files, compare, print. The parent measures each child's CPU time (user + sys, the primary
figure on a shared machine), wall time and peak resident memory (``os.wait4``). Tools alternate
within each round. The tools:

- ``mlgate``: ``mlgate drift --reference R --current C --no-cache --json`` (cold);
- ``mlgate-cached``: the same with the reference summaries cached (one unmeasured run first);
- ``floor``: a plain script, pandas reads both files and SciPy tests each column with the same
  decision rules (bench/drift_runner.py ``e2e floor``);
- ``evidently``: Evidently 0.7's DataDriftPreset on both files read by pandas (its own venv).

Tables: 20 columns (13 float, 2 integer, 5 string), drift injected in 7, as CSV and Parquet.
Memory: at ``--memory-rows`` (10M) mlgate's peak above the interpreter and its libraries (the
peak of the same command on a 5,000-row table) is compared with one input frame (what pandas
holds after reading the current file, ``memory_usage(deep=True)``). ``imports`` times bare
processes (the interpreter, NumPy, pyarrow, pandas), the part of any run no reader can save.

    python bench/drift.py [--sizes 100000,1000000] [--formats parquet,csv] [--repeats 3]
        [--memory-rows 10000000] [--evidently-python PY]

Writes bench/results/drift.json and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
WORK = HERE / "work"
RESULTS = HERE / "results"
RUNNER = HERE / "drift_runner.py"
EVIDENTLY_SPEC = ("evidently>=0.7,<0.8", "pandas<3", "pyarrow")
TOOLS = ("mlgate", "mlgate-cached", "floor", "evidently")
FORMATS = ("parquet", "csv")
# Columns with injected drift (what a good detector should flag at large sizes).
DRIFTED = ("num_00", "num_01", "num_02", "num_05", "int_few", "cat_00", "cat_02")
BLOCK_ROWS = 1_000_000  # tables are generated and written in blocks of this many rows
# The memory base: the same command on a table this small, but above the 1,000 values where
# the small-sample tests (KS, chi-square) take over and import SciPy, which a large table's run
# never does (a 100-row base held SciPy and came out above a 100,000-row peak).
BASE_ROWS = 5_000
TARGETS = {"cold_over_floor": 0.15, "cached_over_floor": 0.05, "evidently_over_mlgate": 50.0}
TARGETS["memory_over_frame"] = 1.0
PROJECT_YAML = "version: 1\nmodels:\n  - name: bench\n    path: model\n"
PROJECT_YAML += "    model: {file: model.bin, task: regression}\n"


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


def dataset(rows: int, fmt: str) -> tuple[Path, Path]:
    """Reference and current files of ``rows`` rows, written once in blocks (memory stays flat)."""
    folder = WORK / "data"
    folder.mkdir(parents=True, exist_ok=True)
    paths = (folder / f"drift-{rows}-reference.{fmt}", folder / f"drift-{rows}-current.{fmt}")
    if all(p.exists() for p in paths):
        return paths
    import pyarrow as pa
    import pyarrow.parquet as pq

    if fmt == "csv":  # the Parquet tables written as CSV by Arrow (much faster than pandas)
        from pyarrow import csv

        for source, path in zip(dataset(rows, "parquet"), paths, strict=True):
            print(f"  writing {path.name}", file=sys.stderr)
            part = path.with_suffix(".part")
            table = pq.ParquetFile(source)
            with csv.CSVWriter(part, table.schema_arrow) as writer:
                for batch in table.iter_batches(batch_size=BLOCK_ROWS):
                    writer.write_batch(batch)
            part.replace(path)
        return paths
    parts = [p.with_suffix(".part") for p in paths]
    writers: list[Any] = [None, None]
    for block, start in enumerate(range(0, rows, BLOCK_ROWS)):
        size = min(BLOCK_ROWS, rows - start)
        print(f"  writing {rows:,} rows ({fmt}): block {block + 1}", file=sys.stderr)
        for i, frame in enumerate(make_tables(size, seed=20240601 + block)):
            if fmt == "csv":
                frame.to_csv(parts[i], index=False, header=block == 0, mode="a" if block else "w")
                continue
            table = pa.Table.from_pandas(frame, preserve_index=False)
            writers[i] = writers[i] or pq.ParquetWriter(parts[i], table.schema)
            writers[i].write_table(table)
    for writer in writers:
        if writer is not None:
            writer.close()
    for part, path in zip(parts, paths, strict=True):
        part.replace(path)
    return paths


def frame_bytes(path: Path) -> int:
    """Memory of one input frame: the current file read by pandas (measured once, remembered)."""
    memo = path.with_name(path.name + ".frame.json")
    if memo.exists():
        return int(json.loads(memo.read_text())["bytes"])
    code = (
        "import sys, pandas as pd; p = sys.argv[1]; "
        "f = pd.read_csv(p) if p.endswith('.csv') else pd.read_parquet(p); "
        "print(int(f.memory_usage(deep=True).sum()))"
    )
    done = subprocess.run(  # noqa: TID251 - a measuring harness, not product code
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True
    )
    size = int(done.stdout.strip())
    memo.write_text(json.dumps({"bytes": size}))
    return size


# Starts the measured command and reports its own rusage. A process's peak RSS counts the
# memory of the process that forked it (Linux carries the high-water mark across fork and exec),
# so the harness, which holds generated tables, does not fork the measured tools itself.
LAUNCHER = """
import json, os, sys
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as f:
    json.dump([usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024, status], f)
"""


def measure(argv: Sequence[str], cwd: Path, env: dict[str, str]) -> dict[str, Any]:
    """Run ``argv`` to its end; its CPU (user + sys), wall time, peak RSS and output."""
    with (
        tempfile.TemporaryFile("w+") as out,
        tempfile.TemporaryFile("w+") as err,
        tempfile.TemporaryDirectory() as tmp,
    ):
        report = Path(tmp) / "usage.json"
        launcher = [sys.executable, "-S", "-c", LAUNCHER, str(report), *argv]
        began = time.perf_counter()
        subprocess.run(launcher, cwd=cwd, env=env, stdout=out, stderr=err, check=True)  # noqa: TID251
        wall = time.perf_counter() - began
        cpu, peak, status = json.loads(report.read_text())
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):  # 1 is "dataset drift" for mlgate
        raise RuntimeError(f"{' '.join(argv)} exited {code}:\n{stderr[-2000:]}")
    return {"cpu": cpu, "wall": wall, "peak_rss": peak, "stdout": stdout}


def measured_env() -> dict[str, str]:
    """The measured processes' environment: warnings off, and bytecode written and read as an
    installed package has it (a ``PYTHONDONTWRITEBYTECODE`` here would make an editable mlgate
    compile its modules in every run; the unmeasured first run writes them)."""
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


class Runner:
    """Starts each tool as a whole process and measures it."""

    def __init__(self, evidently: Path | None) -> None:
        self.evidently = evidently
        self.env = measured_env()
        self.project = WORK / "drift-project"
        (self.project / "model").mkdir(parents=True, exist_ok=True)
        (self.project / "mlgate.yaml").write_text(PROJECT_YAML)
        exe = Path(sys.executable).with_name("mlgate")
        self.mlgate = [str(exe)] if exe.exists() else [sys.executable, "-m", "mlgate"]

    def argv(self, tool: str, ref: Path, cur: Path) -> list[str]:
        if tool in ("mlgate", "mlgate-cached"):
            cold = ["--no-cache"] if tool == "mlgate" else []
            files = ["--reference", str(ref), "--current", str(cur)]
            return [*self.mlgate, "drift", *files, *cold, "--json"]
        python = str(self.evidently) if tool == "evidently" else sys.executable
        return [python, str(RUNNER), "e2e", tool, str(ref), str(cur)]

    def run(self, tool: str, ref: Path, cur: Path) -> dict[str, Any]:
        result = measure(self.argv(tool, ref, cur), self.project, self.env)
        result["drifted"] = drifted_columns(tool, result.pop("stdout"))
        return result

    def clear_cache(self) -> None:
        shutil.rmtree(self.project / ".mlgate", ignore_errors=True)


def drifted_columns(tool: str, stdout: str) -> list[str]:
    if tool.startswith("mlgate"):
        verdict = json.loads(stdout)
        return sorted(
            c["id"].removeprefix("drift.column.")
            for c in verdict["checks"]
            if c["id"].startswith("drift.column.") and (c.get("details") or {}).get("drifted")
        )
    data = json.loads(stdout.strip().splitlines()[-1])
    return sorted(c for c, v in data["columns"].items() if v["drifted"])


def bench_case(
    rows: int, fmt: str, tools: Sequence[str], repeats: int, runner: Runner
) -> dict[str, Any]:
    ref, cur = dataset(rows, fmt)
    runner.clear_cache()
    if "mlgate-cached" in tools:
        runner.run("mlgate-cached", ref, cur)  # fills the cache; not measured
    samples: dict[str, list[dict[str, Any]]] = {t: [] for t in tools}
    for round_ in range(repeats):
        order = list(tools[round_ % len(tools) :]) + list(tools[: round_ % len(tools)])
        for tool in order:
            if tool == "evidently" and len(samples[tool]) >= _evidently_repeats(rows, repeats):
                continue
            step = f"round {round_ + 1}/{repeats}: {tool}"
            print(f"  {rows:>10,} rows {fmt}, {step}", file=sys.stderr)
            samples[tool].append(runner.run(tool, ref, cur))
    case: dict[str, Any] = {"rows": rows, "format": fmt, "repeats": repeats, "tools": {}}
    for tool, runs in samples.items():
        case["tools"][tool] = {
            "cpu_median": statistics.median(r["cpu"] for r in runs),
            "wall_median": statistics.median(r["wall"] for r in runs),
            "cpu_all": [round(r["cpu"], 3) for r in runs],
            "wall_all": [round(r["wall"], 3) for r in runs],
            "peak_rss": max(r["peak_rss"] for r in runs),
            "drifted": runs[-1]["drifted"],
        }
    case["ratios"] = ratios(case["tools"])
    return case


def _evidently_repeats(rows: int, repeats: int) -> int:
    return 1 if rows >= 1_000_000 else repeats  # one 1M-row Evidently run is minutes of CPU


def ratios(tools: dict[str, Any]) -> dict[str, float]:
    out = {}
    for measure in ("cpu", "wall"):
        floor = tools.get("floor", {}).get(f"{measure}_median")
        mine = tools.get("mlgate", {}).get(f"{measure}_median")
        cached = tools.get("mlgate-cached", {}).get(f"{measure}_median")
        theirs = tools.get("evidently", {}).get(f"{measure}_median")
        if floor and mine:
            out[f"cold_over_floor_{measure}"] = round(mine / floor, 4)
        if floor and cached:
            out[f"cached_over_floor_{measure}"] = round(cached / floor, 4)
        if theirs and mine:
            out[f"evidently_over_mlgate_{measure}"] = round(theirs / mine, 2)
    return out


def bench_memory(rows: int, fmt: str, runner: Runner) -> dict[str, Any]:
    """mlgate's peak at ``rows`` rows above the same command's peak on a small table."""
    ref, cur = dataset(rows, fmt)
    tiny = dataset(BASE_ROWS, fmt)
    base = runner.run("mlgate", *tiny)["peak_rss"]
    print(f"  {rows:>10,} rows {fmt}: memory", file=sys.stderr)
    cold = runner.run("mlgate", ref, cur)
    frame = frame_bytes(cur)
    return {
        "rows": rows,
        "format": fmt,
        "frame_bytes": frame,
        "base_rss": base,
        "peak_rss": cold["peak_rss"],
        "cpu": cold["cpu"],
        "wall": cold["wall"],
        "memory_over_frame": round((cold["peak_rss"] - base) / frame, 3),
    }


def bench_imports(repeats: int) -> dict[str, Any]:
    """CPU of bare processes: what every run pays before reading a byte."""
    snippets = {
        "python -c pass": "pass",
        "+ numpy": "import numpy",
        "+ numpy, pyarrow.parquet": "import numpy, pyarrow.parquet",
        "+ numpy, pandas": "import numpy, pandas",
        "+ pandas, scipy.stats": "import pandas, scipy.stats",
    }
    return {label: bare([sys.executable, "-c", code], repeats) for label, code in snippets.items()}


def bare(argv: Sequence[str], repeats: int) -> dict[str, float]:
    """Median CPU and wall of ``repeats`` runs of a bare process."""
    env = measured_env()
    runs = [measure(argv, WORK, env) for _ in range(repeats)]
    return {
        "cpu_median": statistics.median(r["cpu"] for r in runs),
        "wall_median": statistics.median(r["wall"] for r in runs),
    }


# What reading the current file alone costs in a bare process (start-up and imports included),
# with the readers a drift tool could use: the share of a run no summary or cache can save.
READERS = {
    "pandas.read_csv": "import sys, pandas; pandas.read_csv(sys.argv[1])",
    "pyarrow.csv.read_csv": "import sys, pyarrow.csv as c; c.read_csv(sys.argv[1])",
    "pyarrow.csv one thread": (
        "import sys, pyarrow.csv as c; "
        "c.read_csv(sys.argv[1], read_options=c.ReadOptions(use_threads=False))"
    ),
    "pandas.read_parquet": "import sys, pandas; pandas.read_parquet(sys.argv[1])",
    "pyarrow ParquetFile.read": (
        "import sys, pyarrow.parquet as q; q.ParquetFile(sys.argv[1]).read()"
    ),
}


def bench_reads(rows: int, formats: Sequence[str], repeats: int) -> list[dict[str, Any]]:
    """CPU and wall of bare processes that only read the current file of ``rows`` rows."""
    out = []
    for fmt in formats:
        current = dataset(rows, fmt)[1]
        for label, code in READERS.items():
            if ("csv" in label) != (fmt == "csv"):
                continue
            print(f"  {rows:>10,} rows {fmt}: {label} alone", file=sys.stderr)
            timing = bare([sys.executable, "-c", code, str(current)], repeats)
            out.append({"rows": rows, "format": fmt, "reader": label, **timing})
    return out


def evidently_python(explicit: str | None) -> Path:
    if explicit:
        return Path(explicit).absolute()
    venv = WORK / "evidently-venv"
    python = venv / "bin" / "python"
    if not python.exists():
        print(f"creating {venv} with {', '.join(EVIDENTLY_SPEC)} ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)  # noqa: TID251
        subprocess.run(  # noqa: TID251
            [str(python), "-m", "pip", "install", "--quiet", *EVIDENTLY_SPEC], check=True
        )
    return python


def markdown(report: dict[str, Any]) -> str:
    lines = [
        "| rows | format | tool | CPU s (median) | wall s | peak RSS MB | drifted columns |",
        "|---:|---|---|---:|---:|---:|---|",
    ]
    for case in report["results"]:
        for tool, t in case["tools"].items():
            lines.append(
                f"| {case['rows']:,} | {case['format']} | {tool} | {t['cpu_median']:.2f} | "
                f"{t['wall_median']:.2f} | {t['peak_rss'] / 1e6:.0f} | {len(t['drifted'])} |"
            )
    lines += ["", "| rows | format | ratio (CPU) | value | target |", "|---:|---|---|---:|---|"]
    for case in report["results"]:
        r = case["ratios"]
        for key, label, target in (
            ("cold_over_floor_cpu", "mlgate cold / floor", "<= 0.15x"),
            ("cached_over_floor_cpu", "mlgate cached / floor", "<= 0.05x"),
            ("evidently_over_mlgate_cpu", "Evidently / mlgate", ">= 50x"),
        ):
            if key in r:
                lines.append(
                    f"| {case['rows']:,} | {case['format']} | {label} | {r[key]:.3g}x | {target} |"
                )
    for m in report["memory"]:
        lines.append(
            f"| {m['rows']:,} | {m['format']} | mlgate peak above libraries / one frame "
            f"| {m['memory_over_frame']:.3g}x | <= 1.0x |"
        )
    lines += ["", "| reading the current file alone | CPU s | wall s |", "|---|---:|---:|"]
    for r in report.get("reads", []):
        lines.append(
            f"| {r['rows']:,} {r['format']}, `{r['reader']}` | {r['cpu_median']:.3f} "
            f"| {r['wall_median']:.3f} |"
        )
    lines += ["", "| bare process | CPU s | wall s |", "|---|---:|---:|"]
    for label, t in report["imports"].items():
        lines.append(f"| `{label}` | {t['cpu_median']:.3f} | {t['wall_median']:.3f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--formats", default=",".join(FORMATS))
    parser.add_argument("--repeats", type=int, default=3, help="rounds per size and format")
    parser.add_argument("--tools", default=",".join(TOOLS))
    parser.add_argument("--evidently-formats", default="parquet")
    parser.add_argument("--memory-rows", type=int, default=10_000_000, help="0: skip")
    parser.add_argument("--evidently-python", default=os.environ.get("EVIDENTLY_PYTHON"))
    parser.add_argument("--out", type=Path, default=RESULTS / "drift.json")
    args = parser.parse_args()
    tools = [t for t in args.tools.split(",") if t]
    formats = [f for f in args.formats.split(",") if f]
    runner = Runner(evidently_python(args.evidently_python) if "evidently" in tools else None)
    load = [round(x, 2) for x in os.getloadavg()]
    results = []
    sizes = [int(s) for s in args.sizes.split(",")]
    for rows in sizes:
        for fmt in formats:
            ev_formats = args.evidently_formats.split(",")
            chosen = [t for t in tools if t != "evidently" or fmt in ev_formats]
            results.append(bench_case(rows, fmt, chosen, args.repeats, runner))
    memory = (
        [bench_memory(args.memory_rows, f, runner) for f in formats] if args.memory_rows else []
    )
    report = {
        "benchmark": "drift",
        "mode": "end-to-end",
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_average_at_start": load,
            "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        },
        "targets": TARGETS,
        "injected_drift": list(DRIFTED),
        "results": results,
        "memory": memory,
        "imports": bench_imports(max(args.repeats, 3)),
        "reads": bench_reads(max(sizes), formats, max(args.repeats, 3)),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    print(markdown(report))


if __name__ == "__main__":
    main()
