"""The scheduled drift monitor `mlgate init` writes, under act: drifted production data opens
the model's drift issue on the fake GitHub (through mlgate's own client, so GITHUB_API_URL
applies); data back within limits closes it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.actions.act import Act, ActRun
from tests.actions.conftest import TOKEN, git, make_user_repo
from tests.github.fake import FakeGitHub

WORKFLOW = ".github/workflows/mlgate-monitor.yml"
TITLE = "mlgate: data drift in churn"


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory, starter: Path) -> Path:
    return make_user_repo(tmp_path_factory.mktemp("monitor"), starter)


def _production(repo: Path, *, drifted: bool) -> None:
    import pandas as pd

    frame = pd.read_csv(repo / "models" / "churn" / "data" / "eval.csv")
    if drifted:
        frame["tenure_months"] += 18
        frame["monthly_charges"] *= 1.3
        frame["contract"] = "monthly"
    target = repo / "production" / "churn" / "recent.csv"
    target.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(target, index=False)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "Recent production data" + (" (drifted)" if drifted else ""))


def _run(act: Act, github: FakeGitHub, repo: Path, label: str, pip: dict[str, str]) -> ActRun:
    run = act.run(
        repo, "schedule", {"schedule": "17 6 * * *"}, WORKFLOW, label=label,
        secrets={"GITHUB_TOKEN": TOKEN}, env={"GITHUB_API_URL": github.api_url, **pip},
    )  # fmt: skip
    assert run.exit_code == 0, run.describe()
    models, drift = run.job("Models"), run.job("Drift churn")
    assert run.jobs[models] == run.jobs[drift] == "success", run.describe()
    assert "### Drift of `churn` on recent production data" in run.summaries[drift]
    return run


def _ours(github: FakeGitHub) -> list[dict[str, Any]]:
    return [i for i in github.issues if i["title"] == TITLE]


def test_drift_opens_the_issue_and_recovery_closes_it(
    act: Act, github: FakeGitHub, repo: Path, offline_pip: dict[str, str]
) -> None:
    _production(repo, drifted=True)
    _run(act, github, repo, "monitor (drifted data)", offline_pip)
    (issue,) = _ours(github)
    assert issue["state"] == "open"
    assert [label["name"] for label in issue["labels"]] == ["mlgate-drift"]
    assert "Scheduled drift check of `churn`" in issue["body"]
    assert "drift" in issue["body"].lower()

    _production(repo, drifted=False)
    _run(act, github, repo, "monitor (back within limits)", offline_pip)
    (issue,) = _ours(github)
    assert issue["state"] == "closed"
    assert issue["state_reason"] == "completed"
    assert github.comments[issue["number"]][-1]["body"].startswith("Back within limits: ")
