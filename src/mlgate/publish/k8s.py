"""``mlgate deploy render``: Kubernetes Deployment, Service, HorizontalPodAutoscaler and
PodDisruptionBudget for the image a stage holds; with ``publish.capture``, the capture volume
and the serving container's capture settings.

The image is always pinned by digest. It comes from ``--image``, else from the registry (the
payload of the version holding the stage), else from the last push recorded by publish.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlgate import __version__, paths
from mlgate.config.model import Config, ModelConfig
from mlgate.errors import CheckFailed, ConfigError, UsageError
from mlgate.fsio import atomic_write_text
from mlgate.publish.settings import PublishSettings
from mlgate.registry import queries
from mlgate.registry.tags import load_state

# The manifests' templates ship inside this package.
TEMPLATES_DIR = Path(__file__).parent / "templates" / "k8s"
TEMPLATES = ("deployment.yaml.j2", "service.yaml.j2", "autoscaler.yaml.j2", "disruption.yaml.j2")
CAPTURE_MOUNT = "/var/lib/mlgate/capture"
_DIGEST_REF = re.compile(r"^[^@\s]+@sha256:[0-9a-f]{64}$")


@dataclass(frozen=True)
class RenderRequest:
    config: Config
    model_name: str
    stage: str
    image: str | None = None  # REPO@sha256:... overrides the lookup
    namespace: str | None = None
    replicas: int | None = None


@dataclass(frozen=True)
class RenderResult:
    model: str
    stage: str
    image: str
    version: str
    source: str  # where the image reference came from
    manifests: tuple[dict[str, Any], ...]
    text: str


def render(request: RenderRequest) -> RenderResult:
    config = request.config
    model = config.model(request.model_name)
    return render_model(config, model, request)


def render_model(config: Config, model: ModelConfig, request: RenderRequest) -> RenderResult:
    import jinja2
    import yaml

    if not re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", request.stage):
        raise UsageError(
            f"stage {request.stage!r} is not usable in Kubernetes names",
            hint="use lowercase letters, digits and '-'",
        )
    settings = PublishSettings.from_model(config, model)
    image, version, source = resolve_image(config, model, request)
    k8s = settings.kubernetes
    replicas = request.replicas if request.replicas is not None else k8s.replicas
    min_replicas = k8s.min_replicas or max(1, replicas)
    if k8s.max_replicas is not None and k8s.max_replicas < min_replicas:
        raise ConfigError(
            f"publish.kubernetes.autoscaling.max_replicas ({k8s.max_replicas}) is below "
            f"min_replicas ({min_replicas})",
            location=config.locate(model, "publish", "kubernetes", "autoscaling"),
        )
    app = re.sub(r"[^a-z0-9-]+", "-", model.tag_name.lower()).strip("-")
    context = {
        "mlgate_version": __version__,
        "model": model.name,
        "stage": request.stage,
        "name": f"{app}-{request.stage}"[:63].rstrip("-"),
        "app": app[:63],
        "namespace": request.namespace or k8s.namespace,
        "image": image,
        "version": version,
        "replicas": replicas,
        "port": settings.port,
        "workers": settings.workers,
        "service_type": k8s.service_type,
        "cpu": k8s.cpu,
        "memory": k8s.memory,
        "cpu_limit": k8s.cpu_limit,
        "min_replicas": min_replicas,
        "max_replicas": k8s.max_replicas or max(min_replicas, 3 * min_replicas),
        "cpu_utilization": k8s.cpu_utilization,
        "max_unavailable": k8s.max_unavailable,
        "capture": _capture_context(settings),
    }
    env = jinja2.Environment(  # YAML, values are JSON-quoted with tojson
        undefined=jinja2.StrictUndefined, keep_trailing_newline=True
    )
    docs = []
    for name in TEMPLATES:
        template = (TEMPLATES_DIR / name).read_text("utf-8")
        docs.append(env.from_string(template).render(context).strip() + "\n")
    text = "---\n".join(docs)
    manifests = tuple(d for d in yaml.safe_load_all(text) if d)
    return RenderResult(model.name, request.stage, image, version, source, manifests, text)


def resolve_image(
    config: Config, model: ModelConfig, request: RenderRequest
) -> tuple[str, str, str]:
    """(image@digest, version, where it came from) for the stage."""
    if request.image:
        if not _DIGEST_REF.match(request.image):
            raise UsageError(
                f"--image {request.image!r} is not pinned by digest",
                hint="pass REPOSITORY@sha256:<64 hex digits>",
            )
        return request.image, "unknown", "--image"
    found = _from_registry(config, model, request.stage)
    if found is not None:
        return found
    record = paths.out_dir(model.repo_root, model.tag_name) / "publish.json"
    if record.is_file():
        data = json.loads(record.read_text("utf-8"))
        ref = data.get("image_digest_ref")
        if ref:
            return ref, str(data.get("version")), model.relative(record)
    raise ConfigError(
        f"no pushed image found for {model.name} at stage {request.stage!r}",
        hint="promote a released version to the stage (mlgate promote), push an image "
        "(mlgate publish --push), or pass --image REPOSITORY@sha256:...",
    )


def _from_registry(config: Config, model: ModelConfig, stage: str) -> tuple[str, str, str] | None:
    """The image of the version holding ``stage``; None when the model has no registered
    versions at all (then the last push stands in). A registered model whose stage is empty is
    an error: rendering some other image for it would deploy an unpromoted model."""
    state = load_state(model.repo_root)
    found = state.get(model.name)
    if found is None or not found.versions:
        return None
    try:
        resolution = queries.resolve(
            queries.ResolveRequest(
                ref=f"{model.tag_name}#{stage}",
                repo=model.repo_root,
                config=config,
                model_file=False,
            )
        )
    except CheckFailed as exc:
        raise UsageError(
            exc.message,
            hint=f"promote a version first: mlgate promote {model.name} VERSION {stage}",
        ) from None
    version = str(resolution.version)
    ref = image_ref_from_payload(dict(resolution.payload or {}))
    if ref is None:
        raise ConfigError(
            f"{model.name} {version} holds {stage!r} but its registration records no image digest",
            hint="register versions with mlgate release, which records the pushed digest",
        )
    return ref, version, f"registry ({model.tag_name}@{version})"


def image_ref_from_payload(payload: dict[str, Any]) -> str | None:
    """``repository@sha256:...`` from a registration payload (``image`` object or strings)."""
    image = payload.get("image")
    if isinstance(image, dict):
        repo = image.get("repository") or image.get("reference") or image.get("name")
        digest = image.get("digest")
        if isinstance(repo, str) and "@" in repo:
            return repo
        if repo and digest:
            base = str(repo).split("@")[0]
            if _has_tag(base):
                base = base.rsplit(":", 1)[0]
            return f"{base}@{digest}"
    if isinstance(image, str) and "@" in image:
        return image
    digest = payload.get("image_digest")
    if isinstance(image, str) and isinstance(digest, str):
        return f"{image}@{digest}"
    return None


def _has_tag(ref: str) -> bool:
    return ":" in ref.rsplit("/", 1)[-1]


def write(result: RenderResult, out: Path | None) -> Path | None:
    if out is None:
        return None

    return atomic_write_text(out, result.text)


def _capture_context(settings: PublishSettings) -> dict[str, Any] | None:
    """The capture volume and environment of the serving container, or None when off."""
    capture = settings.capture
    if capture is None:
        return None
    env = {
        "MLGATE_CAPTURE_DIR": CAPTURE_MOUNT,
        "MLGATE_CAPTURE_SAMPLE": repr(capture.sample),
        "MLGATE_CAPTURE_MAX_MB": str(capture.max_mb),
        "MLGATE_CAPTURE_ROTATE_MB": str(capture.rotate_mb),
        "MLGATE_CAPTURE_ROTATE_MINUTES": repr(capture.rotate_minutes),
    }
    if capture.exclude:
        env["MLGATE_CAPTURE_EXCLUDE"] = ",".join(capture.exclude)
    if capture.hashed:
        env["MLGATE_CAPTURE_HASH"] = ",".join(capture.hashed)
    # An emptyDir a little larger than the budget: rotation keeps the files within it, and
    # the kubelet evicts a pod whose emptyDir outgrows its sizeLimit.
    size = f"{capture.max_mb + max(capture.rotate_mb, capture.max_mb // 10)}Mi"
    return {
        "mount": CAPTURE_MOUNT,
        "env": env,
        "claim": capture.claim,
        "size": size,
        "salt_secret": capture.salt_secret,
    }
