"""The publish, release and promote actions, run step by step in bash with the runner's contract,
against a real Docker engine, a registry with htpasswd auth, a bare git remote and the fake
GitHub (for the GitHub Release). Credentials reach docker only through the actions' login."""

from __future__ import annotations

import json
import os
from pathlib import Path

import docker
import pytest

from mlgate import proc
from tests.actions_harness import ActionRun, installed_mlgate, run_action
from tests.e2e import infra
from tests.e2e.conftest import GIT, make_project_with_remote
from tests.github.fake import OWNER, REPO, FakeGitHub
from tests.github.fixtures import _servers, github

__all__ = ["_servers", "github"]

pytestmark = pytest.mark.e2e


def _git(project: Path, *args: str) -> str:
    return proc.run([*GIT, *args], cwd=project).stdout


def _remote_tags(project: Path) -> set[str]:
    out = _git(project, "ls-remote", "--tags", "origin")
    return {line.split("refs/tags/")[1] for line in out.splitlines() if "^{}" not in line}


def _env(**more: str) -> dict[str, str]:
    return {
        "MLGATE_BIN": installed_mlgate(),
        "NO_COLOR": "1",
        # The session's wheel cache (the harness passes no MLGATE_* variable of the tests').
        "MLGATE_CACHE_DIR": os.environ["MLGATE_CACHE_DIR"],
        **more,
    }


def _login(registry: infra.Registry, password: str | None = None) -> dict[str, str]:
    return {
        "login-registry": registry.host,
        "username": registry.username,
        "password": registry.password if password is None else password,
    }


def _result(run: ActionRun, step: str) -> dict:
    return json.loads(run.outputs.get("result") or run.step_outputs[step]["result"])


def _no_credentials_left(run: ActionRun, temp: Path, registry: infra.Registry) -> None:
    """The password was masked, never shown, and no docker configuration keeps it."""
    log = run.stdout + run.stderr
    assert f"::add-mask::{registry.password}" in log
    assert registry.password not in log.replace(f"::add-mask::{registry.password}", "")
    assert not list(temp.glob("mlgate-docker-*"))  # the step's private DOCKER_CONFIG is gone
    own = Path(os.environ["HOME"]) / ".docker" / "config.json"
    assert not own.exists() or registry.host not in own.read_text()


def _stage_digest(registry: infra.Registry, reference: str) -> str:
    engine = docker.from_env()
    try:
        auth = {"username": registry.username, "password": registry.password}
        image = engine.images.pull(reference, auth_config=auth)
        repository = reference.rsplit(":", 1)[0]
        (digest,) = [d.split("@", 1)[1] for d in image.attrs["RepoDigests"]
                     if d.startswith(repository + "@")]  # fmt: skip
        return digest
    finally:
        engine.close()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """The starter, trained and committed, pushed to a bare ``origin``."""
    return make_project_with_remote(tmp_path)


def test_check_release_and_promote_actions(
    project: Path,
    tmp_path: Path,
    base_image: str,
    registry: infra.Registry,
    github: FakeGitHub,
) -> None:
    env = _env(GITHUB_API_URL=github.api_url, GITHUB_REPOSITORY=f"{OWNER}/{REPO}")
    repository = f"{registry.host}/your-org/churn"
    # What mlgate-release.yml does first: the checks, whose verdicts the release records.
    checked = run_action(
        "check",
        workspace=project,
        temp=tmp_path / "check",
        inputs={"post": "false", "stages": "scan validate report"},
        env=env,
    )
    assert checked.exit_code == 0, checked.stdout[-3000:] + checked.stderr[-3000:]

    temp = tmp_path / "release"
    released = run_action(
        "release",
        workspace=project,
        temp=temp,
        inputs={
            "registry": registry.host,
            "base-image": base_image,
            "token": github.token,
            **_login(registry),
        },
        env=env,
    )
    assert released.exit_code == 0, released.stdout[-3000:] + released.stderr[-3000:]
    result = _result(released, "release")
    assert result["tag"] == "churn@v0.0.1"
    assert result["version"] == "v0.0.1"
    digest = result["image"]["digest"]
    assert result["image"]["image_digest_ref"] == f"{repository}@{digest}"
    assert result["registration"]["pushed"] is True
    assert "churn@v0.0.1" in _remote_tags(project)
    message = _git(project, "tag", "--list", "--format=%(contents)", "churn@v0.0.1")
    payload = json.loads(message[message.index("{") :])
    assert payload["image"] == {"reference": f"{repository}:v0.0.1", "digest": digest}
    assert {"validation", "governance"} <= set(payload["verdicts"])
    (release,) = github.releases
    assert release["tag_name"] == "churn@v0.0.1"
    assets = {a["name"] for a in github.assets[release["id"]]}
    assert {"payload.json", "model_card.yaml", "verdict-governance.json"} <= assets
    assert "### mlgate release: done" in released.summary
    _no_credentials_left(released, temp, registry)

    infra.remove_images(registry.host)  # promote pulls the registered image by digest
    temp = tmp_path / "promote"
    promoted = run_action(
        "promote",
        workspace=project,
        temp=temp,
        inputs={
            "model": "churn",
            "version": "v0.0.1",
            "stage": "staging",
            "registry": registry.host,
            **_login(registry),
        },
        env=env,
    )
    assert promoted.exit_code == 0, promoted.stdout[-3000:] + promoted.stderr[-3000:]
    staged = _result(promoted, "promote")
    assert staged["stage_image"] == f"{repository}:staging"
    assert staged["image"] == f"{repository}@{digest}"
    assert staged["registration"]["tag"] == "churn#staging#1"
    assert "churn#staging#1" in _remote_tags(project)
    assert _stage_digest(registry, f"{repository}:staging") == digest
    _no_credentials_left(promoted, temp, registry)

    refused = run_action(
        "promote",
        workspace=project,
        temp=tmp_path / "refused",
        inputs={"model": "churn", "version": "v0.0.1", "stage": "qa", **_login(registry)},
        env=env,
    )
    assert refused.exit_code == 2
    (error,) = refused.commands("error")
    assert error.startswith("::error file=mlgate.yaml,line=")
    assert "stage 'qa' is not allowed" in error
    assert not any(t.startswith("churn#qa") for t in _remote_tags(project))


def test_release_action_with_a_wrong_password_stops_at_the_login(
    project: Path, tmp_path: Path, base_image: str, registry: infra.Registry
) -> None:
    temp = tmp_path / "runner"
    run = run_action(
        "release",
        workspace=project,
        temp=temp,
        inputs={
            "registry": registry.host,
            "base-image": base_image,
            "github-release": "false",
            **_login(registry, password="not-the-password"),
        },
        env=_env(),
    )
    assert run.exit_code != 0
    assert run.failed_step == "mlgate release"
    assert "unauthorized" in (run.stdout + run.stderr).lower()
    assert _remote_tags(project) == set()
    assert _git(project, "tag", "--list") == ""
    assert not list(temp.glob("mlgate-docker-*"))


def test_publish_action_builds_smoke_tests_and_pushes(
    project: Path, tmp_path: Path, base_image: str, registry: infra.Registry
) -> None:
    temp = tmp_path / "runner"
    run = run_action(
        "publish",
        workspace=project,
        temp=temp,
        inputs={
            "push": "true",
            "registry": registry.host,
            "base-image": base_image,
            **_login(registry),
        },
        env=_env(),
    )
    assert run.exit_code == 0, run.stdout[-3000:] + run.stderr[-3000:]
    result = _result(run, "publish")
    assert result["pushed"] is True
    assert result["smoke"]["passed"] is True
    assert result["image_digest_ref"] == f"{registry.host}/your-org/churn@{result['digest']}"
    assert "your-org/churn" in registry.catalog()
    record = json.loads((project / ".mlgate/out/churn/publish.json").read_text())
    assert record["digest"] == result["digest"]
    assert "### mlgate publish: done" in run.summary
    _no_credentials_left(run, temp, registry)
