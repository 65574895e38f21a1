"""One Δ everywhere: for a failing and for a passing challenger, ``mlgate validate``'s text, the
Markdown report (the PR comment), the HTML report and the JSON report show the same
sign-adjusted Δ (positive is better), including for log_loss, where lower is better."""

from __future__ import annotations

import html
import json
import re
import shutil
import sys
from pathlib import Path

import pytest

from mlgate import proc
from mlgate.verdict import DELTA_HEADER, format_number
from tests.conftest import invoke


def _train(project: Path, **params: object) -> None:
    model_dir = project / "models" / "churn"
    path = model_dir / "params.yaml"
    text = path.read_text()
    for key, value in params.items():
        text, n = re.subn(rf"^{key}: \S+", f"{key}: {value}", text, flags=re.M)
        assert n == 1, key
    path.write_text(text)
    proc.run([sys.executable, "train.py"], cwd=model_dir)


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The starter with two trained models: the starter's own and a much weaker one."""
    from mlgate.starter import InitRequest, init_project

    project = tmp_path_factory.mktemp("delta") / "starter"
    init_project(InitRequest(project))
    config = project / "mlgate.yaml"
    config.write_text(
        config.read_text().replace(
            "champion: {stage: prod, on_missing: value-only}", "champion: {on_missing: value-only}"
        )
    )
    artifacts = project / "models/churn/artifacts"
    _train(project)
    shutil.copy(artifacts / "model.skops", project / "good.skops")
    _train(project, model="gradient_boosting", n_estimators=3, max_depth=1)
    shutil.copy(artifacts / "model.skops", project / "weak.skops")
    return project


def _cli_deltas(stdout: str) -> dict[str, str]:
    """METRIC CHALLENGER CHAMPION Δ rows of ``mlgate validate``'s text."""
    found = {}
    for line in stdout.splitlines():
        parts = line.split()
        if len(parts) == 4 and re.fullmatch(r"[+-]\d[\d.e+-]*", parts[3]):
            found[parts[0]] = parts[3]
    return found


@pytest.mark.slow
@pytest.mark.parametrize(
    ("challenger", "champion", "exit_code"), [("weak", "good", 1), ("good", "weak", 0)]
)
def test_every_renderer_shows_the_cli_delta(
    models: Path, tmp_path: Path, challenger: str, champion: str, exit_code: int
) -> None:
    project = tmp_path / "p"
    shutil.copytree(models, project)
    shutil.copy(project / f"{challenger}.skops", project / "models/churn/artifacts/model.skops")
    validated = invoke("validate", "--champion", f"{champion}.skops", cwd=project)
    assert validated.exit_code == exit_code, validated.output
    assert DELTA_HEADER in validated.stdout
    cli = _cli_deltas(validated.stdout)
    assert set(cli) == {"roc_auc", "log_loss", "accuracy"}, validated.stdout
    # The sign says better or worse, whatever the metric's direction.
    want = "-" if challenger == "weak" else "+"
    assert cli["roc_auc"].startswith(want), cli
    assert cli["log_loss"].startswith(want), cli

    reported = invoke("report", cwd=project)
    out = project / ".mlgate/out/churn"
    markdown = (out / "report.md").read_text()
    page = html.unescape((out / "report.html").read_text())
    document = json.loads((out / "report.json").read_text())
    assert reported.exit_code == exit_code, reported.output  # the headline and the status agree
    assert DELTA_HEADER in markdown
    assert DELTA_HEADER in page
    rows = {r["name"]: r for r in document["metrics"]["rows"]}
    for name, shown in cli.items():
        md_row = next(line for line in markdown.splitlines() if line.startswith(f"| {name} |"))
        assert md_row.split("|")[4].strip() == shown, md_row
        cells = rf"<td>{name}</td>\s*(<td[^>]*>[^<]*</td>\s*){{2}}<td[^>]*>{re.escape(shown)}<"
        assert re.search(cells, page), name
        assert format_number(rows[name]["delta"], signed=True) == shown
