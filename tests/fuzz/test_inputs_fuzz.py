"""Fuzzing the readers of a model's other inputs a pull request can change: requirements and
lock files of the environment, parameter files, and the globs in mlgate.yaml. Any content ends
in a result or a clean ConfigError (exit 2), never a crash or a hang."""

from __future__ import annotations

import atexit
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from mlgate.errors import ConfigError
from mlgate.repro.environment import read_environment
from mlgate.repro.inputs import PARAMS_VALUE_LIMIT, param_values
from mlgate.repro.patterns import Glob, compile_glob, matches
from tests.fuzz.conftest import tried
from tests.fuzz.strategies import hostile_fragments, json_values

_DIR = Path(tempfile.mkdtemp(prefix="mlgate-fuzz-inputs-"))
atexit.register(shutil.rmtree, _DIR, ignore_errors=True)
FILES: tuple[str, ...] = (
    "requirements.txt",
    "requirements.lock",
    "uv.lock",
    "poetry.lock",
    "pylock.toml",
)
FILES += ("Pipfile.lock",)
REQUIREMENT_SOUP = st.text(alphabet="abnumpy019=<>!~.,;[]# \t\\-r\n@:/", max_size=120)


def environment(name: str, data: str | bytes) -> None:
    tried("requirements")
    path = _DIR / name
    path.write_bytes(data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data)
    try:
        env = read_environment(path, name)
    except ConfigError as err:
        assert err.exit_code == 2
        assert name in err.message
        return
    for key, value in env.packages.items():
        assert isinstance(key, str)
        assert isinstance(value, str)


@given(st.sampled_from(FILES), st.text(max_size=200))
def test_requirements_any_text(name: str, text: str) -> None:
    environment(name, text)


@given(st.sampled_from(FILES), st.binary(max_size=100))
def test_requirements_any_bytes(name: str, data: bytes) -> None:
    environment(name, data)


@given(REQUIREMENT_SOUP)
def test_requirements_lines(text: str) -> None:
    environment("requirements.txt", text)


@given(st.integers(1, 5000), st.sampled_from([" ", "\t", " \t", "=", "a"]))
def test_requirements_long_lines_take_linear_time(n: int, filler: str) -> None:
    """A requirements line of thousands of blanks once took minutes (regex backtracking)."""
    environment("requirements.txt", "numpy" + filler * n + "#\n")


@given(json_values)
def test_pipfile_lock_any_json(value: Any) -> None:
    environment("Pipfile.lock", json.dumps(value))


@given(json_values, st.sampled_from(["package", "packages"]))
def test_toml_lock_any_value(value: Any, key: str) -> None:
    if isinstance(value, (str, int, float, bool)) or value is None:
        rendered = json.dumps(value)  # TOML takes JSON's scalars (not null: a parse error)
    else:
        rendered = json.dumps(value).replace(":", "=")
    environment("uv.lock", f"{key} = {rendered}\n")


@given(st.lists(hostile_fragments, min_size=1, max_size=3), st.sampled_from(FILES))
def test_requirements_hostile_fragments(fragments: list[str], name: str) -> None:
    environment(name, "a = " + "".join(fragments))


def params(text: str) -> None:
    tried("params")
    path = _DIR / "params.yaml"
    path.write_text(text, "utf-8", errors="surrogatepass")
    values = param_values(path)
    if values is not None:
        assert len(values) <= PARAMS_VALUE_LIMIT
        assert all(isinstance(k, str) for k in values)


@given(st.text(max_size=200))
def test_params_any_text(text: str) -> None:
    params(text)


@given(json_values)
def test_params_any_document(value: Any) -> None:
    params(json.dumps(value))


@given(st.integers(2, 12), st.integers(2, 9))
def test_params_alias_bombs_are_not_expanded(levels: int, width: int) -> None:
    lines = ["l0: &l0 [" + ", ".join(["1"] * width) + "]"]
    lines += [f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * width) + "]" for i in range(1, levels)]
    params("\n".join(lines) + "\n")


GLOB_SOUP = st.text(alphabet="*?[]!^-\\/.ab{}()+$|", max_size=30)


@given(GLOB_SOUP, st.text(alphabet="ab/.[]*-", max_size=30))
def test_any_glob_compiles_and_matches(pattern: str, path: str) -> None:
    tried("glob")
    glob = compile_glob(pattern)
    glob.match(path)
    glob.match(path, folder=True)
    matches(path, [pattern])
    if glob.regex is not None:  # the regular expression and the simulation agree
        simulated = Glob(glob.pattern, glob.elements, None, None)
        assert simulated.match(path) is glob.match(path)
        assert simulated.match(path, folder=True) is glob.match(path, folder=True)


@given(st.text(alphabet="abc_./-", min_size=1, max_size=20))
def test_a_glob_without_wildcards_matches_only_itself(name: str) -> None:
    tried("glob")
    assert compile_glob(name).match(name)
    assert not compile_glob(name).match(name + "x")
