"""This repository's own ci.yml under act, on a push to main of the checkout under test: the
composite actions on the starter project, and the nox jobs (lint and workflows by default;
MLGATE_ACT_CI_ALL=1 adds tests and demo, which take as long as those sessions themselves)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.actions.act import Act
from tests.actions.conftest import git

WORKFLOW = ".github/workflows/ci.yml"


def _push(checkout: Path) -> dict[str, object]:
    head = git(checkout, "rev-parse", "HEAD")
    return {
        "ref": "refs/heads/main",
        "before": "0" * 40,
        "after": head,
        "repository": {"full_name": "mlgate-dev/mlgate", "default_branch": "main"},
        "head_commit": {"id": head, "message": "under test"},
    }


def test_actions_on_the_starter_project(act: Act, checkout: Path, offline_pip: dict) -> None:
    run = act.run(checkout, "push", _push(checkout), WORKFLOW, label="ci.yml actions job",
                  env=offline_pip, extra=["-j", "actions"])  # fmt: skip
    assert run.exit_code == 0, run.describe()
    job = run.job("actions on the starter project")
    assert run.jobs[job] == "success", run.describe()
    assert "uvicorn" not in " ".join(a.message for a in run.annotations if a.level == "error")


@pytest.mark.parametrize(
    "sessions",
    [
        ["lint", "workflows"],
        pytest.param(
            ["tests", "demo"],
            marks=[
                pytest.mark.skipif(
                    not os.environ.get("MLGATE_ACT_CI_ALL"),
                    reason="set MLGATE_ACT_CI_ALL=1: as long as nox -s tests and nox -s demo",
                ),
                pytest.mark.timeout(3600),  # with MLGATE_ACT_BUDGET raised to match
            ],
        ),
    ],
)
def test_nox_jobs(act: Act, checkout: Path, sessions: list[str]) -> None:
    matrix = [arg for s in sessions for arg in ("--matrix", f"session:{s}")]
    run = act.run(checkout, "push", _push(checkout), WORKFLOW,
                  label=f"ci.yml nox ({', '.join(sessions)})", extra=["-j", "nox", *matrix],
                  timeout=3600)  # fmt: skip
    assert run.exit_code == 0, run.describe()
    for session in sessions:
        job = run.job(f"nox -s {session}")
        assert run.jobs[job] == "success", run.describe()
