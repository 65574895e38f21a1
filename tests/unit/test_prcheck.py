"""The PR check pipeline: stage errors become failed checks, exit codes, rendering."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from mlgate.config.loader import load_config
from mlgate.errors import ExternalError, UsageError
from mlgate.github.actions import RunContext
from mlgate.github.event import Event
from mlgate.prcheck import render
from mlgate.prcheck.core import CheckRequest, run_check
from mlgate.prcheck.stages import STAGES, StageContext, StageOutcome
from mlgate.scan import ScanRequest, scan
from mlgate.verdict import Check, Status, Verdict


class Boom:
    name = "boom"
    description = "always fails to run"

    def run(self, ctx: StageContext) -> StageOutcome:  # noqa: ARG002 - the Stage signature
        raise ExternalError("docker daemon not reachable", hint="start docker")


class Gate:
    name = "gate"
    description = "one failing check pointing at a config key"

    def run(self, ctx: StageContext) -> StageOutcome:
        check = Check(
            "metric:roc_auc",
            "metric",
            Status.FAIL,
            "roc_auc 0.70 is below 0.75",
            observed=0.7,
            threshold=0.75,
            config_key=("gates", "metrics", "roc_auc", "min"),
        )
        return StageOutcome(Verdict("validation", ctx.model.name, (check,)))


@pytest.fixture
def stages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(STAGES, "boom", Boom())
    monkeypatch.setitem(STAGES, "gate", Gate())


def test_a_stage_that_cannot_run_is_a_failed_check_and_its_exit_code(
    starter: Path, stages: None
) -> None:
    config = load_config(starter / "mlgate.yaml")
    request = CheckRequest(config, stages=("gate", "boom"), out=starter / "out")
    result = run_check(request, Event(None))
    (mc,) = result.models
    assert result.exit_code == 3  # the external error, not the gate
    ids = [c.id for c in mc.verdict.checks]
    assert ids == ["metric:roc_auc", "boom:error"]
    error = mc.verdict.checks[1]
    assert error.details["hint"] == "start docker"
    assert (starter / "out" / "check.json").is_file()


def test_gate_failures_exit_1_and_annotate_the_configuring_line(
    starter: Path, stages: None
) -> None:
    config = load_config(starter / "mlgate.yaml")
    result = run_check(CheckRequest(config, stages=("gate",), out=starter / "o"), Event(None))
    assert result.exit_code == 1
    ((level, message, where, title),) = list(render.findings(result, config))
    assert level == "error"
    assert "below 0.75" in message
    line = next(
        n
        for n, text in enumerate((starter / "mlgate.yaml").read_text().splitlines(), 1)
        if "roc_auc: {direction: higher, min: 0.75" in text
    )
    assert where.line == line
    assert title == "mlgate churn: metric:roc_auc"
    summary = render.markdown(result, RunContext())
    assert "| ❌ | `metric:roc_auc` | 0.7 | 0.75 |" in summary
    outputs = render.outputs(result)
    assert outputs["ok"] == "false"
    assert outputs["failed"] == "1"


def test_unknown_stage_suggests_the_closest(starter: Path) -> None:
    config = load_config(starter / "mlgate.yaml")
    with pytest.raises(UsageError) as info:
        run_check(CheckRequest(config, stages=("scna",)), Event(None))
    assert info.value.hint == "did you mean 'scan'?"


def test_scan_fails_code_running_pickles_and_names_off_the_allow_list(tmp_path: Path) -> None:
    # os.system("true") in pickle protocol 0, written by hand: never built by unpickling.
    (tmp_path / "evil.pkl").write_bytes(b"cposix\nsystem\n(S'true'\ntR.")
    (tmp_path / "plain.joblib").write_bytes(pickle.dumps({"a": 1}))
    (tmp_path / "custom.pkl").write_bytes(pickle.dumps(Path("x")))
    (tmp_path / "notes.txt").write_text("not a model")
    verdict = scan(ScanRequest((tmp_path,)))
    by_file = {c.id.rsplit("/", 1)[-1]: c.status for c in verdict.checks}
    assert by_file == {
        "custom.pkl": Status.FAIL,  # pathlib.PosixPath is not on the allow-list: refused
        "evil.pkl": Status.FAIL,
        "plain.joblib": Status.PASS,
    }
    assert verdict.exit_code == 1


def test_an_unreachable_api_is_a_one_line_comment_warning(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from mlgate.github.client import GitHubClient, GitHubError
    from mlgate.prcheck.stages import _not_posted

    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    client = GitHubClient("t", api_url="http://127.0.0.1:9", repository="a/b")
    error = GitHubError(
        "GitHub API: x failed: cannot reach http://127.0.0.1:9: HTTPConnectionPool(host=...)",
        operation="x",
    )
    check = _not_posted(error, client)
    assert check.status.value == "warn"
    assert check.message == (
        "the pull-request comment was not posted: GitHub's API at http://127.0.0.1:9 could not "
        "be reached"
    )
    (line,) = capsys.readouterr().out.splitlines()
    assert line.startswith("::warning title=mlgate comment::")
