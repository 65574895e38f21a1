"""Tag messages: one human-readable line, a blank line, then the JSON payload (schema ``payload``).

Payloads are checked against the schema when read: by the schema compiled into plain
predicates (``config.quickcheck``), and by jsonschema only for the messages of one that fails.
Tag objects never change (their id is a hash of their content), so a payload that passed once
is remembered by tag object id in a small cache and not checked again; that keeps ``registry
show`` fast on thousands of tags.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from mlgate.config.quickcheck import Check, compile_schema
from mlgate.errors import ConfigError, ExternalError, Location

PAYLOAD_FORMAT = 1
_CACHE_FILE = "valid-payloads.txt"


def compose_message(summary: str, payload: Mapping[str, Any]) -> str:
    """The tag message: ``summary``, a blank line, the payload as stable, readable JSON."""
    line = " ".join(summary.split())
    body = json.dumps(payload, indent=2, sort_keys=True, ensure_ascii=False)
    return f"{line}\n\n{body}\n"


def schema_errors(payload: Any) -> list[str]:
    """Every violation of the payload schema, as ``key.path: message`` strings."""
    from mlgate.config.validate import _validator

    errors = []
    for error in sorted(_validator("payload").iter_errors(payload), key=lambda e: list(e.path)):
        where = ".".join(str(p) for p in error.path) or "(top level)"
        errors.append(f"{where}: {error.message}")
    return errors


@cache
def _quick() -> Check | None:
    # Here, not at the top: importlib.resources costs a read that needs no payload check.
    from mlgate.schemas import load_schema

    return compile_schema(load_schema("payload"))


def check_payload(payload: Any, what: str) -> dict[str, Any]:
    """``payload`` if it is valid; ConfigError (exit 2) naming ``what`` and every problem."""
    if not isinstance(payload, dict):
        raise ConfigError(f"{what}: the payload must be a JSON object", location=Location(what))
    errors = schema_errors(payload)
    if errors:
        raise ConfigError(
            f"{what}: invalid payload: {errors[0]}",
            location=Location(what),
            details=errors[1:],
            hint="see 'mlgate schema payload' for the format",
        )
    return payload


class PayloadChecker:
    """Schema checks remembered by tag object id (content-addressed, so never stale)."""

    def __init__(self, cache_dir: Path | None = None) -> None:
        self.path = cache_dir / _CACHE_FILE if cache_dir else None
        self.valid: set[str] = set()
        self.added = False
        if self.path and self.path.is_file():
            try:
                self.valid = set(self.path.read_text("ascii").split())
            except (OSError, UnicodeDecodeError):
                self.valid = set()

    def known(self, object_id: str) -> bool:
        """Whether the tag object ``object_id`` was checked (and found good) before."""
        return bool(object_id) and object_id in self.valid

    def remember(self, object_id: str) -> None:
        if object_id and object_id not in self.valid:
            self.valid.add(object_id)
            self.added = True

    def save(self, keep: Iterable[str] | None = None) -> None:
        """Write the cache back (only ids still present when ``keep`` is given); best effort."""
        if not (self.path and self.added):
            return
        from mlgate.fsio import atomic_write_text

        ids = self.valid if keep is None else self.valid & set(keep)
        try:
            atomic_write_text(self.path, "\n".join(sorted(ids)) + "\n")
        except ExternalError:
            return  # a read-only checkout still reads the registry; it only checks again


def parse_payload(body: str) -> tuple[dict[str, Any] | None, str | None]:
    """The payload in a message body and None, or None and why it is unusable (schema-checked)."""
    try:
        payload = json.loads(body)
    except ValueError as exc:
        return None, f"not valid JSON ({exc})"
    except RecursionError:
        return None, "not valid JSON (nested too deeply)"
    if not isinstance(payload, dict):
        return None, "the JSON is not an object"
    quick = _quick()
    if quick is not None and quick(payload):
        return payload, None
    errors = schema_errors(payload)  # the failing payload's messages (or jsonschema decides)
    if errors:
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        return None, errors[0] + more
    return payload, None
