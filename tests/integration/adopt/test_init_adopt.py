"""`mlgate init --adopt` drafts mlgate.yaml for each repository shape, the draft passes config
check as written, and, edited as a user would (the gates), runs through the pull-request
commands; it never overwrites."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from mlgate import gitio
from mlgate.config.loader import load_config
from tests.integration.adopt import repos
from tests.integration.adopt.support import checks, ok, untracked


@pytest.fixture(autouse=True)
def _training_python(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"])


def adopted(root: Path) -> dict:
    result = ok(root, "init", "--adopt", "--json")
    ok(root, "config", "check")
    return json.loads(result.stdout)


def add_gates(root: Path, gates: str) -> None:
    config = root / "mlgate.yaml"
    text = config.read_text()
    marker = "      # FILL gates.metrics: the metrics that decide, e.g.\n"
    assert marker in text
    config.write_text(text.replace(marker, f"      metrics: {gates}\n"))


def test_a_root_model_is_drafted_and_runs(tmp_path: Path) -> None:
    root = repos.root_model(tmp_path / "repo")
    repos.commit(root, "existing")
    result = adopted(root)
    assert result["written"] == ["mlgate.yaml", ".gitignore"]
    assert result["unknown"] == ["gates.metrics"]
    model = load_config(root / "mlgate.yaml").model()
    assert model.train is not None
    assert (model.train.command, model.relative(model.model.file)) == (
        "python src/train.py",
        "models/model.skops",  # read from the script before anything was trained
    )
    assert model.model.task == "binary-classification"
    assert (model.relative(model.data.train), model.relative(model.data.eval)) == (  # type: ignore[arg-type]
        "data/train.csv",
        "data/test.csv",
    )
    assert (root / ".gitignore").read_text().endswith(".mlgate/cache/\n.mlgate/out/\n")
    add_gates(root, "{roc_auc: {direction: higher, min: 0.6}}")
    ok(root, "train")
    ok(root, "lock")
    repos.commit(root, "adopt mlgate")
    assert untracked(root) == []
    ok(root, "validate")
    assert checks(root, "repo", "validation.json")["metric.roc_auc.min"]["status"] == "pass"


def test_adopting_never_overwrites(tmp_path: Path) -> None:
    root = repos.root_model(tmp_path / "repo")
    adopted(root)
    before = (root / "mlgate.yaml").read_text(), (root / ".gitignore").read_text()
    refused = ok(root, "init", "--adopt", codes=(2,))
    assert "never overwrites" in refused.stderr
    assert before == ((root / "mlgate.yaml").read_text(), (root / ".gitignore").read_text())


def test_a_monorepo_gets_one_model_per_folder_and_plans_them_apart(tmp_path: Path) -> None:
    root = repos.monorepo(tmp_path / "repo")
    result = adopted(root)
    assert result["models"] == ["churn", "fraud"]
    config = load_config(root / "mlgate.yaml")
    assert [config.models[i].relative(config.models[i].root) for i in (0, 1)] == [
        "models/churn",
        "models/fraud",
    ]
    add_gates(root, "{roc_auc: {direction: higher, min: 0.6}}")
    ok(root, "train")
    ok(root, "lock")
    repos.commit(root, "adopt mlgate")
    ok(root, "repro", "--check")
    ok(root, "validate")
    base = gitio.git(["rev-parse", "HEAD"], root).stdout.strip()
    (root / "models" / "fraud" / "C.txt").write_text("0.5\n")
    plan = json.loads(ok(root, "plan", "--base", base, "--json").stdout)
    assert [m["model"] for m in plan["models"]] == ["fraud"]
    (root / "requirements.txt").write_text("scikit-learn\npandas\nskops\nnumpy\n")
    plan = json.loads(ok(root, "plan", "--base", base, "--json").stdout)
    assert [m["model"] for m in plan["models"]] == ["churn", "fraud"]


def test_an_mlflow_project_is_drafted_from_its_mlproject(tmp_path: Path) -> None:
    root = repos.mlflow_project(tmp_path / "repo")
    adopted(root)
    model = load_config(root / "mlgate.yaml").model()
    assert model.train is not None
    assert (model.train.entry_point, model.train.mlflow) == ("main", True)
    assert model.train.command == "python train.py 0.5 0.1"
    assert model.data.split is not None
    assert model.data.split.seed == 40  # the script's np.random.seed before train_test_split
    assert (model.data.target, model.model.task) == ("quality", "regression")


def test_a_dvc_pipeline_is_drafted_from_dvc_yaml(tmp_path: Path) -> None:
    pytest.importorskip("dvc")
    root = repos.dvc_pipeline(tmp_path / "repo", tmp_path / "remote")
    adopted(root)
    model = load_config(root / "mlgate.yaml").model()
    assert model.train is not None
    assert model.train.command == "dvc repro"
    assert model.relative(model.model.file) == "model.skops"
    assert model.data.eval is not None
    assert model.relative(model.data.eval) == "data/features/test.csv"
    assert model.data.target == "label"
