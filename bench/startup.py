"""CLI start-up benchmark: ``mlgate --help`` against ``gto --help`` and ``mlflow --help``.

Each command runs as a fresh process (what a user or a CI step pays every time), alternating
between the tools in each round, after one untimed warm-up run each (so files are in the page
cache for all alike). ``python -c pass`` with mlgate's interpreter is the floor. GTO and MLflow
run from their own virtual environments.

    python bench/startup.py [--reps 15] [--gto-venv DIR] [--mlflow-venv DIR] [--out FILE]

Writes JSON (default bench/work/startup.json) and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

TARGET_S = 0.15  # mlgate --help, from the foundation's start-up budget


def commands(gto_venv: Path | None, mlflow_venv: Path | None) -> dict[str, list[str]]:
    out = {
        "python -c pass (floor)": [sys.executable, "-c", "pass"],
        "mlgate --help": [sys.executable, "-m", "mlgate", "--help"],
        "mlgate --version": [sys.executable, "-m", "mlgate", "--version"],
    }
    if gto_venv is not None:
        out["gto --help"] = [str(gto_venv / "bin" / "gto"), "--help"]
    if mlflow_venv is not None:
        out["mlflow --help"] = [str(mlflow_venv / "bin" / "mlflow"), "--help"]
    return out


def once(argv: list[str]) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLGATE_")}
    env["NO_COLOR"] = "1"
    started = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, env=env, check=False)  # noqa: TID251
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr[-500:]!r}")
    return elapsed


def measure(cmds: dict[str, list[str]], reps: int) -> dict[str, list[float]]:
    for argv in cmds.values():
        once(argv)  # warm-up
    times: dict[str, list[float]] = {name: [] for name in cmds}
    names = list(cmds)
    for round_ in range(reps):
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:  # alternate who goes first
            times[name].append(once(cmds[name]))
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=15)
    parser.add_argument("--gto-venv", type=Path, default=os.environ.get("GTO_VENV"))
    parser.add_argument("--mlflow-venv", type=Path, default=os.environ.get("MLFLOW_VENV"))
    parser.add_argument("--out", type=Path, default=Path("bench/work/startup.json"))
    args = parser.parse_args()
    times = measure(commands(args.gto_venv, args.mlflow_venv), args.reps)
    medians = {name: statistics.median(values) for name, values in times.items()}
    mine = medians["mlgate --help"]
    results: dict[str, Any] = {
        "benchmark": "startup",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "reps": args.reps,
        "median_s": {k: round(v, 4) for k, v in medians.items()},
        "runs_s": {k: [round(t, 4) for t in v] for k, v in times.items()},
        "peer_over_mlgate": {
            k: round(v / mine, 2) for k, v in medians.items() if k.split()[0] in ("gto", "mlflow")
        },
        "target_s": TARGET_S,
        "target_met": mine <= TARGET_S,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(markdown(results))
    return 0


def markdown(r: dict[str, Any]) -> str:
    lines = [
        f"CLI start-up, fresh process, median of {r['reps']} alternating runs",
        "",
        "| command | median s | vs mlgate --help |",
        "|---|---:|---:|",
    ]
    mine = r["median_s"]["mlgate --help"]
    for name, seconds in r["median_s"].items():
        lines.append(f"| `{name}` | {seconds:.3f} | {seconds / mine:.2f}x |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
