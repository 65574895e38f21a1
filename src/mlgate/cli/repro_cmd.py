"""``mlgate lock``, ``mlgate repro`` and ``mlgate train``: flags -> request -> core -> rendering."""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from mlgate.cli._common import (
    config_option,
    echo,
    emit_json,
    json_option,
    load,
    model_option,
    status_word,
    style,
)

if TYPE_CHECKING:
    from mlgate.repro.locking import LockResult
    from mlgate.repro.train import TrainResult
    from mlgate.repro.verify import ReproResult

# Hashing less than this is quick enough not to need a progress bar.
PROGRESS_MIN_BYTES = 64 * 1024 * 1024


class TerminalProgress:
    """A progress bar on stderr for long hashing, only on a TTY and never in CI logs."""

    def __init__(self) -> None:
        self._bar: Any = None
        self._lock = threading.Lock()
        self.enabled = sys.stderr.isatty() and not os.environ.get("CI")

    def start(self, total_bytes: int, files: int) -> None:
        if self.enabled and total_bytes >= PROGRESS_MIN_BYTES:
            self._bar = click.progressbar(
                length=total_bytes,
                label=f"hashing {files} file{'s' * (files != 1)}",
                file=sys.stderr,
                show_pos=False,
                show_percent=True,
                show_eta=True,
            )
            self._bar.__enter__()

    def advance(self, nbytes: int) -> None:
        if self._bar is not None:
            with self._lock:
                self._bar.update(nbytes)

    def finish(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None


def _line_sink(as_json: bool) -> Any:
    """Training output goes to the terminal as it comes (stderr when stdout carries JSON)."""

    def sink(line: str) -> None:
        click.echo(line, err=as_json)

    return sink


@click.command("lock")
@config_option
@model_option
@json_option
def lock(config_path: str | None, model_name: str | None, as_json: bool) -> int:
    """Pin every model's data, code, params and environment by content hash in mlgate.lock."""
    from mlgate.repro.locking import LockRequest
    from mlgate.repro.locking import lock as run_lock

    result = run_lock(LockRequest(load(config_path), model_name), progress=TerminalProgress())
    if as_json:
        emit_json(result.to_dict())
    else:
        _render_lock(result)
    return 0


def _render_lock(result: LockResult) -> None:
    state = "written" if result.written else "up to date (unchanged)"
    echo(f"{result.path.name}: {state}")
    for m in result.models:
        c = m.counts
        n = len(m.changes)
        tag = " (new)" if m.new else (f" ({n} change{'s' * (n != 1)})" if n else "")
        echo(
            f"  {m.name}{tag}: {c['data_files']} data file(s) ({_bytes(c['data_bytes'])}), "
            f"{c['code_files']} code, {c['params_files']} params, {c['packages']} packages"
            f"  {m.fingerprint[:19]}"
        )
        for change in m.changes:
            echo(f"    {change.category}: {change.describe()}")
        for note in m.notes:
            echo(f"    note: {note}")
    for name in result.removed:
        echo(f"  {name}: removed (no longer in mlgate.yaml)")
    s = result.stats
    echo(
        f"hashed {s.hashed_files} file(s), {_bytes(s.hashed_bytes)} in {s.seconds:.2f} s; "
        f"{s.cached_files} of {s.files} unchanged per the stat cache"
    )
    for note in result.notes:
        echo(f"note: {note}")


def _bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{int(size)} B" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{n} B"  # pragma: no cover


@click.command("repro")
@config_option
@model_option
@click.option(
    "--check", "do_check", is_flag=True, help="Compare the working tree with mlgate.lock."
)
@click.option(
    "--rerun", "do_rerun", is_flag=True, help="Train again in isolated copies and compare outputs."
)
@click.option(
    "--runs",
    type=click.IntRange(min=1),
    default=None,
    help="Re-runs to compare (default repro.runs, else 2); 1 compares with the working tree.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for repro.json (default .mlgate/out/<model>/).",
)
@click.option("--keep", is_flag=True, help="Keep the isolated copies of --rerun for inspection.")
@json_option
def repro(
    config_path: str | None,
    model_name: str | None,
    do_check: bool,
    do_rerun: bool,
    runs: int | None,
    out: Path | None,
    keep: bool,
    as_json: bool,
) -> int:
    """Check that training is reproducible: inputs as locked (--check, the default) and
    re-runs that agree (--rerun). Exit 1 when anything differs."""
    from mlgate.repro.verify import ReproRequest
    from mlgate.repro.verify import repro as run_repro

    if runs is not None and not do_rerun:
        raise click.UsageError("--runs only applies with --rerun")
    check = do_check or not do_rerun
    request = ReproRequest(
        load(config_path, missing_data_ok=check and not do_rerun),
        model_name=model_name,
        check=check,
        rerun=do_rerun,
        runs=runs,
        out=out,
        keep=keep,
    )
    from mlgate.cli._progress import Stages

    headers = Stages(json_stdout=as_json)
    try:
        result = run_repro(
            request,
            on_line=_line_sink(as_json),
            on_event=headers.start
            if headers.active
            else (lambda text: echo(style(text, dim=True), err=True)),
            progress=TerminalProgress(),
        )
    except Exception:
        headers.end("fail")
        raise
    headers.end("pass" if result.exit_code == 0 else "fail")
    if as_json:
        emit_json(result.to_dict())
    else:
        _render_repro(result)
    _annotate(result)
    return result.exit_code


def _render_repro(result: ReproResult) -> None:
    for report in result.reports:
        verdict = report.verdict
        echo(f"{verdict.model}: {status_word(verdict.ok)}  ({report.path})")
        for check in verdict.checks:
            word = {"pass": "ok  ", "fail": "FAIL", "warn": "warn", "skip": "skip"}
            shown = word[check.status.value]
            if check.failed:
                shown = style(shown, fg="red", bold=True)
            differences = check.details.get("differences", []) if check.failed else []
            if differences:
                category = check.id.rsplit(".", 1)[-1]
                plural = "s" * (len(differences) != 1)
                echo(f"  {shown} {category}: {len(differences)} difference{plural} from the lock")
                for diff in differences:
                    echo(f"         {_describe(diff)}")
            else:
                echo(f"  {shown} {check.message}")
        if not verdict.ok and verdict.notes:
            echo("  likely causes and notes:")
        for note in verdict.notes:
            echo(f"    - {note}")


def _describe(diff: dict[str, Any]) -> str:
    from mlgate.repro.diff import Difference

    return Difference(
        diff["category"],
        diff["subject"],
        diff["change"],
        diff.get("old"),
        diff.get("new"),
        diff.get("note", ""),
    ).describe()


def _annotate(result: ReproResult) -> None:
    from mlgate.github import actions

    if not actions.in_actions():
        return
    found = []
    for report in result.reports:
        for check in report.verdict.failures:
            where = report.locations.get(check.id)
            found.append(
                actions.Annotation(
                    "error",
                    check.message,
                    file=where.file if where else None,
                    line=where.line if where else None,
                    title=f"mlgate repro: {report.verdict.model}",
                )
            )
    actions.annotate(found, more=actions.MORE_IN_VERDICTS)


@click.command("train")
@config_option
@model_option
@click.option(
    "--use-cache",
    is_flag=True,
    help="Skip training when an earlier run had the same inputs and its outputs are unchanged.",
)
@json_option
def train(config_path: str | None, model_name: str | None, use_cache: bool, as_json: bool) -> int:
    """Run the training command of each model (in its folder) and keep a run record."""
    from mlgate.cli._progress import Stages
    from mlgate.repro.train import TrainRequest
    from mlgate.repro.train import train as run_train

    headers = Stages(json_stdout=as_json)
    try:
        result = run_train(
            TrainRequest(load(config_path), model_name, use_cache),
            on_line=_line_sink(as_json),
            progress=TerminalProgress(),
            on_model=headers.start,
        )
    except Exception:
        headers.end("fail")
        raise
    headers.end("pass")
    if as_json:
        emit_json(result.to_dict())
    else:
        _render_train(result)
    return 0


def _render_train(result: TrainResult) -> None:
    for o in result.outcomes:
        if o.status == "cached":
            echo(f"{o.model}: up to date, training skipped (--use-cache): {o.notes[0]}")
        else:
            echo(f"{o.model}: trained in {o.duration_s:.1f} s; run record {o.record_path}")
            for note in o.notes:
                echo(f"  note: {note}")
        if o.metrics:
            shown = ", ".join(f"{k} {v:.4g}" for k, v in o.metrics.items())
            echo(f"  metrics: {shown}")
