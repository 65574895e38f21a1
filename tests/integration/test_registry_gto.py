"""GTO compatibility, both directions: each tool reads the other's registry the same way.

Needs GTO in its own virtual environment (never the test one): ``GTO_VENV`` names it; the
``tests`` nox session creates it. Without the variable these tests are skipped; with it they run.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from mlgate import proc
from tests.integration.registry_support import commit, git, mlgate, mlgate_json, new_repo

GTO_VENV = os.environ.get("GTO_VENV")
BIN = "Scripts" if sys.platform == "win32" else "bin"
DRIVER = Path(__file__).with_name("gto_driver.py")
START = 1767225600  # 2026-01-01T00:00:00Z, the same clock the other tests pin
EVENT_NAMES = {
    "registration": "register",
    "deregistration": "deregister",
    "assignment": "assign",
    "unassignment": "unassign",
    "deprecation": "deprecate",
}

pytestmark = [
    pytest.mark.gto,
    pytest.mark.skipif(not GTO_VENV, reason="GTO_VENV is not set (nox -s tests sets it)"),
]


def gto_json(repo: Path, *args: str) -> Any:
    result = proc.run([Path(str(GTO_VENV), BIN, "gto"), *args, "--json"], cwd=repo)
    return json.loads(result.stdout)


def gto_write(repo: Path, start: int, *commands: list[str]) -> int:
    """Run GTO write commands (clock pinned one second apart); returns the next free second."""
    python = Path(str(GTO_VENV), BIN, "python")
    proc.run([python, DRIVER, str(start), json.dumps(list(commands))], cwd=repo)
    return start + len(commands)


def compare(repo: Path, models: list[str]) -> None:
    """GTO and mlgate agree on latest versions, stage holders, per-version stages, history."""
    ours = {m["name"]: m for m in mlgate_json(repo, "registry", "show", "-d")["models"]}
    theirs = gto_json(repo, "show", "--deprecated")
    assert set(theirs) == set(ours)
    for name, state in theirs.items():
        assert state["active"] is not ours[name]["deprecated"], name
        assert state["version"] == ours[name]["latest"], name
        held = {s: v for s, v in state["stage"].items() if v is not None}
        assert held == ours[name]["stages"], name
    for name in models:
        versions = gto_json(repo, "show", name, "--deprecated")
        gto_stages = {v["version"]: sorted(s["stage"] for s in v["stages"]) for v in versions}
        shown = mlgate_json(repo, "registry", "show", name)["versions"]
        mine = {v["version"]: v["stages"] for v in shown}  # --deprecated: inactive ones too
        assert gto_stages == mine, name
        gto_events = [
            (EVENT_NAMES[e["event"]], e["version"], e["stage"], e["commit"], e["ref"])
            for e in reversed(gto_json(repo, "history", name))
        ]
        my_events = [
            (e["event"], e["version"], e["stage"], e["commit"], e["tag"])
            for e in mlgate_json(repo, "registry", "history", name)["events"]
        ]
        assert my_events == gto_events, name


def test_gto_reads_what_mlgate_writes(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "repo")

    def run(*args: str) -> None:
        mlgate(repo, "registry", *args)

    run("register", "churn")
    run("assign", "churn", "v0.0.1", "staging")
    run("assign", "churn", "v0.0.1", "prod")
    commit(repo, "retrained")
    run("register", "churn", "--bump", "minor", "-m", "retrained on fresh data")
    run("assign", "churn", "v0.1.0", "staging")
    run("assign", "churn", "v0.1.0", "prod")
    run("rollback", "churn", "prod")
    run("unassign", "churn", "staging")
    commit(repo, "experiment")
    run("register", "churn")
    run("deregister", "churn", "v0.1.1")
    run("register", "models/fraud:fraud", "--version", "v2.0.0")
    run("assign", "models/fraud:fraud", "v2.0.0", "prod")
    commit(repo, "legacy")
    run("register", "legacy")
    run("deprecate", "legacy")
    compare(repo, ["churn", "models/fraud:fraud", "legacy"])
    assert gto_json(repo, "show")["churn"]["stage"]["prod"] == "v0.0.1"
    assert "legacy" not in gto_json(repo, "show")  # GTO hides deprecated models
    assert "legacy" not in [m["name"] for m in mlgate_json(repo, "registry", "show")["models"]]


def test_mlgate_reads_what_gto_writes(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "repo")
    clock = gto_write(
        repo,
        START,
        ["register", "churn"],
        ["assign", "churn", "--version", "v0.0.1", "--stage", "staging"],
        ["assign", "churn", "--version", "v0.0.1", "--stage", "prod"],
    )
    commit(repo, "retrained")
    clock = gto_write(
        repo,
        clock,
        ["register", "churn", "--bump-minor"],
        ["assign", "churn", "--version", "v0.1.0", "--stage", "prod"],
        ["assign", "churn", "--version", "v0.1.0", "--stage", "dev", "--simple", "true"],
        ["deprecate", "churn", "v0.1.0", "prod"],  # unassign: prod falls back to v0.0.1
        ["register", "models/fraud:fraud", "--version", "v1.0.0"],
    )
    commit(repo, "third")
    clock = gto_write(
        repo,
        clock,
        ["register", "churn"],
        ["deprecate", "churn", "v0.1.1"],  # deregister
        ["register", "legacy"],
        ["deprecate", "legacy"],
    )
    compare(repo, ["churn", "models/fraud:fraud", "legacy"])
    shown = mlgate_json(repo, "registry", "show", "churn")
    assert shown["stages"] == {"dev": "v0.1.0", "prod": "v0.0.1", "staging": "v0.0.1"}
    assert mlgate_json(repo, "registry", "resolve", "churn#prod")["version"] == "v0.0.1"
    # mlgate continues GTO's counter and GTO reads the result.
    out = mlgate_json(repo, "registry", "assign", "churn", "v0.1.0", "prod")
    assert out["tag"] == "churn#prod#5"
    assert gto_json(repo, "show")["churn"]["stage"]["prod"] == "v0.1.0"
    assert git(repo, "cat-file", "-t", out["tag"]) == "tag"
