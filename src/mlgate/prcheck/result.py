"""What ``mlgate check`` returns: each model's combined verdict and the stage errors; the
renderers (``prcheck.render``) read these, the pipeline (``prcheck.core``) builds them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlgate.config.model import ModelConfig
from mlgate.errors import EXIT_CHECK_FAILED, EXIT_OK
from mlgate.verdict import Verdict


@dataclass(frozen=True)
class StageError:
    stage: str
    exit_code: int
    message: str


@dataclass(frozen=True)
class ModelCheck:
    """One model's result: the combined verdict, where it is, and the files stages wrote."""

    model: ModelConfig
    verdict: Verdict
    verdict_path: Path
    stages: tuple[str, ...]
    files: dict[str, Path] = field(default_factory=dict)
    errors: tuple[StageError, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def exit_code(self) -> int:
        if self.errors:
            return self.errors[0].exit_code
        return self.verdict.exit_code

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model.name,
            "ok": self.verdict.ok and not self.errors,
            "exit_code": self.exit_code,
            "stages": list(self.stages),
            "verdict": str(self.verdict_path),
            "files": {k: str(v) for k, v in sorted(self.files.items())},
            "counts": self.verdict.counts(),
            "failures": [c.to_dict() for c in self.verdict.failures],
            "errors": [e.__dict__ for e in self.errors],
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class CheckResult:
    models: tuple[ModelCheck, ...]
    skipped: tuple[str, ...] = ()  # models the change does not touch (with --base)

    @property
    def exit_code(self) -> int:
        codes = [m.exit_code for m in self.models]
        errors = [c for c in codes if c not in (EXIT_OK, EXIT_CHECK_FAILED)]
        if errors:
            return errors[0]
        return EXIT_CHECK_FAILED if EXIT_CHECK_FAILED in codes else EXIT_OK

    @property
    def ok(self) -> bool:
        return self.exit_code == EXIT_OK

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "exit_code": self.exit_code,
            "models": [m.to_dict() for m in self.models],
            "skipped": list(self.skipped),
        }
