"""What ``mlgate release`` refuses before building anything (no Docker needed to refuse)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from mlgate import proc
from tests.conftest import invoke


@pytest.fixture
def committed(starter: Path) -> Path:
    env = {k: v for k, v in os.environ.items() if k not in {"GIT_DIR", "GIT_WORK_TREE"}}
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "starter"]):
        proc.run(["git", *args], cwd=starter, env=env)
    return starter


def test_a_commit_that_already_carries_a_version_is_refused(committed: Path) -> None:
    assert invoke("registry", "register", "churn", cwd=committed).exit_code == 0
    out = invoke("release", cwd=committed)
    assert out.exit_code == 2, out.output
    assert "already carries churn v0.0.1" in out.stderr
    assert "commit a change before releasing again" in out.stderr


def test_uncommitted_model_changes_are_refused(committed: Path) -> None:
    params = committed / "models" / "churn" / "params.yaml"
    params.write_text(params.read_text() + "\n# changed\n")
    out = invoke("release", cwd=committed)
    assert out.exit_code == 2, out.output
    assert "uncommitted changes" in out.stderr


def test_promote_refuses_a_version_registered_without_an_image(committed: Path) -> None:
    assert invoke("registry", "register", "churn", cwd=committed).exit_code == 0
    out = invoke("promote", "churn", "v0.0.1", "staging", "--no-push-tag", cwd=committed)
    assert out.exit_code == 2, out.output
    assert "registered without an image digest" in out.stderr
    shown = json.loads(invoke("registry", "show", "churn", "--json", cwd=committed).stdout)
    assert shown["stages"]["staging"] is None  # nothing was assigned
    assert not any("#staging#" in t for t in proc.run(["git", "tag"], cwd=committed).stdout.split())
