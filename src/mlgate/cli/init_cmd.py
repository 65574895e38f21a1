"""``mlgate init``."""

from __future__ import annotations

from pathlib import Path

import click

from mlgate.cli._common import echo, emit_json, json_option


@click.command()
@click.argument("directory", default=".", type=click.Path(file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite files that differ from the starter.")
@json_option
def init(directory: Path, force: bool, as_json: bool) -> int:
    """Create the starter project (an ML repository ready for GitHub) in DIRECTORY."""
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
