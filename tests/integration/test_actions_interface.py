"""Every input of every action reaches the command as a flag or argument the real CLI accepts.

Each action runs in bash with the runner's contract, with stand-ins for `mlgate` and `docker`
that record their arguments; the recorded command line is then parsed by mlgate's own click
commands, so a flag the command does not have, a missing argument or a value that lands in the
wrong place fails here rather than on a user's runner.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click
import pytest

from mlgate.cli.main import cli
from tests.actions_harness import run_action

FAKE_MLGATE = """#!/bin/sh
if [ "$1" = "--version" ]; then echo "mlgate, version 0.0.0"; exit 0; fi
printf '%s\\0' "$@" > "$RECORD_DIR/mlgate"
echo '{}'
"""
FAKE_DOCKER = """#!/bin/sh
printf '%s\\0' "$@" > "$RECORD_DIR/docker"
cat > "$RECORD_DIR/docker-stdin"
"""
LOGIN = {"login-registry": "registry.example:5000", "username": "bot", "password": "s3cret"}

# (action, inputs, the command that must receive them, parameters it must parse to)
CASES: list[tuple[str, dict[str, str], str, dict[str, Any]]] = [
    (
        "check",
        {"model": "churn", "base": "origin/main", "config": "ml.yaml", "post": "true",
         "stages": "scan  repro", "out": "o", "fail-on-gate": "false"},
        "check",
        {"model_name": "churn", "base": "origin/main", "config_path": "ml.yaml", "post": True,
         "stages": ("scan", "repro"), "out": Path("o")},
    ),
    (
        "plan",
        {"base": "HEAD~1", "head": "HEAD", "config": "ml.yaml", "all": "true"},
        "plan",
        {"base": "HEAD~1", "head": "HEAD", "config_path": "ml.yaml", "all_models": True},
    ),
    (
        "report",
        {"model": "churn", "config": "ml.yaml", "formats": "md,html", "out": "o", "post": "true",
         "pr": "7", "report-url": "https://ci.example/r"},
        "report",
        {"model_name": "churn", "config_path": "ml.yaml", "formats": "md,html",
         "out_dir": Path("o"), "post": True, "pr_number": 7,
         "report_url": "https://ci.example/r", "as_json": True},
    ),
    (
        "publish",
        {"model": "churn", "config": "ml.yaml", "push": "true", "smoke": "false",
         "registry": "registry.example:5000", "base-image": "python:3.12-slim",
         "no-cache": "true", "out": "ctx", **LOGIN},
        "publish",
        {"model_name": "churn", "config_path": "ml.yaml", "push": True, "smoke": False,
         "registry": "registry.example:5000", "base_image": "python:3.12-slim",
         "no_cache": True, "out": Path("ctx"), "context_only": False, "as_json": True},
    ),
    (
        "publish",
        {"context-only": "true", "out": "ctx", "push": "true", **LOGIN},
        "publish",
        {"context_only": True, "push": False, "out": Path("ctx")},
    ),
    (
        "release",
        {"model": "churn", "config": "ml.yaml", "bump": "minor",
         "registry": "registry.example:5000", "base-image": "python:3.12-slim",
         "remote": "upstream", "push-tag": "false", "github-release": "false", **LOGIN},
        "release",
        {"model_name": "churn", "config_path": "ml.yaml", "bump": "minor",
         "registry": "registry.example:5000", "base_image": "python:3.12-slim",
         "remote": "upstream", "push_tag": False, "github_release": False, "as_json": True},
    ),
    (
        "promote",
        {"model": "-churn", "version": "v1.2.0", "stage": "prod", "config": "ml.yaml",
         "registry": "registry.example:5000", "remote": "upstream", "push-tag": "false",
         **LOGIN},
        "promote",
        {"name": "-churn", "version": "v1.2.0", "stage": "prod", "config_path": "ml.yaml",
         "registry": "registry.example:5000", "remote": "upstream", "push_tag": False},
    ),
]  # fmt: skip

_WRITE = {"push": "true", "message": "why", "remote": "upstream", "config": "ml.yaml"}
_WRITTEN = {"push": True, "message": "why", "remote": "upstream", "config_path": "ml.yaml"}
REGISTRY: list[tuple[dict[str, str], str, dict[str, Any]]] = [
    (
        {"command": "register", "name": "churn", "version": "v1.0.0", "bump": "minor",
         "ref": "abc123", "payload": "p.json", "verdicts": "a.json\n\nb c.json\n",
         "release": "true", **_WRITE},
        "register",
        {"name": "churn", "version": "v1.0.0", "bump": "minor", "ref": "abc123",
         "payload_file": Path("p.json"), "verdicts": (Path("a.json"), Path("b c.json")),
         "release": True, **_WRITTEN},
    ),
    (
        {"command": "assign", "name": "churn", "version": "v1.0.0", "stage": "prod",
         "force": "true", **_WRITE},
        "assign",
        {"name": "churn", "target": "v1.0.0", "stage_arg": "prod", "force": True, **_WRITTEN},
    ),
    (
        {"command": "unassign", "name": "churn", "stage": "prod", "version": "v1.0.0", **_WRITE},
        "unassign",
        {"name": "churn", "stage": "prod", "version": "v1.0.0", **_WRITTEN},
    ),
    (
        {"command": "deregister", "name": "churn", "version": "v1.0.0", **_WRITE},
        "deregister",
        {"name": "churn", "version": "v1.0.0", **_WRITTEN},
    ),
    (
        {"command": "deprecate", "name": "churn", **_WRITE},
        "deprecate",
        {"name": "churn", **_WRITTEN},
    ),
    (
        {"command": "rollback", "name": "churn", "stage": "prod", **_WRITE},
        "rollback",
        {"name": "churn", "stage": "prod", **_WRITTEN},
    ),
    (
        {"command": "release", "name": "churn", "version": "v1.0.0", "verdicts": "a.json",
         "remote": "upstream", "config": "ml.yaml"},
        "release",
        {"name": "churn", "version": "v1.0.0", "verdicts": (Path("a.json"),),
         "remote": "upstream", "config_path": "ml.yaml"},
    ),
    (
        {"command": "resolve", "ref": "--churn#prod", "remote": "upstream", "config": "ml.yaml"},
        "resolve",
        {"ref": "--churn#prod", "remote": "upstream", "config_path": "ml.yaml"},
    ),
    (
        {"command": "check-ref", "ref": "refs/tags/churn@v1.0.0", "config": "ml.yaml"},
        "check-ref",
        {"ref": "refs/tags/churn@v1.0.0", "config_path": "ml.yaml"},
    ),
    (
        {"command": "show", "name": "churn", "remote": "upstream", "config": "ml.yaml"},
        "show",
        {"name": "churn", "remote": "upstream", "config_path": "ml.yaml"},
    ),
    ({"command": "history"}, "history", {"name": None, "remote": None}),
    ({"command": "stages", "name": "churn"}, "stages", {"name": "churn"}),
    (
        {"command": "next-version", "name": "churn", "bump": "major", "remote": "upstream",
         "config": "ml.yaml"},
        "next-version",
        {"name": "churn", "bump": "major", "remote": "upstream"},
    ),
]  # fmt: skip


def parse(args: list[str]) -> tuple[click.Command, dict[str, Any]]:
    """What mlgate's click commands make of ``args`` (raises on anything they reject)."""
    command: click.Command = cli
    name, ctx = "mlgate", None
    while True:
        ctx = command.make_context(name, list(args), parent=ctx)
        if not isinstance(command, click.Group):
            return command, ctx.params
        resolved, sub, args = command.resolve_command(ctx, [*ctx._protected_args, *ctx.args])
        assert resolved is not None
        assert sub is not None
        name, command = resolved, sub


@pytest.fixture
def fakes(tmp_path: Path) -> dict[str, str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, text in (("mlgate", FAKE_MLGATE), ("docker", FAKE_DOCKER)):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    records = tmp_path / "records"
    records.mkdir()
    return {
        "MLGATE_BIN": str(bin_dir / "mlgate"),
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "RECORD_DIR": str(records),
    }


def _run(name: str, inputs: dict[str, str], fakes: dict[str, str], tmp_path: Path) -> list[str]:
    run = run_action(name, workspace=tmp_path, temp=tmp_path / "runner", inputs=inputs, env=fakes)
    assert run.exit_code == 0, run.stdout + run.stderr
    recorded = (Path(fakes["RECORD_DIR"]) / "mlgate").read_bytes().decode()
    return recorded.split("\0")[:-1]


@pytest.mark.parametrize(
    ("action", "inputs", "command", "expected"),
    CASES,
    ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)],
)
def test_action_inputs_parse_as_the_command_expects(
    action: str,
    inputs: dict[str, str],
    command: str,
    expected: dict[str, Any],
    fakes: dict[str, str],
    tmp_path: Path,
) -> None:
    args = _run(action, inputs, fakes, tmp_path)
    parsed, params = parse(args)
    assert parsed.name == command
    assert {k: params[k] for k in expected} == expected
    docker = Path(fakes["RECORD_DIR"]) / "docker"
    if "password" in inputs and (action != "publish" or "context-only" not in inputs):
        login = docker.read_bytes().decode().split("\0")[:-1]
        assert login == ["login", "registry.example:5000", "--username", "bot", "--password-stdin"]
        assert (Path(fakes["RECORD_DIR"]) / "docker-stdin").read_text() == "s3cret"
    else:
        assert not docker.exists()


@pytest.mark.parametrize(("inputs", "command", "expected"), REGISTRY, ids=[c[1] for c in REGISTRY])
def test_registry_inputs_parse_as_each_subcommand_expects(
    inputs: dict[str, str],
    command: str,
    expected: dict[str, Any],
    fakes: dict[str, str],
    tmp_path: Path,
) -> None:
    args = _run("registry", inputs, fakes, tmp_path)
    parsed, params = parse(args)
    assert parsed.name == command
    assert {k: params[k] for k in expected} == expected
    assert params.get("as_json") is True
