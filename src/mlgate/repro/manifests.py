"""Per-file lists of folders too large to list in the lock, kept in the local cache.

Above ``MANIFEST_LIMIT`` files the lock keeps only a folder's digest and count, so a check can
say that the folder changed but not which file. Each such manifest is therefore also stored under
``.mlgate/cache/manifests/<digest>.json`` (content-addressed, written once): where the locked
state was hashed before (the machine that ran ``mlgate lock``, or a CI cache of ``.mlgate/cache``)
the check lists the files that were added, removed or changed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from mlgate import paths
from mlgate.errors import ExternalError
from mlgate.fsio import atomic_write_text
from mlgate.repro.hashing import manifest_digest


def _path(root: Path, sha256: str) -> Path:
    return paths.cache_dir(root) / "manifests" / f"{sha256}.json"


def store(root: Path, sha256: str, manifest: Mapping[str, str]) -> None:
    """Keep ``manifest`` (relative path -> sha256) under its digest; a cache, so a failure to
    write it is not an error."""
    target = _path(root, sha256)
    if target.is_file():
        return

    try:
        atomic_write_text(target, json.dumps(dict(sorted(manifest.items())), indent=0))
    except ExternalError:  # a full disk or read-only cache: the lock itself is unaffected
        return


def load(root: Path, sha256: str) -> dict[str, str] | None:
    """The manifest stored for ``sha256``, or None when absent, unreadable or not matching it."""
    try:
        data = json.loads(_path(root, sha256).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in data.items()
    ):
        return None
    return data if manifest_digest(data) == sha256 else None
