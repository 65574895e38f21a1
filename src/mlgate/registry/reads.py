"""Registry reads: show, history, resolve, check-ref, stages. Each reads the state once."""

from __future__ import annotations

import heapq
from pathlib import Path

from mlgate import gitio
from mlgate.errors import CheckFailed, ConfigError, UsageError
from mlgate.registry.api import (
    CheckRefRequest,
    DoctorRequest,
    DoctorResult,
    HistoryRequest,
    HistoryResult,
    ReadRequest,
    RefInfo,
    Resolution,
    ResolveRequest,
    ShowRequest,
    ShowResult,
    StagesRequest,
    StagesResult,
)
from mlgate.registry.backend import load_state, verify_tags
from mlgate.registry.grammar import TAGS_PREFIX, Kind, SemVer, check_name, parse_ref, parse_tag
from mlgate.registry.policy import find_model, policy_for
from mlgate.registry.state import (
    FETCH_HINT,
    PRIORITY,
    Event,
    ModelState,
    RegistryState,
    VersionState,
)


def _root(request: ReadRequest) -> Path:
    return gitio.repo_root(request.repo.resolve())


def _state(
    request: ReadRequest, name: str | None = None, refs: str | None = None
) -> tuple[Path, RegistryState]:
    """The state (of one model's tags only when ``name`` is given: all its state needs)."""
    root = _root(request)
    return root, load_state(root, request.remote, check_name(name) if name else None, refs=refs)


def show(request: ShowRequest) -> ShowResult:
    """The registry (or one model): latest version and stage holders, plus any problems."""
    root, state = _state(request, request.name, request.refs)
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


class Unresolved(CheckFailed):
    """Nothing answers the reference (exit 1); ``empty`` is the answer with no version."""

    def __init__(self, message: str, empty: Resolution, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.empty = empty


def _when(event: Event) -> tuple[int, int]:
    """Across models: tag time, then GTO's priority for events of the same second."""
    return (event.timestamp, PRIORITY[event.kind])


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

        model_file = fetch_model_file(root, model_cfg, version)
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


def doctor(request: DoctorRequest) -> DoctorResult:
    """Every problem in the registry's tags (lightweight, malformed, corrupted payloads,
    conflicting registrations), plus stages in use that the policy does not allow."""
    from mlgate.registry.state import Problem

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
