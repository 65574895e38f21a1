"""Drift tests: a Protocol plus a registry dict, each test reading two column summaries.

The tests and their conventions are the widely used ones, so decisions are comparable with other
tools: p-value tests flag drift when ``p < threshold`` (default 0.05), distances when
``distance >= threshold`` (default 0.1). Everything is vectorised NumPy over sorted values or
aligned count vectors; no test loops over rows.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from mlgate.gates.drift.summary import DEFAULT_POINTS, ColumnSummary, as_categorical, quantiles

P_VALUE = "p_value"
DISTANCE = "distance"
NUMERIC = "numeric"
CATEGORICAL = "categorical"
# References of at most this many values get the exact tests (KS, chi-square, z); larger ones
# the distances.
SMALL_REFERENCE = 1000


class DriftTest(Protocol):
    """A drift test; its score is a p-value (drift below) or a distance (drift at/above)."""

    @property
    def name(self) -> str: ...
    @property
    def label(self) -> str: ...
    @property
    def score(self) -> str: ...
    @property
    def kinds(self) -> frozenset[str]: ...

    def __call__(self, reference: ColumnSummary, current: ColumnSummary, kind: str) -> float: ...


@dataclass(frozen=True)
class StatTest:
    name: str
    label: str
    score: str
    kinds: frozenset[str]
    fn: Callable[[ColumnSummary, ColumnSummary, str], float]

    def __call__(self, reference: ColumnSummary, current: ColumnSummary, kind: str) -> float:
        return self.fn(reference, current, kind)


def drifted(test: DriftTest, value: float, threshold: float) -> bool:
    """The decision rule: p-values below the threshold, distances at or above it."""
    return value < threshold if test.score == P_VALUE else value >= threshold


# --- numeric tests -----------------------------------------------------------------------------


def wasserstein1(a: np.ndarray, b: np.ndarray) -> float:
    """First Wasserstein distance of two sorted samples (equal weights within each), exactly.

    Integrates |Qa(u) - Qb(u)| over the merged breakpoints of the two quantile functions.
    """
    na, nb = len(a), len(b)
    if na == nb:
        return float(np.abs(a - b).mean())
    u = np.concatenate((np.arange(1, na + 1) / na, np.arange(1, nb + 1) / nb))
    u.sort(kind="stable")  # two sorted runs: merged in one pass (same values as any sort)
    width = np.empty_like(u)  # np.diff(u, prepend=0.0), without its concatenated copy
    width[0] = u[0]
    np.subtract(u[1:], u[:-1], out=width[1:])
    u -= width / 2  # interval midpoints
    ia = np.minimum((u * na).astype(np.int64), na - 1)
    u *= nb
    ib = np.minimum(u.astype(np.int64), nb - 1)
    del u
    gap = a[ia]
    gap -= b[ib]
    np.abs(gap, out=gap)
    # NumPy's own (pairwise) sum, not np.dot: BLAS splits a long dot product over threads, whose
    # start-up cost more CPU than the product (8 ms of 190,000 values on two busy cores) and
    # whose split changes the last bits of the sum with the machine's thread count.
    gap *= width
    return float(gap.sum())


def _wasserstein(reference: ColumnSummary, current: ColumnSummary, _kind: str) -> float:
    assert reference.points is not None  # numeric columns have points
    assert current.points is not None
    norm = max(reference.std or 0.0, 0.001)
    # Both sides at the same resolution: large samples as DEFAULT_POINTS quantiles (a change of
    # about 1e-5 in the normed distance), so the distance is one vectorised mean.
    a, b = reference.points, current.points
    a = quantiles(a, DEFAULT_POINTS) if len(a) > DEFAULT_POINTS else a
    b = quantiles(b, DEFAULT_POINTS) if len(b) > DEFAULT_POINTS else b
    return wasserstein1(a, b) / norm


def _ks(reference: ColumnSummary, current: ColumnSummary, _kind: str) -> float:
    from scipy import stats

    a, b = reference.points, current.points
    assert a is not None  # numeric columns have points
    assert b is not None
    if reference.exact and current.exact:
        return float(stats.ks_2samp(a, b).pvalue)
    # Quantile summaries: the statistic from the summaries, the p-value for the real sizes.
    grid = np.concatenate((a, b))
    fa = np.searchsorted(a, grid, "right") / len(a)
    fb = np.searchsorted(b, grid, "right") / len(b)
    d = float(np.max(np.abs(fa - fb)))
    n, m = reference.count, current.count
    return float(stats.kstwo.sf(d, round(n * m / (n + m))))


def union(a: Any, b: Any) -> np.ndarray:
    """The sorted distinct values of two numeric key arrays (np.union1d without its check for
    masked arrays, which imports numpy.ma: 60 ms of a cached run)."""
    values = np.concatenate((np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)))
    values.sort()
    return values[np.concatenate(([True], values[1:] != values[:-1]))] if len(values) else values


# --- count-based tests -------------------------------------------------------------------------


def aligned_counts(reference: ColumnSummary, current: ColumnSummary) -> tuple[np.ndarray, ...]:
    """Counts of the reference and current data over the union of their values."""
    if reference.numeric and current.numeric:
        cur_keys, _ = as_categorical(current)
        if reference.keys is not None:
            keys = union(reference.keys, cur_keys)
            return reference.count_of(keys), current.count_of(keys)
        # Reference values seen only there add linearly to the count tests: one bucket holds them.
        ref = reference.count_of(cur_keys)
        cur = current.count_of(cur_keys)
        rest = max(reference.count - float(ref.sum()), 0.0)
        return np.append(ref, rest), np.append(cur, 0.0)
    ref_keys, ref_counts = as_categorical(reference)
    cur_keys, cur_counts = as_categorical(current)
    index = {k: i for i, k in enumerate(ref_keys)}
    for k in cur_keys:
        index.setdefault(k, len(index))
    ref = np.zeros(len(index))
    cur = np.zeros(len(index))
    ref[[index[k] for k in ref_keys]] = ref_counts
    cur[[index[k] for k in cur_keys]] = cur_counts
    return ref, cur


def binned_counts(reference: ColumnSummary, current: ColumnSummary) -> tuple[np.ndarray, ...]:
    """Histogram of both sides on Sturges' equal-width bins over their joint range."""
    a, b = reference.points, current.points
    assert a is not None  # numeric columns have points
    assert b is not None
    lo, hi = min(a[0], b[0]), max(a[-1], b[-1])
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
    bins = math.ceil(math.log2(reference.count + current.count) + 1)
    edges = np.linspace(lo, hi, bins + 1)

    def hist(points: np.ndarray, total: int) -> np.ndarray:
        cuts = np.searchsorted(points, edges[:-1], "left")
        cuts = np.append(cuts, np.searchsorted(points, edges[-1], "right"))
        return np.diff(cuts) * (total / len(points))

    return hist(a, reference.count), hist(b, current.count)


def _counts_for(
    reference: ColumnSummary, current: ColumnSummary, kind: str
) -> tuple[np.ndarray, ...]:
    # Numeric columns with many distinct values are binned; the rest are counted per value.
    if kind == NUMERIC and reference.distinct > 20:
        return binned_counts(reference, current)
    return aligned_counts(reference, current)


def _chi2(reference: ColumnSummary, current: ColumnSummary, _kind: str) -> float:
    from scipy import special

    ref, cur = aligned_counts(reference, current)
    if len(ref) < 2:
        return 1.0
    expected = ref * (cur.sum() / ref.sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(
            expected > 0, (cur - expected) ** 2 / expected, np.where(cur > 0, np.inf, 0)
        )
    return float(special.chdtrc(len(ref) - 1, float(terms.sum())))


def _z(reference: ColumnSummary, current: ColumnSummary, _kind: str) -> float:
    ref, cur = aligned_counts(reference, current)
    if len(ref) < 2:
        return 1.0
    if len(ref) > 2:
        raise ValueError("the z-test compares two values; this column has " + str(len(ref)))
    n1, n2 = ref.sum(), cur.sum()
    p1, p2 = ref[1] / n1, cur[1] / n2
    pooled = (ref[1] + cur[1]) / (n1 + n2)
    spread = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if spread == 0:
        return 1.0
    return math.erfc(abs(p1 - p2) / spread / math.sqrt(2))


def jensenshannon(p: np.ndarray, q: np.ndarray) -> float:
    """Jensen-Shannon distance (natural log) of two count or share vectors."""
    p = p / p.sum()
    q = q / q.sum()
    m = (p + q) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        left = np.where(p > 0, p * np.log(p / m), 0.0)
        right = np.where(q > 0, q * np.log(q / m), 0.0)
    return math.sqrt(max(float(left.sum() + right.sum()) / 2, 0.0))


def _jensenshannon(reference: ColumnSummary, current: ColumnSummary, kind: str) -> float:
    return jensenshannon(*_counts_for(reference, current, kind))


def _psi(reference: ColumnSummary, current: ColumnSummary, kind: str) -> float:
    ref, cur = _counts_for(reference, current, kind)
    shares = [_fill_zeros(ref / ref.sum()), _fill_zeros(cur / cur.sum())]
    return float(np.sum((shares[0] - shares[1]) * np.log(shares[0] / shares[1])))


def _fill_zeros(share: np.ndarray) -> np.ndarray:
    """Empty bins get a small share so the logarithm is defined (the usual PSI convention)."""
    smallest = share[share > 0].min()
    return np.where(share > 0, share, smallest / 1e6 if smallest <= 1e-4 else 1e-4)


BOTH = frozenset({NUMERIC, CATEGORICAL})
TESTS: dict[str, DriftTest] = {
    t.name: t
    for t in (
        StatTest("ks", "Kolmogorov-Smirnov p-value", P_VALUE, frozenset({NUMERIC}), _ks),
        StatTest(
            "wasserstein",
            "Wasserstein distance (normed)",
            DISTANCE,
            frozenset({NUMERIC}),
            _wasserstein,
        ),
        StatTest("chi2", "chi-square p-value", P_VALUE, BOTH, _chi2),
        StatTest("z", "Z-test p-value (two proportions)", P_VALUE, BOTH, _z),
        StatTest("jensenshannon", "Jensen-Shannon distance", DISTANCE, BOTH, _jensenshannon),
        StatTest("psi", "population stability index", DISTANCE, BOTH, _psi),
    )
}


def default_test(reference: ColumnSummary, current: ColumnSummary, kind: str) -> DriftTest:
    """The default choice: by column kind, reference size and the number of distinct values.

    Numeric with more than 5 distinct values: KS when the reference has at most 1000 values,
    normalised Wasserstein above. Otherwise chi-square (z-test for two values) when small,
    Jensen-Shannon when large.
    """
    small = reference.count <= SMALL_REFERENCE
    if kind == NUMERIC and union_distinct(reference, current) > 5:
        return TESTS["ks" if small else "wasserstein"]
    if small:
        return TESTS["chi2" if union_distinct(reference, current) > 2 else "z"]
    return TESTS["jensenshannon"]


def union_distinct(reference: ColumnSummary, current: ColumnSummary) -> int:
    """Distinct values of both sides together (at least that of either side)."""
    if reference.keys is None or current.keys is None:
        return max(reference.distinct, current.distinct)
    if reference.numeric and current.numeric:
        return len(union(reference.keys, current.keys))
    return len(set(reference.keys) | set(current.keys))
