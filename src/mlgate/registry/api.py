"""Typed requests and results of the registry's operations (what the CLI and other features use)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mlgate.config.model import Config
    from mlgate.registry.events import Event, Problem
    from mlgate.registry.state import RegistryState

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


@dataclass(frozen=True, kw_only=True)
class AssignRequest(WriteRequest):
    version: str
    stage: str
    force: bool = False  # write a new tag even when the version already holds the stage


@dataclass(frozen=True, kw_only=True)
class UnassignRequest(WriteRequest):
    stage: str
    version: str | None = None  # default: the version holding the stage


@dataclass(frozen=True, kw_only=True)
class DeregisterRequest(WriteRequest):
    version: str


@dataclass(frozen=True, kw_only=True)
class DeprecateRequest(WriteRequest):
    pass


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
        }


@dataclass(frozen=True, kw_only=True)
class ReadRequest:
    repo: Path = Path()
    config: Config | None = None
    remote: str | None = None  # read the remote's tags (ls-remote + fetch) instead of local ones


@dataclass(frozen=True, kw_only=True)
class ShowRequest(ReadRequest):
    name: str | None = None


@dataclass(frozen=True, kw_only=True)
class HistoryRequest(ReadRequest):
    name: str | None = None


@dataclass(frozen=True, kw_only=True)
class ResolveRequest(ReadRequest):
    ref: str
    model_file: bool = True  # extract the model file at the commit when mlgate.yaml knows it


@dataclass(frozen=True, kw_only=True)
class CheckRefRequest(ReadRequest):
    ref: str


@dataclass(frozen=True, kw_only=True)
class StagesRequest(ReadRequest):
    name: str | None = None


@dataclass(frozen=True)
class ShowResult:
    state: RegistryState
    name: str | None
    stages: Mapping[str, tuple[str, ...]]  # model -> stages to show (allowed, then used)

    def to_dict(self) -> dict[str, Any]:
        problems = [p.to_dict() for p in self.state.problems_for(self.name)]
        if self.name is not None:
            model = self.state.model(self.name)
            return {
                "source": self.state.source,
                **model.summary_dict(self.stages.get(model.name, ())),
                "versions": [v.to_dict() for v in reversed(list(model.versions.values()))],
                "problems": problems,
            }
        return {
            "source": self.state.source,
            "models": [
                m.summary_dict(self.stages.get(m.name, ())) for m in self.state.models.values()
            ],
            "problems": problems,
        }


@dataclass(frozen=True)
class HistoryResult:
    source: str
    name: str | None
    events: tuple[Event, ...]
    problems: tuple[Problem, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "name": self.name,
            "events": [e.to_dict() for e in self.events],
            "problems": [p.to_dict() for p in self.problems],
        }


@dataclass(frozen=True)
class Resolution:
    """What ``resolve`` found: the version, its commit, its payload, and the model file.

    ``tag`` is the tag that answers the reference: the registration tag, or for a stage held
    by a commit nobody registered (GTO allows that) the stage tag. When nothing answers (no
    holder, deprecated model), ``resolve`` raises ``Unresolved`` carrying a Resolution whose
    version, commit and tag are None (the CLI's ``--json`` prints it, with exit code 1).
    """

    ref: str
    name: str
    version: str | None
    commit: str | None
    tag: str | None
    stage: str | None = None
    stage_tag: str | None = None
    date: str | None = None
    payload: Mapping[str, Any] | None = None
    model_file: Path | None = None
    notes: tuple[str, ...] = ()
    model_file_origin: str | None = None  # the commit and path, or the release asset

    def to_dict(self) -> dict[str, Any]:
        return {
            "ref": self.ref,
            "name": self.name,
            "version": self.version,
            "commit": self.commit,
            "tag": self.tag,
            "stage": self.stage,
            "stage_tag": self.stage_tag,
            "date": self.date,
            "payload": dict(self.payload) if self.payload is not None else None,
            "model_file": str(self.model_file) if self.model_file else None,
            "model_file_origin": self.model_file_origin,
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class RefInfo:
    """What the tag that triggered a workflow means."""

    ref: str
    registry: bool  # False: not a registry tag (event and the rest are None)
    event: str | None = None
    name: str | None = None
    version: str | None = None
    stage: str | None = None
    counter: int | None = None
    commit: str | None = None
    tag: str | None = None
    payload: Mapping[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "ref": self.ref,
            "registry": self.registry,
            "event": self.event,
            "name": self.name,
            "version": self.version,
            "stage": self.stage,
            "counter": self.counter,
            "commit": self.commit,
            "tag": self.tag,
            "payload": dict(self.payload) if self.payload is not None else None,
        }


@dataclass(frozen=True)
class StagesResult:
    models: Mapping[str, Mapping[str, Any]]  # name -> {"allowed": [...] | None, "used": [...]}

    def to_dict(self) -> dict[str, Any]:
        return {"models": {k: dict(v) for k, v in self.models.items()}}
