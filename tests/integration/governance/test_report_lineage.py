"""The report's lineage when the model has no lock and no run record: the training environment
as probed (the interpreter the model trains with), not the one mlgate runs in."""

from __future__ import annotations

import json
import platform
import sys
from pathlib import Path

import pytest

from mlgate import proc
from tests.conftest import invoke
from tests.integration.governance.conftest import out_dir
from tests.report_fixtures import write_all


def test_without_a_lock_the_lineage_describes_the_training_environment(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The model trains with another interpreter than mlgate's: a bare virtual environment.
    trains = tmp_path / "trains"
    proc.run([sys.executable, "-m", "venv", "--without-pip", str(trains)])
    monkeypatch.setenv("MLGATE_TRAIN_PYTHON", str(trains / "bin" / "python"))
    write_all(out_dir(repo))
    result = invoke("report", cwd=repo)
    assert result.exit_code == 0, result.output
    lineage = json.loads((out_dir(repo) / "report.json").read_text())["lineage"]
    assert lineage["environment_source"] == "this machine"
    environment = lineage["environment"]
    assert environment["python"] == platform.python_version()
    # Its packages, not those mlgate runs with (numpy and pandas are beside mlgate only).
    assert set(environment["packages"]) == {"mlgate"}, environment
