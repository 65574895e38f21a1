"""``mlgate serve`` as a real process on uvicorn, and ``deploy render`` from a publish record."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import requests

from mlgate import formats, proc
from tests.conftest import invoke
from tests.integration.serve_support import free_port, running_server, served_model_dir


@pytest.fixture
def model_dir(starter: Path, tmp_path: Path) -> Path:
    """A served-model folder (model.json + model file) for the trained starter model."""
    return served_model_dir(starter, tmp_path / "served")


@pytest.fixture
def server(model_dir: Path, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    log = tmp_path / "serve.log"
    with running_server(model_dir, log, "--max-request-bytes", "20000") as url:
        yield url, log


def test_real_server_scores_like_the_model_in_process(
    server: tuple[str, Path], starter: Path
) -> None:
    url, log = server
    frame = pd.read_csv(starter / "models/churn/data/eval.csv").head(25)
    features = [c for c in frame.columns if c not in ("churned", "gender")]
    model = formats.load(starter / "models/churn/artifacts/model.skops")
    answer = requests.post(
        url + "/invocations",
        json={"dataframe_records": frame[features].to_dict(orient="records")},
        timeout=30,
    )
    assert answer.status_code == 200
    assert answer.json()["predictions"] == model.predict(frame[features]).tolist()
    csv = requests.post(url + "/invocations", data=frame[features].to_csv(index=False),
                        headers={"Content-Type": "text/csv"}, timeout=30)  # fmt: skip
    assert csv.json() == answer.json()
    big = requests.post(url + "/invocations", data=b"x" * 30000,
                        headers={"Content-Type": "text/csv"}, timeout=30)  # fmt: skip
    assert big.status_code == 413
    assert requests.get(url + "/info", timeout=5).json()["version"] == "v0.1.0"
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    requests_logged = [entry for entry in lines if entry["msg"] == "request"]
    assert {"method", "path", "status", "ms"} <= set(requests_logged[-1])
    assert any(entry["msg"] == "model loaded" for entry in lines)


def test_serve_refuses_a_folder_without_model_json(tmp_path: Path) -> None:
    out = invoke("serve", "--model-dir", str(tmp_path))
    assert out.exit_code == 2
    assert "model.json not found" in out.stderr


def test_deploy_render_uses_the_last_pushed_image(starter: Path) -> None:
    digest = "sha256:" + "cd" * 32
    record = starter / ".mlgate/out/churn/publish.json"
    record.parent.mkdir(parents=True)
    record.write_text(json.dumps({"image_digest_ref": f"r.example/churn@{digest}",
                                  "version": "sha-abc"}))  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    proc.run(["git", "init", "-q"], cwd=starter, env=env)
    out = invoke("deploy", "render", "churn", "prod", "--json", cwd=starter)
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert data["image"] == f"r.example/churn@{digest}"
    assert data["source"] == ".mlgate/out/churn/publish.json"
    missing = invoke("deploy", "render", "churn", "prod", cwd=starter / "models")
    assert missing.exit_code == 0
    record.unlink()
    none = invoke("deploy", "render", "churn", "prod", cwd=starter)
    assert none.exit_code == 2
    assert "no pushed image found" in none.stderr


def test_a_model_that_cannot_load_fails_before_the_port_opens(model_dir: Path) -> None:
    (model_dir / "model.skops").write_bytes(b"not a model")
    out = invoke("serve", "--model-dir", str(model_dir), "--port", str(free_port()))
    assert out.exit_code == 2, out.output
    assert "does not match the sha256 recorded in model.json" in out.stderr


def test_a_port_in_use_is_an_external_error(model_dir: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        out = invoke("serve", "--model-dir", str(model_dir), "--port", str(port))
    assert out.exit_code == 3, out.output
    assert "could not start" in out.stderr


def test_capture_writes_what_was_scored_and_counts_it(
    model_dir: Path, starter: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "capture"
    frame = pd.read_csv(starter / "models/churn/data/eval.csv").head(5)
    features = [c for c in frame.columns if c not in ("churned", "gender")]
    log = tmp_path / "capture.log"
    with running_server(model_dir, log, "--capture-dir", str(folder), "--capture-hash",
                        "region", "--capture-rotate-mb", "1") as url:  # fmt: skip
        ids = []
        for n in range(4):
            answer = requests.post(url + "/invocations", timeout=30,
                                   json={"dataframe_records": frame[features].iloc[[n]]
                                         .to_dict(orient="records")})  # fmt: skip
            assert answer.status_code == 200
            ids.append(answer.headers["x-request-id"])
        metrics = requests.get(url + "/metrics", timeout=5).text
    # The server was stopped (SIGTERM): its writer drained the queue before exiting.
    records = [json.loads(line) for f in sorted(folder.glob("capture-*.jsonl"))
               for line in f.read_text().splitlines()]  # fmt: skip
    assert [r["request_id"] for r in records] == ids
    assert records[0]["version"] == "v0.1.0"
    assert records[0]["inputs"]["tenure_months"] == [int(frame["tenure_months"].iloc[0])]
    assert records[0]["inputs"]["region"][0] != frame["region"].iloc[0]
    assert 'mlgate_capture_records_total{outcome="dropped"} 0' in metrics
