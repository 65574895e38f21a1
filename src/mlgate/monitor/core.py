"""``mlgate monitor``: production data against the model's reference, with the PR check's own
gates, as one verdict of kind ``monitor``.

- **Drift**: the drift gate of ``mlgate drift`` (same tests, thresholds, critical columns and
  cached reference summaries) on the model's features in production, against
  ``gates.drift.reference`` (default ``data.train``). Hashed or excluded columns are left out,
  with a note.
- **Prediction drift**: the distribution of the model's production outputs against its outputs
  on the reference data, with the same test choice and thresholds (a drifted prediction warns,
  fails when ``prediction`` is in ``gates.drift.critical``).
- **Live metrics**: with a labels table (``request_id``, the target column, and ``row`` for
  requests of several rows), the captured inputs are scored again by the model and every
  ``gates.metrics`` gate's value bounds (``min``/``max``) apply to the labelled rows.

Exit 1 when a check fails, as elsewhere. ``mlgate report``'s compliance map counts production
monitoring only from this verdict.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlgate import formats, gfm, paths
from mlgate.config.model import Config, ModelConfig
from mlgate.errors import UsageError
from mlgate.fsio import atomic_write_text
from mlgate.gates.drift.engine import DriftOptions
from mlgate.gates.drift.run import DriftInputs, _features, drift_gate
from mlgate.gates.evaluation import GateRun, _resolve_metrics, label_values
from mlgate.gates.predict import compute_metric, model_features, run_model
from mlgate.gates.rules import ChampionState, MetricOutcome, metric_checks
from mlgate.monitor.production import (
    PREDICTION,
    REQUEST_ID,
    ROW,
    Production,
    parse_time,
    read_production,
)
from mlgate.prcheck.render import section
from mlgate.tabular import read_table
from mlgate.verdict import Check, Status, Verdict, write_verdict

if TYPE_CHECKING:
    import pandas as pd

KIND = "monitor"
VERDICT_FILE = "monitor.json"
MARKDOWN_FILE = "monitor.md"


@dataclass(frozen=True)
class MonitorRequest:
    config: Config
    data: Path
    model: str | None = None
    labels: Path | None = None
    since: str | None = None
    until: str | None = None
    time_column: str | None = None
    out: Path | None = None


@dataclass(frozen=True)
class MonitorResult:
    verdict: Verdict
    written: dict[str, Path] = field(default_factory=dict)
    config: Config | None = None
    model: ModelConfig | None = None

    @property
    def exit_code(self) -> int:
        return self.verdict.exit_code


def run_monitor(request: MonitorRequest) -> MonitorResult:
    """Drift, prediction drift and (with labels) live metric gates on production data."""
    config = request.config
    model = config.model(request.model)
    since = parse_time(request.since, "--since")
    until = parse_time(request.until, "--until")
    if since is not None and until is not None and since >= until:
        raise UsageError(f"--since {request.since} is not before --until {request.until}")
    production = read_production(
        request.data, since=since, until=until, time_column=request.time_column
    )
    notes: list[str] = list(production.notes)
    if production.skipped_lines:
        notes.append(f"{production.skipped_lines} capture line(s) were not complete records")
    checks: list[Check] = []
    context: dict[str, Any] = {
        "data": str(request.data),
        "source": production.source,
        "files": production.files,
        "requests": production.requests,
        "rows": len(production.frame),
        "window": {"since": request.since, "until": request.until},
        "versions": list(production.versions),
    }
    if production.frame.empty:
        checks.append(
            Check(
                "monitor.data",
                KIND,
                Status.FAIL,
                "no production rows in the window: nothing was monitored",
                details={"data": str(request.data)},
            )
        )
        return _finish(config, model, request, Verdict(KIND, model.name, tuple(checks),
                                                       tuple(notes), context))  # fmt: skip
    drift, features = _drift(config, model, production, notes)
    checks.extend(drift.checks)
    notes.extend(drift.notes)
    context["drift"] = dict(drift.context)
    loaded = _Model.load(model)
    prediction = _prediction_drift(model, production, loaded, features)
    if prediction is not None:
        checks.extend(prediction[0])
        context["prediction_drift"] = prediction[1]
    else:
        notes.append("no model outputs in the production data: prediction drift not tested")
    if request.labels is not None:
        found, told, values = _live_metrics(config, model, production, request.labels, loaded)
        checks.extend(found)
        notes.extend(told)
        context["metrics"] = values
    else:
        notes.append("no labels (--labels): live metric gates not applied")
    return _finish(config, model, request, Verdict(KIND, model.name, tuple(checks),
                                                   tuple(notes), context))  # fmt: skip


def _finish(
    config: Config, model: ModelConfig, request: MonitorRequest, verdict: Verdict
) -> MonitorResult:
    out = request.out or paths.out_dir(config.root, model.tag_name)
    written = {"verdict": write_verdict(out / VERDICT_FILE, verdict)}
    written["markdown"] = atomic_write_text(out / MARKDOWN_FILE, markdown(verdict))
    return MonitorResult(verdict, written, config, model)


def markdown(verdict: Verdict) -> str:
    """The verdict in the PR check's Markdown form (for the issue body and the job summary)."""
    ctx = verdict.context
    window = ctx.get("window", {})
    span = " to ".join(str(window.get(k)) for k in ("since", "until") if window.get(k))
    lines = [
        f"## mlgate monitor: {gfm.code(verdict.model)}",
        "",
        gfm.text(
            f"{ctx.get('rows', 0)} production rows in {ctx.get('requests', 0)} requests"
            + (f" ({span})" if span else "")
            + (f", model version(s) {', '.join(ctx['versions'])}" if ctx.get("versions") else "")
        ),
        "",
    ]
    lines += section(verdict.model, verdict, ["drift", "prediction drift", "live metrics"])
    return "\n".join(lines)


def _drift(
    config: Config, model: ModelConfig, production: Production, notes: list[str]
) -> tuple[Verdict, list[str]]:
    settings = model.drift
    if settings.reference is None:
        raise UsageError(
            f"model {model.name!r} has no drift reference",
            hint="set data.train or gates.drift.reference in mlgate.yaml",
        )
    wanted = list(settings.columns or _features(model, settings.reference))
    present = set(production.frame.columns)
    hashed = [c for c in wanted if c in production.hashed]
    absent = [c for c in wanted if c not in present]
    columns = [c for c in wanted if c in present and c not in production.hashed]
    if hashed:
        notes.append("hashed in the capture, not tested for drift: " + ", ".join(hashed))
    if absent:
        notes.append("not in the production data, not tested for drift: " + ", ".join(absent))
    if not columns:
        raise UsageError(
            f"the production data has none of the model's features ({', '.join(wanted)})",
            hint="is this the capture of this model?",
        )
    inputs = DriftInputs(
        settings.reference,
        production_label(production),
        tuple(columns),
        DriftOptions.of(settings),
        paths.cache_dir(config.root) if settings.cache else None,
        model.name,
        ("gates", "drift") if model.gates.drift is not None else None,
    )
    verdict, _, _ = drift_gate(inputs, current_frame=production.frame[columns])
    return verdict, columns


def production_label(production: Production) -> Path:
    return Path(f"production ({production.source}, {production.requests} requests)")


@dataclass(frozen=True)
class _Model:
    estimator: Any
    features: list[str]

    @classmethod
    def load(cls, model: ModelConfig) -> _Model:
        spec = model.model
        estimator = formats.load(
            spec.file,
            fmt=spec.format,
            trusted=spec.trusted,
            trusted_types=spec.trusted_types,
            what="model",
        )
        configured: list[str] = list(model.data.features or [])
        return cls(estimator, model_features(estimator, configured))

    def outputs(self, model: ModelConfig, frame: pd.DataFrame, features: list[str]) -> Any:
        return run_model(
            self.estimator,
            frame,
            task=model.model.task,
            features=self.features or features,
            positive_label=model.model.positive_label,
        )


def _prediction_drift(
    model: ModelConfig,
    production: Production,
    loaded: _Model,
    features: list[str],
) -> tuple[list[Check], dict[str, Any]] | None:
    import numpy as np
    import pandas as pd

    frame = production.frame
    if PREDICTION not in frame.columns or frame[PREDICTION].isna().all():
        return None
    settings = model.drift
    assert settings.reference is not None  # _drift checked it
    reference = read_table(settings.reference, what="reference data")
    outputs = loaded.outputs(model, reference, features)
    current = frame[PREDICTION]
    scores = current.map(lambda v: isinstance(v, float) and not float(v).is_integer())
    if outputs.error is not None:
        check = Check("prediction_drift", KIND, Status.WARN,
                      f"prediction drift not tested: {outputs.error}")  # fmt: skip
        return [check], {}
    if outputs.score is not None and bool(scores.any()):
        expected = np.asarray(outputs.score, dtype=np.float64)
    else:
        expected = np.asarray(outputs.labels)
    options = DriftOptions.of(settings)
    critical = PREDICTION in options.critical
    options = replace(options, critical=(PREDICTION,) if critical else (), max_drifted_share=1.0)
    inputs = DriftInputs(settings.reference, production_label(production), (PREDICTION,),
                         options, None, model.name)  # fmt: skip
    ref_frame = pd.DataFrame({PREDICTION: expected})
    cur_frame = pd.DataFrame({PREDICTION: current.to_numpy()})
    if cur_frame[PREDICTION].dtype == object and ref_frame[PREDICTION].dtype != object:
        cur_frame[PREDICTION] = pd.to_numeric(cur_frame[PREDICTION], errors="coerce")
    verdict, _, _ = drift_gate(inputs, reference_frame=ref_frame, current_frame=cur_frame)
    found = []
    for check in verdict.checks:
        if check.id == "drift.dataset":
            continue
        message = check.message.replace(f"column '{PREDICTION}'", "the model's predictions")
        found.append(replace(check, id="prediction_drift", kind=KIND, message=message,
                             config_key=None))  # fmt: skip
    return found, dict(verdict.context)


def _live_metrics(
    config: Config,
    model: ModelConfig,
    production: Production,
    labels_path: Path,
    loaded: _Model,
) -> tuple[list[Check], list[str], dict[str, Any]]:
    target = model.data.target
    if target is None:
        raise UsageError(f"model {model.name!r} has no data.target: labels cannot be joined")
    labels = read_table(labels_path, what="labels")
    for needed in (REQUEST_ID, target):
        if needed not in labels.columns:
            raise UsageError(
                f"the labels table {labels_path} has no {needed!r} column",
                hint=f"labels need {REQUEST_ID!r}, the target {target!r}, and {ROW!r} for "
                "requests of several rows",
            )
    frame = production.frame
    if REQUEST_ID not in frame.columns:
        raise UsageError(
            f"the production data has no {REQUEST_ID!r} column to join labels on",
            hint="capture with mlgate serve, or add the request id to your export",
        )
    notes: list[str] = []
    keys = [REQUEST_ID, ROW] if ROW in labels.columns and ROW in frame.columns else [REQUEST_ID]
    labels = labels[[*keys, target]].drop_duplicates(keys, keep="last")
    labels[REQUEST_ID] = labels[REQUEST_ID].astype(str)
    base = frame.drop(columns=[target], errors="ignore")
    if keys == [REQUEST_ID] and ROW in base.columns:
        single = base.groupby(REQUEST_ID)[ROW].transform("size") == 1
        if not single.all():
            notes.append(
                "labels have no 'row' column: requests of several rows were left out of the "
                "live metrics"
            )
        base = base[single.to_numpy()]
    joined = base.merge(labels, on=keys, how="inner")
    run = GateRun(config, model, model.gates, [], [])
    values: dict[str, Any] = {"labelled_rows": len(joined)}
    if joined.empty:
        check = Check("metric.live", "metric", Status.WARN,
                      "no production rows in the window have labels yet: live metric gates "
                      "not applied", details={"labels": str(labels_path)})  # fmt: skip
        return [check], notes, values
    y = label_values(joined, target, model.model.task)
    outputs = loaded.outputs(model, joined, list(loaded.features))
    metrics = _resolve_metrics(run, model.model.task)
    champion = ChampionState(present=False, on_missing="value-only", label="champion")
    checks: list[Check] = []
    if outputs.error is not None:
        notes.append(f"the captured inputs could not be scored again: {outputs.error}")
    for gate in model.gates.metrics:
        value = compute_metric(metrics[gate.name], y, outputs)
        outcome = MetricOutcome(gate.name, value.value, error=value.error)
        checks.extend(
            replace(c, message=f"live: {c.message}") for c in metric_checks(gate, outcome, champion)
        )
        values[gate.name] = value.value
    notes.append(f"live metrics on {len(joined)} labelled production rows (value bounds only)")
    return checks, notes, values
