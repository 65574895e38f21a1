"""Fault injection: the disk fills up while mlgate writes the lock, a run record, a verdict or
the governance report. Every write is atomic (temp file + rename, ``mlgate.fsio``): the command
exits 3 naming the file and the cause, the previous file is intact, and no temp file is left.

The fault is injected at each point a full disk can surface: the write itself (part of the
data written, then ENOSPC) and the flush to disk (fsync).
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mlgate import gitio
from tests.conftest import Outcome, invoke


class _FullDiskFile:
    """A file object that takes a few bytes, then fails as a full disk does."""

    def __init__(self, raw: Any) -> None:
        self.raw = raw

    def write(self, data: bytes) -> int:
        self.raw.write(data[:7])
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.raw, name)

    def __enter__(self) -> _FullDiskFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.raw.close()


@pytest.fixture(params=["write", "fsync"])
def disk_full(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Callable[[], None]:
    """Call it to make every later atomic write fail with ENOSPC at the chosen point."""

    def arm() -> None:
        if request.param == "write":
            real = os.fdopen
            monkeypatch.setattr(
                "mlgate.fsio.os.fdopen", lambda fd, *a, **k: _FullDiskFile(real(fd, *a, **k))
            )
        else:

            def no_space(fd: int) -> None:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

            monkeypatch.setattr("mlgate.fsio.os.fsync", no_space)

    return arm


def _temp_files(root: Path) -> list[Path]:
    return [p for p in root.rglob(".*.tmp") if ".git" not in p.parts]


def _says_disk_full(result: Outcome, name: str) -> None:
    assert result.exit_code == 3, result.output
    assert "No space left on device" in result.stderr, result.stderr
    assert name in result.stderr, result.stderr
    assert "internal error" not in result.output


@pytest.fixture
def project(starter: Path) -> Path:
    gitio.git(["init", "--quiet"], starter)
    gitio.git(["add", "--all"], starter)
    gitio.git(["commit", "--quiet", "-m", "starter"], starter)
    return starter


def test_lock_on_a_full_disk_keeps_the_old_lock(
    project: Path, disk_full: Callable[[], None]
) -> None:
    assert invoke("lock", cwd=project).exit_code == 0
    before = (project / "mlgate.lock").read_bytes()
    params = project / "models" / "churn" / "params.yaml"
    params.write_text(params.read_text().replace("C: 1.0", "C: 0.5"))
    disk_full()
    _says_disk_full(invoke("lock", cwd=project), "mlgate.lock")
    assert (project / "mlgate.lock").read_bytes() == before
    assert _temp_files(project) == []


def test_drift_verdict_on_a_full_disk(project: Path, disk_full: Callable[[], None]) -> None:
    assert invoke("drift", cwd=project).exit_code == 0
    verdict = project / ".mlgate" / "out" / "churn" / "drift.json"
    before = verdict.read_bytes()
    disk_full()
    _says_disk_full(invoke("drift", cwd=project), "drift.json")
    assert verdict.read_bytes() == before
    assert _temp_files(project) == []


def test_report_on_a_full_disk(project: Path, disk_full: Callable[[], None]) -> None:
    out = project / ".mlgate" / "out" / "churn"
    first = invoke("report", "--format", "md,json", cwd=project)
    assert first.exit_code in (0, 1), first.output
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    disk_full()
    _says_disk_full(invoke("report", "--format", "md,json", cwd=project), "report")
    after = {p.name: p.read_bytes() for p in out.iterdir()}
    assert after == before
    assert _temp_files(project) == []


def test_a_first_write_on_a_full_disk_leaves_nothing(
    project: Path, disk_full: Callable[[], None]
) -> None:
    disk_full()
    _says_disk_full(invoke("lock", cwd=project), "mlgate.lock")
    assert not (project / "mlgate.lock").exists()
    assert _temp_files(project) == []
