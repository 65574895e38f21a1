"""The metric registry agrees with scikit-learn; names are checked; custom metrics import."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from sklearn import metrics as sk

from mlgate.errors import ConfigError, Location
from mlgate.gates.metrics import (
    BINARY,
    METRICS,
    MULTICLASS,
    REGRESSION,
    BuiltinMetric,
    MetricContext,
    resolve_metric,
)

HERE = Location("mlgate.yaml", 7, 9, "models[0].gates.metrics.x")
rng = np.random.default_rng(0)
Y_BIN = rng.integers(0, 2, 300)
SCORE = np.clip(Y_BIN * 0.3 + rng.random(300) * 0.7, 0.001, 0.999)
LABELS = (SCORE >= 0.5).astype(int)
BIN = MetricContext(BINARY, np.array([0, 1]), 1)


@pytest.mark.parametrize(
    ("name", "x", "expected"),
    [
        ("accuracy", LABELS, sk.accuracy_score(Y_BIN, LABELS)),
        ("f1", LABELS, sk.f1_score(Y_BIN, LABELS)),
        ("precision", LABELS, sk.precision_score(Y_BIN, LABELS)),
        ("recall", LABELS, sk.recall_score(Y_BIN, LABELS)),
        ("mcc", LABELS, sk.matthews_corrcoef(Y_BIN, LABELS)),
        ("balanced_accuracy", LABELS, sk.balanced_accuracy_score(Y_BIN, LABELS)),
        ("roc_auc", SCORE, sk.roc_auc_score(Y_BIN, SCORE)),
        ("average_precision", SCORE, sk.average_precision_score(Y_BIN, SCORE)),
        ("log_loss", SCORE, sk.log_loss(Y_BIN, SCORE)),
        ("brier", SCORE, sk.brier_score_loss(Y_BIN, SCORE)),
    ],
)
def test_binary_metrics_match_scikit_learn(name: str, x: np.ndarray, expected: float) -> None:
    metric = resolve_metric(name, BINARY, location=HERE)
    assert metric(Y_BIN, x, BIN) == pytest.approx(expected, rel=1e-12)


def test_binary_metrics_use_the_positive_label() -> None:
    y = np.where(Y_BIN == 1, "churn", "stay")
    ctx = MetricContext(BINARY, np.array(["churn", "stay"]), "churn")
    labels = np.where(LABELS == 1, "churn", "stay")
    recall = resolve_metric("recall", BINARY, location=HERE)
    assert recall(y, labels, ctx) == pytest.approx(sk.recall_score(Y_BIN, LABELS))
    auc = resolve_metric("roc_auc", BINARY, location=HERE)
    assert auc(y, SCORE, ctx) == pytest.approx(sk.roc_auc_score(Y_BIN, SCORE))


def test_multiclass_and_regression_metrics_match_scikit_learn() -> None:
    y = rng.integers(0, 3, 200)
    proba = rng.dirichlet([1, 1, 1], 200)
    ctx = MetricContext(MULTICLASS, np.array([0, 1, 2]))
    loss = resolve_metric("log_loss", MULTICLASS, location=HERE)
    assert loss(y, proba, ctx) == pytest.approx(sk.log_loss(y, proba))
    ovr = resolve_metric("roc_auc_ovr", MULTICLASS, location=HERE)
    assert ovr(y, proba, ctx) == pytest.approx(sk.roc_auc_score(y, proba, multi_class="ovr"))
    t, p = rng.normal(size=100), rng.normal(size=100)
    reg = MetricContext(REGRESSION)
    rmse = resolve_metric("rmse", REGRESSION, location=HERE)
    assert rmse(t, p, reg) == pytest.approx(np.sqrt(sk.mean_squared_error(t, p)))
    assert resolve_metric("r2", REGRESSION, location=HERE)(t, p, reg) == pytest.approx(
        sk.r2_score(t, p)
    )


@pytest.mark.parametrize("metric", [m for m in METRICS.values() if getattr(m, "rowwise", None)])
def test_per_row_forms_average_to_the_metric(metric: BuiltinMetric) -> None:
    task = next(iter(metric.tasks))
    y: npt.NDArray[Any]
    x: npt.NDArray[Any]
    if task == REGRESSION:
        y, x, ctx = rng.normal(size=50) + 3, rng.normal(size=50) + 3, MetricContext(REGRESSION)
    elif metric.needs == "proba":
        y, x = rng.integers(0, 3, 50), rng.dirichlet([1, 1, 1], 50)
        ctx = MetricContext(MULTICLASS, np.array([0, 1, 2]))
    else:
        y, x, ctx = Y_BIN[:50], (SCORE if metric.needs == "score" else LABELS)[:50], BIN
    assert metric.rowwise is not None
    mean = np.mean(metric.rowwise(y, x, ctx))
    value = metric.finish(np.asarray(mean)) if metric.finish else mean
    assert float(value) == pytest.approx(metric(y, x, ctx), rel=1e-9)


def test_unknown_metric_names_say_what_was_meant_and_where() -> None:
    with pytest.raises(ConfigError) as info:
        resolve_metric("roc_acu", BINARY, location=HERE)
    assert info.value.message == "unknown metric 'roc_acu'"
    assert info.value.hint is not None
    assert "did you mean 'roc_auc'?" in info.value.hint
    assert info.value.location == HERE


def test_a_metric_of_another_task_is_refused() -> None:
    with pytest.raises(ConfigError, match="'rmse' does not apply to binary-classification"):
        resolve_metric("rmse", BINARY, location=HERE)


def test_custom_metric_is_imported_from_the_model_folder(tmp_path: Path) -> None:
    (tmp_path / "my_metrics_mod.py").write_text(
        "def hit_rate(y, labels):\n    return float((y == labels).mean())\n"
    )
    metric = resolve_metric(
        "hits", BINARY, location=HERE, function="my_metrics_mod:hit_rate", search=[tmp_path]
    )
    assert metric.needs == "label"
    assert metric(Y_BIN, LABELS, BIN) == pytest.approx(sk.accuracy_score(Y_BIN, LABELS))
    weights = np.zeros(300)
    weights[:10] = 2
    assert metric(Y_BIN, LABELS, BIN, weights) == pytest.approx(
        sk.accuracy_score(Y_BIN[:10], LABELS[:10])
    )


def test_custom_metric_import_errors_name_the_module_and_function(tmp_path: Path) -> None:
    (tmp_path / "other_metrics_mod.py").write_text("def hit_rate(y, x):\n    return 1.0\n")
    with pytest.raises(ConfigError, match="cannot import 'no_such_mod'"):
        resolve_metric("x", BINARY, location=HERE, function="no_such_mod:f", search=[tmp_path])
    with pytest.raises(ConfigError) as info:
        resolve_metric(
            "x", BINARY, location=HERE, function="other_metrics_mod:hit_rat", search=[tmp_path]
        )
    assert "has no function 'hit_rat'" in info.value.message
    assert info.value.hint == "did you mean 'hit_rate'?"


def test_weighted_median_ae_equals_repeating_the_rows() -> None:
    """Bootstrap weights are counts: any count must equal repeating the row (even totals
    average the two middle errors, as ``np.median`` does)."""
    median_ae, ctx = METRICS["median_ae"], MetricContext(REGRESSION)
    for n in range(1, 40):
        y, x, w = rng.normal(size=n), rng.normal(size=n), rng.integers(0, 4, n)
        w[0] = max(w[0], 1)
        rows = np.repeat(np.arange(n), w)
        expected = float(np.median(np.abs(y[rows] - x[rows])))
        assert median_ae(y, x, ctx, w.astype(float)) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("name", sorted(METRICS))
def test_zero_one_weights_equal_taking_the_rows(name: str) -> None:
    """The bootstrap resamples by weights; every metric must honour them."""
    metric = METRICS[name]
    task = (
        REGRESSION
        if REGRESSION in metric.tasks
        else (BINARY if BINARY in metric.tasks else MULTICLASS)
    )
    y: npt.NDArray[Any]
    x: npt.NDArray[Any]
    if task == REGRESSION:
        y, x, ctx = rng.normal(size=120) + 3, rng.normal(size=120) + 3, MetricContext(REGRESSION)
    elif task == MULTICLASS:
        y = rng.integers(0, 3, 120)
        proba = rng.dirichlet([1, 1, 1], 120)
        x = proba if metric.needs == "proba" else proba.argmax(axis=1)
        ctx = MetricContext(MULTICLASS, np.array([0, 1, 2]))
    else:
        y, x, ctx = Y_BIN[:120], (SCORE if metric.needs == "score" else LABELS)[:120], BIN
    keep = np.arange(120) % 3 != 0
    expected = metric(y[keep], x[keep], ctx)
    assert metric(y, x, ctx, keep.astype(float)) == pytest.approx(expected, rel=1e-9)
