"""Versions of a model: register (``NAME@vX.Y.Z``), deregister (``NAME@vX.Y.Z!``), deprecate
(``NAME@deprecated``), and the version the next registration gets.

Each builds a planner that ``transaction.write`` runs race-safely.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlgate import gitio
from mlgate.errors import UsageError
from mlgate.registry import evidence
from mlgate.registry.github_release import GitHubReleaseRequest, ensure_version_release
from mlgate.registry.grammar import Kind, SemVer, check_name, format_tag
from mlgate.registry.policy import find_model
from mlgate.registry.state import ModelState, RegistryState
from mlgate.registry.tags import load_state
from mlgate.registry.transaction import (
    Plan,
    WriteContext,
    WriteRequest,
    WriteResult,
    delete_tags,
    live_version,
    model_of,
    not_deprecated,
    open_write,
    payload_for,
    result_of,
    run,
    tag_spec,
)

if TYPE_CHECKING:
    from mlgate.github.client import GitHubClient

BUMPS = ("major", "minor", "patch")


@dataclass(frozen=True, kw_only=True)
class RegisterRequest(WriteRequest):
    version: str | None = None  # explicit vX.Y.Z, else a bump of the highest version so far
    bump: str | None = None  # major | minor | patch (default patch; v0.0.1 first)
    ref: str = "HEAD"
    verdicts: tuple[Path, ...] = ()  # verdict files whose digests and outcomes to record
    release: bool = False  # also create the GitHub Release for the tag
    github: GitHubClient | None = None  # the client that creates it (None: no token)
    force: bool = False  # register again the version the commit already carries (GTO --force)


@dataclass(frozen=True, kw_only=True)
class DeregisterRequest(WriteRequest):
    version: str
    delete: bool = False  # delete every tag of the version instead (GTO's --delete)


@dataclass(frozen=True, kw_only=True)
class DeprecateRequest(WriteRequest):
    delete: bool = False  # delete every tag of the model instead (GTO's --delete)


@dataclass(frozen=True, kw_only=True)
class NextVersionRequest:
    name: str
    bump: str | None = None
    repo: Path = Path()
    remote: str | None = None


def register(request: RegisterRequest) -> WriteResult:
    """Register a version of a model at a commit (``NAME@vX.Y.Z``)."""
    ctx = open_write(request)
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
        payload = payload_for(ctx, request, Kind.REGISTER, version, commit)
        payload = {**payload, **{k: v for k, v in extra.items() if k not in payload}}
        more = list(notes)
        if model is not None and model.deprecated:
            more.append(f"{ctx.name} was deprecated; this registration makes it active again")
        spec = tag_spec(request, tag, commit, f"Register {ctx.name} {version}", payload)
        info = {"event": "register", "version": version, "commit": commit, "payload": payload}
        return Plan(ctx.name, (spec,), {**info, "notes": more})

    written = run(ctx, plan)
    result = result_of(ctx, written)
    if request.release:
        release = ensure_version_release(
            ctx.root,
            request.config,
            request.github,
            GitHubReleaseRequest(
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
    ctx: WriteContext,
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
    payload = payload_for(ctx, request, Kind.REGISTER, version, commit)
    payload = {**payload, **{k: v for k, v in extra.items() if k not in payload}}
    spec = tag_spec(request, tag, commit, f"Register {ctx.name} {version} again", payload)
    info = {"event": "register", "version": version, "commit": commit, "counter": counter}
    more = [*notes, f"{version} was registered again at {commit[:12]} (--force)"]
    return Plan(ctx.name, (spec,), {**info, "payload": payload, "notes": more})


def deregister(request: DeregisterRequest) -> WriteResult:
    """Withdraw a version (``NAME@vX.Y.Z!``); it loses every stage it held."""
    ctx = open_write(request)
    SemVer.parse(request.version)
    if request.delete:

        def doomed(model: ModelState) -> tuple[list[str], str | None]:
            found = model.version(request.version)
            if found is None:
                raise UsageError(f"{ctx.name} {request.version} has no tags")
            return [e.tag for e in model.events if e.version == found.version], found.version

        return delete_tags(ctx, "deregister", doomed)

    def plan(state: RegistryState) -> Plan:
        model = model_of(state, ctx.name)
        version = live_version(model, request.version)
        tag = format_tag(Kind.DEREGISTER, ctx.name, version=version.version)
        if tag in state.tag_names:
            counter = state.next_counter(ctx.name)
            tag = format_tag(Kind.DEREGISTER, ctx.name, version=version.version, counter=counter)
        payload = payload_for(ctx, request, Kind.DEREGISTER, version.version, version.commit)
        spec = tag_spec(
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

    return result_of(ctx, run(ctx, plan))


def deprecate(request: DeprecateRequest) -> WriteResult:
    """Mark a whole model deprecated (``NAME@deprecated``), on the commit of its latest event."""
    ctx = open_write(request)
    if request.delete:
        return delete_tags(ctx, "deprecate", lambda model: ([e.tag for e in model.events], None))

    def plan(state: RegistryState) -> Plan:
        model = model_of(state, ctx.name)
        not_deprecated(model)
        commit = model.events[-1].commit
        tag = format_tag(Kind.DEPRECATE, ctx.name)
        if tag in state.tag_names:
            tag = format_tag(Kind.DEPRECATE, ctx.name, counter=state.next_counter(ctx.name))
        payload = payload_for(ctx, request, Kind.DEPRECATE, None, commit)
        spec = tag_spec(request, tag, commit, f"Deprecate {ctx.name}", payload)
        info = {"event": "deprecate", "commit": commit, "payload": payload}
        return Plan(ctx.name, (spec,), info)

    return result_of(ctx, run(ctx, plan))


def next_version(request: NextVersionRequest) -> str:
    """The version ``register`` would give ``name`` now (with ``bump``, default patch)."""
    if request.bump and request.bump not in BUMPS:
        raise UsageError(f"unknown bump {request.bump!r}", hint="use major, minor or patch")
    root = gitio.repo_root(request.repo.resolve())
    name = check_name(request.name)
    return load_state(root, request.remote, name).next_version(name, request.bump)
