"""Find, read, validate and resolve ``mlgate.yaml``."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from mlgate import __version__, paths
from mlgate.config import sections
from mlgate.config.model import (
    CONFIG_FILENAME,
    CONFIG_VERSION,
    Config,
    DataSpec,
    ModelConfig,
    ModelFileSpec,
    TrainSpec,
)
from mlgate.config.validate import validate_once
from mlgate.config.yamlsource import KeyPath, SourceMap, load_yaml_bytes, read_file
from mlgate.errors import ConfigError, Location
from mlgate.paths import outside_problem
from mlgate.tabular import Split, unreadable

ENV_CONFIG = "MLGATE_CONFIG"
# Below .mlgate/cache/: stamps of the mlgate.yaml contents that passed the schema
# (config.validate.validate_once).
VALIDATED = "validated"


def find_config(explicit: str | os.PathLike[str] | None = None, start: Path | None = None) -> Path:
    """``--config``, else ``$MLGATE_CONFIG``, else the nearest mlgate.yaml upward."""
    chosen = explicit or os.environ.get(ENV_CONFIG)
    if chosen:
        path = Path(chosen)
        if path.is_dir():
            path = path / CONFIG_FILENAME
        if not path.is_file():
            raise ConfigError(f"configuration file not found: {path}", location=Location(str(path)))
        return path
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / CONFIG_FILENAME
        if candidate.is_file():
            return candidate
    raise ConfigError(
        f"no {CONFIG_FILENAME} in {here} or any folder above it",
        hint="run 'mlgate init' to create a starter project, or pass --config PATH",
    )


def load_config(
    explicit: str | os.PathLike[str] | None = None,
    start: Path | None = None,
    *,
    missing_data_ok: bool = False,
) -> Config:
    """Load and validate the configuration; every problem raises ConfigError (exit 2).
    ``missing_data_ok``: a data file that is gone is no error (``repro --check`` reports it
    against the lock as removed)."""
    path = find_config(explicit, start)
    raw = read_file(path)
    data, source = load_yaml_bytes(raw, path)
    shown = str(path)
    if data is None:
        raise ConfigError(
            "the configuration file is empty",
            location=Location(shown),
            hint="start from 'mlgate init', or see 'mlgate schema' for the format",
        )
    if not isinstance(data, dict):
        raise ConfigError(
            "expected a mapping with 'version' and 'models' at the top level",
            location=source.locate(()),
        )
    version = data.get("version")
    if isinstance(version, int) and not isinstance(version, bool) and version > CONFIG_VERSION:
        raise ConfigError(
            f"configuration version {version} is newer than this mlgate ({__version__}) reads "
            f"(version {CONFIG_VERSION})",
            location=source.locate(("version",)),
            hint="upgrade mlgate (pip install -U mlgate)",
        )
    root = path.resolve().parent
    stamps = paths.cache_dir(root) / VALIDATED
    validate_once(data, "config", source, what=path.name, content=raw, stamps=stamps)
    models = tuple(_model(entry, index, root, source) for index, entry in enumerate(data["models"]))
    _check_semantics(models, data, source, missing_data_ok=missing_data_ok)
    # Sections last: a file that is not there is reported before a setting that is wrong.
    models = tuple(_sections(model, data["models"][model.index], source) for model in models)
    return Config(path.resolve(), root, int(data["version"]), models, source, data)


def load_if_found(start: Path | None = None) -> Config | None:
    """The configuration ``find_config`` finds (``$MLGATE_CONFIG`` or upward), else None."""
    try:
        path = find_config(None, start)
    except ConfigError:
        return None
    return load_config(path)


def require_files(config: Config) -> None:
    """ConfigError (exit 2) for configured files that are missing, when ``config`` was loaded
    with ``missing_data_ok``."""
    _check_semantics(config.models, config.raw, config.source)


def _train_command(
    train: Mapping[str, Any], root: Path, source: SourceMap, index: int
) -> tuple[str, str | None, dict[str, Any]]:
    """``train.command``, or the MLproject entry point's command with its parameters."""
    name = train.get("entry_point")
    if name is None:
        return str(train["command"]), None, {}
    where = source.locate(("models", index, "train", "entry_point"))
    if "command" in train:
        raise ConfigError("give train.command or train.entry_point, not both", location=where)
    from mlgate.integrations.mlflow import entry_point

    found = entry_point(root, str(name), dict(train.get("parameters", {})), where)
    return found.command, found.name, dict(found.parameters)


def _model(entry: Mapping[str, Any], index: int, repo_root: Path, source: SourceMap) -> ModelConfig:
    root: Path = (repo_root / str(entry["path"])).resolve()

    def p(value: str) -> Path:
        return (root / value).resolve()

    train = None
    if "train" in entry:
        t = entry["train"]
        metrics = t.get("metrics")
        command, entry_point, parameters = _train_command(t, root, source, index)
        train = TrainSpec(
            command=command,
            seed=t.get("seed"),
            outputs=tuple(p(o) for o in t.get("outputs", [])),
            params=tuple(p(o) for o in t.get("params", [])),
            metrics=p(metrics) if metrics else None,
            env=dict(t.get("env", {})),
            timeout=t.get("timeout"),
            python=t.get("python"),
            mlflow=bool(t.get("mlflow", False)),
            entry_point=entry_point,
            parameters=parameters,
        )
    d = entry.get("data", {})
    features = d.get("features")
    split = None
    if "split" in d:
        s = d["split"]
        split = Split(
            seed=s.get("seed", s.get("random_state")),
            test_size=s.get("test_size"),
            train_size=s.get("train_size"),
            stratify=s.get("stratify"),
            shuffle=bool(s.get("shuffle", True)),
        )
    train_path = p(d["train"]) if "train" in d else None
    data = DataSpec(
        train=train_path,
        eval=p(d["eval"]) if "eval" in d else (train_path if split is not None else None),
        target=d.get("target"),
        features=tuple(features) if features is not None else None,
        sensitive=tuple(d.get("sensitive", [])),
        extra=tuple(p(x) for x in d.get("extra", [])),
        options=dict(d.get("options", {})),
        split=split,
    )
    m = entry["model"]
    model_file = p(m["file"])
    model = ModelFileSpec(
        file=model_file,
        task=m["task"],
        format=m.get("format"),
        trusted=bool(m.get("trusted", False)),
        trusted_types=tuple(m.get("trusted_types", [])),
        positive_label=m.get("positive_label"),
    )
    return ModelConfig(
        name=entry["name"],
        index=index,
        root=root,
        repo_root=repo_root,
        model=model,
        data=data,
        train=train,
        description=entry.get("description"),
    )


def _sections(model: ModelConfig, entry: Mapping[str, Any], source: SourceMap) -> ModelConfig:
    """The model with its feature sections parsed (``mlgate.config.sections``)."""

    def locate(*keys: str | int) -> Location:
        return source.locate(("models", model.index, *keys))

    def resolve(value: str) -> Path:
        return model.resolve(value)

    train, evaluate = model.data.train, model.data.eval
    registry = entry.get("registry", {})
    # Registry errors point at the stages line when there is one: that is where a fix goes.
    keys = ("registry", "stages") if "stages" in registry else ("registry",)
    where = locate(*keys) if registry else locate()
    return replace(
        model,
        gates=sections.parse_gates(entry.get("gates", {}), resolve, train, evaluate, locate),
        repro=sections.parse_repro(entry.get("repro", {}), resolve),
        governance=sections.parse_governance(entry.get("governance", {}), resolve),
        publish=sections.parse_publish(entry.get("publish", {}), resolve),
        registry=sections.parse_registry(registry, where),
    )


def referenced_files(entry: Mapping[str, Any]) -> Iterator[tuple[KeyPath, str]]:
    """Key paths (inside one model entry) of inputs that must exist before anything runs."""
    data = entry.get("data", {})
    for key in ("train", "eval"):
        if key in data:
            yield ("data", key), data[key]
    for i, extra in enumerate(data.get("extra", [])):
        yield ("data", "extra", i), extra
    for i, params in enumerate(entry.get("train", {}).get("params", [])):
        yield ("train", "params", i), params
    card = entry.get("governance", {}).get("card")
    if card:
        yield ("governance", "card"), card
    drift = entry.get("gates", {}).get("drift", {})
    for key in ("reference", "current"):
        if key in drift:
            yield ("gates", "drift", key), drift[key]


def _check_semantics(
    models: tuple[ModelConfig, ...],
    data: Mapping[str, Any],
    source: SourceMap,
    *,
    missing_data_ok: bool = False,
) -> None:
    problems: list[tuple[Location, str]] = []
    seen: dict[str, int] = {}
    for model in models:
        here: KeyPath = ("models", model.index)
        key = model.tag_name.lower()
        if key in seen:
            problems.append(
                (
                    source.locate((*here, "name")),
                    f"duplicate model name {model.name!r} (also models[{seen[key]}])",
                )
            )
        seen.setdefault(key, model.index)
        entry = data["models"][model.index]
        outside = _outside_paths(model, entry, source)
        if outside:
            problems.extend(outside)
            continue
        if not model.root.is_dir():
            problems.append(
                (source.locate((*here, "path")), f"model folder not found: {model.root}")
            )
            continue
        for key_path, value in referenced_files(data["models"][model.index]):
            target = model.resolve(value)
            if not target.exists() and missing_data_ok and key_path[0] == "data":
                continue
            if not target.exists() and not _kept_by_dvc(model, target):
                problems.append(
                    (
                        source.locate((*here, *key_path)),
                        f"file not found: {model.relative(target)}",
                    )
                )
            elif key_path in _TABLE_KEYS and (why := unreadable(target)) is not None:
                problems.append((source.locate((*here, *key_path)), why))
        _check_split(model, data["models"][model.index], source, problems)
        _check_columns(model, source, problems)
        _check_trusted_types(model, source, problems)
    if problems:
        (location, message), rest = problems[0], problems[1:]
        raise ConfigError(
            message + (f" (and {len(rest)} more problems)" if rest else ""),
            location=location,
            details=[f"{loc}: {msg}" for loc, msg in rest],
        )


def _kept_by_dvc(model: ModelConfig, path: Path) -> bool:
    """A file a DVC stage writes or ``dvc add`` tracks may be absent until ``dvc repro`` or
    ``dvc pull`` brings it."""
    from mlgate.integrations import dvc

    if any((p.parent / f"{p.name}.dvc").is_file() for p in (path, *path.parents)):
        return True
    found = dvc.find_pipeline(model.root, model.repo_root)
    return found is not None and dvc.load_pipeline(found).producer(path) is not None


def configured_paths(entry: Mapping[str, Any]) -> Iterator[tuple[KeyPath, str]]:
    """Key paths (inside one model entry) of every file or folder the entry names."""
    yield from referenced_files(entry)
    if "file" in entry.get("model", {}):
        yield ("model", "file"), entry["model"]["file"]
    train = entry.get("train", {})
    for i, output in enumerate(train.get("outputs", [])):
        yield ("train", "outputs", i), output
    if train.get("metrics"):
        yield ("train", "metrics"), train["metrics"]


def _outside_paths(
    model: ModelConfig, entry: Mapping[str, Any], source: SourceMap
) -> list[tuple[Location, str]]:
    """Configured paths that resolve outside the repository (or through a symlink leaving
    it, or to a device): refused before anything is read (``mlgate.paths``)."""
    here: KeyPath = ("models", model.index)
    repo = model.repo_root
    found = []
    why = outside_problem(Path(str(entry["path"])), repo, f"path {entry['path']!r}")
    if why is not None:
        return [(source.locate((*here, "path")), why)]
    base = Path(str(entry["path"]))
    for key_path, value in configured_paths(entry):
        shown = f"{'.'.join(str(k) for k in key_path)} {value!r}"
        why = outside_problem(base / str(value), repo, shown)
        if why is not None:
            found.append((source.locate((*here, *key_path)), why))
    return found


def _check_trusted_types(
    model: ModelConfig, source: SourceMap, problems: list[tuple[Location, str]]
) -> None:
    """model.trusted_types names a project's own classes, exactly (``mlgate.safety``)."""
    if not model.model.trusted_types:
        return  # importing mlgate.safety (its pickle walker) is for the projects that list some
    from mlgate.safety.allowlist import trusted_type_problem

    for i, entry in enumerate(model.model.trusted_types):
        why = trusted_type_problem(entry)
        if why is not None:
            key = ("models", model.index, "model", "trusted_types", i)
            problems.append((source.locate(key), why))


# Keys whose file is read as a table (data.extra may be anything training reads).
_TABLE_KEYS = frozenset(
    {
        ("data", "train"),
        ("data", "eval"),
        ("gates", "drift", "reference"),
        ("gates", "drift", "current"),
    }
)


def _check_split(
    model: ModelConfig,
    entry: Mapping[str, Any],
    source: SourceMap,
    problems: list[tuple[Location, str]],
) -> None:
    """``data.split`` cuts ``data.train`` in two: it needs that table and no ``data.eval``."""
    data = entry.get("data", {})
    split = data.get("split")
    if split is None:
        return
    here: KeyPath = ("models", model.index, "data")
    if "eval" in data:
        problems.append(
            (
                source.locate((*here, "eval")),
                "data.split takes the evaluation rows from data.train: remove data.eval",
            )
        )
    if "train" not in data:
        problems.append((source.locate((*here, "split")), "data.split needs data.train"))
    if "seed" in split and "random_state" in split:
        problems.append(
            (
                source.locate((*here, "split", "random_state")),
                "data.split: give seed or random_state, not both",
            )
        )


def _check_columns(
    model: ModelConfig, source: SourceMap, problems: list[tuple[Location, str]]
) -> None:
    """Columns named twice in different roles are a mistake the schema cannot see."""
    target = model.data.target
    here: KeyPath = ("models", model.index, "data")
    if target and model.data.features and target in model.data.features:
        problems.append(
            (
                source.locate((*here, "features")),
                f"the target column {target!r} is also listed as a feature",
            )
        )
    if target and target in model.data.sensitive:
        problems.append(
            (
                source.locate((*here, "sensitive")),
                f"the target column {target!r} is also listed as sensitive",
            )
        )
