"""What a model's training depends on, fingerprinted: data, code, params, command and environment.

``collect_inputs`` returns the model's lock entry as it is in the working tree now. Paths in the
entry are repository-relative POSIX paths; hashes are full-content sha256, never samples.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlgate.config.model import Config, ModelConfig
from mlgate.config.sections import DEFAULT_CODE, ReproSettings
from mlgate.errors import ConfigError, Location
from mlgate.repro import environment, manifests, patterns
from mlgate.repro.hashing import Hasher, check_inside, list_files, manifest_digest

# Directories listed in full in the lock up to this many files; above it only their digest and
# file count are kept, so the lock stays reviewable.
MANIFEST_LIMIT = 2000
# Parameter files whose values are copied into the lock (so diffs show "C: 1.0 -> 0.5").
PARAMS_VALUE_LIMIT = 500
# Folders never searched for code when the model is not in a git repository.
SKIPPED_DIRS = frozenset(
    {".git", ".venv", "venv", ".nox", ".tox", "__pycache__", ".mlgate", "node_modules"}
)
DATA_ROLES = ("train", "eval", "extra")

TrackedLister = Callable[[Path, bool], list[Path] | None]


@dataclass(frozen=True)
class Inputs:
    """A model's lock entry (``fingerprint`` included), with the absolute paths it covers."""

    model: str
    entry: dict[str, Any]
    paths: tuple[Path, ...]  # data files and folders, code and params files (absolute)
    notes: tuple[str, ...] = ()
    # Per-file lists of the folders too large for the entry, by folder digest.
    large_folders: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    @property
    def fingerprint(self) -> str:
        return str(self.entry["fingerprint"])

    def listing(self, root: Path, sha256: str) -> Mapping[str, str] | None:
        """A large folder's per-file list by digest: this state's own, else the local cache's
        (the locked state's, when this machine hashed it before)."""
        own = self.large_folders.get(sha256)
        return own if own is not None else manifests.load(root, sha256)


def fingerprint(entry: Mapping[str, Any]) -> str:
    """sha256 of the entry's canonical JSON, leaving out the fingerprint itself."""
    body = {k: v for k, v in entry.items() if k != "fingerprint"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    # surrogatepass: a lone surrogate (a "\ud800" escape in a hand-edited lock, or a file name
    # that is not UTF-8) is hashed as is instead of crashing the reader.
    return "sha256:" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def git_tracked(folder: Path, whole_repo: bool) -> list[Path] | None:
    """Absolute paths of the tracked files below ``folder`` (or the whole repository); None
    when ``folder`` is not in a git repository."""
    from mlgate import gitio

    names = gitio.tracked_relative(folder, whole_repo=whole_repo)
    return None if names is None else [Path(os.path.normpath(folder / n)) for n in names]


def collect_inputs(
    config: Config,
    model: ModelConfig,
    hasher: Hasher,
    *,
    tracked: TrackedLister = git_tracked,
    missing_data_ok: bool = False,
) -> Inputs:
    """The model's inputs as they are now: the ``models.<name>`` entry of ``mlgate.lock``.
    ``missing_data_ok``: a data file that is gone is left out (a check lists it as removed)."""
    from mlgate.integrations import dvc

    settings = model.repro
    notes: list[str] = []
    root = config.root
    data_paths = _data_paths(model)
    if missing_data_ok:
        data_paths = [(p, role) for p, role in data_paths if p.exists()]
    code = _code_files(model, settings, tracked, notes)
    params = list(model.train.params) if model.train else []
    stages = dvc.model_stages(model)
    if stages is not None:  # what DVC records is pinned by DVC's hashes, never hashed again
        notes.extend(stages.notes)
        data_paths = [(p, role) for p, role in data_paths if not stages.covers(p)]
        code = [p for p in code if not stages.covers(p)]
        params = [p for p in params if not stages.covers(p)]
    folders = {p: _folder_files(p, model, settings) for p, _ in data_paths if p.is_dir()}
    files = [p for p, _ in data_paths if p not in folders] + code + params
    for members in folders.values():
        files.extend(members)
    check_inside(files, model.repo_root)  # code files may be links too: nothing leaves the repo
    hashes = hasher.hash_files(files, what="input file")

    data: dict[str, Any] = {}
    large: dict[str, dict[str, str]] = {}
    for path, role in data_paths:
        key = _rel(path, root)
        if path in folders:
            data[key], listed = _folder_entry(path, role, folders[path], hashes)
            if "files" not in data[key]:  # kept in the cache, so a check can name the files
                large[data[key]["sha256"]] = listed
                manifests.store(root, data[key]["sha256"], listed)
        else:
            h = hashes[path]
            data[key] = {"kind": "file", "role": role, "sha256": h.sha256, "size": h.size}
    entry: dict[str, Any] = {
        "path": _rel(model.root, root),
        "train": _train_entry(model, root),
        "data": data,
        "code": {_rel(p, root): {"sha256": hashes[p].sha256, "size": hashes[p].size} for p in code},
        "params": {
            _rel(p, root): _params_entry(p, hashes[p].sha256, hashes[p].size) for p in params
        },
        "environment": _environment_entry(config, model, settings, hasher, notes),
    }
    if stages is not None:
        entry["dvc"] = stages.entry(lambda p: _rel(p, root))
    entry["fingerprint"] = fingerprint(entry)
    paths = tuple(dict.fromkeys([p for p, _ in data_paths] + code + params))
    return Inputs(model.name, entry, paths, tuple(notes), large)


def _rel(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix() or "."
    except ValueError:
        return path.as_posix()


def _data_paths(model: ModelConfig) -> list[tuple[Path, str]]:
    found: dict[Path, str] = {}
    for path, role in ((model.data.train, "train"), (model.data.eval, "eval")):
        if path is not None:
            found.setdefault(path, role)
    for path in model.data.extra:
        found.setdefault(path, "extra")
    return list(found.items())


def _code_files(
    model: ModelConfig, settings: ReproSettings, tracked: TrackedLister, notes: list[str]
) -> list[Path]:
    include = settings.code if settings.code is not None else DEFAULT_CODE
    outside = patterns.reaches_outside(include)
    candidates = tracked(model.root, outside)
    if candidates is None:
        notes.append(
            "not a git repository: code files are matched on disk, not among tracked files"
        )
        candidates = _files_on_disk(model.repo_root if outside else model.root)
    rel = {os.path.relpath(p, model.root).replace(os.sep, "/"): p for p in candidates}
    chosen = patterns.select(rel, include, settings.exclude)
    files = [rel[r] for r in chosen if rel[r].is_file()]
    if not files:
        notes.append(
            "no code files matched " + ", ".join(include) + " (set repro.code to pin the code)"
        )
    return sorted(files)


def _files_on_disk(top: Path) -> list[Path]:
    out: list[Path] = []
    for folder, dirs, names in os.walk(top):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS)
        out.extend(Path(folder) / n for n in names)
    return out


def _folder_files(folder: Path, model: ModelConfig, settings: ReproSettings) -> list[Path]:
    """Every regular file below ``folder`` (symlinks followed, loops skipped), minus excludes."""
    out = list_files(folder, model.repo_root)
    if settings.exclude:
        rel = {os.path.relpath(p, model.root).replace(os.sep, "/"): p for p in out}
        out = [rel[r] for r in rel if not patterns.matches(r, settings.exclude)]
    return sorted(out)


def _folder_entry(
    folder: Path, role: str, files: list[Path], hashes: Mapping[Path, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """A folder's lock entry (its files listed up to MANIFEST_LIMIT) and its full manifest."""
    members = {p.relative_to(folder).as_posix(): hashes[p] for p in files}
    manifest = {rel: h.sha256 for rel, h in members.items()}
    entry: dict[str, Any] = {
        "kind": "directory",
        "role": role,
        "sha256": manifest_digest(manifest),
        "size": sum(h.size for h in members.values()),
        "count": len(members),
    }
    if len(members) <= MANIFEST_LIMIT:
        entry["files"] = dict(sorted(manifest.items()))
    return entry, manifest


def _train_entry(model: ModelConfig, root: Path) -> dict[str, Any] | None:
    if model.train is None:
        return None
    outputs = dict.fromkeys([*model.train.outputs, model.model.file])
    return {
        "command": model.train.command,
        "seed": model.train.seed,
        "env": dict(sorted(model.train.env.items())),
        "outputs": sorted(_rel(p, root) for p in outputs),
    }


def _params_entry(path: Path, sha256: str, size: int) -> dict[str, Any]:
    entry: dict[str, Any] = {"sha256": sha256, "size": size}
    values = param_values(path)
    if values is not None:
        entry["values"] = values
    return entry


def param_values(path: Path) -> dict[str, Any] | None:
    """A YAML/JSON parameter file flattened to ``{"a.b[0]": scalar}``; None if not readable so."""
    import yaml

    if path.suffix.lower() not in {".yaml", ".yml", ".json"}:
        return None
    try:
        data = yaml.safe_load(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError, RecursionError):
        return None
    flat: dict[str, Any] = {}
    try:
        _flatten(data, "", flat, [PARAMS_VALUE_LIMIT * 4])
    except _TooMany:
        return None  # too many values to show (or an alias bomb): the file hash still pins it
    return dict(sorted(flat.items()))


class _TooMany(Exception):
    pass


def _flatten(value: Any, prefix: str, out: dict[str, Any], budget: list[int]) -> None:
    # The budget counts nodes visited, so aliases repeating aliases cannot make this hang.
    budget[0] -= 1
    if budget[0] < 0 or len(out) > PARAMS_VALUE_LIMIT or len(prefix) > 10_000:
        raise _TooMany
    if isinstance(value, dict):
        for key, item in value.items():
            _flatten(item, f"{prefix}.{key}" if prefix else str(key), out, budget)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _flatten(item, f"{prefix}[{i}]", out, budget)
    elif value is None or isinstance(value, (bool, int, float, str)):
        out[prefix or "(value)"] = value
    else:
        out[prefix or "(value)"] = str(value)


def _environment_entry(
    config: Config,
    model: ModelConfig,
    settings: ReproSettings,
    hasher: Hasher,
    notes: list[str],
) -> dict[str, Any]:
    location: Location | None = None
    file = settings.requirements
    if file is not None:
        location = config.locate(model, "repro", "requirements")
    else:
        file = environment.find_requirements(model.root, config.root)
    trains = environment.training_environment(model, config)
    env = environment.read_environment(
        file, _rel(file, config.root) if file else "", location, installed=trains.packages
    )
    notes.extend(env.notes)
    entry: dict[str, Any] = {
        "python": trains.minor,
        "source": env.source,
        "packages": env.packages,
    }
    if env.file is not None:
        entry["sha256"] = hasher.hash_files([env.file], what="requirements file")[env.file].sha256
    return entry


def require_train(config: Config, model: ModelConfig) -> None:
    """UsageError when the model has no ``train.command`` (nothing to run)."""
    if model.train is None:
        raise ConfigError(
            f"model {model.name!r} has no train.command",
            location=config.locate(model),
            hint="add 'train: {command: python train.py}' to the model in mlgate.yaml",
        )
