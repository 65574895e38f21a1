"""The HTML report in a real headless Chromium: it renders, with no console errors, no request
beyond the file itself, and every chart drawn; the screenshot is kept in tests/artifacts/."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.browser import chromium, visit
from tests.conftest import invoke
from tests.integration.governance.conftest import out_dir
from tests.report_fixtures import write_all

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"

PROBE = """JSON.stringify({
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


@pytest.mark.skipif(
    chromium() is None and not os.environ.get("CI"),
    reason="chromium is not installed here (CI installs it; apt-get install chromium)",
)
def test_the_html_report_renders_in_chromium(repo: Path) -> None:
    write_all(out_dir(repo))
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
        "Confusion matrix",
    ]
    for svg in probe["svgs"]:
        assert svg["width"] > 100, svg
        assert svg["height"] > 50, svg
        assert svg["shapes"] > 2, svg
    assert not probe["overflowing"]
    assert probe["height"] > 1600
    assert seen.screenshot.startswith(b"\x89PNG")
