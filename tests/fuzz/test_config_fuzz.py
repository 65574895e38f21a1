"""Fuzzing the configuration parser: any input loads or ends in a clean ConfigError (exit 2)."""

from __future__ import annotations

import atexit
import os
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
from tests.fuzz.conftest import tried
from tests.fuzz.strategies import key_paths

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
    tried("config")
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


STARTER_PATHS = key_paths(STARTER_CONFIG)


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


# Structured inputs: a few examples cover them (each parse of a large document takes a while).
STRUCTURED = settings(max_examples=25 if os.environ.get("MLGATE_FUZZ") != "thorough" else 100)


@STRUCTURED
@given(st.integers(2, 10), st.integers(2, 9))
def test_alias_expansion_is_bounded(levels: int, width: int) -> None:
    """A "billion laughs" document ends in a clean error quickly, never a hang."""
    lines = ["l0: &l0 [" + ", ".join(["x"] * width) + "]"]
    lines += [f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * width) + "]" for i in range(1, levels)]
    lines.append(f"models: *l{levels - 1}")
    check("version: 1\n" + "\n".join(lines) + "\n")


@STRUCTURED
@given(st.integers(1, 800), st.sampled_from(["[", "{a: ", "- ", "a:\n  "]))
def test_deep_nesting_is_a_clean_error(depth: int, opener: str) -> None:
    if opener == "- ":
        text = "".join(" " * (2 * i) + "- \n" for i in range(depth))
    elif opener == "a:\n  ":
        text = "".join(" " * (2 * i) + "a:\n" for i in range(depth))
    else:
        text = opener * depth
    check(text)
