"""``mlgate deploy render``: Kubernetes manifests for the image a stage holds."""

from __future__ import annotations

from pathlib import Path

import click

from mlgate.cli._common import config_option, echo, emit_json, json_option, load


@click.group()
def deploy() -> None:
    """Deployment manifests for registered models."""


@deploy.command("render")
@config_option
@click.argument("name")
@click.argument("stage")
@click.option(
    "--image",
    metavar="REPO@sha256:DIGEST",
    default=None,
    help="Use this image instead of looking up the stage's registered digest.",
)
@click.option("--namespace", default=None, help="Kubernetes namespace (default: from config).")
@click.option("--replicas", type=click.IntRange(0), default=None,
              help="Pods of the Deployment (default: publish.k8s.replicas, else 2).")  # fmt: skip
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the manifests to this file instead of standard output.",
)
@json_option
def render(
    config_path: str | None,
    name: str,
    stage: str,
    image: str | None,
    namespace: str | None,
    replicas: int | None,
    out: Path | None,
    as_json: bool,
) -> int:
    """Render a Deployment and Service for model NAME at STAGE, pinned by image digest."""
    from mlgate.publish import k8s

    result = k8s.render(
        k8s.RenderRequest(load(config_path), name, stage, image, namespace, replicas)
    )
    written = k8s.write(result, out)
    if as_json:
        emit_json(
            {
                "model": result.model,
                "stage": result.stage,
                "image": result.image,
                "version": result.version,
                "source": result.source,
                "manifests": list(result.manifests),
                "written": str(written) if written else None,
            }
        )
    elif written:
        echo(f"wrote {written} ({result.image}, from {result.source})")
    else:
        click.echo(result.text, nl=False)
    return 0
