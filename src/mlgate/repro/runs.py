"""Run records (``.mlgate/runs/<model>/<id>.json``, schema ``run``) and the run cache.

Records are matched by content, never by time: the run cache looks for a succeeded record with
the same inputs fingerprint whose outputs are still present with the recorded hashes, and
``record_for_output`` finds the run that produced a given model file (lineage).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from mlgate import formats, paths
from mlgate.config.model import ModelConfig
from mlgate.config.yamlsource import SourceMap
from mlgate.errors import ConfigError, Location
from mlgate.formats.legacy import archive_digest
from mlgate.fsio import atomic_write_json
from mlgate.repro.hashing import Hasher, check_inside, hash_file, list_files, manifest_digest

RUN_FORMAT = 1


@dataclass(frozen=True)
class RunRecord:
    """One parsed run record and where it is."""

    path: Path
    data: dict[str, Any]

    @property
    def id(self) -> str:
        return str(self.data["id"])

    @property
    def succeeded(self) -> bool:
        return self.data.get("status") == "succeeded"

    @property
    def fingerprint(self) -> str:
        return str(self.data["inputs"]["fingerprint"])

    @property
    def outputs(self) -> dict[str, dict[str, Any]]:
        outputs: dict[str, dict[str, Any]] = self.data.get("outputs", {})
        return outputs


def new_run_id(now: datetime | None = None) -> str:
    """``20260101T120000Z-1a2b3c``: readable, unique; never used to order runs."""
    moment = now or datetime.now(timezone.utc)
    return f"{moment:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def utc_iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def write_record(
    repo_root: Path, model: ModelConfig, record: dict[str, Any], *, failed: bool = False
) -> Path:
    """Write a run record atomically; returns its path. A failed run goes to the local cache
    (``.mlgate/cache/failed-runs/<model>/``), never among the records that are evidence."""
    folder = (
        paths.cache_dir(repo_root) / "failed-runs" / model.tag_name
        if failed
        else paths.runs_dir(repo_root, model.tag_name)
    )
    target = folder / f"{record['id']}.json"
    atomic_write_json(target, record)
    return target


def read_record(path: Path) -> RunRecord:
    """Read and schema-check one run record; ConfigError names the file and key on problems."""
    from mlgate.config.validate import validate

    try:
        data = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"run record not found: {path}") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ConfigError(f"unreadable run record: {exc}", location=Location(str(path))) from None
    validate(data, "run", SourceMap(str(path)), what=path.name)
    return RunRecord(path, data)


def iter_records(repo_root: Path, model: ModelConfig) -> Iterator[RunRecord | ConfigError]:
    """Every record of the model (newest id first); invalid ones are yielded as their error."""
    folder = paths.runs_dir(repo_root, model.tag_name)
    if not folder.is_dir():
        return
    for path in sorted(folder.glob("*.json"), reverse=True):
        yield _read_or_error(path)


def _read_or_error(path: Path) -> RunRecord | ConfigError:
    try:
        return read_record(path)
    except ConfigError as exc:
        return exc


def hash_outputs(root: Path, outputs: Iterable[Path], hasher: Hasher) -> dict[str, dict[str, Any]]:
    """sha256 and size of every existing output, keyed by path relative to ``root`` (the
    repository, or an isolated copy of it); zip-based files also get their content hash, and
    folders are hashed by manifest like data folders."""
    present = [p for p in outputs if p.exists()]
    members = {p: list_files(p, root) for p in present if p.is_dir()}
    files = [p for p in present if p not in members]
    files += [f for listed in members.values() for f in listed]
    check_inside(files, root)
    hashes = hasher.hash_files(files, what="output file")
    out: dict[str, dict[str, Any]] = {}
    for path in present:
        entry: dict[str, Any]
        if path in members:
            manifest = {f.relative_to(path).as_posix(): hashes[f].sha256 for f in members[path]}
            entry = {
                "kind": "directory",
                "sha256": manifest_digest(manifest),
                "size": sum(hashes[f].size for f in members[path]),
                "count": len(manifest),
            }
            _add_content(entry, path)  # a model directory (MLflow): canonical content
        else:
            entry = {"sha256": hashes[path].sha256, "size": hashes[path].size}
            archive = archive_digest(path)
            if archive is not None:
                entry["content_sha256"] = archive.sha256
                entry["content_kind"] = archive.kind
            else:
                _add_content(entry, path)
        out[_rel(path, root)] = entry
    return out


def _add_content(entry: dict[str, Any], path: Path) -> None:
    """The canonical content hash of a model format whose bytes vary (``mlgate.formats``)."""
    found = formats.content_digest(path)
    if found is not None:
        entry["content_kind"], entry["content_sha256"] = found


def _rel(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def find_cached(
    repo_root: Path, model: ModelConfig, fingerprint: str, outputs: Iterable[Path], hasher: Hasher
) -> RunRecord | None:
    """A succeeded run with these inputs whose outputs are all present with the recorded hashes."""
    wanted = {_rel(p, repo_root): p for p in outputs}
    for item in iter_records(repo_root, model):
        if isinstance(item, ConfigError) or not item.succeeded:
            continue
        if item.fingerprint != fingerprint or set(item.outputs) != set(wanted):
            continue
        current = hash_outputs(repo_root, wanted.values(), hasher)
        if all(rel in current for rel in wanted) and all(
            current[rel]["sha256"] == item.outputs[rel]["sha256"] for rel in wanted
        ):
            return item
    return None


def record_for_output(repo_root: Path, model: ModelConfig, sha256: str) -> RunRecord | None:
    """The succeeded run that wrote a model file with this sha256 (or content hash), if any."""
    rel = _rel(model.model.file, repo_root)
    for item in iter_records(repo_root, model):
        if isinstance(item, ConfigError) or not item.succeeded:
            continue
        entry = item.outputs.get(rel)
        if entry and sha256 in (entry.get("sha256"), entry.get("content_sha256")):
            return item
    return None


def run_for_model_file(repo_root: Path, model: ModelConfig) -> RunRecord | None:
    """The succeeded run that wrote the model file now on disk (by bytes, else by archive
    content), for lineage; None when no recorded run produced it."""
    path = model.model.file
    if not path.is_file():
        return None
    found = record_for_output(repo_root, model, hash_file(path))
    if found is None and (archive := archive_digest(path)) is not None:
        found = record_for_output(repo_root, model, archive.sha256)
    return found
