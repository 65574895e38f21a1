"""``mlgate plan``: which models a change touches, as a matrix for a monorepo's CI fan-out.

A model is touched when a changed file is something it depends on: data (train, eval, extra),
parameter files, its code (``repro.code``, default ``**/*.py``) and requirements file, its model
file, card, drift reference and run records, its own entry of ``mlgate.yaml`` or ``mlgate.lock``,
and, for a model in its own folder, anything inside that folder. Everything comes from one
``git diff --name-only`` against the merge base.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlgate import gfm, gitio, paths
from mlgate.config.model import Config, ModelConfig
from mlgate.config.sections import DEFAULT_CODE
from mlgate.errors import ExternalError, UsageError
from mlgate.fsio import dump_json
from mlgate.github.actions import RunContext
from mlgate.github.event import NULL_SHA, Event
from mlgate.integrations import dvc
from mlgate.repro.environment import CANDIDATES as REQUIREMENT_CANDIDATES
from mlgate.repro.patterns import compile_glob

_GLOB_CHARS = frozenset("*?[")


@dataclass(frozen=True)
class PlanRequest:
    """What ``mlgate plan`` compares, in which project."""

    config: Config
    base: str | None = None
    head: str | None = None
    all_models: bool = False
    run: RunContext = field(default_factory=RunContext)  # the Actions run (event, base branch)


@dataclass(frozen=True)
class Dependency:
    """A path (file, folder or glob, repository-relative) a model depends on, and why."""

    pattern: str
    why: str

    def matches(self, changed: str) -> bool:
        if _GLOB_CHARS & set(self.pattern):
            return compile_glob(self.pattern).match(changed, folder=True)
        return changed == self.pattern or changed.startswith(self.pattern.rstrip("/") + "/")


@dataclass(frozen=True)
class PlannedModel:
    name: str
    tag_name: str
    path: str
    reasons: tuple[str, ...]

    def matrix_entry(self) -> dict[str, str]:
        """One matrix row; ``artifact`` is the name made safe for artifact and file names."""
        return {
            "model": self.name,
            "tag_name": self.tag_name,
            "path": self.path,
            "artifact": re.sub(r"[^A-Za-z0-9._-]+", "-", self.tag_name),
        }


@dataclass(frozen=True)
class PlanResult:
    base: str | None
    base_commit: str | None
    head: str | None
    changed: tuple[str, ...]
    models: tuple[PlannedModel, ...]
    untouched: tuple[str, ...]
    removed: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def matrix(self) -> dict[str, list[dict[str, str]]]:
        """The value for ``strategy.matrix`` (``fromJSON``); check ``any`` first, GitHub
        rejects an empty matrix."""
        return {"include": [m.matrix_entry() for m in self.models]}

    def outputs(self) -> dict[str, str]:
        """Step outputs for ``$GITHUB_OUTPUT``."""
        return {
            "matrix": _compact(self.matrix),
            "models": _compact([m.name for m in self.models]),
            "count": str(len(self.models)),
            "any": "true" if self.models else "false",
            "base": self.base_commit or "",
            "plan": dump_json(self.to_dict()).rstrip("\n"),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "base": self.base,
            "base_commit": self.base_commit,
            "head": self.head,
            "changed": list(self.changed),
            "models": [{**m.matrix_entry(), "reasons": list(m.reasons)} for m in self.models],
            "untouched": list(self.untouched),
            "removed": list(self.removed),
            "matrix": self.matrix,
            "notes": list(self.notes),
        }

    def to_markdown(self) -> str:
        lines = ["### mlgate plan", ""]
        if not self.models:
            lines.append("No model is touched by this change; no model check runs.")
        else:
            rows = []
            for m in self.models:
                why = "<br>".join(gfm.text(r) for r in m.reasons[:5])
                more = len(m.reasons) - 5
                why += f"<br>… and {more} more" if more > 0 else ""
                rows.append((gfm.code(m.name), gfm.code(m.path), gfm.Md(why)))
            lines += gfm.table(("model", "folder", "why"), rows)
        if self.untouched:
            lines += ["", "Not touched: " + ", ".join(gfm.code(n) for n in self.untouched)]
        if self.notes:
            lines += ["", *(f"> {gfm.text(n)}" for n in self.notes)]
        return "\n".join(lines) + "\n"


def plan(request: PlanRequest, event: Event | None = None) -> PlanResult:
    """The models the change between the base and HEAD (or the working tree) touches;
    ``event`` is the run's event (default: read from ``request.run``)."""
    config = request.config
    repo = gitio.repo_root(config.root)
    event = request.run.event() if event is None else event
    base, forced = resolve_base(repo, request.base, event, request.run.base_ref)
    if request.all_models or base is None:
        note = "all models selected (--all)" if request.all_models else forced
        every = tuple(
            PlannedModel(m.name, m.tag_name, _rel(m, m.root), (note or "",)) for m in config.models
        )
        return PlanResult(base, None, request.head, (), every, (), notes=(note or "",))
    base_commit = gitio.resolve_commit(repo, base)
    if base_commit is None:
        raise UsageError(
            f"the base revision {base!r} is not in this clone",
            hint="fetch it (actions/checkout with fetch-depth: 0) or pass --base REF",
        )
    if request.head is not None and gitio.resolve_commit(repo, request.head) is None:
        raise UsageError(f"the head revision {request.head!r} is not in this clone")
    ancestor = gitio.merge_base(repo, base_commit, request.head or "HEAD")
    if ancestor is None:
        raise UsageError(
            f"{base!r} and {request.head or 'HEAD'} have no common history in this clone",
            hint="the clone is probably shallow: use actions/checkout with fetch-depth: 0",
        )
    changed = gitio.changed_files(repo, base_commit, request.head)
    touched: dict[str, list[str]] = {m.name: [] for m in config.models}
    for model in config.models:
        deps = model_dependencies(model)
        for path in changed:
            for dep in deps:
                if dep.matches(path):
                    touched[model.name].append(f"{path} ({dep.why})")
                    break
    notes: list[str] = []
    removed: tuple[str, ...] = ()
    config_rel = _repo_rel(repo, config.path)
    if config_rel in changed:
        by_config, removed, note = _config_changes(repo, config, config_rel, ancestor)
        for name, reason in by_config.items():
            touched[name].append(reason)
        notes += [note] if note else []
    lock_rel = _repo_rel(repo, paths.lock_path(config.root))
    if lock_rel in changed:
        for name in _lock_changes(repo, config, lock_rel, ancestor, request.head):
            touched[name].append(f"{lock_rel}: its entry changed")
    models = tuple(
        PlannedModel(m.name, m.tag_name, _rel(m, m.root), tuple(touched[m.name]))
        for m in config.models
        if touched[m.name]
    )
    untouched = tuple(m.name for m in config.models if not touched[m.name])
    return PlanResult(
        base, base_commit, request.head, tuple(changed), models, untouched, removed, tuple(notes)
    )


def resolve_base(
    repo: Path, explicit: str | None, event: Event, base_ref: str | None = None
) -> tuple[str | None, str | None]:
    """The revision to compare with, or (None, why) when every model must be checked.

    ``--base``, else the pull request's base commit, else the commit a push started from, else
    ``origin/BASE_REF`` (the run's ``GITHUB_BASE_REF``), else the remote's default branch,
    ``main`` or ``master``.
    """
    if explicit:
        if explicit.startswith("-"):
            raise UsageError(f"--base {explicit!r} is not a revision")
        return explicit, None
    pr = event.pull_request
    if pr is not None and pr.base_sha:
        return pr.base_sha, None
    before = event.before
    if before == NULL_SHA:
        return None, "a new branch was pushed: every model is checked"
    if before:
        return before, None
    candidates = [f"origin/{base_ref}"] if base_ref else []
    candidates += ["origin/HEAD", "main", "master"]
    for candidate in candidates:
        if gitio.resolve_commit(repo, candidate):
            return candidate, None
    raise UsageError(
        "no base revision to compare with",
        hint="pass --base REF (for example --base origin/main)",
    )


def model_dependencies(model: ModelConfig) -> list[Dependency]:
    """Everything whose change touches the model: the inputs its lock entry fingerprints (data,
    params, code, the requirements file), its model file and outputs, card and drift data, its
    run records and, for a model in its own folder, everything in that folder.

    A model at the repository root (``path: .``) gets no catch-all folder: its default code set
    (``**/*.py``) and named files say exactly what it depends on.
    """
    deps: list[Dependency] = []

    def add(path: Path | None, why: str) -> None:
        if path is not None:
            rel = _rel(model, path)
            if not rel.startswith(("/", "../")):
                deps.append(Dependency(rel, why))

    for key in ("train", "eval"):
        add(getattr(model.data, key), f"data.{key}")
    for extra in model.data.extra:
        add(extra, "data.extra")
    if model.train is not None:
        for params in model.train.params:
            add(params, "train.params")
    deps += _dvc_dependencies(model)
    deps += _code_and_environment(model)
    add(model.model.file, "model.file")
    if model.train is not None:
        for output in model.train.outputs:
            add(output, "train.outputs")
        add(model.train.metrics, "train.metrics")
    add(model.governance.card, "governance.card")
    drift = model.gates.drift
    if drift is not None:
        if "reference" in drift.given:
            add(drift.reference, "gates.drift.reference")
        if "current" in drift.given:
            add(drift.current, "gates.drift.current")
    add(paths.runs_dir(model.repo_root, model.tag_name), "run records")
    if model.root.resolve() != model.repo_root.resolve():
        # Last, so a file that is also a named input gets the more telling reason.
        deps.append(Dependency(_rel(model, model.root), "model folder"))
    excluded = [_rel_pattern(model, p) for p in model.repro.exclude]
    if excluded:
        deps = [_Excluding(d.pattern, d.why, tuple(excluded)) for d in deps]
    return deps


def _code_and_environment(model: ModelConfig) -> list[Dependency]:
    """The code globs and the requirements file the lock fingerprints (found by name unless
    ``repro.requirements`` names it: then adding any candidate changes which one is used)."""
    code = model.repro.code or ()
    why = "repro.code" if code else "code (default " + ", ".join(DEFAULT_CODE) + ")"
    deps = [Dependency(_rel_pattern(model, p), why) for p in code or DEFAULT_CODE]
    files: list[tuple[Path, str]] = []
    if model.repro.requirements is not None:
        files.append((model.repro.requirements, "repro.requirements"))
    else:
        for folder in dict.fromkeys((model.root, model.repo_root)):
            files += [(folder / n, "requirements (found by name)") for n in REQUIREMENT_CANDIDATES]
    if model.train is not None and model.train.entry_point is not None:
        files.append((model.root / "MLproject", "train.entry_point"))
    if model.publish.requirements is not None:
        files.append((model.publish.requirements, "publish.requirements"))
    for path, reason in files:
        rel = _rel(model, path)
        if not rel.startswith(("/", "../")):
            deps.append(Dependency(rel, reason))
    return deps


def _dvc_dependencies(model: ModelConfig) -> list[Dependency]:
    """For a model a DVC pipeline produces: dvc.yaml, dvc.lock, the ``.dvc`` files and params
    files of its stages and their dependencies in git (data DVC keeps changes dvc.lock)."""
    stages = dvc.model_stages(model)
    if stages is None:
        return []
    root = stages.pipeline.root
    files = [root / dvc.PIPELINE_FILE, root / dvc.LOCK_FILE]
    for stage in stages.stages:
        files += [p.parent / f"{p.name}.dvc" for p in stage.deps]
        files += list(stage.deps) + [stage.wdir / f for f in stage.params]
    deps = []
    for path in dict.fromkeys(files):
        rel = _rel(model, path)
        if not rel.startswith(("/", "../")):
            deps.append(Dependency(rel, "dvc pipeline"))
    return deps


@dataclass(frozen=True)
class _Excluding(Dependency):
    """A dependency minus the files ``repro.exclude`` leaves out of the fingerprint."""

    excluded: tuple[str, ...] = ()

    def matches(self, changed: str) -> bool:
        if any(compile_glob(p).match(changed, folder=True) for p in self.excluded):
            return False
        return super().matches(changed)


def _config_changes(
    repo: Path, config: Config, config_rel: str, ancestor: str
) -> tuple[dict[str, str], tuple[str, ...], str | None]:
    """Models whose own entry of mlgate.yaml changed; all of them when shared settings did."""
    import yaml

    every = {m.name: f"{config_rel} changed" for m in config.models}
    try:
        old = yaml.safe_load(gitio.show_file(repo, ancestor, config_rel))
    except (ExternalError, yaml.YAMLError):  # absent or unparsable before: treat as all new
        return every, (), f"{config_rel} is new or was unreadable at the base: all models"
    if not isinstance(old, dict) or not isinstance(old.get("models"), list):
        return every, (), None
    shared_old = {k: v for k, v in old.items() if k != "models"}
    shared_new = {k: v for k, v in config.raw.items() if k != "models"}
    if shared_old != shared_new:
        return every, (), f"settings shared by all models changed in {config_rel}"
    old_entries = {e.get("name"): e for e in old["models"] if isinstance(e, dict)}
    touched = {}
    for model in config.models:
        before = old_entries.get(model.name)
        if before is None:
            touched[model.name] = f"{config_rel}: new model entry"
        elif before != config.raw["models"][model.index]:
            touched[model.name] = f"{config_rel}: models[{model.index}] changed"
    current = {m.name for m in config.models}
    removed = tuple(str(n) for n in old_entries if n not in current)
    return touched, removed, None


def _lock_changes(
    repo: Path, config: Config, lock_rel: str, ancestor: str, head: str | None
) -> list[str]:
    """Models whose entry of mlgate.lock differs between the merge base and now."""
    import json

    def entries(rev: str | None) -> dict[str, Any] | None:
        try:
            raw = (
                paths.lock_path(config.root).read_bytes()
                if rev is None
                else gitio.show_file(repo, rev, lock_rel)
            )
            data = json.loads(raw)
        except (OSError, ExternalError, ValueError):  # absent or unreadable: compare as empty
            return None
        models = data.get("models") if isinstance(data, dict) else None
        return models if isinstance(models, dict) else None

    before, after = entries(ancestor) or {}, entries(head) or {}
    return [m.name for m in config.models if before.get(m.name) != after.get(m.name)]


def _rel(model: ModelConfig, path: Path) -> str:
    return model.relative(path)


def _repo_rel(repo: Path, path: Path) -> str:
    try:
        return path.resolve().relative_to(repo.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def _rel_pattern(model: ModelConfig, pattern: str) -> str:
    """A glob relative to the model folder, made repository-relative (``..`` allowed)."""
    base = (
        model.root.relative_to(model.repo_root).as_posix() if model.root != model.repo_root else ""
    )
    joined = os.path.normpath(f"{base}/{pattern}" if base else pattern)
    return Path(joined).as_posix()


def _compact(data: object) -> str:
    import json

    return json.dumps(data, separators=(",", ":"), sort_keys=True)
