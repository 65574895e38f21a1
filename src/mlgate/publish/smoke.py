"""Smoke test of a built image: start it, wait for /health, score the evaluation sample, and
require the container's predictions to equal the in-process ones (within the tolerance)."""

from __future__ import annotations

import math
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mlgate.errors import CheckFailed
from mlgate.publish import dockerio
from mlgate.publish.metadata import SmokeSample

STARTUP_TIMEOUT = 120.0
MAX_SHOWN = 5


@dataclass(frozen=True)
class SmokeResult:
    rows: int
    method: str
    max_abs_diff: float
    mismatches: int
    startup_seconds: float
    tolerance: float
    examples: tuple[str, ...] = field(default_factory=tuple)

    @property
    def passed(self) -> bool:
        return self.mismatches == 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "rows": self.rows,
            "method": self.method,
            "max_abs_diff": self.max_abs_diff,
            "mismatches": self.mismatches,
            "tolerance": self.tolerance,
            "startup_seconds": round(self.startup_seconds, 3),
            "examples": list(self.examples),
        }


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def smoke_test(
    engine: Any,
    image: str,
    sample: SmokeSample,
    *,
    container_port: int,
    network: str,
    tolerance: float,
    model_sha256: str,
    progress: Callable[[str], None],
    timeout: float = STARTUP_TIMEOUT,
) -> SmokeResult:
    """Run ``image`` and compare its predictions; a mismatch or a dead server raises CheckFailed."""
    import requests

    started = time.monotonic()
    running = dockerio.run_server(
        engine, image, container_port=container_port, host_port=free_port(), network=network
    )
    try:
        progress(f"smoke test: started {running.container.short_id}, waiting for /health")
        _wait_healthy(running, timeout)
        startup = time.monotonic() - started
        response = requests.post(running.url + "/invocations", json=sample.request(), timeout=60)
        if response.status_code != 200:
            raise CheckFailed(
                f"smoke test: POST /invocations answered {response.status_code}",
                details=[response.text[:500], "container log (last lines):", running.logs()],
            )
        got = response.json().get("predictions")
        result = compare(sample, got, tolerance, startup)
        _check_endpoints(running.url, sample, model_sha256)
    finally:
        running.stop()
    if not result.passed:
        raise CheckFailed(
            f"smoke test: {result.mismatches} of {result.rows} predictions in the container "
            f"differ from the in-process predictions (largest difference "
            f"{result.max_abs_diff:.3g}, tolerance {tolerance:g}); nothing was pushed",
            hint="the image does not reproduce the model: check that the pinned packages match "
            "the training environment and that custom code behaves the same in the container",
            details=list(result.examples),
        )
    return result


def _check_endpoints(url: str, sample: SmokeSample, model_sha256: str) -> None:
    """The image serves this very model file, validates input, and exposes its metrics."""
    import requests

    version = requests.get(url + "/info", timeout=10)
    served = version.json().get("model_sha256") if version.status_code == 200 else None
    if served != model_sha256:
        raise CheckFailed(
            f"smoke test: /info reports model sha256 {served}, expected {model_sha256}"
        )
    broken = {
        "dataframe_split": {"columns": sample.columns[1:], "data": [r[1:] for r in sample.rows[:1]]}
    }
    refused = requests.post(url + "/invocations", json=broken, timeout=30)
    if refused.status_code != 400 or sample.columns[0] not in refused.text:
        raise CheckFailed(
            "smoke test: a request without column "
            f"{sample.columns[0]!r} was not refused with 400 naming it "
            f"(got {refused.status_code})"
        )
    metrics = requests.get(url + "/metrics", timeout=10)
    if metrics.status_code != 200 or "mlgate_requests_total" not in metrics.text:
        raise CheckFailed(f"smoke test: GET /metrics answered {metrics.status_code}")


def _wait_healthy(running: dockerio.Running, timeout: float) -> None:
    import requests

    deadline = time.monotonic() + timeout
    delay = 0.05
    while True:
        try:
            if requests.get(running.url + "/health", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        status = running.status()
        if status in ("exited", "dead"):
            raise CheckFailed(
                "smoke test: the container exited before it became healthy",
                details=["container log (last lines):", *running.logs().splitlines()],
            )
        if time.monotonic() > deadline:
            raise CheckFailed(
                f"smoke test: the server was not healthy within {timeout:g} s",
                details=["container log (last lines):", *running.logs().splitlines()],
            )
        time.sleep(delay)  # polling a starting server, not ordering events
        delay = min(delay * 2, 1.0)


def compare(sample: SmokeSample, got: Any, tolerance: float, startup: float) -> SmokeResult:
    """Row-by-row comparison of predictions (numbers within ``tolerance``, others equal)."""
    expected = sample.expected
    if not isinstance(got, list) or len(got) != len(expected):
        n = len(got) if isinstance(got, list) else "no"
        return SmokeResult(
            len(expected), sample.method, math.inf, len(expected), startup, tolerance,
            (f"expected {len(expected)} predictions, got {n}",),
        )  # fmt: skip
    worst = 0.0
    mismatches = 0
    examples: list[str] = []
    for index, (want, have) in enumerate(zip(expected, got, strict=True)):
        diff = _difference(want, have)
        worst = max(worst, diff)
        if diff > tolerance:
            mismatches += 1
            if len(examples) < MAX_SHOWN:
                examples.append(f"row {index}: in-process {want!r}, container {have!r}")
    return SmokeResult(
        len(expected), sample.method, worst, mismatches, startup, tolerance, tuple(examples)
    )


def _difference(want: Any, have: Any) -> float:
    if isinstance(want, list) and isinstance(have, list):
        if len(want) != len(have):
            return math.inf
        return max((_difference(a, b) for a, b in zip(want, have, strict=True)), default=0.0)
    numeric = (int, float)
    if isinstance(want, numeric) and isinstance(have, numeric) and not isinstance(want, bool):
        if math.isnan(want) and math.isnan(have):
            return 0.0
        return abs(float(want) - float(have))
    return 0.0 if want == have else math.inf
