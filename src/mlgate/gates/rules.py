"""Value and change bounds on one metric, as the README's "Validation gates" section defines them.

``delta = c - b`` is sign-adjusted so positive is better; the relative change is ``delta / |b|``
and is not applied (the check says so) when ``|b| < 1e-12``. Without a champion the change
bounds are skipped (``on_missing: value-only``) or fail (``on_missing: fail``). A metric that
could not be computed fails, never passes. Comparisons forgive floating-point rounding
(1e-12 relative), so a value exactly at a bound passes however it was computed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mlgate.config.sections import MetricGate
from mlgate.gates.bootstrap import Interval
from mlgate.verdict import Check, Status
from mlgate.verdict import delta as signed_delta

TINY = 1e-12
# Bounds are inclusive; a difference of 0.05 computed as 0.05000000000000004 must still pass.
SLACK = 1e-12
KIND = "metric"


@dataclass(frozen=True)
class MetricOutcome:
    """A metric's values for both models (or why either is missing)."""

    name: str
    challenger: float | None
    champion: float | None = None
    error: str | None = None
    champion_error: str | None = None
    interval: Interval | None = None  # bootstrap interval of the sign-adjusted delta


@dataclass(frozen=True)
class ChampionState:
    present: bool
    on_missing: str = "value-only"
    label: str = "champion"


def at_least(value: float, bound: float) -> bool:
    """Inclusive ``value >= bound``, forgiving the last bits of floating-point rounding."""
    return value >= bound - SLACK * max(1.0, abs(bound))


def at_most(value: float, bound: float) -> bool:
    return value <= bound + SLACK * max(1.0, abs(bound))


def sign(direction: str) -> float:
    return 1.0 if direction == "higher" else -1.0


@dataclass
class _Checks:
    """Builds the checks of one metric gate with shared ids, champion value and config key."""

    gate: MetricGate
    outcome: MetricOutcome
    items: list[Check] = field(default_factory=list)

    def add(
        self,
        bound: str,
        status: Status,
        message: str,
        observed: float | None,
        threshold: float | None,
        **details: Any,
    ) -> None:
        self.items.append(
            Check(
                f"metric.{self.gate.name}.{bound}",
                KIND,
                status,
                message,
                observed=observed,
                threshold=threshold,
                champion=self.outcome.champion,
                details={
                    "op": "<=" if bound in {"max", "max_improvement"} else ">=",
                    "challenger": self.outcome.challenger,
                    "direction": self.gate.direction,
                    **details,
                },
                config_key=("gates", "metrics", self.gate.name, bound),
            )
        )


def metric_checks(gate: MetricGate, outcome: MetricOutcome, champion: ChampionState) -> list[Check]:
    """Every check one metric gate configures, passed or failed, each with its reason."""
    name, c, b = gate.name, outcome.challenger, outcome.champion
    key = ("gates", "metrics", name)
    if outcome.error is not None or c is None:
        message = f"{name} could not be computed: {outcome.error}"
        return [Check(f"metric.{name}", KIND, Status.FAIL, message, champion=b, config_key=key)]
    out = _Checks(gate, outcome)
    if gate.min is not None:
        ok = at_least(c, gate.min)
        out.add(
            "min", _st(ok), f"{name} {c:.4g} {'>=' if ok else '<'} min {gate.min:g}", c, gate.min
        )
    if gate.max is not None:
        ok = at_most(c, gate.max)
        out.add(
            "max", _st(ok), f"{name} {c:.4g} {'<=' if ok else '>'} max {gate.max:g}", c, gate.max
        )
    if gate.change_bounds:
        _change_checks(out, champion)
    if not out.items:
        shown = f"{name} = {c:.4g}" + (f" (champion {b:.4g})" if b is not None else "")
        message = f"{shown}; no bounds configured"
        return [Check(f"metric.{name}", KIND, Status.PASS, message, c, None, b, config_key=key)]
    return out.items


def _change_checks(out: _Checks, champion: ChampionState) -> None:
    gate, outcome = out.gate, out.outcome
    name, c, b = gate.name, outcome.challenger, outcome.champion
    bounds = gate.change_bounds
    if not champion.present:
        fail = champion.on_missing == "fail"
        why = (
            "no champion to compare with (on_missing: fail)"
            if fail
            else "no champion to compare with; value bounds only (on_missing: value-only)"
        )
        for bound, limit in bounds.items():
            out.add(
                bound, Status.FAIL if fail else Status.SKIP, why, None, _threshold(bound, limit)
            )
        return
    if outcome.champion_error is not None or b is None or c is None:
        why = f"the {champion.label}'s {name} could not be computed: {outcome.champion_error}"
        for bound, limit in bounds.items():
            out.add(bound, Status.FAIL, why, None, _threshold(bound, limit))
        return
    delta = signed_delta(gate.direction, c, b)
    assert delta is not None  # both values are known here
    relative = delta / abs(b) if abs(b) >= TINY else None
    head = f"{name} {c:.4g} vs {champion.label} {b:.4g}: {_describe(delta, relative)}"
    extra = {"delta": delta, "relative": relative}
    for bound, limit in bounds.items():
        if bound == "max_regression":
            ok = at_least(delta, -limit)
            word = "within" if ok else "beyond"
            out.add(
                bound,
                _st(ok),
                f"{head}, {word} the allowed loss of {limit:g}",
                delta,
                -limit,
                **extra,
            )
        elif bound == "max_regression_relative":
            if relative is None:
                why = (
                    f"{head}; |{champion.label}| < 1e-12, so the relative bound is not "
                    "applied (absolute bounds only)"
                )
                out.add(bound, Status.SKIP, why, None, -limit, **extra)
                continue
            ok = at_least(relative, -limit)
            word = "within" if ok else "beyond"
            out.add(
                bound,
                _st(ok),
                f"{head}, {word} the allowed relative loss of {limit:.2%}",
                relative,
                -limit,
                **extra,
            )
        elif bound == "min_improvement":
            ok = at_least(delta, limit)
            word = "meets" if ok else "short of"
            out.add(
                bound,
                _st(ok),
                f"{head}, {word} the required gain of {limit:g}",
                delta,
                limit,
                **extra,
            )
        else:  # max_improvement: the leakage guard
            ok = at_most(delta, limit)
            tail = (
                f"within the plausible gain of {limit:g}"
                if ok
                else f"a jump above {limit:g} is suspicious (data leakage?)"
            )
            out.add(bound, _st(ok), f"{head}, {tail}", delta, limit, **extra)
    if gate.bootstrap and outcome.interval is not None:
        _bootstrap_check(out, outcome.interval, b)


def _bootstrap_check(out: _Checks, interval: Interval, b: float) -> None:
    bounds = out.gate.change_bounds
    required: list[float] = []
    if "max_regression" in bounds:
        required.append(-bounds["max_regression"])
    if "max_regression_relative" in bounds and abs(b) >= TINY:
        required.append(-bounds["max_regression_relative"] * abs(b))
    if "min_improvement" in bounds:
        required.append(bounds["min_improvement"])
    if not required:
        return
    need = max(required)
    if interval.low is None or interval.high is None:
        why = f"the bootstrap interval could not be computed: {interval.error}"
        out.add("bootstrap", Status.FAIL, why, None, need)
        return
    ok = at_least(interval.low, need)
    word = "clears" if ok else "does not clear"
    out.add(
        "bootstrap",
        _st(ok),
        f"{interval.confidence:.0%} interval of the change [{interval.low:+.4g}, "
        f"{interval.high:+.4g}] from {interval.samples} paired resamples; its lower bound "
        f"{word} {need:+.4g}",
        interval.low,
        need,
        high=interval.high,
        samples=interval.samples,
        confidence=interval.confidence,
        failed_resamples=interval.failed,
    )


def _describe(delta: float, relative: float | None) -> str:
    if delta == 0:
        return "unchanged"
    word = "better" if delta > 0 else "worse"
    rel = f" ({abs(relative):.2%})" if relative is not None else ""
    return f"{abs(delta):.4g}{rel} {word}"


def _threshold(bound: str, limit: float) -> float:
    return -limit if bound.startswith("max_regression") else limit


def _st(ok: bool) -> Status:
    return Status.PASS if ok else Status.FAIL
