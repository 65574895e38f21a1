"""The stages of the pull-request check: a Protocol, a registry dict and the pipeline order.

Each stage calls one feature's core function and hands back its verdict (and any files it
wrote). A stage whose engine is not part of this mlgate is simply not in ``PIPELINE``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from mlgate.config.model import Config, ModelConfig
from mlgate.github.event import Event
from mlgate.verdict import Verdict


@dataclass(frozen=True)
class StageContext:
    """What every stage may read: the configuration, the model, the run's options and the
    verdicts of the stages before it."""

    config: Config
    model: ModelConfig
    out_dir: Path
    base: str | None
    post: bool
    event: Event
    earlier: Mapping[str, Verdict] = field(default_factory=dict)
    files: Mapping[str, Path] = field(default_factory=dict)


@dataclass(frozen=True)
class StageOutcome:
    """A stage's verdict (None for stages that only publish), files it wrote, and notes."""

    verdict: Verdict | None = None
    files: Mapping[str, Path] = field(default_factory=dict)
    notes: tuple[str, ...] = ()


class Stage(Protocol):
    """One step of the PR check."""

    name: str
    description: str

    def run(self, ctx: StageContext) -> StageOutcome: ...


class ScanStage:
    """Model files that would run code when loaded fail the check before anything loads them."""

    name = "scan"
    description = "model file safety (no unpickling)"

    def run(self, ctx: StageContext) -> StageOutcome:
        from mlgate.fsio import atomic_write_json  # noqa: PLC0415
        from mlgate.scan import ScanRequest, scan  # noqa: PLC0415

        verdict = scan(ScanRequest(model=ctx.model.name), ctx.config)
        verdict = Verdict("scan", ctx.model.name, verdict.checks, verdict.notes)
        path = atomic_write_json(ctx.out_dir / "scan.json", verdict.to_dict())
        return StageOutcome(verdict, {"scan": path})


# name -> stage; a feature adds its stage here and its name to PIPELINE.
STAGES: dict[str, Stage] = {
    "scan": ScanStage(),
}

# The order a pull request meets them. Stages not yet available in this mlgate: repro (lock and
# re-run), validate (gates incl. drift), report (governance report and card) and comment (the
# sticky pull-request comment); they are added here as their engines land.
PIPELINE: tuple[str, ...] = ("scan",)
