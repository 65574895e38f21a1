"""Validation against the package's JSON Schemas, with errors that point at file:line and key."""

from __future__ import annotations

import contextlib
import difflib
import hashlib
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlgate import __version__
from mlgate.config.yamlsource import KeyPath, SourceMap, format_key_path
from mlgate.errors import ConfigError, Location
from mlgate.schemas import load_schema

if TYPE_CHECKING:
    import jsonschema

MAX_SHOWN = 20


@dataclass(frozen=True)
class Problem:
    """One schema violation, located in the source file."""

    location: Location
    message: str
    hint: str | None = None
    parent: KeyPath = ()
    missing: str | None = None  # the key a "required" violation asks for
    suggestion: str | None = None  # the key an "unknown key" violation probably meant

    def __str__(self) -> str:
        return f"{self.location}: {self.message}" + (f" ({self.hint})" if self.hint else "")


@cache
def _validator(name: str) -> jsonschema.protocols.Validator:
    import jsonschema

    schema = load_schema(name)
    cls = jsonschema.validators.validator_for(schema)
    # The shipped schemas are checked against their meta-schema by the tests, not at run time.
    validator: jsonschema.protocols.Validator = cls(schema, format_checker=cls.FORMAT_CHECKER)
    return validator


def problems(data: Any, name: str, source: SourceMap) -> list[Problem]:
    """Every violation of schema ``name`` in ``data``, sorted by position in the file.

    A missing required key that a misspelt key beside it would have supplied is reported once,
    as the misspelling with its "did you mean".
    """
    found = [p for error in _validator(name).iter_errors(data) for p in _describe(error, source)]
    # jsonschema reports each missing required key separately; _describe lists them all each time.
    found = list(dict.fromkeys(found))
    meant = {(p.parent, p.suggestion) for p in found if p.suggestion}
    found = [p for p in found if not (p.missing and (p.parent, p.missing) in meant)]
    found.sort(key=lambda p: (p.location.line or 0, p.location.column or 0, p.message))
    return found


def validate(data: Any, name: str, source: SourceMap, *, what: str) -> None:
    """Raise one ConfigError listing every problem (the first as the headline)."""
    found = problems(data, name, source)
    if not found:
        return
    first, rest = found[0], found[1:]
    details = [str(p) for p in rest[: MAX_SHOWN - 1]]
    if len(rest) > MAX_SHOWN - 1:
        details.append(f"... and {len(rest) - MAX_SHOWN + 1} more problems")
    message = first.message
    if rest:
        message += f" (and {len(rest)} more problem{'s' * (len(rest) > 1)} in {what})"
    raise ConfigError(message, location=first.location, hint=first.hint, details=details)


def validate_once(
    data: Any, name: str, source: SourceMap, *, what: str, content: bytes, stamps: Path | None
) -> None:
    """``validate``, skipped when these very bytes passed schema ``name`` before.

    A pass leaves a stamp, ``stamps/<name>``, holding the sha256 of this mlgate's version, the
    schema's text and ``content`` (the file ``data`` was parsed from). A file that changed in
    any byte, a new schema or a new mlgate is validated again; a failure leaves no stamp. Saves
    importing jsonschema (about 0.04 s of CPU) on every command that loads mlgate.yaml.
    """
    from mlgate.schemas import schema_text

    digest = hashlib.sha256(f"{name}\0{__version__}\0".encode())
    schema = schema_text(name).encode("utf-8")
    digest.update(f"{len(schema)}\0".encode() + schema)
    digest.update(content)
    key = digest.hexdigest()
    stamp = stamps / name if stamps is not None else None
    if stamp is not None and _read_stamp(stamp) == key:
        return
    validate(data, name, source, what=what)
    if stamp is not None:
        _write_stamp(stamp, key)


def _read_stamp(stamp: Path) -> str | None:
    try:
        return stamp.read_text("ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None


def _write_stamp(stamp: Path, key: str) -> None:
    """Best effort: a read-only checkout validates every time."""
    from mlgate.errors import MlgateError
    from mlgate.fsio import atomic_write_bytes

    with contextlib.suppress(MlgateError, OSError):
        atomic_write_bytes(stamp, key.encode("ascii"))


def suggest(word: object, choices: Any) -> str | None:
    """The closest of ``choices`` to ``word``, for "did you mean" hints."""
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return close[0] if close else None


_TYPE_NAMES = {
    "object": "a mapping",
    "array": "a list",
    "string": "text",
    "number": "a number",
    "integer": "a whole number",
    "boolean": "true or false",
    "null": "null",
}


def _shown(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _describe(error: jsonschema.ValidationError, source: SourceMap) -> list[Problem]:
    path: KeyPath = tuple(error.absolute_path)
    here = source.locate(path)
    schema = error.schema if isinstance(error.schema, dict) else {}
    kind = error.validator
    if kind == "additionalProperties" and isinstance(error.instance, dict):
        known = list(schema.get("properties", {}))
        out = []
        for key in error.instance:
            if key in known:
                continue
            guess = suggest(key, known)
            if guess:
                hint: str | None = f"did you mean {guess!r}?"
            else:
                hint = f"known keys here: {', '.join(known)}" if known else None
            out.append(
                Problem(
                    source.locate((*path, key)),
                    f"unknown key {key!r}",
                    hint,
                    path,
                    suggestion=guess,
                )
            )
        if out:
            return out
    if kind == "required" and isinstance(error.instance, dict):
        required: Any = error.validator_value
        missing = [k for k in required if k not in error.instance]
        where = format_key_path(path)
        return [
            Problem(here, f"missing required key {k!r} in {where}", None, path, missing=k)
            for k in missing
        ]
    if kind == "enum":
        allowed: Any = error.validator_value
        guess = suggest(error.instance, allowed)
        listed = ", ".join(json.dumps(a) for a in allowed)
        return [
            Problem(
                here,
                f"{_shown(error.instance)} is not one of {listed}",
                f"did you mean {guess!r}?" if guess else None,
                path,
            )
        ]
    if kind == "type":
        expected: Any = error.validator_value
        names = [expected] if isinstance(expected, str) else list(expected)
        wanted = " or ".join(_TYPE_NAMES.get(n, n) for n in names)
        return [Problem(here, f"expected {wanted}, got {_shown(error.instance)}", None, path)]
    if kind == "pattern":
        desc = schema.get("description")
        msg = f"{_shown(error.instance)} does not match the required form"
        return [Problem(here, msg + (f" ({desc})" if desc else ""), None, path)]
    if kind in {"anyOf", "oneOf"} and error.context:
        import jsonschema

        best = jsonschema.exceptions.best_match(error.context)
        if best is not None:
            return _describe(best, source)
    return [Problem(here, error.message, None, path)]
