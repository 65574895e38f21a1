"""Reference summaries cached by content: ``.mlgate/cache/drift/<sha256>-<points>.npz``.

The key is the sha256 of the reference data (every file of a folder), so an edited file is
never matched with stale summaries. The archive holds plain arrays and one JSON document; it is
read with ``allow_pickle=False``. A damaged cache file is ignored and rewritten.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from mlgate.gates.drift.summary import ColumnSummary

CACHE_FORMAT = 3  # 3: summaries read straight from the files (reading.py)


def data_digest(path: Path, cache_dir: Path | None = None) -> str:
    """sha256 of a data file, or of the names and digests of the tables in a folder; with a
    ``cache_dir``, an unchanged file's digest comes from the stat cache (repro.hashing) there."""
    from mlgate.repro.hashing import CACHE_FILE, Hasher, StatCache
    from mlgate.tabular import table_files

    path = path.resolve()
    files = [path] if path.is_file() else table_files(path)
    stats = StatCache(cache_dir / "drift" / CACHE_FILE if cache_dir is not None else None)
    hashed = Hasher(stats, workers=1).hash_files(files, what="data file")
    stats.save()
    if path.is_file():
        return hashed[path].sha256
    digest = hashlib.sha256()
    for file in files:
        digest.update(f"{file.relative_to(path).as_posix()}\0{hashed[file].sha256}\n".encode())
    return digest.hexdigest()


def cache_file(cache_dir: Path, digest: str, points: int) -> Path:
    return cache_dir / "drift" / f"{digest}-{points}.npz"


def load(path: Path) -> dict[str, ColumnSummary]:
    """The summaries stored at ``path``; empty when absent, damaged or of another format."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            meta = json.loads(bytes(archive["meta"]).decode("utf-8"))
            if meta.get("format") != CACHE_FORMAT:
                return {}
            return {
                entry["name"]: _summary(entry, archive, i)
                for i, entry in enumerate(meta["columns"])
            }
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def _summary(entry: Mapping[str, Any], archive: Any, i: int) -> ColumnSummary:
    points = archive[f"points{i}"] if entry["points"] else None
    counts = archive[f"counts{i}"] if entry["counted"] else None
    keys: Any = None
    if entry["counted"]:
        keys = archive[f"keys{i}"] if entry["numeric_keys"] else list(entry["keys"])
    return ColumnSummary(
        name=entry["name"],
        dtype=entry["dtype"],
        rows=entry["rows"],
        count=entry["count"],
        distinct=entry["distinct"],
        points=points,
        exact=entry["exact"],
        std=entry["std"],
        keys=keys,
        counts=counts,
    )


def save(path: Path, summaries: Mapping[str, ColumnSummary]) -> Path:
    """Write the summaries atomically (a reader never sees half a file)."""
    from mlgate.fsio import atomic_write_bytes

    arrays: dict[str, np.ndarray] = {}
    entries = []
    for i, s in enumerate(summaries.values()):
        if s.counts is not None and not s.numeric and not _plain_keys(s.keys or []):
            continue  # keys JSON cannot round-trip exactly are recomputed instead
        numeric_keys = s.keys is not None and s.numeric
        entry: dict[str, Any] = {
            "name": s.name,
            "dtype": s.dtype,
            "rows": s.rows,
            "count": s.count,
            "distinct": s.distinct,
            "exact": s.exact,
            "std": s.std,
            "points": s.points is not None,
            "counted": s.counts is not None,
            "numeric_keys": numeric_keys,
        }
        if s.points is not None:
            arrays[f"points{i}"] = s.points
        if s.counts is not None:
            arrays[f"counts{i}"] = np.asarray(s.counts)
            if numeric_keys:
                arrays[f"keys{i}"] = np.asarray(s.keys, dtype=np.float64)
            else:
                entry["keys"] = list(s.keys or [])
        entries.append(entry)
    meta = json.dumps({"format": CACHE_FORMAT, "columns": entries}, default=_json_scalar)
    arrays["meta"] = np.frombuffer(meta.encode("utf-8"), dtype=np.uint8)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)  # type: ignore[arg-type]
    return atomic_write_bytes(path, buffer.getvalue())


def _plain_keys(keys: Any) -> bool:
    return all(isinstance(k, str | int | float | bool) for k in keys)


def _json_scalar(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return str(value)
