"""Registry state from tags: events (decoded from tags) -> replay -> state, with GTO's semantics
so both tools read the same registry the same way.

A ``RawTag`` is one record of ``git for-each-ref``; ``decode`` turns the registry tags among them
into ``Event`` values (payload parsed and schema-checked) and everything odd into ``Problem``
(never silently dropped). ``build_state`` orders each model's events (counted events ``#N`` by
their counter; uncounted ones, registrations and GTO's simple tags, merged in by tagger time) and
folds them into a ``ModelState``. Versions are ordered by semver, and:

- a version is active while its latest registration event is not a deregistration;
- a stage event belongs to the version registered at the tagged commit;
- a version is *in* a stage while its latest event for that stage is an assignment; the stage's
  holder is the active version in it whose latest assignment came last;
- a model is deprecated when its latest event is a deprecation.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from mlgate.errors import UsageError
from mlgate.registry.grammar import (
    FIRST_VERSION,
    Kind,
    ParsedTag,
    SemVer,
    from_tag_name,
    looks_like_registry_tag,
    parse_tag,
)
from mlgate.registry.payload import PayloadChecker, parse_payload

# --- events: tags decoded -------------------------------------------------------------------

FETCH_HINT = "run 'git fetch --tags --force' to replace them with the annotated tags"


class RawTag(NamedTuple):
    """One tag as git stores it. ``target`` is the commit an annotated tag points at.

    Named tuples, not frozen dataclasses: thousands are made per read, and they are 3x cheaper.
    """

    name: str
    object_type: str  # "tag" for annotated tags; "commit" (etc.) for lightweight ones
    object_id: str
    target_type: str
    target: str
    tagger_name: str = ""
    tagger_email: str = ""
    timestamp: int = 0
    date: str = ""
    subject: str = ""
    body: str = ""
    signed: bool = False

    @property
    def annotated(self) -> bool:
        return self.object_type == "tag"


class Event(NamedTuple):
    """One registry event. For stage events ``version`` is filled in by the replay (by commit)."""

    kind: Kind
    name: str
    tag: str
    commit: str
    version: str | None = None
    stage: str | None = None
    counter: int | None = None
    timestamp: int = 0
    date: str = ""
    tagger: str = ""
    tagger_email: str = ""
    summary: str = ""
    payload_text: str = ""  # the checked JSON payload ("" when there is none or it is unusable)
    signed: bool = False
    object_id: str = ""
    payload_error: str | None = None  # why a JSON payload in the message is unusable

    @property
    def payload(self) -> dict[str, Any] | None:
        """The payload, parsed on demand (most reads never need it; thousands would cost)."""
        return json.loads(self.payload_text) if self.payload_text else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "event": self.kind.value,
            "name": self.name,
            "version": self.version,
            "stage": self.stage,
            "counter": self.counter,
            "tag": self.tag,
            "commit": self.commit,
            "date": self.date,
            "timestamp": self.timestamp,
            "tagger": self.tagger,
            "tagger_email": self.tagger_email,
            "summary": self.summary,
            "signed": self.signed,
            "payload": self.payload,
            "payload_error": self.payload_error,
        }


@dataclass(frozen=True)
class Problem:
    """Something in the tags that mlgate did not take into the state, and what to do about it."""

    tag: str
    kind: str  # lightweight | payload | unrecognised | target | conflict | diverged
    message: str
    hint: str | None = None
    name: str | None = None  # the model it concerns, when known

    def to_dict(self) -> dict[str, Any]:
        return {
            "tag": self.tag,
            "kind": self.kind,
            "name": self.name,
            "message": self.message,
            "hint": self.hint,
        }

    def __str__(self) -> str:
        return f"{self.tag}: {self.message}" + (f" ({self.hint})" if self.hint else "")


@dataclass
class Decoded:
    """The result of decoding: events, problems, and every tag name present (for collisions)."""

    events: list[Event] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    names: set[str] = field(default_factory=set)
    parsed: dict[str, ParsedTag] = field(default_factory=dict)  # every registry-like name


def decode(tags: Iterable[RawTag], checker: PayloadChecker | None = None) -> Decoded:
    """Registry events of ``tags`` in one pass; lightweight and malformed tags become problems."""
    out = Decoded()
    for raw in tags:
        out.names.add(raw.name)
        parsed = parse_tag(raw.name)
        if parsed is not None:
            out.parsed[raw.name] = parsed
        if parsed is None:
            if looks_like_registry_tag(raw.name):
                out.problems.append(
                    Problem(
                        raw.name,
                        "unrecognised",
                        "looks like a registry tag but does not follow the grammar",
                        "registry tags are NAME@vX.Y.Z, NAME@vX.Y.Z!, NAME#STAGE#N, "
                        "NAME#STAGE!#N or NAME@deprecated",
                    )
                )
            continue
        if not raw.annotated:
            out.problems.append(
                Problem(
                    raw.name,
                    "lightweight",
                    "is a lightweight tag where the registry expects an annotated one "
                    "(CI checkouts often fetch tags that way); it is left out of the state",
                    FETCH_HINT,
                    parsed.name,
                )
            )
            continue
        if raw.target_type != "commit":
            out.problems.append(
                Problem(
                    raw.name,
                    "target",
                    f"points at a {raw.target_type or 'missing object'}, not a commit",
                    "registry tags must tag the commit that produced the model",
                    parsed.name,
                )
            )
            continue
        text, error = _payload_text(raw, parsed, checker or PayloadChecker())
        if error is not None:
            out.problems.append(
                Problem(
                    raw.name,
                    "payload",
                    f"corrupted payload in the tag message: {error}",
                    f"inspect it with 'git show {raw.name}'; a hand-made tag can be deleted "
                    "and recreated with mlgate",
                    parsed.name,
                )
            )
        out.events.append(  # positional, in Event's field order (thousands per read)
            Event(
                parsed.kind,
                parsed.name,
                raw.name,
                raw.target,
                parsed.version,
                parsed.stage,
                parsed.counter,
                raw.timestamp,
                raw.date,
                raw.tagger_name,
                raw.tagger_email.strip("<>"),
                raw.subject,
                text,
                raw.signed,
                raw.object_id,
                error,
            )
        )
    return out


def _payload_text(
    raw: RawTag, parsed: ParsedTag, checker: PayloadChecker
) -> tuple[str, str | None]:
    """The message body if it holds a valid payload that agrees with the tag; else why not.

    The event still counts when its payload is unusable (GTO reads it too); only the payload
    is left out.
    """
    if not raw.body.lstrip().startswith("{"):
        return "", None  # a plain message (GTO's, or a hand-made tag): no payload
    if checker.known(raw.object_id):
        return raw.body, None
    payload, error = parse_payload(raw.body)
    if error is None and payload is not None:
        error = _mismatch(parsed.kind, parsed.name, parsed.version, parsed.stage, payload)
    if error is not None:
        return "", error
    checker.remember(raw.object_id)
    return raw.body, None


def _mismatch(
    kind: Kind, name: str, version: str | None, stage: str | None, payload: Mapping[str, Any]
) -> str | None:
    """Why the payload contradicts the tag name, or None when they agree."""
    if payload.get("model") != name:
        return f"payload model {payload.get('model')!r} does not match the tag's {name!r}"
    if "event" in payload and payload["event"] != kind.value:
        return f"payload event {payload['event']!r} does not match the tag's {kind.value!r}"
    if version is not None and payload.get("version") != version:
        return f"payload version {payload.get('version')!r} does not match the tag's {version!r}"
    if stage is not None and "stage" in payload and payload["stage"] != stage:
        return f"payload stage {payload['stage']!r} does not match the tag's {stage!r}"
    return None


# --- state: what the events add up to ----------------------------------------------------


@dataclass(frozen=True)
class VersionState:
    """One version of a model: where it was registered and what it holds now."""

    version: str
    commit: str
    registered: bool  # False for a commit GTO assigned a stage to without registering it
    active: bool  # registered and not deregistered
    registration: Event | None = None
    deregistration: Event | None = None
    stages: tuple[str, ...] = ()  # stages this version holds now

    @property
    def payload(self) -> Mapping[str, Any] | None:
        return self.registration.payload if self.registration else None

    def to_dict(self) -> dict[str, Any]:
        reg = self.registration
        return {
            "version": self.version,
            "commit": self.commit,
            "registered": self.registered,
            "active": self.active,
            "deregistered": self.deregistration is not None and not self.active,
            "stages": list(self.stages),
            "tag": reg.tag if reg else None,
            "date": reg.date if reg else None,
            "tagger": reg.tagger if reg else None,
            "summary": reg.summary if reg else None,
            "payload": dict(reg.payload) if reg and reg.payload is not None else None,
        }


@dataclass(frozen=True)
class Holder:
    """The version holding a stage and the assignment that put it there."""

    stage: str
    version: str
    event: Event

    def to_dict(self) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "version": self.version,
            "tag": self.event.tag,
            "commit": self.event.commit,
            "date": self.event.date,
            "counter": self.event.counter,
        }


@dataclass(frozen=True)
class ModelState:
    """Everything the tags say about one model."""

    name: str
    versions: Mapping[str, VersionState]  # semver order, oldest first
    holders: Mapping[str, Holder]  # stage -> current holder
    events: tuple[Event, ...]  # replay order
    deprecated: bool = False
    last_counter: int = 0
    last_timestamp: int = 0
    occupied_versions: frozenset[str] = frozenset()  # versions whose tag names are taken
    active_stages: Mapping[str, frozenset[str]] = field(default_factory=dict)  # version -> stages

    @property
    def latest(self) -> VersionState | None:
        """The highest active registered version."""
        live = [v for v in self.versions.values() if v.active and v.registered]
        return max(live, key=lambda v: SemVer.parse(v.version).sort_key()) if live else None

    def holder(self, stage: str) -> VersionState | None:
        held = self.holders.get(stage)
        return self.versions[held.version] if held else None

    def version(self, version: str) -> VersionState | None:
        return self.versions.get(version)

    def used_stages(self) -> list[str]:
        return sorted({e.stage for e in self.events if e.stage})

    def ever_assigned(self, version: str, stage: str) -> bool:
        return any(
            e.kind is Kind.ASSIGN and e.version == version and e.stage == stage for e in self.events
        )

    def in_stage(self, version: str, stage: str) -> bool:
        """GTO's notion: the version's latest event for the stage is an assignment."""
        return stage in self.active_stages.get(version, frozenset())

    def holder_without(self, stage: str, version: str) -> str | None:
        """Who holds ``stage`` once ``version`` leaves it (GTO: the latest one still in it)."""
        best = None
        for event in self.events:
            if (
                event.kind is Kind.ASSIGN
                and event.stage == stage
                and event.version not in (None, version)
                and self.in_stage(str(event.version), stage)
            ):
                best = event.version
        return best

    def previous_holder(self, stage: str) -> VersionState | None:
        """The active version that held ``stage`` before the current holder took it."""
        current = self.holders.get(stage)
        if current is None:
            return None
        for event in reversed(self.events):
            if event.kind is not Kind.ASSIGN or event.stage != stage or event.version is None:
                continue
            if event.version == current.version:
                continue
            candidate = self.versions.get(event.version)
            if candidate and candidate.active and candidate.registered:
                return candidate
        return None

    def next_version(self, bump: str | None = None) -> str:
        """The version a registration gets: a bump (default patch) of the highest ever used."""
        taken = [SemVer.parse(v) for v in self.occupied_versions if SemVer.is_valid(v)]
        if not taken:
            return str(SemVer(0, 0, 0).bump(bump) if bump else FIRST_VERSION)
        return str(max(taken).bump(bump or "patch"))

    def summary_dict(self, stages: Iterable[str] = ()) -> dict[str, Any]:
        latest = self.latest
        names = list(dict.fromkeys([*stages, *sorted(self.holders)]))
        return {
            "name": self.name,
            "latest": latest.version if latest else None,
            "stages": {s: (self.holders[s].version if s in self.holders else None) for s in names},
            "deprecated": self.deprecated,
            "versions": sum(1 for v in self.versions.values() if v.active and v.registered),
        }


@dataclass(frozen=True)
class RegistryState:
    """The whole registry: every model's state and the problems found reading the tags."""

    models: Mapping[str, ModelState]
    problems: tuple[Problem, ...] = ()
    tag_names: frozenset[str] = frozenset()
    source: str = "local"
    # For a read of one model's tags: how to list every model, for "did you mean" hints.
    all_models: Callable[[], Iterable[str]] | None = field(default=None, compare=False)

    def get(self, name: str) -> ModelState | None:
        return self.models.get(from_tag_name(name))

    def model(self, name: str) -> ModelState:
        """The model's state; UsageError with a "did you mean" when the registry lacks it."""
        found = self.get(name)
        if found is not None:
            return found
        known = list(self.all_models()) if self.all_models else list(self.models)
        import difflib  # only for this error's hint: a read that finds its model never needs it

        close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        hint = (
            f"did you mean {close[0]!r}?"
            if close
            else "register a version first: mlgate registry register " + name
        )
        light = [p for p in self.problems if p.name == name and p.kind == "lightweight"]
        if light:
            hint = f"its tags are lightweight ({len(light)} found); " + (light[0].hint or "")
        raise UsageError(f"no model named {name!r} in the registry ({self.source})", hint=hint)

    def problems_for(self, name: str | None) -> list[Problem]:
        return [p for p in self.problems if name is None or p.name in (None, name)]

    def next_version(self, name: str, bump: str | None = None) -> str:
        """The version a new registration of ``name`` gets (see ``ModelState.next_version``)."""
        found = self.get(name)
        if found is None:
            taken = _versions_from_names(self.tag_names, name)
            found = ModelState(name, {}, {}, (), occupied_versions=frozenset(taken))
        return found.next_version(bump)

    def version_taken(self, name: str, version: str) -> bool:
        found = self.get(name)
        taken = found.occupied_versions if found else _versions_from_names(self.tag_names, name)
        return version in taken

    def next_counter(self, name: str) -> int:
        found = self.get(name)
        return (found.last_counter if found else _counter_from_names(self.tag_names, name)) + 1


def _versions_from_names(names: Iterable[str], name: str) -> set[str]:
    found = set()
    for tag in names:
        parsed = parse_tag(tag)
        if parsed and parsed.name == name and parsed.version:
            found.add(parsed.version)
    return found


def _counter_from_names(names: Iterable[str], name: str) -> int:
    top = 0
    for tag in names:
        parsed = parse_tag(tag)
        if parsed and parsed.name == name and parsed.counter:
            top = max(top, parsed.counter)
    return top


# --- replay: events -> state --------------------------------------------------------------


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
