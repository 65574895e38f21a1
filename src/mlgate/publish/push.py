"""Push with bounded retries: transient failures (registry down, timeouts, 5xx) are retried with
exponential backoff; authentication and other permanent errors fail at once."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from mlgate.errors import ExternalError
from mlgate.publish import dockerio

BACKOFF_SECONDS = 1.0
BACKOFF_CAP = 8.0


def push_with_retries(
    engine: Any,
    repository: str,
    tag: str,
    *,
    attempts: int,
    progress: Callable[[str], None],
    sleep: Callable[[float], None] = time.sleep,
) -> str:
    """Push ``repository:tag``; returns ``repository@sha256:...``. Gives up with exit 3."""
    delay = BACKOFF_SECONDS
    for attempt in range(1, attempts + 1):
        try:
            digest = dockerio.push(engine, repository, tag, progress)
        except dockerio.PushFailed as exc:
            if not exc.transient:
                raise
            if attempt == attempts:
                raise ExternalError(
                    f"{exc.message} (gave up after {attempts} attempts)",
                    hint=exc.hint,
                ) from None
            progress(
                f"push: attempt {attempt} of {attempts} failed ({exc.message}); "
                f"retrying in {delay:g} s"
            )
            sleep(delay)  # backoff between attempts at an external service
            delay = min(delay * 2, BACKOFF_CAP)
            continue
        return f"{repository}@{digest}"
    raise AssertionError("unreachable")  # pragma: no cover
