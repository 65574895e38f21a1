"""Every option of every command says what it does in --help, and options with a fixed set of
values list them."""

from __future__ import annotations

from collections.abc import Iterator

import click

from mlgate.cli.main import cli


def _commands() -> Iterator[tuple[str, click.Command]]:
    def walk(cmd: click.Command, path: str) -> Iterator[tuple[str, click.Command]]:
        yield path, cmd
        if isinstance(cmd, click.Group):
            ctx = click.Context(cmd)
            for name in cmd.list_commands(ctx):
                sub = cmd.get_command(ctx, name)
                assert sub is not None, name
                yield from walk(sub, f"{path} {name}")

    yield from walk(cli, "mlgate")


def test_every_option_has_help_text() -> None:
    missing = [
        f"{path} {'/'.join(p.opts)}"
        for path, cmd in _commands()
        for p in cmd.params
        if isinstance(p, click.Option) and not p.hidden and not (p.help or "").strip()
    ]
    assert missing == []


def test_check_stage_lists_its_choices() -> None:
    from mlgate.prcheck.stages import STAGES

    check = cli.get_command(click.Context(cli), "check")
    assert check is not None
    (stage,) = [p for p in check.params if "--stage" in p.opts]
    assert isinstance(stage.type, click.Choice)
    assert list(stage.type.choices) == list(STAGES)
