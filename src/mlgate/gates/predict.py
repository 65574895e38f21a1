"""Run a loaded model on evaluation data and compute metrics on its outputs, never raising.

A model that cannot be run (missing feature columns, ``predict`` raising, predictions that are
not numbers) yields outputs carrying the reason, and every metric on them fails with it.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from mlgate.errors import ConfigError, Location
from mlgate.gates.metrics import BINARY, CLASSIFICATION, REGRESSION, Metric, MetricContext

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class ModelOutputs:
    """What one model produced on the evaluation rows (or why it produced nothing)."""

    features: tuple[str, ...]
    labels: np.ndarray | None = None
    proba: np.ndarray | None = None
    score: np.ndarray | None = None  # binary: probability of the positive class
    context: MetricContext | None = None
    error: str | None = None
    proba_error: str | None = None
    warnings: tuple[str, ...] = ()
    seconds: float = 0.0
    missing: tuple[str, ...] = field(default_factory=tuple)

    def subset(self, mask: np.ndarray) -> ModelOutputs:
        """The outputs on the rows where ``mask`` is true (for slices)."""

        def cut(values: np.ndarray | None) -> np.ndarray | None:
            return None if values is None else values[mask]

        return replace(self, labels=cut(self.labels), proba=cut(self.proba), score=cut(self.score))

    def input_for(self, needs: str) -> np.ndarray:
        """The output a metric reads; ValueError saying why when the model has none."""
        if self.error is not None:
            raise ValueError(f"the model could not be run: {self.error}")
        chosen = {"label": self.labels, "score": self.score, "proba": self.proba}[needs]
        if chosen is None:
            reason = self.proba_error or "the model has no predict_proba"
            raise ValueError(f"this metric needs probabilities and {reason}")
        return chosen


@dataclass(frozen=True)
class MetricValue:
    value: float | None
    error: str | None = None
    warnings: tuple[str, ...] = ()


def model_features(estimator: Any, configured: Sequence[str]) -> list[str]:
    """The columns the model was fitted on when it records them, else the configured features."""
    names = getattr(estimator, "feature_names_in_", None)
    return [str(n) for n in names] if names is not None else list(configured)


def run_model(
    estimator: Any,
    frame: pd.DataFrame,
    *,
    task: str,
    features: Sequence[str],
    positive_label: Any = None,
    positive_location: Location | None = None,
) -> ModelOutputs:
    """Predict labels (and probabilities for classifiers) on ``frame[features]``."""
    present = {str(c) for c in frame.columns}
    missing = tuple(f for f in features if f not in present)
    if missing:
        return ModelOutputs(
            tuple(features),
            error="the evaluation data lacks column(s) the model needs: " + ", ".join(missing),
            missing=missing,
        )
    expected = getattr(estimator, "n_features_in_", None)
    if expected is not None and int(expected) != len(features):
        return ModelOutputs(
            tuple(features),
            error=f"the model expects {expected} features; the configuration gives {len(features)}"
            f" ({', '.join(features)})",
        )
    inputs = frame[list(features)]
    caught: list[str] = []
    start = time.perf_counter()
    try:
        labels = _call(estimator.predict, inputs, caught)
    except Exception as exc:  # any failure of the user's model is reported
        return ModelOutputs(tuple(features), error=f"predict raised {type(exc).__name__}: {exc}")
    seconds = time.perf_counter() - start
    labels = np.asarray(labels)
    if labels.ndim != 1 or len(labels) != len(frame):
        return ModelOutputs(
            tuple(features),
            error=f"predict returned shape {labels.shape} for {len(frame)} rows",
        )
    if task == REGRESSION:
        return _regression(tuple(features), labels, caught, seconds)
    proba, proba_error = None, None
    if hasattr(estimator, "predict_proba"):
        try:
            proba = np.asarray(_call(estimator.predict_proba, inputs, caught), dtype=np.float64)
        except Exception as exc:  # the user's model again
            proba_error = f"predict_proba raised {type(exc).__name__}: {exc}"
    classes = getattr(estimator, "classes_", None)
    if classes is None:
        classes = np.unique(labels)
    classes = np.asarray(classes)
    if task == BINARY and len(classes) != 2:
        return ModelOutputs(
            tuple(features),
            error=f"the model has {len(classes)} classes ({_show(classes)}); "
            "a binary-classification model has 2",
        )
    positive = _positive(classes, positive_label, positive_location) if task == BINARY else None
    score = None
    if proba is not None:
        if proba.shape != (len(frame), len(classes)):
            proba_error = f"predict_proba returned shape {proba.shape}"
            proba = None
        elif task == BINARY:
            score = proba[:, list(classes.tolist()).index(positive)]
    return ModelOutputs(
        tuple(features),
        labels=labels,
        proba=proba,
        score=score,
        context=MetricContext(task, classes, positive),
        proba_error=proba_error,
        warnings=tuple(dict.fromkeys(caught)),
        seconds=seconds,
    )


def _regression(
    features: tuple[str, ...], labels: np.ndarray, caught: list[str], seconds: float
) -> ModelOutputs:
    try:
        values = labels.astype(np.float64)
    except (TypeError, ValueError):
        return ModelOutputs(features, error="predict returned values that are not numbers")
    bad = int((~np.isfinite(values)).sum())
    if bad:
        return ModelOutputs(
            features, error=f"predict returned {bad} values that are NaN or infinite"
        )
    return ModelOutputs(
        features,
        labels=values,
        context=MetricContext(REGRESSION),
        warnings=tuple(dict.fromkeys(caught)),
        seconds=seconds,
    )


def _call(method: Any, inputs: Any, caught: list[str]) -> Any:
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        result = method(inputs)
    caught.extend(f"{w.category.__name__}: {w.message}" for w in seen)
    return result


def _positive(classes: np.ndarray, configured: Any, location: Location | None) -> Any:
    values = classes.tolist()
    if configured is None:
        return values[1]  # scikit-learn's convention: the greater label
    if configured in values:
        return configured
    by_text = [v for v in values if str(v) == str(configured)]
    if len(by_text) == 1:
        return by_text[0]
    raise ConfigError(
        f"positive_label {configured!r} is not one of the model's classes ({_show(classes)})",
        location=location,
    )


def _show(values: np.ndarray) -> str:
    shown = [repr(v) for v in values.tolist()[:10]]
    return ", ".join(shown) + (", ..." if len(values) > 10 else "")


def compute_metric(metric: Metric, y: np.ndarray, outputs: ModelOutputs) -> MetricValue:
    """The metric's value, or the reason it could not be computed (never a silent NaN)."""
    try:
        x = outputs.input_for(metric.needs)
    except ValueError as exc:
        return MetricValue(None, str(exc))
    assert outputs.context is not None  # set whenever there is no error
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        try:
            value = metric(y, x, outputs.context)
        except Exception as exc:  # sklearn and custom metrics raise many types
            return MetricValue(None, f"{type(exc).__name__}: {exc}")
    notes = tuple(dict.fromkeys(f"{w.category.__name__}: {w.message}" for w in seen))
    if not np.isfinite(value):
        return MetricValue(None, f"the value is {value} (not a finite number)", notes)
    return MetricValue(float(value), None, notes)


def is_classification(task: str) -> bool:
    return task in CLASSIFICATION
