"""Tables drawn from the gate verdicts, which the governance report and the text renderer of a
verdict show: metrics (challenger against champion), per-slice metrics and drift per column.
Checks are recognised by their ``kind`` and ``details``, so every gate that follows the verdict
schema is shown, and nothing is invented when a verdict is absent."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mlgate.verdict import Check, Verdict, delta

if TYPE_CHECKING:  # the text renderer of every verdict imports this module: not the config model
    from mlgate.config.model import ModelConfig

_DATASET_DRIFT = ("dataset", "share", "drifted_share", "overall")


@dataclass(frozen=True)
class MetricRow:
    name: str
    value: float | None
    champion: float | None
    status: str  # worst status of the checks on this metric, or "info"
    checks: tuple[str, ...]  # messages of the checks on this metric
    direction: str | None = None  # higher | lower; None when no gate says

    @property
    def delta(self) -> float | None:
        """Sign-adjusted change against the champion (positive is better): ``verdict.delta``."""
        return delta(self.direction, self.value, self.champion)


@dataclass(frozen=True)
class SliceRow:
    column: str
    value: str
    metric: str
    score: float | None
    size: int | None
    status: str
    champion: float | None = None


@dataclass(frozen=True)
class DriftRow:
    column: str
    method: str | None
    statistic: float | None
    threshold: float | None
    drifted: bool
    status: str
    score: str = "distance"  # "p-value" (drift below the threshold) or "distance" (at or above)
    distribution: Mapping[str, Any] | None = None  # reference and current shares per bin

    @property
    def severity(self) -> float:
        """How far past (positive) or short of (negative) its threshold the column is, on a
        shared scale: log10 ratio of statistic and threshold, signed so drift is positive."""
        import math

        if self.statistic is None or self.threshold is None:
            return math.inf if self.drifted else -math.inf
        stat, limit = max(abs(self.statistic), 1e-300), max(abs(self.threshold), 1e-300)
        ratio = math.log10(stat / limit)
        return -ratio if self.score == "p-value" else ratio


# A metric's row shows its worst check; a skipped check (e.g. a change bound with no champion)
# does not hide the value bounds that passed, so "skip" shows only when nothing else applied.
_ORDER = {"fail": 0, "warn": 1, "pass": 2, "skip": 3, "info": 4}


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _metric_name(check: Check) -> str | None:
    name = check.details.get("metric")
    if isinstance(name, str):
        return name
    parts = check.id.split(".")
    return parts[1] if len(parts) > 1 and parts[0] in {"metric", "metrics"} else None


def metric_rows(validation: Verdict | None, fallback: Mapping[str, Any] | None) -> list[MetricRow]:
    """One row per metric from the validation verdict, else from the training metrics file."""
    if validation is None:
        return [
            MetricRow(str(k), _num(v), None, "info", ())
            for k, v in sorted((fallback or {}).items())
            if _num(v) is not None
        ]
    rows: dict[str, dict[str, Any]] = {}
    measured = validation.context.get("metrics")
    if isinstance(measured, Mapping):  # {name: {challenger, champion}}, as the gates record it
        for name, values in measured.items():
            if isinstance(values, Mapping):
                rows[str(name)] = {
                    "value": _num(values.get("challenger")),
                    "champion": _num(values.get("champion")),
                    "direction": _text(values.get("direction")),
                    "status": "info",
                    "msgs": [],
                }
    for check in validation.checks:
        if check.kind not in {"metric", "metrics"}:
            continue
        name = _metric_name(check)
        if name is None:
            continue
        row = rows.setdefault(
            name, {"value": None, "champion": None, "direction": None, "status": "info", "msgs": []}
        )
        row["direction"] = row["direction"] or _text(check.details.get("direction"))
        if row["value"] is None:
            value = check.details.get("challenger", check.details.get("value"))
            if value is None and check.id.endswith((".min", ".max")):
                value = check.observed  # a value bound observes the challenger itself
            row["value"] = _num(value)
        champion = _num(check.champion)
        row["champion"] = champion if row["champion"] is None else row["champion"]
        if _ORDER[check.status.value] < _ORDER[row["status"]]:
            row["status"] = check.status.value
        row["msgs"].append(check.message)
    return [
        MetricRow(n, r["value"], r["champion"], r["status"], tuple(r["msgs"]), r["direction"])
        for n, r in sorted(rows.items())
    ]


def slice_rows(validation: Verdict | None) -> list[SliceRow]:
    """Per-slice metric values from checks of kind ``slice`` (one row per column, value, metric)."""
    if validation is None:
        return []
    rows: dict[tuple[str, str, str], SliceRow] = {}
    for check in validation.checks:
        if not check.kind.startswith("slice"):
            continue
        d = check.details
        column, metric = _slice_names(check)
        per_slice = d.get("values") or d.get("slices")
        if isinstance(per_slice, Mapping) and isinstance(column, str) and isinstance(metric, str):
            # A gap check carries every slice's value: {slice: value} or {slice: {value, size}},
            # and the champion's in ``champion_slices``.
            theirs = d.get("champion_slices")
            theirs = theirs if isinstance(theirs, Mapping) else {}
            for value, entry in per_slice.items():
                score = _num(entry.get("value") if isinstance(entry, Mapping) else entry)
                size = entry.get("size") if isinstance(entry, Mapping) else None
                key = (column, str(value), metric)
                champion = _num(theirs.get(value))
                row = SliceRow(column, str(value), metric, score, size, "info", champion)
                rows.setdefault(key, row)
            continue
        value = d.get("slice", d.get("value"))
        if isinstance(column, str) and isinstance(metric, str) and value is not None:
            size = d.get("size")
            rows[(column, str(value), metric)] = SliceRow(
                column,
                str(value),
                metric,
                _num(check.observed),
                size if isinstance(size, int) else None,
                check.status.value,
                _num(check.champion),
            )
    return [rows[k] for k in sorted(rows)]


def _slice_names(check: Check) -> tuple[str | None, str | None]:
    """Column and metric of a slice check: from ``details``, else from the check id
    (``slice.COLUMN=VALUE.METRIC.BOUND`` for a slice, ``slice.COLUMN.METRIC.max_gap`` for a gap)."""
    d = check.details
    column = d.get("column") if isinstance(d.get("column"), str) else None
    metric = d.get("metric") if isinstance(d.get("metric"), str) else None
    if metric is not None:
        return column, metric
    if column is not None and "value" in d:
        prefix = f"slice.{column}={d['value']}."
        if check.id.startswith(prefix):
            return column, check.id[len(prefix) :].split(".")[0] or None
        return column, None
    if check.id.startswith("slice.") and check.id.endswith(".max_gap"):
        middle = check.id[len("slice.") : -len(".max_gap")]
        if "." in middle:
            col, name = middle.rsplit(".", 1)
            return column or col, name
    return column, None


def drift_rows(drift: Verdict | None) -> list[DriftRow]:
    """One row per column tested for drift (the dataset-level check is not a column)."""
    if drift is None:
        return []
    rows = []
    for check in drift.checks:
        if "drift" not in check.kind and "drift" not in check.id:
            continue
        d = check.details
        column = d.get("column")
        if not isinstance(column, str):
            tail = check.id.split(".", 1)[-1]
            if tail in _DATASET_DRIFT or tail == check.id:
                continue
            column = tail
        drifted = d.get("drifted")
        rows.append(
            DriftRow(
                column,
                _text(d.get("method")) or _text(d.get("test")),
                _num(check.observed),
                _num(check.threshold),
                bool(drifted) if drifted is not None else check.status.value in {"fail", "warn"},
                check.status.value,
                _score_kind(d),
                d.get("distribution") if isinstance(d.get("distribution"), Mapping) else None,
            )
        )
    return sorted(rows, key=lambda r: r.column)


def _score_kind(details: Mapping[str, Any]) -> str:
    """p-value (drift below the threshold) or distance (drift at or above it)."""
    if details.get("op") in {">=", "<"}:
        return "p-value" if details["op"] == ">=" else "distance"
    from mlgate.gates.drift.stattests import P_VALUE, TESTS

    test = TESTS.get(str(details.get("test") or details.get("method") or ""))
    return "p-value" if test is not None and test.score == P_VALUE else "distance"


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def training_metrics(model: ModelConfig) -> dict[str, Any] | None:
    """The metrics file the training command writes (``train.metrics``), when there is one."""
    path = model.train.metrics if model.train else None
    if path is None or not path.is_file():
        return None
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
