"""The HTML report in a real headless Chromium: it renders, with no console errors, no request
beyond the file itself, and every chart drawn; the screenshot is kept in tests/artifacts/."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from mlgate.verdict import write_verdict
from tests.browser import chromium, mermaid_js, visit
from tests.conftest import invoke
from tests.integration.governance.conftest import out_dir
from tests.report_fixtures import write_all

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"

# Every text box of an SVG, in page coordinates, and its outer size: what the geometry
# assertions read (no two labels overlap, nothing is drawn outside the chart, minimum widths).
GEOMETRY_JS = """
function geometry(svg) {
  const box = svg.getBoundingClientRect();
  const texts = [...svg.querySelectorAll("text")]
    .filter(t => t.textContent.trim() && t.getClientRects().length)
    .map(t => { const b = t.getBoundingClientRect(), text = t.textContent.trim();
                return {text, l: b.left, t: b.top, r: b.right, b: b.bottom}; });
  const bars = [...svg.querySelectorAll("rect")].map(r => r.getBoundingClientRect())
    .filter(b => b.width > 0 && b.height > 0).length;
  return {width: box.width, height: box.height, left: box.left, top: box.top,
          right: box.right, bottom: box.bottom, texts, bars};
}
"""


PROBE = (
    GEOMETRY_JS
    + """JSON.stringify({
  charts: [...document.querySelectorAll("figure.chart svg")].map(geometry),
  title: document.title,
  headline: document.querySelector("h1").innerText,
  svgs: [...document.querySelectorAll("figure.chart svg")].map(s => ({
    label: s.getAttribute("aria-label"),
    width: s.getBoundingClientRect().width,
    height: s.getBoundingClientRect().height,
    shapes: s.querySelectorAll("rect, circle").length,
  })),
  height: document.body.scrollHeight,
  overflowing: document.documentElement.scrollWidth > window.innerWidth,
  scripts: document.scripts.length,
  stylesheets: document.styleSheets.length,
})"""
)


@pytest.mark.skipif(
    chromium() is None and not os.environ.get("CI"),
    reason="chromium is not installed here (CI installs it; apt-get install chromium)",
)
def test_the_html_report_renders_in_chromium(repo: Path) -> None:
    write_all(out_dir(repo), distributions=True)
    result = invoke("report", "--format", "html", cwd=repo)
    assert result.exit_code == 0, result.output
    page = out_dir(repo) / "report.html"
    seen = visit(page, PROBE)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "report.png").write_bytes(seen.screenshot)
    (ARTIFACTS / "report.html").write_bytes(page.read_bytes())
    assert seen.problems == [], json.dumps(seen.problems, indent=2)
    assert seen.requests == [page.resolve().as_uri()]  # nothing fetched but the file itself
    probe = seen.evaluated
    assert probe["title"] == "mlgate report: churn"
    assert probe["headline"].startswith("PASS")
    assert probe["scripts"] == 0
    assert probe["stylesheets"] == 1  # the inline <style>
    labels = [s["label"] for s in probe["svgs"]]
    assert labels == [
        "Metrics: challenger against champion",
        "Metrics per slice",
        "Drift per column",
        "Distributions",
        "Confusion matrix",
    ]
    for svg in probe["svgs"]:
        assert svg["width"] > 100, svg
        assert svg["height"] > 50, svg
        assert svg["shapes"] > 2, svg
    for label, chart in zip(labels, probe["charts"], strict=True):
        assert_geometry(chart, min_width=250 if label == "Confusion matrix" else 560)
    assert not probe["overflowing"]
    assert probe["height"] > 1600
    assert seen.screenshot.startswith(b"\x89PNG")


def overlaps(texts: list[dict[str, object]], slack: float = 1.0) -> list[tuple[str, str]]:
    """Pairs of text boxes that overlap by more than ``slack`` pixels both ways."""
    found = []
    for i, a in enumerate(texts):
        for b in texts[i + 1 :]:
            dx = min(float(a["r"]), float(b["r"])) - max(float(a["l"]), float(b["l"]))  # type: ignore[arg-type]
            dy = min(float(a["b"]), float(b["b"])) - max(float(a["t"]), float(b["t"]))  # type: ignore[arg-type]
            if dx > slack and dy > slack:
                found.append((str(a["text"]), str(b["text"])))
    return found


def assert_geometry(chart: dict[str, Any], *, min_width: float) -> None:
    texts = chart["texts"]
    assert isinstance(texts, list)
    assert float(chart["width"]) >= min_width, chart
    assert not overlaps(texts), overlaps(texts)
    for t in texts:  # every label inside its chart
        assert float(t["l"]) >= float(chart["left"]) - 1, (t, chart["left"])
        assert float(t["r"]) <= float(chart["right"]) + 1, (t, chart["right"])


MERMAID_PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>comment charts</title>
<script>{script}</script></head><body style="width:880px">
<script type="application/json" id="blocks">{blocks}</script></body></html>"""

MERMAID_PROBE = (
    GEOMETRY_JS
    + """
(async () => {
  mermaid.initialize({startOnLoad: false, securityLevel: "strict"});
  const blocks = JSON.parse(document.getElementById("blocks").textContent);
  const out = [];
  for (let i = 0; i < blocks.length; i++) {
    const host = document.createElement("div");
    document.body.appendChild(host);
    try {
      const {svg} = await mermaid.render("chart" + i, blocks[i]);
      host.innerHTML = svg;
      out.push({ok: true, ...geometry(host.querySelector("svg"))});
    } catch (e) { out.push({ok: false, error: String(e)}); }
  }
  return JSON.stringify(out);
})()
"""
)


def mermaid_blocks(markdown: str) -> list[str]:
    return re.findall(r"^```mermaid\n(.*?)\n```$", markdown, flags=re.M | re.S)


@pytest.mark.skipif(
    (chromium() is None or not (shutil.which("npm") or os.environ.get("MLGATE_MERMAID_JS")))
    and not os.environ.get("CI"),
    reason="chromium or npm is not installed here (CI installs both)",
)
def test_the_comment_charts_render_with_mermaid(repo: Path) -> None:
    write_all(out_dir(repo))
    result = invoke("report", "--format", "md", cwd=repo)
    assert result.exit_code == 0, result.output
    markdown = (out_dir(repo) / "report.md").read_text()
    blocks = mermaid_blocks(markdown)
    assert len(blocks) >= 4  # metrics, slices (2), drift
    script = mermaid_js()
    assert script is not None
    page = out_dir(repo) / "comment-charts.html"
    page.write_text(
        MERMAID_PAGE.replace(
            "{script}", script.read_text().replace("</script", "<\\/script")
        ).replace("{blocks}", json.dumps(blocks).replace("</", "<\\/"))
    )
    seen = visit(page, MERMAID_PROBE)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "comment-charts.png").write_bytes(seen.screenshot)
    assert seen.problems == [], json.dumps(seen.problems, indent=2)
    charts = json.loads(json.dumps(seen.evaluated))
    assert len(charts) == len(blocks)
    for chart, block in zip(charts, blocks, strict=True):
        assert chart["ok"], (chart.get("error"), block)
        assert chart["bars"] >= 2, block
        assert_geometry(chart, min_width=400)


@pytest.mark.skipif(
    chromium() is None and not os.environ.get("CI"),
    reason="chromium is not installed here (CI installs it; apt-get install chromium)",
)
def test_a_wide_model_keeps_every_chart_readable(repo: Path) -> None:
    """200 columns: the drift chart grows with them, no label overlaps, the comment fits."""
    from tests.report_fixtures import wide_drift_verdict

    write_all(out_dir(repo), distributions=True)
    write_verdict(out_dir(repo) / "drift.json", wide_drift_verdict(200))
    result = invoke("report", cwd=repo)
    assert result.exit_code == 0, result.output
    markdown = (out_dir(repo) / "report.md").read_text()
    assert len(markdown) < 60_000, len(markdown)
    assert mermaid_blocks(markdown)  # the charts still fit
    assert "more columns" in markdown  # the table is summarised; the HTML has every column
    page = out_dir(repo) / "report.html"
    assert page.read_text().count("<td>col_") >= 200
    seen = visit(page, PROBE)
    (ARTIFACTS / "report-200-columns.png").write_bytes(seen.screenshot)
    labels = [s["label"] for s in seen.evaluated["svgs"]]
    for label, chart in zip(labels, seen.evaluated["charts"], strict=True):
        assert_geometry(chart, min_width=250 if label == "Confusion matrix" else 560)
    drift = seen.evaluated["charts"][labels.index("Drift per column")]
    assert drift["height"] >= 200 * 18  # a row per column, never squeezed
