"""DVC pipelines: ``dvc.yaml`` stages and the hashes ``dvc.lock`` recorded for them.

When the repository has a ``dvc.yaml``, the stages that produce a model (its model file or
metrics file, or the stage ``dvc repro STAGE`` names, and every stage upstream of them) are the
model's inputs in ``mlgate.lock``: their commands, dependencies, outputs and parameters with
DVC's own hashes, so files DVC tracks are never hashed (or listed) a second time. Data and
models kept out of git are read through DVC itself (``dvc.api``), which uses the repository's
configured remote.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlgate import gitio, proc
from mlgate.errors import ConfigError, ExternalError, Location

PIPELINE_FILE = "dvc.yaml"
LOCK_FILE = "dvc.lock"
_HASH_KEYS = ("md5", "etag", "checksum")


@dataclass(frozen=True)
class Stage:
    name: str
    cmd: str
    wdir: Path
    deps: tuple[Path, ...]
    outs: tuple[Path, ...]
    metrics: tuple[Path, ...]  # metrics files the stage writes (also outputs)
    params: Mapping[str, tuple[str, ...]]  # params file -> keys (empty: the whole file)


@dataclass(frozen=True)
class Pipeline:
    """One ``dvc.yaml`` (and its ``dvc.lock``), paths absolute."""

    root: Path  # the folder of dvc.yaml
    stages: Mapping[str, Stage]
    metrics: tuple[Path, ...]  # top-level ``metrics:`` files
    locked: Mapping[str, Mapping[str, Any]]  # dvc.lock stages, as written
    notes: tuple[str, ...] = ()

    def producer(self, path: Path) -> Stage | None:
        """The stage whose output is ``path`` or a folder holding it."""
        for stage in self.stages.values():
            if any(path == out or out in path.parents for out in stage.outs):
                return stage
        return None

    def upstream(self, names: Iterable[str]) -> list[Stage]:
        """The named stages and every stage whose outputs they depend on, in pipeline order."""
        wanted: set[str] = set()
        todo = [n for n in names if n in self.stages]
        while todo:
            name = todo.pop()
            if name in wanted:
                continue
            wanted.add(name)
            for dep in self.stages[name].deps:
                producer = self.producer(dep)
                if producer is not None:
                    todo.append(producer.name)
        return [s for n, s in self.stages.items() if n in wanted]

    def metrics_files(self) -> list[Path]:
        found = list(self.metrics)
        for stage in self.stages.values():
            found.extend(stage.metrics)
        return list(dict.fromkeys(found))


def find_pipeline(folder: Path, repo_root: Path) -> Path | None:
    """The ``dvc.yaml`` of a model: in its folder, else at the repository root."""
    for candidate in dict.fromkeys((folder, repo_root)):
        if (candidate / PIPELINE_FILE).is_file():
            return candidate / PIPELINE_FILE
    return None


def load_pipeline(path: Path) -> Pipeline:
    """Read ``dvc.yaml`` and the ``dvc.lock`` beside it; ConfigError names the file."""
    import yaml

    root = path.parent
    try:
        raw = yaml.safe_load(path.read_text("utf-8")) or {}
        lock_path = root / LOCK_FILE
        lock = yaml.safe_load(lock_path.read_text("utf-8")) if lock_path.is_file() else {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(
            f"cannot read the DVC pipeline: {exc}", location=Location(str(path))
        ) from None
    if not isinstance(raw, dict) or not isinstance(raw.get("stages", {}), dict):
        raise ConfigError("dvc.yaml has no 'stages' mapping", location=Location(str(path)))
    stages: dict[str, Stage] = {}
    notes: list[str] = []
    for name, spec in (raw.get("stages") or {}).items():
        if not isinstance(spec, dict) or "cmd" not in spec:
            notes.append(f"dvc.yaml stage {name!r} (foreach/matrix or no cmd) is not read")
            continue
        stages[str(name)] = _stage(str(name), spec, root)
    locked = (lock or {}).get("stages") or {}
    return Pipeline(
        root=root,
        stages=stages,
        metrics=tuple(root / _path_of(m) for m in raw.get("metrics") or ()),
        locked={str(k): v for k, v in locked.items() if isinstance(v, dict)},
        notes=tuple(notes),
    )


def _stage(name: str, spec: Mapping[str, Any], root: Path) -> Stage:
    wdir = (root / str(spec.get("wdir", "."))).resolve()
    command = _command(spec["cmd"])
    metrics = tuple(wdir / _path_of(m) for m in spec.get("metrics") or ())
    outs = tuple(wdir / _path_of(o) for o in spec.get("outs") or ())
    plots = tuple(wdir / _path_of(p) for p in spec.get("plots") or () if not isinstance(p, dict))
    params: dict[str, tuple[str, ...]] = {}
    for item in spec.get("params") or ():
        if isinstance(item, dict):
            for file, keys in item.items():
                params[str(file)] = tuple(map(str, keys or ()))
        else:
            params.setdefault("params.yaml", ())
            params["params.yaml"] += (str(item),)
    return Stage(
        name=name,
        cmd=command,
        wdir=wdir,
        deps=tuple(wdir / _path_of(d) for d in spec.get("deps") or ()),
        outs=tuple(dict.fromkeys(outs + metrics + plots)),
        metrics=metrics,
        params=params,
    )


def _path_of(item: Any) -> str:
    """An entry of deps/outs/metrics: a path, or ``{path: {cache: false, ...}}``."""
    if isinstance(item, dict):
        return str(next(iter(item)))
    return str(item)


def repro_target(command: str) -> list[str] | None:
    """The stages ``dvc repro [STAGE ...]`` runs (empty: all), or None for another command."""
    try:
        words = shlex.split(command)
    except ValueError:
        return None
    if words[:2] != ["dvc", "repro"]:
        return None
    return [w.split(":")[-1] for w in words[2:] if not w.startswith("-")]


@dataclass(frozen=True)
class ModelStages:
    """The stages a model comes from, and the files they cover."""

    pipeline: Pipeline
    stages: tuple[Stage, ...]
    notes: tuple[str, ...] = field(default_factory=tuple)

    def covers(self, path: Path) -> bool:
        """Whether DVC records ``path`` (a dependency or output of these stages, or inside one)."""
        for stage in self.stages:
            for tracked in (*stage.deps, *stage.outs):
                if path == tracked or tracked in path.parents:
                    return True
        return False

    def entry(self, rel: Any) -> dict[str, Any]:
        """The lock's ``dvc`` section: per stage, its command, and the hashes dvc.lock has for
        its dependencies, outputs and parameters (``null`` where dvc.lock has none yet)."""
        stages: dict[str, Any] = {}
        for stage in self.stages:
            locked = self.pipeline.locked.get(stage.name, {})
            hashes = {
                "deps": _hashes(locked.get("deps"), stage.wdir, rel),
                "outs": _hashes(locked.get("outs"), stage.wdir, rel),
            }
            stages[stage.name] = {
                # dvc.lock's command has dvc.yaml's ${...} templating resolved.
                "cmd": _command(locked.get("cmd")) or stage.cmd,
                "deps": {rel(d): hashes["deps"].get(rel(d)) for d in stage.deps},
                "outs": {rel(o): hashes["outs"].get(rel(o)) for o in stage.outs},
                "params": _params(locked.get("params"), stage),
            }
        return {"file": rel(self.pipeline.root / LOCK_FILE), "stages": stages}


def _command(cmd: Any) -> str:
    if isinstance(cmd, list):
        return " && ".join(map(str, cmd))
    return str(cmd) if cmd else ""


def _hashes(items: Any, wdir: Path, rel: Any) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items or ():
        if isinstance(item, dict) and "path" in item:
            value = next((str(item[k]) for k in _HASH_KEYS if k in item), None)
            if value is not None:
                out[rel(wdir / str(item["path"]))] = value
    return out


def _params(locked: Any, stage: Stage) -> dict[str, Any]:
    """dvc.lock's parameter values for the stage (flattened ``file: {key: value}``)."""
    values: dict[str, Any] = {}
    if isinstance(locked, dict):
        for file, keys in locked.items():
            if isinstance(keys, dict):
                for key, value in keys.items():
                    values[f"{file}:{key}"] = value if _scalar(value) else str(value)
    for file, keys in stage.params.items():
        for key in keys:
            values.setdefault(f"{file}:{key}", None)
    return dict(sorted(values.items()))


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, (bool, int, float, str))


def model_stages(model: Any) -> ModelStages | None:
    """The stages a model (a ``ModelConfig``) comes from, or None when DVC does not produce it:
    the stage ``dvc repro STAGE`` names, else those whose outputs are its model file or
    metrics file; with every stage upstream of them."""
    found = find_pipeline(model.root, model.repo_root)
    if found is None:
        return None
    pipeline = load_pipeline(found)
    targets = repro_target(model.train.command) if model.train is not None else None
    names: list[str]
    if targets:
        names = targets
    elif targets == []:  # plain `dvc repro`: the whole pipeline
        names = list(pipeline.stages)
    else:
        wanted = [model.model.file]
        if model.train is not None and model.train.metrics is not None:
            wanted.append(model.train.metrics)
        names = [s.name for p in wanted if (s := pipeline.producer(p)) is not None]
    if not names:
        return None
    missing = [n for n in names if n not in pipeline.stages]
    notes = list(pipeline.notes)
    if missing:
        notes.append("dvc.yaml has no stage " + ", ".join(map(repr, missing)))
    stages = tuple(pipeline.upstream(names))
    unlocked = [s.name for s in stages if s.name not in pipeline.locked]
    if unlocked:
        notes.append(
            "dvc.lock has no hashes for stage " + ", ".join(unlocked) + " yet (run dvc repro)"
        )
    return ModelStages(pipeline, stages, tuple(notes))


def metrics_file(model: Any) -> Path | None:
    """The metrics file a DVC pipeline writes for the model (top-level ``metrics:`` first)."""
    stages = model_stages(model)
    if stages is None:
        return None
    files = stages.pipeline.metrics_files()
    return files[0] if files else None


def read_at(repo: Path, rel: str, rev: str | None, python: str | None = None) -> bytes:
    """A file DVC tracks, as it was at ``rev`` (None: the working tree), through ``dvc.api``:
    from the local cache, else the repository's configured remote. When DVC is not installed
    where mlgate runs (its own venv), the training interpreter ``python`` asks it instead."""
    at = f" at {rev[:12]}" if rev else ""
    try:
        import dvc.api
    except ImportError:
        if python is None:
            raise ConfigError(
                f"{rel} is kept by DVC, and DVC is not installed where mlgate runs",
                hint="pip install dvc (with the remote's extra, e.g. dvc[s3]) next to mlgate",
            ) from None
        return _read_with(python, repo, rel, rev, at)
    try:
        data: bytes = dvc.api.read(rel, repo=str(repo), rev=rev, mode="rb")
    except Exception as exc:  # noqa: BLE001 - DVC raises many types; all mean "not fetched"
        raise ExternalError(
            f"DVC could not read {rel}{at}: {type(exc).__name__}: {exc}",
            hint="check the DVC remote ('dvc remote list') and that 'dvc push' stored it",
        ) from None
    return data


# Run by the training interpreter: the file's bytes on stdout (dvc.api, as above).
_READ_SCRIPT = (
    "import sys, dvc.api; sys.stdout.buffer.write(dvc.api.read("
    "sys.argv[1], repo=sys.argv[2], rev=sys.argv[3] or None, mode='rb'))"
)


def _read_with(python: str, repo: Path, rel: str, rev: str | None, at: str) -> bytes:
    try:
        return proc.run_binary(
            [python, "-c", _READ_SCRIPT, rel, str(repo), rev or ""],
            cwd=repo,
            what=f"dvc.api.read of {rel}{at} (in {python})",
        )
    except ExternalError as exc:
        raise ExternalError(
            exc.message,
            hint="DVC must be installed in mlgate's environment or the training one; check "
            "the DVC remote ('dvc remote list') and that 'dvc push' stored the file",
        ) from None


def tracks(repo: Path, rel: str, rev: str) -> bool:
    """Whether ``dvc.lock`` or a ``.dvc`` file at ``rev`` records ``rel`` as an output."""
    import yaml

    candidates = [LOCK_FILE, f"{rel}.dvc"]
    for name in candidates:
        if not gitio.has_path(repo, rev, name):
            continue
        try:
            data = yaml.safe_load(gitio.show_file(repo, rev, name)) or {}
        except yaml.YAMLError:
            continue
        outs: list[Any] = list(data.get("outs") or ())
        for stage in (data.get("stages") or {}).values():
            if isinstance(stage, dict):
                outs.extend(stage.get("outs") or ())
        for out in outs:
            path = str(out.get("path", "")) if isinstance(out, dict) else ""
            if path and (rel == path or rel.startswith(path.rstrip("/") + "/")):
                return True
    return False
