"""``mlgate schema`` and ``mlgate config check``."""

from __future__ import annotations

import click

from mlgate.cli._common import config_option, echo, emit_json, json_option
from mlgate.schemas import available


@click.command()
@click.argument("name", default="config", type=click.Choice(available()))
def schema(name: str) -> int:
    """Print a JSON Schema shipped with mlgate (default: the mlgate.yaml schema)."""
    from mlgate.schemas import schema_text

    click.echo(schema_text(name), nl=False)
    return 0


@click.group()
def config() -> None:
    """Inspect mlgate.yaml."""


@config.command("check")
@config_option
@json_option
def check(config_path: str | None, as_json: bool) -> int:
    """Validate mlgate.yaml and print the resolved configuration."""
    from mlgate import formats
    from mlgate.config.loader import load_config
    from mlgate.config.model import resolved_view

    cfg = load_config(config_path)
    view = resolved_view(cfg, formats.name_of)
    if as_json:
        emit_json(view)
        return 0
    echo(f"{cfg.path}: valid ({len(cfg.models)} model{'s' * (len(cfg.models) != 1)})")
    import yaml

    echo(yaml.safe_dump(view["models"], sort_keys=False, default_flow_style=False).rstrip())
    return 0
