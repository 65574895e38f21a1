"""The GitHub Release of a registration tag: card, verdicts, metrics and payload as assets.

Made through the project's one GitHub client (``mlgate.github``), idempotently: running it again
for the same tag updates the release and replaces assets by name. A failure here never touches
the registry: the tag is the record, the release is derived from it and can be redone with
``mlgate registry release NAME VERSION`` (``release_version``).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlgate import gfm, gitio
from mlgate.errors import ConfigError, ExternalError, UsageError
from mlgate.modelio import sha256_file
from mlgate.registry.grammar import check_name
from mlgate.registry.policy import find_model
from mlgate.registry.tags import load_state
from mlgate.registry.transaction import WriteResult, live_version

if TYPE_CHECKING:
    from mlgate.config.model import Config
    from mlgate.github.client import GitHubClient


@dataclass(frozen=True)
class GitHubReleaseRequest:
    """One registered version to publish as a GitHub Release."""

    name: str
    version: str
    tag: str
    commit: str
    payload: Mapping[str, Any]
    verdicts: Sequence[Path] = ()


def ensure_version_release(
    root: Path, config: Config | None, client: GitHubClient | None, request: GitHubReleaseRequest
) -> dict[str, Any]:
    """Create or update the release through ``client``; returns ``{id, url, html_url,
    assets}``."""
    from mlgate.github.releases import ensure_release

    if client is None or not client.has_token:
        raise UsageError(
            "a GitHub Release needs a token: GITHUB_TOKEN is not set",
            hint="in a workflow, pass env GITHUB_TOKEN: ${{ github.token }} with "
            "permissions contents: write",
        )
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="mlgate-release-") as tmp:
        assets = _assets(root, config, request, Path(tmp), notes)
        try:
            release = ensure_release(
                client,
                request.tag,
                name=f"{request.name} {request.version}",
                body=release_notes(request),
                assets=assets,
                target_commitish=request.commit,
            )
        except ExternalError as exc:
            exc.hint = (
                f"the version is registered ({request.tag}); make its release again with: "
                f"mlgate registry release {request.name} {request.version}"
            )
            raise
    return {
        "id": release.get("id"),
        "url": release.get("url"),
        "html_url": release.get("html_url"),
        "assets": sorted(a.get("name", "") for a in release.get("assets", [])),
        "notes": notes,
    }


def _assets(
    root: Path, config: Config | None, request: GitHubReleaseRequest, folder: Path, notes: list[str]
) -> list[Path]:
    payload = dict(request.payload)
    files = [_write(folder / "payload.json", json.dumps(payload, indent=2, sort_keys=True))]
    metrics = payload.get("metrics")
    if metrics:
        files.append(_write(folder / "metrics.json", json.dumps(metrics, indent=2, sort_keys=True)))
    files.extend(
        _write(folder / f"verdict-{path.name}", path.read_text("utf-8"))
        for path in request.verdicts
    )
    card = (payload.get("card") or {}).get("path")
    if card is None and config is not None:
        model = find_model(config, request.name)
        card_path = model.governance.card if model else None
        if model and card_path:
            card = model.relative(card_path)
    if card and gitio.has_path(root, request.commit, str(card)):
        data = gitio.show_file(root, request.commit, str(card))
        files.append(_write_bytes(folder / Path(str(card)).name, data))
    model_file = _model_file(root, request, folder, notes)
    if model_file is not None:
        files.append(model_file)
    return files


def _model_file(
    root: Path, request: GitHubReleaseRequest, folder: Path, notes: list[str]
) -> Path | None:
    """The registered model file: from the commit, or (kept out of git) the working tree's file
    when it is byte for byte the one the registration recorded; champions are read back from it."""
    recorded = request.payload.get("model_file") or {}
    rel = recorded.get("path")
    if not rel:
        return None
    if gitio.has_path(root, request.commit, str(rel)):
        data = gitio.show_file(root, request.commit, str(rel))
        return _write_bytes(folder / Path(str(rel)).name, data)
    local = root / str(rel)
    if local.is_file() and recorded.get("sha256") == sha256_file(local):
        return local
    notes.append(
        f"{rel} is not in commit {request.commit[:12]} and the working tree has no file with the "
        "sha256 the registration recorded: not attached, so this version's model cannot be "
        "read back from the release"
    )
    return None


def release_notes(request: GitHubReleaseRequest) -> str:
    """The release body: what was registered, from which commit, with which evidence."""
    payload = request.payload
    head = (
        f"Registered **{gfm.text(request.name)} {gfm.text(request.version)}** "
        f"(tag {gfm.code(request.tag)}) from commit {gfm.code(request.commit)}."
    )
    lines = [head, ""]
    metrics = payload.get("metrics") or {}
    if metrics:
        rows = [(k, f"{v:.6g}") for k, v in sorted(metrics.items()) if v is not None]
        lines += [*gfm.table(("metric", "value"), rows, align="lr"), ""]
    verdicts = payload.get("verdicts") or {}
    for kind, verdict in sorted(verdicts.items()):
        outcome = "pass" if verdict.get("ok") else "FAIL"
        lines.append(f"- {gfm.text(kind)}: {outcome} ({gfm.code(verdict.get('digest'))})")
    image = payload.get("image") or {}
    if image:
        digest = gfm.text(image.get("digest", ""))
        lines.append(f"- image: {gfm.code(image.get('reference'))} {digest}".rstrip())
    if payload.get("run_url"):
        lines.append(f"- run: {gfm.link('workflow run', str(payload['run_url']))}")
    if payload.get("note"):
        lines += ["", gfm.text(payload["note"])]
    return "\n".join(lines).rstrip() + "\n"


def _write(path: Path, text: str) -> Path:
    path.write_text(text + ("" if text.endswith("\n") else "\n"), "utf-8")
    return path


def _write_bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@dataclass(frozen=True, kw_only=True)
class ReleaseVersionRequest:
    """(Re)make the GitHub Release of a registered version."""

    name: str
    version: str
    repo: Path = Path()
    config: Config | None = None
    remote: str | None = None
    verdicts: tuple[Path, ...] = ()
    github: GitHubClient | None = None  # the client that makes the release (None: no token)


def release_version(request: ReleaseVersionRequest) -> WriteResult:
    """Create or update the GitHub Release of an existing registration (idempotent)."""
    root = gitio.repo_root(request.repo.resolve())
    name = check_name(request.name)
    state = load_state(root, request.remote, name)
    model = state.model(name)
    version = live_version(model, request.version)
    reg = version.registration
    if reg is None:
        raise UsageError(f"{name} {request.version} has no registration tag")
    if reg.payload_error:
        raise ConfigError(f"registry tag {reg.tag} has a corrupted payload: {reg.payload_error}")
    payload = reg.payload or {"model": name, "version": version.version}
    made = ensure_version_release(
        root,
        request.config,
        request.github,
        GitHubReleaseRequest(
            name, version.version, reg.tag, version.commit, payload, request.verdicts
        ),
    )
    return WriteResult(
        event="release",
        name=name,
        tag=reg.tag,
        commit=version.commit,
        version=version.version,
        created=False,
        payload=payload,
        release=made,
    )
