"""Package sets from requirements and lock files, glob patterns for code files."""

from __future__ import annotations

import json
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

from mlgate.errors import ConfigError
from mlgate.repro import environment, patterns
from mlgate.repro.environment import find_requirements, installed_mismatches, read_environment


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_requirements_pins_extras_markers_hashes_and_includes(tmp_path: Path) -> None:
    write(tmp_path / "base.txt", "Scikit_Learn==1.4.2\n")
    req = write(
        tmp_path / "requirements.txt",
        "# pinned\n"
        "-r base.txt\n"
        "numpy==1.26.4 ; python_version >= '3.10'  # comment\n"
        "pandas[parquet]==2.2.1 \\\n"
        "    --hash=sha256:abc \\\n"
        "    --hash=sha256:def\n"
        "requests>=2.31\n"
        "--index-url https://example.invalid/simple\n"
        "\n",
    )
    env = read_environment(req, "requirements.txt")
    assert env.packages == {
        "numpy": "1.26.4",
        "pandas": "2.2.1",
        "requests": ">=2.31",
        "scikit-learn": "1.4.2",
    }
    assert env.source == "requirements.txt"
    assert any("not pinned" in n and "requests" in n for n in env.notes)
    assert any("--index-url" in n for n in env.notes)


def test_include_loops_do_not_recurse_forever(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", "-r b.txt\nx==1\n")
    write(tmp_path / "b.txt", "-r a.txt\ny==2\n")
    assert read_environment(tmp_path / "a.txt", "a.txt").packages == {"x": "1", "y": "2"}


def test_unparseable_requirement_line_names_the_file(tmp_path: Path) -> None:
    req = write(tmp_path / "requirements.txt", "numpy==1\n!!!\n")
    with pytest.raises(ConfigError, match=r"cannot parse requirements file requirements.txt"):
        read_environment(req, "requirements.txt")


def test_toml_lock_files(tmp_path: Path) -> None:
    uv = write(
        tmp_path / "uv.lock",
        'version = 1\n[[package]]\nname = "NumPy"\nversion = "2.0.0"\n'
        '[[package]]\nname = "pandas"\nversion = "2.2.2"\n',
    )
    assert read_environment(uv, "uv.lock").packages == {"numpy": "2.0.0", "pandas": "2.2.2"}
    pylock = write(tmp_path / "pylock.toml", '[[packages]]\nname = "scipy"\nversion = "1.13"\n')
    assert read_environment(pylock, "pylock.toml").packages == {"scipy": "1.13"}
    broken = write(tmp_path / "poetry.lock", "[[package]\n")
    with pytest.raises(ConfigError, match=r"cannot parse requirements file poetry\.lock"):
        read_environment(broken, "poetry.lock")


def test_pipfile_lock(tmp_path: Path) -> None:
    lock = write(
        tmp_path / "Pipfile.lock",
        json.dumps({"default": {"Requests": {"version": "==2.31.0"}, "six": {}}}),
    )
    assert read_environment(lock, "Pipfile.lock").packages == {"requests": "2.31.0", "six": "*"}


def test_configured_file_missing_points_at_the_setting(tmp_path: Path) -> None:
    from mlgate.errors import Location

    with pytest.raises(ConfigError) as info:
        read_environment(tmp_path / "nope.txt", "nope.txt", Location("mlgate.yaml", 7, 5))
    assert info.value.location == Location("mlgate.yaml", 7, 5)


def test_without_a_file_the_installed_packages_are_recorded() -> None:
    env = read_environment(None, "")
    assert env.source == environment.INSTALLED
    assert env.packages["pyyaml"] == metadata.version("pyyaml")


def test_find_requirements_prefers_the_model_folder(tmp_path: Path) -> None:
    model = tmp_path / "models" / "m"
    model.mkdir(parents=True)
    assert find_requirements(model, tmp_path) is None
    write(tmp_path / "requirements.txt", "")
    assert find_requirements(model, tmp_path) == tmp_path / "requirements.txt"
    write(model / "uv.lock", "")
    assert find_requirements(model, tmp_path) == model / "uv.lock"


def test_installed_mismatches_ignore_specifiers() -> None:
    yaml_version = metadata.version("pyyaml")
    pins = {"pyyaml": yaml_version, "click": "0.0.1", "not-a-real-package-x": "1.0", "six": ">=1"}
    assert installed_mismatches(pins) == [
        ("click", "0.0.1", metadata.version("click")),
        ("not-a-real-package-x", "1.0", None),
    ]


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("*.py", "train.py", True),
        ("*.py", "src/train.py", False),
        ("**/*.py", "train.py", True),
        ("**/*.py", "src/a/train.py", True),
        ("src/**", "src/a/b.txt", True),
        ("./src/*.py", "src/a.py", True),
        ("data/?.csv", "data/a.csv", True),
        ("data/[!b].csv", "data/b.csv", False),
        ("data/[ab].csv", "data/b.csv", True),
        ("weird[.py", "weird[.py", True),
        ("../lib/*.py", "../lib/x.py", True),
    ],
)
def test_glob_patterns(pattern: str, path: str, expected: bool) -> None:
    assert patterns.matches(path, [pattern]) is expected


def test_a_glob_with_many_wildcards_is_matched_without_backtracking() -> None:
    # As a regular expression this pattern backtracks for minutes on a 300-character path.
    glob = patterns.compile_glob("*a" * 15 + "b")
    assert glob.regex is None
    assert not glob.match("a" * 300)
    assert glob.match("a" * 300 + "b")
    assert not glob.match("a" * 150 + "/" + "a" * 150 + "b")
    assert patterns.compile_glob("src/**/t*_*_*.py").match("src/a/b/t_x_y.py")
    assert patterns.compile_glob("a/**/b/**/c*d*").match("a/b/c/b/c_d_", folder=True)


def test_a_glob_naming_a_folder_covers_what_is_inside_it() -> None:
    assert patterns.matches("src/a.py", ["src"], folder=True)
    assert patterns.matches("src/x/a.py", ["s*c"], folder=True)
    assert not patterns.matches("srcx/a.py", ["src"], folder=True)
    assert not patterns.matches("src/a.py", ["src"])


def test_select_applies_excludes_and_sorts() -> None:
    chosen = patterns.select(
        ["b.py", "a.py", "tests/test_a.py", "notes.md"], ["**/*.py"], ["tests/**"]
    )
    assert chosen == ["a.py", "b.py"]
    assert patterns.reaches_outside(["../x/*.py"])
    assert not patterns.reaches_outside(["x/*.py"])


def test_fast_installed_scan_agrees_with_importlib_metadata() -> None:
    expected: dict[str, str] = {}
    for dist in metadata.distributions():
        expected.setdefault(environment.normalise(dist.metadata["Name"]), dist.version)
    assert environment.installed_packages() == dict(sorted(expected.items()))


def _model(tmp_path: Path, command: str = "python train.py", python: str | None = None) -> Any:
    from mlgate.config.model import ModelConfig, ModelFileSpec, TrainSpec

    root = tmp_path / "m"
    root.mkdir(exist_ok=True)
    spec = ModelFileSpec(root / "model.skops", "binary-classification", "skops")
    return ModelConfig("m", 0, root, tmp_path, spec, train=TrainSpec(command, python=python))


def _executable(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return path


def test_the_training_interpreter_is_chosen_in_a_documented_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(environment.ENV_TRAIN_PYTHON)
    bin_dir = tmp_path / "bin"
    on_path = _executable(bin_dir / "python")
    _executable(bin_dir / "python3.12")
    venv = _executable(tmp_path / "m" / ".venv" / "bin" / "python")
    resolve = environment.resolve_interpreter
    # The python the command names, found on PATH.
    assert resolve(_model(tmp_path), str(bin_dir)) == (str(on_path), "PATH")
    assert resolve(_model(tmp_path, "python3.12 -m train"), str(bin_dir))[0].endswith("3.12")
    # A command that is not python: the python on PATH; nothing on PATH: mlgate's own.
    assert resolve(_model(tmp_path, "make train"), str(bin_dir)) == (str(on_path), "PATH")
    assert resolve(_model(tmp_path), str(tmp_path / "empty")) == (sys.executable, "mlgate")
    # train.python, relative to the model folder, wins; the environment variable wins over it.
    configured = _model(tmp_path, python=".venv/bin/python")
    assert resolve(configured, str(bin_dir)) == (str(venv), "train.python")
    monkeypatch.setenv(environment.ENV_TRAIN_PYTHON, str(on_path))
    assert resolve(configured, str(bin_dir)) == (str(on_path), "$MLGATE_TRAIN_PYTHON")
    monkeypatch.delenv(environment.ENV_TRAIN_PYTHON)
    with pytest.raises(ConfigError, match=r"train\.python: no Python interpreter at 'nope/python'"):
        resolve(_model(tmp_path, python="nope/python"), str(bin_dir))


def test_this_interpreter_answers_in_process_with_versions_modules_and_requirements(
    tmp_path: Path,
) -> None:
    trains = environment.training_environment(_model(tmp_path))
    assert trains.interpreter == sys.executable
    assert trains.minor == f"{sys.version_info.major}.{sys.version_info.minor}"
    assert trains.packages["numpy"] == metadata.version("numpy")
    assert trains.providers("sklearn.linear_model") == ["scikit-learn"]
    closure = trains.closure(["scikit-learn"])
    assert {"scikit-learn", "numpy", "scipy", "joblib", "threadpoolctl"} <= set(closure)
    assert "pytest" not in closure
    assert trains.runtime_info()["interpreter"] == sys.executable
    assert "(" in trains.describe()


def test_closure_evaluates_markers_for_the_training_environment() -> None:
    dist = environment.Distribution
    trains = environment.TrainingEnvironment(
        "/x/python", "PATH", "3.12.1", "CPython", "linux-x86_64",
        {"python_version": "3.12", "sys_platform": "linux"},
        {
            "a": dist("A", "1", ("b>=1", "c; python_version < '3.11'", "d; extra == 'x'"), ("a",)),
            "b": dist("b", "2", ("e",), ("b",)),
            "c": dist("c", "1", (), ("c",)),
            "d": dist("d", "1", (), ("d",)),
        },
    )  # fmt: skip
    assert trains.closure(["A"]) == ["a", "b"]  # e is not installed: left out
    assert environment.unpinned_missing({"a": "*", "z": ">=1", "y": "1.0"}, trains.packages) == [
        "z"
    ]
    assert installed_mismatches({"a": "2", "b": "2", "q": ">=1"}, trains.packages) == [
        ("a", "2", "1")
    ]


def test_the_in_process_probe_is_kept_until_site_packages_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlgate.repro import envprobe

    calls: list[int] = []
    real = envprobe.describe

    def counted() -> dict:
        calls.append(1)
        return real()

    monkeypatch.setattr(envprobe, "describe", counted)
    first = environment._described(tmp_path)
    assert environment._described(tmp_path) == first
    assert len(calls) == 1  # the second answer came from the cache
    (cached,) = (tmp_path / "envprobe").glob("*.json")
    cached.write_text("{broken")
    assert environment._described(tmp_path) == first
    assert len(calls) == 2  # an unreadable cache is asked again
    site = tmp_path / "site-packages"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    environment._described(tmp_path)
    assert len(calls) == 3  # another site-packages folder is another environment


def _slow_describe(dist: Any) -> dict[str, Any]:
    """What the probe answered before it parsed each METADATA once and read RECORD itself."""
    found: set[str] = set()
    top = dist.read_text("top_level.txt")
    if top:
        found = {line.strip() for line in top.splitlines() if line.strip()}
    for item in () if top else dist.files or ():
        parts = item.parts
        if not parts or parts[0] in ("..", "") or parts[0].endswith((".dist-info", ".data")):
            continue
        if len(parts) == 1:
            if parts[0].endswith(".py"):
                found.add(parts[0][:-3])
            elif parts[0].endswith((".so", ".pyd")):
                found.add(parts[0].split(".", 1)[0])
        elif parts[0] != "__pycache__" and parts[0].isidentifier():
            found.add(parts[0])
    return {
        "name": dist.metadata["Name"],
        "version": dist.version,
        "requires": list(dist.requires or ()),
        "modules": sorted(found),
    }


def test_the_probe_answers_what_importlib_metadata_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every distribution of this environment, plus an egg-info one (requires.txt sections,
    SOURCES.txt) and a dist-info one whose RECORD has absolute, '..', './', quoted and missing
    paths."""
    from mlgate.repro import envprobe

    egg = tmp_path / "eggy-1.0.egg-info"
    egg.mkdir()
    (egg / "PKG-INFO").write_text("Metadata-Version: 1.1\nName: eggy\nVersion: 1.0\n")
    (egg / "requires.txt").write_text("six>=1\n\n[fast]\nujson\n")
    (egg / "SOURCES.txt").write_text("eggy/__init__.py\nsetup.py\n")
    info = tmp_path / "recorded-2.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: Recorded\nVersion: 2.0\nRequires-Dist: numpy>=1\n"
    )
    listed = ["recorded/__init__.py", "flat.py", "_native.cpython-311-x86_64-linux-gnu.so"]
    listed += ["eggy/__init__.py", "setup.py"]
    for name in listed:
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text("")
    (info / "RECORD").write_text(
        "recorded/__init__.py,sha256=x,1\n./flat.py,,\n../../bin/tool,,\n/abs/place.py,,\n"
        '"quoted,name/x.py",,\n_native.cpython-311-x86_64-linux-gnu.so,,\ngone.py,,\n'
        "recorded-2.0.dist-info/RECORD,,\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    answered = envprobe.describe()["distributions"]
    expected = [_slow_describe(d) for d in metadata.distributions() if d.metadata["Name"]]
    # A listed file that is not there provides nothing (dist.files leaves it out since 3.12).
    for dist in expected:
        if dist["name"] == "Recorded":
            dist["modules"] = [m for m in dist["modules"] if m != "gone"]
    assert answered == expected
    by_name = {d["name"]: d for d in answered}
    assert by_name["eggy"]["requires"] == ["six>=1", 'ujson; extra == "fast"']
    assert by_name["eggy"]["modules"] == ["eggy", "setup"]
    assert by_name["Recorded"]["modules"] == ["_native", "flat", "recorded"]
