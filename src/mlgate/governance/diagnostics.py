"""Diagnostics for the report's charts: a confusion matrix (classification) or residuals
(regression) of the model on the evaluation data.

The validation verdict's ``context`` is used when it carries them; otherwise the model is loaded
the safe way (``mlgate.modelio``) and scored here. When that is impossible (no model file, no
evaluation data, a model that cannot be loaded) the reason is returned instead, never raised.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mlgate import formats
from mlgate.config.model import ModelConfig
from mlgate.errors import MlgateError
from mlgate.tabular import feature_columns, read_data
from mlgate.verdict import Verdict

_MAX_RESIDUAL_POINTS = 400  # enough to see the shape, small enough for an inline SVG


@dataclass(frozen=True)
class Diagnostics:
    kind: str  # "confusion_matrix", "residuals" or "none"
    labels: tuple[str, ...] = ()
    matrix: tuple[tuple[int, ...], ...] = ()
    points: tuple[tuple[float, float], ...] = ()  # (prediction, residual)
    rows: int = 0
    source: str = ""
    reason: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "rows": self.rows, "source": self.source}
        if self.kind == "confusion_matrix":
            out["labels"] = list(self.labels)
            out["matrix"] = [list(r) for r in self.matrix]
        if self.kind == "residuals":
            out["points"] = [list(p) for p in self.points]
        if self.reason:
            out["reason"] = self.reason
        return out


def diagnose(model: ModelConfig, validation: Verdict | None) -> Diagnostics:
    """Confusion matrix or residuals, from the verdict when it has them, else computed."""
    context = dict(validation.context) if validation else {}
    cm = context.get("confusion_matrix")
    if isinstance(cm, Mapping) and isinstance(cm.get("matrix"), list):
        labels = tuple(str(x) for x in cm.get("labels", range(len(cm["matrix"]))))
        matrix = tuple(tuple(int(v) for v in row) for row in cm["matrix"])
        rows = sum(map(sum, matrix))
        return Diagnostics(
            "confusion_matrix", labels, matrix, rows=rows, source="validation verdict"
        )
    try:
        return _compute(model)
    except MlgateError as exc:
        return Diagnostics("none", reason=exc.message)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        return Diagnostics("none", reason=f"the model could not score the evaluation data: {exc}")


def _compute(model: ModelConfig) -> Diagnostics:
    if not model.model.file.is_file():
        return Diagnostics("none", reason=f"no model file at {model.relative(model.model.file)}")
    if model.data.eval is None or not model.data.eval.exists():
        return Diagnostics("none", reason="no evaluation data configured (data.eval)")
    if not model.data.target:
        return Diagnostics("none", reason="no target column configured (data.target)")
    import numpy as np

    frame = read_data(model.data, "eval")
    target = model.data.target
    if target not in frame.columns:
        return Diagnostics("none", reason=f"the evaluation data has no target column {target!r}")
    features = feature_columns(
        frame, target=target, features=model.data.features, sensitive=model.data.sensitive
    )
    estimator = _load(model)
    predicted = np.asarray(estimator.predict(frame[features]))
    truth = frame[target].to_numpy()
    source = f"{model.relative(model.model.file)} on {model.relative(model.data.eval)}"
    if model.model.task == "regression":
        residual = truth.astype(float) - predicted.astype(float)
        step = max(1, len(residual) // _MAX_RESIDUAL_POINTS)
        points = tuple(
            (float(p), float(r)) for p, r in zip(predicted[::step], residual[::step], strict=True)
        )
        return Diagnostics("residuals", points=points, rows=len(truth), source=source)
    labels = sorted({*map(str, truth), *map(str, predicted)})
    index = {label: i for i, label in enumerate(labels)}
    counts = np.zeros((len(labels), len(labels)), dtype=int)
    for t, p in zip(map(str, truth), map(str, predicted), strict=True):
        counts[index[t], index[p]] += 1
    matrix = tuple(tuple(int(v) for v in row) for row in counts)
    return Diagnostics("confusion_matrix", tuple(labels), matrix, rows=len(truth), source=source)


def _load(model: ModelConfig) -> Any:
    spec = model.model
    return formats.load(
        spec.file,
        fmt=spec.format,
        trusted=spec.trusted,
        trusted_types=spec.trusted_types,
        task=spec.task,
    )
