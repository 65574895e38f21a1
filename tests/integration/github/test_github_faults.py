"""Fault injection against the fake GitHub, through whole commands: 502s, lost answers and
secondary rate limits while posting the sticky comment and creating a Release. Each command
either recovers (waiting as GitHub asks, on a fake clock) or stops with exit 3 saying what
failed; a rerun converges on exactly one comment and one Release, never duplicates."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlgate.github.client import GitHubClient, RetryPolicy
from tests.actions_harness import pull_request_event
from tests.conftest import invoke
from tests.github.fake import OWNER, REPO, FakeGitHub
from tests.integration.github.conftest import Clock
from tests.integration.registry_support import (
    bare_remote,
    clone,
    commit,
    git,
    mlgate,
    remote_tags,
    write_config,
)

SCAN = ("--stage", "scan", "--stage", "comment")
COMMENTS = r"/issues/12/comments$"
MARKER = "<!-- mlgate-report:churn -->"


@pytest.fixture(autouse=True)
def fake_clock(monkeypatch: pytest.MonkeyPatch, clock: Clock) -> Clock:
    """Commands build their own client: give it the fake clock, so waits cost nothing."""
    real = GitHubClient.from_env.__func__  # type: ignore[attr-defined]

    def from_env(cls: type[GitHubClient], /, environ: object = None, **kwargs: object) -> object:
        policy = RetryPolicy(sleep=clock.sleep, clock=clock.time, jitter=lambda: 1.0)
        return real(cls, environ, retry=policy)

    monkeypatch.setattr(GitHubClient, "from_env", classmethod(from_env))
    return clock


@pytest.fixture
def pr(starter: Path, github: FakeGitHub, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for key, value in github.env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("GITHUB_EVENT_NAME", "pull_request")
    event = tmp_path / "event.json"
    event.write_text(json.dumps(pull_request_event(repository=f"{OWNER}/{REPO}", number=12)))
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(event))
    return starter


def ours(github: FakeGitHub) -> list[dict[str, object]]:
    return [c for c in github.comments.get(12, []) if MARKER in str(c["body"])]


def fail(github: FakeGitHub, method: str, path: str, status: int, **kwargs: object) -> None:
    github.fail(method, path, status, **kwargs)  # type: ignore[arg-type]


def test_502_twice_then_the_comment_is_posted(pr: Path, github: FakeGitHub, clock: Clock) -> None:
    fail(github, "GET", COMMENTS, 502, times=2)
    result = invoke("check", "--post", *SCAN, cwd=pr)
    assert result.exit_code == 0, result.output
    assert len(ours(github)) == 1
    assert clock.sleeps == [1.0, 2.0]  # exponential backoff, on the fake clock


def test_secondary_rate_limit_is_waited_out(pr: Path, github: FakeGitHub, clock: Clock) -> None:
    body = {"message": "You have exceeded a secondary rate limit. Please wait a few minutes."}
    fail(github, "GET", COMMENTS, 403, headers={"Retry-After": "45"}, body=body)
    fail(github, "POST", COMMENTS, 429, headers={"Retry-After": "5"})
    result = invoke("check", "--post", *SCAN, cwd=pr)
    assert result.exit_code == 0, result.output
    assert len(ours(github)) == 1
    assert clock.sleeps == [45.0, 5.0]


def test_a_lost_answer_never_duplicates_the_comment(pr: Path, github: FakeGitHub) -> None:
    """GitHub creates the comment but the answer is a 502: the POST is not repeated blindly;
    the command looks again, finds the comment it made, and says so."""
    fail(github, "POST", COMMENTS, 502, after=True)
    first = invoke("check", "--post", *SCAN, cwd=pr)
    assert first.exit_code == 0, first.output
    assert "pull-request comment" in first.output
    assert len(ours(github)) == 1
    assert len(github.calls("POST", COMMENTS)) == 1
    second = invoke("check", "--post", *SCAN, cwd=pr)
    assert second.exit_code == 0, second.output
    assert len(ours(github)) == 1
    assert len(github.calls("POST", COMMENTS)) == 1


def test_github_down_for_good_is_reported_and_leaves_no_comment(
    pr: Path, github: FakeGitHub
) -> None:
    fail(github, "GET", COMMENTS, 502, times=50)
    result = invoke("check", "--post", *SCAN, cwd=pr)
    # The comment is a copy of the evidence: GitHub down is a warning, never the result.
    assert result.exit_code == 0, result.output
    assert "comment:not-posted" in result.output
    assert "502" in result.output
    assert "internal error" not in result.output
    assert ours(github) == []


@pytest.fixture
def registry_project(tmp_path: Path, github: FakeGitHub, monkeypatch: pytest.MonkeyPatch) -> Path:
    for key, value in github.env.items():
        monkeypatch.setenv(key, value)
    origin = bare_remote(tmp_path / "origin.git")
    repo = clone(origin, tmp_path / "repo")
    commit(repo, "first")
    write_config(repo)
    git(repo, "push", "--quiet", "origin", "main")
    return repo


def test_release_survives_502s_and_a_lost_answer(
    registry_project: Path, github: FakeGitHub
) -> None:
    fail(github, "GET", r"/releases/tags/", 502, times=2)
    fail(github, "POST", r"/releases$", 502, after=True)  # created, but the answer is lost
    result = mlgate(registry_project, "registry", "register", "churn", "--push", "--release")
    assert "GitHub Release:" in result.stdout
    assert "churn@v0.0.1" in remote_tags(registry_project)
    assert [r["tag_name"] for r in github.releases] == ["churn@v0.0.1"]
    assert len(github.calls("POST", r"/releases$")) == 1  # found again, not created twice
    mlgate(registry_project, "registry", "release", "churn", "v0.0.1")  # idempotent
    assert [r["tag_name"] for r in github.releases] == ["churn@v0.0.1"]


def test_release_that_keeps_failing_leaves_the_registration_and_says_how_to_finish(
    registry_project: Path, github: FakeGitHub
) -> None:
    fail(github, "POST", r"/releases$", 502, times=50)
    result = mlgate(registry_project, "registry", "register", "churn", "--push", "--release",
                    expect=3)  # fmt: skip
    assert "mlgate registry release churn v0.0.1" in result.stderr
    assert "internal error" not in result.stderr
    assert "churn@v0.0.1" in remote_tags(registry_project)  # the registry is the record
    assert github.releases == []
    github.faults.clear()
    mlgate(registry_project, "registry", "release", "churn", "v0.0.1")
    assert [r["tag_name"] for r in github.releases] == ["churn@v0.0.1"]
