"""The pre-commit hooks this repository offers, installed by pre-commit itself from a local clone
of this work tree (the starter's .pre-commit-config.yaml pointed at it, as a user's points at
mlgate's repository), run on a sample repository: the starter project."""

from __future__ import annotations

import os
import pickle
import shutil
import sys
from pathlib import Path

import pytest

from mlgate import gitio, proc
from tests.actions_harness import pip_cache_dir
from tests.conftest import invoke
from tests.workflow_files import ROOT

pytestmark = pytest.mark.slow


def _pre_commit() -> str:
    exe = Path(sys.executable).with_name("pre-commit")
    if not exe.exists():
        pytest.fail("pre-commit is not installed in the test environment (extra 'test')")
    return str(exe)


def _source_clone(target: Path) -> Path:
    """A git repository holding this project's work tree as it is now (committed or not)."""
    files = gitio.tracked_files(ROOT)
    for rel in files:
        src = ROOT / rel
        if src.is_file():
            dest = target / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest)
    gitio.git(["init", "--quiet"], target)
    gitio.git(["add", "--all"], target)
    gitio.git(["commit", "--quiet", "-m", "mlgate source"], target)
    return target


def _env(home: Path) -> dict[str, str]:
    # The hook environment installs mlgate's dependencies from PyPI.
    return {
        "PRE_COMMIT_HOME": str(home),
        "NO_COLOR": "1",
        "PRE_COMMIT_COLOR": "never",
        "PIP_CACHE_DIR": str(pip_cache_dir()),
    }


def test_manifest_is_valid() -> None:
    result = proc.run(
        [_pre_commit(), "validate-manifest", str(ROOT / ".pre-commit-hooks.yaml")], check=False
    )
    assert result.ok, result.stdout + result.stderr


def test_hooks_run_through_pre_commit(starter: Path, tmp_path: Path) -> None:
    source = _source_clone(tmp_path / "mlgate-src")
    revision = gitio.git(["rev-parse", "HEAD"], source).stdout.strip()
    # The starter's own configuration, pointed at the clone: pre-commit installs the hook
    # environment once (keyed by repository and revision) and reuses it for every run below.
    (starter / ".pre-commit-config.yaml").write_text(
        "repos:\n"
        f"  - repo: {source}\n"
        f"    rev: {revision}\n"
        "    hooks:\n"
        "      - id: mlgate-config\n"
        "      - id: mlgate-lock\n"
        "      - id: mlgate-model-scan\n"
    )
    gitio.git(["init", "--quiet"], starter)
    gitio.git(["add", "--all"], starter)
    gitio.git(["commit", "--quiet", "-m", "starter"], starter)
    env = _env(tmp_path / "pre-commit-home")

    def run_hook(hook: str) -> proc.Completed:
        return proc.run(
            [_pre_commit(), "run", hook, "--all-files", "--verbose"],
            cwd=starter,
            extra_env=env,
            check=False,
            timeout=900,
        )

    config = run_hook("mlgate-config")
    assert config.ok, config.stdout + config.stderr
    assert "mlgate config" in config.stdout
    assert "Passed" in config.stdout

    assert invoke("lock", cwd=starter).exit_code == 0
    gitio.git(["add", "--all"], starter)
    locked = run_hook("mlgate-lock")
    assert locked.ok, locked.stdout + locked.stderr
    data = starter / "models" / "churn" / "data" / "train.csv"
    data.write_text(data.read_text() + data.read_text().splitlines()[-1] + "\n")
    gitio.git(["add", "--all"], starter)
    stale = run_hook("mlgate-lock")
    assert stale.returncode == 1, stale.stdout + stale.stderr
    assert "- exit code: 1" in stale.stdout
    assert "train.csv" in stale.stdout

    class Exploit:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (os.system, ("echo pwned",))

    (starter / "models" / "churn" / "legacy.pkl").write_bytes(pickle.dumps(Exploit()))
    (starter / "models" / "churn" / "ok.pkl").write_bytes(pickle.dumps({"weights": [1, 2]}))
    gitio.git(["add", "--all"], starter)
    scan = run_hook("mlgate-model-scan")
    assert scan.returncode == 1, scan.stdout + scan.stderr
    assert "legacy.pkl: this pickle file must not be loaded: posix.system" in scan.stdout
    assert "ok.pkl: every name is on the allow-list" in scan.stdout
    assert "pwned" not in scan.stdout.replace("echo pwned", "")

    (starter / "mlgate.yaml").write_text(
        (starter / "mlgate.yaml").read_text().replace("target: churned", "targt: churned")
    )
    gitio.git(["add", "--all"], starter)
    broken = run_hook("mlgate-config")
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert "- exit code: 2" in broken.stdout  # mlgate's configuration-error code, through
    assert "mlgate.yaml:17:7 (models[0].data.targt): unknown key 'targt'" in broken.stdout
    assert "did you mean 'target'?" in broken.stdout
