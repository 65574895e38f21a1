"""The unit-test guard: any subprocess or network connection fails the test loudly."""

from __future__ import annotations

import socket
import subprocess
from typing import Any, NoReturn

import pytest


def _forbidden(what: str) -> Any:
    def fail(*args: object, **kwargs: object) -> NoReturn:
        raise AssertionError(f"unit tests must not use {what}; move this test to tests/integration")

    return fail


@pytest.fixture(autouse=True)
def _no_processes_or_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(subprocess.Popen, "__init__", _forbidden("subprocesses"))
    monkeypatch.setattr("os.system", _forbidden("os.system"))
    monkeypatch.setattr("os.fork", _forbidden("os.fork"))
    monkeypatch.setattr(socket.socket, "connect", _forbidden("network connections"))
    monkeypatch.setattr(socket.socket, "connect_ex", _forbidden("network connections"))
    monkeypatch.setattr(socket, "create_connection", _forbidden("network connections"))
