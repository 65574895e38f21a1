"""``mlgate init``."""

from __future__ import annotations

from pathlib import Path

import click

from mlgate.cli._common import echo, emit_json, json_option


@click.command()
@click.argument("directory", default=".", type=click.Path(file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite files that differ from the starter.")
@click.option(
    "--adopt",
    is_flag=True,
    help="Draft mlgate.yaml for the existing repository in DIRECTORY (never overwrites).",
)
@json_option
def init(directory: Path, force: bool, adopt: bool, as_json: bool) -> int:
    """Create the starter project (an ML repository ready for GitHub) in DIRECTORY.

    With --adopt, look at the repository already there (DVC pipeline, MLproject, requirements,
    model, metrics and data files) and write a commented mlgate.yaml draft, with '# FILL key'
    where a value is unknown, plus .gitignore lines for mlgate's local files.
    """
    if adopt:
        return _adopt(directory, force, as_json)
    from mlgate.starter import InitRequest, init_project

    result = init_project(InitRequest(target=directory, force=force))
    if as_json:
        emit_json(result.to_dict())
        return 0
    echo(
        f"starter project in {result.target}: {len(result.written)} file(s) written"
        + (f", {len(result.unchanged)} already up to date" if result.unchanged else "")
    )
    echo("next: cd there, `git init`, then `mlgate config check` and `mlgate train`")
    return 0


def _adopt(directory: Path, force: bool, as_json: bool) -> int:
    from mlgate.errors import UsageError
    from mlgate.starter.adopt import AdoptRequest, adopt

    if force:
        raise UsageError("--adopt never overwrites: --force does not apply")
    result = adopt(AdoptRequest(directory))
    if as_json:
        emit_json(result.to_dict())
        return 0
    echo(f"{result.target}: wrote " + ", ".join(result.written))
    echo("models: " + ", ".join(m.name for m in result.models))
    if result.unknown:
        echo("to fill in mlgate.yaml: " + ", ".join(dict.fromkeys(result.unknown)))
    echo("next: `mlgate config check`, then `mlgate train` and `mlgate lock`")
    return 0
