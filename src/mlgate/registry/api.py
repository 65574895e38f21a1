"""Typed requests and results of the registry's reads (the writes' are in ``writeapi``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mlgate.config.model import Config
    from mlgate.registry.state import Event, Problem, RegistryState


@dataclass(frozen=True, kw_only=True)
class ReadRequest:
    repo: Path = Path()
    config: Config | None = None
    remote: str | None = None  # read the remote's tags (ls-remote + fetch) instead of local ones


@dataclass(frozen=True, kw_only=True)
class ShowRequest(ReadRequest):
    name: str | None = None
    refs: str | None = None  # local tags already listed (for-each-ref with refformat.FORMAT)
    deprecated: bool = False  # list deprecated models too (GTO's -d); ``show NAME`` always does
    registered_only: bool = False  # stages held by registered versions only (GTO's --ro)
    sort: str = "timestamp"  # a stage's holder: latest assignment, or "semver": highest version
    versions_per_stage: int = 1  # GTO's --vs: versions listed per stage (-1: all)
    assignments_per_version: int = -1  # GTO's --av: stages listed per version (-1: all)


@dataclass(frozen=True, kw_only=True)
class HistoryRequest(ReadRequest):
    name: str | None = None
    ascending: bool = True  # oldest first (the replay order); False: newest first, as GTO


@dataclass(frozen=True, kw_only=True)
class ResolveRequest(ReadRequest):
    ref: str
    model_file: bool = True  # extract the model file at the commit when mlgate.yaml knows it


@dataclass(frozen=True, kw_only=True)
class CheckRefRequest(ReadRequest):
    ref: str | None = None  # None: the newest registry tag on HEAD


@dataclass(frozen=True, kw_only=True)
class DoctorRequest(ReadRequest):
    pass


@dataclass(frozen=True)
class DoctorResult:
    """GTO's ``doctor``: what the registry holds and every problem found in it."""

    source: str
    tags: int
    models: int
    problems: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "ok": self.ok,
            "tags": self.tags,
            "models": self.models,
            "problems": [p.to_dict() for p in self.problems],
        }


@dataclass(frozen=True, kw_only=True)
class StagesRequest(ReadRequest):
    name: str | None = None


@dataclass(frozen=True)
class ShowResult:
    state: RegistryState
    name: str | None
    stages: Mapping[str, tuple[str, ...]]  # model -> stages to show (allowed, then used)
    # model -> stage -> versions in it, the holder first (as --ro and --sort chose)
    in_stage: Mapping[str, Mapping[str, list[str]]] = field(default_factory=dict)
    request: ShowRequest | None = None

    def _summary(self, model: Any) -> dict[str, Any]:
        out: dict[str, Any] = model.summary_dict(self.stages.get(model.name, ()))
        lists = self.in_stage.get(model.name)
        if lists is None:
            return out
        out["stages"] = {s: (lists[s][0] if lists.get(s) else None) for s in out["stages"]}
        out["stages"].update((s, v[0]) for s, v in sorted(lists.items()) if v)
        per_stage = self.request.versions_per_stage if self.request else 1
        if per_stage != 1:
            out["in_stage"] = {
                s: v if per_stage < 0 else v[:per_stage] for s, v in sorted(lists.items())
            }
        return out

    def to_dict(self) -> dict[str, Any]:
        problems = [p.to_dict() for p in self.state.problems_for(self.name)]
        request = self.request or ShowRequest()
        if self.name is not None:
            model = self.state.model(self.name)
            versions = [v.to_dict() for v in reversed(list(model.versions.values()))]
            if request.registered_only:
                versions = [v for v in versions if v["registered"]]
            lists = self.in_stage.get(model.name)
            if lists is not None:
                for v in versions:
                    v["stages"] = [s for s, held in sorted(lists.items()) if v["version"] in held]
            if request.assignments_per_version >= 0:
                for v in versions:
                    v["stages"] = v["stages"][: request.assignments_per_version]
            return {
                "source": self.state.source,
                **self._summary(model),
                "versions": versions,
                "problems": problems,
            }
        models = [m for m in self.state.models.values() if request.deprecated or not m.deprecated]
        return {
            "source": self.state.source,
            "models": [self._summary(m) for m in models],
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
