"""``mlgate report``, ``mlgate card export|check``: thin wrappers over mlgate.governance."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import click

from mlgate.cli._common import (
    config_option,
    echo,
    emit_json,
    json_option,
    load,
    model_option,
    status_word,
    style,
)

if TYPE_CHECKING:
    from mlgate.config.model import Config
    from mlgate.governance.post import PostOutcome
    from mlgate.governance.report import ReportResult


@click.command()
@config_option
@model_option
@click.option(
    "--format",
    "formats",
    default="md,html,json",
    show_default=True,
    metavar="LIST",
    help="Comma-separated formats: md (PR-comment sized), html (self-contained, charts), json.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for the report and the governance verdict (default: .mlgate/out/<model>/).",
)
@click.option(
    "--post",
    is_flag=True,
    help="Also post the Markdown report as the pull request's sticky comment (GITHUB_TOKEN, "
    "GITHUB_REPOSITORY; skipped with a notice on a fork's PR).",
)
@click.option("--pr", "pr_number", type=click.IntRange(min=1), default=None,
              help="Pull request number (default: from the Actions event).")  # fmt: skip
@click.option(
    "--report-url",
    default=None,
    metavar="URL",
    help="Where the full report is, linked from a cut comment (default: this workflow run).",
)
@json_option
def report(
    config_path: str | None,
    model_name: str | None,
    formats: str,
    out_dir: Path | None,
    post: bool,
    pr_number: int | None,
    report_url: str | None,
    as_json: bool,
) -> int:
    """Write the governance report: model card, lineage, verdicts, registry, compliance.

    Exit 1 when the report's headline is FAIL: a required model card field is missing (the
    governance gate) or a verdict it shows failed. Stale evidence (a verdict that judged another
    model, lock or data) is a warning, never a pass; missing evidence (no lock, no validation
    verdict...) is reported plainly; neither fails it. On GitHub
    Actions the report goes to the job summary and missing fields are annotations on mlgate.yaml.
    """
    from mlgate.github.actions import RunContext
    from mlgate.governance.post import publish_reports, write_summaries
    from mlgate.governance.report import ReportRequest, make_report, parse_formats

    config = load(config_path)
    run = RunContext.from_env()
    request = ReportRequest(config, model_name, parse_formats(formats), out_dir, run)
    result = make_report(request)
    outcomes = []
    if post:
        from mlgate.github.client import GitHubClient

        client = GitHubClient.from_env()
        outcomes = publish_reports(
            result, pr_number=pr_number, report_url=report_url, client=client, run=run
        )
    else:
        write_summaries(result, report_url=report_url, run=run)
    # With --json, stdout holds only the JSON; the runner reads workflow commands on stderr too.
    _annotate(result, config, outcomes, sys.stderr if as_json else sys.stdout)
    if as_json:
        emit_json(
            {
                "exit_code": result.exit_code,
                "models": [
                    {
                        "model": r.data.model.name,
                        "ok": r.data.ok,
                        "status": r.data.status,
                        "gates": {k: r.data.gate_state(k) for k in r.data.verdicts},
                        "governance_ok": r.data.governance.ok,
                        "missing_evidence": [i.kind for i in r.data.missing],
                        "files": {k: str(p) for k, p in r.files.items()},
                        "digests": dict(r.digests),
                    }
                    for r in result.reports
                ],
                "posted": [
                    {
                        "model": o.model,
                        "comment": o.comment.action if o.comment else None,
                        "url": o.comment.url if o.comment else None,
                        "summary": o.summary_written,
                        "notices": list(o.notices),
                    }
                    for o in outcomes
                ],
            }
        )
        return result.exit_code
    for r in result.reports:
        data = r.data
        echo(f"{data.model.name}: report {_HEADLINE[data.status]}  (exit {r.exit_code})")
        for kind in data.verdicts:
            state = data.gate_state(kind)
            stale = data.stale(kind)
            echo(f"  {kind:10} {_STATE[state]}" + (f": {stale}" if stale else ""))
        for check in data.governance.failures:
            echo(f"  {style('x', fg='red')} {check.message}")
        for item in r.data.missing:
            echo(f"  missing evidence: {item.kind} ({item.path}); run '{item.produce}'")
        for kind, path in r.files.items():
            echo(f"  {kind:8} {path}")
    for o in outcomes:
        if o.comment:
            where = o.comment.url or f"#{o.comment.comment_id}"
            echo(f"{o.model}: pull request comment {o.comment.action}: {where}")
        for notice in o.notices:
            echo(f"{o.model}: {notice}")
    return result.exit_code


_HEADLINE = {
    "pass": style("PASS", fg="green", bold=True),
    "fail": style("FAIL", fg="red", bold=True),
    "warn": style("WARN", fg="yellow", bold=True) + " (stale evidence)",
}
_STATE = {
    "pass": style("pass", fg="green"),
    "fail": style("FAIL", fg="red", bold=True),
    "stale": style("stale", fg="yellow") + " (not a pass)",
    "stale-fail": style("FAIL", fg="red", bold=True) + " (stale)",
}


def _annotate(
    result: ReportResult, config: Config, outcomes: list[PostOutcome], stream: TextIO
) -> None:
    """On GitHub Actions: each missing required card field is an error annotation on its
    mlgate.yaml line, and a comment that was skipped (fork, no token) is a notice."""
    from mlgate.github import actions

    if not actions.in_actions():
        return
    found = []
    for r in result.reports:
        model = config.model(r.data.model.name)
        for check in r.data.governance.failures:
            where = config.locate(model, *(check.config_key or ()))
            title = f"mlgate {model.name}: {check.id}"
            found.append(
                actions.Annotation(
                    "error", check.message, where.file, where.line, where.column, title
                )
            )
    for o in outcomes:
        title = f"mlgate comment: {o.model}"
        found += [actions.Annotation("notice", notice, title=title) for notice in o.notices]
    actions.annotate(found, stream=stream)


@click.group()
def card() -> None:
    """Model card: export it (Hugging Face, Model Card Toolkit) or check required fields."""


@card.command("export")
@config_option
@model_option
@click.option("--hf", "fmt", flag_value="hf", default=True,
              help="Hugging Face README.md with model-index front matter (default).")  # fmt: skip
@click.option("--mct", "fmt", flag_value="mct", help="Google Model Card Toolkit JSON.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="File to write (default: .mlgate/out/<model>/README.md or model_card.json).",
)
def card_export(config_path: str | None, model_name: str | None, fmt: str, out: Path | None) -> int:
    """Write the model card, with the measured metrics, in another format."""
    from mlgate.github.actions import RunContext
    from mlgate.governance.exports import CardExportRequest, export_card

    request = CardExportRequest(load(config_path), model_name, fmt, out, RunContext.from_env())
    result = export_card(request)
    echo(f"{result.model}: wrote {result.path}")
    return 0


@card.command("check")
@config_option
@model_option
@json_option
def card_check(config_path: str | None, model_name: str | None, as_json: bool) -> int:
    """Check model cards against the schema and governance.required (exit 1 on a problem)."""
    from mlgate.governance.exports import CardCheckRequest, check_cards

    verdicts = check_cards(CardCheckRequest(load(config_path), model_name))
    if as_json:
        emit_json([v.to_dict() for v in verdicts])
    else:
        for v in verdicts:
            echo(f"{v.model}: model card {status_word(v.ok)}")
            for check in v.failures:
                echo(f"  {style('x', fg='red')} {check.message}")
            for note in v.notes:
                echo(f"  {note}")
    return max((v.exit_code for v in verdicts), default=0)


@click.command()
@click.argument("name")
@config_option
@click.option("--remote", default=None, help="Read the registry of this git remote.")
@json_option
def audit(name: str, config_path: str | None, remote: str | None, as_json: bool) -> int:
    """Who did what to model NAME, when, from which commit, with which checks (from its tags)."""
    from mlgate.governance import audit as core

    config = load(config_path) if config_path else None
    result = core.audit(core.AuditRequest(name, remote, config))
    if as_json:
        emit_json(result.to_dict())
        return 0
    echo(f"{result.name}: {len(result.entries)} registry events ({result.source})")
    for e in result.entries:
        what = (
            e.event + (f" {e.version}" if e.version else "") + (f" -> {e.stage}" if e.stage else "")
        )
        echo(
            f"{e.date}  {what}  commit {e.commit[:12]}  by {e.who}"
            + ("  (signed)" if e.signed else "")
        )
        for kind, check in e.checks.items():
            ok = check.get("ok")
            word = "unknown" if ok is None else status_word(bool(ok))
            echo(f"    {kind}: {word} {check.get('digest', '')}".rstrip())
        for key, digest in e.documents.items():
            echo(f"    {key}: {digest}")
        if e.run_url:
            echo(f"    run: {e.run_url}")
        if e.problem:
            echo(f"    {style('payload unreadable', fg='red')}: {e.problem}")
    for problem in result.problems:
        echo(f"warning: {problem}")
    return 0
