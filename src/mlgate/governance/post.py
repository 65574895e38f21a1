"""Put the report where reviewers read it: the pull request's sticky comment and the job summary.

A pull request from a fork gets no token (or a read-only one): posting is skipped with a notice
and nothing else changes. Other GitHub failures raise GitHubError (exit 3) naming the operation;
the report files and the governance verdict were written before and stay as they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from mlgate.github.actions import SUMMARY_LIMIT, RunContext, append_summary, summary_enabled
from mlgate.github.client import GitHubClient, GitHubError
from mlgate.github.comments import CommentResult, fit_comment, upsert_comment

if TYPE_CHECKING:
    from mlgate.governance.report import ReportResult


@dataclass(frozen=True)
class PostTarget:
    """Where to post: the pull request (None outside one), whether it comes from a fork, and the
    workflow run whose artifacts hold the full report."""

    pr_number: int | None
    fork: bool = False
    run_url: str | None = None


@dataclass(frozen=True)
class PostOutcome:
    model: str
    comment: CommentResult | None
    summary_written: bool
    notices: tuple[str, ...] = ()


def post_target(run: RunContext, *, pr_number: int | None = None) -> PostTarget:
    """The pull request of this Actions run (its event, else ``refs/pull/N/merge``)."""
    pr = run.event().pull_request
    number = pr_number or (pr.number if pr is not None and pr.number > 0 else None)
    return PostTarget(number or run.ref_pr_number, pr is not None and pr.is_fork, run.run_url)


def post_report(
    markdown: str,
    *,
    model: str,
    target: PostTarget,
    client: GitHubClient,
    full_report: str | None = None,
) -> PostOutcome:
    """Write the job summary and create or update the sticky comment for ``model``."""
    link = full_report or target.run_url
    summary = append_summary(fit_comment(markdown, limit=SUMMARY_LIMIT - 1024, full_report=link))
    if target.pr_number is None:
        return PostOutcome(model, None, summary, ("not a pull request: no comment posted",))
    if not client.has_token:
        why = (
            "this pull request comes from a fork, which gets no token"
            if target.fork
            else ("GITHUB_TOKEN is not set")
        )
        notice = f"{why}: the report comment was skipped (the job summary and files have it)"
        return PostOutcome(model, None, summary, (notice,))
    try:
        comment = upsert_comment(client, target.pr_number, markdown, key=model, full_report=link)
    except GitHubError as exc:
        if target.fork and exc.status in {401, 403, 404}:
            notice = (
                f"this pull request comes from a fork, whose token is read-only ({exc.status}): "
                "the report comment was skipped (the job summary and files have it)"
            )
            return PostOutcome(model, None, summary, (notice,))
        raise
    return PostOutcome(model, comment, summary)


def publish_reports(
    result: ReportResult,
    *,
    pr_number: int | None = None,
    report_url: str | None = None,
    client: GitHubClient,
    run: RunContext,
) -> list[PostOutcome]:
    """Post every model's report; a GitHub failure says that the local reports and verdicts
    were written and are unaffected."""
    from mlgate.governance.report import render

    target = post_target(run, pr_number=pr_number)
    outcomes = []
    for report in result.reports:
        link = report_url or target.run_url
        markdown = render(report.data, "md", full_report=link)
        try:
            outcomes.append(
                post_report(
                    markdown,
                    model=report.data.model.tag_name,
                    target=target,
                    client=client,
                    full_report=link,
                )
            )
        except GitHubError as exc:
            verdict = "passed" if report.data.governance.ok else "failed"
            exc.details.append(
                f"the report and the governance verdict ({verdict}) were written to "
                f"{report.files['verdict'].parent}; posting does not change them"
            )
            raise
    return outcomes


def write_summaries(
    result: ReportResult,
    *,
    report_url: str | None = None,
    run: RunContext,
) -> bool:
    """Add every model's Markdown report to the job summary, without posting anything (what
    ``publish_reports`` also does); False outside GitHub Actions."""
    from mlgate.governance.report import render

    if not summary_enabled():
        return False
    link = report_url or run.run_url
    written = False
    for report in result.reports:
        markdown = render(report.data, "md", full_report=link)
        written = append_summary(
            fit_comment(markdown, limit=SUMMARY_LIMIT - 1024, full_report=link)
        )
    return written
