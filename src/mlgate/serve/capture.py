"""Capture of scored requests: a sampled fraction of requests and their predictions, written as
rotated JSON-lines files to a folder, for ``mlgate monitor``.

A request never waits for, nor fails because of, the capture: the request path only decides
whether to sample and puts a reference to values it already holds into a bounded queue; when the
queue is full the record is dropped and counted. One writer thread per process turns records
into JSON lines (excluding or hashing the configured columns), writes them, rotates the file by
size and by age, and deletes this process's oldest closed files past its share of the disk
budget. A write that fails (disk full, folder gone) drops that record, counts it, and the writer
opens a new file for the next one.

Each line is one request::

    {"request_id": "...", "ts": "2026-01-02T03:04:05.678Z", "model": "churn",
     "version": "v1.2.0", "sha256": "...", "rows": 2,
     "inputs": {"age": [40, 22], ...}, "outputs": [0, 1]}

Files are named ``capture-<UTC start>-<pid>-<n>.jsonl``; a line cut short by a crash is skipped
by the reader.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import queue
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any

PREFIX = "capture-"
SUFFIX = ".jsonl"
ENV_PREFIX = "MLGATE_CAPTURE_"
HASH_LENGTH = 16  # hex characters of sha256 kept for a hashed value
BATCH_WAIT_S = 0.05  # how long the writer lets records pile up after the first one
BATCH_LINES = 512  # lines encoded and written in one go


@dataclass(frozen=True)
class CaptureSettings:
    """Where and what to capture. ``folder`` None means capture is off (the default)."""

    folder: Path | None = None
    sample: float = 1.0  # fraction of requests captured
    exclude: tuple[str, ...] = ()  # columns left out of the record
    hashed: tuple[str, ...] = ()  # columns whose values are replaced by a salted sha256
    salt: str = ""
    rotate_bytes: int = 64 * 1024 * 1024
    rotate_seconds: float = 3600.0
    max_bytes: int = 1024 * 1024 * 1024  # disk budget of all workers together
    queue_size: int = 10_000
    workers: int = 1  # processes sharing the folder (each keeps max_bytes / workers)

    @property
    def enabled(self) -> bool:
        return self.folder is not None and self.sample > 0

    def to_env(self) -> dict[str, str]:
        if self.folder is None:
            return {}
        return {
            ENV_PREFIX + "DIR": str(self.folder),
            ENV_PREFIX + "SAMPLE": repr(self.sample),
            ENV_PREFIX + "EXCLUDE": ",".join(self.exclude),
            ENV_PREFIX + "HASH": ",".join(self.hashed),
            ENV_PREFIX + "SALT": self.salt,
            ENV_PREFIX + "ROTATE_BYTES": str(self.rotate_bytes),
            ENV_PREFIX + "ROTATE_SECONDS": repr(self.rotate_seconds),
            ENV_PREFIX + "MAX_BYTES": str(self.max_bytes),
            ENV_PREFIX + "QUEUE": str(self.queue_size),
            ENV_PREFIX + "WORKERS": str(self.workers),
        }

    @classmethod
    def from_env(cls, env: dict[str, str] | os._Environ[str] | None = None) -> CaptureSettings:
        env = os.environ if env is None else env
        folder = env.get(ENV_PREFIX + "DIR")
        if not folder:
            return cls()
        default = cls()

        def names(key: str) -> tuple[str, ...]:
            return tuple(n.strip() for n in env.get(ENV_PREFIX + key, "").split(",") if n.strip())

        return cls(
            folder=Path(folder),
            sample=float(env.get(ENV_PREFIX + "SAMPLE", default.sample)),
            exclude=names("EXCLUDE"),
            hashed=names("HASH"),
            salt=env.get(ENV_PREFIX + "SALT", ""),
            rotate_bytes=int(env.get(ENV_PREFIX + "ROTATE_BYTES", default.rotate_bytes)),
            rotate_seconds=float(env.get(ENV_PREFIX + "ROTATE_SECONDS", default.rotate_seconds)),
            max_bytes=int(env.get(ENV_PREFIX + "MAX_BYTES", default.max_bytes)),
            queue_size=int(env.get(ENV_PREFIX + "QUEUE", default.queue_size)),
            workers=int(env.get(ENV_PREFIX + "WORKERS", default.workers)),
        )


@dataclass
class CaptureCounts:
    """Prometheus counters; each has one writer (the event loop or the writer thread)."""

    captured: int = 0  # written to a file
    dropped: int = 0  # not queued: the queue was full
    failed: int = 0  # queued but not written: the file could not be written
    files: int = 0  # files opened


Opener = Callable[[Path], IO[bytes]]


def _open(path: Path) -> IO[bytes]:
    return path.open("ab")


class Capture:
    """The bounded queue and the writer thread of one server process."""

    def __init__(
        self,
        settings: CaptureSettings,
        model: dict[str, Any],
        columns: Sequence[str],
        *,
        opener: Opener = _open,
        clock: Callable[[], float] = time.time,
    ) -> None:
        assert settings.folder is not None  # built only when enabled
        self.settings = settings
        self.folder = settings.folder
        self.model = model  # name, version, sha256
        self.columns = list(columns)
        self.counts = CaptureCounts()
        self._keep = [
            (i, name, name in settings.hashed)
            for i, name in enumerate(self.columns)
            if name not in settings.exclude
        ]
        self._hashed = [name for _, name, hashed in self._keep if hashed]
        self._queue: queue.Queue[tuple[str, float, Any, Any] | None] = queue.Queue(
            settings.queue_size
        )
        self._opener = opener
        self._clock = clock
        self._file: IO[bytes] | None = None
        self._path: Path | None = None
        self._opened_at = 0.0
        self._written = 0
        self._retry_at = 0.0
        self._budget = max(1, settings.max_bytes // max(1, settings.workers))
        self._pid = os.getpid()
        self._random = random.Random()  # noqa: S311 - sampling, not security
        self._thread = threading.Thread(target=self._run, name="mlgate-capture", daemon=True)
        self._thread.start()

    # -- request path (event loop): never blocks, never raises --------------------------------

    def offer(self, request_id: str, columns: Any, predictions: Any) -> None:
        """Queue one scored request when it is sampled; a full queue drops it (counted)."""
        sample = self.settings.sample
        if sample < 1.0 and self._random.random() >= sample:
            return
        try:
            self._queue.put_nowait((request_id, self._clock(), columns, predictions))
        except queue.Full:
            self.counts.dropped += 1

    def close(self, timeout: float = 10.0) -> None:
        """Write what is queued, then stop the writer and close the file."""
        with contextlib.suppress(queue.Full):
            self._queue.put(None, timeout=timeout)
        self._thread.join(timeout)

    # -- writer thread ----------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                break
            # Let the records of the next moments pile up: the writer then wakes once per
            # batch instead of once per request (each wake-up takes the GIL from the server).
            time.sleep(BATCH_WAIT_S)
            batch = [item]
            stop = False
            while True:  # write everything that piled up, 512 lines at a time
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stop = True
                    break
                batch.append(more)
                if len(batch) == BATCH_LINES:
                    self._write(batch)
                    batch = []
            if batch:
                self._write(batch)
            if stop:
                break
        self._close_file()

    def _write(self, batch: list[tuple[str, float, Any, Any]]) -> None:
        lines = [line for line in map(self._encoded, batch) if line is not None]
        if not lines:
            return
        now = self._clock()
        if self._file is None and now < self._retry_at:  # paused after a failed write
            self.counts.failed += len(lines)
            return
        done = 0
        try:
            for line in lines:  # rotation is checked per line, so a burst cannot overshoot
                self._current(now).write(line)
                self._written += len(line)
                done += 1
            if self._file is not None:
                self._file.flush()
        except OSError:
            # Buffered lines not yet on disk are lost with the file: count them all as failed.
            self.counts.failed += len(lines)
            self._close_file()
            self._retry_at = now + 1.0  # try a new file in a second, not on every record
            return
        self.counts.captured += done

    def _encoded(self, item: tuple[str, float, Any, Any]) -> bytes | None:
        try:
            return self._line(*item)
        except (TypeError, ValueError):  # a value JSON cannot hold: that record only
            self.counts.failed += 1
            return None

    def _line(self, request_id: str, ts: float, columns: Any, predictions: Any) -> bytes:
        inputs: dict[str, Any] = {}
        record: dict[str, Any]
        for index, name, hashed in self._keep:
            values = columns[index]
            if hashed:
                values = [self._hash(v) for v in values]
            inputs[name] = values
        record = {
            "request_id": request_id,
            "ts": _iso(ts),
            **self.model,
            "rows": len(predictions),
            "inputs": inputs,
            "outputs": predictions,
        }
        if self._hashed:
            record["hashed"] = self._hashed  # so a reader does not test hashes for drift
        return json.dumps(record, separators=(",", ":"), default=str).encode() + b"\n"

    def _hash(self, value: Any) -> str | None:
        if value is None:
            return None
        text = f"{self.settings.salt}{value}".encode()
        return hashlib.sha256(text).hexdigest()[:HASH_LENGTH]

    def _current(self, now: float) -> IO[bytes]:
        settings = self.settings
        if self._file is not None and (
            self._written >= settings.rotate_bytes
            or now - self._opened_at >= settings.rotate_seconds
        ):
            self._close_file()
        if self._file is None:
            self.folder.mkdir(parents=True, exist_ok=True)
            stamp = datetime.fromtimestamp(now, timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
            name = f"{PREFIX}{stamp}-{self._pid}-{self.counts.files:06d}{SUFFIX}"
            self._path = self.folder / name
            self._file = self._opener(self._path)
            self._opened_at = now
            self._written = 0
            self.counts.files += 1
            self._enforce_budget()
        return self._file

    def _close_file(self) -> None:
        handle, self._file = self._file, None
        if handle is not None:
            with contextlib.suppress(OSError):
                handle.close()

    def _enforce_budget(self) -> None:
        """Delete this process's oldest files while its files exceed its share of the budget
        (the file just opened is kept, so the budget holds to within one rotation)."""
        mine = sorted(self.folder.glob(f"{PREFIX}*-{self._pid}-*{SUFFIX}"))
        sizes = [(path, _size(path)) for path in mine]
        total = sum(size for _, size in sizes) + self.settings.rotate_bytes
        for path, size in sizes:
            if total <= self._budget or path == self._path:
                break
            try:
                path.unlink()
            except OSError:
                continue
            total -= size


def _iso(ts: float) -> str:
    moment = datetime.fromtimestamp(ts, timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
