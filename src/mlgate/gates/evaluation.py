"""Run challenger and champion on the same rows and turn their metrics into checks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mlgate import formats
from mlgate.config.model import Config, ModelConfig
from mlgate.config.sections import GateSettings
from mlgate.errors import ConfigError
from mlgate.gates.bootstrap import paired_bootstrap
from mlgate.gates.budgets import budget_checks
from mlgate.gates.champion import ChampionRef
from mlgate.gates.metrics import resolve_metric
from mlgate.gates.predict import ModelOutputs, compute_metric, model_features, run_model
from mlgate.gates.rules import ChampionState, MetricOutcome, metric_checks
from mlgate.gates.slices import SliceMetric, slice_checks
from mlgate.modelio import sha256_file
from mlgate.verdict import Check, Status, delta

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from mlgate.gates.metrics import Metric


@dataclass
class GateRun:
    """One model's gate run while its checks are collected (validate, monitor's live gates)."""

    config: Config
    model: ModelConfig
    settings: GateSettings
    checks: list[Check]
    notes: list[str]

    def locate(self, *keys: str | int) -> Any:
        return self.config.locate(self.model, *keys)


def evaluate(
    run: GateRun,
    frame: pd.DataFrame,
    target: str,
    features: Sequence[str],
    ref: ChampionRef | None,
    missing: str | None = None,
) -> dict[str, Any]:
    """Append model, metric, slice and budget checks to ``run``; return the verdict context."""
    model, spec = run.model, run.model.model
    task = spec.task
    y = label_values(frame, target, task)
    metrics = _resolve_metrics(run, task)
    challenger = formats.load(
        spec.file,
        fmt=spec.format,
        trusted=spec.trusted,
        trusted_types=spec.trusted_types,
        what="challenger model",
        task=task,
    )
    mine = _run(run, challenger, frame, features)
    run.checks.append(
        _model_check("model.challenger", "challenger", mine, model.relative(spec.file))
    )
    theirs: ModelOutputs | None = None
    context: dict[str, Any] = {
        "task": task,
        "challenger": {
            "path": model.relative(spec.file),
            "sha256": sha256_file(spec.file),
            "features": list(mine.features),
            "predict_seconds": mine.seconds,
        },
        "champion": None,
    }
    state = ChampionState(present=False, on_missing=run.settings.champion.on_missing)
    if ref is not None:
        estimator = formats.load(
            ref.path,
            fmt=ref.format,
            trusted=spec.trusted,
            trusted_types=spec.trusted_types,
            what="champion model",
            task=task,
        )
        theirs = _run(run, estimator, frame, features)
        run.checks.append(_model_check("model.champion", ref.label, theirs, str(ref.path)))
        state = ChampionState(
            present=True, on_missing=run.settings.champion.on_missing, label=ref.label
        )
        context["champion"] = {
            **ref.to_dict(),
            "sha256": sha256_file(ref.path),
            "features": list(theirs.features),
        }
    else:
        run.checks.append(_no_champion(run, state, missing))
        context["champion_missing"] = missing
    if not run.settings.metrics:
        run.checks.append(
            Check(
                "metrics.none",
                "metric",
                Status.WARN,
                "no metric gates (gates.metrics): nothing compares this model with the champion "
                "or bounds its quality",
                config_key=("gates",),
            )
        )
    values = {}
    for gate in run.settings.metrics:
        metric = metrics[gate.name]
        outcome = _outcome(run, gate, metric, y, mine, theirs)
        run.checks.extend(metric_checks(gate, outcome, state))
        values[gate.name] = {
            "challenger": outcome.challenger,
            "champion": outcome.champion,
            "direction": gate.direction,
            "delta": delta(gate.direction, outcome.challenger, outcome.champion),
        }
    context["metrics"] = values
    if run.settings.slices is not None:
        _slices(run, frame, y, mine, theirs, metrics)
    if run.settings.budgets is not None:
        inputs = frame[list(mine.features)] if mine.error is None else None
        run.checks.extend(budget_checks(run.settings.budgets, spec.file, challenger, inputs))
    for warning in mine.warnings:
        run.notes.append(f"challenger predict warned: {warning}")
    return context


def _run(
    run: GateRun, estimator: Any, frame: pd.DataFrame, features: Sequence[str]
) -> ModelOutputs:
    spec = run.model.model
    return run_model(
        estimator,
        frame,
        task=spec.task,
        features=model_features(estimator, features),
        positive_label=spec.positive_label,
        positive_location=run.locate("model", "positive_label"),
    )


def _model_check(cid: str, label: str, outputs: ModelOutputs, path: str) -> Check:
    if outputs.error is not None:
        status = Status.FAIL if cid == "model.challenger" else Status.WARN
        return Check(
            cid,
            "model",
            status,
            f"the {label} ({path}) could not be run: {outputs.error}",
            details={"missing_columns": list(outputs.missing), "path": path},
        )
    rows = len(outputs.labels) if outputs.labels is not None else 0
    message = f"the {label} ({path}) ran on {rows} rows with {len(outputs.features)} features"
    if outputs.proba_error:
        message += f"; {outputs.proba_error}"
    return Check(
        cid,
        "model",
        Status.PASS,
        message,
        details={"features": list(outputs.features), "path": path},
    )


def _no_champion(run: GateRun, state: ChampionState, why: str | None) -> Check:
    key = ("gates", "champion", "on_missing")
    reason = f" ({why})" if why else ""
    if state.on_missing == "fail":
        return Check(
            "model.champion",
            "model",
            Status.FAIL,
            f"no champion to compare with{reason}, and on_missing is 'fail'",
            config_key=key,
        )
    run.notes.append(f"no champion{reason}: value bounds only (on_missing: value-only)")
    return Check(
        "model.champion",
        "model",
        Status.SKIP,
        f"no champion to compare with{reason}: value bounds only (on_missing: value-only)",
        config_key=key,
    )


def _resolve_metrics(run: GateRun, task: str) -> dict[str, Metric]:
    search = [run.model.root, run.config.root]
    found: dict[str, Metric] = {}
    for gate in run.settings.metrics:
        found[gate.name] = resolve_metric(
            gate.name,
            task,
            location=run.locate("gates", "metrics", gate.name),
            function=gate.function,
            needs=gate.input,
            direction=gate.direction,
            search=search,
        )
    slices = run.settings.slices
    for name in slices.metric_names if slices else ():
        if name not in found:
            key = "max_gap" if name in slices.max_gap else "metrics"  # type: ignore[union-attr]
            found[name] = resolve_metric(
                name, task, location=run.locate("gates", "slices", key, name), search=search
            )
    return found


def _outcome(
    run: GateRun,
    gate: Any,
    metric: Metric,
    y: np.ndarray,
    mine: ModelOutputs,
    theirs: ModelOutputs | None,
) -> MetricOutcome:
    c = compute_metric(metric, y, mine)
    for warning in c.warnings:
        run.notes.append(f"{gate.name}: {warning}")
    if theirs is None:
        return MetricOutcome(gate.name, c.value, error=c.error)
    b = compute_metric(metric, y, theirs)
    interval = None
    ctx_c, ctx_b = mine.context, theirs.context
    computed = c.value is not None and b.value is not None
    if gate.bootstrap and computed and ctx_c is not None and ctx_b is not None:
        interval = paired_bootstrap(
            metric,
            y,
            (mine.input_for(metric.needs), ctx_c),
            (theirs.input_for(metric.needs), ctx_b),
            direction=gate.direction,
            settings=run.settings.bootstrap,
        )
    return MetricOutcome(gate.name, c.value, b.value, c.error, b.error, interval)


def _slices(
    run: GateRun,
    frame: pd.DataFrame,
    y: np.ndarray,
    mine: ModelOutputs,
    theirs: ModelOutputs | None,
    metrics: dict[str, Metric],
) -> None:
    settings = run.settings.slices
    assert settings is not None
    directions = {g.name: g.direction for g in run.settings.metrics}
    specs = {
        name: SliceMetric(metrics[name], directions.get(name, metrics[name].direction))
        for name in settings.metric_names
    }
    run.checks.extend(slice_checks(settings, frame, y, mine, theirs, specs, run.locate))


def label_values(frame: pd.DataFrame, target: str, task: str) -> np.ndarray:
    """The evaluation labels as an array (floats for regression)."""
    import numpy as np
    import pandas as pd

    values = frame[target]
    if task == "regression":
        numbers = pd.to_numeric(values, errors="coerce")
        bad = values[numbers.isna()]
        if len(bad):
            raise ConfigError(
                f"the regression target {target!r} has values that are not numbers, e.g. "
                + ", ".join(repr(v) for v in bad.unique()[:3]),
            )
        return np.asarray(numbers.to_numpy(dtype=np.float64))
    return np.asarray(values.to_numpy())
