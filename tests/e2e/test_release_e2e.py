"""Release, promote, rollback and deploy render against a real registry and a git remote."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import docker
import pytest

from mlgate import proc
from tests.conftest import invoke
from tests.e2e import infra
from tests.e2e.conftest import GIT, make_project_with_remote

pytestmark = pytest.mark.e2e
pytest.importorskip("mlgate.registry", reason="the registry (issue #5) is not merged yet")


def git(project: Path, *args: str) -> str:
    return proc.run([*GIT, *args], cwd=project).stdout


def tags(project: Path, where: str = "local") -> set[str]:
    if where == "local":
        return set(git(project, "tag", "--list").split())
    out = git(project, "ls-remote", "--tags", "origin")
    return {line.split("refs/tags/")[1] for line in out.splitlines() if "^{}" not in line}


def payload(project: Path, tag: str) -> dict:
    message = git(project, "tag", "--list", "--format=%(contents)", tag)
    return json.loads(message[message.index("{") :])


def change_model(project: Path, c_value: str) -> None:
    model_dir = project / "models" / "churn"
    params = model_dir / "params.yaml"
    params.write_text(re.sub(r"^C: [\d.]+", f"C: {c_value}", params.read_text(), flags=re.M))
    proc.run([sys.executable, "train.py"], cwd=model_dir)
    git(project, "commit", "-qam", f"model: C={c_value}")


def stage_digest(registry: infra.Registry, repository: str, stage: str) -> str:
    engine = docker.from_env()
    try:
        auth = {"username": registry.username, "password": registry.password}
        image = engine.images.pull(f"{repository}:{stage}", auth_config=auth)
        digests = [d.split("@", 1)[1] for d in image.attrs["RepoDigests"]
                   if d.startswith(repository + "@")]  # fmt: skip
        return digests[0]
    finally:
        engine.close()


@pytest.fixture
def released_project(tmp_path: Path) -> Path:
    return make_project_with_remote(tmp_path)


def test_release_promote_rollback_and_deploy(
    released_project: Path, base_image: str, credentials: infra.Registry
) -> None:
    project = released_project
    repository = f"{credentials.host}/your-org/churn"
    common = ["--registry", credentials.host]

    first = invoke("release", "--base-image", base_image, *common, "--json", cwd=project)
    assert first.exit_code == 0, first.output
    v1 = json.loads(first.stdout)
    assert v1["tag"] == "churn@v0.0.1"
    assert {"churn@v0.0.1"} <= tags(project) & tags(project, "remote")
    recorded = payload(project, "churn@v0.0.1")["image"]
    assert recorded["digest"] == v1["image"]["digest"]
    assert recorded["reference"] == f"{repository}:v0.0.1"

    change_model(project, "0.3")
    second = invoke("release", "--base-image", base_image, *common, "--json", cwd=project)
    assert second.exit_code == 0, second.output
    v2 = json.loads(second.stdout)
    assert v2["tag"] == "churn@v0.0.2"
    assert v2["image"]["digest"] != v1["image"]["digest"]

    infra.remove_images(credentials.host)  # promote must pull the registered image by digest
    for version in ("v0.0.1", "v0.0.2"):
        out = invoke("promote", "churn", version, "staging", *common, cwd=project)
        assert out.exit_code == 0, out.output
    assert stage_digest(credentials, repository, "staging") == v2["image"]["digest"]
    staged = invoke("deploy", "render", "churn", "staging", "--json", cwd=project)
    assert json.loads(staged.stdout)["image"] == f"{repository}@{v2['image']['digest']}"

    back = invoke("rollback", "churn", "staging", *common, "--json", cwd=project)
    assert back.exit_code == 0, back.output
    assert json.loads(back.stdout)["version"] == "v0.0.1"
    assert stage_digest(credentials, repository, "staging") == v1["image"]["digest"]
    rendered = invoke("deploy", "render", "churn", "staging", "--json", cwd=project)
    assert json.loads(rendered.stdout)["image"] == f"{repository}@{v1['image']['digest']}"

    unpromoted = invoke("deploy", "render", "churn", "prod", cwd=project)
    assert unpromoted.exit_code == 2, unpromoted.output
    assert "mlgate promote churn VERSION prod" in unpromoted.stderr

    refused = invoke("promote", "churn", "v0.0.2", "qa", *common, cwd=project)
    assert refused.exit_code == 2, refused.output  # the policy allows staging and prod only
    assert not any(t.startswith("churn#qa") for t in tags(project, "remote"))
    assert "qa" not in refused.stdout


def test_release_with_wrong_credentials_creates_no_tag(
    released_project: Path,
    base_image: str,
    registry: infra.Registry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MLGATE_REGISTRY_USERNAME", registry.username)
    monkeypatch.setenv("MLGATE_REGISTRY_PASSWORD", "not-the-password")
    out = invoke("release", "--base-image", base_image, "--registry", registry.host,
                 cwd=released_project)  # fmt: skip
    assert out.exit_code == 3, out.output
    assert "refused the push" in out.stderr
    assert tags(released_project) == set()
    assert tags(released_project, "remote") == set()


def test_release_with_the_registry_down_retries_then_exits_3_and_creates_no_tag(
    released_project: Path, base_image: str, credentials: infra.Registry
) -> None:
    closed = f"127.0.0.1:{infra.free_port()}"
    out = invoke("release", "--base-image", base_image, "--registry", closed,
                 cwd=released_project)  # fmt: skip
    assert out.exit_code == 3, out.output
    assert "gave up after 3 attempts" in out.stderr
    assert tags(released_project) == set()
