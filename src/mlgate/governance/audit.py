"""The audit trail, read from the registry's tags alone: who did what, when, from which commit,
with which checks; and the report document a registration should record to join that trail."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlgate import paths
from mlgate.config.model import Config, ModelConfig


@dataclass(frozen=True)
class AuditRequest:
    name: str
    remote: str | None = None
    config: Config | None = None  # None: the repository around the working directory


@dataclass(frozen=True)
class AuditEntry:
    """One registry event and the evidence its payload carries."""

    tag: str
    event: str
    version: str | None
    stage: str | None
    date: str
    who: str
    commit: str
    signed: bool = False
    run_url: str | None = None
    checks: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # kind -> ok, digest
    documents: Mapping[str, str] = field(default_factory=dict)  # report / card / image -> digest
    note: str | None = None
    problem: str | None = None  # an unreadable payload: the evidence cannot be vouched for

    def to_dict(self) -> dict[str, Any]:
        return {
            "tag": self.tag,
            "event": self.event,
            "version": self.version,
            "stage": self.stage,
            "date": self.date,
            "who": self.who,
            "commit": self.commit,
            "signed": self.signed,
            "run_url": self.run_url,
            "checks": {k: dict(v) for k, v in self.checks.items()},
            "documents": dict(self.documents),
            "note": self.note,
            "problem": self.problem,
        }


@dataclass(frozen=True)
class AuditResult:
    name: str
    source: str
    entries: tuple[AuditEntry, ...]
    problems: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.name,
            "source": self.source,
            "events": [e.to_dict() for e in self.entries],
            "problems": list(self.problems),
        }


def audit(request: AuditRequest) -> AuditResult:
    """Every registry event of ``request.name``, in the registry's replay order; without a
    configuration, of the repository around the working directory."""
    from mlgate import gitio
    from mlgate.registry.tags import load_state

    config = request.config
    root = config.root if config is not None else gitio.repo_root(Path.cwd())
    state = load_state(root, request.remote)
    model = state.model(request.name)  # UsageError with a suggestion when unknown
    entries = tuple(_entry(e) for e in model.events)
    problems = tuple(f"{p.tag}: {p.message}" for p in state.problems_for(model.name))
    return AuditResult(model.name, str(state.source), entries, problems)


def _entry(event: Any) -> AuditEntry:
    payload: Mapping[str, Any] = event.payload or {}
    tagger = event.tagger + (f" <{event.tagger_email}>" if event.tagger_email else "")
    actor = payload.get("actor")
    same = actor in {None, "", event.tagger, tagger}
    who = tagger if same else f"{actor} (tagged by {tagger})"
    checks: dict[str, Mapping[str, Any]] = {}
    for kind, entry in (payload.get("verdicts") or {}).items():
        if isinstance(entry, Mapping):
            checks[str(kind)] = {k: entry[k] for k in ("ok", "digest", "counts") if k in entry}
    documents = {}
    for key in ("report", "card"):
        doc = payload.get(key)
        if isinstance(doc, Mapping) and doc.get("digest"):
            documents[key] = str(doc["digest"])
    image = payload.get("image")
    if isinstance(image, Mapping) and image.get("digest"):
        documents["image"] = f"{image.get('reference')}@{image['digest']}"
    model_file = payload.get("model_file")
    if isinstance(model_file, Mapping) and model_file.get("sha256"):
        digest = str(model_file["sha256"])
        documents["model"] = digest if ":" in digest else "sha256:" + digest
    return AuditEntry(
        tag=event.tag,
        event=str(getattr(event.kind, "value", event.kind)),
        version=event.version,
        stage=event.stage,
        date=event.date,
        who=who or "unknown",
        commit=event.commit,
        signed=bool(event.signed),
        run_url=payload.get("run_url"),
        checks=checks,
        documents=documents,
        note=payload.get("note"),
        problem=event.payload_error,
    )


def report_document(model: ModelConfig, out_dir: Path | None = None) -> dict[str, str] | None:
    """``{"digest", "path"}`` of the model's ``report.json`` for a registry payload's ``report``
    field (None when no report was written): the registry event then vouches for this report."""
    folder = out_dir or paths.out_dir(model.repo_root, model.tag_name)
    path = folder / "report.json"
    if not path.is_file():
        return None
    digest = "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
    return {"digest": digest, "path": model.relative(path)}
