"""Charts for the pull-request comment as Mermaid ``xychart-beta`` blocks, which GitHub renders
in comments (nothing is uploaded anywhere): challenger against champion per metric, per slice
with the champion beside each slice, and drift per column against its threshold.

Bars of two series share an x position in Mermaid, so challenger and champion get a category
each, side by side, with a zero in the other series. Labels are reduced to characters that
cannot end a quoted label or the code fence. Each builder returns None without data; the
Markdown report keeps its tables, so the charts are an addition, never the only copy.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mlgate.verdict import format_number

if TYPE_CHECKING:
    from mlgate.gates.results import DriftRow
    from mlgate.governance.report_model import ReportData

CHALLENGER = "#2f6fde"
CHAMPION = "#8c959f"
MAX_BARS = 40  # categories in one chart; more do not read in a comment
MAX_SLICE_CHARTS = 6
MAX_DRIFT_COLUMNS = 24
LABEL_CHARS = 28


@dataclass(frozen=True)
class MermaidChart:
    key: str
    title: str
    source: str  # the diagram, without the fence
    caption: str

    def block(self) -> list[str]:
        return ["```mermaid", self.source, "```"]


def label(value: object) -> str:
    """A category label Mermaid reads as one quoted string (and no fence can close)."""
    text = re.sub(r"[^\w .:=<>/+%()-]", "_", str(value), flags=re.ASCII)
    text = text.strip() or "_"
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1] + "~"


def _values(values: Sequence[float]) -> str:
    return "[" + ", ".join(_num(v) for v in values) + "]"


def _num(value: float) -> str:
    return "0" if value == 0 else f"{value:.6g}"


def _axis_top(values: Sequence[float]) -> float:
    top = max((v for v in values if math.isfinite(v)), default=1.0)
    if 0 <= top <= 1:
        return 1.0
    return float(f"{top * 1.1:.2g}") if top > 0 else 1.0


def _chart(
    title: str,
    categories: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],  # (kind "bar"/"line", values)
    *,
    y_title: str,
    colors: Sequence[str],
    horizontal: bool = True,
) -> str:
    values = [v for _, vs in series for v in vs]
    lines = [
        '%%{init: {"themeVariables": {"xyChart": {"plotColorPalette": "'
        + ", ".join(colors)
        + '"}}}}%%',
        "xychart-beta" + (" horizontal" if horizontal else ""),
        f'    title "{label(title)}"',
        "    x-axis [" + ", ".join(f'"{c}"' for c in categories) + "]",
        f'    y-axis "{label(y_title)}" 0 --> {_num(_axis_top(values))}',
    ]
    lines += [f"    {kind} {_values(vs)}" for kind, vs in series]
    return "\n".join(lines)


def _paired(
    names: Sequence[str], mine: Sequence[float], theirs: Sequence[float | None], them: str
) -> tuple[list[str], list[float], list[float]]:
    """Categories and two series with challenger and champion side by side."""
    categories: list[str] = []
    ours: list[float] = []
    other: list[float] = []
    for name, value, champion in zip(names, mine, theirs, strict=True):
        categories.append(label(name))
        ours.append(value)
        other.append(0.0)
        if champion is not None:
            categories.append(label(f"{name} ({them})"))
            ours.append(0.0)
            other.append(champion)
    return _unique(categories), ours, other


def _unique(categories: list[str]) -> list[str]:
    """Mermaid merges equal labels: make each one distinct."""
    seen: dict[str, int] = {}
    out = []
    for c in categories:
        n = seen.get(c, 0)
        seen[c] = n + 1
        out.append(c if n == 0 else label(f"{c[: LABEL_CHARS - 3]} {n + 1}"))
    return out


def metrics_chart(data: ReportData) -> list[MermaidChart]:
    rows = [m for m in data.metrics if m.value is not None][: MAX_BARS // 2]
    if not rows:
        return []
    them = data.registry.champion_stage or "champion"
    # Metrics on a 0..1 scale share a chart; any other metric gets its own axis.
    groups: list[list[int]] = [[]]
    for i, m in enumerate(rows):
        values = [m.value, m.champion]
        if all(v is None or 0 <= v <= 1 for v in values):
            groups[0].append(i)
        else:
            groups.append([i])
    charts = []
    for n, group in enumerate(g for g in groups if g):
        chosen = [rows[i] for i in group]
        categories, ours, other = _paired(
            [m.name for m in chosen],
            [float(m.value or 0.0) for m in chosen],
            [m.champion for m in chosen],
            them,
        )
        has_champion = any(m.champion is not None for m in chosen)
        series: list[tuple[str, Sequence[float]]] = [("bar", ours)]
        if has_champion:
            series.append(("bar", other))
        title = "Metrics: challenger" + (f" and {them}" if has_champion else "")
        source = _chart(title, categories, series, y_title="value",
                        colors=(CHALLENGER, CHAMPION))  # fmt: skip
        caption = (
            f"Blue: this change; grey: {them}."
            if has_champion
            else "No champion to compare with: the challenger's values only."
        )
        charts.append(MermaidChart(f"metrics-{n}", title, source, caption))
    return charts


def slices_chart(data: ReportData) -> list[MermaidChart]:
    groups: dict[tuple[str, str], list[tuple[str, float, float | None]]] = {}
    for s in data.slices:
        if s.score is not None:
            groups.setdefault((s.column, s.metric), []).append((s.value, s.score, s.champion))
    them = data.registry.champion_stage or "champion"
    charts = []
    for n, ((column, metric), found) in enumerate(list(groups.items())[:MAX_SLICE_CHARTS]):
        items = found[: MAX_BARS // 2]
        categories, ours, other = _paired(
            [v for v, _, _ in items], [s for _, s, _ in items], [c for _, _, c in items], them
        )
        has_champion = any(c is not None for _, _, c in items)
        series: list[tuple[str, Sequence[float]]] = [("bar", ours)]
        if has_champion:
            series.append(("bar", other))
        title = f"{metric} by {column}"
        source = _chart(title, categories, series, y_title=metric,
                        colors=(CHALLENGER, CHAMPION))  # fmt: skip
        scores = [s for _, s, _ in items]
        caption = f"Best-to-worst gap {format_number(max(scores) - min(scores))}." + (
            f" Grey: {them} on the same slice." if has_champion else ""
        )
        charts.append(MermaidChart(f"slices-{n}", title, source, caption))
    return charts


def drift_chart(data: ReportData) -> list[MermaidChart]:
    """p-value columns and distance columns apart (each on its own axis), each bar with its
    threshold as a line; the columns nearest to or past their threshold first."""
    charts = []
    for score, word in (("p-value", "below"), ("distance", "above")):
        rows = [d for d in data.drift if d.statistic is not None and d.score == score]
        if not rows:
            continue
        shown = sorted(rows, key=_by_severity)[:MAX_DRIFT_COLUMNS]
        categories = _unique([label(d.column) for d in shown])
        stats = [float(d.statistic or 0.0) for d in shown]
        limits = [float(d.threshold or 0.0) for d in shown]
        title = f"Drift per column: {score}"
        source = _chart(title, categories, [("bar", stats), ("line", limits)],
                        y_title=score, colors=(CHALLENGER, "#cf222e"))  # fmt: skip
        more = len(rows) - len(shown)
        caption = (
            f"Red line: each column's threshold; a {score} {word} it is drift. "
            + (
                f"The {len(shown)} columns nearest to drift; {more} more in the HTML report."
                if more
                else ""
            )
        ).strip()
        charts.append(MermaidChart(f"drift-{score}", title, source, caption))
    return charts


def _by_severity(row: DriftRow) -> tuple[float, str]:
    return (-row.severity, row.column)


# name -> builder, in the order the comment shows them.
CHARTS: dict[str, Callable[[ReportData], list[MermaidChart]]] = {
    "metrics": metrics_chart,
    "slices": slices_chart,
    "drift": drift_chart,
}
