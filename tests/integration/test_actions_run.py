"""The composite actions, run step by step in bash with the runner's contract, on the starter."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from mlgate import __version__, gitio, proc
from mlgate.verdict import read_verdict
from tests.actions_harness import installed_mlgate, pip_cache_dir, pull_request_event, run_action
from tests.conftest import invoke

HOSTILE = "x$(touch PWNED1)`touch PWNED2`'\"\n$((1/0));touch PWNED3"


@pytest.fixture
def repo(starter: Path) -> dict[str, str | Path]:
    """The starter, trained, locked and committed on main, with a branch changing train.py."""
    gitio.git(["init", "--quiet"], starter)
    gitio.git(["add", "--all"], starter)  # the lock fingerprints tracked code
    for command in ("train", "lock"):
        done = invoke(command, cwd=starter)
        assert done.exit_code == 0, done.output
    gitio.git(["add", "--all"], starter)
    gitio.git(["add", "--force", "models/churn/artifacts"], starter)
    gitio.git(["commit", "--quiet", "-m", "starter"], starter)
    base = gitio.head_commit(starter)
    gitio.git(["checkout", "--quiet", "-b", "feature"], starter)
    train = starter / "models" / "churn" / "train.py"
    train.write_text(train.read_text() + "\n# tuned\n")
    assert invoke("lock", cwd=starter).exit_code == 0
    gitio.git(["commit", "--quiet", "-am", "tune"], starter)
    return {"path": starter, "base": str(base), "head": str(gitio.head_commit(starter))}


def _env() -> dict[str, str]:
    return {"MLGATE_BIN": installed_mlgate(), "NO_COLOR": "1"}


def test_plan_action_outputs_a_matrix_of_touched_models(repo: dict, tmp_path: Path) -> None:
    event = pull_request_event(base_sha=repo["base"], head_sha=repo["head"])
    run = run_action(
        "plan", workspace=repo["path"], temp=tmp_path / "runner", event=event, env=_env()
    )
    assert run.exit_code == 0, run.stderr
    matrix = json.loads(run.outputs["matrix"])
    assert matrix == {
        "include": [
            {"model": "churn", "tag_name": "churn", "path": "models/churn", "artifact": "churn"}
        ]
    }
    assert run.outputs["any"] == "true"
    assert run.outputs["count"] == "1"
    assert run.outputs["base"] == repo["base"]
    plan = json.loads(run.outputs["plan"])
    assert plan["models"][0]["reasons"] == [
        "models/churn/train.py (code (default **/*.py))",
        "mlgate.lock: its entry changed",
    ]
    assert "### mlgate plan" in run.summary
    assert "| `churn` | `models/churn` |" in run.summary


def test_plan_action_with_an_unrelated_change_selects_nothing(repo: dict, tmp_path: Path) -> None:
    root = repo["path"]
    gitio.git(["reset", "--quiet", "--hard", repo["base"]], root)
    (root / "NOTES.md").write_text("notes\n")
    gitio.git(["add", "NOTES.md"], root)
    gitio.git(["commit", "--quiet", "-m", "notes"], root)
    event = pull_request_event(base_sha=repo["base"])
    run = run_action("plan", workspace=root, temp=tmp_path / "runner", event=event, env=_env())
    assert run.exit_code == 0, run.stderr
    assert run.outputs["any"] == "false"
    assert json.loads(run.outputs["matrix"]) == {"include": []}
    assert "No model is touched" in run.summary


def test_check_action_passes_and_outputs_the_verdict(repo: dict, tmp_path: Path) -> None:
    event = pull_request_event(base_sha=repo["base"], head_sha=repo["head"])
    run = run_action(
        "check",
        workspace=repo["path"],
        temp=tmp_path / "runner",
        event=event,
        inputs={"post": "false"},
        env=_env(),
    )
    assert run.exit_code == 0, run.stdout + run.stderr
    assert run.outputs["ok"] == "true"
    assert run.outputs["exit-code"] == "0"
    verdict = read_verdict(Path(run.outputs["verdict"]))
    assert verdict.kind == "check"
    assert verdict.model == "churn"
    assert verdict.ok
    assert verdict.context["stages"] == ["train", "scan", "repro", "validate", "report"]
    kinds = {c.kind for c in verdict.checks}
    assert {"scan", "repro", "card"} <= kinds
    assert run.outputs["report"].endswith("report.html")
    # A folded group per stage, each closed with its elapsed time.
    assert "::group::churn: train (1/5)" in run.stdout
    assert "::group::churn: report (5/5)" in run.stdout
    assert run.stdout.count("::endgroup::") >= 6
    assert json.loads(run.outputs["verdicts"]) == {"churn": run.outputs["verdict"]}
    assert json.loads(run.outputs["models"]) == ["churn"]
    assert run.outputs["failed"] == "0"
    assert "## mlgate check" in run.summary
    assert "`churn` passed" in run.summary
    assert "::group::mlgate check: details" in run.stdout
    assert not run.commands("error")


def test_check_action_points_a_failure_at_the_configuring_line(repo: dict, tmp_path: Path) -> None:
    root = repo["path"]
    model = root / "models" / "churn" / "artifacts" / "model.skops"
    model.write_bytes(b"\x80\x04\x95\x1c\x00\x00\x00\x00\x00\x00\x00\x8c\x05posix\x8c\x06system")
    # Only the scan: the train stage would replace the file with a freshly trained model.
    inputs = {"post": "false", "model": "churn", "stages": "scan"}
    run = run_action("check", workspace=root, temp=tmp_path / "r1", inputs=inputs, env=_env())
    assert run.exit_code == 1
    assert run.failed_step == "mlgate check"
    errors = run.commands("error")
    line = next(
        n
        for n, text in enumerate((root / "mlgate.yaml").read_text().splitlines(), 1)
        if "file: artifacts/model.skops" in text
    )
    assert any(f"file=mlgate.yaml,line={line}," in e for e in errors), errors
    assert "❌ `churn` failed" in run.summary

    lenient = run_action(
        "check",
        workspace=root,
        temp=tmp_path / "r2",
        inputs={**inputs, "fail-on-gate": "false"},
        env=_env(),
    )
    assert lenient.exit_code == 0
    assert lenient.outputs["ok"] == "false"
    assert lenient.commands("warning")


def test_hostile_pull_request_text_is_data_never_code(repo: dict, tmp_path: Path) -> None:
    root = repo["path"]
    event = pull_request_event(title=HOSTILE, head_ref=HOSTILE, base_sha=repo["base"])
    temp = tmp_path / "runner"
    checked = run_action(
        "check",
        workspace=root,
        temp=temp,
        event=event,
        inputs={"model": HOSTILE, "post": "false"},
        env=_env(),
    )
    planned = run_action(
        "plan", workspace=root, temp=temp, event=event, inputs={"base": HOSTILE}, env=_env()
    )
    for run in (checked, planned):
        assert run.exit_code == 2, run.stdout + run.stderr
    assert "no model named 'x$(touch PWNED1)`touch PWNED2`" in checked.stderr
    assert "the base revision 'x$(touch PWNED1)" in planned.stderr
    for where in (root, temp, Path.cwd()):
        assert not list(where.rglob("PWNED*")), where


@pytest.mark.slow
def test_setup_action_installs_an_isolated_engine(tmp_path: Path) -> None:
    temp = tmp_path / "runner"
    temp.mkdir()
    tools = tmp_path / "toolcache"  # where setup-python keeps its interpreters
    tools.mkdir()
    # What actions/cache restores on a warm runner.
    (temp / "mlgate-pip").symlink_to(pip_cache_dir())
    workspace = tmp_path / "ws"
    workspace.mkdir()
    python = shutil.which("python3") or sys.executable
    setup_python = {"python": {"python-path": python, "python-version": "3.11"}}
    run = run_action("setup", workspace=workspace, temp=temp, uses_outputs=setup_python,
                     env={"AGENT_TOOLSDIRECTORY": str(tools)})  # fmt: skip
    assert run.exit_code == 0, run.stdout[-3000:] + run.stderr[-3000:]
    exe = Path(run.outputs["mlgate-path"])
    # In the tool cache, named by the source's digest and the interpreter.
    (home,) = [p for p in (tools / "mlgate").iterdir() if p.is_dir()]
    assert home.name.startswith("source-")
    assert exe == home / "bin" / "mlgate"
    assert run.outputs["version"] == __version__
    assert run.env["MLGATE_BIN"] == str(exe)
    assert (temp / "path.txt").read_text().splitlines() == [str(exe.parent)]
    # Only `mlgate` is exposed; the project's python stays the project's.
    assert sorted(p.name for p in exe.parent.iterdir()) == ["mlgate"]
    assert proc.run([str(exe), "--version"]).stdout.strip().endswith(__version__)
    assert "::group::Install mlgate" in run.stdout
    key = run.step_outputs["prep"]["key"]
    assert key.startswith("mlgate-pip-Linux-3.11-source-")
    venv_python = home / "venv" / "bin" / "python"
    assert run.outputs["python-path"] == str(venv_python)
    # With the serve extra: publish and release pin what `mlgate serve` imports.
    proc.run([str(venv_python), "-c", "import uvicorn, httptools"])

    # A later action of the same job finds the engine set up and reports the same outputs.
    env = {"MLGATE_BIN": str(exe), "AGENT_TOOLSDIRECTORY": str(tools)}
    again = run_action("setup", workspace=workspace, temp=temp, uses_outputs=setup_python, env=env)
    assert again.exit_code == 0, again.stdout[-3000:] + again.stderr[-3000:]
    assert f"mlgate already set up: {exe}" in again.stdout
    expected = {"mlgate-path": str(exe), "version": __version__, "python-path": str(venv_python)}
    assert {k: again.outputs[k] for k in expected} == expected

    # A later job on a runner that kept its tool cache reuses the environment, not reinstalls.
    later = tmp_path / "runner-later"
    reused = run_action("setup", workspace=workspace, temp=later, uses_outputs=setup_python,
                        env={"AGENT_TOOLSDIRECTORY": str(tools)})  # fmt: skip
    assert reused.exit_code == 0, reused.stdout[-3000:] + reused.stderr[-3000:]
    assert f"mlgate reused from {home}" in reused.stdout
    assert "::group::Install mlgate" not in reused.stdout
    assert {k: reused.outputs[k] for k in expected} == expected


def test_push_credentials_live_only_in_the_step_environment(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    gitio.git(["init", "--quiet"], repo)
    script = tmp_path / "step.sh"
    script.write_text(
        "source \"$ACTIONS/setup/git-auth.sh\"\ngit config --get-regexp 'http\\..*\\.extraheader'\n"
    )
    token = "ghs_secretToken0123456789"
    result = proc.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
        cwd=repo,
        extra_env={
            "ACTIONS": str(Path(__file__).resolve().parents[2] / "actions"),
            "GITHUB_TOKEN": token,
            "GITHUB_SERVER_URL": "https://github.example",
        },
    )
    import base64

    basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
    lines = result.stdout.splitlines()
    assert lines[:2] == [f"::add-mask::{token}", f"::add-mask::{basic}"]
    assert lines[2] == f"http.https://github.example/.extraheader AUTHORIZATION: basic {basic}"
    assert token not in (repo / ".git" / "config").read_text()
    assert "extraheader" not in (repo / ".git" / "config").read_text()
