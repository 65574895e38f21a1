"""Value and change bounds exactly as DESIGN.md decides them."""

from __future__ import annotations

import pytest

from mlgate.config.sections import MetricGate
from mlgate.gates.bootstrap import Interval
from mlgate.gates.rules import ChampionState, MetricOutcome, metric_checks
from mlgate.verdict import Check, Status

WITH = ChampionState(present=True)


def run(
    gate: MetricGate, c: float | None, b: float | None = None, **kw: object
) -> dict[str, Check]:
    champion = kw.pop("champion", WITH if b is not None else ChampionState(present=False))
    outcome = MetricOutcome(gate.name, c, b, **kw)  # type: ignore[arg-type]
    return {check.id: check for check in metric_checks(gate, outcome, champion)}  # type: ignore[arg-type]


def test_value_bounds_are_inclusive() -> None:
    gate = MetricGate("auc", "higher", min=0.8, max=0.95)
    checks = run(gate, 0.8)
    assert checks["metric.auc.min"].status is Status.PASS
    assert run(gate, 0.95)["metric.auc.max"].status is Status.PASS
    assert run(gate, 0.7999)["metric.auc.min"].status is Status.FAIL
    assert checks["metric.auc.min"].config_key == ("gates", "metrics", "auc", "min")


def test_delta_is_sign_adjusted_for_lower_is_better() -> None:
    gate = MetricGate("log_loss", "lower", max_regression=0.01)
    better = run(gate, 0.40, 0.45)["metric.log_loss.max_regression"]
    assert better.status is Status.PASS
    assert better.observed == pytest.approx(0.05)
    assert "better" in better.message
    worse = run(gate, 0.47, 0.45)["metric.log_loss.max_regression"]
    assert worse.status is Status.FAIL
    assert worse.observed == pytest.approx(-0.02)
    assert worse.champion == 0.45


def test_max_regression_boundary_passes() -> None:
    gate = MetricGate("auc", "higher", max_regression=0.25)
    assert run(gate, 0.5, 0.75)["metric.auc.max_regression"].status is Status.PASS
    assert run(gate, 0.4999, 0.75)["metric.auc.max_regression"].status is Status.FAIL


def test_relative_change_is_delta_over_absolute_champion() -> None:
    gate = MetricGate("r2", "higher", max_regression_relative=0.1)
    check = run(gate, -0.55, -0.5)["metric.r2.max_regression_relative"]
    assert check.observed == pytest.approx(-0.1)
    assert check.status is Status.PASS
    assert run(gate, -0.56, -0.5)["metric.r2.max_regression_relative"].status is Status.FAIL


def test_relative_bound_is_not_applied_when_the_champion_is_zero() -> None:
    gate = MetricGate("mae", "lower", max_regression_relative=0.1, max_regression=0.5)
    checks = run(gate, 0.3, 1e-13)
    relative = checks["metric.mae.max_regression_relative"]
    assert relative.status is Status.SKIP
    assert "absolute bounds only" in relative.message
    assert checks["metric.mae.max_regression"].status is Status.PASS


def test_min_improvement_requires_a_gain_and_max_improvement_flags_leakage() -> None:
    gate = MetricGate("auc", "higher", min_improvement=0.01, max_improvement=0.1)
    checks = run(gate, 0.805, 0.8)
    assert checks["metric.auc.min_improvement"].status is Status.FAIL
    assert checks["metric.auc.max_improvement"].status is Status.PASS
    jump = run(gate, 0.99, 0.8)["metric.auc.max_improvement"]
    assert jump.status is Status.FAIL
    assert "leakage" in jump.message


def test_no_champion_applies_value_bounds_only_or_fails() -> None:
    gate = MetricGate("auc", "higher", min=0.7, max_regression=0.01)
    checks = run(gate, 0.75)
    assert checks["metric.auc.min"].status is Status.PASS
    assert checks["metric.auc.max_regression"].status is Status.SKIP
    assert "value bounds only" in checks["metric.auc.max_regression"].message
    strict = run(gate, 0.75, champion=ChampionState(present=False, on_missing="fail"))
    assert strict["metric.auc.max_regression"].status is Status.FAIL


def test_a_metric_that_cannot_be_computed_fails() -> None:
    gate = MetricGate("auc", "higher", min=0.7)
    checks = run(gate, None, error="ValueError: only one class present")
    assert list(checks) == ["metric.auc"]
    assert checks["metric.auc"].status is Status.FAIL
    assert "only one class" in checks["metric.auc"].message


def test_a_champion_metric_that_cannot_be_computed_fails_the_change_bounds() -> None:
    gate = MetricGate("auc", "higher", max_regression=0.01)
    checks = run(gate, 0.8, None, champion=WITH, champion_error="predict raised KeyError")
    assert checks["metric.auc.max_regression"].status is Status.FAIL
    assert "KeyError" in checks["metric.auc.max_regression"].message


def test_a_metric_without_bounds_is_reported() -> None:
    checks = run(MetricGate("f1", "higher"), 0.6, 0.5)
    assert checks["metric.f1"].status is Status.PASS
    assert checks["metric.f1"].champion == 0.5


def test_bootstrap_lower_bound_must_clear_the_strictest_tolerance() -> None:
    gate = MetricGate("auc", "higher", max_regression=0.02, min_improvement=-0.01, bootstrap=True)
    clear = run(gate, 0.8, 0.8, interval=Interval(-0.009, 0.01, 0.95, 1000))
    assert clear["metric.auc.bootstrap"].status is Status.PASS
    assert clear["metric.auc.bootstrap"].threshold == pytest.approx(-0.01)
    wide = run(gate, 0.8, 0.8, interval=Interval(-0.011, 0.01, 0.95, 1000))
    assert wide["metric.auc.bootstrap"].status is Status.FAIL
    broken = run(gate, 0.8, 0.8, interval=Interval(None, None, 0.95, 1000, 900, "undefined"))
    assert broken["metric.auc.bootstrap"].status is Status.FAIL
