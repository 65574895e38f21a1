"""Drift tests agree with the reference implementations in SciPy, and the default choice rule."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from scipy.spatial import distance

from mlgate.gates.drift.stattests import (
    TESTS,
    default_test,
    drifted,
    jensenshannon,
    wasserstein1,
)
from mlgate.gates.drift.summary import summarise

samples = st.lists(
    st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False), min_size=1, max_size=60
)


@settings(max_examples=100, deadline=None)
@given(samples, samples)
def test_wasserstein_matches_scipy_on_any_samples(a: list[float], b: list[float]) -> None:
    mine = wasserstein1(np.sort(a), np.sort(b))
    assert mine == pytest.approx(stats.wasserstein_distance(a, b), rel=1e-9, abs=1e-6)


def test_normed_wasserstein_divides_by_the_reference_std() -> None:
    rng = np.random.default_rng(3)
    ref = pd.Series(rng.normal(0, 2, 3000), name="x")
    cur = pd.Series(rng.normal(0.5, 2, 2000), name="x")
    score = TESTS["wasserstein"](summarise(ref), summarise(cur, max_points=None), "numeric")
    assert score == pytest.approx(stats.wasserstein_distance(ref, cur) / np.std(ref), rel=1e-9)


def test_quantile_summary_changes_the_distance_negligibly() -> None:
    rng = np.random.default_rng(4)
    ref = pd.Series(rng.lognormal(size=400_000), name="x")  # heavy tail: the hard case
    cur = pd.Series(rng.lognormal(0.05, size=150_000), name="x")
    full = summarise(cur, max_points=None)
    exact = TESTS["wasserstein"](summarise(ref, max_points=None), full, "numeric")
    quantised = summarise(ref)  # the default: 100,000 quantile points
    assert not quantised.exact
    assert quantised.points is not None
    assert len(quantised.points) == 100_000
    approx = TESTS["wasserstein"](quantised, full, "numeric")
    assert abs(approx - exact) < 1e-4


def test_ks_is_scipys_two_sample_test() -> None:
    rng = np.random.default_rng(5)
    ref, cur = rng.normal(size=400), rng.normal(0.2, size=700)
    score = TESTS["ks"](summarise(pd.Series(ref)), summarise(pd.Series(cur)), "numeric")
    assert score == pytest.approx(stats.ks_2samp(ref, cur).pvalue, rel=1e-12)


def test_ks_on_a_quantile_summary_uses_the_real_sizes() -> None:
    rng = np.random.default_rng(6)
    ref, cur = rng.normal(size=50_000), rng.normal(0.01, size=50_000)
    summary = summarise(pd.Series(ref), max_points=5_000)
    score = TESTS["ks"](summary, summarise(pd.Series(cur), max_points=None), "numeric")
    assert score == pytest.approx(stats.ks_2samp(ref, cur).pvalue, abs=0.05)


def test_jensen_shannon_matches_scipy() -> None:
    p, q = np.array([3.0, 0, 5, 2]), np.array([1.0, 4, 0, 2])
    assert jensenshannon(p, q) == pytest.approx(distance.jensenshannon(p, q), rel=1e-12)


def test_chi_square_matches_scipy_with_expected_counts_from_the_reference() -> None:
    ref = pd.Series(["a"] * 50 + ["b"] * 30 + ["c"] * 20)
    cur = pd.Series(["a"] * 30 + ["b"] * 40 + ["c"] * 30 + ["d"] * 0)
    score = TESTS["chi2"](summarise(ref), summarise(cur), "categorical")
    expected = stats.chisquare([30, 40, 30], [50 * 1.0, 30 * 1.0, 20 * 1.0]).pvalue
    assert score == pytest.approx(expected, rel=1e-12)


def test_chi_square_with_a_value_unseen_in_the_reference_is_certain_drift() -> None:
    score = TESTS["chi2"](summarise(pd.Series(list("aab"))), summarise(pd.Series(list("abc"))), "c")
    assert score == 0.0


def test_z_test_is_the_two_proportion_test() -> None:
    ref = pd.Series(["u"] * 60 + ["v"] * 40)
    cur = pd.Series(["u"] * 40 + ["v"] * 60)
    score = TESTS["z"](summarise(ref), summarise(cur), "categorical")
    pooled = 0.5
    z = (0.4 - 0.6) / np.sqrt(pooled * (1 - pooled) * (2 / 100))
    assert score == pytest.approx(2 * stats.norm.sf(abs(z)), rel=1e-9)
    same = TESTS["z"](summarise(pd.Series(["u"] * 5)), summarise(pd.Series(["u"] * 9)), "c")
    assert same == 1.0


def test_psi_of_identical_distributions_is_zero_and_grows_with_shift() -> None:
    rng = np.random.default_rng(7)
    ref = summarise(pd.Series(rng.normal(size=5000)))
    same = TESTS["psi"](ref, summarise(pd.Series(rng.normal(size=5000))), "numeric")
    moved = TESTS["psi"](ref, summarise(pd.Series(rng.normal(1, size=5000))), "numeric")
    assert same < 0.05
    assert moved > 0.5


def test_decision_rule_p_values_below_and_distances_at_or_above() -> None:
    assert drifted(TESTS["ks"], 0.049, 0.05)
    assert not drifted(TESTS["ks"], 0.05, 0.05)
    assert drifted(TESTS["wasserstein"], 0.1, 0.1)
    assert not drifted(TESTS["jensenshannon"], 0.0999, 0.1)


@pytest.mark.parametrize(
    ("rows", "values", "kind", "expected"),
    [
        (1000, 50, "numeric", "ks"),
        (1001, 50, "numeric", "wasserstein"),
        (500, 4, "numeric", "chi2"),
        (500, 2, "numeric", "z"),
        (5000, 5, "numeric", "jensenshannon"),
        (500, 3, "categorical", "chi2"),
        (500, 2, "categorical", "z"),
        (5000, 30, "categorical", "jensenshannon"),
    ],
)
def test_default_test_follows_size_kind_and_distinct_values(
    rows: int, values: int, kind: str, expected: str
) -> None:
    data = np.arange(rows) % values
    series = pd.Series(data.astype(float) if kind == "numeric" else data.astype(str))
    ref, cur = summarise(series), summarise(series, max_points=None)
    assert default_test(ref, cur, kind).name == expected


def test_distinct_values_are_counted_over_both_sides() -> None:
    ref = summarise(pd.Series(np.arange(2000) % 5, dtype=float))
    cur = summarise(pd.Series(np.arange(2000) % 6 + 0.5, dtype=float), max_points=None)
    assert default_test(ref, cur, "numeric").name == "wasserstein"


def test_union_of_numeric_keys_is_numpys_union() -> None:
    from mlgate.gates.drift.stattests import union

    rng = np.random.default_rng(5)
    for size in (0, 1, 7, 300):
        a, b = rng.integers(0, 20, size) / 2, rng.integers(10, 30, size // 2 + 1) / 2
        assert np.array_equal(union(a, b), np.union1d(a, b))
    assert union([], []).size == 0
