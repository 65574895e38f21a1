"""The one wrapper for subprocesses: never a shell, and failures report command, code and output."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from mlgate.errors import ExternalError

_TAIL_LINES = 20


@dataclass(frozen=True)
class Completed:
    """A finished process: its arguments, exit code and captured output."""

    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def tail(text: str, lines: int = _TAIL_LINES) -> str:
    """The last ``lines`` lines of ``text``; long outputs are cut so messages stay readable."""
    parts = text.rstrip().splitlines()
    return "\n".join(parts[-lines:])


def run(
    args: Sequence[str | os.PathLike[str]],
    *,
    cwd: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    extra_env: Mapping[str, str] | None = None,
    input_text: str | None = None,
    timeout: float | None = None,
    check: bool = True,
    what: str | None = None,
) -> Completed:
    """Run ``args`` and capture its output as text.

    ``env`` replaces the environment, ``extra_env`` adds to it. With ``check`` a non-zero exit
    raises ExternalError naming the command, exit code and the tail of stdout and stderr.
    """
    argv = tuple(os.fspath(a) for a in args)
    full_env = dict(os.environ if env is None else env)
    if extra_env:
        full_env.update(extra_env)
    label = what or Path(argv[0]).name
    try:
        proc = subprocess.run(
            argv,
            cwd=cwd,
            env=full_env,
            input=input_text,
            capture_output=True,
            text=True,
            # File names git lists need not be UTF-8: undecodable bytes round-trip as
            # surrogates (as os.fsdecode does), so such a path still opens.
            encoding="utf-8",
            errors="surrogateescape",
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError as exc:
        raise ExternalError(
            f"{label}: program not found: {argv[0]}",
            hint=f"install {argv[0]} or put it on PATH",
        ) from exc
    except subprocess.TimeoutExpired as exc:
        raise ExternalError(f"{label} timed out after {timeout} s: {shlex.join(argv)}") from exc
    result = Completed(argv, proc.returncode, proc.stdout or "", proc.stderr or "")
    if check and not result.ok:
        raise process_error(result, label)
    return result


def process_error(result: Completed, label: str) -> ExternalError:
    """An ExternalError describing a failed process, with the tails of its output."""
    details = [f"command: {shlex.join(result.args)}", f"exit code: {result.returncode}"]
    for name, text in (("stdout", result.stdout), ("stderr", result.stderr)):
        if text.strip():
            details.append(f"{name} (last lines):")
            details.extend("  " + line for line in tail(text).splitlines())
    return ExternalError(f"{label} failed with exit code {result.returncode}", details=details)


def run_binary(
    args: Sequence[str | os.PathLike[str]],
    *,
    cwd: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
    what: str | None = None,
) -> bytes:
    """Run ``args`` and return its stdout as bytes; a non-zero exit raises ExternalError."""
    argv = tuple(os.fspath(a) for a in args)
    label = what or Path(argv[0]).name
    try:
        proc = subprocess.run(
            argv,
            cwd=cwd,
            env=dict(os.environ if env is None else env),
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError as exc:
        raise ExternalError(f"{label}: program not found: {argv[0]}") from exc
    except subprocess.TimeoutExpired as exc:
        raise ExternalError(f"{label} timed out after {timeout} s: {shlex.join(argv)}") from exc
    if proc.returncode != 0:
        stderr = proc.stderr.decode("utf-8", errors="replace")
        raise process_error(Completed(argv, proc.returncode, "", stderr), label)
    return proc.stdout


@dataclass(frozen=True)
class Streamed:
    """A finished long-running process whose output was streamed line by line."""

    args: tuple[str, ...]
    returncode: int | None  # None when it was stopped at the timeout
    tail: tuple[str, ...]
    seconds: float
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out


def stream(
    args: Sequence[str | os.PathLike[str]],
    *,
    cwd: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
    on_line: Callable[[str], None] | None = None,
    keep: int = _TAIL_LINES,
    what: str | None = None,
    alongside: Callable[[], None] | None = None,
) -> Streamed:
    """Run ``args`` with stdout and stderr merged, passing each line to ``on_line`` as it comes.

    The process runs in its own session so a timeout or Ctrl-C stops its children too. A non-zero
    exit is returned, not raised: the caller decides what a failure means. ``alongside`` runs in
    a thread from the moment the process started (the caller only waits for it) and is waited
    for after it ended; ``seconds`` is the process's time alone.
    """
    argv = tuple(os.fspath(a) for a in args)
    label = what or Path(argv[0]).name
    tail: deque[str] = deque(maxlen=keep)
    began = time.perf_counter()
    try:
        child = subprocess.Popen(
            argv,
            cwd=cwd,
            env=dict(os.environ if env is None else env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            bufsize=1,
            start_new_session=True,
        )
    except FileNotFoundError as exc:
        raise ExternalError(f"{label}: program not found: {argv[0]}") from exc
    except PermissionError as exc:
        raise ExternalError(f"{label}: cannot execute {argv[0]}: {exc.strerror}") from exc

    def pump() -> None:
        assert child.stdout is not None  # Popen was given stdout=PIPE
        for line in child.stdout:
            text = line.rstrip("\n")
            tail.append(text)
            if on_line is not None:
                on_line(text)

    reader = threading.Thread(target=pump, name="mlgate-output", daemon=True)
    reader.start()
    meanwhile = None
    if alongside is not None:
        meanwhile = threading.Thread(target=alongside, name="mlgate-alongside", daemon=True)
        meanwhile.start()
    timed_out = False
    try:
        child.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        _stop(child)
    except BaseException:
        _stop(child)
        raise
    finally:
        reader.join(timeout=10)
        if child.stdout is not None and not reader.is_alive():
            child.stdout.close()
        seconds = time.perf_counter() - began
        if meanwhile is not None:
            meanwhile.join()
    code = None if timed_out else child.returncode
    return Streamed(argv, code, tuple(tail), seconds, timed_out)


def _stop(child: subprocess.Popen[str], grace: float = 5.0) -> None:
    """Terminate the child's whole process group; kill it if it does not exit within ``grace``."""
    for sig, wait in ((signal.SIGTERM, grace), (getattr(signal, "SIGKILL", signal.SIGTERM), grace)):
        try:
            if hasattr(os, "killpg"):
                os.killpg(child.pid, sig)
            else:  # pragma: no cover - Windows
                child.send_signal(sig)
        except (ProcessLookupError, PermissionError):
            return
        try:
            child.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
        return
