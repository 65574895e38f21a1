"""The race-safe transaction every registry write runs: create tags only if absent, push without
force, retry on a lost race. Also what every write shares: its request and result types, the
context (repository, policy, options) and the payload every tag carries.

One attempt: read the state (the remote's when pushing), let the planner decide the tags (next
version, next counter, policy checks), create them locally, push them atomically. A push the
remote rejects because someone else got there first removes our local tags, waits a jittered,
exponentially growing moment, and tries again from a fresh read (so ``--bump`` computes a fresh
version every time), until a deadline (``registry.deadline``, default 300 s: long enough for 16
writers at once on a loaded 2-core machine). Any other rejection removes them and fails (exit 3),
and so does the deadline. Nothing is ever left behind locally that the remote refused.

Two writers racing for the same counter with different stages (``m#staging#3``, ``m#prod#3``)
make different tag names, which git would both accept. So a pushed counted tag also claims its
counter: ``refs/mlgate/claims/NAME/N`` is pushed in the same atomic push with
``--force-with-lease=REF:`` (the remote must not have it yet), a compare-and-swap the remote
performs. The loser's whole push is refused, and it re-plans with the next counter. GTO ignores
refs outside ``refs/tags``.

A write is a planner (state -> tags to create) that ``write`` runs: the planner re-checks
everything on each attempt, so a retry after a lost race never writes a stale decision. GTO's
``--delete`` (``delete_tags``) removes tags instead, in one atomic push.
"""

from __future__ import annotations

import email.utils
import os
import random
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlgate import gitio, proc
from mlgate.config.sections import DEFAULT_DEADLINE
from mlgate.errors import ExternalError, UsageError
from mlgate.github.actions import RunContext
from mlgate.registry import evidence
from mlgate.registry.grammar import Kind, SemVer, check_name, parse_tag, to_tag_name
from mlgate.registry.payload import check_payload, compose_message
from mlgate.registry.policy import RegistryPolicy, find_model, policy_for
from mlgate.registry.state import ModelState, RegistryState, VersionState
from mlgate.registry.tags import TAGS, load_state

if TYPE_CHECKING:
    from mlgate.config.model import Config

BACKOFF_BASE = 0.05  # seconds; the first retry waits up to twice this
BACKOFF_CAP = 4.0  # seconds; no single wait is longer
CLAIMS = "refs/mlgate/claims/"
_RETRYABLE = ("already exists", "fetch first", "stale info", "non-fast-forward", "atomic push")
# A remote refusing because another push holds the ref's lock right now: also a lost race.
_TRANSIENT = ("failed to update ref", "failed to lock", "cannot lock ref", "incorrect old value")


@dataclass(frozen=True)
class TagSpec:
    """A tag to create: its name, the commit it tags and its full message."""

    name: str
    target: str
    message: str


@dataclass(frozen=True)
class Plan:
    """What one write creates (no tags: nothing to do) and what the caller reports about it."""

    model: str
    tags: tuple[TagSpec, ...]
    info: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class WriteOptions:
    push: bool = False
    remote: str = "origin"
    sign: bool = False
    deadline: float = DEFAULT_DEADLINE  # seconds from the first attempt
    attempts: int | None = None  # an extra bound on attempts (None: the deadline alone)
    model: str | None = None  # read only this model's tags (all a write of it depends on)


@dataclass(frozen=True)
class Written:
    plan: Plan
    state: RegistryState  # the state the plan was made from
    attempts: int
    pushed: bool
    seconds: float = 0.0  # from the first read to the pushed tag


class _Lost(Exception):
    """Someone else created the tag first: read again and re-plan."""


def backoff(attempt: int, chance: random.Random) -> float:
    """Seconds to wait after losing attempt ``attempt`` (1-based): "full jitter", uniform in
    [0, min(cap, base * 2**attempt)], so writers that lost together spread out instead of
    colliding again on the same schedule."""
    return chance.uniform(0.0, min(BACKOFF_CAP, BACKOFF_BASE * 2**attempt))


def write(
    root: Path,
    planner: Callable[[RegistryState], Plan],
    options: WriteOptions,
    *,
    rng: random.Random | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Written:
    """Plan and create tags, retrying lost races until ``options.deadline`` seconds have passed
    (or ``options.attempts`` attempts, when set)."""
    chance = rng or random.Random()  # noqa: S311 - jitter, not cryptography
    claimed = 0  # the highest counter claimed on the remote, when a claim was refused
    started = clock()
    attempt = 0
    while True:
        attempt += 1
        remote = options.remote if options.push else None
        state = load_state(root, remote, options.model, writing=True)
        if claimed and options.model is not None:
            state = _counter_at_least(state, options.model, claimed)
        plan = planner(state)
        if not plan.tags:
            return Written(plan, state, attempt, pushed=False, seconds=clock() - started)
        date = tag_date(state, plan.model)
        try:
            _create_and_push(root, plan, options, date)
        except _Lost:
            if options.push and options.model is not None:
                # A counter claimed by a tag that was later deleted would otherwise be lost
                # again on every attempt: start above every claim.
                claimed = _highest_claim(root, options.remote, options.model)
            wait = backoff(attempt, chance)
            out_of_attempts = options.attempts is not None and attempt >= options.attempts
            if out_of_attempts or clock() + wait - started > options.deadline:
                break
            sleep(wait)
            continue
        return Written(plan, state, attempt, pushed=options.push, seconds=clock() - started)
    spent = clock() - started
    raise ExternalError(
        f"could not write {plan.tags[0].name} after {attempt} attempts in {spent:.0f} s: the "
        "registry kept changing under us (other writers at the same time)",
        hint="run the command again, or allow more time (registry.deadline in mlgate.yaml, "
        "or --deadline SECONDS); nothing was left behind",
    )


def remove_tags(root: Path, tags: list[str], options: WriteOptions) -> tuple[list[str], list[str]]:
    """Delete ``tags`` here and, with ``options.push``, on the remote (one atomic push of the
    ones it has). Returns (deleted here, deleted there)."""
    refs = [TAGS + t for t in tags]
    present = gitio.for_each_ref(root, "%(refname) %(objectname)", refs).split()
    local = dict(zip(present[::2], present[1::2], strict=True))
    there: list[str] = []
    if options.push:
        listing = gitio.ls_remote_tags(root, options.remote, refs)
        there = [t for t in tags if t in listing]
        if there:
            result = gitio.push_refspecs(
                root, options.remote, [f":{TAGS}{t}" for t in there], atomic=len(there) > 1
            )
            if not result.ok:
                error = proc.process_error(result, f"git push {options.remote}")
                raise ExternalError(
                    f"{options.remote} refused to delete the registry tags",
                    hint="check your permission to delete tags there (protected tags, hooks)",
                    details=error.details,
                )
    gitio.delete_refs(root, local)
    return [r[len(TAGS) :] for r in local], there


def _create_and_push(root: Path, plan: Plan, options: WriteOptions, date: str | None) -> None:
    created: dict[str, str] = {}
    done = False
    try:
        for spec in plan.tags:
            result = gitio.create_tag(
                root, spec.name, spec.target, spec.message, sign=options.sign, date=date
            )
            if not result.ok:
                if "already exists" in result.stderr:
                    raise _Lost
                raise _tag_error(result, spec.name, options.sign)
            ref = TAGS + spec.name
            created[ref] = gitio.ref_ids(root, [ref])[0]
            if (
                options.sign
                and not gitio.for_each_ref(root, "%(contents:signature)", [ref]).strip()
            ):
                # Some git versions write the tag unsigned (with the error in its message) and
                # exit 0 when the signing program fails.
                raise _tag_error(result, spec.name, sign=True, reason="the tag came out unsigned")
        if options.push:
            _push(root, options.remote, list(created), _claims(created))
        done = True
    finally:
        if not done and created:
            gitio.delete_refs(root, created)


def _claims(refs: Mapping[str, str]) -> dict[str, str]:
    """Tag ref -> the claim ref of its counter, for the counted tags among ``refs``."""
    out = {}
    for ref in refs:
        parsed = parse_tag(ref)
        if parsed is not None and parsed.counter is not None:
            out[ref] = f"{CLAIMS}{parsed.tag_name}/{parsed.counter}"
    return out


def _highest_claim(root: Path, remote: str, model: str) -> int:
    pattern = f"{CLAIMS}{to_tag_name(model)}/*"
    listed = gitio.git(["ls-remote", "--", remote, pattern], root, check=False, timeout=120)
    numbers = [
        int(ref.rsplit("/", 1)[1])
        for _, _, ref in (line.partition("\t") for line in listed.stdout.splitlines())
        if ref.rsplit("/", 1)[-1].isdigit()
    ]
    return max(numbers, default=0)


def _counter_at_least(state: RegistryState, model: str, claimed: int) -> RegistryState:
    """``state`` whose next counter for ``model`` is above ``claimed``."""
    found = state.get(model)
    if found is None:  # the counter of a model without events comes from the tag names
        extra = f"{to_tag_name(model)}#claimed#{claimed}"
        return replace(state, tag_names=state.tag_names | {extra})
    models = dict(state.models)
    models[found.name] = replace(found, last_counter=max(found.last_counter, claimed))
    return replace(state, models=models)


def _push(
    root: Path, remote: str, refs: list[str], claims: Mapping[str, str] | None = None
) -> None:
    claims = claims or {}
    refspecs = [f"{r}:{r}" for r in refs] + [f"{r}:{c}" for r, c in claims.items()]
    leases = [f"--force-with-lease={c}:" for c in claims.values()]
    result = gitio.push_refspecs(root, remote, refspecs, atomic=len(refspecs) > 1, leases=leases)
    statuses = [
        line.split("\t")
        for line in result.stdout.splitlines()
        if line[:1] in " +-*!=" and line.count("\t") >= 2
    ]
    rejected = [s for s in statuses if s[0] == "!"]
    if result.ok and statuses and not rejected:
        return
    if rejected and all(_lost_race(s[2], result.stderr) for s in rejected):
        raise _Lost
    reasons = [f"{s[1].split(':')[0]}: {s[2]}" for s in rejected]
    error = proc.process_error(result, f"git push {remote}")
    raise ExternalError(
        f"{remote} refused the registry tag"
        + (f": {rejected[0][2]}" if rejected else f" (git push exit code {result.returncode})"),
        hint="check your permission to push tags to it (protected tags, hooks, credentials); "
        "the local tag was removed, so nothing is out of sync",
        details=reasons + error.details,
    )


def _lost_race(summary: str, stderr: str = "") -> bool:
    if "[rejected]" in summary:
        return any(key in summary for key in _RETRYABLE)
    if "[remote rejected]" in summary:
        if "atomic transaction failed" in summary:
            # The remote could not create a ref of the atomic push (a claim someone else made
            # a moment earlier): git says which on stderr.
            return any(key in stderr for key in (*_TRANSIENT, "already exists"))
        return any(key in summary for key in (*_TRANSIENT, "atomic push"))
    return False


def _tag_error(
    result: proc.Completed, name: str, sign: bool, reason: str | None = None
) -> ExternalError:
    error = proc.process_error(result, "git tag")
    hint = (
        "signing needs a key: set git config user.signingKey (and gpg.format ssh for SSH keys)"
        if sign
        else None
    )
    message = f"git could not create tag {name!r}" + (f": {reason}" if reason else "")
    return ExternalError(message, hint=hint, details=error.details)


_RAW_DATE = re.compile(r"^@?(\d{9,})(?: ([+-]\d{4}))?$")


def tag_date(state: RegistryState, model: str) -> str | None:
    """A tagger date after every existing event of ``model``, so GTO (which orders by tag time,
    to the second) replays events in the same order as mlgate (which orders by counter).

    Honours a pinned ``GIT_COMMITTER_DATE``; None when it is set in a form we cannot read.
    """
    now = _now()
    if now is None:
        return None
    found = state.get(model)
    last = found.last_timestamp if found else 0
    seconds, offset = now
    return f"{max(seconds, last + 1)} {offset}"


def _now() -> tuple[int, str] | None:
    pinned = os.environ.get("GIT_COMMITTER_DATE", "").strip()
    if not pinned:
        local = time.localtime()
        return int(time.time()), _offset(local.tm_gmtoff)
    raw = _RAW_DATE.match(pinned)
    if raw:
        return int(raw[1]), raw[2] or "+0000"
    try:
        parsed = datetime.fromisoformat(pinned)
    except ValueError:
        try:
            parsed = email.utils.parsedate_to_datetime(pinned)
        except (TypeError, ValueError):
            return None
    if parsed.tzinfo is None:
        return None
    delta = parsed.utcoffset()
    return int(parsed.timestamp()), _offset(int(delta.total_seconds()) if delta else 0)


def _offset(seconds: int) -> str:
    sign = "-" if seconds < 0 else "+"
    minutes = abs(seconds) // 60
    return f"{sign}{minutes // 60:02d}{minutes % 60:02d}"


# --- what every write shares -------------------------------------------------------------


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
    run: RunContext = field(default_factory=RunContext)  # the Actions run (actor, run URL)


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


@dataclass(frozen=True)
class WriteContext:
    root: Path
    name: str
    policy: RegistryPolicy
    options: WriteOptions
    actor: str | None
    run: RunContext


def open_write(request: WriteRequest) -> WriteContext:
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
    return WriteContext(
        root, name, policy, options, evidence.actor_name(root, request.run), request.run
    )


def payload_for(
    ctx: WriteContext, request: WriteRequest, event: Kind, version: str | None, commit: str
) -> dict[str, Any]:
    payload = evidence.base_payload(event.value, ctx.name, version, commit, ctx.run)
    if ctx.actor and "actor" not in payload:
        payload["actor"] = ctx.actor
    if request.message:
        payload["note"] = request.message
    return evidence.merge(payload, request.payload, "payload")


def tag_spec(
    request: WriteRequest,
    tag: str,
    commit: str,
    summary: str,
    payload: dict[str, Any],
) -> TagSpec:
    check_payload(payload, f"payload of {tag}")
    return TagSpec(tag, commit, compose_message(request.message or summary, payload))


def run(ctx: WriteContext, planner: Callable[[RegistryState], Plan]) -> Written:
    return write(ctx.root, planner, ctx.options)


def result_of(ctx: WriteContext, written: Written, **info: Any) -> WriteResult:
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


def model_of(state: RegistryState, name: str) -> ModelState:
    return state.model(name)


def live_version(model: ModelState, version: str) -> VersionState:
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


def not_deprecated(model: ModelState) -> None:
    if model.deprecated:
        raise UsageError(
            f"{model.name} is deprecated",
            hint="register a new version to make it active again",
        )


def delete_tags(
    ctx: WriteContext,
    event: str,
    doomed: Callable[[ModelState], tuple[list[str], str | None]],
    *,
    stage: str | None = None,
) -> WriteResult:
    """GTO's ``--delete``: remove tags instead of writing new ones, locally and (with
    ``--push``) on the remote in one atomic push. History is lost; counters are not reused
    (their claims stay on the remote)."""
    state = load_state(ctx.root, ctx.options.remote if ctx.options.push else None, ctx.name)
    model = model_of(state, ctx.name)
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
