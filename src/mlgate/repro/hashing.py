"""Full-content sha256 of files and folders: streamed, parallel, and remembered by a stat cache.

Files are read in large blocks into one reusable buffer per thread (memory stays flat whatever
the file size) and hashed on a thread pool: hashlib releases the GIL while it digests a block, so
several files are hashed at once. A stat cache (path, size, mtime_ns, ctime_ns, inode -> hash)
under ``.mlgate/cache/`` lets an unchanged file be recognised without reading it again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from mlgate.errors import ConfigError, ExternalError, Location
from mlgate.fsio import atomic_write_text
from mlgate.paths import outside_problem

BLOCK = 1 << 20  # bytes per read: large enough that hashing, not syscalls, dominates
CACHE_FORMAT = 1
CACHE_FILE = "hashes.json"
# A file modified within this window before it was hashed could change again inside the same
# timestamp tick unnoticed (git's "racily clean" problem); such entries are re-hashed next time.
RACY_WINDOW_NS = 2_000_000_000


class Progress(Protocol):
    """Receives hashing progress; the CLI draws a bar on a TTY, core code never prints."""

    def start(self, total_bytes: int, files: int) -> None: ...

    def advance(self, nbytes: int) -> None: ...

    def finish(self) -> None: ...


class NoProgress:
    def start(self, total_bytes: int, files: int) -> None:
        pass

    def advance(self, nbytes: int) -> None:
        pass

    def finish(self) -> None:
        pass


@dataclass(frozen=True)
class FileHash:
    """A file's sha256 and size, and whether it came from the stat cache."""

    sha256: str
    size: int
    cached: bool = False


@dataclass(frozen=True)
class HashStats:
    """What one hashing pass did, for the summary line."""

    files: int
    hashed_files: int
    hashed_bytes: int
    cached_files: int
    seconds: float


def hash_file(
    path: Path, buffer: bytearray | None = None, on_block: Callable[[int], None] | None = None
) -> str:
    """The sha256 of ``path``'s full content, read in blocks into ``buffer``."""
    digest = hashlib.sha256()
    buf = buffer if buffer is not None else bytearray(BLOCK)
    view = memoryview(buf)
    with path.open("rb", buffering=0) as fh:
        if hasattr(os, "posix_fadvise"):
            with contextlib.suppress(OSError):
                os.posix_fadvise(fh.fileno(), 0, 0, os.POSIX_FADV_SEQUENTIAL)
        while n := fh.readinto(buf):
            digest.update(view[:n])
            if on_block is not None:
                on_block(n)
    return digest.hexdigest()


def manifest_digest(entries: Mapping[str, str]) -> str:
    """A folder's hash: sha256 of its sorted manifest lines ``<relative path>\\0<sha256>\\n``."""
    digest = hashlib.sha256()
    for rel in sorted(entries):
        # A name that is not UTF-8 is hashed as its bytes on disk (surrogateescape).
        digest.update(f"{rel}\0{entries[rel]}\n".encode("utf-8", "surrogateescape"))
    return digest.hexdigest()


def list_files(folder: Path, root: Path | None = None) -> list[Path]:
    """Every regular file below ``folder``, sorted; symlinks followed, symlink loops skipped.
    With ``root``: a symlink leaving it, or a device, pipe or socket, is a ConfigError naming
    it (and the link's target), raised before any file is read."""
    out: list[Path] = []
    seen: set[tuple[int, int]] = set()
    stack = [str(folder)]
    while stack:
        current = stack.pop()
        st = os.stat(current)  # noqa: PTH116 - scandir works on str paths; no Path churn
        if (st.st_dev, st.st_ino) in seen:
            continue
        seen.add((st.st_dev, st.st_ino))
        # scandir's entries know their type without another stat per file.
        with os.scandir(current) as entries:
            for entry in entries:
                if root is not None and (entry.is_symlink() or not entry.is_dir()):
                    _inside(Path(entry.path), root)
                if entry.is_dir():
                    stack.append(entry.path)
                elif entry.is_file():
                    out.append(Path(entry.path))
    return sorted(out)


def _inside(path: Path, root: Path) -> None:
    why = outside_problem(path, root)
    if why is not None:
        raise ConfigError(
            f"refused before reading anything: {why}",
            location=Location(str(path)),
            hint="mlgate reads only files inside the repository; remove the link or device",
        )


def check_inside(paths: Iterable[Path], root: Path) -> None:
    """ConfigError for the first path that leaves ``root`` or is not a regular file/folder."""
    for path in paths:
        _inside(path, root)


def _signature(st: os.stat_result) -> tuple[int, int, int, int]:
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


class StatCache:
    """(path, size, mtime_ns, ctime_ns, inode) -> sha256, persisted as JSON, thread-safe.

    A missing, unreadable or corrupt cache file is treated as empty and rewritten: the cache only
    ever saves work, it never decides a hash on its own.
    """

    def __init__(self, file: Path | None) -> None:
        self.file = file
        self._entries: dict[str, list[Any]] = {}
        self._dirty = False
        self._lock = threading.Lock()
        if file is not None:
            self._entries = _read_cache(file)

    @classmethod
    def disabled(cls) -> StatCache:
        return cls(None)

    def lookup(self, path: Path, st: os.stat_result) -> str | None:
        entry = self._entries.get(str(path))
        if entry is None or len(entry) != 6:
            return None
        size, mtime, ctime, ino, hashed_at, sha = entry
        if (size, mtime, ctime, ino) != _signature(st):
            return None
        if st.st_mtime_ns >= hashed_at - RACY_WINDOW_NS:
            return None  # racily clean: cannot tell a later same-tick write apart
        return sha if isinstance(sha, str) else None

    def store(self, path: Path, st: os.stat_result, hashed_at_ns: int, sha256: str) -> None:
        if self.file is None:
            return
        with self._lock:
            self._entries[str(path)] = [*_signature(st), hashed_at_ns, sha256]
            self._dirty = True

    def save(self) -> bool:
        """Write the cache if anything changed (atomically); False when nothing was written."""
        if self.file is None or not self._dirty:
            return False
        with self._lock:
            kept = {k: v for k, v in self._entries.items() if Path(k).exists()}
            text = json.dumps({"format": CACHE_FORMAT, "entries": kept}, separators=(",", ":"))
        try:
            atomic_write_text(self.file, text)
        except ExternalError:
            return False  # a read-only checkout still hashes correctly, just not faster next time
        self._dirty = False
        return True


def _read_cache(file: Path) -> dict[str, list[Any]]:
    try:
        data = json.loads(file.read_bytes())
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("format") != CACHE_FORMAT:
        return {}
    entries = data.get("entries")
    return entries if isinstance(entries, dict) else {}


def default_workers() -> int:
    return max(1, min(8, os.cpu_count() or 1))


class Hasher:
    """Hashes many files at once, consulting the stat cache first."""

    def __init__(
        self,
        cache: StatCache | None = None,
        *,
        workers: int | None = None,
        progress: Progress | None = None,
        block: int = BLOCK,
    ) -> None:
        self.cache = cache or StatCache.disabled()
        self.workers = workers or default_workers()
        self.progress = progress or NoProgress()
        self.block = block
        self._local = threading.local()
        self._stats = [0, 0, 0, 0]  # files, hashed files, hashed bytes, cached files
        self._seconds = 0.0

    @property
    def stats(self) -> HashStats:
        files, hashed, nbytes, cached = self._stats
        return HashStats(files, hashed, nbytes, cached, self._seconds)

    def hash_files(self, paths: Iterable[Path], *, what: str = "file") -> dict[Path, FileHash]:
        """sha256 of every path (absolute), reading only the files the cache cannot vouch for."""
        began = time.perf_counter()
        result: dict[Path, FileHash] = {}
        todo: list[tuple[Path, os.stat_result]] = []
        for path in dict.fromkeys(paths):
            st = _stat(path, what)
            if not stat.S_ISREG(st.st_mode):
                raise ConfigError(
                    f"{what} {path} is not a regular file",
                    location=Location(str(path)),
                    hint="mlgate pins files and folders, not sockets, pipes or devices",
                )
            sha = self.cache.lookup(path, st)
            if sha is not None:
                result[path] = FileHash(sha, st.st_size, cached=True)
            else:
                todo.append((path, st))
        self._stats[0] += len(result) + len(todo)
        self._stats[3] += len(result)
        if todo:
            total = sum(st.st_size for _, st in todo)
            self.progress.start(total, len(todo))
            try:
                # Largest first, so one big file does not start last and run alone.
                todo.sort(key=lambda item: -item[1].st_size)
                if self.workers == 1 or len(todo) == 1:
                    done = [self._hash_one(path, st, what) for path, st in todo]
                else:
                    with ThreadPoolExecutor(self.workers, thread_name_prefix="mlgate-hash") as pool:
                        done = list(
                            pool.map(lambda item: self._hash_one(item[0], item[1], what), todo)
                        )
            finally:
                self.progress.finish()
            for (path, _), file_hash in zip(todo, done, strict=True):
                result[path] = file_hash
            self._stats[1] += len(todo)
            self._stats[2] += sum(h.size for h in done)
        self._seconds += time.perf_counter() - began
        return result

    def _buffer(self) -> bytearray:
        buf: bytearray | None = getattr(self._local, "buffer", None)
        if buf is None:
            buf = self._local.buffer = bytearray(self.block)
        return buf

    def _hash_one(self, path: Path, st: os.stat_result, what: str) -> FileHash:
        for _attempt in range(2):
            hashed_at = time.time_ns()
            try:
                sha = hash_file(path, self._buffer(), self.progress.advance)
            except OSError as exc:
                raise _read_error(path, exc, what) from None
            after = _stat(path, what)
            if _signature(after) == _signature(st):
                self.cache.store(path, st, hashed_at, sha)
                return FileHash(sha, st.st_size)
            st = after  # written to while we read it: read it again, once
        raise ExternalError(
            f"{what} {path} kept changing while it was being hashed",
            hint="wait for the process writing it to finish, then run the command again",
        )


def _stat(path: Path, what: str) -> os.stat_result:
    try:
        return path.stat()
    except OSError as exc:
        raise _read_error(path, exc, what) from None


def _read_error(path: Path, exc: OSError, what: str) -> ConfigError | ExternalError:
    if isinstance(exc, FileNotFoundError):
        return ConfigError(f"{what} not found: {path}", location=Location(str(path)))
    return ExternalError(
        f"cannot read {what} {path}: {exc.strerror or exc}",
        location=Location(str(path)),
        hint="check the file's permissions" if isinstance(exc, PermissionError) else None,
    )
