"""``mlgate scan``: find model files that would run code when loaded, without loading them.

Pickle and joblib files are judged opcode by opcode against the exact allow-list
(``mlgate.safety``), never unpickled; skops files are checked as archives and
their schema's names judged the same way (``mlgate.safety.skopsfile``). Files
named by a model in mlgate.yaml are judged with that model's ``trusted_types``. The result is a
Verdict (kind ``scan``), one check per file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from mlgate import modelio
from mlgate.config.model import Config, ModelConfig
from mlgate.verdict import Check, Status, Verdict

MLFLOW_FILE = "MLmodel"
# Always listed when found in a folder, even unreadable: these suffixes mean a serialised model.
# Other formats' suffixes (.json, .txt, ...) are common, so only files of that format are listed.
_SERIALISED = frozenset({".pkl", ".pickle", ".joblib", ".skops"})


def _suffixes() -> frozenset[str]:
    """Suffixes of model files searched in a folder (the registry's); content then decides."""
    from mlgate.formats import FORMATS

    return frozenset(s for fmt in FORMATS.values() for s in fmt.suffixes)


def _folder_models(folder: Path) -> list[Path]:
    """Model files in a folder: MLflow model directories whole, other files by suffix."""
    if (folder / MLFLOW_FILE).is_file():
        return [folder]
    mlflow_dirs = sorted({p.parent for p in folder.rglob(MLFLOW_FILE) if p.is_file()})
    from mlgate.formats import detect

    suffixes = _suffixes()
    files = [
        p
        for p in folder.rglob("*")
        if p.is_file()
        and p.suffix.lower() in suffixes
        and not any(d in p.parents for d in mlflow_dirs)
        and (p.suffix.lower() in _SERIALISED or detect(p) is not None)
    ]
    return sorted([*mlflow_dirs, *files])


@dataclass(frozen=True)
class ScanRequest:
    paths: tuple[Path, ...] = ()
    model: str | None = None


def model_files(
    config: Config | None, request: ScanRequest
) -> list[tuple[Path, ModelConfig | None]]:
    """The files to scan: those given, else every model file mlgate.yaml names."""
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


def scan(request: ScanRequest, config: Config | None) -> Verdict:
    """Scan every selected file; a file using any name off the allow-list fails."""
    checks = []
    name = request.model or "all"
    for path, owner in model_files(config, request):
        shown = owner.relative(path) if owner else str(path)
        checks.append(scan_file(path, shown, owner))
    notes = () if checks else ("no model files to scan",)
    return Verdict("scan", name, tuple(checks), notes)


def scan_file(path: Path, shown: str, owner: ModelConfig | None = None) -> Check:
    """One file's check: fail when loading it could run code nobody declared trusted.

    The format is detected from the content (``mlgate.formats``) and its scan hook decides."""
    from mlgate import formats

    key = ("model", "file") if owner else None
    check_id = f"scan:{shown}"
    try:
        # A file no content test recognises is still scanned as its suffix's format (a damaged
        # or disguised .pkl fails the scan instead of being skipped).
        fmt = formats.detect(path)
        if fmt is None and path.suffix.lower() in _SERIALISED:
            fmt = formats.by_suffix(path)
    except OSError as exc:
        return Check(
            check_id, "scan", Status.FAIL, f"{shown}: unreadable ({exc.strerror})", config_key=key
        )
    if fmt is None:
        return Check(check_id, "scan", Status.SKIP, f"{shown}: not a model file", config_key=key)
    trusted = owner.model.trusted_types if owner else ()
    return fmt.scan(path, check_id=check_id, shown=shown, trusted_types=trusted, config_key=key)


def serialised_check(
    path: Path,
    fmt: str,
    check_id: str,
    shown: str,
    trusted: Sequence[str],
    key: tuple[str, ...] | None,
) -> Check:
    """The check of a skops, pickle or joblib file (their formats' scan hook)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        return Check(
            check_id, "scan", Status.FAIL, f"{shown}: unreadable ({exc.strerror})", config_key=key
        )
    if fmt == "skops":
        return _skops_check(check_id, shown, data, trusted, key)
    found = modelio.scan_pickle(data, fmt, trusted)
    details = {"format": fmt, "imports": list(found.names), "refused": list(found.problems)}
    if found.problems:
        return Check(
            check_id,
            "scan",
            Status.FAIL,
            f"{shown}: this {fmt} file must not be loaded: "
            + "; ".join(found.problems)
            + " (judged without unpickling; list your own classes in model.trusted_types)",
            details=details,
            config_key=key,
        )
    return Check(
        check_id,
        "scan",
        Status.PASS,
        f"{shown}: every name is on the allow-list ({len(found.names)} names)",
        details=details,
        config_key=key,
    )


def _skops_check(
    check_id: str, shown: str, data: bytes, trusted: Sequence[str], key: tuple[str, ...] | None
) -> Check:
    from mlgate.safety import skopsfile

    problems, names = skopsfile.judge(data, trusted)
    details = {"format": "skops", "refused": problems, "trusted": names}
    if problems:
        return Check(
            check_id,
            "scan",
            Status.FAIL,
            f"{shown}: this skops file must not be loaded: " + "; ".join(problems),
            details=details,
            config_key=key,
        )
    return Check(
        check_id,
        "scan",
        Status.PASS,
        f"{shown}: every name is on the allow-list",
        details=details,
        config_key=key,
    )
