"""Helpers for the registry's integration tests: real git repositories and remotes in tmp dirs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from mlgate import gitio
from tests.conftest import Outcome, invoke


def git(cwd: Path, *args: str, check: bool = True) -> str:
    return gitio.git(list(args), cwd, check=check).stdout.strip()


def new_repo(path: Path, commits: int = 1) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "--quiet", "--initial-branch=main")
    for i in range(commits):
        commit(path, f"change {i}")
    return path


def commit(repo: Path, message: str) -> str:
    (repo / "model.txt").write_text(message + "\n")
    git(repo, "add", "model.txt")
    git(repo, "commit", "--quiet", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def bare_remote(path: Path) -> Path:
    path.mkdir(parents=True)
    git(path, "init", "--quiet", "--bare", "--initial-branch=main")
    return path


def clone(remote: Path, path: Path) -> Path:
    git(remote.parent, "clone", "--quiet", str(remote), str(path))
    return path


def tags(repo: Path) -> set[str]:
    return set(git(repo, "tag", "--list").split())


def remote_tags(repo: Path, remote: str = "origin") -> set[str]:
    return set(gitio.ls_remote_tags(repo, remote))


def mlgate(repo: Path, *args: str, expect: int = 0) -> Outcome:
    result = invoke(*args, cwd=repo)
    assert result.exit_code == expect, (result.exit_code, result.stdout, result.stderr)
    return result


def mlgate_json(repo: Path, *args: str, expect: int = 0) -> Any:
    return json.loads(mlgate(repo, *args, "--json", expect=expect).stdout)


def write_config(repo: Path, registry: dict[str, Any] | None = None, name: str = "churn") -> Path:
    """A minimal mlgate.yaml whose model file is committed at models/NAME/model.txt."""
    folder = repo / "models" / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "model.txt").write_text("weights\n")
    section = ""
    if registry is not None:
        section = "    registry: " + json.dumps(registry) + "\n"
    (repo / "mlgate.yaml").write_text(
        "version: 1\n"
        "models:\n"
        f"  - name: {name}\n"
        f"    path: models/{name}\n"
        "    model: {file: model.txt, task: binary-classification}\n" + section
    )
    git(repo, "add", "mlgate.yaml", f"models/{name}/model.txt")
    git(repo, "commit", "--quiet", "-m", "config")
    return repo / "mlgate.yaml"


def spawn(repo: Path, *args: str) -> subprocess.Popen[str]:
    """``mlgate registry ARGS --push --json`` as its own process in ``repo`` (for races)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLGATE_")}
    return subprocess.Popen(
        [sys.executable, "-m", "mlgate", "registry", *args, "--push", "--json"],
        cwd=repo,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
