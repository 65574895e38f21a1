"""The training environment is probed in a subprocess: another interpreter's version and
packages are what the lock, repro --check and the run record say, never mlgate's own."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from mlgate import proc
from mlgate.repro import environment
from tests.conftest import invoke


@pytest.fixture
def bare_python(tmp_path: Path) -> Path:
    """A virtual environment with nothing installed (not even pip)."""
    venv = tmp_path / "train-venv"
    proc.run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    return venv / "bin" / "python"


def test_another_interpreter_answers_for_the_lock_and_the_check(
    starter: Path, bare_python: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    trains = environment.probe(str(bare_python))
    assert trains.interpreter == str(bare_python)
    assert trains.minor == f"{sys.version_info.major}.{sys.version_info.minor}"
    assert "numpy" not in trains.packages  # the venv has nothing: mlgate's packages are not it
    # mlgate.yaml names it; the lock and repro --check ask it, not mlgate's interpreter.
    config = starter / "mlgate.yaml"
    config.write_text(
        config.read_text().replace(
            "      command: python train.py\n",
            f"      command: python train.py\n      python: {bare_python}\n",
        )
    )
    (starter / "requirements.txt").write_text("numpy==1.0.0\ndvclive>=3.0\n")
    env = {k: v for k, v in os.environ.items() if k not in {"GIT_DIR", "GIT_WORK_TREE"}}
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "starter"]):
        proc.run(["git", *args], cwd=starter, env=env)
    assert invoke("config", "check", cwd=starter).exit_code == 0
    models = starter / "models" / "churn"
    (models / "artifacts").mkdir(exist_ok=True)
    (models / "artifacts" / "model.skops").write_bytes(b"placeholder")
    (models / "artifacts" / "metrics.json").write_text("{}")
    out = invoke("lock", cwd=starter)
    assert out.exit_code == 0, out.output
    check = invoke("repro", "--check", "--json", cwd=starter)
    assert check.exit_code in (0, 1), check.output
    verdict = json.loads((starter / ".mlgate" / "out" / "churn" / "repro.json").read_text())
    by_id = {c["id"]: c for c in verdict["checks"]}
    unpinned = by_id["repro.environment.unpinned"]
    assert unpinned["status"] == "warn"
    assert "dvclive" in unpinned["message"]
    installed = by_id["repro.environment.installed"]
    assert installed["status"] == "warn"
    assert "numpy not installed (pinned 1.0.0)" in installed["message"]
    assert str(bare_python) in installed["message"]


def test_an_interpreter_that_cannot_answer_is_an_external_error(tmp_path: Path) -> None:
    from mlgate.errors import ExternalError

    broken = tmp_path / "python"
    broken.write_text("#!/bin/sh\necho broken >&2\nexit 3\n")
    broken.chmod(0o755)
    with pytest.raises(ExternalError, match=r"could not describe itself \(exit 3\): broken"):
        environment.probe(str(broken))
