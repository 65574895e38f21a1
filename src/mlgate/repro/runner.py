"""Running the training command: argv from shlex (never a shell), the environment, isolated copies.

The command runs in the model folder with the environment mlgate was given (PATH unchanged,
so ``python`` is the training environment's, never mlgate's own venv), and with
``MLGATE_SEED``/``PYTHONHASHSEED`` set from ``train.seed``. With ``train.python`` (or
``$MLGATE_TRAIN_PYTHON``) that interpreter's folder goes first on PATH and a command starting
with ``python`` runs it: the interpreter probed for the lock is the one that trains.
"""

from __future__ import annotations

import os
import shlex
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path

from mlgate import gitio, proc
from mlgate.config.model import Config, ModelConfig
from mlgate.errors import ConfigError
from mlgate.integrations import mlflow
from mlgate.repro import environment
from mlgate.repro.inputs import SKIPPED_DIRS, require_train


def command_argv(config: Config, model: ModelConfig) -> list[str]:
    """``train.command`` split like a shell would, without running one."""
    require_train(config, model)
    assert model.train is not None  # checked just above
    try:
        argv = shlex.split(model.train.command)
    except ValueError as exc:
        raise ConfigError(
            f"cannot split train.command: {exc}",
            location=config.locate(model, "train", "command"),
            hint="mlgate splits the command like a shell (quotes group words) but runs no shell",
        ) from None
    if not argv:
        raise ConfigError(
            "train.command is empty", location=config.locate(model, "train", "command")
        )
    return argv


def training_env(model: ModelConfig, base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment training runs with (``base`` defaults to this process's environment)."""
    env = dict(os.environ if base is None else base)
    configured = _configured_python(model, env)
    if configured is not None:
        interpreter_dir = str(Path(configured).parent)
        path = env.get("PATH", "")
        if path.split(os.pathsep)[0] != interpreter_dir:
            env["PATH"] = interpreter_dir + (os.pathsep + path if path else "")
    env["PYTHONUNBUFFERED"] = "1"  # so output streams as it is printed
    env["MLGATE_MODEL"] = model.name
    if model.train is not None:
        if model.train.seed is not None:
            env["MLGATE_SEED"] = str(model.train.seed)
            env["PYTHONHASHSEED"] = str(model.train.seed)
        env.update(model.train.env)
    return env


def _configured_python(model: ModelConfig, env: dict[str, str]) -> str | None:
    """The interpreter ``train.python``/``$MLGATE_TRAIN_PYTHON`` names, or None when unset."""
    if not (env.get(environment.ENV_TRAIN_PYTHON) or (model.train and model.train.python)):
        return None
    interpreter, _ = environment.resolve_interpreter(model, env.get("PATH", ""))
    return interpreter


def resolve_program(
    config: Config, model: ModelConfig, argv: list[str], env: dict[str, str]
) -> str:
    """The executable ``argv[0]`` names, found on the training PATH (ConfigError if absent);
    a ``python`` command runs the configured training interpreter when there is one."""
    program = argv[0]
    if environment.python_like(program):
        configured = _configured_python(model, env)
        if configured is not None:
            return configured
    if os.sep in program or (os.altsep and os.altsep in program):
        return program
    found = shutil.which(program, path=env.get("PATH"))
    if found is None:
        raise ConfigError(
            f"train.command: program {program!r} not found on PATH",
            location=config.locate(model, "train", "command"),
            hint="install it in the training environment (on PATH), or give its full path",
        )
    return found


def run_training(
    config: Config,
    model: ModelConfig,
    cwd: Path,
    *,
    on_line: Callable[[str], None] | None = None,
    alongside: Callable[[], None] | None = None,
) -> proc.Streamed:
    """Run the model's training command in ``cwd`` (the model folder or an isolated copy of it).

    With ``train.mlflow`` the run logs into a store of its own in that repository (or copy),
    and the model directory it logged is copied to the model file's place there. ``alongside``
    runs while the command does (``proc.stream``).
    """
    argv = command_argv(config, model)
    env = training_env(model)
    argv[0] = resolve_program(config, model, argv, env)
    assert model.train is not None  # command_argv checked it
    store = None
    if model.train.mlflow:
        store, store_env = mlflow.fresh_store(_copy_root(config, model, cwd), model.tag_name)
        env.update(store_env)
    result = proc.stream(
        argv, cwd=cwd, env=env, timeout=model.train.timeout, on_line=on_line, alongside=alongside
    )
    if store is not None and result.ok:
        target = _copy_root(config, model, cwd) / model.model.file.relative_to(config.root)
        mlflow.collect(store, target, model.relative(model.model.file))
    return result


def _copy_root(config: Config, model: ModelConfig, cwd: Path) -> Path:
    """The repository root (or isolated copy's root) that holds the model folder ``cwd``."""
    if not _inside(model.root, config.root):
        return cwd
    depth = len(model.root.relative_to(config.root).parts)
    return cwd.parents[depth - 1] if depth else cwd


def isolated_copy(
    config: Config, model: ModelConfig, inputs: Iterable[Path], outputs: Iterable[Path], dest: Path
) -> Path:
    """Copy the model folder (without its outputs) and every input inside the repository into
    ``dest``, keeping repository-relative paths; returns the copy's model folder.

    Inputs outside the repository are referred to by absolute path and left where they are.
    """
    root = config.root
    skipped_outputs = {p.resolve() for p in outputs}

    def ignore(folder: str, names: list[str]) -> set[str]:
        here = Path(folder)
        skipped = {n for n in names if n in SKIPPED_DIRS or (here / n).resolve() in skipped_outputs}
        if here.name == ".dvc":  # DVC's cache and run cache would restore outputs, not rerun
            skipped |= {"cache", "tmp"} & set(names)
        return skipped

    model_copy = (
        dest / model.root.relative_to(root) if _inside(model.root, root) else dest / "model"
    )
    shutil.copytree(model.root, model_copy, ignore=ignore, symlinks=False, dirs_exist_ok=True)
    for path in inputs:
        if not _inside(path, root) or _inside(path, model.root):
            continue
        target = dest / path.relative_to(root)
        if path.is_dir():
            shutil.copytree(path, target, dirs_exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
    if (dest / ".dvc").is_dir() and not (dest / ".git").exists():
        gitio.git(["init", "--quiet"], dest)  # DVC runs inside a git repository
    return model_copy


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.relative_to(folder)
    except ValueError:
        return False
    return True
