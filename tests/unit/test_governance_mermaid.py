"""The comment's Mermaid charts: labels that cannot break out, side-by-side champion bars, and
the tables alone when the charts would not fit GitHub's comment size."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlgate.config.loader import load_config
from mlgate.github.actions import RunContext
from mlgate.governance import mermaid
from mlgate.governance import render_md as render_md_mod
from mlgate.governance import report as report_mod
from mlgate.governance.lineage import GitInfo
from mlgate.governance.registry_view import RegistryContext
from mlgate.governance.render_md import render_markdown
from mlgate.governance.report_model import ReportData
from tests.report_fixtures import write_all


@pytest.mark.parametrize("name", ['a"]\nbar [9]', "```", "x` ``` y", "[x](y)", "é" * 40])
def test_labels_stay_inside_their_quotes(name: str) -> None:
    text = mermaid.label(name)
    assert '"' not in text
    assert "`" not in text
    assert "\n" not in text
    assert "[" not in text
    assert len(text) <= mermaid.LABEL_CHARS


@pytest.fixture
def data(starter: Path, monkeypatch: pytest.MonkeyPatch) -> ReportData:
    info = GitInfo("a" * 40, "main", {"name": "Ada"}, dirty=False, date=None)
    monkeypatch.setattr(report_mod, "git_info", lambda _root, _run: info)
    registry = RegistryContext(available=False, note="not read", champion_stage="prod")
    monkeypatch.setattr(report_mod, "registry_context", lambda _c, _m: registry)
    out = starter / ".mlgate" / "out" / "churn"
    write_all(out)
    cfg = load_config(starter / "mlgate.yaml")
    return report_mod.build_report_data(cfg, cfg.model(), out, run=RunContext())


def test_challenger_and_champion_bars_stand_side_by_side(data: ReportData) -> None:
    (chart,) = mermaid.metrics_chart(data)
    lines = chart.source.splitlines()
    assert 'x-axis ["log_loss", "log_loss (prod)", "roc_auc", "roc_auc (prod)"]' in lines[3]
    assert lines[-2].strip() == "bar [0.52, 0, 0.83, 0]"
    assert lines[-1].strip() == "bar [0, 0.55, 0, 0.81]"


def test_drift_puts_p_values_and_distances_apart_with_threshold_lines(
    data: ReportData,
) -> None:
    charts = mermaid.drift_chart(data)
    assert [c.key for c in charts] == ["drift-p-value"]  # the fixture's tests are all p-values
    assert "line [0.05, 0.05, 0.05]" in charts[0].source


def test_the_charts_go_before_the_comment_gets_too_long(
    data: ReportData, monkeypatch: pytest.MonkeyPatch
) -> None:
    full = render_markdown(data)
    assert full.count("```mermaid") == 4
    monkeypatch.setattr(render_md_mod, "COMMENT_BUDGET", len(full) - 1)
    cut = render_markdown(data)
    assert "```mermaid" not in cut
    assert "Charts left out to fit GitHub's comment size" in cut
    assert "| roc_auc | 0.83 | 0.81 | +0.02 | ✅ |" in cut  # the tables stay
