"""The starter project is a real ML repository: its training script runs and is seeded."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

from mlgate import proc


def test_training_script_runs_and_is_deterministic(starter: Path) -> None:
    model_dir = starter / "models" / "churn"
    first = proc.run([sys.executable, "train.py"], cwd=model_dir)
    metrics = json.loads((model_dir / "artifacts" / "metrics.json").read_text())
    assert metrics["roc_auc"] > 0.75
    second = proc.run([sys.executable, "train.py"], cwd=model_dir)
    assert first.stdout == second.stdout


def test_make_data_regenerates_identical_files(starter: Path) -> None:
    data = starter / "models" / "churn" / "data"
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in data.iterdir()}
    proc.run([sys.executable, "make_data.py"], cwd=data.parent)
    after = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in data.iterdir()}
    assert before == after


def test_failed_process_error_has_command_code_and_tail(tmp_path: Path) -> None:
    import pytest

    from mlgate.errors import ExternalError

    with pytest.raises(ExternalError) as info:
        proc.run([sys.executable, "-c", "import sys; print('out'); sys.exit(4)"], what="probe")
    assert info.value.message == "probe failed with exit code 4"
    assert any("exit code: 4" in d for d in info.value.details)
    assert any(d.strip() == "out" for d in info.value.details)
