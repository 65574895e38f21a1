"""``mlgate check`` re-runs training once, not twice: the check's own training run (or the run
the run cache reused) is the first run. When the run cache skipped training and an isolated
re-run of the same inputs already agreed with the same outputs, there is no re-run at all."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from mlgate.repro import agreed
from mlgate.verdict import read_verdict
from tests.conftest import invoke

STAGES = ("--stage", "train", "--stage", "repro")


def _rerun(starter: Path) -> dict:
    verdict = read_verdict(starter / ".mlgate/out/churn/repro.json")
    (check,) = [c for c in verdict.checks if c.id.startswith("repro.rerun")][:1]
    assert check.status.value == "pass", check
    return dict(verdict.context["rerun"])


@pytest.mark.slow
def test_one_rerun_then_none_while_inputs_and_outputs_stay(
    starter: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The starter's "python train.py" runs this interpreter, with the libraries it needs.
    monkeypatch.setenv("PATH", str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"])
    first = invoke("check", *STAGES, cwd=starter)
    assert "re-run 1/1 of churn" in first.output, first.output
    assert "re-run 2/" not in first.output
    context = _rerun(starter)
    assert (context["runs"], context["compared_with"]) == (1, "the working tree")
    assert len(context["durations_s"]) == 1
    records = list((starter / ".mlgate/cache" / agreed.FOLDER).glob("*.json"))
    assert len(records) == 1

    second = invoke("check", *STAGES, cwd=starter)
    assert "training skipped" in second.output, second.output
    assert "re-run" not in second.output.replace("re-run not repeated", "")
    context = _rerun(starter)
    assert context["runs"] == 0
    assert context["reused"]

    # Without the remembered agreement, a cached training still gets its one re-run.
    records[0].unlink()
    third = invoke("check", *STAGES, cwd=starter)
    assert "training skipped" in third.output
    assert "re-run 1/1 of churn" in third.output
    assert _rerun(starter)["runs"] == 1
