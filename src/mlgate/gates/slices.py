"""Per-slice metrics, small slices dropped (and reported), and best-to-worst gaps (fairness).

Slice columns are read from the evaluation data, so sensitive attributes the model never sees
(``data.sensitive``) can define slices.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from mlgate.config.sections import BIN_ABOVE_DISTINCT, SliceSettings
from mlgate.errors import ConfigError, Location
from mlgate.gates.metrics import Metric
from mlgate.gates.predict import ModelOutputs, compute_metric
from mlgate.gates.rules import at_least, at_most
from mlgate.verdict import Check, Status

if TYPE_CHECKING:
    import pandas as pd

KIND = "slice"
MAX_SLICES = 100
MISSING = "<missing>"


@dataclass(frozen=True)
class SliceMetric:
    metric: Metric
    direction: str


@dataclass(frozen=True)
class SliceValue:
    column: str
    value: str
    size: int
    metrics: Mapping[str, float | None]
    errors: Mapping[str, str]
    champion: Mapping[str, float | None]


def slice_checks(
    settings: SliceSettings,
    frame: pd.DataFrame,
    y: np.ndarray,
    challenger: ModelOutputs,
    champion: ModelOutputs | None,
    metrics: Mapping[str, SliceMetric],
    locate: Callable[..., Location],
) -> list[Check]:
    """Checks for every slice column: dropped slices, per-slice bounds and the gaps."""
    checks: list[Check] = []
    for index, column in enumerate(settings.columns):
        groups = _groups(frame, column, settings, locate("gates", "slices", "columns", index))
        kept: list[SliceValue] = []
        for value, mask in groups:
            size = int(mask.sum())
            sid = f"slice.{column}={value}"
            if size < settings.min_size:
                checks.append(
                    Check(
                        sid,
                        KIND,
                        Status.SKIP,
                        f"{column}={value} has {size} rows, fewer than min_size "
                        f"{settings.min_size}: dropped",
                        observed=size,
                        threshold=settings.min_size,
                        details={"op": ">=", "column": column, "value": value},
                        config_key=("gates", "slices", "min_size"),
                    )
                )
                continue
            found = _evaluate(column, value, mask, y, challenger, champion, metrics)
            kept.append(found)
            checks.extend(_bound_checks(settings, found))
        for name, limit in settings.max_gap.items():
            checks.append(_gap_check(column, name, limit, metrics[name].direction, kept))
    return checks


def _groups(
    frame: pd.DataFrame, column: str, settings: SliceSettings, location: Location
) -> list[tuple[str, np.ndarray]]:
    if column not in frame.columns:
        from mlgate.config.validate import suggest

        guess = suggest(column, [str(c) for c in frame.columns])
        raise ConfigError(
            f"slice column {column!r} is not in the evaluation data",
            location=location,
            hint=f"did you mean {guess!r}?" if guess else "columns: " + ", ".join(map(str, frame)),
        )
    series = frame[column]
    binned = _binned(series, column, settings, location)
    if binned is not None:
        return binned
    labels = np.where(series.isna().to_numpy(), MISSING, series.astype(str).to_numpy())
    values = sorted(set(labels.tolist()))
    if len(values) > MAX_SLICES:
        raise ConfigError(
            f"slice column {column!r} has {len(values)} distinct values; at most {MAX_SLICES} "
            "slices per column are supported",
            location=location,
            hint="slice by a categorical column, or add a binned copy of this one to the data",
        )
    return [(v, labels == v) for v in values]


def _binned(
    series: pd.Series, column: str, settings: SliceSettings, location: Location
) -> list[tuple[str, np.ndarray]] | None:
    """Slices of a numeric column as value ranges: quantile bins of the evaluation data (or
    the configured edges) when the column has many values or ``bins`` names it."""
    from pandas.api import types

    if types.is_bool_dtype(series) or not types.is_numeric_dtype(series):
        if column in settings.column_bins:
            raise ConfigError(
                f"slice column {column!r} is not numeric and cannot be binned", location=location
            )
        return None
    forced = settings.column_bins.get(column)
    if forced is None and series.nunique() <= BIN_ABOVE_DISTINCT:
        return None
    values = series.to_numpy(dtype=np.float64)
    present = values[~np.isnan(values)]
    if isinstance(forced, tuple):
        edges = np.unique(np.asarray(forced, dtype=np.float64))
    else:
        count = forced if isinstance(forced, int) else settings.bins
        edges = np.unique(np.quantile(present, np.linspace(0, 1, count + 1)))
    if len(edges) < 2:
        return None
    # Bin i holds edges[i] <= v < edges[i + 1]; the last bin is closed, values outside
    # explicit edges get slices of their own.
    position = np.searchsorted(edges, values, side="right") - 1
    position[values == edges[-1]] = len(edges) - 2
    groups: list[tuple[str, np.ndarray]] = []
    below, above = values < edges[0], values > edges[-1]
    if below.any():
        groups.append((f"< {_num(edges[0])}", below))
    for i in range(len(edges) - 1):
        close = "]" if i == len(edges) - 2 else ")"
        mask = (position == i) & ~below & ~above & ~np.isnan(values)
        if mask.any():
            groups.append((f"[{_num(edges[i])}, {_num(edges[i + 1])}{close}", mask))
    if above.any():
        groups.append((f"> {_num(edges[-1])}", above))
    missing = np.isnan(values)
    if missing.any():
        groups.append((MISSING, missing))
    return groups


def _num(value: float) -> str:
    return f"{value:.4g}"


def _evaluate(
    column: str,
    value: str,
    mask: np.ndarray,
    y: np.ndarray,
    challenger: ModelOutputs,
    champion: ModelOutputs | None,
    metrics: Mapping[str, SliceMetric],
) -> SliceValue:
    ys = y[mask]
    mine = challenger.subset(mask)
    theirs = champion.subset(mask) if champion is not None else None
    values: dict[str, float | None] = {}
    errors: dict[str, str] = {}
    champ: dict[str, float | None] = {}
    for name, spec in metrics.items():
        result = compute_metric(spec.metric, ys, mine)
        values[name] = result.value
        if result.error:
            errors[name] = result.error
        if theirs is not None:
            champ[name] = compute_metric(spec.metric, ys, theirs).value
    return SliceValue(column, value, int(mask.sum()), values, errors, champ)


def _bound_checks(settings: SliceSettings, found: SliceValue) -> list[Check]:
    checks = []
    base = f"slice.{found.column}={found.value}"
    where = f"{found.column}={found.value} ({found.size} rows)"
    for name in settings.metric_names:
        value = found.metrics.get(name)
        champion = found.champion.get(name)
        details: dict[str, Any] = {"column": found.column, "value": found.value, "size": found.size}
        if value is None:
            checks.append(
                Check(
                    f"{base}.{name}",
                    KIND,
                    Status.FAIL,
                    f"{name} on {where} could not be computed: {found.errors.get(name)}",
                    champion=champion,
                    details=details,
                    config_key=("gates", "slices"),
                )
            )
            continue
        low, high = settings.bounds.get(name, (None, None))
        for bound, limit in (("min", low), ("max", high)):
            if limit is None:
                continue
            ok = at_least(value, limit) if bound == "min" else at_most(value, limit)
            op = ">=" if bound == "min" else "<="
            shown = op if ok else ("<" if bound == "min" else ">")
            checks.append(
                Check(
                    f"{base}.{name}.{bound}",
                    KIND,
                    Status.PASS if ok else Status.FAIL,
                    f"{name} on {where} {value:.4g} {shown} {bound} {limit:g}",
                    observed=value,
                    threshold=limit,
                    champion=champion,
                    details={**details, "op": op},
                    config_key=("gates", "slices", "metrics", name, bound),
                )
            )
    return checks


def _gap_check(
    column: str, name: str, limit: float, direction: str, kept: list[SliceValue]
) -> Check:
    cid = f"slice.{column}.{name}.max_gap"
    key = ("gates", "slices", "max_gap", name)
    values: dict[str, float] = {s.value: v for s in kept if (v := s.metrics.get(name)) is not None}
    if len(values) < 2:
        return Check(
            cid,
            KIND,
            Status.SKIP,
            f"{name} gap across {column}: fewer than 2 slices with a value "
            f"(of {len(kept)} kept); gap not measured",
            threshold=limit,
            config_key=key,
        )
    ordered = sorted(values.items(), key=lambda kv: kv[1], reverse=direction == "higher")
    (best, top), (worst, bottom) = ordered[0], ordered[-1]
    gap = abs(top - bottom)
    champion_values = [s.champion.get(name) for s in kept]
    champion_gap = None
    if champion_values and all(v is not None for v in champion_values) and len(champion_values) > 1:
        known = [v for v in champion_values if v is not None]
        champion_gap = max(known) - min(known)
    ok = at_most(gap, limit)
    message = (
        f"{name} gap across {column} {gap:.4g} ({best} {top:.4g}, {worst} {bottom:.4g}) "
        + ("<=" if ok else ">")
        + f" max_gap {limit:g}"
    )
    return Check(
        cid,
        KIND,
        Status.PASS if ok else Status.FAIL,
        message,
        observed=gap,
        threshold=limit,
        champion=champion_gap,
        details={
            "op": "<=",
            "best": best,
            "worst": worst,
            "slices": values,
            "champion_slices": {s.value: s.champion.get(name) for s in kept if s.champion},
        },
        config_key=key,
    )
