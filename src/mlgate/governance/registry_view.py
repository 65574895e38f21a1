"""Registry context for the report: the current champion and stages, earlier versions, and what
merging this change would do. Read from the git-tag registry when this mlgate has it."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mlgate.config.model import Config, ModelConfig


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
    stage = model.gates.get("champion", {}).get("stage")
    try:
        registry = importlib.import_module("mlgate.registry")
    except ImportError:
        return RegistryContext(
            available=False,
            note="this mlgate has no git-tag registry: champion and version history are not shown",
            champion_stage=stage,
        )
    return _from_registry(registry, config, model, stage)


def _from_registry(
    registry: Any, config: Config, model: ModelConfig, stage: str | None
) -> RegistryContext:
    raise NotImplementedError  # filled in when the registry lands on main
