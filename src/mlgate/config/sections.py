"""The feature sections of a model entry (``gates``, ``repro``, ``governance``, ``publish``),
parsed once by ``load_config`` into typed settings with their defaults filled in.

The JSON Schema has already checked shapes and types; what is checked here is what a schema
cannot see (a bootstrap guard without a tolerance, min above max), with errors that point at
the mlgate.yaml line. ``given`` holds the keys a section sets in mlgate.yaml (none: defaults).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlgate.errors import ConfigError, Location

# Where a key of this model entry is in mlgate.yaml (``locate("gates", "metrics", name)``).
Locate = Callable[..., Location]
# A path from the configuration made absolute against the model folder.
Resolve = Callable[[str], Path]

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
    """``gates.drift``; unset thresholds (None) take the drift engine's defaults."""

    reference: Path | None
    current: Path | None
    columns: tuple[str, ...] | None = None
    p_value: float | None = None
    distance: float | None = None
    max_drifted_share: float | None = None
    methods: Mapping[str, str] = field(default_factory=dict)  # column -> test name
    critical: tuple[str, ...] = ()
    cache: bool = True
    given: frozenset[str] = frozenset()


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
    """``gates``: everything ``mlgate validate`` applies to one model."""

    metrics: tuple[MetricGate, ...] = ()
    slices: SliceSettings | None = None
    bootstrap: BootstrapSettings = field(default_factory=BootstrapSettings)
    drift: DriftSettings | None = None
    data: DataSettings = field(default_factory=DataSettings)
    budgets: BudgetSettings | None = None
    champion: ChampionSettings = field(default_factory=ChampionSettings)


def parse_gates(
    raw: Mapping[str, Any],
    resolve: Resolve,
    data_train: Path | None,
    data_eval: Path | None,
    locate: Locate,
) -> GateSettings:
    """Parse ``gates``; semantic problems raise ConfigError at the configuring line."""
    metrics = tuple(_metric(locate, name, spec) for name, spec in raw.get("metrics", {}).items())
    return GateSettings(
        metrics=metrics,
        slices=_slices(raw["slices"]) if "slices" in raw else None,
        bootstrap=BootstrapSettings(**raw.get("bootstrap", {})),
        drift=parse_drift(raw["drift"], resolve, data_train, data_eval) if "drift" in raw else None,
        data=_data(raw.get("data", {})),
        budgets=BudgetSettings(**raw["budgets"]) if "budgets" in raw else None,
        champion=ChampionSettings(**raw.get("champion", {})),
    )


def _metric(locate: Locate, name: str, spec: Mapping[str, Any]) -> MetricGate:
    gate = MetricGate(name=name, **spec)
    where = ("gates", "metrics", name)
    if gate.min is not None and gate.max is not None and gate.min > gate.max:
        raise ConfigError(
            f"metric {name!r}: min {gate.min} is above max {gate.max}",
            location=locate(*where, "min"),
        )
    if gate.bootstrap and not {
        "max_regression",
        "max_regression_relative",
        "min_improvement",
    } & set(gate.change_bounds):
        raise ConfigError(
            f"metric {name!r}: bootstrap needs a tolerance to compare the interval with",
            location=locate(*where, "bootstrap"),
            hint="add max_regression, max_regression_relative or min_improvement",
        )
    if gate.input is not None and gate.function is None:
        raise ConfigError(
            f"metric {name!r}: 'input' applies only to custom metrics (with 'function')",
            location=locate(*where, "input"),
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


def parse_drift(
    raw: Mapping[str, Any], resolve: Resolve, data_train: Path | None, data_eval: Path | None
) -> DriftSettings:
    """``gates.drift`` (an empty mapping: the defaults, comparing data.train with data.eval)."""
    threshold = raw.get("threshold", {})

    def number(value: Any) -> float | None:
        return None if value is None else float(value)

    columns = raw.get("columns")
    return DriftSettings(
        reference=resolve(raw["reference"]) if "reference" in raw else data_train,
        current=resolve(raw["current"]) if "current" in raw else data_eval,
        columns=tuple(columns) if columns is not None else None,
        p_value=number(threshold.get("p_value")),
        distance=number(threshold.get("distance")),
        max_drifted_share=number(raw.get("max_drifted_share")),
        methods=dict(raw.get("method", {})),
        critical=tuple(raw.get("critical", ())),
        cache=bool(raw.get("cache", True)),
        given=frozenset(raw),
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


DEFAULT_MODE = "bitwise"
DEFAULT_RUNS = 2
DEFAULT_TOLERANCE = 1e-9
DEFAULT_CODE = ("**/*.py",)


@dataclass(frozen=True)
class ReproSettings:
    """``repro``: what must match on a re-run, and which files count as the model's code and
    environment. ``code`` None means the default: the model folder's git-tracked ``*.py`` files.
    """

    mode: str = DEFAULT_MODE
    runs: int = DEFAULT_RUNS
    tolerance_predictions: float = DEFAULT_TOLERANCE
    tolerance_metrics: float = DEFAULT_TOLERANCE
    code: tuple[str, ...] | None = None
    exclude: tuple[str, ...] = ()
    requirements: Path | None = None
    given: frozenset[str] = frozenset()


def parse_repro(raw: Mapping[str, Any], resolve: Resolve) -> ReproSettings:
    tolerance = raw.get("tolerance", {})
    code = raw.get("code")
    requirements = raw.get("requirements")
    return ReproSettings(
        mode=str(raw.get("mode", DEFAULT_MODE)),
        runs=int(raw.get("runs", DEFAULT_RUNS)),
        tolerance_predictions=float(tolerance.get("predictions", DEFAULT_TOLERANCE)),
        tolerance_metrics=float(tolerance.get("metrics", DEFAULT_TOLERANCE)),
        code=tuple(code) if code is not None else None,
        exclude=tuple(raw.get("exclude", ())),
        requirements=resolve(requirements) if requirements else None,
        given=frozenset(raw),
    )


@dataclass(frozen=True)
class GovernanceSettings:
    """``governance``: the model card (absolute path) and the card fields it must have."""

    card: Path | None = None
    required: tuple[str, ...] = ()
    given: frozenset[str] = frozenset()


def parse_governance(raw: Mapping[str, Any], resolve: Resolve) -> GovernanceSettings:
    card = raw.get("card")
    return GovernanceSettings(
        card=resolve(str(card)) if card else None,
        required=tuple(str(n) for n in raw.get("required", [])),
        given=frozenset(raw),
    )


DEFAULT_BASE_IMAGE = "python:3.11-slim"
DEFAULT_PORT = 8080
DEFAULT_SMOKE_ROWS = 50
DEFAULT_PUSH_ATTEMPTS = 3


@dataclass(frozen=True)
class KubernetesSettings:
    namespace: str | None = None
    replicas: int = 2
    service_type: str = "ClusterIP"
    cpu: str = "250m"
    memory: str = "512Mi"
    cpu_limit: str | None = None
    min_replicas: int | None = None  # HorizontalPodAutoscaler; None: replicas
    max_replicas: int | None = None  # None: 3 x min_replicas
    cpu_utilization: int = 70
    max_unavailable: int | str = 1  # PodDisruptionBudget


@dataclass(frozen=True)
class CaptureDeployment:
    """``publish.capture``: what the serving container captures, as deploy render sets it."""

    sample: float = 1.0
    exclude: tuple[str, ...] = ()
    hashed: tuple[str, ...] = ()
    salt_secret: str | None = None
    max_mb: int = 1024
    rotate_mb: int = 64
    rotate_minutes: float = 60.0
    claim: str | None = None


@dataclass(frozen=True)
class PublishSection:
    """``publish`` as configured; ``mlgate.publish.settings`` adds the image repository
    (``image`` or a name from the model's, and ``--registry``)."""

    image: str | None = None
    base_image: str = DEFAULT_BASE_IMAGE
    port: int = DEFAULT_PORT
    smoke_rows: int = DEFAULT_SMOKE_ROWS
    tolerance: float = DEFAULT_TOLERANCE
    requirements: Path | None = None
    packages: tuple[str, ...] = ()
    method: str = "predict"
    workers: int = 1
    labels: Mapping[str, str] = field(default_factory=dict)
    push_attempts: int = DEFAULT_PUSH_ATTEMPTS
    smoke_network: str = "host"
    kubernetes: KubernetesSettings = field(default_factory=KubernetesSettings)
    capture: CaptureDeployment | None = None
    given: frozenset[str] = frozenset()


def parse_publish(raw: Mapping[str, Any], resolve: Resolve) -> PublishSection:
    k8s = raw.get("kubernetes", {})
    scaling = k8s.get("autoscaling", {})
    return PublishSection(
        image=raw.get("image") or None,
        base_image=raw.get("base_image") or DEFAULT_BASE_IMAGE,
        port=int(raw.get("port", DEFAULT_PORT)),
        smoke_rows=int(raw.get("smoke_rows", DEFAULT_SMOKE_ROWS)),
        tolerance=float(raw.get("tolerance", DEFAULT_TOLERANCE)),
        requirements=resolve(raw["requirements"]) if "requirements" in raw else None,
        packages=tuple(raw.get("packages", ())),
        method=raw.get("method", "predict"),
        workers=int(raw.get("workers", 1)),
        labels=dict(raw.get("labels", {})),
        push_attempts=int(raw.get("push_attempts", DEFAULT_PUSH_ATTEMPTS)),
        smoke_network=raw.get("smoke_network", "host"),
        kubernetes=KubernetesSettings(
            namespace=k8s.get("namespace"),
            replicas=int(k8s.get("replicas", 2)),
            service_type=k8s.get("service_type", "ClusterIP"),
            cpu=k8s.get("cpu", "250m"),
            memory=k8s.get("memory", "512Mi"),
            cpu_limit=k8s.get("cpu_limit"),
            min_replicas=scaling.get("min_replicas"),
            max_replicas=scaling.get("max_replicas"),
            cpu_utilization=int(scaling.get("cpu_utilization", 70)),
            max_unavailable=k8s.get("max_unavailable", 1),
        ),
        capture=_capture(raw.get("capture")),
        given=frozenset(raw),
    )


def _capture(raw: Mapping[str, Any] | None) -> CaptureDeployment | None:
    if raw is None:
        return None
    return CaptureDeployment(
        sample=float(raw.get("sample", 1.0)),
        exclude=tuple(raw.get("exclude", ())),
        hashed=tuple(raw.get("hash", ())),
        salt_secret=raw.get("salt_secret"),
        max_mb=int(raw.get("max_mb", 1024)),
        rotate_mb=int(raw.get("rotate_mb", 64)),
        rotate_minutes=float(raw.get("rotate_minutes", 60.0)),
        claim=raw.get("claim"),
    )


DEFAULT_REMOTE = "origin"
DEFAULT_DEADLINE = 300.0  # seconds a registry write retries lost races


@dataclass(frozen=True)
class RegistrySettings:
    """``registry``: the stage policy (``mlgate.registry.policy`` applies it)."""

    stages: tuple[str, ...] | None = None
    require_order: bool = False
    require_passing: bool = False
    sign: bool = False
    verify: bool = False
    remote: str = DEFAULT_REMOTE
    deadline: float = DEFAULT_DEADLINE
    where: Location | None = None  # the model's registry section, for error messages

    # A graph: stage -> the stages a version may go to next (None: the list's own order).
    follows: Mapping[str, tuple[str, ...]] | None = None
    given: frozenset[str] = frozenset()


def parse_registry(raw: Mapping[str, Any], where: Location | None = None) -> RegistrySettings:
    """``registry``; ``where`` (the stages line when there is one) is where errors point."""
    stages = raw.get("stages")
    follows = None
    if isinstance(stages, Mapping):
        follows = {str(k): tuple(v or ()) for k, v in stages.items()}
        unknown = sorted({n for nexts in follows.values() for n in nexts} - set(follows))
        if unknown:
            raise ConfigError(
                f"registry.stages: {unknown[0]!r} follows a stage but is not a stage itself",
                location=where,
                hint="list every stage as a key (use [] for a last stage)",
            )
    return RegistrySettings(
        stages=tuple(stages) if stages is not None else None,
        follows=follows,
        require_order=bool(raw.get("require_order", follows is not None)),
        require_passing=bool(raw.get("require_passing", False)),
        sign=bool(raw.get("sign", False)),
        verify=bool(raw.get("verify", False)),
        remote=str(raw.get("remote", DEFAULT_REMOTE)),
        deadline=float(raw.get("deadline", DEFAULT_DEADLINE)),
        where=where,
        given=frozenset(raw),
    )
