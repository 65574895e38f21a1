"""The registry's core API (``mlgate.registry``, issue #5), imported when a command needs it."""

from __future__ import annotations

import importlib
from typing import Any

from mlgate.errors import UsageError


def available() -> Any | None:
    """The ``mlgate.registry`` module, or None in a build without it."""
    try:
        return importlib.import_module("mlgate.registry")
    except ImportError:
        return None


def required() -> Any:
    """The ``mlgate.registry`` module; a build without it cannot release or promote."""
    module = available()
    if module is None:
        raise UsageError("the model registry is not part of this mlgate build")
    return module
