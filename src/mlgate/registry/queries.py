"""Registry queries: show, history, resolve, check-ref, stages and doctor, each with its request
and result types. Each reads the state once (one model's tags only, when it names one).
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlgate import gitio
from mlgate.errors import CheckFailed, ConfigError, UsageError
from mlgate.registry.grammar import TAGS_PREFIX, Kind, SemVer, check_name, parse_ref, parse_tag
from mlgate.registry.policy import find_model, policy_for
from mlgate.registry.state import (
    FETCH_HINT,
    PRIORITY,
    Event,
    ModelState,
    Problem,
    RegistryState,
    VersionState,
)
from mlgate.registry.tags import load_state, verify_tags

if TYPE_CHECKING:
    from mlgate.config.model import Config
    from mlgate.github.client import Connect


@dataclass(frozen=True, kw_only=True)
class ReadRequest:
    repo: Path = Path()
    config: Config | None = None
    remote: str | None = None  # read the remote's tags (ls-remote + fetch) instead of local ones


def _root(request: ReadRequest) -> Path:
    return gitio.repo_root(request.repo.resolve())


def _state(request: ReadRequest, name: str | None = None) -> tuple[Path, RegistryState]:
    """The state (of one model's tags only when ``name`` is given: all its state needs)."""
    root = _root(request)
    return root, load_state(root, request.remote, check_name(name) if name else None)


@dataclass(frozen=True, kw_only=True)
class ShowRequest(ReadRequest):
    name: str | None = None
    deprecated: bool = False  # list deprecated models too (GTO's -d); ``show NAME`` always does
    registered_only: bool = False  # stages held by registered versions only (GTO's --ro)
    sort: str = "timestamp"  # a stage's holder: latest assignment, or "semver": highest version
    versions_per_stage: int = 1  # GTO's --vs: versions listed per stage (-1: all)
    assignments_per_version: int = -1  # GTO's --av: stages listed per version (-1: all)


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


def show(request: ShowRequest) -> ShowResult:
    """The registry (or one model): latest version and stage holders, plus any problems."""
    root, state = _state(request, request.name)
    models = [state.model(request.name)] if request.name else list(state.models.values())
    stages: dict[str, tuple[str, ...]] = {}
    to_verify: list[str] = []
    for model in models:
        policy = policy_for(request.config, model.name)
        stages[model.name] = tuple(dict.fromkeys([*(policy.stages or ()), *model.holders]))
        if policy.verify:
            to_verify.extend(_relied_on(model))
    verify_tags(root, to_verify, _objects(models))
    if request.sort not in ("timestamp", "semver"):
        raise UsageError(f"unknown sort {request.sort!r}", hint="use timestamp or semver")
    custom = request.registered_only or request.sort == "semver" or request.versions_per_stage != 1
    in_stage = {m.name: stage_members(m, request.registered_only, request.sort) for m in models}
    name = check_name(request.name) if request.name else None
    return ShowResult(state, name, stages, in_stage if custom else {}, request)


def stage_members(model: ModelState, registered_only: bool, sort: str) -> dict[str, list[str]]:
    """Stage -> the active versions in it, the one holding it first: by latest assignment
    (GTO's default sort) or by highest semver; ``registered_only`` leaves out commits nobody
    registered (GTO's --ro)."""
    last: dict[tuple[str, str], int] = {}
    for i, e in enumerate(model.events):
        if e.kind is Kind.ASSIGN and e.stage and e.version:
            last[(e.stage, e.version)] = i
    out: dict[str, list[str]] = {}
    for stage, version in last:
        found = model.versions.get(version)
        if found is None or not found.active or not model.in_stage(version, stage):
            continue
        if registered_only and not found.registered:
            continue
        out.setdefault(stage, []).append(version)
    for stage, versions in out.items():
        if sort == "semver":
            versions.sort(key=_semver_key, reverse=True)
        else:
            versions.sort(key=lambda v, s=stage: last[(s, v)], reverse=True)  # type: ignore[misc]
    return out


def _semver_key(version: str) -> tuple[object, ...]:
    return (1, SemVer.parse(version).sort_key()) if SemVer.is_valid(version) else (0, ())


def _objects(models: list[ModelState]) -> dict[str, str]:
    """Tag name -> tag object id (a remote's tags are read without refs/tags here)."""
    return {e.tag: e.object_id for m in models for e in m.events if e.object_id}


def _relied_on(model: ModelState) -> list[str]:
    tags = [h.event.tag for h in model.holders.values()]
    versions = [model.versions[h.version] for h in model.holders.values()]
    if model.latest:
        versions.append(model.latest)
    tags.extend(v.registration.tag for v in versions if v.registration)
    return tags


@dataclass(frozen=True, kw_only=True)
class HistoryRequest(ReadRequest):
    name: str | None = None
    ascending: bool = True  # oldest first (the replay order); False: newest first, as GTO


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


def history(request: HistoryRequest) -> HistoryResult:
    """Every event in replay order (one model's, or all models' merged by time)."""
    _, state = _state(request, request.name)
    if request.name:
        model = state.model(request.name)
        events: tuple[Event, ...] = model.events
    else:
        # Merge keeps each model's own (counter) order and interleaves models by tag time.
        events = tuple(heapq.merge(*(m.events for m in state.models.values()), key=_when))
    name = check_name(request.name) if request.name else None
    if not request.ascending:
        events = events[::-1]
    return HistoryResult(state.source, name, events, tuple(state.problems_for(name)))


def _when(event: Event) -> tuple[int, int]:
    """Across models: tag time, then GTO's priority for events of the same second."""
    return (event.timestamp, PRIORITY[event.kind])


@dataclass(frozen=True, kw_only=True)
class ResolveRequest(ReadRequest):
    ref: str
    model_file: bool = True  # extract the model file at the commit when mlgate.yaml knows it
    github: Connect | None = None  # reaches the release holding a model file not committed


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


class Unresolved(CheckFailed):
    """Nothing answers the reference (exit 1); ``empty`` is the answer with no version."""

    def __init__(self, message: str, empty: Resolution, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.empty = empty


def resolve(request: ResolveRequest) -> Resolution:
    """``NAME#STAGE``, ``NAME@latest`` or ``NAME@vX.Y.Z`` -> version, commit, payload, model."""
    ref = parse_ref(request.ref)
    root, state = _state(request, ref.name)
    model = state.model(ref.name)
    version, stage_tag = pick_version(model, ref.stage, ref.version, latest=ref.latest)
    if version is None:
        held = ", ".join(f"{s}={h.version}" for s, h in model.holders.items()) or "none"
        what = f"holds {ref.stage!r}" if ref.stage else "is active"
        if ref.latest and model.deprecated:
            what = "is latest: the model is deprecated (as in GTO)"
        raise Unresolved(
            f"no version of {model.name} {what} ({state.source})",
            Resolution(str(ref), model.name, None, None, None, stage=ref.stage),
            hint=f"stages held now: {held}"
            if not model.deprecated
            else "register a new version to make it active again",
        )
    payload = _usable_payload(version)
    policy = policy_for(request.config, model.name)
    if policy.verify:
        tags = [stage_tag] if stage_tag else []
        regs = [version.registration.tag] if version.registration else []
        verify_tags(root, [*tags, *regs], _objects([model]))
    notes: list[str] = []
    model_file = None
    model_cfg = find_model(request.config, model.name)
    if request.model_file and model_cfg is not None:
        from mlgate.registry.modelfile import fetch_model_file

        model_file = fetch_model_file(root, model_cfg, version, github=request.github)
    elif request.model_file and request.config is not None:
        notes.append(f"{model.name} is not in {request.config.path.name}; model file not extracted")
    reg = version.registration
    return Resolution(
        ref=str(ref),
        name=model.name,
        version=version.version,
        commit=version.commit,
        tag=reg.tag if reg else stage_tag,
        stage=ref.stage,
        stage_tag=stage_tag,
        date=reg.date if reg else None,
        payload=payload,
        model_file=model_file.path if model_file else None,
        notes=tuple(notes),
        model_file_origin=model_file.origin if model_file else None,
    )


def pick_version(
    model: ModelState, stage: str | None, version: str | None, *, latest: bool = False
) -> tuple[VersionState | None, str | None]:
    """The version a reference names and the stage tag behind it (None: nothing holds it)."""
    if stage is not None:
        holder = model.holders.get(stage)
        return (model.versions[holder.version], holder.event.tag) if holder else (None, None)
    if latest:
        # GTO: a deprecated model has no latest version (its stages still resolve).
        return (None if model.deprecated else model.latest), None
    assert version is not None  # parse_ref guarantees one of the three
    found = model.version(version)
    if found is None or not found.registered:
        from mlgate.config.validate import suggest

        known = [v for v, s in model.versions.items() if s.registered and s.active]
        guess = suggest(version, known)
        raise UsageError(
            f"{model.name} {version} is not registered",
            hint=f"did you mean {guess!r}?" if guess else "active versions: " + ", ".join(known),
        )
    if not found.active:
        raise UsageError(
            f"{model.name} {version} was deregistered"
            + (f" ({found.deregistration.tag})" if found.deregistration else ""),
        )
    return found, None


def _usable_payload(version: VersionState) -> dict[str, object] | None:
    reg = version.registration
    if reg is not None and reg.payload_error:
        raise ConfigError(
            f"registry tag {reg.tag} has a corrupted payload: {reg.payload_error}",
            hint=f"inspect it with 'git show {reg.tag}'; delete and recreate a hand-made tag",
        )
    return dict(version.payload) if version.payload is not None else None


@dataclass(frozen=True, kw_only=True)
class CheckRefRequest(ReadRequest):
    ref: str | None = None  # None: the newest registry tag on HEAD


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


def check_ref(request: CheckRefRequest) -> RefInfo:
    """What the tag that triggered a workflow records (event, name, version, stage); without a
    ref, the newest registry tag on HEAD."""
    ref = request.ref if request.ref else _tag_at_head(request.repo)
    if ref is None:
        return RefInfo(ref="HEAD", registry=False)
    tag = ref.strip().removeprefix(TAGS_PREFIX)
    parsed = parse_tag(tag)
    if parsed is None:
        return RefInfo(ref=ref, registry=False)
    _, state = _state(request, parsed.name)
    problem = next((p for p in state.problems if p.tag == tag), None)
    if problem is not None and problem.kind == "lightweight":
        raise UsageError(f"registry tag {tag} is lightweight here", hint=FETCH_HINT)
    model = state.get(parsed.name)
    event = next((e for e in model.events if e.tag == tag), None) if model else None
    if event is None:
        raise UsageError(
            f"tag {tag!r} is not in this repository ({state.source})",
            hint="fetch the registry tags first: git fetch --tags --force",
        )
    if event.payload_error:
        raise ConfigError(f"registry tag {tag} has a corrupted payload: {event.payload_error}")
    return RefInfo(
        ref=ref,
        registry=True,
        event=event.kind.value,
        name=event.name,
        version=event.version,
        stage=event.stage,
        counter=event.counter,
        commit=event.commit,
        tag=tag,
        payload=event.payload,
    )


def _tag_at_head(repo: Path) -> str | None:
    """The newest (by creation date) registry tag pointing at HEAD, if any."""
    listed = gitio.git(
        ["for-each-ref", "--points-at", "HEAD", "--sort=-creatordate", "--format=%(refname)",
         TAGS_PREFIX],
        repo,
        check=False,
    )  # fmt: skip
    refs = listed.stdout.split() if listed.ok else []
    return next((r for r in refs if parse_tag(r.removeprefix(TAGS_PREFIX)) is not None), None)


@dataclass(frozen=True, kw_only=True)
class StagesRequest(ReadRequest):
    name: str | None = None


@dataclass(frozen=True)
class StagesResult:
    models: Mapping[str, Mapping[str, Any]]  # name -> {"allowed": [...] | None, "used": [...]}

    def to_dict(self) -> dict[str, Any]:
        return {"models": {k: dict(v) for k, v in self.models.items()}}


def stages(request: StagesRequest) -> StagesResult:
    """Allowed stages (policy) and stages in use (tags), per model."""
    _, state = _state(request, request.name)
    names: list[str] = []
    if request.name:
        names = [check_name(request.name)]
    else:
        names = [m.name for m in request.config.models] if request.config else []
        names.extend(n for n in state.models if n not in names)
    out = {}
    for name in names:
        policy = policy_for(request.config, name)
        model = state.get(name)
        out[name] = {
            "allowed": list(policy.stages) if policy.stages is not None else None,
            "used": model.used_stages() if model else [],
            "held": {s: h.version for s, h in model.holders.items()} if model else {},
        }
    return StagesResult(out)


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


def doctor(request: DoctorRequest) -> DoctorResult:
    """Every problem in the registry's tags (lightweight, malformed, corrupted payloads,
    conflicting registrations), plus stages in use that the policy does not allow."""
    _, state = _state(request)
    found = list(state.problems)
    for model in state.models.values():
        policy = policy_for(request.config, model.name)
        if policy.stages is None:
            continue
        for stage in sorted(set(model.holders) - set(policy.stages)):
            holder = model.holders[stage]
            found.append(
                Problem(
                    holder.event.tag,
                    "policy",
                    f"{model.name} {holder.version} holds {stage!r}, which the policy does not "
                    "allow",
                    "add the stage to registry.stages, or unassign it",
                    model.name,
                )
            )
    tags = sum(len(m.events) for m in state.models.values())
    return DoctorResult(state.source, tags, len(state.models), tuple(found))
