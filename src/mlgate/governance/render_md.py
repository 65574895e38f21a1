"""The report as GitHub-flavoured Markdown, sized for a pull-request comment.

The headline (verdicts, missing evidence, metrics) is always visible; everything long sits in a
collapsible ``<details>`` section. Text from the card and the verdicts is escaped so it cannot
break the tables or open HTML of its own. The comment poster cuts anything still too long.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from mlgate.gfm import STATUS_ICON, Md, code, details, fence, table, text
from mlgate.governance.compliance import STATUSES
from mlgate.governance.mermaid import CHARTS
from mlgate.governance.report_model import GATE_TITLES
from mlgate.verdict import DELTA_HEADER, DELTA_LEGEND, format_number

if TYPE_CHECKING:
    from mlgate.governance.report_model import ReportData
    from mlgate.verdict import Verdict

_PASS, _FAIL, _WARN = STATUS_ICON["pass"], STATUS_ICON["fail"], STATUS_ICON["warn"]
HEADLINE = {
    "pass": (_PASS, "PASS"),
    "fail": (_FAIL, "FAIL"),
    "warn": (_WARN, "WARN: stale evidence"),
}
GATE_ICON = {
    "pass": f"{_PASS} pass",
    "fail": f"{_FAIL} fail",
    "stale": f"{_WARN} stale",
    "stale-fail": f"{_FAIL} fail (stale)",
}
COMPLIANCE_ICON = {"present": _PASS, "partial": "🟡", "missing": _FAIL, "outside": "⚪"}
MAX_CHECK_ROWS = 100  # failures and warnings per verdict; the HTML and JSON reports have all
QUIET_ROWS = 30  # a verdict with more checks than this shows its passes as counts only
MAX_DRIFT_ROWS = 30  # drift columns listed; drifted and nearest to drift first
COMMENT_BUDGET = 60_000  # characters: GitHub's comment limit is 65,536


def num(value: float | None, signed: bool = False) -> str:
    return format_number(value, signed=signed)


def render_markdown(data: ReportData, *, full_report: str | None = None) -> str:
    """The whole report as Markdown, with Mermaid charts while it fits a pull-request comment
    (else the tables alone, and a line that says so)."""
    with_charts = _render(data, full_report, charts=True)
    if len(with_charts) <= COMMENT_BUDGET:
        return with_charts
    return _render(data, full_report, charts=False)


def _render(data: ReportData, full_report: str | None, *, charts: bool) -> str:
    lines = _headline(data, full_report)
    lines += _metrics(data)
    if charts:
        lines += _charts(data, "metrics")
    lines += details("Model card", _card(data))
    if data.slices:
        body = (_charts(data, "slices") if charts else []) + _slices(data)
        lines += details(f"Metrics per slice ({len(data.slices)})", body)
    if data.drift:
        drifted = sum(1 for d in data.drift if d.drifted)
        body = (_charts(data, "drift") if charts else []) + _drift(data)
        lines += details(f"Drift per column ({drifted} of {len(data.drift)} drifted)", body)
    if data.diagnostics.kind == "confusion_matrix":
        lines += details("Confusion matrix", _confusion(data))
    lines += details("Lineage", _lineage(data))
    lines += details("Registry", _registry(data))
    lines += details("Compliance checklist", _compliance(data))
    for kind, verdict in data.verdicts.items():
        lines += details(f"{kind} checks ({_counts(verdict.counts())})", _checks(verdict))
    if not charts:
        lines += ["", "_Charts left out to fit GitHub's comment size; the HTML report has them._"]
    lines += ["", f"<sub>mlgate {text(data.tool_version)} · governance report</sub>", ""]
    return "\n".join(lines)


def _charts(data: ReportData, key: str) -> list[str]:
    out: list[str] = []
    for chart in CHARTS[key](data):
        out += ["", *chart.block(), "", f"<sub>{text(chart.caption)}</sub>"]
    return out


def _checks(verdict: Verdict) -> list[str]:
    """Failures and warnings first, each on a row (up to MAX_CHECK_ROWS); passed and skipped
    checks as counts, listed only while the verdict is short."""
    loud = [c for c in verdict.checks if c.status.value in {"fail", "warn"}]
    quiet = [c for c in verdict.checks if c.status.value not in {"fail", "warn"}]
    shown = loud[:MAX_CHECK_ROWS]
    if len(verdict.checks) <= QUIET_ROWS:
        shown += quiet
    rows = [
        (_icon(c.status.value), c.id, c.message, _val(c.observed), _val(c.threshold),
         _val(c.champion))
        for c in shown
    ]  # fmt: skip
    champion = any(c.champion is not None for c in shown)
    head = ["", "check", "result", "observed", "threshold"] + (["champion"] if champion else [])
    body = table(head, [r if champion else r[:5] for r in rows]) if rows else []
    hidden = len(verdict.checks) - len(shown)
    if hidden:
        counts = ", ".join(
            f"{n} {s}" for s, n in verdict.counts().items() if n and s not in {"fail", "warn"}
        )
        body += ["", f"{hidden} more checks ({counts}) are listed in the HTML and JSON reports."]
    body += [f"- {text(n)}" for n in verdict.notes]
    return body


def _headline(data: ReportData, full_report: str | None) -> list[str]:
    git = data.lineage.git
    icon, word = HEADLINE[data.status]
    lines = [f"## {icon} mlgate report: {code(data.model.name)} — {word}", ""]
    where = []
    if git.commit:
        where.append(
            f"commit {code(git.commit[:12])}" + (" (uncommitted changes)" if git.dirty else "")
        )
    if git.branch:
        where.append(f"branch {code(git.branch)}")
    if git.author.get("name"):
        where.append(f"by {text(git.author['name'])}")
    if data.lineage.model_file:
        mf = data.lineage.model_file
        where.append(f"model {code(mf.path)} {code(mf.digest[:19] + '…')}")
    if where:
        lines += [" · ".join(where), ""]
    rows: list[Sequence[object]] = []
    for kind, verdict in data.verdicts.items():
        state = data.gate_state(kind)
        counts = _counts(verdict.counts())
        rows.append((GATE_TITLES.get(kind, kind), Md(GATE_ICON[state]), counts))
    for item in data.missing:
        state = f"{_WARN} unreadable" if item.present else f"{_WARN} missing"
        rows.append(
            (GATE_TITLES.get(item.kind, item.kind), Md(state), Md(f"run {code(item.produce)}"))
        )
    lines += table(("gate", "result", "checks"), rows)
    if data.missing:
        kinds = ", ".join(i.kind for i in data.missing)
        lines += [
            "",
            "> [!WARNING]",
            f"> Missing evidence: **{text(kinds)}**. This report cannot vouch for it.",
        ]
    stale = [i for i in data.evidence.items if i.stale]
    if stale:
        lines += [
            "",
            "> [!WARNING]",
            (
                "> Stale evidence: these verdicts judged another model, lock or data than this "
                "change has, so they count for nothing here:"
            ),
            ">",
        ]
        lines += [f"> - **{text(i.kind)}**: {text(i.stale)}; run {code(i.produce)}" for i in stale]
    failures = [(k, c) for k, v in data.verdicts.items() for c in v.failures]
    if failures:
        lines += ["", "**Failed checks**", ""]
        lines += [f"- {text(k)}: {text(c.message)}" for k, c in failures[:20]]
        if len(failures) > 20:
            lines.append(f"- …and {len(failures) - 20} more")
    if full_report:
        lines += ["", f"Full report (HTML with charts): {full_report}"]
    return lines


def _metrics(data: ReportData) -> list[str]:
    if not data.metrics:
        return ["", "_No metrics: no validation verdict and no training metrics file._"]
    rows = [
        (m.name, num(m.value), num(m.champion), num(m.delta, signed=True), _icon(m.status))
        for m in data.metrics
    ]
    head = ["", f"**Metrics** ({text(data.metrics_source)})", ""]
    legend = ["", f"<sub>{text(DELTA_LEGEND)}.</sub>"]
    return head + table(("metric", "challenger", "champion", DELTA_HEADER, ""), rows) + legend


def _card(data: ReportData) -> list[str]:
    card = data.card
    problems = [
        f"- {_FAIL} {text(p.location)}: {text(p.message)}" for p in data.card_result.problems
    ]
    if card is None:
        return [*problems, "", "_No readable model card._"]
    owners = ", ".join(o.name + (f" ({o.contact})" if o.contact else "") for o in card.owners)
    risk = (card.risk or "—") + (f": {card.risk_rationale}" if card.risk_rationale else "")
    ethics = "; ".join(
        c.name + (f" — {c.mitigation}" if c.mitigation else "") for c in card.ethical_considerations
    )
    rows: list[tuple[str, str]] = [
        ("name", card.name or data.model.name),
        ("overview", card.overview or "—"),
        ("owners", owners or "—"),
        ("license", card.license or "—"),
        ("risk level", risk),
        ("intended use", card.intended_use or "—"),
        ("out-of-scope uses", "; ".join(card.out_of_scope_uses) or "—"),
        ("limitations", "; ".join(card.limitations) or "—"),
        ("ethical considerations", ethics or "—"),
        ("training data", card.training_data or "—"),
        ("human oversight", card.human_oversight or "—"),
    ]
    return [*problems, "", f"From {code(card.source)}.", "", *table(("field", "value"), rows)]


def _slices(data: ReportData) -> list[str]:
    rows = [
        (s.column, s.value, s.metric, num(s.score), "—" if s.size is None else s.size,
         _icon(s.status))
        for s in data.slices
    ]  # fmt: skip
    return table(("column", "slice", "metric", "value", "rows", ""), rows)


def _drift(data: ReportData) -> list[str]:
    ordered = sorted(data.drift, key=lambda d: (not d.drifted, -d.severity, d.column))
    shown = ordered[:MAX_DRIFT_ROWS]
    rows = [
        (d.column, d.method or "—", num(d.statistic), num(d.threshold),
         Md("🔴 drifted" if d.drifted else "🟢 stable"))
        for d in shown
    ]  # fmt: skip
    out = table(("column", "test", "statistic", "threshold", ""), rows)
    hidden = ordered[len(shown) :]
    if hidden:
        drifted = sum(1 for d in hidden if d.drifted)
        what = f"{drifted} drifted, {len(hidden) - drifted} stable" if drifted else "all stable"
        out += ["", f"{len(hidden)} more columns ({what}) in the HTML report."]
    return out


def _confusion(data: ReportData) -> list[str]:
    diag = data.diagnostics
    head = ["actual \\ predicted", *diag.labels]
    rows = [(label, *row) for label, row in zip(diag.labels, diag.matrix, strict=True)]
    return [*table(head, rows), "", f"{diag.rows} rows of {text(diag.source)}."]


def _lineage(data: ReportData) -> list[str]:
    lin = data.lineage
    git = lin.git
    email = git.author.get("email")
    author = " ".join(x for x in (git.author.get("name"), f"<{email}>" if email else None) if x)
    rows: list[tuple[str, str]] = [
        ("commit", git.commit or "— (no commit)"),
        ("branch", git.branch or "—"),
        ("author", author or "—"),
        ("commit date", git.date or "—"),
        ("training command", lin.train_command or "—"),
        ("seed", "—" if lin.seed is None else str(lin.seed)),
        ("environment", f"{_env_line(lin.environment)} (recorded in: {lin.environment_source})"),
    ]  # fmt: skip
    if lin.run:
        rows.append(("training run", _run_line(lin.run)))
    out = table(("", ""), rows)
    prints = [(f.role, code(f.path), code(f.digest[:23] + "…")) for f in lin.fingerprints]
    if lin.model_file:
        mf = lin.model_file
        prints.append(("model", code(mf.path), code(mf.digest[:23] + "…")))
    if prints:
        out += ["", *table(("role", "file", "sha256"), prints)]
    if lin.params:
        out += [
            "",
            "Parameters:",
            "",
            *fence(json.dumps(dict(lin.params), indent=2, sort_keys=True, default=str), "json"),
        ]
    return out


def _run_line(run: Any) -> str:
    parts = [str(run.get("id", "")), str(run.get("status", ""))]
    if run.get("exit_code") is not None:
        parts.append(f"exit {run['exit_code']}")
    if isinstance(run.get("duration_s"), int | float):
        parts.append(f"{run['duration_s']:.1f} s")
    if run.get("commit"):
        parts.append(f"at {str(run['commit'])[:12]}")
    if run.get("inputs_fingerprint"):
        parts.append(f"inputs {str(run['inputs_fingerprint'])[:19]}…")
    return ", ".join(p for p in parts if p) or "—"


def _env_line(env: Any) -> str:
    parts = []
    if env.get("python"):
        parts.append(f"Python {env['python']}")
    packages = env.get("packages")
    if isinstance(packages, dict):
        parts += [f"{k} {v}" for k, v in sorted(packages.items())][:8]
    return ", ".join(parts) or "—"


def _registry(data: ReportData) -> list[str]:
    reg = data.registry
    if not reg.available:
        return [f"_{text(reg.note or 'registry not available')}_"]
    out = []
    if reg.champion:
        at = code((reg.champion.commit or "")[:12])
        stage = code(reg.champion_stage)
        out.append(f"Champion ({stage}): **{text(reg.champion.version)}** at {at}")
    elif reg.champion_stage:
        out.append(
            f"No version holds {code(reg.champion_stage)}: this would be the first champion."
        )
    if reg.stages:
        out += ["", *table(("stage", "version"), sorted(reg.stages.items()))]
    if reg.versions:
        rows = [
            (v.version, (v.commit or "")[:12], ", ".join(v.stages) or "—")
            for v in reg.versions[-10:]
        ]
        out += ["", "Latest versions:", "", *table(("version", "commit", "stages"), rows)]
    if reg.would:
        out += ["", "Merging this change would:", *[f"- {text(w)}" for w in reg.would]]
    if reg.note:
        out += ["", f"_{text(reg.note)}_"]
    return out or ["_The registry has no versions of this model yet._"]


def _compliance(data: ReportData) -> list[str]:
    out = ["Required card fields:", ""]
    required = data.card_result.required
    failed = {p.check_id for p in data.card_result.problems}
    out += [
        f"- {_FAIL if f'card.required.{r}' in failed else _PASS} {code(r)}" for r in required
    ] or ["- none required"]
    for fw in data.compliance:
        counts = ", ".join(f"{fw.count(s)} {s}" for s in STATUSES)
        out += ["", f"**{text(fw.framework.title)}** ({counts})", ""]
        rows = [
            (i.item.id, i.item.title, Md(f"{COMPLIANCE_ICON[i.status]} {i.status}"), i.reason)
            for i in fw.items
        ]
        out += table(("item", "documentation", "evidence", "reason"), rows)
    out += ["", "_A map of where the evidence is, not a legal assessment._"]
    return out


def _icon(status: str) -> Md:
    return Md(STATUS_ICON.get(status, ""))


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {s}" for s, n in counts.items() if n) or "no checks"


def _val(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return num(value)
    return str(value)
