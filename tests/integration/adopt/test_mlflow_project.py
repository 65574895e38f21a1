"""The MLflow tutorial's shape (a semicolon-separated table split in memory, mlflow.sklearn's
log_model and log_metric, an MLproject entry point with parameters, a conda.yaml), adopted with
one mlgate.yaml and no edit to its code: each training run logs into a store of its own under
.mlgate/, and mlgate reads that run's model directory and metrics."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from mlgate import tabular
from mlgate.config.loader import load_config
from tests.integration.adopt import repos
from tests.integration.adopt.support import checks, ok, untracked, verdict

pytest.importorskip("mlflow")


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PATH", str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"])
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    root = repos.mlflow_project(tmp_path / "repo")
    repos.write(root, {"mlgate.yaml": repos.MLFLOW_CONFIG})
    return root


def test_the_run_logged_to_mlflow_is_the_model_and_its_metrics(repo: Path) -> None:
    config = load_config(repo / "mlgate.yaml")
    (model,) = config.models
    assert model.train is not None
    assert model.train.command == "python train.py 0.4 0.1"  # MLproject, parameters applied
    ok(repo, "config", "check")

    out = ok(repo, "train").stdout
    assert "metrics logged to MLflow by run" in out
    assert (repo / "model" / "MLmodel").is_file()  # the run's logged model directory
    assert not (repo / "mlruns").exists()  # the run's store is mlgate's, not the repository's
    (record,) = (repo / ".mlgate" / "runs" / "wine").glob("*.json")
    metrics = json.loads(record.read_text())["metrics"]
    assert set(metrics) == {"rmse", "r2", "mae"}

    # The rows mlgate evaluates on are the rows the script held out.
    store = repo / ".mlgate" / "cache" / "mlflow" / "wine" / "mlruns"
    (logged,) = store.glob("*/*/artifacts/test_index.json")
    assert model.data.train is not None
    whole = tabular.read_table(model.data.train)
    assert whole.columns.tolist()[0] == "fixed acidity"  # the ';' delimiter was sniffed
    assert model.data.split is not None
    held_out = tabular.split_rows(whole, model.data.split)[1]
    assert list(held_out) == json.loads(logged.read_text())

    # The logged model directory is the challenger, scored on those same rows: mlgate's RMSE
    # is the one the script logged.
    ok(repo, "validate")
    found = verdict(repo, "wine", "validation.json")
    assert found["context"]["metrics"]["rmse"]["challenger"] == pytest.approx(
        metrics["rmse"], rel=1e-12
    )
    context = repo.parent / "context"
    ok(repo, "publish", "--context-only", "--out", str(context))
    assert (context / "Dockerfile").is_file()

    ok(repo, "lock")
    entry = json.loads((repo / "mlgate.lock").read_text())["models"]["wine"]
    assert entry["environment"]["source"] == "conda.yaml"
    assert entry["environment"]["packages"]["mlflow"] == ">=2.16"
    repos.commit(repo, "adopt mlgate")
    assert untracked(repo) == []
    ok(repo, "repro", "--check")
    assert checks(repo, "wine", "repro.json")["repro.lock.train"]["status"] == "pass"

    # An MLproject parameter changed in mlgate.yaml is a change of the locked command.
    config_file = repo / "mlgate.yaml"
    config_file.write_text(config_file.read_text().replace("alpha: 0.4", "alpha: 0.3"))
    ok(repo, "repro", "--check", codes=(1,))
    message = checks(repo, "wine", "repro.json")["repro.lock.train"]["message"]
    assert "python train.py 0.3 0.1" in message
    plan = json.loads(ok(repo, "plan", "--base", "HEAD", "--json").stdout)
    assert plan["models"][0]["reasons"] == ["mlgate.yaml: models[0] changed"]
