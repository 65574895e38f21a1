"""Fault injection in ``mlgate release``: the image is built and pushed, then the git remote
refuses the registration tag (protected tags, a hook) or answers like a lost race. The image
step is replaced by a stand-in that "pushes" (no Docker here; the e2e tests push for real): what
is under test is the registry side of the release and what the command says."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mlgate.publish import core
from mlgate.publish import release as release_module
from mlgate.publish.core import PublishResult
from tests.conftest import invoke
from tests.integration.registry_support import bare_remote, git, remote_tags, tags

DIGEST = "sha256:" + "ab" * 32


@pytest.fixture
def project(starter: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    remote = bare_remote(tmp_path / "origin.git")
    git(starter, "init", "--quiet", "--initial-branch=main")
    git(starter, "add", "--all")
    git(starter, "commit", "--quiet", "-m", "starter")
    git(starter, "remote", "add", "origin", str(remote))
    git(starter, "push", "--quiet", "origin", "main")

    def publish_model(config: Any, model: Any, request: Any) -> PublishResult:
        image = f"registry.example/acme/churn:{request.version}"
        return PublishResult(model.name, image, request.version, {}, None,
                             digest_ref=f"registry.example/acme/churn@{DIGEST}")  # fmt: skip

    monkeypatch.setattr(release_module, "publish_model", publish_model)
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    return starter


def _protect_tags(remote: Path) -> None:
    hook = remote / "hooks" / "pre-receive"
    hook.write_text(
        "#!/bin/sh\nwhile read old new ref; do case $ref in refs/tags/*)"
        " echo 'tags are protected on this remote' >&2; exit 1;; esac; done\n"
    )
    hook.chmod(0o755)


def test_tag_push_refused_after_the_image_was_pushed(project: Path, tmp_path: Path) -> None:
    _protect_tags(tmp_path / "origin.git")
    result = invoke("release", cwd=project)
    assert result.exit_code == 3, result.output
    assert "refused the registry tag" in result.stderr
    assert "tags are protected on this remote" in result.stderr
    # What happened to the image is said too, and the registry did not move.
    assert DIGEST in result.stderr, result.stderr
    assert "not registered" in result.stderr, result.stderr
    assert tags(project) == set()
    assert remote_tags(project) == set()
    # Once the remote accepts tags, running the release again registers that version.
    (tmp_path / "origin.git" / "hooks" / "pre-receive").unlink()
    again = invoke("release", "--json", cwd=project)
    assert again.exit_code == 0, again.output
    assert remote_tags(project) == {"churn@v0.0.1"}


def test_another_release_takes_the_version_during_the_build(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A concurrent release registers v0.0.1 while ours builds: ours must not register its
    v0.0.1 image under another version, nor overwrite theirs."""
    other = tmp_path / "other"
    git(tmp_path, "clone", "--quiet", str(tmp_path / "origin.git"), str(other))
    real = core.publish_model

    def racing(config: Any, model: Any, request: Any) -> PublishResult:
        git(other, "tag", "-a", "-m", "theirs", "churn@v0.0.1")
        git(other, "push", "--quiet", "origin", "refs/tags/churn@v0.0.1")
        return real(config, model, request)

    monkeypatch.setattr(release_module, "publish_model", racing)
    result = invoke("release", cwd=project)
    assert result.exit_code in (2, 3), result.output
    assert "internal error" not in result.output
    assert "v0.0.1" in result.stderr
    assert "not registered" in result.stderr or "already" in result.stderr, result.stderr
    assert remote_tags(project) == {"churn@v0.0.1"}
    theirs = git(other, "rev-parse", "refs/tags/churn@v0.0.1")
    assert git(project, "ls-remote", "origin", "refs/tags/churn@v0.0.1").split()[0] == theirs
    assert tags(project) <= {"churn@v0.0.1"}


def test_a_failed_image_step_says_the_registry_did_not_move(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlgate.errors import ExternalError

    def failing(config: Any, model: Any, request: Any) -> PublishResult:
        raise ExternalError("push of registry.example/acme/churn failed: 503 (gave up)")

    monkeypatch.setattr(release_module, "publish_model", failing)
    result = invoke("release", cwd=project)
    assert result.exit_code == 3, result.output
    assert "churn v0.0.1 was not registered: the registry is unchanged" in result.stderr
    assert tags(project) == set()
    assert remote_tags(project) == set()
