"""The CLI skeleton: version, help, exit codes from the one top-level handler."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlgate import __version__
from mlgate.cli import main as cli_main
from tests.conftest import invoke


def test_version() -> None:
    out = invoke("--version")
    assert out.exit_code == 0
    assert __version__ in out.stdout


def test_help_lists_commands() -> None:
    out = invoke("--help")
    assert out.exit_code == 0
    for name in ("init", "config", "schema"):
        assert name in out.stdout


def test_every_lazy_command_imports_and_has_help() -> None:
    for name in cli_main.COMMANDS:
        out = invoke(name, "--help")
        assert out.exit_code == 0, (name, out.output)


def test_unknown_command_suggests() -> None:
    out = invoke("conifg")
    assert out.exit_code == 2
    assert "Did you mean 'config'?" in out.stderr


def test_schema_prints_json() -> None:
    out = invoke("schema")
    assert out.exit_code == 0
    assert json.loads(out.stdout)["title"] == "mlgate.yaml"


def test_config_check_text_and_json(starter: Path) -> None:
    out = invoke("config", "check", cwd=starter)
    assert out.exit_code == 0, out.output
    assert "valid (1 model)" in out.stdout
    data = json.loads(invoke("config", "check", "--json", cwd=starter).stdout)
    assert data["models"][0]["name"] == "churn"


def test_config_error_exit_2_without_traceback(starter: Path) -> None:
    (starter / "mlgate.yaml").write_text("version: 1\nmodels:\n  - nam: x\n")
    out = invoke("config", "check", cwd=starter)
    assert out.exit_code == 2
    assert "mlgate.yaml:3:5 (models[0].nam): unknown key 'nam'" in out.stderr
    assert "did you mean 'name'?" in out.stderr
    assert "Traceback" not in out.stderr


def test_debug_shows_traceback(starter: Path) -> None:
    (starter / "mlgate.yaml").write_text("")
    out = invoke("--debug", "config", "check", cwd=starter)
    assert out.exit_code == 2
    assert "Traceback" in out.stderr


def test_unexpected_exception_maps_to_3(monkeypatch: pytest.MonkeyPatch, starter: Path) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("kaboom")

    monkeypatch.setattr("mlgate.config.loader.load_config", boom)
    out = invoke("config", "check", cwd=starter)
    assert out.exit_code == 3
    assert "internal error: RuntimeError: kaboom" in out.stderr
    assert "--debug" in out.stderr


def test_os_error_maps_to_3(monkeypatch: pytest.MonkeyPatch, starter: Path) -> None:
    def denied(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied", "/x/mlgate.yaml")

    monkeypatch.setattr("mlgate.config.loader.load_config", denied)
    out = invoke("config", "check", cwd=starter)
    assert out.exit_code == 3
    assert "/x/mlgate.yaml: Permission denied" in out.stderr


def test_init_json(tmp_path: Path) -> None:
    out = invoke("init", str(tmp_path / "p"), "--json")
    assert out.exit_code == 0
    assert "mlgate.yaml" in json.loads(out.stdout)["written"]
    again = invoke("init", str(tmp_path / "p"))
    assert again.exit_code == 0
    (tmp_path / "p" / "mlgate.yaml").write_text("changed\n")
    refused = invoke("init", str(tmp_path / "p"))
    assert refused.exit_code == 2
    assert "--force" in refused.stderr
