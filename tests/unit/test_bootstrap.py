"""Paired bootstrap: vectorised paths equal the plain ones; seeded; sensible intervals."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from mlgate.config.sections import BootstrapSettings
from mlgate.errors import Location
from mlgate.gates.bootstrap import paired_bootstrap, weighted_auc
from mlgate.gates.metrics import BINARY, MetricContext, resolve_metric

HERE = Location("mlgate.yaml")
rng = np.random.default_rng(1)
Y = rng.integers(0, 2, 400)
GOOD = np.clip(Y * 0.4 + rng.random(400) * 0.6, 0, 1)
BAD = np.clip(Y * 0.1 + rng.random(400) * 0.9, 0, 1)
CTX = MetricContext(BINARY, np.array([0, 1]), 1)


def test_weighted_auc_equals_scikit_learn_with_sample_weights() -> None:
    score = np.round(GOOD, 1)  # many ties
    weights = rng.integers(0, 4, size=(5, 400)).astype(float)
    expected = [roc_auc_score(Y, score, sample_weight=w) for w in weights]
    assert weighted_auc(Y == 1, score, weights) == pytest.approx(expected, rel=1e-12)


def test_interval_is_seeded_and_brackets_the_observed_change() -> None:
    auc = resolve_metric("roc_auc", BINARY, location=HERE)
    settings = BootstrapSettings(samples=500, confidence=0.9, seed=3)
    first = paired_bootstrap(auc, Y, (GOOD, CTX), (BAD, CTX), direction="higher", settings=settings)
    again = paired_bootstrap(auc, Y, (GOOD, CTX), (BAD, CTX), direction="higher", settings=settings)
    assert first == again
    observed = roc_auc_score(Y, GOOD) - roc_auc_score(Y, BAD)
    assert first.low is not None
    assert first.high is not None
    assert first.low < observed < first.high
    assert first.low > 0


def test_identical_models_give_a_zero_interval_and_direction_flips_sign() -> None:
    loss = resolve_metric("log_loss", BINARY, location=HERE)
    settings = BootstrapSettings(samples=200)
    same = paired_bootstrap(loss, Y, (GOOD, CTX), (GOOD, CTX), direction="lower", settings=settings)
    assert (same.low, same.high) == (0.0, 0.0)
    worse = paired_bootstrap(loss, Y, (BAD, CTX), (GOOD, CTX), direction="lower", settings=settings)
    assert worse.high is not None
    assert worse.high < 0


def test_metrics_without_a_vector_form_are_resampled_by_weights() -> None:
    f1 = resolve_metric("f1", BINARY, location=HERE)
    labels_good, labels_bad = (GOOD >= 0.5).astype(int), (BAD >= 0.5).astype(int)
    interval = paired_bootstrap(
        f1,
        Y,
        (labels_good, CTX),
        (labels_bad, CTX),
        direction="higher",
        settings=BootstrapSettings(samples=100),
    )
    assert interval.samples == 100
    assert interval.low is not None
    assert interval.low > 0
