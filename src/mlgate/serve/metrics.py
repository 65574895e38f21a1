"""Prometheus metrics of the scoring server, in the text exposition format (version 0.0.4).

Counters and histograms are plain per-process numbers updated on the event loop (no locks, no
dependency); with several workers each process exposes its own, as with any pre-fork server.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
PROBABILITY_BUCKETS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@dataclass
class Histogram:
    buckets: Sequence[float]
    counts: list[int] = field(default_factory=list)
    total: float = 0.0
    count: int = 0

    def __post_init__(self) -> None:
        self.counts = [0] * (len(self.buckets) + 1)

    def observe(self, value: float) -> None:
        self.counts[bisect.bisect_left(self.buckets, value)] += 1
        self.total += value
        self.count += 1

    def lines(self, name: str, labels: str = "") -> Iterable[str]:
        sep = "," if labels else ""
        running = 0
        for bound, n in zip(self.buckets, self.counts, strict=False):
            running += n
            yield f'{name}_bucket{{{labels}{sep}le="{_num(bound)}"}} {running}'
        yield f'{name}_bucket{{{labels}{sep}le="+Inf"}} {self.count}'
        braces = f"{{{labels}}}" if labels else ""
        yield f"{name}_sum{braces} {_num(self.total)}"
        yield f"{name}_count{braces} {self.count}"


class Metrics:
    """Request counts and latency per endpoint, and the distribution of predictions."""

    def __init__(self, info_labels: dict[str, str], prediction_buckets: Sequence[float]) -> None:
        self.info_labels = info_labels
        self.requests: dict[tuple[str, int], int] = {}
        self.latency: dict[str, Histogram] = {}
        self.rows = 0
        self.rejected = 0  # refused with 503 because the prediction queue was full
        self.capture: Any = None  # capture.CaptureCounts when capture is on
        self.labels: dict[str, int] = {}
        self.values = Histogram(tuple(sorted(prediction_buckets)) or PROBABILITY_BUCKETS)

    def request(self, endpoint: str, status: int, seconds: float) -> None:
        key = (endpoint, status)
        self.requests[key] = self.requests.get(key, 0) + 1
        hist = self.latency.get(endpoint)
        if hist is None:
            hist = self.latency[endpoint] = Histogram(LATENCY_BUCKETS)
        hist.observe(seconds)

    def predictions(self, values: list[object], *, classifier: bool) -> None:
        """Count predicted labels (classifiers) or histogram predicted values (scores)."""
        self.rows += len(values)
        for value in values:
            if isinstance(value, list):  # predict_proba row: the last class's probability
                value = value[-1] if value else None  # noqa: PLW2901
            elif classifier:
                key = str(value)
                self.labels[key] = self.labels.get(key, 0) + 1
                continue
            if isinstance(value, int | float) and not isinstance(value, bool):
                self.values.observe(float(value))

    def render(self) -> str:
        out = [
            "# HELP mlgate_model_info The model this server scores with.",
            "# TYPE mlgate_model_info gauge",
            f"mlgate_model_info{{{_labels(self.info_labels)}}} 1",
            "# HELP mlgate_requests_total HTTP requests by endpoint and status code.",
            "# TYPE mlgate_requests_total counter",
        ]
        for (endpoint, status), n in sorted(self.requests.items()):
            out.append(f'mlgate_requests_total{{endpoint="{endpoint}",status="{status}"}} {n}')
        out += [
            "# HELP mlgate_request_duration_seconds Time to answer a request.",
            "# TYPE mlgate_request_duration_seconds histogram",
        ]
        for endpoint, hist in sorted(self.latency.items()):
            out.extend(hist.lines("mlgate_request_duration_seconds", f'endpoint="{endpoint}"'))
        out += [
            (
                "# HELP mlgate_rejected_requests_total Requests refused (503) because the "
                "prediction queue was full."
            ),
            "# TYPE mlgate_rejected_requests_total counter",
            f"mlgate_rejected_requests_total {self.rejected}",
            "# HELP mlgate_prediction_rows_total Rows scored.",
            "# TYPE mlgate_prediction_rows_total counter",
            f"mlgate_prediction_rows_total {self.rows}",
            "# HELP mlgate_predicted_label_total Predicted class labels.",
            "# TYPE mlgate_predicted_label_total counter",
        ]
        for label, n in sorted(self.labels.items()):
            out.append(f"mlgate_predicted_label_total{{{_labels({'label': label})}}} {n}")
        out += [
            (
                "# HELP mlgate_prediction_value Predicted values (regression) or positive-class "
                "probabilities."
            ),
            "# TYPE mlgate_prediction_value histogram",
            *self.values.lines("mlgate_prediction_value"),
        ]
        if self.capture is not None:
            counts = self.capture
            out += [
                (
                    "# HELP mlgate_capture_records_total Scored requests by what the capture "
                    "did with them: captured (written), dropped (queue full), failed (not "
                    "writable)."
                ),
                "# TYPE mlgate_capture_records_total counter",
                f'mlgate_capture_records_total{{outcome="captured"}} {counts.captured}',
                f'mlgate_capture_records_total{{outcome="dropped"}} {counts.dropped}',
                f'mlgate_capture_records_total{{outcome="failed"}} {counts.failed}',
                "# HELP mlgate_capture_files_total Capture files opened.",
                "# TYPE mlgate_capture_files_total counter",
                f"mlgate_capture_files_total {counts.files}",
            ]
        return "\n".join(out) + "\n"


def _num(value: float) -> str:
    return repr(float(value)) if value != int(value) else f"{int(value)}.0"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(pairs: dict[str, str]) -> str:
    return ",".join(f'{k}="{_escape(v)}"' for k, v in sorted(pairs.items()))
