"""Scoring server benchmark: ``mlgate serve`` against MLflow's scoring server, same model, same
load generator, in one run, measuring what issue 17's done-when names.

The starter model (scikit-learn pipeline) is served by mlgate from the model folder ``mlgate
publish`` puts in its image, and by ``mlflow models serve --env-manager local`` from the same
estimator saved with ``mlflow.sklearn.save_model`` (with a signature, so both validate inputs).
MLflow runs from its own virtual environment with the same scikit-learn, NumPy, pandas and SciPy
versions. Both run the same number of workers (one by default), each with its defaults.

``wrk`` (Debian package, one thread, 2 s timeout) sends ``dataframe_split`` requests of one row
and of 100 rows at 1, 8 and 32 connections, in two conditions: "quiet" (nothing started beside
the servers) and "busy2" (two CPU-bound busy-loop processes started by this script run beside
both servers). Short runs alternate between the servers, the order flipping each round, so other
load on a shared machine falls on both alike; the median round (by throughput) is reported.
CPU per request is the servers' process-tree CPU time (user + system, workers included) over the
run divided by the requests wrk completed; wrk's own CPU is recorded too, to show the load
generator is not the bottleneck. Every run records the 1-minute load average before it.

Usage: python bench/serve.py [--duration S] [--rounds N] [--conditions quiet,busy2] [--work DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
SAME_VERSIONS = ("scikit-learn", "skops", "numpy", "pandas", "scipy")
SERVERS = ("mlgate", "mlflow")
SHAPES = {"row": 1, "batch100": 100}
CONNECTIONS = (1, 8, 32)
TIMEOUT_S = 2  # wrk's default, stated explicitly
TICK = os.sysconf("SC_CLK_TCK")
# The done-when of issue 17 (mlgate against MLflow in each condition, shape and concurrency).
TARGETS = {"rps_ratio": 1.5, "cpu_ratio": 0.6}
SAVE_MLFLOW_MODEL = """
import sys, pandas as pd, skops.io as sio, mlflow.sklearn
from mlflow.models import infer_signature
model_file, eval_csv, out = sys.argv[1:4]
data = open(model_file, "rb").read()
model = sio.loads(data, trusted=sio.get_untrusted_types(data=data))
frame = pd.read_csv(eval_csv)
features = [c for c in frame.columns if c not in ("churned", "gender")]
signature = infer_signature(frame[features], model.predict(frame[features]))
mlflow.sklearn.save_model(model, out, signature=signature)
print(mlflow.__version__)
"""
BUSY_LOOP = "while True: pass"
# The folder `mlgate publish` puts in the image (model.json + model file), without the image's
# wheelhouse, which needs the package index for the image's platform.
WRITE_SERVED_MODEL = """
import json, shutil, sys
from pathlib import Path
from mlgate.config.loader import load_config
from mlgate.publish.metadata import build_bundle
from mlgate.publish.settings import PublishSettings
config = load_config(Path(sys.argv[1]))
model = config.model()
bundle = build_bundle(model, PublishSettings.from_model(config, model), version="v0.1.0",
                      commit=None)
folder = Path(sys.argv[2])
folder.mkdir()
shutil.copy(bundle.model_file, folder / bundle.metadata["model_file"])
(folder / "model.json").write_text(json.dumps(bundle.metadata))
"""


def run(*args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, check=True, capture_output=True, text=True, **kwargs)  # type: ignore[call-overload]  # noqa: TID251


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ready(url: str, process: subprocess.Popen[bytes], timeout: float = 180) -> float:
    started = time.monotonic()
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return time.monotonic() - started
        except OSError:
            pass
        if process.poll() is not None:
            raise SystemExit(f"server exited before it was ready ({url})")
        if time.monotonic() - started > timeout:
            raise SystemExit(f"server not ready within {timeout} s ({url})")
        time.sleep(0.2)


def prepare(work: Path, venv: Path) -> tuple[Path, Path, str, dict[str, dict[str, Any]]]:
    """Starter project, mlgate model folder, MLflow venv and model; returns paths and bodies."""
    project = work / "starter"
    if not (project / "models/churn/artifacts/model.skops").is_file():
        shutil.rmtree(project, ignore_errors=True)
        run(sys.executable, "-m", "mlgate", "init", str(project))
        run(sys.executable, "train.py", cwd=project / "models" / "churn")
    served = work / "served-model"
    shutil.rmtree(served, ignore_errors=True)
    run(sys.executable, "-c", WRITE_SERVED_MODEL, str(project / "mlgate.yaml"), str(served))
    if not (venv / "bin" / "mlflow").is_file():
        run(sys.executable, "-m", "venv", str(venv))
        pins = [f"{name}=={metadata.version(name)}" for name in SAME_VERSIONS]
        run(str(venv / "bin" / "pip"), "install", "--quiet", "mlflow", *pins)
    mlflow_model = work / "mlflow-model"
    shutil.rmtree(mlflow_model, ignore_errors=True)
    model_dir = project / "models" / "churn"
    version = run(str(venv / "bin" / "python"), "-c", SAVE_MLFLOW_MODEL,
                  str(model_dir / "artifacts/model.skops"), str(model_dir / "data/eval.csv"),
                  str(mlflow_model)).stdout.strip().splitlines()[-1]  # fmt: skip
    import pandas as pd

    frame = pd.read_csv(model_dir / "data/eval.csv")
    features = [c for c in frame.columns if c not in ("churned", "gender")]
    if len(frame) < max(SHAPES.values()):
        frame = pd.concat([frame] * (max(SHAPES.values()) // len(frame) + 1), ignore_index=True)
    payloads = {
        shape: {
            "dataframe_split": {
                "columns": features,
                "data": frame[features].head(rows).astype(object).values.tolist(),
            }
        }
        for shape, rows in SHAPES.items()
    }
    return served, mlflow_model, version, payloads


def post(url: str, payload: dict[str, Any]) -> object:
    request = urllib.request.Request(
        url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def tree_cpu_s(root: int) -> float:
    """CPU seconds (user + system) of a process and its live descendants, plus what their
    reaped children used (the kernel's cumulative child times), so workers count too."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        parents[int(entry.name)] = int(fields[1])
        times[int(entry.name)] = sum(int(x) for x in fields[11:15]) / TICK
    tree, frontier = {root}, [root]
    while frontier:
        pid = frontier.pop()
        children = [child for child, parent in parents.items() if parent == pid]
        tree.update(children)
        frontier.extend(children)
    return sum(times.get(pid, 0.0) for pid in tree)


def children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def wrk(url: str, body: str, connections: int, seconds: int, server: int, work: Path) -> dict:
    script = work / "post.lua"
    quoted = body.replace("\\", "\\\\").replace("'", "\\'")
    script.write_text(
        'wrk.method = "POST"\n'
        f"wrk.body = '{quoted}'\n"
        'wrk.headers["Content-Type"] = "application/json"\n'
    )
    load = os.getloadavg()[0]
    cpu_before, wrk_before = tree_cpu_s(server), children_cpu_s()
    out = run("wrk", "-t1", f"-c{connections}", f"-d{seconds}s", f"--timeout={TIMEOUT_S}s",
              "--latency", "-s", str(script), url).stdout  # fmt: skip
    server_cpu, wrk_cpu = tree_cpu_s(server) - cpu_before, children_cpu_s() - wrk_before
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    latency = {}
    for pct, value, unit in re.findall(r"^\s+(\d+)%\s+([\d.]+)(us|ms|s)\s*$", out, re.M):
        latency[f"p{pct}"] = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    return {
        "rps": rps,
        "requests": requests,
        "latency_ms": latency,
        "non_2xx": int(errors.group(1)) if errors else 0,
        "timeouts": int(socket_errors.group(4)) if socket_errors else 0,
        "socket_errors": sum(map(int, socket_errors.groups()[:3])) if socket_errors else 0,
        "server_cpu_s": round(server_cpu, 2),
        "cpu_ms_per_request": round(1000 * server_cpu / requests, 3) if requests else None,
        "wrk_cpu_s": round(wrk_cpu, 2),
        "load_1m": round(load, 2),
    }


def median_run(values: list[dict]) -> dict:
    """The run with the median throughput (its latencies belong to the same run)."""
    ordered = sorted(values, key=lambda r: r["rps"])
    return ordered[len(ordered) // 2]


def start_servers(
    model_dir: Path, venv: Path, mlflow_model: Path, workers: int, work: Path
) -> tuple[dict[str, subprocess.Popen[bytes]], dict[str, int], list[Any]]:
    ports = {name: free_port() for name in SERVERS}
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLGATE_")}
    logs = [(work / f"{name}.log").open("wb") for name in SERVERS]
    servers = {
        "mlgate": subprocess.Popen(
            [sys.executable, "-m", "mlgate", "serve", "--model-dir", str(model_dir),
             "--port", str(ports["mlgate"]), "--workers", str(workers)],
            stdout=logs[0], stderr=logs[0], env=env,
        ),
        "mlflow": subprocess.Popen(
            [str(venv / "bin" / "mlflow"), "models", "serve", "-m", str(mlflow_model),
             "--env-manager", "local", "-p", str(ports["mlflow"]), "-h", "127.0.0.1",
             "-w", str(workers)],
            stdout=logs[1], stderr=logs[1],
            env={**env, "PATH": f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"},
        ),
    }  # fmt: skip
    return servers, ports, logs


def sample(
    args: argparse.Namespace, urls: dict[str, str], bodies: dict[str, str], pids: dict[str, int]
) -> dict[str, Any]:
    """Every shape and concurrency, alternating the servers, in the current condition."""
    out: dict[str, Any] = {}
    for shape in SHAPES:
        for connections in CONNECTIONS:
            key = f"c{connections}"
            for round_ in range(args.rounds):
                for name in SERVERS if round_ % 2 == 0 else SERVERS[::-1]:
                    result = wrk(urls[name], bodies[shape], connections, args.duration,
                                 pids[name], args.work)  # fmt: skip
                    out.setdefault(shape, {}).setdefault(key, {}).setdefault(name, []).append(
                        result
                    )
                    print(shape, key, name, json.dumps(result), flush=True)
    return out


def measure(args: argparse.Namespace) -> dict[str, Any]:
    venv = args.mlflow_venv or args.work / "mlflow-venv"
    model_dir, mlflow_model, mlflow_version, payloads = prepare(args.work, venv)
    bodies = {shape: json.dumps(payload) for shape, payload in payloads.items()}
    servers, ports, logs = start_servers(model_dir, venv, mlflow_model, args.workers, args.work)
    busy: list[subprocess.Popen[bytes]] = []
    try:
        startup = {
            name: round(wait_ready(f"http://127.0.0.1:{port}/ping", servers[name]), 2)
            for name, port in ports.items()
        }
        urls = {name: f"http://127.0.0.1:{port}/invocations" for name, port in ports.items()}
        for shape, payload in payloads.items():
            answers = {name: post(url, payload) for name, url in urls.items()}
            if answers["mlgate"] != answers["mlflow"]:
                raise SystemExit(f"the servers disagree on {shape}: {answers}")
        for name, url in urls.items():  # warm up both
            wrk(url, bodies["row"], 1, 2, servers[name].pid, args.work)
        samples: dict[str, Any] = {}
        for condition in args.conditions:
            if condition == "busy2":
                busy = [subprocess.Popen([sys.executable, "-c", BUSY_LOOP]) for _ in range(2)]
            samples[condition] = sample(args, urls, bodies, {n: p.pid for n, p in servers.items()})
            for process in busy:
                process.kill()
                process.wait()
            busy = []
    finally:
        for process in busy:
            process.kill()
            process.wait()
        for process in servers.values():
            process.terminate()
            process.wait(timeout=30)
        for log in logs:
            log.close()
    runs = {
        condition: {
            shape: {
                key: {name: median_run(values) for name, values in by_server.items()}
                for key, by_server in by_key.items()
            }
            for shape, by_key in by_shape.items()
        }
        for condition, by_shape in samples.items()
    }
    return {
        "benchmark": "serve",
        "model": "starter churn pipeline (StandardScaler+OneHotEncoder+LogisticRegression)",
        "request": "dataframe_split JSON: 1 row ('row') and 100 rows ('batch100')",
        "duration_s": args.duration,
        "rounds": args.rounds,
        "workers": args.workers,
        "conditions": {
            "quiet": "nothing started beside the servers (other jobs on the machine may run)",
            "busy2": "two CPU-bound busy-loop processes started beside both servers",
        },
        "samples": samples,
        "mlflow_version": mlflow_version,
        "mlgate_version": metadata.version("mlgate"),
        "startup_s": startup,
        "runs": runs,
        "verdicts": verdicts(runs),
        "cpus": os.cpu_count(),
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        "note": f"wrk -t1 --timeout {TIMEOUT_S}s; {args.workers} worker(s) each",
    }


def verdicts(runs: dict[str, Any]) -> list[dict[str, Any]]:
    """One line per condition, shape and concurrency: each done-when measure and if it is met."""
    out = []
    for condition, by_shape in runs.items():
        for shape, by_key in by_shape.items():
            for key, pair in by_key.items():
                mine, theirs = pair["mlgate"], pair["mlflow"]
                rps_ratio = round(mine["rps"] / theirs["rps"], 2) if theirs["rps"] else None
                cpu_m, cpu_t = mine["cpu_ms_per_request"], theirs["cpu_ms_per_request"]
                cpu_ratio = round(cpu_m / cpu_t, 2) if cpu_m and cpu_t else None
                p99_m = mine["latency_ms"].get("p99")
                p99_t = theirs["latency_ms"].get("p99")
                out.append(
                    {
                        "condition": condition,
                        "shape": shape,
                        "connections": int(key[1:]),
                        "rps": [mine["rps"], theirs["rps"]],
                        "rps_ratio": rps_ratio,
                        "p99_ms": [p99_m, p99_t],
                        "cpu_ms_per_request": [cpu_m, cpu_t],
                        "cpu_ratio": cpu_ratio,
                        "timeouts": [mine["timeouts"], theirs["timeouts"]],
                        "load_1m": [mine["load_1m"], theirs["load_1m"]],
                        "met": {
                            "rps": rps_ratio is not None and rps_ratio >= TARGETS["rps_ratio"],
                            "p99": p99_m is not None and p99_t is not None and p99_m <= p99_t,
                            "cpu": cpu_ratio is not None and cpu_ratio <= TARGETS["cpu_ratio"],
                            "timeouts": key != "c32" or mine["timeouts"] == 0,
                        },
                    }
                )
    return out


def table(results: dict[str, Any]) -> str:
    lines = [
        (
            f"Scoring server against MLflow {results['mlflow_version']} (median of "
            f"{results['rounds']} alternating {results['duration_s']} s runs; {results['note']})"
        ),
        "",
        (
            "| condition | request | conn | req/s mlgate / MLflow | ratio | p99 ms mlgate / "
            "MLflow | CPU ms/req mlgate / MLflow | ratio | timeouts | load | met |"
        ),
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for v in results["verdicts"]:
        missed = [name for name, ok in v["met"].items() if not ok]
        p99 = v["p99_ms"]
        lines.append(
            f"| {v['condition']} | {v['shape']} | {v['connections']} | "
            f"{v['rps'][0]:.0f} / {v['rps'][1]:.0f} | {v['rps_ratio']}x | "
            f"{p99[0]:.0f} / {p99[1]:.0f} | {v['cpu_ms_per_request'][0]} / "
            f"{v['cpu_ms_per_request'][1]} | {v['cpu_ratio']}x | "
            f"{v['timeouts'][0]} / {v['timeouts'][1]} | {v['load_1m'][0]:.1f} | "
            f"{'yes' if not missed else 'no: ' + ', '.join(missed)} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="alternating runs per server")
    parser.add_argument("--workers", type=int, default=1, help="server workers, each server")
    parser.add_argument(
        "--conditions",
        type=lambda text: [c for c in text.split(",") if c],
        default=["quiet", "busy2"],
        help="comma-separated: quiet, busy2",
    )
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "mlgate-bench")
    parser.add_argument("--mlflow-venv", type=Path, help="default: WORK/mlflow-venv")
    parser.add_argument("--out", type=Path, default=RESULTS / "serve.json", help="results file")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is needed: apt-get install wrk", file=sys.stderr)
        return 2
    if unknown := set(args.conditions) - {"quiet", "busy2"}:
        parser.error(f"unknown condition(s): {', '.join(sorted(unknown))}")
    args.work.mkdir(parents=True, exist_ok=True)
    results = measure(args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
