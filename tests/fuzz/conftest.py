"""Fuzzing and property tests: no processes or network, and a settings profile per context.

``MLGATE_FUZZ=thorough`` runs ten times the examples (the reliability pass); the default keeps
the suite quick. Each fuzz target counts the inputs it tried (``tried(parser)``); the totals are
printed at the end of the run, per parser.
"""

from __future__ import annotations

import os
from collections import Counter

import pytest
from hypothesis import settings

from tests.guards import _no_processes_or_network

settings.register_profile("default", max_examples=150, deadline=None)
settings.register_profile("thorough", max_examples=1500, deadline=None)
settings.load_profile(os.environ.get("MLGATE_FUZZ", "default"))

INPUTS: Counter[str] = Counter()


def tried(parser: str) -> None:
    """Count one input given to ``parser`` (reported in the terminal summary)."""
    INPUTS[parser] += 1


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if INPUTS:
        counts = ", ".join(f"{name} {n}" for name, n in sorted(INPUTS.items()))
        terminalreporter.write_line(f"fuzz inputs tried: {counts}")


__all__ = ["_no_processes_or_network", "tried"]
