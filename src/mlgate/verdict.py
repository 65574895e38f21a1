"""Checks and verdicts: the evidence every gate returns, rendered by reporters, never printed here.

A Verdict is what ``repro``, ``validate``, ``drift`` and the governance gate produce; its JSON form
(schema ``verdict``) is what the report, the registry payload and the GitHub annotations read.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from mlgate import __version__
from mlgate.errors import EXIT_CHECK_FAILED, EXIT_OK, ConfigError, Location

VERDICT_FORMAT = 1

Scalar = float | int | str | bool | None


class Status(str, Enum):
    PASS = "pass"  # noqa: S105 - a status, not a password
    FAIL = "fail"
    WARN = "warn"  # reported, does not fail the verdict
    SKIP = "skip"  # could not apply (e.g. slice below min_size); the reason says why


@dataclass(frozen=True)
class Check:
    """One check: what was compared, against what, and why it passed or failed."""

    id: str
    kind: str
    status: Status
    message: str
    observed: Scalar = None
    threshold: Scalar = None
    champion: Scalar = None
    details: Mapping[str, Any] = field(default_factory=dict)
    # Key path inside the model's entry of mlgate.yaml that configured this check, so CI
    # annotations can point at the line (``Config.locate(model, *config_key)``).
    config_key: tuple[str | int, ...] | None = None

    @property
    def failed(self) -> bool:
        return self.status is Status.FAIL

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "kind": self.kind,
            "status": self.status.value,
            "message": self.message,
            "observed": self.observed,
            "threshold": self.threshold,
            "champion": self.champion,
        }
        if self.details:
            out["details"] = dict(self.details)
        if self.config_key is not None:
            out["config_key"] = list(self.config_key)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Check:
        key = data.get("config_key")
        return cls(
            id=data["id"],
            kind=data["kind"],
            status=Status(data["status"]),
            message=data["message"],
            observed=data.get("observed"),
            threshold=data.get("threshold"),
            champion=data.get("champion"),
            details=data.get("details", {}),
            config_key=tuple(key) if key is not None else None,
        )


@dataclass(frozen=True)
class Verdict:
    """The result of one gate run over one model."""

    kind: str
    model: str
    checks: tuple[Check, ...]
    notes: tuple[str, ...] = ()
    context: Mapping[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not any(c.failed for c in self.checks)

    @property
    def exit_code(self) -> int:
        return EXIT_OK if self.ok else EXIT_CHECK_FAILED

    @property
    def failures(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.failed)

    def counts(self) -> dict[str, int]:
        counts = {s.value: 0 for s in Status}
        for c in self.checks:
            counts[c.status.value] += 1
        return counts

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": VERDICT_FORMAT,
            "kind": self.kind,
            "model": self.model,
            "ok": self.ok,
            "counts": self.counts(),
            "checks": [c.to_dict() for c in self.checks],
            "notes": list(self.notes),
            "context": dict(self.context),
            "tool": {"name": "mlgate", "version": __version__},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Verdict:
        return cls(
            kind=data["kind"],
            model=data["model"],
            checks=tuple(Check.from_dict(c) for c in data["checks"]),
            notes=tuple(data.get("notes", [])),
            context=data.get("context", {}),
        )

    def digest(self) -> str:
        """sha256 of the canonical JSON, recorded in registry payloads as evidence."""
        return "sha256:" + hashlib.sha256(canonical_json(self.to_dict())).hexdigest()


# Δ, the change of a metric against the champion, has one definition everywhere it is shown.
DELTA_HEADER = "Δ (+ = better)"
DELTA_LEGEND = (
    "Δ = challenger - champion, signed so that positive is better: for a lower-is-better metric "
    "(log_loss, rmse) a drop is a positive Δ"
)


def delta(direction: str | None, challenger: float | None, champion: float | None) -> float | None:
    """The challenger's change against the champion, sign-adjusted so that positive is better."""
    if challenger is None or champion is None or direction not in {"higher", "lower"}:
        return None
    return (challenger - champion) if direction == "higher" else (champion - challenger)


def format_number(value: float | None, *, signed: bool = False) -> str:
    """The one number format of every report and of the CLI: 4 decimals, or 3 significant digits
    for very large and very small values; ``—`` for no value."""
    if value is None:
        return "—"
    if value == 0:
        return "+0" if signed else "0"
    sign = "+" if signed else ""
    if abs(value) >= 10_000 or abs(value) < 0.001:
        return f"{value:{sign}.3g}"
    out = f"{value:{sign}.4f}".rstrip("0").rstrip(".")
    return "+0" if signed and out in {"+0", "-0"} else out


def canonical_json(data: Any) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def combine(kind: str, model: str, verdicts: Iterable[Verdict]) -> Verdict:
    """One verdict holding every check of ``verdicts`` (e.g. the whole PR check)."""
    parts = list(verdicts)
    return Verdict(
        kind=kind,
        model=model,
        checks=tuple(c for v in parts for c in v.checks),
        notes=tuple(n for v in parts for n in v.notes),
        context={v.kind: dict(v.context) for v in parts},
    )


def write_verdict(path: Path, verdict: Verdict) -> Path:
    """Write the verdict JSON atomically (stable key order)."""
    from mlgate.fsio import atomic_write_json

    return atomic_write_json(path, verdict.to_dict())


def read_verdict(path: Path) -> Verdict:
    """Read and schema-check a verdict file; ConfigError names the file and key on problems."""
    from mlgate.config.validate import validate
    from mlgate.config.yamlsource import SourceMap

    try:
        data = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"verdict file not found: {path}") from None
    except RecursionError:
        raise ConfigError(
            "unreadable verdict: nested too deeply", location=Location(str(path))
        ) from None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"unreadable verdict: {exc}", location=Location(str(path))) from None
    validate(data, "verdict", SourceMap(str(path)), what=path.name)
    return Verdict.from_dict(data)
