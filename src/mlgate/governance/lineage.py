"""Lineage: which commit, branch and author, which data, code, parameters and environment, and
which training run produced the model this report is about."""

from __future__ import annotations

import platform
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from mlgate.config.model import ModelConfig
from mlgate.config.yamlsource import load_yaml_file
from mlgate.errors import ConfigError, MlgateError
from mlgate.github.actions import RunContext
from mlgate.governance.evidence import Evidence

# Packages whose versions matter for a scikit-learn model, shown when the lock has none.
_KEY_PACKAGES = ("mlgate", "numpy", "pandas", "scikit-learn", "scipy", "skops")


@dataclass(frozen=True)
class Fingerprint:
    """A file (or folder) and its content hash."""

    path: str
    digest: str
    role: str  # "data", "code", "params", "output", "model"

    def to_dict(self) -> dict[str, str]:
        return {"path": self.path, "digest": self.digest, "role": self.role}


@dataclass(frozen=True)
class GitInfo:
    commit: str | None
    branch: str | None
    author: Mapping[str, str] = field(default_factory=dict)
    dirty: bool = False
    date: str | None = None  # the commit's date: the report's date, so reruns are identical


@dataclass(frozen=True)
class Lineage:
    git: GitInfo
    fingerprints: tuple[Fingerprint, ...]
    params: Mapping[str, Any]
    environment: Mapping[str, Any]
    environment_source: str  # "lock", "run record" or "this machine"
    train_command: str | None
    seed: int | None
    run: Mapping[str, Any] | None  # a summary of the run record
    model_file: Fingerprint | None

    def of_role(self, role: str) -> tuple[Fingerprint, ...]:
        return tuple(f for f in self.fingerprints if f.role == role)

    def to_dict(self) -> dict[str, Any]:
        return {
            "git": {
                "commit": self.git.commit,
                "branch": self.git.branch,
                "author": dict(self.git.author),
                "dirty": self.git.dirty,
                "date": self.git.date,
            },
            "fingerprints": [f.to_dict() for f in self.fingerprints],
            "params": dict(self.params),
            "environment": dict(self.environment),
            "environment_source": self.environment_source,
            "train_command": self.train_command,
            "seed": self.seed,
            "run": dict(self.run) if self.run is not None else None,
            "model_file": self.model_file.to_dict() if self.model_file else None,
        }


def git_info(root: Path, run: RunContext) -> GitInfo:
    """HEAD's commit, branch (the pull request's head branch of ``run`` on a detached Actions
    checkout), author and date, and whether tracked files have uncommitted changes."""
    from mlgate import gitio

    commit = gitio.head_commit(root)
    branch = gitio.current_branch(root) or run.head_ref
    if commit is None:
        return GitInfo(None, branch)
    author = gitio.author_of(root, commit)
    date = gitio.out(["log", "-1", "--format=%cI", commit], root) or None
    return GitInfo(commit, branch, author, gitio.is_dirty(root), date)


def build_lineage(model: ModelConfig, evidence: Evidence, git: GitInfo) -> Lineage:
    """Lineage from git, the lock entry, the run record and the configuration."""
    lock = evidence.lock or {}
    prints = [
        *_fingerprints(lock.get("data"), "data"),
        *_fingerprints(lock.get("code"), "code"),
        *_fingerprints(lock.get("params"), "params"),
    ]
    if not prints:
        prints = _config_data(model)
    env_source, environment = _environment(model, lock, evidence.run)
    train = model.train
    raw_train = lock.get("train")
    locked_train: Mapping[str, Any] = raw_train if isinstance(raw_train, Mapping) else {}
    command = locked_train.get("command") or (train.command if train else None)
    seed = locked_train.get("seed", train.seed if train else None)
    return Lineage(
        git=git,
        fingerprints=tuple(prints),
        params=_params(model),
        environment=environment,
        environment_source=env_source,
        train_command=str(command) if command else None,
        seed=seed if isinstance(seed, int) else None,
        run=_run_summary(evidence.run) if evidence.run else None,
        model_file=_model_file(model),
    )


def _fingerprints(section: Any, role: str) -> list[Fingerprint]:
    """Hashes from a lock section, whether ``{path: digest}``, ``{path: {sha256: ...}}`` or a list
    of ``{path, sha256}`` entries."""
    out: list[Fingerprint] = []
    if isinstance(section, Mapping):
        for path, value in section.items():
            digest = _digest_of(value)
            if digest:
                out.append(Fingerprint(str(path), digest, role))
    elif isinstance(section, list):
        for entry in section:
            if isinstance(entry, Mapping) and entry.get("path"):
                digest = _digest_of(entry)
                if digest:
                    out.append(Fingerprint(str(entry["path"]), digest, role))
    return sorted(out, key=lambda f: f.path)


def _digest_of(value: Any) -> str | None:
    """``sha256:HEX`` from a bare hex string or an entry with a ``sha256`` field."""
    if isinstance(value, Mapping):
        value = next((value[k] for k in ("sha256", "digest", "hash") if k in value), None)
    if not isinstance(value, str) or not value:
        return None
    return value if ":" in value else "sha256:" + value


def _config_data(model: ModelConfig) -> list[Fingerprint]:
    """Without a lock: hash the configured data files that are plain files, so lineage still
    names the exact data (folders need the lock's manifest hashing)."""
    from mlgate.modelio import sha256_file

    return [
        Fingerprint(model.relative(path), "sha256:" + sha256_file(path), "data")
        for path in (model.data.train, model.data.eval)
        if path is not None and path.is_file()
    ]


def _params(model: ModelConfig) -> dict[str, Any]:
    """The training parameters, read from the configured params files (YAML or JSON)."""

    def read(path: Path) -> Any:
        try:
            return load_yaml_file(path)[0]
        except ConfigError as exc:
            return {"error": exc.message}

    return {model.relative(p): read(p) for p in (model.train.params if model.train else ())}


def _environment(
    model: ModelConfig, lock: Mapping[str, Any], run: Mapping[str, Any] | None
) -> tuple[str, dict[str, Any]]:
    """The lock's environment, else the run record's, else the training environment of this
    machine as probed (the interpreter the model trains with, not the one mlgate runs in)."""
    for source, env in (
        ("lock", lock.get("environment")),
        ("run record", (run or {}).get("environment")),
    ):
        if isinstance(env, Mapping) and env:
            return source, dict(env)
    from mlgate.repro.environment import normalise, training_environment

    try:
        trains = training_environment(model)
    except MlgateError:
        trains = None  # no interpreter answered: mlgate's own is the best description left
    if trains is not None:
        known = trains.packages
        packages = {n: v for n in _KEY_PACKAGES if (v := known.get(normalise(n)) or _mlgate(n))}
        return "this machine", {
            "python": trains.python,
            "implementation": trains.implementation,
            "platform": trains.platform,
            "packages": packages,
        }
    packages = {name: v for name in _KEY_PACKAGES if (v := _version(name))}
    return "this machine", {
        "python": platform.python_version(),
        "implementation": sys.implementation.name,
        # system-release-machine; platform.platform() would run a process to ask the processor
        "platform": f"{platform.system()}-{platform.release()}-{platform.machine()}",
        "packages": packages,
    }


def _mlgate(name: str) -> str | None:
    """mlgate's own version (it is rarely installed in the training environment)."""
    return _version(name) if name == "mlgate" else None


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _run_summary(run: Mapping[str, Any]) -> dict[str, Any]:
    keep = ("id", "status", "command", "exit_code", "duration_s", "seed", "started_at",
            "finished_at", "metrics")  # fmt: skip
    out = {k: run[k] for k in keep if k in run}
    inputs, git = run.get("inputs"), run.get("git")
    if isinstance(inputs, Mapping) and inputs.get("fingerprint"):
        out["inputs_fingerprint"] = inputs["fingerprint"]
    if isinstance(git, Mapping) and git.get("commit"):
        out["commit"] = git["commit"]
    return out


def _model_file(model: ModelConfig) -> Fingerprint | None:
    from mlgate.modelio import sha256_file

    path = model.model.file
    if not path.exists():  # a file, or a model directory (MLflow)
        return None
    return Fingerprint(model.relative(path), "sha256:" + sha256_file(path), "model")
