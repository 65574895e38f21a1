"""``mlgate check --post``: one sticky comment per model on the fake GitHub; forks never post."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mlgate.verdict import read_verdict
from tests.actions_harness import pull_request_event
from tests.conftest import invoke
from tests.github.fake import OWNER, REPO, FakeGitHub

# The stages under test: a quick one, then the comment (training has its own tests).
SCAN = ("--stage", "scan", "--stage", "comment")


@pytest.fixture
def pr_env(
    starter: Path, github: FakeGitHub, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> dict[str, object]:
    for key, value in github.env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("GITHUB_EVENT_NAME", "pull_request")
    monkeypatch.setenv("GITHUB_RUN_ID", "42")
    monkeypatch.setenv("GITHUB_SERVER_URL", "https://github.example")

    def event(**kwargs: Any) -> None:
        path = tmp_path / "event.json"
        path.write_text(
            json.dumps(pull_request_event(repository=f"{OWNER}/{REPO}", number=12, **kwargs))
        )
        monkeypatch.setenv("GITHUB_EVENT_PATH", str(path))

    return {"root": starter, "event": event}


def test_posts_one_sticky_comment_and_updates_it(pr_env: dict, github: FakeGitHub) -> None:
    pr_env["event"]()
    github.add_comment(12, "an unrelated review comment")
    first = invoke("check", "--post", *SCAN, cwd=pr_env["root"])
    assert first.exit_code == 0, first.output
    second = invoke("check", "--post", *SCAN, cwd=pr_env["root"])
    assert second.exit_code == 0, second.output
    ours = [c for c in github.comments[12] if "<!-- mlgate-report:churn -->" in c["body"]]
    assert len(ours) == 1
    body = ours[0]["body"]
    assert "## mlgate" in body
    assert "`churn` passed" in body
    assert "https://github.example/acme/models/actions/runs/42" in body
    assert len(github.calls("POST", r"/issues/12/comments$")) == 1
    verdict = read_verdict(pr_env["root"] / ".mlgate" / "out" / "churn" / "check.json")
    assert verdict.context["stages"] == ["scan", "comment"]


def test_fork_pull_request_skips_the_comment_with_a_notice(
    pr_env: dict, github: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    pr_env["event"](fork=True)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    result = invoke("check", "--post", *SCAN, cwd=pr_env["root"])
    assert result.exit_code == 0, result.output
    assert "::notice title=mlgate comment::pull request from a fork" in result.stdout
    assert github.seen == []
    verdict = read_verdict(pr_env["root"] / ".mlgate" / "out" / "churn" / "check.json")
    assert any("from a fork" in n for n in verdict.notes)


def test_token_without_write_permission_is_a_warning(pr_env: dict, github: FakeGitHub) -> None:
    pr_env["event"]()
    github.fail("POST", r"/issues/12/comments$", 403, body={"message": "Resource not accessible"})
    result = invoke("check", "--post", "--json", *SCAN, cwd=pr_env["root"])
    assert result.exit_code == 0, result.output
    verdict = read_verdict(pr_env["root"] / ".mlgate" / "out" / "churn" / "check.json")
    warning = next(c for c in verdict.checks if c.id == "comment:permission")
    assert warning.status.value == "warn"
    assert "pull-requests: write" in warning.message


@pytest.mark.parametrize("status", [422, 500])
def test_a_comment_github_refuses_is_a_warning_not_a_result(
    pr_env: dict, github: FakeGitHub, status: int
) -> None:
    pr_env["event"]()
    github.fail("POST", r"/issues/12/comments$", status, times=5, body={"message": "Nope"})
    result = invoke("check", "--post", *SCAN, cwd=pr_env["root"])
    assert result.exit_code == 0, result.output
    verdict = read_verdict(pr_env["root"] / ".mlgate" / "out" / "churn" / "check.json")
    warning = next(c for c in verdict.checks if c.id == "comment:not-posted")
    assert warning.status.value == "warn"
    assert warning.message.startswith("the pull-request comment was not posted: ")
    assert "\n" not in warning.message


def test_comment_carries_the_governance_report(pr_env: dict, github: FakeGitHub) -> None:
    pr_env["event"]()
    out = invoke("check", "--post", "--stage", "report", "--stage", "comment", cwd=pr_env["root"])
    assert out.exit_code == 0, out.output
    (ours,) = [c for c in github.comments[12] if "<!-- mlgate-report:churn -->" in c["body"]]
    body = ours["body"]
    assert body.index("## mlgate\n") < body.index("mlgate report: `churn`")
    assert "Compliance checklist" in body
    assert len(body) < 65_536
