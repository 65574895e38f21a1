"""``mlgate github issue upsert|close``: one issue per subject through mlgate's GitHub client."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from mlgate.cli._common import echo, emit_json, json_option


@click.group()
def github() -> None:
    """Talk to GitHub's API with mlgate's client (GITHUB_TOKEN, GITHUB_API_URL,
    GITHUB_REPOSITORY; retries and rate limits handled)."""


@github.group()
def issue() -> None:
    """One open issue per subject: found by exact title and label, opened, updated, closed."""


def _options(func: click.decorators.FC) -> click.decorators.FC:
    func = click.option("--title", required=True, help="The issue's exact title.")(func)
    func = click.option(
        "--label", required=True, help="The one label the issue carries (e.g. mlgate-drift)."
    )(func)
    func = click.option(
        "--body-file",
        type=click.Path(dir_okay=False, path_type=Path, allow_dash=True),
        default=None,
        help="Markdown body ('-' reads stdin).",
    )(func)
    func = click.option("--body", default=None, help="Markdown body (instead of --body-file).")(
        func
    )
    return json_option(func)


def _body(body: str | None, body_file: Path | None) -> str:
    if body is not None and body_file is not None:
        raise click.UsageError("give --body or --body-file, not both")
    if body_file is None:
        return body or ""
    if str(body_file) == "-":
        return sys.stdin.read()
    return body_file.read_text("utf-8")


@issue.command()
@_options
def upsert(title: str, label: str, body_file: Path | None, body: str | None, as_json: bool) -> int:
    """Open the issue, or comment on the one already open, with the body."""
    from mlgate.github.client import GitHubClient
    from mlgate.github.issues import IssueRequest, upsert_issue

    result = upsert_issue(
        GitHubClient.from_env(), IssueRequest(title, label, _body(body, body_file))
    )
    _show(result.to_dict(), as_json)
    return 0


@issue.command()
@_options
def close(title: str, label: str, body_file: Path | None, body: str | None, as_json: bool) -> int:
    """Close the open issue (with the body as a last comment); nothing open is not an error."""
    from mlgate.github.client import GitHubClient
    from mlgate.github.issues import IssueRequest, close_issue

    result = close_issue(
        GitHubClient.from_env(), IssueRequest(title, label, _body(body, body_file))
    )
    _show(result.to_dict(), as_json)
    return 0


def _show(data: dict[str, object], as_json: bool) -> None:
    if as_json:
        emit_json(data)
        return
    number = f" #{data['number']}" if data.get("number") else ""
    action = "no open issue" if data["action"] == "none" else f"issue{number} {data['action']}"
    echo(action + (f": {data['url']}" if data.get("url") else ""))
