"""Charts as inline SVG, written by hand: no plotting library, no external file, no script.

Each chart is a builder in CHARTS (name -> function of the report data); a builder returns None
when its data is absent, and the report then says why instead of drawing an empty frame.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

if TYPE_CHECKING:
    from mlgate.gates.results import SliceRow
    from mlgate.governance.report_model import ReportData

CHALLENGER = "#2f6fde"
CHAMPION = "#8c959f"
PASS = "#1a7f37"  # noqa: S105 - a colour
FAIL = "#cf222e"
WARN = "#bf8700"
INK = "#1f2328"
GRID = "#d0d7de"
FONT = "font-family:system-ui,-apple-system,'Segoe UI',sans-serif"


@dataclass(frozen=True)
class Chart:
    key: str
    title: str
    svg: str
    caption: str


def _fmt(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 1000 or abs(value) < 0.001:
        return f"{value:.3g}"
    return f"{value:.4f}".rstrip("0").rstrip(".")


def _svg(width: int, height: int, label: str, body: Sequence[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{_attr(label)}" '
        f'style="{FONT};font-size:12px">'
        f"<title>{escape(label)}</title>" + "".join(body) + "</svg>"
    )


def _attr(text: str) -> str:
    return escape(text, {'"': "&quot;"})


def _text(x: float, y: float, text: str, *, anchor: str = "start", fill: str = INK,
          weight: str = "normal", size: int = 12) -> str:  # fmt: skip
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" fill="{fill}" '
        f'font-size="{size}" font-weight="{weight}">{escape(text)}</text>'
    )


def _rect(x: float, y: float, w: float, h: float, fill: str, title: str | None = None) -> str:
    tip = f"<title>{escape(title)}</title>" if title else ""
    return (
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(w, 0):.1f}" height="{h:.1f}" '
        f'fill="{fill}">{tip}</rect>'
    )


def _scale_max(values: Sequence[float]) -> float:
    top = max((abs(v) for v in values), default=1.0)
    if top <= 1.0 and all(v >= 0 for v in values):
        return 1.0  # scores and rates read best on their natural 0..1 axis
    return top * 1.1 if top > 0 else 1.0


def _status_color(status: str) -> str:
    return {"fail": FAIL, "warn": WARN}.get(status, CHALLENGER)


def metrics_chart(data: ReportData) -> Chart | None:
    """Challenger (and champion, when known) per metric; each metric on its own axis."""
    rows = [m for m in data.metrics if m.value is not None]
    if not rows:
        return None
    label_w, bar_w, row_h = 150, 360, 46
    height = 30 + row_h * len(rows)
    body = [
        _rect(label_w, 10, 12, 10, CHALLENGER),
        _text(label_w + 16, 19, "challenger"),
        _rect(label_w + 100, 10, 12, 10, CHAMPION),
        _text(label_w + 116, 19, "champion"),
    ]
    for i, m in enumerate(rows):
        y = 30 + i * row_h
        if m.value is None:
            continue
        values = [m.value] + ([m.champion] if m.champion is not None else [])
        top = _scale_max(values)
        body.append(_text(label_w - 8, y + 20, m.name, anchor="end", weight="600"))
        width = bar_w * abs(m.value) / top
        color = _status_color(m.status)
        body.append(_rect(label_w, y + 4, width, 14, color, f"{m.name}: {_fmt(m.value)}"))
        body.append(_text(label_w + width + 6, y + 16, _fmt(m.value)))
        if m.champion is not None:
            cw = bar_w * abs(m.champion) / top
            tip = f"{m.name} champion: {_fmt(m.champion)}"
            body.append(_rect(label_w, y + 21, cw, 14, CHAMPION, tip))
            body.append(_text(label_w + cw + 6, y + 33, _fmt(m.champion), fill="#57606a"))
        body.append(f'<line x1="{label_w}" x2="{label_w}" y1="{y}" y2="{y + 40}" stroke="{GRID}"/>')
    caption = "Bars in red failed a gate. Each metric has its own axis."
    if not any(m.champion is not None for m in rows):
        caption = (
            "No champion values: the first model, or no validation against a champion. " + caption
        )
    svg = _svg(label_w + bar_w + 70, height, "Metrics: challenger against champion", body)
    return Chart("metrics", "Metrics: challenger against champion", svg, caption)


def _short(text: str, limit: int = 36) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _label_width(labels: Sequence[str]) -> int:
    """Room for the longest label (about 7 px a character at 12 px)."""
    return max(120, 7 * max((len(x) for x in labels), default=0) + 16)


def slices_chart(data: ReportData) -> Chart | None:
    """Per-slice metric values, one group per (column, metric), the champion's value beside
    each slice when there is one."""
    rows = [s for s in data.slices if s.score is not None]
    if not rows:
        return None
    groups: dict[tuple[str, str], list[SliceRow]] = {}
    for s in rows:
        groups.setdefault((s.column, s.metric), []).append(s)
    labels = [_short(s.value + (f" (n={s.size})" if s.size is not None else "")) for s in rows]
    label_w, bar_w, bar_h = _label_width(labels), 560, 15
    value_x = label_w + bar_w + 10
    them = data.registry.champion_stage or "champion"
    has_champion = any(s.champion is not None for s in rows)
    body: list[str] = []
    y = 8
    if has_champion:
        body += [
            _rect(label_w, y, 12, 10, CHALLENGER),
            _text(label_w + 16, y + 9, "this change"),
            _rect(label_w + 110, y, 12, 10, CHAMPION),
            _text(label_w + 126, y + 9, them),
        ]
        y += 20
    for (column, metric), items in groups.items():
        body.append(_text(8, y + 14, _short(f"{metric} by {column}", 80), weight="600"))
        y += 22
        values = [s.score for s in items if s.score is not None]
        values += [s.champion for s in items if s.champion is not None]
        top = _scale_max(values)
        scores = [s.score for s in items if s.score is not None]
        for s in items:
            if s.score is None:
                continue
            name = _short(s.value + (f" (n={s.size})" if s.size is not None else ""))
            height = bar_h * (2 if s.champion is not None else 1) + 4
            body.append(_text(label_w - 8, y + 12, name, anchor="end"))
            width = bar_w * abs(s.score) / top
            tip = f"{column}={s.value}: {metric} {_fmt(s.score)}"
            body.append(_rect(label_w, y, width, bar_h - 3, _status_color(s.status), tip))
            body.append(_text(value_x, y + 11, _fmt(s.score)))
            if s.champion is not None:
                cw = bar_w * abs(s.champion) / top
                tip = f"{column}={s.value}: {them} {metric} {_fmt(s.champion)}"
                body.append(_rect(label_w, y + bar_h, cw, bar_h - 3, CHAMPION, tip))
                body.append(_text(value_x, y + bar_h + 11, _fmt(s.champion), fill="#57606a"))
            y += height
        gap = max(scores) - min(scores)
        body.append(_text(label_w, y + 12, f"best-to-worst gap: {_fmt(gap)}", fill="#57606a"))
        y += 28
    svg = _svg(value_x + 70, y + 4, "Metrics per slice", body)
    caption = "Red bars are slices that failed a gate." + (
        f" Grey bars: {them} on the same slice." if has_champion else ""
    )
    return Chart("slices", "Metrics per slice", svg, caption)


def drift_chart(data: ReportData) -> Chart | None:
    """Every column's drift statistic against its threshold: p-values on a log scale (drift
    below the line), distances on a linear one (drift at or above it), a panel each; values
    in their own column so neither labels nor values are ever drawn over."""
    rows = [d for d in data.drift if d.statistic is not None]
    if not rows:
        return None
    labels = [_short(d.column) + (f" ({d.method})" if d.method else "") for d in rows]
    label_w, bar_w, row_h = _label_width(labels), 560, 20
    value_x = label_w + bar_w + 10
    body: list[str] = []
    y = 4
    for score in ("p-value", "distance"):
        panel = sorted((d for d in rows if d.score == score), key=lambda d: d.column)
        if not panel:
            continue
        log = score == "p-value"

        def pos(value: float, *, top: float, log: bool = log) -> float:
            if log:  # -log10(p): 1 = 0.1, 2 = 0.01 ...
                return bar_w * min(-math.log10(max(value, 1e-300)), top) / top
            return bar_w * min(abs(value), top) / top

        if log:
            top = max(3.0, *(-math.log10(max(d.statistic or 1.0, 1e-300)) for d in panel))
            top = min(top, 12.0)
            ticks = [(10.0 ** -k, f"1e-{k}" if k > 2 else _fmt(10.0 ** -k))
                     for k in range(int(top) + 1)]  # fmt: skip
        else:
            top = _scale_max([v for d in panel for v in (d.statistic, d.threshold) if v])
            ticks = [(top * k / 4, _fmt(top * k / 4)) for k in range(5)]
        title = (
            "p-value (log scale): drift below the dashed line"
            if log
            else "distance: drift at or above the dashed line"
        )
        body.append(_text(8, y + 14, title, weight="600"))
        y += 22
        for value, _label in ticks:
            x = label_w + pos(value, top=top)
            body.append(
                f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{y}" y2="{y + row_h * len(panel)}" '
                f'stroke="{GRID}"/>'
            )
        for d in panel:
            name = _short(d.column) + (f" ({d.method})" if d.method else "")
            body.append(_text(label_w - 8, y + 14, name, anchor="end"))
            stat = float(d.statistic or 0.0)
            width = max(pos(stat, top=top), 1.0)
            color = FAIL if d.drifted else PASS
            tip = f"{d.column}: {score} {_fmt(stat)}" + (" (drifted)" if d.drifted else "")
            body.append(_rect(label_w, y + 3, width, row_h - 7, color, tip))
            body.append(_text(value_x, y + 14, _fmt(stat), fill=FAIL if d.drifted else INK))
            if d.threshold is not None:
                tx = label_w + pos(float(d.threshold), top=top)
                body.append(
                    f'<line x1="{tx:.1f}" x2="{tx:.1f}" y1="{y + 1}" y2="{y + row_h - 1}" '
                    f'stroke="{INK}" stroke-width="2" stroke-dasharray="3,2"><title>threshold '
                    f"{_fmt(d.threshold)}</title></line>"
                )
            y += row_h
        for value, text in ticks:
            x = label_w + pos(value, top=top)
            body.append(_text(x, y + 14, text, anchor="middle", fill="#57606a", size=11))
        y += 30
    svg = _svg(value_x + 80, y, "Drift per column", body)
    caption = "Dashed line: each column's threshold; red columns drifted."
    return Chart("drift", "Drift per column", svg, caption)


MAX_DISTRIBUTIONS = 24


def distributions_chart(data: ReportData) -> Chart | None:
    """Reference against current distribution of each column (drifted first): shares per bin
    of a shared range for numeric columns, per category (the most frequent) otherwise."""
    rows = [d for d in data.drift if d.distribution]
    if not rows:
        return None
    rows = sorted(rows, key=lambda d: (not d.drifted, -d.severity, d.column))[:MAX_DISTRIBUTIONS]
    cell_w, cell_h, cols = 290, 150, 3
    body = [
        _rect(8, 6, 12, 10, CHAMPION),
        _text(24, 15, "reference"),
        _rect(100, 6, 12, 10, CHALLENGER),
        _text(116, 15, "current"),
    ]
    for i, d in enumerate(rows):
        dist = d.distribution or {}
        x0, y0 = 8 + (i % cols) * (cell_w + 12), 26 + (i // cols) * (cell_h + 14)
        ref = [float(v) for v in dist.get("reference", [])]
        cur = [float(v) for v in dist.get("current", [])]
        n = min(len(ref), len(cur))
        if not n:
            continue
        title = _short(d.column, 30) + (" — drifted" if d.drifted else "")
        body.append(_text(x0, y0 + 12, title, weight="600", fill=FAIL if d.drifted else INK))
        plot_top, plot_h = y0 + 20, cell_h - 44
        peak = max(*ref[:n], *cur[:n]) or 1.0
        slot = cell_w / n
        for j in range(n):
            for k, (value, color) in enumerate(((ref[j], CHAMPION), (cur[j], CHALLENGER))):
                h = plot_h * value / peak
                x = x0 + j * slot + 1 + k * (slot - 2) / 2
                tip = f"{d.column} {'reference' if k == 0 else 'current'}: {value:.1%}"
                body.append(_rect(x, plot_top + plot_h - h, (slot - 2) / 2, h, color, tip))
        base = plot_top + plot_h
        body.append(f'<line x1="{x0}" x2="{x0 + cell_w}" y1="{base}" y2="{base}" stroke="{GRID}"/>')
        if dist.get("kind") == "numeric":
            edges = [float(e) for e in dist.get("edges", [])]
            if edges:
                body.append(_text(x0, base + 14, _fmt(edges[0]), fill="#57606a", size=11))
                body.append(_text(x0 + cell_w, base + 14, _fmt(edges[-1]), anchor="end",
                                  fill="#57606a", size=11))  # fmt: skip
        else:
            cats = [str(c) for c in dist.get("categories", [])][:n]
            shown = ", ".join(_short(c, 10) for c in cats[:3]) + ("…" if len(cats) > 3 else "")
            body.append(_text(x0, base + 14, _short(shown, 44), fill="#57606a", size=11))
    rows_n = (len(rows) + cols - 1) // cols
    svg = _svg(8 + cols * (cell_w + 12), 30 + rows_n * (cell_h + 14), "Distributions", body)
    more = sum(1 for d in data.drift if d.distribution) - len(rows)
    caption = (
        "Share of rows per bin (numeric columns, on a shared range) or per category; "
        "reference in grey, current in blue."
        + (
            f" The {len(rows)} columns nearest to drift; {more} more in the JSON report."
            if more > 0
            else ""
        )
    )
    return Chart("distributions", "Reference and current distributions", svg, caption)


def confusion_chart(data: ReportData) -> Chart | None:
    """The confusion matrix as a shaded grid (rows: actual, columns: predicted)."""
    diag = data.diagnostics
    if diag.kind != "confusion_matrix" or not diag.matrix:
        return None
    n = len(diag.labels)
    cell = max(36, min(80, 320 // max(n, 1)))
    left, top = 110, 50
    peak = max(max(r) for r in diag.matrix) or 1
    body = [
        _text(left + cell * n / 2, 16, "predicted", anchor="middle", weight="600"),
        (
            f'<text transform="translate(14,{top + cell * n / 2:.1f}) rotate(-90)" '
            f'text-anchor="middle" font-weight="600" fill="{INK}">actual</text>'
        ),
    ]
    for j, label in enumerate(diag.labels):
        body.append(_text(left + cell * j + cell / 2, top - 8, label, anchor="middle"))
    for i, row in enumerate(diag.matrix):
        body.append(_text(left - 8, top + cell * i + cell / 2 + 4, diag.labels[i], anchor="end"))
        for j, count in enumerate(row):
            share = count / peak
            base = (47, 111, 222) if i == j else (207, 34, 46)
            mix = [round(255 - (255 - c) * (0.12 + 0.88 * share)) for c in base]
            fill = "#{:02x}{:02x}{:02x}".format(*mix)
            tip = f"actual {diag.labels[i]}, predicted {diag.labels[j]}: {count}"
            body.append(_rect(left + cell * j, top + cell * i, cell - 2, cell - 2, fill, tip))
            ink = "#ffffff" if share > 0.55 else INK
            x, y = left + cell * j + cell / 2 - 1, top + cell * i + cell / 2 + 4
            body.append(_text(x, y, str(count), anchor="middle", fill=ink, weight="600"))
    size = (left + cell * n + 20, top + cell * n + 16)
    svg = _svg(size[0], size[1], "Confusion matrix", body)
    return Chart("confusion", "Confusion matrix", svg, f"{diag.rows} rows of {diag.source}.")


def residuals_chart(data: ReportData) -> Chart | None:
    """Residuals (actual minus predicted) against the prediction."""
    diag = data.diagnostics
    if diag.kind != "residuals" or not diag.points:
        return None
    width, height, pad = 520, 300, 48
    xs = [p for p, _ in diag.points]
    ys = [r for _, r in diag.points]
    x0, x1 = min(xs), max(xs)
    span = max(abs(min(ys)), abs(max(ys))) or 1.0
    x1 = x1 if x1 > x0 else x0 + 1.0

    def px(x: float) -> float:
        return pad + (width - 2 * pad) * (x - x0) / (x1 - x0)

    def py(y: float) -> float:
        return height / 2 - (height / 2 - pad / 2) * y / span

    body = [
        f'<line x1="{pad}" x2="{width - pad}" y1="{py(0):.1f}" y2="{py(0):.1f}" stroke="{INK}"/>',
        _text(width / 2, height - 6, "prediction", anchor="middle", weight="600"),
        (
            f'<text transform="translate(12,{height / 2}) rotate(-90)" text-anchor="middle" '
            f'font-weight="600" fill="{INK}">residual</text>'
        ),
        _text(pad - 4, py(span) + 4, _fmt(span), anchor="end"),
        _text(pad - 4, py(-span) + 4, _fmt(-span), anchor="end"),
        _text(pad, height - 22, _fmt(x0), anchor="middle"),
        _text(width - pad, height - 22, _fmt(x1), anchor="middle"),
    ]
    body += [
        f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="2.5" fill="{CHALLENGER}" opacity="0.6"/>'
        for x, y in diag.points
        if math.isfinite(x) and math.isfinite(y)
    ]
    svg = _svg(width, height, "Residuals against prediction", body)
    caption = f"{len(diag.points)} of {diag.rows} rows of {diag.source}."
    return Chart("residuals", "Residuals against prediction", svg, caption)


# name -> builder, in the order the report shows them.
CHARTS: dict[str, Callable[[ReportData], Chart | None]] = {
    "metrics": metrics_chart,
    "slices": slices_chart,
    "drift": drift_chart,
    "distributions": distributions_chart,
    "confusion": confusion_chart,
    "residuals": residuals_chart,
}


def build_charts(data: ReportData) -> list[Chart]:
    return [chart for build in CHARTS.values() if (chart := build(data)) is not None]
