"""One issue per subject, kept up to date: found by its exact title among the open issues with
a label, opened when absent, commented on while it lasts, closed when the subject is resolved.

The drift monitor keeps one issue per model this way (``mlgate github issue upsert|close``);
anything that reports a standing condition can use it. Every call goes through the one REST
client, so ``GITHUB_API_URL`` (GitHub Enterprise, a test server) applies.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mlgate.errors import UsageError
from mlgate.github.client import GitHubClient

ISSUE_BODY_LIMIT = 65_536  # GitHub refuses longer issue and comment bodies


@dataclass(frozen=True)
class IssueRequest:
    title: str
    label: str
    body: str = ""


@dataclass(frozen=True)
class IssueResult:
    """What happened: ``created``, ``commented``, ``closed`` or ``none`` (nothing open)."""

    action: str
    number: int | None = None
    url: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"action": self.action, "number": self.number, "url": self.url}


def find_open(client: GitHubClient, title: str, label: str) -> dict[str, Any] | None:
    """The oldest open issue (never a pull request) with ``label`` and exactly ``title``."""
    found = [
        item
        for item in client.paginate(
            client.repo_path("issues"),
            operation="list the open issues",
            params={"state": "open", "labels": label, "sort": "created", "direction": "asc"},
        )
        if isinstance(item, dict) and "pull_request" not in item and item.get("title") == title
    ]
    return found[0] if found else None


def upsert_issue(client: GitHubClient, request: IssueRequest) -> IssueResult:
    """Open the issue with ``request.body``, or add the body as a comment to the open one."""
    _validate(request)
    body = _fit(request.body)
    existing = find_open(client, request.title, request.label)
    if existing is not None:
        comment = client.request(
            "POST",
            client.repo_path("issues", existing["number"], "comments"),
            operation="comment on the open issue",
            json={"body": body},
        ).data
        return IssueResult("commented", existing["number"], comment.get("html_url"))
    created = client.request(
        "POST",
        client.repo_path("issues"),
        operation="open the issue",
        json={"title": request.title, "body": body, "labels": [request.label]},
    ).data
    return IssueResult("created", created["number"], created.get("html_url"))


def close_issue(client: GitHubClient, request: IssueRequest) -> IssueResult:
    """Close the open issue (commenting ``request.body`` first when given); ``none`` if absent."""
    _validate(request)
    existing = find_open(client, request.title, request.label)
    if existing is None:
        return IssueResult("none")
    number = existing["number"]
    if request.body:
        client.request(
            "POST",
            client.repo_path("issues", number, "comments"),
            operation="comment on the issue before closing it",
            json={"body": _fit(request.body)},
        )
    closed = client.request(
        "PATCH",
        client.repo_path("issues", number),
        operation="close the issue",
        json={"state": "closed", "state_reason": "completed"},
    ).data
    return IssueResult("closed", number, closed.get("html_url"))


def _validate(request: IssueRequest) -> None:
    if not request.title.strip():
        raise UsageError("the issue title is empty", hint="pass --title")
    if not request.label.strip() or "," in request.label:
        raise UsageError(
            f"--label must name one label, got {request.label!r}",
            hint="for example --label mlgate-drift",
        )


def _fit(body: str) -> str:
    if len(body) <= ISSUE_BODY_LIMIT:
        return body
    notice = "\n\n(cut to fit GitHub's size limit; the workflow run has the rest)\n"
    cut = body[: ISSUE_BODY_LIMIT - len(notice)]
    return cut[: cut.rfind("\n")] + notice if "\n" in cut else cut + notice
