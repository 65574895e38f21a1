"""Loading and saving model files safely.

skops files load only when every type and callable their schema names is on the exact
allow-list (``mlgate.safety``) or in ``model.trusted_types``. Pickle and joblib files are never
unpickled unless the configuration marks the model ``trusted``; even then they are judged
statically first (every global on the exact allow-list, nothing imported or built) and then
read by an unpickler that resolves only the same exact names.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mlgate.errors import CheckFailed, ConfigError
from mlgate.fsio import atomic_write_bytes
from mlgate.safety import Judgement, judge_bytes, skopsfile
from mlgate.safety.loaders import RefusedGlobal, restricted_load

PICKLE_FORMATS = ("pickle", "joblib")


class UnsafeModelError(CheckFailed):
    """A model file would run code or load types nobody declared trusted (exit 1)."""


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    """sha256 of a file; of a model directory (MLflow), of its sorted manifest of
    ``relative/path NUL sha256`` lines."""
    if path.is_dir():
        members = (p for p in path.rglob("*") if p.is_file())
        return manifest_sha256(
            {m.relative_to(path).as_posix(): sha256_file(m, chunk) for m in members}
        )
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def manifest_sha256(members: dict[str, str]) -> str:
    """The digest of a model directory: ``relative/path NUL sha256`` lines in path order."""
    manifest = hashlib.sha256()
    for rel in sorted(members):
        manifest.update(f"{rel}\0{members[rel]}\n".encode())
    return manifest.hexdigest()


def scan_pickle(data: bytes, fmt: str = "pickle", trusted_types: Sequence[str] = ()) -> Judgement:
    """The static judgement of a pickle or joblib file (``mlgate.safety``): every global it
    uses and every reason it must not be loaded; nothing is imported or built."""
    return judge_bytes(data, fmt, trusted_types)


def _load_skops(path: Path, data: bytes, trusted_types: Sequence[str], what: str) -> Any:
    """The archive checked, every name in the schema on the exact allow-list (or in
    ``trusted_types``), then skops loads with exactly the names it reports trusted."""
    sio = skopsfile.skops_io()
    if not skopsfile.readable(data):
        raise ConfigError(f"{what} file is not a valid skops file: {path} (not a zip archive)")
    problems, trusted = skopsfile.judge(data, trusted_types)
    if problems:
        raise UnsafeModelError(
            f"{what} file {path} was refused without being loaded: " + "; ".join(problems),
            hint="if you wrote these classes, list them under model.trusted_types in mlgate.yaml",
        )
    try:
        return sio.loads(data, trusted=trusted)
    except Exception as exc:  # skops raises many types on a corrupt archive
        raise ConfigError(f"cannot load {what} file {path}: {exc}") from None


def _load_pickle(
    path: Path,
    data: bytes,
    fmt: str,
    *,
    trusted: bool,
    what: str,
    trusted_types: Sequence[str] = (),
) -> Any:
    """Trust first (nothing is unpickled otherwise), then the static judgement, then the
    restricted unpickler over the judged bytes (the same exact allow-list, a second wall)."""
    judgement = scan_pickle(data, fmt, trusted_types)
    if not trusted:
        raise UnsafeModelError(
            f"{what} file {path} is a {fmt} file; mlgate does not unpickle files unless the "
            "configuration trusts them",
            hint="save the model with skops (skops.io.dump), or set model.trusted: true in "
            "mlgate.yaml if this file comes only from your own training runs",
            details=[
                f"imports: {', '.join(judgement.names) or 'none'}",
                *(f"refused: {p}" for p in judgement.problems),
            ],
        )
    if judgement.payload is None:
        raise UnsafeModelError(
            f"{what} file {path} was refused without being unpickled: "
            + "; ".join(judgement.problems),
            hint="loading it could run code; do not load it anywhere. If it names your own "
            "classes, list them under model.trusted_types",
        )

    try:
        return restricted_load(judgement.payload, fmt, tuple(trusted_types))
    except RefusedGlobal as exc:
        raise UnsafeModelError(
            f"{what} file {path} was refused while loading: {exc.reason}",
            hint="save the model with skops and list custom types under model.trusted_types",
        ) from None
    except Exception as exc:  # unpickling raises many types on corrupt files
        raise ConfigError(f"cannot load {what} file {path}: {exc}") from None


def save_model(model: Any, path: Path) -> Path:
    """Save with skops, atomically."""
    import skops.io as sio

    return atomic_write_bytes(path, sio.dumps(model))
