"""The training environment: the interpreter that trains, and the package set it is pinned to.

The interpreter is probed, not assumed: ``train.python`` (or ``$MLGATE_TRAIN_PYTHON``), else the
Python the training command names (``python train.py``: the ``python`` on PATH), else the
interpreter running mlgate. It is asked once per process, in a subprocess, for its version,
platform and distributions (``TrainingEnvironment``); the lock, ``repro --check``, run records
and publish all read that one answer, so mlgate can live in a virtual environment of its own.

Where a requirements or lock file is configured (``repro.requirements``) or found next to the
model or at the repository root, its pins define the locked package set; otherwise the
distributions installed in the training environment do. Either way ``{normalised name: version}``.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shlex
import shutil
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlgate.errors import ConfigError, ExternalError, Location

if TYPE_CHECKING:
    from mlgate.config.model import Config, ModelConfig

# Looked for in the model folder, then at the repository root, in this order.
CANDIDATES = (
    "requirements.lock",
    "uv.lock",
    "poetry.lock",
    "pylock.toml",
    "Pipfile.lock",
    "requirements.txt",
    "python_env.yaml",  # MLflow projects
    "conda.yaml",
)
INSTALLED = "installed"
_REQ_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def normalise(name: str) -> str:
    """PEP 503 normalised distribution name: ``Scikit_Learn`` -> ``scikit-learn``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def python_version() -> str:
    """``MAJOR.MINOR`` of the running interpreter (patch releases do not change results)."""
    return f"{sys.version_info.major}.{sys.version_info.minor}"


def runtime_info() -> dict[str, str]:
    """Full interpreter and platform description, kept in run records (not in the lock)."""
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": f"{sys.platform}-{platform.machine()}",
    }


@dataclass(frozen=True)
class Environment:
    """Where the package set came from and what it is."""

    source: str  # repository-relative path of the file, or "installed"
    packages: dict[str, str]
    file: Path | None = None
    notes: tuple[str, ...] = field(default=())


def find_requirements(model_root: Path, repo_root: Path) -> Path | None:
    """The first lock or requirements file next to the model, else at the repository root."""
    for folder in dict.fromkeys((model_root, repo_root)):
        for name in CANDIDATES:
            candidate = folder / name
            if candidate.is_file():
                return candidate
    return None


_DIST_INFO = re.compile(r"^(?P<name>[^-]+)-(?P<version>[^-]+)\.dist-info$")


def installed_packages() -> dict[str, str]:
    """Every distribution installed in the running interpreter (the first on sys.path wins).

    Names and versions are read from ``NAME-VERSION.dist-info`` folder names, which the wheel
    format defines; parsing every METADATA file would cost tens of milliseconds per command.
    """
    found: dict[str, str] = {}
    for entry in sys.path:
        try:
            names = [p.name for p in Path(entry or ".").iterdir()]
        except OSError:
            continue
        for name in names:
            match = _DIST_INFO.match(name)
            if match:
                found.setdefault(normalise(match["name"]), match["version"])
            elif name.endswith(".egg-info"):
                _egg_info(Path(entry or ".") / name, found)
    return dict(sorted(found.items()))


def _egg_info(path: Path, found: dict[str, str]) -> None:
    dist = metadata.PathDistribution(path)
    name = dist.metadata["Name"] if dist.metadata else None
    if name and dist.version:
        found.setdefault(normalise(name), dist.version)


def read_environment(
    file: Path | None,
    shown: str,
    location: Location | None = None,
    *,
    installed: Mapping[str, str] | None = None,
) -> Environment:
    """The package set pinned by ``file`` (shown as ``shown``), or if None the installed one:
    ``installed`` (the training environment's), default the running interpreter's."""
    if file is None:
        return Environment(
            INSTALLED, dict(installed) if installed is not None else installed_packages()
        )
    if not file.is_file():
        raise ConfigError(
            f"requirements file not found: {shown}",
            location=location or Location(shown),
            hint="fix repro.requirements, or remove it to record the installed packages",
        )
    parser = _parser_for(file)
    try:
        packages, notes = parser(file)
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read requirements file {shown}: {exc}") from None
    except RecursionError:
        raise ConfigError(
            f"cannot parse requirements file {shown}: nested too deeply", location=Location(shown)
        ) from None
    except ValueError as exc:
        raise ConfigError(
            f"cannot parse requirements file {shown}: {exc}", location=Location(shown)
        ) from None
    return Environment(shown, dict(sorted(packages.items())), file, tuple(notes))


Parsed = tuple[dict[str, str], list[str]]


def _parser_for(file: Path) -> Callable[[Path], Parsed]:
    """The parser registered for the file's name; ``*.toml`` are TOML locks, anything else is
    read as a requirements file (pip-compile, uv export, pip freeze)."""
    name = file.name.lower()
    if name in PARSERS:
        return PARSERS[name]
    return _parse_toml_lock if name.endswith(".toml") else _parse_requirements


def _parse_requirements(file: Path, seen: frozenset[Path] = frozenset()) -> Parsed:
    """``name==version`` lines (pip-compile, uv export, pip freeze); ``-r`` includes followed."""
    packages: dict[str, str] = {}
    notes: list[str] = []
    unpinned: list[str] = []
    for line in _logical_lines(file.read_text("utf-8")):
        if line.startswith(("-r ", "--requirement ", "-c ", "--constraint ")):
            included = (file.parent / line.split(maxsplit=1)[1].strip()).resolve()
            if included in seen or not included.is_file():
                continue
            more, more_notes = _parse_requirements(included, seen | {file.resolve()})
            packages.update(more)
            notes.extend(more_notes)
            continue
        if line.startswith(("-", ".", "/")) or "://" in line:
            notes.append(f"not a package pin, recorded by file hash only: {line}")
            continue
        parsed = _requirement(line)
        if parsed is None:
            raise ValueError(f"unrecognised line: {line!r}")
        name, spec = normalise(parsed[0]), parsed[1].replace(" ", "")
        if spec.startswith("==") and not spec.startswith("==="):
            packages[name] = spec[2:]
        else:
            packages[name] = spec or "*"
            unpinned.append(name)
    if unpinned:
        notes.append(
            "not pinned with '==' (the lock records the specifier): " + ", ".join(unpinned)
        )
    return packages, notes


def _requirement(line: str) -> tuple[str, str] | None:
    """``name[extras] spec ; marker`` -> (name, spec), or None. Not one regular expression:
    adjacent optional whitespace and specifier groups backtrack in cubic time on long lines."""
    match = _REQ_NAME.match(line)
    if match is None:
        return None
    rest = line[match.end() :].lstrip()
    if rest.startswith("["):
        close = rest.find("]")
        if close < 0:
            return None
        rest = rest[close + 1 :]
    spec = rest.split(";", 1)[0].strip()
    return None if "#" in spec else (match.group(), spec)


def _logical_lines(text: str) -> Iterator[str]:
    """Lines without comments or blank lines, backslash continuations joined, hashes dropped."""
    pending = ""
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].strip() if not raw.lstrip().startswith("#") else ""
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = (pending + line).strip()
        pending = ""
        line = re.sub(r"\s--hash[= ]\S+", "", line).strip()
        if line:
            yield line


def _parse_toml_lock(file: Path) -> Parsed:
    """``[[package]]`` (uv.lock, poetry.lock) or ``[[packages]]`` (pylock.toml) tables."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10, where mlgate depends on tomli
        import tomli as tomllib
    try:
        data: dict[str, Any] = tomllib.loads(file.read_text("utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(str(exc)) from None
    packages: dict[str, str] = {}
    entries = data.get("package", []) or data.get("packages", [])
    if not isinstance(entries, list):
        raise ValueError("'package' (or 'packages') should be an array of tables")
    for entry in entries:
        if isinstance(entry, dict) and isinstance(entry.get("name"), str):
            packages[normalise(entry["name"])] = str(entry.get("version", "*"))
    return packages, []


def _parse_pipfile_lock(file: Path) -> Parsed:
    data = json.loads(file.read_text("utf-8"))
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")  # reported as a parse error
    default = data.get("default") or {}
    if not isinstance(default, dict):
        raise ValueError("'default' should be an object of package -> pin")
    packages: dict[str, str] = {}
    for name, spec in default.items():
        version = spec.get("version", "*") if isinstance(spec, dict) else "*"
        packages[normalise(name)] = str(version).removeprefix("==")
    return packages, []


def _parse_env_yaml(file: Path) -> Parsed:
    """MLflow's ``python_env.yaml`` (``dependencies``: pip lines) and conda's ``conda.yaml`` /
    ``environment.yml`` (``dependencies``: ``name=version`` conda packages and a ``pip:``
    list); the ``python`` entry is not a package."""
    import yaml

    try:
        data = yaml.safe_load(file.read_text("utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ValueError(str(exc)) from None
    if not isinstance(data, dict):
        raise ValueError("expected a mapping with 'dependencies'")
    packages: dict[str, str] = {}
    unpinned: list[str] = []
    lines: list[str] = []
    for item in data.get("dependencies") or ():
        if isinstance(item, dict):
            lines.extend(str(x) for x in item.get("pip") or ())
        elif isinstance(item, str) and not file.name.startswith("python_env"):
            name, _, version = item.partition("=")
            version = version.lstrip("=").split("=")[0]
            lines.append(f"{name}=={version}" if version and "*" not in version else name)
        elif isinstance(item, str):
            lines.append(item)
    for line in lines:
        parsed = _requirement(line.strip())
        if parsed is None or line.startswith(("-", ".", "/")) or "://" in line:
            continue
        name, spec = normalise(parsed[0]), parsed[1].replace(" ", "")
        if name in {"python", "pip"}:
            continue
        if spec.startswith("==") and not spec.startswith("==="):
            packages[name] = spec[2:]
        else:
            packages[name] = spec or "*"
            unpinned.append(name)
    notes = []
    if unpinned:
        notes.append(
            "not pinned with '==' (the lock records the specifier): " + ", ".join(unpinned)
        )
    return packages, notes


# File name (lower case) -> parser; add an entry to teach mlgate another lock format.
PARSERS: dict[str, Callable[[Path], Parsed]] = {
    "uv.lock": _parse_toml_lock,
    "poetry.lock": _parse_toml_lock,
    "pylock.toml": _parse_toml_lock,
    "pipfile.lock": _parse_pipfile_lock,
    "python_env.yaml": _parse_env_yaml,
    "conda.yaml": _parse_env_yaml,
    "conda.yml": _parse_env_yaml,
    "environment.yml": _parse_env_yaml,
    "environment.yaml": _parse_env_yaml,
}


def is_pin(version: str) -> bool:
    """True for an exact version (``2.4.6``), False for a specifier (``>=3.0``) or ``*``."""
    return re.fullmatch(r"[0-9][0-9A-Za-z.+!-]*", version) is not None


def installed_mismatches(
    pinned: Mapping[str, str], installed: Mapping[str, str] | None = None
) -> list[tuple[str, str, str | None]]:
    """(name, pinned version, installed version or None) for pins the install breaks;
    ``installed`` is the training environment's package set (default: mlgate's own)."""
    out: list[tuple[str, str, str | None]] = []
    for name, version in pinned.items():
        if not is_pin(version):
            continue  # a specifier, not a pin
        if installed is not None:
            have = installed.get(normalise(name))
        else:
            try:
                have = metadata.version(name)
            except metadata.PackageNotFoundError:
                have = None
        if have != version:
            out.append((name, version, have))
    return out


def unpinned_missing(pinned: Mapping[str, str], installed: Mapping[str, str]) -> list[str]:
    """Names of unpinned requirement lines (``>=3.0``, ``*``) absent from ``installed``."""
    return sorted(n for n, v in pinned.items() if not is_pin(v) and normalise(n) not in installed)


# -- the training environment, probed -------------------------------------------------------

ENV_TRAIN_PYTHON = "MLGATE_TRAIN_PYTHON"
_PYTHON_NAME = re.compile(r"^python(\d+(\.\d+)?)?$")


@dataclass(frozen=True)
class Distribution:
    """One installed distribution of the training environment."""

    name: str  # as its metadata spells it
    version: str
    requires: tuple[str, ...]  # PEP 508 Requires-Dist lines
    modules: tuple[str, ...]  # top-level import names it provides


@dataclass(frozen=True)
class TrainingEnvironment:
    """What the training interpreter said about itself (see ``probe``)."""

    interpreter: str  # the executable, as found (not resolved through symlinks)
    origin: str  # how it was chosen: "train.python", "$MLGATE_TRAIN_PYTHON", "PATH", "mlgate"
    python: str  # "3.11.7"
    implementation: str
    platform: str
    markers: Mapping[str, str]
    distributions: Mapping[str, Distribution]  # normalised name -> distribution

    @property
    def minor(self) -> str:
        """``MAJOR.MINOR``: what the lock records (patch releases do not change results)."""
        return ".".join(self.python.split(".")[:2])

    @property
    def packages(self) -> dict[str, str]:
        return {name: d.version for name, d in sorted(self.distributions.items())}

    def describe(self) -> str:
        """``Python 3.11.7 at /x/bin/python (the python on PATH)`` for messages."""
        how = {
            "train.python": "train.python",
            "$MLGATE_TRAIN_PYTHON": "$" + ENV_TRAIN_PYTHON,
            "PATH": "the python the train command finds on PATH",
            "mlgate": "mlgate's own interpreter: no python on PATH",
        }.get(self.origin, self.origin)
        return f"Python {self.python} at {self.interpreter} ({how})"

    def runtime_info(self) -> dict[str, str]:
        """Interpreter and platform, kept in run records (not in the lock)."""
        return {
            "python": self.python,
            "implementation": self.implementation,
            "platform": self.platform,
            "interpreter": self.interpreter,
        }

    def providers(self, module: str) -> list[str]:
        """Normalised names of the distributions providing top-level module ``module``."""
        top = module.split(".", 1)[0]
        return sorted(n for n, d in self.distributions.items() if top in d.modules)

    def closure(self, names: Iterable[str]) -> list[str]:
        """``names`` and every distribution they require here, recursively (markers evaluated
        for this environment, extras not taken); names not installed are left out."""
        from packaging.requirements import InvalidRequirement, Requirement

        marker_env = {**self.markers, "extra": ""}
        todo = [normalise(n) for n in names]
        seen: set[str] = set()
        while todo:
            name = todo.pop()
            if name in seen or name not in self.distributions:
                continue
            seen.add(name)
            for line in self.distributions[name].requires:
                try:
                    req = Requirement(line)
                except InvalidRequirement:
                    continue
                if req.marker is None or req.marker.evaluate(marker_env):
                    todo.append(normalise(req.name))
        return sorted(seen)


def python_like(program: str) -> bool:
    """True when ``program`` names a Python interpreter (``python``, ``python3.12``, a path)."""
    return _PYTHON_NAME.match(Path(program).name) is not None


def resolve_interpreter(
    model: ModelConfig, path: str | None = None, config: Config | None = None
) -> tuple[str, str]:
    """(interpreter, origin): ``$MLGATE_TRAIN_PYTHON``, ``train.python``, the Python the train
    command names (found on ``path``, default ``$PATH``), ``python``/``python3`` on it, or
    mlgate's own interpreter. A configured interpreter that does not exist is a ConfigError."""
    search = path if path is not None else os.environ.get("PATH", "")
    train = model.train
    configured = os.environ.get(ENV_TRAIN_PYTHON) or None
    origin = "$" + ENV_TRAIN_PYTHON
    if configured is None and train is not None and train.python:
        configured, origin = train.python, "train.python"
    if configured is not None:
        found = _find_program(configured, model.root, search)
        if found is None:
            raise ConfigError(
                f"{origin}: no Python interpreter at {configured!r}",
                location=(
                    config.locate(model, "train", "python")
                    if config is not None and origin == "train.python"
                    else None
                ),
                hint="give the path of the training environment's python (relative to the model "
                "folder), or a name on PATH such as python3.12",
            )
        return found, origin
    if train is not None:
        try:
            argv = shlex.split(train.command)
        except ValueError:
            argv = []
        if argv and python_like(argv[0]):
            found = _find_program(argv[0], model.root, search)
            if found is not None:
                return found, "PATH"
    for name in ("python", "python3"):
        found = shutil.which(name, path=search)
        if found is not None:
            return _absolute(found), "PATH"
    return sys.executable, "mlgate"


def _find_program(program: str, root: Path, search: str) -> str | None:
    if os.sep in program or (os.altsep and os.altsep in program):
        candidate = root / program  # an absolute program stays itself
        ok = candidate.is_file() and os.access(candidate, os.X_OK)
        return _absolute(candidate) if ok else None
    found = shutil.which(program, path=search)
    return _absolute(found) if found else None


def _absolute(path: str | Path) -> str:
    """Absolute and normalised, but symlinks kept: a venv's python is not its base's."""
    return os.path.normpath(Path(path).absolute())


_PROBED: dict[str, TrainingEnvironment] = {}


def training_environment(
    model: ModelConfig, config: Config | None = None, *, path: str | None = None
) -> TrainingEnvironment:
    """The model's training environment, probed once per interpreter and process."""
    interpreter, origin = resolve_interpreter(model, path, config)
    known = _PROBED.get(interpreter)
    if known is None:
        from mlgate import paths as mlgate_paths

        known = probe(interpreter, origin, cache=mlgate_paths.cache_dir(model.repo_root))
        _PROBED[interpreter] = known
    if known.origin != origin:
        known = TrainingEnvironment(**{**known.__dict__, "origin": origin})
    return known


def probe(
    interpreter: str, origin: str = "train.python", *, cache: Path | None = None
) -> TrainingEnvironment:
    """Ask ``interpreter`` about itself (``envprobe``); mlgate's own interpreter answers in
    process, from ``cache`` (a folder) while nothing on its ``sys.path`` changed. An
    interpreter that cannot answer is an ExternalError naming it."""
    from mlgate.repro import envprobe

    data: Any
    if _same_environment(interpreter, sys.executable):
        data = _described(cache)
    else:
        from mlgate import proc

        source = Path(envprobe.__file__).read_text("utf-8")
        result = proc.run([interpreter, "-c", source], check=False, timeout=120, what="probe")
        try:
            data = json.loads(result.stdout) if result.ok else None
        except ValueError:
            data = None
        if not isinstance(data, dict):
            lines = (result.stderr or result.stdout).strip().splitlines() or ["no output"]
            raise ExternalError(
                f"the training interpreter {interpreter} could not describe itself "
                f"(exit {result.returncode}): {lines[-1]}",
                hint="check train.python (or the python on PATH); mlgate asks it for its version "
                "and installed packages",
            )
    return _environment_of(interpreter, origin, data)


def _described(cache: Path | None) -> dict[str, Any]:
    """``envprobe.describe()`` of this interpreter, kept in ``cache`` under a key of the
    interpreter and the modification times of its site-packages folders: installing, upgrading
    or removing a distribution (editable ones too, by their .pth file) changes a folder's
    entries, and so the key. A cached answer that
    cannot be read is ignored."""
    import hashlib

    from mlgate.repro import envprobe

    if cache is None:
        return envprobe.describe()
    folders = [
        Path(e) for e in sys.path if e and Path(e).name in ("site-packages", "dist-packages")
    ]
    stamps: list[Any] = [sys.executable, sys.version, envprobe.__file__]
    stamps += [(str(f), f.stat().st_mtime_ns if f.is_dir() else None) for f in folders]
    key = hashlib.sha256(json.dumps(stamps).encode()).hexdigest()[:32]
    path = cache / "envprobe" / f"{key}.json"
    try:
        data = json.loads(path.read_text("utf-8"))
        if isinstance(data, dict) and "python" in data:
            return data
    except (OSError, ValueError):
        pass
    data = envprobe.describe()
    try:
        from mlgate.fsio import atomic_write_json

        atomic_write_json(path, data)
    except OSError:
        pass  # a read-only checkout still works, only slower
    return data


def _same_environment(interpreter: str, own: str) -> bool:
    """Same folder and same file: a venv's ``bin/python`` and ``bin/python3`` are one
    environment, but a venv's python and the base interpreter it links to are not."""
    a, b = Path(_absolute(interpreter)), Path(_absolute(own))
    try:
        return a.parent == b.parent and a.samefile(b)
    except OSError:
        return False


def _environment_of(interpreter: str, origin: str, data: Mapping[str, Any]) -> TrainingEnvironment:
    distributions: dict[str, Distribution] = {}
    for item in data.get("distributions", ()):
        key = normalise(str(item["name"]))
        distributions.setdefault(  # the first on sys.path wins, as for imports
            key,
            Distribution(
                str(item["name"]),
                str(item["version"]),
                tuple(str(r) for r in item.get("requires", ())),
                tuple(str(m) for m in item.get("modules", ())),
            ),
        )
    return TrainingEnvironment(
        interpreter=interpreter,
        origin=origin,
        python=str(data["python"]),
        implementation=str(data.get("implementation", "")),
        platform=str(data.get("platform", "")),
        markers={str(k): str(v) for k, v in dict(data.get("markers", {})).items()},
        distributions=dict(sorted(distributions.items())),
    )
