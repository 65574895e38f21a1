"""The ``mlgate`` command: a lazy click group and the one handler that maps errors to exit codes."""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
import traceback
from collections.abc import Sequence

import click

from mlgate import __version__
from mlgate.errors import EXIT_EXTERNAL, MlgateError

# name -> "module:attribute"; modules are imported only when their command runs or help lists it.
COMMANDS: dict[str, str] = {
    "init": "mlgate.cli.init_cmd:init",
    "schema": "mlgate.cli.config_cmd:schema",
    "config": "mlgate.cli.config_cmd:config",
    "lock": "mlgate.cli.repro_cmd:lock",
    "repro": "mlgate.cli.repro_cmd:repro",
    "train": "mlgate.cli.repro_cmd:train",
    "validate": "mlgate.cli.gates_cmd:validate",
    "drift": "mlgate.cli.gates_cmd:drift",
    "plan": "mlgate.cli.plan_cmd:plan",
    "check": "mlgate.cli.check_cmd:check",
    "scan": "mlgate.cli.scan_cmd:scan",
    "registry": "mlgate.cli.registry_cmd:registry",
    "report": "mlgate.cli.report_cmd:report",
    "card": "mlgate.cli.report_cmd:card",
    "audit": "mlgate.cli.report_cmd:audit",
    "serve": "mlgate.cli.serve_cmd:serve",
    "monitor": "mlgate.cli.monitor_cmd:monitor",
    "publish": "mlgate.cli.publish_cmd:publish",
    "deploy": "mlgate.cli.deploy_cmd:deploy",
    "release": "mlgate.cli.release_cmd:release",
    "promote": "mlgate.cli.release_cmd:promote",
    "rollback": "mlgate.cli.release_cmd:rollback",
    "github": "mlgate.cli.github_cmd:github",
}


class LazyGroup(click.Group):
    """A group whose subcommands live in modules imported on first use."""

    def __init__(self, *args: object, lazy: dict[str, str], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy:
            module_name, attr = self.lazy[cmd_name].split(":")
            command = getattr(importlib.import_module(module_name), attr)
            if not isinstance(command, click.Command):
                raise TypeError(f"{self.lazy[cmd_name]} is not a click command")
            return command
        return super().get_command(ctx, cmd_name)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError as exc:
            import difflib

            guess = difflib.get_close_matches(args[0], self.list_commands(ctx), n=1)
            if guess and "No such command" in exc.message:
                raise click.UsageError(
                    f"{exc.message} Did you mean {guess[0]!r}?", ctx=exc.ctx
                ) from None
            raise


class _State:
    debug = False


@click.group(
    cls=LazyGroup,
    lazy=COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, "-V", "--version", prog_name="mlgate")
@click.option(
    "--debug",
    is_flag=True,
    envvar="MLGATE_DEBUG",
    help="Show tracebacks for errors (also MLGATE_DEBUG=1).",
)
def cli(debug: bool) -> None:
    """MLOps discipline on every pull request.

    Reproducibility locks, model validation gates, governance reports, serving
    containers and a model registry kept in annotated git tags.

    Exit codes: 0 ok, 1 a gate or check failed, 2 usage or configuration error,
    3 an external system (git, docker, network, GitHub) failed.
    """
    _State.debug = debug


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the process exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    _printable_output()
    _State.debug = "--debug" in args or os.environ.get("MLGATE_DEBUG", "") not in {"", "0"}
    try:
        result = cli.main(args=args, prog_name="mlgate", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return 130
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except MlgateError as exc:
        _report(exc.render(), exc)
        return exc.exit_code
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        return 130
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        _report(f"{where}{exc.strerror or exc}", exc)
        return EXIT_EXTERNAL
    except Exception as exc:  # the one top-level handler
        _report(
            f"internal error: {type(exc).__name__}: {exc}\n"
            "hint: this is a bug in mlgate; rerun with --debug and report the traceback",
            exc,
        )
        return EXIT_EXTERNAL
    return result if isinstance(result, int) else 0


def _printable_output() -> None:
    """Text that cannot be encoded (a file name that is not UTF-8 holds surrogates) is printed
    as backslash escapes instead of failing the command at its last step."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            # A stream that cannot change its error handler keeps its own.
            with contextlib.suppress(ValueError, OSError):
                reconfigure(errors="backslashreplace")


def _report(text: str, exc: BaseException) -> None:
    if _State.debug:
        traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
    click.echo(click.style("error:", fg="red", bold=True) + " " + text, err=True, color=_color())


def _color() -> bool | None:
    return False if os.environ.get("NO_COLOR") else None
