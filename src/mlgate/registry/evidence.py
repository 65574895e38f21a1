"""The evidence a registration records about the commit it tags: model file, metrics, model
card and data fingerprints as they are *in that commit* (read with ``git cat-file``), verdict
digests from verdict files, and who or which CI run registered it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mlgate import __version__, gitio
from mlgate.config.model import ModelConfig
from mlgate.errors import ExternalError, UsageError
from mlgate.github.actions import RunContext
from mlgate.registry.payload import PAYLOAD_FORMAT
from mlgate.verdict import read_verdict

# Payload keys the registry owns: a caller's payload may repeat them only with the same value.
OWNED = ("format", "event", "model", "version", "commit", "stage", "counter")


def base_payload(
    event: str, name: str, version: str | None, commit: str, run: RunContext
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "format": PAYLOAD_FORMAT,
        "event": event,
        "model": name,
        "version": version,
        "commit": commit,
        "tool": {"name": "mlgate", "version": __version__},
    }
    if run.actor:
        payload["actor"] = run.actor
    if run.run_url:
        payload["run_url"] = run.run_url
    return payload


def merge(payload: dict[str, Any], extra: Any, what: str) -> dict[str, Any]:
    """``payload`` with the caller's fields added; owned keys must agree (UsageError if not)."""
    if extra is None:
        return payload
    if not isinstance(extra, dict):
        raise UsageError(f"{what}: the payload must be a JSON object")
    for key in OWNED:
        if key in extra and key in payload and extra[key] != payload[key]:
            raise UsageError(
                f"{what}: payload {key} {extra[key]!r} contradicts the registry's {payload[key]!r}",
                hint=f"leave {key!r} out of the payload; mlgate fills it in",
            )
    return {**payload, **extra}


def read_payload_file(path: Path) -> dict[str, Any]:
    """A JSON object from ``path`` (``-`` is not supported: pass a file)."""
    try:
        data = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise UsageError(f"payload file not found: {path}") from None
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path}: not a readable JSON file: {exc}") from None
    if not isinstance(data, dict):
        raise UsageError(f"{path}: the payload must be a JSON object")
    return data


def verdict_entries(paths: Sequence[Path], name: str) -> dict[str, Any]:
    """``{kind: {digest, ok, counts}}`` for the given verdict files (schema-checked)."""
    entries: dict[str, Any] = {}
    for path in paths:
        verdict = read_verdict(path)
        if verdict.model not in (name, name.replace(":", "=")):
            raise UsageError(
                f"{path} is a verdict for model {verdict.model!r}, not {name!r}",
                hint="pass the verdicts of the model being registered",
            )
        entries[verdict.kind] = {
            "digest": verdict.digest(),
            "ok": verdict.ok,
            "counts": verdict.counts(),
        }
    return entries


def committed_evidence(
    root: Path, model: ModelConfig, commit: str
) -> tuple[dict[str, Any], list[str]]:
    """Payload fields read from the commit itself, and notes on what was not there."""
    fields: dict[str, Any] = {}
    notes: list[str] = []

    def blob(path: Path) -> tuple[str, bytes] | None:
        rel = model.relative(path)
        try:
            return rel, gitio.show_file(root, commit, rel)
        except ExternalError:
            notes.append(f"{rel} is not in commit {commit[:12]}; not recorded")
            return None

    folder = _model_folder(root, model, commit)
    if folder:
        fields["model_file"] = {"path": folder[0], "sha256": folder[1], "size": folder[2]}
    found = None if folder else blob(model.model.file)
    found = found or (None if folder else _model_outside_git(root, model, commit, notes))
    if found:
        fields["model_file"] = {
            "path": found[0],
            "sha256": hashlib.sha256(found[1]).hexdigest(),
            "size": len(found[1]),
        }
    if model.train and model.train.metrics:
        found = blob(model.train.metrics)
        if found:
            metrics = _numeric_metrics(found[1])
            if metrics:
                fields["metrics"] = metrics
    card = model.governance.card
    if card:
        found = blob(card)
        if found:
            fields["card"] = {"digest": _digest(found[1]), "path": found[0]}
    fingerprints: dict[str, str] = {}
    for role, path in (("train", model.data.train), ("eval", model.data.eval)):
        if path is not None:
            found = blob(path)
            if found:
                fingerprints[role] = _digest(found[1])
    if fingerprints:
        fields["data"] = fingerprints
    return fields, notes


def _model_folder(root: Path, model: ModelConfig, commit: str) -> tuple[str, str, int] | None:
    """A model directory (MLflow) in the commit: its path, manifest digest (as
    ``modelio.sha256_file`` computes it for the folder) and total size."""
    from mlgate.modelio import manifest_sha256

    rel = model.relative(model.model.file)
    members = gitio.tree_files(root, commit, rel)
    if members is None:
        return None
    data = {m: gitio.show_file(root, commit, f"{rel}/{m}") for m in members}
    digest = manifest_sha256({m: hashlib.sha256(b).hexdigest() for m, b in data.items()})
    return rel, digest, sum(len(b) for b in data.values())


def _model_outside_git(
    root: Path, model: ModelConfig, commit: str, notes: list[str]
) -> tuple[str, bytes] | None:
    """A model file kept out of git, registered at HEAD: the working tree's file is the one this
    commit produced, so its digest is recorded (and ``--release`` attaches it)."""
    path = model.model.file
    if not path.is_file() or commit != gitio.head_commit(root):
        return None
    rel = model.relative(path)
    notes[-1] = (
        f"{rel} is not in commit {commit[:12]}; recorded the sha256 of the working tree's file "
        "(keep it with the version: register --release attaches it to the GitHub Release)"
    )
    return rel, path.read_bytes()


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _numeric_metrics(data: bytes) -> dict[str, float]:
    try:
        parsed = json.loads(data)
    except ValueError:
        return {}
    if not isinstance(parsed, dict):
        return {}
    return {
        str(k): float(v)
        for k, v in parsed.items()
        if isinstance(v, int | float) and not isinstance(v, bool)
    }


def actor_name(root: Path, run: RunContext) -> str | None:
    """Who is writing: the GitHub actor of ``run`` in CI, else git's committer identity."""
    return run.actor or gitio.committer_ident(root) or None


def require_commit(root: Path, ref: str) -> str:
    commit = gitio.resolve_commit(root, ref)
    if commit is None:
        raise UsageError(
            f"{ref!r} does not name a commit in {root}",
            hint="pass --ref with a branch, tag or commit sha (default HEAD)",
        )
    return commit
