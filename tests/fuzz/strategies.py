"""Hypothesis strategies shared by the fuzz targets: any JSON value, and mutations of a document."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import strategies as st

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)


def key_paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path inside a JSON document (not the root)."""
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for k, v in node.items():
            out += key_paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += key_paths(v, (*prefix, i))
    return out


def mutate(doc: Any, path: tuple[Any, ...], value: Any, *, delete: bool = False) -> Any:
    """A deep copy of ``doc`` with the value at ``path`` replaced by ``value`` (or deleted)."""
    out = copy.deepcopy(doc)
    parent = out
    for part in path[:-1]:
        parent = parent[part]
    if delete and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return out


# Text that JSON and YAML parsers find hard: nesting, huge numbers, escapes, merge markers.
hostile_fragments = st.sampled_from(
    [
        "[" * 5000,
        "{" * 5000,
        '{"a":' * 3000,
        "1" * 5000,
        "1e999999",
        "-0",
        "NaN",
        "Infinity",
        '"\\ud800"',
        '"\\u0000"',
        "\ufeff{}",
        "<<<<<<< HEAD\n",
        "=======\n",
        ">>>>>>> branch\n",
        "\x00",
        "\r\n",
        "null",
        "[]",
        "{}",
    ]
)
