"""``mlgate release``, ``promote`` and ``rollback``: the image side of the registry's events.

Release order (DESIGN "Delivery"): next version -> build -> smoke test -> push image ->
registration tag carrying the digest -> push tag (the registry retries lost races) -> GitHub
Release. Every failure before the tag leaves the registry unchanged. Promote and rollback move a
stage tag (policy checked by the registry) and then point the image's stage tag at the digest the
registry recorded for the version, so ``REPO:STAGE`` and the registry never disagree for long.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlgate import gitio, paths
from mlgate.config.model import Config, ModelConfig
from mlgate.errors import ConfigError, ExternalError, MlgateError, UsageError
from mlgate.github.actions import RunContext
from mlgate.publish import dockerio
from mlgate.publish.core import PublishRequest, PublishResult, publish_model
from mlgate.publish.k8s import image_ref_from_payload
from mlgate.publish.push import push_with_retries
from mlgate.publish.settings import PublishSettings, sanitize_tag
from mlgate.registry import queries, stages, versions
from mlgate.registry.tags import load_state

if TYPE_CHECKING:
    from mlgate.github.client import GitHubClient

Progress = Callable[[str], None]
VERDICT_FILES = ("repro.json", "validation.json", "drift.json", "governance.json")


def _quiet(_: str) -> None:
    return None


@dataclass(frozen=True)
class ReleaseRequest:
    config: Config
    model_name: str | None = None
    bump: str | None = None
    base_image: str | None = None
    registry: str | None = None
    push_tag: bool = True
    remote: str | None = None
    github_release: bool | None = None  # None: when GITHUB_TOKEN and GITHUB_REPOSITORY are set
    progress: Progress = field(default=_quiet, compare=False)
    run: RunContext = field(default_factory=RunContext)  # the Actions run (token, repository)
    github: GitHubClient | None = None  # the client that makes the GitHub Release


@dataclass(frozen=True)
class ReleaseResult:
    model: str
    version: str
    tag: str | None
    image: PublishResult
    registration: Mapping[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "version": self.version,
            "tag": self.tag,
            "image": self.image.to_dict(),
            "registration": dict(self.registration),
        }


def release(request: ReleaseRequest) -> ReleaseResult:
    """Build, verify and push the image of the next version, then register it."""
    config = request.config
    model = config.model(request.model_name)
    root = model.repo_root
    _refuse_second_release(root, model, request.remote)
    version = versions.next_version(
        versions.NextVersionRequest(
            name=model.name, bump=request.bump, repo=root, remote=request.remote
        )
    )
    request.progress(f"releasing {model.name} {version}")
    try:
        image = publish_model(
            config,
            model,
            PublishRequest(
                config,
                model_name=model.name,
                base_image=request.base_image,
                registry=request.registry,
                push=True,
                version=version,
                progress=request.progress,
                run=request.run,
            ),
        )
    except MlgateError as exc:
        # Say where the registry stands: nothing moved, so the same command can simply rerun.
        exc.details.append(f"{model.name} {version} was not registered: the registry is unchanged")
        raise
    assert image.digest is not None  # publish with push=True returns a digest
    github = request.github_release
    if github is None:
        github = request.run.has_token and request.run.repository is not None
    out = paths.out_dir(root, model.tag_name)
    verdicts = tuple(out / name for name in VERDICT_FILES if (out / name).is_file())
    try:
        written = versions.register(
            versions.RegisterRequest(
                name=model.name,
                repo=root,
                config=config,
                version=version,
                ref="HEAD",
                push=request.push_tag,
                remote=request.remote,
                payload={"image": {"reference": image.image, "digest": image.digest}},
                verdicts=verdicts,
                release=github and request.push_tag,
                github=request.github,
                run=request.run,
            )
        )
    except ExternalError as exc:
        # The image is out; say so, since the registry (the record) did not move.
        raise ExternalError(
            exc.message,
            hint=exc.hint,
            location=exc.location,
            details=[
                (
                    f"the image {image.image} ({image.digest}) was pushed but not registered: "
                    f"{model.name} {version} is not in the registry; run 'mlgate release' "
                    "again once this is fixed"
                ),
                *exc.details,
            ],
        ) from exc
    request.progress(f"registered {written.tag}" + (" (pushed)" if written.pushed else ""))
    return ReleaseResult(model.name, version, written.tag, image, written.to_dict())


def _refuse_second_release(root: Path, model: ModelConfig, remote: str | None) -> None:
    """One version per commit (GTO's rule): say so before building anything."""
    head = gitio.head_commit(root)
    if head is None:
        raise UsageError(f"{root} has no commits; commit the model before releasing it")
    if gitio.is_dirty(root, [model.relative(model.root)]):
        raise UsageError(
            f"{model.relative(model.root)} has uncommitted changes",
            hint="a release is built from a commit; commit or stash the changes first",
        )
    state = load_state(root, remote)
    found = state.get(model.name)
    for existing in found.versions.values() if found else ():
        if existing.commit == head and existing.registered:
            raise UsageError(
                f"commit {head[:12]} already carries {model.name} {existing.version}",
                hint="each commit holds one version; commit a change before releasing again",
            )


@dataclass(frozen=True)
class StageRequest:
    config: Config
    model_name: str
    stage: str
    version: str | None = None  # promote: the version; rollback: None
    registry: str | None = None
    push_tag: bool = True
    remote: str | None = None
    progress: Progress = field(default=_quiet, compare=False)
    run: RunContext = field(default_factory=RunContext)  # the Actions run (actor, run URL)


@dataclass(frozen=True)
class StageResult:
    model: str
    stage: str
    version: str
    image: str  # REPO@sha256:...
    stage_image: str  # REPO:STAGE
    registration: Mapping[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "stage": self.stage,
            "version": self.version,
            "image": self.image,
            "stage_image": self.stage_image,
            "registration": dict(self.registration),
        }


def promote(request: StageRequest) -> StageResult:
    """Assign VERSION to STAGE (policy checked), then tag its image ``REPO:STAGE`` by digest."""
    if request.version is None:
        raise UsageError("promote needs a version")
    config = request.config
    model = config.model(request.model_name)
    image = _registered_image(config, model, request.version, request.remote)
    written = stages.assign(
        stages.AssignRequest(
            name=model.name,
            repo=model.repo_root,
            config=config,
            version=request.version,
            stage=request.stage,
            push=request.push_tag,
            remote=request.remote,
            run=request.run,
        )
    )
    request.progress(f"{written.tag or 'stage unchanged'}: {model.name} {request.version}")
    stage_image = retag(config, model, image, request.stage, request.registry, request.progress)
    return StageResult(
        model.name, request.stage, request.version, image, stage_image, written.to_dict()
    )


def rollback(request: StageRequest) -> StageResult:
    """Give STAGE back to its previous holder, then point ``REPO:STAGE`` at that image."""
    config = request.config
    model = config.model(request.model_name)
    written = stages.rollback(
        stages.RollbackRequest(
            name=model.name,
            repo=model.repo_root,
            config=config,
            stage=request.stage,
            push=request.push_tag,
            remote=request.remote,
            run=request.run,
        )
    )
    version = str(written.version or written.holder)
    request.progress(f"{written.tag}: {model.name} {request.stage} is now {version}")
    image = _registered_image(config, model, version, request.remote)
    stage_image = retag(config, model, image, request.stage, request.registry, request.progress)
    return StageResult(model.name, request.stage, version, image, stage_image, written.to_dict())


def _registered_image(config: Config, model: ModelConfig, version: str, remote: str | None) -> str:
    """``REPO@sha256:...`` recorded at registration; a version without one cannot be staged."""
    found = queries.resolve(
        queries.ResolveRequest(
            ref=f"{model.tag_name}@{version}",
            repo=model.repo_root,
            config=config,
            remote=remote,
            model_file=False,
        )
    )
    ref = image_ref_from_payload(dict(found.payload or {}))
    if ref is None:
        raise ConfigError(
            f"{model.name} {version} was registered without an image digest",
            hint="release versions with 'mlgate release', which records the pushed image",
        )
    return ref


def retag(
    config: Config,
    model: ModelConfig,
    image: str,
    stage: str,
    registry_host: str | None,
    progress: Progress,
) -> str:
    """Tag ``image`` (by digest) as ``REPO:STAGE`` and push it; the digest must not change."""
    settings = PublishSettings.from_model(config, model, registry=registry_host)
    repository = settings.repository if registry_host else image.split("@", 1)[0]
    tag = sanitize_tag(stage)
    engine = dockerio.client()
    after = f"the registry records {stage} already; rerun the command to move {repository}:{tag}"
    try:
        with dockerio.watching(engine, f"tagging {image} as {repository}:{tag}", after=after):
            if not dockerio.image_exists(engine, image):
                progress(f"pulling {image}")
                dockerio.pull(engine, image, progress)
            dockerio.tag_image(engine, image, repository, tag)
            pushed = push_with_retries(
                engine, repository, tag, attempts=settings.push_attempts, progress=progress
            )
    finally:
        engine.close()
    if pushed.split("@", 1)[1] != image.split("@", 1)[1]:
        raise ExternalError(
            f"pushing {repository}:{tag} gave {pushed}, not the registered {image}",
            hint="the registry rewrote the manifest; pin deployments by the registered digest",
        )
    progress(f"{repository}:{tag} -> {image}")
    return f"{repository}:{tag}"
