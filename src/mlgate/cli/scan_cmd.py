"""``mlgate scan``."""

from __future__ import annotations

from pathlib import Path

import click

from mlgate.cli._common import config_option, echo, emit_json, json_option, model_option


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@config_option
@model_option
@json_option
def scan(
    paths: tuple[Path, ...], config_path: str | None, model_name: str | None, as_json: bool
) -> int:
    """Refuse model files that would run code when loaded (nothing is unpickled).

    PATHS are files or folders (default: the model files mlgate.yaml names). Exit 1 when a file
    uses any name that is not on the exact allow-list (or in model.trusted_types).
    """
    from mlgate.config.loader import load_config
    from mlgate.errors import ConfigError
    from mlgate.scan import ScanRequest
    from mlgate.scan import scan as run_scan

    try:
        config = load_config(config_path)
    except ConfigError:
        if not paths or config_path:
            raise
        config = None  # scanning named files needs no configuration
    verdict = run_scan(ScanRequest(paths, model_name, config))
    if as_json:
        emit_json(verdict.to_dict())
        return verdict.exit_code
    from mlgate.cli._common import style

    marks = {
        "pass": style("ok", fg="green"),
        "warn": style("warn", fg="yellow"),
        "fail": style("UNSAFE", fg="red", bold=True),
        "skip": "skip",
    }
    for check in verdict.checks:
        echo(f"{marks[check.status.value]:>6}  {check.message}", err=check.failed)
    for note in verdict.notes:
        echo(note)
    return verdict.exit_code
