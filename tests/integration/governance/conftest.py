"""A committed starter project with a trained model (trained once per session, then copied)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from mlgate import gitio, proc
from mlgate.starter import InitRequest, init_project
from tests.github.fixtures import _servers, clock, github

__all__ = ["_servers", "clock", "github", "out_dir", "repo"]


@pytest.fixture(scope="session")
def _trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = tmp_path_factory.mktemp("trained") / "starter"
    init_project(InitRequest(project))
    proc.run([sys.executable, "train.py"], cwd=project / "models" / "churn")
    return project / "models" / "churn" / "artifacts"


@pytest.fixture
def repo(starter: Path, _trained: Path) -> Path:
    """The starter project, trained, committed on branch ``main`` (artifacts stay untracked)."""
    shutil.copytree(_trained, starter / "models" / "churn" / "artifacts")
    gitio.git(["init", "--quiet", "--initial-branch=main"], starter)
    gitio.git(["add", "--all"], starter)
    gitio.git(["commit", "--quiet", "--message", "starter"], starter)
    return starter


def out_dir(repo: Path) -> Path:
    return repo / ".mlgate" / "out" / "churn"
