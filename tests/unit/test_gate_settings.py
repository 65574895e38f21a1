"""Gate settings: defaults, semantic errors at the mlgate.yaml line; and the text rendering."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlgate.config.loader import load_config
from mlgate.config.sections import GateSettings
from mlgate.errors import ConfigError, Location
from mlgate.gates.drift.engine import DriftOptions
from mlgate.gates.render import render_verdict
from mlgate.verdict import Check, Status, Verdict


def settings_of(starter: Path, old: str = "", new: str = "") -> GateSettings:
    path = starter / "mlgate.yaml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    config = load_config(path)
    return config.model().gates


def test_the_starter_gates_parse_with_defaults(starter: Path) -> None:
    gates = settings_of(starter)
    assert [m.name for m in gates.metrics] == ["roc_auc", "log_loss", "accuracy"]
    assert gates.metrics[0].change_bounds == {"max_regression": 0.01}
    assert gates.slices is not None
    assert gates.slices.min_size == 100
    assert gates.drift is not None
    assert DriftOptions.of(gates.drift).max_drifted_share == 0.3
    assert DriftOptions.of(gates.drift).p_value == 0.05
    assert gates.drift.reference == starter.resolve() / "models/churn/data/train.csv"
    assert gates.champion.stage == "prod"
    assert gates.bootstrap.samples == 1000
    assert gates.data.infer


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "min: 0.75, max_regression",
            "min: 0.9, max: 0.8, max_regression",
            "min 0.9 is above max 0.8",
        ),
        (
            "max_regression: 0.01}",
            "max_improvement: 0.2, bootstrap: true}",
            "bootstrap needs a tolerance",
        ),
        (
            "accuracy: {direction: higher, min: 0.65}",
            "accuracy: {direction: higher, min: 0.65, input: score}",
            "'input' applies only to custom metrics",
        ),
    ],
)
def test_semantic_mistakes_point_at_the_line(
    starter: Path, old: str, new: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        settings_of(starter, old, new)
    assert info.value.location is not None
    assert info.value.location.line is not None
    assert "gates.metrics" in (info.value.location.key_path or "")


def test_schema_rejects_an_unknown_drift_test(starter: Path) -> None:
    with pytest.raises(ConfigError, match="kss"):
        settings_of(
            starter, "max_drifted_share: 0.3", "max_drifted_share: 0.3\n        method: {age: kss}"
        )


def test_render_lists_checks_then_failures_with_their_lines() -> None:
    verdict = Verdict(
        kind="validation",
        model="churn",
        checks=(
            Check(
                "metric.auc.min",
                "metric",
                Status.PASS,
                "auc 0.81 >= min 0.75",
                0.81,
                0.75,
                0.8,
                {"op": ">="},
            ),
            Check(
                "metric.auc.max_regression",
                "metric",
                Status.FAIL,
                "auc fell by 0.05",
                -0.05,
                -0.01,
                0.86,
                {"op": ">="},
                ("gates", "metrics", "auc", "max_regression"),
            ),
            Check("slice.region=west", "slice", Status.SKIP, "40 rows: dropped", 40, 100),
        ),
        notes=("no champion",),
    )
    where = Location("mlgate.yaml", 27, 49, "models[0].gates.metrics.auc.max_regression")
    text = render_verdict(verdict, locate=lambda c: where if c.config_key else None)
    lines = text.splitlines()
    assert lines[0] == "validation of churn: FAIL (1 failed, 1 passed, 1 skipped)"
    # Challenger, champion and the sign-adjusted Δ per metric come first (no direction: no Δ).
    assert lines[1].split()[:3] == ["METRIC", "CHALLENGER", "CHAMPION"]
    assert lines[2].split() == ["auc", "0.81", "0.8", "—"]
    head = lines.index(next(line for line in lines if line.split()[:1] == ["STATUS"]))
    assert lines[head].split() == ["STATUS", "CHECK", "OBSERVED", "THRESHOLD", "CHAMPION", "REASON"]
    assert lines[head + 1].split()[:6] == [  # failures first
        "FAIL",
        "metric.auc.max_regression",
        "-0.05",
        ">=",
        "-0.01",
        "0.86",
    ]
    assert "  - metric.auc.max_regression: auc fell by 0.05" in lines
    assert (
        "    configured at mlgate.yaml:27:49 (models[0].gates.metrics.auc.max_regression)" in lines
    )
    assert lines[-1] == "note: no champion"
