"""``mlgate scan``: find model files that would run code when loaded, without loading them.

Pickle and joblib files are judged opcode by opcode against the exact allow-list
(``mlgate.safety``), never unpickled; skops files are checked as archives and
their schema's names judged the same way (``mlgate.safety.skopsfile``). Files
named by a model in mlgate.yaml are judged with that model's ``trusted_types``. The result is a
Verdict (kind ``scan``), one check per file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mlgate import formats
from mlgate.config.model import Config, ModelConfig
from mlgate.errors import ConfigError
from mlgate.formats import FORMATS, ModelFormat, detect, head, sniff
from mlgate.verdict import Check, Status, Verdict

MLFLOW_FILE = "MLmodel"
# Always listed when found in a folder, even unreadable: these suffixes mean a serialised model.
# Other formats' suffixes (.json, .txt, ...) are common, so only files of that format are listed.
_SERIALISED = frozenset({".pkl", ".pickle", ".joblib", ".skops"})
_ARCHIVE_MODELS = frozenset({".pt", ".pth", ".ckpt", ".bin", ".model"})


def _suffixes() -> frozenset[str]:
    """Suffixes of model files searched in a folder (the registry's); content then decides."""
    return frozenset(s for fmt in FORMATS.values() for s in fmt.suffixes)


def _folder_models(folder: Path) -> list[Path]:
    """Model files in a folder: MLflow model directories whole, other files by suffix."""
    if (folder / MLFLOW_FILE).is_file():
        return [folder]
    mlflow_dirs = sorted({p.parent for p in folder.rglob(MLFLOW_FILE) if p.is_file()})

    suffixes = _suffixes()

    def wanted(p: Path) -> bool:
        suffix = p.suffix.lower()
        if suffix in _SERIALISED:
            return True
        if suffix in suffixes and detect(p) is not None:
            return True
        # Any other name: a pickle or skops file by content is a model file all the same, and
        # so is an archive under a name model checkpoints use (PyTorch's are zipped pickles).
        found = detect(p)
        if found is not None and found.name in ("pickle", "joblib", "skops"):
            return True
        content = sniff.kind(_head(p))
        return content == "pickle" or (content == "zip" and suffix in _ARCHIVE_MODELS)

    files = [
        p
        for p in folder.rglob("*")
        if p.is_file() and not any(d in p.parents for d in mlflow_dirs) and wanted(p)
    ]
    return sorted([*mlflow_dirs, *files])


def _head(path: Path) -> bytes:
    try:
        return head(path)
    except OSError:
        return b""


@dataclass(frozen=True)
class ScanRequest:
    paths: tuple[Path, ...] = ()
    model: str | None = None
    config: Config | None = None  # None: the named files alone, without an mlgate.yaml


def model_files(request: ScanRequest) -> list[tuple[Path, ModelConfig | None]]:
    """The files to scan: those given, else every model file mlgate.yaml names."""
    config = request.config
    owners = {m.model.file.resolve(): m for m in config.models} if config else {}
    if request.paths:
        files: list[Path] = []
        for path in request.paths:
            if path.is_dir():
                files += _folder_models(path)
            else:
                files.append(path)
        return [(f, owners.get(f.resolve())) for f in files]
    if config is None:
        return []
    return [(m.model.file, m) for m in config.select(request.model) if m.model.file.exists()]


def scan(request: ScanRequest) -> Verdict:
    """Scan every selected file; a file using any name off the allow-list fails."""
    checks = []
    name = request.model or "all"
    named = {p.resolve() for p in request.paths if not p.is_dir()}
    for path, owner in model_files(request):
        shown = owner.relative(path) if owner else str(path)
        checks.append(scan_file(path, shown, owner, named=path.resolve() in named))
    notes = () if checks else ("no model files to scan",)
    return Verdict("scan", name, tuple(checks), notes)


def scan_file(
    path: Path, shown: str, owner: ModelConfig | None = None, *, named: bool = False
) -> Check:
    """One file's check: fail when loading it could run code nobody declared trusted.

    Content decides, never the suffix (``mlgate.formats``): a configured model is judged with
    its configured format, and content of another format fails naming both; a file that no
    format recognises is judged as a pickle stream when it is named on the command line,
    configured, or has a pickle-like suffix (anything else in a folder is not a model)."""
    key = ("model", "file") if owner else None
    check_id = f"scan:{shown}"
    configured = owner.model.format if owner else None

    def fail(message: str) -> Check:
        return Check(check_id, "scan", Status.FAIL, f"{shown}: {message}", config_key=key)

    try:
        found = formats.detect(path)
        head = formats.head(path)
    except OSError as exc:
        return fail(f"unreadable ({exc.strerror})")
    trusted = owner.model.trusted_types if owner else ()
    if configured is not None:
        wanted, mismatch = _configured(configured, found, head)
        if wanted is None:
            return fail(mismatch or "")
        fmt = wanted
    elif found is not None:
        fmt = found
        if found.name in formats.PICKLE_FAMILY and not path.is_dir():
            fmt = formats.get(sniff.pickle_family(path.read_bytes()))
    elif sniff.kind(head) == "zip":
        return fail("a zip archive that is not a skops file: mlgate cannot judge what loads it")
    elif sniff.kind(head) == "joblib":
        fmt = formats.get("joblib")
    elif named or path.suffix.lower() in _SERIALISED:
        # Not recognised: judged as a pickle stream (what an unpickler would make of it).
        check = formats.get("pickle").scan(
            path, check_id=check_id, shown=shown, trusted_types=trusted, config_key=key
        )
        if not check.failed:
            return check
        why = check.message.split("must not be loaded: ", 1)[-1]
        return fail(f"not in a format mlgate recognises, and refused as a pickle stream: {why}")
    else:
        return Check(check_id, "scan", Status.SKIP, f"{shown}: not a model file", config_key=key)
    return fmt.scan(path, check_id=check_id, shown=shown, trusted_types=trusted, config_key=key)


def _configured(
    configured: str, found: ModelFormat | None, head: bytes
) -> tuple[ModelFormat | None, str | None]:
    """The configured format, or why the file's content is not of it (naming both)."""
    try:
        wanted = formats.get(configured)
    except ConfigError as exc:
        return None, exc.message
    family = formats.PICKLE_FAMILY
    mixed = found is not None and found.name != wanted.name
    if mixed and found is not None and not (found.name in family and wanted.name in family):
        return None, (
            f"the file is {formats.a(found.title)} file but model.format says {configured} "
            f"({wanted.title}); it is not loaded as either"
        )
    if wanted.name == "pickle" and sniff.kind(head) == "joblib":
        return None, (
            "the file is a compressed joblib file but model.format says pickle; "
            "set model.format: joblib"
        )
    return wanted, None
