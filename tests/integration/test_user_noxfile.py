"""The starter's noxfile: `nox -s mlgate` runs the pull-request check locally, in its own venv."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from mlgate import gitio, proc
from mlgate.verdict import read_verdict
from tests.actions_harness import pip_cache_dir
from tests.conftest import invoke
from tests.workflow_files import ROOT

pytestmark = pytest.mark.slow


def test_nox_session_mlgate_runs_the_check(starter: Path) -> None:
    nox = Path(sys.executable).with_name("nox")
    if not nox.exists():
        pytest.fail("nox is not installed in the test environment")
    gitio.git(["init", "--quiet"], starter)
    gitio.git(["add", "--all"], starter)  # the lock fingerprints tracked code
    assert invoke("lock", cwd=starter).exit_code == 0
    gitio.git(["add", "--all"], starter)
    gitio.git(["commit", "--quiet", "-m", "starter"], starter)
    env = {"MLGATE_SPEC": str(ROOT), "NO_COLOR": "1", "PIP_CACHE_DIR": str(pip_cache_dir())}
    result = proc.run(
        [str(nox), "-s", "mlgate", "--", "--model", "churn"],
        cwd=starter,
        extra_env=env,
        check=False,
        timeout=900,
    )
    assert result.ok, result.stdout[-3000:] + result.stderr[-3000:]
    assert "mlgate check --model churn" in result.stderr
    verdict = read_verdict(starter / ".mlgate" / "out" / "churn" / "check.json")
    assert verdict.ok
    assert verdict.model == "churn"
