"""Loading and saving model files safely.

skops files load only when every type they contain is from scikit-learn, NumPy or SciPy, or is
named in ``model.trusted_types``. Pickle and joblib files are never unpickled unless the
configuration marks the model ``trusted``; even then they are scanned first, and a file that
imports anything able to run code (os, subprocess, eval, ...) is refused.
"""

from __future__ import annotations

import hashlib
import io
import pickletools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from mlgate.errors import CheckFailed, ConfigError

# Module prefixes whose types skops may load without being named in the configuration.
SAFE_MODULES = ("sklearn.", "numpy.", "scipy.", "skops.")
# Globals a pickle may reference in a trusted model file (checked as "module.name" prefixes).
SAFE_PICKLE_GLOBALS = (
    "sklearn.",
    "numpy.",
    "scipy.",
    "joblib.numpy_pickle.",
    "collections.OrderedDict",
    "collections.defaultdict",
    "builtins.slice",
    "builtins.complex",
    "builtins.set",
    "builtins.frozenset",
    "builtins.bytearray",
    "copyreg._reconstructor",
    "builtins.object",
    "_codecs.encode",
)
# Anything under these names runs code on load; the message calls them out.
DANGEROUS_GLOBALS = (
    "os.",
    "posix.",
    "nt.",
    "subprocess.",
    "sys.",
    "builtins.eval",
    "builtins.exec",
    "builtins.compile",
    "builtins.open",
    "builtins.__import__",
    "builtins.getattr",
    "importlib.",
    "socket.",
    "shutil.",
    "pty.",
    "runpy.",
    "webbrowser.",
    "code.",
    "marshal.",
    "types.",
    "ctypes.",
    "pickle.",
    "_pickle.",
    "requests.",
    "urllib.",
    "http.",
)
PICKLE_FORMATS = ("pickle", "joblib")


class UnsafeModelError(CheckFailed):
    """A model file would run code or load types nobody declared trusted (exit 1)."""


@dataclass(frozen=True)
class ScanResult:
    """What a pickle stream imports, as ``module.name`` and as (module, name) pairs."""

    globals: tuple[str, ...]
    pairs: tuple[tuple[str, str], ...] = ()
    incomplete: str | None = None  # why the file could not be followed to its end

    @cached_property
    def _in_stack(self) -> dict[str, bool]:
        """Globals of the scientific stack (or a short name it registers itself under), each
        with whether the loader would accept it (computed once: both lists below read it)."""
        from mlgate.pickles import ALIASES, refusal

        return {
            f"{m}.{n}": refusal(m, n) is None
            for m, n in self.pairs
            if f"{m}.{n}".startswith(SAFE_PICKLE_GLOBALS) or m in ALIASES
        }

    @property
    def dangerous(self) -> tuple[str, ...]:
        # Within the scientific stack, what the loader would refuse is dangerous too
        # (numpy.testing's runstring, numpy.memmap, joblib's own load, ...).
        refused = {g for g, accepted in self._in_stack.items() if not accepted}
        return tuple(g for g in self.globals if g.startswith(DANGEROUS_GLOBALS) or g in refused)

    @property
    def unknown(self) -> tuple[str, ...]:
        stack = self._in_stack
        dangerous = self.dangerous
        return tuple(
            g
            for g in self.globals
            if not g.startswith(SAFE_PICKLE_GLOBALS) and g not in stack and g not in dangerous
        )


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    """sha256 of a file; of a model directory (MLflow), of its sorted manifest of
    ``relative/path NUL sha256`` lines."""
    if path.is_dir():
        manifest = hashlib.sha256()
        for member in sorted(p for p in path.rglob("*") if p.is_file()):
            rel = member.relative_to(path).as_posix()
            manifest.update(f"{rel}\0{sha256_file(member, chunk)}\n".encode())
        return manifest.hexdigest()
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def scan_pickle(data: bytes) -> ScanResult:
    """Every global a pickle stream (or a concatenation of streams) references, without loading."""
    found: list[tuple[str, str]] = []
    stream = io.BytesIO(data)
    while stream.tell() < len(data):
        # STACK_GLOBAL takes module and name from the two values pushed just before it, which
        # may come from the memo (BINGET), so strings and memo reads are tracked.
        pushed: list[str | None] = []
        memo: dict[Any, str | None] = {}
        try:
            for opcode, arg, _ in pickletools.genops(stream):
                name = opcode.name
                if name in {"SHORT_BINUNICODE", "BINUNICODE", "UNICODE", "BINUNICODE8"}:
                    pushed.append(str(arg))
                elif name == "MEMOIZE":
                    memo[len(memo)] = pushed[-1] if pushed else None
                elif name in {"PUT", "BINPUT", "LONG_BINPUT"}:
                    memo[arg] = pushed[-1] if pushed else None
                elif name in {"GET", "BINGET", "LONG_BINGET"}:
                    pushed.append(memo.get(arg))
                elif name in {"GLOBAL", "INST"}:
                    text_module, _, text_attr = str(arg).partition(" ")
                    found.append((text_module, text_attr))
                elif name == "STACK_GLOBAL":
                    module, attr = pushed[-2:] if len(pushed) >= 2 else (None, None)
                    found.append((module or "?", attr or "?"))
                elif name != "FRAME":
                    pushed.append(None)
        except (ValueError, IndexError, EOFError):
            # joblib writes raw array bytes between pickle frames; what was read is reported.
            break
    # The opcodes alone lose their place in joblib files (raw array bytes follow each array's
    # header): a dry run that builds only arrays and plain data follows them to the end.
    from mlgate.pickles import list_globals

    dry, incomplete = list_globals(data)
    if incomplete is None:  # the opcodes read through raw array bytes are noise; keep alarms
        found = [(m, n) for m, n in found if f"{m}.{n}".startswith(DANGEROUS_GLOBALS)]
    pairs = tuple(dict.fromkeys([*dry, *found]))
    return ScanResult(tuple(dict.fromkeys(f"{m}.{n}" for m, n in pairs)), pairs, incomplete)


def _skops_untrusted(data: bytes, trusted_types: Iterable[str]) -> list[str]:
    import skops.io as sio

    extra = set(trusted_types)
    return [
        t
        for t in sio.get_untrusted_types(data=data)
        if not t.startswith(SAFE_MODULES) and t not in extra
    ]


def load_model(
    path: Path,
    *,
    fmt: str | None = None,
    trusted: bool = False,
    trusted_types: Sequence[str] = (),
    what: str = "model",
) -> Any:
    """Load a model file of any registered format safely (``mlgate.formats``): the format is
    detected from the content and checked against ``fmt`` when given; refusals raise
    UnsafeModelError."""
    from mlgate import formats

    return formats.load(path, fmt, trusted=trusted, trusted_types=trusted_types, what=what)


def _load_skops(path: Path, data: bytes, trusted_types: Sequence[str], what: str) -> Any:
    import skops.io as sio

    try:
        untrusted = _skops_untrusted(data, trusted_types)
    except Exception as exc:  # noqa: BLE001 - skops raises many types on corrupt files
        raise ConfigError(f"{what} file is not a valid skops file: {path} ({exc})") from None
    if untrusted:
        raise UnsafeModelError(
            f"{what} file {path} contains types that are not trusted: {', '.join(untrusted)}",
            hint="if you wrote these classes, list them under model.trusted_types in mlgate.yaml",
        )
    try:
        return sio.loads(data, trusted=[*sio.get_untrusted_types(data=data)])
    except Exception as exc:  # noqa: BLE001
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
    scan = scan_pickle(data)
    if scan.dangerous:
        raise UnsafeModelError(
            f"{what} file {path} would run code when loaded: it imports "
            + ", ".join(scan.dangerous),
            hint="this file was refused without being unpickled; do not load it anywhere",
        )
    if not trusted:
        raise UnsafeModelError(
            f"{what} file {path} is a {fmt} file; mlgate does not unpickle files unless the "
            "configuration trusts them",
            hint="save the model with skops (skops.io.dump), or set model.trusted: true in "
            "mlgate.yaml if this file comes only from your own training runs",
            details=[f"imports: {', '.join(scan.globals) or 'none'}"],
        )
    from mlgate.pickles import RefusedGlobal, restricted_load

    # Every global is checked again as the unpickler meets it: a scan cannot follow joblib's
    # raw array bytes, so what comes after them is only seen here.
    try:
        return restricted_load(data, trusted_types)
    except RefusedGlobal as exc:
        raise UnsafeModelError(
            f"{what} file {path} was refused while loading: {exc.reason}",
            hint="save the model with skops and list custom types under model.trusted_types",
        ) from None
    except Exception as exc:  # noqa: BLE001 - unpickling raises many types on corrupt files
        raise ConfigError(f"cannot load {what} file {path}: {exc}") from None


def save_model(model: Any, path: Path) -> Path:
    """Save with skops, atomically."""
    import skops.io as sio

    from mlgate.fsio import atomic_write_bytes

    return atomic_write_bytes(path, sio.dumps(model))


def untrusted_skops_types(data: bytes, trusted_types: Iterable[str] = ()) -> list[str]:
    """Types in a skops file outside the scientific stack and ``trusted_types`` (not loaded)."""
    return _skops_untrusted(data, trusted_types)
