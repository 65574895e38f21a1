"""Capture of scored requests: what a record holds, sampling, batched writes, a full queue that
drops without waiting, rotation by size and age within a disk budget, and a full disk that fails
no request."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import IO, Any

import pytest

from mlgate.serve.app import ScoringApp, ServeSettings
from mlgate.serve.capture import Capture, CaptureSettings
from mlgate.serve.model import ServedModel
from tests.unit.test_serve import ROW, call, expected, served  # noqa: F401 - the fixture

IDENTITY = {"model": "toy", "version": "v1", "sha256": "ab" * 32}
COLUMNS = ["age", "income", "plan", "active"]


def _lines(folder: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for f in sorted(folder.glob("capture-*.jsonl"))
            for line in f.read_text().splitlines()]  # fmt: skip


def test_records_hold_the_request_id_model_inputs_and_outputs(
    served: ServedModel,  # noqa: F811
    tmp_path: Path,
) -> None:
    capture = CaptureSettings(tmp_path / "cap", exclude=("active",), hashed=("plan",), salt="s")
    app = ScoringApp(ServeSettings(tmp_path, access_log=False, capture=capture), served)
    body = json.dumps({"dataframe_records": [ROW, {**ROW, "plan": "pro"}]}).encode()
    for n in range(3):
        scope_id = f"req-{n}".encode()
        status, headers, _ = _post(app, body, scope_id)
        assert status == 200
        assert headers["x-request-id"] == scope_id.decode()
    assert _post(app, b"{bad", b"req-bad")[0] == 400  # refused requests are not captured
    metrics = call(app, "GET", "/metrics")[2].decode()
    app.close()
    records = _lines(tmp_path / "cap")
    assert [r["request_id"] for r in records] == ["req-0", "req-1", "req-2"]
    first = records[0]
    assert (first["model"], first["version"], first["rows"]) == ("toy", "v1.2.3", 2)
    assert first["ts"].endswith("Z")
    assert set(first["inputs"]) == {"age", "income", "plan"}  # active excluded
    assert first["inputs"]["age"] == [40, 40]
    plans = first["inputs"]["plan"]
    assert len(plans[0]) == 16
    assert plans[0] != plans[1]
    assert "basic" not in json.dumps(first)
    assert first["outputs"] == expected(served, [ROW, {**ROW, "plan": "pro"}])
    assert 'mlgate_capture_records_total{outcome="dropped"} 0' in metrics


def _post(app: ScoringApp, body: bytes, request_id: bytes) -> tuple[int, dict[str, str], bytes]:
    import asyncio

    from tests.unit.test_serve import _acall

    headers = [(b"x-request-id", request_id)]
    return asyncio.run(_acall(app, "POST", "/invocations", body, headers=headers))


def test_sampling_keeps_about_the_fraction_asked(tmp_path: Path) -> None:
    capture = Capture(CaptureSettings(tmp_path, sample=0.25), IDENTITY, COLUMNS)
    for n in range(4000):
        capture.offer(str(n), [[1], [1.0], ["a"], [True]], [0])
    capture.close()
    kept = len(_lines(tmp_path))
    assert 850 < kept < 1150, kept  # binomial(4000, 0.25): 1000 +- 5 sigma
    assert capture.counts.captured == kept


def test_the_writer_takes_records_in_batches_and_loses_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    batches: list[int] = []
    write = Capture._write

    def counted(self: Capture, batch: list[Any]) -> None:
        batches.append(len(batch))
        write(self, batch)

    monkeypatch.setattr(Capture, "_write", counted)
    capture = Capture(CaptureSettings(tmp_path), IDENTITY, COLUMNS)
    for n in range(1200):
        capture.offer(str(n), [[1], [1.0], ["a"], [True]], [0])
    capture.close()
    assert [line["request_id"] for line in _lines(tmp_path)] == [str(n) for n in range(1200)]
    assert sum(batches) == 1200
    assert max(batches) <= 512
    assert len(batches) < 100  # one wake-up per batch, not one per record


def test_a_full_queue_drops_at_once_and_counts(tmp_path: Path) -> None:
    release = threading.Event()
    writing = threading.Event()

    def slow_disk(path: Path) -> IO[bytes]:
        writing.set()
        assert release.wait(30)
        return path.open("ab")

    capture = Capture(CaptureSettings(tmp_path, queue_size=5), IDENTITY, COLUMNS, opener=slow_disk)
    capture.offer("first", [[1], [1.0], ["a"], [True]], [0])
    assert writing.wait(30)  # the writer is stuck opening its file
    for n in range(100):  # none of these waits for the writer
        capture.offer(str(n), [[1], [1.0], ["a"], [True]], [0])
    assert capture.counts.dropped == 95
    release.set()
    capture.close()
    assert capture.counts.captured == 6
    assert len(_lines(tmp_path)) == 6


def test_a_full_disk_fails_no_request(served: ServedModel, tmp_path: Path) -> None:  # noqa: F811
    def full_disk(path: Path) -> IO[bytes]:
        return Path("/dev/full").open("ab")  # every write ends in ENOSPC

    settings = ServeSettings(tmp_path, access_log=False, capture=CaptureSettings(tmp_path / "c"))
    app = ScoringApp(settings, served)
    assert app.capture is not None
    app.capture.close()
    app.capture = Capture(settings.capture, IDENTITY, served.names, opener=full_disk)
    app.metrics.capture = app.capture.counts  # type: ignore[union-attr]
    body = json.dumps({"dataframe_records": [ROW]}).encode()
    statuses = [_post(app, body, f"r{n}".encode())[0] for n in range(20)]
    counts = app.capture.counts
    app.close()
    assert statuses == [200] * 20
    assert counts.captured == 0
    assert counts.failed + counts.dropped == 20


def test_rotation_by_size_and_age_within_the_disk_budget(tmp_path: Path) -> None:
    now = [1_000_000.0]
    settings = CaptureSettings(
        tmp_path, rotate_bytes=600, rotate_seconds=60, max_bytes=3000, queue_size=100_000
    )
    capture = Capture(settings, IDENTITY, COLUMNS, clock=lambda: now[0])
    for n in range(300):
        capture.offer(f"{n:04d}", [[n], [1.0], ["a"], [True]], [0])
        now[0] += 0.001
    capture.close()
    files = sorted(tmp_path.glob("capture-*.jsonl"))
    total = sum(f.stat().st_size for f in files)
    assert len(files) >= 3
    assert total <= settings.max_bytes
    kept = _lines(tmp_path)
    assert kept[-1]["request_id"] == "0299"  # the newest are kept, the oldest deleted
    assert kept[0]["request_id"] != "0000"

    aged = tmp_path / "aged"
    capture = Capture(CaptureSettings(aged), IDENTITY, COLUMNS, clock=lambda: now[0])
    capture.offer("a", [[1], [1.0], ["a"], [True]], [0])
    capture.close()
    capture = Capture(CaptureSettings(aged, rotate_seconds=60), IDENTITY, COLUMNS,
                      clock=lambda: now[0])  # fmt: skip
    capture.offer("b", [[1], [1.0], ["a"], [True]], [0])
    now[0] += 61
    capture.offer("c", [[1], [1.0], ["a"], [True]], [0])
    capture.close()
    assert [r["request_id"] for r in _lines(aged)] == ["a", "b", "c"]


def test_settings_travel_through_the_environment(tmp_path: Path) -> None:
    settings = CaptureSettings(tmp_path, sample=0.1, exclude=("a", "b"), hashed=("c",),
                               rotate_seconds=30.0, workers=2)  # fmt: skip
    assert CaptureSettings.from_env(settings.to_env()) == settings
    assert not CaptureSettings.from_env({}).enabled


@pytest.fixture(autouse=True)
def _no_leaked_writers() -> Any:
    before = {t.name for t in threading.enumerate()}
    yield
    leaked = [t for t in threading.enumerate() if t.name == "mlgate-capture" and t.is_alive()]
    assert not leaked or "mlgate-capture" in before
