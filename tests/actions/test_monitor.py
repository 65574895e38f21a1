"""The scheduled production monitor `mlgate init` writes, under act: a capture of drifted
traffic (written by mlgate serve's own capture writer) makes `mlgate monitor` fail and opens the
model's monitoring issue on the fake GitHub (through mlgate's own client, so GITHUB_API_URL
applies) with the verdict's Markdown; steady traffic with its labels closes it."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.actions.act import Act, ActRun
from tests.actions.conftest import TOKEN, git, make_user_repo
from tests.github.fake import FakeGitHub

WORKFLOW = ".github/workflows/mlgate-monitor.yml"
TITLE = "mlgate monitor: churn"


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory, starter: Path) -> Path:
    return make_user_repo(tmp_path_factory.mktemp("monitor"), starter)


def _production(repo: Path, *, drifted: bool) -> None:
    """The capture folder the workflow's edited step would fetch, written by the serving
    container's capture writer from the evaluation rows (shifted when ``drifted``), and the
    labels known so far."""
    import shutil

    import pandas as pd

    from mlgate import formats
    from mlgate.serve.capture import Capture, CaptureSettings

    model_dir = repo / "models" / "churn"
    frame = pd.read_csv(model_dir / "data" / "eval.csv")
    features = [c for c in frame.columns if c not in ("churned", "gender")]
    rows = frame[features].copy()
    if drifted:
        rows["tenure_months"] += 18
        rows["monthly_charges"] *= 1.3
        rows["contract"] = "monthly"
    estimator = formats.load(model_dir / "artifacts" / "model.skops")
    predictions = estimator.predict(rows).tolist()
    folder = repo / "production" / "churn"
    shutil.rmtree(folder, ignore_errors=True)
    identity = {"model": "churn", "version": "v0.1.0", "sha256": None}
    capture = Capture(CaptureSettings(folder / "capture"), identity, features)
    records = rows.astype(object).to_numpy().tolist()
    for n, (values, predicted) in enumerate(zip(records, predictions, strict=True)):
        capture.offer(f"req-{n}", [[v] for v in values], [predicted])
    capture.close()
    assert capture.counts.captured == len(rows)
    labels = pd.DataFrame({"request_id": [f"req-{n}" for n in range(len(rows))],
                           "churned": frame["churned"]})  # fmt: skip
    labels.to_csv(folder / "labels.csv", index=False)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "Production capture" + (" (drifted)" if drifted else ""))


def _run(act: Act, github: FakeGitHub, repo: Path, label: str, pip: dict[str, str]) -> ActRun:
    run = act.run(
        repo, "schedule", {"schedule": "17 6 * * *"}, WORKFLOW, label=label,
        secrets={"GITHUB_TOKEN": TOKEN}, env={"GITHUB_API_URL": github.api_url, **pip},
    )  # fmt: skip
    assert run.exit_code == 0, run.describe()
    models, monitor = run.job("Models"), run.job("Monitor churn")
    assert run.jobs[models] == run.jobs[monitor] == "success", run.describe()
    assert "## mlgate monitor: `churn`" in run.summaries[monitor]
    files = run.artifact_files()
    (archive,) = [p for rel, p in files.items() if rel.endswith("/mlgate-monitor-churn.zip")]
    with zipfile.ZipFile(archive) as uploaded:
        assert {"monitor.json", "monitor.md"} <= set(uploaded.namelist())
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
    assert [label["name"] for label in issue["labels"]] == ["mlgate-monitor"]
    assert "Scheduled monitoring of `churn` in production" in issue["body"]
    assert "drift.dataset" in issue["body"]

    _production(repo, drifted=False)
    _run(act, github, repo, "monitor (back within limits)", offline_pip)
    (issue,) = _ours(github)
    assert issue["state"] == "closed"
    assert issue["state_reason"] == "completed"
    assert github.comments[issue["number"]][-1]["body"].startswith("Back within limits: ")
