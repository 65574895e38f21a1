"""The wheelhouse: every package the image installs, pinned to the training environment.

Third-party wheels are downloaded once per requirement set and target platform (``pip download
--only-binary=:all:`` for the base image's Python, glibc and machine) into
``.mlgate/cache/wheelhouse/<key>``; transitive dependencies are constrained to the versions
installed here, so the image matches training and builds with no network. mlgate itself and
local packages go in as wheels of their own, in a later layer.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from mlgate import paths, proc
from mlgate.config.model import ModelConfig
from mlgate.errors import ConfigError, ExternalError
from mlgate.publish.settings import PublishSettings
from mlgate.publish.wheels import mlgate_wheel

# What ``mlgate serve`` imports in the image (mlgate itself goes in with --no-deps).
SERVE_REQUIREMENTS = (
    "click", "pyyaml", "jsonschema", "numpy", "pandas", "scipy", "scikit-learn", "skops",
    "uvicorn", "httptools", "uvloop",
)  # fmt: skip
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
Progress = Callable[[str], None]
ENV_CACHE = "MLGATE_CACHE_DIR"


@dataclass(frozen=True)
class Target:
    """The base image's interpreter and platform, probed by running it once."""

    python: str  # "3.11"
    machine: str  # "x86_64"
    glibc: str | None  # "2.36"; None on musl (unsupported for binary wheels)

    def platforms(self) -> list[str]:
        """pip ``--platform`` tags, newest first: every manylinux the image's glibc accepts."""
        if self.glibc is None:
            raise ConfigError(
                "the base image has no glibc (Alpine/musl?); use a Debian-based image",
                hint="for example python:3.11-slim",
            )
        major, minor = (int(x) for x in self.glibc.split(".")[:2])
        tags = [f"manylinux_{major}_{m}_{self.machine}" for m in range(minor, 16, -1)]
        legacy = ["manylinux2014", "manylinux2010", "manylinux1"]
        return tags + [f"{name}_{self.machine}" for name in legacy]


@dataclass(frozen=True)
class Requirements:
    """Pinned requirement lines, where they came from, and local packages to build."""

    lines: tuple[str, ...]
    source: str
    local: tuple[Path, ...]


@dataclass(frozen=True)
class Wheelhouse:
    third_party: Path  # folder of wheels plus requirements.txt (exact pins of what is there)
    app: tuple[Path, ...]  # mlgate's wheel and local packages' wheels
    pins: tuple[str, ...]
    cached: bool


def build_cache(repo_root: Path) -> Path:
    """Where wheels are cached: ``$MLGATE_CACHE_DIR`` (shared by repositories) or the repo's."""
    shared = os.environ.get(ENV_CACHE)
    return Path(shared) if shared else paths.cache_dir(repo_root)


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def installed_pins(names: Iterable[str]) -> list[str]:
    """``name==version`` for each installed distribution named; missing ones are an error."""
    wanted = list(names)
    versions = {normalize(d.metadata["Name"] or ""): d.version for d in metadata.distributions()}
    missing = [n for n in wanted if normalize(n) not in versions]
    if missing:
        raise ConfigError(
            f"{', '.join(missing)} not installed here, so the training version is unknown",
            hint="pip install 'mlgate[serve]' in the training environment",
        )
    return [f"{normalize(n)}=={versions[normalize(n)]}" for n in wanted]


def locked_environment(model: ModelConfig) -> dict[str, Any] | None:
    """The training environment ``mlgate lock`` recorded for the model (packages, python)."""
    from mlgate.repro.lockfile import read_lock

    lock = read_lock(paths.lock_path(model.repo_root))
    entry = (lock.entry(model.tag_name) or lock.entry(model.name)) if lock else None
    environment = entry.get("environment") if entry else None
    return dict(environment) if isinstance(environment, dict) else None


def collect_requirements(model: ModelConfig, settings: PublishSettings) -> Requirements:
    """Pins of the training environment: ``publish.requirements``, else the packages
    ``mlgate.lock`` recorded, else the model's or repository's requirements.txt, else the
    installed versions; plus what the server needs and ``publish.packages``."""
    candidates = (
        [settings.requirements]
        if settings.requirements
        else [model.root / "requirements.txt", model.repo_root / "requirements.txt"]
    )
    lines: list[str] = []
    source = "the installed versions"
    locked = None if settings.requirements else locked_environment(model)
    if locked and locked.get("packages"):
        lines = [f"{normalize(n)}=={v}" for n, v in sorted(dict(locked["packages"]).items())]
        source = paths.LOCK_FILE
        candidates = []
    for candidate in candidates:
        if candidate.is_file():
            lines = _read_requirements(candidate)
            source = model.relative(candidate)
            break
        if settings.requirements:
            raise ConfigError(f"requirements file not found: {model.relative(candidate)}")
    local: list[Path] = []
    for item in settings.packages:
        path = model.resolve(item)
        if item.startswith((".", "/")) or item.endswith(".whl") or path.exists():
            if not path.exists():
                raise ConfigError(f"publish.packages: {item} not found (looked at {path})")
            local.append(path)
        else:
            lines.append(item)
    named = {normalize(m.group(1)) for line in lines if (m := _NAME.match(line))}
    lines += installed_pins(n for n in SERVE_REQUIREMENTS if normalize(n) not in named)
    pinned = [_pin(line) for line in lines]
    return Requirements(tuple(sorted(set(pinned))), source, tuple(local))


def _read_requirements(path: Path) -> list[str]:
    lines = []
    for raw in path.read_text("utf-8").splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("-"):
            raise ConfigError(
                f"{path}: pip options ({line.split()[0]}) are not supported in the image's "
                "requirements; list plain 'name==version' lines",
            )
        lines.append(line)
    return lines


def _pin(line: str) -> str:
    """Unpinned names get the installed version; pinned or ranged lines are kept."""
    match = _NAME.match(line)
    if match and line.strip() == match.group(1):
        try:
            return f"{normalize(line.strip())}=={metadata.version(line.strip())}"
        except metadata.PackageNotFoundError:
            return line.strip()
    return line.strip()


def constraints(exclude: Iterable[str]) -> list[str]:
    """Every installed distribution pinned, so transitive dependencies match this environment."""
    skip = {normalize(n) for n in exclude} | {"mlgate", "pip", "setuptools", "wheel"}
    found = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name and normalize(name) not in skip:
            found[normalize(name)] = dist.version
    return [f"{n}=={v}" for n, v in sorted(found.items())]


def prepare(
    model: ModelConfig,
    settings: PublishSettings,
    target: Target,
    dest: Path,
    progress: Progress,
) -> Wheelhouse:
    """Fill ``dest/wheelhouse`` (third party) and ``dest/app`` (mlgate, local packages)."""
    locked = locked_environment(model)
    trained_with = str(locked.get("python", "")) if locked else ""
    if trained_with and trained_with != target.python:
        raise ConfigError(
            f"{model.name} was trained with Python {trained_with} ({paths.LOCK_FILE}) but the "
            f"base image {settings.base_image} has Python {target.python}",
            hint=f"use a base image with Python {trained_with} (e.g. "
            f"python:{trained_with}-slim), or retrain and lock with Python {target.python}",
        )
    reqs = collect_requirements(model, settings)
    named = [m.group(1) for line in reqs.lines if (m := _NAME.match(line))]
    pinned_env = constraints(named)
    key = hashlib.sha256(
        json.dumps([reqs.lines, pinned_env, target.python, target.platforms()]).encode()
    ).hexdigest()[:20]
    shared = build_cache(model.repo_root)
    cache = shared / "wheelhouse" / key
    cached = (cache / "requirements.txt").is_file()
    if cached:
        progress(f"wheelhouse: reusing {len(list(cache.glob('*.whl')))} wheels ({key})")
    else:
        progress(
            f"wheelhouse: downloading wheels for Python {target.python} on {target.machine} "
            f"(pins from {reqs.source})"
        )
        _download(reqs.lines, pinned_env, target, cache)
    third_party = dest / "wheelhouse"
    _copy_tree(cache, third_party)
    app = dest / "app"
    app.mkdir(parents=True, exist_ok=True)
    wheels = [
        mlgate_wheel(shared / "mlgate-wheel", progress),
        *(_local_wheel(p, paths.cache_dir(model.repo_root), progress) for p in reqs.local),
    ]
    placed = [Path(shutil.copy2(wheel, app / wheel.name)) for wheel in wheels]
    pins = tuple((cache / "requirements.txt").read_text("utf-8").split())
    return Wheelhouse(third_party, tuple(placed), pins, cached)


def _download(lines: Sequence[str], pinned_env: Sequence[str], target: Target, cache: Path) -> None:
    work = cache.with_name(cache.name + ".partial")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    (work / "requested.txt").write_text("\n".join(lines) + "\n", "utf-8")
    (work / "constraints.txt").write_text("\n".join(pinned_env) + "\n", "utf-8")
    abi = "cp" + target.python.replace(".", "")
    args = [
        sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
        "--only-binary=:all:", "--dest", str(work),
        "--python-version", target.python, "--implementation", "cp", "--abi", abi,
        "--abi", "abi3", "--abi", "none",
        *[arg for tag in target.platforms() for arg in ("--platform", tag)],
        "-r", str(work / "requested.txt"), "-c", str(work / "constraints.txt"),
    ]  # fmt: skip
    result = proc.run(args, check=False, timeout=1800, what="pip download")
    if not result.ok:
        shutil.rmtree(work, ignore_errors=True)
        error = proc.process_error(result, "pip download")
        raise ExternalError(
            "could not download the wheels the image needs "
            f"(Python {target.python}, {target.machine})",
            hint="every pinned package needs a binary wheel for the base image's Python; "
            "pick a base image with the training Python version, or adjust the pins",
            details=error.details,
        )
    pins = sorted(_pin_of(w) for w in work.glob("*.whl"))
    (work / "requirements.txt").write_text("\n".join(pins) + "\n", "utf-8")
    for helper in ("requested.txt", "constraints.txt"):
        (work / helper).unlink()
    shutil.rmtree(cache, ignore_errors=True)
    work.rename(cache)


def _pin_of(wheel: Path) -> str:
    name, version = wheel.name.split("-")[:2]
    return f"{normalize(name)}=={version}"


def _copy_tree(source: Path, dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    for item in sorted(source.iterdir()):
        target = dest / item.name
        try:
            target.hardlink_to(item)
        except OSError:
            shutil.copy2(item, target)


def _local_wheel(package: Path, cache: Path, progress: Progress) -> Path:
    if package.is_file():
        return package
    out = cache / "local-wheels" / hashlib.sha256(str(package).encode()).hexdigest()[:12]
    shutil.rmtree(out, ignore_errors=True)
    progress(f"wheelhouse: building a wheel of {package.name}")
    proc.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(out),
         str(package)],
        timeout=600,
        what=f"pip wheel {package.name}",
    )  # fmt: skip
    wheels = sorted(out.glob("*.whl"))
    if len(wheels) != 1:
        raise ExternalError(f"building {package} gave {len(wheels)} wheels, expected one")
    return wheels[0]
