"""Filesystem writes that never leave a half-written file: temp file in the same folder + rename."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from mlgate.errors import ExternalError
from mlgate.paths import ignore_local


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically; on any failure the old file (if any) is intact."""
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        ignore_local(target)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise ExternalError(f"cannot write {target}: {exc.strerror or exc}") from exc
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        _put_in_place(Path(tmp), target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            Path(tmp).unlink()
        raise ExternalError(f"cannot write {target}: {exc.strerror or exc}") from exc
    return target


@contextlib.contextmanager
def atomic_stream(path: str | os.PathLike[str]) -> Iterator[IO[bytes]]:
    """A file to stream ``path``'s new content into: moved into place when the block ends,
    removed (``path`` untouched) when the block raises, so a failed download leaves nothing."""
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        ignore_local(target)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    except OSError as exc:
        raise ExternalError(f"cannot write {target}: {exc.strerror or exc}") from exc
    fh = os.fdopen(fd, "wb")
    try:
        yield fh
    except BaseException:
        fh.close()
        with contextlib.suppress(OSError):
            Path(tmp).unlink()
        raise
    # Errors of the caller's block pass through unchanged (requests' errors are OSErrors too);
    # only finishing the file is translated.
    try:
        with fh:
            fh.flush()
            os.fsync(fh.fileno())
        _put_in_place(Path(tmp), target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            Path(tmp).unlink()
        raise ExternalError(f"cannot write {target}: {exc.strerror or exc}") from exc


def _put_in_place(tmp: Path, target: Path) -> None:
    """Give ``tmp`` the mode ``target`` has (or a new file would get) and rename it over."""
    if target.exists():
        with contextlib.suppress(OSError):
            tmp.chmod(target.stat().st_mode & 0o7777)
    else:
        tmp.chmod(0o666 & ~_umask())
    tmp.replace(target)


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def dump_json(data: Any) -> str:
    """Stable, reviewable JSON: sorted keys, two-space indent, trailing newline. Text that is
    not valid Unicode (a file name that is not UTF-8) is written as \\u escapes instead."""
    text = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=True) + "\n"
    return text


def atomic_write_json(path: str | os.PathLike[str], data: Any) -> Path:
    return atomic_write_text(path, dump_json(data))


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current
