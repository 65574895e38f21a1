"""Training outputs: metrics files and the first differing byte of two outputs (the content
hash of zip-based model files is ``mlgate.formats.legacy.archive_digest``)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from mlgate.errors import ConfigError, Location


def read_metrics(path: Path, shown: str) -> tuple[dict[str, float], list[str]]:
    """Numeric metrics from a JSON file, nested keys joined with dots; notes on what was skipped."""
    try:
        data = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"metrics file not found: {shown}",
            location=Location(shown),
            hint="the training command must write the file named by train.metrics",
        ) from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ConfigError(f"metrics file {shown} is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"metrics file {shown} must hold a JSON object of name -> number")
    metrics: dict[str, float] = {}
    skipped: list[str] = []
    _numbers(data, "", metrics, skipped)
    notes = [f"{shown}: non-numeric values not kept as metrics: {', '.join(skipped)}"] * bool(
        skipped
    )
    return dict(sorted(metrics.items())), notes


def _numbers(node: Any, prefix: str, out: dict[str, float], skipped: list[str]) -> None:
    for key, value in node.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict):
            _numbers(value, name, out, skipped)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            if math.isfinite(value):
                out[name] = float(value)
            else:
                skipped.append(name)
        else:
            skipped.append(name)


def first_difference(a: Path, b: Path, block: int = 1 << 16) -> int | None:
    """Byte offset of the first difference between two files, None when they are equal."""
    offset = 0
    with a.open("rb") as fa, b.open("rb") as fb:
        while True:
            x, y = fa.read(block), fb.read(block)
            if x != y:
                limit = min(len(x), len(y))
                return offset + next((i for i in range(limit) if x[i] != y[i]), limit)
            if not x:
                return None
            offset += len(x)
