"""The ``repro:`` section of a model in mlgate.yaml, as typed settings with their defaults."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mlgate.config.model import ModelConfig

DEFAULT_MODE = "bitwise"
DEFAULT_RUNS = 2
DEFAULT_TOLERANCE = 1e-9
DEFAULT_CODE = ("**/*.py",)


@dataclass(frozen=True)
class ReproSettings:
    """What must match on a re-run, and which files count as the model's code and environment.

    ``code`` None means the default: the model folder's git-tracked ``*.py`` files.
    """

    mode: str = DEFAULT_MODE
    runs: int = DEFAULT_RUNS
    tolerance_predictions: float = DEFAULT_TOLERANCE
    tolerance_metrics: float = DEFAULT_TOLERANCE
    code: tuple[str, ...] | None = None
    exclude: tuple[str, ...] = ()
    requirements: Path | None = None

    @classmethod
    def of(cls, model: ModelConfig) -> ReproSettings:
        raw = model.repro
        tolerance = raw.get("tolerance", {})
        code = raw.get("code")
        requirements = raw.get("requirements")
        return cls(
            mode=str(raw.get("mode", DEFAULT_MODE)),
            runs=int(raw.get("runs", DEFAULT_RUNS)),
            tolerance_predictions=float(tolerance.get("predictions", DEFAULT_TOLERANCE)),
            tolerance_metrics=float(tolerance.get("metrics", DEFAULT_TOLERANCE)),
            code=tuple(code) if code is not None else None,
            exclude=tuple(raw.get("exclude", ())),
            requirements=model.resolve(requirements) if requirements else None,
        )
