"""Scoring server benchmark: ``mlgate serve`` against MLflow's scoring server, same model, same
load generator, in one run.

The starter model (scikit-learn pipeline) is served by mlgate from the model folder ``mlgate
publish --context-only`` writes, and by ``mlflow models serve --env-manager local`` from the same
estimator saved with ``mlflow.sklearn.save_model`` (with a signature, so both validate inputs).
MLflow runs from its own virtual environment with the same scikit-learn, NumPy, pandas and SciPy
versions. Both run one worker. ``wrk`` (Debian package) sends single-row ``dataframe_split``
requests, first one connection at a time (latency), then 8 concurrent connections (throughput);
runs alternate between the servers. Results go to bench/results/serve.json and a Markdown table.

Usage: python bench/serve.py [--duration SECONDS] [--work DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
SAME_VERSIONS = ("scikit-learn", "skops", "numpy", "pandas", "scipy")
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


def run(*args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, check=True, capture_output=True, text=True, **kwargs)  # type: ignore[call-overload,no-any-return]  # noqa: TID251


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


def prepare(work: Path) -> tuple[Path, Path, Path, str, dict[str, object]]:
    """Starter project, mlgate model folder, MLflow venv and model; returns paths and a row."""
    project = work / "starter"
    if not (project / "models/churn/artifacts/model.skops").is_file():
        shutil.rmtree(project, ignore_errors=True)
        run(sys.executable, "-m", "mlgate", "init", str(project))
        run(sys.executable, "train.py", cwd=project / "models" / "churn")
    context = work / "context"
    shutil.rmtree(context, ignore_errors=True)
    run(sys.executable, "-m", "mlgate", "publish", "--context-only", "--out", str(context),
        cwd=project)  # fmt: skip
    venv = work / "mlflow-venv"
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
    import pandas as pd  # noqa: PLC0415 - the bench runs in the mlgate environment

    frame = pd.read_csv(model_dir / "data/eval.csv").head(1)
    features = [c for c in frame.columns if c not in ("churned", "gender")]
    payload = {
        "dataframe_split": {
            "columns": features,
            "data": frame[features].astype(object).values.tolist(),
        }
    }
    return context / "model", venv, mlflow_model, version, payload


def post(url: str, payload: dict[str, object]) -> object:
    request = urllib.request.Request(
        url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def wrk(url: str, payload: dict[str, object], connections: int, seconds: int, work: Path) -> dict:
    script = work / "post.lua"
    body = json.dumps(payload).replace("\\", "\\\\").replace("'", "\\'")
    script.write_text(
        'wrk.method = "POST"\n'
        f"wrk.body = '{body}'\n"
        'wrk.headers["Content-Type"] = "application/json"\n'
    )
    out = run("wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script),
              url).stdout  # fmt: skip
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    latency = {}
    for pct, value, unit in re.findall(r"^\s+(\d+)%\s+([\d.]+)(us|ms|s)\s*$", out, re.M):
        latency[f"p{pct}"] = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    return {"rps": rps, "latency_ms": latency, "non_2xx": int(errors.group(1)) if errors else 0}


def median_run(values: list[dict]) -> dict:
    """The run with the median throughput (its latencies belong to the same run)."""
    ordered = sorted(values, key=lambda r: r["rps"])
    return ordered[len(ordered) // 2]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="alternating runs per server")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "mlgate-bench")
    parser.add_argument("--out", type=Path, default=RESULTS / "serve.json", help="results file")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is needed: apt-get install wrk", file=sys.stderr)
        return 2
    args.work.mkdir(parents=True, exist_ok=True)
    model_dir, venv, mlflow_model, mlflow_version, payload = prepare(args.work)

    ports = {"mlgate": free_port(), "mlflow": free_port()}
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLGATE_")}
    logs = {name: (args.work / f"{name}.log").open("wb") for name in ports}
    servers = {
        "mlgate": subprocess.Popen(
            [sys.executable, "-m", "mlgate", "serve", "--model-dir", str(model_dir),
             "--port", str(ports["mlgate"]), "--workers", "1"],
            stdout=logs["mlgate"], stderr=logs["mlgate"], env=env,
        ),
        "mlflow": subprocess.Popen(
            [str(venv / "bin" / "mlflow"), "models", "serve", "-m", str(mlflow_model),
             "--env-manager", "local", "-p", str(ports["mlflow"]), "-h", "127.0.0.1", "-w", "1"],
            stdout=logs["mlflow"], stderr=logs["mlflow"],
            env={**env, "PATH": f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"},
        ),
    }  # fmt: skip
    results: dict[str, object] = {}
    try:
        startup = {
            name: round(wait_ready(f"http://127.0.0.1:{port}/ping", servers[name]), 2)
            for name, port in ports.items()
        }
        urls = {name: f"http://127.0.0.1:{port}/invocations" for name, port in ports.items()}
        answers = {name: post(url, payload) for name, url in urls.items()}
        if answers["mlgate"] != answers["mlflow"]:
            raise SystemExit(f"the servers disagree: {answers}")
        for url in urls.values():  # warm up both
            wrk(url, payload, 1, 2, args.work)
        # Short runs alternate between the servers (order flipped each round) so that load from
        # other jobs on a shared machine falls on both alike; the median round is reported.
        samples: dict[str, dict[str, list[dict]]] = {"mlgate": {}, "mlflow": {}}
        for connections in (1, 8):
            for round_ in range(args.rounds):
                order = ("mlgate", "mlflow") if round_ % 2 == 0 else ("mlflow", "mlgate")
                for name in order:
                    samples[name].setdefault(f"c{connections}", []).append(
                        wrk(urls[name], payload, connections, args.duration, args.work)
                    )
        runs = {
            name: {key: median_run(values) for key, values in by_key.items()}
            for name, by_key in samples.items()
        }
        results = {
            "benchmark": "serve",
            "model": "starter churn pipeline (StandardScaler+OneHotEncoder+LogisticRegression)",
            "request": "single row, dataframe_split JSON",
            "duration_s": args.duration,
            "rounds": args.rounds,
            "samples": samples,
            "mlflow_version": mlflow_version,
            "mlgate_version": metadata.version("mlgate"),
            "startup_s": startup,
            "runs": runs,
            "cpus": os.cpu_count(),
            "note": "one run on a shared 2-core machine (other jobs running); wrk -t1",
        }
    finally:
        for process in servers.values():
            process.terminate()
            process.wait(timeout=30)
        for log in logs.values():
            log.close()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(table(results))
    return 0


def table(results: dict) -> str:
    runs = results["runs"]
    lines = [
        (
            f"Scoring server, single-row requests (MLflow {results['mlflow_version']}, "
            f"median of {results['rounds']} alternating {results['duration_s']} s runs, "
            f"{results['note']})"
        ),
        "",
        "| server | connections | requests/s | p50 ms | p90 ms | p99 ms |",
        "|---|---|---|---|---|---|",
    ]
    for key in ("c1", "c8"):
        for name in ("mlgate", "mlflow"):
            r = runs[name][key]
            lat = r["latency_ms"]
            lines.append(
                f"| {name} | {key[1:]} | {r['rps']:.0f} | {lat.get('p50', 0):.2f} | "
                f"{lat.get('p90', 0):.2f} | {lat.get('p99', 0):.2f} |"
            )
    for key in ("c1", "c8"):
        ratio = runs["mlgate"][key]["rps"] / runs["mlflow"][key]["rps"]
        lines.append(f"\nthroughput ratio mlgate/mlflow with {key[1:]} connection(s): {ratio:.2f}x")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
