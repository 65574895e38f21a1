"""``mlgate publish``: build, smoke-test and push the serving image of a model."""

from __future__ import annotations

from pathlib import Path

import click

from mlgate.cli._common import config_option, echo, emit_json, json_option, load, model_option


def progress(line: str) -> None:
    echo(line, err=True)


@click.command()
@config_option
@model_option
@click.option(
    "--base-image",
    metavar="IMAGE",
    default=None,
    help="Base image (default: publish.base_image, else python:3.11-slim).",
)
@click.option(
    "--registry",
    metavar="HOST[:PORT]",
    default=None,
    envvar="MLGATE_REGISTRY",
    help="Push to this registry instead of the one in publish.image.",
)
@click.option("--push", is_flag=True, help="Push the image after the smoke test passes.")
@click.option(
    "--smoke/--no-smoke",
    default=True,
    show_default=True,
    help="Run the image and compare its predictions (always on with --push).",
)
@click.option("--no-cache", is_flag=True, help="Rebuild every image layer (no docker cache).")
@click.option(
    "--context-only", is_flag=True, help="Only write the build context to --out (no Docker needed)."
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Keep the build context in this folder.",
)
@json_option
def publish(  # one parameter per flag, as click passes them
    config_path: str | None,
    model_name: str | None,
    base_image: str | None,
    registry: str | None,
    push: bool,
    smoke: bool,
    no_cache: bool,
    context_only: bool,
    out: Path | None,
    as_json: bool,
) -> int:
    """Build the model's serving image, smoke-test it, and push it (--push).

    Credentials come from MLGATE_REGISTRY_USERNAME / MLGATE_REGISTRY_PASSWORD, else from the
    docker configuration (docker login). The pushed digest is recorded in
    .mlgate/out/<model>/publish.json.
    """
    from mlgate.cli._progress import Stages
    from mlgate.github.actions import RunContext
    from mlgate.publish import core

    headers = Stages(json_stdout=as_json)
    steps = (
        "build context"
        if context_only
        else "build" + (", smoke test" if smoke else "") + (", push" if push else "")
    )
    headers.start(f"{model_name or 'model'}: publish ({steps})")
    try:
        result = core.publish(
            core.PublishRequest(
                load(config_path),
                model_name=model_name,
                base_image=base_image,
                registry=registry,
                push=push,
                smoke=smoke,
                no_cache=no_cache,
                context_only=context_only,
                out=out,
                progress=progress,
                run=RunContext.from_env(),
            )
        )
    except Exception:
        headers.end("fail")
        raise
    headers.end("pass")
    if as_json:
        emit_json(result.to_dict())
    elif context_only:
        echo(f"build context for {result.image} written to {result.context}")
    else:
        echo(f"image: {result.image}")
        if result.smoke:
            echo(f"smoke test: passed ({result.smoke.rows} rows)")
        if result.digest_ref:
            echo(f"pushed: {result.digest_ref}")
    return 0
