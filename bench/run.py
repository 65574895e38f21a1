"""Run every benchmark, mlgate beside its peer tool in the same run, and collect the results.

Each area has its own script (``bench/<area>.py``) that alternates mlgate and the peer over
several repetitions and writes its own JSON; this collector runs them in turn with full or
``--quick`` sizes, reads their JSON and writes one ``results.json`` (rows of medians, ratios,
targets and whether they are met, the machine, and every script's raw results) plus a Markdown
table ``RESULTS.md``. Peers run from their own virtual environments (``nox -s bench`` makes
them): GTO (``--gto-venv``), Evidently 0.7 with ``pandas<3`` (``--evidently-python``), MLflow
(``--mlflow-venv``).

    python bench/run.py [--quick] [--only AREA,...] [--skip AREA,...] [--out-dir DIR]

Full runs write bench/results.json and bench/RESULTS.md (per-area JSON in bench/results/);
quick runs write under bench/work/quick/ so they never replace the committed numbers.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from collect import AREAS, Row, collect  # noqa: E402


@dataclass(frozen=True)
class Peers:
    gto_venv: Path | None
    evidently_python: Path | None
    mlflow_venv: Path | None


def argv_for(area: str, quick: bool, out: Path, peers: Peers, work: Path) -> list[str] | None:
    """The command running one area's script, or None when it cannot run here."""
    py = [sys.executable, str(HERE / f"{area}.py")]
    if area == "registry":
        sizes = ["--sizes", "100", "--reps", "2", "--gto-reps", "2"] if quick else []
        gto = ["--gto-venv", str(peers.gto_venv)] if peers.gto_venv else []
        return [*py, *sizes, *gto, "--out", str(out)]
    if area == "drift":
        sizes = ["--sizes", "10000", "--repeats", "1", "--memory-rows", "100000"] if quick else []
        tools = [] if peers.evidently_python else ["--tools", "mlgate,mlgate-cached,floor"]
        ev = ["--evidently-python", str(peers.evidently_python)] if peers.evidently_python else []
        return [*py, *sizes, *tools, *ev, "--out", str(out)]
    if area == "hashing":
        size = ["--size-gb", "0.05", "--relock-runs", "3"] if quick else ["--relock-runs", "7"]
        return [*py, *size, "--out", str(out)]
    if area == "startup":
        reps = ["--reps", "5"] if quick else ["--reps", "21"]
        gto = ["--gto-venv", str(peers.gto_venv)] if peers.gto_venv else []
        mlflow = ["--mlflow-venv", str(peers.mlflow_venv)] if peers.mlflow_venv else []
        return [*py, *reps, *gto, *mlflow, "--out", str(out)]
    if area == "serve":
        if peers.mlflow_venv is None or shutil.which("wrk") is None:
            return None
        load = (
            ["--duration", "1", "--rounds", "1"] if quick else ["--duration", "5", "--rounds", "3"]
        )
        # serve.py keeps its MLflow environment in WORK/mlflow-venv: point WORK at ours.
        return [*py, *load, "--work", str(peers.mlflow_venv.parent), "--out", str(out)]
    if area == "check":
        return [*py, "--reps", "1" if quick else "5", "--out", str(out)]
    if area == "publish":
        if quick:
            return None  # a cold image build takes minutes: full runs only
        return [*py, "--work", str(work / "publish"), "--out", str(out)]
    raise ValueError(area)


def machine(note: str) -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = round(int(line.split()[1]) / 1e6, 1)
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "memory_gb": memory,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "note": note,
    }


def peer_versions(peers: Peers) -> dict[str, str | None]:
    def version(python: Path | None, dist: str) -> str | None:
        if python is None or not python.exists():
            return None
        code = f"from importlib.metadata import version; print(version({dist!r}))"
        argv = [str(python), "-c", code]
        done = subprocess.run(argv, capture_output=True, text=True, check=False)  # noqa: TID251
        return done.stdout.strip() or None

    return {
        "mlgate": metadata.version("mlgate"),
        "gto": version(peers.gto_venv / "bin" / "python" if peers.gto_venv else None, "gto"),
        "evidently": version(peers.evidently_python, "evidently"),
        "mlflow": version(
            peers.mlflow_venv / "bin" / "python" if peers.mlflow_venv else None, "mlflow"
        ),
    }


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke test")
    parser.add_argument("--only", default="", help=f"comma-separated areas of: {', '.join(AREAS)}")
    parser.add_argument("--skip", default="")
    parser.add_argument("--out-dir", type=Path, default=None)
    parser.add_argument("--gto-venv", type=Path, default=os.environ.get("GTO_VENV"))
    parser.add_argument("--evidently-python", type=Path, default=os.environ.get("EVIDENTLY_PYTHON"))
    parser.add_argument("--mlflow-venv", type=Path, default=os.environ.get("MLFLOW_VENV"))
    parser.add_argument(
        "--rerender",
        action="store_true",
        help="only rebuild the rows and RESULTS.md from the raw results in results.json",
    )
    parser.add_argument(
        "--note",
        default="shared 2-core machine: other processes were running; absolute times are "
        "noisy, ratios within one run are the comparison",
    )
    return parser


def main() -> int:
    parser = _parser()
    args = parser.parse_args()
    out_dir = args.out_dir or (HERE / "work" / "quick" if args.quick else HERE)
    if args.rerender:
        return rerender(out_dir)
    peers = Peers(args.gto_venv, args.evidently_python, args.mlflow_venv)
    areas = [a for a in (args.only.split(",") if args.only else AREAS) if a]
    unknown = sorted(set(areas) - set(AREAS))
    if unknown:
        parser.error(f"unknown areas {unknown}; choose from {', '.join(AREAS)}")
    areas = [a for a in areas if a not in args.skip.split(",")]
    raw_dir = out_dir / "results" if args.out_dir or not args.quick else out_dir
    work = HERE / "work"
    started = dt.datetime.now(dt.timezone.utc)
    report: dict[str, Any] = {
        "mode": "quick" if args.quick else "full",
        "started": started.isoformat(timespec="seconds"),
        "machine": machine(args.note),
        "versions": peer_versions(peers),
        "areas": {},
        "rows": [],
        "raw": {},
    }
    failed = []
    for area in areas:
        out = raw_dir / f"{area}.json"
        argv = argv_for(area, args.quick, out, peers, work)
        if argv is None:
            report["areas"][area] = {"status": "skipped", "why": _why_skipped(area, args.quick)}
            print(f"== {area}: skipped ({report['areas'][area]['why']})", file=sys.stderr)
            continue
        print(f"== {area}: {' '.join(argv[1:])}", file=sys.stderr, flush=True)
        began = time.perf_counter()
        done = subprocess.run(argv, check=False)  # noqa: TID251 - output streams to the terminal
        seconds = round(time.perf_counter() - began, 1)
        if done.returncode != 0 or not out.exists():
            failed.append(area)
            report["areas"][area] = {"status": "failed", "exit_code": done.returncode}
            continue
        raw = json.loads(out.read_text())
        rows = collect(area, raw)
        report["areas"][area] = {"status": "ok", "seconds": seconds, "file": _shown(out)}
        report["rows"] += [asdict(r) for r in rows]
        report["raw"][area] = raw
    report["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "results.json").write_text(json.dumps(report, indent=2) + "\n")
    (out_dir / "RESULTS.md").write_text(markdown(report))
    print(markdown(report))
    print(f"results: {_shown(out_dir / 'results.json')}, {_shown(out_dir / 'RESULTS.md')}")
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def rerender(out_dir: Path) -> int:
    """Rows and RESULTS.md again from the raw results (after a change to the collectors, or
    after an area was run alone): each area's raw file in results/ when there is one (the
    newest run of that area, ``--only`` included), else the raw copy inside results.json."""
    report = json.loads((out_dir / "results.json").read_text())
    for area in AREAS:
        raw_file = out_dir / "results" / f"{area}.json"
        if raw_file.exists():
            report["raw"][area] = json.loads(raw_file.read_text())
            report["areas"][area] = {**report["areas"].get(area, {}), "status": "ok",
                                     "file": _shown(raw_file)}  # fmt: skip
    report["rows"] = [asdict(r) for area, raw in report["raw"].items() for r in collect(area, raw)]
    report["rerendered"] = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    (out_dir / "results.json").write_text(json.dumps(report, indent=2) + "\n")
    (out_dir / "RESULTS.md").write_text(markdown(report))
    print(markdown(report))
    return 0


def _why_skipped(area: str, quick: bool) -> str:
    if area == "publish" and quick:
        return "full runs only (cold image builds take minutes)"
    if shutil.which("wrk") is None:
        return "the load generator wrk is not installed (apt-get install wrk)"
    return "no MLflow environment (--mlflow-venv)"


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def markdown(report: dict[str, Any]) -> str:
    m = report["machine"]
    v = report["versions"]
    lines = [
        f"# mlgate benchmarks ({report['mode']} run, {report['started']})",
        "",
        (
            f"Machine: {m['cpu']}, {m['cpus']} CPUs, {m['memory_gb']} GB RAM, {m['platform']}, "
            f"Python {m['python']}; load average {m['load_average_at_start']} at the start, "
            f"{m.get('load_average_at_end')} at the end. {m['note']}."
        ),
        "",
        "Versions: " + ", ".join(f"{k} {val}" for k, val in v.items() if val) + ".",
        "",
    ]
    if "rerendered" in report:
        lines += [
            (
                f"Rows rebuilt {report['rerendered']} from each area's newest raw results (an "
                "area run alone with `--only` is newer than the full run; its cases name their "
                "load)."
            ),
            "",
        ]
    lines += [
        "| area | case | measure | mlgate | peer | peer value | peer / mlgate | target | met |",
        "|---|---|---|---:|---|---:|---:|---|---|",
    ]
    for r in report["rows"]:
        row = Row(**r)
        lines.append(row.markdown())
    skipped = [f"{a} ({s.get('why') or s['status']})" for a, s in report["areas"].items()
               if s["status"] != "ok"]  # fmt: skip
    if skipped:
        lines += ["", "Not run: " + "; ".join(skipped) + "."]
    lines += [
        "",
        (
            "Ratios are peer time / mlgate time (above 1: mlgate is faster) or, for "
            "throughput, mlgate / peer. Each area's script alternates the tools within a run; "
            "its raw samples are under `raw` in results.json."
        ),
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
