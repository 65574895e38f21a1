"""Which model is the champion: a file given on the command line, or a registry reference.

A registry reference (a stage such as ``prod``, ``latest`` or ``vX.Y.Z``) is resolved by
``mlgate.registry.champion.resolve_champion``, imported only when needed.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mlgate import gitio
from mlgate.config.model import Config, ModelConfig
from mlgate.config.sections import ChampionSettings
from mlgate.errors import MlgateError, UsageError
from mlgate.formats import FORMATS
from mlgate.registry.tags import load_state

if TYPE_CHECKING:
    from mlgate.github.client import Connect

MODEL_SUFFIXES = {".skops": "skops", ".pkl": "pickle", ".pickle": "pickle", ".joblib": "joblib"}


def _model_suffixes() -> frozenset[str]:
    return frozenset(s for fmt in FORMATS.values() for s in fmt.suffixes) | set(MODEL_SUFFIXES)


@dataclass(frozen=True)
class ChampionRef:
    """Where the champion's model file is and how it was found."""

    path: Path
    source: str  # "path" | "registry"
    ref: str
    version: str | None = None
    commit: str | None = None
    stage: str | None = None
    origin: str | None = None  # registry: the commit and path, or the release asset

    @property
    def format(self) -> str | None:
        """None: detected from the file's content when loaded (``mlgate.formats``)."""
        return None

    @property
    def label(self) -> str:
        if self.source == "registry":
            where = f" ({self.stage})" if self.stage else ""
            return f"champion {self.version}{where}"
        return "champion"

    def to_dict(self) -> dict[str, str | None]:
        return {
            "source": self.source,
            "ref": self.ref,
            "path": str(self.path),
            "version": self.version,
            "commit": self.commit,
            "stage": self.stage,
            "origin": self.origin,
        }


def is_path(ref: str) -> bool:
    """A champion argument names a file when it exists or ends like a model file."""
    path = Path(ref)
    return (
        path.is_file() or (path / "MLmodel").is_file() or path.suffix.lower() in _model_suffixes()
    )


def resolve(
    config: Config,
    model: ModelConfig,
    ref: str | None,
    settings: ChampionSettings,
    github: Connect | None = None,
) -> ChampionRef | None:
    """The champion for this run, or None when there is none (``on_missing`` then applies)."""
    if ref is not None and is_path(ref):
        path = Path(ref).resolve()
        if not path.exists():
            raise UsageError(f"champion model file not found: {ref}")
        return ChampionRef(path, "path", ref)
    wanted = ref if ref is not None else settings.stage
    if wanted is None:
        return None
    return _from_registry(config, model, wanted, explicit=ref is not None, github=github)


def why_none(
    config: Config, model: ModelConfig, ref: str | None, settings: ChampionSettings
) -> str:
    """Why this run has no champion, in words that say what to change."""
    wanted = ref if ref is not None else settings.stage
    held = _held_stages(config, model)
    if wanted is None:
        if held:
            return (
                "gates.champion.stage is not set, though the registry has "
                + ", ".join(f"{model.tag_name}#{s}" for s in held)
                + f": set gates.champion.stage (e.g. {held[-1]}) to compare with it"
            )
        return "no champion configured (gates.champion.stage) and none given (--champion)"
    if held:
        return f"no version of {model.name} holds {wanted!r} (held: {', '.join(held)})"
    return f"the registry has no version of {model.name} for {wanted!r} yet"


def _held_stages(config: Config, model: ModelConfig) -> list[str]:
    """Stages a version of the model holds now; empty when the registry cannot be read."""
    try:
        state = load_state(gitio.repo_root(config.root), None, model.name).get(model.name)
    except MlgateError:  # only an explanation: a registry that cannot be read has none
        return []
    return sorted(state.holders) if state is not None else []


def _from_registry(
    config: Config, model: ModelConfig, ref: str, *, explicit: bool, github: Connect | None
) -> ChampionRef | None:
    try:
        registry = importlib.import_module("mlgate.registry.champion")
    except ModuleNotFoundError as exc:
        if exc.name not in {"mlgate.registry", "mlgate.registry.champion"}:
            raise
        origin = "--champion" if explicit else "gates.champion.stage in mlgate.yaml"
        raise UsageError(
            f"champion {ref!r} (from {origin}) is a registry reference, and the model registry "
            "is not part of this mlgate installation",
            hint="pass --champion PATH to a model file, e.g. a copy of the current champion",
            location=None if explicit else config.locate(model, "gates", "champion", "stage"),
        ) from None
    found = registry.resolve_champion(config, model, ref, github=github)
    if found is None:
        return None
    return ChampionRef(
        path=Path(found.model_path),
        source="registry",
        ref=ref,
        version=found.version,
        commit=found.commit,
        stage=found.stage,
        origin=found.origin or None,
    )
