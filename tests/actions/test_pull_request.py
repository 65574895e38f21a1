"""The pull-request workflow `mlgate init` writes, under act: a same-repository pull request
posts one sticky comment on the fake GitHub; a fork's runs every check and skips only the
comment; a title carrying `$(...)` never runs."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.actions.act import Act, ActRun
from tests.actions.conftest import TOKEN, git, make_user_repo, retrain
from tests.actions_harness import pull_request_event
from tests.github.fake import OWNER, REPO, FakeGitHub

WORKFLOW = ".github/workflows/mlgate-pr.yml"
MARKER = "<!-- mlgate-report:churn -->"


@pytest.fixture(scope="module")
def change(tmp_path_factory: pytest.TempPathFactory, starter: Path) -> dict[str, Any]:
    """A user repository with a branch that tunes the model (retrained, relocked)."""
    folder = tmp_path_factory.mktemp("pr")
    repo = make_user_repo(folder, starter)
    base = git(repo, "rev-parse", "HEAD")
    git(repo, "checkout", "-q", "-b", "tune-churn")
    head = retrain(repo, "C: 1.0 ", "C: 0.8 ", "Tune the churn model (C=0.8)")
    git(repo, "push", "-q", "origin", "tune-churn")
    return {"repo": repo, "base": base, "head": head, "folder": folder}


def _event(change: dict[str, Any], *, number: int, title: str, fork: bool) -> dict[str, Any]:
    event = pull_request_event(
        number=number,
        title=title,
        head_ref="tune-churn",
        head_sha=change["head"],
        base_sha=change["base"],
        fork=fork,
        repository=f"{OWNER}/{REPO}",
    )
    event["pull_request"]["body"] = title  # the body is as untrusted as the title
    return event


def _run(act: Act, github: FakeGitHub, change: dict[str, Any], event: dict, label: str,
         offline_pip: dict[str, str]) -> ActRun:  # fmt: skip
    return act.run(
        change["repo"],
        "pull_request",
        event,
        WORKFLOW,
        label=label,
        secrets={"GITHUB_TOKEN": TOKEN},
        env={"GITHUB_API_URL": github.api_url, **offline_pip},
    )


def _assert_checked(run: ActRun) -> str:
    """Plan, the model's check and the result job passed; returns the check job's name."""
    assert run.exit_code == 0, run.describe()
    plan, check = run.job("Plan"), run.job("Check churn")
    (result,) = [n for n in run.jobs if n.rstrip().endswith("/mlgate")]  # the stable status
    assert {run.jobs[plan], run.jobs[check], run.jobs[result]} == {"success"}, run.describe()
    # The plan's matrix reached the matrix job (its name carries the model).
    matrix = json.loads(run.outputs[plan]["matrix"])
    assert [m["model"] for m in matrix["include"]] == ["churn"]
    assert run.outputs[check]["ok"] == "true"
    assert run.outputs[check]["exit-code"] == "0"
    summary = run.summaries[check]
    assert "## mlgate check" in summary
    assert "`churn` passed" in summary
    assert "Report: `.mlgate/out/churn/report.html`" in summary  # relative to the repository
    assert not [a for a in run.annotations if a.level == "error"], run.describe()
    # The lock (Python of `mlgate init`) and the training environment agree: no warning.
    assert "differs from requirements.txt" not in run.log(check)
    files = run.artifact_files()
    (archive,) = [p for rel, p in files.items() if rel.endswith("/mlgate-churn.zip")]
    with zipfile.ZipFile(archive) as uploaded:
        assert {"check.json", "report.html", "repro.json"} <= set(uploaded.namelist())
    return check


def test_same_repository_pull_request_posts_one_sticky_comment(
    act: Act, github: FakeGitHub, change: dict[str, Any], offline_pip: dict[str, str]
) -> None:
    pwned = change["folder"] / "pwned"
    title = f"Tune churn $(touch {pwned}) `touch {pwned}`"
    run = _run(act, github, change, _event(change, number=7, title=title, fork=False),
               "pull request (same repository)", offline_pip)  # fmt: skip
    check = _assert_checked(run)
    ours = [c for c in github.comments.get(7, []) if c["body"].startswith(MARKER)]
    assert len(ours) == 1, github.comments
    body = ours[0]["body"]
    assert "`churn` passed" in body
    assert "## mlgate" in body
    assert "pull-request comment created" in run.log(check)
    assert not pwned.exists(), "a pull request title was run as a command"


def test_fork_pull_request_skips_only_the_comment(
    act: Act, github: FakeGitHub, change: dict[str, Any], offline_pip: dict[str, str]
) -> None:
    before = len(github.calls("POST"))
    run = _run(act, github, change, _event(change, number=8, title="From a fork", fork=True),
               "pull request (fork)", offline_pip)  # fmt: skip
    check = _assert_checked(run)
    notices = [a for a in run.annotations if a.level == "notice" and a.job == check]
    assert any("from a fork" in a.message for a in notices), run.annotations
    assert 8 not in github.comments
    assert len(github.calls("POST")) == before
