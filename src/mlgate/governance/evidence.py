"""The evidence a report rests on: the lock, the training run record and the gates' verdicts.

Each is read from where the other commands write it (``mlgate.lock``,
``.mlgate/runs/<model>/<run>.json``, ``.mlgate/out/<model>/<kind>.json``). Nothing here fails on
missing or unreadable evidence: each item says whether it is there, and if not, why and which
command produces it, so the report can say plainly what is missing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlgate import paths
from mlgate.config.model import ModelConfig
from mlgate.config.yamlsource import SourceMap, load_yaml
from mlgate.errors import ConfigError, Location
from mlgate.repro import judged
from mlgate.verdict import Verdict, read_verdict

# kind -> (file name in the out folder, command that writes it)
VERDICT_FILES: dict[str, tuple[str, str]] = {
    "repro": ("repro.json", "mlgate repro --rerun"),
    "validation": ("validation.json", "mlgate validate"),
    "drift": ("drift.json", "mlgate drift (or the drift gate of mlgate validate)"),
}


@dataclass(frozen=True)
class EvidenceItem:
    """One piece of evidence: where it should be, whether it is usable, and what to run if not."""

    kind: str
    path: str  # repository-relative
    present: bool
    produce: str  # the command that produces it
    problem: str | None = None  # unreadable, invalid, for another model
    stale: str | None = None  # present, but what it judged has changed since (why)

    @property
    def usable(self) -> bool:
        return self.present and self.problem is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "path": self.path,
            "present": self.present,
            "usable": self.usable,
            "produce": self.produce,
            "problem": self.problem,
            "stale": self.stale,
        }


@dataclass(frozen=True)
class Evidence:
    """Everything read, and an item per kind saying what was found."""

    items: tuple[EvidenceItem, ...]
    lock: Mapping[str, Any] | None = None  # this model's entry of the lock
    run: Mapping[str, Any] | None = None  # the training run record
    verdicts: Mapping[str, Verdict] = field(default_factory=dict)

    def item(self, kind: str) -> EvidenceItem | None:
        return next((i for i in self.items if i.kind == kind), None)

    @property
    def missing(self) -> tuple[EvidenceItem, ...]:
        return tuple(i for i in self.items if not i.usable)


def collect(model: ModelConfig, out_dir: Path, head: str | None) -> Evidence:
    """Read the lock, the latest run record and the verdicts of ``model``."""
    root = model.repo_root
    items: list[EvidenceItem] = []
    lock, item = _read_lock(model)
    items.append(item)
    run, item = _read_run(model, head)
    items.append(item)
    verdicts: dict[str, Verdict] = {}
    model_digest = _model_digest(model)
    now = judged.take(model)
    for kind, (name, command) in VERDICT_FILES.items():
        path = out_dir / name
        shown = _rel(path, root)
        if not path.is_file():
            items.append(EvidenceItem(kind, shown, present=False, produce=command))
            continue
        try:
            verdict = _read_verdict(path)
        except ConfigError as exc:
            items.append(
                EvidenceItem(kind, shown, present=True, produce=command, problem=exc.render())
            )
            continue
        if verdict.model not in {model.name, model.tag_name}:
            problem = f"the verdict is for model {verdict.model!r}, not {model.name!r}"
            items.append(EvidenceItem(kind, shown, present=True, produce=command, problem=problem))
            continue
        verdicts[kind] = verdict
        stale = _staleness(verdict, head, model_digest, now)
        items.append(EvidenceItem(kind, shown, present=True, produce=command, stale=stale))
    monitor = _read_monitor(out_dir / MONITOR_FILE, model)
    if monitor is not None:
        verdicts["monitor"] = monitor
        shown = _rel(out_dir / MONITOR_FILE, root)
        items.append(EvidenceItem("monitor", shown, present=True, produce=MONITOR_COMMAND))
    return Evidence(tuple(items), lock, run, verdicts)


MONITOR_FILE = "monitor.json"
MONITOR_COMMAND = "mlgate monitor --data CAPTURE (or mlgate drift --production --current DATA)"


def _read_monitor(path: Path, model: ModelConfig) -> Verdict | None:
    """The production monitor's verdict (``mlgate monitor``, ``mlgate drift --production``): it
    judges production data, not this change, so it is optional and never stale."""
    if not path.is_file():
        return None
    try:
        verdict = _read_verdict(path)
    except ConfigError:
        return None
    if verdict.kind != "monitor" or verdict.model not in {model.name, model.tag_name}:
        return None
    return verdict


def _staleness(
    verdict: Verdict, head: str | None, model_digest: str | None, now: Mapping[str, Any]
) -> str | None:
    """Why a verdict no longer describes this change: the model file, the lock entry or the data
    it judged changed since (its ``judged`` fingerprint); for a verdict written without one,
    another commit or another model file."""
    recorded = verdict.context.get(judged.KEY)
    if isinstance(recorded, Mapping):
        return "; ".join(judged.changes(recorded, now)) or None
    made_at = verdict.context.get("commit")
    if head and isinstance(made_at, str) and made_at and not head.startswith(made_at):
        return f"made at commit {made_at[:12]}, HEAD is {head[:12]}"
    challenger = verdict.context.get("challenger")
    seen = challenger.get("sha256") if isinstance(challenger, Mapping) else None
    if model_digest and isinstance(seen, str) and seen.removeprefix("sha256:") != model_digest:
        return (
            f"judged model file sha256:{seen.removeprefix('sha256:')[:12]}, "
            f"the model file now is sha256:{model_digest[:12]}"
        )
    return None


def _read_verdict(path: Path) -> Verdict:
    return read_verdict(path)


def _read_lock(model: ModelConfig) -> tuple[Mapping[str, Any] | None, EvidenceItem]:
    path = paths.lock_path(model.repo_root)
    shown = _rel(path, model.repo_root)
    command = "mlgate lock"
    if not path.is_file():
        return None, EvidenceItem("lock", shown, present=False, produce=command)
    try:
        data = _load_structured(path)
        _maybe_validate(data, "lock", path)
    except ConfigError as exc:
        return None, EvidenceItem(
            "lock", shown, present=True, produce=command, problem=exc.render()
        )
    entry = model_entry(data, model)
    if entry is None:
        problem = f"the lock has no entry for model {model.name!r}"
        return None, EvidenceItem("lock", shown, present=True, produce=command, problem=problem)
    return entry, EvidenceItem("lock", shown, present=True, produce=command)


def model_entry(lock: Any, model: ModelConfig) -> Mapping[str, Any] | None:
    """This model's part of the lock, whether ``models`` is a mapping or a list of entries."""
    if not isinstance(lock, Mapping):
        return None
    models = lock.get("models", lock)
    names = {model.name, model.tag_name}
    if isinstance(models, Mapping):
        for name in names:
            if isinstance(models.get(name), Mapping):
                entry: Mapping[str, Any] = models[name]
                return entry
        return None
    if isinstance(models, list):
        for candidate in models:
            if isinstance(candidate, Mapping) and candidate.get("name") in names:
                return candidate
    return None


def _read_run(
    model: ModelConfig, head: str | None
) -> tuple[Mapping[str, Any] | None, EvidenceItem]:
    """The run record that produced the model file now present, else the one at HEAD, else the
    last by run id (never by file times)."""
    folder = paths.runs_dir(model.repo_root, model.tag_name)
    shown = _rel(folder, model.repo_root) + "/"
    command = "mlgate train"
    files = sorted(folder.glob("*.json")) if folder.is_dir() else []
    if not files:
        return None, EvidenceItem("run", shown, present=False, produce=command)
    records: list[tuple[Path, Mapping[str, Any]]] = []
    problems = []
    for path in files:
        try:
            data = _load_structured(path)
            _maybe_validate(data, "run", path)
        except ConfigError as exc:
            problems.append(exc.render())
            continue
        if isinstance(data, Mapping):
            records.append((path, data))
    if not records:
        return None, EvidenceItem(
            "run", shown, present=True, produce=command, problem="; ".join(problems)
        )
    model_digest = _model_digest(model)
    chosen = (
        _pick(records, lambda r: model_digest is not None and model_digest in _output_digests(r))
        or _pick(records, lambda r: head is not None and _commit_of(r) == head)
        or records[-1]
    )
    path, record = chosen
    return record, EvidenceItem("run", _rel(path, model.repo_root), present=True, produce=command)


def _pick(
    records: list[tuple[Path, Mapping[str, Any]]], keep: Any
) -> tuple[Path, Mapping[str, Any]] | None:
    kept = [r for r in records if keep(r[1])]
    return kept[-1] if kept else None


def _commit_of(record: Mapping[str, Any]) -> Any:
    git = record.get("git")
    return git.get("commit") if isinstance(git, Mapping) else record.get("commit")


def _output_digests(record: Mapping[str, Any]) -> set[str]:
    """Every sha256 the record names for its outputs, bare hex, whatever the layout."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, str):
            found.add(node.removeprefix("sha256:"))
        elif isinstance(node, Mapping):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(record.get("outputs"))
    return found


def _model_digest(model: ModelConfig) -> str | None:
    if not model.model.file.exists():
        return None
    from mlgate.modelio import sha256_file

    return sha256_file(model.model.file).removeprefix("sha256:")


def _load_structured(path: Path) -> Any:
    """JSON, or YAML for a lock written that way; ConfigError on unreadable content."""
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path.name}: {exc}", location=Location(str(path))) from None
    try:
        return json.loads(text)
    except ValueError:
        pass

    data, _ = load_yaml(text, str(path))
    return data


def _maybe_validate(data: Any, schema: str, path: Path) -> None:
    """Validate against the package schema when this mlgate ships it."""
    from mlgate.schemas import available

    if schema not in available():
        return
    from mlgate.config.validate import validate

    validate(data, schema, SourceMap(str(path)), what=path.name)


def _rel(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)
