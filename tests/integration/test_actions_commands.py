"""The wrapper actions (report, registry, publish --context-only) run step by step in bash with
the runner's contract against the starter project and the real commands."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from mlgate import gitio
from tests.actions_harness import (
    ActionRun,
    installed_mlgate,
    pip_cache_dir,
    pull_request_event,
    run_action,
)
from tests.conftest import invoke
from tests.github.fake import OWNER, REPO, FakeGitHub
from tests.github.fixtures import _servers, github

__all__ = ["_servers", "github"]

HOSTILE = "x$(touch PWNED1)`touch PWNED2`'\"\n$((1/0));touch PWNED3"
TOKEN = "ghs_harnessToken0123456789"


@pytest.fixture
def project(starter: Path, tmp_path: Path) -> Path:
    """The starter, trained, locked and committed on main, pushed to a bare ``origin``."""
    gitio.git(["init", "--quiet", "--initial-branch=main"], starter)
    gitio.git(["add", "--all"], starter)  # the lock fingerprints tracked code
    for command in ("train", "lock"):
        done = invoke(command, cwd=starter)
        assert done.exit_code == 0, done.output
    gitio.git(["add", "--all"], starter)
    gitio.git(["add", "--force", "models/churn/artifacts"], starter)
    gitio.git(["commit", "--quiet", "-m", "starter"], starter)
    remote = tmp_path / "origin.git"
    gitio.git(["init", "--quiet", "--bare", str(remote)], tmp_path)
    gitio.git(["remote", "add", "origin", str(remote)], starter)
    gitio.git(["push", "--quiet", "origin", "main"], starter)
    return starter


def _env(**more: str) -> dict[str, str]:
    return {"MLGATE_BIN": installed_mlgate(), "NO_COLOR": "1", **more}


def _result(run: ActionRun, step: str) -> Any:
    """The JSON result output, whether the action passed (outputs) or failed (step outputs)."""
    return json.loads(run.outputs.get("result") or run.step_outputs[step]["result"])


def _remote_tags(project: Path) -> set[str]:
    out = gitio.out(["ls-remote", "--tags", "origin"], project)
    return {line.split("refs/tags/")[1] for line in out.splitlines() if "^{}" not in line}


def _line_of(path: Path, needle: str) -> int:
    return next(n for n, text in enumerate(path.read_text().splitlines(), 1) if needle in text)


# -- report -------------------------------------------------------------------------------------


def test_report_action_after_check_outputs_the_report_and_summarises_it(
    project: Path, tmp_path: Path
) -> None:
    checked = invoke("check", cwd=project)
    assert checked.exit_code == 0, checked.output
    run = run_action("report", workspace=project, temp=tmp_path / "runner", env=_env())
    assert run.exit_code == 0, run.stdout + run.stderr
    assert run.outputs["exit-code"] == "0"
    result = _result(run, "report")
    assert result["exit_code"] == 0
    assert result["posted"] == []
    (model,) = result["models"]
    assert model["model"] == "churn"
    assert model["ok"] is True
    assert model["missing_evidence"] == []  # check wrote the lock, repro, validation verdicts
    for kind in ("md", "html", "json", "verdict"):
        assert Path(model["files"][kind]).is_file(), kind
    assert json.loads(Path(run.outputs["result-file"]).read_text()) == result
    # The summary has the report itself, then the action's outcome with the JSON folded.
    assert "mlgate report: `churn`" in run.summary
    assert "### mlgate report: done" in run.summary
    assert "<details><summary>Result (JSON)</summary>" in run.summary
    assert "::group::mlgate report: result" in run.stdout
    assert not run.commands("error")


def test_report_action_posts_the_sticky_comment(
    project: Path, tmp_path: Path, github: FakeGitHub
) -> None:
    invoke("check", cwd=project)
    event = pull_request_event(number=12, repository=f"{OWNER}/{REPO}")
    env = _env(GITHUB_API_URL=github.api_url, GITHUB_REPOSITORY=f"{OWNER}/{REPO}")
    runs = [
        run_action(
            "report",
            workspace=project,
            temp=tmp_path / f"runner{i}",
            event=event,
            inputs={"post": "true", "formats": "md", "token": github.token},
            env=env,
        )
        for i in (1, 2)
    ]
    for run in runs:
        assert run.exit_code == 0, run.stdout + run.stderr
        assert f"::add-mask::{github.token}" in run.stdout
        assert github.token not in run.stdout.replace(f"::add-mask::{github.token}", "")
        assert "mlgate report: `churn`" in run.summary
    (comment,) = github.comments[12]  # one sticky comment, left alone when unchanged
    assert "mlgate report: `churn`" in comment["body"]
    assert [p["comment"] for p in _result(runs[0], "report")["posted"]] == ["created"]
    assert [p["comment"] for p in _result(runs[1], "report")["posted"]] == ["unchanged"]


def test_report_action_on_a_fork_skips_the_comment_with_a_notice(
    project: Path, tmp_path: Path, github: FakeGitHub
) -> None:
    event = pull_request_event(fork=True, repository=f"{OWNER}/{REPO}")
    run = run_action(
        "report",
        workspace=project,
        temp=tmp_path / "runner",
        event=event,
        inputs={"post": "true", "token": ""},
        env=_env(GITHUB_API_URL=github.api_url, GITHUB_REPOSITORY=f"{OWNER}/{REPO}"),
    )
    assert run.exit_code == 0, run.stdout + run.stderr
    assert github.seen == []
    notices = [line for line in (run.stdout + run.stderr).splitlines() if "::notice " in line]
    assert len(notices) == 1
    assert "comes from a fork" in notices[0]
    assert "mlgate report: `churn`" in run.summary  # the summary still has the report


def test_report_action_points_a_missing_card_field_at_mlgate_yaml(
    project: Path, tmp_path: Path
) -> None:
    card = project / "models" / "churn" / "model_card.yaml"
    card.write_text(card.read_text().replace("risk: limited\n", ""))
    run = run_action("report", workspace=project, temp=tmp_path / "runner", env=_env())
    assert run.exit_code == 1
    assert run.failed_step == "mlgate report"
    assert run.step_outputs["report"]["exit-code"] == "1"
    assert _result(run, "report")["models"][0]["governance_ok"] is False
    line = _line_of(project / "mlgate.yaml", "required: [")
    errors = [e for e in (run.stdout + run.stderr).splitlines() if e.startswith("::error ")]
    assert len(errors) == 1, errors  # the command's own annotation; exit 1 adds none
    assert f"file=mlgate.yaml,line={line}," in errors[0]
    assert "### mlgate report: failed (exit code 1)" in run.summary


# -- registry -----------------------------------------------------------------------------------


def _registry(project: Path, temp: Path, **inputs: str) -> ActionRun:
    env = _env(**({"GITHUB_REF": inputs.pop("GITHUB_REF")} if "GITHUB_REF" in inputs else {}))
    return run_action("registry", workspace=project, temp=temp, inputs=inputs, env=env)


def test_registry_action_register_assign_resolve_and_check_ref(
    project: Path, tmp_path: Path
) -> None:
    invoke("check", cwd=project)
    verdict = project / ".mlgate" / "out" / "churn" / "check.json"
    registered = _registry(
        project,
        tmp_path / "r1",
        command="register",
        name="churn",
        verdicts=f"{verdict}\n",
        message="first release",
    )
    assert registered.exit_code == 0, registered.stdout + registered.stderr
    result = _result(registered, "registry")
    assert result["tag"] == "churn@v0.0.1"
    assert result["pushed"] is True
    assert result["payload"]["verdicts"]["check"]["ok"] is True
    assert "### mlgate registry register: done" in registered.summary

    assigned = _registry(
        project, tmp_path / "r2", command="assign", name="churn", version="v0.0.1", stage="staging"
    )
    assert assigned.exit_code == 0, assigned.stdout + assigned.stderr
    assert _result(assigned, "registry")["tag"] == "churn#staging#1"
    assert {"churn@v0.0.1", "churn#staging#1"} <= _remote_tags(project)

    resolved = _registry(project, tmp_path / "r3", command="resolve", ref="churn#staging")
    assert resolved.exit_code == 0, resolved.stdout + resolved.stderr
    found = _result(resolved, "registry")
    assert found["version"] == "v0.0.1"
    assert Path(found["model_file"]).is_file()

    remote = _registry(project, tmp_path / "r4", command="show", name="churn", remote="origin")
    assert remote.exit_code == 0, remote.stdout + remote.stderr
    assert "v0.0.1" in remote.outputs["result"]

    ref = _registry(
        project, tmp_path / "r5", command="check-ref", GITHUB_REF="refs/tags/churn#staging#1"
    )
    assert ref.exit_code == 0, ref.stdout + ref.stderr
    assert {k: ref.outputs[k] for k in ("event", "name", "version", "stage", "tag")} == {
        "event": "assign",
        "name": "churn",
        "version": "v0.0.1",
        "stage": "staging",
        "tag": "churn#staging#1",
    }
    assert ref.outputs["commit"] == gitio.head_commit(project)
    branch = _registry(project, tmp_path / "r6", command="check-ref", ref="refs/heads/main")
    assert branch.exit_code == 0
    assert branch.outputs["event"] == ""
    assert _result(branch, "registry")["registry"] is False


def test_registry_action_refusal_is_an_error_annotation_and_writes_nothing(
    project: Path, tmp_path: Path
) -> None:
    assert _registry(project, tmp_path / "r1", command="register", name="churn").exit_code == 0
    refused = _registry(
        project, tmp_path / "r2", command="assign", name="churn", version="v0.0.1", stage="qa"
    )
    assert refused.exit_code == 2
    assert refused.step_outputs["registry"]["exit-code"] == "2"
    assert refused.step_outputs["registry"]["result"] == "null"
    (error,) = refused.commands("error")
    # The annotation sits on the policy's line of mlgate.yaml and carries the whole message.
    line = _line_of(project / "mlgate.yaml", "stages: [")
    assert error.startswith(f"::error file=mlgate.yaml,line={line},col=")
    assert ",title=mlgate registry assign::error: " in error
    assert "stage 'qa' is not allowed by the registry policy" in error
    assert "%0Ahint: add it to registry.stages" in error
    assert "### mlgate registry assign: failed (exit code 2)" in refused.summary
    assert not any(t.startswith("churn#qa") for t in _remote_tags(project))
    assert not any(t.startswith("churn#qa") for t in gitio.out(["tag"], project).split())


def test_registry_action_inputs_are_data_never_code_nor_options(
    project: Path, tmp_path: Path
) -> None:
    temp = tmp_path / "runner"
    runs = [
        _registry(project, temp, command="register", name=HOSTILE),
        _registry(project, temp, command="resolve", ref=HOSTILE),
        _registry(project, temp, command="resolve", ref="--help"),
        _registry(project, temp, command="assign", name="-h", version="v0.0.1", stage="x"),
        _registry(project, temp, command=HOSTILE),
    ]
    for run in runs:
        assert run.exit_code == 2, run.stdout + run.stderr
        assert "Usage:" not in run.stdout + run.stderr  # never read as an option
        for line in run.stdout.splitlines():
            assert not line.startswith("::") or line.startswith(
                ("::error title=mlgate registry", "::group::", "::endgroup::", "::add-mask::")
            ), line
    assert "cannot resolve '--help'" in runs[2].stderr
    assert "unknown command $'x$(touch PWNED1)" in runs[4].stdout
    assert _remote_tags(project) == set()
    for where in (project, temp, Path.cwd()):
        assert not list(where.rglob("PWNED*")), where


# -- publish (build context only: no Docker) ----------------------------------------------------


@pytest.mark.slow
def test_publish_action_writes_the_build_context_without_docker(
    project: Path, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    out = tmp_path / "context"
    wheels = tmp_path_factory.getbasetemp() / "wheel-cache"
    env = _env(
        MLGATE_CACHE_DIR=str(wheels),
        PIP_CACHE_DIR=str(pip_cache_dir()),
        DOCKER_HOST="unix:///nonexistent/docker.sock",  # proves no engine is needed
    )
    run = run_action(
        "publish",
        workspace=project,
        temp=tmp_path / "runner",
        inputs={"context-only": "true", "out": str(out), "push": "true", "password": "s3cret"},
        env=env,
    )
    assert run.exit_code == 0, run.stdout[-3000:] + run.stderr[-3000:]
    result = _result(run, "publish")
    assert result["context"] == str(out)
    assert result["pushed"] is False
    assert result["digest"] is None
    assert result["model"] == "churn"
    assert result["labels"]["io.mlgate.model.name"] == "churn"
    assert result["labels"]["org.opencontainers.image.revision"] == gitio.head_commit(project)
    assert (out / "Dockerfile").is_file()
    assert list((out / "wheelhouse").iterdir())
    assert "docker login" not in run.stdout + run.stderr  # nothing to push, no login
    assert "### mlgate publish: done" in run.summary
    assert not os.environ.get("DOCKER_CONFIG")


# -- every wrapper: hostile inputs ---------------------------------------------------------------


def test_hostile_inputs_of_every_wrapper_are_data_never_code(project: Path, tmp_path: Path) -> None:
    temp = tmp_path / "runner"
    no_login = {"login-registry": ""}  # nothing here may reach a real registry
    runs = {
        "report": run_action(
            "report", workspace=project, temp=temp, inputs={"model": HOSTILE}, env=_env()
        ),
        "publish": run_action(
            "publish",
            workspace=project,
            temp=temp,
            inputs={"model": HOSTILE, "base-image": HOSTILE, **no_login},
            env=_env(),
        ),
        "release": run_action(
            "release",
            workspace=project,
            temp=temp,
            inputs={"model": HOSTILE, "registry": HOSTILE, **no_login},
            env=_env(),
        ),
        "promote": run_action(
            "promote",
            workspace=project,
            temp=temp,
            inputs={"model": HOSTILE, "version": HOSTILE, "stage": HOSTILE, **no_login},
            env=_env(),
        ),
    }
    for name, run in runs.items():
        assert run.exit_code == 2, (name, run.stdout + run.stderr)
        assert "no model named 'x$(touch PWNED1)`touch PWNED2`" in run.stderr, name
        (error,) = run.commands("error")
        assert error.startswith(f"::error title=mlgate {name}::error: no model named"), error
        assert "%0Ahint: " in error  # one annotation: line breaks are escaped
    assert _remote_tags(project) == set()
    for where in (project, temp, Path.cwd()):
        assert not list(where.rglob("PWNED*")), where
