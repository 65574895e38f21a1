"""Verdicts as readable text: a row per check, then the failures and their mlgate.yaml lines."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mlgate.errors import Location
from mlgate.gates.results import metric_rows
from mlgate.verdict import DELTA_HEADER, DELTA_LEGEND, Check, Scalar, Status, Verdict, format_number

STYLES: dict[Status, dict[str, Any]] = {
    Status.PASS: {"fg": "green"},
    Status.FAIL: {"fg": "red", "bold": True},
    Status.WARN: {"fg": "yellow"},
    Status.SKIP: {"dim": True},
}
Styler = Callable[..., str]
Locator = Callable[[Check], "Location | None"]


def _plain(text: str, **_: object) -> str:
    return text


def number(value: Scalar) -> str:
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    return "0" if value == 0 else f"{value:.4g}"


def threshold_text(check: Check) -> str:
    if check.threshold is None:
        return ""
    op = check.details.get("op") if check.details else None
    return f"{op} {number(check.threshold)}" if op else number(check.threshold)


def metric_lines(verdict: Verdict) -> list[str]:
    """Challenger, champion and Δ per metric (the same Δ every report shows)."""
    rows = [m for m in metric_rows(verdict, None) if m.value is not None]
    if verdict.kind != "validation" or not rows:
        return []
    table = [("METRIC", "CHALLENGER", "CHAMPION", DELTA_HEADER)]
    table += [
        (m.name, format_number(m.value), format_number(m.champion),
         format_number(m.delta, signed=True))
        for m in rows
    ]  # fmt: skip
    widths = [max(len(r[i]) for r in table) for i in range(4)]
    out = ["  " + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
           for r in table]  # fmt: skip
    return [*out, f"  {DELTA_LEGEND}", ""]


QUIET_LIMIT = 12  # a verdict with more checks lists its passes as a count (--verbose: all)
_ORDER = {Status.FAIL: 0, Status.WARN: 1, Status.SKIP: 2, Status.PASS: 3}


def render_verdict(
    verdict: Verdict,
    *,
    style: Styler = _plain,
    locate: Locator | None = None,
    title: str = "",
    verbose: bool = True,
) -> str:
    """The verdict as a table (failures and warnings first; without ``verbose`` a long
    verdict's passes are a count) and a list of what failed (and where it is configured)."""
    counts = verdict.counts()
    summary = ", ".join(
        f"{n} {word}"
        for word, n in (
            ("failed", counts["fail"]),
            ("warned", counts["warn"]),
            ("passed", counts["pass"]),
            ("skipped", counts["skip"]),
        )
        if n
    )
    word = (
        style("PASS", fg="green", bold=True) if verdict.ok else style("FAIL", fg="red", bold=True)
    )
    head = title or f"{verdict.kind} of {verdict.model}"
    lines = [f"{head}: {word} ({summary or 'no checks'})"]
    lines += metric_lines(verdict)
    checks = sorted(verdict.checks, key=lambda c: _ORDER[c.status])
    hidden = 0
    if not verbose and len(checks) > QUIET_LIMIT:
        shown = [c for c in checks if c.status is not Status.PASS]
        hidden = len(checks) - len(shown)
        checks = shown
    champion = any(c.champion is not None for c in checks)
    head_row = ("STATUS", "CHECK", "OBSERVED", "THRESHOLD") + (("CHAMPION",) if champion else ())
    rows = [(*head_row, "REASON")]
    rows += [
        (
            c.status.value.upper(),
            c.id,
            number(c.observed),
            threshold_text(c),
            *((number(c.champion),) if champion else ()),
            c.message,
        )
        for c in checks
    ]
    n = len(head_row)
    widths = [max(len(r[i]) for r in rows) for i in range(n)]
    for i, row in enumerate(rows if checks else ()):
        cells = [row[j].ljust(widths[j]) for j in range(n)]
        if i:
            cells[0] = style(cells[0], **STYLES[checks[i - 1].status])
        lines.append("  " + "  ".join(cells) + "  " + row[n])
    if hidden:
        lines.append(f"  {hidden} passed checks not listed (--verbose lists every check)")
    failed = verdict.failures
    if failed:
        lines.append("")
        lines.append(f"{len(failed)} check{'s' * (len(failed) != 1)} failed:")
        for c in failed:
            where = locate(c) if locate else None
            lines.append(f"  - {c.id}: {c.message}")
            if where is not None:
                lines.append(f"    configured at {where}")
    lines.extend(f"note: {note}" for note in verdict.notes)
    return "\n".join(lines)
