"""Metrics: a Protocol plus a registry dict of scikit-learn-based functions, and custom ones.

A metric reads the true labels and one model output: predicted labels (``label``), the
positive-class probability of a binary classifier (``score``) or the probability matrix
(``proba``). Metrics with a per-row form (``rowwise``) are bootstrapped as matrix products.
Custom metrics are imported from ``package.module:function`` (``gates.metrics.NAME.function``).
"""

from __future__ import annotations

import contextlib
import importlib
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from mlgate.errors import ConfigError, Location

BINARY = "binary-classification"
MULTICLASS = "multiclass-classification"
REGRESSION = "regression"
CLASSIFICATION = frozenset({BINARY, MULTICLASS})
ALL_TASKS = frozenset({BINARY, MULTICLASS, REGRESSION})
INPUTS = ("label", "score", "proba")


@dataclass(frozen=True)
class MetricContext:
    """What a metric needs to know about the model besides its outputs."""

    task: str
    classes: np.ndarray | None = None
    positive: Any = None


class Metric(Protocol):
    """A metric function with its name, tasks, input and usual direction."""

    @property
    def name(self) -> str: ...
    @property
    def tasks(self) -> frozenset[str]: ...
    @property
    def needs(self) -> str:  # label | score | proba
        ...
    @property
    def direction(self) -> str:  # higher | lower
        ...

    def __call__(
        self,
        y: np.ndarray,
        x: np.ndarray,
        ctx: MetricContext,
        weight: np.ndarray | None = None,
        /,
    ) -> float: ...


Fn = Callable[[np.ndarray, np.ndarray, MetricContext, "np.ndarray | None"], float]
RowFn = Callable[[np.ndarray, np.ndarray, MetricContext], np.ndarray]


@dataclass(frozen=True)
class BuiltinMetric:
    name: str
    tasks: frozenset[str]
    needs: str
    direction: str
    fn: Fn
    rowwise: RowFn | None = None  # per-row values whose (weighted) mean gives the metric
    finish: Callable[[np.ndarray], np.ndarray] | None = None  # applied to that mean

    def __call__(
        self,
        y: np.ndarray,
        x: np.ndarray,
        ctx: MetricContext,
        weight: np.ndarray | None = None,
        /,
    ) -> float:
        return float(self.fn(y, x, ctx, weight))


@dataclass(frozen=True)
class CustomMetric:
    """A user's function ``f(y_true, y_input) -> float`` named in mlgate.yaml."""

    name: str
    function: Callable[..., Any]
    needs: str
    direction: str
    tasks: frozenset[str] = ALL_TASKS

    def __call__(
        self,
        y: np.ndarray,
        x: np.ndarray,
        _ctx: MetricContext,
        weight: np.ndarray | None = None,
        /,
    ) -> float:
        if weight is not None:
            index = np.repeat(np.arange(len(y)), weight.astype(np.int64))
            return float(self.function(y[index], x[index]))
        return float(self.function(y, x))


def _sk(name: str) -> Any:
    from sklearn import metrics

    return getattr(metrics, name)


def _binary(y: np.ndarray, ctx: MetricContext) -> np.ndarray:
    return np.asarray(y == ctx.positive, dtype=np.float64)


def _labels_fn(sk_name: str, **kwargs: Any) -> Fn:
    def fn(y: np.ndarray, x: np.ndarray, ctx: MetricContext, w: np.ndarray | None) -> float:
        extra = dict(kwargs)
        if ctx.task == BINARY and sk_name in {"precision_score", "recall_score", "f1_score"}:
            extra.setdefault("pos_label", ctx.positive)
        return float(_sk(sk_name)(y, x, sample_weight=w, **extra))

    return fn


def _score_fn(sk_name: str) -> Fn:
    def fn(y: np.ndarray, x: np.ndarray, ctx: MetricContext, w: np.ndarray | None) -> float:
        return float(_sk(sk_name)(_binary(y, ctx), x, sample_weight=w))

    return fn


def _eps(x: np.ndarray) -> float:
    return float(np.finfo(x.dtype if x.dtype.kind == "f" else np.float64).eps)


def _binary_log_loss_rows(y: np.ndarray, x: np.ndarray, ctx: MetricContext) -> np.ndarray:
    p = np.clip(x.astype(np.float64), _eps(x), 1 - _eps(x))
    t = _binary(y, ctx)
    return np.asarray(-(t * np.log(p) + (1 - t) * np.log(1 - p)))


def _binary_log_loss(
    y: np.ndarray, x: np.ndarray, ctx: MetricContext, w: np.ndarray | None
) -> float:
    return float(np.average(_binary_log_loss_rows(y, x, ctx), weights=w))


def _multi_log_loss(
    y: np.ndarray, x: np.ndarray, ctx: MetricContext, w: np.ndarray | None
) -> float:
    return float(_sk("log_loss")(y, x, labels=ctx.classes, sample_weight=w))


def _multi_log_loss_rows(y: np.ndarray, x: np.ndarray, ctx: MetricContext) -> np.ndarray:
    assert ctx.classes is not None  # classifiers have classes
    index = {c: i for i, c in enumerate(ctx.classes.tolist())}
    cols = np.array([index.get(v, -1) for v in y.tolist()])
    if (cols < 0).any():
        raise ValueError("the evaluation labels include classes the model does not know")
    p = x / x.sum(axis=1, keepdims=True)
    return np.asarray(-np.log(np.clip(p[np.arange(len(y)), cols], _eps(x), 1.0)))


def _roc_auc_multi(average: str) -> Fn:
    def fn(y: np.ndarray, x: np.ndarray, ctx: MetricContext, w: np.ndarray | None) -> float:
        if w is not None and average == "ovo":  # no sample weights there: resample the rows
            index = np.repeat(np.arange(len(y)), w.astype(np.int64))
            y, x, w = y[index], x[index], None
        return float(
            _sk("roc_auc_score")(
                y,
                x,
                multi_class=average,
                labels=ctx.classes,
                sample_weight=w if average == "ovr" else None,
            )
        )

    return fn


def _rows(f: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> RowFn:
    def rows(y: np.ndarray, x: np.ndarray, _ctx: MetricContext) -> np.ndarray:
        return f(y.astype(np.float64), x.astype(np.float64))

    return rows


def _mean_of(rows: RowFn, finish: Callable[[np.ndarray], np.ndarray] | None = None) -> Fn:
    def fn(y: np.ndarray, x: np.ndarray, ctx: MetricContext, w: np.ndarray | None) -> float:
        value = np.average(rows(y, x, ctx), weights=w)
        return float(finish(np.asarray(value)) if finish else value)

    return fn


def _correct(y: np.ndarray, x: np.ndarray, _ctx: MetricContext) -> np.ndarray:
    return np.asarray(y == x, dtype=np.float64)


_SQ = _rows(lambda y, x: (y - x) ** 2)
_ABS = _rows(lambda y, x: np.abs(y - x))
_APE = _rows(lambda y, x: np.abs(y - x) / np.maximum(np.abs(y), np.finfo(np.float64).eps))
C = CLASSIFICATION
B = frozenset({BINARY})
M = frozenset({MULTICLASS})
R = frozenset({REGRESSION})


def _brier_rows(y: np.ndarray, x: np.ndarray, ctx: MetricContext) -> np.ndarray:
    return np.asarray((x.astype(np.float64) - _binary(y, ctx)) ** 2)


def _max_error(y: np.ndarray, x: np.ndarray, _ctx: MetricContext, w: np.ndarray | None) -> float:
    errors = np.abs(y.astype(np.float64) - x.astype(np.float64))
    return float(np.max(errors if w is None else errors[w > 0]))


def _median_ae(y: np.ndarray, x: np.ndarray, _ctx: MetricContext, w: np.ndarray | None) -> float:
    """The median absolute error, weighted so that integer weights equal repeating the rows (as
    the bootstrap does): where the cumulative weight reaches exactly half, the two middle values
    are averaged, like ``np.median``. scikit-learn's weighted median has changed between releases
    (1.7 takes the lower middle value), so the gate does not depend on it."""
    errors = np.abs(y.astype(np.float64) - x.astype(np.float64))
    if w is None:
        return float(np.median(errors))
    keep = w > 0
    errors, w = errors[keep], w[keep].astype(np.float64)
    order = np.argsort(errors, kind="stable")
    errors, cumulative = errors[order], np.cumsum(w[order])
    half = cumulative[-1] / 2
    i = int(np.searchsorted(cumulative, half, side="left"))
    if np.isclose(cumulative[i], half, rtol=1e-12, atol=0.0) and i + 1 < len(errors):
        return float((errors[i] + errors[i + 1]) / 2)
    return float(errors[i])


_BUILTINS = (
    BuiltinMetric("accuracy", C, "label", "higher", _mean_of(_correct), _correct),
    BuiltinMetric("balanced_accuracy", C, "label", "higher", _labels_fn("balanced_accuracy_score")),
    BuiltinMetric(
        "precision", B, "label", "higher", _labels_fn("precision_score", zero_division=0)
    ),
    BuiltinMetric("recall", B, "label", "higher", _labels_fn("recall_score", zero_division=0)),
    BuiltinMetric("f1", B, "label", "higher", _labels_fn("f1_score", zero_division=0)),
    BuiltinMetric("mcc", C, "label", "higher", _labels_fn("matthews_corrcoef")),
    BuiltinMetric("roc_auc", B, "score", "higher", _score_fn("roc_auc_score")),
    BuiltinMetric("average_precision", B, "score", "higher", _score_fn("average_precision_score")),
    BuiltinMetric("log_loss", B, "score", "lower", _binary_log_loss, _binary_log_loss_rows),
    BuiltinMetric("brier", B, "score", "lower", _mean_of(_brier_rows), _brier_rows),
    BuiltinMetric(
        "f1_macro", M, "label", "higher", _labels_fn("f1_score", average="macro", zero_division=0)
    ),
    BuiltinMetric(
        "f1_weighted",
        M,
        "label",
        "higher",
        _labels_fn("f1_score", average="weighted", zero_division=0),
    ),
    BuiltinMetric(
        "precision_macro",
        M,
        "label",
        "higher",
        _labels_fn("precision_score", average="macro", zero_division=0),
    ),
    BuiltinMetric(
        "recall_macro",
        M,
        "label",
        "higher",
        _labels_fn("recall_score", average="macro", zero_division=0),
    ),
    BuiltinMetric(
        "multiclass_log_loss", M, "proba", "lower", _multi_log_loss, _multi_log_loss_rows
    ),
    BuiltinMetric("roc_auc_ovr", M, "proba", "higher", _roc_auc_multi("ovr")),
    BuiltinMetric("roc_auc_ovo", M, "proba", "higher", _roc_auc_multi("ovo")),
    BuiltinMetric("mse", R, "label", "lower", _mean_of(_SQ), _SQ),
    BuiltinMetric("rmse", R, "label", "lower", _mean_of(_SQ, np.sqrt), _SQ, np.sqrt),
    BuiltinMetric("mae", R, "label", "lower", _mean_of(_ABS), _ABS),
    BuiltinMetric("mape", R, "label", "lower", _mean_of(_APE), _APE),
    BuiltinMetric("r2", R, "label", "higher", _labels_fn("r2_score")),
    BuiltinMetric(
        "explained_variance", R, "label", "higher", _labels_fn("explained_variance_score")
    ),
    BuiltinMetric("median_ae", R, "label", "lower", _median_ae),
    BuiltinMetric("max_error", R, "label", "lower", _max_error),
)
METRICS: dict[str, Metric] = {m.name: m for m in _BUILTINS}
# Other names people use for the same metrics; a name means one metric per task.
ALIASES: dict[str, str] = {
    "auc": "roc_auc",
    "pr_auc": "average_precision",
    "brier_score": "brier",
    "logloss": "log_loss",
    "matthews": "mcc",
    "mean_squared_error": "mse",
    "mean_absolute_error": "mae",
}


def resolve_metric(
    name: str,
    task: str,
    *,
    location: Location,
    function: str | None = None,
    needs: str | None = None,
    direction: str | None = None,
    search: Sequence[Path] = (),
) -> Metric:
    """The metric a configuration name stands for; unknown or misapplied names raise ConfigError."""
    if function is not None:
        fn = load_function(function, search=search, location=location, what=f"metric {name!r}")
        return CustomMetric(name, fn, needs or "label", direction or "higher")
    key = ALIASES.get(name, name)
    if task == MULTICLASS and key == "log_loss":
        key = "multiclass_log_loss"
    metric = METRICS.get(key)
    if metric is None:
        from mlgate.config.validate import suggest

        known = sorted(n for n, m in METRICS.items() if task in m.tasks)
        guess = suggest(name, [*known, *ALIASES])
        raise ConfigError(
            f"unknown metric {name!r}",
            location=location,
            hint=(f"did you mean {guess!r}? " if guess else "")
            + f"metrics for {task}: {', '.join(known)}; or define a custom one with "
            "function: package.module:function",
        )
    if task not in metric.tasks:
        known = sorted(n for n, m in METRICS.items() if task in m.tasks)
        raise ConfigError(
            f"metric {name!r} does not apply to {task} models",
            location=location,
            hint=f"metrics for {task}: {', '.join(known)}",
        )
    return metric


def load_function(
    ref: str, *, search: Sequence[Path], location: Location, what: str
) -> Callable[..., Any]:
    """Import ``package.module:function``, looking in ``search`` folders first."""
    module_name, _, attr = ref.partition(":")
    try:
        with _on_path(search):
            module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(
            f"cannot import {module_name!r} for {what}: {exc}",
            location=location,
            hint="modules are found in the model folder, the repository root and installed "
            "packages",
        ) from None
    except Exception as exc:  # the user's module failed while importing
        raise ConfigError(
            f"importing {module_name!r} for {what} failed: {type(exc).__name__}: {exc}",
            location=location,
        ) from None
    fn = getattr(module, attr, None)
    if not callable(fn):
        from mlgate.config.validate import suggest

        names = [n for n in dir(module) if not n.startswith("_") and callable(getattr(module, n))]
        guess = suggest(attr, names)
        raise ConfigError(
            f"{module_name!r} has no function {attr!r} (for {what})",
            location=location,
            hint=f"did you mean {guess!r}?" if guess else None,
        )
    return fn  # type: ignore[no-any-return]


@contextlib.contextmanager
def _on_path(folders: Sequence[Path]) -> Iterator[None]:
    added = [str(f) for f in folders if str(f) not in sys.path]
    sys.path[:0] = added
    try:
        yield
    finally:
        for entry in added:
            with contextlib.suppress(ValueError):
                sys.path.remove(entry)
