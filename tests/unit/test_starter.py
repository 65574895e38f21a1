from __future__ import annotations

import sys
from pathlib import Path

import pytest

from mlgate.errors import UsageError
from mlgate.starter import InitRequest, init_project, render_starter


def test_starter_has_a_complete_repository() -> None:
    files = render_starter()
    for required in (
        "mlgate.yaml",
        "requirements.txt",
        "models/churn/train.py",
        "models/churn/data/train.csv",
        "models/churn/data/eval.csv",
        "models/churn/model_card.yaml",
        ".github/workflows/mlgate-pr.yml",
        ".pre-commit-config.yaml",
        "noxfile.py",
    ):
        assert required in files, required
    assert not any(name.endswith(".j2") for name in files)
    pins = files["requirements.txt"].decode().splitlines()
    assert any(line.startswith("scikit-learn==") for line in pins)


def test_init_refuses_to_overwrite_and_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / "mlgate.yaml").write_text("mine\n")
    with pytest.raises(UsageError, match="would be overwritten; nothing was written") as info:
        init_project(InitRequest(tmp_path))
    assert info.value.details == ["mlgate.yaml"]
    assert [p.name for p in tmp_path.iterdir()] == ["mlgate.yaml"]
    assert (tmp_path / "mlgate.yaml").read_text() == "mine\n"


def test_init_force_overwrites(tmp_path: Path) -> None:
    (tmp_path / "mlgate.yaml").write_text("mine\n")
    result = init_project(InitRequest(tmp_path, force=True))
    assert "mlgate.yaml" in result.written
    assert (tmp_path / "mlgate.yaml").read_text().startswith("# yaml-language-server")


def test_init_twice_is_a_no_op(tmp_path: Path) -> None:
    init_project(InitRequest(tmp_path))
    again = init_project(InitRequest(tmp_path))
    assert again.written == ()
    assert len(again.unchanged) == len(render_starter())


def test_init_into_a_file_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "f"
    target.write_text("")
    with pytest.raises(UsageError, match="not a folder"):
        init_project(InitRequest(target))


def test_starter_workflows_come_from_the_workflow_templates() -> None:
    from mlgate.starter import PROJECT_DIR, WORKFLOW_TEMPLATES_DIR

    files = render_starter()
    source = WORKFLOW_TEMPLATES_DIR
    names = sorted(p.name for p in source.glob("*.yml"))
    assert names == ["mlgate-monitor.yml", "mlgate-pr.yml", "mlgate-release.yml"]
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    for name in names:
        written = files[f".github/workflows/{name}"].decode()
        assert written == (source / name).read_text().replace("{{ python_version }}", python)
        assert "{{" not in written.replace("${{", "")
        assert f'python-version: "{python}"' in written
    assert not (PROJECT_DIR / ".github").exists(), "one source: starter/workflows"


def test_starter_serving_image_runs_the_python_that_trains() -> None:
    import yaml

    config = yaml.safe_load(render_starter()["mlgate.yaml"])
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    (model,) = config["models"]
    assert model["publish"]["base_image"] == f"python:{python}-slim"


def test_starter_precommit_config_uses_every_offered_hook() -> None:
    import yaml

    from mlgate import __version__
    from mlgate.starter import MLGATE_REPO
    from tests.workflow_files import ROOT

    config = yaml.safe_load(render_starter()[".pre-commit-config.yaml"])
    (repo,) = config["repos"]
    assert repo["repo"] == f"https://github.com/{MLGATE_REPO}"
    assert repo["rev"] == f"v{__version__}"
    offered = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert [h["id"] for h in repo["hooks"]] == [h["id"] for h in offered]
