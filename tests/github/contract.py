"""Check HTTP requests (and the fake's answers) against GitHub's published OpenAPI description.

The description is the vendored subset in ``openapi/`` (see ``openapi/regenerate.py``). A request
must match a documented operation on the right host (uploads go to the uploads host), carry only
documented query parameters of the documented types, every required one, and a body of a
documented media type whose JSON validates against the request schema.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from openapi_schema_validator import (
    OAS30ReadValidator,
    OAS30WriteValidator,
    oas30_format_checker,
)

SPEC_PATH = Path(__file__).parent / "openapi" / "api.github.com.subset.json"
_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


@dataclass(frozen=True)
class Operation:
    operation_id: str
    method: str
    template: str
    pattern: re.Pattern[str]
    parameters: tuple[dict[str, Any], ...]
    request_body: dict[str, Any] | None
    responses: dict[str, Any]
    uploads: bool  # served from the uploads host (the operation has its own servers)


@dataclass(frozen=True)
class Match:
    operation: Operation
    path_params: dict[str, Any]
    problems: tuple[str, ...]


class Contract:
    """The operations of the vendored description, ready to check requests against."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.operations: list[Operation] = []
        for template, item in spec["paths"].items():
            shared = [self.deref(p) for p in item.get("parameters", [])]
            for method in _METHODS:
                op = item.get(method)
                if not op:
                    continue
                params = {(p["in"], p["name"]): p for p in shared}
                params.update(
                    {(p["in"], p["name"]): p for p in map(self.deref, op.get("parameters", []))}
                )
                regex = "^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template)) + "$"
                self.operations.append(
                    Operation(
                        operation_id=op["operationId"],
                        method=method.upper(),
                        template=template,
                        pattern=re.compile(regex),
                        parameters=tuple(params.values()),
                        request_body=self.deref(op["requestBody"]) if "requestBody" in op else None,
                        responses=op.get("responses", {}),
                        uploads="servers" in op,
                    )
                )

    def deref(self, node: Any, depth: int = 0) -> Any:
        """``node`` with every local ``$ref`` replaced by its target (the subset has no cycles)."""
        if depth > 50:
            raise ValueError("reference cycle in the OpenAPI subset")
        if isinstance(node, dict):
            if "$ref" in node:
                target: Any = self.spec
                for part in node["$ref"].lstrip("#/").split("/"):
                    target = target[part]
                return self.deref(target, depth + 1)
            return {k: self.deref(v, depth + 1) for k, v in node.items()}
        if isinstance(node, list):
            return [self.deref(v, depth + 1) for v in node]
        return node

    def check_request(
        self,
        *,
        host: str,
        method: str,
        path: str,
        query: list[tuple[str, str]],
        content_type: str | None,
        body: bytes,
    ) -> Match | list[str]:
        """The matched operation and any problems; a list of problems when nothing matches."""
        candidates = [(op, op.pattern.match(path)) for op in self.operations]
        on_path = [(op, m) for op, m in candidates if m]
        if not on_path:
            return [f"no documented operation has the path {path}"]
        chosen = [(op, m) for op, m in on_path if op.method == method]
        if not chosen:
            allowed = ", ".join(sorted(op.method for op, _ in on_path))
            return [f"{method} is not documented for {path} (documented: {allowed})"]
        op, found = chosen[0]
        problems: list[str] = []
        if op.uploads != (host == "uploads"):
            want = "the uploads host (upload_url)" if op.uploads else "the API host"
            problems.append(f"{op.operation_id} must be sent to {want}, was sent to {host}")
        path_params = {}
        for param in op.parameters:
            if param["in"] == "path":
                raw = found.group(param["name"])
                value = _coerce(raw, param.get("schema", {}))
                problems += _validate(
                    value, param.get("schema", {}), f"path parameter {param['name']}"
                )
                path_params[param["name"]] = value
        problems += self._check_query(op, query)
        problems += self._check_body(op, content_type, body)
        return Match(op, path_params, tuple(problems))

    def _check_query(self, op: Operation, query: list[tuple[str, str]]) -> list[str]:
        problems: list[str] = []
        declared = {p["name"]: p for p in op.parameters if p["in"] == "query"}
        seen: dict[str, int] = {}
        for name, raw in query:
            seen[name] = seen.get(name, 0) + 1
            param = declared.get(name)
            if param is None:
                problems.append(f"{op.operation_id}: undocumented query parameter {name!r}")
                continue
            schema = param.get("schema", {})
            problems += _validate(_coerce(raw, schema), schema, f"query parameter {name}")
        problems += [
            f"{op.operation_id}: query parameter {n!r} given {c} times"
            for n, c in seen.items()
            if c > 1 and declared.get(n, {}).get("schema", {}).get("type") != "array"
        ]
        problems += [
            f"{op.operation_id}: required query parameter {n!r} missing"
            for n, p in declared.items()
            if p.get("required") and n not in seen
        ]
        return problems

    def _check_body(self, op: Operation, content_type: str | None, body: bytes) -> list[str]:
        spec = op.request_body
        if spec is None:
            return (
                [f"{op.operation_id} takes no request body, got {len(body)} bytes"] if body else []
            )
        if not body:
            return [f"{op.operation_id}: request body required"] if spec.get("required") else []
        media = (content_type or "").split(";", 1)[0].strip().lower()
        if not media:
            return [f"{op.operation_id}: request body sent without a Content-Type"]
        content = spec["content"]
        key = media if media in content else "*/*" if "*/*" in content else None
        if key is None:
            return [f"{op.operation_id}: Content-Type {media} is not one of {', '.join(content)}"]
        if "json" not in key:
            return []
        try:
            data = json.loads(body)
        except ValueError as exc:
            return [f"{op.operation_id}: request body is not JSON: {exc}"]
        schema = content[key].get("schema", {})
        errors = OAS30WriteValidator(schema, format_checker=oas30_format_checker).iter_errors(data)
        return [f"{op.operation_id}: body {_where(e)}: {e.message}" for e in errors]

    def check_response(self, op: Operation, status: int, data: Any) -> list[str]:
        """Problems with an answer of the fake itself, so its fixtures stay true to GitHub."""
        spec = op.responses.get(str(status))
        if spec is None:
            return [f"{op.operation_id}: status {status} is not documented"]
        spec = self.deref(spec)
        content = spec.get("content", {})
        if "application/json" not in content:
            return []
        schema = content["application/json"].get("schema", {})
        errors = OAS30ReadValidator(schema, format_checker=oas30_format_checker).iter_errors(data)
        return [f"{op.operation_id} answer {status} {_where(e)}: {e.message}" for e in errors]


@cache
def load_contract(path: Path = SPEC_PATH) -> Contract:
    return Contract(json.loads(path.read_text("utf-8")))


def _coerce(raw: str, schema: dict[str, Any]) -> Any:
    kind = schema.get("type")
    if kind == "integer" and re.fullmatch(r"-?\d+", raw):
        return int(raw)
    if kind == "number":
        try:
            return float(raw)
        except ValueError:
            return raw
    if kind == "boolean" and raw in {"true", "false"}:
        return raw == "true"
    return raw


def _validate(value: Any, schema: dict[str, Any], what: str) -> list[str]:
    validator = OAS30WriteValidator(schema, format_checker=oas30_format_checker)
    return [f"{what}: {e.message}" for e in validator.iter_errors(value)]


def _where(error: Any) -> str:
    return "/".join(str(p) for p in error.absolute_path) or "(root)"
