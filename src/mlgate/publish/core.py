"""``mlgate publish``: build context -> docker build -> smoke test -> push -> record the digest.

Nothing is pushed unless the smoke test passed; the record (``.mlgate/out/<model>/publish.json``)
is written only at the end, atomically.
"""

from __future__ import annotations

import json
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlgate import paths
from mlgate.config.model import Config, ModelConfig
from mlgate.errors import UsageError
from mlgate.fsio import atomic_write_json
from mlgate.github.actions import RunContext
from mlgate.publish import context as ctx
from mlgate.publish import dockerio, metadata, wheelhouse
from mlgate.publish.push import push_with_retries
from mlgate.publish.settings import PublishSettings, sanitize_tag
from mlgate.publish.smoke import SmokeResult, smoke_test

Progress = Callable[[str], None]
RECORD_FILE = "publish.json"


def _quiet(_: str) -> None:
    return None


@dataclass(frozen=True)
class PublishRequest:
    config: Config
    model_name: str | None = None
    base_image: str | None = None
    registry: str | None = None
    push: bool = False
    smoke: bool = True
    no_cache: bool = False  # rebuild every layer (docker build --no-cache)
    context_only: bool = False
    out: Path | None = None  # where to keep the build context (default: a temporary folder)
    version: str | None = None  # set by release: the registry version being published
    progress: Progress = field(default=_quiet, compare=False)
    run: RunContext = field(default_factory=RunContext)  # the Actions run (the source label)


@dataclass(frozen=True)
class PublishResult:
    model: str
    image: str
    version: str
    labels: dict[str, str]
    context: Path | None
    image_id: str | None = None
    size_bytes: int | None = None
    build_seconds: float | None = None
    smoke: SmokeResult | None = None
    digest_ref: str | None = None
    record: Path | None = None

    @property
    def digest(self) -> str | None:
        return self.digest_ref.split("@", 1)[1] if self.digest_ref else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "image": self.image,
            "version": self.version,
            "image_id": self.image_id,
            "size_bytes": self.size_bytes,
            "build_seconds": self.build_seconds,
            "smoke": self.smoke.to_dict() if self.smoke else None,
            "pushed": self.digest_ref is not None,
            "digest": self.digest,
            "image_digest_ref": self.digest_ref,
            "labels": self.labels,
            "context": str(self.context) if self.context else None,
            "record": str(self.record) if self.record else None,
        }


def publish(request: PublishRequest) -> PublishResult:
    """Load the configuration and publish one model's image."""
    config = request.config
    return publish_model(config, config.model(request.model_name), request)


def publish_model(config: Config, model: ModelConfig, request: PublishRequest) -> PublishResult:
    """Build, smoke-test and (optionally) push the image of ``model``."""
    progress = request.progress
    if request.context_only and request.out is None:
        raise UsageError("--context-only needs --out DIR to write the build context to")
    settings = PublishSettings.from_model(
        config, model, base_image=request.base_image, registry=request.registry
    )
    commit, dirty = metadata.source_commit(model)
    version = request.version or (f"sha-{commit[:12]}" if commit else "unversioned")
    if dirty and request.version is None:
        version += "-dirty"
    tag = sanitize_tag(version)
    image = f"{settings.repository}:{tag}"
    progress(f"{model.name}: collecting the model, its signature and evaluation sample")
    bundle = metadata.build_bundle(model, settings, version=request.version, commit=commit)
    labels = ctx.labels(model, settings, bundle, version=version, run=request.run)
    if request.context_only:
        assert request.out is not None  # checked above
        target = host_target()
        house = wheelhouse.prepare(model, settings, target, request.out, progress)
        built = ctx.write_context(request.out, settings, bundle, house, labels)
        return PublishResult(model.name, image, version, labels, built.path)

    engine = dockerio.client()
    try:
        result = _build_and_ship(engine, model, settings, bundle, request, image, tag, labels)
    finally:
        engine.close()
    record = paths.out_dir(model.repo_root, model.tag_name) / RECORD_FILE
    atomic_write_json(record, result.to_dict())
    return PublishResult(**{**result.__dict__, "record": record})


def _build_and_ship(
    engine: Any,
    model: ModelConfig,
    settings: PublishSettings,
    bundle: metadata.ModelBundle,
    request: PublishRequest,
    image: str,
    tag: str,
    labels: dict[str, str],
) -> PublishResult:
    progress = request.progress
    version = labels[ctx.OCI + "version"]
    with dockerio.watching(engine, f"the preparation of the base image {settings.base_image}"):
        dockerio.ensure_image(engine, settings.base_image, progress)
        target = probe_target(engine, model, settings.base_image)
        base = dockerio.inspect(engine, settings.base_image)
    repo_digests = [d for d in base.get("RepoDigests") or [] if "@" in d]
    # The OCI base digest is the base's manifest digest when it came from a registry; an
    # imported local image has none, so its content id is recorded instead.
    labels[ctx.OCI + "base.digest"] = (
        repo_digests[0].split("@", 1)[1] if repo_digests else str(base["Id"])
    )
    keep = request.out is not None
    folder = request.out if keep else Path(tempfile.mkdtemp(prefix="mlgate-build-"))
    assert folder is not None
    try:
        house = wheelhouse.prepare(model, settings, target, folder, progress)
        built = ctx.write_context(folder, settings, bundle, house, labels)
        progress(f"docker build {image} (base {settings.base_image}, no network)")
        started = time.monotonic()
        with dockerio.watching(engine, f"the build of {image}"):
            image_id = dockerio.build(
                engine, built.path, tag=image, progress=progress,
                no_cache=request.no_cache,
            )  # fmt: skip
            seconds = round(time.monotonic() - started, 3)
            size = int(dockerio.inspect(engine, image_id).get("Size", 0))
    finally:
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)
    progress(f"built {image} ({image_id[:19]}, {size / 1e6:.0f} MB) in {seconds:g} s")
    smoke = None
    if request.smoke or request.push:
        with dockerio.watching(engine, f"the smoke test of {image}"):
            smoke = smoke_test(
                engine,
                image,
                bundle.sample,
                container_port=settings.port,
                network=settings.smoke_network,
                tolerance=settings.tolerance,
                model_sha256=bundle.sha256,
                progress=progress,
            )
        progress(
            f"smoke test passed: {smoke.rows} rows, largest difference {smoke.max_abs_diff:.3g}"
        )
    digest_ref = None
    if request.push:
        progress(f"pushing {image}")
        digest_ref = push_with_retries(
            engine, settings.repository, tag, attempts=settings.push_attempts, progress=progress
        )
        progress(f"pushed {digest_ref}")
    return PublishResult(
        model.name, image, version, labels, folder if keep else None, image_id, size, seconds,
        smoke, digest_ref,
    )  # fmt: skip


def host_target() -> wheelhouse.Target:
    """This interpreter's platform (used for --context-only, where no image is probed)."""
    libc, libc_version = platform.libc_ver()
    return wheelhouse.Target(
        python=f"{sys.version_info.major}.{sys.version_info.minor}",
        machine=platform.machine(),
        glibc=libc_version if libc == "glibc" else None,
    )


def probe_target(engine: Any, model: ModelConfig, base_image: str) -> wheelhouse.Target:
    """The base image's Python and platform, cached by image id."""
    image_id = dockerio.inspect(engine, base_image)["Id"]
    cache_file = paths.cache_dir(model.repo_root) / "base-images.json"
    known: dict[str, Any] = {}
    if cache_file.is_file():
        try:
            known = json.loads(cache_file.read_text("utf-8"))
        except ValueError:
            known = {}
    if image_id not in known:
        known[image_id] = dockerio.probe_python(engine, base_image)
        atomic_write_json(cache_file, known)
    info = known[image_id]
    libc = info.get("libc") or ["", ""]
    return wheelhouse.Target(
        python=info["python"],
        machine=info["machine"],
        glibc=libc[1] if libc[0] == "glibc" else None,
    )
