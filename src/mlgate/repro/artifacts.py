"""Training outputs: their hashes, a content hash for zip-based model files, and metrics files.

skops files are zip archives whose entries carry timestamps and whose member names and
``__id__`` fields are the Python object ids of the saving process, so two identical trainings
never give identical bytes. Their *content* hash renumbers those ids in order of first
appearance and hashes the sorted members' contents; equal models give equal content hashes.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlgate.errors import ConfigError, Location

_ID_FILE = re.compile(r"^(\d+)\.(\w+)$")
SKOPS_SCHEMA = "schema.json"


@dataclass(frozen=True)
class ArchiveDigest:
    """Content hash of a zip archive and the hash of each (canonically named) member."""

    kind: str  # "skops" or "zip"
    sha256: str
    members: Mapping[str, str]


def archive_digest(path: Path) -> ArchiveDigest | None:
    """The content hash of a zip-based file (skops or any zip); None for other files."""
    try:
        if not zipfile.is_zipfile(path):
            return None
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
            if SKOPS_SCHEMA in names:
                kind, members = "skops", _skops_members(zf, names)
            else:
                kind, members = "zip", {n: _member_sha(zf, n) for n in names}
    except (zipfile.BadZipFile, OSError, ValueError, KeyError):
        return None
    return ArchiveDigest(kind, _combine(members), dict(sorted(members.items())))


def _combine(members: Mapping[str, str]) -> str:
    digest = hashlib.sha256()
    for name in sorted(members):
        digest.update(f"{name}\0{members[name]}\n".encode())
    return digest.hexdigest()


def _member_sha(zf: zipfile.ZipFile, name: str) -> str:
    digest = hashlib.sha256()
    with zf.open(name) as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _skops_members(zf: zipfile.ZipFile, names: list[str]) -> dict[str, str]:
    schema = json.loads(zf.read(SKOPS_SCHEMA))
    ids: dict[int, int] = {}
    canonical = _renumber(schema, ids)
    members = {
        SKOPS_SCHEMA: hashlib.sha256(
            json.dumps(canonical, sort_keys=True, separators=(",", ":")).encode()
        ).hexdigest()
    }
    for name in names:
        if name == SKOPS_SCHEMA or name.endswith("/"):
            continue
        match = _ID_FILE.match(name)
        shown = name
        if match and int(match[1]) in ids:
            shown = f"{ids[int(match[1])]}.{match[2]}"
        members[shown] = _member_sha(zf, name)
    return members


def _renumber(node: Any, ids: dict[int, int]) -> Any:
    """The schema with object ids replaced by their order of first appearance."""
    if isinstance(node, dict):
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key == "__id__" and isinstance(value, int) and not isinstance(value, bool):
                out[key] = ids.setdefault(value, len(ids))
            elif key == "file" and isinstance(value, str) and (match := _ID_FILE.match(value)):
                out[key] = f"{ids.setdefault(int(match[1]), len(ids))}.{match[2]}"
            else:
                out[key] = _renumber(value, ids)
        return out
    if isinstance(node, list):
        return [_renumber(item, ids) for item in node]
    return node


def read_metrics(path: Path, shown: str) -> tuple[dict[str, float], list[str]]:
    """Numeric metrics from a JSON file, nested keys joined with dots; notes on what was skipped."""
    try:
        data = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"metrics file not found: {shown}",
            location=Location(shown),
            hint="the training command must write the file named by train.metrics",
        ) from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ConfigError(f"metrics file {shown} is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"metrics file {shown} must hold a JSON object of name -> number")
    metrics: dict[str, float] = {}
    skipped: list[str] = []
    _numbers(data, "", metrics, skipped)
    notes = [f"{shown}: non-numeric values not kept as metrics: {', '.join(skipped)}"] * bool(
        skipped
    )
    return dict(sorted(metrics.items())), notes


def _numbers(node: Any, prefix: str, out: dict[str, float], skipped: list[str]) -> None:
    for key, value in node.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict):
            _numbers(value, name, out, skipped)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            if math.isfinite(value):
                out[name] = float(value)
            else:
                skipped.append(name)
        else:
            skipped.append(name)


def first_difference(a: Path, b: Path, block: int = 1 << 16) -> int | None:
    """Byte offset of the first difference between two files, None when they are equal."""
    offset = 0
    with a.open("rb") as fa, b.open("rb") as fb:
        while True:
            x, y = fa.read(block), fb.read(block)
            if x != y:
                limit = min(len(x), len(y))
                return offset + next((i for i in range(limit) if x[i] != y[i]), limit)
            if not x:
                return None
            offset += len(x)
