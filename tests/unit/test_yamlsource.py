from __future__ import annotations

import pytest

from mlgate.config.yamlsource import format_key_path, load_yaml
from mlgate.errors import ConfigError


def test_positions_of_keys_and_items() -> None:
    data, source = load_yaml("a:\n  b: 1\n  c:\n    - x\n    - {d: 2}\n", "f.yaml")
    assert data == {"a": {"b": 1, "c": ["x", {"d": 2}]}}
    assert source.position(("a", "b")) == (2, 3)
    assert source.position(("a", "c", 1, "d")) == (5, 8)
    assert source.position(("a", "c", 0)) == (4, 7)
    # Unknown paths fall back to the nearest known parent.
    assert source.position(("a", "zzz")) == (1, 1)


def test_key_path_format() -> None:
    assert format_key_path(("models", 0, "gates", "metrics")) == "models[0].gates.metrics"
    assert format_key_path(()) == "(top level)"


def test_syntax_error_position() -> None:
    with pytest.raises(ConfigError) as info:
        load_yaml("a: 1\nb: [1,\n", "f.yaml")
    assert info.value.location is not None
    assert info.value.location.file == "f.yaml"
    assert info.value.location.line == 3


def test_tabs_are_a_syntax_error() -> None:
    with pytest.raises(ConfigError, match="invalid YAML"):
        load_yaml("a:\n\tb: 1\n", "f.yaml")


def test_empty_document() -> None:
    assert load_yaml("", "f.yaml")[0] is None


def test_multiple_documents_rejected() -> None:
    with pytest.raises(ConfigError, match="invalid YAML"):
        load_yaml("a: 1\n---\nb: 2\n", "f.yaml")


def test_aliases_resolve() -> None:
    data, _ = load_yaml("a: &x {k: 1}\nb: *x\n", "f.yaml")
    assert data["b"] == {"k": 1}
