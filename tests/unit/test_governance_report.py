"""Report assembly and rendering, without git (the git facts are given)."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from mlgate.config.loader import load_config
from mlgate.config.validate import problems
from mlgate.config.yamlsource import SourceMap
from mlgate.errors import UsageError
from mlgate.gates.results import drift_rows, metric_rows, slice_rows
from mlgate.gfm import text as esc
from mlgate.github.actions import RunContext
from mlgate.governance import report as report_mod
from mlgate.governance.charts import CHARTS, build_charts
from mlgate.governance.hf import front_matter, hf_readme
from mlgate.governance.lineage import GitInfo
from mlgate.governance.registry_view import RegistryContext
from mlgate.governance.render_md import render_markdown
from mlgate.governance.report import build_report_data, parse_formats, render
from mlgate.governance.report_model import ReportData
from mlgate.verdict import Check, Status, Verdict
from tests.report_fixtures import drift_verdict, validation_verdict, write_all

COMMIT = "a" * 40


@pytest.fixture
def fake_git(monkeypatch: pytest.MonkeyPatch) -> None:
    info = GitInfo(COMMIT, "feature/better-churn", {"name": "Ada", "email": "ada@example.com"},
                   dirty=False, date="2026-01-01T00:00:00+00:00")  # fmt: skip
    monkeypatch.setattr(report_mod, "git_info", lambda _root, _run: info)
    no_registry = RegistryContext(available=False, note="not read in unit tests")
    monkeypatch.setattr(report_mod, "registry_context", lambda _c, _m: no_registry)


def _data(project: Path) -> ReportData:
    cfg = load_config(project / "mlgate.yaml")
    model = cfg.model()
    return build_report_data(cfg, model, project / ".mlgate" / "out" / "churn", run=RunContext())


@pytest.fixture
def full(starter: Path, fake_git: None) -> ReportData:
    write_all(starter / ".mlgate" / "out" / "churn")
    return _data(starter)


def test_metric_rows_take_values_from_the_verdict_context() -> None:
    rows = {r.name: r for r in metric_rows(validation_verdict(fail=True), None)}
    assert rows["roc_auc"].value == 0.71
    assert rows["roc_auc"].champion == 0.81
    assert rows["roc_auc"].delta == pytest.approx(-0.10)
    assert rows["roc_auc"].status == "fail"
    assert rows["log_loss"].status == "pass"


def test_metric_row_status_ignores_a_skipped_change_bound_beside_a_pass() -> None:
    def check(suffix: str, status: Status) -> Check:
        return Check(f"metric.roc_auc.{suffix}", "metric", status, suffix, observed=0.8)

    first_model = Verdict(
        "validation", "churn", (check("min", Status.PASS), check("change", Status.SKIP))
    )
    only_skipped = Verdict("validation", "churn", (check("change", Status.SKIP),))
    assert metric_rows(first_model, None)[0].status == "pass"
    assert metric_rows(only_skipped, None)[0].status == "skip"


def test_metric_rows_fall_back_to_the_training_metrics_file() -> None:
    rows = metric_rows(None, {"auc": 0.8, "note": "text"})
    assert [(r.name, r.value, r.status) for r in rows] == [("auc", 0.8, "info")]


def test_slice_rows_read_ids_and_gap_details() -> None:
    rows = {(r.column, r.value, r.metric): r for r in slice_rows(validation_verdict())}
    assert rows[("region", "north", "roc_auc")].score == 0.84
    assert rows[("region", "north", "roc_auc")].size == 400
    assert rows[("gender", "f", "roc_auc")].score == 0.84
    assert rows[("gender", "m", "roc_auc")].score == 0.82


def test_drift_rows_skip_the_dataset_check() -> None:
    rows = drift_rows(drift_verdict())
    assert [(r.column, r.method, r.drifted) for r in rows] == [
        ("age", "ks", False),
        ("plan", "chi2", False),
        ("tenure_months", "ks", True),
    ]


def test_the_full_report_data(full: ReportData) -> None:
    assert full.governance.ok
    assert full.missing == tuple(i for i in full.evidence.items if i.kind in {"lock", "run"})
    assert full.metrics_source == "validation verdict"
    assert full.facts["verdict.validation.champion"]
    assert full.facts["verdict.validation.fairness"]
    assert full.facts["verdict.drift"]
    assert not full.facts["lineage.code"]  # no lock
    assert full.lineage.git.branch == "feature/better-churn"
    assert full.diagnostics.kind == "none"
    assert "no model file" in (full.diagnostics.reason or "")


def test_missing_evidence_is_said_plainly(starter: Path, fake_git: None) -> None:
    data = _data(starter)
    assert {i.kind for i in data.missing} == {"lock", "run", "repro", "validation", "drift"}
    text = render_markdown(data)
    assert "Missing evidence: **lock, run, repro, validation, drift**" in text
    assert "run `mlgate validate`" in text
    assert data.governance.ok  # missing evidence warns, it does not fail the governance gate
    assert {c.id for c in data.governance.checks if c.status.value == "warn"} == {
        "evidence.lock", "evidence.run", "evidence.repro", "evidence.validation", "evidence.drift",
    }  # fmt: skip


def test_a_verdict_for_another_model_or_unreadable_is_not_used(
    starter: Path, fake_git: None
) -> None:
    out = starter / ".mlgate" / "out" / "churn"
    write_all(out, model="fraud")
    (out / "repro.json").write_text("{not json")
    data = _data(starter)
    assert data.evidence.verdicts == {}
    problem = {i.kind: i.problem for i in data.missing}
    assert "for model 'fraud'" in (problem["validation"] or "")
    assert "unreadable verdict" in (problem["repro"] or "")


def test_a_verdict_from_another_commit_is_flagged_stale(starter: Path, fake_git: None) -> None:
    out = starter / ".mlgate" / "out" / "churn"
    write_all(out)
    data = json.loads((out / "drift.json").read_text())
    data["context"] = {"commit": "b" * 40}
    (out / "drift.json").write_text(json.dumps(data))
    report = _data(starter)
    (item,) = [i for i in report.evidence.items if i.stale]
    assert item.kind == "drift"
    assert item.stale
    assert "made at commit bbbbbbbbbbbb, HEAD is aaaaaaaaaaaa" in item.stale


def test_json_report_follows_its_schema(full: ReportData) -> None:
    document = json.loads(render(full, "json"))
    assert problems(document, "report", SourceMap("report.json")) == []
    assert document["gates"]["validation"]["ok"] is True
    assert document["metrics"]["rows"][1]["champion"] == 0.81
    eu = document["compliance"]["frameworks"][0]
    assert eu["counts"]["present"] + eu["counts"]["partial"] + eu["counts"]["missing"] > 0


def test_markdown_has_balanced_details_and_the_headline(full: ReportData) -> None:
    text = render_markdown(full, full_report="https://ci.example/runs/7")
    assert text.startswith("## ✅ mlgate report: `churn` — PASS")
    assert text.count("<details>") == text.count("</details>") >= 6
    assert "| roc_auc | 0.83 | 0.81 | +0.02 | ✅ |" in text
    assert "🔴 drifted" in text
    assert "Full report (HTML with charts): https://ci.example/runs/7" in text
    assert "EU AI Act, Annex IV" in text
    assert "NIST AI RMF" in text


def test_card_text_cannot_break_markdown_or_inject_html(starter: Path, fake_git: None) -> None:
    path = starter / "models" / "churn" / "model_card.yaml"
    card = yaml.safe_load(path.read_text())
    card["intended_use"] = "a | b <script>alert(1)</script>\n</details> end"
    path.write_text(yaml.safe_dump(card))
    data = _data(starter)
    text = render_markdown(data)
    assert "<script>" not in text
    assert "a \\| b \\<script\\>" in text
    assert text.count("<details>") == text.count("</details>")
    html = render(data, "html")
    assert "<script" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert esc("x|y\nz") == "x\\|y z"


def test_html_is_self_contained(full: ReportData) -> None:
    html = render(full, "html")
    assert html.startswith("<!DOCTYPE html>")
    assert "<script" not in html
    assert "<link" not in html
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    assert "@import" not in html
    assert "url(" not in html
    assert html.count("<svg") == 3  # metrics, slices, drift (no model file: no confusion matrix)


def test_charts_are_well_formed_svg(full: ReportData) -> None:
    charts = build_charts(full)
    assert [c.key for c in charts] == ["metrics", "slices", "drift"]
    for chart in charts:
        root = ET.fromstring(chart.svg)  # noqa: S314 - our own output
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        assert root.find("{http://www.w3.org/2000/svg}title") is not None
    metrics = charts[0].svg
    assert "roc_auc champion: 0.81" in metrics


def test_every_chart_builder_declines_without_data(starter: Path, fake_git: None) -> None:
    assert [k for k, build in CHARTS.items() if build(_data(starter)) is not None] == []
    metrics = starter / "models" / "churn" / "artifacts" / "metrics.json"
    metrics.parent.mkdir()
    metrics.write_text('{"roc_auc": 0.8, "log_loss": 0.5}')
    data = _data(starter)
    assert data.metrics_source == "training metrics file"
    assert [k for k, build in CHARTS.items() if build(data) is not None] == ["metrics"]


def test_hugging_face_front_matter(full: ReportData) -> None:
    meta = front_matter(full)
    assert meta["license"] == "apache-2.0"
    assert meta["pipeline_tag"] == "tabular-classification"
    (entry,) = meta["model-index"]
    overall = entry["results"][0]
    assert {m["type"]: m["value"] for m in overall["metrics"]} == {
        "log_loss": 0.52,
        "roc_auc": 0.83,
    }
    assert any("region=north" in r["dataset"]["name"] for r in entry["results"][1:])
    text = hf_readme(full)
    head, body = text.split("---\n", 2)[1:]
    assert yaml.safe_load(head)["model-index"][0]["name"] == "churn"
    assert "## Intended use" in body
    assert "## Limitations" in body


def test_formats_are_parsed_with_suggestions() -> None:
    assert parse_formats("md, html,md") == ("md", "html")
    with pytest.raises(UsageError, match="unknown report format 'htm'") as info:
        parse_formats("htm")
    assert "did you mean 'html'?" in (info.value.hint or "")
    with pytest.raises(UsageError, match="no report format"):
        parse_formats(" , ")
