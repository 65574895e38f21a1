"""``mlgate release``, ``promote`` and ``rollback``: registry events with their images."""

from __future__ import annotations

import click

from mlgate.cli._common import config_option, echo, emit_json, json_option, load, model_option
from mlgate.cli.publish_cmd import progress


def _registry_options(func: click.decorators.FC) -> click.decorators.FC:
    func = click.option(
        "--registry", metavar="HOST[:PORT]", default=None, envvar="MLGATE_REGISTRY",
        help="Image registry instead of the one in publish.image.",
    )(func)  # fmt: skip
    func = click.option(
        "--push-tag/--no-push-tag", default=True, show_default=True,
        help="Push the registry tag to the remote (race-safe).",
    )(func)  # fmt: skip
    return click.option(
        "--remote",
        default=None,
        metavar="NAME",
        help="Git remote of the registry (default: origin).",
    )(func)


@click.command()
@config_option
@model_option
@click.option("--bump", type=click.Choice(["major", "minor", "patch"]), default=None,
              help="Which part of the version to increase (default: patch).")  # fmt: skip
@click.option("--base-image", metavar="IMAGE", default=None,
              help="Base image of the serving image (default: publish.base_image).")  # fmt: skip
@click.option("--github-release/--no-github-release", default=None,
              help="Make the GitHub Release (default: when GITHUB_TOKEN and GITHUB_REPOSITORY "
              "are set).")  # fmt: skip
@_registry_options
@json_option
def release(  # one parameter per flag, as click passes them
    config_path: str | None,
    model_name: str | None,
    bump: str | None,
    base_image: str | None,
    github_release: bool | None,
    registry: str | None,
    push_tag: bool,
    remote: str | None,
    as_json: bool,
) -> int:
    """Release the next version: build, smoke-test and push the image, then register it.

    The registration tag (NAME@vX.Y.Z) carries the image digest; nothing is registered unless
    the image passed its smoke test and was pushed.
    """
    from mlgate.github.actions import RunContext
    from mlgate.github.client import GitHubClient
    from mlgate.publish import release as core

    result = core.release(
        core.ReleaseRequest(
            load(config_path),
            model_name=model_name,
            bump=bump,
            base_image=base_image,
            registry=registry,
            push_tag=push_tag,
            remote=remote,
            github_release=github_release,
            progress=progress,
            run=RunContext.from_env(),
            github=GitHubClient.from_env() if github_release is not False else None,
        )
    )
    if as_json:
        emit_json(result.to_dict())
    else:
        echo(f"released {result.model} {result.version}: {result.tag}")
        echo(f"image: {result.image.digest_ref}")
    return 0


def _stage_output(result: object, as_json: bool) -> int:
    from mlgate.publish.release import StageResult

    assert isinstance(result, StageResult)
    if as_json:
        emit_json(result.to_dict())
    else:
        echo(f"{result.model} {result.stage}: {result.version}")
        echo(f"image: {result.image} (tagged {result.stage_image})")
    return 0


@click.command()
@config_option
@click.argument("name")
@click.argument("version")
@click.argument("stage")
@_registry_options
@json_option
def promote(
    config_path: str | None,
    name: str,
    version: str,
    stage: str,
    registry: str | None,
    push_tag: bool,
    remote: str | None,
    as_json: bool,
) -> int:
    """Put VERSION of model NAME into STAGE and tag its image REPO:STAGE (by digest)."""
    from mlgate.github.actions import RunContext
    from mlgate.publish import release as core

    result = core.promote(
        core.StageRequest(
            load(config_path),
            name,
            stage,
            version,
            registry,
            push_tag,
            remote,
            progress,
            RunContext.from_env(),
        )
    )
    return _stage_output(result, as_json)


@click.command()
@config_option
@click.argument("name")
@click.argument("stage")
@_registry_options
@json_option
def rollback(
    config_path: str | None,
    name: str,
    stage: str,
    registry: str | None,
    push_tag: bool,
    remote: str | None,
    as_json: bool,
) -> int:
    """Give STAGE back to its previous holder and point REPO:STAGE at that image."""
    from mlgate.github.actions import RunContext
    from mlgate.publish import release as core

    result = core.rollback(
        core.StageRequest(
            load(config_path),
            name,
            stage,
            None,
            registry,
            push_tag,
            remote,
            progress,
            RunContext.from_env(),
        )
    )
    return _stage_output(result, as_json)
