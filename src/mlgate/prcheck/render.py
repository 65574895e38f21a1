"""The PR check's result for people and for the runner: text, Markdown summary, annotations,
step outputs. Nothing here decides a verdict."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from mlgate import gfm
from mlgate.config.model import Config
from mlgate.errors import Location
from mlgate.github import actions
from mlgate.github.actions import RunContext
from mlgate.prcheck.result import CheckResult, ModelCheck, StageError
from mlgate.verdict import Check, Status, Verdict, format_number


def outputs(result: CheckResult) -> dict[str, str]:
    """Step outputs: ``ok``, ``exit-code``, ``verdict`` and ``report`` (first model's paths),
    and JSON maps ``verdicts``/``reports``/``files`` by model."""
    first = result.models[0] if result.models else None
    reports = {m.model.name: str(m.files["report"]) for m in result.models if "report" in m.files}
    return {
        "ok": "true" if result.ok else "false",
        "exit-code": str(result.exit_code),
        "verdict": str(first.verdict_path) if first else "",
        "report": reports.get(first.model.name, "") if first else "",
        "verdicts": _compact({m.model.name: str(m.verdict_path) for m in result.models}),
        "reports": _compact(reports),
        "files": _compact(
            {m.model.name: {k: str(v) for k, v in m.files.items()} for m in result.models}
        ),
        "models": _compact([m.model.name for m in result.models]),
        "failed": str(sum(len(m.verdict.failures) for m in result.models)),
    }


def findings(result: CheckResult, config: Config) -> Iterator[tuple[str, str, Location, str]]:
    """(level, message, location, title) for each failed or warning check, pointing into
    mlgate.yaml at the key that configured it (else at the model's entry)."""
    for mc in result.models:
        for check in mc.verdict.checks:
            if check.status not in (Status.FAIL, Status.WARN):
                continue
            level = "error" if check.failed else "warning"
            where = _location(config, mc, check)
            yield level, check.message, where, f"mlgate {mc.model.name}: {check.id}"


def emit_annotations(result: CheckResult, config: Config, run: RunContext) -> int:
    """Write the annotations (capped per level); returns how many were left out."""
    return actions.annotate(
        (
            actions.Annotation(level, message, where.file, where.line, where.column, title)
            for level, message, where, title in findings(result, config)
        ),
        run,
    )


def _location(config: Config, mc: ModelCheck, check: Check) -> Location:
    key = check.config_key if check.config_key is not None else ()
    return config.locate(mc.model, *key)


def markdown(result: CheckResult, run: RunContext) -> str:
    """The job summary: one section per model, failures first, then every check."""
    lines = ["## mlgate check", ""]
    if not result.models:
        lines.append(
            "No model to check" + (" (the change touches none)." if result.skipped else ".")
        )
    for mc in result.models:
        lines += section(
            mc.model.name, mc.verdict, mc.stages, mc.errors, mc.files, mc.exit_code, run=run
        )
    if result.skipped:
        lines.append(
            "Not touched by this change: " + ", ".join(gfm.code(n) for n in result.skipped)
        )
    text = "\n".join(lines).rstrip() + "\n"
    if len(text.encode()) > actions.SUMMARY_LIMIT:
        text = text.encode()[: actions.SUMMARY_LIMIT - 200].decode(errors="ignore")
        text += "\n\n… truncated; the full verdicts are in the files named by the outputs.\n"
    return text


def section(
    name: str,
    verdict: Verdict,
    stages: Sequence[str],
    errors: Sequence[StageError] = (),
    files: Mapping[str, Path] | None = None,
    exit_code: int | None = None,
    *,
    run: RunContext | None = None,
) -> list[str]:
    """One model's Markdown: headline, stages and counts, stage errors, then every check."""
    passed = (verdict.ok and not errors) if exit_code is None else exit_code == 0
    counts = verdict.counts()
    word = "passed" if passed else "failed"
    lines = [
        f"### {gfm.STATUS_ICON['pass' if passed else 'fail']} {gfm.code(name)} {word}",
        "",
        f"Stages: {gfm.text(', '.join(stages))} — "
        + ", ".join(f"{n} {k}" for k, n in counts.items() if n),
        "",
    ]
    lines += [f"> **{gfm.text(e.stage)} could not run:** {gfm.text(e.message)}" for e in errors]
    if errors:
        lines.append("")
    if verdict.checks:
        ordered = sorted(verdict.checks, key=lambda c: _ORDER[c.status])
        rows = [
            (gfm.Md(gfm.STATUS_ICON[c.status.value]), gfm.code(c.id), _cell(c.observed),
             _cell(c.threshold), _cell(c.champion), c.message)
            for c in ordered
        ]  # fmt: skip
        lines += gfm.table(("", "check", "observed", "threshold", "champion", "message"), rows)
    lines += [f"- {gfm.text(n)}" for n in verdict.notes]
    if files and "report" in files:
        where = (run or RunContext()).workspace_path(str(files["report"]))
        lines += ["", f"Report: {gfm.code(where)}"]
    lines.append("")
    return lines


def comment_body(
    name: str,
    verdict: Verdict,
    stages: Sequence[str],
    files: Mapping[str, Path],
    run: RunContext,
) -> str:
    """The sticky pull-request comment of one model."""
    lines = ["## mlgate", "", *section(name, verdict, stages, files=files, run=run)]
    if run.run_url:
        lines += [gfm.link("Workflow run and artifacts", run.run_url), ""]
    return "\n".join(lines)


def text(result: CheckResult) -> Iterator[str]:
    """Plain lines for a terminal."""
    for mc in result.models:
        word = "PASS" if mc.exit_code == 0 else "FAIL"
        yield f"{mc.model.name}: {word}  ({', '.join(mc.stages)})"
        for check in mc.verdict.checks:
            if check.status in (Status.FAIL, Status.WARN):
                yield f"  {check.status.value:<4}  {check.id}: {check.message}"
        for note in mc.notes:
            yield f"  note: {note}"
        yield f"  verdict: {mc.verdict_path}"
    if result.skipped:
        yield "not touched by this change: " + ", ".join(result.skipped)


_ORDER = {Status.FAIL: 0, Status.WARN: 1, Status.PASS: 2, Status.SKIP: 3}


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return format_number(value)
    return str(value)


def _compact(data: object) -> str:
    return json.dumps(data, separators=(",", ":"), sort_keys=True)
