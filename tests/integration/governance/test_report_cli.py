"""``mlgate report`` and ``mlgate card`` end to end on a real git repository."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from mlgate.config.validate import problems
from mlgate.config.yamlsource import SourceMap
from tests.conftest import invoke
from tests.integration.governance.conftest import out_dir
from tests.report_fixtures import write_all


def test_report_writes_every_format_and_the_governance_verdict(repo: Path) -> None:
    write_all(out_dir(repo))
    result = invoke("report", cwd=repo)
    assert result.exit_code == 0, result.output
    assert "churn: report PASS  (exit 0)" in result.stdout
    out = out_dir(repo)
    for name in ("report.md", "report.html", "report.json", "governance.json"):
        assert (out / name).is_file(), name
    document = json.loads((out / "report.json").read_text())
    assert problems(document, "report", SourceMap("report.json")) == []
    head = (repo / ".git" / "HEAD").read_text()
    assert head.startswith("ref: refs/heads/main")
    assert document["lineage"]["git"]["branch"] == "main"
    assert len(document["lineage"]["git"]["commit"]) == 40
    assert document["lineage"]["git"]["author"]["name"] == "mlgate tests"
    assert document["diagnostics"]["kind"] == "confusion_matrix"
    assert sum(map(sum, document["diagnostics"]["matrix"])) == 1500
    assert document["missing_evidence"] == ["lock", "run"]
    verdict = json.loads((out / "governance.json").read_text())
    assert verdict["kind"] == "governance"
    assert verdict["ok"] is True


def test_report_is_byte_for_byte_reproducible(repo: Path) -> None:
    write_all(out_dir(repo))
    invoke("report", cwd=repo)
    first = {p.name: p.read_bytes() for p in out_dir(repo).glob("report.*")}
    invoke("report", cwd=repo)
    second = {p.name: p.read_bytes() for p in out_dir(repo).glob("report.*")}
    assert first == second


def test_json_output_lists_files_and_digests(repo: Path) -> None:
    result = invoke("report", "--format", "md", "--json", cwd=repo)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    (model,) = data["models"]
    assert set(model["files"]) == {"verdict", "md"}
    assert model["digests"]["md"].startswith("sha256:")
    assert model["missing_evidence"] == ["lock", "run", "repro", "validation", "drift"]
    assert not (out_dir(repo) / "report.html").exists()


def test_a_missing_required_field_fails_the_gate_and_still_writes(repo: Path) -> None:
    card = repo / "models" / "churn" / "model_card.yaml"
    data = yaml.safe_load(card.read_text())
    del data["intended_use"]
    card.write_text(yaml.safe_dump(data))
    result = invoke("report", cwd=repo)
    assert result.exit_code == 1
    assert "required card field 'intended_use' is missing" in result.stdout
    md = (out_dir(repo) / "report.md").read_text()
    assert "❌" in md
    assert "intended_use" in md
    verdict = json.loads((out_dir(repo) / "governance.json").read_text())
    assert verdict["ok"] is False
    (failed,) = [c for c in verdict["checks"] if c["status"] == "fail"]
    assert failed["config_key"] == ["governance", "required", 1]


def test_a_wrongly_typed_card_fails_with_the_line(repo: Path) -> None:
    card = repo / "models" / "churn" / "model_card.yaml"
    card.write_text(card.read_text().replace("risk: limited", "risk: 3"))
    result = invoke("report", "--format", "md", cwd=repo)
    assert result.exit_code == 1
    line = next(i for i, t in enumerate(card.read_text().splitlines(), 1) if t.startswith("risk:"))
    assert f"models/churn/model_card.yaml:{line}" in result.stdout
    assert (out_dir(repo) / "report.md").is_file()


def test_bad_flags_are_usage_errors(repo: Path) -> None:
    result = invoke("report", "--format", "pdf", cwd=repo)
    assert result.exit_code == 2
    assert "unknown report format 'pdf'" in result.stderr
    result = invoke("report", "--model", "chrun", cwd=repo)
    assert result.exit_code == 2
    assert "did you mean 'churn'?" in result.stderr


def test_out_folder_is_honoured(repo: Path, tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    write_all(target)
    result = invoke("report", "--out", str(target), "--json", cwd=repo)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["models"][0]["missing_evidence"] == ["lock", "run"]
    assert (target / "report.html").is_file()


def test_card_export_hf_and_mct(repo: Path) -> None:
    write_all(out_dir(repo))
    result = invoke("card", "export", "--hf", cwd=repo)
    assert result.exit_code == 0, result.output
    readme = (out_dir(repo) / "README.md").read_text()
    head = yaml.safe_load(readme.split("---\n")[1])
    assert head["license"] == "apache-2.0"
    metrics = head["model-index"][0]["results"][0]["metrics"]
    assert {m["type"] for m in metrics} == {"roc_auc", "log_loss"}
    target = repo / "card.json"
    result = invoke("card", "export", "--mct", "--out", str(target), cwd=repo)
    assert result.exit_code == 0, result.output
    mct = json.loads(target.read_text())
    assert mct["model_details"]["name"] == "churn"
    names = {d["name"] for d in mct["model_parameters"]["data"]}
    assert names == {"models/churn/data/train.csv", "models/churn/data/eval.csv"}


def test_card_check_exit_codes(repo: Path) -> None:
    assert invoke("card", "check", cwd=repo).exit_code == 0
    card = repo / "models" / "churn" / "model_card.yaml"
    card.write_text(card.read_text().replace("risk: limited\n", ""))
    result = invoke("card", "check", cwd=repo)
    assert result.exit_code == 1
    assert "required card field 'risk' is missing" in result.stdout


def test_a_verdict_on_another_model_file_is_stale(repo: Path) -> None:
    import dataclasses

    from mlgate.verdict import write_verdict
    from tests.report_fixtures import validation_verdict

    verdict = validation_verdict()
    context = {**verdict.context, "challenger": {"sha256": "0" * 64}}
    write_verdict(out_dir(repo) / "validation.json", dataclasses.replace(verdict, context=context))
    result = invoke("report", "--format", "json,md", cwd=repo)
    assert result.exit_code == 0, result.output
    document = json.loads((out_dir(repo) / "report.json").read_text())
    (item,) = [i for i in document["evidence"] if i["kind"] == "validation"]
    assert item["stale"].startswith("judged model file sha256:000000000000, the model file now")
    markdown = (out_dir(repo) / "report.md").read_text()
    assert "Stale evidence" in markdown
    assert "| Validation | ⚠️ stale |" in markdown
    governance = json.loads((out_dir(repo) / "governance.json").read_text())
    (warning,) = [c for c in governance["checks"] if c["id"] == "evidence.validation"]
    assert warning["status"] == "warn"
    assert warning["observed"] == "stale"


def _judged_validation(repo: Path, *, fail: bool = False) -> None:
    """A validation verdict carrying the fingerprint of the model, lock and data as they are."""
    import dataclasses

    from mlgate.config.loader import load_config
    from mlgate.repro import judged
    from mlgate.verdict import write_verdict
    from tests.report_fixtures import validation_verdict

    model = load_config(repo / "mlgate.yaml").model()
    verdict = validation_verdict(fail=fail)
    context = {**verdict.context, judged.KEY: judged.take(model)}
    write_verdict(out_dir(repo) / "validation.json", dataclasses.replace(verdict, context=context))


def _headline(repo: Path) -> str:
    return (out_dir(repo) / "report.md").read_text().splitlines()[0]


def test_the_exit_status_and_the_headline_agree(repo: Path) -> None:
    _judged_validation(repo, fail=True)
    result = invoke("report", cwd=repo)
    assert result.exit_code == 1, result.output
    assert "churn: report FAIL  (exit 1)" in result.stdout
    assert "validation FAIL" in result.stdout
    assert _headline(repo) == "## ❌ mlgate report: `churn` — FAIL"
    _judged_validation(repo)
    result = invoke("report", cwd=repo)
    assert result.exit_code == 0, result.output
    assert "churn: report PASS  (exit 0)" in result.stdout
    assert _headline(repo) == "## ✅ mlgate report: `churn` — PASS"


def _change_model(repo: Path) -> str:
    import shutil

    model = repo / "models/churn/artifacts/model.skops"
    shutil.copy(model, repo / "old.skops")
    (repo / "models/churn/artifacts/metrics.json").write_text("{}")
    with model.open("ab") as fh:
        fh.write(b"\0")  # another file: its sha256 changes
    return "it judged model file sha256:"


def _change_data(repo: Path) -> str:
    path = repo / "models/churn/data/eval.csv"
    lines = path.read_text().splitlines()
    path.write_text("\n".join([*lines, lines[-1]]) + "\n")
    return "data file models/churn/data/eval.csv changed since"


def _change_lock(repo: Path) -> str:
    params = repo / "models/churn/params.yaml"
    params.write_text(params.read_text().replace("C: 1.0", "C: 0.5"))
    assert invoke("lock", cwd=repo).exit_code == 0
    return "the lock entry changed since"


@pytest.mark.parametrize("change", [_change_model, _change_data, _change_lock])
def test_stale_evidence_of_each_kind_is_a_warning_never_a_pass(
    repo: Path, change: Callable[[Path], str]
) -> None:
    assert invoke("lock", cwd=repo).exit_code == 0
    _judged_validation(repo)
    assert invoke("report", cwd=repo).exit_code == 0
    assert _headline(repo).endswith("— PASS")
    reason = change(repo)
    result = invoke("report", cwd=repo)
    assert result.exit_code == 0, result.output  # a warning: the report does not fail
    assert "churn: report WARN (stale evidence)" in result.stdout
    assert reason in result.stdout
    markdown = (out_dir(repo) / "report.md").read_text()
    assert _headline(repo) == "## ⚠️ mlgate report: `churn` — WARN: stale evidence"
    assert "| Validation | ⚠️ stale |" in markdown
    assert reason in markdown
    html = (out_dir(repo) / "report.html").read_text()
    assert "WARN: stale evidence" in html
    document = json.loads((out_dir(repo) / "report.json").read_text())
    assert document["ok"] is False
    (item,) = [i for i in document["evidence"] if i["kind"] == "validation"]
    assert reason in item["stale"]


def test_only_a_monitor_verdict_counts_as_production_monitoring(repo: Path) -> None:
    write_all(out_dir(repo))  # a train-vs-eval drift verdict: not monitoring
    assert invoke("report", "--format", "json", cwd=repo).exit_code == 0

    def nist() -> dict[str, str]:
        document = json.loads((out_dir(repo) / "report.json").read_text())
        items = document["compliance"]["frameworks"][1]["items"]
        return {i["id"]: i["status"] for i in items}

    assert nist()["MEASURE 3.1"] == "missing"
    production = repo / "models/churn/data/eval.csv"
    done = invoke("drift", "--production", "--current", str(production), cwd=repo)
    assert done.exit_code == 0, done.output
    monitor = json.loads((out_dir(repo) / "monitor.json").read_text())
    assert monitor["kind"] == "monitor"
    result = invoke("report", "--format", "json,md", cwd=repo)
    assert result.exit_code == 0, result.output
    assert nist()["MEASURE 3.1"] == "present"
    assert "| Production monitoring | ✅ pass |" in (out_dir(repo) / "report.md").read_text()
