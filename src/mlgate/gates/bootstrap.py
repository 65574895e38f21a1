"""Paired bootstrap of the change between two models on the same evaluation rows.

Each resample draws row counts once and applies them to both models, so the interval is that of
the paired difference. Metrics with a per-row form and ROC AUC are computed for a whole batch of
resamples as matrix operations; other metrics are called with the counts as sample weights.
Seeded: the same inputs give the same interval.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from mlgate.config.sections import BootstrapSettings
from mlgate.gates.metrics import BuiltinMetric, Metric, MetricContext

# Resample counts held in memory at once (rows x resamples), about 32 MB of int64.
BATCH_CELLS = 4_000_000


@dataclass(frozen=True)
class Interval:
    """Percentile interval of the sign-adjusted change (positive is better)."""

    low: float | None
    high: float | None
    confidence: float
    samples: int
    failed: int = 0  # resamples where the metric was undefined (e.g. one class only)
    error: str | None = None


def paired_bootstrap(
    metric: Metric,
    y: np.ndarray,
    challenger: tuple[np.ndarray, MetricContext],
    champion: tuple[np.ndarray, MetricContext],
    *,
    direction: str,
    settings: BootstrapSettings,
) -> Interval:
    """Interval of ``sign * (metric(challenger) - metric(champion))`` over resampled rows."""
    n = len(y)
    rng = np.random.default_rng(settings.seed)
    batch = max(1, min(settings.samples, BATCH_CELLS // max(n, 1)))
    sign = 1.0 if direction == "higher" else -1.0
    deltas: list[np.ndarray] = []
    for start in range(0, settings.samples, batch):
        k = min(batch, settings.samples - start)
        picks = rng.integers(0, n, size=(k, n)) + (np.arange(k) * n)[:, None]
        counts = np.bincount(picks.ravel(), minlength=k * n).reshape(k, n).astype(np.float64)
        del picks
        values = [_batch(metric, y, x, ctx, counts) for x, ctx in (challenger, champion)]
        deltas.append(sign * (values[0] - values[1]))
    delta = np.concatenate(deltas)
    ok = np.isfinite(delta)
    failed = int((~ok).sum())
    if failed * 2 > len(delta):
        return Interval(
            None,
            None,
            settings.confidence,
            settings.samples,
            failed,
            error=f"the metric was undefined in {failed} of {len(delta)} resamples",
        )
    alpha = 1.0 - settings.confidence
    low, high = np.quantile(delta[ok], [alpha / 2, 1 - alpha / 2])
    return Interval(float(low), float(high), settings.confidence, settings.samples, failed)


def _batch(
    metric: Metric, y: np.ndarray, x: np.ndarray, ctx: MetricContext, counts: np.ndarray
) -> np.ndarray:
    """The metric under each row of ``counts`` (resamples x rows)."""
    if isinstance(metric, BuiltinMetric) and metric.rowwise is not None:
        rows = metric.rowwise(y, x, ctx)
        means = counts @ rows / counts.sum(axis=1)
        return metric.finish(means) if metric.finish is not None else means
    if isinstance(metric, BuiltinMetric) and metric.name == "roc_auc":
        return weighted_auc(y == ctx.positive, x, counts)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # undefined resamples are counted, not warned about
        return np.array([_weighted(metric, y, x, ctx, weight) for weight in counts])


def _weighted(
    metric: Metric, y: np.ndarray, x: np.ndarray, ctx: MetricContext, weight: np.ndarray
) -> float:
    try:
        return metric(y, x, ctx, weight)
    except Exception:  # a metric undefined on a resample counts as failed
        return float("nan")


def weighted_auc(positive: np.ndarray, score: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """ROC AUC under each row of ``weights`` (ties count one half), as one matrix computation."""
    order = np.argsort(score, kind="stable")
    s = score[order]
    is_pos = positive[order].astype(np.float64)
    w = weights[:, order]
    starts = np.flatnonzero(np.concatenate(([True], s[1:] != s[:-1])))
    group_pos = np.add.reduceat(w * is_pos, starts, axis=1)
    group_neg = np.add.reduceat(w * (1.0 - is_pos), starts, axis=1)
    before = np.cumsum(group_neg, axis=1) - group_neg
    numerator = np.sum(group_pos * (before + 0.5 * group_neg), axis=1)
    denominator = group_pos.sum(axis=1) * group_neg.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominator > 0, numerator / denominator, np.nan)
