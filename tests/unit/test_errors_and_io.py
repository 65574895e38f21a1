from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

import pytest

from mlgate.errors import ConfigError, ExternalError, Location
from mlgate.fsio import atomic_write_json, atomic_write_text, dump_json


def test_render_has_location_hint_and_details() -> None:
    err = ConfigError(
        "bad value",
        location=Location("mlgate.yaml", 3, 5, "models[0].name"),
        hint="fix it",
        details=["more"],
    )
    assert err.render() == "mlgate.yaml:3:5 (models[0].name): bad value\nhint: fix it\n  more"
    assert err.to_dict()["location"] == {
        "file": "mlgate.yaml",
        "line": 3,
        "column": 5,
        "key_path": "models[0].name",
    }


def test_exit_codes() -> None:
    assert ConfigError("x").exit_code == 2
    assert ExternalError("x").exit_code == 3


def test_atomic_write_replaces_and_keeps_mode(tmp_path: Path) -> None:
    target = tmp_path / "a" / "f.txt"
    atomic_write_text(target, "one")
    target.chmod(0o640)
    atomic_write_text(target, "two")
    assert target.read_text() == "two"
    assert target.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in target.parent.iterdir()) == ["f.txt"]


def test_atomic_write_failure_keeps_old_content(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "f.json"
    atomic_write_json(target, {"v": 1})

    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(ExternalError, match="No space left on device"):
        atomic_write_json(target, {"v": 2})
    assert target.read_text() == dump_json({"v": 1})
    assert [p.name for p in tmp_path.iterdir()] == ["f.json"]


def test_dump_json_is_stable() -> None:
    assert dump_json({"b": 1, "a": [1, 2]}) == '{\n  "a": [\n    1,\n    2\n  ],\n  "b": 1\n}\n'


def test_guard_blocks_subprocess_and_network() -> None:
    with pytest.raises(AssertionError, match="subprocesses"):
        subprocess.Popen(["true"])
    with pytest.raises(AssertionError, match="network"):
        socket.create_connection(("127.0.0.1", 9))
