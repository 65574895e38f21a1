"""A yes/no check of a document against one of the package's JSON Schemas, without jsonschema.

``registry show`` in a fresh clone checks the payload of every registry tag against the payload
schema; at 5,000 tags jsonschema spent 0.35 s doing it (and 0.1 s being imported), most of a
read that otherwise costs a few times ``git for-each-ref``. This compiles the schema once into
plain Python predicates, which say only *whether* a document is valid. The answer is exactly
jsonschema's (draft 2020-12) for the keywords compiled here; a schema using any other keyword is
not compiled (``compile_schema`` returns None) and jsonschema decides. Messages still come from
jsonschema: a caller asks it for the errors only when the answer is no.

Compiled: ``type``, ``const``, ``enum``, ``required``, ``properties``, ``additionalProperties``,
``oneOf``, ``$ref`` to ``#/$defs/...``, ``pattern``, ``minLength``, ``maxLength``,
``minimum``; the annotations (``title``, ``description``, ``$schema``, ``$id``, ``$defs``,
``$comment``, ``default``, ``examples``) are ignored, as jsonschema ignores them for validity.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Any

Check = Callable[[Any], bool]

ANNOTATIONS = frozenset(
    {"title", "description", "$schema", "$id", "$defs", "$comment", "default", "examples"}
)


class Unsupported(Exception):
    """The schema uses a keyword (or form of one) not compiled here."""


def compile_schema(schema: Mapping[str, Any]) -> Check | None:
    """A predicate giving jsonschema's validity of a document against ``schema``; None when the
    schema uses a keyword this module does not compile."""
    try:
        return _Compiler(schema).compile(schema)
    except Unsupported:
        return None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_integer(value: Any) -> bool:
    # jsonschema's draft 2020-12 checker: an int, or a float with no fractional part (1.0).
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


TYPES: dict[str, Check] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "number": _is_number,
    "integer": _is_integer,
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


def equal(one: Any, two: Any) -> bool:
    """JSON equality as jsonschema's ``const`` and ``enum`` judge it: booleans are not numbers
    (``true`` is not ``1``), ``1`` equals ``1.0``, containers compare element by element."""
    if one is two:
        return True
    if isinstance(one, bool) or isinstance(two, bool):
        return isinstance(one, bool) and isinstance(two, bool) and one == two
    if isinstance(one, str) or isinstance(two, str):
        return bool(one == two)
    if isinstance(one, list) and isinstance(two, list):
        return len(one) == len(two) and all(equal(a, b) for a, b in zip(one, two, strict=True))
    if isinstance(one, dict) and isinstance(two, dict):
        return one.keys() == two.keys() and all(equal(one[k], two[k]) for k in one)
    if _is_number(one) and _is_number(two):
        return bool(one == two)
    return one is None and two is None


class _Compiler:
    def __init__(self, root: Mapping[str, Any]) -> None:
        self.root = root
        self.refs: dict[str, Check] = {}
        # The compiled keywords (additionalProperties, which reads its siblings, aside).
        self.builders: dict[str, Callable[[Any], Check]] = {
            "type": self._type,
            "const": self._const,
            "enum": self._enum,
            "$ref": self._ref,
            "oneOf": self._one_of,
            "pattern": self._pattern,
            "minLength": self._min_length,
            "maxLength": self._max_length,
            "minimum": self._minimum,
            "required": self._required,
            "properties": self._properties,
        }

    def compile(self, schema: Any) -> Check:
        if schema is True:
            return lambda _: True
        if schema is False:
            return lambda _: False
        if not isinstance(schema, Mapping):
            raise Unsupported(repr(schema))
        found = [self._keyword(key, value, schema) for key, value in schema.items()]
        checks = [c for c in found if c is not None]
        if not checks:
            return lambda _: True
        if len(checks) == 1:
            return checks[0]
        return lambda value: all(check(value) for check in checks)

    def _keyword(self, key: str, value: Any, schema: Mapping[str, Any]) -> Check | None:
        if key in ANNOTATIONS:
            return None
        if key == "additionalProperties":
            return self._additional(value, schema)
        build = self.builders.get(key)
        if build is None:
            raise Unsupported(key)
        return build(value)

    # One builder per compiled keyword: each returns the keyword's predicate.
    # Keywords about one type (pattern, minimum, required, ...) pass values of any other type.

    def _type(self, value: Any) -> Check:
        names = [value] if isinstance(value, str) else list(value)
        if not names or any(n not in TYPES for n in names):
            raise Unsupported(f"type {value!r}")
        kinds = [TYPES[n] for n in names]
        return kinds[0] if len(kinds) == 1 else lambda v: any(k(v) for k in kinds)

    def _const(self, value: Any) -> Check:
        return lambda v: equal(v, value)

    def _enum(self, value: Any) -> Check:
        options = list(value)
        return lambda v: any(equal(v, o) for o in options)

    def _ref(self, ref: Any) -> Check:
        if not ref.startswith("#/$defs/") or "/" in ref.removeprefix("#/$defs/"):
            raise Unsupported(ref)
        if ref not in self.refs:
            target = self.root.get("$defs", {}).get(ref.removeprefix("#/$defs/"))
            if target is None:
                raise Unsupported(ref)

            def later(value: Any) -> bool:  # looked up when called: a schema may refer to itself
                return self.refs[ref](value)

            self.refs[ref] = later
            self.refs[ref] = self.compile(target)
        return self.refs[ref]

    def _one_of(self, value: Any) -> Check:
        subs = [self.compile(s) for s in value]
        return lambda v: sum(1 for s in subs if s(v)) == 1

    def _pattern(self, value: Any) -> Check:
        search = re.compile(value).search  # jsonschema's re.search (not a full match)
        return lambda v: not isinstance(v, str) or search(v) is not None

    def _min_length(self, value: Any) -> Check:
        return lambda v: not isinstance(v, str) or len(v) >= value

    def _max_length(self, value: Any) -> Check:
        return lambda v: not isinstance(v, str) or len(v) <= value

    def _minimum(self, value: Any) -> Check:
        if not _is_number(value) or not math.isfinite(value):
            raise Unsupported(f"minimum {value!r}")
        # As jsonschema words it (``instance < minimum`` fails): NaN is not below it.
        return lambda v: not _is_number(v) or not v < value

    def _required(self, value: Any) -> Check:
        names = list(value)
        return lambda v: not isinstance(v, dict) or all(n in v for n in names)

    def _properties(self, value: Any) -> Check:
        props = {name: self.compile(sub) for name, sub in value.items()}
        return lambda v: (
            not isinstance(v, dict)
            or all(check(v[name]) for name, check in props.items() if name in v)
        )

    def _additional(self, value: Any, schema: Mapping[str, Any]) -> Check:
        if "patternProperties" in schema:
            raise Unsupported("patternProperties")
        known = frozenset(schema.get("properties", {}))
        if value is False:
            return lambda v: not isinstance(v, dict) or v.keys() <= known
        extra = self.compile(value)
        return lambda v: (
            not isinstance(v, dict)
            or all(extra(item) for name, item in v.items() if name not in known)
        )
