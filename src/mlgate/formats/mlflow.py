"""MLflow model directories (a folder with an ``MLmodel`` file), loaded without MLflow.

The ``MLmodel`` YAML names flavors; the first of onnx, xgboost, lightgbm, catboost and sklearn
that the directory has is loaded with that format's own safe loader from mlgate's registry
(skops, or pickle only when ``model.trusted``). A directory with only ``python_function`` (a
custom ``PythonModel``, cloudpickled) loads only when the configuration trusts it: its pickles
are scanned first and MLflow itself loads it. The MLmodel ``signature`` (column-based) becomes
the model's feature names and the served signature; ``requirements.txt`` (else ``conda.yaml``'s
pip list) is what publishing pins. ``utc_time_created``, ``model_uuid`` and the like change at
every save, so ``repro`` compares the directory by canonical content (those keys left out).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mlgate.config.yamlsource import load_yaml_file
from mlgate.errors import ConfigError, Location
from mlgate.formats import boosting, legacy, onnx
from mlgate.formats.base import (
    LoadOptions,
    ModelFormat,
    Signature,
    a,
    digest_among,
    first_match,
    head,
    require,
)
from mlgate.modelio import UnsafeModelError, scan_pickle, sha256_file
from mlgate.verdict import Check, Status

MLMODEL = "MLmodel"
# The formats of single files, in detection order: a flavor's file is in one of them.
FILE_FORMATS: tuple[ModelFormat, ...] = (
    legacy.SKOPS,
    legacy.JOBLIB,  # before pickle: a joblib file is a pickle that names joblib
    legacy.PICKLE,
    boosting.XGBOOST,
    boosting.LIGHTGBM,
    boosting.CATBOOST,
    onnx.ONNX,
)
# Flavor -> (the key naming its file, the mlgate format the file should be in).
_FLAVORS: dict[str, tuple[str, str | None]] = {
    "onnx": ("data", "onnx"),
    "xgboost": ("data", "xgboost"),
    "lightgbm": ("data", None),  # a Booster's text, or a scikit-learn model (skops/pickle)
    "catboost": ("data", "catboost"),
    "sklearn": ("pickled_model", None),  # skops (MLflow 3's default) or (cloud)pickle
}
_PYFUNC = "python_function"
# MLmodel keys that differ between two saves of the same model.
_VOLATILE = frozenset(
    {"utc_time_created", "model_uuid", "run_id", "artifact_path", "model_id", "model_size_bytes"}
)
_COLUMN_KINDS = {
    "double": "float",
    "float": "float",
    "long": "integer",
    "integer": "integer",
    "boolean": "boolean",
    "string": "string",
    "binary": "string",
    "datetime": "datetime",
}
_NOT_SERVED = ("mlflow", "mlflow-skinny", "mlflow_skinny")  # what only MLflow's own server needs


def model_dir(path: Path) -> Path:
    """The directory of an MLflow model given as the folder or as its MLmodel file."""
    return path.parent if path.name == MLMODEL and path.is_file() else path


def read_mlmodel(path: Path) -> dict[str, Any]:
    """The parsed MLmodel file; a broken one is a ConfigError naming it."""
    file = model_dir(path) / MLMODEL
    try:
        data, _ = load_yaml_file(file)
    except ConfigError:
        raise
    except OSError as exc:
        raise ConfigError(f"cannot read {file}: {exc}", location=Location(str(file))) from None
    if not isinstance(data, dict) or not isinstance(data.get("flavors"), dict):
        raise ConfigError(
            f"{file} is not an MLflow MLmodel file: it has no 'flavors' mapping",
            location=Location(str(file)),
        )
    return data


@dataclass(frozen=True)
class Artifact:
    """The file a flavor loads from, and the registry format that loads it."""

    flavor: str
    path: Path
    fmt: ModelFormat


def artifact(path: Path) -> Artifact | None:
    """The flavor mlgate loads and its file; None when only ``python_function`` is there."""
    folder = model_dir(path)
    flavors = read_mlmodel(folder)["flavors"]
    mlmodel = folder / MLMODEL
    for flavor, (key, expected) in _FLAVORS.items():
        conf = flavors.get(flavor)
        if not isinstance(conf, dict):
            continue
        relative = conf.get(key)
        if not isinstance(relative, str):
            raise ConfigError(
                f"{mlmodel}: the {flavor} flavor names no file ({key})",
                location=Location(str(mlmodel), key_path=f"flavors.{flavor}.{key}"),
            )
        file = (folder / relative).resolve()
        if folder.resolve() not in file.parents:
            raise ConfigError(
                f"{mlmodel}: the {flavor} flavor's file {relative!r} is outside the model "
                "directory",
                location=Location(str(mlmodel), key_path=f"flavors.{flavor}.{key}"),
            )
        if not file.exists():
            raise ConfigError(
                f"{mlmodel}: the {flavor} flavor's file {relative} is missing",
                location=Location(str(mlmodel), key_path=f"flavors.{flavor}.{key}"),
            )
        found = first_match(FILE_FORMATS, file) if file.is_file() else None
        if found is None:
            raise ConfigError(
                f"{mlmodel}: the {flavor} flavor's file {relative} is in no format mlgate loads",
                location=Location(str(file)),
                hint="re-save the model with mlflow.<flavor>.save_model (sklearn: "
                "serialization_format='skops')",
            )
        if expected is not None and found.name != expected:
            raise ConfigError(
                f"{mlmodel}: the {flavor} flavor's file {relative} is {a(found.title)} file",
                location=Location(str(file)),
            )
        return Artifact(flavor, file, found)
    if _PYFUNC in flavors:
        return None
    raise ConfigError(
        f"{mlmodel}: no flavor mlgate loads (it has {', '.join(flavors) or 'none'}); known: "
        + ", ".join([*_FLAVORS, _PYFUNC]),
        location=Location(str(mlmodel), key_path="flavors"),
    )


def signature_of(path: Path) -> Signature | None:
    """The MLmodel's column-based input signature as (name, kind); None for tensor specs."""
    raw = read_mlmodel(path).get("signature")
    inputs = raw.get("inputs") if isinstance(raw, dict) else None
    if not isinstance(inputs, str):
        return None
    try:
        columns = json.loads(inputs)
    except ValueError:
        return None
    if not isinstance(columns, list) or not all(
        isinstance(c, dict) and "name" in c for c in columns
    ):
        return None
    return tuple((str(c["name"]), _COLUMN_KINDS.get(str(c.get("type")), "float")) for c in columns)


class _Signed:
    """A loaded model whose feature names come from the MLmodel signature."""

    def __init__(self, inner: Any, names: Sequence[str]) -> None:
        self._inner = inner
        self.feature_names_in_ = np.asarray(list(names), dtype=object)
        self.n_features_in_ = len(names)

    def __getattr__(self, name: str) -> Any:
        if name in ("predict", "predict_proba", "classes_", "library", "native"):
            return getattr(self._inner, name)
        raise AttributeError(name)

    def __repr__(self) -> str:
        return f"<MLflow model: {self._inner!r}>"


class _PyFunc:
    """An MLflow ``python_function`` model: predict only."""

    def __init__(self, model: Any, names: Sequence[str] | None) -> None:
        self._model = model
        if names:
            self.feature_names_in_ = np.asarray(list(names), dtype=object)

    def predict(self, frame: Any) -> np.ndarray:
        result = self._model.predict(frame)
        values = result.to_numpy() if hasattr(result, "to_numpy") else np.asarray(result)
        return np.asarray(values).reshape(len(frame), -1)[:, 0]


@dataclass(frozen=True)
class MlflowFormat:
    name: str = "mlflow"
    title: str = "MLflow model directory"
    suffixes: tuple[str, ...] = ()
    how_to_save: str = (
        "mlflow.<flavor>.save_model(model, 'model') with flavor sklearn "
        "(serialization_format='skops'), xgboost, lightgbm, catboost or onnx; point "
        "model.file at the folder"
    )

    def recognise(self, path: Path, head: bytes) -> bool:
        if path.is_dir():
            return (path / MLMODEL).is_file()
        return path.name == MLMODEL

    def loads_without_unpickling(self, path: Path) -> bool:
        try:
            found = artifact(path)
        except (ConfigError, OSError):
            return False
        return found is not None and found.fmt.loads_without_unpickling(found.path)

    def load(self, path: Path, options: LoadOptions) -> Any:
        found = artifact(path)
        names = [n for n, _ in signature_of(path) or ()]
        if found is None:
            return self._load_pyfunc(model_dir(path), options, names)
        inner = found.fmt.load(found.path, options)
        return _Signed(inner, names) if names else inner

    def _load_pyfunc(self, folder: Path, options: LoadOptions, names: Sequence[str]) -> Any:
        if not options.trusted:
            raise UnsafeModelError(
                f"{options.what} {folder} is an MLflow python_function model (custom Python "
                "code, cloudpickled); mlgate loads it only when the configuration trusts it",
                hint="log the model with a native flavor (sklearn with skops, xgboost, lightgbm, "
                "catboost, onnx), or set model.trusted: true if it comes only from your own "
                "training runs",
            )
        problems = _pickle_problems(folder, options.trusted_types)
        if problems:
            raise UnsafeModelError(
                f"{options.what} {folder} was refused without being unpickled: "
                + "; ".join(problems),
                hint="loading it could run code; names of your own code go under "
                "model.trusted_types, or log the model with a native flavor",
            )
        mlflow = require("mlflow.pyfunc", "MLflow python_function", folder, "mlflow")
        try:
            model = mlflow.load_model(str(folder))
        except Exception as exc:  # whatever the user's PythonModel raises
            raise ConfigError(f"cannot load {options.what} {folder}: {exc}") from None
        return _PyFunc(model, names)

    def signature(self, path: Path) -> Signature | None:
        return signature_of(path)

    def modules(self, path: Path) -> set[str]:
        found = artifact(path)
        if found is None:
            return {"mlflow", "cloudpickle"}
        return found.fmt.modules(found.path)

    def requirements(self, path: Path) -> tuple[str, ...]:
        """The model's requirements.txt lines (else conda.yaml's pip list), MLflow left out
        unless the model is a python_function one (MLflow loads those)."""
        folder = model_dir(path)
        lines: list[str] = []
        listed = folder / "requirements.txt"
        if listed.is_file():
            lines = [ln.strip() for ln in listed.read_text("utf-8").splitlines()]
        elif (folder / "conda.yaml").is_file():
            lines = _conda_pip(folder / "conda.yaml")
        keep_mlflow = artifact(path) is None
        out = []
        for line in lines:
            if not line or line.startswith(("#", "-")):
                continue
            name = line.split(";")[0].split("=")[0].split("<")[0].split(">")[0].split("[")[0]
            if not keep_mlflow and name.strip().lower() in _NOT_SERVED:
                continue
            out.append(line)
        return tuple(out)

    def scan(
        self,
        path: Path,
        *,
        check_id: str,
        shown: str,
        trusted_types: Sequence[str],
        config_key: tuple[str, ...] | None,
    ) -> Check:
        try:
            found = artifact(path)
        except ConfigError as exc:
            return Check(
                check_id, "scan", Status.FAIL, f"{shown}: {exc.message}", config_key=config_key
            )
        if found is None:
            return self._scan_pyfunc(model_dir(path), check_id, shown, trusted_types, config_key)
        inner = found.fmt.scan(
            found.path,
            check_id=check_id,
            shown=f"{shown} ({found.flavor} flavor: {found.path.name})",
            trusted_types=trusted_types,
            config_key=config_key,
        )
        details = {**dict(inner.details or {}), "format": self.name, "flavor": found.flavor}
        return _with_details(inner, details)

    def _scan_pyfunc(
        self,
        folder: Path,
        check_id: str,
        shown: str,
        trusted_types: Sequence[str],
        key: tuple[str, ...] | None,
    ) -> Check:
        problems = _pickle_problems(folder, trusted_types)
        details = {"format": self.name, "flavor": _PYFUNC}
        if problems:
            return Check(
                check_id,
                "scan",
                Status.FAIL,
                f"{shown}: an MLflow python_function model that must not be loaded: "
                + "; ".join(problems),
                details={**details, "problems": problems},
                config_key=key,
            )
        return Check(
            check_id,
            "scan",
            Status.WARN,
            f"{shown}: an MLflow python_function model (custom code, cloudpickled); its pickles "
            "use only allowed names, and it loads only with model.trusted: true",
            details=details,
            config_key=key,
        )

    def content_digest(self, path: Path) -> str | None:
        """sha256 over the MLmodel without its per-save keys and every other file's content
        (skops members canonically, see ``legacy.archive_digest``)."""
        folder = model_dir(path)
        digest = hashlib.sha256()
        mlmodel = {k: v for k, v in read_mlmodel(folder).items() if k not in _VOLATILE}
        digest.update(json.dumps(mlmodel, sort_keys=True, default=str).encode())

        for member in sorted(p for p in folder.rglob("*") if p.is_file()):
            if member.name == MLMODEL:
                continue
            inner = digest_among(FILE_FORMATS, member)
            value = inner[1] if inner else sha256_file(member)
            digest.update(f"{member.relative_to(folder).as_posix()}\0{value}\n".encode())
        return digest.hexdigest()


def _pickle_problems(folder: Path, trusted_types: Sequence[str]) -> list[str]:
    """Why the directory's pickles must not be loaded (the static judgement of
    ``mlgate.safety`` with the configuration's trusted_types), file by file."""
    named = _pyfunc_files(folder)
    problems: list[str] = []
    for member in sorted(folder.rglob("*")):
        # A file the python_function flavor names is unpickled by MLflow whatever its first
        # bytes (protocol 0 and 1 streams have no header): it is judged as a pickle too.
        if member.is_file() and (member in named or _is_pickle(member)):
            judged = scan_pickle(member.read_bytes(), "pickle", tuple(trusted_types))
            problems += [f"{member.name}: {p}" for p in judged.problems]
    return problems


def _pyfunc_files(folder: Path) -> set[Path]:
    """The files (or every file under the folders) the python_function flavor names."""
    flavor = read_mlmodel(folder)["flavors"].get(_PYFUNC)
    named: set[Path] = set()
    values = list(flavor.values()) if isinstance(flavor, dict) else []
    while values:
        value = values.pop()
        if isinstance(value, dict):
            values.extend(value.values())
        elif isinstance(value, list):
            values.extend(value)
        elif isinstance(value, str) and value and not value.startswith(("/", "..")):
            target = folder / value
            if target.is_file():
                named.add(target)
            elif target.is_dir() and value not in {".", "code"}:
                named.update(p for p in target.rglob("*") if p.is_file())
    return named


def _is_pickle(path: Path) -> bool:
    return legacy.PICKLE.recognise(path, head(path))


def _with_details(check: Check, details: dict[str, Any]) -> Check:
    from dataclasses import replace

    return replace(check, details=details)


def _conda_pip(file: Path) -> list[str]:
    try:
        data, _ = load_yaml_file(file)
    except (ConfigError, OSError):
        return []
    for item in data.get("dependencies", []) if isinstance(data, dict) else []:
        if isinstance(item, dict) and isinstance(item.get("pip"), list):
            return [str(x) for x in item["pip"]]
    return []


MLFLOW = MlflowFormat()
