"""The model file of a registered version: from its commit, through DVC, or from its Release.

The file is read from the registered commit with ``git cat-file`` (no checkout), or through DVC
(``dvc.api``: the local cache, else the repository's remote) when that commit's dvc.lock or
``.dvc`` file tracks it. Teams that keep
model files out of git attach them to the release of the registration tag instead
(``register --release`` and ``mlgate release`` do); when the commit lacks the file and a GitHub
repository is set, the release asset of the same name is downloaded (with GITHUB_TOKEN, or
anonymously from a public repository). Either way the
file is kept under ``.mlgate/cache/champions/<tag_name>/<version>/`` and its sha256 is checked
against the registration payload when that recorded one.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mlgate import gitio, paths
from mlgate.config.model import ModelConfig
from mlgate.errors import ConfigError, MlgateError, UsageError
from mlgate.fsio import atomic_write_bytes
from mlgate.integrations import dvc
from mlgate.modelio import sha256_file
from mlgate.registry.state import VersionState
from mlgate.registry.tags import ignore_cache

if TYPE_CHECKING:
    from mlgate.github.client import Connect

COMMIT = "commit"
RELEASE_ASSET = "release-asset"
DVC = "dvc"  # kept out of git by DVC: read at the commit through dvc.api (cache, else remote)


@dataclass(frozen=True)
class ModelFile:
    """A version's model file on disk and where it came from."""

    path: Path
    source: str  # COMMIT, DVC or RELEASE_ASSET
    origin: str  # where exactly, for people: the commit and path, or the release and asset


def fetch_model_file(
    root: Path, model: ModelConfig, version: VersionState, *, github: Connect | None
) -> ModelFile:
    """The model file of ``version``: cached, checksum-verified, from its commit or release
    (through ``github``; None: no release can be read)."""
    recorded = (version.payload or {}).get("model_file") or {}
    rel = str(recorded.get("path") or model.relative(model.model.file))
    expected = recorded.get("sha256")
    target = paths.cache_dir(root) / "champions" / model.tag_name / version.version / Path(rel).name
    cached = target.is_file() and (expected is None or sha256_file(target) == expected)
    at_commit = f"{rel} at {version.commit[:12]}"
    cached = cached or (target.is_dir() and sha256_file(target) == expected)
    if gitio.has_path(root, version.commit, rel):
        if cached:
            return ModelFile(target, COMMIT, at_commit)
        members = gitio.tree_files(root, version.commit, rel)
        if members is not None:  # a model directory (MLflow): every file of it
            return _folder_at_commit(root, model, version, rel, members, target, expected)
        data = gitio.show_file(root, version.commit, rel)
        if expected is not None and _sha256(data) != expected:
            raise ConfigError(
                f"{model.name} {version.version}: {at_commit} does not match the sha256 its "
                f"registration recorded ({expected[:12]}...)",
            )

        written = atomic_write_bytes(target, data)
        ignore_cache(root)
        return ModelFile(written, COMMIT, at_commit)

    if dvc.tracks(root, rel, version.commit):
        at_dvc = f"{rel} at {version.commit[:12]} through DVC"
        if cached:
            return ModelFile(target, DVC, at_dvc)
        data = dvc.read_at(root, rel, version.commit, python=_training_python(model))
        if expected is not None and _sha256(data) != expected:
            raise ConfigError(
                f"{model.name} {version.version}: {at_dvc} does not match the sha256 its "
                f"registration recorded ({expected[:12]}...)",
            )

        return ModelFile(atomic_write_bytes(target, data), DVC, at_dvc)
    reg = version.registration
    missing = f"{model.name} {version.version}: {rel} is not in its commit {version.commit[:12]}"
    if reg is None:
        raise UsageError(
            f"{missing}, and the version has no registration tag whose release could hold it",
            hint="commit the model file with the code that produced it",
        )
    if cached:
        return ModelFile(target, RELEASE_ASSET, _asset_origin(target.name, reg.tag))
    return _from_release(root, reg.tag, rel, expected, target, missing, github)


def _training_python(model: ModelConfig) -> str | None:
    """The training interpreter (which has DVC when ``dvc repro`` trains), if it answers."""
    from mlgate.repro import environment

    try:
        return environment.training_environment(model).interpreter
    except MlgateError:
        return None


def _folder_at_commit(
    root: Path,
    model: ModelConfig,
    version: VersionState,
    rel: str,
    members: list[str],
    target: Path,
    expected: str | None,
) -> ModelFile:
    import shutil

    at_commit = f"{rel} at {version.commit[:12]}"
    staging = target.with_name(target.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    for member in members:
        atomic_write_bytes(
            staging / member, gitio.show_file(root, version.commit, f"{rel}/{member}")
        )
    if expected is not None and sha256_file(staging) != expected:
        shutil.rmtree(staging, ignore_errors=True)
        raise ConfigError(
            f"{model.name} {version.version}: {at_commit} does not match the sha256 its "
            f"registration recorded ({expected[:12]}...)",
        )
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    ignore_cache(root)
    return ModelFile(target, COMMIT, at_commit)


def _from_release(
    root: Path,
    tag: str,
    rel: str,
    expected: str | None,
    target: Path,
    missing: str,
    github: Connect | None,
) -> ModelFile:
    from mlgate.github.client import GitHubError
    from mlgate.github.releases import (
        AssetDigestMismatch,
        AssetNotFound,
        download_asset,
    )

    client = github() if github is not None else None
    setup_hint = (
        f"commit the model file with the code that produced it, or attach it to the GitHub "
        f"Release {tag} (register --release does) and set GITHUB_TOKEN and GITHUB_REPOSITORY "
        "so mlgate downloads it from there"
    )
    if client is None or not client.repository:
        raise UsageError(missing, hint=setup_hint)
    name = Path(rel).name
    try:
        # Without a token only a public repository's release can be read (anonymously).
        got = download_asset(client, tag, name, target, sha256=expected)
    except AssetNotFound as exc:
        if not client.has_token:
            raise UsageError(
                f"{missing}, and {exc.message} (read without a token: a private repository's "
                "releases need GITHUB_TOKEN)",
                hint=setup_hint,
            ) from None
        raise UsageError(
            f"{missing}, and {exc.message}",
            hint=f"attach the model file to the release of {tag} (mlgate registry release "
            "NAME VERSION, run where the file is), or commit it with the code",
        ) from None
    except AssetDigestMismatch as exc:
        exc.hint = (
            f"the asset was replaced after {tag} was registered with the sha256 above; attach "
            "the registered file again, or register a new version for the new file"
        )
        raise
    except GitHubError as exc:
        if client.has_token or exc.status not in (401, 403, 404):
            raise
        raise UsageError(
            f"{missing}, and {client.repository}'s GitHub Release {tag} cannot be read "
            f"without a token ({exc.status})",
            hint=setup_hint,
        ) from None
    ignore_cache(root)
    return ModelFile(got.path, RELEASE_ASSET, _asset_origin(got.name, tag))


def _asset_origin(name: str, tag: str) -> str:
    return f"asset {name} of the GitHub Release {tag}"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
