"""``mlgate.lock``: read (strictly, with errors that point at the line), render and write.

The lock is JSON with sorted keys and two-space indentation, so every change is one reviewable
line in a diff. Each model entry carries a fingerprint of its own content: a hand edit that does
not also recompute it is detected and refused rather than trusted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from mlgate import __version__
from mlgate.config.yamlsource import SourceMap, load_yaml
from mlgate.errors import ConfigError, Location
from mlgate.fsio import atomic_write_text, dump_json
from mlgate.repro.inputs import fingerprint
from mlgate.schemas import load_schema

LOCK_FORMAT = 1
ABOUT = (
    "Written by 'mlgate lock': content hashes of each model's training inputs. "
    "Do not edit by hand; 'mlgate repro --check' compares the working tree with it."
)
REGENERATE = "regenerate it with 'mlgate lock' (and review the diff before committing)"
# No line of JSON can start with these, so any line that does is a merge conflict marker.
CONFLICT_MARKERS = ("<<<<<<<", "=======", ">>>>>>>")


class NewerLockError(ConfigError):
    """The lock was written by a newer mlgate; never overwritten by an older one."""


@dataclass(frozen=True)
class Lock:
    """A parsed lock: model name -> entry (see ``schemas/lock.schema.json``)."""

    path: Path
    models: dict[str, dict[str, Any]] = field(default_factory=dict)

    def entry(self, name: str) -> dict[str, Any] | None:
        return self.models.get(name)


def render_lock(models: dict[str, dict[str, Any]]) -> str:
    return dump_json({"format": LOCK_FORMAT, "about": ABOUT, "models": models})


def write_lock(path: Path, models: dict[str, dict[str, Any]]) -> bool:
    """Write the lock atomically; False (and the file untouched) when nothing changed."""
    text = render_lock(models)
    try:
        if path.read_text("utf-8") == text:
            return False
    except (OSError, UnicodeDecodeError):
        pass
    atomic_write_text(path, text)
    return True


def read_lock(path: Path) -> Lock | None:
    """The lock at ``path``, or None when there is none; ConfigError (exit 2) when invalid."""
    shown = path.name
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(
            f"cannot read {shown}: {exc.strerror or exc}", location=Location(str(path))
        ) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{shown} is not UTF-8 text (byte {exc.start})", location=Location(str(path))
        ) from None
    data = _parse(text, path)
    fmt = data.get("format") if isinstance(data, dict) else None
    if isinstance(fmt, int) and not isinstance(fmt, bool) and fmt > LOCK_FORMAT:
        raise NewerLockError(
            f"{shown} has format {fmt}, newer than this mlgate ({__version__}) reads "
            f"(format {LOCK_FORMAT})",
            location=_source_map(text, path).locate(("format",)),
            hint="upgrade mlgate (pip install -U mlgate); to go back to this version's format, "
            "delete mlgate.lock and run 'mlgate lock'",
        )
    from mlgate.config.validate import validate

    # Positions are only worked out when there is something to point at (YAML parsing is slow).
    if not _fast_validator().is_valid(data):
        try:
            validate(data, "lock", _source_map(text, path), what=shown)
        except ConfigError as exc:
            raise ConfigError(
                f"invalid {shown}: {exc.message}",
                location=exc.location,
                hint=exc.hint or f"was it edited by hand? {REGENERATE}",
                details=exc.details,
            ) from None
    models: dict[str, dict[str, Any]] = data["models"]
    for name, entry in models.items():
        if fingerprint(entry) != entry["fingerprint"]:
            raise ConfigError(
                f"the entry of model {name!r} in {shown} does not match its fingerprint: "
                "it was edited by hand or damaged in a merge",
                location=_source_map(text, path).locate(("models", name, "fingerprint")),
                hint=REGENERATE,
            )
    return Lock(path, models)


def _parse(text: str, path: Path) -> Any:
    line = next(
        (i for i, row in enumerate(text.splitlines(), 1) if row.startswith(CONFLICT_MARKERS)),
        None,
    )
    if line is not None:
        raise ConfigError(
            f"{path.name} contains git merge conflict markers",
            location=Location(str(path), line),
            hint="take either side (git checkout --ours/--theirs mlgate.lock), then " + REGENERATE,
        )
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{path.name} is not valid JSON: {exc.msg}",
            location=Location(str(path), exc.lineno, exc.colno),
            hint=REGENERATE,
        ) from None
    except (ValueError, RecursionError) as exc:
        # An integer too long to convert, or arrays nested deeper than the parser recurses.
        problem = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise ConfigError(
            f"{path.name} is not valid JSON: {problem}",
            location=Location(str(path)),
            hint=REGENERATE,
        ) from None


@cache
def _fast_validator() -> Any:
    """A validator for the lock schema without re-checking the schema itself (a unit test does
    that): reading the lock is on the path of every re-lock, which should take milliseconds."""
    import jsonschema

    schema = load_schema("lock")
    return jsonschema.validators.validator_for(schema)(schema)


def _source_map(text: str, path: Path) -> SourceMap:
    """Line numbers of the JSON's keys (JSON is YAML), for errors; empty if YAML disagrees."""
    try:
        return load_yaml(text, str(path))[1]
    except ConfigError:
        return SourceMap(str(path))
