"""The stages of the pull-request check: a Protocol, a registry dict and the pipeline order.

Each stage calls one feature's core function and hands back its verdict (and any files it
wrote). A stage whose engine is not part of this mlgate is simply not in ``PIPELINE``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from mlgate.config.model import Config, ModelConfig
from mlgate.github import actions
from mlgate.github.actions import RunContext
from mlgate.github.event import Event
from mlgate.prcheck.render import comment_body
from mlgate.verdict import Check, Status, Verdict, combine

if TYPE_CHECKING:
    from mlgate.github.client import Connect


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
    # Where long-running stages send their output lines (training logs); None discards them.
    on_line: Callable[[str], None] | None = None
    # What earlier stages found that later ones act on (train: "trained" or "cached").
    facts: Mapping[str, str] = field(default_factory=dict)
    # The Actions run (empty outside one): its URL, the branch of a detached checkout
    run: RunContext = field(default_factory=RunContext)
    github: Connect | None = None  # reaches GitHub: the comment, a champion kept in a release


@dataclass(frozen=True)
class StageOutcome:
    """A stage's verdict (None for stages that only publish), files it wrote, and notes."""

    verdict: Verdict | None = None
    files: Mapping[str, Path] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    facts: Mapping[str, str] = field(default_factory=dict)


class Stage(Protocol):
    """One step of the PR check."""

    name: str
    description: str

    def run(self, ctx: StageContext) -> StageOutcome: ...


class TrainStage:
    """Train the model unless a run with the same inputs already produced its outputs."""

    name = "train"
    description = "training (skipped when inputs and outputs match an earlier run)"

    def run(self, ctx: StageContext) -> StageOutcome:
        from mlgate.repro.train import TrainRequest, train

        if ctx.model.train is None:
            return StageOutcome(notes=("no train section: the committed model file is checked",))
        result = train(
            TrainRequest(ctx.config, ctx.model.name, use_cache=True, meanwhile=head_start),
            on_line=ctx.on_line,
        )
        (outcome,) = result.outcomes
        note = (
            f"training skipped, outputs match run {outcome.run_id}"
            if outcome.status == "cached"
            else f"trained in {outcome.duration_s:.1f} s (run {outcome.run_id})"
        )
        return StageOutcome(
            files={"run": outcome.record_path}, notes=(note,), facts={"train": outcome.status}
        )


def head_start(model: ModelConfig) -> None:
    """Run while the training process does (mlgate only waits for it, and it runs on a core of
    its own): import pandas and the model format's loader (skops and scikit-learn), which the
    stages after training import anyway. Their import time then overlaps training instead of
    following it; CPU time is the same."""
    import importlib

    from mlgate import formats

    with contextlib.suppress(ImportError):  # reading the data reports it
        importlib.import_module("pandas")
    formats.prepare(model.model.file, model.model.format)


class ReproStage:
    """Inputs as pinned in mlgate.lock, and isolated re-runs that agree within tolerance."""

    name = "repro"
    description = "reproducibility (lock check and re-runs)"

    def run(self, ctx: StageContext) -> StageOutcome:
        """The train stage's run (trained now, or reused from the run cache) is the first run:
        one isolated re-run fewer than repro.runs, none when the run cache was used and a
        re-run of the same inputs already agreed with these outputs."""
        from mlgate.repro.verify import ReproRequest, repro

        rerun = ctx.model.train is not None
        trained = ctx.facts.get("train")
        result = repro(
            ReproRequest(
                ctx.config,
                ctx.model.name,
                check=True,
                rerun=rerun,
                out=ctx.out_dir,
                first_run_in_tree=trained is not None,
                reuse_agreed=trained == "cached",
            ),
            on_line=ctx.on_line,
            on_event=ctx.on_line,
        )
        (report,) = result.reports
        return StageOutcome(report.verdict, {"repro": report.path})


class ValidateStage:
    """Gates: metrics against bounds and the champion, slices, fairness, data checks, drift."""

    name = "validate"
    description = "validation gates and drift"

    def run(self, ctx: StageContext) -> StageOutcome:
        from mlgate.gates.validate import validate_model

        result = validate_model(ctx.config, ctx.model, None, ctx.out_dir, ctx.github)
        files = {path.stem: path for path in result.written}
        verdict = combine("validate", ctx.model.name, result.verdicts)
        return StageOutcome(verdict, files, (champion_note(result.validation),))


def champion_note(validation: Verdict) -> str:
    """Which champion the gates compared with, or why there was none."""
    champion = validation.context.get("champion")
    if isinstance(champion, Mapping):
        if champion.get("source") == "registry":
            stage = f" ({champion['stage']})" if champion.get("stage") else ""
            commit = str(champion.get("commit") or "")[:12]
            return f"champion: {champion.get('version')}{stage} from commit {commit}"
        return f"champion: {champion.get('path')}"
    why = validation.context.get("champion_missing") or "none found"
    return f"no champion: {why}"


class ScanStage:
    """Model files that would run code when loaded fail the check before anything loads them."""

    name = "scan"
    description = "model file safety (no unpickling)"

    def run(self, ctx: StageContext) -> StageOutcome:
        from mlgate.fsio import atomic_write_json
        from mlgate.scan import ScanRequest, scan

        verdict = scan(ScanRequest(model=ctx.model.name, config=ctx.config))
        verdict = Verdict("scan", ctx.model.name, verdict.checks, verdict.notes)
        path = atomic_write_json(ctx.out_dir / "scan.json", verdict.to_dict())
        return StageOutcome(verdict, {"scan": path})


class ReportStage:
    """The governance report (card, lineage, verdicts, registry, compliance) in md, html, json;
    its verdict is the governance gate (required model card fields)."""

    name = "report"
    description = "governance report and model card"

    def run(self, ctx: StageContext) -> StageOutcome:
        from mlgate.governance.report import FORMATS, build_report_data, write_report

        data = build_report_data(ctx.config, ctx.model, ctx.out_dir, run=ctx.run)
        written = write_report(data, ctx.out_dir, FORMATS)
        files = {
            "report": written.files["html"],
            "report_md": written.files["md"],
            "report_json": written.files["json"],
            "governance": written.files["verdict"],
        }
        notes = tuple(f"missing evidence: {i.kind} ({i.produce})" for i in data.missing)
        return StageOutcome(data.governance, files, notes)


class CommentStage:
    """The sticky pull-request comment: the evidence of the stages before it, updated in place.

    Skipped (with a note, never a failure) outside a pull request, without ``--post``, on pull
    requests from forks (their token is read-only) and without a token. A comment that cannot
    be posted (no permission, GitHub down or unreachable) is a warning with a one-line reason:
    it never changes the check's result.
    """

    name = "comment"
    description = "sticky pull-request comment"

    def run(self, ctx: StageContext) -> StageOutcome:
        from mlgate.github.client import GitHubError
        from mlgate.github.comments import upsert_comment

        pr = ctx.event.pull_request
        skip = None
        if not ctx.post:
            return StageOutcome()
        if pr is None or not pr.number:
            skip = "not a pull request: no comment posted"
        elif pr.is_fork:
            skip = (
                f"pull request from a fork ({pr.head_repo}): its token cannot write, so the "
                "comment is skipped; the report is in the job summary"
            )
        client = ctx.github() if skip is None and ctx.github is not None else None
        if skip is None and (client is None or not client.has_token):
            skip = "no GITHUB_TOKEN: no comment posted"
        if skip is not None or client is None or pr is None:
            actions.annotation("notice", skip or "", title="mlgate comment")
            return StageOutcome(notes=(skip or "",))
        evidence = combine("check", ctx.model.name, ctx.earlier.values())
        body = comment_body(ctx.model.name, evidence, tuple(ctx.earlier), ctx.files, ctx.run)
        report_md = ctx.files.get("report_md")
        if report_md is not None and report_md.is_file():
            # The governance report (card, lineage, verdict details, compliance) follows the
            # check's summary; upsert_comment truncates the whole under GitHub's limit.
            body += "\n" + report_md.read_text("utf-8")
        try:
            posted = upsert_comment(client, pr.number, body, key=ctx.model.tag_name)
        except GitHubError as exc:
            # The comment is a copy of evidence the job summary and artifacts already hold: a
            # comment that cannot be posted never changes the check's result (docs/guides).
            return StageOutcome(Verdict("comment", ctx.model.name, (_not_posted(exc, client),)))
        note = f"pull-request comment {posted.action}: {posted.url or posted.comment_id}"
        return StageOutcome(notes=(note,))


def _not_posted(exc: Exception, client: Any) -> Check:
    """The warning for a comment GitHub did not take, with a one-line reason."""
    status = getattr(exc, "status", None)
    if status == 403:
        reason = (
            "the token may not comment on pull requests; give the job "
            "'permissions: pull-requests: write'"
        )
    elif status is None:
        reason = f"GitHub's API at {client.api_url} could not be reached"
    else:
        first = str(getattr(exc, "message", exc)).splitlines()[0]
        reason = first.removeprefix("GitHub API: ")[:200]
    message = f"the pull-request comment was not posted: {reason}"
    actions.annotation("warning", message, title="mlgate comment")
    check_id = "comment:permission" if status == 403 else "comment:not-posted"
    return Check(check_id, "comment", Status.WARN, message, details={"status": status})


# name -> stage; a feature adds its stage here and its name to PIPELINE.
STAGES: dict[str, Stage] = {
    "train": TrainStage(),
    "scan": ScanStage(),
    "repro": ReproStage(),
    "validate": ValidateStage(),
    "report": ReportStage(),
    "comment": CommentStage(),
}

# The order a pull request meets them: the report reads the verdicts before it, and the comment
# comes last, carrying everything.
PIPELINE: tuple[str, ...] = ("train", "scan", "repro", "validate", "report", "comment")
