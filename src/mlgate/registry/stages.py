"""Stages: assign (``NAME#STAGE#N``), unassign (``NAME#STAGE!#N``) and rollback (an assignment
of the version that held the stage before). The stage policy is checked inside each planner, so
a retry after a lost race re-checks it against the fresh state.

``mlgate promote`` and ``mlgate rollback`` (``mlgate.publish.release``) are composites: this
module's ``assign`` or ``rollback``, then the image tag ``REPO:STAGE`` moved to the version's
image digest.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from mlgate.errors import UsageError
from mlgate.registry import evidence
from mlgate.registry.grammar import Kind, SemVer, check_stage, format_tag
from mlgate.registry.state import Holder, ModelState, RegistryState, VersionState
from mlgate.registry.tags import verify_tags
from mlgate.registry.transaction import (
    Plan,
    TagSpec,
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
class RollbackRequest(WriteRequest):
    stage: str


def assign(request: AssignRequest) -> WriteResult:
    """Put a version into a stage (``NAME#STAGE#N`` on the version's commit).

    With ``ref`` instead of ``version`` (GTO's ``assign NAME REF --stage S``): the version
    registered at that commit; when there is none, a new version is registered there in the same
    atomic push (``new_version``, else a patch bump), or with ``skip_registration`` the commit
    itself takes the stage unregistered, as GTO allows.
    """
    ctx = open_write(request)
    stage = check_stage(request.stage)
    if (request.version is None) == (request.ref is None):
        raise UsageError("name either a registered VERSION or a REF (commit) to assign")
    if request.version is not None:
        SemVer.parse(request.version)
    if request.new_version is not None:
        if request.ref is None:
            raise UsageError("--version names a new version only together with a REF")
        if request.skip_registration:
            raise UsageError("pass either --version (register it) or --skip-registration")
        SemVer.parse(request.new_version)
    ctx.policy.check_stage(stage)
    commit = evidence.require_commit(ctx.root, request.ref) if request.ref is not None else None

    def plan(state: RegistryState) -> Plan:
        model = state.get(ctx.name)
        register: TagSpec | None = None
        if commit is None:
            model = model_of(state, ctx.name)
            version = live_version(model, str(request.version))
        else:
            version, register = _version_at(ctx, request, state, model, commit)
        if model is not None:
            not_deprecated(model)
        holder = model.holders.get(stage) if model else None
        if holder and holder.version == version.version and not request.force:
            info = {
                "event": "assign",
                "version": version.version,
                "stage": stage,
                "commit": version.commit,
                "previous": holder.version,
                "holder": holder.version,
                "tag": holder.event.tag,
                "notes": [f"{ctx.name} {version.version} already holds {stage}; nothing to do"],
            }
            return Plan(ctx.name, (), info)
        if model is not None:
            ctx.policy.check_order(model, version, stage)
        ctx.policy.check_passing_version(ctx.name, version)
        if ctx.policy.verify and version.registration:
            reg = version.registration
            verify_tags(ctx.root, [reg.tag], {reg.tag: reg.object_id})
        made = _stage_plan(
            ctx,
            request,
            state,
            model,
            kind=Kind.ASSIGN,
            version=version,
            stage=stage,
            holder=holder,
            simple=request.simple,
        )
        if register is None:
            return made
        notes = [f"registered {ctx.name} {version.version} at {version.commit[:12]} (as GTO does)"]
        info = {**made.info, "registered": register.name}
        info["notes"] = [*notes, *made.info.get("notes", ())]
        return Plan(ctx.name, (*made.tags, register), info)

    return result_of(ctx, run(ctx, plan))


def _version_at(
    ctx: WriteContext,
    request: AssignRequest,
    state: RegistryState,
    model: ModelState | None,
    commit: str,
) -> tuple[VersionState, TagSpec | None]:
    """The version at ``commit`` and, when it has none, the registration to make (or None for
    an unregistered commit with ``skip_registration``)."""
    found = next(
        (v for v in (model.versions.values() if model else ()) if v.commit == commit),
        None,
    )
    if found is not None and (found.registered or request.skip_registration):
        if request.new_version and request.new_version != found.version:
            raise UsageError(
                f"commit {commit[:12]} already carries {ctx.name} {found.version}",
                hint=f"assign {found.version}, or register {request.new_version} elsewhere",
            )
        if found.registered and not found.active:
            raise UsageError(f"{ctx.name} {found.version} at {commit[:12]} was deregistered")
        return found, None
    if request.skip_registration:
        return VersionState(commit, commit, registered=False, active=True), None
    version = request.new_version or state.next_version(ctx.name, "patch")
    if state.version_taken(ctx.name, version):
        raise UsageError(
            f"{ctx.name} {version} is already registered",
            hint="versions are never reused; pick another with --version",
        )
    tag = format_tag(Kind.REGISTER, ctx.name, version=version)
    payload = payload_for(ctx, request, Kind.REGISTER, version, commit)
    spec = tag_spec(request, tag, commit, f"Register {ctx.name} {version}", payload)
    return VersionState(version, commit, registered=True, active=True), spec


def _stage_plan(
    ctx: WriteContext,
    request: WriteRequest,
    state: RegistryState,
    model: ModelState | None,
    *,
    kind: Kind,
    version: VersionState,
    stage: str,
    holder: Holder | None,
    summary: str | None = None,
    simple: bool = False,
    counter: int | None = None,
) -> Plan:
    if simple:
        counter = None
        tag = format_tag(kind, ctx.name, stage=stage)
        if tag in state.tag_names:
            raise UsageError(
                f"the simple tag {tag!r} exists already; GTO's simple tags are written once",
                hint="write a counted tag instead (without --simple)",
            )
    else:
        counter = counter or state.next_counter(ctx.name)
        tag = format_tag(kind, ctx.name, stage=stage, counter=counter)
    # A commit nobody registered is named by its sha; the payload's version stays null.
    named = version.version if version.registered else None
    payload = payload_for(ctx, request, kind, named, version.commit)
    payload["stage"] = stage
    if counter is not None:
        payload["counter"] = counter
    previous = holder.version if holder else None
    if kind is Kind.ASSIGN:
        # The payload names versions; a commit nobody registered is null there.
        payload["previous"] = previous if previous and SemVer.is_valid(previous) else None
        after: str | None = version.version
        verb = summary or f"Assign {ctx.name} {version.version} to {stage}"
    else:
        after = model.holder_without(stage, version.version) if model else None
        verb = summary or f"Unassign {ctx.name} {version.version} from {stage}"
    spec = tag_spec(request, tag, version.commit, verb, payload)
    info = {
        "event": kind.value,
        "version": version.version,
        "stage": stage,
        "counter": counter,
        "commit": version.commit,
        "previous": previous,
        "holder": after,
        "payload": payload,
    }
    notes = []
    if kind is Kind.UNASSIGN and after is not None:
        notes.append(f"{stage} falls back to {after}, which still holds it (as in GTO)")
    return Plan(ctx.name, (spec,), {**info, "notes": notes})


def unassign(request: UnassignRequest) -> WriteResult:
    """Take a version out of a stage (default: the version holding it; ``all``: every version
    in it). ``delete`` deletes the version's tags for the stage instead (GTO's ``--delete``)."""
    ctx = open_write(request)
    stage = check_stage(request.stage)
    if request.all and request.version is not None:
        raise UsageError("pass either --version or --all, not both")
    if request.delete:

        def doomed(model: ModelState) -> tuple[list[str], str | None]:
            version = _stage_version(model, request, stage)
            versions = (
                [v for v in model.versions if v in model.active_stages]
                if request.all
                else [version.version]
            )
            tags = [e.tag for e in model.events if e.stage == stage and e.version in versions]
            return tags, (None if request.all else version.version)

        return delete_tags(ctx, "unassign", doomed, stage=stage)

    def plan(state: RegistryState) -> Plan:
        model = model_of(state, ctx.name)
        holder = model.holders.get(stage)
        if not request.all:
            version = _stage_version(model, request, stage)
            return _stage_plan(
                ctx,
                request,
                state,
                model,
                kind=Kind.UNASSIGN,
                version=version,
                stage=stage,
                holder=holder,
                simple=request.simple,
            )
        members = [model.versions[v] for v, s in model.active_stages.items() if stage in s]
        if not members:
            raise UsageError(f"no version of {ctx.name} is in {stage!r}")
        first = state.next_counter(ctx.name)
        plans = [
            _stage_plan(
                ctx,
                request,
                state,
                model,
                kind=Kind.UNASSIGN,
                version=v,
                stage=stage,
                holder=holder,
                counter=first + i,
            )
            for i, v in enumerate(members)
        ]
        versions = [v.version for v in members]
        info = {**plans[0].info, "holder": None, "versions": tuple(versions), "counter": first}
        info["notes"] = [f"{stage} is empty now: {', '.join(versions)} left it"]
        return Plan(ctx.name, tuple(t for p in plans for t in p.tags), info)

    return result_of(ctx, run(ctx, plan))


def _stage_version(model: ModelState, request: UnassignRequest, stage: str) -> VersionState:
    holder = model.holders.get(stage)
    if request.version is None:
        if holder is None:
            raise UsageError(f"no version of {model.name} holds {stage!r}")
        return model.versions[holder.version]
    version = live_version(model, request.version)
    if not model.in_stage(version.version, stage):
        raise UsageError(f"{model.name} {version.version} is not in {stage!r}")
    return version


def rollback(request: RollbackRequest) -> WriteResult:
    """Give a stage back to the version that held it before the current one."""
    ctx = open_write(request)
    stage = check_stage(request.stage)
    ctx.policy.check_stage(stage)

    def plan(state: RegistryState) -> Plan:
        model = model_of(state, ctx.name)
        not_deprecated(model)
        holder = model.holders.get(stage)
        if holder is None:
            raise UsageError(f"no version of {ctx.name} holds {stage!r}; nothing to roll back")
        previous = model.previous_holder(stage)
        if previous is None:
            raise UsageError(
                f"no earlier active version of {ctx.name} held {stage!r} before {holder.version}",
                hint=f"assign a version explicitly: mlgate registry assign {ctx.name} VERSION "
                f"{stage}",
            )
        ctx.policy.check_passing(model, previous)
        summary = f"Roll back {ctx.name} {stage} from {holder.version} to {previous.version}"
        return _stage_plan(
            ctx,
            request,
            state,
            model,
            kind=Kind.ASSIGN,
            version=previous,
            stage=stage,
            holder=holder,
            summary=summary,
        )

    return replace(result_of(ctx, run(ctx, plan)), event="rollback")
