"""register --release and registry release: the GitHub Release of a registration tag."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.github.fake import FakeGitHub
from tests.integration.registry_support import (
    bare_remote,
    clone,
    commit,
    git,
    mlgate,
    mlgate_json,
    remote_tags,
    write_config,
)


@pytest.fixture
def project(tmp_path: Path, github: FakeGitHub, monkeypatch: pytest.MonkeyPatch) -> Path:
    for key, value in github.env.items():
        monkeypatch.setenv(key, value)
    origin = bare_remote(tmp_path / "origin.git")
    repo = clone(origin, tmp_path / "repo")
    commit(repo, "first")
    folder = repo / "models" / "churn"
    folder.mkdir(parents=True)
    (folder / "model_card.yaml").write_text("model_details: {name: churn}\n")
    git(repo, "add", "models/churn/model_card.yaml")
    write_config(repo)
    config = repo / "mlgate.yaml"
    config.write_text(config.read_text() + "    governance: {card: model_card.yaml}\n")
    git(repo, "commit", "--quiet", "--all", "-m", "card")
    git(repo, "push", "--quiet", "origin", "main")
    return repo


def test_register_with_release(project: Path, github: FakeGitHub, tmp_path: Path) -> None:
    verdict = tmp_path / "validation.json"
    verdict.write_text(
        json.dumps({"format": 1, "kind": "validation", "model": "churn", "ok": True, "checks": []})
    )
    extra = tmp_path / "payload.json"
    extra.write_text(json.dumps({"metrics": {"roc_auc": 0.91}}))
    out = mlgate_json(
        project,
        "registry", "register", "churn", "--push", "--release",
        "--verdict", str(verdict), "--payload", str(extra),
    )  # fmt: skip
    assert out["pushed"] is True
    assert out["release"]["assets"] == [
        "metrics.json",
        "model.txt",
        "model_card.yaml",
        "payload.json",
        "verdict-validation.json",
    ]
    (release,) = github.releases
    assert release["tag_name"] == "churn@v0.0.1"
    assert release["name"] == "churn v0.0.1"
    assert release["target_commitish"] == out["commit"]
    assert "roc_auc" in release["body"]
    assert "validation: pass" in release["body"]
    # Idempotent: making it again changes nothing but finds the same release.
    again = mlgate_json(
        project, "registry", "release", "churn", "v0.0.1", "--verdict", str(verdict)
    )
    assert again["release"]["id"] == out["release"]["id"]
    assert len(github.releases) == 1


def test_release_failure_keeps_the_registration(project: Path, github: FakeGitHub) -> None:
    github.fail("POST", r"/releases$", 403, times=1)
    result = mlgate(project, "registry", "register", "churn", "--push", "--release", expect=3)
    assert "mlgate registry release churn v0.0.1" in result.stderr
    assert "churn@v0.0.1" in remote_tags(project)  # the registry is the record
    mlgate(project, "registry", "release", "churn", "v0.0.1")
    assert [r["tag_name"] for r in github.releases] == ["churn@v0.0.1"]


def test_release_needs_a_token(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_TOKEN")
    mlgate(project, "registry", "register", "churn", "--push")
    result = mlgate(project, "registry", "release", "churn", "v0.0.1", expect=2)
    assert "GITHUB_TOKEN is not set" in result.stderr
