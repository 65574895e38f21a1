"""Protocol parity with MLflow's scoring server: every request shape of serve_parity against a
real ``mlgate serve`` process, and, when an MLflow environment is named by ``MLFLOW_VENV``,
against ``mlflow models serve`` with the same model. Status codes must be identical except the
deliberate differences, each of which docs/serving.md explains."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import requests

from mlgate import proc
from tests.integration.serve_parity import Shape, answer, shapes
from tests.integration.serve_support import free_port, running_server, served_model_dir

DOCS = Path(__file__).resolve().parents[2] / "docs" / "serving.md"


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    from mlgate.starter import InitRequest, init_project

    root = tmp_path_factory.mktemp("parity")
    init_project(InitRequest(root / "starter"))
    return root / "starter", served_model_dir(root / "starter", root / "served")


@pytest.fixture(scope="module")
def every_shape(trained: tuple[Path, Path]) -> list[Shape]:
    return shapes(pd.read_csv(trained[0] / "models/churn/data/eval.csv"))


@pytest.fixture(scope="module")
def mlgate_url(
    trained: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    log = tmp_path_factory.mktemp("parity-log") / "serve.log"
    with running_server(trained[1], log, "--no-access-log") as url:
        yield url
    assert "Traceback" not in log.read_text()


def test_mlgate_answers_every_shape_as_documented(
    mlgate_url: str, every_shape: list[Shape]
) -> None:
    got = {s.id: answer(mlgate_url, s, requests.request) for s in every_shape}
    wrong = {s.id: (got[s.id], s.expected_mlgate) for s in every_shape
             if got[s.id] != s.expected_mlgate}  # fmt: skip
    assert not wrong, wrong
    assert len(every_shape) >= 80


def test_every_deliberate_difference_is_documented(every_shape: list[Shape]) -> None:
    text = DOCS.read_text("utf-8")
    documented = set(re.findall(r"<a id=\"([a-z0-9-]+)\"></a>", text))
    reasons = {s.reason for s in every_shape if s.mlgate is not None}
    assert reasons <= documented, reasons - documented
    assert all(s.reason for s in every_shape if s.mlgate is not None)


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("MLFLOW_VENV"), reason="no MLflow environment (MLFLOW_VENV)")
def test_mlflow_answers_every_shape_with_the_same_status(
    trained: tuple[Path, Path], every_shape: list[Shape], mlgate_url: str, tmp_path: Path
) -> None:
    venv = Path(os.environ["MLFLOW_VENV"])
    starter, _ = trained
    model_dir = starter / "models/churn"
    mlflow_model = tmp_path / "mlflow-model"
    save = (
        "import sys, pandas as pd, skops.io as sio, mlflow.sklearn\n"
        "from mlflow.models import infer_signature\n"
        "data = open(sys.argv[1], 'rb').read()\n"
        "model = sio.loads(data, trusted=sio.get_untrusted_types(data=data))\n"
        "frame = pd.read_csv(sys.argv[2])\n"
        "x = frame[[c for c in frame.columns if c not in ('churned', 'gender')]]\n"
        "signature = infer_signature(x, model.predict(x))\n"
        "mlflow.sklearn.save_model(model, sys.argv[3], signature=signature)\n"
    )
    env = {**os.environ, "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    proc.run([str(venv / "bin/python"), "-c", save, str(model_dir / "artifacts/model.skops"),
              str(model_dir / "data/eval.csv"), str(mlflow_model)], env=env)  # fmt: skip
    port = free_port()
    log = (tmp_path / "mlflow.log").open("wb")
    server = subprocess.Popen(
        [str(venv / "bin/mlflow"), "models", "serve", "-m", str(mlflow_model), "--env-manager",
         "local", "-h", "127.0.0.1", "-p", str(port)], stdout=log, stderr=log, env=env,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        _wait(url, server, tmp_path / "mlflow.log")
        theirs = {s.id: answer(url, s, requests.request) for s in every_shape}
        ours = {s.id: answer(mlgate_url, s, requests.request) for s in every_shape}
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
    recorded = {s.id: (theirs[s.id], s.mlflow) for s in every_shape if theirs[s.id] != s.mlflow}
    assert not recorded, recorded  # MLflow still answers as the table says
    same = [s.id for s in every_shape if s.mlgate is None]
    differ = {i: (ours[i], theirs[i]) for i in same if ours[i] != theirs[i]}
    assert not differ, differ
    deliberate = [s for s in every_shape if s.mlgate is not None]
    assert all(ours[s.id] != theirs[s.id] for s in deliberate)  # still a difference


def _wait(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    import time

    deadline = time.monotonic() + 180
    while True:
        try:
            if requests.get(url + "/ping", timeout=2).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        assert process.poll() is None, log.read_text()
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.2)  # waiting for a server to start, not ordering events
