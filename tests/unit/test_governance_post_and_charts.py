"""Where to post (the Actions event), and the charts that need diagnostics."""

from __future__ import annotations

import dataclasses
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from mlgate.config.loader import load_config
from mlgate.github.actions import RunContext
from mlgate.governance import report as report_mod
from mlgate.governance.charts import confusion_chart, residuals_chart
from mlgate.governance.diagnostics import Diagnostics, diagnose
from mlgate.governance.lineage import GitInfo
from mlgate.governance.post import post_target
from mlgate.governance.registry_view import RegistryContext
from mlgate.governance.report_model import ReportData
from mlgate.verdict import Verdict


def _event(tmp_path: Path, head: str, base: str = "acme/models", fork: bool = False) -> str:
    path = tmp_path / "event.json"
    pr = {
        "number": 9,
        "head": {"repo": {"full_name": head, "fork": fork}},
        "base": {"repo": {"full_name": base}},
    }
    path.write_text(json.dumps({"pull_request": pr}))
    return str(path)


def test_target_from_a_pull_request_event(tmp_path: Path) -> None:
    env = {
        "GITHUB_EVENT_PATH": _event(tmp_path, "acme/models"),
        "GITHUB_REPOSITORY": "acme/models",
        "GITHUB_RUN_ID": "77",
    }
    target = post_target(RunContext.from_env(env))
    assert (target.pr_number, target.fork) == (9, False)
    assert target.run_url == "https://github.com/acme/models/actions/runs/77"


def test_a_fork_is_recognised(tmp_path: Path) -> None:
    target = post_target(
        RunContext.from_env({"GITHUB_EVENT_PATH": _event(tmp_path, "someone/models", fork=True)})
    )
    assert target.fork


def test_the_ref_and_the_flag_give_the_number() -> None:
    assert post_target(RunContext.from_env({"GITHUB_REF": "refs/pull/31/merge"})).pr_number == 31
    assert post_target(RunContext.from_env({"GITHUB_REF": "refs/heads/main"})).pr_number is None
    assert post_target(RunContext(), pr_number=5).pr_number == 5
    assert (
        post_target(RunContext.from_env({"GITHUB_EVENT_PATH": "/nonexistent/event.json"})).pr_number
        is None
    )


def _report(starter: Path, monkeypatch: pytest.MonkeyPatch) -> ReportData:
    monkeypatch.setattr(report_mod, "git_info", lambda _root, _run: GitInfo(None, None))
    no_registry = RegistryContext(available=False, note="not read in unit tests")
    monkeypatch.setattr(report_mod, "registry_context", lambda _c, _m: no_registry)
    cfg = load_config(starter / "mlgate.yaml")
    return report_mod.build_report_data(cfg, cfg.model(), starter / "out", run=RunContext())


def test_confusion_matrix_from_the_verdict_context(
    starter: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = load_config(starter / "mlgate.yaml")
    context = {"confusion_matrix": {"labels": ["no", "yes"], "matrix": [[50, 5], [7, 38]]}}
    diag = diagnose(cfg.model(), Verdict("validation", "churn", (), (), context))
    assert (diag.kind, diag.rows, diag.source) == ("confusion_matrix", 100, "validation verdict")
    data = dataclasses.replace(_report(starter, monkeypatch), diagnostics=diag)
    chart = confusion_chart(data)
    assert chart is not None
    root = ET.fromstring(chart.svg)  # noqa: S314 - our own output
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert {"50", "5", "7", "38", "predicted", "actual"} <= set(texts)


def test_residual_plot_for_regression(starter: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    points = tuple((float(i), (-1.0) ** i * i / 10) for i in range(50))
    diag = Diagnostics("residuals", points=points, rows=50, source="m on e")
    data = dataclasses.replace(_report(starter, monkeypatch), diagnostics=diag)
    chart = residuals_chart(data)
    assert chart is not None
    root = ET.fromstring(chart.svg)  # noqa: S314 - our own output
    assert len(list(root.iter("{http://www.w3.org/2000/svg}circle"))) == 50
    assert confusion_chart(data) is None


def test_without_a_model_file_the_reason_is_given(
    starter: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = _report(starter, monkeypatch)
    assert data.diagnostics.kind == "none"
    assert data.diagnostics.reason == "no model file at models/churn/artifacts/model.skops"
