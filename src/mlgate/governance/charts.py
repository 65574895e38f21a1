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
    from mlgate.governance.report import ReportData

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


def slices_chart(data: ReportData) -> Chart | None:
    """Per-slice metric values, one group per (column, metric)."""
    rows = [s for s in data.slices if s.score is not None]
    if not rows:
        return None
    groups: dict[tuple[str, str], list[tuple[str, float, str, int | None]]] = {}
    for s in rows:
        if s.score is None:
            continue
        groups.setdefault((s.column, s.metric), []).append((s.value, s.score, s.status, s.size))
    label_w, bar_w, bar_h = 150, 340, 16
    body: list[str] = []
    y = 8
    for (column, metric), items in groups.items():
        body.append(_text(8, y + 14, f"{metric} by {column}", weight="600"))
        y += 22
        top = _scale_max([v for _, v, _, _ in items])
        scores = [v for _, v, _, _ in items]
        gap = max(scores) - min(scores)
        for value, score, status, size in items:
            width = bar_w * abs(score) / top
            label = f"{value}" + (f" (n={size})" if size is not None else "")
            body.append(_text(label_w - 8, y + 12, label, anchor="end"))
            tip = f"{column}={value}: {metric} {_fmt(score)}"
            body.append(_rect(label_w, y, width, bar_h - 3, _status_color(status), tip))
            body.append(_text(label_w + width + 6, y + 11, _fmt(score)))
            y += bar_h
        body.append(_text(label_w, y + 12, f"best-to-worst gap: {_fmt(gap)}", fill="#57606a"))
        y += 26
    svg = _svg(label_w + bar_w + 70, y + 4, "Metrics per slice", body)
    return Chart("slices", "Metrics per slice", svg, "Red bars are slices that failed a gate.")


def drift_chart(data: ReportData) -> Chart | None:
    """The drift statistic of every column against its threshold (drifted columns in red)."""
    rows = [d for d in data.drift if d.statistic is not None]
    if not rows:
        return None
    names = [d.column + (f" ({d.method})" if d.method else "") for d in rows]
    # Room for the longest label (about 7 px a character at the chart's font size).
    label_w, bar_w, row_h = max(150, 7 * max(len(n) for n in names) + 16), 340, 22
    body: list[str] = []
    for i, (d, name) in enumerate(zip(rows, names, strict=True)):
        if d.statistic is None:
            continue
        y = 8 + i * row_h
        values = [d.statistic] + ([d.threshold] if d.threshold is not None else [])
        top = _scale_max(values)
        body.append(_text(label_w - 8, y + 13, name, anchor="end"))
        width = bar_w * abs(d.statistic) / top
        color = FAIL if d.drifted else PASS
        tip = f"{d.column}: {_fmt(d.statistic)}" + (" (drifted)" if d.drifted else "")
        body.append(_rect(label_w, y + 2, width, row_h - 8, color, tip))
        body.append(_text(label_w + width + 6, y + 13, _fmt(d.statistic)))
        if d.threshold is not None:
            tx = label_w + bar_w * abs(d.threshold) / top
            body.append(
                f'<line x1="{tx:.1f}" x2="{tx:.1f}" y1="{y}" y2="{y + row_h - 4}" '
                f'stroke="{INK}" stroke-dasharray="3,2"><title>threshold {_fmt(d.threshold)}'
                "</title></line>"
            )
    svg = _svg(label_w + bar_w + 70, 16 + row_h * len(rows), "Drift per column", body)
    caption = (
        "Dashed line: the column's threshold. p-values drift below it, distances above it; "
        "red columns drifted."
    )
    return Chart("drift", "Drift per column", svg, caption)


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
    "confusion": confusion_chart,
    "residuals": residuals_chart,
}


def build_charts(data: ReportData) -> list[Chart]:
    return [chart for build in CHARTS.values() if (chart := build(data)) is not None]
