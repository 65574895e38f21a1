"""GitHub Release for a registration tag (through the project's one GitHub client)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mlgate.errors import ExternalError
from mlgate.registry.api import RegisterRequest, WriteResult


def release_for(root: Path, request: RegisterRequest, result: WriteResult) -> dict[str, Any]:
    """Create or update the GitHub Release of ``result.tag``; returns the release object."""
    raise ExternalError("GitHub Releases are not available in this build yet")
