"""Options and output helpers shared by the command modules (no logic of their own)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from mlgate.config.model import Config

F = TypeVar("F", bound=Callable[..., Any])


def load(config_path: str | None, *, missing_data_ok: bool = False) -> Config:
    """``--config`` (or the nearest mlgate.yaml), loaded once; the command passes it down."""
    from mlgate.config.loader import load_config

    return load_config(config_path, missing_data_ok=missing_data_ok)


def config_option(func: F) -> F:
    return click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=True, path_type=str),
        default=None,
        envvar="MLGATE_CONFIG",
        help="Path to mlgate.yaml (default: the nearest one upward; also MLGATE_CONFIG).",
    )(func)


def model_option(func: F) -> F:
    return click.option(
        "--model",
        "model_name",
        default=None,
        metavar="NAME",
        help="Which model (default: all / the only one).",
    )(func)


def json_option(func: F) -> F:
    return click.option(
        "--json", "as_json", is_flag=True, help="Print machine-readable JSON instead of text."
    )(func)


def color() -> bool | None:
    """Colour only on a TTY (click decides), never when NO_COLOR is set."""
    return False if os.environ.get("NO_COLOR") else None


def echo(text: str = "", *, err: bool = False) -> None:
    click.echo(text, err=err, color=color())


def style(text: str, **kwargs: Any) -> str:
    return click.style(text, **kwargs)


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=True, default=str))


def status_word(ok: bool) -> str:
    return style("PASS", fg="green", bold=True) if ok else style("FAIL", fg="red", bold=True)
