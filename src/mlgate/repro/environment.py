"""The training environment: Python version and the package set, from a lock file or the install.

Where a requirements or lock file is configured (``repro.requirements``) or found next to the
model or at the repository root, its pins define the environment; otherwise the distributions
installed in the running interpreter do. Either way the result is ``{normalised name: version}``.
"""

from __future__ import annotations

import json
import platform
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from mlgate.errors import ConfigError, Location

# Looked for in the model folder, then at the repository root, in this order.
CANDIDATES = (
    "requirements.lock",
    "uv.lock",
    "poetry.lock",
    "pylock.toml",
    "Pipfile.lock",
    "requirements.txt",
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
    file: Path | None, shown: str, location: Location | None = None
) -> Environment:
    """The package set pinned by ``file`` (shown as ``shown``), or the installed one if None."""
    if file is None:
        return Environment(INSTALLED, installed_packages())
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
    else:  # pragma: no cover - Python 3.10
        try:
            import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]
        except ModuleNotFoundError:
            return {}, [f"{file.name}: install 'tomli' to read TOML lock files on Python 3.10"]
    try:
        data: dict[str, Any] = tomllib.loads(file.read_text("utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(str(exc)) from None
    packages: dict[str, str] = {}
    entries = data.get("package", []) or data.get("packages", [])
    if not isinstance(entries, list):
        raise ValueError("'package' (or 'packages') should be an array of tables")  # noqa: TRY004
    for entry in entries:
        if isinstance(entry, dict) and isinstance(entry.get("name"), str):
            packages[normalise(entry["name"])] = str(entry.get("version", "*"))
    return packages, []


def _parse_pipfile_lock(file: Path) -> Parsed:
    data = json.loads(file.read_text("utf-8"))
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")  # noqa: TRY004 - reported as a parse error
    default = data.get("default") or {}
    if not isinstance(default, dict):
        raise ValueError("'default' should be an object of package -> pin")  # noqa: TRY004
    packages: dict[str, str] = {}
    for name, spec in default.items():
        version = spec.get("version", "*") if isinstance(spec, dict) else "*"
        packages[normalise(name)] = str(version).removeprefix("==")
    return packages, []


# File name (lower case) -> parser; add an entry to teach mlgate another lock format.
PARSERS: dict[str, Callable[[Path], Parsed]] = {
    "uv.lock": _parse_toml_lock,
    "poetry.lock": _parse_toml_lock,
    "pylock.toml": _parse_toml_lock,
    "pipfile.lock": _parse_pipfile_lock,
}


def installed_mismatches(pinned: dict[str, str]) -> list[tuple[str, str, str | None]]:
    """(name, pinned version, installed version or None) for pins the running install breaks."""
    out: list[tuple[str, str, str | None]] = []
    for name, version in pinned.items():
        if not re.fullmatch(r"[0-9][0-9A-Za-z.+!-]*", version):
            continue  # a specifier, not a pin
        try:
            have: str | None = metadata.version(name)
        except metadata.PackageNotFoundError:
            have = None
        if have != version:
            out.append((name, version, have))
    return out
