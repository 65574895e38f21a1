"""A scikit-learn model trained by src/train.py at the repository root (``path: .``), with an
unpinned requirements.txt naming packages that are not installed: adopted with one mlgate.yaml,
no edit to its code, and run through every command a pull request runs."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from mlgate import gitio
from tests.integration.adopt import repos
from tests.integration.adopt.support import checks, ok, untracked, verdict


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    # The training environment is this interpreter's venv, found as `python` on PATH.
    monkeypatch.setenv("PATH", str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"])
    root = repos.root_model(tmp_path / "repo")
    repos.commit(root, "an existing repository")
    repos.write(root, {"mlgate.yaml": repos.ROOT_CONFIG})
    return root


def test_adopted_root_model_runs_every_command(repo: Path) -> None:
    ok(repo, "config", "check")
    ok(repo, "train")
    assert (repo / "models" / "model.skops").is_file()
    ok(repo, "lock")
    lock = json.loads((repo / "mlgate.lock").read_text())["models"]["clf"]
    assert sorted(lock["code"]) == ["src/features.py", "src/train.py"]
    assert set(lock["data"]) == {"data/train.csv", "data/test.csv"}
    repos.commit(repo, "adopt mlgate")
    assert untracked(repo) == []  # .mlgate/cache and .mlgate/out ignore themselves

    ok(repo, "repro", "--check")
    found = checks(repo, "clf", "repro.json")
    unpinned = found["repro.environment.unpinned"]
    assert unpinned["status"] == "warn"
    assert "mlgate-absent-boosting" in unpinned["message"]
    assert "mlgate-absent-plotting" in unpinned["message"]

    ok(repo, "validate")
    validation = checks(repo, "clf", "validation.json")
    assert validation["model.champion"]["status"] == "skip"
    assert "gates.champion.stage" in validation["model.champion"]["message"]
    ok(repo, "registry", "register", "clf")
    ok(repo, "registry", "assign", "clf", "v0.0.1", "prod")
    ok(repo, "validate")
    message = checks(repo, "clf", "validation.json")["model.champion"]["message"]
    assert "clf#prod" in message  # it says the registry has one and which key to set
    ok(repo, "validate", "--champion", "prod")
    context = verdict(repo, "clf", "validation.json")["context"]
    assert context["champion"]["version"] == "v0.0.1"
    assert context["metrics"]["roc_auc"]["champion"] == context["metrics"]["roc_auc"]["challenger"]

    gitio.git(["checkout", "--quiet", "-b", "change"], repo)
    (repo / "src" / "features.py").write_text('FEATURES = ["x1"]\n')
    plan = json.loads(ok(repo, "plan", "--base", "main", "--json").stdout)
    assert [m["model"] for m in plan["models"]] == ["clf"]
    out = repo.parent / "context"
    ok(repo, "publish", "--context-only", "--out", str(out))
    assert (out / "Dockerfile").is_file()


def test_check_names_the_champion_it_compared_with(repo: Path) -> None:
    config = repo / "mlgate.yaml"
    config.write_text(config.read_text() + "      champion: {stage: prod}\n")
    ok(repo, "train")
    ok(repo, "lock")
    repos.commit(repo, "adopt mlgate")
    first = ok(repo, "check", "--stage", "validate").stdout
    assert "no champion: the registry has no version of clf for 'prod' yet" in first
    ok(repo, "registry", "register", "clf")
    ok(repo, "registry", "assign", "clf", "v0.0.1", "prod")
    second = ok(repo, "check", "--stage", "validate").stdout
    assert "champion: v0.0.1 (prod) from commit" in second


def test_validate_without_metric_gates_warns_that_nothing_compares(repo: Path) -> None:
    config = repo / "mlgate.yaml"
    text = config.read_text()
    config.write_text(text[: text.index("    gates:")])
    ok(repo, "train")
    ok(repo, "validate")
    warning = checks(repo, "clf", "validation.json")["metrics.none"]
    assert warning["status"] == "warn"
    assert "nothing compares" in warning["message"]
