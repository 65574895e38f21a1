"""The registry state (built by ``mlgate.registry.replay``), with GTO's semantics so both tools
read the same registry the same way. Versions are ordered by semver.

- a version is active while its latest registration event is not a deregistration;
- a stage event belongs to the version registered at the tagged commit;
- a version is *in* a stage while its latest event for that stage is an assignment; the stage's
  holder is the active version in it whose latest assignment came last;
- a model is deprecated when its latest event is a deprecation.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mlgate.errors import UsageError
from mlgate.registry.events import Event, Problem
from mlgate.registry.grammar import FIRST_VERSION, Kind, SemVer, parse_tag


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
        from mlgate.registry.grammar import from_tag_name

        return self.models.get(from_tag_name(name))

    def model(self, name: str) -> ModelState:
        """The model's state; UsageError with a "did you mean" when the registry lacks it."""
        found = self.get(name)
        if found is not None:
            return found
        known = list(self.all_models()) if self.all_models else list(self.models)
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
