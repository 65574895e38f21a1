"""The model registry, kept in annotated git tags (GTO-compatible grammar).

Core API used by the CLI, the publish flow and the actions: each function takes one frozen
request and returns a result object; nothing here prints.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

    from mlgate.registry.api import (
        CheckRefRequest,
        DoctorRequest,
        DoctorResult,
        HistoryRequest,
        HistoryResult,
        RefInfo,
        Resolution,
        ResolveRequest,
        ShowRequest,
        ShowResult,
        StagesRequest,
        StagesResult,
    )
    from mlgate.registry.promote import assign, rollback, unassign
    from mlgate.registry.reads import check_ref, doctor, history, resolve, show, stages
    from mlgate.registry.state import ModelState, RegistryState, VersionState
    from mlgate.registry.writeapi import (
        AssignRequest,
        DeprecateRequest,
        DeregisterRequest,
        NextVersionRequest,
        RegisterRequest,
        ReleaseVersionRequest,
        RollbackRequest,
        UnassignRequest,
        WriteResult,
    )
    from mlgate.registry.writes import (
        deprecate,
        deregister,
        next_version,
        register,
        release_version,
    )

# Imported on first use, so a read command never loads the write path (start-up time matters:
# ``registry show`` has a 0.3 s budget on 5,000 tags).
_HOMES = {
    **dict.fromkeys(
        (
            "CheckRefRequest",
            "DoctorRequest",
            "DoctorResult",
            "HistoryRequest",
            "HistoryResult",
            "RefInfo",
            "Resolution",
            "ResolveRequest",
            "ShowRequest",
            "ShowResult",
            "StagesRequest",
            "StagesResult",
        ),
        "api",
    ),
    **dict.fromkeys(
        (
            "AssignRequest",
            "DeprecateRequest",
            "DeregisterRequest",
            "NextVersionRequest",
            "RegisterRequest",
            "ReleaseVersionRequest",
            "RollbackRequest",
            "UnassignRequest",
            "WriteResult",
        ),
        "writeapi",
    ),
    **dict.fromkeys(("check_ref", "doctor", "history", "resolve", "show", "stages"), "reads"),
    **dict.fromkeys(("ModelState", "RegistryState", "VersionState"), "state"),
    **dict.fromkeys(
        ("deprecate", "deregister", "next_version", "register", "release_version"), "writes"
    ),
    **dict.fromkeys(("assign", "rollback", "unassign"), "promote"),
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'mlgate.registry' has no attribute {name!r}")
    return getattr(import_module(f"mlgate.registry.{home}"), name)


def read_state(repo_root: Path, remote: str | None = None) -> RegistryState:
    """The registry state: local tags, or ``remote``'s (one ls-remote plus one fetch)."""
    from mlgate.registry.backend import load_state

    return load_state(repo_root, remote)


__all__ = [
    "AssignRequest",
    "CheckRefRequest",
    "DeprecateRequest",
    "DeregisterRequest",
    "DoctorRequest",
    "DoctorResult",
    "HistoryRequest",
    "HistoryResult",
    "ModelState",
    "NextVersionRequest",
    "RefInfo",
    "RegisterRequest",
    "RegistryState",
    "ReleaseVersionRequest",
    "Resolution",
    "ResolveRequest",
    "RollbackRequest",
    "ShowRequest",
    "ShowResult",
    "StagesRequest",
    "StagesResult",
    "UnassignRequest",
    "VersionState",
    "WriteResult",
    "assign",
    "check_ref",
    "deprecate",
    "deregister",
    "doctor",
    "history",
    "next_version",
    "read_state",
    "register",
    "release_version",
    "resolve",
    "rollback",
    "show",
    "stages",
    "unassign",
]
