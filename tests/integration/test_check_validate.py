"""`mlgate check --stage validate`: the gates' verdicts join the combined verdict, and a failed
gate is annotated on the mlgate.yaml line that set its bound."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlgate.verdict import read_verdict
from tests.conftest import invoke


def test_failed_gate_is_annotated_at_its_bound(
    starter: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = starter / "mlgate.yaml"
    text = config.read_text().replace(
        "champion: {stage: prod, on_missing: value-only}", "champion: {on_missing: value-only}"
    )
    config.write_text(
        text.replace(
            "roc_auc: {direction: higher, min: 0.75", "roc_auc: {direction: higher, min: 0.99"
        )
    )
    line = next(n for n, t in enumerate(config.read_text().splitlines(), 1) if "min: 0.99" in t)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    result = invoke("check", "--stage", "train", "--stage", "validate", cwd=starter)
    assert result.exit_code == 1, result.output
    errors = [x for x in result.stdout.splitlines() if x.startswith("::error ")]
    assert any(f"file=mlgate.yaml,line={line}," in e and "roc_auc" in e for e in errors), errors
    verdict = read_verdict(starter / ".mlgate" / "out" / "churn" / "check.json")
    assert verdict.context["stages"] == ["train", "validate"]
    failed = [c for c in verdict.checks if c.failed]
    assert [c.config_key[:3] for c in failed if c.config_key] == [("gates", "metrics", "roc_auc")]
    assert (starter / ".mlgate" / "out" / "churn" / "validation.json").is_file()
