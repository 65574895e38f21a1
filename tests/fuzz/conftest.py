"""Fuzzing and property tests: no processes or network, and a settings profile per context.

``MLGATE_FUZZ=thorough`` runs ten times the examples (the reliability pass); the default keeps
the suite quick.
"""

import os

from hypothesis import settings

from tests.guards import _no_processes_or_network

settings.register_profile("default", max_examples=150, deadline=None)
settings.register_profile("thorough", max_examples=1500, deadline=None)
settings.load_profile(os.environ.get("MLGATE_FUZZ", "default"))

__all__ = ["_no_processes_or_network"]
