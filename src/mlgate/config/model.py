"""The typed, resolved configuration: what the rest of mlgate reads instead of raw YAML."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlgate.config.sections import (
    DriftSettings,
    GateSettings,
    GovernanceSettings,
    PublishSection,
    RegistrySettings,
    ReproSettings,
)
from mlgate.config.yamlsource import KeyPath, SourceMap
from mlgate.errors import Location, UsageError
from mlgate.tabular import Split

CONFIG_VERSION = 1
CONFIG_FILENAME = "mlgate.yaml"


@dataclass(frozen=True)
class TrainSpec:
    """How a model is trained: a command run in the model folder."""

    command: str
    seed: int | None = None
    outputs: tuple[Path, ...] = ()
    params: tuple[Path, ...] = ()
    metrics: Path | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    timeout: float | None = None
    python: str | None = None  # the training interpreter (path from the model folder, or a name)
    mlflow: bool = False  # the command logs to MLflow: a store per run, its model and metrics read
    entry_point: str | None = None  # MLproject entry point the command comes from
    parameters: Mapping[str, Any] = field(default_factory=dict)  # its parameters, as run


@dataclass(frozen=True)
class DataSpec:
    """Training and evaluation data (absolute paths) and the columns that matter."""

    train: Path | None = None
    eval: Path | None = None
    target: str | None = None
    features: tuple[str, ...] | None = None
    sensitive: tuple[str, ...] = ()
    extra: tuple[Path, ...] = ()
    options: Mapping[str, Any] = field(default_factory=dict)  # CSV reader options
    # One table split in train and eval rows (``eval`` is then the same file as ``train``).
    split: Split | None = None


@dataclass(frozen=True)
class ModelFileSpec:
    """The model artifact and how it may be loaded."""

    file: Path
    task: str
    format: str | None = None  # as configured; None: detected from the file's content
    trusted: bool = False
    trusted_types: tuple[str, ...] = ()
    positive_label: str | int | bool | None = None


@dataclass(frozen=True)
class ModelConfig:
    """One entry of ``models:``, with every path resolved against the model folder."""

    name: str
    index: int
    root: Path
    repo_root: Path
    model: ModelFileSpec
    data: DataSpec = field(default_factory=DataSpec)
    train: TrainSpec | None = None
    description: str | None = None
    repro: ReproSettings = field(default_factory=ReproSettings)
    gates: GateSettings = field(default_factory=GateSettings)
    governance: GovernanceSettings = field(default_factory=GovernanceSettings)
    publish: PublishSection = field(default_factory=PublishSection)
    registry: RegistrySettings = field(default_factory=RegistrySettings)

    @property
    def drift(self) -> DriftSettings:
        """``gates.drift``, or its defaults (data.train against data.eval) when not set."""
        return self.gates.drift or DriftSettings(reference=self.data.train, current=self.data.eval)

    @property
    def tag_name(self) -> str:
        """The name as written in registry tags: ``dir:name`` becomes ``dir=name``."""
        return self.name.replace(":", "=")

    def resolve(self, relative: str | Path) -> Path:
        """A path from the configuration, relative to the model folder, made absolute."""
        return (self.root / relative).resolve()

    def relative(self, path: Path) -> str:
        """``path`` relative to the repository root, in POSIX form, for messages and reports."""
        try:
            return path.resolve().relative_to(self.repo_root).as_posix()
        except ValueError:
            return str(path)


@dataclass(frozen=True)
class Config:
    """A loaded ``mlgate.yaml``."""

    path: Path
    root: Path
    version: int
    models: tuple[ModelConfig, ...]
    source: SourceMap
    raw: Mapping[str, Any]

    def model(self, name: str | None = None) -> ModelConfig:
        """The model called ``name``; with no name, the only model (an error when several)."""
        if name is None:
            if len(self.models) == 1:
                return self.models[0]
            raise UsageError(
                f"{self.path.name} defines {len(self.models)} models; say which one",
                hint="pass --model NAME, one of: " + ", ".join(m.name for m in self.models),
            )
        for candidate in self.models:
            if name in (candidate.name, candidate.tag_name):
                return candidate
        from mlgate.config.validate import suggest

        guess = suggest(name, [m.name for m in self.models])
        raise UsageError(
            f"no model named {name!r} in {self.path}",
            hint=f"did you mean {guess!r}?"
            if guess
            else "known models: " + ", ".join(m.name for m in self.models),
        )

    def select(self, name: str | None = None) -> tuple[ModelConfig, ...]:
        """One named model, or all of them."""
        return (self.model(name),) if name is not None else self.models

    def locate(self, model: ModelConfig | None, *keys: str | int) -> Location:
        """Where a setting is in mlgate.yaml, for errors and ``::error file=,line=`` annotations."""
        path: KeyPath = ("models", model.index, *keys) if model is not None else tuple(keys)
        return self.source.locate(path)


def resolved_view(config: Config, format_of: Callable[[Path, str | None], str]) -> dict[str, Any]:
    """The configuration as mlgate understands it: defaults filled, paths repository-relative;
    ``format_of(file, configured)`` names each model's format (``mlgate.formats.name_of``)."""

    def rel(path: Path | None) -> str | None:
        return None if path is None else _rel(path, config.root)

    models = []
    for m in config.models:
        entry: dict[str, Any] = {
            "name": m.name,
            "tag_name": m.tag_name,
            "path": rel(m.root),
            "model": {
                "file": rel(m.model.file),
                "task": m.model.task,
                "format": format_of(m.model.file, m.model.format),
                "trusted": m.model.trusted,
            },
            "data": {
                "train": rel(m.data.train),
                "eval": rel(m.data.eval),
                "target": m.data.target,
                "features": list(m.data.features) if m.data.features is not None else None,
                "sensitive": list(m.data.sensitive),
                "extra": [rel(x) for x in m.data.extra],
            },
        }
        if m.data.options:
            entry["data"]["options"] = dict(m.data.options)
        if m.data.split is not None:
            entry["data"]["split"] = {
                "test_size": m.data.split.test_size,
                "train_size": m.data.split.train_size,
                "seed": m.data.split.seed,
                "stratify": m.data.split.stratify,
                "shuffle": m.data.split.shuffle,
            }
        if m.description:
            entry["description"] = m.description
        if m.train:
            entry["train"] = {
                "command": m.train.command,
                "seed": m.train.seed,
                "outputs": [rel(o) for o in m.train.outputs],
                "params": [rel(o) for o in m.train.params],
                "metrics": rel(m.train.metrics),
                "env": dict(m.train.env),
                "timeout": m.train.timeout,
            }
        configured = config.raw["models"][m.index]
        for section in ("repro", "gates", "governance", "publish", "registry"):
            value = configured.get(section)
            if value:
                entry[section] = dict(value)
        models.append(entry)
    return {"config": str(config.path), "version": config.version, "models": models}


def _rel(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix() or "."
    except ValueError:
        return str(path)
