"""Where mlgate's answers were settled against GTO's (docs/guides/registry.md lists them)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from mlgate import proc
from tests.integration.registry_support import commit, git, mlgate, mlgate_json, new_repo

GTO_VENV = os.environ.get("GTO_VENV")
needs_gto = pytest.mark.skipif(not GTO_VENV, reason="GTO_VENV is not set (nox -s tests sets it)")


def gto_json(repo: Path, *args: str) -> object:
    result = proc.run([Path(str(GTO_VENV), "bin", "gto"), *args, "--json"], cwd=repo)
    return json.loads(result.stdout)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return new_repo(tmp_path / "repo")


def test_a_deprecated_model_has_no_latest_version(repo: Path) -> None:
    mlgate(repo, "registry", "register", "churn")
    mlgate(repo, "registry", "assign", "churn", "v0.0.1", "prod")
    assert mlgate_json(repo, "registry", "resolve", "churn@latest")["version"] == "v0.0.1"
    mlgate(repo, "registry", "deprecate", "churn")
    out = mlgate(repo, "registry", "resolve", "churn@latest", expect=1)
    assert "deprecated" in out.stderr
    answer = mlgate_json(repo, "registry", "resolve", "churn@latest", expect=1)
    assert (answer["version"], answer["commit"], answer["tag"]) == (None, None, None)
    # The stage still names what was deployed (for audit and rollback).
    assert mlgate_json(repo, "registry", "resolve", "churn#prod")["version"] == "v0.0.1"
    if GTO_VENV:
        assert gto_json(repo, "show", "churn@latest") == []


def test_a_stage_nobody_holds_answers_null_in_json(repo: Path) -> None:
    mlgate(repo, "registry", "register", "churn")
    mlgate(repo, "registry", "resolve", "churn#prod", expect=1)
    answer = mlgate_json(repo, "registry", "resolve", "churn#prod", expect=1)
    assert answer["ref"] == "churn#prod"
    assert answer["stage"] == "prod"
    assert (answer["version"], answer["commit"], answer["tag"]) == (None, None, None)


def test_a_stage_on_an_unregistered_commit_answers_with_the_stage_tag(repo: Path) -> None:
    sha = git(repo, "rev-parse", "HEAD")
    git(repo, "tag", "-a", "-m", "assign by hand", "churn#prod#1", sha)  # GTO allows this
    answer = mlgate_json(repo, "registry", "resolve", "churn#prod", "--no-model-file")
    assert answer["tag"] == "churn#prod#1"
    assert answer["stage_tag"] == "churn#prod#1"
    assert answer["version"] == sha  # GTO names such a version by its commit
    assert answer["commit"] == sha


def test_events_of_the_same_second_keep_one_order(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tags stamped in the same second: GTO's priority (registration before assignment), then
    the counter or the version, never the order git happens to list them in."""
    monkeypatch.setenv("GIT_COMMITTER_DATE", "1767225600 +0000")
    first = git(repo, "rev-parse", "HEAD")
    second = commit(repo, "two")
    # Hand-made tags, all in one second, created in an order that differs from the answer.
    for tag, sha in [
        ("churn#prod#2", second),
        ("churn#staging#1", second),
        ("churn@v0.0.2", second),
        ("churn@v0.0.1", first),
        ("fraud@v1.0.0", first),
    ]:
        git(repo, "tag", "-a", "-m", tag, tag, sha)
    want = ["churn@v0.0.1", "churn@v0.0.2", "churn#staging#1", "churn#prod#2"]
    events = mlgate_json(repo, "registry", "history", "churn")["events"]
    assert [e["tag"] for e in events] == want
    every = mlgate_json(repo, "registry", "history")["events"]
    assert [e["tag"] for e in every] == [*want[:2], "fraud@v1.0.0", *want[2:]]
    if GTO_VENV:
        # GTO agrees on the priority; among equals its order follows its own listing, which
        # is why mlgate's tie-break (counter, then semver) is a documented difference.
        theirs = [e["ref"] for e in reversed(gto_json(repo, "history", "churn"))]  # type: ignore[call-overload]
        assert set(theirs[:2]) == set(want[:2])
        assert set(theirs[2:]) == set(want[2:])
