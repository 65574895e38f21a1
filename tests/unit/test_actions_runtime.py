from __future__ import annotations

import io
from pathlib import Path

import pytest

from mlgate.github import actions


def test_command_escaping() -> None:
    line = actions.command("error", "50% bad\nnext", {"file": "a,b:c.yaml", "line": 3})
    assert line == "::error file=a%2Cb%3Ac.yaml,line=3::50%25 bad%0Anext"


def test_annotation_only_on_the_runner(monkeypatch: pytest.MonkeyPatch) -> None:
    out = io.StringIO()
    actions.annotation("error", "x", file="mlgate.yaml", line=4, stream=out)
    assert out.getvalue() == ""
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    actions.annotation(
        "error", "gate failed", file="mlgate.yaml", line=4, title="roc_auc", stream=out
    )
    assert out.getvalue() == "::error file=mlgate.yaml,line=4,title=roc_auc::gate failed\n"


def test_outputs_use_heredoc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "out"
    monkeypatch.setenv("GITHUB_OUTPUT", str(target))
    assert actions.set_output("report", "line1\nline2")
    name, rest = target.read_text().split("<<", 1)
    delimiter, value = rest.split("\n", 1)
    assert name == "report"
    assert value == f"line1\nline2\n{delimiter}\n"


def test_summary_appends(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert not actions.append_summary("x")
    target = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(target))
    actions.append_summary("# one")
    actions.append_summary("two\n")
    assert target.read_text() == "# one\ntwo\n"


def test_mask_and_group(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    out = io.StringIO()
    actions.mask("s3cr3t\n", stream=out)
    with actions.group("Lock", stream=out):
        out.write("inside\n")
    assert out.getvalue() == "::add-mask::s3cr3t\n::group::Lock\ninside\n::endgroup::\n"


def test_annotate_caps_each_level_and_paths_are_relative_to_the_checkout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    run = actions.RunContext(workspace=tmp_path)
    config = str(tmp_path / "models" / "mlgate.yaml")
    found = [actions.Annotation("error", f"e{i}", config, i + 1) for i in range(12)]
    found.append(actions.Annotation("warning", "w", "/elsewhere/x.yaml", 2, 3, "t"))
    out = io.StringIO()
    assert actions.annotate(found, run, stream=out, more="{n} more in the summary") == 2
    lines = out.getvalue().splitlines()
    assert lines[0] == "::error file=models/mlgate.yaml,line=1::e0"
    assert sum(line.startswith("::error ") for line in lines) == actions.ANNOTATION_LIMIT
    assert "::warning file=/elsewhere/x.yaml,line=2,col=3,title=t::w" in lines
    assert lines[-1] == "::notice::2 more in the summary"


def test_run_context_reads_the_runner_once() -> None:
    run = actions.RunContext.from_env(
        {
            "GITHUB_SERVER_URL": "https://ghe.example/",
            "GITHUB_REPOSITORY": "acme/models",
            "GITHUB_RUN_ID": "7",
            "GITHUB_REF": "refs/pull/12/merge",
            "GITHUB_TOKEN": "secret",
        }
    )
    assert run.run_url == "https://ghe.example/acme/models/actions/runs/7"
    assert run.repository_url == "https://ghe.example/acme/models"
    assert (run.ref_pr_number, run.has_token) == (12, True)
    empty = actions.RunContext.from_env({})
    assert (empty.run_url, empty.repository_url, empty.ref_pr_number) == (None, None, None)
    assert not empty.has_token
    assert "secret" not in repr(run)
