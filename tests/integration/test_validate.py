"""``mlgate validate`` on the trained starter: passing, failing, and every kind of bad input."""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

import pandas as pd
import pytest

from mlgate import proc
from mlgate.config.validate import validate as validate_schema
from mlgate.config.yamlsource import SourceMap
from mlgate.verdict import read_verdict
from tests.conftest import invoke


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The starter project, trained once; tests work on copies of it."""
    from mlgate.starter import InitRequest, init_project

    project = tmp_path_factory.mktemp("trained") / "starter"
    init_project(InitRequest(project))
    proc.run([sys.executable, "train.py"], cwd=project / "models" / "churn")
    shutil.copy(project / "models/churn/artifacts/model.skops", project / "champion.skops")
    return project


@pytest.fixture
def project(trained: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "project"
    shutil.copytree(trained, copy)
    return copy


def config_without_registry(project: Path, *edits: tuple[str, str]) -> None:
    """No registry stage (no champion unless --champion is given), plus ``(old, new)`` edits."""
    path = project / "mlgate.yaml"
    text = path.read_text().replace(
        "champion: {stage: prod, on_missing: value-only}", "champion: {on_missing: value-only}"
    )
    for old, new in edits:
        assert old in text
        text = text.replace(old, new)
    path.write_text(text)


def retrain_worse(project: Path) -> None:
    model_dir = project / "models" / "churn"
    params = model_dir / "params.yaml"
    text = params.read_text()
    text = re.sub(r"^model: \w+", "model: gradient_boosting", text, flags=re.M)
    text = re.sub(r"^n_estimators: \d+", "n_estimators: 5", text, flags=re.M)
    text = re.sub(r"^max_depth: \d+", "max_depth: 1", text, flags=re.M)
    params.write_text(text)
    proc.run([sys.executable, "train.py"], cwd=model_dir)


def test_same_model_as_champion_passes_and_writes_verdicts(project: Path) -> None:
    result = invoke("validate", "--champion", "champion.skops", cwd=project)
    assert result.exit_code == 0, result.output
    assert "validation of churn: PASS" in result.stdout
    assert "drift of churn: PASS" in result.stdout
    out = project / ".mlgate" / "out" / "churn"
    verdict = read_verdict(out / "validation.json")
    ids = {c.id for c in verdict.checks}
    assert {
        "metric.roc_auc.max_regression",
        "slice.gender.roc_auc.max_gap",
        "data.age",
        "model.champion",
    } <= ids
    assert read_verdict(out / "drift.json").kind == "drift"
    contract = json.loads((out / "data_contract.json").read_text())
    validate_schema(contract, "data_contract", SourceMap("data_contract.json"), what="contract")
    assert {c["name"] for c in contract["columns"]} >= {"age", "churned", "gender", "region"}


def test_a_worse_challenger_fails_with_reasons_and_config_lines(project: Path) -> None:
    retrain_worse(project)
    result = invoke("validate", "--champion", "champion.skops", cwd=project)
    assert result.exit_code == 1, result.output
    assert "validation of churn: FAIL" in result.stdout
    assert re.search(
        r"metric\.roc_auc\.max_regression: roc_auc 0\.\d+ vs champion 0\.\d+: "
        r"0\.\d+ \(\d+\.\d+%\) worse, beyond the allowed loss of 0\.01",
        result.stdout,
    )
    assert re.search(
        r"configured at .*mlgate\.yaml:\d+:\d+ \(models\[0\]\.gates\.metrics\."
        r"roc_auc\.max_regression\)",
        result.stdout,
    )


def test_json_output_and_out_folder(project: Path, tmp_path: Path) -> None:
    retrain_worse(project)
    result = invoke(
        "validate",
        "--champion",
        "champion.skops",
        "--json",
        "--out",
        str(tmp_path / "v"),
        cwd=project,
    )
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["exit_code"] == 1
    failed = [c["id"] for c in data["models"][0]["validation"]["checks"] if c["status"] == "fail"]
    assert "metric.log_loss.max_regression_relative" in failed
    assert (tmp_path / "v" / "validation.json").is_file()


def test_without_a_champion_value_bounds_only(project: Path) -> None:
    config_without_registry(project)
    result = invoke("validate", cwd=project)
    assert result.exit_code == 0, result.output
    assert "no champion to compare with; value bounds only" in result.stdout
    config_without_registry(project, ("on_missing: value-only", "on_missing: fail"))
    assert invoke("validate", cwd=project).exit_code == 1


def test_a_registry_stage_without_the_registry_is_a_clear_usage_error(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "mlgate.registry.champion", None)
    result = invoke("validate", cwd=project)
    assert result.exit_code == 2
    assert (
        "champion 'prod' (from gates.champion.stage in mlgate.yaml) is a registry reference"
        in result.stderr
    )
    assert "--champion PATH" in result.stderr


def test_evaluation_data_without_the_target_is_exit_2(project: Path) -> None:
    data = project / "models/churn/data/eval.csv"
    pd.read_csv(data).drop(columns="churned").to_csv(data, index=False)
    result = invoke("validate", "--champion", "champion.skops", cwd=project)
    assert result.exit_code == 2
    assert "has no target column 'churned'" in result.stderr
    assert "mlgate.yaml" in result.stderr


def test_empty_evaluation_data_is_exit_2(project: Path) -> None:
    data = project / "models/churn/data/eval.csv"
    data.write_text(data.read_text().splitlines()[0] + "\n")
    result = invoke("validate", "--champion", "champion.skops", cwd=project)
    assert result.exit_code == 2
    assert "evaluation data has no rows" in result.stderr


def test_wrong_dtypes_fail_naming_the_column_and_value(project: Path) -> None:
    data = project / "models/churn/data/eval.csv"
    frame = pd.read_csv(data)
    frame["age"] = frame["age"].astype(str)
    frame.loc[5, "age"] = "unknown"
    frame.to_csv(data, index=False)
    result = invoke("validate", "--champion", "champion.skops", "--json", cwd=project)
    assert result.exit_code == 1
    checks = {c["id"]: c for c in json.loads(result.stdout)["models"][0]["validation"]["checks"]}
    assert checks["data.age.dtype"]["status"] == "fail"
    assert "'unknown'" in checks["data.age.dtype"]["message"]
    assert checks["model.challenger"]["status"] == "fail"
    assert "predict raised" in checks["model.challenger"]["message"]
    assert checks["metric.roc_auc"]["status"] == "fail"


def test_a_feature_the_model_needs_is_missing(project: Path) -> None:
    data = project / "models/churn/data/eval.csv"
    pd.read_csv(data).drop(columns="plan").to_csv(data, index=False)
    result = invoke("validate", "--champion", "champion.skops", cwd=project)
    assert result.exit_code == 1
    assert "lacks column(s) the model needs: plan" in result.stdout
    assert "column 'plan' is missing from the evaluation data" in result.stdout


def test_unknown_metric_name_is_exit_2_with_did_you_mean(project: Path) -> None:
    config_without_registry(project, ("roc_auc: {direction", "roc_acu: {direction"))
    result = invoke("validate", cwd=project)
    assert result.exit_code == 2
    assert "unknown metric 'roc_acu'" in result.stderr
    assert "did you mean 'roc_auc'?" in result.stderr
    assert re.search(r"mlgate\.yaml:\d+:\d+", result.stderr)


def test_a_custom_metric_returning_nan_fails(project: Path) -> None:
    (project / "models/churn/odd_metrics.py").write_text(
        "def nothing(y, labels):\n    return float('nan')\n"
    )
    accuracy = "accuracy: {direction: higher, min: 0.65}"
    odd = "odd: {direction: higher, min: 0, function: 'odd_metrics:nothing'}"
    config_without_registry(project, (accuracy, f"{accuracy}\n        {odd}"))
    result = invoke("validate", cwd=project)
    assert result.exit_code == 1, result.output
    assert "odd could not be computed: the value is nan (not a finite number)" in result.stdout


def test_an_untrusted_pickle_champion_is_refused(project: Path) -> None:
    import joblib

    from mlgate import formats

    model = formats.load(project / "champion.skops")
    joblib.dump(model, project / "champion.joblib")
    result = invoke("validate", "--champion", "champion.joblib", cwd=project)
    assert result.exit_code == 1
    assert "mlgate does not unpickle files unless the configuration trusts them" in result.stderr


def test_bootstrap_budgets_and_slice_bounds(project: Path) -> None:
    auc = "roc_auc: {direction: higher, min: 0.75, max_regression: 0.01"
    budgets = (
        "budgets: {max_file_size_mb: 5, latency_p50_ms: 1000, latency_p95_ms: 2000, "
        "latency_rows: 20}"
    )
    gap = "max_gap: {roc_auc: 0.12}"
    config_without_registry(
        project,
        (auc + "}", auc + ", bootstrap: true}"),
        (
            "      drift:",
            f"      {budgets}\n      bootstrap: {{samples: 200, seed: 1}}\n      drift:",
        ),
        (gap, f"{gap}\n        metrics: {{accuracy: {{min: 0.6}}}}"),
    )
    result = invoke("validate", "--champion", "champion.skops", "--json", cwd=project)
    assert result.exit_code == 0, result.output
    checks = {c["id"]: c for c in json.loads(result.stdout)["models"][0]["validation"]["checks"]}
    boot = checks["metric.roc_auc.bootstrap"]
    assert boot["status"] == "pass"
    assert boot["details"]["samples"] == 200
    assert checks["budget.file_size"]["status"] == "pass"
    assert checks["budget.latency_p95"]["details"]["rows"] == 20
    assert checks["slice.region=west.accuracy.min"]["status"] == "pass"


def test_failures_become_annotations_on_github_actions(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    retrain_worse(project)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    result = invoke("validate", "--champion", "champion.skops", cwd=project)
    assert result.exit_code == 1
    annotations = [line for line in result.stdout.splitlines() if line.startswith("::error ")]
    assert any(
        line.startswith("::error file=mlgate.yaml,line=")
        and "title=mlgate metric.roc_auc.max_regression" in line
        for line in annotations
    ), annotations
