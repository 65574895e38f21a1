"""Production data for ``mlgate monitor``: the capture ``mlgate serve`` writes (a folder of
JSON-lines files, or one file), or any table of production inputs (CSV, Parquet, ...), as one
frame with a row per scored row, cut to a time window.

Capture records become rows with ``request_id``, ``row`` (position within the request), ``ts``
(UTC), the captured input columns and ``prediction`` (the model's output; for probability rows
the last class's probability). Lines that are not complete JSON records (a file cut short by a
crash, a partial last line while the server writes) are skipped and counted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlgate.errors import ConfigError, Location, UsageError
from mlgate.tabular import read_table

if TYPE_CHECKING:
    import pandas as pd

CAPTURE_SUFFIXES = (".jsonl", ".ndjson")
TIME = "ts"
REQUEST_ID = "request_id"
ROW = "row"
PREDICTION = "prediction"


@dataclass(frozen=True)
class Production:
    frame: pd.DataFrame
    source: str  # "capture" | "table"
    files: int
    requests: int
    skipped_lines: int = 0
    hashed: tuple[str, ...] = ()  # columns the capture stored as hashes
    versions: tuple[str, ...] = ()  # model versions seen in the capture
    notes: tuple[str, ...] = field(default_factory=tuple)


def is_capture(path: Path) -> bool:
    if path.is_dir():
        return any(p.suffix in CAPTURE_SUFFIXES for p in path.rglob("*") if p.is_file())
    return path.suffix in CAPTURE_SUFFIXES


def read_production(
    path: Path,
    *,
    since: pd.Timestamp | None = None,
    until: pd.Timestamp | None = None,
    time_column: str | None = None,
) -> Production:
    """The production rows of ``path`` within ``[since, until)``."""
    if not path.exists():
        raise ConfigError(f"production data not found: {path}", location=Location(str(path)))
    if is_capture(path):
        production = _read_capture(path)
    else:
        frame = read_table(path, what="production data")
        production = Production(frame, "table", 1, len(frame))
    return _window(production, since, until, time_column)


def _read_capture(path: Path) -> Production:
    import pandas as pd

    files = (
        sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in CAPTURE_SUFFIXES)
        if path.is_dir()
        else [path]
    )
    columns: dict[str, list[Any]] = {REQUEST_ID: [], ROW: [], TIME: [], PREDICTION: []}
    skipped = requests = 0
    hashed: set[str] = set()
    versions: dict[str, None] = {}
    for file in files:
        with file.open("rb") as handle:
            for line in handle:
                record = _record(line)
                if record is None:
                    skipped += 1
                    continue
                requests += 1
                _add(columns, record)
                hashed.update(record.get("hashed") or ())
                versions[str(record.get("version"))] = None
    total = len(columns[REQUEST_ID])
    for values in columns.values():
        if len(values) < total:  # a column some requests lacked (excluded later, say)
            values.extend([None] * (total - len(values)))
    frame = pd.DataFrame(columns)
    frame[TIME] = pd.to_datetime(frame[TIME], utc=True, format="ISO8601")
    return Production(
        frame, "capture", len(files), requests, skipped, tuple(sorted(hashed)), tuple(versions)
    )


def _record(line: bytes) -> dict[str, Any] | None:
    try:
        record = json.loads(line)
    except ValueError:
        return None
    ok = (
        isinstance(record, dict)
        and isinstance(record.get("inputs"), dict)
        and isinstance(record.get("outputs"), list)
        and isinstance(record.get("request_id"), str)
        and isinstance(record.get("ts"), str)
    )
    return record if ok else None


def _add(columns: dict[str, list[Any]], record: dict[str, Any]) -> None:
    outputs = record["outputs"]
    n = len(outputs)
    start = len(columns[REQUEST_ID])
    columns[REQUEST_ID].extend([record["request_id"]] * n)
    columns[ROW].extend(range(n))
    columns[TIME].extend([record["ts"]] * n)
    columns[PREDICTION].extend(o[-1] if isinstance(o, list) and o else o for o in outputs)
    for name, values in record["inputs"].items():
        if name in (REQUEST_ID, ROW, TIME, PREDICTION):
            continue
        slot = columns.setdefault(name, [])
        if len(slot) < start:
            slot.extend([None] * (start - len(slot)))
        slot.extend(values[:n] if isinstance(values, list) else [values] * n)


def _window(
    production: Production,
    since: pd.Timestamp | None,
    until: pd.Timestamp | None,
    time_column: str | None,
) -> Production:
    import pandas as pd

    if since is None and until is None:
        return production
    frame = production.frame
    column = time_column or TIME
    if column not in frame.columns:
        raise UsageError(
            f"--since/--until need a time column, and the production data has no {column!r}",
            hint="name it with --time-column",
        )
    stamps = pd.to_datetime(frame[column], utc=True, errors="coerce", format="mixed")
    keep = stamps.notna()
    if since is not None:
        keep &= stamps >= since
    if until is not None:
        keep &= stamps < until
    cut = frame[keep.to_numpy()].reset_index(drop=True)
    requests = cut[REQUEST_ID].nunique() if REQUEST_ID in cut.columns else len(cut)
    return Production(
        cut,
        production.source,
        production.files,
        int(requests),
        production.skipped_lines,
        production.hashed,
        production.versions,
        production.notes,
    )


def parse_time(text: str | None, option: str) -> pd.Timestamp | None:
    """An ISO 8601 date or time as a UTC timestamp (UTC when no offset is given)."""
    if text is None:
        return None
    import pandas as pd

    try:
        stamp = pd.Timestamp(text)
    except ValueError:
        raise UsageError(
            f"{option} {text!r} is not an ISO 8601 date or time",
            hint="e.g. 2026-01-31 or 2026-01-31T12:00:00Z",
        ) from None
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
