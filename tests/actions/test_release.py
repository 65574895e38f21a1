"""The release workflow `mlgate init` writes, under act, publishing to a registry on loopback
with htpasswd (registry and credentials set as workflow inputs, as a user of another registry
sets them): a push to main builds, smoke-tests and pushes the image, registers the version in a
tag carrying the digest, assigns staging and makes the GitHub Release; `workflow_dispatch`
promotes the version to prod, retagging the image by digest."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.actions.act import Act
from tests.actions.conftest import TOKEN, git, make_user_repo, retrain
from tests.e2e import infra
from tests.github.fake import OWNER, REPO, FakeGitHub

WORKFLOW = ".github/workflows/mlgate-release.yml"


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[infra.Registry]:
    engine = infra.ensure_engine(tmp_path_factory.getbasetemp())
    try:
        infra.ensure_base_image()
        running = infra.Registry.start(tmp_path_factory.mktemp("registry"))
        try:
            yield running
        finally:
            running.stop()
            infra.remove_images(running.host)
    finally:
        if engine is not None:
            infra.stop_engine(engine)


@pytest.fixture(scope="module")
def merged(
    tmp_path_factory: pytest.TempPathFactory, registry: infra.Registry, starter: Path
) -> dict[str, Any]:
    """A user repository whose release workflow names the loopback registry, and a merge to
    main that retrains the model."""
    folder = tmp_path_factory.mktemp("release")
    repo = make_user_repo(folder, starter)
    caller = repo / WORKFLOW
    text = caller.read_text()
    # What the template's comments tell a user of another registry to write.
    for old, new in (
        ("      # registry: registry.example.com:5000",
         f"      registry: {registry.host}\n      base-image: {infra.BASE_IMAGE}"),
        ("      # registry-username: ci-bot", f"      registry-username: {registry.username}"),
        ("    # secrets:", "    secrets:"),
        ("    #   registry-password:", "      registry-password:"),
    ):  # fmt: skip
        assert old in text, text
        text = text.replace(old, new)
    caller.write_text(text)
    git(repo, "commit", "-qam", "Release to our own registry")
    before = git(repo, "rev-parse", "HEAD")
    git(repo, "push", "-q", "origin", "main")
    after = retrain(repo, "C: 1.0 ", "C: 0.7 ", "Merge pull request #7: tune the churn model")
    git(repo, "push", "-q", "origin", "main")
    return {"repo": repo, "before": before, "after": after, "state": {}}


def _remote_tags(repo: Path) -> dict[str, str]:
    out = git(repo, "ls-remote", "--tags", "origin")
    return {
        line.split("refs/tags/")[1].removesuffix("^{}"): line.split()[0]
        for line in out.splitlines()
    }


def _payload(repo: Path, tag: str) -> dict[str, Any]:
    git(repo, "fetch", "-q", "origin", "--tags", "--force")
    message = git(repo, "tag", "-l", "--format=%(contents)", tag)
    return json.loads(message[message.index("{"):])  # fmt: skip


def test_push_to_main_releases_to_the_registry(
    act: Act, github: FakeGitHub, merged: dict[str, Any], registry: infra.Registry,
    offline_pip: dict[str, str],
) -> None:  # fmt: skip
    repo = merged["repo"]
    event = {
        "ref": "refs/heads/main",
        "before": merged["before"],
        "after": merged["after"],
        "repository": {"full_name": f"{OWNER}/{REPO}", "default_branch": "main"},
        "head_commit": {"id": merged["after"], "message": "Merge pull request #7"},
        "pusher": {"name": "octocat"},
        "sender": {"login": "octocat"},
    }
    run = act.run(
        repo, "push", event, WORKFLOW, label="release (push to main)",
        secrets={"GITHUB_TOKEN": TOKEN, "REGISTRY_PASSWORD": registry.password},
        env={"GITHUB_API_URL": github.api_url, **offline_pip},
    )  # fmt: skip
    assert run.exit_code == 0, run.describe()
    plan, release = run.job("Plan"), run.job("Release churn")
    assert run.jobs[plan] == run.jobs[release] == "success", run.describe()
    results = [json.loads(v) for v in run.output_values(release, "result") if v != "null"]
    released = next(r for r in results if "registration" in r)
    version, digest = released["version"], released["image"]["digest"]
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", digest)
    tags = _remote_tags(repo)
    assert f"churn@{version}" in tags
    assert any(t.startswith("churn#staging#") for t in tags), tags
    payload = _payload(repo, f"churn@{version}")
    assert payload["image"]["digest"] == digest
    assert registry.manifest_digest("your-org/churn", version) == digest
    assert registry.manifest_digest("your-org/churn", "staging") == digest
    (gh_release,) = [r for r in github.releases if r["tag_name"] == f"churn@{version}"]
    assets = {a["name"] for a in github.assets.get(gh_release["id"], [])}
    assert any(name.endswith(".json") for name in assets), assets
    assert "### mlgate release: done" in run.summaries[release]
    assert registry.password not in run.log().replace(f"::add-mask::{registry.password}", "")
    merged["state"].update(version=version, digest=digest)


def test_workflow_dispatch_promotes_by_digest(
    act: Act, github: FakeGitHub, merged: dict[str, Any], registry: infra.Registry,
    offline_pip: dict[str, str],
) -> None:  # fmt: skip
    state = merged["state"]
    assert state, "the release test runs first"
    repo = merged["repo"]
    # actions/checkout (fetch-depth 0) brings the registry tags on GitHub; act copies the
    # working tree instead, so the tags the release pushed are fetched here.
    git(repo, "fetch", "-q", "origin", "--tags")
    event = {
        "ref": "refs/heads/main",
        "inputs": {"model": "churn", "version": state["version"], "stage": "prod"},
        "repository": {"full_name": f"{OWNER}/{REPO}", "default_branch": "main"},
        "sender": {"login": "octocat"},
    }
    run = act.run(
        repo, "workflow_dispatch", event, WORKFLOW, label="promote (workflow_dispatch)",
        secrets={"GITHUB_TOKEN": TOKEN, "REGISTRY_PASSWORD": registry.password},
        env={"GITHUB_API_URL": github.api_url, **offline_pip},
    )  # fmt: skip
    assert run.exit_code == 0, run.describe()
    promote = run.job("Promote churn")
    assert run.jobs[promote] == "success", run.describe()
    assert not any("Release churn" in job for job in run.jobs)  # the release jobs were skipped
    result = json.loads(run.output_values(promote, "result")[-1])
    assert result["image"].endswith("@" + state["digest"])
    assert any(t.startswith("churn#prod#") for t in _remote_tags(repo))
    assert registry.manifest_digest("your-org/churn", "prod") == state["digest"]
