"""``mlgate plan``."""

from __future__ import annotations

import click

from mlgate.cli._common import config_option, echo, emit_json, json_option, load


@click.command()
@config_option
@click.option(
    "--base",
    envvar="MLGATE_BASE",
    metavar="REF",
    help="Compare with this revision (default: the pull request's base, the commit a push "
    "started from, origin/HEAD, main). Also MLGATE_BASE.",
)
@click.option("--head", metavar="REF", help="Compare up to this revision (default: the work tree).")
@click.option("--all", "all_models", is_flag=True, help="Select every model.")
@json_option
def plan(
    config_path: str | None, base: str | None, head: str | None, all_models: bool, as_json: bool
) -> int:
    """Which models a change touches, as a JSON matrix for a CI fan-out.

    On GitHub Actions it sets the step outputs matrix, models, count, any, base and plan, and
    writes a table to the job summary.
    """
    from mlgate.github import actions
    from mlgate.prcheck.plan import PlanRequest
    from mlgate.prcheck.plan import plan as run_plan

    request = PlanRequest(load(config_path), base, head, all_models, actions.RunContext.from_env())
    result = run_plan(request)
    for name, value in result.outputs().items():
        actions.set_output(name, value)
    actions.append_summary(result.to_markdown())
    if as_json:
        emit_json(result.to_dict())
        return 0
    echo(f"base: {result.base or '(none)'}  changed files: {len(result.changed)}")
    for model in result.models:
        echo(f"{model.name}  ({model.path})")
        for reason in model.reasons:
            echo(f"    {reason}")
    if not result.models:
        echo("no model is touched")
    for note in result.notes:
        echo(f"note: {note}")
    return 0
