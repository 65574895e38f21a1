"""Stage headers for long commands: a bold header and the elapsed time per stage on a terminal,
a folded ``::group::`` per stage on GitHub Actions (through mlgate.github.actions), nothing when
output goes to a pipe or a file, so piped and captured output stays as it was."""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

import click

from mlgate.cli._common import color
from mlgate.github import actions

_MARK = {"pass": "ok", "fail": "FAILED", "warn": "warnings", "error": "could not run"}
_STYLE: dict[str, dict[str, Any]] = {"pass": {"fg": "green"}, "fail": {"fg": "red", "bold": True},
          "warn": {"fg": "yellow"}, "error": {"fg": "red", "bold": True}}  # fmt: skip


class Stages:
    """Start a stage with ``start(title)``, end it with ``end(status)`` (or start the next)."""

    def __init__(self, *, json_stdout: bool = False, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        # Workflow commands are read from stdout and stderr; with --json stdout holds JSON only.
        self.commands = sys.stderr if json_stdout else sys.stdout
        self.on_actions = actions.in_actions()
        self.on_terminal = not self.on_actions and _isatty(self.stream)
        self._open: tuple[str, float] | None = None

    @property
    def active(self) -> bool:
        return self.on_actions or self.on_terminal

    def start(self, title: str) -> None:
        self.end()
        self._open = (title, time.monotonic())
        if self.on_actions:
            actions.start_group(title, stream=self.commands)
        elif self.on_terminal:
            click.echo(click.style(f"▶ {title}", bold=True), file=self.stream, color=color())

    def end(self, status: str | None = None) -> None:
        if self._open is None:
            return
        title, began = self._open
        self._open = None
        word = _MARK.get(status or "", status or "done")
        line = f"  {title}: {word} in {time.monotonic() - began:.1f} s"
        if self.on_actions:
            print(line, file=self.commands, flush=True)
            actions.end_group(stream=self.commands)
        elif self.on_terminal:
            styled = click.style(line, **_STYLE.get(status or "", {"dim": True}))
            click.echo(styled, file=self.stream, color=color())


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
