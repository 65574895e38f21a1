"""Stage headers: a header and the elapsed time per stage on a terminal, a ``::group::`` per
stage on GitHub Actions, nothing in a pipe; ``mlgate check`` reports each stage."""

from __future__ import annotations

import io
from pathlib import Path

import click
import pytest

from mlgate.cli._progress import Stages
from mlgate.config.loader import load_config
from mlgate.github.event import Event
from mlgate.prcheck.core import CheckRequest, StageEvent, run_check
from mlgate.prcheck.stages import STAGES, StageContext, StageOutcome
from mlgate.verdict import Check, Status, Verdict


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_a_header_and_the_elapsed_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    out = _Tty()
    stages = Stages(stream=out)
    stages.start("churn: train (1/2)")
    stages.start("churn: validate (2/2)")  # ends the first
    stages.end("fail")
    lines = click.unstyle(out.getvalue()).splitlines()
    assert lines[0] == "▶ churn: train (1/2)"
    assert lines[1].startswith("  churn: train (1/2): done in ")
    assert lines[3].startswith("  churn: validate (2/2): FAILED in ")
    assert lines[3].endswith(" s")


def test_a_pipe_gets_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    out = io.StringIO()
    stages = Stages(stream=out)
    stages.start("x")
    stages.end("pass")
    assert out.getvalue() == ""
    assert not stages.active


def test_actions_get_a_folded_group_per_stage(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    stages = Stages()
    stages.start("churn: train (1/2)")
    stages.end("pass")
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "::group::churn: train (1/2)"
    assert out[1].startswith("  churn: train (1/2): ok in ")
    assert out[2] == "::endgroup::"


class _Pass:
    name = "ok"
    description = "a stage that passes"

    def run(self, ctx: StageContext) -> StageOutcome:
        check = Check("ok", "ok", Status.PASS, "fine")
        return StageOutcome(Verdict("ok", ctx.model.name, (check,)))


def test_the_check_reports_each_stage_start_and_end(
    starter: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(STAGES, "ok", _Pass())
    seen: list[StageEvent] = []
    config = load_config(starter / "mlgate.yaml")
    request = CheckRequest(config, stages=("ok", "ok"), out=starter / "out")
    run_check(request, Event(None), on_stage=seen.append)
    assert [(e.stage, e.index, e.total, e.status) for e in seen] == [
        ("ok", 1, 2, None), ("ok", 1, 2, "pass"), ("ok", 2, 2, None), ("ok", 2, 2, "pass"),
    ]  # fmt: skip
