"""Typed requests and results of the registry's writes (what the CLI and other features use).

Kept apart from ``mlgate.registry.api`` (the reads'), so a read imports none of these.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mlgate.config.model import Config

BUMPS = ("major", "minor", "patch")


@dataclass(frozen=True, kw_only=True)
class WriteRequest:
    """What every write shares: where, with which configuration, and how to publish the tag."""

    name: str
    repo: Path = Path()
    config: Config | None = None
    message: str | None = None  # the tag's first line (and the payload's note)
    push: bool = False
    remote: str | None = None  # default: the policy's remote ("origin")
    sign: bool | None = None  # default: the policy's sign
    payload: Mapping[str, Any] | None = None  # extra payload fields (schema "payload")
    deadline: float | None = None  # seconds to keep retrying lost races (registry.deadline)
    attempts: int | None = None  # an extra bound on attempts (default: the deadline alone)


@dataclass(frozen=True, kw_only=True)
class RegisterRequest(WriteRequest):
    version: str | None = None  # explicit vX.Y.Z, else a bump of the highest version so far
    bump: str | None = None  # major | minor | patch (default patch; v0.0.1 first)
    ref: str = "HEAD"
    verdicts: tuple[Path, ...] = ()  # verdict files whose digests and outcomes to record
    release: bool = False  # also create the GitHub Release for the tag
    force: bool = False  # register again the version the commit already carries (GTO --force)


@dataclass(frozen=True, kw_only=True)
class AssignRequest(WriteRequest):
    stage: str
    version: str | None = None  # a registered version, or None with ``ref``
    ref: str | None = None  # a commit: its version, else a new registration (GTO's assign REF)
    new_version: str | None = None  # the version registered at ``ref`` (default: patch bump)
    skip_registration: bool = False  # with ``ref``: assign the commit itself, unregistered
    simple: bool = False  # GTO's simple tag NAME#STAGE (no counter; written once)
    force: bool = False  # write a new tag even when the version already holds the stage


@dataclass(frozen=True, kw_only=True)
class UnassignRequest(WriteRequest):
    stage: str
    version: str | None = None  # default: the version holding the stage
    all: bool = False  # every version in the stage (one unassign tag each, pushed atomically)
    simple: bool = False  # GTO's simple tag NAME#STAGE! (no counter; written once)
    delete: bool = False  # delete the stage's tags of the version instead (GTO's --delete)


@dataclass(frozen=True, kw_only=True)
class DeregisterRequest(WriteRequest):
    version: str
    delete: bool = False  # delete every tag of the version instead (GTO's --delete)


@dataclass(frozen=True, kw_only=True)
class DeprecateRequest(WriteRequest):
    delete: bool = False  # delete every tag of the model instead (GTO's --delete)


@dataclass(frozen=True, kw_only=True)
class RollbackRequest(WriteRequest):
    stage: str


@dataclass(frozen=True, kw_only=True)
class ReleaseVersionRequest:
    """(Re)make the GitHub Release of a registered version."""

    name: str
    version: str
    repo: Path = Path()
    config: Config | None = None
    remote: str | None = None
    verdicts: tuple[Path, ...] = ()


@dataclass(frozen=True, kw_only=True)
class NextVersionRequest:
    name: str
    bump: str | None = None
    repo: Path = Path()
    remote: str | None = None


@dataclass(frozen=True)
class WriteResult:
    """One write: the tag created (or why none was needed) and where the model stands now."""

    event: str
    name: str
    tag: str | None
    commit: str | None
    version: str | None = None
    stage: str | None = None
    counter: int | None = None
    previous: str | None = None  # stage writes: the version that held the stage before
    holder: str | None = None  # stage writes: the version holding the stage afterwards
    created: bool = True
    pushed: bool = False
    remote: str | None = None
    attempts: int = 1
    seconds: float = 0.0  # from the first attempt to the pushed tag
    signed: bool = False
    payload: Mapping[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    release: Mapping[str, Any] | None = None
    deleted: tuple[str, ...] = ()  # --delete: the tags removed
    registered: str | None = None  # assign REF: the registration tag made in the same push
    versions: tuple[str, ...] = ()  # unassign --all: every version taken out of the stage

    def to_dict(self) -> dict[str, Any]:
        return {
            "event": self.event,
            "name": self.name,
            "tag": self.tag,
            "commit": self.commit,
            "version": self.version,
            "stage": self.stage,
            "counter": self.counter,
            "previous": self.previous,
            "holder": self.holder,
            "created": self.created,
            "pushed": self.pushed,
            "remote": self.remote,
            "attempts": self.attempts,
            "seconds": round(self.seconds, 3),
            "signed": self.signed,
            "payload": dict(self.payload),
            "notes": list(self.notes),
            "release": dict(self.release) if self.release is not None else None,
            "deleted": list(self.deleted),
            "registered": self.registered,
            "versions": list(self.versions),
        }
