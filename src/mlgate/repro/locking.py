"""``mlgate lock``: fingerprint every model's inputs and write ``mlgate.lock``."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlgate import paths
from mlgate.config.model import Config
from mlgate.errors import ConfigError
from mlgate.repro.diff import Difference, diff_entries
from mlgate.repro.hashing import Hasher, HashStats, Progress, StatCache
from mlgate.repro.inputs import collect_inputs
from mlgate.repro.lockfile import NewerLockError, read_lock, write_lock


@dataclass(frozen=True)
class LockRequest:
    config: Config
    model_name: str | None = None


@dataclass(frozen=True)
class ModelLock:
    """One model's new lock entry and how it differs from the previous one."""

    name: str
    fingerprint: str
    counts: dict[str, int]
    changes: tuple[Difference, ...]
    new: bool
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.name,
            "fingerprint": self.fingerprint,
            "counts": self.counts,
            "new": self.new,
            "changes": [c.to_dict() for c in self.changes],
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class LockResult:
    path: Path
    written: bool
    models: tuple[ModelLock, ...]
    removed: tuple[str, ...]
    stats: HashStats
    notes: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        s = self.stats
        return {
            "lock": str(self.path),
            "written": self.written,
            "models": [m.to_dict() for m in self.models],
            "removed": list(self.removed),
            "hashing": {
                "files": s.files,
                "hashed_files": s.hashed_files,
                "hashed_bytes": s.hashed_bytes,
                "cached_files": s.cached_files,
                "seconds": round(s.seconds, 3),
            },
            "notes": list(self.notes),
        }


def lock(request: LockRequest, *, progress: Progress | None = None) -> LockResult:
    """Write ``mlgate.lock`` for the selected models (others keep their entries)."""
    config = request.config
    selected = config.select(request.model_name)
    target = paths.lock_path(config.root)
    notes: list[str] = []
    try:
        previous = read_lock(target)
    except ConfigError as exc:
        if request.model_name is not None or isinstance(exc, NewerLockError):
            raise
        # Regenerating every model is exactly the fix the error recommends.
        notes.append(f"the previous {target.name} was invalid and is rewritten: {exc.message}")
        previous = None
    old_models = dict(previous.models) if previous else {}
    cache = StatCache(paths.cache_dir(config.root) / "hashes.json")
    hasher = Hasher(cache, progress=progress)
    models = dict(old_models)
    summaries = []
    try:
        for model in selected:
            inputs = collect_inputs(config, model, hasher)
            entry = inputs.entry
            before = old_models.get(model.name)
            listed = functools.partial(inputs.listing, config.root)  # large folders' files
            changes = tuple(diff_entries(before, entry, listed)) if before else ()
            models[model.name] = entry
            summaries.append(
                ModelLock(
                    model.name,
                    inputs.fingerprint,
                    _counts(entry),
                    changes,
                    before is None,
                    inputs.notes,
                )
            )
    finally:
        cache.save()
    removed: tuple[str, ...] = ()
    if request.model_name is None:
        known = {m.name for m in config.models}
        removed = tuple(sorted(n for n in models if n not in known))
        for name in removed:
            del models[name]
    written = write_lock(target, dict(sorted(models.items())))
    return LockResult(target, written, tuple(summaries), removed, hasher.stats, tuple(notes))


def _counts(entry: dict[str, Any]) -> dict[str, int]:
    data_files = sum(d.get("count", 1) for d in entry["data"].values())
    return {
        "data_files": data_files,
        "data_bytes": sum(d["size"] for d in entry["data"].values()),
        "code_files": len(entry["code"]),
        "params_files": len(entry["params"]),
        "packages": len(entry["environment"]["packages"]),
    }
