"""The one module that knows about the GitHub Actions runner: its environment (``RunContext``:
run URL, workspace, event, pull request, actor), outputs, summary, annotations.

Workflow commands are written to stdout (``::error file=...::``); outputs and summaries go to the
files the runner names in ``$GITHUB_OUTPUT`` and ``$GITHUB_STEP_SUMMARY``. Outside Actions every
function is a quiet no-op, so callers never branch.
"""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from mlgate.github.event import Event, load_event

DEFAULT_SERVER = "https://github.com"


def in_actions() -> bool:
    return os.environ.get("GITHUB_ACTIONS") == "true"


@dataclass(frozen=True)
class RunContext:
    """What the runner's environment says about this run (all empty outside Actions). The only
    reader of ``GITHUB_*`` outside ``mlgate.github``'s client: build it once, pass it down."""

    server_url: str = DEFAULT_SERVER
    repository: str | None = None  # owner/name
    run_id: str | None = None
    workspace: Path | None = None  # the checkout
    event_name: str | None = None
    event_path: str | None = None
    ref: str | None = None  # refs/pull/N/merge on a pull request
    head_ref: str | None = None  # a pull request's head branch
    base_ref: str | None = None  # a pull request's base branch
    actor: str | None = None
    has_token: bool = False  # GITHUB_TOKEN is set (its value stays in the client)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> RunContext:
        env = os.environ if env is None else env
        workspace = env.get("GITHUB_WORKSPACE")
        return cls(
            server_url=(env.get("GITHUB_SERVER_URL") or DEFAULT_SERVER).rstrip("/"),
            repository=env.get("GITHUB_REPOSITORY") or None,
            run_id=env.get("GITHUB_RUN_ID") or None,
            workspace=Path(workspace) if workspace else None,
            event_name=env.get("GITHUB_EVENT_NAME") or None,
            event_path=env.get("GITHUB_EVENT_PATH") or None,
            ref=env.get("GITHUB_REF") or None,
            head_ref=env.get("GITHUB_HEAD_REF") or None,
            base_ref=env.get("GITHUB_BASE_REF") or None,
            actor=env.get("GITHUB_ACTOR") or None,
            has_token=bool(env.get("GITHUB_TOKEN")),
        )

    @property
    def repository_url(self) -> str | None:
        """The repository's web address, e.g. https://github.com/acme/models."""
        return f"{self.server_url}/{self.repository}" if self.repository else None

    @property
    def run_url(self) -> str | None:
        """The workflow run's page (its logs and artifacts); None outside Actions."""
        if self.repository_url and self.run_id:
            return f"{self.repository_url}/actions/runs/{self.run_id}"
        return None

    def event(self) -> Event:
        """The triggering event (``GITHUB_EVENT_PATH``); a broken payload is a ConfigError."""
        env = {
            "GITHUB_EVENT_NAME": self.event_name or "",
            "GITHUB_EVENT_PATH": self.event_path or "",
        }
        return load_event(env)

    @property
    def ref_pr_number(self) -> int | None:
        """The pull request number in ``refs/pull/N/merge``, else None."""
        parts = (self.ref or "").split("/")
        if len(parts) == 4 and parts[:2] == ["refs", "pull"] and parts[2].isdigit():
            return int(parts[2]) or None
        return None

    def workspace_path(self, file: str) -> str:
        """``file`` relative to the checkout (annotations and links need it), else unchanged."""
        root = self.workspace or Path.cwd()
        try:
            return Path(file).resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            return file


def _escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(value: str) -> str:
    return _escape_data(value).replace(":", "%3A").replace(",", "%2C")


def command(name: str, message: str = "", properties: Mapping[str, object] | None = None) -> str:
    """Format a workflow command line, escaping message and properties as the runner expects."""
    props = ",".join(
        f"{key}={_escape_property(str(value))}"
        for key, value in (properties or {}).items()
        if value is not None
    )
    return f"::{name}{' ' + props if props else ''}::{_escape_data(message)}"


def annotation(
    level: str,
    message: str,
    *,
    file: str | None = None,
    line: int | None = None,
    column: int | None = None,
    title: str | None = None,
    stream: TextIO | None = None,
) -> None:
    """An ``error``/``warning``/``notice`` annotation (on the runner) pointing at file:line."""
    if level not in {"error", "warning", "notice"}:
        raise ValueError(f"unknown annotation level {level!r}")
    if not in_actions():
        return
    props = {"file": file, "line": line, "col": column, "title": title}
    print(command(level, message, props), file=stream or sys.stdout, flush=True)


# GitHub shows at most 10 annotations of each level per step.
ANNOTATION_LIMIT = 10
MORE_IN_SUMMARY = "{n} more findings are listed in the job summary"
MORE_IN_VERDICTS = "{n} more findings are listed in the verdict files"


@dataclass(frozen=True)
class Annotation:
    """One finding to show on a file's line in the pull request (``file`` as written anywhere
    in the repository; ``annotate`` makes it relative to the checkout)."""

    level: str  # error, warning, notice
    message: str
    file: str | None = None
    line: int | None = None
    column: int | None = None
    title: str | None = None


def annotate(
    annotations: Iterable[Annotation],
    run: RunContext | None = None,
    *,
    stream: TextIO | None = None,
    more: str = MORE_IN_SUMMARY,
) -> int:
    """Write ``annotations`` on the runner, at most ``ANNOTATION_LIMIT`` of each level, then one
    notice (``more``, with ``{n}``) for those left out; returns how many were left out."""
    run = run or RunContext.from_env()
    shown: dict[str, int] = {}
    left_out = 0
    for item in annotations:
        if shown.get(item.level, 0) >= ANNOTATION_LIMIT:
            left_out += 1
            continue
        shown[item.level] = shown.get(item.level, 0) + 1
        annotation(
            item.level,
            item.message,
            file=run.workspace_path(item.file) if item.file else None,
            line=item.line,
            column=item.column,
            title=item.title,
            stream=stream,
        )
    if left_out:
        annotation("notice", more.format(n=left_out), stream=stream)
    return left_out


def mask(value: str, stream: TextIO | None = None) -> None:
    """Ask the runner to mask ``value`` in all later log output."""
    if value and in_actions():
        for line in value.splitlines():
            if line.strip():
                print(command("add-mask", line), file=stream or sys.stdout, flush=True)


def start_group(title: str, stream: TextIO | None = None) -> None:
    """Open a collapsible ``::group::`` on the runner (nothing elsewhere)."""
    if in_actions():
        print(command("group", title), file=stream or sys.stdout, flush=True)


def end_group(stream: TextIO | None = None) -> None:
    if in_actions():
        print("::endgroup::", file=stream or sys.stdout, flush=True)


@contextmanager
def group(title: str, stream: TextIO | None = None) -> Iterator[None]:
    """Fold the output inside a collapsible ``::group::`` on the runner."""
    out = stream or sys.stdout
    if in_actions():
        print(command("group", title), file=out, flush=True)
    try:
        yield
    finally:
        if in_actions():
            print("::endgroup::", file=out, flush=True)


def set_output(name: str, value: str) -> bool:
    """Append ``name=value`` to ``$GITHUB_OUTPUT`` (heredoc form, so newlines are safe)."""
    target = os.environ.get("GITHUB_OUTPUT")
    if not target:
        return False
    delimiter = f"ghadelimiter_{secrets.token_hex(16)}"
    if delimiter in value:  # pragma: no cover - 128 random bits
        raise ValueError("output value contains the delimiter")
    with Path(target).open("a", encoding="utf-8") as fh:
        fh.write(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")
    return True


def summary_enabled() -> bool:
    """Whether this step has a job summary (``$GITHUB_STEP_SUMMARY``) to append to."""
    return bool(os.environ.get("GITHUB_STEP_SUMMARY"))


def append_summary(markdown: str) -> bool:
    """Append Markdown to the job summary (``$GITHUB_STEP_SUMMARY``)."""
    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if not target:
        return False
    with Path(target).open("a", encoding="utf-8") as fh:
        fh.write(markdown.rstrip("\n") + "\n")
    return True


# GitHub rejects step summaries above 1 MiB.
SUMMARY_LIMIT = 1024 * 1024
