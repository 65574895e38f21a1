"""The script that cuts the vendored OpenAPI subset: operations, their references, no examples."""

from __future__ import annotations

import pytest

from tests.github.contract import load_contract
from tests.github.openapi.regenerate import OPERATIONS, subset

SPEC = {
    "openapi": "3.0.3",
    "info": {"title": "t", "version": "1"},
    "servers": [{"url": "https://api.example"}],
    "paths": {
        "/a/{id}": {
            "parameters": [{"$ref": "#/components/parameters/id"}],
            "get": {
                "operationId": "x/get-a",
                "responses": {
                    "200": {
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/a"},
                                "examples": {"default": {"value": {"big": "example"}}},
                            }
                        }
                    }
                },
            },
            "delete": {"operationId": "x/delete-a", "responses": {"204": {}}},
        },
        "/b": {"get": {"operationId": "x/get-b", "responses": {}}},
    },
    "components": {
        "parameters": {"id": {"name": "id", "in": "path", "schema": {"type": "integer"}}},
        "schemas": {
            "a": {"properties": {"owner": {"$ref": "#/components/schemas/user"}}},
            "user": {"properties": {"login": {"type": "string"}}},
            "unused": {"type": "string"},
        },
    },
}


def test_subset_keeps_the_operations_and_what_they_reference() -> None:
    out = subset(SPEC, ("x/get-a",))
    assert list(out["paths"]) == ["/a/{id}"]
    assert set(out["paths"]["/a/{id}"]) == {"parameters", "get"}
    assert set(out["components"]["schemas"]) == {"a", "user"}  # transitively, not "unused"
    assert set(out["components"]["parameters"]) == {"id"}
    content = out["paths"]["/a/{id}"]["get"]["responses"]["200"]["content"]["application/json"]
    assert "examples" not in content


def test_an_unknown_operation_stops_the_script() -> None:
    with pytest.raises(SystemExit, match="x/nope"):
        subset(SPEC, ("x/get-a", "x/nope"))


def test_the_vendored_subset_matches_the_operation_list() -> None:
    assert {op.operation_id for op in load_contract().operations} == set(OPERATIONS)
