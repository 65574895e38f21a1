"""The compiled schema check (config.quickcheck) gives jsonschema's answer, document by document.

Registry payloads are accepted by the compiled predicate alone, so any document it accepts that
jsonschema rejects would let a bad payload into the registry's state. Documents are built near
the schema's edges: valid payloads with one field replaced by a value of another type, a value
just outside a pattern, length or minimum, an unknown key, a missing required key.
"""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlgate.config.quickcheck import compile_schema
from mlgate.schemas import load_schema
from tests.fuzz.conftest import tried
from tests.fuzz.strategies import json_values, key_paths, mutate

PAYLOAD = load_schema("payload")
QUICK = compile_schema(PAYLOAD)
VALIDATOR = jsonschema.Draft202012Validator(PAYLOAD)

DIGEST = "sha256:" + "ab" * 32
FULL: dict[str, Any] = {
    "format": 1,
    "event": "assign",
    "model": "churn",
    "version": "v1.2.3",
    "stage": "prod",
    "counter": 3,
    "previous": None,
    "commit": "a" * 40,
    "note": "ok",
    "data": {"train": DIGEST},
    "metrics": {"auc": 0.8, "gap": None},
    "verdicts": {"repro": {"digest": DIGEST, "ok": True, "counts": {"passed": 3}}},
    "report": {"digest": DIGEST, "path": "r.md", "url": "https://x/r"},
    "card": {"digest": DIGEST},
    "model_file": {"path": "model.skops", "sha256": "0" * 64, "size": 10},
    "image": {"reference": "reg/x:1", "digest": "sha256:" + "0" * 64},
    "actor": "someone",
    "run_url": "https://ci/run/1",
    "release_url": "http://gh/r",
    "tool": {"name": "mlgate", "version": "0.1.0"},
    "extra": {"anything": [1, {"x": None}]},
}

# Values at and across the schema's edges: each type's look-alikes and near-misses.
EDGES = st.sampled_from(
    [
        None,
        True,
        False,
        0,
        1,
        -1,
        1.0,
        1.5,
        float("nan"),
        float("inf"),
        "",
        "v1.2.3",
        "v1.2.3\n",
        "v01.2.3",
        "v1.2.3-rc.1+b.5",
        "1.2.3",
        "prod",
        "prod-",
        "-prod",
        "a/b",
        "dir:churn",
        "a" * 40,
        "A" * 40,
        "a" * 64,
        DIGEST,
        "sha256:" + "0" * 15,
        "sha256:" + "0" * 64,
        "https://x",
        "ftp://x",
        "x" * 4000,
        "x" * 4001,
        "\u00e9" * 4000,
        [],
        [1],
        {},
        {"digest": DIGEST},
        {"digest": DIGEST, "ok": 1},
        {"digest": DIGEST, "ok": False, "counts": {"a": -1}},
        {"digest": DIGEST, "ok": False, "counts": {"a": 2.0}},
        {"name": "x", "version": "y"},
        {"path": "", "sha256": "0" * 64},
        {"reference": "r"},
    ]
)


def _agree(doc: Any) -> None:
    tried("quickcheck")
    expected = not any(True for _ in VALIDATOR.iter_errors(doc))
    assert QUICK is not None
    assert QUICK(doc) is expected, json.dumps(doc, default=str)[:500]


def test_the_payload_schema_compiles() -> None:
    assert QUICK is not None


@given(st.data())
def test_a_field_replaced_near_an_edge(data: st.DataObject) -> None:
    paths = key_paths(FULL)
    path = data.draw(st.sampled_from(paths))
    value = data.draw(EDGES | json_values)
    _agree(mutate(FULL, path, value))


@given(st.data())
def test_fields_deleted_added_or_combined(data: st.DataObject) -> None:
    doc: dict[str, Any] = {
        k: v for k, v in FULL.items() if data.draw(st.booleans(), label=f"keep {k}")
    }
    for _ in range(data.draw(st.integers(0, 3))):
        key = data.draw(st.sampled_from([*FULL, "unknown", "Model", ""]))
        doc[key] = data.draw(EDGES | json_values)
    for _ in range(data.draw(st.integers(0, 2))):
        paths = key_paths(doc)
        if paths:
            path = data.draw(st.sampled_from(paths))
            doc = mutate(doc, path, data.draw(EDGES), delete=data.draw(st.booleans()))
    _agree(doc)


@given(json_values)
def test_any_json_value(value: Any) -> None:
    _agree(value)


@pytest.mark.parametrize(
    "doc",
    [
        {"model": "m", "version": "v1.0.0"},
        {"model": "m", "version": None},
        {"model": "m"},
        {"model": "m", "version": "v1.0.0", "format": True},  # true is not 1
        {"model": "m", "version": "v1.0.0", "format": 1.0},  # 1.0 is 1
        {"model": "m", "version": "v1.0.0", "counter": 2.0},  # an integer in draft 2020-12
        {"model": "m", "version": "v1.0.0", "counter": float("nan")},  # not below 1
        {"model": "m", "version": "v1.0.0", "counter": 0},
        {"model": "m\n", "version": "v1.0.0"},  # $ before a final newline, as re.search has it
        {"model": "m", "version": "v1.0.0", "metrics": {"a": True}},
        [],
        "x",
    ],
)
def test_edges_named(doc: Any) -> None:
    _agree(doc)


def test_the_other_schemas_are_left_to_jsonschema() -> None:
    """Only the payload schema is compiled today; the others use ``items`` (not compiled), so
    they get None and jsonschema. Compiling another one needs its own agreement tests here."""
    names = ["config", "lock", "verdict", "report", "card", "run", "data_contract"]
    assert [n for n in names if compile_schema(load_schema(n)) is not None] == []


def test_keywords_not_compiled_leave_the_decision_to_jsonschema() -> None:
    assert compile_schema({"type": "string", "format": "email"}) is None
    assert compile_schema({"patternProperties": {"^x": {}}, "additionalProperties": False}) is None
    assert compile_schema({"$ref": "https://elsewhere/schema.json"}) is None
    assert compile_schema({"type": "string", "pattern": "^a"}) is not None


@pytest.mark.parametrize(
    ("schema", "doc"),
    [
        ({"type": "number", "minimum": 1}, float("nan")),
        ({"type": "number", "minimum": 1}, 0.5),
        ({"minimum": 1}, "text"),
        ({"oneOf": [{"type": "integer"}, {"minimum": 0}]}, 5),  # both match: not one of
        ({"oneOf": [{"type": "integer"}, {"minimum": 0}]}, 0.5),
        ({"enum": [1, "a", None]}, True),
        ({"enum": [[1, 2], {"a": False}]}, [1.0, 2]),
        ({"enum": [{"a": False}]}, {"a": 0}),
        ({"const": None}, False),
        ({"type": ["integer", "null"]}, 3.0),
        ({"maxLength": 2}, "\u00e9\u00e9"),
        (
            {"properties": {"a": {"type": "string"}}, "additionalProperties": {"type": "integer"}},
            {"a": "x", "b": 1.0, "c": True},
        ),
        (
            {"$defs": {"n": {"type": "array"}}, "properties": {"x": {"$ref": "#/$defs/n"}}},
            {"x": []},
        ),
    ],
)
def test_generic_semantics_agree_with_jsonschema(schema: dict[str, Any], doc: Any) -> None:
    quick = compile_schema(schema)
    assert quick is not None
    expected = not any(True for _ in jsonschema.Draft202012Validator(schema).iter_errors(doc))
    assert quick(doc) is expected
