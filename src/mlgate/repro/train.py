"""``mlgate train``: run the training command, write a run record, or reuse an earlier run."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from mlgate import __version__, gitio, paths
from mlgate.config.model import Config, ModelConfig
from mlgate.errors import CheckFailed, ConfigError, MlgateError
from mlgate.integrations import mlflow
from mlgate.repro import environment, runs
from mlgate.repro.artifacts import read_metrics
from mlgate.repro.hashing import Hasher, Progress, StatCache
from mlgate.repro.inputs import Inputs, collect_inputs, require_train
from mlgate.repro.lockfile import read_lock
from mlgate.repro.runner import command_argv, run_training
from mlgate.tabular import Signature, feature_columns, read_data

LineSink = Callable[[str], None]


@dataclass(frozen=True)
class TrainRequest:
    config: Config
    model_name: str | None = None
    use_cache: bool = False
    # Work for the time a model's training command runs, while mlgate only waits for it: run
    # in a thread alongside the process and waited for when it ends (the check imports what its
    # later stages load the model with). Not run when a cached run is used.
    meanwhile: Callable[[ModelConfig], None] | None = None


@dataclass(frozen=True)
class TrainOutcome:
    """What happened to one model: trained, or skipped because a cached run matched."""

    model: str
    status: str  # "trained" | "cached"
    run_id: str
    record_path: Path
    duration_s: float
    metrics: dict[str, float]
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "status": self.status,
            "run_id": self.run_id,
            "record": str(self.record_path),
            "duration_s": round(self.duration_s, 3),
            "metrics": self.metrics,
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class TrainResult:
    outcomes: tuple[TrainOutcome, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {"models": [o.to_dict() for o in self.outcomes]}


def train(
    request: TrainRequest,
    *,
    on_line: LineSink | None = None,
    progress: Progress | None = None,
    on_model: LineSink | None = None,
) -> TrainResult:
    """Train the selected models in order; the first failure raises (its record is written).
    ``on_model`` hears a title as each model starts (the CLI's stage header)."""
    config = request.config
    models = config.select(request.model_name)
    for model in models:
        require_train(config, model)
        command_argv(config, model)  # a malformed command fails before anything runs
    cache = StatCache(paths.cache_dir(config.root) / "hashes.json")
    hasher = Hasher(cache, progress=progress)
    outcomes: list[TrainOutcome] = []
    try:
        for m in models:
            if on_model is not None:
                command = m.train.command if m.train else ""
                on_model(f"{m.name}: training ({command})")
            outcomes.append(_train_one(config, m, hasher, request, on_line))
    finally:
        cache.save()
    return TrainResult(tuple(outcomes))


def outputs_of(model: ModelConfig) -> list[Path]:
    """Declared outputs plus the model file (always one)."""
    declared = list(model.train.outputs) if model.train else []
    return list(dict.fromkeys([*declared, model.model.file]))


def _train_one(
    config: Config,
    model: ModelConfig,
    hasher: Hasher,
    request: TrainRequest,
    on_line: LineSink | None,
) -> TrainOutcome:
    inputs = collect_inputs(config, model, hasher)
    outputs = outputs_of(model)
    if request.use_cache:
        hit = runs.find_cached(config.root, model, inputs.fingerprint, outputs, hasher)
        if hit is not None:
            return TrainOutcome(
                model.name,
                "cached",
                hit.id,
                hit.path,
                0.0,
                dict(hit.data.get("metrics", {})),
                (f"inputs match run {hit.id} and its outputs are unchanged",),
            )
    started = datetime.now(timezone.utc)
    run_id = runs.new_run_id(started)
    work = request.meanwhile
    result = run_training(
        config,
        model,
        model.root,
        on_line=on_line,
        alongside=None if work is None else lambda: work(model),
    )
    finished = datetime.now(timezone.utc)
    notes = list(inputs.notes)
    record = _base_record(config, model, inputs, run_id, started, finished, result.seconds)
    record.update(
        argv=list(result.args),
        exit_code=result.returncode,
        output_tail=list(result.tail),
        status="timed-out" if result.timed_out else ("succeeded" if result.ok else "failed"),
    )
    problem: MlgateError | None = None
    if result.ok:
        missing = [model.relative(p) for p in outputs if not p.exists()]
        if missing:
            record["status"] = "failed"
            problem = CheckFailed(
                f"training of {model.name!r} exited 0 but did not write " + ", ".join(missing),
                location=config.locate(model, "train", "outputs"),
                hint="fix the training script, or the outputs/model.file paths in mlgate.yaml",
            )
        else:
            try:
                _add_results(config, model, record, outputs, hasher, notes)
            except MlgateError as exc:
                record["status"] = "failed"
                problem = exc
    else:
        problem = _failure(config, model, result)
    record["notes"] = notes
    # A failed run is kept for diagnosis where nothing is committed, not among the run records
    # that are evidence.
    path = runs.write_record(config.root, model, record, failed=problem is not None)
    if problem is not None:
        problem.details.append(f"run record: {model.relative(path)}")
        raise problem
    return TrainOutcome(
        model.name, "trained", run_id, path, result.seconds, record["metrics"], tuple(notes)
    )


def _base_record(
    config: Config,
    model: ModelConfig,
    inputs: Inputs,
    run_id: str,
    started: datetime,
    finished: datetime,
    seconds: float,
) -> dict[str, Any]:
    assert model.train is not None  # require_train ran
    return {
        "format": runs.RUN_FORMAT,
        "id": run_id,
        "model": model.name,
        "started_at": runs.utc_iso(started),
        "finished_at": runs.utc_iso(finished),
        "duration_s": round(seconds, 3),
        "command": model.train.command,
        "cwd": model.relative(model.root),
        "seed": model.train.seed,
        "inputs": {**_without_manifests(inputs.entry), "lock": _lock_status(config, inputs)},
        "outputs": {},
        "model_file": model.relative(model.model.file),
        "metrics": {},
        "environment": _environment_record(config, model),
        "git": _git_state(config.root),
        "signature": None,
        "tool": {"name": "mlgate", "version": __version__},
    }


def _environment_record(config: Config, model: ModelConfig) -> dict[str, Any]:
    """The interpreter that trained and its packages (probed; see repro.environment)."""
    trains = environment.training_environment(model, config)
    return {**trains.runtime_info(), "packages": trains.packages}


def _without_manifests(entry: dict[str, Any]) -> dict[str, Any]:
    data = {k: {f: v for f, v in d.items() if f != "files"} for k, d in entry["data"].items()}
    return {**entry, "data": data}


def _lock_status(config: Config, inputs: Inputs) -> str:
    try:
        lock = read_lock(paths.lock_path(config.root))
    except ConfigError:
        return "differs"
    if lock is None or lock.entry(inputs.model) is None:
        return "absent"
    locked = lock.entry(inputs.model) or {}
    return "matches" if locked.get("fingerprint") == inputs.fingerprint else "differs"


def _git_state(root: Path) -> dict[str, Any]:
    try:
        top = gitio.repo_root(root)
    except MlgateError:
        return {"commit": None, "branch": None, "dirty": None}
    return {
        "commit": gitio.head_commit(top),
        "branch": gitio.current_branch(top),
        "dirty": gitio.is_dirty(top),
    }


def _add_results(
    config: Config,
    model: ModelConfig,
    record: dict[str, Any],
    outputs: list[Path],
    hasher: Hasher,
    notes: list[str],
) -> None:
    record["outputs"] = runs.hash_outputs(config.root, outputs, hasher)
    assert model.train is not None
    source = model.train.metrics
    if source is None and model.train.mlflow:
        logged = mlflow.logged_metrics(config.root, model.tag_name)
        if logged is not None:
            source = logged[0]
            notes.append(f"metrics logged to MLflow by run {logged[1]}")
    if source is None:
        from mlgate.integrations import dvc

        source = dvc.metrics_file(model)
        if source is not None and source.is_file():
            notes.append(f"metrics from the DVC pipeline's {model.relative(source)}")
        else:
            source = None
    if source is not None:
        metrics, more = read_metrics(source, model.relative(source))
        record["metrics"] = metrics
        notes.extend(more)
    record["signature"] = training_signature(model, notes)


def training_signature(model: ModelConfig, notes: list[str]) -> dict[str, Any] | None:
    """Feature names and kinds from data.train, as the run record and the gates read them."""
    if model.data.train is None:
        notes.append("no data.train configured: the run record has no signature")
        return None

    try:
        frame = read_data(model.data, "train")
        names = feature_columns(
            frame,
            target=model.data.target,
            features=model.data.features,
            sensitive=model.data.sensitive,
            source=model.relative(model.data.train),
        )
    except ConfigError as exc:
        notes.append(f"signature not recorded: {exc.message}")
        return None
    return Signature.from_frame(frame, names).to_dict()


def _failure(config: Config, model: ModelConfig, result: Any) -> CheckFailed:
    """The repository's own training code failed: the change fails (exit 1), not mlgate or
    the infrastructure."""
    assert model.train is not None
    if result.timed_out:
        head = (
            f"training of {model.name!r} was stopped after train.timeout "
            f"({model.train.timeout:g} s)"
        )
    else:
        head = f"training of {model.name!r} failed: command exited with code {result.returncode}"
    details = [f"command: {model.train.command}", f"in: {model.relative(model.root)}"]
    if result.tail:
        details.append("last lines of its output:")
        details.extend("  " + line for line in result.tail)
    return CheckFailed(
        head,
        location=config.locate(model, "train", "command"),
        hint="the full output is above; fix the error and run 'mlgate train' again",
        details=details,
    )
