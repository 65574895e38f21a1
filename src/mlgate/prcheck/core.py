"""``mlgate check``: the whole pull-request check for each model, one combined verdict each.

The stages run in ``PIPELINE`` order; a stage that cannot run (missing file, external failure)
becomes a failed check carrying its error, and the remaining stages still run, so one broken
input does not hide the others' evidence. The exit code is the first stage error's, else 1 when
any check failed, else 0.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlgate import paths
from mlgate.config.model import Config, ModelConfig
from mlgate.errors import MlgateError, UsageError
from mlgate.github.actions import RunContext
from mlgate.github.event import Event
from mlgate.prcheck.result import CheckResult, ModelCheck, StageError
from mlgate.prcheck.stages import PIPELINE, STAGES, StageContext
from mlgate.verdict import Check, Status, Verdict, combine, write_verdict

if TYPE_CHECKING:
    from mlgate.github.client import Connect

COMBINED_FILE = "check.json"


@dataclass(frozen=True)
class CheckRequest:
    """What ``mlgate check`` runs; every stage shares its Config."""

    config: Config
    model: str | None = None
    base: str | None = None
    post: bool = False
    out: Path | None = None
    stages: tuple[str, ...] | None = None  # default: the whole PIPELINE
    run: RunContext = field(default_factory=RunContext)  # the Actions run the check is part of
    github: Connect | None = None  # reaches GitHub: the comment, a champion kept in a release


@dataclass(frozen=True)
class StageEvent:
    """A stage of one model starting (``status`` None) or ending (pass, fail, warn, error)."""

    model: str
    stage: str
    description: str
    index: int  # 1-based, of ``total``
    total: int
    status: str | None = None


def run_check(
    request: CheckRequest,
    event: Event | None = None,
    *,
    on_line: Callable[[str], None] | None = None,
    on_stage: Callable[[StageEvent], None] | None = None,
) -> CheckResult:
    """Run the pipeline over the selected models (those the change touches with ``--base``);
    ``on_line`` receives the output of long stages (training), ``on_stage`` each stage's start
    and end (the CLI's headers); ``event`` defaults to the event of ``request.run``."""
    config = request.config
    event = request.run.event() if event is None else event
    stages = _stages(request.stages, post=request.post)
    selected: Sequence[ModelConfig] = config.select(request.model)
    skipped: tuple[str, ...] = ()
    if request.base is not None and request.model is None:
        from mlgate.prcheck.plan import PlanRequest, plan

        planned = plan(PlanRequest(config, request.base, run=request.run), event)
        names = {m.name for m in planned.models}
        selected = [m for m in config.models if m.name in names]
        skipped = planned.untouched
    results = tuple(
        _check_model(request, config, m, stages, event, on_line, on_stage) for m in selected
    )
    return CheckResult(results, skipped)


def _worst(verdict: Verdict | None) -> str:
    if verdict is None:
        return "done"
    counts = verdict.counts()
    return next((s for s in ("fail", "warn") if counts.get(s)), "pass")


def _stages(names: tuple[str, ...] | None, *, post: bool) -> tuple[str, ...]:
    if names is None:
        return tuple(n for n in PIPELINE if post or n != "comment")
    unknown = [n for n in names if n not in STAGES]
    if unknown:
        from mlgate.config.validate import suggest

        guess = suggest(unknown[0], list(STAGES))
        raise UsageError(
            f"unknown check stage {unknown[0]!r}",
            hint=f"did you mean {guess!r}?" if guess else "stages: " + ", ".join(PIPELINE),
        )
    return tuple(n for n in PIPELINE if n in names) + tuple(n for n in names if n not in PIPELINE)


def _check_model(
    request: CheckRequest,
    config: Config,
    model: ModelConfig,
    names: tuple[str, ...],
    event: Event,
    on_line: Callable[[str], None] | None,
    on_stage: Callable[[StageEvent], None] | None = None,
) -> ModelCheck:
    out_dir = request.out or paths.out_dir(config.root, model.tag_name)
    verdicts: dict[str, Verdict] = {}
    files: dict[str, Path] = {}
    errors: list[StageError] = []
    notes: list[str] = []
    facts: dict[str, str] = {}
    tell = on_stage or (lambda _event: None)
    for index, name in enumerate(names, start=1):
        what = StageEvent(model.name, name, STAGES[name].description, index, len(names))
        tell(what)
        ctx = StageContext(
            config,
            model,
            out_dir,
            request.base,
            request.post,
            event,
            dict(verdicts),
            dict(files),
            on_line,
            dict(facts),
            request.run,
            request.github,
        )
        try:
            outcome = STAGES[name].run(ctx)
        except MlgateError as exc:
            errors.append(StageError(name, exc.exit_code, exc.render()))
            verdicts[name] = _error_verdict(name, model, exc)
            tell(replace(what, status="error"))
            continue
        tell(replace(what, status=_worst(outcome.verdict)))
        if outcome.verdict is not None:
            verdicts[name] = outcome.verdict
        files.update(outcome.files)
        notes.extend(outcome.notes)
        facts.update(outcome.facts)
    combined = combine("check", model.name, verdicts.values())
    combined = Verdict(
        combined.kind,
        combined.model,
        combined.checks,
        (*combined.notes, *notes),
        {**combined.context, "stages": list(names)},
    )
    path = write_verdict(out_dir / COMBINED_FILE, combined)
    files["check"] = path
    return ModelCheck(model, combined, path, names, files, tuple(errors), tuple(notes))


def _error_verdict(stage: str, model: ModelConfig, exc: MlgateError) -> Verdict:
    """A stage that could not run is a failed check, never a silent pass."""
    location = exc.location
    details: dict[str, Any] = {"error": type(exc).__name__, "exit_code": exc.exit_code}
    if exc.hint:
        details["hint"] = exc.hint
    if location is not None:
        details["location"] = str(location)
    check = Check(
        id=f"{stage}:error",
        kind=stage,
        status=Status.FAIL,
        message=f"the {stage} stage could not run: {exc.message}",
        details=details,
    )
    return Verdict(stage, model.name, (check,))
