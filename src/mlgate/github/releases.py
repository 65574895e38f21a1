"""GitHub Releases, idempotently: one release per tag, its assets replaced by name.

``ensure_release`` can run any number of times (a re-run workflow, two jobs racing) and ends with
exactly one release for the tag, with the given name and body and one asset per file. Assets whose
content is already there (same sha256 digest) are left alone; others are deleted and uploaded again
to the ``uploads`` host named by the release's ``upload_url``.

``download_asset`` reads one asset back by tag and name, streamed into place and checked against
the digest the caller expects and the one GitHub reports.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlgate.errors import UsageError
from mlgate.github.client import GitHubClient, GitHubError
from mlgate.github.download import download

_ATTEMPTS = 3
# GitHub's OpenAPI description documents uploads as application/octet-stream only, and release
# downloads are served as attachments whatever the type, so every asset is sent as bytes.
_ASSET_TYPE = "application/octet-stream"


def find_release(client: GitHubClient, tag: str) -> dict[str, Any] | None:
    """The release for ``tag``, drafts included (the by-tag endpoint does not return drafts)."""
    response = client.request(
        "GET", client.repo_path("releases", "tags", tag), operation="find release", missing_ok=True
    )
    if response.status != 404:
        release: dict[str, Any] = response.data
        return release
    for candidate in client.paginate(client.repo_path("releases"), operation="list releases"):
        if candidate.get("tag_name") == tag:
            found: dict[str, Any] = candidate
            return found
    return None


def ensure_release(
    client: GitHubClient,
    tag: str,
    *,
    name: str,
    body: str,
    assets: Sequence[Path] = (),
    draft: bool = False,
    prerelease: bool = False,
    target_commitish: str | None = None,
) -> dict[str, Any]:
    """Create or update the release for ``tag`` and upload ``assets``; returns the release."""
    files = _check_assets(assets)
    release = _create_or_update(client, tag, name, body, draft, prerelease, target_commitish)
    if files:
        existing = {a["name"]: a for a in _list_assets(client, release["id"])}
        for path in files:
            _put_asset(client, release, path, existing.get(_asset_name(path)))
    final: dict[str, Any] = client.get(
        client.repo_path("releases", release["id"]), operation="read release"
    )
    return final


def _check_assets(assets: Sequence[Path]) -> list[Path]:
    """Every asset must be a readable file with a distinct name, before anything is changed."""
    files = [Path(a) for a in assets]
    seen: dict[str, Path] = {}
    for path in files:
        if not path.is_file():
            raise UsageError(f"release asset not found: {path}")
        name = _asset_name(path)
        if name in seen:
            raise UsageError(
                f"two release assets would be called {name!r}: {seen[name]} and {path}",
                hint="rename one of them; GitHub keeps one asset per name",
            )
        seen[name] = path
    return files


def _asset_name(path: Path) -> str:
    # GitHub renames special characters in asset names to '.'; do it first so names compare.
    return re.sub(r"[^\w.+-]", ".", path.name)


def _create_or_update(
    client: GitHubClient,
    tag: str,
    name: str,
    body: str,
    draft: bool,
    prerelease: bool,
    target: str | None,
) -> dict[str, Any]:
    wanted: dict[str, Any] = {"name": name, "body": body}
    for attempt in range(1, _ATTEMPTS + 1):
        release = find_release(client, tag)
        if release is not None:
            if any(release.get(k) != v for k, v in wanted.items()):
                updated: dict[str, Any] = client.request(
                    "PATCH",
                    client.repo_path("releases", release["id"]),
                    operation=f"update release {tag}",
                    json=wanted,
                ).data
                return updated
            return release
        payload = {"tag_name": tag, **wanted, "draft": draft, "prerelease": prerelease}
        if target:
            payload["target_commitish"] = target
        try:
            created: dict[str, Any] = client.request(
                "POST",
                client.repo_path("releases"),
                operation=f"create release {tag}",
                json=payload,
            ).data
        except GitHubError as exc:
            # A lost answer or a concurrent creator: look again before creating again.
            if attempt == _ATTEMPTS or not (exc.transient or _already_exists(exc)):
                raise
            continue
        return created
    raise AssertionError("unreachable")  # pragma: no cover


def _already_exists(exc: GitHubError) -> bool:
    return exc.status == 422 and any("already_exists" in d for d in exc.details)


def _list_assets(client: GitHubClient, release_id: int) -> list[dict[str, Any]]:
    return list(
        client.paginate(
            client.repo_path("releases", release_id, "assets"), operation="list release assets"
        )
    )


def _put_asset(
    client: GitHubClient, release: dict[str, Any], path: Path, current: dict[str, Any] | None
) -> None:
    name = _asset_name(path)
    digest = "sha256:" + _sha256(path)
    if (
        current is not None
        and current.get("digest") == digest
        and current.get("state") == "uploaded"
    ):
        return
    for attempt in range(1, _ATTEMPTS + 1):
        if current is not None:
            client.request(
                "DELETE",
                client.repo_path("releases", "assets", current["id"]),
                operation=f"delete old release asset {name}",
                missing_ok=True,
            )
        try:
            client.request(
                "POST",
                _upload_url(release),
                operation=f"upload release asset {name}",
                params={"name": name},
                data=path,
                content_type=_ASSET_TYPE,
            )
        except GitHubError as exc:
            # A failed upload can leave a half-made asset behind; GitHub says to delete it.
            if attempt == _ATTEMPTS or not exc.transient:
                raise
            current = next(
                (a for a in _list_assets(client, release["id"]) if a["name"] == name), None
            )
            continue
        return


def _upload_url(release: dict[str, Any]) -> str:
    """The ``upload_url`` hypermedia template with its ``{?name,label}`` part removed."""
    template = release.get("upload_url")
    if not isinstance(template, str) or not template.startswith(("http://", "https://")):
        raise GitHubError(
            f"GitHub API: release {release.get('tag_name')!r} has no usable upload_url",
            operation="upload release asset",
        )
    return template.split("{", 1)[0]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class AssetDownload:
    """A release asset on disk: where, its sha256 (hex) and size, and which asset of which tag."""

    path: Path
    sha256: str
    size: int
    tag: str
    name: str
    asset_id: int
    url: str  # the asset's browser_download_url, for people


class AssetNotFound(UsageError):
    """The tag has no release, or its release no (finished) asset of that name (exit 2)."""

    def __init__(self, message: str, *, tag: str, name: str, available: Sequence[str]) -> None:
        super().__init__(message)
        self.tag = tag
        self.name = name
        self.available = tuple(available)


class AssetDigestMismatch(GitHubError):
    """The asset's bytes are not the ones the caller recorded (exit 3): it was replaced."""


def download_asset(
    client: GitHubClient, tag: str, name: str, target: Path, *, sha256: str | None = None
) -> AssetDownload:
    """Download asset ``name`` of the release of ``tag`` into ``target`` atomically.

    The bytes are refused (``target`` untouched) unless they match ``sha256`` when given and the
    digest GitHub reports for the asset when it reports one.
    """
    wanted = _asset_name(Path(name))
    repo = client.repository
    release = find_release(client, tag)
    if release is None:
        raise AssetNotFound(f"{repo} has no GitHub Release for tag {tag}", tag=tag, name=wanted,
                            available=())  # fmt: skip
    assets = release.get("assets") or []
    if not any(a.get("name") == wanted for a in assets):
        # The embedded list may not be the whole story on a release with many assets.
        assets = _list_assets(client, release["id"])
    asset = next((a for a in assets if a.get("name") == wanted), None)
    ready = [str(a.get("name")) for a in assets if a.get("state", "uploaded") == "uploaded"]
    if asset is None or asset.get("state", "uploaded") != "uploaded":
        state = "" if asset is None else f" (its upload did not finish: state {asset.get('state')})"
        listed = ", ".join(sorted(ready)) or "none"
        raise AssetNotFound(
            f"the GitHub Release {tag} of {repo} has no asset {wanted}{state}; "
            f"its assets: {listed}",
            tag=tag,
            name=wanted,
            available=ready,
        )
    operation = f"download release asset {wanted} of {tag}"
    reported = _reported_sha256(asset)
    if sha256 is not None and reported is not None and reported != sha256:
        raise _mismatch(operation, tag, wanted, reported, sha256)

    def verify(digest: str, size: int) -> None:
        if sha256 is not None and digest != sha256:
            raise _mismatch(operation, tag, wanted, digest, sha256)
        if reported is not None and digest != reported:
            raise GitHubError(
                f"GitHub API: {operation}: the {size} bytes received have sha256 {digest[:12]}..., "
                f"not the {reported[:12]}... GitHub reports for the asset",
                operation=operation,
                hint="the download was corrupted on the way; run again",
            )

    done = download(
        client,
        client.repo_path("releases", "assets", asset["id"]),
        target,
        operation=operation,
        verify=verify,
    )
    return AssetDownload(
        done.path,
        done.sha256,
        done.size,
        tag,
        wanted,
        int(asset["id"]),
        str(asset.get("browser_download_url") or ""),
    )


def _reported_sha256(asset: dict[str, Any]) -> str | None:
    digest = asset.get("digest")
    if isinstance(digest, str) and digest.startswith("sha256:"):
        return digest.removeprefix("sha256:").lower()
    return None


def _mismatch(operation: str, tag: str, name: str, actual: str, expected: str) -> GitHubError:
    return AssetDigestMismatch(
        f"release asset {name} of {tag} has sha256 {actual[:12]}..., not the {expected[:12]}... "
        "expected; it was not used",
        operation=operation,
        hint="the asset was replaced after it was recorded; upload the recorded file again",
        details=[f"expected sha256: {expected}", f"asset sha256:    {actual}"],
    )
