"""A DVC pipeline in the shape of iterative/example-get-started (params.yaml; stages prepare,
featurize, train, evaluate; raw data added with `dvc add`; the model and intermediates kept out
of git in DVC's cache and a local-folder remote), adopted with one mlgate.yaml: the stages are
the lock's inputs with DVC's hashes, metrics come from the evaluate stage, `dvc repro` trains,
and the champion is read at its registered commit through DVC."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest

from mlgate import gitio
from tests.integration.adopt import repos
from tests.integration.adopt.support import checks, ok, untracked, verdict

pytest.importorskip("dvc")


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("dvc")
    env = {"PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"]}
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        return repos.dvc_pipeline(base / "repo", base / "remote")


@pytest.fixture
def repo(pipeline: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PATH", str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"])
    copy = tmp_path / "repo"
    shutil.copytree(pipeline, copy, symlinks=True)
    repos.write(copy, {"mlgate.yaml": repos.DVC_CONFIG})
    return copy


def test_the_stages_are_the_lock_inputs_with_dvcs_hashes(repo: Path) -> None:
    ok(repo, "config", "check")
    run = ok(repo, "train").stdout
    assert "metrics from the DVC pipeline's eval/metrics.json" in run
    ok(repo, "lock")
    entry = json.loads((repo / "mlgate.lock").read_text())["models"]["classifier"]
    assert sorted(entry["dvc"]["stages"]) == ["evaluate", "featurize", "prepare", "train"]
    dvc_lock = (repo / "dvc.lock").read_text()
    train = entry["dvc"]["stages"]["train"]
    assert train["outs"]["model.skops"] in dvc_lock  # DVC's md5, as dvc.lock has it
    assert train["params"]["params.yaml:train.n_est"] == 20
    # Nothing DVC records is hashed or listed again by mlgate.
    assert entry["data"] == {}
    assert entry["code"] == {}
    repos.commit(repo, "adopt mlgate")
    assert untracked(repo) == []

    ok(repo, "repro", "--check")
    assert checks(repo, "classifier", "repro.json")["repro.lock.dvc"]["status"] == "pass"
    # A parameter change re-run through DVC is a difference in the train stage.
    params = repo / "params.yaml"
    params.write_text(params.read_text().replace("n_est: 20", "n_est: 12"))
    ok(repo, "train")
    ok(repo, "repro", "--check", codes=(1,))
    failed = checks(repo, "classifier", "repro.json")["repro.lock.dvc"]
    subjects = {d["subject"] for d in failed["details"]["differences"]}
    assert "stage train params params.yaml:train.n_est" in subjects
    assert "stage train outs model.skops" in subjects
    assert "stage prepare" not in " ".join(subjects)


@pytest.mark.parametrize("where", ["mlgate", "training"])
def test_a_champion_out_of_git_is_read_through_dvc_from_the_remote(
    repo: Path, where: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if where == "training":  # mlgate in a venv of its own without DVC: the training env asks
        monkeypatch.setitem(sys.modules, "dvc.api", None)
        monkeypatch.setenv("MLGATE_TRAIN_PYTHON", sys.executable)
    ok(repo, "train")
    ok(repo, "lock")
    repos.commit(repo, "adopt mlgate")
    assert not gitio.has_path(repo, "HEAD", "model.skops")  # DVC keeps it
    ok(repo, "registry", "register", "classifier")
    ok(repo, "registry", "assign", "classifier", "v0.0.1", "prod")
    shutil.rmtree(repo / ".dvc" / "cache")  # only the remote has it now
    ok(repo, "validate", "--champion", "prod")
    context = verdict(repo, "classifier", "validation.json")["context"]
    assert context["champion"]["version"] == "v0.0.1"
    assert context["champion"]["origin"].endswith("through DVC")
    assert context["metrics"]["roc_auc"]["champion"] == context["metrics"]["roc_auc"]["challenger"]


def test_plan_and_a_rerun_through_dvc(repo: Path) -> None:
    ok(repo, "train")
    ok(repo, "lock")
    repos.commit(repo, "adopt mlgate")
    ok(repo, "repro", "--rerun", "--runs", "1")
    assert verdict(repo, "classifier", "repro.json")["ok"]
    out = repo.parent / "context"
    ok(repo, "publish", "--context-only", "--out", str(out))
    assert (out / "Dockerfile").is_file()
    base = gitio.git(["rev-parse", "HEAD"], repo).stdout.strip()
    (repo / "README.md").write_text("# changed\n")
    assert json.loads(ok(repo, "plan", "--base", base, "--json").stdout)["models"] == []
    (repo / "src" / "featurization.py").write_text("# changed\n")
    plan = json.loads(ok(repo, "plan", "--base", base, "--json").stdout)
    assert plan["models"][0]["reasons"] == ["src/featurization.py (dvc pipeline)"]
