"""Model formats: the plug-in point for every kind of model file mlgate loads.

A format (``ModelFormat``) recognises its files by content (magic bytes, a JSON key, an
``MLmodel`` file), loads them safely (native loaders, never unpickling unless the configuration
trusts pickles), and says what the rest of mlgate needs: the input signature the file declares,
the top-level modules the serving image must import, the requirement lines the model ships, a
scan check, and a content digest for ``repro`` when the bytes embed timestamps or ids.

A loaded model is scikit-learn-like (``predict``, ``predict_proba`` in ``classes_`` order,
``feature_names_in_`` when the file records column names): formats whose library has another
interface wrap it (``mlgate.formats.predictors``). The registry is ``FORMATS`` (name -> format);
an unset ``model.format`` is detected from the file's content (``detect``). Framework libraries
are imported only when a model of theirs is loaded; a missing one is a ConfigError naming it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from mlgate.errors import ConfigError, Location

if TYPE_CHECKING:
    from mlgate.verdict import Check

HEAD_BYTES = 4096
# One signature column: (name, kind) with kind as in the served-model schema.
Signature = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class LoadOptions:
    """What the configuration allows when loading (``model.trusted`` / ``trusted_types``)."""

    trusted: bool = False
    trusted_types: tuple[str, ...] = ()
    what: str = "model"
    task: str | None = None  # the configured task, for files that do not say (ONNX scores)


class ModelFormat(Protocol):
    """One model format (see the module docstring)."""

    @property
    def name(self) -> str:
        """The value of model.format in mlgate.yaml."""
        ...

    @property
    def title(self) -> str:
        """What users call it: "XGBoost"."""
        ...

    @property
    def suffixes(self) -> tuple[str, ...]:
        """Usual file suffixes (lower case); a directory format has none."""
        ...

    @property
    def how_to_save(self) -> str:
        """One line: how to save a model in this format."""
        ...

    def recognise(self, path: Path, head: bytes) -> bool:
        """Whether the file (first HEAD_BYTES bytes given; b"" for a directory) is this format."""
        ...

    def load(self, path: Path, options: LoadOptions) -> Any:
        """The model, scikit-learn-like; refusals raise UnsafeModelError, bad files ConfigError."""
        ...

    def loads_without_unpickling(self, path: Path) -> bool:
        """Whether loading this file never unpickles (what the report calls a safe format)."""
        ...

    def signature(self, path: Path) -> Signature | None:
        """The input columns the file itself declares, or None (then data decides)."""
        ...

    def modules(self, path: Path) -> set[str]:
        """Modules (dotted or top-level) the server imports to load and run the model."""
        ...

    def requirements(self, path: Path) -> tuple[str, ...]:
        """Requirement lines the model ships with it (MLflow's requirements.txt), else ()."""
        ...

    def scan(
        self,
        path: Path,
        *,
        check_id: str,
        shown: str,
        trusted_types: Sequence[str],
        config_key: tuple[str, ...] | None,
    ) -> Check:
        """The ``mlgate scan`` check of this file, without loading it."""
        ...

    def content_digest(self, path: Path) -> str | None:
        """sha256 of the canonical content when bytes vary between identical models, else None."""
        ...


def _registry() -> dict[str, ModelFormat]:
    from mlgate.formats import boosting, legacy, mlflow, onnx

    found: list[ModelFormat] = [
        legacy.SKOPS,
        legacy.JOBLIB,  # before pickle: a joblib file is a pickle that names joblib
        legacy.PICKLE,
        boosting.XGBOOST,
        boosting.LIGHTGBM,
        boosting.CATBOOST,
        onnx.ONNX,
        mlflow.MLFLOW,
    ]
    return {f.name: f for f in found}


# Formats that are pickles underneath: a file of one is accepted where the other is configured.
PICKLE_FAMILY = frozenset({"pickle", "joblib"})


class MissingLibrary(ConfigError):
    """The model's framework is not installed in this environment (exit 2)."""


def require(module: str, title: str, path: Path, distribution: str | None = None) -> Any:
    """Import a framework library lazily; a missing one says which model needs it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingLibrary(
            f"the model {path} is {a(title)} model; install {distribution or module}",
            location=Location(str(path)),
            hint=f"pip install {distribution or module} (the version that trained the model)",
            details=[f"import {module}: {exc}"],
        ) from None


def a(title: str) -> str:
    """``title`` with its article: "an XGBoost", "an ONNX", "a LightGBM"."""
    return (
        f"an {title}"
        if title.startswith(("XGB", "ONNX", "ML", "A", "E", "I", "O", "U"))
        else f"a {title}"
    )


def get(name: str) -> ModelFormat:
    try:
        return FORMATS[name]
    except KeyError:
        raise ConfigError(
            f"unknown model format {name!r}; known formats: {', '.join(FORMATS)}"
        ) from None


def head(path: Path) -> bytes:
    """The first bytes of a file; b"" for a directory."""
    if path.is_dir():
        return b""
    with path.open("rb") as fh:
        return fh.read(HEAD_BYTES)


def detect(path: Path) -> ModelFormat | None:
    """The format whose content test the file passes, else None (the file must exist)."""
    first = head(path)
    for fmt in FORMATS.values():
        if fmt.recognise(path, first):
            return fmt
    return None


def by_suffix(path: Path) -> ModelFormat | None:
    """The format a file's suffix usually means (for files not yet written)."""
    suffix = path.suffix.lower()
    for fmt in FORMATS.values():
        if suffix in fmt.suffixes:
            return fmt
    return None


def save_hints() -> list[str]:
    """One line per format: how to save a model in it."""
    return [f"{fmt.name} ({fmt.title}): {fmt.how_to_save}" for fmt in FORMATS.values()]


def resolve(path: Path, configured: str | None, *, what: str = "model") -> ModelFormat:
    """The format of an existing model file: detected from content and checked against the
    configured one (a mismatch names both); an unrecognised file lists the formats."""
    if configured is not None:
        wanted = get(configured)
    if not path.exists():
        raise ConfigError(
            f"{what} file not found: {path}",
            location=Location(str(path)),
            hint="train the model first (mlgate train)",
        )
    found = detect(path)
    if found is None:
        # A damaged file of the configured (or its suffix's) format: that format's loader
        # says what is wrong with it (``load`` adds how to save to each format).
        fallback = wanted if configured is not None else by_suffix(path)
        if fallback is not None:
            return fallback
        raise ConfigError(
            f"{what} file {path} is in no format mlgate knows; known formats: "
            + ", ".join(FORMATS),
            location=Location(str(path)),
            hint="save the model in one of them (and set model.format, or leave it unset to "
            "detect it from the file)",
            details=save_hints(),
        )
    if configured is None or found.name == configured:
        return found
    if found.name in PICKLE_FAMILY and configured in PICKLE_FAMILY:
        return wanted
    raise ConfigError(
        f"{what} file {path} is {a(found.title)} file but model.format says {configured} "
        f"({wanted.title})",
        location=Location(str(path)),
        hint=f"set model.format: {found.name} (or remove it: the format is detected from the "
        "file), or save the model with " + wanted.how_to_save,
    )


def load(
    path: Path,
    configured: str | None = None,
    *,
    trusted: bool = False,
    trusted_types: Sequence[str] = (),
    what: str = "model",
    task: str | None = None,
) -> Any:
    """Load a model file of any format safely (see ``resolve`` and each format's ``load``)."""
    fmt = resolve(path, configured, what=what)
    try:
        return fmt.load(path, LoadOptions(trusted, tuple(trusted_types), what, task))
    except MissingLibrary:
        raise
    except ConfigError as exc:
        if detect(path) is None:  # not recognised by content: say how to save to each format
            exc.details = [*exc.details, "formats mlgate loads, and how to save to each:"]
            exc.details += [f"  {line}" for line in save_hints()]
        raise


def content_digest(path: Path) -> tuple[str, str] | None:
    """(format name, canonical content sha256) for formats whose bytes vary, else None."""
    try:
        fmt = detect(path)
    except OSError:
        return None
    if fmt is None:
        return None
    try:
        digest = fmt.content_digest(path)
    except (OSError, ValueError, ConfigError):
        return None
    return (fmt.name, digest) if digest else None


def name_of(path: Path, configured: str | None) -> str:
    """The format name for records (served model.json, reports): detected when possible."""
    if path.exists():
        found = detect(path)
        if found is not None:
            if configured in PICKLE_FAMILY and found.name in PICKLE_FAMILY:
                return configured
            return found.name
    if configured:
        return configured
    guess = by_suffix(path)
    return guess.name if guess else "skops"


# Built last: the format modules import this module's names (LoadOptions, require, ...).
FORMATS: dict[str, ModelFormat] = _registry()
