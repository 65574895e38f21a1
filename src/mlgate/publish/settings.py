"""The ``publish`` section of a model's configuration, typed, with defaults and image naming."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlgate.config.model import Config, ModelConfig
from mlgate.errors import UsageError

DEFAULT_BASE_IMAGE = "python:3.11-slim"
DEFAULT_PORT = 8080
DEFAULT_SMOKE_ROWS = 50
DEFAULT_TOLERANCE = 1e-9
DEFAULT_PUSH_ATTEMPTS = 3
_REGISTRY = re.compile(r"^(localhost|[\w-]+(\.[\w-]+)+|[\w.-]+:\d+|\[[0-9a-fA-F:]+\](:\d+)?)$")
_REFERENCE = re.compile(r"^[a-z0-9]+([._-][a-z0-9]+)*(/[a-z0-9]+([._-][a-z0-9]+)*)*$")


@dataclass(frozen=True)
class KubernetesSettings:
    namespace: str | None = None
    replicas: int = 2
    service_type: str = "ClusterIP"
    cpu: str = "250m"
    memory: str = "512Mi"
    cpu_limit: str | None = None
    min_replicas: int | None = None  # HorizontalPodAutoscaler; None: replicas
    max_replicas: int | None = None  # None: 3 x min_replicas
    cpu_utilization: int = 70
    max_unavailable: int | str = 1  # PodDisruptionBudget


@dataclass(frozen=True)
class CaptureDeployment:
    """``publish.capture``: what the serving container captures, as deploy render sets it."""

    sample: float = 1.0
    exclude: tuple[str, ...] = ()
    hashed: tuple[str, ...] = ()
    salt_secret: str | None = None
    max_mb: int = 1024
    rotate_mb: int = 64
    rotate_minutes: float = 60.0
    claim: str | None = None


@dataclass(frozen=True)
class PublishSettings:
    """Everything ``mlgate publish`` needs to know about one model's image."""

    repository: str
    base_image: str = DEFAULT_BASE_IMAGE
    port: int = DEFAULT_PORT
    smoke_rows: int = DEFAULT_SMOKE_ROWS
    tolerance: float = DEFAULT_TOLERANCE
    requirements: Path | None = None
    packages: tuple[str, ...] = ()
    method: str = "predict"
    workers: int = 1
    labels: Mapping[str, str] = field(default_factory=dict)
    push_attempts: int = DEFAULT_PUSH_ATTEMPTS
    smoke_network: str = "host"
    kubernetes: KubernetesSettings = field(default_factory=KubernetesSettings)
    capture: CaptureDeployment | None = None

    @classmethod
    def from_model(
        cls,
        config: Config,
        model: ModelConfig,
        *,
        base_image: str | None = None,
        registry: str | None = None,
    ) -> PublishSettings:
        raw: Mapping[str, Any] = model.publish
        default = "mlgate/" + re.sub(r"[^a-z0-9/._-]", "-", model.tag_name.lower())
        repository = image_repository(raw.get("image") or default, registry)
        if not _REFERENCE.match(repository.split("/", 1)[1] if "/" in repository else repository):
            raise UsageError(
                f"image repository {repository!r} is not a valid image name",
                location=config.locate(model, "publish", "image") if "image" in raw else None,
                hint="use lowercase letters, digits, '.', '-', '_' and '/'",
            )
        requirements = model.resolve(raw["requirements"]) if "requirements" in raw else None
        k8s = raw.get("kubernetes", {})
        return cls(
            repository=repository,
            base_image=base_image or raw.get("base_image") or DEFAULT_BASE_IMAGE,
            port=int(raw.get("port", DEFAULT_PORT)),
            smoke_rows=int(raw.get("smoke_rows", DEFAULT_SMOKE_ROWS)),
            tolerance=float(raw.get("tolerance", DEFAULT_TOLERANCE)),
            requirements=requirements,
            packages=tuple(raw.get("packages", ())),
            method=raw.get("method", "predict"),
            workers=int(raw.get("workers", 1)),
            labels=dict(raw.get("labels", {})),
            push_attempts=int(raw.get("push_attempts", DEFAULT_PUSH_ATTEMPTS)),
            smoke_network=raw.get("smoke_network", "host"),
            kubernetes=KubernetesSettings(
                namespace=k8s.get("namespace"),
                replicas=int(k8s.get("replicas", 2)),
                service_type=k8s.get("service_type", "ClusterIP"),
                cpu=k8s.get("cpu", "250m"),
                memory=k8s.get("memory", "512Mi"),
                cpu_limit=k8s.get("cpu_limit"),
                min_replicas=k8s.get("autoscaling", {}).get("min_replicas"),
                max_replicas=k8s.get("autoscaling", {}).get("max_replicas"),
                cpu_utilization=int(k8s.get("autoscaling", {}).get("cpu_utilization", 70)),
                max_unavailable=k8s.get("max_unavailable", 1),
            ),
            capture=_capture(raw.get("capture")),
        )


def _capture(raw: Mapping[str, Any] | None) -> CaptureDeployment | None:
    if raw is None:
        return None
    return CaptureDeployment(
        sample=float(raw.get("sample", 1.0)),
        exclude=tuple(raw.get("exclude", ())),
        hashed=tuple(raw.get("hash", ())),
        salt_secret=raw.get("salt_secret"),
        max_mb=int(raw.get("max_mb", 1024)),
        rotate_mb=int(raw.get("rotate_mb", 64)),
        rotate_minutes=float(raw.get("rotate_minutes", 60.0)),
        claim=raw.get("claim"),
    )


def split_registry(image: str) -> tuple[str | None, str]:
    """``ghcr.io/acme/churn`` -> (``ghcr.io``, ``acme/churn``); no registry -> (None, image)."""
    first, _, rest = image.partition("/")
    if rest and (first == "localhost" or "." in first or ":" in first):
        return first, rest
    return None, image


def image_repository(image: str, registry: str | None) -> str:
    """The image repository, with ``--registry HOST[:PORT]`` replacing its registry part."""
    image = image.split("@", 1)[0]
    last = image.rsplit("/", 1)[-1]
    if ":" in last:  # a tag in the configured name is ignored: mlgate chooses tags
        image = image[: len(image) - len(last)] + last.split(":", 1)[0]
    if registry is None:
        return image
    registry = registry.strip().rstrip("/")
    for scheme in ("https://", "http://"):
        registry = registry.removeprefix(scheme)
    if not _REGISTRY.match(registry):
        raise UsageError(
            f"--registry {registry!r} is not HOST[:PORT]",
            hint="for example ghcr.io, registry.example.com:5000 or 127.0.0.1:5000",
        )
    _, path = split_registry(image)
    return f"{registry}/{path}"


def sanitize_tag(text: str) -> str:
    """A valid image tag (``[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}``) made from ``text``."""
    cleaned = re.sub(r"[^A-Za-z0-9_.-]", "-", text).lstrip(".-") or "latest"
    return cleaned[:128]
