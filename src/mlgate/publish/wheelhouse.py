"""The wheelhouse: every package the image installs, pinned to the training environment.

What the image needs is what the model file references: the distributions providing the modules
its types come from (skops schema, pickle globals) and the loader of its format, with their
dependencies, at the versions of the training environment (probed, see
``mlgate.repro.environment``); plus what ``mlgate serve`` imports. Lines of the model's
requirements file that pin a version (``==``, a URL) are honoured; unpinned ones get the training
environment's version when the model needs them and are left out otherwise.
``publish.requirements`` replaces the requirements file. mlgate itself is never taken from the
package index: its wheel is built from the running mlgate (``wheels.mlgate_wheel``).

Third-party wheels are downloaded once per requirement set and target platform (``pip download
--only-binary=:all:`` for the base image's Python, glibc and machine) into
``.mlgate/cache/wheelhouse/<key>``; transitive dependencies are constrained to the training
environment's versions, so the image matches training and builds with no network.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from mlgate import formats, paths, proc
from mlgate.config.model import ModelConfig
from mlgate.errors import ConfigError, ExternalError
from mlgate.publish.settings import PublishSettings
from mlgate.publish.wheels import mlgate_wheel
from mlgate.repro import environment
from mlgate.repro.environment import TrainingEnvironment, normalise
from mlgate.repro.lockfile import read_lock

# What ``mlgate serve`` imports in the image (mlgate itself goes in with --no-deps); their
# specifiers come from mlgate's own metadata (its dependencies and the ``serve`` extra).
SERVE_REQUIREMENTS = (
    "click", "pyyaml", "jsonschema", "numpy", "pandas", "scipy", "scikit-learn", "skops",
    "uvicorn", "httptools", "uvloop",
)  # fmt: skip
# Never pinned from the training environment: installers, and mlgate (built from source).
_NOT_PINNED = frozenset({"mlgate", "pip", "setuptools", "wheel"})
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
    """The requirement lines the image installs, where they came from, and local packages."""

    lines: tuple[str, ...]
    source: str
    local: tuple[Path, ...]
    constraints: tuple[str, ...] = ()  # the environment's versions, for transitive dependencies
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Wheelhouse:
    third_party: Path  # folder of wheels plus requirements.txt (exact pins of what is there)
    app: tuple[Path, ...]  # mlgate's wheel and local packages' wheels
    pins: tuple[str, ...]
    cached: bool
    notes: tuple[str, ...] = ()


def build_cache(repo_root: Path) -> Path:
    """Where wheels are cached: ``$MLGATE_CACHE_DIR`` (shared by repositories) or the repo's."""
    shared = os.environ.get(ENV_CACHE)
    return Path(shared) if shared else paths.cache_dir(repo_root)


def normalize(name: str) -> str:
    return normalise(name)


def locked_environment(model: ModelConfig) -> dict[str, Any] | None:
    """The training environment ``mlgate lock`` recorded for the model (packages, python)."""
    lock = read_lock(paths.lock_path(model.repo_root))
    entry = (lock.entry(model.tag_name) or lock.entry(model.name)) if lock else None
    environment_entry = entry.get("environment") if entry else None
    return dict(environment_entry) if isinstance(environment_entry, dict) else None


# -- what the model file references ---------------------------------------------------------


def model_modules(model: ModelConfig) -> tuple[str, ...]:
    """Top-level modules the model file's types come from and its loader needs, read without
    loading it (each format's ``modules`` hook in ``mlgate.formats``)."""
    path = model.model.file
    if not path.exists():
        raise ConfigError(
            f"cannot read the model file {model.relative(path)}: not found",
            hint="train the model first (mlgate train)",
        )
    fmt = formats.resolve(path, model.model.format)
    try:
        found = fmt.modules(path)
    except OSError as exc:
        raise ConfigError(
            f"cannot read the model file {model.relative(path)}: {exc.strerror or exc}",
            hint="train the model first (mlgate train)",
        ) from None
    tops = {m.split(".", 1)[0] for m in found if m and m != "?"}
    return tuple(sorted(tops - set(sys.stdlib_module_names)))


# -- the requirement lines ------------------------------------------------------------------


def collect_requirements(
    model: ModelConfig, settings: PublishSettings, trains: TrainingEnvironment | None = None
) -> Requirements:
    """The lines the image installs (see the module docstring) and the constraints that keep
    transitive dependencies at the training environment's versions."""
    trains = trains or environment.training_environment(model)
    installed = trains.packages
    notes: list[str] = []

    needed_roots: list[str] = []
    for module in model_modules(model):
        providers = trains.providers(module)
        if providers:
            needed_roots.extend(providers)
    serve = _serve_requirements(trains)
    needed = set(trains.closure(needed_roots)) | set(trains.closure(serve)) | set(serve)
    needed -= _NOT_PINNED

    file, source = _requirements_file(model, settings)
    listed = _read_requirements(file, model) if file else []
    shipped = _shipped_requirements(model, {normalise(r.name) for r in listed}, needed)
    if shipped:
        listed += shipped
        shipped_from = f"{model.relative(model.model.file)}'s requirements"
        source = f"{source} and {shipped_from}" if source else shipped_from
    chosen = _chosen_lines(listed, needed, trains, source, notes)
    for name in sorted(needed):
        if name in chosen:
            continue
        if name in installed:
            chosen[name] = f"{name}=={installed[name]}"
        elif name in serve:
            chosen[name] = serve[name]
    local = _local_packages(model, settings, chosen)
    resolved = [n for n in serve if n not in installed]
    if resolved:
        notes.append(
            "not in the training environment, resolved by pip for the image: "
            + ", ".join(serve[n] for n in resolved)
        )
    return Requirements(
        tuple(sorted(chosen.values(), key=str.lower)),
        source or "the training environment",
        tuple(local),
        tuple(constraints(chosen, trains)),
        tuple(notes),
    )


def _shipped_requirements(model: ModelConfig, listed: set[str], needed: set[str]) -> list[Any]:
    """Requirement lines the model file ships (an MLflow model's requirements.txt) for what the
    model needs and the requirements file does not list: the versions it was saved with.
    Lines for anything else (test tools, the xgboost meta-package beside xgboost-cpu) and lines
    that are not PEP 508 are left out."""
    from packaging.requirements import InvalidRequirement, Requirement

    path = model.model.file
    if not path.exists():
        return []
    out = []
    for line in formats.resolve(path, model.model.format).requirements(path):
        try:
            req = Requirement(line)
        except InvalidRequirement:
            continue
        name = normalise(req.name)
        if name in needed and name not in listed:
            out.append(req)
    return out


def _chosen_lines(
    lines: Sequence[Any],
    needed: set[str],
    trains: TrainingEnvironment,
    source: str,
    notes: list[str],
) -> dict[str, str]:
    """The requirement file's lines kept for the image, by normalised name: pins and URLs as
    written, unpinned names the model needs at the training version; the rest left out."""
    installed = trains.packages
    marker_env = {**trains.markers, "extra": ""}
    chosen: dict[str, str] = {}
    for req in lines:
        name = normalise(req.name)
        if name in _NOT_PINNED or (req.marker is not None and not req.marker.evaluate(marker_env)):
            continue
        if req.url or _exact(req):
            chosen[name] = str(req)
            pinned = req.url or next(iter(req.specifier)).version
            have = installed.get(name)
            if have is not None and not req.url and have != pinned:
                notes.append(
                    f"{name}: {source} pins {pinned}, the training environment has {have}; "
                    f"the image gets {pinned}"
                )
        elif name in needed and name in installed:
            chosen[name] = f"{name}=={installed[name]}"
        elif name not in needed:
            notes.append(f"{name}: not pinned in {source} and not needed by the model; left out")
    return chosen


def _local_packages(
    model: ModelConfig, settings: PublishSettings, chosen: dict[str, str]
) -> list[Path]:
    """``publish.packages``: local folders and wheels to build, or requirement lines."""
    from packaging.requirements import Requirement

    local: list[Path] = []
    for item in settings.packages:
        path = model.resolve(item)
        if item.startswith((".", "/")) or item.endswith(".whl") or path.exists():
            if not path.exists():
                raise ConfigError(f"publish.packages: {item} not found (looked at {path})")
            local.append(path)
        else:
            extra = Requirement(item)
            chosen[normalise(extra.name)] = str(extra)
    return local


def _exact(req: Any) -> bool:
    specs = list(req.specifier)
    return len(specs) == 1 and specs[0].operator in ("==", "===") and "*" not in specs[0].version


def _serve_requirements(trains: TrainingEnvironment) -> dict[str, str]:
    """What ``mlgate serve`` needs, name -> requirement line: the training environment's version,
    else the version next to the running mlgate, else mlgate's own specifier for pip."""
    from packaging.requirements import Requirement

    specifiers: dict[str, str] = {}
    marker_env = {**trains.markers, "extra": "serve"}
    for line in metadata.requires("mlgate") or []:
        req = Requirement(line)
        name = normalise(req.name)
        if name in SERVE_REQUIREMENTS and (req.marker is None or req.marker.evaluate(marker_env)):
            specifiers[name] = f"{name}{req.specifier}"
    out: dict[str, str] = {}
    for name in SERVE_REQUIREMENTS:
        if name in trains.distributions:
            out[name] = f"{name}=={trains.distributions[name].version}"
            continue
        if name not in specifiers:
            continue  # not for this platform (uvloop on Windows)
        try:
            out[name] = f"{name}=={metadata.version(name)}"
        except metadata.PackageNotFoundError:
            out[name] = specifiers[name]
    return out


def _requirements_file(model: ModelConfig, settings: PublishSettings) -> tuple[Path | None, str]:
    """``publish.requirements``, else the file the lock reads (``repro.requirements`` or the
    first requirements/lock file next to the model or at the repository root)."""
    if settings.requirements is not None:
        if not settings.requirements.is_file():
            raise ConfigError(
                f"requirements file not found: {model.relative(settings.requirements)}",
                hint="fix publish.requirements, or remove it to pin the training environment",
            )
        return settings.requirements, model.relative(settings.requirements)

    file = model.repro.requirements or environment.find_requirements(model.root, model.repo_root)
    if file is None or not file.is_file():
        return None, ""
    return file, model.relative(file)


def _read_requirements(file: Path, model: ModelConfig) -> list[Any]:
    """PEP 508 requirements of a requirements file (``-r`` includes followed, pip options
    skipped) or, for a lock file (uv.lock, poetry.lock, Pipfile.lock...), its exact pins."""
    from packaging.requirements import Requirement

    if environment._parser_for(file) is not environment._parse_requirements:
        pins = environment.read_environment(file, model.relative(file)).packages
        return [Requirement(f"{n}=={v}") for n, v in pins.items() if environment.is_pin(v)]
    return [_parse_line(line, file, model) for line in _requirement_lines(file, frozenset())]


def _parse_line(line: str, file: Path, model: ModelConfig) -> Any:
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        return Requirement(line)
    except InvalidRequirement as exc:
        raise ConfigError(
            f"{model.relative(file)}: not a valid requirement: {line!r} ({exc})",
            hint="one PEP 508 requirement per line, for example 'numpy==2.1.3'",
        ) from None


def _requirement_lines(file: Path, seen: frozenset[Path]) -> Iterator[str]:
    for line in environment._logical_lines(file.read_text("utf-8")):
        if line.startswith(("-r ", "--requirement ")):
            included = (file.parent / line.split(maxsplit=1)[1].strip()).resolve()
            if included not in seen and included.is_file():
                yield from _requirement_lines(included, seen | {file.resolve()})
            continue
        if line.startswith(("-", ".", "/")):
            continue  # pip options, editable and local paths: publish.packages builds those
        yield line


def constraints(
    chosen: Mapping[str, str] | Iterable[str], trains: TrainingEnvironment | None = None
) -> list[str]:
    """Every distribution of the training environment pinned (names already chosen excepted),
    so transitive dependencies pip resolves match it; mlgate's own environment fills in what
    the training environment does not have."""
    skip = {normalise(n) for n in chosen} | _NOT_PINNED
    found: dict[str, str] = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name:
            found.setdefault(normalise(name), dist.version)
    if trains is not None:
        found.update(trains.packages)
    return [f"{n}=={v}" for n, v in sorted(found.items()) if n not in skip]


def prepare(
    model: ModelConfig,
    settings: PublishSettings,
    target: Target,
    dest: Path,
    progress: Progress,
) -> Wheelhouse:
    """Fill ``dest/wheelhouse`` (third party) and ``dest/app`` (mlgate, local packages)."""
    trains = environment.training_environment(model)
    locked = locked_environment(model)
    trained_with = str(locked.get("python", "")) if locked else trains.minor
    where = f"({paths.LOCK_FILE})" if locked else f"({trains.describe()})"
    if trained_with and trained_with != target.python:
        raise ConfigError(
            f"{model.name} was trained with Python {trained_with} {where} but the "
            f"base image {settings.base_image} has Python {target.python}",
            hint=f"use a base image with Python {trained_with} (e.g. "
            f"python:{trained_with}-slim), or retrain and lock with Python {target.python}",
        )
    reqs = collect_requirements(model, settings, trains)
    for note in reqs.notes:
        progress(f"wheelhouse: {note}")
    pinned_env = list(reqs.constraints)
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
    return Wheelhouse(third_party, tuple(placed), pins, cached, reqs.notes)


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
