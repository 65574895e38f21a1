"""scikit-learn-like wrappers for models whose library has another interface.

Everything downstream (gates, repro, serve, publish's smoke sample) calls ``predict`` and, for
classifiers, ``predict_proba`` with columns in ``classes_`` order, and reads
``feature_names_in_`` when the model knows its columns. A regressor wrapper has no
``predict_proba`` attribute at all (that is how the gates tell the two apart).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

# Column names a library makes up when it was trained on an array: not real feature names.
_GENERATED = ("Column_", "f", "")


def real_names(names: Sequence[str] | None) -> np.ndarray | None:
    """The feature names a model records, or None when they were generated (Column_0, f0, 0)."""
    if not names:
        return None
    shown = [str(n) for n in names]
    for prefix in _GENERATED:
        if all(n.startswith(prefix) and n[len(prefix) :].isdigit() for n in shown):
            return None
    return np.asarray(shown, dtype=object)


class Regressor:
    """A model with ``predict`` only; ``scores`` maps a DataFrame to predicted values."""

    def __init__(
        self,
        scores: Callable[[Any], np.ndarray],
        *,
        feature_names: np.ndarray | None,
        n_features: int | None,
        library: str,
        native: Any = None,
    ) -> None:
        self._scores = scores
        self.feature_names_in_ = feature_names
        if n_features is not None:
            self.n_features_in_ = n_features
        self.library = library
        self.native = native  # the library's own model object

    def predict(self, frame: Any) -> np.ndarray:
        return np.asarray(self._scores(frame)).reshape(-1)

    def __repr__(self) -> str:
        return f"<{self.library} regressor>"


class Classifier:
    """A classifier from a function giving class probabilities in ``classes`` order."""

    def __init__(
        self,
        probabilities: Callable[[Any], np.ndarray],
        classes: Sequence[Any],
        *,
        feature_names: np.ndarray | None,
        n_features: int | None,
        library: str,
        native: Any = None,
        labels: Callable[[Any], np.ndarray] | None = None,
    ) -> None:
        self._probabilities = probabilities
        self._labels = labels
        self.classes_ = np.asarray(classes)
        self.feature_names_in_ = feature_names
        if n_features is not None:
            self.n_features_in_ = n_features
        self.library = library
        self.native = native

    def predict_proba(self, frame: Any) -> np.ndarray:
        proba = np.asarray(self._probabilities(frame), dtype=np.float64)
        if proba.ndim == 1 or proba.shape[1] == 1:  # the positive class only
            positive = proba.reshape(-1)
            proba = np.column_stack([1.0 - positive, positive])
        return proba

    def predict(self, frame: Any) -> np.ndarray:
        if self._labels is not None:
            return np.asarray(self._labels(frame)).reshape(-1)
        return np.asarray(self.classes_[np.argmax(self.predict_proba(frame), axis=1)])

    def __repr__(self) -> str:
        return f"<{self.library} classifier of {len(self.classes_)} classes>"


def softmax(values: np.ndarray) -> np.ndarray:
    shifted = values - values.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return np.asarray(exp / exp.sum(axis=1, keepdims=True))


def as_probabilities(values: np.ndarray) -> np.ndarray:
    """Scores that are already probabilities stay; logits (negative, or rows not summing to
    one) go through a sigmoid (one column) or softmax (several)."""
    values = np.asarray(values, dtype=np.float64)
    if values.ndim == 2 and values.shape[1] > 1:
        sums = values.sum(axis=1)
        if values.min() >= 0 and np.allclose(sums, 1.0, atol=1e-3):
            return values
        return softmax(values)
    flat = values.reshape(-1)
    if flat.size and (flat.min() < 0 or flat.max() > 1):
        return np.asarray(1.0 / (1.0 + np.exp(-flat)))
    return flat
