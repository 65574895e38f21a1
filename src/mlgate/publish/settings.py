"""The ``publish`` section of a model's configuration, typed, with defaults and image naming."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields

from mlgate.config.model import Config, ModelConfig
from mlgate.config.sections import PublishSection
from mlgate.errors import UsageError

_REGISTRY = re.compile(r"^(localhost|[\w-]+(\.[\w-]+)+|[\w.-]+:\d+|\[[0-9a-fA-F:]+\](:\d+)?)$")
_REFERENCE = re.compile(r"^[a-z0-9]+([._-][a-z0-9]+)*(/[a-z0-9]+([._-][a-z0-9]+)*)*$")


@dataclass(frozen=True)
class PublishSettings(PublishSection):
    """Everything ``mlgate publish`` needs to know about one model's image: its configured
    ``publish`` section with the image repository chosen."""

    repository: str = ""

    @classmethod
    def from_model(
        cls,
        config: Config,
        model: ModelConfig,
        *,
        base_image: str | None = None,
        registry: str | None = None,
    ) -> PublishSettings:
        section = model.publish
        default = "mlgate/" + re.sub(r"[^a-z0-9/._-]", "-", model.tag_name.lower())
        repository = image_repository(section.image or default, registry)
        if not _REFERENCE.match(repository.split("/", 1)[1] if "/" in repository else repository):
            raise UsageError(
                f"image repository {repository!r} is not a valid image name",
                location=config.locate(model, "publish", "image") if section.image else None,
                hint="use lowercase letters, digits, '.', '-', '_' and '/'",
            )
        values = {f.name: getattr(section, f.name) for f in fields(PublishSection)}
        if base_image:
            values["base_image"] = base_image
        return cls(**values, repository=repository)


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
