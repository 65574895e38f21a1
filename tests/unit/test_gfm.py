"""Text from a pull request stays inert in every Markdown mlgate writes: rendered by GitHub's own
CommonMark/GFM implementation (cmark-gfm), no link, image, mention, autolink or HTML survives."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import cmarkgfm
import pytest
import yaml
from cmarkgfm.cmark import Options

from mlgate import gfm
from mlgate.config.loader import load_config
from mlgate.github.actions import RunContext
from mlgate.governance import report as report_mod
from mlgate.governance.lineage import GitInfo
from mlgate.governance.registry_view import RegistryContext
from mlgate.governance.render_md import render_markdown
from mlgate.prcheck import render as prcheck_render
from mlgate.prcheck.plan import PlannedModel, PlanResult
from mlgate.registry.github_release import GitHubReleaseRequest, release_notes
from mlgate.verdict import Check, Status, Verdict, write_verdict

HOSTILE = (
    "![pixel](https://evil.example/p.png)",
    "[click me](https://evil.example/login)",
    "<https://evil.example/auto>",
    "https://evil.example/bare and www.evil.example",
    "@everyone @octocat @org/team",
    "mail me@evil.example",
    "<img src=x onerror=alert(1)>",
    "<script>alert(1)</script>",
    "<a href='https://evil.example'>x</a>",
    "<!-- hidden --> <details open>",
    "&#64;everyone &lt;b&gt;",
    "pipe | in | cell",
    "`tick` ``double`` ```fence```",
    "[ref]: https://evil.example/ref",
    "# heading",
    "- item",
    "1. ordered",
    "**bold** _em_ ~~strike~~ $x^2$",
    "owner/repo#12",
    "line\n\n# second paragraph\n</details>",
)

# Tags the writers themselves produce; anything else came from the input.
OURS = {
    "h2", "h3", "p", "table", "thead", "tbody", "tr", "th", "td", "code", "pre", "strong", "em",
    "ul", "li", "blockquote", "details", "summary", "sub", "br", "div", "span", "svg", "path",
}  # fmt: skip
ALLOWED_LINKS = ("https://ci.example/",)


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.skip = 0  # inside <code>/<pre>: GitHub links nothing there

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag in {"code", "pre"}:
            self.skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in {"code", "pre"}:
            self.skip -= 1

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.text.append(data)


def assert_inert(markdown: str) -> str:
    """Render as GitHub does and fail on anything the input could have made live."""
    html = cmarkgfm.github_flavored_markdown_to_html(markdown, options=Options.CMARK_OPT_UNSAFE)
    found = _Collect()
    found.feed(html)
    for tag, attrs in found.tags:
        assert tag in OURS or tag == "a", f"<{tag}> reached the rendered comment:\n{html}"
        if tag == "a":
            assert str(attrs.get("href", "")).startswith(ALLOWED_LINKS), html
        assert not any(k.startswith("on") for k in attrs), html
        assert tag != "img", html
    text = "".join(found.text)
    # What GitHub links after rendering, in text outside code: mentions, references, URLs.
    assert not re.search(r"(?<![\w`])@[A-Za-z0-9]", text), text
    assert not re.search(r"(?i)https?://evil|www\.evil", text), text
    assert not re.search(r"\w/\w+#\d", text), text
    return html


@pytest.mark.parametrize("value", HOSTILE)
def test_text_is_inert_and_reads_as_written(value: str) -> None:
    html = assert_inert(f"{gfm.text(value)}\n\n" + "\n".join(gfm.table(("a",), [(value,)])))
    plain = re.sub(r"<[^>]+>", "", html).replace(gfm.ZWSP, "")
    import html as html_mod

    shown = html_mod.unescape(plain)
    assert " ".join(value.split()) in " ".join(shown.split())


@pytest.mark.parametrize("value", HOSTILE)
def test_code_spans_and_summaries_are_inert(value: str) -> None:
    lines = [
        f"A {gfm.code(value)} span",
        *gfm.table(("file",), [(gfm.code(value),)]),
        *gfm.details(value, [gfm.text(value)]),
    ]
    html = assert_inert("\n".join(lines))
    assert html.count("<details>") == html.count("</details>") == 1


def test_link_only_links_http_urls() -> None:
    assert gfm.link("run", "https://ci.example/runs/1") == "[run](https://ci.example/runs/1)"
    assert "](" not in gfm.link("run", "javascript:alert(1)")


@pytest.fixture
def hostile_project(starter: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The starter with a hostile card, branch, author, metric, slice and column names."""
    evil = " ".join(HOSTILE)
    path = starter / "models" / "churn" / "model_card.yaml"
    card = yaml.safe_load(path.read_text())
    card["intended_use"] = evil
    card["limitations"] = list(HOSTILE)
    card["model_details"]["overview"] = evil
    path.write_text(yaml.safe_dump(card))
    info = GitInfo("b" * 40, "@everyone/[x](https://evil.example)", {"name": "@octocat <img>"},
                   dirty=False, date=None)  # fmt: skip
    monkeypatch.setattr(report_mod, "git_info", lambda _root, _run: info)
    no_registry = RegistryContext(available=False, note="<b>not</b> read @here")
    monkeypatch.setattr(report_mod, "registry_context", lambda _c, _m: no_registry)
    out = starter / ".mlgate" / "out" / "churn"
    checks = []
    for i, name in enumerate(HOSTILE[:6]):
        checks.append(
            Check(
                f"metric.m{i}.min",
                "metric",
                Status.FAIL,
                f"{name} below min",
                observed=0.5,
                threshold=0.6,
                champion=0.55,
                details={"metric": name, "challenger": 0.5, "direction": "higher"},
            )
        )
        checks.append(
            Check(
                f"slice.c{i}",
                "slice",
                Status.PASS,
                name,
                observed=0.7,
                threshold=0.6,
                details={"column": name, "value": name, "metric": name, "size": 80},
            )
        )
    write_verdict(out / "validation.json", Verdict("validation", "churn", tuple(checks), HOSTILE))
    drift = [
        Check(f"drift.column.{n}", "drift", Status.WARN, n, observed=0.01, threshold=0.05,
              details={"column": n, "test": "ks", "drifted": True})
        for n in HOSTILE
    ]  # fmt: skip
    write_verdict(out / "drift.json", Verdict("drift", "churn", tuple(drift)))
    return starter


def test_the_report_and_comment_are_inert(hostile_project: Path) -> None:
    cfg = load_config(hostile_project / "mlgate.yaml")
    model = cfg.model()
    data = report_mod.build_report_data(
        cfg, model, hostile_project / ".mlgate/out/churn", run=RunContext()
    )
    markdown = render_markdown(data, full_report="https://ci.example/runs/7")
    html = assert_inert(markdown)
    assert html.count("<details") == html.count("</details>")
    assert 'href="https://ci.example/runs/7"' in html  # our own link still works


def test_the_check_summary_and_comment_are_inert() -> None:
    checks = tuple(
        Check(f"c{i}", "metric", Status.FAIL, h, observed=h, threshold=h, champion=h)
        for i, h in enumerate(HOSTILE)
    )
    verdict = Verdict("check", "churn", checks, HOSTILE)
    lines = prcheck_render.section("@everyone [x](https://evil.example)", verdict, ["validate"])
    assert_inert("\n".join(lines))
    body = prcheck_render.comment_body("<img src=x>", verdict, ["validate"], {}, RunContext())
    assert_inert(body)


def test_the_plan_summary_is_inert() -> None:
    models = tuple(PlannedModel(h, h, h, HOSTILE[:6]) for h in HOSTILE[:3])
    result = PlanResult(None, None, None, (), models, HOSTILE, notes=HOSTILE)
    assert_inert(result.to_markdown())


def test_release_notes_are_inert() -> None:
    payload = {
        "metrics": dict.fromkeys(HOSTILE, 0.5),
        "verdicts": {h: {"ok": True, "digest": h} for h in HOSTILE[:4]},
        "image": {"reference": "`x` @everyone", "digest": "[d](https://evil.example)"},
        "run_url": "https://ci.example/runs/1",
        "note": " ".join(HOSTILE),
    }
    request = GitHubReleaseRequest(
        "@everyone", "v1.0.0", "[t](https://evil.example)", "c" * 40, payload
    )
    assert_inert(release_notes(request))
