"""``repro --rerun``: train again in isolated copies and compare what comes out.

Each run gets a fresh copy of the model folder (without its outputs) and of every input inside
the repository, in a temporary directory: the user's files are never written. With two or more
runs, each later run is compared with the first; with one, or when the working tree's outputs
are themselves a fresh run (``mlgate check`` trains first, so that run counts as the first), each
re-run is compared with the outputs in the working tree.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlgate import formats
from mlgate.config.model import Config, ModelConfig
from mlgate.config.sections import ReproSettings
from mlgate.errors import CheckFailed, ConfigError, UsageError
from mlgate.integrations import mlflow
from mlgate.repro import runs
from mlgate.repro.artifacts import read_metrics
from mlgate.repro.equivalence import Comparison, RunSnapshot, compare_runs, likely_causes
from mlgate.repro.hashing import Hasher
from mlgate.repro.inputs import Inputs
from mlgate.repro.runner import command_argv, isolated_copy, run_training
from mlgate.repro.train import outputs_of
from mlgate.tabular import feature_columns, read_data
from mlgate.verdict import Check

LineSink = Callable[[str], None]


@dataclass(frozen=True)
class RerunOutcome:
    checks: tuple[Check, ...]
    notes: tuple[str, ...]
    context: dict[str, Any] = field(default_factory=dict)
    # The working tree's output hashes the re-runs agreed with (None: compared with run 1).
    reference_outputs: dict[str, dict[str, Any]] | None = None


def check_mode_prerequisites(config: Config, model: ModelConfig, settings: ReproSettings) -> None:
    """ConfigError pointing at ``repro.mode`` when the mode needs settings the model lacks."""
    command_argv(config, model)
    where = config.locate(model, "repro", "mode")
    if settings.mode == "predictions" and model.data.eval is None:
        raise ConfigError(
            "repro.mode predictions compares predictions on data.eval, which is not set",
            location=where,
            hint="set data.eval, or use repro.mode: metrics",
        )
    if settings.mode == "metrics" and (
        model.train is None or (model.train.metrics is None and not model.train.mlflow)
    ):
        raise ConfigError(
            "repro.mode metrics compares the metrics file, but train.metrics is not set",
            location=where,
            hint="set train.metrics to the JSON file of metrics your training writes",
        )


def rerun(
    config: Config,
    model: ModelConfig,
    inputs: Inputs,
    *,
    runs_wanted: int,
    keep: bool = False,
    on_line: LineSink | None = None,
    on_event: LineSink | None = None,
    against_working_tree: bool = False,
) -> RerunOutcome:
    """Run training ``runs_wanted`` times in isolation and compare the outputs (with the first
    run, or with the working tree's outputs for one run or ``against_working_tree``)."""
    settings = model.repro
    check_mode_prerequisites(config, model, settings)
    if runs_wanted < 1:
        raise UsageError("--runs must be at least 1")
    outputs = outputs_of(model)
    outside = [str(p) for p in outputs if not p.is_relative_to(config.root)]
    if outside:
        raise ConfigError(
            "outputs outside the repository cannot be isolated for a re-run: " + ", ".join(outside),
            location=config.locate(model, "train", "outputs"),
            hint="write training outputs inside the repository (e.g. the model folder)",
        )
    reference: RunSnapshot | None = None
    if runs_wanted == 1 or against_working_tree:
        reference = _snapshot("the working tree", config.root, config.root, model, outputs)
        missing = [
            rel for rel in (model.relative(p) for p in outputs) if rel not in reference.files
        ]
        if missing:
            raise UsageError(
                "a single re-run is compared with the outputs in the working tree, and these "
                "are missing: " + ", ".join(missing),
                hint="run 'mlgate train' first, or pass --runs 2 to compare two fresh runs",
            )
    base = Path(tempfile.mkdtemp(prefix=f"mlgate-rerun-{model.tag_name.replace('/', '-')}-"))
    snapshots: list[RunSnapshot] = []
    seconds: list[float] = []
    try:
        for index in range(1, runs_wanted + 1):
            dest = base / f"run{index}"
            copy = isolated_copy(config, model, inputs.paths, outputs, dest)
            if on_event:
                on_event(f"re-run {index}/{runs_wanted} of {model.name} in {copy}")
            result = run_training(config, model, copy, on_line=on_line)
            seconds.append(round(result.seconds, 3))
            if not result.ok:
                raise _rerun_failed(config, model, result, index, dest if keep else None)
            copied_outputs = [dest / p.relative_to(config.root) for p in outputs]
            snapshots.append(_snapshot(f"run {index}", dest, config.root, model, copied_outputs))
        checks = _compare_all(reference, snapshots, model, settings)
    finally:
        if not keep:
            import shutil

            shutil.rmtree(base, ignore_errors=True)
    failed = [c for c in checks if c.failed]
    notes = likely_causes(model, inputs.entry, failed) if failed else []
    if keep:
        notes.append(f"isolated copies kept in {base}")
    context = {
        "runs": runs_wanted,
        "mode": settings.mode,
        "compared_with": reference.label if reference else "run 1",
        "durations_s": seconds,
        "tolerance": {
            "predictions": settings.tolerance_predictions,
            "metrics": settings.tolerance_metrics,
        },
    }
    return RerunOutcome(
        tuple(checks), tuple(notes), context, reference.outputs if reference else None
    )


def _snapshot(
    label: str, root: Path, repo_root: Path, model: ModelConfig, files: list[Path]
) -> RunSnapshot:
    outputs = runs.hash_outputs(root, files, Hasher())
    present = {rel: root / rel for rel in outputs}
    metrics = None
    if model.train is not None and model.train.metrics is not None:
        metrics_path = root / model.train.metrics.relative_to(repo_root)
        if metrics_path.is_file():
            metrics, _ = read_metrics(
                metrics_path, f"{label}: {model.relative(model.train.metrics)}"
            )
    elif model.train is not None and model.train.mlflow:
        logged = mlflow.logged_metrics(root, model.tag_name)
        if logged is not None:
            metrics, _ = read_metrics(logged[0], f"{label}: metrics logged to MLflow")
    return RunSnapshot(label, outputs, present, metrics)


def _compare_all(
    reference: RunSnapshot | None,
    snapshots: list[RunSnapshot],
    model: ModelConfig,
    settings: ReproSettings,
) -> list[Check]:
    predict = _predictor(model) if settings.mode == "predictions" else None
    metrics_file = (
        model.relative(model.train.metrics) if model.train and model.train.metrics else None
    )
    pairs = (
        [(reference, s) for s in snapshots]
        if reference is not None
        else [(snapshots[0], s) for s in snapshots[1:]]
    )
    checks: list[Check] = []
    for first, other in pairs:
        prefix = "repro.rerun" if len(pairs) == 1 else f"repro.rerun.{other.label.replace(' ', '')}"
        comparison = Comparison(
            first,
            other,
            model,
            settings,
            model.relative(model.model.file),
            metrics_file,
            predict,
            prefix,
        )
        checks.extend(compare_runs(comparison))
    return checks


def _predictor(model: ModelConfig) -> Callable[[Path], Any]:
    """Predictions of a model file on the evaluation set (probabilities where available)."""
    assert model.data.eval is not None  # check_mode_prerequisites
    frame = read_data(model.data, "eval")

    def predict(path: Path) -> Any:
        estimator = formats.load(
            path,
            fmt=model.model.format,
            trusted=model.model.trusted,
            trusted_types=model.model.trusted_types,
            what="re-run model",
            task=model.model.task,
        )
        names = getattr(estimator, "feature_names_in_", None)
        columns = (
            [str(n) for n in names]
            if names is not None
            else feature_columns(
                frame,
                target=model.data.target,
                features=model.data.features,
                sensitive=model.data.sensitive,
            )
        )
        features = frame[columns]
        if hasattr(estimator, "predict_proba"):
            return estimator.predict_proba(features)
        return estimator.predict(features)

    return predict


def _rerun_failed(
    config: Config, model: ModelConfig, result: Any, index: int, kept: Path | None
) -> CheckFailed:
    """The training code failed in the isolated copy: the change fails (exit 1)."""
    what = (
        "was stopped at train.timeout"
        if result.timed_out
        else f"exited with code {result.returncode}"
    )
    details = ["last lines of its output:", *("  " + line for line in result.tail)]
    if kept:
        details.append(f"the isolated copy is kept in {kept}")
    return CheckFailed(
        f"re-run {index} of {model.name!r} failed: the training command {what}",
        location=config.locate(model, "train", "command"),
        hint="if 'mlgate train' works in place, the training reads a file the isolated copy "
        "lacks: declare it under data.extra (data) or repro.code (code) in mlgate.yaml",
        details=details,
    )
