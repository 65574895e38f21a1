"""The sticky pull-request comment: one per report key, found by a hidden marker, edited in place.

The marker is an HTML comment GitHub does not render. Every page of the pull request's comments
is searched, so a long discussion never makes mlgate post a second copy; copies left by an earlier
race are deleted. Bodies over GitHub's 65,536-character limit are cut at a line boundary, open
``<details>`` blocks and code fences are closed, and a link points at the full report.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from mlgate.github.client import GitHubClient, GitHubError

COMMENT_LIMIT = 65_536
_MARGIN = 512  # room for the marker and the truncation notice, with some to spare
_ATTEMPTS = 3


@dataclass(frozen=True)
class CommentResult:
    """What happened to the sticky comment."""

    action: str  # "created", "updated" or "unchanged"
    comment_id: int
    url: str | None
    truncated: bool
    removed_duplicates: int = 0


def marker(key: str) -> str:
    """The hidden marker of the sticky comment for ``key`` (e.g. the model's tag name)."""
    safe = re.sub(r"[^\w.=/-]", "_", key)
    return f"<!-- mlgate-report:{safe} -->"


def fit_comment(body: str, *, limit: int = COMMENT_LIMIT, full_report: str | None = None) -> str:
    """``body`` cut to fit ``limit`` characters, with a notice and a link to the full report."""
    if len(body) <= limit:
        return body
    where = f"[the full report]({full_report})" if full_report else "the full report artifact"
    notice = (
        "\n\n> [!NOTE]\n> This comment was cut to fit GitHub's comment size limit "
        f"({len(body):,} characters). See {where}.\n"
    )
    budget = limit - len(notice) - _MARGIN
    cut = body[:budget]
    cut = cut[: cut.rfind("\n")] if "\n" in cut else cut
    return cut + _closers(cut) + notice


def _closers(text: str) -> str:
    """Close a code fence and any ``<details>`` left open by the cut."""
    out = ""
    if len(re.findall(r"^\s*```", text, flags=re.MULTILINE)) % 2:
        out += "\n```"
    opened = len(re.findall(r"<details\b", text, flags=re.IGNORECASE))
    closed = len(re.findall(r"</details>", text, flags=re.IGNORECASE))
    out += "\n</details>" * max(0, opened - closed)
    return out


def upsert_comment(
    client: GitHubClient,
    issue_number: int,
    body: str,
    *,
    key: str,
    full_report: str | None = None,
) -> CommentResult:
    """Create or update the one comment carrying ``marker(key)`` on issue/PR ``issue_number``."""
    tag = marker(key)
    text = fit_comment(body, limit=COMMENT_LIMIT - len(tag) - 1, full_report=full_report)
    text = f"{tag}\n{text}"
    truncated = len(body) + len(tag) + 1 > COMMENT_LIMIT
    for attempt in range(1, _ATTEMPTS + 1):
        ours = _find(client, issue_number, tag)
        if ours:
            first, extra = ours[0], ours[1:]
            for duplicate in extra:
                client.request(
                    "DELETE",
                    client.repo_path("issues", "comments", duplicate["id"]),
                    operation="delete duplicate report comment",
                    missing_ok=True,
                )
            if first.get("body") == text:
                return CommentResult(
                    "unchanged", first["id"], first.get("html_url"), truncated, len(extra)
                )
            updated = client.request(
                "PATCH",
                client.repo_path("issues", "comments", first["id"]),
                operation="update the pull request's report comment",
                json={"body": text},
            ).data
            return CommentResult(
                "updated", updated["id"], updated.get("html_url"), truncated, len(extra)
            )
        try:
            created = client.request(
                "POST",
                client.repo_path("issues", issue_number, "comments"),
                operation="post the report comment on the pull request",
                json={"body": text},
            ).data
        except GitHubError as exc:
            # The comment may have been created even though the answer was lost: look again.
            if attempt == _ATTEMPTS or not exc.transient:
                raise
            continue
        return CommentResult("created", created["id"], created.get("html_url"), truncated)
    raise AssertionError("unreachable")  # pragma: no cover


def _find(client: GitHubClient, issue_number: int, tag: str) -> list[dict[str, Any]]:
    """Every comment carrying ``tag``, oldest first, across all pages."""
    return [
        c
        for c in client.paginate(
            client.repo_path("issues", issue_number, "comments"),
            operation="list the pull request's comments",
        )
        if isinstance(c.get("body"), str) and c["body"].startswith(tag)
    ]
