"""Unit tests run in milliseconds: any subprocess or network connection fails the test loudly."""

import sys

import pytest

from tests.guards import _no_processes_or_network

__all__ = ["_no_processes_or_network"]


@pytest.fixture(autouse=True)
def _train_with_this_interpreter(monkeypatch: pytest.MonkeyPatch) -> None:
    """The training environment is the test interpreter, which answers the probe in process
    (a ``python`` found on PATH elsewhere would be asked in a subprocess)."""
    monkeypatch.setenv("MLGATE_TRAIN_PYTHON", sys.executable)
