"""`mlgate plan` on a two-model repository: only what a change touches fans out."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from mlgate import gitio
from tests.conftest import invoke


@pytest.fixture
def monorepo(starter: Path) -> Path:
    shutil.copytree(starter / "models" / "churn", starter / "models" / "upsell")
    config = starter / "mlgate.yaml"
    text = config.read_text()
    entry = text[text.index("  - name: churn") :]
    second = entry.replace("name: churn", "name: upsell").replace("models/churn", "models/upsell")
    second = second.replace("params: [params.yaml]", "params: [params.yaml, ../../shared/p.yaml]")
    config.write_text(text + second)
    (starter / "shared").mkdir()
    (starter / "shared" / "p.yaml").write_text("lr: 0.1\n")
    gitio.git(["init", "--quiet"], starter)
    gitio.git(["add", "--all"], starter)
    gitio.git(["commit", "--quiet", "-m", "two models"], starter)
    gitio.git(["checkout", "--quiet", "-b", "change"], starter)
    return starter


def plan(root: Path, *args: str) -> dict:
    result = invoke("plan", "--base", "main", "--json", *args, cwd=root)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_a_model_folder_change_selects_that_model(monorepo: Path) -> None:
    (monorepo / "models" / "upsell" / "train.py").write_text("# changed\n")
    assert [m["model"] for m in plan(monorepo)["models"]] == ["upsell"]


def test_shared_params_outside_the_folder_select_their_user(monorepo: Path) -> None:
    (monorepo / "shared" / "p.yaml").write_text("lr: 0.2\n")
    result = plan(monorepo)
    assert [m["model"] for m in result["models"]] == ["upsell"]
    assert result["models"][0]["reasons"] == ["shared/p.yaml (train.params)"]
    assert result["untouched"] == ["churn"]


def test_editing_one_entry_of_mlgate_yaml_selects_only_that_model(monorepo: Path) -> None:
    config = monorepo / "mlgate.yaml"
    text = config.read_text()
    head, tail = text.split("  - name: upsell")
    config.write_text(head + "  - name: upsell" + tail.replace("min: 0.75", "min: 0.7"))
    result = plan(monorepo)
    assert [m["model"] for m in result["models"]] == ["upsell"]
    assert result["models"][0]["reasons"] == ["mlgate.yaml: models[1] changed"]


def test_committed_changes_against_head_and_all(monorepo: Path) -> None:
    (monorepo / "models" / "churn" / "params.yaml").write_text("model: logistic\nC: 1.0\n")
    gitio.git(["commit", "--quiet", "-am", "tune churn"], monorepo)
    result = plan(monorepo, "--head", "HEAD")
    assert [m["model"] for m in result["models"]] == ["churn"]
    every = plan(monorepo, "--all")
    assert [m["model"] for m in every["models"]] == ["churn", "upsell"]


def test_a_base_missing_from_the_clone_says_how_to_fetch(monorepo: Path) -> None:
    result = invoke("plan", "--base", "origin/nowhere", cwd=monorepo)
    assert result.exit_code == 2
    assert "fetch-depth: 0" in result.stderr


def test_a_relock_selects_only_the_models_whose_lock_entry_changed(monorepo: Path) -> None:
    assert invoke("lock", cwd=monorepo).exit_code == 0
    gitio.git(["add", "--all"], monorepo)
    gitio.git(["commit", "--quiet", "-m", "lock both"], monorepo)
    gitio.git(["branch", "--force", "main"], monorepo)
    (monorepo / "models" / "upsell" / "params.yaml").write_text("model: logistic\nC: 2.0\n")
    assert invoke("lock", cwd=monorepo).exit_code == 0
    result = plan(monorepo)
    assert [m["model"] for m in result["models"]] == ["upsell"]
    assert "mlgate.lock: its entry changed" in result["models"][0]["reasons"]
