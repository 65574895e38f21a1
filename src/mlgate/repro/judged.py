"""What a verdict judged: the content of the model file, the model's lock entry and its data.

Every gate records ``take(model)`` in its verdict's context (key ``judged``); the report takes
the same fingerprint again and a verdict whose model file, lock entry or data has changed since
is **stale**: it describes something that is no longer there, so it can never count as a pass.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mlgate import paths
from mlgate.config.model import ModelConfig
from mlgate.errors import MlgateError

KEY = "judged"


def take(model: ModelConfig) -> dict[str, Any]:
    """The fingerprint of what a gate run on ``model`` now judges."""
    from mlgate.repro.hashing import Hasher, StatCache

    root = model.repo_root
    data: dict[str, str] = {}
    files = [p for p in (model.data.train, model.data.eval, *model.data.extra) if p is not None]
    hasher = Hasher(StatCache(paths.cache_dir(root) / "hashes.json"), workers=1)
    for path in files:
        if path.is_file():
            try:
                digest = hasher.hash_files([path], what="data file")[path].sha256
            except MlgateError:
                continue
            data[_rel(path, root)] = _bare(digest)
    hasher.cache.save()
    return {"model": _model_digest(model), "lock": _lock_fingerprint(model), "data": data}


def changes(recorded: Mapping[str, Any], current: Mapping[str, Any]) -> list[str]:
    """Why ``recorded`` no longer describes ``current`` (empty when it still does). Only what
    both sides know is compared: a verdict written before the lock existed is not stale for it."""
    out = []
    was, now = recorded.get("model"), current.get("model")
    if isinstance(was, str) and was != now:
        out.append(
            f"it judged model file sha256:{was[:12]}, "
            + (f"the model file now is sha256:{now[:12]}" if now else "the model file is gone")
        )
    was, now = recorded.get("lock"), current.get("lock")
    if isinstance(was, str) and isinstance(now, str) and was != now:
        out.append(f"the lock entry changed since ({_short(was)} then, {_short(now)} now)")
    before, after = recorded.get("data"), current.get("data")
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        for path, digest in sorted(before.items()):
            if path not in after:
                out.append(f"data file {path} is gone")
            elif after[path] != digest:
                out.append(f"data file {path} changed since (sha256:{str(digest)[:12]} then)")
    return out


def _model_digest(model: ModelConfig) -> str | None:
    if not model.model.file.exists():
        return None
    from mlgate.modelio import sha256_file

    try:
        return _bare(sha256_file(model.model.file))
    except OSError:
        return None


def _lock_fingerprint(model: ModelConfig) -> str | None:
    from mlgate.repro.lockfile import read_lock

    try:
        lock = read_lock(paths.lock_path(model.repo_root))
    except MlgateError:
        return None
    entry = (lock.entry(model.name) or lock.entry(model.tag_name)) if lock else None
    value = entry.get("fingerprint") if entry else None
    return value if isinstance(value, str) else None


def _bare(digest: str) -> str:
    return digest.removeprefix("sha256:")


def _short(digest: str) -> str:
    return _bare(digest)[:12]


def _rel(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)
