"""The docker build context: Dockerfile (from templates/ here), wheelhouse, app wheels, model."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from mlgate import __version__, gitio
from mlgate.config.model import ModelConfig
from mlgate.fsio import atomic_write_json, atomic_write_text
from mlgate.github.actions import RunContext
from mlgate.publish.metadata import ModelBundle
from mlgate.publish.settings import PublishSettings
from mlgate.publish.wheelhouse import Wheelhouse
from mlgate.serve.model import METADATA_FILE

OCI = "org.opencontainers.image."
LABEL_PREFIX = "io.mlgate."


# The Dockerfile template ships inside this package.
TEMPLATES = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class BuildContext:
    path: Path
    labels: Mapping[str, str]


def render_dockerfile(
    settings: PublishSettings, wheelhouse: Wheelhouse, image_labels: Mapping[str, str]
) -> str:
    import jinja2

    template = (TEMPLATES / "Dockerfile.j2").read_text("utf-8")
    env = jinja2.Environment(  # a Dockerfile, not HTML
        undefined=jinja2.StrictUndefined, keep_trailing_newline=True
    )
    local = [w.name.split("-")[0] for w in wheelhouse.app if not w.name.startswith("mlgate-")]
    return env.from_string(template).render(
        mlgate_version=__version__,
        base_image=settings.base_image,
        port=settings.port,
        workers=settings.workers,
        pins_count=len(wheelhouse.pins),
        local_packages=local,
        labels=dict(image_labels),
    )


def labels(
    model: ModelConfig,
    settings: PublishSettings,
    bundle: ModelBundle,
    *,
    version: str,
    run: RunContext,
) -> dict[str, str]:
    """OCI and mlgate labels of the image (its source: ``run``'s repository in Actions)."""
    meta = bundle.metadata
    created = os.environ.get("SOURCE_DATE_EPOCH")
    when = (
        dt.datetime.fromtimestamp(int(created), tz=dt.timezone.utc)
        if created
        else dt.datetime.now(tz=dt.timezone.utc)
    )
    out = {
        OCI + "title": model.name,
        OCI + "version": version,
        OCI + "created": when.replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        OCI + "base.name": settings.base_image,
        LABEL_PREFIX + "model.name": model.name,
        LABEL_PREFIX + "model.version": meta.get("version") or "unreleased",
        LABEL_PREFIX + "model.sha256": bundle.sha256,
        LABEL_PREFIX + "model.task": str(meta.get("task", "")),
        LABEL_PREFIX + "version": __version__,
    }
    if model.description:
        out[OCI + "description"] = model.description
    if meta.get("commit"):
        out[OCI + "revision"] = str(meta["commit"])
        out[LABEL_PREFIX + "model.commit"] = str(meta["commit"])
    source = source_url(model, run)
    if source:
        out[OCI + "source"] = source
    if meta.get("fingerprint"):
        out[LABEL_PREFIX + "fingerprint"] = str(meta["fingerprint"])
    for role, info in dict(meta.get("data", {})).items():
        out[f"{LABEL_PREFIX}data.{role}.sha256"] = str(info["sha256"])
    out.update(settings.labels)
    return out


def source_url(model: ModelConfig, run: RunContext) -> str | None:
    """The repository's web address: from the Actions run, else git's origin."""
    repository = run.repository_url
    if repository:
        return repository
    url = gitio.remote_url(model.repo_root)
    # A local path as a remote means nothing inside an image (and would leak a local folder).
    return url if url and url.startswith(("https://", "http://")) else None


def write_context(
    dest: Path,
    settings: PublishSettings,
    bundle: ModelBundle,
    wheelhouse: Wheelhouse,
    image_labels: Mapping[str, str],
) -> BuildContext:
    """Write the Dockerfile, model folder and .dockerignore next to the prepared wheelhouse."""
    model_dir = dest / "model"
    if model_dir.exists():
        shutil.rmtree(model_dir)
    model_dir.mkdir(parents=True)
    target = model_dir / str(bundle.metadata["model_file"])
    if bundle.model_file.is_dir():
        shutil.copytree(bundle.model_file, target)
    else:
        shutil.copy2(bundle.model_file, target)
    atomic_write_json(model_dir / METADATA_FILE, bundle.metadata)
    atomic_write_text(dest / "Dockerfile", render_dockerfile(settings, wheelhouse, image_labels))
    atomic_write_text(dest / ".dockerignore", "**/__pycache__\n**/*.pyc\n")
    atomic_write_json(dest / "labels.json", dict(image_labels))
    return BuildContext(dest, dict(image_labels))
