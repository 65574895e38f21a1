"""`mlgate plan` selects a model exactly when one of its inputs changes, whatever the layout:
a model at the repository root with the default code set, and models in folders of a monorepo."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlgate import gitio
from tests.conftest import invoke
from tests.integration.adopt import repos


@pytest.fixture
def root_repo(tmp_path: Path) -> Path:
    root = repos.root_model(tmp_path / "repo")
    repos.write(root, {"mlgate.yaml": repos.ROOT_CONFIG, "models/model.skops": "model\n"})
    repos.commit(root, "root model")
    gitio.git(["checkout", "--quiet", "-b", "change"], root)
    return root


def selected(root: Path) -> dict[str, list[str]]:
    result = invoke("plan", "--base", "main", "--json", cwd=root)
    assert result.exit_code == 0, result.output
    return {m["model"]: m["reasons"] for m in json.loads(result.stdout)["models"]}


@pytest.mark.parametrize(
    ("path", "why"),
    [
        ("src/train.py", "code (default **/*.py)"),
        ("src/features.py", "code (default **/*.py)"),
        ("params.yaml", "train.params"),
        ("data/train.csv", "data.train"),
        ("data/test.csv", "data.eval"),
        ("requirements.txt", "requirements (found by name)"),
        ("models/model.skops", "model.file"),
    ],
)
def test_a_root_model_is_selected_by_each_input(root_repo: Path, path: str, why: str) -> None:
    with (root_repo / path).open("a") as handle:
        handle.write("\n")
    assert selected(root_repo) == {"clf": [f"{path} ({why})"]}


def test_a_root_model_ignores_files_it_does_not_read(root_repo: Path) -> None:
    (root_repo / "README.md").write_text("# changed\n")
    (root_repo / "docs" / "notes.md").write_text("changed\n")
    assert selected(root_repo) == {}


def test_a_new_lock_file_by_name_and_its_config_entry_select_it(root_repo: Path) -> None:
    (root_repo / "uv.lock").write_text("version = 1\n")
    gitio.git(["add", "uv.lock"], root_repo)
    assert selected(root_repo) == {"clf": ["uv.lock (requirements (found by name))"]}
    gitio.git(["rm", "--quiet", "--cached", "uv.lock"], root_repo)
    (root_repo / "uv.lock").unlink()
    config = root_repo / "mlgate.yaml"
    config.write_text(config.read_text().replace("min: 0.6", "min: 0.65"))
    assert selected(root_repo) == {"clf": ["mlgate.yaml: models[0] changed"]}


def test_a_root_model_and_a_folder_model_in_one_repository(root_repo: Path) -> None:
    config = root_repo / "mlgate.yaml"
    second = (
        "  - name: ranker\n"
        "    path: ranker\n"
        "    train: {command: python fit.py}\n"
        "    data: {train: data.csv, target: label}\n"
        "    model: {file: model.skops, task: binary-classification}\n"
        '    repro: {code: ["*.py"]}\n'
    )
    config.write_text(config.read_text() + second)
    repos.write(root_repo, {"ranker/fit.py": "pass\n", "ranker/data.csv": "x,label\n1,0\n"})
    repos.commit(root_repo, "second model")
    base = gitio.git(["rev-parse", "HEAD"], root_repo).stdout.strip()

    def plan_since() -> dict[str, list[str]]:
        result = invoke("plan", "--base", base, "--json", cwd=root_repo)
        assert result.exit_code == 0, result.output
        return {m["model"]: m["reasons"] for m in json.loads(result.stdout)["models"]}

    (root_repo / "ranker" / "data.csv").write_text("x,label\n2,1\n")
    assert plan_since() == {"ranker": ["ranker/data.csv (data.train)"]}
    # The root model's default code set is every tracked *.py, the other model's too: its lock
    # fingerprints that file, so the plan selects both.
    (root_repo / "ranker" / "data.csv").write_text("x,label\n1,0\n")
    (root_repo / "ranker" / "fit.py").write_text("pass  # changed\n")
    assert plan_since() == {
        "clf": ["ranker/fit.py (code (default **/*.py))"],
        "ranker": ["ranker/fit.py (repro.code)"],
    }
