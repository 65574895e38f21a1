"""Stage writes: assign, unassign, rollback (``NAME#STAGE#N`` and ``NAME#STAGE!#N`` tags).

Each checks the stage policy inside the planner, so a retry after a lost race re-checks it
against the fresh state.
"""

from __future__ import annotations

from dataclasses import replace

from mlgate.errors import UsageError
from mlgate.registry.api import (
    AssignRequest,
    RollbackRequest,
    UnassignRequest,
    WriteRequest,
    WriteResult,
)
from mlgate.registry.backend import verify_tags
from mlgate.registry.grammar import Kind, SemVer, check_stage, format_tag
from mlgate.registry.state import Holder, ModelState, RegistryState, VersionState
from mlgate.registry.writer import Plan
from mlgate.registry.writes import (
    _Context,
    _context,
    _live_version,
    _model,
    _not_deprecated,
    _payload,
    _result,
    _run,
    _tag,
)


def assign(request: AssignRequest) -> WriteResult:
    """Put a registered version into a stage (``NAME#STAGE#N`` on the version's commit)."""
    ctx = _context(request)
    stage = check_stage(request.stage)
    SemVer.parse(request.version)
    ctx.policy.check_stage(stage)

    def plan(state: RegistryState) -> Plan:
        model = _model(state, ctx.name)
        _not_deprecated(model)
        version = _live_version(model, request.version)
        holder = model.holders.get(stage)
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
        ctx.policy.check_order(model, version, stage)
        ctx.policy.check_passing(model, version)
        if ctx.policy.verify and version.registration:
            reg = version.registration
            verify_tags(ctx.root, [reg.tag], {reg.tag: reg.object_id})
        return _stage_plan(
            ctx,
            request,
            state,
            model,
            kind=Kind.ASSIGN,
            version=version,
            stage=stage,
            holder=holder,
        )

    return _result(ctx, _run(ctx, plan))


def _stage_plan(
    ctx: _Context,
    request: WriteRequest,
    state: RegistryState,
    model: ModelState,
    *,
    kind: Kind,
    version: VersionState,
    stage: str,
    holder: Holder | None,
    summary: str | None = None,
) -> Plan:
    counter = state.next_counter(ctx.name)
    tag = format_tag(kind, ctx.name, stage=stage, counter=counter)
    payload = _payload(ctx, request, kind, version.version, version.commit)
    payload.update(stage=stage, counter=counter)
    previous = holder.version if holder else None
    if kind is Kind.ASSIGN:
        payload["previous"] = previous
        after: str | None = version.version
        verb = summary or f"Assign {ctx.name} {version.version} to {stage}"
    else:
        after = model.holder_without(stage, version.version)
        verb = summary or f"Unassign {ctx.name} {version.version} from {stage}"
    spec = _tag(request, tag, version.commit, verb, payload)
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
    """Take a version out of a stage (default: the version holding it)."""
    ctx = _context(request)
    stage = check_stage(request.stage)

    def plan(state: RegistryState) -> Plan:
        model = _model(state, ctx.name)
        holder = model.holders.get(stage)
        if request.version is None:
            if holder is None:
                raise UsageError(f"no version of {ctx.name} holds {stage!r}")
            version = model.versions[holder.version]
        else:
            version = _live_version(model, request.version)
            if not model.in_stage(version.version, stage):
                raise UsageError(f"{ctx.name} {version.version} is not in {stage!r}")
        return _stage_plan(
            ctx,
            request,
            state,
            model,
            kind=Kind.UNASSIGN,
            version=version,
            stage=stage,
            holder=holder,
        )

    return _result(ctx, _run(ctx, plan))


def rollback(request: RollbackRequest) -> WriteResult:
    """Give a stage back to the version that held it before the current one."""
    ctx = _context(request)
    stage = check_stage(request.stage)
    ctx.policy.check_stage(stage)

    def plan(state: RegistryState) -> Plan:
        model = _model(state, ctx.name)
        _not_deprecated(model)
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

    return replace(_result(ctx, _run(ctx, plan)), event="rollback")
