"""resolve_champion: the contract the validation gate relies on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlgate.config.loader import load_config
from mlgate.errors import ConfigError, UsageError
from mlgate.registry.champion import resolve_champion
from tests.integration.registry_support import commit, git, mlgate, new_repo, write_config


@pytest.fixture
def project(tmp_path: Path) -> Path:
    repo = new_repo(tmp_path / "repo")
    write_config(repo, {"stages": ["staging", "prod"]})
    return repo


def champion(repo: Path, ref: str):  # type: ignore[no-untyped-def]
    config = load_config(repo / "mlgate.yaml")
    return resolve_champion(config, config.model("churn"), ref)


def test_none_until_something_holds_the_stage(project: Path) -> None:
    assert champion(project, "prod") is None
    assert champion(project, "latest") is None
    mlgate(project, "registry", "register", "churn")
    assert champion(project, "prod") is None
    mlgate(project, "registry", "assign", "churn", "v0.0.1", "prod")
    found = champion(project, "prod")
    assert found is not None
    assert (found.version, found.stage) == ("v0.0.1", "prod")
    assert found.commit == git(project, "rev-parse", "HEAD")
    assert found.model_path.read_text() == "weights\n"
    assert found.model_path.is_relative_to(project / ".mlgate" / "cache" / "champions" / "churn")
    assert found.payload["model_file"]["path"] == "models/churn/model.txt"
    assert (found.source, found.origin) == (
        "commit",
        f"models/churn/model.txt at {found.commit[:12]}",
    )
    assert champion(project, "latest").version == "v0.0.1"
    assert champion(project, "v0.0.1").commit == found.commit


def test_model_file_comes_from_the_registered_commit(project: Path) -> None:
    mlgate(project, "registry", "register", "churn")
    mlgate(project, "registry", "assign", "churn", "v0.0.1", "prod")
    (project / "models" / "churn" / "model.txt").write_text("challenger\n")
    commit(project, "new data")
    found = champion(project, "prod")
    assert found is not None
    assert found.model_path.read_text() == "weights\n"


@pytest.mark.parametrize("ref", ["pr od", "v1", "@latest"])
def test_invalid_refs(project: Path, ref: str) -> None:
    with pytest.raises(UsageError):
        champion(project, ref)


def test_stage_outside_the_policy_is_an_error_not_a_missing_champion(project: Path) -> None:
    with pytest.raises(UsageError, match="not allowed by the registry policy"):
        champion(project, "production")


def test_lightweight_tags_are_not_a_missing_champion(project: Path) -> None:
    git(project, "tag", "churn@v0.0.1")
    git(project, "tag", "churn#prod#1")
    with pytest.raises(UsageError) as info:
        champion(project, "prod")
    assert "git fetch --tags --force" in (info.value.hint or "")


def test_model_file_not_committed(project: Path) -> None:
    git(project, "rm", "--quiet", "--cached", "models/churn/model.txt")
    commit(project, "drop the model file")
    mlgate(project, "registry", "register", "churn")
    mlgate(project, "registry", "assign", "churn", "v0.0.1", "prod")
    with pytest.raises(UsageError, match="is not in its commit") as info:
        champion(project, "prod")
    # Without GITHUB_TOKEN and GITHUB_REPOSITORY the release asset cannot be fetched: say so.
    assert "GITHUB_TOKEN and GITHUB_REPOSITORY" in (info.value.hint or "")
    assert "GitHub Release churn@v0.0.1" in (info.value.hint or "")


def test_checksum_mismatch_and_corruption(project: Path) -> None:
    payload = {
        "model": "churn",
        "version": "v0.0.1",
        "model_file": {"path": "models/churn/model.txt", "sha256": "0" * 64},
    }
    git(project, "tag", "-a", "-m", "by hand\n\n" + json.dumps(payload), "churn@v0.0.1")
    git(project, "tag", "-a", "-m", "by hand", "churn#prod#1")
    with pytest.raises(ConfigError, match="does not match the sha256"):
        champion(project, "prod")
    commit(project, "two")
    git(project, "tag", "-a", "-m", "by hand\n\n{broken", "churn@v0.0.2")
    with pytest.raises(ConfigError, match="corrupted payload"):
        champion(project, "v0.0.2")
