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
from pathlib import Path
from typing import Any

from mlgate.errors import ConfigError, Location
from mlgate.formats import mlflow
from mlgate.formats.base import (
    HEAD_BYTES,
    PICKLE_FAMILY,
    LoadOptions,
    MissingLibrary,
    ModelFormat,
    Signature,
    a,
    digest_among,
    first_match,
    head,
    require,
)
from mlgate.safety import skopsfile

__all__ = [
    "FORMATS",
    "HEAD_BYTES",
    "PICKLE_FAMILY",
    "LoadOptions",
    "MissingLibrary",
    "ModelFormat",
    "Signature",
    "a",
    "by_suffix",
    "content_digest",
    "detect",
    "get",
    "head",
    "load",
    "name_of",
    "require",
    "resolve",
    "save_hints",
]

# Detection tries them in this order: the file formats (an MLflow directory holds one of them),
# then the MLflow directory.
FORMATS: dict[str, ModelFormat] = {f.name: f for f in (*mlflow.FILE_FORMATS, mlflow.MLFLOW)}


def get(name: str) -> ModelFormat:
    try:
        return FORMATS[name]
    except KeyError:
        raise ConfigError(
            f"unknown model format {name!r}; known formats: {', '.join(FORMATS)}"
        ) from None


def detect(path: Path) -> ModelFormat | None:
    """The format whose content test the file passes, else None (the file must exist)."""
    return first_match(FORMATS.values(), path)


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
    fmt: str | None = None,
    *,
    trusted: bool = False,
    trusted_types: Sequence[str] = (),
    what: str = "model",
    task: str | None = None,
) -> Any:
    """Load a model file of any format safely: the format is detected from the content and
    checked against ``fmt`` when given (``resolve``); refusals raise UnsafeModelError."""
    found = resolve(path, fmt, what=what)
    try:
        return found.load(path, LoadOptions(trusted, tuple(trusted_types), what, task))
    except MissingLibrary:
        raise
    except ConfigError as exc:
        if detect(path) is None:  # not recognised by content: say how to save to each format
            exc.details = [*exc.details, "formats mlgate loads, and how to save to each:"]
            exc.details += [f"  {line}" for line in save_hints()]
        raise


def prepare(path: Path, fmt: str | None = None) -> None:
    """Import ahead of time what loading this model file will import: skops and scikit-learn
    for a skops file (about a second of a PR check), for a caller with time to spare (the
    check, while the training process runs). Nothing is read or judged; anything that fails
    is left for the load to report."""
    try:
        found = get(fmt) if fmt else by_suffix(path)
        if found is not None and found.name == "skops":
            skopsfile.skops_io()
    except Exception:  # a head start only: the load raises the real error where it matters
        return


def content_digest(path: Path) -> tuple[str, str] | None:
    """(format name, canonical content sha256) for formats whose bytes vary, else None."""
    return digest_among(FORMATS.values(), path)


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
