"""GitHubClient against the fake GitHub: retries, rate limits, pagination, errors, the token."""

from __future__ import annotations

import logging

import pytest
import requests

from mlgate.errors import EXIT_EXTERNAL, UsageError
from mlgate.github.client import GitHubClient, GitHubError, RetryPolicy
from tests.github.contract import load_contract
from tests.github.fake import FakeGitHub
from tests.github.fixtures import Clock

COMMENTS = r"/issues/7/comments$"


def test_sends_documented_requests_with_auth_and_api_version(
    github: FakeGitHub, client: GitHubClient
) -> None:
    github.add_comment(7, "hello")
    items = list(client.paginate(client.repo_path("issues", 7, "comments"), operation="list"))
    assert [c["body"] for c in items] == ["hello"]
    (seen,) = github.calls("GET", COMMENTS)
    assert seen.headers["Authorization"] == f"Bearer {github.token}"
    assert seen.headers["X-Github-Api-Version"] == "2022-11-28"
    assert seen.headers["Accept"] == "application/vnd.github+json"
    assert dict(seen.query) == {"per_page": "100"}


def test_pagination_follows_link_headers_to_the_last_page(
    github: FakeGitHub, client: GitHubClient
) -> None:
    github.page_size = 3
    for i in range(10):
        github.add_comment(7, f"c{i}")
    items = list(client.paginate(client.repo_path("issues", 7, "comments"), operation="list"))
    assert [c["body"] for c in items] == [f"c{i}" for i in range(10)]
    pages = [dict(s.query).get("page") for s in github.calls("GET", COMMENTS)]
    assert pages == [None, "2", "3", "4"]


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_retried_with_exponential_backoff(
    github: FakeGitHub, client: GitHubClient, clock: Clock, status: int
) -> None:
    github.fail("GET", COMMENTS, status, times=3)
    items = list(client.paginate(client.repo_path("issues", 7, "comments"), operation="list"))
    assert items == []
    assert clock.sleeps == [1.0, 2.0, 4.0]
    assert [s.status for s in github.calls("GET", COMMENTS)] == [status] * 3 + [200]


def test_jitter_keeps_each_wait_between_half_and_all_of_the_step(github: FakeGitHub) -> None:
    clock = Clock()
    policy = RetryPolicy(sleep=clock.sleep, clock=clock.time, jitter=lambda: 0.0)
    client = GitHubClient.from_env(github.env, retry=policy)
    github.fail("GET", COMMENTS, 503, times=2)
    list(client.paginate(client.repo_path("issues", 7, "comments"), operation="list"))
    assert clock.sleeps == [0.5, 1.0]


def test_server_errors_give_up_after_max_attempts_with_a_clear_message(
    github: FakeGitHub, client: GitHubClient, clock: Clock
) -> None:
    github.fail("GET", COMMENTS, 502, times=99)
    with pytest.raises(GitHubError) as info:
        list(client.paginate(client.repo_path("issues", 7, "comments"), operation="list comments"))
    err = info.value
    assert err.exit_code == EXIT_EXTERNAL
    assert err.status == 502
    assert "list comments failed with 502" in err.message
    assert "tried 5 times" in (err.hint or "")
    assert "request: GET /repos/acme/models/issues/7/comments" in err.details
    assert len(github.calls("GET", COMMENTS)) == 5
    assert clock.sleeps == [1.0, 2.0, 4.0, 8.0]


def test_a_post_is_not_repeated_after_a_server_error(
    github: FakeGitHub, client: GitHubClient
) -> None:
    github.fail("POST", COMMENTS, 502)
    with pytest.raises(GitHubError) as info:
        client.request(
            "POST", client.repo_path("issues", 7, "comments"), operation="post", json={"body": "x"}
        )
    assert info.value.transient
    assert len(github.calls("POST", COMMENTS)) == 1


def test_retry_after_is_honoured_for_429_even_for_a_post(
    github: FakeGitHub, client: GitHubClient, clock: Clock
) -> None:
    github.fail("POST", COMMENTS, 429, headers={"Retry-After": "7"})
    client.request(
        "POST", client.repo_path("issues", 7, "comments"), operation="post", json={"body": "x"}
    )
    assert clock.sleeps == [7.0]
    assert [c["body"] for c in github.comments[7]] == ["x"]


def test_secondary_rate_limit_403_with_retry_after(
    github: FakeGitHub, client: GitHubClient, clock: Clock
) -> None:
    body = {"message": "You have exceeded a secondary rate limit. Please wait a few minutes."}
    github.fail("GET", COMMENTS, 403, headers={"Retry-After": "30"}, body=body)
    list(client.paginate(client.repo_path("issues", 7, "comments"), operation="list"))
    assert clock.sleeps == [30.0]


def test_secondary_rate_limit_without_retry_after_waits_at_least_a_minute(
    github: FakeGitHub, client: GitHubClient, clock: Clock
) -> None:
    body = {"message": "You have exceeded a secondary rate limit."}
    github.fail("GET", COMMENTS, 403, times=2, body=body)
    list(client.paginate(client.repo_path("issues", 7, "comments"), operation="list"))
    assert clock.sleeps == [60.0, 60.0]


def test_primary_rate_limit_waits_until_the_reset_time(
    github: FakeGitHub, client: GitHubClient, clock: Clock
) -> None:
    reset = int(clock.now) + 42
    headers = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)}
    github.fail("GET", COMMENTS, 403, headers=headers, body={"message": "API rate limit exceeded"})
    list(client.paginate(client.repo_path("issues", 7, "comments"), operation="list"))
    assert clock.sleeps == [43.0]


def test_a_rate_limit_reset_too_far_away_fails_instead_of_waiting(
    github: FakeGitHub, client: GitHubClient, clock: Clock
) -> None:
    headers = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(clock.now) + 3600)}
    github.fail("GET", COMMENTS, 429, headers=headers, body={"message": "API rate limit exceeded"})
    with pytest.raises(GitHubError, match="failed with 429") as info:
        list(client.paginate(client.repo_path("issues", 7, "comments"), operation="list"))
    assert "resets in 3601 s" in (info.value.hint or "")
    assert clock.sleeps == []


@pytest.mark.parametrize(
    ("status", "message", "hint"),
    [
        (401, "Bad credentials", "GITHUB_TOKEN"),
        (403, "Resource not accessible by integration", "permission"),
        (404, "Not Found", "GITHUB_REPOSITORY"),
    ],
)
def test_client_errors_fail_at_once_naming_the_operation(
    github: FakeGitHub, client: GitHubClient, status: int, message: str, hint: str
) -> None:
    github.fail("PATCH", r"/issues/comments/\d+$", status, body={"message": message})
    with pytest.raises(GitHubError) as info:
        client.request(
            "PATCH",
            client.repo_path("issues", "comments", 5),
            operation="update the report comment",
            json={"body": "x"},
        )
    err = info.value
    assert err.message == f"GitHub API: update the report comment failed with {status}: {message}"
    assert hint in (err.hint or "")
    assert len(github.calls("PATCH")) == 1


def test_422_lists_githubs_validation_errors(github: FakeGitHub, client: GitHubClient) -> None:
    client.request(
        "POST", client.repo_path("releases"), operation="create", json={"tag_name": "churn@v1.0.0"}
    )
    with pytest.raises(GitHubError) as info:
        client.request(
            "POST",
            client.repo_path("releases"),
            operation="create release churn@v1.0.0",
            json={"tag_name": "churn@v1.0.0"},
        )
    assert info.value.status == 422
    assert "error: resource=Release, field=tag_name, code=already_exists" in info.value.details


def test_a_wrong_token_is_401_and_the_token_never_appears(
    github: FakeGitHub, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="mlgate.github")
    secret = "ghp_wrongwrongwrongwrong0123"
    env = {**github.env, "GITHUB_TOKEN": secret}
    client = GitHubClient.from_env(env, retry=RetryPolicy(sleep=clock.sleep, clock=clock.time))
    with pytest.raises(GitHubError) as info:
        list(client.paginate(client.repo_path("issues", 7, "comments"), operation="list"))
    assert info.value.status == 401
    shown = info.value.render() + repr(client) + str(info.value.to_dict()) + caplog.text
    assert secret not in shown
    assert "token='***'" in repr(client)


def test_a_message_that_echoes_the_token_is_scrubbed(
    github: FakeGitHub, client: GitHubClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="mlgate.github")
    body = {"message": f"bad header Bearer {github.token}", "errors": [f"saw {github.token}"]}
    github.fail("GET", COMMENTS, 502, times=1, body=body)
    github.fail("GET", COMMENTS, 400, body=body)
    with pytest.raises(GitHubError) as info:
        list(client.paginate(client.repo_path("issues", 7, "comments"), operation="list"))
    shown = info.value.render() + str(info.value.to_dict()) + caplog.text
    assert github.token not in shown
    assert "Bearer ***" in shown


def test_the_token_is_masked_on_the_runner(
    github: FakeGitHub, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    GitHubClient.from_env(github.env)
    captured = capsys.readouterr()
    assert captured.err == f"::add-mask::{github.token}\n"
    assert captured.out == ""


def test_github_enterprise_api_url_with_a_path_prefix(github: FakeGitHub, clock: Clock) -> None:
    github.prefix = "/api/v3"
    github.add_comment(7, "on GHES")
    client = GitHubClient.from_env(github.env, retry=RetryPolicy(sleep=clock.sleep))
    assert client.api_url.endswith("/api/v3")
    items = list(client.paginate(client.repo_path("issues", 7, "comments"), operation="list"))
    assert [c["body"] for c in items] == ["on GHES"]


def test_an_unreachable_api_is_retried_then_reported(clock: Clock) -> None:
    import socket

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {"GITHUB_TOKEN": "t0ken-value", "GITHUB_API_URL": f"http://127.0.0.1:{port}",
           "GITHUB_REPOSITORY": "acme/models"}  # fmt: skip
    client = GitHubClient.from_env(env, retry=RetryPolicy(sleep=clock.sleep, jitter=lambda: 1.0))
    with pytest.raises(GitHubError, match=r"cannot reach http://127\.0\.0\.1") as info:
        client.get(client.repo_path("releases"), operation="list releases")
    assert info.value.transient
    assert len(clock.sleeps) == 4
    assert "t0ken-value" not in info.value.render()


def test_no_repository_is_a_usage_error() -> None:
    client = GitHubClient.from_env({"GITHUB_TOKEN": "x"})
    with pytest.raises(UsageError, match="GITHUB_REPOSITORY"):
        client.repo_path("releases")


def test_the_contract_rejects_what_github_does_not_document(github: FakeGitHub) -> None:
    """The checker itself: an undocumented parameter, a bad body, an upload to the API host."""
    base = github.api_url + "/repos/acme/models"
    auth = {"Authorization": f"Bearer {github.token}"}
    requests.get(base + "/issues/7/comments?sort=desc", headers=auth, timeout=5)
    requests.post(base + "/issues/7/comments", json={"body": 5}, headers=auth, timeout=5)
    requests.post(base + "/releases/1/assets?name=a", data=b"x", headers=auth, timeout=5)
    requests.put(base + "/releases", headers=auth, timeout=5)
    found, github.violations = github.violations, []
    assert any("undocumented query parameter 'sort'" in v for v in found)
    assert any("body body: 5 is not of type 'string'" in v for v in found)
    assert any("must be sent to the uploads host" in v for v in found)
    assert any("PUT is not documented" in v for v in found)
    assert all(s.status == 400 for s in github.seen)


def test_the_vendored_subset_covers_every_operation_the_client_calls() -> None:
    ids = {op.operation_id for op in load_contract().operations}
    assert {"repos/upload-release-asset", "repos/get-release-asset", "issues/create"} <= ids
    assert len(ids) == 16
