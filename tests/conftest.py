"""Shared fixtures: a clean git environment, the starter project, and the CLI runner."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from mlgate.cli.main import main

# A fixed date so tags, commits and their order never depend on the wall clock.
GIT_DATE = "2026-01-01T00:00:00+00:00"


_LEAKY = {"NO_COLOR", "CI", "GH_TOKEN"}


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """No leaked GIT_*/MLGATE_*/GITHUB_* (or GH_TOKEN) variables; git identity and config of our
    own."""
    for name in list(os.environ):
        if name.startswith(("GIT_", "MLGATE_", "GITHUB_")) or name in _LEAKY:
            monkeypatch.delenv(name)
    home = tmp_path_factory.getbasetemp() / "home"
    home.mkdir(exist_ok=True)
    gitconfig = home / ".gitconfig"
    if not gitconfig.exists():
        gitconfig.write_text(
            "[user]\n\tname = mlgate tests\n\temail = tests@example.com\n"
            "[init]\n\tdefaultBranch = main\n[advice]\n\tdetachedHead = false\n"
            "[tag]\n\tgpgSign = false\n[commit]\n\tgpgSign = false\n"
        )
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(gitconfig))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_AUTHOR_DATE", GIT_DATE)
    monkeypatch.setenv("GIT_COMMITTER_DATE", GIT_DATE)


@dataclass(frozen=True)
class Outcome:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def invoke(*args: str, cwd: Path | None = None) -> Outcome:
    """Run ``mlgate ARGS`` in-process through the real top-level handler (exit-code mapping)."""
    runner = CliRunner()
    previous = Path.cwd()
    try:
        if cwd is not None:
            os.chdir(cwd)
        with runner.isolation() as (out, err, _):
            code = main(list(args))
        return Outcome(code, out.getvalue().decode(), err.getvalue().decode())
    finally:
        os.chdir(previous)


@pytest.fixture
def starter(tmp_path: Path) -> Path:
    """The starter project written into a temporary folder (no git, no training)."""
    from mlgate.starter import InitRequest, init_project

    project = tmp_path / "starter"
    init_project(InitRequest(project))
    return project
