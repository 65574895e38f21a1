"""A champion whose model file is kept out of git: read back from its GitHub Release asset.

The starter project is trained once; each test copies it into a git repository that ignores the
model file, registers and promotes it, and runs ``mlgate validate --champion prod`` against the
fake GitHub (API, uploads and a separate storage host for downloads).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
from pathlib import Path

import pytest

from mlgate import proc
from tests.github.fake import FakeGitHub
from tests.integration.registry_support import bare_remote, git, mlgate, mlgate_json

MODEL = "models/churn/artifacts/model.skops"
TAG = "churn@v0.0.1"
ASSET_GET = r"/releases/assets/\d+$"


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from mlgate.starter import InitRequest, init_project

    project = tmp_path_factory.mktemp("trained") / "starter"
    init_project(InitRequest(project))
    proc.run([sys.executable, "train.py"], cwd=project / "models" / "churn")
    return project


@pytest.fixture
def project(
    trained: Path, tmp_path: Path, github: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """The trained starter in git, its model file ignored (never committed), with a remote."""
    for key, value in github.env.items():
        monkeypatch.setenv(key, value)
    repo = tmp_path / "repo"
    shutil.copytree(trained, repo)
    with (repo / ".gitignore").open("a") as fh:
        fh.write(f"{MODEL}\n")
    origin = bare_remote(tmp_path / "origin.git")
    git(repo, "init", "--quiet", "--initial-branch=main")
    git(repo, "remote", "add", "origin", str(origin))
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "-m", "starter, model kept out of git")
    git(repo, "push", "--quiet", "origin", "main")
    assert git(repo, "ls-files", MODEL) == ""
    return repo


def promote(repo: Path) -> None:
    mlgate(repo, "registry", "assign", "churn", "v0.0.1", "staging", "--push")
    mlgate(repo, "registry", "assign", "churn", "v0.0.1", "prod", "--push")


def validate(repo: Path, expect: int) -> tuple[dict[str, object] | None, str]:
    shutil.rmtree(repo / ".mlgate" / "cache", ignore_errors=True)
    result = mlgate(repo, "validate", "--champion", "prod", "--json", expect=expect)
    return (json.loads(result.stdout) if expect in (0, 1) else None), result.stderr


def champion_context(repo: Path) -> dict[str, object]:
    verdict = json.loads((repo / ".mlgate/out/churn/validation.json").read_text())
    champion: dict[str, object] = verdict["context"]["champion"]
    return champion


def test_register_release_then_validate_reads_the_champion_from_the_asset(
    project: Path, github: FakeGitHub
) -> None:
    model_bytes = (project / MODEL).read_bytes()
    out = mlgate_json(project, "registry", "register", "churn", "--push", "--release")
    recorded = out["payload"]["model_file"]
    assert recorded["path"] == MODEL
    assert recorded["sha256"] == hashlib.sha256(model_bytes).hexdigest()
    assert any("not in commit" in note and "working tree" in note for note in out["notes"])
    assert "model.skops" in out["release"]["assets"]
    promote(project)

    validate(project, expect=0)
    champion = champion_context(project)
    assert champion["version"] == "v0.0.1"
    assert champion["origin"] == f"asset model.skops of the GitHub Release {TAG}"
    cached = Path(str(champion["path"]))
    assert cached.read_bytes() == model_bytes
    assert cached.is_relative_to(project / ".mlgate/cache/champions/churn/v0.0.1")
    # The token went to the API only; the storage host was reached without it.
    (download,) = github.calls("GET", ASSET_GET)
    assert download.status == 302
    (stored,) = [s for s in github.seen if s.host == "storage"]
    assert stored.status == 200
    assert "Authorization" not in stored.headers

    resolved = mlgate_json(project, "registry", "resolve", "churn#prod")
    assert resolved["model_file_origin"] == champion["origin"]
    assert len(github.calls("GET", ASSET_GET)) == 1  # the cached file was verified and reused


def test_a_hand_made_release_without_a_recorded_digest(
    project: Path, github: FakeGitHub, tmp_path: Path
) -> None:
    # Registered from a checkout without the model file: the payload records no digest.
    moved = tmp_path / "model.skops"
    shutil.move(project / MODEL, moved)
    out = mlgate_json(project, "registry", "register", "churn", "--push")
    assert "model_file" not in out["payload"]
    shutil.move(moved, project / MODEL)
    github.add_release(TAG, {"model.skops": (project / MODEL).read_bytes()})
    promote(project)
    validate(project, expect=0)
    assert str(champion_context(project)["origin"]).startswith("asset model.skops")


def test_an_asset_that_is_not_the_registered_file_is_refused(
    project: Path, github: FakeGitHub
) -> None:
    mlgate(project, "registry", "register", "churn", "--push")  # records the sha256
    github.add_release(TAG, {"model.skops": b"a different model file"})
    promote(project)
    _, stderr = validate(project, expect=3)
    assert f"release asset model.skops of {TAG} has sha256" in stderr
    assert "was replaced after churn@v0.0.1 was registered" in stderr
    assert not (project / ".mlgate/cache/champions/churn/v0.0.1/model.skops").exists()
    assert not github.calls("GET", ASSET_GET)  # GitHub's digest already told


def test_a_release_without_the_asset_is_a_clear_usage_error(
    project: Path, github: FakeGitHub
) -> None:
    mlgate(project, "registry", "register", "churn", "--push")
    github.add_release(TAG, {"payload.json": b"{}"})
    promote(project)
    _, stderr = validate(project, expect=2)
    assert f"{MODEL} is not in its commit" in stderr
    assert f"the GitHub Release {TAG} of acme/models has no asset model.skops" in stderr
    assert "its assets: payload.json" in stderr
    assert "mlgate registry release" in stderr


def test_an_asset_gone_at_download_time_is_an_external_error(
    project: Path, github: FakeGitHub
) -> None:
    mlgate(project, "registry", "register", "churn", "--push", "--release")
    promote(project)
    github.fail("GET", ASSET_GET, 404, body={"message": "Not Found"})
    _, stderr = validate(project, expect=3)
    assert f"download release asset model.skops of {TAG} failed with 404" in stderr
    assert github.token not in stderr


def test_without_a_token_the_error_names_the_release_fallback(
    project: Path, github: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    mlgate(project, "registry", "register", "churn", "--push", "--release")
    promote(project)
    monkeypatch.delenv("GITHUB_TOKEN")
    _, stderr = validate(project, expect=2)
    assert f"{MODEL} is not in its commit" in stderr
    # A private repository answers an anonymous request with 404, as GitHub does.
    assert f"acme/models's GitHub Release {TAG} cannot be read without a token (404)" in stderr
    assert "GITHUB_TOKEN and GITHUB_REPOSITORY" in stderr
    assert not github.calls("GET", ASSET_GET)


def test_a_public_repository_s_release_is_read_without_a_token(
    project: Path, github: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    model_bytes = (project / MODEL).read_bytes()
    mlgate(project, "registry", "register", "churn", "--push", "--release")
    promote(project)
    monkeypatch.delenv("GITHUB_TOKEN")
    github.public = True
    before = len(github.seen)
    validate(project, expect=0)
    champion = champion_context(project)
    assert champion["origin"] == f"asset model.skops of the GitHub Release {TAG}"
    assert Path(str(champion["path"])).read_bytes() == model_bytes
    anonymous = github.seen[before:]
    assert {s.host for s in anonymous} == {"api", "storage"}
    assert not [s for s in anonymous if "Authorization" in s.headers]


def test_a_public_repository_without_the_release_says_a_token_may_be_needed(
    project: Path, github: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    mlgate(project, "registry", "register", "churn", "--push")  # no GitHub Release
    promote(project)
    monkeypatch.delenv("GITHUB_TOKEN")
    github.public = True
    _, stderr = validate(project, expect=2)
    assert f"acme/models has no GitHub Release for tag {TAG}" in stderr
    assert "a private repository's releases need GITHUB_TOKEN" in stderr
