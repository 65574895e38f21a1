"""Verdict files shaped like the ones the gates and repro commands write (schema ``verdict``), so
the report can be tested before and independently of those commands."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from mlgate.verdict import Check, Status, Verdict, write_verdict


def validation_verdict(model: str = "churn", *, fail: bool = False) -> Verdict:
    """Metrics against a champion, per-slice values, a fairness gap: as ``mlgate validate``."""
    auc = 0.71 if fail else 0.83
    checks = [
        Check("metric.roc_auc.min", "metric", Status.FAIL if fail else Status.PASS,
              f"roc_auc {auc} {'<' if fail else '>='} min 0.75", observed=auc, threshold=0.75,
              champion=0.81, details={"op": ">=", "challenger": auc, "direction": "higher"},
              config_key=("gates", "metrics", "roc_auc", "min")),
        Check("metric.roc_auc.max_regression", "metric", Status.PASS,
              "roc_auc change within max_regression 0.01", observed=auc - 0.81, threshold=0.01,
              champion=0.81, details={"op": ">=", "challenger": auc, "direction": "higher"}),
        Check("metric.log_loss.max", "metric", Status.PASS, "log_loss 0.52 <= max 0.6",
              observed=0.52, threshold=0.6, champion=0.55,
              details={"op": "<=", "challenger": 0.52, "direction": "lower"}),
        Check("slice.region=north.roc_auc.min", "slice", Status.PASS, "roc_auc on region=north",
              observed=0.84, threshold=0.7,
              details={"column": "region", "value": "north", "size": 400, "op": ">="}),
        Check("slice.region=south.roc_auc.min", "slice", Status.PASS, "roc_auc on region=south",
              observed=0.79, threshold=0.7,
              details={"column": "region", "value": "south", "size": 380, "op": ">="}),
        Check("slice.gender.roc_auc.max_gap", "slice", Status.PASS,
              "roc_auc gap across gender 0.02 <= max_gap 0.12", observed=0.02, threshold=0.12,
              details={"op": "<=", "best": "f", "worst": "m", "slices": {"f": 0.84, "m": 0.82}}),
    ]  # fmt: skip
    context = {
        "metrics": {
            "roc_auc": {"challenger": auc, "champion": 0.81},
            "log_loss": {"challenger": 0.52, "champion": 0.55},
        },
        "task": "binary-classification",
    }
    return Verdict("validation", model, tuple(checks), ("champion: churn@v1.0.0 (prod)",), context)


def _numeric_distribution(shift: float) -> dict[str, object]:
    edges = [float(i) for i in range(13)]
    reference = [round(max(0.0, 0.16 - abs(i - 6) * 0.025), 4) for i in range(12)]
    current = [round(max(0.0, 0.16 - abs(i - 6 - shift) * 0.025), 4) for i in range(12)]
    return {"kind": "numeric", "edges": edges, "reference": reference, "current": current}


def _categorical_distribution() -> dict[str, object]:
    return {"kind": "categorical", "categories": ["basic", "plus", "premium"],
            "reference": [0.5, 0.3, 0.2], "current": [0.45, 0.33, 0.22]}  # fmt: skip


def drift_verdict(model: str = "churn", *, distributions: bool = False) -> Verdict:
    checks = [
        Check("drift.column.age", "drift", Status.PASS, "K-S p-value 0.41 >= 0.05: no drift",
              observed=0.41, threshold=0.05,
              details={"column": "age", "test": "ks", "drifted": False}),
        Check("drift.column.tenure_months", "drift", Status.WARN,
              "K-S p-value 0.001 < 0.05: drift", observed=0.001, threshold=0.05,
              details={"column": "tenure_months", "test": "ks", "drifted": True}),
        Check("drift.column.plan", "drift", Status.PASS, "chi-square p-value 0.7: no drift",
              observed=0.7, threshold=0.05,
              details={"column": "plan", "test": "chi2", "drifted": False}),
        Check("drift.dataset", "drift", Status.PASS, "1 of 3 columns drifted; no dataset drift",
              observed=0.333, threshold=0.5, details={"drifted": ["tenure_months"], "tested": 3}),
    ]  # fmt: skip
    if distributions:
        shapes = {"age": _numeric_distribution(0), "tenure_months": _numeric_distribution(3),
                  "plan": _categorical_distribution()}  # fmt: skip
        checks = [
            replace(c, details={**c.details, "distribution": shapes[c.details["column"]]})
            if c.details.get("column") in shapes
            else c
            for c in checks
        ]
    return Verdict("drift", model, tuple(checks))


def wide_drift_verdict(columns: int, model: str = "churn") -> Verdict:
    """A drift verdict over ``columns`` numeric columns, every fifth one drifted."""
    checks = []
    for i in range(columns):
        drifted = i % 5 == 0
        score = 0.001 * (i + 1) if drifted else 0.2 + (i % 7) / 10
        checks.append(Check(
            f"drift.column.col_{i:03d}_with_a_long_descriptive_name", "drift",
            Status.WARN if drifted else Status.PASS,
            f"K-S p-value {score:.3g}", observed=score, threshold=0.05,
            details={"column": f"col_{i:03d}_with_a_long_descriptive_name", "test": "ks",
                     "drifted": drifted, "op": ">=",
                     "distribution": _numeric_distribution(3 if drifted else 0)},
        ))  # fmt: skip
    return Verdict("drift", model, tuple(checks))


def repro_verdict(model: str = "churn") -> Verdict:
    message = "predictions match within 1e-9 over 2 runs"
    check = Check("repro.predictions", "repro", Status.PASS, message, observed=0.0, threshold=1e-9)
    return Verdict("repro", model, (check,))


def write_all(
    out_dir: Path, model: str = "churn", *, fail: bool = False, distributions: bool = False
) -> None:
    write_verdict(out_dir / "validation.json", validation_verdict(model, fail=fail))
    write_verdict(out_dir / "drift.json", drift_verdict(model, distributions=distributions))
    write_verdict(out_dir / "repro.json", repro_verdict(model))
