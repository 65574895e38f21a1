"""The whole pull-request check on the starter project: wall time, split into training and
mlgate's own overhead.

The starter project (``mlgate init``) is committed with its lock on ``main``; a branch tunes a
parameter and relocks, as a pull request would. ``mlgate check --base main`` then runs every
stage (train, scan, repro, validate with drift, report) as a fresh process. The check's own
training run counts as the first run, so repro makes one isolated re-run (repro.runs - 1), and
none when training was skipped by the run cache and a re-run of the same inputs already agreed.
Training time is what the training command itself took (the run record's duration plus each
re-run's, as mlgate measured them around the child process); the rest is mlgate's own time:
start-up, hashing, loading models, gates, drift, the report, writing verdicts. CPU is the check
process and its children (training included), from the operating system's accounting; "own CPU"
is the check process alone (every child excluded: training, re-runs and git), which on a shared
machine is the fair measure of mlgate's own time. While the training process runs, mlgate imports
what its later stages load the model with (pandas, skops, scikit-learn): that CPU is in own CPU,
but its wall time overlaps training, so "own" wall is what the check takes beyond its training.
The 1-minute load average is recorded per run.

Two cases, several repetitions each: ``cold`` (no run records or caches: training runs, then one
re-run) and ``cached`` (the same inputs were checked before: no training, no re-run).

    python bench/check.py [--reps 3] [--out bench/work/check.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

GIT = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.com"]
# Runs ``python -m mlgate ...`` and writes the process's own CPU seconds (children excluded).
OWN_CPU = """
import atexit, os, resource, runpy, sys
def _report():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    with open(os.environ["BENCH_OWN_CPU"], "w") as out:
        out.write(str(usage.ru_utime + usage.ru_stime))
atexit.register(_report)
sys.argv = ["mlgate", *sys.argv[1:]]
runpy.run_module("mlgate", run_name="__main__")
"""


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "MLGATE_"))}
    env.update(NO_COLOR="1", GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull)
    # The starter's training command is `python train.py`: this environment's Python.
    env["PATH"] = os.pathsep.join((str(Path(sys.executable).parent), env.get("PATH", "")))
    return env


def run(
    *argv: str, cwd: Path, ok: tuple[int, ...] = (0,), env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    merged = {**_env(), **(env or {})}
    done = subprocess.run(argv, cwd=cwd, env=merged, capture_output=True, text=True, check=False)  # noqa: TID251
    if done.returncode not in ok:
        raise SystemExit(
            f"{' '.join(argv)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
        )
    return done


def mlgate(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run(sys.executable, "-m", "mlgate", *args, cwd=cwd)


def project(work: Path) -> Path:
    """The starter on main (trained inputs locked) and a tuning branch, as in a pull request."""
    root = work / "starter"
    shutil.rmtree(root, ignore_errors=True)
    mlgate("init", str(root), cwd=work)
    run(*GIT, "init", "-q", "-b", "main", cwd=root)
    run(*GIT, "add", "-A", cwd=root)
    mlgate("lock", cwd=root)
    run(*GIT, "add", "-A", cwd=root)
    run(*GIT, "commit", "-qm", "starter", cwd=root)
    run(*GIT, "checkout", "-q", "-b", "tune", cwd=root)
    params = root / "models" / "churn" / "params.yaml"
    params.write_text(re.sub(r"^C: [\d.]+", "C: 0.5", params.read_text(), flags=re.M))
    mlgate("lock", cwd=root)
    run(*GIT, "commit", "-qam", "tune C", cwd=root)
    return root


def one_check(root: Path, *, cold: bool) -> dict[str, Any]:
    state = root / ".mlgate"
    if cold:
        shutil.rmtree(state, ignore_errors=True)
    runs_dir = state / "runs" / "churn"
    before = set(runs_dir.glob("*.json")) if runs_dir.is_dir() else set()
    cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    load = os.getloadavg()[0]
    own_file = root.parent / "own-cpu.txt"
    started = time.perf_counter()
    done = run(sys.executable, "-c", OWN_CPU, "check", "--base", "main", "--json", cwd=root,
               ok=(0, 1), env={"BENCH_OWN_CPU": str(own_file)})  # fmt: skip
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_s = (after.ru_utime - cpu.ru_utime) + (after.ru_stime - cpu.ru_stime)
    result = json.loads(done.stdout)
    model = result["models"][0]
    new_runs = set(runs_dir.glob("*.json")) - before
    trained = sum(json.loads(p.read_text())["duration_s"] for p in new_runs)
    repro = json.loads(Path(model["files"]["repro"]).read_text())
    rerun = repro["context"].get("rerun", {})
    reused = bool(rerun.get("reused"))  # an agreement reused: its durations are not this run's
    reruns = 0.0 if reused else sum(rerun.get("durations_s", []))
    return {
        "wall_s": round(wall, 3),
        "train_s": round(trained, 3),
        "reruns_s": round(reruns, 3),
        "training_s": round(trained + reruns, 3),
        "overhead_s": round(wall - trained - reruns, 3),
        "cpu_s": round(cpu_s, 3),
        "own_cpu_s": round(float(own_file.read_text()), 3),
        "load_1m": round(load, 2),
        "reruns": 0 if reused else int(rerun.get("runs", 0)),
        "trained": bool(new_runs),
        "stages": model["stages"],
        "exit_code": result["exit_code"],
        "counts": model["counts"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("bench/work/check.json"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mlgate-bench-check-") as tmp:
        root = project(Path(tmp))
        samples: dict[str, list[dict[str, Any]]] = {"cold": [], "cached": []}
        for _ in range(args.reps):
            samples["cold"].append(one_check(root, cold=True))
            samples["cached"].append(one_check(root, cold=False))
    summary = {
        case: {
            key: round(statistics.median(s[key] for s in runs), 3)
            for key in (
                "wall_s",
                "training_s",
                "overhead_s",
                "train_s",
                "reruns_s",
                "cpu_s",
                "own_cpu_s",
                "load_1m",
                "reruns",
            )
        }
        for case, runs in samples.items()
    }
    results = {
        "benchmark": "check",
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_before": os.getloadavg()[0],
        },
        "project": "starter (churn, 3,000 training rows, scikit-learn pipeline)",
        "reps": args.reps,
        "median": summary,
        "samples": samples,
        "stages": samples["cold"][-1]["stages"],
        "exit_codes": sorted({s["exit_code"] for runs in samples.values() for s in runs}),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(markdown(results))
    return 0


def markdown(r: dict[str, Any]) -> str:
    lines = [
        (
            f"`mlgate check` on the starter project (stages: {', '.join(r['stages'])}; "
            f"median of {r['reps']})"
        ),
        "",
        (
            "| case | wall s | training s (train + re-runs) | re-runs | mlgate's own s | CPU s "
            "| own CPU s | load |"
        ),
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for case, m in r["median"].items():
        lines.append(
            f"| {case} | {m['wall_s']:.2f} | {m['training_s']:.2f} ({m['train_s']:.2f} + "
            f"{m['reruns_s']:.2f}) | {m['reruns']:g} | {m['overhead_s']:.2f} | {m['cpu_s']:.2f} | "
            f"{m.get('own_cpu_s', 0):.2f} | {m.get('load_1m', 0):.1f} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
