"""MLflow: a training script that logs to MLflow works unchanged.

With ``train.mlflow`` each training run gets a store of its own, a file store under
``.mlgate/cache/mlflow/<model>/`` (``MLFLOW_TRACKING_URI``); after the run mlgate reads what it
logged straight from the store's files (MLflow need not be installed where mlgate runs): the
run's latest metric values for the run record, and its logged model directory (the one whose
``MLmodel`` names the run), copied to ``model.file``. ``MLproject`` entry points give the
training command and its parameters.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlgate import paths
from mlgate.errors import CheckFailed, ConfigError, Location
from mlgate.fsio import atomic_write_json

STORE = "mlflow"
MLPROJECT = "MLproject"
METRICS_FILE = "metrics.json"  # the run's metrics as mlgate read them, kept beside the store
RUN_FILE = "run.json"  # which run they came from


def store_dir(root: Path, tag_name: str) -> Path:
    """The store of a model's training runs in the repository (or isolated copy) at ``root``."""
    return paths.cache_dir(root) / STORE / tag_name.replace("/", "-")


def fresh_store(root: Path, tag_name: str) -> tuple[Path, dict[str, str]]:
    """An empty store for one training run, and the environment that points MLflow at it."""
    store = store_dir(root, tag_name)
    shutil.rmtree(store, ignore_errors=True)
    store.mkdir(parents=True)  # mlruns/ itself is MLflow's to create (with its default experiment)
    paths.ignore_local(store / "mlruns")
    env = {
        "MLFLOW_TRACKING_URI": (store / "mlruns").as_uri(),
        # MLflow 3 keeps file stores in maintenance mode behind this opt-in; 2.x ignores it.
        "MLFLOW_ALLOW_FILE_STORE": "true",
    }
    return store, env


@dataclass(frozen=True)
class LoggedRun:
    run_id: str
    metrics: Mapping[str, float]
    model_dir: Path | None


def read_run(store: Path) -> LoggedRun:
    """The last run the store holds (by start time), its metrics and logged model directory."""
    import yaml

    runs: list[tuple[int, str, Path]] = []
    for meta in (store / "mlruns").glob("*/*/meta.yaml"):
        folder = meta.parent
        if folder.parent.name == "models" or folder.name in {"models", ".trash"}:
            continue
        try:
            data = yaml.safe_load(meta.read_text("utf-8")) or {}
        except (OSError, yaml.YAMLError):
            continue
        if isinstance(data, dict) and data.get("run_id"):
            runs.append((int(data.get("start_time") or 0), str(data["run_id"]), folder))
    if not runs:
        raise CheckFailed(
            "the training command logged no MLflow run",
            hint="train.mlflow expects the script to log with mlflow (mlflow.start_run, "
            "log_metric, mlflow.<flavor>.log_model)",
        )
    _, run_id, folder = max(runs)
    return LoggedRun(run_id, _metrics(folder / "metrics"), _model_dir(store, run_id))


def _metrics(folder: Path) -> dict[str, float]:
    """Each metric's latest value (highest step, then latest timestamp), as MLflow reports it."""
    import math

    found: dict[str, float] = {}
    if not folder.is_dir():
        return found
    for file in sorted(p for p in folder.rglob("*") if p.is_file()):
        best: tuple[int, int, float] | None = None
        for line in file.read_text("utf-8").splitlines():
            parts = line.split()
            if len(parts) < 2:
                continue
            try:
                stamp, value = int(parts[0]), float(parts[1])
                step = int(parts[2]) if len(parts) > 2 else 0
            except ValueError:
                continue
            if best is None or (step, stamp) >= (best[0], best[1]):
                best = (step, stamp, value)
        if best is not None and math.isfinite(best[2]):
            found[file.relative_to(folder).as_posix()] = best[2]
    return dict(sorted(found.items()))


def _model_dir(store: Path, run_id: str) -> Path | None:
    """The model directory the run logged: an ``MLmodel`` whose ``run_id`` is the run's."""
    import yaml

    for mlmodel in sorted((store / "mlruns").rglob("MLmodel")):
        try:
            data = yaml.safe_load(mlmodel.read_text("utf-8")) or {}
        except (OSError, yaml.YAMLError):
            continue
        if isinstance(data, dict) and data.get("run_id") == run_id:
            return mlmodel.parent
    return None


def collect(store: Path, model_file: Path, shown: str) -> LoggedRun:
    """After a training run: the run's model directory copied to ``model_file`` and its
    metrics written beside the store (read back by ``logged_metrics``)."""
    run = read_run(store)
    if run.model_dir is None:
        raise CheckFailed(
            f"the MLflow run {run.run_id} logged no model, so there is nothing at {shown}",
            hint="log it with mlflow.<flavor>.log_model(model, name='model')",
        )
    if model_file.is_dir() and not model_file.is_symlink():
        shutil.rmtree(model_file)
    elif model_file.exists() or model_file.is_symlink():
        model_file.unlink()
    model_file.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(run.model_dir, model_file)
    atomic_write_json(store / METRICS_FILE, dict(run.metrics))
    atomic_write_json(
        store / RUN_FILE,
        {"run_id": run.run_id, "model": run.model_dir.relative_to(store).as_posix()},
    )
    return run


def logged_metrics(root: Path, tag_name: str) -> tuple[Path, str] | None:
    """The metrics file ``collect`` wrote for the model's last run (under ``root``), if any."""
    path = store_dir(root, tag_name) / METRICS_FILE
    if not path.is_file():
        return None
    import json

    try:
        run_id = str(json.loads((path.parent / RUN_FILE).read_text("utf-8")).get("run_id", ""))
    except (OSError, ValueError, AttributeError):
        run_id = "?"
    return path, run_id


@dataclass(frozen=True)
class EntryPoint:
    name: str
    command: str  # parameters substituted
    parameters: Mapping[str, Any]
    environment: str | None  # python_env / conda_env file named by MLproject


def entry_point(
    folder: Path, name: str, overrides: Mapping[str, Any], where: Location | None = None
) -> EntryPoint:
    """``MLproject``'s entry point ``name`` with its parameters (defaults, then ``overrides``)
    substituted into its command as ``mlflow run`` does."""
    import yaml

    path = folder / MLPROJECT
    shown = Location(str(path))
    try:
        project = yaml.safe_load(path.read_text("utf-8")) or {}
    except FileNotFoundError:
        raise ConfigError(
            f"train.entry_point needs an {MLPROJECT} file in the model folder",
            location=where,
        ) from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read {MLPROJECT}: {exc}", location=shown) from None
    points = project.get("entry_points") if isinstance(project, dict) else None
    if not isinstance(points, dict) or name not in points:
        known = ", ".join(map(str, points or {})) or "none"
        raise ConfigError(
            f"{MLPROJECT} has no entry point {name!r} (entry points: {known})", location=where
        )
    spec = points[name] or {}
    values: dict[str, Any] = {}
    for key, param in (spec.get("parameters") or {}).items():
        # ``name: {type: float, default: 0.5}``, or ``name: float`` (a type, no default).
        default = param.get("default") if isinstance(param, dict) else None
        if default is not None:
            values[str(key)] = default
    unknown = [k for k in overrides if k not in (spec.get("parameters") or {})]
    if unknown:
        raise ConfigError(
            f"{MLPROJECT} entry point {name!r} has no parameter " + ", ".join(map(repr, unknown)),
            location=where,
        )
    values.update(overrides)
    command = str(spec.get("command", ""))
    try:
        expanded = command.format(**{k: _shown(v) for k, v in values.items()})
    except (KeyError, IndexError) as exc:
        raise ConfigError(
            f"{MLPROJECT} entry point {name!r}: parameter {exc} has no value",
            location=where,
            hint=f"give it under train.parameters in mlgate.yaml, or a default in {MLPROJECT}",
        ) from None
    env = project.get("python_env") or project.get("conda_env")
    return EntryPoint(name, expanded, values, str(env) if env else None)


def _shown(value: Any) -> str:
    import shlex

    return shlex.quote(str(value))
