"""``mlgate check``."""

from __future__ import annotations

from pathlib import Path

import click

from mlgate.cli._common import config_option, echo, emit_json, json_option, load, model_option


@click.command()
@config_option
@model_option
@click.option(
    "--base",
    envvar="MLGATE_BASE",
    metavar="REF",
    help="Check only the models the change since REF touches (see 'mlgate plan').",
)
@click.option("--post", is_flag=True, help="Post or update the sticky pull-request comment.")
@click.option(
    "--stage",
    "stages",
    multiple=True,
    # The names of mlgate.prcheck.stages.STAGES, in order (a unit test keeps them equal; the
    # module is not imported here so that --help stays fast).
    type=click.Choice(["train", "scan", "repro", "validate", "report", "comment"]),
    help="Run only these stages (repeatable; default: all, in this order).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for verdicts and reports (default: .mlgate/out/<model>).",
)
@json_option
def check(
    config_path: str | None,
    model_name: str | None,
    base: str | None,
    post: bool,
    stages: tuple[str, ...],
    out: Path | None,
    as_json: bool,
) -> int:
    """The whole pull-request check in one command.

    Runs every available stage for each model, writes one combined verdict per model
    (check.json), and on GitHub Actions sets outputs, writes the job summary and points
    annotations at the mlgate.yaml lines of failed gates. Exit 1 when a check fails.
    """
    from mlgate.cli._progress import Stages
    from mlgate.errors import ConfigError
    from mlgate.github import actions
    from mlgate.prcheck import render
    from mlgate.prcheck.core import CheckRequest, StageEvent, run_check

    run = actions.RunContext.from_env()
    try:
        config = load(config_path)
    except ConfigError as exc:
        where = exc.location
        finding = actions.Annotation(
            "error",
            exc.message,
            file=where.file if where else None,
            line=where.line if where else None,
            column=where.column if where else None,
            title="mlgate configuration",
        )
        actions.annotate([finding], run)
        raise
    from mlgate.github.client import GitHubClient

    connect = GitHubClient.from_env  # called only when a stage talks to GitHub
    request = CheckRequest(config, model_name, base, post, out, stages or None, run, connect)
    headers = Stages(json_stdout=as_json)

    def on_stage(event: StageEvent) -> None:
        if event.status is None:
            headers.start(
                f"{event.model}: {event.stage} ({event.index}/{event.total}) — {event.description}"
            )
        else:
            headers.end(event.status)

    result = run_check(request, on_line=lambda line: echo(line, err=as_json), on_stage=on_stage)
    headers.end()
    for name, value in render.outputs(result).items():
        actions.set_output(name, value)
    actions.append_summary(render.markdown(result, run))
    render.emit_annotations(result, config, run)
    if as_json:
        emit_json(result.to_dict())
    else:
        with actions.group("mlgate check: details"):
            for line in render.text(result):
                echo(line)
    return result.exit_code
