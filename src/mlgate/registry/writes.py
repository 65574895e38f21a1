"""Registry writes: register, deregister, deprecate, releases; helpers stage writes share.

Each builds a planner (state -> tags to create) that the writer runs race-safely; the planner
re-checks everything on each attempt, so a retry after a lost race never writes a stale decision.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from mlgate import gitio
from mlgate.errors import ConfigError, UsageError
from mlgate.registry import evidence
from mlgate.registry.backend import load_state
from mlgate.registry.grammar import Kind, SemVer, check_name, format_tag
from mlgate.registry.payload import check_payload, compose_message
from mlgate.registry.policy import RegistryPolicy, find_model, policy_for
from mlgate.registry.state import ModelState, RegistryState, VersionState
from mlgate.registry.writeapi import (
    BUMPS,
    DeprecateRequest,
    DeregisterRequest,
    NextVersionRequest,
    RegisterRequest,
    ReleaseVersionRequest,
    WriteRequest,
    WriteResult,
)
from mlgate.registry.writer import Plan, TagSpec, WriteOptions, Written, write


@dataclass(frozen=True)
class _Context:
    root: Path
    name: str
    policy: RegistryPolicy
    options: WriteOptions
    actor: str | None


def _context(request: WriteRequest) -> _Context:
    root = gitio.repo_root(request.repo.resolve())
    name = check_name(request.name)
    config = request.config
    if config is not None and find_model(config, name) is None:
        from mlgate.config.validate import suggest

        guess = suggest(name, [m.name for m in config.models])
        raise UsageError(
            f"no model named {name!r} in {config.path.name}",
            hint=f"did you mean {guess!r}?"
            if guess
            else "registry writes are limited to the models mlgate.yaml lists: "
            + ", ".join(m.name for m in config.models),
        )
    policy = policy_for(config, name)
    options = WriteOptions(
        push=request.push,
        remote=request.remote or policy.remote,
        sign=policy.sign if request.sign is None else request.sign,
        deadline=request.deadline if request.deadline is not None else policy.deadline,
        attempts=request.attempts,
        model=name,
    )
    return _Context(root, name, policy, options, evidence.actor_name(root))


def _payload(
    ctx: _Context, request: WriteRequest, event: Kind, version: str | None, commit: str
) -> dict[str, Any]:
    payload = evidence.base_payload(event.value, ctx.name, version, commit)
    if ctx.actor and "actor" not in payload:
        payload["actor"] = ctx.actor
    if request.message:
        payload["note"] = request.message
    return evidence.merge(payload, request.payload, "payload")


def _tag(
    request: WriteRequest,
    tag: str,
    commit: str,
    summary: str,
    payload: dict[str, Any],
) -> TagSpec:
    check_payload(payload, f"payload of {tag}")
    return TagSpec(tag, commit, compose_message(request.message or summary, payload))


def _run(ctx: _Context, planner: Callable[[RegistryState], Plan]) -> Written:
    return write(ctx.root, planner, ctx.options)


def _result(ctx: _Context, written: Written, **info: Any) -> WriteResult:
    plan = written.plan
    notes = list(plan.info.get("notes", ()))
    tag = plan.tags[0].name if plan.tags else plan.info.get("tag")
    if plan.tags and not written.pushed:
        notes.append(
            f"not pushed: run with --push, or: git push {ctx.options.remote} 'refs/tags/{tag}'"
        )
    fields = {k: v for k, v in plan.info.items() if k not in ("notes", "tag")}
    fields.update(info)
    return WriteResult(
        name=ctx.name,
        tag=tag,
        created=bool(plan.tags),
        pushed=written.pushed,
        remote=ctx.options.remote if written.pushed else None,
        attempts=written.attempts,
        seconds=written.seconds,
        signed=ctx.options.sign and bool(plan.tags),
        notes=tuple(notes),
        **fields,
    )


def _model(state: RegistryState, name: str) -> ModelState:
    return state.model(name)


def _live_version(model: ModelState, version: str) -> VersionState:
    """The registered, active ``version`` of ``model``; UsageError naming what is wrong."""
    SemVer.parse(version)
    found = model.version(version)
    if found is None or not found.registered:
        from mlgate.config.validate import suggest

        known = [v for v, s in model.versions.items() if s.registered]
        guess = suggest(version, known)
        raise UsageError(
            f"{model.name} {version} is not registered",
            hint=f"did you mean {guess!r}?"
            if guess
            else "registered versions: " + (", ".join(known) or "none"),
        )
    if not found.active:
        raise UsageError(
            f"{model.name} {version} was deregistered"
            + (f" ({found.deregistration.tag})" if found.deregistration else ""),
            hint="register a new version instead; versions are never reused",
        )
    return found


def _not_deprecated(model: ModelState) -> None:
    if model.deprecated:
        raise UsageError(
            f"{model.name} is deprecated",
            hint="register a new version to make it active again",
        )


def register(request: RegisterRequest) -> WriteResult:
    """Register a version of a model at a commit (``NAME@vX.Y.Z``)."""
    ctx = _context(request)
    if request.version and request.bump:
        raise UsageError("pass either --version or --bump, not both")
    if request.bump and request.bump not in BUMPS:
        raise UsageError(f"unknown bump {request.bump!r}", hint="use major, minor or patch")
    if request.version:
        SemVer.parse(request.version)
    if request.release and not request.push:
        raise UsageError("--release needs --push: the GitHub Release is made for the pushed tag")
    commit = evidence.require_commit(ctx.root, request.ref)
    extra: dict[str, Any] = {}
    notes: list[str] = []
    model_cfg = find_model(request.config, ctx.name)
    if model_cfg is not None:
        extra, notes = evidence.committed_evidence(ctx.root, model_cfg, commit)
    if request.verdicts:
        extra["verdicts"] = evidence.verdict_entries(request.verdicts, ctx.name)

    def plan(state: RegistryState) -> Plan:
        model = state.get(ctx.name)
        again = None  # --force: the version this commit carries, registered once more
        if model is not None:
            for existing in model.versions.values():
                if existing.commit != commit or not existing.registered:
                    continue
                if request.force and request.version in (None, existing.version):
                    again = existing
                    break
                raise UsageError(
                    f"commit {commit[:12]} already carries {ctx.name} {existing.version}"
                    + ("" if existing.active else " (deregistered)"),
                    hint="GTO and mlgate map stage tags to versions by commit, so each "
                    "commit holds one version; register a new commit"
                    + ("" if request.force else ", or register it again with --force"),
                )
        if again is not None:
            return _register_again(ctx, request, state, again.version, commit, extra, notes)
        version = request.version or state.next_version(ctx.name, request.bump)
        if state.version_taken(ctx.name, version):
            taken = model.version(version) if model else None
            raise UsageError(
                f"{ctx.name} {version} is already registered"
                + (f" at {taken.commit[:12]}" if taken else "")
                + (" and was deregistered" if taken and not taken.active else ""),
                hint="versions are never reused; pick another or use --bump",
            )
        tag = format_tag(Kind.REGISTER, ctx.name, version=version)
        payload = _payload(ctx, request, Kind.REGISTER, version, commit)
        payload = {**payload, **{k: v for k, v in extra.items() if k not in payload}}
        more = list(notes)
        if model is not None and model.deprecated:
            more.append(f"{ctx.name} was deprecated; this registration makes it active again")
        spec = _tag(request, tag, commit, f"Register {ctx.name} {version}", payload)
        info = {"event": "register", "version": version, "commit": commit, "payload": payload}
        return Plan(ctx.name, (spec,), {**info, "notes": more})

    written = _run(ctx, plan)
    result = _result(ctx, written)
    if request.release:
        from mlgate.registry.release import ReleaseRequest, ensure_version_release

        release = ensure_version_release(
            ctx.root,
            request.config,
            ReleaseRequest(
                name=ctx.name,
                version=str(result.version),
                tag=str(result.tag),
                commit=str(result.commit),
                payload=result.payload,
                verdicts=request.verdicts,
            ),
        )
        result = replace(result, release=release)
    return result


def _register_again(
    ctx: _Context,
    request: RegisterRequest,
    state: RegistryState,
    version: str,
    commit: str,
    extra: dict[str, Any],
    notes: list[str],
) -> Plan:
    """``register --force``: the version at ``commit`` registered once more, as a counted tag
    ``NAME@vX.Y.Z#N`` (GTO reads it; a deregistered version becomes active again)."""
    counter = state.next_counter(ctx.name)
    tag = format_tag(Kind.REGISTER, ctx.name, version=version, counter=counter)
    payload = _payload(ctx, request, Kind.REGISTER, version, commit)
    payload = {**payload, **{k: v for k, v in extra.items() if k not in payload}}
    spec = _tag(request, tag, commit, f"Register {ctx.name} {version} again", payload)
    info = {"event": "register", "version": version, "commit": commit, "counter": counter}
    more = [*notes, f"{version} was registered again at {commit[:12]} (--force)"]
    return Plan(ctx.name, (spec,), {**info, "payload": payload, "notes": more})


def deregister(request: DeregisterRequest) -> WriteResult:
    """Withdraw a version (``NAME@vX.Y.Z!``); it loses every stage it held."""
    ctx = _context(request)
    SemVer.parse(request.version)
    if request.delete:

        def doomed(model: ModelState) -> tuple[list[str], str | None]:
            found = model.version(request.version)
            if found is None:
                raise UsageError(f"{ctx.name} {request.version} has no tags")
            return [e.tag for e in model.events if e.version == found.version], found.version

        return delete_tags(ctx, "deregister", doomed)

    def plan(state: RegistryState) -> Plan:
        model = _model(state, ctx.name)
        version = _live_version(model, request.version)
        tag = format_tag(Kind.DEREGISTER, ctx.name, version=version.version)
        if tag in state.tag_names:
            counter = state.next_counter(ctx.name)
            tag = format_tag(Kind.DEREGISTER, ctx.name, version=version.version, counter=counter)
        payload = _payload(ctx, request, Kind.DEREGISTER, version.version, version.commit)
        spec = _tag(
            request, tag, version.commit, f"Deregister {ctx.name} {version.version}", payload
        )
        notes = [f"{version.version} no longer holds {s}" for s in version.stages]
        info = {
            "event": "deregister",
            "version": version.version,
            "commit": version.commit,
            "payload": payload,
        }
        return Plan(ctx.name, (spec,), {**info, "notes": notes})

    return _result(ctx, _run(ctx, plan))


def deprecate(request: DeprecateRequest) -> WriteResult:
    """Mark a whole model deprecated (``NAME@deprecated``), on the commit of its latest event."""
    ctx = _context(request)
    if request.delete:
        return delete_tags(ctx, "deprecate", lambda model: ([e.tag for e in model.events], None))

    def plan(state: RegistryState) -> Plan:
        model = _model(state, ctx.name)
        _not_deprecated(model)
        commit = model.events[-1].commit
        tag = format_tag(Kind.DEPRECATE, ctx.name)
        if tag in state.tag_names:
            tag = format_tag(Kind.DEPRECATE, ctx.name, counter=state.next_counter(ctx.name))
        payload = _payload(ctx, request, Kind.DEPRECATE, None, commit)
        spec = _tag(request, tag, commit, f"Deprecate {ctx.name}", payload)
        info = {"event": "deprecate", "commit": commit, "payload": payload}
        return Plan(ctx.name, (spec,), info)

    return _result(ctx, _run(ctx, plan))


def delete_tags(
    ctx: _Context,
    event: str,
    doomed: Callable[[ModelState], tuple[list[str], str | None]],
    *,
    stage: str | None = None,
) -> WriteResult:
    """GTO's ``--delete``: remove tags instead of writing new ones, locally and (with
    ``--push``) on the remote in one atomic push. History is lost; counters are not reused
    (their claims stay on the remote)."""
    from mlgate.registry.writer import remove_tags

    state = load_state(ctx.root, ctx.options.remote if ctx.options.push else None, ctx.name)
    model = _model(state, ctx.name)
    tags, version = doomed(model)
    if not tags:
        raise UsageError(f"no tags of {ctx.name} to delete")
    local, remote = remove_tags(ctx.root, tags, ctx.options)
    notes = [f"deleted {len(local)} local tag(s)"]
    if ctx.options.push:
        notes.append(f"deleted {len(remote)} tag(s) on {ctx.options.remote}")
    else:
        notes.append(f"not pushed: run with --push to delete them on {ctx.options.remote} too")
    return WriteResult(
        event=event,
        name=ctx.name,
        tag=None,
        commit=None,
        version=version,
        stage=stage,
        created=False,
        pushed=ctx.options.push,
        remote=ctx.options.remote if ctx.options.push else None,
        deleted=tuple(tags),
        notes=tuple(notes),
    )


def release_version(request: ReleaseVersionRequest) -> WriteResult:
    """Create or update the GitHub Release of an existing registration (idempotent)."""
    from mlgate.registry.release import ReleaseRequest, ensure_version_release

    root = gitio.repo_root(request.repo.resolve())
    name = check_name(request.name)
    state = load_state(root, request.remote, name)
    model = state.model(name)
    version = _live_version(model, request.version)
    reg = version.registration
    if reg is None:
        raise UsageError(f"{name} {request.version} has no registration tag")
    if reg.payload_error:
        raise ConfigError(f"registry tag {reg.tag} has a corrupted payload: {reg.payload_error}")
    payload = reg.payload or {"model": name, "version": version.version}
    made = ensure_version_release(
        root,
        request.config,
        ReleaseRequest(name, version.version, reg.tag, version.commit, payload, request.verdicts),
    )
    return WriteResult(
        event="release",
        name=name,
        tag=reg.tag,
        commit=version.commit,
        version=version.version,
        created=False,
        payload=payload,
        release=made,
    )


def next_version(request: NextVersionRequest) -> str:
    """The version ``register`` would give ``name`` now (with ``bump``, default patch)."""
    if request.bump and request.bump not in BUMPS:
        raise UsageError(f"unknown bump {request.bump!r}", hint="use major, minor or patch")
    root = gitio.repo_root(request.repo.resolve())
    name = check_name(request.name)
    return load_state(root, request.remote, name).next_version(name, request.bump)
