"""``mlgate report --post`` against the fake GitHub: the sticky comment, the job summary, forks,
failures that leave the report and the verdict as they were, and a token that is never shown."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from mlgate.github.client import GitHubClient, RetryPolicy
from mlgate.github.comments import COMMENT_LIMIT, marker
from mlgate.verdict import Check, Status, Verdict, write_verdict
from tests.conftest import invoke
from tests.github.fake import OWNER, REPO, FakeGitHub
from tests.github.fixtures import Clock
from tests.integration.governance.conftest import out_dir
from tests.report_fixtures import write_all

PR = 42


@pytest.fixture
def actions(
    repo: Path,
    github: FakeGitHub,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> Path:
    """The runner's environment for a pull request from a branch of the same repository; the
    client the command builds waits on the fake clock."""
    from_env = GitHubClient.from_env.__func__  # type: ignore[attr-defined]

    def patient(cls: type[GitHubClient], /, environ: object = None, **_: object) -> GitHubClient:
        policy = RetryPolicy(sleep=clock.sleep, clock=clock.time, jitter=lambda: 1.0)
        client: GitHubClient = from_env(cls, environ, retry=policy)
        return client

    monkeypatch.setattr(GitHubClient, "from_env", classmethod(patient))
    event = tmp_path / "event.json"
    _write_event(event, fork=False)
    summary = tmp_path / "summary.md"
    for name, value in {
        **github.env,
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_RUN_ID": "123456",
        "GITHUB_SERVER_URL": "https://github.example",
    }.items():
        monkeypatch.setenv(name, value)
    return summary


def _write_event(path: Path, *, fork: bool) -> None:
    head = f"someone/{REPO}" if fork else f"{OWNER}/{REPO}"
    payload = {
        "number": PR,
        "pull_request": {
            "number": PR,
            "head": {"ref": "feature", "repo": {"full_name": head, "fork": fork}},
            "base": {"ref": "main", "repo": {"full_name": f"{OWNER}/{REPO}"}},
        },
    }
    path.write_text(json.dumps(payload))


def test_post_creates_then_updates_the_sticky_comment(
    repo: Path, github: FakeGitHub, actions: Path
) -> None:
    write_all(out_dir(repo))
    first = invoke("report", "--post", cwd=repo)
    assert first.exit_code == 0, first.output
    (comment,) = github.comments[PR]
    assert comment["body"].startswith(marker("churn"))
    assert "mlgate report: `churn` — PASS" in comment["body"]
    assert f"pull request comment created: {comment['html_url']}" in first.stdout
    assert "https://github.example/acme/models/actions/runs/123456" in comment["body"]
    summary = actions.read_text()
    assert "mlgate report: `churn`" in summary

    write_all(out_dir(repo), fail=True)
    second = invoke("report", "--post", cwd=repo)
    assert second.exit_code == 1, second.output  # the headline says FAIL, and so does the status
    assert len(github.comments[PR]) == 1
    assert "— FAIL" in github.comments[PR][0]["body"]
    assert "pull request comment updated" in second.stdout
    assert _shown(first.output, github.token)
    assert _shown(second.output, github.token)


def _shown(output: str, token: str) -> bool:
    """The token appears only in the runner's add-mask command, which the runner never shows."""
    lines = output.splitlines()
    assert f"::add-mask::{token}" in lines
    return all(token not in line for line in lines if not line.startswith("::add-mask::"))


def test_a_fork_without_a_token_skips_posting_with_a_notice(
    repo: Path, github: FakeGitHub, actions: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write_event(Path(os.environ["GITHUB_EVENT_PATH"]), fork=True)
    monkeypatch.delenv("GITHUB_TOKEN")
    result = invoke("report", "--post", cwd=repo)
    assert result.exit_code == 0, result.output
    assert "comes from a fork, which gets no token" in result.stdout
    assert github.seen == []
    assert (out_dir(repo) / "report.html").is_file()
    assert "mlgate report" in actions.read_text()


def test_a_forks_read_only_token_is_a_notice_not_a_failure(
    repo: Path, github: FakeGitHub, actions: Path
) -> None:
    _write_event(Path(os.environ["GITHUB_EVENT_PATH"]), fork=True)
    github.fail(
        "POST", r"/comments$", 403, body={"message": "Resource not accessible by integration"}
    )
    result = invoke("report", "--post", cwd=repo)
    assert result.exit_code == 0, result.output
    assert "whose token is read-only (403)" in result.stdout


def test_a_github_failure_is_exit_3_and_leaves_report_and_verdict(
    repo: Path, github: FakeGitHub, actions: Path
) -> None:
    card = repo / "models" / "churn" / "model_card.yaml"
    card.write_text(card.read_text().replace("risk: limited\n", ""))  # the gate fails too
    github.fail("GET", r"/comments$", 401, body={"message": "Bad credentials"})
    result = invoke("report", "--post", cwd=repo)
    assert result.exit_code == 3
    assert "GitHub API: list the pull request's comments failed with 401: Bad credentials" in (
        result.stderr
    )
    assert "the report and the governance verdict (failed) were written to" in result.stderr
    assert _shown(result.output, github.token)
    verdict = json.loads((out_dir(repo) / "governance.json").read_text())
    assert verdict["ok"] is False
    assert (out_dir(repo) / "report.md").is_file()


@pytest.mark.parametrize("status", [404, 422, 500])
def test_other_github_errors_name_the_operation(
    repo: Path, github: FakeGitHub, actions: Path, clock: Clock, status: int
) -> None:
    github.add_comment(PR, f"{marker('churn')}\nold")
    github.fail("PATCH", r"/issues/comments/\d+$", status, times=9, body={"message": "nope"})
    result = invoke("report", "--post", "--format", "md", cwd=repo)
    assert result.exit_code == 3
    assert f"update the pull request's report comment failed with {status}: nope" in result.stderr
    assert clock.sleeps == ([1.0, 2.0, 4.0, 8.0] if status == 500 else [])


def test_an_oversized_report_is_cut_with_a_link_to_the_full_one(
    repo: Path, github: FakeGitHub, actions: Path
) -> None:
    checks = [
        Check(f"slice.customer=c{i:05d}.roc_auc.min", "slice", Status.PASS, "ok",
              observed=0.8, threshold=0.5,
              details={"column": "customer", "value": f"c{i:05d}", "size": 50})
        for i in range(3000)
    ]  # fmt: skip
    write_verdict(out_dir(repo) / "validation.json", Verdict("validation", "churn", tuple(checks)))
    result = invoke(
        "report", "--post", "--report-url", "https://ci.example/artifacts/report", cwd=repo
    )
    assert result.exit_code == 0, result.output
    body = github.comments[PR][0]["body"]
    assert len(body) <= COMMENT_LIMIT
    assert "[the full report](https://ci.example/artifacts/report)" in body
    assert body.count("<details>") == body.count("</details>")
    assert len((out_dir(repo) / "report.md").read_text()) > COMMENT_LIMIT  # the file is whole


def test_post_outside_a_pull_request_writes_only_the_summary(
    repo: Path, github: FakeGitHub, actions: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GITHUB_EVENT_PATH")
    monkeypatch.setenv("GITHUB_REF", "refs/heads/main")
    result = invoke("report", "--post", "--format", "md", cwd=repo)
    assert result.exit_code == 0, result.output
    assert "not a pull request: no comment posted" in result.stdout
    assert github.seen == []
    assert actions.read_text()


def test_pr_number_from_the_flag(repo: Path, github: FakeGitHub, actions: Path) -> None:
    result = invoke("report", "--post", "--pr", "7", "--format", "md", cwd=repo)
    assert result.exit_code == 0, result.output
    assert len(github.comments[7]) == 1
    assert PR not in github.comments


def test_json_output_stays_parseable_on_the_runner(
    repo: Path, github: FakeGitHub, actions: Path
) -> None:
    result = invoke("report", "--post", "--format", "md", "--json", cwd=repo)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)  # the add-mask command went to stderr
    (posted,) = data["posted"]
    assert posted["comment"] == "created"
    assert posted["url"] == github.comments[PR][0]["html_url"]
    assert posted["summary"] is True


def test_report_outside_a_git_repository(starter: Path) -> None:
    """A project that is not (yet) a git repository still gets every format; lineage says so."""
    out = invoke("report", "--format", "md,html,json", cwd=starter)
    assert out.exit_code in (0, 1), out.output
    folder = starter / ".mlgate" / "out" / "churn"
    for name in ("report.md", "report.html", "report.json"):
        assert (folder / name).is_file(), name
    assert "(no commit)" in (folder / "report.html").read_text()


def test_on_the_runner_the_report_goes_to_the_summary_without_posting(
    repo: Path, github: FakeGitHub, actions: Path
) -> None:
    result = invoke("report", "--format", "md", cwd=repo)
    assert result.exit_code == 0, result.output
    assert github.seen == []  # nothing posted without --post
    summary = actions.read_text()
    assert summary.count("mlgate report: `churn`") == 1
    assert "::error" not in result.stdout


def test_on_the_runner_a_missing_card_field_points_at_its_config_line(
    repo: Path, github: FakeGitHub, actions: Path
) -> None:
    card = repo / "models" / "churn" / "model_card.yaml"
    card.write_text(card.read_text().replace("risk: limited\n", ""))
    result = invoke("report", "--format", "md", cwd=repo)
    assert result.exit_code == 1
    config = (repo / "mlgate.yaml").read_text().splitlines()
    line, text = next((n, t) for n, t in enumerate(config, 1) if "required: [" in t)
    errors = [e for e in result.stdout.splitlines() if e.startswith("::error ")]
    assert len(errors) == 1, errors
    column = text.index("risk") + 1
    assert errors[0].startswith(f"::error file=mlgate.yaml,line={line},col={column},"), errors
    assert "title=mlgate churn%3A card.required.risk::" in errors[0]


def test_a_skipped_comment_is_a_notice_on_the_runner(
    repo: Path, github: FakeGitHub, actions: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write_event(Path(os.environ["GITHUB_EVENT_PATH"]), fork=True)
    monkeypatch.delenv("GITHUB_TOKEN")
    result = invoke("report", "--post", "--format", "md", "--json", cwd=repo)
    assert result.exit_code == 0, result.output
    # With --json the notice goes to stderr (the runner reads both), stdout stays JSON.
    notices = [line for line in result.stderr.splitlines() if line.startswith("::notice ")]
    assert len(notices) == 1
    assert "comes from a fork, which gets no token" in notices[0]
    assert json.loads(result.stdout)["posted"][0]["notices"]
