"""The sticky pull-request comment against the fake GitHub."""

from __future__ import annotations

import pytest

from mlgate.github.client import GitHubClient, GitHubError
from mlgate.github.comments import COMMENT_LIMIT, fit_comment, marker, upsert_comment
from tests.github.fake import FakeGitHub

PR = 12


def test_creates_then_updates_in_place(github: FakeGitHub, client: GitHubClient) -> None:
    first = upsert_comment(client, PR, "report v1", key="churn")
    second = upsert_comment(client, PR, "report v2", key="churn")
    assert (first.action, second.action) == ("created", "updated")
    assert first.comment_id == second.comment_id
    (comment,) = github.comments[PR]
    assert comment["body"] == f"{marker('churn')}\nreport v2"
    assert second.url == comment["html_url"]


def test_an_unchanged_report_is_not_written_again(github: FakeGitHub, client: GitHubClient) -> None:
    upsert_comment(client, PR, "same", key="churn")
    result = upsert_comment(client, PR, "same", key="churn")
    assert result.action == "unchanged"
    assert github.calls("PATCH") == []


def test_finds_the_marker_beyond_the_first_page(github: FakeGitHub, client: GitHubClient) -> None:
    github.page_size = 5
    github.add_comment(PR, "an early human comment")
    ours = github.add_comment(PR, f"{marker('churn')}\nold report", "github-actions[bot]")
    for i in range(23):
        github.add_comment(PR, f"discussion {i}")
    github.comments[PR].append(github.comments[PR].pop(1))  # ours is now on the last page
    result = upsert_comment(client, PR, "new report", key="churn")
    assert (result.action, result.comment_id) == ("updated", ours["id"])
    assert len(github.calls("GET", rf"/issues/{PR}/comments$")) == 5
    assert github.calls("POST") == []


def test_each_model_has_its_own_comment(github: FakeGitHub, client: GitHubClient) -> None:
    upsert_comment(client, PR, "churn report", key="churn")
    upsert_comment(client, PR, "fraud report", key="fraud")
    upsert_comment(client, PR, "churn report 2", key="churn")
    bodies = sorted(c["body"] for c in github.comments[PR])
    assert bodies == [f"{marker('churn')}\nchurn report 2", f"{marker('fraud')}\nfraud report"]


def test_duplicates_left_by_a_race_are_removed(github: FakeGitHub, client: GitHubClient) -> None:
    a = github.add_comment(PR, f"{marker('churn')}\nfirst", "github-actions[bot]")
    github.add_comment(PR, f"{marker('churn')}\nsecond", "github-actions[bot]")
    result = upsert_comment(client, PR, "fresh", key="churn")
    assert (result.action, result.comment_id, result.removed_duplicates) == ("updated", a["id"], 1)
    assert [c["id"] for c in github.comments[PR]] == [a["id"]]


def test_a_lost_answer_to_the_post_does_not_duplicate(
    github: FakeGitHub, client: GitHubClient
) -> None:
    github.fail("POST", rf"/issues/{PR}/comments$", 502, after=True)
    result = upsert_comment(client, PR, "report", key="churn")
    assert result.action == "unchanged"
    assert len(github.comments[PR]) == 1
    assert len(github.calls("POST")) == 1


def test_a_post_that_failed_outright_is_tried_again(
    github: FakeGitHub, client: GitHubClient
) -> None:
    github.fail("POST", rf"/issues/{PR}/comments$", 503)
    result = upsert_comment(client, PR, "report", key="churn")
    assert result.action == "created"
    assert len(github.comments[PR]) == 1


def test_a_forbidden_post_is_reported_with_the_operation(
    github: FakeGitHub, client: GitHubClient
) -> None:
    github.fail(
        "POST", r"/comments$", 403, body={"message": "Resource not accessible by integration"}
    )
    with pytest.raises(GitHubError, match="post the report comment on the pull request failed"):
        upsert_comment(client, PR, "report", key="churn")


def test_an_oversized_report_is_cut_under_the_limit_with_a_link(
    github: FakeGitHub, client: GitHubClient
) -> None:
    rows = "\n".join(f"| slice {i} | {i / 7:.6f} |" for i in range(6000))
    body = f"# Report\n<details><summary>Slices</summary>\n\n{rows}\n</details>\n"
    assert len(body) > COMMENT_LIMIT
    result = upsert_comment(client, PR, body, key="churn", full_report="https://ci.example/run/1")
    assert result.truncated
    (comment,) = github.comments[PR]
    assert len(comment["body"]) <= COMMENT_LIMIT
    assert comment["body"].startswith(marker("churn"))
    assert "[the full report](https://ci.example/run/1)" in comment["body"]
    assert comment["body"].count("<details>") == comment["body"].count("</details>")


def test_fit_comment_closes_an_open_code_fence() -> None:
    body = "```text\n" + "x\n" * 40_000
    cut = fit_comment(body, limit=1000)
    assert len(cut) <= 1000
    assert cut.count("```") == 2
    assert "the full report artifact" in cut
    assert fit_comment("short", limit=1000) == "short"
