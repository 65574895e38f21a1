"""Registry context for the report: the current champion and stages, earlier versions, and what
merging this change would do. Read from the git-tag registry."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mlgate.config.model import Config, ModelConfig
from mlgate.errors import MlgateError


@dataclass(frozen=True)
class VersionInfo:
    version: str
    commit: str | None
    stages: tuple[str, ...] = ()
    deregistered: bool = False
    payload: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RegistryContext:
    available: bool
    note: str | None = None
    champion_stage: str | None = None
    champion: VersionInfo | None = None
    stages: Mapping[str, str] = field(default_factory=dict)  # stage -> version
    versions: tuple[VersionInfo, ...] = ()
    next_version: str | None = None
    would: tuple[str, ...] = ()  # what merging this change would do, in order

    def to_dict(self) -> dict[str, Any]:
        def version(v: VersionInfo) -> dict[str, Any]:
            return {
                "version": v.version,
                "commit": v.commit,
                "stages": list(v.stages),
                "deregistered": v.deregistered,
            }

        return {
            "available": self.available,
            "note": self.note,
            "champion_stage": self.champion_stage,
            "champion": version(self.champion) if self.champion else None,
            "stages": dict(self.stages),
            "versions": [version(v) for v in self.versions],
            "next_version": self.next_version,
            "would": list(self.would),
        }


def registry_context(config: Config, model: ModelConfig) -> RegistryContext:
    """The registry as it stands for ``model``; ``available=False`` with the reason otherwise."""
    stage = model.gates.champion.stage
    from mlgate.registry.tags import load_state

    try:
        state = load_state(
            config.root, model.registry.remote if "remote" in model.registry.given else None
        )
    except MlgateError as exc:
        return RegistryContext(
            available=False,
            note=f"the registry could not be read: {exc.message}",
            champion_stage=stage,
        )
    return from_state(state, model, stage, head=_head(config.root))


def _head(root: Any) -> str | None:
    from mlgate import gitio

    found = gitio.git(["rev-parse", "--verify", "--quiet", "HEAD"], root, check=False)
    return found.stdout.strip() or None if found.ok else None


def from_state(
    state: Any, model: ModelConfig, stage: str | None, *, head: str | None = None
) -> RegistryContext:
    """The context from a ``RegistryState`` (the registry's replay of its tags)."""
    name = model.name
    found = state.get(name)
    next_version = str(state.next_version(name))
    notes = [f"{p.tag}: {p.message}" for p in state.problems_for(name)][:5]
    if found is None:
        first = [f"register {name}@{next_version}, its first version"]
        if stage:
            first.append(f"have no champion to beat at {stage!r} until a version is assigned")
        return RegistryContext(
            available=True,
            note="; ".join(notes) or f"no version of {name} is registered yet",
            champion_stage=stage,
            next_version=next_version,
            would=tuple(first),
        )
    versions = tuple(
        VersionInfo(
            version=str(v.version),
            commit=v.commit,
            stages=tuple(v.stages),
            deregistered=bool(v.registered and not v.active),
            payload=dict(v.payload or {}),
        )
        for v in found.versions.values()
    )
    by_version = {v.version: v for v in versions}
    holders = {str(s): str(h.version) for s, h in found.holders.items()}
    champion_state = found.holder(stage) if stage else found.latest
    champion = by_version.get(str(champion_state.version)) if champion_state else None
    at_head = [v for v in versions if head and v.commit == head and not v.deregistered]
    if at_head:
        would = [f"register nothing new: this commit already is {name}@{at_head[-1].version}"]
    else:
        would = [f"register {name}@{next_version}"]
    if champion is not None and champion in at_head:
        would.append(f"change nothing at {stage!r}: {champion.version} is this commit")
    elif champion is not None:
        where = f"at {stage!r}" if stage else "as the latest version"
        would.append(
            f"challenge {champion.version} {where}; promotion stays a separate, explicit step"
        )
    elif stage:
        would.append(f"be the first version at {stage!r} once assigned (no champion yet)")
    if found.deprecated:
        notes.insert(0, f"{name} is deprecated in the registry")
    return RegistryContext(
        available=True,
        note="; ".join(notes) or None,
        champion_stage=stage,
        champion=champion,
        stages=holders,
        versions=versions,
        next_version=next_version,
        would=tuple(would),
    )
