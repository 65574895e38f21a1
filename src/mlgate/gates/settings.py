"""The ``gates`` section of a model entry, parsed into typed settings (defaults filled in).

The JSON Schema has already checked shapes and types; what is checked here is what a schema
cannot see (a bootstrap guard without a tolerance, min above max), with errors that point at
the mlgate.yaml line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlgate.config.model import Config, ModelConfig
from mlgate.errors import ConfigError
from mlgate.gates.drift.engine import DriftOptions

ON_MISSING = ("value-only", "fail")
DEFAULT_MIN_SLICE = 30
# Numeric slice columns with more distinct values than this are cut into quantile bins.
BIN_ABOVE_DISTINCT = 10
DEFAULT_BINS = 4


@dataclass(frozen=True)
class MetricGate:
    """Bounds on one metric (``gates.metrics.NAME``)."""

    name: str
    direction: str  # higher | lower
    min: float | None = None
    max: float | None = None
    max_regression: float | None = None
    max_regression_relative: float | None = None
    min_improvement: float | None = None
    max_improvement: float | None = None
    function: str | None = None  # custom metric "package.module:function"
    input: str | None = None  # what a custom metric receives: label | score | proba
    bootstrap: bool = False

    @property
    def change_bounds(self) -> dict[str, float]:
        names = ("max_regression", "max_regression_relative", "min_improvement", "max_improvement")
        return {n: v for n in names if (v := getattr(self, n)) is not None}


@dataclass(frozen=True)
class SliceSettings:
    columns: tuple[str, ...]
    min_size: int = DEFAULT_MIN_SLICE
    bounds: Mapping[str, tuple[float | None, float | None]] = field(default_factory=dict)
    max_gap: Mapping[str, float] = field(default_factory=dict)
    # Quantile bins for numeric columns with many values (``bins: 4``), or per column a bin
    # count or explicit edges (``bins: {age: [0, 30, 60, 120]}``).
    bins: int = DEFAULT_BINS
    column_bins: Mapping[str, int | tuple[float, ...]] = field(default_factory=dict)

    @property
    def metric_names(self) -> list[str]:
        return list(dict.fromkeys([*self.bounds, *self.max_gap]))


@dataclass(frozen=True)
class BootstrapSettings:
    samples: int = 1000
    confidence: float = 0.95
    seed: int = 0


@dataclass(frozen=True)
class DriftSettings:
    reference: Path | None
    current: Path | None
    columns: tuple[str, ...] | None
    options: DriftOptions
    cache: bool = True


@dataclass(frozen=True)
class ColumnRule:
    """An explicit table-contract entry (``gates.data.columns.NAME``)."""

    dtype: str | None = None
    nullable: bool | None = None
    max_null_rate: float | None = None
    min: float | None = None
    max: float | None = None
    categories: tuple[Any, ...] | None = None
    required: bool = True


@dataclass(frozen=True)
class DataSettings:
    infer: bool = True
    max_null_rate: float | None = None
    columns: Mapping[str, ColumnRule] = field(default_factory=dict)


@dataclass(frozen=True)
class BudgetSettings:
    max_file_size_mb: float | None = None
    latency_p50_ms: float | None = None
    latency_p95_ms: float | None = None
    latency_rows: int = 200


@dataclass(frozen=True)
class ChampionSettings:
    stage: str | None = None
    on_missing: str = "value-only"


@dataclass(frozen=True)
class GateSettings:
    """Everything ``mlgate validate`` applies to one model."""

    metrics: tuple[MetricGate, ...] = ()
    slices: SliceSettings | None = None
    bootstrap: BootstrapSettings = field(default_factory=BootstrapSettings)
    drift: DriftSettings | None = None
    data: DataSettings = field(default_factory=DataSettings)
    budgets: BudgetSettings | None = None
    champion: ChampionSettings = field(default_factory=ChampionSettings)


def gate_settings(config: Config, model: ModelConfig) -> GateSettings:
    """Parse ``model.gates``; semantic problems raise ConfigError at the configuring line."""
    raw = model.gates
    metrics = tuple(
        _metric(config, model, name, spec) for name, spec in raw.get("metrics", {}).items()
    )
    return GateSettings(
        metrics=metrics,
        slices=_slices(raw["slices"]) if "slices" in raw else None,
        bootstrap=BootstrapSettings(**raw.get("bootstrap", {})),
        drift=drift_settings(model, raw["drift"]) if "drift" in raw else None,
        data=_data(raw.get("data", {})),
        budgets=BudgetSettings(**raw["budgets"]) if "budgets" in raw else None,
        champion=ChampionSettings(**raw.get("champion", {})),
    )


def _metric(config: Config, model: ModelConfig, name: str, spec: Mapping[str, Any]) -> MetricGate:
    gate = MetricGate(name=name, **spec)
    where = ("gates", "metrics", name)
    if gate.min is not None and gate.max is not None and gate.min > gate.max:
        raise ConfigError(
            f"metric {name!r}: min {gate.min} is above max {gate.max}",
            location=config.locate(model, *where, "min"),
        )
    if gate.bootstrap and not {
        "max_regression",
        "max_regression_relative",
        "min_improvement",
    } & set(gate.change_bounds):
        raise ConfigError(
            f"metric {name!r}: bootstrap needs a tolerance to compare the interval with",
            location=config.locate(model, *where, "bootstrap"),
            hint="add max_regression, max_regression_relative or min_improvement",
        )
    if gate.input is not None and gate.function is None:
        raise ConfigError(
            f"metric {name!r}: 'input' applies only to custom metrics (with 'function')",
            location=config.locate(model, *where, "input"),
        )
    return gate


def _slices(raw: Mapping[str, Any]) -> SliceSettings:
    bounds = {m: (b.get("min"), b.get("max")) for m, b in raw.get("metrics", {}).items()}
    bins = raw.get("bins", DEFAULT_BINS)
    column_bins: dict[str, int | tuple[float, ...]] = {}
    if isinstance(bins, Mapping):
        column_bins = {
            str(c): (int(b) if isinstance(b, int) else tuple(float(x) for x in b))
            for c, b in bins.items()
        }
        bins = DEFAULT_BINS
    return SliceSettings(
        columns=tuple(raw["columns"]),
        min_size=int(raw.get("min_size", DEFAULT_MIN_SLICE)),
        bounds=bounds,
        max_gap=dict(raw.get("max_gap", {})),
        bins=int(bins),
        column_bins=column_bins,
    )


def drift_settings(model: ModelConfig, raw: Mapping[str, Any]) -> DriftSettings:
    threshold = raw.get("threshold", {})
    options = DriftOptions(
        p_value=float(threshold.get("p_value", DriftOptions.p_value)),
        distance=float(threshold.get("distance", DriftOptions.distance)),
        max_drifted_share=float(raw.get("max_drifted_share", DriftOptions.max_drifted_share)),
        methods=dict(raw.get("method", {})),
        critical=tuple(raw.get("critical", ())),
    )
    columns = raw.get("columns")
    return DriftSettings(
        reference=model.resolve(raw["reference"]) if "reference" in raw else model.data.train,
        current=model.resolve(raw["current"]) if "current" in raw else model.data.eval,
        columns=tuple(columns) if columns is not None else None,
        options=options,
        cache=bool(raw.get("cache", True)),
    )


def _data(raw: Mapping[str, Any]) -> DataSettings:
    columns = {}
    for name, rule in raw.get("columns", {}).items():
        cats = rule.get("categories")
        columns[name] = ColumnRule(
            **{k: v for k, v in rule.items() if k != "categories"},
            categories=tuple(cats) if cats is not None else None,
        )
    return DataSettings(
        infer=bool(raw.get("infer", True)),
        max_null_rate=raw.get("max_null_rate"),
        columns=columns,
    )
