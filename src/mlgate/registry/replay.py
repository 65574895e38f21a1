"""Replay: order a model's events and fold them into its state (GTO's semantics, mlgate's order).

Order: counted events (``#N``) by their counter; uncounted ones (registrations, GTO's simple
tags) are merged in by tagger time. See ``mlgate.registry.state`` for what the state means.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from mlgate.registry.events import Event, Problem
from mlgate.registry.grammar import Kind, ParsedTag, SemVer, parse_tag
from mlgate.registry.state import Holder, ModelState, RegistryState, VersionState

# GTO's priorities: the order of events that share a timestamp.
PRIORITY = {
    Kind.CREATE: 1,
    Kind.DEPRECATE: 2,
    Kind.REGISTER: 3,
    Kind.DEREGISTER: 4,
    Kind.ASSIGN: 5,
    Kind.UNASSIGN: 6,
}


def order_events(events: Iterable[Event]) -> list[Event]:
    """Counted events by ``N``; uncounted ones merged in by tagger time (GTO priority on ties)."""
    counted: list[Event] = []
    uncounted: list[Event] = []
    for e in events:
        (counted if e.counter is not None else uncounted).append(e)
    counted.sort(key=lambda e: (e.counter, PRIORITY[e.kind], e.timestamp, e.tag))
    uncounted.sort(key=lambda e: (e.timestamp, PRIORITY[e.kind], _version_key(e), e.tag))
    merged: list[Event] = []
    i = 0
    for event in uncounted:
        # Same second: GTO's priority decides (a registration before an assignment).
        key = (event.timestamp, PRIORITY[event.kind])
        while i < len(counted) and (counted[i].timestamp, PRIORITY[counted[i].kind]) <= key:
            merged.append(counted[i])
            i += 1
        merged.append(event)
    merged.extend(counted[i:])
    return merged


def _version_key(event: Event) -> tuple[object, ...]:
    return SemVer.parse(event.version).sort_key() if event.version else ()


def build_state(
    events: Iterable[Event],
    problems: Iterable[Problem] = (),
    tag_names: Iterable[str] = (),
    source: str = "local",
    parsed: Mapping[str, ParsedTag] | None = None,
) -> RegistryState:
    """Replay every model's events into a ``RegistryState`` (one pass per model).

    ``tag_names`` are all names a new tag must not take; ``parsed`` those already parsed.
    """
    by_model: dict[str, list[Event]] = {}
    for event in events:
        by_model.setdefault(event.name, []).append(event)
    names = frozenset(tag_names)
    found = list(problems)
    occupied: dict[str, set[str]] = {}
    counters: dict[str, int] = {}
    known = parsed or {}
    for tag in names:
        taken = known.get(tag) or parse_tag(tag)
        if taken is None:
            continue
        if taken.version:
            occupied.setdefault(taken.name, set()).add(taken.version)
        if taken.counter:
            counters[taken.name] = max(counters.get(taken.name, 0), taken.counter)
    models = {
        name: _replay(name, evs, found, occupied.get(name, set()), counters.get(name, 0))
        for name, evs in sorted(by_model.items())
    }
    return RegistryState(models, tuple(found), names, source)


def _replay(
    name: str, events: list[Event], problems: list[Problem], occupied: set[str], top: int
) -> ModelState:
    ordered = order_events(events)
    regs, deregs = _direct_events(ordered)
    commit_of = _commits(name, regs, deregs, problems)
    at_commit: dict[str, list[str]] = {}
    for version, commit in commit_of.items():
        at_commit.setdefault(commit, []).append(version)

    # Direct events decide whether a version is active: the later one wins.
    position = {id(e): i for i, e in enumerate(ordered)}
    active: dict[str, bool] = {}
    for version in commit_of:
        direct = regs.get(version, []) + deregs.get(version, [])
        last = max(direct, key=lambda e: (position[id(e)], e.kind is Kind.DEREGISTER))
        active[version] = last.kind is Kind.REGISTER

    resolved, discovered = _resolve_stage_events(name, ordered, at_commit, problems)

    def eligible(version: str) -> bool:
        return active.get(version, False) or version in discovered

    in_stage, holders = _stage_holders(resolved, eligible)
    versions: dict[str, VersionState] = {}
    for version in sorted([*commit_of, *discovered], key=_semver_then_text):
        versions[version] = VersionState(
            version=version,
            commit=commit_of.get(version, discovered.get(version, "")),
            registered=version in regs,
            active=eligible(version),
            registration=regs.get(version, [None])[0],
            deregistration=deregs.get(version, [None])[-1],
            stages=tuple(sorted(s for s, h in holders.items() if h.version == version)),
        )
    counters = [e.counter for e in resolved if e.counter is not None]
    return ModelState(
        name=name,
        versions=versions,
        holders=dict(sorted(holders.items())),
        events=tuple(resolved),
        deprecated=bool(resolved) and resolved[-1].kind is Kind.DEPRECATE,
        last_counter=max([top, *counters]),
        last_timestamp=max((e.timestamp for e in resolved), default=0),
        occupied_versions=frozenset(occupied | set(commit_of)),
        active_stages={v: frozenset(s) for v, s in in_stage.items() if eligible(v)},
    )


def _direct_events(
    ordered: list[Event],
) -> tuple[dict[str, list[Event]], dict[str, list[Event]]]:
    regs: dict[str, list[Event]] = {}
    deregs: dict[str, list[Event]] = {}
    for e in ordered:
        if e.version and e.kind in (Kind.REGISTER, Kind.DEREGISTER):
            (regs if e.kind is Kind.REGISTER else deregs).setdefault(e.version, []).append(e)
    return regs, deregs


def _commits(
    name: str,
    regs: Mapping[str, list[Event]],
    deregs: Mapping[str, list[Event]],
    problems: list[Problem],
) -> dict[str, str]:
    """Version -> commit; a second registration of a version elsewhere is a conflict."""
    commit_of: dict[str, str] = {}
    for version, evs in regs.items():
        commit_of[version] = evs[0].commit
        problems.extend(
            Problem(
                other.tag,
                "conflict",
                f"registers {version} at {other.commit[:12]}, but {evs[0].tag} already "
                f"registered it at {evs[0].commit[:12]}; ignored",
                name=name,
            )
            for other in evs[1:]
            if other.commit != evs[0].commit
        )
    for version, evs in deregs.items():
        commit_of.setdefault(version, evs[0].commit)
    return commit_of


def _resolve_stage_events(
    name: str,
    ordered: list[Event],
    at_commit: Mapping[str, list[str]],
    problems: list[Problem],
) -> tuple[list[Event], dict[str, str]]:
    """Events with each stage event's version filled in (by commit), and commit-only versions."""
    resolved: list[Event] = []
    discovered: dict[str, str] = {}
    for event in ordered:
        if event.kind in (Kind.ASSIGN, Kind.UNASSIGN) and event.stage:
            version = _version_for(event, at_commit, problems, name)
            if version is None:
                version = event.commit  # GTO names such a version by its commit
                discovered.setdefault(version, event.commit)
            resolved.append(_with_version(event, version))
        else:
            resolved.append(event)
    return resolved, discovered


def _stage_holders(
    resolved: list[Event], eligible: Callable[[str], bool]
) -> tuple[dict[str, set[str]], dict[str, Holder]]:
    """Stages each version is in, and each stage's holder (latest assignment still in force)."""
    stage_last: dict[tuple[str, str], Event] = {}
    last_assignment: dict[tuple[str, str], int] = {}
    for i, e in enumerate(resolved):
        if e.kind in (Kind.ASSIGN, Kind.UNASSIGN) and e.stage and e.version:
            stage_last[(e.version, e.stage)] = e
            if e.kind is Kind.ASSIGN:
                last_assignment[(e.version, e.stage)] = i
    in_stage: dict[str, set[str]] = {}
    for (version, stage), last_event in stage_last.items():
        if last_event.kind is Kind.ASSIGN:
            in_stage.setdefault(version, set()).add(stage)
    holders: dict[str, Holder] = {}
    for (version, stage), index in sorted(last_assignment.items(), key=lambda kv: kv[1]):
        if stage in in_stage.get(version, set()) and eligible(version):
            holders[stage] = Holder(stage, version, resolved[index])
    return in_stage, holders


def _version_for(
    event: Event, at_commit: Mapping[str, list[str]], problems: list[Problem], name: str
) -> str | None:
    candidates = at_commit.get(event.commit, [])
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        return None
    wanted = event.payload.get("version") if event.payload else None
    if wanted in candidates:
        return str(wanted)
    problems.append(
        Problem(
            event.tag,
            "conflict",
            f"its commit {event.commit[:12]} carries several versions "
            f"({', '.join(sorted(candidates))}); the highest is assumed",
            "register one version per commit, as GTO requires",
            name,
        )
    )
    return max(candidates, key=_semver_then_text)


def _with_version(event: Event, version: str) -> Event:
    # Event(*fields) is several times cheaper than _replace for thousands of events.
    return Event._make((*event[:4], version, *event[5:]))


def _semver_then_text(version: str) -> tuple[object, ...]:
    if SemVer.is_valid(version):
        return (0, SemVer.parse(version).sort_key())
    return (1, version)
