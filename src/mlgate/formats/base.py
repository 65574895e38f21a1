"""What every model format shares: the ``ModelFormat`` Protocol, the load options, the lazy
import of a framework library and the first bytes content tests look at (``mlgate.formats``
holds the registry of the formats)."""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Sequence
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


# Formats that are pickles underneath: a file of one is accepted where the other is configured.
PICKLE_FAMILY = frozenset({"pickle", "joblib"})


class MissingLibrary(ConfigError):
    """The model's framework is not installed in this environment (exit 2)."""


def require(module: str, title: str, path: Path, distribution: str | None = None) -> Any:
    """Import a framework library lazily; a missing one says which model needs it."""
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


def head(path: Path) -> bytes:
    """The first bytes of a file; b"" for a directory."""
    if path.is_dir():
        return b""
    with path.open("rb") as fh:
        return fh.read(HEAD_BYTES)


def first_match(candidates: Iterable[ModelFormat], path: Path) -> ModelFormat | None:
    """The first of ``candidates`` whose content test the file passes (the file must exist)."""
    first = head(path)
    for fmt in candidates:
        if fmt.recognise(path, first):
            return fmt
    return None


def digest_among(candidates: Iterable[ModelFormat], path: Path) -> tuple[str, str] | None:
    """(format name, canonical content sha256) when the file's format (the first of
    ``candidates`` it passes) has bytes that vary between identical models, else None."""
    try:
        fmt = first_match(candidates, path)
    except OSError:
        return None
    if fmt is None:
        return None
    try:
        digest = fmt.content_digest(path)
    except (OSError, ValueError, ConfigError):
        return None
    return (fmt.name, digest) if digest else None
