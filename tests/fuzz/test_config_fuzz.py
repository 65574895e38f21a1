"""Fuzzing the configuration parser: any input loads or ends in a clean ConfigError (exit 2)."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlgate.config.loader import load_config
from mlgate.config.yamlsource import load_yaml
from mlgate.errors import ConfigError
from mlgate.starter import render_starter

STARTER = render_starter()
STARTER_CONFIG = yaml.safe_load(STARTER["mlgate.yaml"])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)


_ROOT = Path(tempfile.mkdtemp(prefix="mlgate-fuzz-"))
atexit.register(shutil.rmtree, _ROOT, ignore_errors=True)
for _rel in (
    "models/churn/data/train.csv",
    "models/churn/data/eval.csv",
    "models/churn/params.yaml",
    "models/churn/model_card.yaml",
):
    (_ROOT / _rel).parent.mkdir(parents=True, exist_ok=True)
    (_ROOT / _rel).write_bytes(STARTER[_rel])


def check(text: str | bytes) -> None:
    """Loading ``text`` as mlgate.yaml (beside the starter's files) succeeds or says why."""
    path = _ROOT / "mlgate.yaml"
    data = text.encode() if isinstance(text, str) else text
    path.write_bytes(data)
    try:
        load_config(path)
    except ConfigError as err:
        assert err.message
        assert err.exit_code == 2
        if err.location and err.location.line is not None:
            # YAML breaks lines at \r, \x85 and \u2028 too; splitlines() knows them all.
            lines = data.decode("utf-8", errors="replace").splitlines()
            assert 1 <= err.location.line <= len(lines) + 1


@given(st.text(max_size=200))
def test_any_text(text: str) -> None:
    check(text)


@given(st.binary(max_size=100))
def test_any_bytes(data: bytes) -> None:
    check(data)


@given(json_values)
def test_any_document(value: Any) -> None:
    check(yaml.safe_dump(value))


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


STARTER_PATHS = _paths(STARTER_CONFIG)


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(STARTER_PATHS), json_values, st.booleans())
def test_mutated_starter(path: tuple[Any, ...], value: Any, delete: bool) -> None:
    import copy

    doc = copy.deepcopy(STARTER_CONFIG)
    parent = doc
    for part in path[:-1]:
        parent = parent[part]
    if delete and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    check(yaml.safe_dump(doc, sort_keys=False))


@given(st.text(alphabet=":-[]{}&*!|>'\"%@`#,? \n\tab1", max_size=60))
def test_yaml_syntax_soup(text: str) -> None:
    try:
        load_yaml(text, "f.yaml")
    except ConfigError as err:
        assert err.location is not None
        assert err.location.file == "f.yaml"
