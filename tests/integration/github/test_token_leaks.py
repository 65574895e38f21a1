"""Tokens never appear in logs, outputs or written files.

Every command that takes a GitHub token runs with a recognisable fake one — succeeding, failing
(a wrong token, GitHub down, a message that echoes the token back), with ``--debug`` tracebacks
and ``--json`` output — and every byte it printed or wrote (the project, its ``.mlgate``
outputs, tag messages, the step summary and outputs files) is searched for the token.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlgate import gitio
from tests.actions_harness import pull_request_event
from tests.conftest import Outcome, invoke
from tests.github.fake import OWNER, REPO, FakeGitHub
from tests.integration.registry_support import bare_remote, clone, commit, git, write_config

TOKEN = "ghp_MLGATEFAKETOKENshouldNEVERbePrinted0123"  # the fake under test
PIECES = (TOKEN, TOKEN[4:24], TOKEN[-16:])  # a cut or partly masked token leaks too


@pytest.fixture
def env(github: FakeGitHub, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    github.token = TOKEN
    for key, value in github.env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_EVENT_NAME", "pull_request")
    event = tmp_path / "event.json"
    event.write_text(json.dumps(pull_request_event(repository=f"{OWNER}/{REPO}", number=12)))
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(event))
    for name in ("GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "GITHUB_ENV"):
        path = tmp_path / "runner" / name.lower()
        path.parent.mkdir(exist_ok=True)
        path.touch()
        monkeypatch.setenv(name, str(path))
    return tmp_path


def _leaks(text: str) -> list[str]:
    return [p for p in PIECES if p in text]


def _scan_tree(root: Path) -> list[str]:
    found = []
    for path in root.rglob("*"):
        if path.is_file() and ".git" not in path.parts:
            data = path.read_bytes().decode("utf-8", "replace")
            found += [f"{path}: {p[:8]}..." for p in _leaks(data)]
    return found


def _no_leak(result: Outcome) -> None:
    """Nothing but the runner's mask command (which the runner strips from logs) shows it."""
    for stream in (result.stdout, result.stderr):
        shown = [line for line in stream.splitlines() if not line.startswith("::add-mask::")]
        assert _leaks("\n".join(shown)) == [], stream
        masks = [line for line in stream.splitlines() if line.startswith("::add-mask::")]
        assert all(line in (f"::add-mask::{TOKEN}", f"::add-mask::{TOKEN}x") for line in masks)


def test_the_pull_request_check_and_report_never_show_the_token(
    env: Path, starter: Path, github: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    gitio.git(["init", "--quiet"], starter)
    gitio.git(["add", "--all"], starter)
    gitio.git(["commit", "--quiet", "-m", "pr"], starter)
    runs = [
        invoke("check", "--post", "--stage", "scan", "--stage", "comment", cwd=starter),
        invoke(
            "--debug",
            "check",
            "--post",
            "--json",
            "--stage",
            "scan",
            "--stage",
            "comment",
            cwd=starter,
        ),
        invoke("report", "--post", "--json", cwd=starter),
    ]
    # GitHub failing in every way a token could end up in a message or a traceback.
    github.fail("GET", r"/comments", 502, times=50)
    runs.append(invoke("--debug", "check", "--post", "--stage", "comment", cwd=starter))
    github.faults.clear()
    github.fail("GET", r"/comments", 422, body={"message": f"bad token {TOKEN}"}, times=5)
    runs.append(invoke("--debug", "report", "--post", cwd=starter))
    github.faults.clear()
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN + "x")  # a wrong token: 401
    runs.append(invoke("--debug", "check", "--post", "--stage", "comment", cwd=starter))
    codes = [r.exit_code for r in runs]
    assert codes[:2] == [0, 0], [r.output for r in runs]
    # A comment GitHub does not take is a warning of the check (docs/guides); the report
    # command's posting failure is an external error.
    assert codes[3:] == [0, 3, 0], [r.output for r in runs]
    for result in runs:
        _no_leak(result)
    # The token is masked on the runner, and only that line carries it.
    masks = [line for r in runs for line in r.stderr.splitlines() if "::add-mask::" in line]
    assert masks
    assert _scan_tree(starter) == []
    assert _scan_tree(env / "runner") == []
    posted = json.dumps(github.comments)
    assert _leaks(posted) == []


def test_registry_release_never_shows_the_token(
    env: Path, github: FakeGitHub, tmp_path: Path
) -> None:
    origin = bare_remote(tmp_path / "origin.git")
    repo = clone(origin, tmp_path / "repo")
    commit(repo, "first")
    write_config(repo)
    git(repo, "push", "--quiet", "origin", "main")
    runs = [invoke("--debug", "registry", "register", "churn", "--push", "--release", cwd=repo)]
    github.fail("POST", r"/releases$", 500, body={"message": TOKEN}, times=50)
    commit(repo, "second")
    runs.append(invoke("--debug", "registry", "register", "churn", "--push", "--release",
                       "--json", cwd=repo))  # fmt: skip
    assert [r.exit_code for r in runs] == [0, 3], [r.output for r in runs]
    for result in runs:
        _no_leak(result)
    messages = gitio.git(["for-each-ref", "--format=%(contents)", "refs/tags"], repo).stdout
    assert _leaks(messages) == []
    assert _scan_tree(repo) == []
    assert _leaks(json.dumps(github.releases)) == []
