"""The one module that knows about the GitHub Actions runner: outputs, summary, annotations.

Workflow commands are written to stdout (``::error file=...::``); outputs and summaries go to the
files the runner names in ``$GITHUB_OUTPUT`` and ``$GITHUB_STEP_SUMMARY``. Outside Actions every
function is a quiet no-op except ``annotation``'s plain-text fallback, so callers never branch.
"""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO


def in_actions() -> bool:
    return os.environ.get("GITHUB_ACTIONS") == "true"


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
