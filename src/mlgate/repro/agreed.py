"""Re-runs that agreed, remembered by inputs fingerprint (``.mlgate/cache/reruns/``).

When a pull request's training was skipped by the run cache (its inputs match an earlier run
whose outputs are in the working tree) and an isolated re-run of exactly those inputs already
agreed with exactly those outputs, under the same comparison settings, re-running again proves
nothing new: ``mlgate check`` reuses the agreement. Any change of inputs (a new fingerprint),
outputs, mode or tolerance means a new re-run. The cache is local and never committed; a
record that cannot be read is ignored.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from mlgate import __version__, paths
from mlgate.config.sections import ReproSettings

FOLDER = "reruns"


def record_path(repo_root: Path, fingerprint: str) -> Path:
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", fingerprint)
    return paths.cache_dir(repo_root) / FOLDER / f"{name}.json"


def _terms(settings: ReproSettings) -> dict[str, Any]:
    return {
        "mode": settings.mode,
        "tolerance": {
            "predictions": settings.tolerance_predictions,
            "metrics": settings.tolerance_metrics,
        },
    }


def remember(
    repo_root: Path,
    fingerprint: str,
    settings: ReproSettings,
    outputs: dict[str, dict[str, Any]],
    context: dict[str, Any],
) -> Path:
    """Record that re-runs of ``fingerprint`` agreed with ``outputs`` (the working tree's)."""
    from mlgate.fsio import atomic_write_json

    record = {
        "fingerprint": fingerprint,
        **_terms(settings),
        "outputs": outputs,
        "rerun": context,
        "at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "mlgate": __version__,
    }
    return atomic_write_json(record_path(repo_root, fingerprint), record)


def recall(
    repo_root: Path,
    fingerprint: str,
    settings: ReproSettings,
    outputs: dict[str, dict[str, Any]],
) -> dict[str, Any] | None:
    """The remembered agreement for these inputs, outputs and settings, or None."""
    path = record_path(repo_root, fingerprint)
    try:
        record = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict):
        return None
    same = (
        record.get("fingerprint") == fingerprint
        and {k: record.get(k) for k in ("mode", "tolerance")} == _terms(settings)
        and record.get("outputs") == outputs
        and bool(outputs)
    )
    return record if same else None
